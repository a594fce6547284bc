package record

import (
	"encoding/json"
	"strconv"
	"strings"
)

// JSONPath returns the value at a Logs-Insights-style flattened path in a JSON
// object: "a.b" walks into objects, "a.0.b" into arrays. Strings come back as
// strings, numbers as numbers, true/false as the strings "true"/"false" (so that
// `readOnly = "true"` works), null and objects/arrays as Missing.
//
// Keys may themselves contain dots (tag names, S3 keys); at each level the longest
// key that matches a prefix of the remaining path wins (the last one, if a key is
// repeated).
//
// Detections call Path on every event, so JSONPath does not decode the event: it
// walks the JSON text to the value and decodes only that, without allocating when
// the value is a number or a string without escapes (the string then aliases raw).
// raw is expected to be valid JSON, as the decoders leave it; on invalid JSON the
// result is Missing or, for damage outside the path walked, the value found.
func JSONPath(raw []byte, path string) Value {
	if len(raw) == 0 || path == "" {
		return Value{}
	}
	v, ok := walkPath(raw, path)
	if !ok {
		return Value{}
	}
	return scalarValue(v)
}

// walkPath returns the text of the value at path. It reads each object or array
// on the way only as far as it must: one pass over the members of each level.
func walkPath(b []byte, path string) ([]byte, bool) {
	i := skipSpace(b, 0)
	for i < len(b) {
		if path == "" {
			end, ok := skipValue(b, i)
			if !ok {
				return nil, false
			}
			return b[i:end], true
		}
		var ok bool
		switch b[i] {
		case '{':
			i, path, ok = findMember(b, i, path)
		case '[':
			idx, rest, _ := strings.Cut(path, ".")
			n, err := strconv.Atoi(idx)
			if err != nil || n < 0 {
				return nil, false
			}
			i, ok = nthElement(b, i, n)
			path = rest
		}
		if !ok {
			return nil, false
		}
	}
	return nil, false
}

// findMember finds, in the object starting at b[i], the member whose key is the
// longest prefix of path (the whole path, or a prefix followed by a dot) and
// returns where its value starts and the rest of the path.
func findMember(b []byte, i int, path string) (val int, rest string, ok bool) {
	best := -1
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			break
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '"' {
			return 0, "", false
		}
		kend, ok := skipValue(b, i)
		if !ok {
			return 0, "", false
		}
		key, ok := keyText(b[i:kend])
		if !ok {
			return 0, "", false
		}
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return 0, "", false
		}
		i = skipSpace(b, i+1)
		if len(key) >= best && (key == path || len(key) < len(path) && path[len(key)] == '.' && path[:len(key)] == key) {
			best, val = len(key), i
		}
		if i, ok = skipValue(b, i); !ok {
			return 0, "", false
		}
	}
	if best < 0 {
		return 0, "", false
	}
	if best == len(path) {
		return val, "", true
	}
	return val, path[best+1:], true
}

// nthElement returns where the n-th (0-based) element of the array starting at
// b[i] starts.
func nthElement(b []byte, i, n int) (int, bool) {
	i++
	for k := 0; ; {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == ']' {
			return 0, false
		}
		if b[i] == ',' {
			i++
			continue
		}
		if k == n {
			return i, true
		}
		end, ok := skipValue(b, i)
		if !ok {
			return 0, false
		}
		k++
		i = end
	}
}

// keyText returns a member name: the text between the quotes when it has no
// escapes (aliasing b), or the decoded string.
func keyText(b []byte) (string, bool) {
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if json.Unmarshal(b, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return unsafeString(inner), true
}

func skipSpace[T []byte | string](b T, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipJSONValue returns the index just after the JSON value starting at b[i]
// (without checking it), and false when b ends inside it. The query
// package's JSON functions share it.
func SkipJSONValue[T []byte | string](b T, i int) (int, bool) { return skipValue(b, i) }

// SkipJSONSpace returns the index of the first byte at or after i that is not
// JSON white space.
func SkipJSONSpace[T []byte | string](b T, i int) int { return skipSpace(b, i) }

// skipValue returns the index just after the JSON value starting at b[i].
func skipValue[T []byte | string](b T, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return len(b), false
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipValue(b, j)
				if !ok {
					return end, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(b), false
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
			return j, j > i
		}
		j++
	}
	return j, j > i
}

// scalarValue turns a value's text into a Value the way the flattened fields of
// Logs Insights read: strings, numbers, true/false as text, the rest Missing.
func scalarValue(v []byte) Value {
	switch v[0] {
	case '"':
		inner := v[1 : len(v)-1]
		for _, c := range inner {
			if c == '\\' || c < 0x20 {
				var s string
				if json.Unmarshal(v, &s) != nil {
					return Value{}
				}
				return StringValue(s)
			}
		}
		return StringValue(unsafeString(inner))
	case 't':
		if string(v) == "true" {
			return StringValue("true")
		}
	case 'f':
		if string(v) == "false" {
			return StringValue("false")
		}
	case '{', '[', 'n':
		return Value{}
	default:
		s := unsafeString(v)
		if !validNumber(v) {
			return Value{}
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return IntValue(n)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return FloatValue(f)
		}
		return StringValue(string(v)) // a number too large for a float64
	}
	return Value{}
}

// validNumber reports whether b is a JSON number (strconv accepts more: "0x1f",
// "Inf", "1_000").
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}
