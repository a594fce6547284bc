package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
)

// OutboxOpener returns the outbox of a new, empty store for one test; the
// opener arranges for the store to be closed.
type OutboxOpener func(t *testing.T) store.Outbox

// RunOutbox runs the contract of store.Outbox, each test on an outbox of its own.
func RunOutbox(t *testing.T, open OutboxOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Outbox)
	}{
		{"EnqueueAndDue", testOutboxEnqueueAndDue},
		{"Fold", testOutboxFold},
		{"AckFoldedDuringDelivery", testOutboxAckFolded},
		{"FailAndDeadLetter", testOutboxFailAndDeadLetter},
		{"Requeue", testOutboxRequeue},
		{"Lease", testOutboxLease},
		{"Invalid", testOutboxInvalid},
		{"Metacharacters", testOutboxMetacharacters},
		{"ConcurrentEnqueue", testOutboxConcurrentEnqueue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// t0 is the outbox tests' clock origin; times are whole milliseconds, the
// outbox's resolution.
var t0 = time.UnixMilli(1767261600000) // 2026-01-01T10:00:00Z

func entry(dest, id string, kind store.OutboxKind, payload string, due time.Time) store.OutboxEntry {
	return store.OutboxEntry{Destination: dest, FindingID: id, Kind: kind, Payload: []byte(payload), CreatedAt: t0, DueAt: due}
}

func enqueue(t *testing.T, o store.Outbox, es ...store.OutboxEntry) {
	t.Helper()
	if err := o.Enqueue(ctx, es); err != nil {
		t.Fatal(err)
	}
}

func due(t *testing.T, o store.Outbox, dest string, now time.Time) []store.OutboxEntry {
	t.Helper()
	es, err := o.Due(ctx, dest, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// findingIDs returns the finding IDs of es in order.
func findingIDs(es []store.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.FindingID
	}
	return out
}

func depth(t *testing.T, o store.Outbox) map[string]store.QueueDepth {
	t.Helper()
	d, err := o.Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testOutboxEnqueueAndDue(t *testing.T, o store.Outbox) {
	if _, ok, err := o.NextDue(ctx, "slack"); err != nil || ok {
		t.Fatalf("NextDue of an empty outbox: %v %v", ok, err)
	}
	enqueue(t, o,
		entry("slack", "f1", store.OutboxNew, `{"id":"f1"}`, t0),
		entry("slack", "f2", store.OutboxUpdate, `{"id":"f2"}`, t0.Add(15*time.Minute)),
		entry("slack", "f3", store.OutboxNew, `{"id":"f3"}`, t0.Add(time.Second)),
		entry("hook", "f1", store.OutboxNew, `{"id":"f1"}`, t0),
	)
	next, ok, err := o.NextDue(ctx, "slack")
	if err != nil || !ok || !next.Equal(t0) {
		t.Fatalf("NextDue = %v %v %v, want %v", next, ok, err, t0)
	}
	if got := findingIDs(due(t, o, "slack", t0)); !slices.Equal(got, []string{"f1"}) {
		t.Errorf("due at t0: %v", got)
	}
	// Queue order (the order of enqueueing), not due order.
	es := due(t, o, "slack", t0.Add(time.Hour))
	if got := findingIDs(es); !slices.Equal(got, []string{"f1", "f2", "f3"}) {
		t.Errorf("due an hour later: %v, want f1 f2 f3", got)
	}
	if !(es[0].ID < es[1].ID && es[1].ID < es[2].ID) {
		t.Errorf("IDs not increasing: %d %d %d", es[0].ID, es[1].ID, es[2].ID)
	}
	e := es[1]
	if e.Destination != "slack" || e.Kind != store.OutboxUpdate || string(e.Payload) != `{"id":"f2"}` ||
		!e.CreatedAt.Equal(t0) || !e.DueAt.Equal(t0.Add(15*time.Minute)) || e.Attempts != 0 || e.LastError != "" || e.Rev != 0 {
		t.Errorf("entry read back as %+v", e)
	}
	if es, err := o.Due(ctx, "slack", t0.Add(time.Hour), 2); err != nil || len(es) != 2 {
		t.Errorf("limit 2: %d entries, %v", len(es), err)
	}
	if got := findingIDs(due(t, o, "hook", t0)); !slices.Equal(got, []string{"f1"}) {
		t.Errorf("other destination: %v", got)
	}
	if d := depth(t, o); d["slack"].Pending != 3 || d["hook"].Pending != 1 || len(d) != 2 {
		t.Errorf("depth %+v", d)
	}

	// Ack removes exactly what was delivered.
	if err := o.Ack(ctx, "slack", es[:2], t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(due(t, o, "slack", t0.Add(time.Hour))); !slices.Equal(got, []string{"f3"}) {
		t.Errorf("after ack: %v", got)
	}
	if got := findingIDs(due(t, o, "hook", t0)); !slices.Equal(got, []string{"f1"}) {
		t.Errorf("ack on slack touched hook: %v", got)
	}
	// An entry acked for the wrong destination stays.
	if err := o.Ack(ctx, "hook", es[2:], t0); err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(due(t, o, "slack", t0.Add(time.Hour))); !slices.Equal(got, []string{"f3"}) {
		t.Errorf("ack for another destination removed an entry: %v", got)
	}
}

func testOutboxFold(t *testing.T, o store.Outbox) {
	enqueue(t, o, entry("slack", "a", store.OutboxNew, "a1", t0), entry("slack", "b", store.OutboxUpdate, "b1", t0.Add(time.Hour)))
	first := due(t, o, "slack", t0.Add(2*time.Hour))
	// An update of a waiting new finding: one entry, still new, still first, due
	// at the earlier time, with the latest payload.
	enqueue(t, o, entry("slack", "a", store.OutboxUpdate, "a2", t0.Add(15*time.Minute)))
	// A new occurrence of a finding with a waiting update: new, due now.
	enqueue(t, o, entry("slack", "b", store.OutboxNew, "b2", t0.Add(time.Second)))
	// And an update folding into an update keeps the earlier due time.
	enqueue(t, o, entry("slack", "b", store.OutboxUpdate, "b3", t0.Add(6*time.Hour)))
	es := due(t, o, "slack", t0.Add(2*time.Hour))
	if len(es) != 2 {
		t.Fatalf("%d entries after folding, want 2: %+v", len(es), es)
	}
	a, b := es[0], es[1]
	if a.FindingID != "a" || a.ID != first[0].ID || a.Kind != store.OutboxNew || string(a.Payload) != "a2" || !a.DueAt.Equal(t0) || a.Rev != 1 {
		t.Errorf("a after fold: %+v", a)
	}
	if b.FindingID != "b" || b.ID != first[1].ID || b.Kind != store.OutboxNew || string(b.Payload) != "b3" || !b.DueAt.Equal(t0.Add(time.Second)) || b.Rev != 2 {
		t.Errorf("b after folds: %+v", b)
	}
	if !a.CreatedAt.Equal(t0) {
		t.Errorf("fold moved created_at to %v", a.CreatedAt)
	}
	// Folding within one Enqueue call works the same.
	enqueue(t, o, entry("hook", "c", store.OutboxNew, "c1", t0), entry("hook", "c", store.OutboxUpdate, "c2", t0.Add(time.Hour)))
	if es := due(t, o, "hook", t0); len(es) != 1 || string(es[0].Payload) != "c2" || es[0].Kind != store.OutboxNew {
		t.Errorf("fold in one call: %+v", es)
	}
}

func testOutboxAckFolded(t *testing.T, o store.Outbox) {
	enqueue(t, o, entry("slack", "a", store.OutboxNew, "a1", t0), entry("slack", "b", store.OutboxNew, "b1", t0))
	read := due(t, o, "slack", t0)
	// While a and b are being delivered, a repeats.
	enqueue(t, o, entry("slack", "a", store.OutboxUpdate, "a2", t0.Add(15*time.Minute)))
	if err := o.Fail(ctx, "slack", []int64{read[0].ID}, "earlier failure"); err != nil {
		t.Fatal(err)
	}
	updateDue := t0.Add(15 * time.Minute)
	if err := o.Ack(ctx, "slack", read, updateDue); err != nil {
		t.Fatal(err)
	}
	if es := due(t, o, "slack", t0.Add(time.Minute)); len(es) != 0 {
		t.Errorf("due right after ack: %+v", es)
	}
	es := due(t, o, "slack", updateDue)
	if len(es) != 1 {
		t.Fatalf("after ack: %+v, want the folded update of a", es)
	}
	if e := es[0]; e.FindingID != "a" || e.Kind != store.OutboxUpdate || string(e.Payload) != "a2" ||
		!e.DueAt.Equal(updateDue) || e.Attempts != 0 || e.LastError != "" {
		t.Errorf("folded entry after ack: %+v", e)
	}
}

func testOutboxFailAndDeadLetter(t *testing.T, o store.Outbox) {
	enqueue(t, o, entry("hook", "a", store.OutboxNew, "a", t0), entry("hook", "b", store.OutboxNew, "b", t0))
	es := due(t, o, "hook", t0)
	ids := []int64{es[0].ID, es[1].ID}
	for i := range 3 {
		if err := o.Fail(ctx, "hook", ids, fmt.Sprintf("HTTP 500 (attempt %d)", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	es = due(t, o, "hook", t0)
	if es[0].Attempts != 3 || es[0].LastError != "HTTP 500 (attempt 3)" {
		t.Errorf("after 3 failures: %+v", es[0])
	}
	// A long error is cut, invalid UTF-8 and NUL replaced.
	long := strings.Repeat("é", store.MaxOutboxError) + "\x00\xff"
	if err := o.Fail(ctx, "hook", ids[1:], long); err != nil {
		t.Fatal(err)
	}
	died := t0.Add(time.Hour)
	if err := o.DeadLetter(ctx, "hook", ids[:1], "gave up: HTTP 500", died); err != nil {
		t.Fatal(err)
	}
	if got := findingIDs(due(t, o, "hook", died)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("queue after dead-lettering a: %v", got)
	}
	dl, err := o.DeadLetters(ctx, "hook", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 {
		t.Fatalf("dead letters %+v", dl)
	}
	if d := dl[0]; d.ID != ids[0] || d.FindingID != "a" || d.Destination != "hook" || d.Kind != store.OutboxNew || string(d.Payload) != "a" ||
		d.Attempts != 3 || d.LastError != "gave up: HTTP 500" || !d.DiedAt.Equal(died) || !d.CreatedAt.Equal(t0) {
		t.Errorf("dead letter %+v", d)
	}
	if err := o.DeadLetter(ctx, "hook", ids[1:], long, died.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	dl, err = o.DeadLetters(ctx, "", 10)
	if err != nil || len(dl) != 2 || dl[0].FindingID != "b" {
		t.Fatalf("all dead letters, newest first: %+v %v", dl, err)
	}
	if e := dl[0].LastError; len(e) > store.MaxOutboxError+len("…") || strings.ContainsRune(e, 0) || !strings.HasSuffix(e, "…") {
		t.Errorf("long error stored as %d bytes %q…", len(e), e[:20])
	}
	if d := depth(t, o); d["hook"] != (store.QueueDepth{Pending: 0, Dead: 2}) {
		t.Errorf("depth %+v", d)
	}
	if n, err := o.PurgeDeadLetters(ctx, died.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("purge: %d %v, want 1", n, err)
	}
	if dl, _ := o.DeadLetters(ctx, "", 10); len(dl) != 1 || dl[0].FindingID != "b" {
		t.Errorf("after purge: %+v", dl)
	}
}

func testOutboxRequeue(t *testing.T, o store.Outbox) {
	enqueue(t, o, entry("hook", "a", store.OutboxNew, "a", t0), entry("hook", "b", store.OutboxUpdate, "b", t0),
		entry("mail", "c", store.OutboxNew, "c", t0))
	for _, dest := range []string{"hook", "mail"} {
		es := due(t, o, dest, t0)
		var ids []int64
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if err := o.Fail(ctx, dest, ids, "down"); err != nil {
			t.Fatal(err)
		}
		if err := o.DeadLetter(ctx, dest, ids, "down", t0); err != nil {
			t.Fatal(err)
		}
	}
	// b is current again before the requeue: its waiting entry wins.
	enqueue(t, o, entry("hook", "b", store.OutboxNew, "b-new", t0))
	now := t0.Add(time.Hour)
	n, err := o.Requeue(ctx, "hook", now)
	if err != nil || n != 1 {
		t.Fatalf("requeue hook: %d %v, want 1", n, err)
	}
	es := due(t, o, "hook", now)
	if got := findingIDs(es); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("hook after requeue: %v, want b (waiting) then a (requeued)", got)
	}
	for _, e := range es {
		if e.FindingID == "a" && (e.Attempts != 0 || !e.DueAt.Equal(now) || e.Kind != store.OutboxNew) {
			t.Errorf("requeued entry %+v", e)
		}
		if e.FindingID == "b" && string(e.Payload) != "b-new" {
			t.Errorf("requeue overwrote the waiting entry: %+v", e)
		}
	}
	if d := depth(t, o); d["hook"].Dead != 0 || d["mail"].Dead != 1 {
		t.Errorf("depth after requeue of hook: %+v", d)
	}
	if n, err := o.Requeue(ctx, "", now); err != nil || n != 1 {
		t.Errorf("requeue all: %d %v", n, err)
	}
	if got := findingIDs(due(t, o, "mail", now)); !slices.Equal(got, []string{"c"}) {
		t.Errorf("mail after requeue: %v", got)
	}
}

func testOutboxLease(t *testing.T, o store.Outbox) {
	lease := func(owner string, now time.Time) bool {
		t.Helper()
		ok, err := o.Lease(ctx, "slack", owner, now, now.Add(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lease("node-a", t0) {
		t.Fatal("first lease refused")
	}
	if lease("node-b", t0.Add(10*time.Second)) {
		t.Error("node-b took a lease node-a holds")
	}
	if !lease("node-a", t0.Add(20*time.Second)) {
		t.Error("node-a could not renew its lease")
	}
	if lease("node-b", t0.Add(45*time.Second)) {
		t.Error("node-b took the renewed lease before it expired")
	}
	if !lease("node-b", t0.Add(51*time.Second)) {
		t.Error("node-b could not take an expired lease")
	}
	if lease("node-a", t0.Add(52*time.Second)) {
		t.Error("node-a took back the lease node-b holds")
	}
	// Leases are per destination.
	if ok, err := o.Lease(ctx, "hook", "node-a", t0.Add(52*time.Second), t0.Add(time.Minute)); err != nil || !ok {
		t.Errorf("lease of another destination: %v %v", ok, err)
	}
}

func testOutboxInvalid(t *testing.T, o store.Outbox) {
	good := entry("hook", "a", store.OutboxNew, "{}", t0)
	for name, bad := range map[string]store.OutboxEntry{
		"no destination":   entry("", "a", store.OutboxNew, "{}", t0),
		"long destination": entry(strings.Repeat("d", store.MaxOutboxName+1), "a", store.OutboxNew, "{}", t0),
		"no finding":       entry("hook", "", store.OutboxNew, "{}", t0),
		"long finding":     entry("hook", strings.Repeat("f", 301), store.OutboxNew, "{}", t0),
		"bad kind":         entry("hook", "a", "archive", "{}", t0),
		"huge payload":     entry("hook", "a", store.OutboxNew, strings.Repeat("x", store.MaxOutboxPayload+1), t0),
	} {
		err := o.Enqueue(ctx, []store.OutboxEntry{good, bad})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if es := due(t, o, "hook", t0); len(es) != 0 {
		t.Errorf("a refused batch wrote %d entries", len(es))
	}
	for _, limit := range []int{0, -1, store.MaxOutboxLimit + 1} {
		if _, err := o.Due(ctx, "hook", t0, limit); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Due limit %d: %v", limit, err)
		}
		if _, err := o.DeadLetters(ctx, "hook", limit); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("DeadLetters limit %d: %v", limit, err)
		}
	}
	if err := o.Enqueue(ctx, nil); err != nil {
		t.Errorf("empty enqueue: %v", err)
	}
}

func testOutboxMetacharacters(t *testing.T, o store.Outbox) {
	dest := `x'); DROP TABLE outbox; --"` + "\x00\xfe"
	id := `' OR '1'='1`
	enqueue(t, o, entry(dest, id, store.OutboxNew, "\x00binary\xff", t0), entry("other", "b", store.OutboxNew, "b", t0))
	es := due(t, o, dest, t0)
	if len(es) != 1 || es[0].FindingID != id || string(es[0].Payload) != "\x00binary\xff" {
		t.Fatalf("read back %+v", es)
	}
	if got := findingIDs(due(t, o, "other", t0)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("other destination: %v", got)
	}
	if err := o.Ack(ctx, dest, es, t0); err != nil {
		t.Fatal(err)
	}
	if es := due(t, o, dest, t0); len(es) != 0 {
		t.Errorf("ack with an odd destination name left %+v", es)
	}
}

func testOutboxConcurrentEnqueue(t *testing.T, o store.Outbox) {
	// Eight writers fold into the same few findings: one entry per finding, and
	// every write lands (the revisions add up).
	const writers, rounds, findings = 8, 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				f := fmt.Sprintf("f%d", (w+r)%findings)
				if err := o.Enqueue(ctx, []store.OutboxEntry{entry("hook", f, store.OutboxUpdate, f, t0)}); err != nil {
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
	es := due(t, o, "hook", t0)
	if len(es) != findings {
		t.Fatalf("%d entries, want %d", len(es), findings)
	}
	var revs int64
	for _, e := range es {
		revs += e.Rev + 1
	}
	if revs != writers*rounds {
		t.Errorf("%d writes folded, want %d", revs, writers*rounds)
	}
}
