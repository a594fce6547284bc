package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// patternValues are attribute values that wildcard translations get wrong:
// the metacharacters of LIKE ('%', '_', the escape '\') and GLOB ('*', '?',
// '['), letter case (SQLite's LIKE folds ASCII), multi-byte characters,
// strings that are only a prefix or suffix of another, and the empty string
// (an absent attribute reads as "").
var patternValues = []string{
	"", "a", "A", "abc", "ABC", "aBc", "abcabc", "a%c", "a_c", `a\c`, "a*c", "a?c", "a[b]c", "a]c",
	"%", "_", `\`, "*", "?", "[", "]", "[]", "%%", "__",
	"x.example.com", "example.com", "x.example.com.evil", "X.EXAMPLE.COM",
	"日本語", "日本", "ünïcødé 🦀", "Ünïcødé", "nul\x00byte", "bad\xffbyte",
	"Recon:EC2/Portscan", "recon:ec2/portscan", "UnauthorizedAccess:EC2/SSHBruteForce",
}

// Patterns drawn over patternValues: literal ones (no '*'), anchored ones,
// and ones whose SQL metacharacters must stay literal.
var patternCases = []string{
	"*", "**", "a", "A", "a*", "A*", "*c", "*C", "a*c", "*b*", "*B*", "abc*abc", "*abc*abc*", "a*a",
	"a%c", "a_c", `a\c`, "a?c", "a[b]c", "a]c", "a*]c", "%", "_", `\`, "?", "[", "]", "[]", "*%*", "*_*", `*\*`, "*?*", "*[*",
	"%*", "_*", `\*`, "[*", "*.example.com", "*.EXAMPLE.COM", "x.*", "日本*", "*語", "*🦀", "ü*", "Ü*", "nul\x00*", "bad\xff*",
	"Recon:*", "recon:*", "*Portscan", "*:EC2/*", "*BruteForce",
}

// testListPatterns: Matches and NotMatches select exactly what the reference
// model's regular expressions select, in List and in Statistics, on every kind
// of value and pattern above, alone and combined.
func testListPatterns(t *testing.T, s store.Store) {
	var fs []finding.Finding
	for i, v := range patternValues {
		// A DNS finding carries the value as its type, domain and instance; a
		// network finding has no domain (the absent attribute).
		d := DNSFinding(t, "Trojan:EC2/DNSDataExfiltration", "111122223333", v, v, Base+finding.Time(i))
		d.ID, d.Type = fmt.Sprintf("dns-%02d", i), finding.Type(v)
		n := NetFinding(t, "Recon:EC2/Portscan", "111122223333", v, "198.51.100.1", Base+finding.Time(i))
		n.ID = fmt.Sprintf("net-%02d", i)
		fs = append(fs, d, n)
	}
	upsert(t, s, Base, fs...)
	// What the reference sees is what the store holds: strings after
	// store.Text.
	stored := make([]finding.Finding, len(fs))
	for i := range fs {
		f := get(t, s, fs[i].ID)
		if f == nil {
			t.Fatalf("finding %s not stored", fs[i].ID)
		}
		stored[i] = *f
	}
	check := func(c store.Criteria) {
		t.Helper()
		srt := store.Sort{Attribute: "id", Order: store.Asc}
		got, want := listAll(t, s, c, srt, 0), expectList(stored, c, srt)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", describe(c), got, want)
		}
		gs, err := s.Statistics(ctx, store.StatisticsQuery{Criteria: c, GroupBy: store.GroupByAccount})
		if err != nil {
			t.Fatalf("statistics %s: %v", describe(c), err)
		}
		var n int64
		for _, g := range gs {
			n += g.Total
		}
		if n != int64(len(want)) {
			t.Errorf("%s: statistics count %d, want %d", describe(c), n, len(want))
		}
	}
	attrs := []string{"type", "service.action.dnsRequestAction.domain", "resource.instanceDetails.instanceId"}
	selective := 0
	for _, attr := range attrs {
		for _, p := range patternCases {
			for _, not := range []bool{false, true} {
				cond := store.Condition{Matches: []string{p}}
				if not {
					cond = store.Condition{NotMatches: []string{p}}
				}
				c := store.Criteria{Criterion: map[string]store.Condition{attr: cond}}
				check(c)
				if n := len(expectList(stored, c, store.Sort{})); n > 0 && n < len(stored) {
					selective++
				}
			}
		}
	}
	if selective < len(attrs)*len(patternCases) {
		t.Errorf("only %d of %d pattern criteria select a proper subset: the values test little", selective, 2*len(attrs)*len(patternCases))
	}
	// Several patterns (OR-ed, or all excluded), both operators on one
	// attribute, and patterns with the other operators.
	for _, c := range []store.Criteria{
		{Criterion: map[string]store.Condition{"type": {Matches: []string{"a*", "*c", "%", "日本*", "[*"}}}},
		{Criterion: map[string]store.Condition{"type": {NotMatches: []string{"a*", "*c", "%", "日本*", "[*"}}}},
		{Criterion: map[string]store.Condition{"type": {Matches: []string{"a*"}, NotMatches: []string{"*c"}}}},
		{Criterion: map[string]store.Condition{"type": {Matches: []string{"*"}, NotEquals: []string{""}}}},
		{Criterion: map[string]store.Condition{"service.action.dnsRequestAction.domain": {NotMatches: []string{"*.example.com"}},
			"resource.instanceDetails.instanceId": {Matches: []string{"*a*", "*日*"}}}},
		{Criterion: map[string]store.Condition{"service.action.dnsRequestAction.domain": {Matches: []string{"*"}}, "updatedAt": {GreaterThanOrEqual: ptr(int64(Base) + 10)}}},
		{Criterion: map[string]store.Condition{"type": {Equals: []string{"Recon:EC2/Portscan"}, Matches: []string{"Recon:*"}},
			"resource.instanceDetails.instanceId": {NotMatches: []string{"a*", "A*"}}}},
	} {
		check(c)
	}
	// The ListFindings optimisation that splits an Equals into one index
	// read per value must keep the pattern condition.
	c := store.Criteria{Criterion: map[string]store.Condition{"type": {Equals: []string{"abc", "ABC", "Recon:EC2/Portscan"}},
		"resource.instanceDetails.instanceId": {Matches: []string{"a*"}}}}
	if got, want := listAll(t, s, c, store.Sort{}, 3), expectList(stored, c, store.Sort{}); !slices.Equal(got, want) {
		t.Errorf("%s newest first:\n got %v\nwant %v", describe(c), got, want)
	}
}

// describe prints criteria for a failure message.
func describe(c store.Criteria) string {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Sprint(c)
	}
	return string(b)
}
