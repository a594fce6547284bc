package detect

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// PosError is an error at a place in a rule file: "file:line:col: message".
// Line and Col count from 1; Col counts characters. Rules are refused at load
// with one of these so that an editor (or a person) can jump to the mistake.
type PosError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *PosError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// ErrorList is every error found in a set of rule files, each a *PosError.
type ErrorList []error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error { return l }

// docDecoder decodes YAML nodes into Go values strictly: an unknown key, a
// repeated key or a value of the wrong shape is an error naming its line and
// column. (yaml.v3's own KnownFields only gives a line, and Node.Decode has no
// strict mode at all.) It remembers the node of every path it decoded
// ("finding.type", "groupBy.1"), so that later validation can point at values
// too.
type docDecoder struct {
	file  string
	nodes map[string]*yaml.Node
}

func (d *docDecoder) errAt(n *yaml.Node, format string, args ...any) *PosError {
	e := &PosError{File: d.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// at returns the node decoded at path, or nil.
func (d *docDecoder) at(path string) *yaml.Node { return d.nodes[path] }

// key returns the key node of the value at path (its position is where the
// key is written), or the value node when there is no key.
func (d *docDecoder) key(path string) *yaml.Node {
	if k := d.nodes["\x00key:"+path]; k != nil {
		return k
	}
	return d.nodes[path]
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	nodePtrType  = reflect.TypeOf((*yaml.Node)(nil))
)

// decode decodes n into v (a pointer), recording nodes under prefix.
func (d *docDecoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if d.nodes == nil {
		d.nodes = make(map[string]*yaml.Node)
	}
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		return d.errAt(n, "aliases (*name) are not supported in rule files")
	}
	d.nodes[path] = n
	t := v.Type()
	if t == nodePtrType {
		v.Set(reflect.ValueOf(n))
		return nil
	}
	switch {
	case t == durationType:
		return d.duration(n, v)
	case t.Kind() == reflect.Pointer:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		p := reflect.New(t.Elem())
		if err := d.decode(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case t.Kind() == reflect.Struct:
		return d.structure(n, v, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, "%s: expected a list, found %s", keyName(path), describeNode(n))
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), joinPath(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, "%s: expected a mapping, found %s", keyName(path), describeNode(n))
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return d.errAt(k, "%s: keys must be plain names", keyName(path))
			}
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				return d.errAt(k, "%s: key %q repeated", keyName(path), k.Value)
			}
			ev := reflect.New(t.Elem()).Elem()
			if err := d.decode(val, ev, joinPath(path, k.Value)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.Value), ev)
		}
		v.Set(m)
		return nil
	}
	return d.scalar(n, v, path)
}

func (d *docDecoder) structure(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, "%s: expected a mapping of keys, found %s", keyName(path), describeNode(n))
	}
	t := v.Type()
	fields := make(map[string]int, t.NumField())
	var names []string
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errAt(k, "keys must be plain names")
		}
		fi, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if path != "" {
				msg = fmt.Sprintf("unknown key %q in %s", k.Value, keyName(path))
			}
			if s := suggest(k.Value, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += " (expected one of: " + strings.Join(names, ", ") + ")"
			}
			return d.errAt(k, "%s", msg)
		}
		if seen[k.Value] {
			return d.errAt(k, "key %q repeated", k.Value)
		}
		seen[k.Value] = true
		d.nodes["\x00key:"+joinPath(path, k.Value)] = k
		if err := d.decode(val, v.Field(fi), joinPath(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

func (d *docDecoder) scalar(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, "%s: expected a single value, found %s", keyName(path), describeNode(n))
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		if n.Tag == "!!null" {
			s = ""
		}
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil || n.Tag == "!!str" && n.Style != 0 {
			return d.errAt(n, "%s: expected true or false, found %q", keyName(path), s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, v.Type().Bits())
		if err != nil {
			return d.errAt(n, "%s: expected a whole number, found %q", keyName(path), s)
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, v.Type().Bits())
		if err != nil {
			return d.errAt(n, "%s: expected a whole number from 0 to %d, found %q", keyName(path), uint64(1)<<v.Type().Bits()-1, s)
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			return d.errAt(n, "%s: expected a number, found %q", keyName(path), s)
		}
		v.SetFloat(f)
	default:
		return d.errAt(n, "BUG: cannot decode into %s", v.Type())
	}
	return nil
}

// duration reads "90s", "10m", "1h30m", "1d" (days are 24 h), or a bare number of
// seconds.
func (d *docDecoder) duration(n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, "expected a duration such as 10m, found %s", describeNode(n))
	}
	dur, err := parseDuration(n.Value)
	if err != nil {
		return d.errAt(n, "%v", err)
	}
	v.SetInt(int64(dur))
	return nil
}

// parseDuration reads a Go duration, with "d" for days, or a number of seconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return 0, fmt.Errorf("invalid duration %q (expected e.g. 90s, 10m, 1h, 1d)", s)
	}
	return dur, nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// keyName renders a path for a message: "threshold.atLeast", or "the rule" at the top.
func keyName(path string) string {
	if path == "" {
		return "the rule"
	}
	return path
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// suggest returns the name in names closest to s when it is close enough to be a
// likely typo (case-insensitive match, or edit distance at most 2).
func suggest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return n
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// scalarPos maps a position inside the value of a scalar node (1-based line and
// column within the value, as query errors give them) to the position in the
// file. It aligns the value's characters with the source text from the node's
// start, skipping what YAML removed: the opening quote, indentation, folded line
// breaks, block-scalar headers. Escapes in double-quoted strings can make the
// column approximate; everything else maps exactly.
func scalarPos(src []byte, n *yaml.Node, line, col int) (int, int) {
	// Offset of (line, col) in the value, in runes.
	target := 0
	l, c := 1, 1
	for _, r := range n.Value {
		if l == line && c == col {
			break
		}
		target++
		if r == '\n' {
			l, c = l+1, 1
		} else {
			c++
		}
	}
	lines := strings.Split(string(src), "\n")
	if n.Line < 1 || n.Line > len(lines) {
		return n.Line, n.Column
	}
	// Walk the source from the node's start, matching value runes.
	sl, sc := n.Line-1, n.Column-1 // 0-based line, rune column
	srcRunes := func(i int) []rune { return []rune(strings.TrimSuffix(lines[i], "\r")) }
	row := srcRunes(sl)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// Block scalar: the value starts on the next line.
		sl, sc = sl+1, 0
		if sl < len(lines) {
			row = srcRunes(sl)
		}
	} else if sc < len(row) && (row[sc] == '"' || row[sc] == '\'') {
		sc++
	}
	vals := []rune(n.Value)
	for i := 0; i < target && i < len(vals); i++ {
		want := vals[i]
		for {
			if sl >= len(lines) {
				return n.Line, n.Column
			}
			if sc < len(row) && row[sc] == want {
				sc++
				break
			}
			if sc >= len(row) {
				sl, sc = sl+1, 0
				if sl < len(lines) {
					row = srcRunes(sl)
				}
				if want == '\n' || want == ' ' {
					// A line break of the value (literal) or a folded one.
					for sc < len(row) && (row[sc] == ' ' || row[sc] == '\t') {
						sc++
					}
					break
				}
				continue
			}
			sc++ // something YAML dropped (escape, indentation, quote)
		}
	}
	for sl < len(lines) && sc < len(row) && (row[sc] == ' ' || row[sc] == '\t') && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0) && target == 0 {
		sc++
	}
	return sl + 1, sc + 1
}

var errNoDocument = errors.New("empty rule file")
