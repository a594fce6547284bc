package query

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestPosition(t *testing.T) {
	src := "ab\nçd\té\n\nx"
	for _, tc := range []struct{ off, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 2}, {6, 2, 3}, {7, 2, 4}, {9, 2, 5},
		{10, 3, 1}, {11, 4, 1}, {12, 4, 2}, {99, 4, 2}, {-1, 1, 1},
	} {
		if l, c := Position(src, tc.off); l != tc.line || c != tc.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		// A tab before the error is kept so the caret lines up.
		{"fields a\n|\tfilter x =\r\n| limit 1", "3:1: expected an expression after \"=\", found \"|\"\n| limit 1\n^"},
		{"fields a\n|\tfilter ==", "2:10: unexpected \"==\"; the equality operator is \"=\"\n|\tfilter ==\n \t       ^~"},
		// The span is cut at the end of its line.
		{"filter a = \"abc\n| limit 1", "1:12: unterminated string\nfilter a = \"abc\n           ^~~~"},
	} {
		_, _, err := Parse(tc.src)
		if err == nil {
			t.Errorf("%q parsed", tc.src)
			continue
		}
		if got := err.(*Error).Render(tc.src); got != tc.want {
			t.Errorf("Render(%q):\n%s\nwant:\n%s", tc.src, got, tc.want)
		}
	}
}

func TestErrorJSON(t *testing.T) {
	src := "fields a\n| fitler b"
	_, _, err := Parse(src)
	e := err.(*Error)
	b, jerr := json.Marshal(e)
	if jerr != nil {
		t.Fatal(jerr)
	}
	want := `{"line":2,"column":3,"offset":11,"endOffset":17,"message":"unknown command \"fitler\" (did you mean \"filter\"?); expected a command: fields, filter, stats, sort, limit, parse, dedup, display","expected":["fields","filter","stats","sort","limit","parse","dedup","display"]}`
	if string(b) != want {
		t.Errorf("json:\n%s\nwant:\n%s", b, want)
	}

	// "expected" is an array even when nothing is known.
	_, _, err = Parse(`filter a = "x`)
	b, _ = json.Marshal(err)
	if want := `{"line":1,"column":12,"offset":11,"endOffset":13,"message":"unterminated string","expected":[]}`; string(b) != want {
		t.Errorf("json:\n%s\nwant:\n%s", b, want)
	}

	_, warns, _ := Parse("filter a = “x”")
	b, _ = json.Marshal(warns)
	if want := `[{"line":1,"column":12,"offset":11,"endOffset":14,"message":"typographic quote “ treated as \""}]`; string(b) != want {
		t.Errorf("json:\n%s\nwant:\n%s", b, want)
	}
}

func TestErrorIsError(t *testing.T) {
	_, _, err := Parse("| x")
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Column != 1 || len(e.Expected) != len(commandNames) {
		t.Errorf("%#v", err)
	}
	if err.Error() != e.Error() {
		t.Error("Error() mismatch")
	}
}

func TestQueryTooLong(t *testing.T) {
	src := make([]byte, MaxQueryLen+1)
	for i := range src {
		src[i] = ' '
	}
	_, _, err := Parse(string(src))
	if err == nil || err.(*Error).Msg == "" {
		t.Fatalf("got %v", err)
	}
}
