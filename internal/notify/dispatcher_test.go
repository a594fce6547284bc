package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// start is the tests' clock origin: 10:00:00 UTC, a 15-minute boundary.
var start = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

// received is one alert as a webhook receiver saw it.
type received struct {
	Kind    Kind
	ID      string
	Count   int64
	Message int       // which successful request carried it (1, 2, …)
	At      time.Time // fake time of the request
}

// receiver is a webhook endpoint on 127.0.0.1 that checks what arrives: the
// signature, the headers, the payload's shape. It answers with status (200
// when 0) and records the alerts of the requests it accepts.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *fakeClock
	secret string

	mu         sync.Mutex
	status     int
	retryAfter string
	requests   []time.Time // fake time of every request
	got        []received
	messages   int
	problems   []string
}

func newReceiver(t *testing.T, clock *fakeClock, secret string) *receiver {
	r := &receiver{t: t, clock: clock, secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.requests = append(r.requests, now)
	problem := func(format string, args ...any) { r.problems = append(r.problems, fmt.Sprintf(format, args...)) }
	switch {
	case err != nil:
		problem("read body: %v", err)
	case req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json":
		problem("%s with content type %q", req.Method, req.Header.Get("Content-Type"))
	case r.secret != "":
		if err := VerifySignature([]byte(r.secret), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, now, 5*time.Minute); err != nil {
			problem("signature: %v", err)
		}
	}
	if r.status != 0 && r.status != http.StatusOK {
		if r.retryAfter != "" {
			w.Header().Set("Retry-After", r.retryAfter)
		}
		w.WriteHeader(r.status)
		fmt.Fprint(w, "not now")
		return
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		problem("payload: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if p.Version != "1" || p.Delivery == "" || p.Delivery != req.Header.Get(HeaderDelivery) || len(p.Alerts) == 0 {
		problem("payload envelope %+v, delivery header %q", p, req.Header.Get(HeaderDelivery))
	}
	r.messages++
	for _, a := range p.Alerts {
		r.got = append(r.got, received{Kind: a.Kind, ID: a.Finding.ID, Count: a.Finding.Service.Count, Message: r.messages, At: now})
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) set(status int, retryAfter string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.retryAfter = status, retryAfter
}

func (r *receiver) alerts() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) requestTimes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// check fails the test for anything wrong the receiver saw.
func (r *receiver) check() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		r.t.Error("receiver: " + p)
	}
}

// harness runs a dispatcher on a real SQLite store with a fake clock.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	path   string
	st     *sqlite.Store
	d      *Dispatcher
	cancel context.CancelFunc
	done   chan struct{}
	// sleepers is how many timers the dispatcher holds when idle: one per
	// destination and the dead-letter purge.
	sleepers int
	// noReader leaves Deps.Findings unset: alerts carry the queued payload.
	noReader bool
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, clock: newFakeClock(start), path: filepath.Join(t.TempDir(), "vigil.db")}
	h.open()
	t.Cleanup(func() {
		h.stop()
		_ = h.st.Close()
	})
	return h
}

func (h *harness) open() {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: h.path})
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
}

// build makes the dispatcher of cfg without running it.
func (h *harness) build(cfg Config) {
	h.t.Helper()
	deps := Deps{Outbox: h.st.Outbox(), Findings: h.st, Clock: h.clock, Owner: "test"}
	if h.noReader {
		deps.Findings = nil
	}
	d, err := New(cfg, deps)
	if err != nil {
		h.t.Fatal(err)
	}
	h.d = d
	h.sleepers = len(cfg.Destinations) + 1
}

// run starts the dispatcher and waits until it sleeps.
func (h *harness) run() {
	h.t.Helper()
	created, _, _ := h.clock.state()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		if err := h.d.Run(ctx); err != nil {
			h.t.Error(err)
		}
	}()
	h.clock.waitIdle(h.t, created+h.sleepers-1, h.sleepers)
}

