package query

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/record"
)

// Maps and lists (JSONValue) are kept as JSON text and walked on demand.
// These helpers scan JSON text without decoding it, and decode only the
// value asked for; a string without escapes aliases the text.

// parseJSONValue returns s as a map or list when it is a JSON object or
// array, and missing otherwise (jsonParse, §5.6).
func parseJSONValue(s string) record.Value {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') || !json.Valid(unsafeBytes(t)) {
		return missing
	}
	return jsonValue(t)
}

// asJSON returns the JSON text of a map or list, or of a string holding a
// JSON object or array.
func asJSON(v record.Value) (string, bool) {
	switch v.Kind {
	case JSONValue:
		return v.Str, true
	case record.String:
		if j := parseJSONValue(v.Str); j.Kind == JSONValue {
			return j.Str, true
		}
	}
	return "", false
}

// jsonMember returns member name of the map v: the value of the key name,
// or for a list and a numeric name, that element (the flattened items.0
// convention). Anything else gives missing: dots do not reach into a string
// that holds JSON (use jsonParse).
func jsonMember(v record.Value, name string) record.Value {
	if v.Kind != JSONValue || v.Str == "" {
		return missing
	}
	switch v.Str[0] {
	case '{':
		if val, ok := objectMember(v.Str, name); ok {
			return jsonScalar(val)
		}
	case '[':
		if i, err := strconv.Atoi(name); err == nil {
			return jsonIndex(v, int64(i))
		}
	}
	return missing
}

// jsonIndex returns element i (from 0) of the list v.
func jsonIndex(v record.Value, i int64) record.Value {
	if v.Kind != JSONValue || v.Str == "" || v.Str[0] != '[' || i < 0 {
		return missing
	}
	var found string
	n := int64(0)
	ok := eachElement(v.Str, func(el string) bool {
		if n == i {
			found = el
			return false
		}
		n++
		return true
	})
	if !ok || found == "" {
		return missing
	}
	return jsonScalar(found)
}

// jsonElements calls f with each element of a JSON array's text, as values.
func jsonElements(text string, f func(record.Value) bool) bool {
	return eachElement(text, func(el string) bool { return f(jsonScalar(el)) })
}

// jsonScalar turns the text of one JSON value into a Value: objects and
// arrays stay maps and lists; strings are decoded; numbers become numbers;
// true and false become the strings "true" and "false" (so that
// readOnly = "true" works, §6.2); null is missing.
func jsonScalar(t string) record.Value {
	if t == "" {
		return missing
	}
	switch t[0] {
	case '{', '[':
		return jsonValue(t)
	case '"':
		inner := t[1 : len(t)-1]
		if !strings.ContainsAny(inner, "\\") {
			return record.StringValue(inner)
		}
		var s string
		if json.Unmarshal(unsafeBytes(t), &s) != nil {
			return missing
		}
		return record.StringValue(s)
	case 't':
		return record.StringValue("true")
	case 'f':
		return record.StringValue("false")
	case 'n':
		return missing
	}
	if LooksInteger(t) {
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return record.IntValue(n)
		}
	}
	if f, ok := parseNumber(t); ok {
		return record.FloatValue(f)
	}
	return record.StringValue(t)
}

// objectMember finds the value text of key in the object text obj (the last
// one, if the key repeats).
func objectMember(obj, key string) (string, bool) {
	var val string
	found := false
	i := record.SkipJSONSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		if obj[i] == ',' {
			i = record.SkipJSONSpace(obj, i+1)
			continue
		}
		if obj[i] != '"' {
			return "", false
		}
		kstart := i
		kend, ok := record.SkipJSONValue(obj, i)
		if !ok {
			return "", false
		}
		k := obj[kstart+1 : kend-1]
		i = record.SkipJSONSpace(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return "", false
		}
		i = record.SkipJSONSpace(obj, i+1)
		vend, ok := record.SkipJSONValue(obj, i)
		if !ok {
			return "", false
		}
		if k == key || strings.Contains(k, `\`) && unquoteKey(obj[kstart:kend]) == key {
			val, found = obj[i:vend], true
		}
		i = record.SkipJSONSpace(obj, vend)
	}
	return val, found
}

// unquoteKey decodes the JSON string at the start of s.
func unquoteKey(s string) string {
	end, ok := record.SkipJSONValue(s, 0)
	if !ok {
		return ""
	}
	var k string
	if json.Unmarshal(unsafeBytes(s[:end]), &k) != nil {
		return ""
	}
	return k
}

// eachElement calls f with the text of each element of the array text arr
// until f returns false; it returns false if arr is malformed.
func eachElement(arr string, f func(string) bool) bool {
	i := record.SkipJSONSpace(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		if arr[i] == ',' {
			i = record.SkipJSONSpace(arr, i+1)
			continue
		}
		end, ok := record.SkipJSONValue(arr, i)
		if !ok {
			return false
		}
		if !f(arr[i:end]) {
			return true
		}
		i = record.SkipJSONSpace(arr, end)
	}
	return true
}

// jsonString returns s as a JSON string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
