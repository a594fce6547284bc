// Package pipeline is vigil serve's live path: continuous sources feed the
// detection engine, and the occurrences it raises are committed to the store
// together with the sources' positions, so that a restart — clean, or after a
// kill -9 — loses no record and counts none twice.
//
// # The commit protocol
//
// Sources hand input in chunks through lanes (ingest.Lane). A lane holds the
// pipeline's gate (a read lock) while a chunk is decoded and processed, then
// records the stream's position after it and a mark: that position with the
// latest event time the stream has shown so far. Every CommitInterval, and
// as soon as a new finding waits (at most four times an interval), the
// committer
//
//  1. takes the gate (write lock): no chunk is half-way;
//  2. runs the engine's barrier (detect.Engine.Barrier): every record before
//     the gate has been observed, the engine's watermarks have been applied
//     in full (what is past them has expired and closed), and every
//     occurrence raised has been collected;
//  3. takes those occurrences, the streams' positions and the watermarks
//     applied, and releases the gate;
//  4. writes occurrences and one checkpoint holding every stream's positions
//     in one transaction (store.UpsertWithCheckpoint, guarded by the previous
//     checkpoint so that a second writer or a replayed commit is refused).
//
// A commit therefore covers exactly the input before its positions, and
// exactly the occurrences closed at or below its watermarks (the live
// watermark never goes back, and ticks wait for the barrier). What it does not
// cover is the engine's open state: windows still counting, bursts not yet
// over. That state is rebuilt, not saved: each stream's checkpoint also holds
// a Replay position, the latest mark whose records are all older than the
// horizon — the engine's watermark less the longest time detection state can
// depend on a record (twice the longest rule window plus the lateness, capped
// by MaxReplay) — and the event time there (From).
//
// After a restart every source re-reads its streams from Replay to Next
// (ingest.Source's contract), and the engine rebuilds its windows. The replay
// gives detection the records in about the order it first saw them, since its
// state depends on that order: a source re-reads one chunk at a time from the
// stream whose re-read records are the earliest in event time
// (Sink.ReplayFirst), and the engine's watermarks are held (holdReplay) at
// the committed ones and below every stream with input left to re-read, as
// that stream's clock would hold them if it were being read. The occurrences
// raised meanwhile — committed before the restart — are dropped. When every
// source is done, the engine's watermarks are brought exactly to the
// committed ones (detect.Engine.AdvanceWatermarks), so that what had closed
// before the restart closes again and is dropped too; then new input flows
// and commits resume. A burst that was open at the crash is therefore raised
// once, after the restart, with its records from before and after. The
// limits: state that depends on records older than MaxReplay (a baseline
// learned over a day) is rebuilt only from what is re-read, and a stream
// whose input is gone (a rotated file since deleted) cannot be re-read.
//
// Streams are idle when the pipeline says so (Engine.Idle), not after a while
// without records: once the source has read the stream to its end
// (Sink.Pending) and no chunk has come for detect.Config.IdleAfter, or when
// its replay is over. A stream read slowly still holds the watermark back.
//
// # Contracts
//
//   - New is inert. Run starts the engine and the sources, commits, and on
//     cancellation stops the sources (each finishes its chunk), commits what
//     they read, and closes the engine without committing its open windows
//     (the next start rebuilds them). Run returns nil after a clean stop.
//   - Back-pressure: a lane blocks in Chunk while the engine's queues are full;
//     nothing between sources and detection is unbounded. Occurrences wait for
//     the next commit in memory; a store that keeps failing makes that grow, so
//     after MaxPending occurrences lanes wait for a commit to succeed.
//   - A failed commit is retried with backoff, with everything since added:
//     the union is still a consistent cut. Sources that fail are restarted with
//     backoff; the others go on.
//   - Deps.OnCommit runs on the committer's goroutine after each commit, in
//     commit order; it must not block for long (notifiers queue).
package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/obs"
	"github.com/vigil-dev/vigil/internal/record"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config configures the pipeline.
type Config struct {
	// Name names the checkpoint ("pipeline/NAME" in the store's checkpoints):
	// two pipelines on one store need different names.
	Name string `yaml:"name"`
	// CommitInterval is how often occurrences and positions are committed; it
	// bounds how long a finding waits between detection and the store. A new
	// finding is committed sooner: at once, or a quarter of the interval
	// after the previous commit, whichever is later.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// TickInterval is how often event time moves on for quiet streams.
	TickInterval time.Duration `yaml:"tick_interval"`
	// MaxReplay caps how much event time is re-read after a restart to rebuild
	// detection state.
	MaxReplay time.Duration `yaml:"max_replay"`
	// MaxPending bounds the occurrences waiting for a commit; at the bound,
	// lanes wait for a commit to succeed.
	MaxPending int `yaml:"max_pending"`
}

// DefaultConfig returns the defaults: commits every 200 ms, a tick a second,
// at most an hour re-read after a restart.
func DefaultConfig() Config {
	return Config{Name: "serve", CommitInterval: 200 * time.Millisecond, TickInterval: time.Second, MaxReplay: time.Hour, MaxPending: 100_000}
}