func (h *harness) start(cfg Config) {
	h.build(cfg)
	h.run()
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

// upsert stores findings at the fake time, enqueues the result and waits until
// the dispatcher sleeps again.
func (h *harness) upsert(fs ...finding.Finding) store.UpsertResult {
	h.t.Helper()
	res, err := h.st.Upsert(context.Background(), fs, finding.TimeOf(h.clock.Now()))
	if err != nil {
		h.t.Fatal(err)
	}
	created, _, _ := h.clock.state()
	before := enqueued(h.d)
	if err := h.d.Enqueue(context.Background(), res); err != nil {
		h.t.Fatal(err)
	}
	if h.cancel != nil && enqueued(h.d) > before { // a worker was woken
		h.clock.waitIdle(h.t, created, h.sleepers)
	}
	return res
}

// enqueued is the total of the destinations' Enqueued counters.
func enqueued(d *Dispatcher) int64 {
	var n int64
	for _, s := range d.Stats().Destinations {
		n += s.Enqueued
	}
	return n
}

// step advances the fake clock by d and waits until the dispatcher sleeps.
func (h *harness) step(d time.Duration) {
	h.t.Helper()
	created, _, _ := h.clock.state()
	if h.clock.Advance(d) > 0 && h.cancel != nil {
		h.clock.waitIdle(h.t, created, h.sleepers)
	}
}

// stepUntil steps by d until cond holds, for at most limit of fake time.
func (h *harness) stepUntil(d, limit time.Duration, what string, cond func() bool) {
	h.t.Helper()
	for waited := time.Duration(0); !cond(); waited += d {
		if waited > limit {
			h.t.Fatalf("%s: not after %s of fake time", what, limit)
		}
		h.step(d)
	}
}

// net returns n distinct findings (distinct remote addresses).
func nets(t *testing.T, n int, typ finding.Type) []finding.Finding {
	out := make([]finding.Finding, n)
	for i := range out {
		out[i] = storetest.NetFinding(t, typ, "111122223333", "i-0123456789abcdef0", fmt.Sprintf("198.51.100.%d", i+1), finding.TimeOf(start))
	}
	return out
}

func ids(fs []finding.Finding) []string {
	out := make([]string, len(fs))
	for i := range fs {
		out[i] = fs[i].ID
	}
	return out
}

func webhookConfig(url, secret string, fc FilterConfig, dc DeliveryConfig) Config {
	cfg := DefaultConfig()
	cfg.Destinations = []DestinationConfig{{
		Name: "hook", Webhook: &WebhookConfig{URL: Secret(url), Secret: Secret(secret)}, FilterConfig: fc, DeliveryConfig: dc,
	}}
	return cfg
}

func destStats(t *testing.T, d *Dispatcher, name string) DestinationStats {
	t.Helper()
	for _, s := range d.Stats().Destinations {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stats for %s", name)
	return DestinationStats{}
}

// TestOutageFiveMinutes is the reliability property of the issue: a webhook
// destination that is down for five minutes receives every alert once it is
// back, in order, with no duplicates; repeats during the outage fold into the
// alert that waits, and the retries back off rather than hammer the endpoint.
func TestOutageFiveMinutes(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock, "s3cret")
	h.start(webhookConfig(rcv.srv.URL, "s3cret", FilterConfig{}, DeliveryConfig{}))
	fs := nets(t, 32, "UnauthorizedAccess:EC2/SSHBruteForce")

	// Up: the first two go out at once.
	h.upsert(fs[0])
	h.upsert(fs[1])
	h.stepUntil(time.Second, time.Minute, "first alerts", func() bool { return len(rcv.alerts()) == 2 })

	// Down for five minutes, while findings keep coming: a new one every 10
	// seconds, some repeating (they fold into their waiting alert), and a repeat
	// of fs[0], which was delivered (an update, due at the next boundary).
	rcv.set(http.StatusServiceUnavailable, "")
	down := h.clock.Now()
	requestsBefore := len(rcv.requestTimes())
	repeated := map[string]bool{}
	for i := 2; i < len(fs); i++ {
		h.upsert(fs[i])
		if i%3 == 0 {
			h.upsert(fs[i-1])
			repeated[fs[i-1].ID] = true
		}
		if i == 10 {
			h.upsert(fs[0])
		}
		h.step(10 * time.Second)
	}
	if d := h.clock.Now().Sub(down); d < 5*time.Minute {
		t.Fatalf("outage lasted %s", d)
	}
	if got := len(rcv.alerts()); got != 2 {
		t.Fatalf("%d alerts accepted during the outage", got)
	}
	tries := len(rcv.requestTimes()) - requestsBefore
	if tries == 0 || tries > 15 {
		t.Errorf("%d attempts during a 5-minute outage; want a few, backing off", tries)
	}
	s := destStats(t, h.d, "hook")
	if s.QueueDepth != 31 || s.Failed == 0 || s.DeadLettered != 0 {
		t.Errorf("stats during the outage: %+v", s)
	}

	// Back: everything arrives, in order, once.
	rcv.set(http.StatusOK, "")
	back := h.clock.Now()
	h.stepUntil(5*time.Second, 10*time.Minute, "alerts after the outage", func() bool { return len(rcv.alerts()) == 32 })
	if d := h.clock.Now().Sub(back); d > 5*time.Minute+10*time.Second {
		t.Errorf("delivered %s after the destination came back; backoff is capped at 5m", d)
	}
	got := rcv.alerts()
	var order []string
	for _, a := range got {
		order = append(order, a.ID)
		if a.Kind != KindNew {
			t.Errorf("alert of %s is %s, want new", a.ID, a.Kind)
		}
		want := int64(1)
		if repeated[a.ID] {
			want = 2
		}
		if a.Count != want {
			t.Errorf("alert of %s carries count %d, want %d (the latest state)", a.ID, a.Count, want)
		}
	}
	if !slices.Equal(order, ids(fs)) {
		t.Errorf("order after the outage:\n got %v\nwant %v", order, ids(fs))
	}
	if n := got[len(got)-1].Message - got[2].Message + 1; n > 3 {
		t.Errorf("the backlog of 30 took %d messages; want it batched", n)
	}

	// The repeat of fs[0] goes out at the next 15-minute boundary, once.
	boundary := NextBoundary(back, 15*time.Minute)
	h.stepUntil(10*time.Second, 20*time.Minute, "update of fs[0]", func() bool { return len(rcv.alerts()) == 33 })
	up := rcv.alerts()[32]
	if up.ID != fs[0].ID || up.Kind != KindUpdate || up.Count != 2 || up.At.Before(boundary) {
		t.Errorf("update %+v, want fs[0] as an update with count 2 at or after %v", up, boundary)
	}
	h.step(time.Hour)
	if n := len(rcv.alerts()); n != 33 {
		t.Errorf("%d alerts after another hour, want 33 (no duplicates)", n)
	}
	s = destStats(t, h.d, "hook")
	if s.Sent != 33 || s.QueueDepth != 0 || s.DeadLettered != 0 || s.Retried == 0 {
		t.Errorf("final stats %+v", s)
	}
	rcv.check()
}

// TestRestartKeepsAlerts stops the dispatcher with undelivered alerts, closes
// and reopens the store as a restarted vigil would, and checks that the new
// dispatcher delivers them all, in order, once.
func TestRestartKeepsAlerts(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock, "")
	cfg := webhookConfig(rcv.srv.URL, "", FilterConfig{}, DeliveryConfig{})
	h.start(cfg)
	rcv.set(http.StatusInternalServerError, "")
	fs := nets(t, 10, "Recon:EC2/Portscan")
	for i := range fs {
		h.upsert(fs[i])
		h.step(3 * time.Second)
	}
	if len(rcv.alerts()) != 0 || len(rcv.requestTimes()) == 0 {
		t.Fatalf("before the restart: %d alerts, %d requests", len(rcv.alerts()), len(rcv.requestTimes()))
	}
	h.stop()
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}

	h.open()
	rcv.set(http.StatusOK, "")
	h.start(cfg)
	h.stepUntil(time.Second, time.Minute, "alerts after the restart", func() bool { return len(rcv.alerts()) == 10 })
	h.step(time.Hour)
	var order []string
	for _, a := range rcv.alerts() {
		order = append(order, a.ID)
	}
	if !slices.Equal(order, ids(fs)) {
		t.Errorf("after the restart:\n got %v\nwant %v", order, ids(fs))
	}
	rcv.check()
}

