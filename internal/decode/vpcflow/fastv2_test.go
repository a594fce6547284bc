package vpcflow

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

func TestDefaultIDs(t *testing.T) {
	if !isDefaultOrder(defaultLayout.cols) || !defaultLayout.isDefault {
		t.Fatalf("defaultIDs %v are not DefaultFormat's fields in order", defaultIDs)
	}
	lay := mustParseFormat(strings.ReplaceAll(DefaultFormat, "log-status", "log-status tcp-flags"))
	if lay.isDefault {
		t.Error("a layout with a field more is taken for the default one")
	}
	if h := headerLayout([]byte(DefaultFormat), func(string) *interner { return &interner{} }); !h.isDefault {
		t.Error("the default header line is not recognised as the default layout")
	}
}

// defaultEdgeLines are default-format lines at the edges of what parseLine
// accepts: the fast path must agree with it on each, accepted or not.
var defaultEdgeLines = []string{
	"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
	"2 123456789010 eni-1 2001:db8::1 ::ffff:10.0.0.1 0 0 1 4 336 1432917027 1432917142 REJECT SKIPDATA",
	"2 123456789010 eni-1 10.0.0.1 10.0.0.2 65535 65536 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 255 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 256 1 1 1 1 ACCEPT OK",
	"2147483647 a b 10.0.0.1 10.0.0.2 1 2 3 9223372036854775807 0 0 0 ACCEPT OK",
	"2147483648 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 9223372036854775808 5 6 7 ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 12345678901234567890 5 6 7 ACCEPT OK",
	"002 a b 10.0.0.1 10.0.0.2 01 02 03 04 05 06 07 ACCEPT OK",
	"2 a b 010.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.256 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 accept OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT ok",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK ",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK extra",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT ",
	"2 a  b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	" 2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 - b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a - 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"- a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 - -",
	"2 -a b- 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a\xff b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 ä b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 -7 ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7x ACCEPT OK",
	"2 a b 10.0.0.1 10.0.0.2 1 2 3 4 5 6 7\tACCEPT OK",
	"2 a b fe80::1%eth0 10.0.0.2 1 2 3 4 5 6 7 ACCEPT OK",
	"2 a b 1.2.3.4",
	"2",
	"2 ",
	"x",
}

// checkDefaultAgrees parses line with the fast path and with parseLine alone
// and fails if the records or the errors differ.
func checkDefaultAgrees(t *testing.T, fast, slow *Decoder, line []byte) {
	t.Helper()
	generic := *defaultLayout
	generic.isDefault = false
	var a, b record.Flow
	ea := fast.parseLine(&a, defaultLayout, line, allFields)
	eb := slow.parseLine(&b, &generic, line, allFields)
	if (ea == nil) != (eb == nil) || ea != nil && *ea != *eb {
		t.Fatalf("%q: fast path error %v, parseLine error %v", line, ea, eb)
	}
	if ea == nil && !reflect.DeepEqual(a, b) {
		t.Fatalf("%q: fast path\n%+v\nparseLine\n%+v", line, a, b)
	}
}

// fieldVariants returns a good default-format line with each field in turn
// replaced by each of a list of edge values.
func fieldVariants() [][]byte {
	good := strings.Fields("2 123456789010 eni-1 10.0.0.1 8.8.8.8 40000 443 6 10 840 1418530010 1418530070 ACCEPT OK")
	edges := []string{"-", "", "0", "255", "256", "65535", "65536", "2147483647", "2147483648", "9223372036854775807",
		"9223372036854775808", "99999999999999999999", "01", "1.2.3.4", "::1", "ACCEPT", "REJECT", "OK", "NODATA", "x", "\xff", "a b"}
	var out [][]byte
	for i := range good {
		for _, e := range edges {
			fs := append([]string{}, good...)
			fs[i] = e
			out = append(out, []byte(strings.Join(fs, " ")))
		}
	}
	return out
}

func TestParseDefaultMatchesParseLine(t *testing.T) {
	fast, slow := mustNew(t, Config{}), mustNew(t, Config{})
	var lines [][]byte
	for _, l := range defaultEdgeLines {
		lines = append(lines, []byte(l))
	}
	lines = append(lines, fieldVariants()...)
	lines = append(lines, corpus("v2", 5000)...)
	for _, file := range []string{"testdata/no-header-default.log", "testdata/s3-default.log", "testdata/bad-lines.log"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(data, []byte("\n"))...)
	}
	taken := 0
	for _, l := range lines {
		l = trimRight(l)
		if len(l) == 0 || IsHeader(l) {
			continue
		}
		checkDefaultAgrees(t, fast, slow, l)
		var f record.Flow
		if fast.parseDefault(&f, l) {
			taken++
		}
	}
	if taken < 4000 {
		t.Errorf("the fast path took %d of %d lines: it is not being tested", taken, len(lines))
	}
}

func FuzzParseDefault(f *testing.F) {
	for _, l := range defaultEdgeLines {
		f.Add([]byte(l))
	}
	for _, l := range corpus("v2", 20) {
		f.Add(l)
	}
	fast, slow := &Decoder{base: defaultLayout}, &Decoder{base: defaultLayout}
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) == 0 || len(line) > 4096 {
			return
		}
		checkDefaultAgrees(t, fast, slow, line)
	})
}
