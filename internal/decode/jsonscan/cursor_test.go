package jsonscan

import (
	"encoding/json"
	"testing"
)

// FuzzCursorSkip holds Skip to encoding/json's grammar: a text is one value
// Skip consumes whole exactly when json.Valid accepts it.
func FuzzCursorSkip(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":1}`, ` {"a" : [1, -0.5e+3, "x\"\u00e9\\/", true, false, null, {"b":{}}]} `,
		`{"a" 1}`, `[1,]`, `{"a":1,}`, `01`, `-`, `1.`, `1e`, `.5`, `"\x"`, `"\u12"`, `"a` + "\n" + `"`,
		`tru`, `nul`, `[1 2]`, `{"a":1}}`, `"é"`, "\"\xff\"", `-0`, `1E+2`, `{1:2}`, `[`, `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Cursor{B: b}
		got := p.Skip() && p.End()
		if want := json.Valid(b); got != want {
			t.Fatalf("Skip+End(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// TestFoldsTo: keys encoding/json would match to a name case-insensitively.
func TestFoldsTo(t *testing.T) {
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"eventName", true}, {"EVENTNAME", true}, {"eventname", true}, {"eventNam", false},
		{"other", false}, {"event\u212Aame", true}, {"", false},
	} {
		if got := FoldsTo([]byte(c.key), "eventName", "awsRegion"); got != c.want {
			t.Errorf("FoldsTo(%q) = %v, want %v", c.key, got, c.want)
		}
	}
}