// TestUpdatePolicy: new findings go out at once; repeats of a delivered finding
// wait for the next boundary of the update frequency and go out once, with the
// latest count; archived findings never go out, also when archived while
// their alert waits.
func TestUpdatePolicy(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock, "")
	cfg := webhookConfig(rcv.srv.URL, "", FilterConfig{}, DeliveryConfig{})
	cfg.UpdateFrequency = OneHour
	h.start(cfg)
	fs := nets(t, 3, "UnauthorizedAccess:EC2/SSHBruteForce")

	h.upsert(fs[0])
	h.step(time.Second)
	if got := rcv.alerts(); len(got) != 1 || got[0].Kind != KindNew || !got[0].At.Equal(start) {
		t.Fatalf("new finding: %+v, want one new alert at %v", got, start)
	}
	// Three repeats within the hour: one update at 11:00 with count 4.
	for range 3 {
		h.step(10 * time.Minute)
		h.upsert(fs[0])
	}
	h.step(25 * time.Minute) // 10:55
	if n := len(rcv.alerts()); n != 1 {
		t.Fatalf("%d alerts before the boundary", n)
	}
	h.stepUntil(time.Minute, 10*time.Minute, "update", func() bool { return len(rcv.alerts()) == 2 })
	if up := rcv.alerts()[1]; up.Kind != KindUpdate || up.Count != 4 || up.At.Before(start.Add(time.Hour)) {
		t.Errorf("update %+v, want count 4 at 11:00", up)
	}

	// A suppressed occurrence (archived by a rule as it is written) is never sent.
	sup := fs[1]
	sup.Service.Archived = true
	h.upsert(sup)
	// A finding archived by the user while its update waits is not sent either.
	h.upsert(fs[2])
	h.step(time.Second)
	h.upsert(fs[2])
	if _, err := h.st.Archive(context.Background(), []string{fs[2].ID}); err != nil {
		t.Fatal(err)
	}
	h.step(2 * time.Hour)
	var got []string
	for _, a := range rcv.alerts() {
		got = append(got, a.ID+"/"+string(a.Kind))
	}
	want := []string{fs[0].ID + "/new", fs[0].ID + "/update", fs[2].ID + "/new"}
	if !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
	s := h.d.Stats()
	if s.Ignored != 1 || s.Destinations[0].Skipped != 1 {
		t.Errorf("stats %+v: want 1 ignored (suppressed) and 1 skipped (archived while waiting)", s)
	}
	rcv.check()
}

