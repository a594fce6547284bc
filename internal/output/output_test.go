package output

import (
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	rows := [][]Cell{
		{TextCell("10.0.0.1"), {Text: "22", OK: true, Raw: []byte("22")}, {}},
		{TextCell("evil\x1b[2J\nline"), {}, TextCell("x,y")},
	}
	cols := []string{"srcAddr", "dstPort", "note"}
	want := map[Format]string{
		JSONL: `{"srcAddr":"10.0.0.1","dstPort":22}` + "\n" + `{"srcAddr":"evil\u001b[2J\nline","note":"x,y"}` + "\n",
		JSON:  "[\n  {\"srcAddr\":\"10.0.0.1\",\"dstPort\":22},\n  {\"srcAddr\":\"evil\\u001b[2J\\nline\",\"note\":\"x,y\"}\n]\n",
		CSV:   "srcAddr,dstPort,note\n10.0.0.1,22,\n\"evil\x1b[2J\nline\",,\"x,y\"\n",
		Table: "srcAddr              dstPort  note\n-------------------  -------  ----\n10.0.0.1             22       \nevil\\x1b[2J\\x0aline           x,y\n",
	}
	for f, w := range want {
		var b strings.Builder
		ow := NewWriter(&b, f, cols)
		for _, r := range rows {
			if err := ow.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := ow.Close(); err != nil {
			t.Fatal(err)
		}
		if b.String() != w {
			t.Errorf("%s:\n got %q\nwant %q", f, b.String(), w)
		}
	}
}

func TestTableDropsEmptyColumnsAndEmptyJSON(t *testing.T) {
	var b strings.Builder
	ow := NewWriter(&b, Table, []string{"a", "empty", "c"})
	ow.Write([]Cell{TextCell("1"), {}, TextCell("3")})
	ow.Close()
	if strings.Contains(b.String(), "empty") {
		t.Errorf("empty column printed:\n%s", b.String())
	}
	b.Reset()
	ow = NewWriter(&b, JSON, []string{"a"})
	ow.Close()
	if b.String() != "[]\n" {
		t.Errorf("empty json = %q", b.String())
	}
	if _, err := ParseFormat("yaml", Table, JSON); err == nil || !strings.Contains(err.Error(), "table, json") {
		t.Errorf("ParseFormat(yaml) err = %v", err)
	}
}
