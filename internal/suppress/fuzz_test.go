package suppress

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// FuzzCompileExpression: any expression either compiles or is rejected with
// ErrInvalid, and a compiled rule matches a finding without panicking.
func FuzzCompileExpression(f *testing.F) {
	for _, s := range []string{
		`type = "Recon:EC2/Portscan"`, `severity >= 7 and type like /Recon/`,
		`isIpv4InSubnet(service.action.networkConnectionAction.remoteIpDetails.ipAddressV4, "198.51.100.0/24")`,
		`resource.instanceDetails.tags.0.value = "web"`, `@message like "i-1"`, `count(*) > 1`, `type = `, `(((`,
		`strlen(title) > 10 or service.count > 3`,
	} {
		f.Add(s)
	}
	fd := storetest.NetFinding(f, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	f.Fuzz(func(t *testing.T, expr string) {
		r, err := Compile(store.Filter{Name: "fuzz", Action: store.FilterArchive, Rank: 1, Expression: expr})
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("%q: error does not wrap ErrInvalid: %v", expr, err)
			}
			return
		}
		r.Match(&fd, nil)
	})
}

// FuzzCompileCriteria: any FindingCriteria JSON, Matches and NotMatches
// included, either compiles or is rejected with ErrInvalid; a compiled rule
// matches a finding carrying the fuzzed string without panicking, and a
// rule of one Matches pattern on type agrees with store.MatchWildcard.
func FuzzCompileCriteria(f *testing.F) {
	for _, s := range []struct{ js, v string }{
		{`{"criterion":{"type":{"matches":["Recon:*"]}}}`, "Recon:EC2/Portscan"},
		{`{"criterion":{"type":{"notMatches":["*Portscan","%_"]},"severity":{"gte":5}}}`, "a%_"},
		{`{"Criterion":{"service.action.dnsRequestAction.domain":{"Matches":["*.example.com"]}}}`, "x.example.com"},
		{`{"criterion":{"type":{"matches":["[*"]}}}`, "[x"},
		{`{"criterion":{"type":{"matches":["*\\*"]}}}`, `a\b`},
		{`{"criterion":{"severity":{"matches":["8*"]}}}`, "8"},
		{`{"criterion":{"type":{"matches":[""]}}}`, ""},
		{`{"criterion":{"type":{"matches":["a","b","c","d","e","f"]}}}`, "a"},
	} {
		f.Add([]byte(s.js), s.v)
	}
	tmpl := storetest.NetFinding(f, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	f.Fuzz(func(t *testing.T, js []byte, v string) {
		var c store.Criteria
		if err := json.Unmarshal(js, &c); err != nil {
			return
		}
		r, err := Compile(store.Filter{Name: "fuzz", Action: store.FilterArchive, Rank: 1, Criteria: c})
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("%s: error does not wrap ErrInvalid: %v", js, err)
			}
			return
		}
		fd := tmpl
		fd.Type = finding.Type(v)
		fd.Service.Action.DNSRequestAction = &finding.DNSRequestAction{Domain: v}
		got := r.Match(&fd, nil)
		if cond, ok := c.Criterion["type"]; ok && len(c.Criterion) == 1 && len(cond.Matches) == 1 && reflect.DeepEqual(cond, store.Condition{Matches: cond.Matches}) {
			if want := store.MatchWildcard(store.Text(cond.Matches[0]), store.Text(v)); got != want {
				t.Fatalf("type %q matches %q: rule says %v, MatchWildcard %v", v, cond.Matches[0], got, want)
			}
		}
		_ = r.Describe()
	})
}