// TestFilters: minimum severity and type patterns per destination.
func TestFilters(t *testing.T) {
	h := newHarness(t)
	cfg := DefaultConfig()
	cfg.Destinations = []DestinationConfig{
		{Name: "high", Webhook: &WebhookConfig{URL: "http://127.0.0.1:1/"}, FilterConfig: FilterConfig{MinSeverity: "high"}},
		{Name: "no-recon", Webhook: &WebhookConfig{URL: "http://127.0.0.1:1/"}, FilterConfig: FilterConfig{ExcludeTypes: []string{"Recon:*"}}},
		{Name: "ec2-only", Webhook: &WebhookConfig{URL: "http://127.0.0.1:1/"},
			FilterConfig: FilterConfig{IncludeTypes: []string{"*:EC2/*"}, ExcludeTypes: []string{"*BruteForce"}}},
	}
	h.build(cfg)
	low := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-1", "198.51.100.1", finding.TimeOf(start)) // severity 2
	recon := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.2", finding.TimeOf(start))                 // 5
	high := storetest.NetFinding(t, "Backdoor:EC2/C&CActivity.B", "111122223333", "i-1", "198.51.100.3", finding.TimeOf(start))          // 8
	iam := storetest.APIFinding(t, "UnauthorizedAccess:IAMUser/TorIPCaller", "111122223333", "AKIAEXAMPLE", "198.51.100.4", finding.TimeOf(start))
	h.upsert(low, recon, high, iam)
	want := map[string][]string{
		"high":     {high.ID},
		"no-recon": {low.ID, high.ID, iam.ID},
		"ec2-only": {recon.ID, high.ID},
	}
	for dest, wantIDs := range want {
		es, err := h.st.Outbox().Due(context.Background(), dest, start, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.FindingID)
		}
		slices.Sort(got)
		slices.Sort(wantIDs)
		if !slices.Equal(got, wantIDs) {
			t.Errorf("%s queued %v, want %v", dest, got, wantIDs)
		}
	}
	if s := destStats(t, h.d, "high"); s.Enqueued != 1 || s.Filtered != 3 {
		t.Errorf("high: %+v", s)
	}
}

