package suppress

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/postgres"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

var ctx = context.Background()

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// corpus returns varied findings, with a few whose strings carry NUL, invalid
// UTF-8, SQL metacharacters (LIKE's and GLOB's too), letter case and
// multi-byte characters, so that the stores' text normalisation and wildcard
// translations are exercised too.
func corpus(t *testing.T) []finding.Finding {
	fs := storetest.Corpus(t, 600, 7)
	nasty := []string{"it's", `"q"`, "a\x00b", "bad\xffbyte", "%_", "x'; DROP TABLE findings; --",
		"a[b]c", "what?", `back\slash`, "*star*", "日本語", "ÜPPER", "upper", "100%", "snake_case"}
	for i := 0; i < len(fs); i += 37 {
		n := nasty[(i/37)%len(nasty)]
		if d := fs[i].Resource.InstanceDetails; d != nil {
			d2 := *d
			d2.InstanceID = n
			fs[i].Resource.InstanceDetails = &d2
		}
		fs[i].Region = n
	}
	return fs
}

// values collects, per attribute, the values the corpus has, as strings the
// criteria take.
func values(fs []finding.Finding) map[string][]string {
	out := map[string][]string{}
	for i := range fs {
		for attr := range store.Attributes {
			var s string
			switch v := store.AttributeValue(&fs[i], attr).(type) {
			case string:
				s = v
			case float64:
				s = strconv.FormatFloat(v, 'g', -1, 64)
			case int64:
				s = strconv.FormatInt(v, 10)
			case bool:
				s = strconv.FormatBool(v)
			}
			if !slices.Contains(out[attr], s) {
				out[attr] = append(out[attr], s)
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// randomCriteria draws criteria of 1 to 3 attributes from the corpus' values
// (so that they match something) and a few values it lacks.
func randomCriteria(r *rand.Rand, vals map[string][]string) store.Criteria {
	attrs := slices.Sorted(maps.Keys(store.Attributes))
	c := store.Criteria{Criterion: map[string]store.Condition{}}
	for range 1 + r.IntN(3) {
		attr := attrs[r.IntN(len(attrs))]
		kind := store.Attributes[attr]
		pick := func() string {
			vs := vals[attr]
			if len(vs) == 0 || r.IntN(8) == 0 {
				switch kind {
				case store.KindString:
					return "absent'\x00"
				case store.KindBool:
					return "true"
				}
				return strconv.Itoa(r.IntN(10))
			}
			return vs[r.IntN(len(vs))]
		}
		var cond store.Condition
		switch op := r.IntN(6); {
		case kind == store.KindString && op >= 3:
			pats := []string{randomPattern(r, pick())}
			for len(pats) < store.MaxPatterns && r.IntN(3) == 0 {
				pats = append(pats, randomPattern(r, pick()))
			}
			if op%2 == 0 {
				cond.Matches = pats
			} else {
				cond.NotMatches = pats
			}
		case op < 2 || kind == store.KindString || kind == store.KindBool:
			list := []string{pick()}
			for r.IntN(3) == 0 {
				list = append(list, pick())
			}
			if op%2 == 0 {
				cond.Equals = list
			} else {
				cond.NotEquals = list
			}
		default:
			n, err := strconv.ParseFloat(pick(), 64)
			if err != nil {
				n = 3
			}
			v := int64(n)
			switch op {
			case 2:
				cond.GreaterThan = &v
			case 3:
				cond.GreaterThanOrEqual = &v
			case 4:
				cond.LessThan = &v
			default:
				cond.LessThanOrEqual = &v
			}
		}
		c.Criterion[attr] = cond
	}
	return c
}

// randomPattern derives a wildcard pattern from a value: the value itself, a
// prefix, suffix or middle of it between stars, its letters' case flipped (the
// stores must not fold case), or a pattern of SQL metacharacters.
func randomPattern(r *rand.Rand, v string) string {
	runes := []rune(v)
	cut := func() int { return r.IntN(len(runes) + 1) }
	switch r.IntN(9) {
	case 0:
		return "*"
	case 1:
		return []string{"%", "_", "*%*", "*_*", "*[*", `*\*`, "*?*", "[*", "*]", "**", "*日本*", "*Ü*"}[r.IntN(12)]
	case 2:
		return string(runes[:cut()]) + "*"
	case 3:
		return "*" + string(runes[cut():])
	case 4:
		i := cut()
		j := i + r.IntN(len(runes)-i+1)
		return "*" + string(runes[i:j]) + "*"
	case 5:
		i := cut()
		return string(runes[:i]) + "*" + string(runes[i:])
	case 6:
		flip := strings.Map(func(c rune) rune {
			if u := strings.ToUpper(string(c)); u != string(c) {
				return []rune(u)[0]
			}
			return []rune(strings.ToLower(string(c)))[0]
		}, v)
		return string([]rune(flip)[:min(len([]rune(flip)), 1+cut())]) + "*"
	}
	if v == "" {
		return "*"
	}
	return v
}

func listAll(t *testing.T, s store.Store, c store.Criteria) []string {
	t.Helper()
	var ids []string
	var tok store.PageToken
	for {
		p, err := s.List(ctx, c, store.Sort{Attribute: "id", Order: store.Asc}, tok, store.MaxLimit)
		if err != nil {
			t.Fatalf("list %+v: %v", c, err)
		}
		ids = append(ids, p.IDs...)
		if p.Next == "" {
			return ids
		}
		tok = p.Next
	}
}

// agree checks MatchCriteria against a store's List on generated criteria.
func agree(t *testing.T, s store.Store) {
	fs := corpus(t)
	if _, err := s.Upsert(ctx, fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	// What the store holds is what the matcher sees in production (the
	// occurrence before upsert); read it back so both judge the same findings.
	ids := make([]string, len(fs))
	for i := range fs {
		ids[i] = fs[i].ID
	}
	stored, err := s.Get(ctx, ids)
	if err != nil || len(stored) != len(fs) {
		t.Fatalf("get: %d findings, %v", len(stored), err)
	}
	vals := values(stored)
	r := rand.New(rand.NewPCG(1, 2))
	nonEmpty, patterned := 0, 0
	for i := range 400 {
		c := randomCriteria(r, vals)
		terms, err := c.Terms()
		if err != nil {
			t.Fatalf("generated criteria %d invalid: %v", i, err)
		}
		var want []string
		for j := range stored {
			if MatchCriteria(&stored[j], terms) {
				want = append(want, store.Text(stored[j].ID))
			}
		}
		slices.Sort(want)
		got := listAll(t, s, c)
		if !slices.Equal(got, want) {
			t.Fatalf("criteria %d %+v: SQL matched %d findings, MatchCriteria %d\n SQL  %v\n Go   %v", i, c.Criterion, len(got), len(want), head(got), head(want))
		}
		if len(want) > 0 && len(want) < len(stored) {
			nonEmpty++
			if len(c.PatternAttributes()) > 0 {
				patterned++
			}
		}
	}
	if nonEmpty < 100 || patterned < 50 {
		t.Errorf("only %d of 400 generated criteria (%d with patterns) selected a proper subset: the generator tests little", nonEmpty, patterned)
	}
}

func head(ids []string) []string {
	if len(ids) > 8 {
		return append(ids[:8:8], "…")
	}
	return ids
}

// TestMatchAgreesWithSQL: the in-memory matcher and both SQL stores select
// the same findings for 400 generated criteria over a varied corpus, Equals,
// NotEquals, the range operators and the Matches and NotMatches wildcards.
func TestMatchAgreesWithSQL(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { agree(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.Postgres(t)
		s, err := postgres.Open(ctx, postgres.Config{DSN: testenv.PostgresDatabase(t, dsn)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		agree(t, s)
	})
}

func criteria(attr string, cond store.Condition) store.Criteria {
	return store.Criteria{Criterion: map[string]store.Condition{attr: cond}}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		f    store.Filter
		want string
	}{
		{store.Filter{Name: "bad-attr", Action: store.FilterArchive, Rank: 1, Criteria: criteria("title", store.Condition{Eq: []string{"x"}})}, `attribute "title" is not supported`},
		{store.Filter{Name: "bad-expr", Action: store.FilterArchive, Rank: 1, Expression: "severity >= "}, "1:13"},
		{store.Filter{Name: "bad-fn", Action: store.FilterArchive, Rank: 1, Expression: "nosuch(type)"}, "nosuch"},
		{store.Filter{Name: "aggregate", Action: store.FilterArchive, Rank: 1, Expression: "count(*) > 1"}, "count"},
		{store.Filter{Name: "x", Action: store.FilterArchive, Rank: 1, Expression: "type = 'a'"}, "filter name"},
	} {
		_, err := Compile(tc.f)
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tc.f.Name, err, tc.want)
		}
	}
	_, err := Compile(store.Filter{Name: "pos", Action: store.FilterArchive, Rank: 1, Expression: "type =\n  nosuch(1)"})
	var qe *query.Error
	if !errors.As(err, &qe) {
		t.Errorf("expression error is not a *query.Error: %v", err)
	}
}

func portscan(t *testing.T, instance, ip string) finding.Finding {
	return storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", instance, ip, storetest.Base)
}

func TestEngineApply(t *testing.T) {
	s := openSQLite(t)
	actor := store.Actor{Name: "test"}
	for _, f := range []store.Filter{
		{Name: "view", Action: store.FilterNoop, Rank: 1, Criteria: criteria("type", store.Condition{Eq: []string{"Recon:EC2/Portscan"}})},
		{Name: "scanner-b", Action: store.FilterArchive, Rank: 3, Criteria: criteria("resource.instanceDetails.instanceId", store.Condition{Eq: []string{"i-scanner"}})},
		{Name: "scanner-a", Action: store.FilterArchive, Rank: 3, Criteria: criteria("resource.instanceDetails.instanceId", store.Condition{Eq: []string{"i-scanner"}})},
		{Name: "office", Action: store.FilterArchive, Rank: 2,
			Expression: `type like /^Recon:/ and isIpv4InSubnet(service.action.networkConnectionAction.remoteIpDetails.ipAddressV4, "203.0.113.0/24")`},
	} {
		if _, err := s.CreateFilter(ctx, f, 0, actor); err != nil {
			t.Fatal(err)
		}
	}
	e, err := New(Config{}, Deps{Filters: s})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Apply(ptr(portscan(t, "i-scanner", "198.51.100.1"))); got != "" {
		t.Errorf("before Reload a rule applied: %q", got)
	}
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Rules()); n != 3 {
		t.Errorf("%d ARCHIVE rules, want 3 (NOOP filters are views)", n)
	}
	for _, tc := range []struct {
		f    finding.Finding
		want string
	}{
		{portscan(t, "i-scanner", "198.51.100.1"), "scanner-a"}, // rank 3, name order
		{portscan(t, "i-web", "203.0.113.9"), "office"},         // the expression
		{portscan(t, "i-scanner", "203.0.113.9"), "office"},     // rank 2 before rank 3
		{portscan(t, "i-web", "198.51.100.1"), ""},              // only the NOOP view matches
		{storetest.APIFinding(t, "Recon:IAMUser/TorIPCaller", "111122223333", "AKIA1", "203.0.113.9", storetest.Base), ""},
	} {
		f := tc.f
		info := f.Service.AdditionalInfo
		before := maps.Clone(info)
		got := e.Apply(&f)
		if got != tc.want || f.Service.Archived != (tc.want != "") {
			t.Errorf("%s %s: rule %q archived %v, want %q", f.Type, finding.ResourceID(&f.Resource), got, f.Service.Archived, tc.want)
		}
		if tc.want != "" && f.Service.AdditionalInfo[KeySuppressedBy] != tc.want {
			t.Errorf("additionalInfo %v", f.Service.AdditionalInfo)
		}
		if !maps.Equal(info, before) {
			t.Error("Apply wrote into the finding's shared additionalInfo map")
		}
	}
	if c, a := e.Counters.Checked.Load(), e.Counters.Archived.Load(); c != 6 || a != 3 {
		t.Errorf("counters checked %d archived %d, want 6 and 3", c, a)
	}

	// Suppressed occurrences are stored archived and stay archived when they
	// recur; the suppressed-by key survives the merge.
	occ := []finding.Finding{portscan(t, "i-scanner", "198.51.100.1"), portscan(t, "i-web", "198.51.100.1")}
	if n := e.ApplyAll(occ); n != 1 {
		t.Fatalf("ApplyAll archived %d, want 1", n)
	}
	if _, err := s.Upsert(ctx, occ, storetest.Base); err != nil {
		t.Fatal(err)
	}
	again := []finding.Finding{portscan(t, "i-scanner", "198.51.100.1")}
	e.ApplyAll(again)
	if _, err := s.Upsert(ctx, again, storetest.Base+1000); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, []string{occ[0].ID, occ[1].ID})
	if err != nil || len(got) != 2 {
		t.Fatal(err)
	}
	if !got[0].Service.Archived || got[0].Service.Count != 2 || got[0].Service.AdditionalInfo[KeySuppressedBy] != "scanner-a" {
		t.Errorf("suppressed finding: archived %v count %d info %v", got[0].Service.Archived, got[0].Service.Count, got[0].Service.AdditionalInfo)
	}
	if got[1].Service.Archived {
		t.Error("unmatched finding archived")
	}

	// A rule deleted stops applying at the next reload.
	if _, err := s.DeleteFilter(ctx, "office", actor); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.Apply(ptr(portscan(t, "i-web", "203.0.113.9"))); got != "" {
		t.Errorf("deleted rule applied: %q", got)
	}
}

func ptr(f finding.Finding) *finding.Finding { return &f }

// TestEngineSkipsBadRules: a stored expression that does not compile (written
// by a newer vigil, say) is skipped and counted; the other rules apply.
func TestEngineSkipsBadRules(t *testing.T) {
	s := openSQLite(t)
	for _, f := range []store.Filter{
		{Name: "broken", Action: store.FilterArchive, Rank: 1, Expression: "futurefn(type)"},
		{Name: "fine", Action: store.FilterArchive, Rank: 2, Criteria: criteria("type", store.Condition{Eq: []string{"Recon:EC2/Portscan"}})},
	} {
		if _, err := s.CreateFilter(ctx, f, 0, store.Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := New(Config{}, Deps{Filters: s})
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if e.Counters.BadRules.Load() != 1 || len(e.Rules()) != 1 {
		t.Errorf("bad rules %d, rules %d", e.Counters.BadRules.Load(), len(e.Rules()))
	}
	if got := e.Apply(ptr(portscan(t, "i-1", "198.51.100.1"))); got != "fine" {
		t.Errorf("rule %q", got)
	}
}

type failingFilters struct{}

func (failingFilters) ListFilters(context.Context) ([]store.Filter, error) {
	return nil, errors.New("database is locked")
}

// TestEngineRun: Run fails when the first load fails, and otherwise picks up
// changes at its interval until cancelled.
func TestEngineRun(t *testing.T) {
	e, _ := New(Config{}, Deps{Filters: failingFilters{}})
	if err := e.Run(ctx); err == nil || e.Counters.ReloadErrors.Load() != 1 {
		t.Errorf("Run with a failing store: %v", err)
	}
	s := openSQLite(t)
	e, _ = New(Config{ReloadInterval: 10 * time.Millisecond}, Deps{Filters: s})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- e.Run(runCtx) }()
	if _, err := s.CreateFilter(ctx, store.Filter{Name: "later", Action: store.FilterArchive, Rank: 1,
		Criteria: criteria("severity", store.Condition{Gte: new(int64(1))})}, 0, store.Actor{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(e.Rules()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if len(e.Rules()) != 1 {
		t.Error("Run did not pick up the new filter")
	}
}

func TestPreview(t *testing.T) {
	s := openSQLite(t)
	fs := storetest.Corpus(t, 300, 3)
	if _, err := s.Upsert(ctx, fs, storetest.Base); err != nil {
		t.Fatal(err)
	}
	c := criteria("type", store.Condition{Eq: []string{"Recon:EC2/Portscan"}})
	want := int64(len(listAll(t, s, c)))
	if want == 0 {
		t.Fatal("corpus has no portscan")
	}
	r, err := Compile(store.Filter{Name: "preview-1", Action: store.FilterNoop, Rank: 1, Criteria: c})
	if err != nil {
		t.Fatal(err)
	}
	if n, complete, err := Preview(ctx, s, r, 0); err != nil || n != want || !complete {
		t.Errorf("criteria preview %d %v %v, want %d", n, complete, err, want)
	}
	r, err = Compile(store.Filter{Name: "preview-2", Action: store.FilterNoop, Rank: 1, Expression: `type = "Recon:EC2/Portscan"`})
	if err != nil {
		t.Fatal(err)
	}
	if n, complete, err := Preview(ctx, s, r, 0); err != nil || n != want || !complete {
		t.Errorf("expression preview %d %v %v, want %d", n, complete, err, want)
	}
	if n, complete, err := Preview(ctx, s, r, 100); err != nil || complete || n > want {
		t.Errorf("bounded expression preview %d %v %v", n, complete, err)
	}
}

func TestDescribe(t *testing.T) {
	r, err := Compile(store.Filter{Name: "describe", Action: store.FilterNoop, Rank: 1, Criteria: store.Criteria{Criterion: map[string]store.Condition{
		"type": {Eq: []string{"b", "a"}}, "severity": {Gte: new(int64(7))}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Describe(), "severity>=7 and type=a,b"; got != want {
		t.Errorf("Describe %q, want %q", got, want)
	}
}
