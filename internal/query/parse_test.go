package query

// The parser is specified by the cases in testdata/parse/*.txt. Format:
//
//	# Lines before the first case are comments about the file.
//	=== name of the case
//	the query, on one or more lines (its own # comments included)
//	---
//	the expected result
//
// The expected result is, for a query that parses, one line per warning
// ("warning: line:col: message") followed by the canonical text of the query
// (Query.String); for a query that fails, "error: " followed by the error as
// Error.Render prints it: "line:col: message", the query line and a caret
// line. Blank lines at either end of a query or of a result are ignored.
//
// Run "go test ./internal/query/ -run TestParseFiles -update" to rewrite the
// results from the current parser, then review the diff.
//
// Every case that parses is also checked for the round trip (its canonical
// text parses, without warnings, to the same AST apart from spans and prints
// identically) and for spans (every node's span covers exactly its text).

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/parse/*.txt results from the current parser")

// parseCase is one case of a testdata file.
type parseCase struct {
	file, name string
	line       int // of the === line
	query      string
	want       string
}

// loadCases reads every testdata/parse/*.txt file.
func loadCases(t testing.TB) []parseCase {
	t.Helper()
	files, err := filepath.Glob("testdata/parse/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/parse/*.txt files (%v)", err)
	}
	var cases []parseCase
	for _, file := range files {
		cs, err := readCases(file)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, cs...)
	}
	return cases
}

func readCases(file string) ([]parseCase, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var cases []parseCase
	var cur *parseCase
	var section []string // lines of the current section
	inResult := false
	flush := func() {
		if cur == nil {
			return
		}
		if inResult {
			cur.want = joinTrimmed(section)
		} else {
			cur.query = joinTrimmed(section)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			flush()
			if cur != nil {
				cases = append(cases, *cur)
			}
			cur = &parseCase{file: file, name: strings.TrimPrefix(line, "=== "), line: n}
			section, inResult = nil, false
		case cur == nil:
			// file comment
		case line == "---" && !inResult:
			cur.query = joinTrimmed(section)
			section, inResult = nil, true
		default:
			section = append(section, line)
		}
	}
	flush()
	if cur != nil {
		if !inResult {
			return nil, fmt.Errorf("%s:%d: case %q has no --- line", file, cur.line, cur.name)
		}
		cases = append(cases, *cur)
	}
	return cases, sc.Err()
}

// joinTrimmed joins lines, dropping blank lines at both ends.
func joinTrimmed(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// result is what a case's expected section holds for the query.
func result(query string) string {
	q, warns, err := Parse(query)
	var b strings.Builder
	if err != nil {
		b.WriteString("error: ")
		b.WriteString(err.(*Error).Render(query))
		return b.String()
	}
	for _, w := range warns {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	b.WriteString(q.String())
	return b.String()
}

func TestParseFiles(t *testing.T) {
	cases := loadCases(t)
	if *update {
		rewrite(t, cases)
		return
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file)+"/"+c.name, func(t *testing.T) {
			got := result(c.query)
			if got != c.want {
				t.Errorf("%s:%d:\nquery:\n%s\ngot:\n%s\nwant:\n%s", c.file, c.line, c.query, got, c.want)
			}
			if q, _, err := Parse(c.query); err == nil {
				checkRoundTrip(t, q)
				checkSpans(t, c.query, q)
			}
		})
	}
}

// rewrite writes each file back with the current results.
func rewrite(t *testing.T, cases []parseCase) {
	byFile := map[string][]parseCase{}
	var order []string
	for _, c := range cases {
		if _, ok := byFile[c.file]; !ok {
			order = append(order, c.file)
		}
		byFile[c.file] = append(byFile[c.file], c)
	}
	for _, file := range order {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// Keep the file's leading comment.
		head := string(data)
		if i := strings.Index(head, "=== "); i >= 0 {
			head = head[:i]
		}
		var b strings.Builder
		b.WriteString(head)
		for i, c := range byFile[file] {
			if i > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "=== %s\n%s\n---\n%s\n", c.name, c.query, result(c.query))
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkRoundTrip checks that q's canonical text parses, without warnings,
// to the same AST apart from spans, and prints identically.
func checkRoundTrip(t testing.TB, q *Query) {
	t.Helper()
	s := q.String()
	q2, warns, err := Parse(s)
	if err != nil {
		t.Fatalf("canonical text does not parse:\n%s\n%v", s, err.(*Error).Render(s))
	}
	for _, w := range warns {
		if !strings.Contains(w.Msg, "limit") { // head/tail warnings cannot survive printing
			t.Errorf("canonical text has a warning: %s\n%s", w, s)
		}
	}
	if s2 := q2.String(); s2 != s {
		t.Fatalf("reprint differs:\nfirst:  %s\nsecond: %s", s, s2)
	}
	if !equalAST(q, q2) {
		t.Fatalf("AST changed by a round trip through:\n%s\nfirst:  %s\nsecond: %s", s, dump(q), dump(q2))
	}
}

// equalAST compares two trees, ignoring spans.
func equalAST(a, b Node) bool {
	return reflect.DeepEqual(stripSpans(deepCopy(a)), stripSpans(deepCopy(b)))
}

func deepCopy(n Node) Node {
	// The AST has no cycles and no shared nodes; a fresh parse is the copy
	// callers want, but the comparison must not mutate its arguments, so
	// copy reflectively.
	return copyValue(reflect.ValueOf(n)).Interface().(Node)
}

func copyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(copyValue(v.Elem()))
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(copyValue(v.Elem()))
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if c.Field(i).CanSet() {
				c.Field(i).Set(copyValue(v.Field(i)))
			}
		}
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(copyValue(v.Index(i)))
		}
		return c
	}
	return v
}

var spanType = reflect.TypeFor[Span]()

// stripSpans zeroes every Span in the tree and returns it.
func stripSpans(n Node) Node {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			if v.Type() == spanType {
				if v.CanSet() {
					v.Set(reflect.Zero(spanType))
				}
				return
			}
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(n))
	return n
}

// dump prints a tree with its node types, for failure messages.
func dump(n Node) string {
	var b strings.Builder
	depth := 0
	var rec func(n Node)
	rec = func(n Node) {
		fmt.Fprintf(&b, "%s%T %s %v\n", strings.Repeat("  ", depth), n, n.String(), n.Span())
		depth++
		Inspect(n, func(c Node) bool {
			if c == n {
				return true
			}
			rec(c)
			return false
		})
		depth--
	}
	rec(n)
	return b.String()
}

// checkSpans checks that every node's span lies in src, has no white space
// at either end, and holds exactly the node's text: an expression's span
// text parses (ParseExpr) to an expression that prints as the node does, a
// command's span text parses as that command.
func checkSpans(t testing.TB, src string, q *Query) {
	t.Helper()
	Inspect(q, func(n Node) bool {
		sp := n.Span()
		if sp.Start < 0 || sp.Start > sp.End || sp.End > len(src) {
			t.Errorf("%T %q: span %v outside the query (%d bytes)", n, n.String(), sp, len(src))
			return false
		}
		text := src[sp.Start:sp.End]
		if _, ok := n.(*Query); ok {
			return true
		}
		if strings.TrimSpace(text) != text || text == "" {
			t.Errorf("%T %q: span text %q is empty or has white space at an end", n, n.String(), text)
			return true
		}
		switch n := n.(type) {
		case *RegexLit:
			if text != "/"+n.Pattern+"/" {
				t.Errorf("regex %q: span text %q", n.String(), text)
			}
		case *Star:
			if text != "*" {
				t.Errorf("star: span text %q", text)
			}
		case *Ident:
			l := lexer{src: text}
			if tok := l.next(); tok.kind != tokIdent || strings.Join(tok.parts, ".") != n.Name || l.next().kind != tokEOF {
				t.Errorf("name %q: span text %q", n.Name, text)
			}
		case Expr:
			e, _, err := ParseExpr(text)
			if err != nil {
				t.Errorf("%T %q: span text %q does not parse: %v", n, n.String(), text, err)
			} else if e.String() != n.String() {
				t.Errorf("%T %q: span text %q parses as %q", n, n.String(), text, e.String())
			}
		case Command:
			q, _, err := Parse(text)
			if err != nil {
				t.Errorf("%T %q: span text %q does not parse: %v", n, n.String(), text, err)
			} else if len(q.Commands) != 1 || q.String() != n.String() {
				t.Errorf("%T %q: span text %q parses as %q", n, n.String(), text, q.String())
			}
		case *Projection, *SortKey:
			// An item parses as the only item of a command.
			kw := map[bool]string{true: "fields ", false: "sort "}[isProjection(n)]
			q, _, err := Parse(kw + text)
			if err != nil {
				t.Errorf("%T %q: span text %q does not parse: %v", n, n.String(), text, err)
			} else if q.String() != kw+n.String() {
				t.Errorf("%T %q: span text %q parses as %q", n, n.String(), text, q.String())
			}
		}
		return true
	})
}

func isProjection(n Node) bool { _, ok := n.(*Projection); return ok }