// Validate checks the configuration; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	if c.CommitInterval < 10*time.Millisecond || c.CommitInterval > time.Minute {
		errs = append(errs, fmt.Errorf("commit_interval: %s is outside 10ms–1m", c.CommitInterval))
	}
	if c.TickInterval < 100*time.Millisecond || c.TickInterval > time.Minute {
		errs = append(errs, fmt.Errorf("tick_interval: %s is outside 100ms–1m", c.TickInterval))
	}
	if c.MaxReplay < 0 {
		errs = append(errs, fmt.Errorf("max_replay: %s is negative", c.MaxReplay))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("max_pending: %d must be at least 1", c.MaxPending))
	}
	return errors.Join(errs...)
}

// NamedSource is a source with the name its streams are checkpointed under.
type NamedSource struct {
	Name   string
	Source ingest.Source
}

// Deps are the pipeline's dependencies.
type Deps struct {
	// Detect configures the engine (Live is set by the pipeline).
	Detect    detect.Config
	Rules     *detect.RuleSet
	Inventory *inventory.Inventory
	Intel     *intel.Set
	Store     store.Store
	Sources   []NamedSource
	// BeforeStore, if set, sees each occurrence before it is stored, on the
	// committer's goroutine: suppression rules archive occurrences here
	// (Service.Archived).
	BeforeStore func(*finding.Finding)
	// OnCommit, if set, is called after each successful commit with what it
	// did (notifiers and responders start from it).
	OnCommit func(ctx context.Context, res store.UpsertResult)
	// Log receives the pipeline's events; nil means slog.Default().
	Log *slog.Logger
	// Metrics, if set, counts what moves (NewMetrics).
	Metrics *Metrics
}

// Pipeline is the live path. See the package documentation.
type Pipeline struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	m    *Metrics
	eng  *detect.Engine

	// gate: lanes hold it shared for a chunk, the committer exclusively for
	// the barrier.
	gate sync.RWMutex

	mu        sync.Mutex
	streams   map[streamKey]*stream
	left      map[streamKey]*stream // streams with input left to re-read
	pending   []*finding.Finding
	replaying bool
	dirty     bool // positions changed since the last commit
	saved     checkpoint
	savedRaw  []byte // the stored checkpoint, the guard of the next commit
	fresh     map[string]bool
	replayCh  chan struct{} // closed when the replay is over
	waiting   int           // sources that have not finished replaying
	commitCh  chan struct{} // closed and replaced at each commit
	found     chan struct{} // a new finding waits for a commit (commitLoop)
	handed    uint64        // chunks handed in
	committed uint64        // chunks covered by the last commit
	stopped   bool          // the engine failed: no more commits

	writer   string // this run's identity in checkpoints
	srcs     map[streamKey]*srcUse
	freeSrcs []int
	nextSrc  int
	ready    atomic.Bool
	started  atomic.Bool
	problems *obs.Throttle // bad records, logged at a bounded rate
	// idleAfter is detect.Config.IdleAfter: how long a stream read to its
	// end goes without a chunk before it stops holding the watermark back.
	idleAfter time.Duration
}

type streamKey struct{ source, stream string }

// stream is one stream's checkpoint state.
type stream struct {
	next []byte // position after the last chunk (nil: the stream's start)
	base []byte // replay position when no mark qualifies (nil: start)
	// baseTime is the event time of the records at base: the latest event
	// time before it, or at the stream's start the earliest of its first
	// records (baseKnown once set).
	baseTime  int64
	baseKnown bool
	marks     []mark // oldest first
	maxTime   int64  // latest event time seen in the stream
	gone      bool   // forgotten: dropped at the next commit
	// savedNext is the committed Next during the replay: chunks before it do
	// not move next.
	savedNext []byte
	replaying bool
	// replayAt is how far the replay has got in the stream, in event time:
	// baseTime, then the latest event time re-read (Sink.ReplayFirst).
	replayAt int64
	// left: the replay has input of the stream left to re-read; inFlight:
	// chunks of it being processed now. A stream with input left that is not
	// being read holds the watermark back at replayAt (holdReplay).
	left     bool
	inFlight int
	kind     record.Kind // of the stream's last records (0: not known)
}

// srcUse is the detection engine's stream (Process's src) a source's stream
// is read as. Each stream has its own event-time clock in the engine, so a
// file continued by another reading goroutine keeps its clock, and a finished
// one soon stops holding the watermark back. Ids of streams idle for long are
// reused, which bounds the engine's per-stream state by the streams read at
// once rather than by all streams ever read.
//
// Which streams are idle is the pipeline's call, not the engine's (whose
// IdleAfter is set beyond reach): a stream is idle once it has been read to
// the end of what its source has (Sink.Pending) and no chunk of it has come
// for detect.Config.IdleAfter. A stream with input in hand holds the
// watermark back however slowly it is read — a rotated file's tail read
// alongside its successor on a busy machine — or what it is about to give
// would come after the watermark passed it.
type srcUse struct {
	src     int
	busy    int
	last    time.Time // the end of the stream's last chunk
	pending bool      // the source has more of the stream in hand
	idle    bool      // the engine was told (Engine.Idle)
}

