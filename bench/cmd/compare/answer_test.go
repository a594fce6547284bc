package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCanon(t *testing.T) {
	for _, tc := range []struct {
		k    kind
		in   string
		want string
	}{
		{num, "443", "443"},
		{num, "443.0", "443"},
		{num, "7e9", "7000000000"},
		{num, " 12\n", "12"},
		{num, "-", ""},
		{num, "2.5", "2.5"},
		{str, "10.10.2.68", "10.10.2.68"},
		{str, "-", ""},
		{timestamp, "1762000200000", "1762000200000"},
		{timestamp, "2025-11-01 12:30:00.000", "1762000200000"},
		{timestamp, "2025-11-01T12:30:00Z", "1762000200000"},
	} {
		got, err := canon(tc.k, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("canon(%d, %q) = %q, %v; want %q", tc.k, tc.in, got, err, tc.want)
		}
	}
	if _, err := canon(num, "many"); err == nil {
		t.Error("canon(num, \"many\") did not fail")
	}
}

func TestCheckVigil(t *testing.T) {
	sh := shape{cols: []column{{"srcAddr", str}, {"n", num}}, sortCol: 1, desc: true, limit: 3}
	// The peer's top 3 with ties: b and c tie with the third row.
	ref := answer{rows: [][]string{{"x", "9"}, {"y", "5"}, {"a", "4"}, {"b", "4"}, {"c", "4"}}}
	rows := func(s ...string) answer {
		var a answer
		for _, r := range s {
			a.rows = append(a.rows, strings.Split(r, ":"))
		}
		return a
	}
	for _, tc := range []struct {
		name string
		got  answer
		ok   bool
	}{
		{"first tie", rows("x:9", "y:5", "a:4"), true},
		{"another tie", rows("x:9", "y:5", "c:4"), true},
		{"too few rows", rows("x:9", "y:5"), false},
		{"too many rows", rows("x:9", "y:5", "a:4", "b:4"), false},
		{"unsorted", rows("y:5", "x:9", "a:4"), false},
		{"ascending", rows("a:4", "y:5", "x:9"), false},
		{"wrong count", rows("x:9", "y:6", "a:4"), false},
		{"unknown row", rows("x:9", "y:5", "d:4"), false},
		{"row twice", rows("x:9", "x:9", "a:4"), false},
		{"skips a better row", rows("x:9", "a:4", "b:4"), false},
	} {
		err := checkVigil(tc.got, ref, sh)
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkVigil = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	// Fewer rows than the limit: all of them.
	small := answer{rows: [][]string{{"x", "9"}, {"y", "5"}}}
	if err := checkVigil(rows("x:9", "y:5"), small, sh); err != nil {
		t.Errorf("all rows below the limit: %v", err)
	}
	// Missing sort values sort last in descending order.
	withMissing := answer{rows: [][]string{{"x", "9"}, {"", ""}}}
	if err := checkVigil(rows("x:9", ":"), withMissing, sh); err != nil {
		t.Errorf("missing last: %v", err)
	}
	if err := checkVigil(rows(":", "x:9"), withMissing, sh); err == nil {
		t.Error("missing first in descending order was accepted")
	}
	// Without a limit: the same multiset in any order.
	all := shape{cols: sh.cols}
	if err := checkVigil(rows("y:5", "x:9"), small, all); err != nil {
		t.Errorf("unordered: %v", err)
	}
	if err := checkVigil(rows("y:5", "x:8"), small, all); err == nil {
		t.Error("a different multiset was accepted")
	}
}

func TestCheckVigilApprox(t *testing.T) {
	sh := shape{cols: []column{{"srcAddr", str}, {"n", num}}, sortCol: 1, desc: true, limit: 3, approx: 0.03}
	// The peer's exact top 3: x 1000, y 900, z 500 (w 495 is just below the cut).
	ref := answer{rows: [][]string{{"x", "1000"}, {"y", "900"}, {"z", "500"}}}
	rows := func(s ...string) answer {
		var a answer
		for _, r := range s {
			a.rows = append(a.rows, strings.Split(r, ":"))
		}
		return a
	}
	for _, tc := range []struct {
		name string
		got  answer
		ok   bool
	}{
		{"exact", rows("x:1000", "y:900", "z:500"), true},
		{"within the error", rows("x:1020", "y:880", "z:505"), true},
		{"near-tie at the cut swapped in", rows("x:1000", "y:900", "w:505"), true},
		{"outside the error", rows("x:1100", "y:900", "z:500"), false},
		{"unknown row far above the cut", rows("x:1000", "q:950", "y:900"), false},
		{"drops a clear top row", rows("x:1000", "z:500", "w:499"), false},
		{"unsorted", rows("y:900", "x:1000", "z:500"), false},
		{"too few rows", rows("x:1000", "y:900"), false},
		{"row twice", rows("x:1000", "x:1000", "z:500"), false},
	} {
		err := checkVigil(tc.got, ref, sh)
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkVigil = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestParseCatCount(t *testing.T) {
	out := []byte("kind     records\nflow     200000\nskipped  0\n")
	a, err := parseCatCount(out, shape{})
	if err != nil || a.String() != "200000" {
		t.Fatalf("parseCatCount = %v, %v", a, err)
	}
	if _, err := parseCatCount([]byte("kind records\nflow 10\nskipped 2\n"), shape{}); err == nil {
		t.Error("skipped records were not reported")
	}
	if _, err := parseCatCount([]byte("kind records\ndns 10\nskipped 0\n"), shape{}); err == nil {
		t.Error("a missing flow line was not reported")
	}
}

func TestParseQueryCSV(t *testing.T) {
	sh := shape{cols: []column{{"bin(5m)", timestamp}, {"dstPort", num}, {"rejectedFlows", num}}}
	out := []byte("bin(5m),dstPort,rejectedFlows\n2025-11-01 12:30:00.000,22,7\n2025-11-01 12:25:00.000,,3\n")
	a, err := parseQueryCSV(out, sh)
	if err != nil {
		t.Fatal(err)
	}
	want := answer{rows: [][]string{{"1762000200000", "22", "7"}, {"1761999900000", "", "3"}}}
	if err := sameAnswer(want, a); err != nil {
		t.Fatal(err)
	}
	if _, err := parseQueryCSV([]byte("bin(5m),port\n"), sh); err == nil || !strings.Contains(err.Error(), "dstPort") {
		t.Errorf("a missing column: %v", err)
	}
}

func TestWriteSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.md")
	sec := func(s string) string { return beginMarker + "\n" + s + "\n" + endMarker + "\n" }
	if err := writeSection(p, sec("one")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("# Title\n\nintro\n\n"+sec("one")+"\n## Later\n\ntext\n"), 0o644)
	if err := writeSection(p, sec("two")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	want := "# Title\n\nintro\n\n" + sec("two") + "\n## Later\n\ntext\n"
	if string(b) != want {
		t.Errorf("replaced section:\n%s\nwant:\n%s", b, want)
	}
	os.WriteFile(p, []byte("# Other\n"), 0o644)
	writeSection(p, sec("three"))
	b, _ = os.ReadFile(p)
	if string(b) != "# Other\n\n"+sec("three") {
		t.Errorf("appended section:\n%s", b)
	}
}

func TestParseFindingsJSONL(t *testing.T) {
	a, err := parseFindingsJSONL([]byte(`{"type":"Recon:EC2/Portscan","severity":5}`+"\n"+`{"type":"Backdoor:EC2/DenialOfService.Udp"}`+"\n"), shape{})
	if err != nil || len(a.rows) != 1 || a.rows[0][0] != "2" {
		t.Fatalf("got %v, %v; want 2 findings", a, err)
	}
	if _, err := parseFindingsJSONL([]byte("{\"severity\":5}\n"), shape{}); err == nil {
		t.Error("a line without a type was accepted")
	}
	if err := scanCase.check(answer{rows: [][]string{{"0"}}}); err == nil {
		t.Error("no findings passed the scan check")
	}
}
