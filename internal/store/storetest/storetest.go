// Package storetest is the contract suite of store.Store: every implementation
// runs Run from its own tests, against a real database, so that the embedded
// store and the cluster store cannot drift apart. It checks behaviour against a
// reference model computed in Go (reference.go) rather than against SQL.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/retention"
)

// Opener returns a new, empty store for one test. The suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs the contract suite, each test on a store of its own.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"UpsertInsertAndMerge", testUpsertInsertAndMerge},
		{"UpsertBatchSemantics", testUpsertBatchSemantics},
		{"UpsertInvalidIsAtomic", testUpsertInvalidIsAtomic},
		{"RepeatColumns", testRepeatColumns},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Get", testGet},
		{"ListCriteria", testListCriteria},
		{"ListCriteriaErrors", testListCriteriaErrors},
		{"ListPatterns", testListPatterns},
		{"ListSortAndPages", testListSortAndPages},
		{"ListPagesWhileWriting", testListPagesWhileWriting},
		{"ArchiveAndRecurrence", testArchiveAndRecurrence},
		{"Feedback", testFeedback},
		{"Statistics", testStatistics},
		{"Retention", testRetention},
		{"RetentionComponent", testRetentionComponent},
		{"Checkpoints", testCheckpoints},
		{"CheckpointRollback", testCheckpointRollback},
		{"CheckpointGuard", testCheckpointGuard},
		{"SQLMetacharacters", testSQLMetacharacters},
		{"ContextCancel", testContextCancel},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
	t.Run("TokenFromAnotherStore", func(t *testing.T) {
		a, b := open(t), open(t)
		t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
		testTokenFromAnotherStore(t, a, b)
	})
}

var ctx = context.Background()