// srcIdle is how long a stream goes unread before its engine stream id is
// reused (the engine no longer counts it in the watermark well before).
const srcIdle = time.Minute

// mark is a position after a chunk and the latest event time before it.
type mark struct {
	pos     []byte
	maxTime int64
}

// maxMarks bounds the marks kept per stream; beyond it every other one is
// dropped (keeping the oldest), which only makes the replay start earlier.
const maxMarks = 256

// New returns an inert pipeline.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if deps.Store == nil || deps.Rules == nil {
		return nil, errors.New("pipeline: a store and rules are required")
	}
	names := map[string]bool{}
	for _, s := range deps.Sources {
		if s.Name == "" || names[s.Name] {
			return nil, fmt.Errorf("pipeline: source name %q is empty or repeated", s.Name)
		}
		names[s.Name] = true
	}
	p := &Pipeline{cfg: cfg, deps: deps, log: deps.Log, m: deps.Metrics, streams: map[streamKey]*stream{}, left: map[streamKey]*stream{},
		fresh: map[string]bool{}, replayCh: make(chan struct{}), commitCh: make(chan struct{}), found: make(chan struct{}, 1), srcs: map[streamKey]*srcUse{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.m == nil {
		p.m = NewMetrics(nil)
	}
	p.problems = obs.NewThrottle(logWriter{p.log})
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	p.writer = hex.EncodeToString(id[:])
	dc := deps.Detect
	dc.Live = true
	p.idleAfter = dc.IdleAfter
	if p.idleAfter <= 0 {
		p.idleAfter = 10 * time.Second
	}
	dc.IdleAfter = neverIdle // the pipeline says which streams are idle
	eng, err := detect.New(dc, detect.Deps{Rules: deps.Rules, Inventory: deps.Inventory, Intel: deps.Intel, OnFinding: p.collect})
	if err != nil {
		return nil, err
	}
	p.eng = eng
	return p, nil
}

// checkpointName is the store's name for the pipeline's checkpoint.
func (p *Pipeline) checkpointName() string { return "pipeline/" + p.cfg.Name }

// Ready reports whether the pipeline has finished replaying and takes new input.
func (p *Pipeline) Ready() bool { return p.ready.Load() }

// Run runs the pipeline until ctx is cancelled; see the package documentation.
func (p *Pipeline) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return errors.New("pipeline: Run called twice")
	}
	if err := p.load(ctx); err != nil {
		return err
	}
	if err := p.republish(ctx); err != nil {
		return err
	}
	engCtx, engCancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer engCancel(errors.New("pipeline stopped"))
	p.eng.Start(engCtx)

	srcCtx, srcCancel := context.WithCancel(ctx)
	defer srcCancel()
	var srcWG sync.WaitGroup
	for _, s := range p.deps.Sources {
		srcWG.Go(func() { p.superviseSource(srcCtx, s) })
	}
	if len(p.deps.Sources) == 0 {
		p.endReplay()
	}

	fatal := make(chan error, 1)
	var loopWG sync.WaitGroup
	loopCtx, loopCancel := context.WithCancel(context.WithoutCancel(ctx))
	loopWG.Go(func() {
		if err := p.commitLoop(loopCtx, ctx); err != nil {
			fatal <- err
		}
	})
	loopWG.Go(func() { p.tickLoop(loopCtx) })

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-fatal:
	}
	// Stop the sources first: each finishes the chunk in hand.
	srcCancel()
	srcWG.Wait()
	loopCancel()
	loopWG.Wait()
	if runErr == nil {
		// The last commit covers everything the sources read.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		runErr = p.commitUntilDone(fctx)
		cancel()
	}
	// Open windows are not committed: the next start re-reads their input.
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	if _, err := p.eng.Close(); err != nil && runErr == nil && !errors.Is(err, context.Canceled) {
		runErr = err
	}
	return runErr
}

