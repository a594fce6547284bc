package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
)

// AdminStore is a store that also keeps what the API administers.
type AdminStore interface {
	store.Store
	store.Admin
}

// AdminOpener returns a new, empty admin store for one test. The suite closes
// it.
type AdminOpener func(t *testing.T) AdminStore

// RunAdmin runs the contract suite of store.Admin, each test on a store of its
// own.
func RunAdmin(t *testing.T, open AdminOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, AdminStore)
	}{
		{"Filters", testFilters},
		{"FilterErrors", testFilterErrors},
		{"FilterLimitConcurrent", testFilterLimitConcurrent},
		{"Lists", testLists},
		{"ListLimitsAndNames", testListLimitsAndNames},
		{"Tokens", testTokens},
		{"AuditLog", testAuditLog},
		{"AdminMetacharacters", testAdminMetacharacters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

var alice = store.Actor{Name: "alice", TokenID: "0123456789abcdef", Address: "192.0.2.10", UserAgent: "vigil-test"}

func sampleFilter(name string, action store.FilterAction, rank int) store.Filter {
	return store.Filter{
		Name: name, Description: "scanner " + name, Action: action, Rank: rank,
		Criteria: store.Criteria{Criterion: map[string]store.Condition{
			"type":     {Eq: []string{"Recon:EC2/Portscan"}},
			"severity": {Gte: ptr(4)},
		}},
		Tags: map[string]string{"team": "sec"},
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testFilters(t *testing.T, s AdminStore) {
	f, err := s.CreateFilter(ctx, sampleFilter("scanners", store.FilterArchive, 2), 0, alice)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 1 || f.CreatedAt == 0 || f.UpdatedAt != f.CreatedAt {
		t.Errorf("created filter: %+v", f)
	}
	got, err := s.GetFilter(ctx, "scanners")
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, got) != mustJSON(t, f) {
		t.Errorf("get:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, f))
	}
	if _, err := s.CreateFilter(ctx, sampleFilter("b-view", store.FilterNoop, 1), 0, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFilter(ctx, store.Filter{Name: "a-expr", Action: store.FilterNoop, Rank: 2, Expression: `severity >= 7`}, 0, alice); err != nil {
		t.Fatal(err)
	}
	fs, err := s.ListFilters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	if want := []string{"b-view", "a-expr", "scanners"}; !slices.Equal(names, want) {
		t.Errorf("list order %v, want %v (rank, then name)", names, want)
	}

	before, after, err := s.UpdateFilter(ctx, "scanners", func(f *store.Filter) error {
		f.Name = "renamed" // ignored: the name is the key
		f.Action = store.FilterNoop
		f.Description = "now a view"
		f.Tags["owner"] = "bob"
		return nil
	}, alice)
	if err != nil {
		t.Fatal(err)
	}
	if before.Action != store.FilterArchive || len(before.Tags) != 1 {
		t.Errorf("before: %+v (the update function must not change it)", before)
	}
	if after.Name != "scanners" || after.Action != store.FilterNoop || after.Version != 2 || after.Tags["owner"] != "bob" || after.CreatedAt != f.CreatedAt {
		t.Errorf("after: %+v", after)
	}
	if got, _ := s.GetFilter(ctx, "scanners"); mustJSON(t, got) != mustJSON(t, after) {
		t.Errorf("stored after update: %s, want %s", mustJSON(t, got), mustJSON(t, after))
	}

	// A failing update changes nothing and audits nothing.
	n := len(auditAll(t, s, store.AuditQuery{}))
	boom := errors.New("boom")
	if _, _, err := s.UpdateFilter(ctx, "scanners", func(*store.Filter) error { return boom }, alice); !errors.Is(err, boom) {
		t.Errorf("failing update: %v", err)
	}
	if _, _, err := s.UpdateFilter(ctx, "scanners", func(f *store.Filter) error { f.Rank = 0; return nil }, alice); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("update to rank 0: %v, want ErrInvalid", err)
	}
	if m := len(auditAll(t, s, store.AuditQuery{})); m != n {
		t.Errorf("%d audit events after failed updates, want %d", m, n)
	}
	if got, _ := s.GetFilter(ctx, "scanners"); got.Version != 2 {
		t.Errorf("version %d after failed updates", got.Version)
	}

	del, err := s.DeleteFilter(ctx, "scanners", alice)
	if err != nil || del.Description != "now a view" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := s.GetFilter(ctx, "scanners"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if _, err := s.DeleteFilter(ctx, "scanners", alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if _, _, err := s.UpdateFilter(ctx, "nope", func(*store.Filter) error { return nil }, alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}

	evs := auditAll(t, s, store.AuditQuery{ResourceType: store.AuditResourceFilter, ResourceID: "scanners"})
	var acts []string
	for _, e := range evs {
		acts = append(acts, fmt.Sprintf("%s/%v", e.Action, e.Blinding))
		if e.Actor != alice {
			t.Errorf("%s: actor %+v", e.Action, e.Actor)
		}
	}
	if want := []string{"DeleteFilter/false", "UpdateFilter/false", "CreateFilter/true"}; !slices.Equal(acts, want) {
		t.Errorf("audit of scanners %v, want %v (newest first; an ARCHIVE rule created is blinding)", acts, want)
	}
	var b store.Filter
	if err := json.Unmarshal(evs[1].Before, &b); err != nil || b.Action != store.FilterArchive {
		t.Errorf("update's before: %s %v", evs[1].Before, err)
	}
	if evs[0].After != nil || evs[2].Before != nil {
		t.Errorf("delete has an after (%s) or create a before (%s)", evs[0].After, evs[2].Before)
	}
}

func testFilterErrors(t *testing.T, s AdminStore) {
	if _, err := s.CreateFilter(ctx, sampleFilter("dup", store.FilterNoop, 1), 0, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFilter(ctx, sampleFilter("dup", store.FilterNoop, 1), 0, alice); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate: %v, want ErrExists", err)
	}
	if _, err := s.CreateFilter(ctx, sampleFilter("second", store.FilterNoop, 1), 1, alice); !errors.Is(err, store.ErrLimitExceeded) {
		t.Errorf("over the limit: %v, want ErrLimitExceeded", err)
	}
	for _, f := range []store.Filter{
		sampleFilter("x", store.FilterNoop, 1),             // name too short
		sampleFilter("has space", store.FilterNoop, 1),     // bad character
		sampleFilter("rank0", store.FilterNoop, 0),         // rank
		sampleFilter("rank101", store.FilterNoop, 101),     // rank
		sampleFilter("bad-action", "DELETE", 1),            // action
		{Name: "empty", Action: store.FilterNoop, Rank: 1}, // selects nothing
		func() store.Filter {
			f := sampleFilter("both", store.FilterNoop, 1)
			f.Expression = "severity > 1"
			return f
		}(),
		func() store.Filter {
			f := sampleFilter("long-desc", store.FilterNoop, 1)
			f.Description = strings.Repeat("d", 513)
			return f
		}(),
	} {
		if _, err := s.CreateFilter(ctx, f, 0, alice); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", f.Name, err)
		}
	}
	if fs, _ := s.ListFilters(ctx); len(fs) != 1 {
		t.Errorf("%d filters stored after errors, want 1", len(fs))
	}
}

// testFilterLimitConcurrent: creates racing for the last places respect the
// limit exactly.
func testFilterLimitConcurrent(t *testing.T, s AdminStore) {
	const max, writers = 5, 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.CreateFilter(ctx, sampleFilter(fmt.Sprintf("race-%d", i), store.FilterNoop, 1), max, alice)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrLimitExceeded):
			t.Errorf("unexpected error: %v", err)
		}
	}
	fs, err := s.ListFilters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok != max || len(fs) != max {
		t.Errorf("%d creates succeeded, %d filters stored; want %d", ok, len(fs), max)
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func testLists(t *testing.T, s AdminStore) {
	content := []byte("# office\n203.0.113.0/24\n198.51.100.7\n")
	l, err := s.CreateList(ctx, store.IntelList{Kind: store.ListTrusted, Name: "office", Format: "TXT", Status: store.ListActive, Entries: 2,
		Tags: map[string]string{"k": "v"}}, content, 0, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ID) != 32 || l.Size != int64(len(content)) || l.SHA256 != sha(content) || l.Version != 1 || l.CreatedAt == 0 {
		t.Errorf("created: %+v", l)
	}
	got, err := s.GetList(ctx, l.ID)
	if err != nil || mustJSON(t, got) != mustJSON(t, l) {
		t.Errorf("get: %s %v, want %s", mustJSON(t, got), err, mustJSON(t, l))
	}
	c, err := s.ListContent(ctx, l.ID)
	if err != nil || !bytes.Equal(c, content) {
		t.Errorf("content %q %v", c, err)
	}
	th, err := s.CreateList(ctx, store.IntelList{Kind: store.ListThreat, Name: "bad-hosts", Format: "TXT", Status: store.ListActive, Entries: 3},
		[]byte("192.0.2.1\n192.0.2.2\n192.0.2.3\n"), 0, alice)
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[store.ListKind][]string{"": {"bad-hosts", "office"}, store.ListTrusted: {"office"}, store.ListThreat: {"bad-hosts"}} {
		ls, err := s.ListLists(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range ls {
			names = append(names, l.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("lists of kind %q: %v, want %v", kind, names, want)
		}
	}

	// Metadata only: the content stays.
	_, after, err := s.UpdateList(ctx, l.ID, func(l *store.IntelList) error {
		l.Status = store.ListInactive
		l.Kind = store.ListThreat // ignored: the kind is fixed
		return nil
	}, nil, alice)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != store.ListInactive || after.Kind != store.ListTrusted || after.SHA256 != l.SHA256 || after.Version != 2 {
		t.Errorf("after metadata update: %+v", after)
	}
	if c, _ := s.ListContent(ctx, l.ID); !bytes.Equal(c, content) {
		t.Errorf("content changed by a metadata update: %q", c)
	}
	// New content, activated again: blinding.
	content2 := []byte("0.0.0.1\n")
	_, after, err = s.UpdateList(ctx, l.ID, func(l *store.IntelList) error {
		l.Status, l.Entries, l.Location = store.ListActive, 1, "https://example.org/list.txt"
		return nil
	}, content2, alice)
	if err != nil {
		t.Fatal(err)
	}
	if after.SHA256 != sha(content2) || after.Size != int64(len(content2)) || after.Entries != 1 || after.Location != "https://example.org/list.txt" {
		t.Errorf("after content update: %+v", after)
	}
	if c, _ := s.ListContent(ctx, l.ID); !bytes.Equal(c, content2) {
		t.Errorf("content %q after update", c)
	}
	// The threat list deactivated: blinding.
	if _, _, err := s.UpdateList(ctx, th.ID, func(l *store.IntelList) error { l.Status = store.ListInactive; return nil }, nil, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteList(ctx, th.ID, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetList(ctx, th.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
	if _, err := s.ListContent(ctx, th.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("content of deleted: %v", err)
	}
	var acts []string
	for _, e := range auditAll(t, s, store.AuditQuery{ResourceType: store.AuditResourceList}) {
		acts = append(acts, fmt.Sprintf("%s/%v", e.Action, e.Blinding))
		if bytes.Contains(e.After, content2) || bytes.Contains(e.Before, content) {
			t.Errorf("%s: audit holds list content", e.Action)
		}
	}
	want := []string{"DeleteThreatIntelSet/false", "UpdateThreatIntelSet/true", "UpdateIPSet/true", "UpdateIPSet/false",
		"CreateThreatIntelSet/false", "CreateIPSet/true"}
	if !slices.Equal(acts, want) {
		t.Errorf("list audit %v,\nwant %v", acts, want)
	}
}

func testListLimitsAndNames(t *testing.T, s AdminStore) {
	mk := func(kind store.ListKind, name string, max int) (store.IntelList, error) {
		return s.CreateList(ctx, store.IntelList{Kind: kind, Name: name, Format: "TXT", Status: store.ListInactive, Entries: 1}, []byte("192.0.2.1\n"), max, alice)
	}
	a, err := mk(store.ListTrusted, "t1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mk(store.ListTrusted, "t2", 1); !errors.Is(err, store.ErrLimitExceeded) {
		t.Errorf("second trusted list with a limit of 1: %v", err)
	}
	if _, err := mk(store.ListThreat, "x1", 1); err != nil {
		t.Errorf("the limit is per kind: %v", err)
	}
	if _, err := mk(store.ListThreat, "t1", 0); !errors.Is(err, store.ErrExists) {
		t.Errorf("a name used by a list of the other kind: %v, want ErrExists", err)
	}
	if _, _, err := s.UpdateList(ctx, a.ID, func(l *store.IntelList) error { l.Name = "x1"; return nil }, nil, alice); !errors.Is(err, store.ErrExists) {
		t.Errorf("rename onto a taken name: %v, want ErrExists", err)
	}
	if _, _, err := s.UpdateList(ctx, a.ID, func(l *store.IntelList) error { l.Name = "t1-renamed"; return nil }, nil, alice); err != nil {
		t.Errorf("rename: %v", err)
	}
	for _, l := range []store.IntelList{
		{Kind: store.ListTrusted, Name: "bad name", Format: "TXT", Status: store.ListActive},
		{Kind: "BOTH", Name: "k", Format: "TXT", Status: store.ListActive},
		{Kind: store.ListThreat, Name: "s", Format: "TXT", Status: "ACTIVATING"},
		{Kind: store.ListThreat, Name: "f", Status: store.ListActive},
	} {
		if _, err := s.CreateList(ctx, l, nil, 0, alice); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", l, err)
		}
	}
	if _, err := s.GetList(ctx, "no-such-id"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
}

func hashOf(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testTokens(t *testing.T, s AdminStore) {
	local := store.Actor{Name: "local:root"}
	tok, err := s.CreateToken(ctx, store.Token{Name: "ci", Scope: store.ScopeRead, Hash: hashOf("secret-1"), ExpiresAt: Base + 1000}, local)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.ID) != 16 || tok.CreatedAt == 0 {
		t.Errorf("created: %+v", tok)
	}
	if _, err := s.CreateToken(ctx, store.Token{Name: "ci", Scope: store.ScopeAdmin, Hash: hashOf("secret-2")}, local); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate name: %v", err)
	}
	adm, err := s.CreateToken(ctx, store.Token{Name: "ops", Scope: store.ScopeAdmin, Hash: hashOf("secret-2")}, local)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.Token{{Name: "x y", Scope: store.ScopeRead, Hash: hashOf("a")}, {Name: "x", Scope: "root", Hash: hashOf("b")}, {Name: "x", Scope: store.ScopeRead}} {
		if _, err := s.CreateToken(ctx, bad, local); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	got, err := s.TokenByHash(ctx, hashOf("secret-1"))
	if err != nil || got.ID != tok.ID || got.Scope != store.ScopeRead || !bytes.Equal(got.Hash, hashOf("secret-1")) {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if !got.Usable(Base) || got.Usable(Base+1000) {
		t.Errorf("usable before expiry %v, at expiry %v", got.Usable(Base), got.Usable(Base+1000))
	}
	if _, err := s.TokenByHash(ctx, hashOf("guess")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown secret: %v", err)
	}
	if err := s.TouchToken(ctx, adm.ID, Base+60000); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, adm.ID, Base); err != nil { // older: ignored
		t.Fatal(err)
	}
	ts, err := s.ListTokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].Name != "ci" || ts[1].Name != "ops" {
		t.Fatalf("list: %+v %v", ts, err)
	}
	if ts[0].Hash != nil || ts[1].Hash != nil {
		t.Error("ListTokens returns hashes")
	}
	if ts[1].LastUsedAt != Base+60000 {
		t.Errorf("last used %v, want %v", ts[1].LastUsedAt, Base+60000)
	}
	// Revoke by name, then by ID (no change).
	r, err := s.RevokeToken(ctx, "ops", Base+5, local)
	if err != nil || r.RevokedAt != Base+5 {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if r, err := s.RevokeToken(ctx, adm.ID, Base+9, local); err != nil || r.RevokedAt != Base+5 {
		t.Errorf("revoke again: %+v %v", r, err)
	}
	if got, _ := s.TokenByHash(ctx, hashOf("secret-2")); got.Usable(Base + 6) {
		t.Error("revoked token usable")
	}
	if _, err := s.RevokeToken(ctx, "nobody", Base, local); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke missing: %v", err)
	}
	var acts []string
	for _, e := range auditAll(t, s, store.AuditQuery{ResourceType: store.AuditResourceToken}) {
		acts = append(acts, e.Action)
		if bytes.Contains(e.After, []byte(hex.EncodeToString(hashOf("secret-2")))) || bytes.Contains(e.After, []byte("hash")) {
			t.Errorf("audit event holds a token hash: %s", e.After)
		}
	}
	if want := []string{"RevokeToken", "CreateToken", "CreateToken"}; !slices.Equal(acts, want) {
		t.Errorf("token audit %v, want %v", acts, want)
	}
}

// auditAll follows ListAudit's pages (of 2) to the end.
func auditAll(t *testing.T, s AdminStore, q store.AuditQuery) []store.AuditEvent {
	t.Helper()
	q.Limit = 2
	var out []store.AuditEvent
	for {
		evs, err := s.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
		if len(evs) < q.Limit {
			return out
		}
		q.Before = evs[len(evs)-1].ID
	}
}

func testAuditLog(t *testing.T, s AdminStore) {
	for i := range 5 {
		action := store.FilterNoop
		if i%2 == 0 {
			action = store.FilterArchive
		}
		if _, err := s.CreateFilter(ctx, sampleFilter(fmt.Sprintf("f-%d", i), action, 1), 0, alice); err != nil {
			t.Fatal(err)
		}
	}
	all := auditAll(t, s, store.AuditQuery{})
	if len(all) != 5 {
		t.Fatalf("%d events, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID || all[i].Time < all[i-1].Time-1000 {
			t.Errorf("events not newest first: %d then %d", all[i-1].ID, all[i].ID)
		}
	}
	if all[0].ResourceID != "f-4" || all[4].ResourceID != "f-0" {
		t.Errorf("order: %s … %s", all[0].ResourceID, all[4].ResourceID)
	}
	blind := auditAll(t, s, store.AuditQuery{BlindingOnly: true})
	if len(blind) != 3 {
		t.Errorf("%d blinding events, want 3", len(blind))
	}
	if _, err := s.ListAudit(ctx, store.AuditQuery{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit -1: %v", err)
	}
}

// testAdminMetacharacters stores SQL metacharacters, NUL and invalid UTF-8 in
// every free-text field and reads them back.
func testAdminMetacharacters(t *testing.T, s AdminStore) {
	nasty := `x'); DROP TABLE filters; -- "%_\` + "\x00\xff"
	clean := store.Text(nasty)
	f := sampleFilter("meta", store.FilterNoop, 1)
	f.Description = nasty
	f.Tags = map[string]string{"k'": nasty}
	f.Criteria = store.Criteria{Criterion: map[string]store.Condition{"type": {Eq: []string{nasty}}}}
	if _, err := s.CreateFilter(ctx, f, 0, store.Actor{Name: nasty, Address: nasty, UserAgent: nasty}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetFilter(ctx, "meta")
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != clean || got.Tags["k'"] != clean || store.Text(got.Criteria.Criterion["type"].Eq[0]) != clean {
		t.Errorf("round trip: %+v", got)
	}
	if _, err := s.GetFilter(ctx, nasty); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get %q: %v", nasty, err)
	}
	if _, err := s.GetList(ctx, nasty); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get list %q: %v", nasty, err)
	}
	if _, err := s.RevokeToken(ctx, nasty, Base, alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke %q: %v", nasty, err)
	}
	evs, err := s.ListAudit(ctx, store.AuditQuery{ResourceID: nasty})
	if err != nil || len(evs) != 0 {
		t.Errorf("audit of %q: %v %v", nasty, evs, err)
	}
	evs, err = s.ListAudit(ctx, store.AuditQuery{ResourceID: "meta"})
	if err != nil || len(evs) != 1 || evs[0].Actor.Name != clean {
		t.Fatalf("audit of meta: %+v %v", evs, err)
	}
	l, err := s.CreateList(ctx, store.IntelList{Kind: store.ListThreat, Name: "meta", Format: "TXT", Status: store.ListActive, Location: nasty,
		Tags: map[string]string{nasty: nasty}}, []byte(nasty), 0, alice)
	if err != nil {
		t.Fatal(err)
	}
	gl, err := s.GetList(ctx, l.ID)
	if err != nil || gl.Location != clean || gl.Tags[clean] != clean {
		t.Errorf("list round trip: %+v %v", gl, err)
	}
	if c, _ := s.ListContent(ctx, l.ID); string(c) != nasty {
		t.Errorf("content is bytes and must round-trip exactly: %q", c)
	}
}