func upsert(t *testing.T, s store.Store, now finding.Time, fs ...finding.Finding) store.UpsertResult {
	t.Helper()
	res, err := s.Upsert(ctx, fs, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func get(t *testing.T, s store.Store, id string) *finding.Finding {
	t.Helper()
	fs, err := s.Get(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		return nil
	}
	return &fs[0]
}

// listAll follows List's pages to the end and returns every ID.
func listAll(t *testing.T, s store.Store, c store.Criteria, srt store.Sort, limit int) []string {
	t.Helper()
	var ids []string
	var tok store.PageToken
	for pages := 0; ; pages++ {
		p, err := s.List(ctx, c, srt, tok, limit)
		if err != nil {
			t.Fatalf("list %+v %+v: %v", c, srt, err)
		}
		if want := max(limit, 0); want > 0 && len(p.IDs) > want {
			t.Fatalf("page of %d IDs, limit %d", len(p.IDs), limit)
		}
		ids = append(ids, p.IDs...)
		if p.Next == "" {
			return ids
		}
		if len(p.IDs) == 0 {
			t.Fatal("empty page with a next token")
		}
		if pages > 10000 {
			t.Fatal("list does not end")
		}
		tok = p.Next
	}
}

// count returns how many findings the store holds.
func count(t *testing.T, s store.Store) int64 {
	t.Helper()
	gs, err := s.Statistics(ctx, store.StatisticsQuery{GroupBy: store.GroupByAccount})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, g := range gs {
		n += g.Total
	}
	return n
}

func eq(attr string, vals ...string) store.Criteria {
	return store.Criteria{Criterion: map[string]store.Condition{attr: {Eq: vals}}}
}

func ptr(v int64) *int64 { return &v }

func strconvG(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// sameJSON fails unless got and want marshal alike.
func sameJSON(t *testing.T, what string, got, want *finding.Finding) {
	t.Helper()
	g, w := JSON(t, got), JSON(t, want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testUpsertInsertAndMerge(t *testing.T, s store.Store) {
	f := NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-1", "198.51.100.7", Base)
	res := upsert(t, s, Base, f)
	if res.Created != 1 || res.Updated != 0 || len(res.Changes) != 1 || !res.Changes[0].Created {
		t.Fatalf("first upsert: %+v", res)
	}
	sameJSON(t, "stored finding", get(t, s, f.ID), &f)
	sameJSON(t, "change", &res.Changes[0].Finding, &f)

	// A repeat merges exactly as finding.Merge does.
	rep := NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-1", "198.51.100.7", Base+60_000)
	rep.Severity = finding.SeverityHigh
	want := Clone(t, &f)
	if err := finding.Merge(&want, &rep, Base+90_000); err != nil {
		t.Fatal(err)
	}
	res = upsert(t, s, Base+90_000, rep)
	if res.Created != 0 || res.Updated != 1 || res.Changes[0].Created {
		t.Fatalf("repeat: %+v", res)
	}
	got := get(t, s, f.ID)
	sameJSON(t, "merged finding", got, &want)
	sameJSON(t, "change", &res.Changes[0].Finding, &want)
	if got.Service.Count != 2 || got.UpdatedAt != Base+90_000 || got.CreatedAt != Base || got.Severity != finding.SeverityHigh {
		t.Errorf("count %d updatedAt %d createdAt %d severity %v", got.Service.Count, got.UpdatedAt, got.CreatedAt, got.Severity)
	}
	// The columns follow the merge: criteria see the new state.
	if ids := listAll(t, s, store.Criteria{Criterion: map[string]store.Condition{
		"service.count": {Gte: ptr(2)}, "updatedAt": {Eq: []string{strconv.FormatInt(int64(Base+90_000), 10)}}, "severity": {Gte: ptr(7)},
	}}, store.Sort{}, 0); !slices.Equal(ids, []string{f.ID}) {
		t.Errorf("list by merged columns: %v", ids)
	}
}

func testUpsertBatchSemantics(t *testing.T, s store.Store) {
	a := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	b := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-2", "198.51.100.1", Base+1000)
	a.Service.Count = 0 // counts as one
	before := [][]byte{JSON(t, &a), JSON(t, &b)}
	batch := []finding.Finding{a, b, a, a}
	res := upsert(t, s, Base+5000, batch...)
	if res.Created != 2 || res.Updated != 0 || len(res.Changes) != 2 || res.Changes[0].Finding.ID != a.ID || res.Changes[1].Finding.ID != b.ID {
		t.Fatalf("result %+v", res)
	}
	if got := get(t, s, a.ID); got.Service.Count != 3 || got.UpdatedAt != Base+5000 {
		t.Errorf("a: count %d updatedAt %d; want 3 and the merge time", got.Service.Count, got.UpdatedAt)
	}
	if got := get(t, s, b.ID); got.Service.Count != 1 || got.UpdatedAt != Base+1000 {
		t.Errorf("b: count %d updatedAt %d; want 1 and its own time", got.Service.Count, got.UpdatedAt)
	}
	// The input is read, never written (Merge appends to evidence slices).
	if !bytes.Equal(JSON(t, &batch[0]), before[0]) || !bytes.Equal(JSON(t, &batch[1]), before[1]) {
		t.Error("upsert modified its input")
	}
	// An empty batch is fine.
	if res := upsert(t, s, Base); res.Created+res.Updated != 0 || len(res.Changes) != 0 {
		t.Errorf("empty batch: %+v", res)
	}

	// An occurrence raised early and continued (finding.Finding.Continues) is
	// one occurrence, whether the two come in one batch or two; its counters
	// add up.
	early := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-3", "198.51.100.1", Base)
	early.Service.AdditionalInfo = finding.AdditionalInfo{finding.KeyVigilEvents: int64(1)}
	rest := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-3", "198.51.100.1", Base+60_000)
	rest.Service.AdditionalInfo = finding.AdditionalInfo{finding.KeyVigilEvents: int64(99)}
	rest.Continues = true
	upsert(t, s, Base+1000, early, rest)
	upsert(t, s, Base+2000, early)
	upsert(t, s, Base+70_000, rest)
	got := get(t, s, early.ID)
	if got.Service.Count != 2 || fmt.Sprint(got.Service.AdditionalInfo[finding.KeyVigilEvents]) != "200" ||
		got.Service.EventLastSeen != rest.Service.EventLastSeen {
		t.Errorf("two occurrences raised early and continued: count %d, vigilEvents %v, last seen %s; want 2, 200, %s",
			got.Service.Count, got.Service.AdditionalInfo[finding.KeyVigilEvents], got.Service.EventLastSeen, rest.Service.EventLastSeen)
	}
}

func testUpsertInvalidIsAtomic(t *testing.T, s store.Store) {
	good := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	noID := good
	noID.ID = ""
	if _, err := s.Upsert(ctx, []finding.Finding{good, noID}, Base); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("finding without ID: %v, want ErrInvalid", err)
	}
	long := good
	long.ID = strings.Repeat("a", 301)
	if _, err := s.Upsert(ctx, []finding.Finding{good, long}, Base); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("301-byte ID: %v, want ErrInvalid", err)
	}
	// A finding that cannot be encoded fails the batch inside the transaction:
	// the good finding before it must not be stored either.
	bad := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-9", "198.51.100.9", Base)
	bad.Severity = finding.Severity(math.NaN())
	if _, err := s.Upsert(ctx, []finding.Finding{good, bad}, Base); err == nil {
		t.Error("NaN severity stored")
	}
	if n := count(t, s); n != 0 {
		t.Errorf("%d findings stored by failed batches", n)
	}
}

// testConcurrentWriters has eight writers upsert the same identities at once:
// each ID is created exactly once, and no occurrence is lost.
func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, batches, ids = 8, 20, 25
	shared := make([]finding.Finding, ids)
	for i := range shared {
		shared[i] = NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-"+strconv.Itoa(i), "198.51.100.7", Base)
	}
	own := make([][]finding.Finding, writers)
	for w := range own {
		for b := range batches {
			own[w] = append(own[w], NetFinding(t, "Recon:EC2/Portscan", "111122223333", fmt.Sprintf("i-w%d-%d", w, b), "198.51.100.8", Base))
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{}
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]finding.Finding, 0, ids+1)
				for i := range shared {
					f := shared[i]
					at := Base + finding.Time(b*1000+w)
					f.Service.EventFirstSeen, f.Service.EventLastSeen, f.UpdatedAt = at, at, at
					batch = append(batch, f)
				}
				// Reverse every other batch: writers must not deadlock whatever
				// order their batches name the IDs in.
				if (w+b)%2 == 1 {
					slices.Reverse(batch)
				}
				// And one finding of the writer's own.
				batch = append(batch, own[w][b])
				res, err := s.Upsert(ctx, batch, Base+finding.Time(b*1000+w))
				if err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				mu.Lock()
				for _, ch := range res.Changes {
					if ch.Created {
						created[ch.Finding.ID]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, f := range shared {
		got := get(t, s, f.ID)
		if got == nil {
			t.Fatalf("%s missing", f.ID)
		}
		if got.Service.Count != writers*batches {
			t.Errorf("%s: count %d, want %d: occurrences lost", f.ID, got.Service.Count, writers*batches)
		}
		if want := Base + finding.Time((batches-1)*1000+writers-1); got.UpdatedAt != want || got.Service.EventLastSeen != want {
			t.Errorf("%s: updatedAt %d eventLastSeen %d, want %d", f.ID, got.UpdatedAt, got.Service.EventLastSeen, want)
		}
		if got.Service.EventFirstSeen != Base {
			t.Errorf("%s: eventFirstSeen %d, want %d", f.ID, got.Service.EventFirstSeen, Base)
		}
		if created[f.ID] != 1 {
			t.Errorf("%s reported created %d times, want once", f.ID, created[f.ID])
		}
	}
	if n := count(t, s); n != ids+writers*batches {
		t.Errorf("%d findings, want %d", n, ids+writers*batches)
	}
}

func testGet(t *testing.T, s store.Store) {
	fs := Corpus(t, 5, 1)
	upsert(t, s, Base, fs...)
	got, err := s.Get(ctx, []string{fs[3].ID, "nope", fs[1].ID, fs[3].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != fs[3].ID || got[1].ID != fs[1].ID {
		t.Fatalf("got %d findings; want fs[3], fs[1] in the order asked, once each", len(got))
	}
	sameJSON(t, "fs[3]", &got[0], &fs[3])
	if got, err := s.Get(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Get(nil) = %v, %v", got, err)
	}
	// Many IDs at once (more than one SQL IN list).
	ids := make([]string, 0, 1200)
	for i := range 1200 {
		ids = append(ids, fmt.Sprintf("%032x", i))
	}
	if got, err := s.Get(ctx, ids); err != nil || len(got) != len(fs) {
		t.Errorf("Get of 1200 IDs: %d findings, %v", len(got), err)
	}
}

// criteriaCases are criteria over the Corpus, one or more per attribute and
// operator.
func criteriaCases() []store.Criteria {
	c := func(m map[string]store.Condition) store.Criteria { return store.Criteria{Criterion: m} }
	at := strconv.FormatInt(int64(Base)+10*24*3600*1000, 10)
	return []store.Criteria{
		{},
		eq("type", "Recon:EC2/Portscan"),
		eq("type", "Recon:EC2/Portscan", "Backdoor:EC2/C&CActivity.B"),
		c(map[string]store.Condition{"type": {Neq: []string{"Recon:EC2/Portscan", "Trojan:EC2/DNSDataExfiltration"}}}),
		eq("severity", "8"),
		eq("severity", "5.5", "9"),
		c(map[string]store.Condition{"severity": {Gte: ptr(7)}}),
		c(map[string]store.Condition{"severity": {Gt: ptr(5), Lt: ptr(9)}}),
		c(map[string]store.Condition{"severity": {GreaterThanOrEqual: ptr(4), LessThanOrEqual: ptr(8)}}),
		c(map[string]store.Condition{"severity": {Neq: []string{"2"}}}),
		eq("accountId", "444455556666"),
		eq("region", "us-east-1"),
		eq("id", fmt.Sprintf("%032x", 7), fmt.Sprintf("%032x", 70)),
		eq("resource.resourceType", "AccessKey"),
		eq("resource.instanceDetails.instanceId", "i-3"),
		eq("resource.instanceDetails.instanceId", "i-1", "i-5", "i-7"),
		c(map[string]store.Condition{"resource.instanceDetails.instanceId": {Neq: []string{"i-3", ""}}}),
		eq("resource.accessKeyDetails.accessKeyId", "AKIA2"),
		eq("service.action.actionType", "DNS_REQUEST"),
		eq("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "198.51.100.3"),
		eq("service.action.networkConnectionAction.remoteIpDetails.ipAddressV4", "198.51.100.3", "198.51.100.9", ""),
		eq("service.action.awsApiCallAction.remoteIpDetails.ipAddressV4", "198.51.100.3", "198.51.100.4"),
		eq("service.action.dnsRequestAction.domain", "x1.example.org"),
		eq("service.archived", "true"),
		eq("service.archived", "FALSE"),
		c(map[string]store.Condition{"service.archived": {Neq: []string{"true"}}, "type": {Eq: []string{"UnauthorizedAccess:EC2/SSHBruteForce"}}}),
		eq("service.resourceRole", "ACTOR"),
		c(map[string]store.Condition{"service.count": {Gt: ptr(10)}}),
		eq("service.count", "3", "7"),
		c(map[string]store.Condition{"updatedAt": {Gte: ptr(int64(Base) + 10*24*3600*1000), Lt: ptr(int64(Base) + 20*24*3600*1000)}}),
		c(map[string]store.Condition{"updatedAt": {Eq: []string{at}}}),
		c(map[string]store.Condition{"createdAt": {Lte: ptr(int64(Base))}}),
		c(map[string]store.Condition{"service.eventFirstSeen": {Gt: ptr(int64(Base) + 5*24*3600*1000)}}),
		c(map[string]store.Condition{"service.eventLastSeen": {LessThan: ptr(int64(Base) + 3*24*3600*1000)}}),
		eq("service.userFeedback", "USEFUL"),
		eq("service.userFeedback", ""),
		// Operators of one attribute AND-ed, attributes AND-ed.
		c(map[string]store.Condition{
			"type":                                  {Eq: []string{"UnauthorizedAccess:EC2/SSHBruteForce", "Recon:EC2/Portscan"}},
			"severity":                              {Gte: ptr(5)},
			"service.archived":                      {Eq: []string{"false"}},
			"resource.instanceDetails.instanceId":   {Neq: []string{"i-0"}},
			"updatedAt":                             {Gt: ptr(int64(Base) + 24*3600*1000)},
			"service.count":                         {Lte: ptr(15)},
			"service.action.actionType":             {Equals: []string{"NETWORK_CONNECTION"}, NotEquals: []string{"DNS_REQUEST"}},
			"service.resourceRole":                  {Eq: []string{"TARGET"}},
			"resource.accessKeyDetails.accessKeyId": {Eq: []string{""}},
		}),
		// Eq and Equals both given: both hold.
		c(map[string]store.Condition{"type": {Eq: []string{"Recon:EC2/Portscan", "Backdoor:EC2/C&CActivity.B"}, Equals: []string{"Recon:EC2/Portscan"}}}),
		// Nothing matches.
		eq("type", "Nothing:EC2/Matches"),
	}
}

func testListCriteria(t *testing.T, s store.Store) {
	fs := Corpus(t, 400, 7)
	upsert(t, s, Base, fs...)
	for i, c := range criteriaCases() {
		for _, srt := range []store.Sort{{}, {Attribute: "updatedAt", Order: store.Asc}} {
			want := expectList(fs, c, srt)
			if got := listAll(t, s, c, srt, 37); !slices.Equal(got, want) {
				t.Errorf("criteria %d %+v, sort %+v:\n got %d IDs %v\nwant %d IDs %v", i, c.Criterion, srt, len(got), head(got), len(want), head(want))
			}
		}
	}
	// Every attribute is covered by a case above.
	covered := map[string]bool{}
	for _, c := range criteriaCases() {
		for a := range c.Criterion {
			covered[a] = true
		}
	}
	for a := range store.Attributes {
		if !covered[a] {
			t.Errorf("attribute %s has no criteria case", a)
		}
	}
}

func head(ids []string) []string {
	if len(ids) > 8 {
		return append(slices.Clip(ids[:8]), "…")
	}
	return ids
}

func testListCriteriaErrors(t *testing.T, s store.Store) {
	c := func(m map[string]store.Condition) store.Criteria { return store.Criteria{Criterion: m} }
	for _, bad := range []store.Criteria{
		eq("resource.instanceDetails.tags.key", "x"),        // not supported (yet)
		c(map[string]store.Condition{"type": {Gt: ptr(3)}}), // range on a string
		c(map[string]store.Condition{"service.archived": {Gte: ptr(1)}}),
		eq("service.archived", "yes"),
		eq("severity", "high"),
		eq("severity", "NaN"),
		eq("updatedAt", "2026-01-01T00:00:00Z"),
		eq("service.count", "1.5"),
		c(map[string]store.Condition{"type": {}}),               // no condition
		c(map[string]store.Condition{"type": {Eq: []string{}}}), // empty list
	} {
		if _, err := s.List(ctx, bad, store.Sort{}, "", 0); !errors.Is(err, store.ErrInvalidCriteria) {
			t.Errorf("List(%+v) = %v, want ErrInvalidCriteria", bad.Criterion, err)
		}
		if _, err := s.Statistics(ctx, store.StatisticsQuery{Criteria: bad, GroupBy: store.GroupByType}); !errors.Is(err, store.ErrInvalidCriteria) {
			t.Errorf("Statistics(%+v) = %v, want ErrInvalidCriteria", bad.Criterion, err)
		}
	}
	for _, srt := range []store.Sort{{Attribute: "title"}, {Attribute: "severity", Order: "UP"}} {
		if _, err := s.List(ctx, store.Criteria{}, srt, "", 0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("List sorted by %+v = %v, want ErrInvalid", srt, err)
		}
	}
	for _, limit := range []int{-1, store.MaxLimit + 1} {
		if _, err := s.List(ctx, store.Criteria{}, store.Sort{}, "", limit); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("List limit %d = %v, want ErrInvalid", limit, err)
		}
	}
}

func testListSortAndPages(t *testing.T, s store.Store) {
	fs := Corpus(t, 300, 11)
	upsert(t, s, Base, fs...)
	crit := store.Criteria{Criterion: map[string]store.Condition{"service.archived": {Eq: []string{"false"}}}}
	for _, attr := range slices.Sorted(func(yield func(string) bool) {
		for a := range store.Attributes {
			if !yield(a) {
				return
			}
		}
	}) {
		for _, order := range []store.Order{store.Asc, store.Desc} {
			srt := store.Sort{Attribute: attr, Order: order}
			// Small pages on a few attributes, larger ones on the rest (a
			// sort by an unindexed attribute sorts the matches for every page).
			limit := 29
			if attr == "updatedAt" || attr == "severity" || attr == "type" {
				limit = 4
			}
			want := expectList(fs, crit, srt)
			if got := listAll(t, s, crit, srt, limit); !slices.Equal(got, want) {
				t.Errorf("sort %s %s:\n got %v\nwant %v", attr, order, head(got), head(want))
			}
		}
	}
	// The default: updatedAt, newest first; DefaultLimit per page.
	p, err := s.List(ctx, store.Criteria{}, store.Sort{}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := expectList(fs, store.Criteria{}, store.DefaultSort)[:store.DefaultLimit]; !slices.Equal(p.IDs, want) || p.Next == "" {
		t.Errorf("default list: %v (next %q), want %v", head(p.IDs), p.Next, head(want))
	}

	// Tokens are opaque and tamper-evident.
	tok := p.Next
	for name, bad := range map[string]store.PageToken{
		"garbage":   "not a token!",
		"empty-ish": "AAAA",
		"truncated": tok[:len(tok)-3],
		"tampered":  tamper(tok),
	} {
		if _, err := s.List(ctx, store.Criteria{}, store.Sort{}, bad, 0); !errors.Is(err, store.ErrInvalidToken) {
			t.Errorf("%s token: %v, want ErrInvalidToken", name, err)
		}
	}
	// A token continues only the query it was issued for.
	if _, err := s.List(ctx, eq("type", "Recon:EC2/Portscan"), store.Sort{}, tok, 0); !errors.Is(err, store.ErrInvalidToken) {
		t.Errorf("token with other criteria: %v, want ErrInvalidToken", err)
	}
	if _, err := s.List(ctx, store.Criteria{}, store.Sort{Attribute: "updatedAt", Order: store.Asc}, tok, 0); !errors.Is(err, store.ErrInvalidToken) {
		t.Errorf("token with another sort: %v, want ErrInvalidToken", err)
	}
	// The same query spelt differently is the same query.
	if _, err := s.List(ctx, store.Criteria{Criterion: map[string]store.Condition{}}, store.Sort{Attribute: "updatedAt", Order: "desc"}, tok, 0); err != nil {
		t.Errorf("token with an equal query: %v", err)
	}
}

// tamper changes one character in the middle of a token.
func tamper(tok store.PageToken) store.PageToken {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return store.PageToken(b)
}

func testTokenFromAnotherStore(t *testing.T, a, b store.Store) {
	fs := Corpus(t, 20, 3)
	upsert(t, a, Base, fs...)
	upsert(t, b, Base, fs...)
	p, err := a.List(ctx, store.Criteria{}, store.Sort{}, "", 5)
	if err != nil || p.Next == "" {
		t.Fatalf("list: %v %+v", err, p)
	}
	if _, err := b.List(ctx, store.Criteria{}, store.Sort{}, p.Next, 5); !errors.Is(err, store.ErrInvalidToken) {
		t.Errorf("another store's token: %v, want ErrInvalidToken", err)
	}
}

// testListPagesWhileWriting checks the keyset promise: findings that move
// while a client pages are never listed twice.
func testListPagesWhileWriting(t *testing.T, s store.Store) {
	fs := Corpus(t, 100, 5)
	upsert(t, s, Base, fs...)
	seen := map[string]bool{}
	var tok store.PageToken
	for page := 0; ; page++ {
		p, err := s.List(ctx, store.Criteria{}, store.Sort{}, tok, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range p.IDs {
			if seen[id] {
				t.Fatalf("page %d lists %s again", page, id)
			}
			seen[id] = true
		}
		// Everything just listed recurs, and so moves to the top.
		var rep []finding.Finding
		for i := range fs {
			if slices.Contains(p.IDs, store.Text(fs[i].ID)) {
				rep = append(rep, fs[i])
			}
		}
		upsert(t, s, Base+finding.Time(365*24*3600*1000+page), rep...)
		if p.Next == "" {
			break
		}
		tok = p.Next
	}
	if len(seen) != len(fs) {
		t.Errorf("listed %d of %d findings that stayed in place", len(seen), len(fs))
	}
}

func testArchiveAndRecurrence(t *testing.T, s store.Store) {
	a := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	b := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-2", "198.51.100.1", Base)
	c := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-3", "198.51.100.1", Base)
	upsert(t, s, Base, a, b, c)
	n, err := s.Archive(ctx, []string{a.ID, b.ID, "missing", a.ID})
	if err != nil || n != 2 {
		t.Fatalf("Archive = %d, %v; want 2", n, err)
	}
	if got := get(t, s, a.ID); !got.Service.Archived || got.UpdatedAt != Base {
		t.Errorf("archived %v updatedAt %d: want archived, updatedAt unchanged", got.Service.Archived, got.UpdatedAt)
	}
	if ids := listAll(t, s, eq("service.archived", "true"), store.Sort{Attribute: "id", Order: store.Asc}, 0); !slices.Equal(ids, sortedIDs(a, b)) {
		t.Errorf("archived list %v", ids)
	}

	// A recurrence that no rule suppressed makes a manually archived finding
	// current again; a suppressed one (archived upstream) keeps it archived.
	supp := b
	supp.Service.Archived = true
	res := upsert(t, s, Base+1000, a, supp)
	for _, ch := range res.Changes {
		switch ch.Finding.ID {
		case a.ID:
			if !ch.Unarchived || ch.Finding.Service.Archived {
				t.Errorf("recurrence of archived a: unarchived %v archived %v", ch.Unarchived, ch.Finding.Service.Archived)
			}
		case b.ID:
			if ch.Unarchived || !ch.Finding.Service.Archived {
				t.Errorf("suppressed recurrence of b: unarchived %v archived %v", ch.Unarchived, ch.Finding.Service.Archived)
			}
		}
	}
	if got := get(t, s, a.ID); got.Service.Archived || got.Service.Count != 2 {
		t.Errorf("a: archived %v count %d", got.Service.Archived, got.Service.Count)
	}
	if got := get(t, s, b.ID); !got.Service.Archived {
		t.Error("b: suppressed recurrence unarchived it")
	}
	n, err = s.Unarchive(ctx, []string{b.ID, c.ID})
	if err != nil || n != 2 {
		t.Fatalf("Unarchive = %d, %v", n, err)
	}
	if ids := listAll(t, s, eq("service.archived", "true"), store.Sort{}, 0); len(ids) != 0 {
		t.Errorf("still archived: %v", ids)
	}
	if n, err := s.Archive(ctx, nil); err != nil || n != 0 {
		t.Errorf("Archive(nil) = %d, %v", n, err)
	}
}

func sortedIDs(fs ...finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	return ids
}

func testFeedback(t *testing.T, s store.Store) {
	a := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	upsert(t, s, Base, a)
	n, err := s.Feedback(ctx, []string{a.ID, "missing"}, store.FeedbackNotUseful, "scanner of the security team")
	if err != nil || n != 1 {
		t.Fatalf("Feedback = %d, %v", n, err)
	}
	if got := get(t, s, a.ID); got.Service.UserFeedback != "NOT_USEFUL" {
		t.Errorf("feedback %q", got.Service.UserFeedback)
	}
	// Recurrence keeps the user's feedback.
	res := upsert(t, s, Base+1, a)
	if got := get(t, s, a.ID); got.Service.UserFeedback != "NOT_USEFUL" || res.Changes[0].Finding.Service.UserFeedback != "NOT_USEFUL" {
		t.Errorf("feedback after recurrence %q", got.Service.UserFeedback)
	}
	if ids := listAll(t, s, eq("service.userFeedback", "NOT_USEFUL"), store.Sort{}, 0); !slices.Equal(ids, []string{a.ID}) {
		t.Errorf("list by feedback: %v", ids)
	}
	if _, err := s.Feedback(ctx, []string{a.ID}, "MEH", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("feedback MEH: %v, want ErrInvalid", err)
	}
}

func testStatistics(t *testing.T, s store.Store) {
	fs := Corpus(t, 300, 13)
	upsert(t, s, Base, fs...)
	for _, g := range []store.GroupBy{store.GroupBySeverity, store.GroupByType, store.GroupByAccount, store.GroupByDate, store.GroupByResource} {
		for _, q := range []store.StatisticsQuery{
			{GroupBy: g},
			{GroupBy: g, Order: store.Asc},
			{GroupBy: g, Limit: 3},
			{GroupBy: g, Criteria: eq("service.archived", "false")},
			{GroupBy: g, Criteria: store.Criteria{Criterion: map[string]store.Condition{"severity": {Gte: ptr(7)}}}, Order: store.Asc, Limit: 2},
		} {
			got, err := s.Statistics(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if want := expectStats(fs, q); !slices.Equal(got, want) {
				t.Errorf("statistics %+v:\n got %+v\nwant %+v", q, got, want)
			}
		}
	}
	for _, bad := range []store.StatisticsQuery{{GroupBy: "COLOUR"}, {GroupBy: store.GroupByType, Order: "UP"}, {GroupBy: store.GroupByType, Limit: -1}} {
		if _, err := s.Statistics(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("statistics %+v: %v, want ErrInvalid", bad, err)
		}
	}
}

func testRetention(t *testing.T, s store.Store) {
	// More than one delete chunk (5,000) of old findings.
	const old, fresh = 5100, 50
	batch := make([]finding.Finding, 0, 1000)
	tmpl := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	for i := range old + fresh {
		f := tmpl
		f.ID = fmt.Sprintf("%032x", i)
		f.UpdatedAt = Base + finding.Time(i)
		if i >= old {
			f.UpdatedAt = Base + 100*24*3600*1000
		}
		batch = append(batch, f)
		if len(batch) == cap(batch) || i == old+fresh-1 {
			upsert(t, s, Base, batch...)
			batch = batch[:0]
		}
	}
	n, err := s.DeleteOlderThan(ctx, Base+old)
	if err != nil || n != old {
		t.Fatalf("DeleteOlderThan = %d, %v; want %d", n, err, old)
	}
	if c := count(t, s); c != fresh {
		t.Errorf("%d findings left, want %d", c, fresh)
	}
	if n, err := s.DeleteOlderThan(ctx, Base+old); err != nil || n != 0 {
		t.Errorf("second DeleteOlderThan = %d, %v", n, err)
	}
}

func testRetentionComponent(t *testing.T, s store.Store) {
	now := Base.Time().Add(100 * 24 * time.Hour)
	oldF := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	newF := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-2", "198.51.100.1", finding.TimeOf(now.Add(-time.Hour)))
	upsert(t, s, Base, oldF, newF)
	r, err := retention.New(retention.Config{Every: 10 * time.Millisecond}, retention.Deps{Store: s, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for get(t, s, oldF.ID) != nil {
		if time.Now().After(deadline) {
			t.Fatal("retention did not delete the 100-day-old finding")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if get(t, s, newF.ID) == nil {
		t.Error("retention deleted a finding an hour old")
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	if _, ok, err := s.GetCheckpoint(ctx, "s3://bucket/flow"); err != nil || ok {
		t.Fatalf("missing checkpoint: ok %v err %v", ok, err)
	}
	if err := s.PutCheckpoint(ctx, store.Checkpoint{Source: "s3://bucket/flow", Position: []byte("key-0001#17")}); err != nil {
		t.Fatal(err)
	}
	f := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	if _, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{f}, Base, store.Checkpoint{Source: "s3://bucket/flow", Position: []byte("key-0002#3")}); err != nil {
		t.Fatal(err)
	}
	if pos, ok, err := s.GetCheckpoint(ctx, "s3://bucket/flow"); err != nil || !ok || string(pos) != "key-0002#3" {
		t.Errorf("checkpoint %q %v %v", pos, ok, err)
	}
	if get(t, s, f.ID) == nil {
		t.Error("finding of the checkpointed batch missing")
	}
	// No findings, only progress; a binary position; an empty one.
	bin := []byte{0, 1, 2, 0xff, '\'', 0}
	if _, err := s.UpsertWithCheckpoint(ctx, nil, Base, store.Checkpoint{Source: "file", Position: bin}); err != nil {
		t.Fatal(err)
	}
	if pos, ok, _ := s.GetCheckpoint(ctx, "file"); !ok || !bytes.Equal(pos, bin) {
		t.Errorf("binary position %q", pos)
	}
	if err := s.PutCheckpoint(ctx, store.Checkpoint{Source: "file"}); err != nil {
		t.Fatal(err)
	}
	if pos, ok, _ := s.GetCheckpoint(ctx, "file"); !ok || len(pos) != 0 {
		t.Errorf("empty position %q ok %v", pos, ok)
	}
}

// testCheckpointRollback: a batch that fails leaves its checkpoint where it was.
func testCheckpointRollback(t *testing.T, s store.Store) {
	if err := s.PutCheckpoint(ctx, store.Checkpoint{Source: "src", Position: []byte("10")}); err != nil {
		t.Fatal(err)
	}
	good := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	bad := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-2", "198.51.100.1", Base)
	bad.UpdatedAt = finding.Time(math.MaxInt64) // year 292278994: cannot be encoded
	if _, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{good, bad}, Base, store.Checkpoint{Source: "src", Position: []byte("20")}); err == nil {
		t.Fatal("batch with an unencodable finding committed")
	}
	if pos, _, _ := s.GetCheckpoint(ctx, "src"); string(pos) != "10" {
		t.Errorf("checkpoint moved to %q by a failed batch", pos)
	}
	if get(t, s, good.ID) != nil {
		t.Error("failed batch stored a finding")
	}
}

func testCheckpointGuard(t *testing.T, s store.Store) {
	f := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	cp := func(pos string, expect []byte) store.Checkpoint {
		return store.Checkpoint{Source: "stream/p0", Position: []byte(pos), Guarded: true, Expect: expect}
	}
	// Expect nil: the source must have no checkpoint yet.
	if _, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{f}, Base, cp("120", nil)); err != nil {
		t.Fatal(err)
	}
	// Replaying the same batch (expecting the old position) is refused whole.
	if _, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{f}, Base, cp("120", nil)); !errors.Is(err, store.ErrCheckpointConflict) {
		t.Errorf("replay: %v, want ErrCheckpointConflict", err)
	}
	if _, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{f}, Base, cp("130", []byte("110"))); !errors.Is(err, store.ErrCheckpointConflict) {
		t.Errorf("stale expectation: %v, want ErrCheckpointConflict", err)
	}
	if got := get(t, s, f.ID); got.Service.Count != 1 {
		t.Errorf("refused batches were applied: count %d", got.Service.Count)
	}
	if _, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{f}, Base, cp("130", []byte("120"))); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, f.ID); got.Service.Count != 2 {
		t.Errorf("count %d after the next batch, want 2", got.Service.Count)
	}
	if err := s.PutCheckpoint(ctx, cp("140", []byte("999"))); !errors.Is(err, store.ErrCheckpointConflict) {
		t.Errorf("PutCheckpoint with a stale expectation: %v", err)
	}
	if err := s.PutCheckpoint(ctx, store.Checkpoint{Source: "other", Guarded: true, Expect: []byte("1")}); !errors.Is(err, store.ErrCheckpointConflict) {
		t.Errorf("guarded write expecting a position of a source without one: %v", err)
	}

	// Two writers racing on one source with the same expectation: one wins.
	g := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-race", "198.51.100.1", Base)
	var wg sync.WaitGroup
	var won, lost int
	var mu sync.Mutex
	for w := range 8 {
		wg.Go(func() {
			_, err := s.UpsertWithCheckpoint(ctx, []finding.Finding{g}, Base, cp("w"+strconv.Itoa(w), []byte("130")))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrCheckpointConflict):
				lost++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != 7 {
		t.Errorf("%d writers won, %d lost; want 1 and 7", won, lost)
	}
	if got := get(t, s, g.ID); got == nil || got.Service.Count != 1 {
		t.Errorf("racing batches applied more than once: %+v", got)
	}
}

// hostile are strings that break SQL built by concatenation, LIKE patterns,
// parameter markers, PostgreSQL's text type (NUL, invalid UTF-8), or display.
var hostile = []string{
	`'; DROP TABLE findings; --`,
	`" OR "1"="1`,
	`') OR 1=1 --`,
	`%_\%\\_`,
	`$1 ?1 ?NNN :name @p $$quoted$$`,
	"nul\x00byte",
	"bad utf8 \xff\xfe\xc3",
	"<script>alert(1)</script>",
	"ünïcødé 🦀 \u202e",
	strings.Repeat("long ", 2000),
	"",
}

// stringFields sets each string attribute of store.Attributes on a finding.
var stringFields = map[string]func(f *finding.Finding, v string){
	"accountId":                           func(f *finding.Finding, v string) { f.AccountID = v },
	"region":                              func(f *finding.Finding, v string) { f.Region = v },
	"type":                                func(f *finding.Finding, v string) { f.Type = finding.Type(v) },
	"resource.resourceType":               func(f *finding.Finding, v string) { f.Resource.ResourceType = finding.ResourceType(v) },
	"resource.instanceDetails.instanceId": func(f *finding.Finding, v string) { f.Resource.InstanceDetails.InstanceID = v },
	"resource.accessKeyDetails.accessKeyId": func(f *finding.Finding, v string) {
		f.Resource.AccessKeyDetails = &finding.AccessKeyDetails{AccessKeyID: v}
	},
	"service.action.actionType": func(f *finding.Finding, v string) { f.Service.Action.ActionType = finding.ActionType(v) },
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": func(f *finding.Finding, v string) {
		f.Service.Action.NetworkConnectionAction.RemoteIPDetails.IPAddressV4 = v
	},
	"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4": func(f *finding.Finding, v string) {
		f.Service.Action.AWSAPICallAction = &finding.AWSAPICallAction{RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: v}}
	},
	"service.action.dnsRequestAction.domain": func(f *finding.Finding, v string) {
		f.Service.Action.DNSRequestAction = &finding.DNSRequestAction{Domain: v}
	},
	"service.resourceRole": func(f *finding.Finding, v string) { f.Service.ResourceRole = finding.ResourceRole(v) },
	"service.userFeedback": func(f *finding.Finding, v string) { f.Service.UserFeedback = v },
}

func testSQLMetacharacters(t *testing.T, s store.Store) {
	for a, k := range store.Attributes {
		if _, ok := stringFields[a]; !ok && k == store.KindString && a != "id" {
			t.Fatalf("string attribute %s has no setter in stringFields", a)
		}
	}
	var fs []finding.Finding
	for i, h := range hostile {
		tmpl := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
		// Strings that no column holds, too.
		tmpl.Title, tmpl.Description = h, h
		tmpl.Resource.InstanceDetails.Tags = []finding.Tag{{Key: h, Value: h}}
		tmpl.Service.AdditionalInfo = finding.AdditionalInfo{h: h}
		tmpl.Evidence = []finding.EvidenceRecord{finding.NewEvidence(Base, "flow", h, []byte(h))}
		for _, attr := range slices.Sorted(func(yield func(string) bool) {
			for a := range stringFields {
				if !yield(a) {
					return
				}
			}
		}) {
			f := Clone(t, &tmpl)
			stringFields[attr](&f, h)
			f.ID = fmt.Sprintf("h%02d-%s", i, attr)
			fs = append(fs, f)
		}
		if h != "" && len(h) <= 300 {
			f := Clone(t, &tmpl)
			f.ID = h // an ID is any string of 1–300 bytes
			fs = append(fs, f)
		}
	}
	upsert(t, s, Base, fs...)
	if n := count(t, s); n != int64(len(fs)) {
		t.Fatalf("%d findings stored, want %d", n, len(fs))
	}
	// Every finding comes back as its JSON says (JSON itself replaces invalid
	// UTF-8), and every criterion finds exactly what the reference finds.
	for i := range fs {
		want := Clone(t, &fs[i])
		want.ID = store.Text(want.ID)
		// The user's feedback is a column, kept as store.Text keeps strings.
		want.Service.UserFeedback = store.Text(fs[i].Service.UserFeedback)
		got := get(t, s, fs[i].ID)
		if got == nil {
			t.Errorf("finding %q not found by its ID", fs[i].ID)
			continue
		}
		sameJSON(t, "hostile finding "+strconv.Quote(fs[i].ID), got, &want)
	}
	for _, h := range hostile {
		for attr := range stringFields {
			c := eq(attr, h)
			if got, want := listAll(t, s, c, store.Sort{Attribute: "id", Order: store.Asc}, 50), expectList(fs, c, store.Sort{Attribute: "id", Order: store.Asc}); !slices.Equal(got, want) {
				t.Errorf("%s = %q:\n got %v\nwant %v", attr, h, head(got), head(want))
			}
		}
		c := store.Criteria{Criterion: map[string]store.Condition{"type": {Neq: []string{h}}}}
		if got, want := listAll(t, s, c, store.Sort{}, 0), expectList(fs, c, store.Sort{}); !slices.Equal(got, want) {
			t.Errorf("type Neq %q: %d IDs, want %d", h, len(got), len(want))
		}
		// Checkpoint sources and positions.
		src := "cp " + h
		if err := s.PutCheckpoint(ctx, store.Checkpoint{Source: src, Position: []byte(h)}); err != nil {
			t.Fatal(err)
		}
		if pos, ok, err := s.GetCheckpoint(ctx, src); err != nil || !ok || string(pos) != h {
			t.Errorf("checkpoint %q: %q %v %v", src, pos, ok, err)
		}
	}
	// Feedback comments are free text.
	for _, h := range hostile {
		if _, err := s.Feedback(ctx, []string{h}, store.FeedbackUseful, h); err != nil {
			t.Errorf("feedback with comment %q: %v", h, err)
		}
	}
	// Sorting by a hostile column pages correctly too.
	for _, attr := range []string{"type", "region", "resource.instanceDetails.instanceId"} {
		srt := store.Sort{Attribute: attr, Order: store.Asc}
		if got, want := listAll(t, s, store.Criteria{}, srt, 9), expectList(fs, store.Criteria{}, srt); !slices.Equal(got, want) {
			t.Errorf("sort by %s: %v\nwant %v", attr, head(got), head(want))
		}
	}
	// The tables are all still there.
	if n := count(t, s); n != int64(len(fs)) {
		t.Errorf("%d findings after the hostile queries, want %d", n, len(fs))
	}
}

func testContextCancel(t *testing.T, s store.Store) {
	f := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Upsert(cancelled, []finding.Finding{f}, Base); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert: %v, want context.Canceled", err)
	}
	if _, err := s.UpsertWithCheckpoint(cancelled, []finding.Finding{f}, Base, store.Checkpoint{Source: "x", Position: []byte("1")}); !errors.Is(err, context.Canceled) {
		t.Errorf("UpsertWithCheckpoint: %v, want context.Canceled", err)
	}
	if get(t, s, f.ID) != nil {
		t.Error("cancelled upsert stored the finding")
	}
	if _, ok, _ := s.GetCheckpoint(ctx, "x"); ok {
		t.Error("cancelled upsert stored the checkpoint")
	}
	upsert(t, s, Base, f)
	calls := map[string]func() error{
		"Get":  func() error { _, err := s.Get(cancelled, []string{f.ID}); return err },
		"List": func() error { _, err := s.List(cancelled, store.Criteria{}, store.Sort{}, "", 0); return err },
		"Statistics": func() error {
			_, err := s.Statistics(cancelled, store.StatisticsQuery{GroupBy: store.GroupByType})
			return err
		},
		"Archive":         func() error { _, err := s.Archive(cancelled, []string{f.ID}); return err },
		"Feedback":        func() error { _, err := s.Feedback(cancelled, []string{f.ID}, store.FeedbackUseful, ""); return err },
		"DeleteOlderThan": func() error { _, err := s.DeleteOlderThan(cancelled, Base+1); return err },
		"GetCheckpoint":   func() error { _, _, err := s.GetCheckpoint(cancelled, "x"); return err },
		"PutCheckpoint":   func() error { return s.PutCheckpoint(cancelled, store.Checkpoint{Source: "x"}) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want context.Canceled", name, err)
		}
	}
	if got := get(t, s, f.ID); got == nil || got.Service.Archived {
		t.Errorf("cancelled calls changed the finding: %+v", got)
	}

	// A cancel in the middle of a big batch leaves all of it or none.
	big := Corpus(t, 3000, 17)
	for i := range big {
		big[i].ID = "big-" + big[i].ID
	}
	for _, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		before := count(t, s)
		c, cancel := context.WithCancel(ctx)
		time.AfterFunc(delay, cancel)
		_, err := s.Upsert(c, big, Base)
		cancel()
		after := count(t, s)
		switch {
		case err == nil && after-before != int64(len(big)):
			t.Errorf("delay %s: committed, but %d new findings, want %d", delay, after-before, len(big))
		case err != nil && after != before:
			t.Errorf("delay %s: failed (%v), yet %d findings were added", delay, err, after-before)
		case err != nil && !errors.Is(err, context.Canceled):
			t.Errorf("delay %s: %v, want context.Canceled", delay, err)
		}
		if err == nil {
			break // the batch is in; cancelling later ones tests nothing new
		}
	}
}

func testClosed(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f := NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.1", Base)
	if _, err := s.Upsert(ctx, []finding.Finding{f}, Base); err == nil {
		t.Error("Upsert after Close succeeded")
	}
	if _, err := s.Get(ctx, []string{f.ID}); err == nil {
		t.Error("Get after Close succeeded")
	}
}