// load reads the checkpoint and prepares the replay.
func (p *Pipeline) load(ctx context.Context) error {
	raw, ok, err := p.deps.Store.GetCheckpoint(ctx, p.checkpointName())
	if err != nil {
		return fmt.Errorf("read checkpoint %s: %w", p.checkpointName(), err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaying = true
	p.waiting = len(p.deps.Sources)
	for _, s := range p.deps.Sources {
		p.fresh[s.Name] = true
	}
	if !ok {
		return nil
	}
	var cp checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil || cp.Version != checkpointVersion {
		return fmt.Errorf("read checkpoint %s: not a checkpoint of this vigil (version %d, %v)", p.checkpointName(), cp.Version, err)
	}
	p.saved, p.savedRaw = cp, raw
	for src, streams := range cp.Streams {
		p.fresh[src] = false
		for name, pos := range streams {
			replaying := !bytes.Equal(pos.Replay, pos.Next)
			kind, _ := record.ParseKind(pos.Kind)
			st := &stream{next: pos.Next, base: pos.Replay, savedNext: pos.Next,
				baseTime: pos.From, baseKnown: true, replayAt: pos.From, replaying: replaying, left: replaying, kind: kind}
			p.streams[streamKey{src, name}] = st
			if replaying {
				p.left[streamKey{src, name}] = st
			}
		}
	}
	for _, s := range p.deps.Sources {
		if _, ok := cp.Streams[s.Name]; !ok && cp.Sources[s.Name] {
			p.fresh[s.Name] = false
		}
	}
	// Re-reading committed input must not close what the last run had not.
	return p.holdReplay()
}

// holdReplay limits the engine's watermarks while the replay runs: to the
// last commit's (what that run had not closed must not close), and, for each
// stream with input left to re-read and not being read now, to the event time
// the replay has got to in it, less the lateness — as a stream being read
// holds its kind's watermark back with its clock. Otherwise a stream re-read
// ahead of the others, or a chunk that jumps ahead in event time, would
// expire and close state that records yet to be re-read belong to, and
// that closing would be dropped as a replay's. The caller holds p.mu.
func (p *Pipeline) holdReplay() error {
	if !p.replaying {
		return nil
	}
	lateness := p.deps.Detect.Lateness
	if lateness <= 0 {
		lateness = detect.DefaultConfig().Lateness
	}
	wms := kindWatermarks(p.saved.Watermarks)
	for _, st := range p.left {
		if st.inFlight > 0 {
			continue
		}
		hold := st.replayAt - lateness.Milliseconds()
		for _, k := range record.Kinds {
			if st.kind != 0 && st.kind != k {
				continue
			}
			if cur, ok := wms[k]; !ok || hold < cur {
				wms[k] = hold
			}
		}
	}
	return p.eng.LimitWatermarks(wms)
}

// replayOver notes that a stream has no input left to re-read: it no longer
// holds the watermark back as one (holdReplay), and unless its source has
// more of it in hand (Sink.Pending: what came after the last commit), the
// engine takes it as idle at once — it gets no records until the replay is
// over. The caller holds p.mu.
func (p *Pipeline) replayOver(key streamKey, st *stream) {
	if !st.left {
		return
	}
	st.left = false
	delete(p.left, key)
	if u := p.srcs[key]; u != nil && !u.idle && !u.pending {
		u.idle = true
		p.eng.Idle(u.src)
	}
}

// superviseSource runs a source, restarting it with backoff when it fails.
func (p *Pipeline) superviseSource(ctx context.Context, s NamedSource) {
	sk := &sink{p: p, source: s.Name}
	defer sk.replayDone()
	backoff := time.Second
	for {
		start := time.Now()
		err := s.Source.Run(ctx, sk)
		sk.stopped()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			p.log.Info("source ended", "source", s.Name)
			return
		}
		p.m.sourceRestarts.WithLabelValues(s.Name).Inc()
		// A source that fails before finishing its replay resumes from its
		// Next positions: the replay is over for it.
		sk.replayDone()
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		p.log.Error("source failed; restarting", "source", s.Name, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// collect is the engine's OnFinding.
func (p *Pipeline) collect(f *finding.Finding) {
	p.mu.Lock()
	p.pending = append(p.pending, f)
	n := len(p.pending)
	replaying := p.replaying
	p.mu.Unlock()
	if !f.Continues { // the rest of an occurrence already counted
		p.m.occurrences.Inc()
		if !replaying {
			select { // an alert is waiting: commit soon (commitLoop)
			case p.found <- struct{}{}:
			default:
			}
		}
	}
	p.m.pending.Set(float64(n))
}

// endReplay finishes the replay once every source has re-read its input: the
// engine is brought to the committed watermarks, what it raises until then is
// dropped, and new input may flow.
func (p *Pipeline) endReplay() {
	p.gate.Lock()
	defer p.gate.Unlock()
	ctx := context.Background()
	err := p.eng.Sync(ctx)
	if err == nil && len(p.saved.Watermarks) > 0 {
		// Limited to the saved watermarks and advanced to them, the engine
		// closes exactly what the last commit had closed.
		saved := kindWatermarks(p.saved.Watermarks)
		if err = p.eng.LimitWatermarks(saved); err == nil {
			err = p.eng.AdvanceWatermarks(saved)
		}
		if err == nil {
			err = p.eng.Sync(ctx)
		}
	}
	p.mu.Lock()
	dropped := len(p.pending)
	p.pending = nil
	p.replaying = false
	for _, st := range p.streams {
		if st.replaying {
			st.replaying = false
			st.next = st.savedNext
		}
		st.savedNext, st.left = nil, false
	}
	clear(p.left)
	if err != nil {
		p.stopped = true
	}
	p.mu.Unlock()
	p.m.replayDropped.Add(float64(dropped))
	p.m.pending.Set(0)
	if dropped > 0 {
		p.log.Info("replay done", "occurrences_dropped", dropped)
	}
	p.ready.Store(true)
	close(p.replayCh)
}

// kindWatermarks turns a checkpoint's watermarks into the engine's.
func kindWatermarks(saved map[string]int64) map[record.Kind]int64 {
	wms := map[record.Kind]int64{}
	for name, wm := range saved {
		if k, err := record.ParseKind(name); err == nil {
			wms[k] = wm
		}
	}
	return wms
}

// tickLoop moves event time on for quiet streams.
func (p *Pipeline) tickLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !p.ready.Load() {
				continue
			}
			p.mu.Lock()
			p.idleStreams(now)
			p.mu.Unlock()
			// Not during a commit's barrier: the watermarks it saves must be
			// the ones applied when it collects.
			p.gate.RLock()
			err := p.eng.Tick(now)
			p.gate.RUnlock()
			if err != nil {
				return
			}
			st := p.eng.LiveStats()
			p.m.stateKeys.Set(float64(st.Keys))
			for k, wm := range p.eng.Watermarks() {
				p.m.watermark.WithLabelValues(k.String()).Set(float64(wm) / 1000)
			}
		}
	}
}

// commitLoop commits every CommitInterval, and when detection raises a new
// finding: at once, or a quarter of the interval after the previous commit,
// so that a burst of findings makes at most four commits an interval. An
// alert then waits for the source's poll and one commit, not for the next
// tick as well. A failure is retried with backoff. It returns an error only
// when committing cannot go on (another writer).
func (p *Pipeline) commitLoop(ctx, runCtx context.Context) error {
	t := time.NewTimer(p.cfg.CommitInterval)
	defer t.Stop()
	minGap := p.cfg.CommitInterval / 4
	var last time.Time // when the previous commit ended
	backoff := p.cfg.CommitInterval
	var retryAt time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.found:
			if wait := time.Until(last.Add(minGap)); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
		}
		t.Reset(p.cfg.CommitInterval)
		if !p.ready.Load() || time.Now().Before(retryAt) {
			continue
		}
		err := p.commit(runCtx)
		last = time.Now()
		switch {
		case err == nil:
			backoff, retryAt = p.cfg.CommitInterval, time.Time{}
		case errors.Is(err, errFenced):
			return err
		case runCtx.Err() != nil:
			return nil
		default:
			p.log.Error("commit failed; retrying", "err", err, "in", backoff)
			retryAt = time.Now().Add(backoff)
			backoff = min(2*backoff, 30*time.Second)
		}
	}
}

