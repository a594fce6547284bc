package query

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that errors and warnings have
// sane positions and render, and that every query that parses prints a
// canonical text which parses back to the same AST and prints identically.
// The corpus is seeded with every testdata query.
func FuzzParse(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.query)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, warns, err := Parse(src)
		for _, w := range warns {
			checkPos(t, src, w.Span, w.Line, w.Column)
			_ = w.Render(src)
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error of type %T", err)
			}
			checkPos(t, src, e.Span, e.Line, e.Column)
			_ = e.Render(src)
			if _, err := json.Marshal(e); err != nil {
				t.Fatal(err)
			}
			return
		}
		Inspect(q, func(n Node) bool {
			if sp := n.Span(); sp.Start < 0 || sp.Start > sp.End || sp.End > len(src) {
				t.Fatalf("%T %q: span %v outside %d bytes", n, n.String(), sp, len(src))
			}
			return true
		})
		checkRoundTrip(t, q)
	})
}

func checkPos(t *testing.T, src string, sp Span, line, col int) {
	t.Helper()
	if sp.Start < 0 || sp.Start > sp.End || sp.End > len(src) {
		t.Fatalf("span %v outside %d bytes", sp, len(src))
	}
	if l, c := Position(src, sp.Start); l != line || c != col || line < 1 || col < 1 {
		t.Fatalf("position %d:%d, span start is at %d:%d", line, col, l, c)
	}
	_ = utf8.ValidString(src)
}

var benchQueries = []string{
	`fields @timestamp, @message | sort @timestamp desc | limit 25`,
	`filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20`,
	`filter (dstAddr like '10.10.2.68' and srcAddr like '10.10.') | stats count(dstPort) as portsScanned by srcAddr, dstAddr, dstPort | sort portsScanned desc | limit 100`,
	`parse @message /user=(?<user>.*?), method:(?<method>.*?), latency := (?<latency>.*?)/ | stats avg(latency) by method, user`,
	`filter tlsDetails.tlsVersion in [ "TLSv1", "TLSv1.1" ]
| stats count(*) as numOutdatedTlsCalls by userIdentity.accountId, recipientAccountId, eventSource, eventName, awsRegion, tlsDetails.tlsVersion, tlsDetails.cipherSuite, userAgent
| sort eventSource, eventName, awsRegion, tlsDetails.tlsVersion`,
}

func BenchmarkParse(b *testing.B) {
	size := 0
	for _, q := range benchQueries {
		size += len(q)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range benchQueries {
			if _, _, err := Parse(q); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkString(b *testing.B) {
	qs := make([]*Query, len(benchQueries))
	for i, src := range benchQueries {
		qs[i], _, _ = Parse(src)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range qs {
			_ = q.String()
		}
	}
}

// TestLargeInputs guards against superlinear parsing, with inputs of a
// quarter of MaxQueryLen or more. Long member chains in one token, long
// pipelines and many warnings were once quadratic (a minute for a 100 KB
// member chain); the budget is generous because test machines are shared.
func TestLargeInputs(t *testing.T) {
	n := MaxQueryLen / 8
	for _, src := range []string{
		"fields f(x)" + strings.Repeat(".a", n),
		strings.Repeat("fields a | ", n/3) + "limit 1",
		"fields " + strings.Repeat("‘a’,", n/2) + "a",
		"filter " + strings.Repeat("a+", n) + "a",
		"filter a in [" + strings.Repeat("-1,", n) + "1]",
		"filter " + strings.Repeat("not ", n) + "a",
		"filter " + strings.Repeat("(", n),
		strings.Repeat("# comment\n", n/3) + "limit 1",
	} {
		start := time.Now()
		q, warns, err := Parse(src)
		if err == nil {
			_ = q.String()
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%.30q… (%d bytes, %d warnings, err %v): %v", src, len(src), len(warns), err, d)
		}
	}
}