// TestRetryAfter: a 429 with Retry-After holds the destination for that long.
func TestRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.noReader = true // and the alerts come from the outbox's payload
	rcv := newReceiver(t, h.clock, "")
	h.start(webhookConfig(rcv.srv.URL, "", FilterConfig{}, DeliveryConfig{}))
	rcv.set(http.StatusTooManyRequests, "120")
	f := nets(t, 1, "Recon:EC2/Portscan")[0]
	h.upsert(f)
	h.step(time.Second)
	rcv.set(http.StatusOK, "")
	h.stepUntil(5*time.Second, 5*time.Minute, "retry", func() bool { return len(rcv.alerts()) == 1 })
	if a := rcv.alerts()[0]; a.ID != f.ID || a.Kind != KindNew || a.Count != 1 {
		t.Errorf("alert from the payload %+v", a)
	}
	times := rcv.requestTimes()
	if len(times) != 2 {
		t.Fatalf("%d requests, want 2", len(times))
	}
	if d := times[1].Sub(times[0]); d < 120*time.Second || d > 130*time.Second {
		t.Errorf("retried after %s, want Retry-After's 120s", d)
	}
	if s := destStats(t, h.d, "hook"); s.Failed != 1 || s.Retried != 1 || !strings.Contains(s.LastError, "429") {
		t.Errorf("stats %+v", s)
	}
	rcv.check()
}

// TestDeadLetters: a permanent refusal dead-letters at once; transient failures
// after max_attempts. The dead letter keeps the last error, which names no
// secret.
func TestDeadLetters(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock, "")
	url := rcv.srv.URL + "/hooks/T000/B000/SECRETTOKEN"
	h.start(webhookConfig(url, "", FilterConfig{}, DeliveryConfig{MaxAttempts: 3}))
	fs := nets(t, 2, "Recon:EC2/Portscan")

	rcv.set(http.StatusNotFound, "")
	h.upsert(fs[0])
	h.step(time.Second)
	if n := len(rcv.requestTimes()); n != 1 {
		t.Fatalf("%d requests for a 404, want 1 (permanent)", n)
	}

	rcv.set(http.StatusInternalServerError, "")
	h.upsert(fs[1])
	h.stepUntil(10*time.Second, 10*time.Minute, "dead letter", func() bool { return destStats(t, h.d, "hook").DeadLettered == 2 })
	if n := len(rcv.requestTimes()); n != 4 {
		t.Errorf("%d requests, want 1 + 3 attempts", n)
	}
	dl, err := h.st.Outbox().DeadLetters(context.Background(), "hook", 10)
	if err != nil || len(dl) != 2 {
		t.Fatalf("dead letters %+v %v", dl, err)
	}
	for _, d := range dl {
		if strings.Contains(d.LastError, "SECRETTOKEN") || strings.Contains(d.LastError, "127.0.0.1:") && strings.Contains(d.LastError, "/hooks") {
			t.Errorf("dead letter error reveals the URL: %q", d.LastError)
		}
	}
	if dl[0].FindingID != fs[1].ID || dl[0].Attempts != 3 || !strings.Contains(dl[0].LastError, "HTTP 500") {
		t.Errorf("newest dead letter %+v", dl[0])
	}
	if dl[1].FindingID != fs[0].ID || dl[1].Attempts != 1 || !strings.Contains(dl[1].LastError, "HTTP 404") {
		t.Errorf("oldest dead letter %+v", dl[1])
	}
	// Requeued, they go out once the destination works.
	rcv.set(http.StatusOK, "")
	if n, err := h.st.Outbox().Requeue(context.Background(), "hook", h.clock.Now()); err != nil || n != 2 {
		t.Fatalf("requeue %d %v", n, err)
	}
	h.stepUntil(5*time.Second, time.Minute, "requeued alerts", func() bool { return len(rcv.alerts()) == 2 })
	rcv.check()
}

