package query

import (
	"fmt"
	"strings"
	"testing"
)

func TestLookupFunc(t *testing.T) {
	for _, name := range []string{"isIpv4InSubnet", "ISIPV4INSUBNET", "isipv4insubnet", "count_distinct", "BIN"} {
		if _, ok := LookupFunc(name); !ok {
			t.Errorf("LookupFunc(%q) failed", name)
		}
	}
	if _, ok := LookupFunc("nosuch"); ok {
		t.Error("LookupFunc(nosuch) succeeded")
	}
	count, _ := LookupFunc("count")
	if !count.Aggregate || !count.Star || count.MinArgs != 0 || count.MaxArgs != 1 {
		t.Errorf("count: %+v", count)
	}
	bin, _ := LookupFunc("bin")
	if bin.Aggregate || bin.ArgKind(0) != KindDuration || bin.Result != KindTime {
		t.Errorf("bin: %+v", bin)
	}
	for _, name := range []string{"datefloor", "dateceil"} {
		f, _ := LookupFunc(name)
		if f.ArgKind(0) != KindTime || f.ArgKind(1) != KindDuration {
			t.Errorf("%s: %+v", name, f)
		}
	}
	concat, _ := LookupFunc("concat")
	if !concat.Variadic() || concat.ArgKind(5) != KindString {
		t.Errorf("concat: %+v", concat)
	}
}

func TestFuncTable(t *testing.T) {
	fs := Funcs()
	if len(fs) != len(funcTable) {
		t.Fatalf("Funcs() has %d entries, table %d", len(fs), len(funcTable))
	}
	groups := map[string]int{}
	for _, f := range fs {
		groups[f.Group]++
		if f.MaxArgs >= 0 && f.MaxArgs < f.MinArgs {
			t.Errorf("%s: max %d < min %d", f.Name, f.MaxArgs, f.MinArgs)
		}
		if f.MaxArgs > 0 && len(f.Args) == 0 {
			t.Errorf("%s: takes arguments but has no kinds", f.Name)
		}
		if f.Aggregate != (f.Group == "aggregate") {
			t.Errorf("%s: aggregate flag and group disagree", f.Name)
		}
		if f.Result.String() == "?" {
			t.Errorf("%s: bad result kind", f.Name)
		}
	}
	for _, g := range []string{"numeric", "string", "datetime", "general", "ip", "json", "aggregate"} {
		if groups[g] == 0 {
			t.Errorf("no %s functions", g)
		}
	}
	if groups["aggregate"] != 12 {
		t.Errorf("%d aggregates, want 12 (§5.7)", groups["aggregate"])
	}
}

// TestCoverage checks that the testdata exercises every function of the
// table, every command (and alias), every operator and every Tier 3 command.
func TestCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range loadCases(t) {
		q, _, err := Parse(c.query)
		if err != nil {
			if e := err.(*Error); strings.Contains(e.Msg, "is not supported by vigil") {
				seen["unsupported "+strings.ToLower(c.query[e.Span.Start:e.Span.End])] = true
			}
			continue
		}
		for _, w := range strings.Fields(strings.ToLower(c.query)) {
			if _, ok := commandTable[w]; ok {
				seen["command "+w] = true
			}
		}
		Inspect(q, func(n Node) bool {
			switch n := n.(type) {
			case *CallExpr:
				seen["func "+n.Name] = true
			case *BinaryExpr:
				seen["op "+n.Op.String()] = true
			case *CompareExpr:
				seen["op "+n.Op.String()] = true
			case *UnaryExpr:
				seen["op unary "+n.Op.String()] = true
			case *LikeExpr:
				_, re := n.Pattern.(*RegexLit)
				seen[fmt.Sprintf("like not=%v match=%v regex=%v", n.Not, n.Match, re)] = true
			case *InExpr:
				seen[fmt.Sprintf("in not=%v", n.Not)] = true
			case *ParseCmd:
				seen["parse "+n.Mode.String()] = true
			default:
				seen[fmt.Sprintf("%T", n)] = true
			}
			return true
		})
	}
	var want []string
	for _, f := range funcTable {
		want = append(want, "func "+strings.ToLower(f.Name))
	}
	for name := range commandTable {
		want = append(want, "command "+name)
	}
	for name := range unsupportedCommands {
		want = append(want, "unsupported "+name)
	}
	for op := OpAdd; op <= OpOr; op++ {
		want = append(want, "op "+op.String())
	}
	for op := OpEq; op <= OpGe; op++ {
		want = append(want, "op "+op.String())
	}
	want = append(want, "op unary -", "op unary not",
		"like not=false match=false regex=false", "like not=false match=false regex=true",
		"like not=true match=false regex=false", "like not=true match=false regex=true",
		"like not=false match=true regex=true", "in not=false", "in not=true",
		"parse glob", "parse regex", "parse logfmt", "parse csv",
		"*query.IndexExpr", "*query.MemberExpr", "*query.Star", "*query.DurationLit",
		"*query.NumberLit", "*query.StringLit", "*query.RegexLit", "*query.Ident",
		"*query.DisplayCmd", "*query.DedupCmd", "*query.LimitCmd", "*query.SortCmd")
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no testdata case covers %s", w)
		}
	}
}
