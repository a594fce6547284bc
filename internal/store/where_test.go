package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseWhere(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string // the criteria's JSON
	}{
		{nil, `{}`},
		{[]string{"type=Recon:EC2/Portscan"}, `{"criterion":{"type":{"equals":["Recon:EC2/Portscan"]}}}`},
		{[]string{"type != Recon:EC2/Portscan, Trojan:EC2/DropPoint"}, `{"criterion":{"type":{"notEquals":["Recon:EC2/Portscan","Trojan:EC2/DropPoint"]}}}`},
		{[]string{"severity>=7"}, `{"criterion":{"severity":{"greaterThanOrEqual":7}}}`},
		{[]string{"severity>=medium", "severity<high"}, `{"criterion":{"severity":{"greaterThanOrEqual":4,"lessThan":7}}}`},
		{[]string{"instance=i-1,i-2", "archived=false"}, `{"criterion":{"resource.instanceDetails.instanceId":{"equals":["i-1","i-2"]},"service.archived":{"equals":["false"]}}}`},
		{[]string{"updatedAt>=2026-11-01", "createdAt<2026-11-01T10:00:00Z", "service.eventLastSeen>1767261600000"},
			`{"criterion":{"createdAt":{"lessThan":1793527200000},"service.eventLastSeen":{"greaterThan":1767261600000},"updatedAt":{"greaterThanOrEqual":1793491200000}}}`},
		{[]string{"updatedAt=2026-11-01"}, `{"criterion":{"updatedAt":{"equals":["1793491200000"]}}}`},
		{[]string{`domain=a\,b,c`}, `{"criterion":{"service.action.dnsRequestAction.domain":{"equals":["a,b","c"]}}}`},
		{[]string{"count>3", "count<=9"}, `{"criterion":{"service.count":{"greaterThan":3,"lessThanOrEqual":9}}}`},
		{[]string{`domain~*.example.com, *.a\,b`, "instance!~i-0scan*", "type=x"},
			`{"criterion":{"resource.instanceDetails.instanceId":{"notMatches":["i-0scan*"]},"service.action.dnsRequestAction.domain":{"matches":["*.example.com","*.a,b"]},"type":{"equals":["x"]}}}`},
		{[]string{"type~Recon:*", "type!~*Portscan"}, `{"criterion":{"type":{"matches":["Recon:*"],"notMatches":["*Portscan"]}}}`},
	} {
		c, err := ParseWhere(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		b, _ := json.Marshal(c)
		if string(b) != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, b, tc.want)
		}
	}
}

func TestParseWhereErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"severity", "want ATTRIBUTE OP VALUE"},
		{"=7", "want ATTRIBUTE OP VALUE"},
		{"severity>=", "no value after >="},
		{"severity!7", `"!" is not an operator`},
		{"title=x", `attribute "title" is not supported`},
		{"instanceId=i-1", `did you mean resource.instanceDetails.instanceId?`},
		{"Type=x", `did you mean type?`},
		{"severity>=7.5", "range values are integers"},
		{"type>3", "type is a string: compare it with =, !=, ~ or !~"},
		{"severity~8*", "severity is a number; ~ takes wildcard patterns for string attributes"},
		{"archived!~t*", "service.archived is a boolean; !~ takes"},
		{"domain~a,b,c,d,e,f", "Matches has 6 patterns: at most 5"},
		{"domain~*", ""},
		{"type~a*", ""},
		{"archived=maybe", "want true or false"},
		{"createdAt>yesterday", "want epoch milliseconds"},
		{"severity=high", "want a number"},
		{"type=a,", ""}, // an empty value is a value: accepted
	} {
		_, err := ParseWhere([]string{tc.in})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.in, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidCriteria) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want ErrInvalidCriteria saying %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseWhere([]string{"type=a", "type=b"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("same operator twice: %v", err)
	}
}

// FuzzParseWhere: the shorthand parser never panics, and what it accepts is
// valid criteria that survive a JSON round trip unchanged.
func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"type=Recon:EC2/Portscan", "severity>=7", "severity>=high", "archived=false", `domain=a\,b`, "domain~*.example.*", "type!~*%_[\\*",
		"updatedAt>=2026-11-01", "x", "=", "severity<=", "instance!=i-1,i-2", "count>9223372036854775807"} {
		f.Add(s, "severity<9")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		c, err := ParseWhere([]string{a, b})
		if err != nil {
			if !errors.Is(err, ErrInvalidCriteria) {
				t.Fatalf("error does not wrap ErrInvalidCriteria: %v", err)
			}
			return
		}
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Criteria
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if _, err := back.Terms(); err != nil {
			t.Fatalf("accepted %q %q but the round trip is invalid: %v", a, b, err)
		}
	})
}

// FuzzCriteriaJSON: criteria decoded from any JSON are either checked into
// terms or rejected with ErrInvalidCriteria; nothing panics.
func FuzzCriteriaJSON(f *testing.F) {
	for _, s := range []string{
		`{"criterion":{"type":{"eq":["Recon:EC2/Portscan"]}}}`,
		`{"Criterion":{"severity":{"Gte":7},"service.archived":{"Equals":["false"]}}}`,
		`{"criterion":{"updatedAt":{"lt":1767261600000},"service.count":{"neq":["1","2"]}}}`,
		`{"criterion":{"type":{}}}`, `{"criterion":{"x":{"eq":[]}}}`, `{}`, `null`,
		`{"criterion":{"type":{"matches":["Recon:*","*Portscan"]},"service.action.dnsRequestAction.domain":{"notMatches":["*.example.com"]}}}`,
		`{"Criterion":{"type":{"Matches":["*"],"NotMatches":[""]}}}`, `{"criterion":{"severity":{"matches":["8*"]}}}`,
		`{"criterion":{"id":{"matches":["a","b","c","d","e","f"]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Criteria
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		if err := CheckCriteriaBounds(c); err != nil && !errors.Is(err, ErrInvalidCriteria) {
			t.Fatal(err)
		}
		terms, err := c.Terms()
		if err != nil {
			if !errors.Is(err, ErrInvalidCriteria) {
				t.Fatalf("error does not wrap ErrInvalidCriteria: %v", err)
			}
			return
		}
		for _, term := range terms {
			if term.Op != OpMatch && term.Op != OpNotMatch {
				continue
			}
			if term.Kind != KindString || len(term.Values) == 0 || len(term.Values) > MaxPatterns {
				t.Fatalf("accepted %s %d patterns on a %s", term.Attribute, len(term.Values), term.Kind)
			}
			for _, v := range term.Values {
				if p := v.(string); p == "" || utf8.RuneCountInString(p) > MaxPatternLength || Text(p) != p {
					t.Fatalf("accepted pattern %q", p)
				}
			}
		}
	})
}