// commitUntilDone makes the final commit, retrying until ctx ends.
func (p *Pipeline) commitUntilDone(ctx context.Context) error {
	if !p.ready.Load() {
		return nil // still replaying: the stored checkpoint stays as it was
	}
	backoff := 100 * time.Millisecond
	for {
		err := p.commit(ctx)
		if err == nil || errors.Is(err, errFenced) {
			return err
		}
		p.log.Error("final commit failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("final commit: %w", err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// errFenced is a checkpoint someone else moved: committing must stop.
var errFenced = errors.New("the checkpoint was changed by another writer (is another vigil serve using this store with the same pipeline name?)")

// commit runs one commit; see the package documentation.
func (p *Pipeline) commit(ctx context.Context) error {
	// 1–3: the barrier. It also applies the watermarks it returns in full, so
	// that the occurrences collected are exactly those closed at or below the
	// watermarks saved: what a restart closes again and drops.
	p.gate.Lock()
	wms, err := p.eng.Barrier(ctx)
	if err != nil {
		p.gate.Unlock()
		return fmt.Errorf("detection barrier: %w", err)
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		p.gate.Unlock()
		return errors.New("the pipeline stopped after a detection failure")
	}
	occ := p.pending
	p.pending = nil
	handed := p.handed
	dirty := p.dirty
	p.dirty = false
	horizon := p.horizon(wms)
	cp := checkpoint{Version: checkpointVersion, Writer: p.writer, Watermarks: map[string]int64{}, Streams: map[string]map[string]position{}, Sources: map[string]bool{}}
	for k, wm := range wms {
		cp.Watermarks[k.String()] = wm
	}
	for _, s := range p.deps.Sources {
		cp.Sources[s.Name] = true
	}
	for key, st := range p.streams {
		if st.gone {
			delete(p.streams, key)
			continue
		}
		if cp.Streams[key.source] == nil {
			cp.Streams[key.source] = map[string]position{}
		}
		replay, from := st.replayPos(horizon)
		pos := position{Next: st.next, Replay: replay, From: from}
		if st.kind != 0 {
			pos.Kind = st.kind.String()
		}
		cp.Streams[key.source][key.stream] = pos
	}
	guard := p.savedRaw
	p.releaseIdleSrcs(time.Now())
	p.mu.Unlock()
	p.gate.Unlock()
	p.m.pending.Set(0)

	if len(occ) == 0 && !dirty {
		p.noteCommitted(handed)
		return nil
	}
	fs := make([]finding.Finding, len(occ))
	for i, f := range occ {
		if p.deps.BeforeStore != nil {
			p.deps.BeforeStore(f)
		}
		fs[i] = *f
		if p.deps.OnCommit != nil {
			if cp.Publish == nil {
				cp.Publish = map[string]int64{}
			}
			cp.Publish[f.ID] += f.Occurrences()
		}
	}
	raw, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	start := time.Now()
	res, err := p.deps.Store.UpsertWithCheckpoint(ctx, fs, finding.Time(time.Now().UnixMilli()),
		store.Checkpoint{Source: p.checkpointName(), Position: raw, Guarded: true, Expect: guard})
	if errors.Is(err, store.ErrCheckpointConflict) {
		// A commit whose success was lost (a cancel racing it) left our own
		// checkpoint; anything else is another writer.
		stored, ok, gerr := p.deps.Store.GetCheckpoint(context.WithoutCancel(ctx), p.checkpointName())
		if gerr == nil && ok && bytes.Equal(stored, raw) {
			err, res = nil, store.UpsertResult{}
			p.log.Warn("a commit's success was not reported; its notifications are skipped", "occurrences", len(occ))
		} else {
			p.m.commits.WithLabelValues("fenced").Inc()
			return errFenced
		}
	}
	if err != nil {
		// Keep the occurrences for the next commit, before any raised since.
		p.mu.Lock()
		p.pending = append(occ, p.pending...)
		p.dirty = true
		n := len(p.pending)
		p.mu.Unlock()
		p.m.pending.Set(float64(n))
		p.m.commits.WithLabelValues("error").Inc()
		return fmt.Errorf("commit %d occurrences: %w", len(occ), err)
	}
	p.m.commitSeconds.Observe(time.Since(start).Seconds())
	p.m.commits.WithLabelValues("ok").Inc()
	p.m.checkpointBytes.Set(float64(len(raw)))
	p.m.committed.WithLabelValues("created").Add(float64(res.Created))
	p.m.committed.WithLabelValues("updated").Add(float64(res.Updated))
	p.mu.Lock()
	p.savedRaw = raw
	p.mu.Unlock()
	p.noteCommitted(handed)
	if p.deps.OnCommit != nil && len(res.Changes) > 0 {
		p.deps.OnCommit(ctx, res)
	}
	if len(cp.Publish) > 0 {
		// The next commit clears the list, even with nothing else to write.
		p.mu.Lock()
		p.dirty = true
		p.mu.Unlock()
	}
	return nil
}

// republish hands OnCommit again the changes of the last commit before a
// restart, which a crash may have kept from being queued.
func (p *Pipeline) republish(ctx context.Context) error {
	if p.deps.OnCommit == nil || len(p.saved.Publish) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(p.saved.Publish))
	fs, err := p.deps.Store.Get(ctx, ids)
	if err != nil {
		return fmt.Errorf("read the findings of the last commit: %w", err)
	}
	res := store.UpsertResult{}
	for _, f := range fs {
		created := f.Service.Count == p.saved.Publish[f.ID]
		res.Changes = append(res.Changes, store.Change{Finding: f, Created: created})
		if created {
			res.Created++
		} else {
			res.Updated++
		}
	}
	if len(res.Changes) > 0 {
		p.log.Info("handing on again the changes of the last commit before the restart", "findings", len(res.Changes))
		p.deps.OnCommit(ctx, res)
	}
	p.mu.Lock()
	p.dirty = true // the first commit clears the list
	p.mu.Unlock()
	return nil
}

// noteCommitted wakes WaitCommitted callers covered by a commit.
func (p *Pipeline) noteCommitted(handed uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if handed > p.committed {
		p.committed = handed
	}
	close(p.commitCh)
	p.commitCh = make(chan struct{})
}

// horizon is the event time before which no record can matter to detection
// state any more; math.MinInt64 when there is no watermark yet.
func (p *Pipeline) horizon(wms map[record.Kind]int64) int64 {
	if len(wms) == 0 {
		return -1 << 63
	}
	lowest := int64(1<<63 - 1)
	for _, wm := range wms {
		lowest = min(lowest, wm)
	}
	keep := p.deps.Detect.Lateness
	if keep <= 0 {
		keep = detect.DefaultConfig().Lateness
	}
	var longest time.Duration
	for _, r := range p.deps.Rules.Rules {
		if r.Enabled {
			longest = max(longest, r.Window)
		}
	}
	keep += 2 * longest
	keep = min(keep, p.cfg.MaxReplay)
	return lowest - keep.Milliseconds()
}

// replayPos returns where the stream must be re-read from after a restart —
// the latest mark all of whose records are older than horizon — and the event
// time there. Marks before it are dropped. The caller holds p.mu.
func (st *stream) replayPos(horizon int64) ([]byte, int64) {
	i := -1
	for j, m := range st.marks {
		if m.maxTime >= horizon {
			break
		}
		i = j
	}
	if i < 0 {
		return st.base, st.baseTime
	}
	st.base, st.baseTime, st.baseKnown = st.marks[i].pos, st.marks[i].maxTime, true
	st.marks = slices.Delete(st.marks, 0, i)
	return st.base, st.baseTime
}

// addMark records a chunk's end. The caller holds p.mu.
func (st *stream) addMark(pos []byte, maxTime int64) {
	st.maxTime = max(st.maxTime, maxTime)
	if len(st.marks) >= maxMarks {
		kept := st.marks[:1]
		for i := 2; i < len(st.marks); i += 2 {
			kept = append(kept, st.marks[i])
		}
		st.marks = kept
	}
	st.marks = append(st.marks, mark{pos: pos, maxTime: st.maxTime})
}

// checkpointVersion changes when the checkpoint's meaning changes.
const checkpointVersion = 1

// checkpoint is what the store keeps for the pipeline.
type checkpoint struct {
	Version int `json:"v"`
	// Writer identifies the run that wrote it, so that a run recognises its
	// own checkpoint (a commit whose success was not reported) and nobody
	// else's.
	Writer string `json:"writer"`
	// Watermarks are the engine's, per kind name, at the commit.
	Watermarks map[string]int64 `json:"wm,omitempty"`
	// Streams are the positions per source, per stream.
	Streams map[string]map[string]position `json:"streams,omitempty"`
	// Sources lists the sources that have run, so that a source without
	// streams is not taken for a first start.
	Sources map[string]bool `json:"sources,omitempty"`
	// Publish lists the findings this commit changed, with the count it added
	// to each, until they have been handed to Deps.OnCommit (the next commit
	// clears it). A restart hands them again: alerts are not lost by a crash
	// between a commit and the queueing of its alerts (they may be queued
	// twice). A finding whose stored count is the count added was created by
	// the commit.
	Publish map[string]int64 `json:"publish,omitempty"`
}

type position struct {
	Next   []byte `json:"next,omitempty"`
	Replay []byte `json:"replay,omitempty"`
	// From is the event time (Unix ms) of the records at Replay: the replay
	// re-reads streams in event-time order from there (Sink.ReplayFirst).
	From int64 `json:"from,omitempty"`
	// Kind is the kind of the stream's records ("flow"…), when known: a
	// stream not re-read yet holds back that kind's watermark only.
	Kind string `json:"kind,omitempty"`
}

// sink is a source's view of the pipeline.
type sink struct {
	p      *Pipeline
	source string
	once   sync.Once
}

var _ ingest.Sink = (*sink)(nil)

func (s *sink) Resume(name string) (ingest.Resume, bool) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	st := s.p.streams[streamKey{s.source, name}]
	if st == nil || st.gone {
		return ingest.Resume{}, false
	}
	if st.replaying {
		return ingest.Resume{Replay: st.base, Next: st.savedNext}, true
	}
	return ingest.Resume{Replay: st.next, Next: st.next}, true
}

func (s *sink) ReplayFirst(streams []string) string {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	// The streams not named have no input left to re-read.
	named := make(map[string]bool, len(streams))
	for _, name := range streams {
		named[name] = true
	}
	for key, st := range s.p.left {
		if key.source == s.source && !named[key.stream] && st.inFlight == 0 {
			s.p.replayOver(key, st)
		}
	}
	if err := s.p.holdReplay(); err != nil {
		s.p.log.Error("replay: limit the watermarks", "err", err)
	}
	first, at := "", int64(0)
	for _, name := range streams {
		t := int64(1<<63 - 1) // not being replayed: last
		if st := s.p.streams[streamKey{s.source, name}]; st != nil && st.replaying {
			t = st.replayAt
		}
		if first == "" || t < at || t == at && name < first {
			first, at = name, t
		}
	}
	return first
}

func (s *sink) Pending(name string, more bool) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if u := s.p.srcs[streamKey{s.source, name}]; u != nil {
		u.pending = more
	}
}

