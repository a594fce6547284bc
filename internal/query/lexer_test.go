package query

import (
	"fmt"
	"strings"
	"testing"
)

// lexAll returns "kind[start,end]text" for each token, with no regex
// rescanning (a "/" is always a slash here).
func lexAll(src string) []string {
	l := lexer{src: src}
	var out []string
	for {
		t := l.next()
		switch t.kind {
		case tokEOF:
			return append(out, fmt.Sprintf("EOF[%d,%d]", t.span.Start, t.span.End))
		case tokError:
			return append(out, "error: "+t.err.Error())
		case tokIdent:
			out = append(out, fmt.Sprintf("ident[%d,%d]%q", t.span.Start, t.span.End, t.parts))
		case tokString:
			out = append(out, fmt.Sprintf("string[%d,%d]%q", t.span.Start, t.span.End, t.val))
		case tokNumber:
			out = append(out, fmt.Sprintf("number[%d,%d]%s", t.span.Start, t.span.End, t.text))
		case tokDuration:
			out = append(out, fmt.Sprintf("duration[%d,%d]%d%s", t.span.Start, t.span.End, t.amount, t.unit))
		default:
			out = append(out, fmt.Sprintf("op[%d,%d]%s", t.span.Start, t.span.End, t.text))
		}
	}
}

func TestLexerTokens(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{"@timestamp", `ident[0,10]["@timestamp"] EOF[10,10]`},
		{"@@x.y", `ident[0,5]["@@x" "y"] EOF[5,5]`},
		{"a.`b.c`.d", "ident[0,9][\"a\" \"b.c\" \"d\"] EOF[9,9]"},
		{"`foo-bar`", `ident[0,9]["foo-bar"] EOF[9,9]`},
		{"items.0.id", `ident[0,10]["items" "0" "id"] EOF[10,10]`},
		{"event-name", `ident[0,5]["event"] op[5,6]- ident[6,10]["name"] EOF[10,10]`},
		{"5m 1min 2HRS 30secs", `duration[0,2]5m duration[3,7]1m duration[8,12]2h duration[13,19]30s EOF[19,19]`},
		{"1.5e3 7", `number[0,5]1.5e3 number[6,7]7 EOF[7,7]`},
		{`'a\'b' "c\"d" "e\\f" 'g\n'`, `string[0,6]"a'b" string[7,13]"c\"d" string[14,20]"e\\f" string[21,26]"g\n" EOF[26,26]`},
		{"a # comment\nb", `ident[0,1]["a"] ident[12,13]["b"] EOF[13,13]`},
		{"!= <= >= =~ = < > | , ( ) [ ] . + - * / % ^", "op[0,2]!= op[3,5]<= op[6,8]>= op[9,11]=~ op[12,13]= op[14,15]< op[16,17]> op[18,19]| op[20,21], op[22,23]( op[24,25]) op[26,27][ op[28,29]] op[30,31]. op[32,33]+ op[34,35]- op[36,37]* op[38,39]/ op[40,41]% op[42,43]^ EOF[43,43]"},
		{"f(x).0", `ident[0,1]["f"] op[1,2]( ident[2,3]["x"] op[3,4]) op[4,5]. ident[5,6]["0"] EOF[6,6]`},
		{"‘x’", `string[0,7]"x" EOF[7,7]`},
		{"5x", `error: 1:1: invalid time period "5x": unknown unit "x"; expected one of ms, s, m, h, d, w, mo, q, y`},
		{"a $", `ident[0,1]["a"] error: 1:3: unexpected character '$'`},
	} {
		got := strings.Join(lexAll(tc.src), " ")
		if got != tc.want {
			t.Errorf("lex %q:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

func TestLexerRegexRescan(t *testing.T) {
	for _, tc := range []struct{ src, pattern, rest string }{
		{`/abc/ x`, `abc`, `x`},
		{`/a\/b/`, `a\/b`, ``},
		{`/[/]/`, `[/]`, ``},
		{`/[]/]/`, `[]/]`, ``},
		{`/[^]/]/`, `[^]/]`, ``},
		{`/#not a comment/`, `#not a comment`, ``},
		{`//`, ``, ``},
	} {
		l := lexer{src: tc.src}
		tok := l.regex(0)
		if tok.kind != tokRegex || tok.val != tc.pattern {
			t.Errorf("regex %q: got kind %d val %q, want %q", tc.src, tok.kind, tok.val, tc.pattern)
			continue
		}
		if rest := strings.TrimSpace(tc.src[l.pos:]); rest != tc.rest {
			t.Errorf("regex %q: rest %q, want %q", tc.src, rest, tc.rest)
		}
	}
}

func TestTypographicWarnings(t *testing.T) {
	// One warning per string literal, at its opening quote, as in the brief's
	// NAT gateway query.
	src := "filter (dstAddr like ‘10.10.2.68’ and srcAddr like ‘10.10.’) | stats count(dstPort) as portsScanned by srcAddr, dstAddr, dstPort | sort portsScanned desc | limit 100"
	q, warns, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 {
		t.Fatalf("got %d warnings, want 2: %v", len(warns), warns)
	}
	for i, want := range []string{"1:22: typographic quote ‘ treated as '", "1:52: typographic quote ‘ treated as '"} {
		if got := warns[i].String(); got != want {
			t.Errorf("warning %d: %q, want %q", i, got, want)
		}
		if got := src[warns[i].Span.Start:warns[i].Span.End]; got != "‘" {
			t.Errorf("warning %d spans %q", i, got)
		}
	}
	like := q.Commands[0].(*FilterCmd).Cond.(*BinaryExpr).X.(*LikeExpr)
	if v := like.Pattern.(*StringLit).Value; v != "10.10.2.68" {
		t.Errorf("value %q", v)
	}
	want := "1:22: typographic quote ‘ treated as '\n" + src + "\n" + strings.Repeat(" ", 21) + "^"
	if got := warns[0].Render(src); got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
}
