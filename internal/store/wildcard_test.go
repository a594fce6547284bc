package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestMatchWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"**", "", true},
		{"a", "a", true},
		{"a", "A", false}, // case-sensitive
		{"a", "ab", false},
		{"a*", "a", true},
		{"a*", "ab", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*a", "a", false}, // the two a's cannot be one
		{"a*a", "aa", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "acb", false},
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "www.example.com.evil", false},
		{"*ab*ab*", "abab", true},
		{"*ab*ab*", "aba", false},
		{"*aab", "aaab", true},
		{"%", "x", false}, // SQL metacharacters are literal
		{"%", "%", true},
		{"_", "x", false},
		{"a_c", "abc", false},
		{"a_c", "a_c", true},
		{"?", "x", false},
		{"?", "?", true},
		{"[a]", "a", false},
		{"[a]", "[a]", true},
		{`a\*`, `a\`, true}, // no escape character: '\' is literal, '*' still a wildcard
		{`a\*`, `a\b`, true},
		{`a\*`, "a*", false},
		{"é*", "éclair", true},
		{"*ü", "Grüß dich ü", true},
		{"*日本*", "こんにちは日本語", true},
		{"*\uFFFD*", "bad\uFFFDbyte", true},
	} {
		if got := MatchWildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("MatchWildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// wildcardRegexp is the obvious reference: the pattern's literal runs quoted,
// '*' as "(?s).*", anchored.
func wildcardRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
}

// FuzzMatchWildcard: MatchWildcard agrees with a regular expression built from
// the pattern, on any pattern and string.
func FuzzMatchWildcard(f *testing.F) {
	for _, s := range [][2]string{{"*", ""}, {"a*b*c", "a-b-b-c"}, {"*ab*ab*", "aba"}, {"%_[\\*", "%_[\\x"}, {"*日本*", "日本語"}, {"**a**", "ba"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// Patterns and values are compared as the stores keep them.
		pattern, s = Text(pattern), Text(s)
		if want := wildcardRegexp(pattern).MatchString(s); MatchWildcard(pattern, s) != want {
			t.Fatalf("MatchWildcard(%q, %q) = %v, the regexp says %v", pattern, s, !want, want)
		}
	})
}

func TestTermsPatterns(t *testing.T) {
	c := Criteria{Criterion: map[string]Condition{
		"type":                                   {Matches: []string{"Recon:*", "*Portscan", "Recon:*"}, NotEquals: []string{"x"}},
		"service.action.dnsRequestAction.domain": {NotMatches: []string{"*.example.com", "a\x00*"}},
	}}
	terms, err := c.Terms()
	if err != nil {
		t.Fatal(err)
	}
	want := []Term{
		{Attribute: "service.action.dnsRequestAction.domain", Kind: KindString, Op: OpNotMatch, Values: []any{"*.example.com", "a\uFFFD*"}},
		{Attribute: "type", Kind: KindString, Op: OpNeq, Values: []any{"x"}},
		{Attribute: "type", Kind: KindString, Op: OpMatch, Values: []any{"*Portscan", "Recon:*"}},
	}
	if !reflect.DeepEqual(terms, want) {
		t.Errorf("got  %+v\nwant %+v", terms, want)
	}
	if got := c.PatternAttributes(); !reflect.DeepEqual(got, []string{"service.action.dnsRequestAction.domain", "type"}) {
		t.Errorf("PatternAttributes %q", got)
	}
	if got := (Criteria{Criterion: map[string]Condition{"type": {Equals: []string{"x"}}}}).PatternAttributes(); got != nil {
		t.Errorf("PatternAttributes of criteria without patterns: %q", got)
	}
	// 512 characters of several bytes each are within the bound.
	if _, err := (Criteria{Criterion: map[string]Condition{"type": {Matches: []string{strings.Repeat("é", MaxPatternLength)}}}}).Terms(); err != nil {
		t.Errorf("512 two-byte characters: %v", err)
	}
}

func TestTermsPatternErrors(t *testing.T) {
	six := []string{"a", "b", "c", "d", "e", "f"}
	for _, tc := range []struct {
		cond Condition
		attr string
		want string
	}{
		{Condition{Matches: []string{"8*"}}, "severity", "severity: Matches needs a string attribute; severity is a number"},
		{Condition{NotMatches: []string{"t*"}}, "service.archived", "service.archived: NotMatches needs a string attribute"},
		{Condition{Matches: []string{}}, "type", "type: Matches has no patterns"},
		{Condition{Matches: six}, "type", "type: Matches has 6 patterns: at most 5"},
		{Condition{NotMatches: []string{"a", ""}}, "type", "type: NotMatches pattern 2 is empty: want 1 to 512 characters"},
		{Condition{Matches: []string{strings.Repeat("x", 513)}}, "id", "id: Matches pattern 1 has 513 characters: at most 512"},
	} {
		_, err := Criteria{Criterion: map[string]Condition{tc.attr: tc.cond}}.Terms()
		if !errors.Is(err, ErrInvalidCriteria) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v, want ErrInvalidCriteria saying %q", tc.attr, tc.cond, err, tc.want)
		}
	}
	err := CheckCriteriaBounds(Criteria{Criterion: map[string]Condition{"type": {NotMatches: six}}})
	if !errors.Is(err, ErrInvalidCriteria) || !strings.Contains(err.Error(), "type: NotMatches has 6 patterns: at most 5") {
		t.Errorf("bounds: %v", err)
	}
}

// Patterns read from GuardDuty's JSON in the API's spelling and the CLI's.
func TestPatternsJSON(t *testing.T) {
	for _, src := range []string{
		`{"criterion": {"type": {"matches": ["Recon:*"], "notMatches": ["*Portscan"]}}}`,
		`{"Criterion": {"type": {"Matches": ["Recon:*"], "NotMatches": ["*Portscan"]}}}`,
	} {
		var c Criteria
		if err := json.Unmarshal([]byte(src), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.Criterion["type"]; !reflect.DeepEqual(got.Matches, []string{"Recon:*"}) || !reflect.DeepEqual(got.NotMatches, []string{"*Portscan"}) {
			t.Errorf("%s: decoded %+v", src, got)
		}
		if b, _ := json.Marshal(c); string(b) != `{"criterion":{"type":{"matches":["Recon:*"],"notMatches":["*Portscan"]}}}` {
			t.Errorf("%s: encodes as %s", src, b)
		}
	}
}
