package record

import (
	"bytes"
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
// key that matches a prefix of the remaining path wins.
func JSONPath(raw []byte, path string) Value {
	if len(raw) == 0 || path == "" {
		return Value{}
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return Value{}
	}
	return walkJSON(v, path)
}

func walkJSON(v any, path string) Value {
	if path == "" {
		switch x := v.(type) {
		case string:
			return StringValue(x)
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return IntValue(n)
			}
			if f, err := x.Float64(); err == nil {
				return FloatValue(f)
			}
			return StringValue(x.String())
		case bool:
			return StringValue(strconv.FormatBool(x))
		}
		return Value{}
	}
	switch x := v.(type) {
	case map[string]any:
		// Longest matching key first, so "tags.team.name" finds a key "team.name".
		best := -1
		var bestVal any
		for k, child := range x {
			if k == path || strings.HasPrefix(path, k+".") {
				if len(k) > best {
					best, bestVal = len(k), child
				}
			}
		}
		if best < 0 {
			return Value{}
		}
		if best == len(path) {
			return walkJSON(bestVal, "")
		}
		return walkJSON(bestVal, path[best+1:])
	case []any:
		idx, rest, _ := strings.Cut(path, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 || n >= len(x) {
			return Value{}
		}
		return walkJSON(x[n], rest)
	}
	return Value{}
}
