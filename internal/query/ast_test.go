package query

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestSpans checks exact spans on a query that has every kind of node: each
// line is "type: text", for the nodes in Inspect order.
func TestSpans(t *testing.T) {
	src := "fields (a + b) * -c as x, f(*)[0].`k-1` | filter not x.y like /re/ and z in [1, -2] or w =~ /v/\n" +
		"| stats count(*) by bin(5m) as t | sort t desc | parse @message \"a=*\" as a | dedup a | limit 3"
	q, _, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Inspect(q, func(n Node) bool {
		sp := n.Span()
		got = append(got, fmt.Sprintf("%T: %s", n, src[sp.Start:sp.End]))
		return true
	})
	want := []string{
		"*query.Query: " + src,
		"*query.FieldsCmd: fields (a + b) * -c as x, f(*)[0].`k-1`",
		"*query.Projection: (a + b) * -c as x",
		"*query.BinaryExpr: (a + b) * -c",
		"*query.BinaryExpr: a + b",
		"*query.FieldRef: a",
		"*query.FieldRef: b",
		"*query.UnaryExpr: -c",
		"*query.FieldRef: c",
		"*query.Ident: x",
		"*query.Projection: f(*)[0].`k-1`",
		"*query.MemberExpr: f(*)[0].`k-1`",
		"*query.IndexExpr: f(*)[0]",
		"*query.CallExpr: f(*)",
		"*query.Star: *",
		"*query.NumberLit: 0",
		"*query.FilterCmd: filter not x.y like /re/ and z in [1, -2] or w =~ /v/",
		"*query.BinaryExpr: not x.y like /re/ and z in [1, -2] or w =~ /v/",
		"*query.BinaryExpr: not x.y like /re/ and z in [1, -2]",
		"*query.UnaryExpr: not x.y like /re/",
		"*query.LikeExpr: x.y like /re/",
		"*query.FieldRef: x.y",
		"*query.RegexLit: /re/",
		"*query.InExpr: z in [1, -2]",
		"*query.FieldRef: z",
		"*query.NumberLit: 1",
		"*query.UnaryExpr: -2",
		"*query.NumberLit: 2",
		"*query.LikeExpr: w =~ /v/",
		"*query.FieldRef: w",
		"*query.RegexLit: /v/",
		"*query.StatsCmd: stats count(*) by bin(5m) as t",
		"*query.Projection: count(*)",
		"*query.CallExpr: count(*)",
		"*query.Star: *",
		"*query.Projection: bin(5m) as t",
		"*query.CallExpr: bin(5m)",
		"*query.DurationLit: 5m",
		"*query.Ident: t",
		"*query.SortCmd: sort t desc",
		"*query.SortKey: t desc",
		"*query.FieldRef: t",
		"*query.ParseCmd: parse @message \"a=*\" as a",
		"*query.FieldRef: @message",
		"*query.StringLit: \"a=*\"",
		"*query.Ident: a",
		"*query.DedupCmd: dedup a",
		"*query.FieldRef: a",
		"*query.LimitCmd: limit 3",
	}
	if !slices.Equal(got, want) {
		t.Errorf("spans:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMemberSpansInOneToken(t *testing.T) {
	src := "fields f(x).a.`b.c`.d"
	q, _, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Inspect(q.Commands[0], func(n Node) bool {
		if m, ok := n.(*MemberExpr); ok {
			got = append(got, m.Name+"="+src[m.Pos.Start:m.Pos.End])
		}
		return true
	})
	want := []string{"d=f(x).a.`b.c`.d", "b.c=f(x).a.`b.c`", "a=f(x).a"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestASTShapes(t *testing.T) {
	q, _, err := Parse("filter srcAddr not in ['a', 2] | stats Count(*) as n by srcAddr | sort n | parse /(?<x>a)(?<y>b)/ | fields `a.b`, a.`b`")
	if err != nil {
		t.Fatal(err)
	}
	in := q.Commands[0].(*FilterCmd).Cond.(*InExpr)
	if !in.Not || len(in.List) != 2 || in.List[0].(*StringLit).Value != "a" || in.List[1].(*NumberLit).Value != 2 {
		t.Errorf("in: %#v", in)
	}
	st := q.Commands[1].(*StatsCmd)
	call := st.Aggs[0].Expr.(*CallExpr)
	if call.Name != "count" || call.Orig != "Count" || st.Aggs[0].Alias.Name != "n" {
		t.Errorf("call: %#v", call)
	}
	if _, ok := call.Args[0].(*Star); !ok {
		t.Errorf("count(*) arg: %T", call.Args[0])
	}
	if k := q.Commands[2].(*SortCmd).Keys[0]; k.Order != SortDefault || k.Desc() {
		t.Errorf("sort key: %#v", k)
	}
	pc := q.Commands[3].(*ParseCmd)
	if pc.Source != nil || pc.Mode != ParseRegex || !slices.Equal(pc.Fields(), []string{"x", "y"}) {
		t.Errorf("parse: %#v fields %q", pc, pc.Fields())
	}
	fc := q.Commands[4].(*FieldsCmd)
	p0, p1 := fc.Items[0].Expr.(*FieldRef), fc.Items[1].Expr.(*FieldRef)
	if !slices.Equal(p0.Path, []string{"a.b"}) || !slices.Equal(p1.Path, []string{"a", "b"}) || p0.Name() != "a.b" || p1.Name() != "a.b" {
		t.Errorf("paths: %q %q", p0.Path, p1.Path)
	}
	for _, c := range q.Commands {
		if c.Name() == "" || c.String() == "" {
			t.Errorf("%T: empty name or text", c)
		}
	}
}

func TestParseExpr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`srcAddr = "10.0.0.1" and dstPort in [22, 3389]`, `srcAddr = "10.0.0.1" and dstPort in [22, 3389]`},
		{`(a)`, `a`},
		{`not ispresent(x) or (y like /z/)`, `not ispresent(x) or y like /z/`},
		{``, `error: 1:1: expected an expression, found end of query`},
		{`a b`, `error: 1:3: unexpected "b" after the expression; expected an operator or the end`},
		{`a = "x`, `error: 1:5: unterminated string`},
		{`a | b`, `error: 1:3: unexpected "|" after the expression; expected an operator or the end`},
	} {
		e, _, err := ParseExpr(tc.in)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = e.String()
		}
		if got != tc.want {
			t.Errorf("ParseExpr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInspectSkipsChildren(t *testing.T) {
	q, _, err := Parse("filter a = 1 and b = 2")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	Inspect(q, func(node Node) bool {
		n++
		_, isCmp := node.(*CompareExpr)
		return !isCmp
	})
	// Query, FilterCmd, BinaryExpr, two CompareExpr.
	if n != 5 {
		t.Errorf("visited %d nodes, want 5", n)
	}
}

// TestPrinterHandBuilt checks that ASTs built by hand (as the checker or a
// rewrite pass may) print sensibly, including fields the parser always sets.
func TestPrinterHandBuilt(t *testing.T) {
	e := &BinaryExpr{Op: OpMul,
		X: &BinaryExpr{Op: OpAdd, X: &FieldRef{Path: []string{"a"}}, Y: &NumberLit{Value: 1.5}},
		Y: &CallExpr{Name: "bin", Args: []Expr{&DurationLit{Amount: 5, Unit: UnitMinute}}},
	}
	if got, want := e.String(), "(a + 1.5) * bin(5m)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	id := &Ident{Name: "not valid"}
	if got, want := id.String(), "`not valid`"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