// TestRateLimitAndBatching: alerts that wait for the rate limit or the batching
// window share a message.
func TestRateLimitAndBatching(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock, "")
	h.start(webhookConfig(rcv.srv.URL, "", FilterConfig{}, DeliveryConfig{RateLimit: Rate{N: 1, Per: time.Minute}, BatchWindow: Duration(5 * time.Second)}))
	fs := nets(t, 8, "Recon:EC2/Portscan")

	// The batching window: a and b, 2 seconds apart, share the first message.
	h.upsert(fs[0])
	h.step(2 * time.Second)
	h.upsert(fs[1])
	h.stepUntil(time.Second, time.Minute, "first message", func() bool { return len(rcv.alerts()) == 2 })
	// The rate limit: six more within the minute wait for it and share the
	// second message.
	for _, f := range fs[2:] {
		h.step(5 * time.Second)
		h.upsert(f)
	}
	h.stepUntil(5*time.Second, 2*time.Minute, "second message", func() bool { return len(rcv.alerts()) == 8 })
	got := rcv.alerts()
	perMessage := map[int]int{}
	for _, a := range got {
		perMessage[a.Message]++
	}
	if len(perMessage) != 2 || perMessage[1] != 2 || perMessage[2] != 6 {
		t.Errorf("alerts per message %v, want {1:2 2:6}", perMessage)
	}
	if gap := got[2].At.Sub(got[0].At); gap < time.Minute {
		t.Errorf("second message %s after the first, rate limit is 1/m", gap)
	}
	rcv.check()
}

// TestTwoDispatchersOneStore: two dispatchers on one database (two processes)
// deliver each alert once: the lease lets one of them send.
func TestTwoDispatchersOneStore(t *testing.T) {
	h := newHarness(t)
	rcv := newReceiver(t, h.clock, "")
	cfg := webhookConfig(rcv.srv.URL, "", FilterConfig{}, DeliveryConfig{})
	h.start(cfg)

	other, err := sqlite.Open(context.Background(), sqlite.Config{Path: h.path})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	d2, err := New(cfg, Deps{Outbox: other.Outbox(), Findings: other, Clock: h.clock, Owner: "other"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	created, _, _ := h.clock.state()
	go func() { defer close(done); _ = d2.Run(ctx) }()
	h.sleepers *= 2
	h.clock.waitIdle(t, created+1, h.sleepers)
	defer func() { cancel(); <-done }()

	fs := nets(t, 12, "Recon:EC2/Portscan")
	for i, f := range fs {
		res, err := h.st.Upsert(context.Background(), []finding.Finding{f}, finding.TimeOf(h.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		d := h.d
		if i%2 == 1 {
			d = d2 // the other process raised this one
		}
		if err := d.Enqueue(context.Background(), res); err != nil {
			t.Fatal(err)
		}
		h.step(6 * time.Second)
	}
	h.stepUntil(5*time.Second, 2*time.Minute, "all alerts", func() bool { return len(rcv.alerts()) >= 12 })
	h.step(time.Minute)
	var order []string
	for _, a := range rcv.alerts() {
		order = append(order, a.ID)
	}
	if !slices.Equal(order, ids(fs)) {
		t.Errorf("two dispatchers delivered\n %v\nwant\n %v", order, ids(fs))
	}
	if a, b := destStats(t, h.d, "hook").Sent, destStats(t, d2, "hook").Sent; a+b != 12 || b != 0 {
		t.Errorf("sent by the first %d, by the second %d; want 12 by the lease holder only", a, b)
	}
	rcv.check()
}
