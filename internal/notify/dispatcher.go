package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// Destination is a place alerts go, ready to deliver to: its notifier, filter
// and delivery settings. New builds them from a Config; packages with a notifier
// of their own (internal/export) build one and use NewDispatcher.
type Destination struct {
	// Name is the destination's queue in the outbox.
	Name string
	// Kind names the notifier for stats and logs (slack, webhook, …).
	Kind     string
	Notifier Notifier
	Filter   Filter
	Delivery DeliveryConfig
}

// Options are the dispatcher-wide settings (see Config).
type Options struct {
	UpdateFrequency     time.Duration
	Linker              Linker
	DeadLetterRetention time.Duration
	PollInterval        time.Duration
}

// FindingReader reads the current state of findings; store.Store is one.
type FindingReader interface {
	Get(ctx context.Context, ids []string) ([]finding.Finding, error)
}

// Deps are the dispatcher's dependencies.
type Deps struct {
	// Outbox keeps the queued alerts. Required.
	Outbox store.Outbox
	// Findings, when set, is read before each send: an alert whose finding was
	// archived since it was queued is dropped, and the others carry the
	// finding's latest state.
	Findings FindingReader
	// Clock is the dispatcher's time; nil means the wall clock.
	Clock Clock
	// Logger receives failures and dead letters; nil discards.
	Logger *slog.Logger
	// Owner names this dispatcher in delivery leases; empty means
	// hostname-pid-random.
	Owner string
}

// Dispatcher queues alerts in the outbox and delivers them. See the package
// documentation for the policy and the guarantees.
type Dispatcher struct {
	opts    Options
	outbox  store.Outbox
	reader  FindingReader
	clock   Clock
	log     *slog.Logger
	owner   string
	workers []*worker

	running                            atomic.Bool
	ignored, enqueueErrors, storeError atomic.Int64
}

// New builds the dispatcher of cfg: it validates cfg and makes the notifiers.
// It starts nothing (see Run).
func New(cfg Config, deps Deps) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("notify config: %w", err)
	}
	freq, _ := cfg.UpdateFrequency.Duration()
	linker, _ := NewLinker(cfg.LinkURL)
	opts := Options{
		UpdateFrequency:     freq,
		Linker:              linker,
		DeadLetterRetention: time.Duration(cfg.DeadLetterRetention),
		PollInterval:        time.Duration(cfg.PollInterval),
	}
	clock := deps.Clock
	if clock == nil {
		clock = WallClock{}
	}
	dests := make([]Destination, 0, len(cfg.Destinations))
	for i := range cfg.Destinations {
		d, err := build(&cfg.Destinations[i], clock)
		if err != nil {
			return nil, fmt.Errorf("notify config: destinations[%d].%w", i, err)
		}
		dests = append(dests, d)
	}
	return NewDispatcher(opts, dests, deps)
}

// build makes the Destination of a validated DestinationConfig.
func build(dc *DestinationConfig, clock Clock) (Destination, error) {
	kind := dc.Kind()
	d := Destination{Name: dc.Name, Kind: kind, Delivery: withDefaults(dc.DeliveryConfig, kind)}
	var err error
	if d.Filter, err = NewFilter(dc.FilterConfig); err != nil {
		return d, err
	}
	timeout := time.Duration(d.Delivery.Timeout)
	switch kind {
	case "slack":
		d.Notifier = NewSlack(*dc.Slack, newHTTPClient(timeout))
	case "webhook":
		d.Notifier = NewWebhook(*dc.Webhook, newHTTPClient(timeout), clock.Now)
	case "teams":
		d.Notifier = NewTeams(*dc.Teams, newHTTPClient(timeout))
	case "pagerduty":
		d.Notifier = NewPagerDuty(*dc.PagerDuty, newHTTPClient(timeout))
	case "email":
		d.Notifier, err = NewEmail(*dc.Email, timeout, clock.Now)
	default:
		err = fmt.Errorf("name: destination %q has no notifier", dc.Name)
	}
	return d, err
}

// withDefaults fills the zero settings of c with the defaults of kind.
func withDefaults(c DeliveryConfig, kind string) DeliveryConfig {
	def := Defaults(kind)
	if c.BatchWindow == 0 {
		c.BatchWindow = def.BatchWindow
	}
	if c.RateLimit.IsZero() {
		c.RateLimit = def.RateLimit
	}
	if c.Timeout == 0 {
		c.Timeout = def.Timeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = def.MaxAttempts
	}
	if c.MaxAge == 0 {
		c.MaxAge = def.MaxAge
	}
	return c
}

