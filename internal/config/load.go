package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/secret"
)

// Load reads, decodes, fills in and validates the configuration file at path.
// Every problem is reported, each with its key path (and line where the file
// has it), in one error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	cfg, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%s:\n%w", path, err)
	}
	return cfg, nil
}

// Parse decodes a configuration document over the defaults and validates it.
// lookup reads environment variables (os.LookupEnv).
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	cfg := DefaultConfig()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 { // an empty file: the defaults
		return &cfg, cfg.Validate()
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: expected a mapping of sections (log, store, sources, …)", root.Line)
	}
	w := &walker{lookup: lookup, lines: map[int]string{}}
	w.walk(root, reflect.TypeFor[Config](), "")
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	// Sections that are absent by default start from their defaults when
	// they are given.
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "api":
			c := apiDefault()
			cfg.API = &c
		case "respond":
			c := respondDefault()
			cfg.Respond = &c
		}
	}
	if err := root.Decode(&cfg); err != nil {
		return nil, w.explain(err)
	}
	// yaml's own strict decoding as a second check: every key must still be
	// known once secrets and variables are in place.
	if err := strictCheck(root); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// strictCheck decodes the prepared document again with KnownFields.
func strictCheck(root *yaml.Node) error {
	b, err := yaml.Marshal(root)
	if err != nil {
		return fmt.Errorf("re-encode configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	scratch := DefaultConfig()
	if err := dec.Decode(&scratch); err != nil {
		return fmt.Errorf("configuration: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// Print writes cfg as YAML, secrets redacted: the effective configuration.
func Print(cfg *Config) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// walker checks a document against the Go types it decodes into: unknown keys,
// secrets given through NAME_file keys, and ${NAME} variables.
type walker struct {
	lookup func(string) (string, bool)
	errs   []error
	lines  map[int]string // line → key path, for yaml's own errors
}

func (w *walker) errorf(n *yaml.Node, path, format string, a ...any) {
	w.errs = append(w.errs, fmt.Errorf("%s (line %d): %s", displayPath(path), n.Line, fmt.Sprintf(format, a...)))
}

func displayPath(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}

var secretType = reflect.TypeFor[secret.Value]()

// isSecret reports whether t is a secret type (secret.Value, or a component's
// own type named Secret with the same YAML forms).
func isSecret(t reflect.Type) bool {
	return t == secretType || t.Name() == "Secret" && t.Kind() == reflect.String
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		return // decoded as the anchor it names, which is walked where it is
	}
	if _, ok := w.lines[n.Line]; !ok && path != "" && n.Kind == yaml.ScalarNode {
		w.lines[n.Line] = path
	}
	if isSecret(t) {
		if n.Kind == yaml.ScalarNode {
			w.expand(n, path)
		}
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		w.expand(n, path)
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, item := range n.Content {
				w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			w.walkStruct(n, t, path)
		case reflect.Map:
			for i := 0; i+1 < len(n.Content); i += 2 {
				w.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
			}
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// walkStruct checks a mapping's keys against a struct's YAML fields.
func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := join(path, key)
		if seen[key] {
			w.errorf(k, kp, "given twice")
			continue
		}
		seen[key] = true
		if ft, ok := fields[key]; ok {
			w.walk(v, ft, kp)
			continue
		}
		if base, ok := strings.CutSuffix(key, "_file"); ok {
			if ft, ok := fields[base]; ok && isSecret(derefType(ft)) {
				w.secretFile(n, i, base, path)
				continue
			}
		}
		msg := "unknown key"
		if s := suggest(key, fields); s != "" {
			msg += "; did you mean " + s + "?"
		} else {
			msg += "; expected one of " + strings.Join(slices.Sorted(mapKeys(fields)), ", ")
		}
		w.errorf(k, kp, "%s", msg)
	}
}

// secretFile replaces "NAME_file: PATH" (at content index i) by "NAME: <the
// file's content>".
func (w *walker) secretFile(n *yaml.Node, i int, base, path string) {
	k, v := n.Content[i], n.Content[i+1]
	kp := join(path, k.Value)
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == base {
			w.errorf(k, kp, "give %s or %s, not both", base, k.Value)
			return
		}
	}
	if v.Kind != yaml.ScalarNode {
		w.errorf(v, kp, "expected a file path")
		return
	}
	w.expand(v, kp)
	content, err := secret.ReadFile(v.Value)
	if err != nil {
		w.errorf(v, kp, "%v", err)
		return
	}
	n.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: base, Line: k.Line, Column: k.Column}
	n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: content, Style: yaml.DoubleQuotedStyle, Line: v.Line, Column: v.Column}
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func mapKeys(m map[string]reflect.Type) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// yamlFields returns a struct's YAML keys and their types, inline structs
// flattened, as yaml.v3 names them.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := derefType(f.Type)
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest returns the known key closest to key, if close enough.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		if d := distance(strings.ToLower(key), k); d < bestD || d == bestD && k < best && best != "" {
			best, bestD = k, d
		}
	}
	if bestD > max(1, len(key)/3) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var varPattern = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}`)

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${NAME} and ${NAME:-default} in a scalar. A plain scalar
// that changed is typed again from its new text (port: ${PORT} is a number).
func (w *walker) expand(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	var bad []string
	out := varPattern.ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$${" {
			return "${"
		}
		inner := m[2 : len(m)-1]
		name, def, hasDef := strings.Cut(inner, ":-")
		if !varName.MatchString(name) {
			bad = append(bad, fmt.Sprintf("%q is not a variable name", name))
			return m
		}
		if v, ok := w.lookup(name); ok && (v != "" || !hasDef) {
			return v
		}
		if hasDef {
			return def
		}
		bad = append(bad, fmt.Sprintf("environment variable %s is not set (write ${%s:-default} for a default)", name, name))
		return m
	})
	for _, b := range bad {
		w.errorf(n, path, "%s", b)
	}
	if out != n.Value {
		n.Value = out
		if n.Style == 0 {
			n.Tag = "" // re-resolved from the new text when decoded
		}
	}
}

var lineRef = regexp.MustCompile(`line (\d+): `)

// explain rewrites yaml's decoding errors ("line 12: cannot unmarshal …")
// with the key path of the line.
func (w *walker) explain(err error) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		m = lineRef.ReplaceAllStringFunc(m, func(s string) string {
			num := lineRef.FindStringSubmatch(s)[1]
			line, _ := strconv.Atoi(num)
			if p, ok := w.lines[line]; ok {
				return p + " (line " + num + "): "
			}
			return s
		})
		errs = append(errs, errors.New(m))
	}
	return errors.Join(errs...)
}