// stopped releases what the source's streams held: a source that stopped
// reads none of them now.
func (s *sink) stopped() {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	for key, u := range s.p.srcs {
		if key.source == s.source {
			u.pending = false
		}
	}
}

func (s *sink) Streams() []string {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	var out []string
	for k, st := range s.p.streams {
		if k.source == s.source && !st.gone {
			out = append(out, k.stream)
		}
	}
	slices.Sort(out)
	return out
}

func (s *sink) Fresh() bool {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return s.p.fresh[s.source]
}

func (s *sink) Forget(name string) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if st := s.p.streams[streamKey{s.source, name}]; st != nil {
		st.gone = true
		s.p.dirty = true
	}
	if u := s.p.srcs[streamKey{s.source, name}]; u != nil {
		u.pending = false
	}
}

func (s *sink) Report(pr decode.Problem) {
	s.p.m.problems.WithLabelValues(s.source, pr.Reason).Inc()
	s.p.problems.Printf(pr.Reason, "%s: %s", s.source, pr)
}

// logWriter turns the throttle's lines into warnings.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	w.log.Warn("bad input", "problem", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// replayDone marks the source's replay over, once.
func (s *sink) replayDone() {
	s.once.Do(func() {
		s.p.mu.Lock()
		for key, st := range s.p.left {
			if key.source == s.source {
				s.p.replayOver(key, st)
			}
		}
		if err := s.p.holdReplay(); err != nil {
			s.p.log.Error("replay: limit the watermarks", "err", err)
		}
		s.p.waiting--
		last := s.p.waiting == 0
		s.p.mu.Unlock()
		if last {
			s.p.endReplay()
		}
	})
}