// NewDispatcher returns a dispatcher for dests. It starts nothing (see Run).
func NewDispatcher(opts Options, dests []Destination, deps Deps) (*Dispatcher, error) {
	if deps.Outbox == nil {
		return nil, errors.New("notify: no outbox")
	}
	def := DefaultConfig()
	if opts.UpdateFrequency <= 0 {
		opts.UpdateFrequency, _ = def.UpdateFrequency.Duration()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Duration(def.PollInterval)
	}
	if opts.DeadLetterRetention <= 0 {
		opts.DeadLetterRetention = time.Duration(def.DeadLetterRetention)
	}
	d := &Dispatcher{opts: opts, outbox: deps.Outbox, reader: deps.Findings, clock: deps.Clock, log: deps.Logger, owner: deps.Owner}
	if d.clock == nil {
		d.clock = WallClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.owner == "" {
		d.owner = defaultOwner()
	}
	seen := make(map[string]bool)
	for _, dest := range dests {
		if dest.Name == "" || len(dest.Name) > store.MaxOutboxName || dest.Notifier == nil {
			return nil, fmt.Errorf("notify: destination %q: no name or no notifier", dest.Name)
		}
		if seen[dest.Name] {
			return nil, fmt.Errorf("notify: two destinations named %q", dest.Name)
		}
		seen[dest.Name] = true
		dest.Delivery = withDefaults(dest.Delivery, dest.Kind)
		d.workers = append(d.workers, newWorker(d, dest))
	}
	return d, nil
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Enqueue queues the alerts that the changes of one upsert call for, in one
// outbox transaction: a created or unarchived finding as a new alert due now,
// any other change as an update due at the next boundary of the update
// frequency, an archived finding not at all; for each destination whose filter
// the finding passes. Call it right after the upsert that returned res.
func (d *Dispatcher) Enqueue(ctx context.Context, res store.UpsertResult) error {
	if len(d.workers) == 0 || len(res.Changes) == 0 {
		return nil
	}
	now := d.clock.Now()
	updateDue := NextBoundary(now, d.opts.UpdateFrequency)
	var entries []store.OutboxEntry
	var counts []int // per worker: entries queued by this call
	for i := range res.Changes {
		ch := &res.Changes[i]
		f := &ch.Finding
		if f.Service.Archived {
			d.ignored.Add(1)
			continue
		}
		kind, due := store.OutboxUpdate, updateDue
		if ch.Created || ch.Unarchived {
			kind, due = store.OutboxNew, now
		}
		var payload []byte
		for wi, w := range d.workers {
			if !w.dest.Filter.Match(f) {
				w.stats.filtered.Add(1)
				continue
			}
			if payload == nil {
				var err error
				if payload, err = json.Marshal(f); err != nil {
					d.enqueueErrors.Add(1)
					return fmt.Errorf("enqueue alert for finding %s: %w", f.ID, err)
				}
			}
			if counts == nil {
				counts = make([]int, len(d.workers))
			}
			counts[wi]++
			entries = append(entries, store.OutboxEntry{
				Destination: w.dest.Name, FindingID: f.ID, Kind: kind, Payload: payload, CreatedAt: now, DueAt: due,
			})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if err := d.outbox.Enqueue(ctx, entries); err != nil {
		d.enqueueErrors.Add(1)
		return err
	}
	for wi, n := range counts {
		if n > 0 {
			d.workers[wi].stats.enqueued.Add(int64(n))
			d.workers[wi].wake()
		}
	}
	return nil
}

// Run delivers until ctx is cancelled, one worker per destination, and purges
// old dead letters. It returns nil after ctx is cancelled and every worker has
// stopped; what was not delivered stays in the outbox. Store errors are counted
// and retried, never fatal.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("notify: dispatcher already running")
	}
	defer d.running.Store(false)
	d.reportOrphans(ctx)
	var wg sync.WaitGroup
	for _, w := range d.workers {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Go(func() { d.purge(ctx) })
	wg.Wait()
	return nil
}

// reportOrphans logs queues of destinations no longer configured: renaming a
// destination leaves its alerts behind.
func (d *Dispatcher) reportOrphans(ctx context.Context) {
	depth, err := d.outbox.Depth(ctx)
	if err != nil {
		d.storeError.Add(1)
		return
	}
	for name, q := range depth {
		if !slices.ContainsFunc(d.workers, func(w *worker) bool { return w.dest.Name == name }) && q.Pending > 0 {
			d.log.Warn("outbox holds alerts for a destination that is not configured", "destination", name, "pending", q.Pending)
		}
	}
}

// purge deletes dead letters older than the retention, hourly.
func (d *Dispatcher) purge(ctx context.Context) {
	for {
		if n, err := d.outbox.PurgeDeadLetters(ctx, d.clock.Now().Add(-d.opts.DeadLetterRetention)); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.storeError.Add(1)
		} else if n > 0 {
			d.log.Info("purged old dead letters", "count", n)
		}
		t := d.clock.NewTimer(time.Hour)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// Stats are the dispatcher's counters, for metrics. Counters only grow;
// QueueDepth and DeadLetters are the latest values seen in the outbox.
type Stats struct {
	// Ignored counts changes of archived (or suppressed) findings: never sent.
	Ignored int64
	// EnqueueErrors counts Enqueue calls that failed; StoreErrors counts outbox
	// reads and writes of the workers that failed (and were retried).
	EnqueueErrors, StoreErrors int64
	Destinations               []DestinationStats
}

// DestinationStats are one destination's counters.
type DestinationStats struct {
	Name, Kind string
	// Enqueued counts alerts queued (a fold into a waiting alert counts too);
	// Filtered counts changes the destination's filter left out.
	Enqueued, Filtered int64
	// Sent counts alerts delivered, in Messages successful sends.
	Sent, Messages int64
	// Failed counts failed sends; Retried the alerts scheduled for another
	// attempt by them; DeadLettered the alerts given up on.
	Failed, Retried, DeadLettered int64
	// Skipped counts alerts dropped at delivery because their finding had been
	// archived meanwhile.
	Skipped int64
	// QueueDepth and DeadLetters are the waiting alerts and dead letters.
	QueueDepth, DeadLetters int64
	// LastError is the latest failure's message; LastSuccess the latest
	// successful send.
	LastError   string
	LastSuccess time.Time
}

// Stats returns the current counters; safe to call at any time.
func (d *Dispatcher) Stats() Stats {
	s := Stats{Ignored: d.ignored.Load(), EnqueueErrors: d.enqueueErrors.Load(), StoreErrors: d.storeError.Load()}
	for _, w := range d.workers {
		s.Destinations = append(s.Destinations, w.snapshot())
	}
	return s
}

// worker delivers for one destination; it is the only goroutine that sends to
// the destination's notifier, which is what keeps its alerts in order.
type worker struct {
	d      *Dispatcher
	dest   Destination
	signal chan struct{}
	stats  workerStats

	// Owned by the worker's goroutine.
	failures int       // consecutive failed sends
	retryAt  time.Time // no send before (backoff)
	sendAt   time.Time // no send before (rate limit)
	leaseTo  time.Time // the lease is held until
}

type workerStats struct {
	enqueued, filtered, sent, messages, failed, retried, dead, skipped atomic.Int64
	depth, deadLetters                                                 atomic.Int64
	mu                                                                 sync.Mutex
	lastError                                                          string
	lastSuccess                                                        time.Time
}

func newWorker(d *Dispatcher, dest Destination) *worker {
	return &worker{d: d, dest: dest, signal: make(chan struct{}, 1)}
}

func (w *worker) snapshot() DestinationStats {
	s := &w.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	return DestinationStats{
		Name: w.dest.Name, Kind: w.dest.Kind,
		Enqueued: s.enqueued.Load(), Filtered: s.filtered.Load(),
		Sent: s.sent.Load(), Messages: s.messages.Load(),
		Failed: s.failed.Load(), Retried: s.retried.Load(), DeadLettered: s.dead.Load(), Skipped: s.skipped.Load(),
		QueueDepth: s.depth.Load(), DeadLetters: s.deadLetters.Load(),
		LastError: s.lastError, LastSuccess: s.lastSuccess,
	}
}

// wake tells the worker that alerts were queued.
func (w *worker) wake() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// Backoff bounds: the first retry after about a second, doubling to at most
// five minutes.
const (
	backoffBase = time.Second
	backoffMax  = 5 * time.Minute
)

// backoff returns the delay before retry number n (1 for the first): full
// exponential growth with jitter in [d/2, d], so that destinations that failed
// together do not retry in lockstep.
func backoff(n int) time.Duration {
	d := backoffMax
	if n < 20 {
		d = min(backoffBase<<(n-1), backoffMax)
	}
	return d/2 + mrand.N(d/2+1)
}

// leaseTTL is how long a delivery lease lasts; longer than any send.
func (w *worker) leaseTTL() time.Duration {
	return max(30*time.Second, 3*time.Duration(w.dest.Delivery.Timeout))
}

func (w *worker) run(ctx context.Context) {
	poll := w.d.opts.PollInterval
	for ctx.Err() == nil {
		now := w.d.clock.Now()
		if !w.holdLease(ctx, now) {
			w.sleep(ctx, poll)
			continue
		}
		w.refreshDepth(ctx)
		next, ok, err := w.d.outbox.NextDue(ctx, w.dest.Name)
		if err != nil {
			w.storeFailed(ctx, err)
			w.sleep(ctx, poll)
			continue
		}
		if !ok {
			w.sleep(ctx, poll)
			continue
		}
		wake := next.Add(time.Duration(w.dest.Delivery.BatchWindow))
		if w.retryAt.After(wake) {
			wake = w.retryAt
		}
		if w.sendAt.After(wake) {
			wake = w.sendAt
		}
		if wait := wake.Sub(now); wait > 0 {
			w.sleep(ctx, min(wait, poll))
			continue
		}
		w.deliver(ctx, now)
	}
}

// sleep waits for d, a wake-up, or the end of ctx.
func (w *worker) sleep(ctx context.Context, d time.Duration) {
	t := w.d.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.signal:
	case <-t.C():
	}
}

// holdLease takes or renews the destination's lease when it runs short.
func (w *worker) holdLease(ctx context.Context, now time.Time) bool {
	ttl := w.leaseTTL()
	if w.leaseTo.Sub(now) > ttl/2 {
		return true
	}
	ok, err := w.d.outbox.Lease(ctx, w.dest.Name, w.d.owner, now, now.Add(ttl))
	if err != nil {
		w.storeFailed(ctx, err)
		return false
	}
	if !ok {
		w.leaseTo = time.Time{}
		return false
	}
	w.leaseTo = now.Add(ttl)
	return true
}

func (w *worker) refreshDepth(ctx context.Context) {
	depth, err := w.d.outbox.Depth(ctx)
	if err != nil {
		w.storeFailed(ctx, err)
		return
	}
	q := depth[w.dest.Name]
	w.stats.depth.Store(q.Pending)
	w.stats.deadLetters.Store(q.Dead)
}

func (w *worker) storeFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // shutting down
	}
	w.d.storeError.Add(1)
	w.d.log.Warn("notify: outbox", "destination", w.dest.Name, "error", err)
}

// deliver sends the due alerts of one message and records the outcome.
func (w *worker) deliver(ctx context.Context, now time.Time) {
	limit := w.dest.Notifier.MaxBatch()
	if m := w.dest.Delivery.MaxBatch; m > 0 && m < limit {
		limit = m
	}
	entries, err := w.d.outbox.Due(ctx, w.dest.Name, now, max(limit, 1))
	if err != nil {
		w.storeFailed(ctx, err)
		w.retryAt = now.Add(w.d.opts.PollInterval)
		return
	}
	if len(entries) == 0 {
		return
	}
	updateDue := NextBoundary(now, w.d.opts.UpdateFrequency)
	alerts, send, skip, corrupt, err := w.prepare(ctx, entries)
	if err != nil {
		w.storeFailed(ctx, err)
		w.retryAt = now.Add(w.d.opts.PollInterval)
		return
	}
	if len(corrupt) > 0 {
		w.giveUp(ctx, corrupt, "decode queued finding: payload is not a finding", now)
	}
	if len(skip) > 0 {
		if err := w.d.outbox.Ack(ctx, w.dest.Name, skip, updateDue); err != nil {
			w.storeFailed(ctx, err)
			return
		}
		w.stats.skipped.Add(int64(len(skip)))
	}
	if len(alerts) == 0 {
		return
	}

	sendCtx, cancel := context.WithTimeout(ctx, time.Duration(w.dest.Delivery.Timeout))
	err = w.dest.Notifier.Send(sendCtx, alerts)
	cancel()
	after := w.d.clock.Now()
	w.sendAt = after.Add(w.dest.Delivery.RateLimit.Interval())
	if err == nil {
		w.failures, w.retryAt = 0, time.Time{}
		w.stats.sent.Add(int64(len(alerts)))
		w.stats.messages.Add(1)
		w.stats.mu.Lock()
		w.stats.lastSuccess = after
		w.stats.mu.Unlock()
		// The destination has the alerts: acknowledge even when shutting
		// down, or they would be sent again at the next start.
		if err := w.d.outbox.Ack(context.WithoutCancel(ctx), w.dest.Name, send, NextBoundary(after, w.d.opts.UpdateFrequency)); err != nil {
			w.storeFailed(ctx, err)
		}
		return
	}
	if ctx.Err() != nil {
		return // interrupted by shutdown: not the destination's failure
	}
	w.failed(ctx, send, err, after)
}

// prepare turns due entries into alerts. Entries whose finding is archived now
// are returned in skip; entries whose payload is not a finding in corrupt.
func (w *worker) prepare(ctx context.Context, entries []store.OutboxEntry) (alerts []Alert, send, skip, corrupt []store.OutboxEntry, err error) {
	var fresh map[string]*finding.Finding
	if w.d.reader != nil {
		ids := make([]string, len(entries))
		for i, e := range entries {
			ids[i] = e.FindingID
		}
		fs, err := w.d.reader.Get(ctx, ids)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		fresh = make(map[string]*finding.Finding, len(fs))
		for i := range fs {
			fresh[fs[i].ID] = &fs[i]
		}
	}
	for _, e := range entries {
		var f finding.Finding
		if cur := fresh[e.FindingID]; cur != nil {
			f = *cur
		} else if err := json.Unmarshal(e.Payload, &f); err != nil || f.ID == "" {
			corrupt = append(corrupt, e)
			continue
		}
		if f.Service.Archived {
			skip = append(skip, e)
			continue
		}
		kind := KindNew
		if e.Kind == store.OutboxUpdate {
			kind = KindUpdate
		}
		alerts = append(alerts, Alert{Finding: f, Kind: kind, ID: e.ID, Rev: e.Rev, QueuedAt: e.CreatedAt, Link: w.d.opts.Linker.Link(&f)})
		send = append(send, e)
	}
	return alerts, send, skip, corrupt, nil
}

// failed records a failed send: one more attempt for each alert, dead letters
// for those out of attempts or age (or all, when the failure is permanent), and
// the time of the next try.
func (w *worker) failed(ctx context.Context, sent []store.OutboxEntry, sendErr error, now time.Time) {
	msg := sendErr.Error()
	w.failures++
	w.stats.failed.Add(1)
	w.stats.mu.Lock()
	w.stats.lastError = msg
	w.stats.mu.Unlock()

	ids := make([]int64, len(sent))
	for i, e := range sent {
		ids[i] = e.ID
	}
	if err := w.d.outbox.Fail(ctx, w.dest.Name, ids, msg); err != nil {
		w.storeFailed(ctx, err)
	}
	permanent := errors.Is(sendErr, ErrPermanent)
	var dead []store.OutboxEntry
	retried := 0
	for _, e := range sent {
		if permanent || e.Attempts+1 >= w.dest.Delivery.MaxAttempts || now.Sub(e.CreatedAt) >= time.Duration(w.dest.Delivery.MaxAge) {
			dead = append(dead, e)
		} else {
			retried++
		}
	}
	w.stats.retried.Add(int64(retried))
	if len(dead) > 0 {
		w.giveUp(ctx, dead, msg, now)
	}

	delay := backoff(w.failures)
	var ra *RetryAfterError
	if errors.As(sendErr, &ra) {
		delay = ra.After
	}
	if permanent && retried == 0 {
		delay = 0 // nothing of this message is left to retry
	}
	w.retryAt = now.Add(delay)
	w.d.log.Warn("notify: send failed", "destination", w.dest.Name, "alerts", len(sent),
		"retry_in", delay, "dead_lettered", len(dead), "error", msg)
}

func (w *worker) giveUp(ctx context.Context, entries []store.OutboxEntry, reason string, now time.Time) {
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := w.d.outbox.DeadLetter(ctx, w.dest.Name, ids, reason, now); err != nil {
		w.storeFailed(ctx, err)
		return
	}
	w.stats.dead.Add(int64(len(entries)))
	w.d.log.Error("notify: alerts dead-lettered", "destination", w.dest.Name, "alerts", len(entries), "reason", reason)
}
