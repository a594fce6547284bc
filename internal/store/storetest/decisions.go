package storetest

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
)

// DecisionsOpener returns a new, empty store for one test of the decisions
// contract; it closes the store itself (t.Cleanup).
type DecisionsOpener func(t *testing.T) store.Decisions

// RunDecisions runs the contract suite of store.Decisions (the responders'
// decisions and their audit trail), each test on a store of its own.
func RunDecisions(t *testing.T, open DecisionsOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Decisions)
	}{
		{"PutAndExtend", testDecisionPutAndExtend},
		{"PutInvalidIsAtomic", testDecisionPutInvalid},
		{"Normalised", testDecisionNormalised},
		{"Expire", testDecisionExpire},
		{"ConcurrentExpire", testDecisionConcurrentExpire},
		{"ConcurrentPut", testDecisionConcurrentPut},
		{"Delete", testDecisionDelete},
		{"ListOrderFilterPages", testDecisionList},
		{"CountAndOldest", testDecisionCountOldest},
		{"Audit", testDecisionAudit},
		{"Metacharacters", testDecisionMetacharacters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// decisionT0 is the wall clock of the decision tests.
var decisionT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func dec(target, prefix string, expires time.Duration) store.Decision {
	return store.Decision{Target: target, Prefix: netip.MustParsePrefix(prefix), Origin: "rule:test",
		Reason: "test block", FindingID: "f1", FindingType: "Recon:EC2/Portscan", Severity: 5,
		ExpiresAt: decisionT0.Add(expires)}
}

func put(t *testing.T, s store.Decisions, now time.Time, ds ...store.Decision) []store.DecisionChange {
	t.Helper()
	cs, err := s.PutDecisions(ctx, ds, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(ds) {
		t.Fatalf("%d changes for %d decisions", len(cs), len(ds))
	}
	return cs
}

func listDecisions(t *testing.T, s store.Decisions, f store.DecisionFilter) []string {
	t.Helper()
	ds, err := s.ListDecisions(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Target + " " + d.Prefix.String()
	}
	return out
}

func auditActions(t *testing.T, s store.Decisions, f store.DecisionAuditFilter) []string {
	t.Helper()
	es, err := s.ListDecisionAudit(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Action) + " " + e.Target + " " + e.Prefix.String()
	}
	return out
}

func testDecisionPutAndExtend(t *testing.T, s store.Decisions) {
	cs := put(t, s, decisionT0, dec("nft", "198.51.100.7/32", time.Hour))
	c := cs[0]
	if !c.Created || c.Decision.Hits != 1 || !c.Decision.CreatedAt.Equal(decisionT0) || !c.Decision.ExpiresAt.Equal(decisionT0.Add(time.Hour)) {
		t.Fatalf("first put: %+v", c)
	}
	if c.Decision.FindingType != "Recon:EC2/Portscan" || c.Decision.Severity != 5 || c.Decision.Origin != "rule:test" {
		t.Errorf("fields not kept: %+v", c.Decision)
	}

	// A repeat ten minutes later with a later expiry extends.
	later := dec("nft", "198.51.100.7/32", 3*time.Hour)
	later.Reason, later.FindingID, later.Severity = "again", "f2", 8
	c = put(t, s, decisionT0.Add(10*time.Minute), later)[0]
	if c.Created || c.Decision.Hits != 2 || !c.Decision.CreatedAt.Equal(decisionT0) ||
		!c.Decision.UpdatedAt.Equal(decisionT0.Add(10*time.Minute)) || !c.Decision.ExpiresAt.Equal(decisionT0.Add(3*time.Hour)) {
		t.Fatalf("extension: %+v", c)
	}
	if c.Decision.Reason != "again" || c.Decision.FindingID != "f2" || c.Decision.Severity != 8 {
		t.Errorf("extension keeps the old reason/finding: %+v", c.Decision)
	}

	// A repeat with an earlier expiry never shortens the block.
	c = put(t, s, decisionT0.Add(20*time.Minute), dec("nft", "198.51.100.7/32", 30*time.Minute))[0]
	if c.Created || c.Decision.Hits != 3 || !c.Decision.ExpiresAt.Equal(decisionT0.Add(3*time.Hour)) {
		t.Fatalf("shorter repeat: %+v", c)
	}

	// The same prefix on another target is another decision.
	if c := put(t, s, decisionT0, dec("waf", "198.51.100.7/32", time.Hour))[0]; !c.Created {
		t.Errorf("other target: %+v", c)
	}

	// After it expired (and before the expiry loop ran), a put starts afresh.
	at := decisionT0.Add(4 * time.Hour)
	fresh := dec("nft", "198.51.100.7/32", 5*time.Hour)
	c = put(t, s, at, fresh)[0]
	if !c.Created || c.Decision.Hits != 1 || !c.Decision.CreatedAt.Equal(at) || !c.Decision.ExpiresAt.Equal(fresh.ExpiresAt) {
		t.Fatalf("put after expiry: %+v", c)
	}

	got := auditActions(t, s, store.DecisionAuditFilter{Target: "nft"})
	want := []string{"add nft 198.51.100.7/32", "extend nft 198.51.100.7/32", "extend nft 198.51.100.7/32", "add nft 198.51.100.7/32"}
	slices.Reverse(want) // newest first
	if !slices.Equal(got, want) {
		t.Errorf("audit %q, want %q", got, want)
	}
}

func testDecisionPutInvalid(t *testing.T, s store.Decisions) {
	bad := []store.Decision{
		{Prefix: netip.MustParsePrefix("198.51.100.1/32"), Origin: "x", ExpiresAt: decisionT0.Add(time.Hour)},
		{Target: "nft", Origin: "x", ExpiresAt: decisionT0.Add(time.Hour)},
		{Target: "nft", Prefix: netip.MustParsePrefix("198.51.100.1/32"), ExpiresAt: decisionT0.Add(time.Hour)},
		dec("nft", "198.51.100.1/32", 0),
		dec("nft", "198.51.100.1/32", -time.Minute),
	}
	for i, b := range bad {
		_, err := s.PutDecisions(ctx, []store.Decision{dec("nft", "198.51.100.2/32", time.Hour), b}, decisionT0)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bad decision %d: %v, want ErrInvalid", i, err)
		}
	}
	if got := listDecisions(t, s, store.DecisionFilter{}); len(got) != 0 {
		t.Errorf("a failed put wrote %q", got)
	}
	if got := auditActions(t, s, store.DecisionAuditFilter{}); len(got) != 0 {
		t.Errorf("a failed put audited %q", got)
	}
}

func testDecisionNormalised(t *testing.T, s store.Decisions) {
	put(t, s, decisionT0, dec("nft", "198.51.100.7/24", time.Hour), dec("nft", "::ffff:203.0.113.9/128", time.Hour),
		dec("nft", "2001:db8::1/32", time.Hour))
	got := listDecisions(t, s, store.DecisionFilter{})
	want := []string{"nft 198.51.100.0/24", "nft 203.0.113.9/32", "nft 2001:db8::/32"}
	if !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
	// The mapped form finds the IPv4 decision.
	if got := listDecisions(t, s, store.DecisionFilter{Contains: netip.MustParsePrefix("::ffff:203.0.113.9/128")}); !slices.Equal(got, []string{"nft 203.0.113.9/32"}) {
		t.Errorf("mapped lookup: %q", got)
	}
}

func testDecisionExpire(t *testing.T, s store.Decisions) {
	put(t, s, decisionT0,
		dec("nft", "198.51.100.1/32", 3*time.Minute),
		dec("nft", "198.51.100.2/32", 1*time.Minute),
		dec("waf", "198.51.100.3/32", 2*time.Minute),
		dec("nft", "198.51.100.4/32", time.Hour))
	if _, err := s.ExpireDecisions(ctx, decisionT0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit 0: %v", err)
	}
	got, err := s.ExpireDecisions(ctx, decisionT0.Add(30*time.Second), 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("nothing is due yet: %v %v", got, err)
	}
	// At exactly its expiry a decision is due.
	now := decisionT0.Add(3 * time.Minute)
	got, err = s.ExpireDecisions(ctx, now, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Prefix.String() != "198.51.100.2/32" || got[1].Prefix.String() != "198.51.100.3/32" {
		t.Fatalf("first expiry (limit 2, soonest first): %+v", got)
	}
	got, err = s.ExpireDecisions(ctx, now, 10)
	if err != nil || len(got) != 1 || got[0].Prefix.String() != "198.51.100.1/32" {
		t.Fatalf("second expiry: %+v %v", got, err)
	}
	if got, err := s.ExpireDecisions(ctx, now, 10); err != nil || len(got) != 0 {
		t.Fatalf("third expiry: %+v %v", got, err)
	}
	if left := listDecisions(t, s, store.DecisionFilter{}); !slices.Equal(left, []string{"nft 198.51.100.4/32"}) {
		t.Errorf("left %q", left)
	}
	es, err := s.ListDecisionAudit(ctx, store.DecisionAuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, e := range es {
		if e.Action == store.DecisionExpire {
			expired++
			if !e.At.Equal(now) {
				t.Errorf("expire audited at %v, want %v", e.At, now)
			}
		}
	}
	if expired != 3 {
		t.Errorf("%d expire entries, want 3", expired)
	}
}

// Two expiry loops (two processes) share the work: each decision is expired
// once.
func testDecisionConcurrentExpire(t *testing.T, s store.Decisions) {
	var ds []store.Decision
	for i := range 200 {
		ds = append(ds, dec("nft", fmt.Sprintf("198.51.%d.%d/32", i/200, i%200), time.Minute))
	}
	put(t, s, decisionT0, ds...)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ExpireDecisions(ctx, decisionT0.Add(time.Hour), 7)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.Prefix.String()]++
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
	if len(seen) != 200 {
		t.Errorf("%d decisions expired, want 200", len(seen))
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("%s expired %d times", p, n)
		}
	}
}

// Concurrent repeats of one decision lose no hit.
func testDecisionConcurrentPut(t *testing.T, s store.Decisions) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				d := dec("nft", "198.51.100.9/32", time.Duration(g*10+i+1)*time.Minute)
				if _, err := s.PutDecisions(ctx, []store.Decision{d}, decisionT0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ds, err := s.ListDecisions(ctx, store.DecisionFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("%+v %v", ds, err)
	}
	if ds[0].Hits != 80 || !ds[0].ExpiresAt.Equal(decisionT0.Add(80*time.Minute)) {
		t.Errorf("hits %d expires %v, want 80 and the latest expiry", ds[0].Hits, ds[0].ExpiresAt)
	}
}

func testDecisionDelete(t *testing.T, s store.Decisions) {
	put(t, s, decisionT0, dec("nft", "198.51.100.1/32", time.Hour), dec("nft", "198.51.100.2/32", time.Hour))
	now := decisionT0.Add(time.Minute)
	got, err := s.DeleteDecisions(ctx, []store.DecisionKey{
		{Target: "nft", Prefix: netip.MustParsePrefix("198.51.100.1/32")},
		{Target: "nft", Prefix: netip.MustParsePrefix("198.51.100.99/32")}, // not stored
		{Target: "waf", Prefix: netip.MustParsePrefix("198.51.100.2/32")},  // other target
	}, store.DecisionRemove, "false positive", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Prefix.String() != "198.51.100.1/32" || got[0].Reason != "false positive" {
		t.Fatalf("deleted %+v", got)
	}
	if left := listDecisions(t, s, store.DecisionFilter{}); !slices.Equal(left, []string{"nft 198.51.100.2/32"}) {
		t.Errorf("left %q", left)
	}
	es, err := s.ListDecisionAudit(ctx, store.DecisionAuditFilter{Limit: 1})
	if err != nil || len(es) != 1 {
		t.Fatal(es, err)
	}
	if e := es[0]; e.Action != store.DecisionRemove || e.Reason != "false positive" || !e.At.Equal(now) || e.FindingID != "f1" {
		t.Errorf("audit of the delete: %+v", e)
	}
	if _, err := s.DeleteDecisions(ctx, []store.DecisionKey{{Target: "nft"}}, store.DecisionRemove, "", now); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("key without prefix: %v", err)
	}
}

func testDecisionList(t *testing.T, s store.Decisions) {
	put(t, s, decisionT0,
		dec("waf", "203.0.113.5/32", time.Hour),
		dec("nft", "198.51.100.0/24", time.Hour),
		dec("nft", "198.51.100.7/32", time.Hour),
		dec("nft", "198.51.99.255/32", time.Hour),
		dec("nft", "2001:db8::7/128", time.Hour),
		dec("nft", "10.0.0.1/32", time.Minute))
	all := listDecisions(t, s, store.DecisionFilter{})
	want := []string{"nft 10.0.0.1/32", "nft 198.51.99.255/32", "nft 198.51.100.0/24", "nft 198.51.100.7/32",
		"nft 2001:db8::7/128", "waf 203.0.113.5/32"}
	if !slices.Equal(all, want) {
		t.Errorf("order %q, want %q", all, want)
	}
	if got := listDecisions(t, s, store.DecisionFilter{Contains: netip.MustParsePrefix("198.51.100.7/32")}); !slices.Equal(got, want[2:4]) {
		t.Errorf("containing 198.51.100.7: %q", got)
	}
	if got := listDecisions(t, s, store.DecisionFilter{Contains: netip.MustParsePrefix("198.51.0.0/16")}); !slices.Equal(got, want[1:4]) {
		t.Errorf("overlapping 198.51.0.0/16: %q", got)
	}
	if got := listDecisions(t, s, store.DecisionFilter{Target: "waf"}); !slices.Equal(got, want[5:]) {
		t.Errorf("target waf: %q", got)
	}
	if got := listDecisions(t, s, store.DecisionFilter{ActiveAt: decisionT0.Add(2 * time.Minute)}); !slices.Equal(got, want[1:]) {
		t.Errorf("active later: %q", got)
	}
	// Pages of two follow the same order.
	var paged []string
	var after *store.DecisionKey
	for range 10 {
		ds, err := s.ListDecisions(ctx, store.DecisionFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			paged = append(paged, d.Target+" "+d.Prefix.String())
		}
		k := ds[len(ds)-1].Key()
		after = &k
	}
	if !slices.Equal(paged, want) {
		t.Errorf("pages %q, want %q", paged, want)
	}
	if _, err := s.ListDecisions(ctx, store.DecisionFilter{Limit: store.MaxLimit + 1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit too large: %v", err)
	}
}

func testDecisionCountOldest(t *testing.T, s store.Decisions) {
	put(t, s, decisionT0,
		dec("nacl", "198.51.100.1/32", 3*time.Hour),
		dec("nacl", "198.51.100.2/32", time.Hour),
		dec("nacl", "198.51.100.3/32", 2*time.Hour),
		dec("nacl", "198.51.100.4/32", time.Minute),
		dec("waf", "198.51.100.5/32", time.Minute))
	now := decisionT0.Add(2 * time.Minute) // .4 has expired
	n, err := s.CountDecisions(ctx, "nacl", now)
	if err != nil || n != 3 {
		t.Errorf("count %d %v, want 3", n, err)
	}
	old, err := s.OldestDecisions(ctx, "nacl", now, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 2 || old[0].Prefix.String() != "198.51.100.2/32" || old[1].Prefix.String() != "198.51.100.3/32" {
		t.Errorf("oldest %+v", old)
	}
}

func testDecisionAudit(t *testing.T, s store.Decisions) {
	put(t, s, decisionT0, dec("nft", "198.51.100.1/32", time.Hour), dec("waf", "2001:db8::1/128", time.Hour))
	err := s.AuditDecisions(ctx, []store.DecisionAudit{{At: decisionT0.Add(time.Hour), Action: store.DecisionDryRun,
		Target: "nacl", Prefix: netip.MustParsePrefix("198.51.100.9/32"), Origin: "rule:x", Reason: "would block",
		FindingType: "Recon:EC2/Portscan", Severity: 8, ExpiresAt: decisionT0.Add(2 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AuditDecisions(ctx, []store.DecisionAudit{{Action: store.DecisionDryRun}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("entry without prefix: %v", err)
	}
	all, err := s.ListDecisionAudit(ctx, store.DecisionAuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Action != store.DecisionDryRun || all[0].Reason != "would block" || all[0].Severity != 8 ||
		!all[0].ExpiresAt.Equal(decisionT0.Add(2*time.Hour)) || all[0].ID <= all[1].ID {
		t.Fatalf("audit %+v", all)
	}
	if got := auditActions(t, s, store.DecisionAuditFilter{Contains: netip.MustParsePrefix("2001:db8::/32")}); !slices.Equal(got, []string{"add waf 2001:db8::1/128"}) {
		t.Errorf("by prefix: %q", got)
	}
	if got := auditActions(t, s, store.DecisionAuditFilter{Since: decisionT0.Add(time.Minute)}); !slices.Equal(got, []string{"dry-run nacl 198.51.100.9/32"}) {
		t.Errorf("since: %q", got)
	}
	if got := auditActions(t, s, store.DecisionAuditFilter{BeforeID: all[0].ID, Limit: 1}); len(got) != 1 || got[0] != "add waf 2001:db8::1/128" {
		t.Errorf("page below the newest: %q", got)
	}
	n, err := s.DeleteDecisionAuditBefore(ctx, decisionT0.Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("deleted %d %v, want 2", n, err)
	}
	if got := auditActions(t, s, store.DecisionAuditFilter{}); len(got) != 1 {
		t.Errorf("left %q", got)
	}
}

// Reasons and names come from findings and users: they travel as parameters
// and come back as given (invalid UTF-8 and NUL as U+FFFD).
func testDecisionMetacharacters(t *testing.T, s store.Decisions) {
	d := dec("nft'; DROP TABLE decisions; --", "198.51.100.1/32", time.Hour)
	d.Reason = "x' OR '1'='1\x00\xff"
	d.FindingType = `Recon:EC2/"Portscan"`
	c := put(t, s, decisionT0, d)[0]
	if c.Decision.Target != d.Target || c.Decision.Reason != "x' OR '1'='1\uFFFD\uFFFD" || c.Decision.FindingType != d.FindingType {
		t.Errorf("stored %+v", c.Decision)
	}
	got := listDecisions(t, s, store.DecisionFilter{Target: d.Target})
	if len(got) != 1 || !strings.HasPrefix(got[0], "nft'; DROP") {
		t.Errorf("list by target: %q", got)
	}
	if _, err := s.ListDecisionAudit(ctx, store.DecisionAuditFilter{Target: d.Target}); err != nil {
		t.Error(err)
	}
}