func (s *sink) ReplayDone(ctx context.Context) error {
	s.replayDone()
	select {
	case <-s.p.replayCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *sink) WaitCommitted(ctx context.Context) error {
	s.p.mu.Lock()
	target := s.p.handed
	s.p.mu.Unlock()
	for {
		s.p.mu.Lock()
		done, ch, stopped := s.p.committed >= target, s.p.commitCh, s.p.stopped
		s.p.mu.Unlock()
		if done {
			return nil
		}
		if stopped {
			return errors.New("the pipeline stopped before committing")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *sink) NewLane() ingest.Lane { return &lane{sink: s} }

// lane is one reading goroutine's way in.
type lane struct{ sink *sink }

// acquireSrc returns the engine stream of a source's stream, marked busy.
// The caller holds p.mu.
func (p *Pipeline) acquireSrc(key streamKey) *srcUse {
	u := p.srcs[key]
	if u == nil {
		u = &srcUse{}
		if n := len(p.freeSrcs); n > 0 {
			u.src, p.freeSrcs = p.freeSrcs[n-1], p.freeSrcs[:n-1]
		} else {
			p.nextSrc++
			u.src = p.nextSrc
		}
		p.srcs[key] = u
	}
	u.busy++
	u.last, u.idle = time.Now(), false
	return u
}

// neverIdle is the engine's IdleAfter: the pipeline tells it which streams
// are idle (idleStreams).
const neverIdle = 100 * 365 * 24 * time.Hour

// idleStreams tells the engine which streams became idle: read to the end of
// what their source has, and no chunk for idleAfter. The caller holds p.mu.
func (p *Pipeline) idleStreams(now time.Time) {
	for _, u := range p.srcs {
		if !u.idle && u.busy == 0 && !u.pending && now.Sub(u.last) >= p.idleAfter {
			u.idle = true
			p.eng.Idle(u.src)
		}
	}
}

// releaseIdleSrcs frees the engine streams of streams unread for srcIdle.
// The caller holds p.mu.
func (p *Pipeline) releaseIdleSrcs(now time.Time) {
	for key, u := range p.srcs {
		if u.busy == 0 && !u.pending && now.Sub(u.last) > srcIdle {
			delete(p.srcs, key)
			p.freeSrcs = append(p.freeSrcs, u.src)
		}
	}
}

func (l *lane) Chunk(name string, pos []byte, dec func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error)) error {
	p := l.sink.p
	m := p.m
	source := l.sink.source
	// Occurrences piling up behind a failing store: wait for a commit.
	for {
		p.mu.Lock()
		over, ch, stopped := len(p.pending) >= p.cfg.MaxPending && !p.replaying, p.commitCh, p.stopped
		p.mu.Unlock()
		if stopped {
			return errors.New("pipeline stopped")
		}
		if !over {
			break
		}
		<-ch
	}
	key := streamKey{source, name}
	p.mu.Lock()
	use := p.acquireSrc(key)
	replayed := p.streams[key]
	if replayed != nil && replayed.left {
		// Being read, the stream holds the watermark back with its clock.
		replayed.inFlight++
		if err := p.holdReplay(); err != nil {
			p.mu.Unlock()
			return err
		}
	} else {
		replayed = nil
	}
	p.mu.Unlock()
	p.gate.RLock()
	defer p.gate.RUnlock()
	var maxTime, minTime int64 = -1 << 63, 1<<63 - 1
	var processed int64
	var kind record.Kind
	var emitErr error
	ctx := context.Background() // a chunk is never abandoned half-way
	st, err := dec(ctx, func(b *decode.Batch) error {
		if b.Len() > 0 {
			kind = b.Kind
		}
		for i := range b.Len() {
			ts := b.At(i).Timestamp()
			maxTime, minTime = max(maxTime, ts), min(minTime, ts)
		}
		processed += int64(b.Len())
		if err := p.eng.Process(use.src, b); err != nil {
			emitErr = err
			return err
		}
		return nil
	}, func(pr decode.Problem) {
		p.problems.Printf(pr.Reason, "%s", pr)
	})
	m.records.WithLabelValues(source).Add(float64(processed))
	for reason, n := range st.Skipped {
		m.skipped.WithLabelValues(source, reason).Add(float64(n))
	}
	m.bytes.WithLabelValues(source).Add(float64(st.Bytes))
	m.chunks.WithLabelValues(source).Inc()
	if err != nil && emitErr == nil {
		// The decoder gave up on the rest of the chunk (a bad gzip header):
		// what it emitted is in, the rest is skipped, and the stream moves on.
		l.sink.Report(decode.Problem{Input: name, Reason: "unreadable input", Detail: err.Error()})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	use.busy--
	use.last = time.Now()
	if replayed != nil {
		replayed.inFlight--
		if processed > 0 {
			replayed.replayAt = max(replayed.replayAt, maxTime)
		}
		defer func() {
			if err := p.holdReplay(); err != nil {
				p.log.Error("replay: limit the watermarks", "err", err)
			}
		}()
	}
	if emitErr != nil {
		// Records before the failure reached detection: the stream's position
		// can no longer be trusted, so nothing more is committed.
		p.stopped = true
		return fmt.Errorf("chunk of %s %s: %w", source, name, emitErr)
	}
	p.handed++
	if pos == nil {
		return nil
	}
	s := p.streams[key]
	if s == nil || s.gone {
		s = &stream{}
		p.streams[key] = s
	}
	if !s.replaying {
		s.next = pos
	}
	if kind != 0 {
		s.kind = kind
	}
	if s.base == nil && !s.baseKnown && processed > 0 {
		s.baseTime, s.baseKnown = minTime, true
	}
	s.addMark(pos, maxTime)
	p.dirty = true
	return nil
}
