package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

func build(t *testing.T, q string) *Plan {
	t.Helper()
	chk, _, err := query.ParseAndCheck(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(chk, Options{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBarriers(t *testing.T) {
	cases := []struct {
		query      string
		kind       BarrierKind
		k          int64
		head, tail int
		timeKey    bool
	}{
		{`filter dstPort = 22`, TopK, DefaultMaxRows, 1, 0, true},
		{`filter dstPort = 22 | stats count(*) by srcAddr | sort 1`, Stats, 0, 1, 1, false},
		{`sort bytes desc | filter dstPort = 22 | limit 5`, TopK, 5, 1, 0, false},
		{`sort @timestamp asc | limit 3 | filter dstPort = 22`, TopK, 3, 0, 1, true},
		{`fields srcAddr | dedup srcAddr | limit 2`, TopK, 2, 1, 0, true},
		{`limit any 7 | stats count(*)`, Take, 7, 0, 1, false},
		{`sort bytes | stats count(*)`, Stats, 0, 0, 0, false},
		{`limit 10 | stats count(*) as n by srcAddr | filter n > 1`, TopK, 10, 0, 2, true},
	}
	for _, c := range cases {
		p := build(t, c.query)
		b := p.Barrier
		if b.Kind != c.kind || (c.kind != Stats && b.K != c.k) || len(p.Head) != c.head || len(p.Tail) != c.tail || b.TimeKey != c.timeKey {
			t.Errorf("%s: %v k=%d head=%d tail=%d timeKey=%v", c.query, b.Kind, b.K, len(p.Head), len(p.Tail), b.TimeKey)
		}
	}
}

func TestProjectionAndMaterialize(t *testing.T) {
	p := build(t, `filter dstPort = 22 | limit 5 | filter action = "REJECT" | fields srcAddr, bytes / packets as bpp`)
	if got := p.Fields[record.KindFlow]; !slices.Equal(got, []string{"@timestamp", "action", "bytes", "dstPort", "packets", "srcAddr"}) {
		t.Errorf("flow fields %v", got)
	}
	if !slices.Equal(p.Materialize, []string{"action", "srcAddr", "bytes", "packets"}) {
		t.Errorf("materialize %v", p.Materialize)
	}
	if p.MaxRows != 5 {
		t.Errorf("max rows %d", p.MaxRows)
	}
}

func TestExplain(t *testing.T) {
	p := build(t, `sort bytes desc | filter dstPort = 22 | sort srcAddr | limit 3`)
	got := p.Explain()
	for _, want := range []string{
		"reads:    flow records: @message, @timestamp, bytes, dstPort, srcAddr",
		"needs:    flow records: dstPort = 22\n          (checked on each record's text: one that cannot meet them is passed over unread)",
		"time:     from 2026-11-01T00:00:00Z (inclusive)",
		"  1. filter dstPort = 22",
		"keep the first 3 rows by srcAddr asc, bytes desc",
		"the sorts at 1:1 and 1:41 are merged",
		"per-record commands after the sort at 1:1 run before it",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explain lacks %q:\n%s", want, got)
		}
	}
}

// TestNeedles: the conditions every kept record meets, from each filter's
// top-level and, are the needles; or, not, not like and other operators give
// none.
func TestNeedles(t *testing.T) {
	for _, c := range []struct {
		query string
		want  []Needle
	}{
		{`filter srcAddr like "10." and (dstPort = 22 and action = "REJECT")`, []Needle{
			{Field: "srcAddr", Text: "10."}, {Field: "dstPort", Text: "22", Equal: true, Number: true}, {Field: "action", Text: "REJECT", Equal: true}}},
		{`filter 443 = dstPort | filter "eni-1" = interfaceId`, []Needle{
			{Field: "dstPort", Text: "443", Equal: true, Number: true}, {Field: "interfaceId", Text: "eni-1", Equal: true}}},
		{`filter srcAddr like "10." or dstPort = 22`, nil},
		{`filter not (srcAddr like "10.")`, nil},
		{`filter srcAddr not like "10." and dstPort != 22 and bytes > 5 and dstPort = 2.5 and srcAddr like /10\./`, nil},
		{`fields dstAddr as d | filter d like "10."`, nil},
		{`stats count(*) as n by srcAddr | filter srcAddr like "10."`, nil},
	} {
		if got := build(t, c.query).Needles; !slices.Equal(got, c.want) {
			t.Errorf("%s: needles %+v, want %+v", c.query, got, c.want)
		}
	}
}

// TestJudged: each decoder judges the needles it can check on a record's
// text, and only those.
func TestJudged(t *testing.T) {
	p := build(t, `filter query_name like "evil" and srcaddr = "10.0.0.1" and dstPort = 22 and eventName = "X" and srcport = 53 and @message like "m"`)
	for k, want := range map[record.Kind][]Needle{
		// srcport is the flow format's own name of srcPort.
		record.KindFlow: {{Field: "dstPort", Text: "22", Equal: true, Number: true}, {Field: "srcport", Text: "53", Equal: true, Number: true},
			{Field: "@message", Text: "m"}},
		record.KindDNS:     {{Field: "query_name", Text: "evil"}, {Field: "@message", Text: "m"}},
		record.KindAPICall: {{Field: "eventName", Text: "X", Equal: true}, {Field: "@message", Text: "m"}},
	} {
		if got := p.Judged(k); !slices.Equal(got, want) {
			t.Errorf("%s: judged %+v, want %+v", k, got, want)
		}
	}
}
