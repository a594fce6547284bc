package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/record"
)

// Config configures an Engine. The zero value of a field means its default.
type Config struct {
	// Shards is the number of workers that own detection state; 0 means one per
	// CPU. Records are routed to a shard by the hash of their entity key, so all
	// records of one key meet in one place and no state needs a lock.
	Shards int
	// QueueBatches bounds each shard's queue of pending batches (back-pressure:
	// Process blocks when a shard is that far behind). 0 means 4.
	QueueBatches int
	// Lateness is how late a record may arrive, in event time, behind the latest
	// one of its stream and still be counted where it belongs. The watermark is
	// the stream clock minus Lateness; keys idle for their TTL behind the
	// watermark are expired. 0 means 10 minutes.
	Lateness time.Duration
	// MaxKeys caps the keys each detection holds (over all shards). At the cap
	// the coldest key is evicted (and counted) to make room. 0 means 100,000.
	MaxKeys int
	// Since and Until (Unix ms, both inclusive, 0 = open) drop records outside
	// the time range, as --since/--until do.
	Since, Until int64
	// Region is the region of findings whose records do not say it (flow logs
	// before version 4 without an inventory). "" means "unknown".
	Region string
	// DetectorID is the GuardDuty detector ID in finding ARNs; "" derives one from
	// the account (finding.DetectorID).
	DetectorID string
	// Live runs the engine without an end (vigil serve): occurrences go to
	// Deps.OnFinding only and are not kept for Close, so memory does not grow
	// with the input; Tick, Sync and the watermark controls become usable, and
	// streams idle for IdleAfter stop holding the watermark back (live.go).
	Live bool
	// IdleAfter is how long (wall time) a stream may go without records before
	// it stops holding its kind's watermark back (live mode); 0 means 10 s.
	IdleAfter time.Duration
	// RaiseAtThreshold, in live mode, raises an occurrence also when it opens
	// (its threshold crossed), and its close then raises only the rest, as
	// continuations (early.go): an alert seconds after the record that crossed
	// the threshold, not a window after the burst ends.
	RaiseAtThreshold bool
	// Ordered gives the shards every record in the inputs' order
	// (decode.Input.Seq), whatever the number of callers of Process and
	// however they are scheduled, so that the same input always gives the same
	// findings (order.go). The caller reports each input read with Done.
	// Not with Live.
	Ordered bool
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{QueueBatches: 4, Lateness: 10 * time.Minute, MaxKeys: 100_000}
}

func (c Config) withDefaults() Config {
	if c.Shards <= 0 {
		c.Shards = runtime.GOMAXPROCS(0)
	}
	if c.QueueBatches <= 0 {
		c.QueueBatches = 4
	}
	if c.Lateness <= 0 {
		c.Lateness = 10 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 100_000
	}
	if c.Region == "" {
		c.Region = "unknown"
	}
	if c.IdleAfter <= 0 {
		c.IdleAfter = 10 * time.Second
	}
	return c
}

// Deps are the engine's dependencies. Only Rules is required.
type Deps struct {
	// Rules are the detections to run (LoadRules); disabled rules are skipped.
	Rules *RuleSet
	// Inventory describes the estate (may be nil): it names the instance behind an
	// address or interface, recognises NAT gateways, and gives instances' egress
	// addresses.
	Inventory *inventory.Inventory
	// Intel answers threat-list look-ups (may be nil: the threat-list detections
	// then find nothing).
	Intel *intel.Set
	// OnFinding, if set, receives every occurrence as it is found, from one
	// goroutine, before aggregation (for live use). Close still returns the
	// aggregated findings.
	OnFinding func(*finding.Finding)
}

// Stats are the engine's counters.
type Stats struct {
	Records  map[record.Kind]int64 // records given to detectors, by kind
	Skipped  map[string]int64      // records no detection could use, by reason
	Findings int64                 // occurrences raised (before aggregation; continuations not counted)
	Rules    []RuleStats           // per enabled rule, in rule order
}

// RuleStats are one detection's counters.
type RuleStats struct {
	ID          string
	Matched     int64            // records that passed the filter and reached the state
	Occurrences int64            // findings raised
	Missing     map[string]int64 // records skipped because they lack a field the rule needs, by field
	Keys        int              // keys held now
	Evicted     uint64           // keys evicted at the MaxKeys cap (coldest first)
	Expired     uint64           // keys expired after being idle
}

// Engine runs detections over records. See the package documentation for the
// model and the contracts.
type Engine struct {
	cfg    Config
	ranged bool // Since or Until is set
	deps   Deps
	dets   []*detEntry
	// byKind lists the indexes of enabled detections per kind.
	byKind [4][]int
	// flowCands lists, per flow view class (rec.class) and protocol (256: the
	// record has none), the flow detections whose gate admits such records, in
	// detection order: the router calls only those (gate.go).
	flowCands [8][257]*flowCandList

	ctx    context.Context
	cancel context.CancelCauseFunc
	shards []*shard
	wg     sync.WaitGroup
	out    chan collected
	outWG  sync.WaitGroup

	order *sequencer // Config.Ordered

	mu      sync.Mutex
	routers map[int]*router
	clocks  map[int]*streamClock
	// floor is, per kind, the lowest watermark allowed (AdvanceWatermarks);
	// ceiling, when set, the highest (LimitWatermarks).
	floor      [4]int64
	ceiling    [4]int64
	hasCeiling bool
	nOcc       atomic.Int64 // occurrences delivered by the collector

	occ      []*finding.Finding // every occurrence, for Close
	started  atomic.Bool
	closed   atomic.Bool
	nRecords [4]atomic.Int64
	skipMu   sync.Mutex
	skips    map[string]int64
}

// detEntry is one enabled detection: its rule, the routing half of its detector
// (used concurrently by routers) and its per-shard state.
type detEntry struct {
	rule *Rule
	det  detector
	gate flowGate // flows: what route surely turns away (gate.go)
	occ  atomic.Int64
	// missing counts records skipped for lacking a field, per field the rule
	// reads (its groupBy fields, then its threshold field); lock-free because
	// routers of several streams count at once.
	missing []atomic.Int64
	// memoMatch, when set, is the rule's match with the conjuncts it shares
	// with other rules evaluated once per record (flowfilter.go).
	memoMatch func(*rec) bool
}

// match reports whether a record passes the detection's filter.
func (d *detEntry) match(r *rec) bool {
	if d.memoMatch != nil {
		return d.memoMatch(r)
	}
	return d.rule.match(r)
}

// miss counts a record that lacks the i-th field the rule reads (see missing).
func (d *detEntry) miss(i int) { d.missing[i].Add(1) }

// missedFields names the fields of missing.
func (d *detEntry) missedFields() []string {
	var names []string
	for _, g := range d.rule.groupBy {
		names = append(names, g.name)
	}
	if f := d.rule.Threshold.field; f != nil {
		names = append(names, f.name)
	}
	return names
}

// New returns an inert engine (no goroutines, no I/O) for the enabled rules of
// deps.Rules. It fails if a rule cannot be built (a detector's parameters are
// invalid).
func New(cfg Config, deps Deps) (*Engine, error) {
	cfg = cfg.withDefaults()
	if deps.Rules == nil {
		return nil, errors.New("detect: no rules")
	}
	e := &Engine{cfg: cfg, ranged: cfg.Since != 0 || cfg.Until != 0, deps: deps, routers: map[int]*router{}, clocks: map[int]*streamClock{}, skips: map[string]int64{}}
	for _, r := range deps.Rules.Rules {
		if !r.Enabled {
			continue
		}
		d, err := buildDetector(r, e)
		if err != nil {
			return nil, err
		}
		e.byKind[r.Kind] = append(e.byKind[r.Kind], len(e.dets))
		de := &detEntry{rule: r, det: d}
		if r.Kind == record.KindFlow {
			de.gate = newFlowGate(r, d)
		}
		de.missing = make([]atomic.Int64, len(de.missedFields()))
		e.dets = append(e.dets, de)
	}
	e.buildFlowCands()
	e.buildMemoMatch()
	if cfg.Ordered {
		if cfg.Live {
			return nil, errors.New("detect: Ordered and Live together")
		}
		e.order = newSequencer()
	}
	return e, nil
}

// Start starts the shard workers. ctx bounds them: when it is cancelled the
// workers stop, Process returns the cancellation, and Close returns what was found
// until then with the context's error.
func (e *Engine) Start(ctx context.Context) {
	if !e.started.CompareAndSwap(false, true) {
		panic("BUG: detect: Engine started twice")
	}
	e.ctx, e.cancel = context.WithCancelCause(ctx)
	if e.order != nil {
		e.order.wakeOnCancel(e.ctx)
	}
	e.out = make(chan collected, 64)
	e.outWG.Go(func() {
		for c := range e.out {
			for _, f := range c.fs {
				if e.deps.OnFinding != nil {
					e.deps.OnFinding(f)
				}
				if !f.Continues {
					e.nOcc.Add(1)
				}
				if !e.cfg.Live {
					e.occ = append(e.occ, f)
				}
			}
			if c.synced != nil {
				close(c.synced)
			}
		}
	})
	perShard := max(1, e.cfg.MaxKeys/e.cfg.Shards)
	e.shards = make([]*shard, e.cfg.Shards)
	for i := range e.shards {
		s := &shard{e: e, idx: i, in: make(chan *shardBatch, e.cfg.QueueBatches)}
		s.env = shardEnv{e: e, maxKeys: perShard, early: e.cfg.Live && e.cfg.RaiseAtThreshold}
		s.dets = make([]shardDetector, len(e.dets))
		for j, d := range e.dets {
			s.dets[j] = d.det.newShard(&s.env, j)
		}
		e.shards[i] = s
		e.wg.Go(s.run)
	}
}

// router is the routing state of one input stream (Process's src): the views of
// the chunk being routed, shard batches being filled, the slabs routed records
// are copied into, and skip counts. It is used by one goroutine at a time.
type router struct {
	pending []*shardBatch
	// recs are the views of the records of the chunk being routed, and moved
	// the copies of flow records re-addressed by their packet-level addresses
	// (the caller's batch is never written); hits the detections the record
	// being routed goes to. All are scratch, reused from chunk to chunk.
	recs  []rec
	moved []record.Flow
	hits  []hit
	// copies holds the slab copy of each routed record of the chunk.
	copies []*rec
	// free holds this router's slabs that the shards are done with, the most
	// recently released last: reused first, while its memory is still in the
	// caches.
	free      *slabStack
	skips     map[string]int64
	lastIn    string // name of the object being read (decoders reuse their Input)
	enis      map[eniKey]*eniInfo
	lastAcct  string // the account hash of the last record, reused while it repeats
	lastAcctH uint64
	acctSet   bool
	eniCache  [eniCacheSize]*eniInfo
}

// hit is a record of the chunk (its index) routed to a detection, with its key.
type hit struct {
	rec, di int32
	key     gkey
}

// streamClock is the event-time clock of one stream: the latest event time of
// the object it is reading, and that object's kind. In live mode seen is the
// wall time of the stream's last batch and base its clock then (see Tick).
type streamClock struct {
	kind  record.Kind
	clock int64
	seen  time.Time
	base  int64
}

// Process routes a decode batch's records to the shards. src names the caller's
// stream (an ingest worker): calls with the same src must not overlap, calls
// with different src may run concurrently (ingest.Reader's emit contract). The
// engine never writes b; it copies the records some detection takes, so b may
// be reused as soon as Process returns. Process blocks while a shard's queue is
// full; it returns the context's error once the engine's context is cancelled.
func (e *Engine) Process(src int, b *decode.Batch) error {
	if !e.started.Load() || e.closed.Load() {
		return errors.New("detect: Process outside Start…Close")
	}
	if err := context.Cause(e.ctx); err != nil {
		return err
	}
	e.mu.Lock()
	rt := e.routers[src]
	if rt == nil {
		rt = &router{pending: make([]*shardBatch, len(e.shards)), skips: map[string]int64{}, enis: map[eniKey]*eniInfo{},
			recs: make([]rec, 0, chunkSize), moved: make([]record.Flow, 0, chunkSize), free: &slabStack{},
			copies: make([]*rec, chunkSize)}
		e.routers[src] = rt
	}
	e.mu.Unlock()
	// Work in chunks small enough that a chunk's views and copies are still in
	// the CPU's cache when the shards read them.
	for lo := 0; lo < b.Len(); lo += chunkSize {
		if err := e.processChunk(src, rt, b, lo, min(lo+chunkSize, b.Len())); err != nil {
			return err
		}
	}
	return nil
}

// chunkSize is how many records Process routes at a time.
const chunkSize = 256

// slabsKept is how many slabs a router keeps for reuse: more than can be in
// flight (Config.QueueBatches per shard, plus one being observed).
const slabsKept = 64

// slabBytesKept bounds the bytes of the slabs a router keeps: 64 slabs of
// flow records take 16 MB; slabs of CloudTrail events, with their text,
// twice that and more.
const slabBytesKept = 16 << 20

func (e *Engine) processChunk(src int, rt *router, b *decode.Batch, lo, hi int) error {
	rt.recs, rt.moved = rt.recs[:0], rt.moved[:0]
	e.loadChunk(b, lo, hi, rt)
	recs := rt.recs
	if len(recs) == 0 {
		return nil
	}
	kind := b.Kind
	e.nRecords[kind].Add(int64(len(recs)))
	var latest int64
	for i := range recs {
		latest = max(latest, recs[i].time)
	}
	var wm int64
	if e.order == nil {
		wm = e.advanceClock(src, kind, b.Input, rt, latest)
	}

	rt.hits = rt.hits[:0]
	if kind == record.KindFlow {
		e.routeFlows(rt, recs)
	} else {
		for _, di := range e.byKind[kind] {
			d := e.dets[di]
			for i := range recs {
				if key, ok := d.det.route(&recs[i], d); ok {
					rt.hits = append(rt.hits, hit{rec: int32(i), di: int32(di), key: key})
				}
			}
		}
	}
	// Copy each routed record once into the slab, and queue it for its
	// detections' shards.
	s := rt.getSlab(kind)
	ns := uint64(len(e.shards))
	copies := rt.copies[:len(recs)]
	clear(copies)
	for _, h := range rt.hits {
		c := copies[h.rec]
		if c == nil {
			r := &recs[h.rec]
			if kind == record.KindFlow {
				rt.setENI(r)
			}
			c = s.keep(r)
			copies[h.rec] = c
		}
		sh := int(uint64(uint32(h.key[0])) * ns >> 32) // key[0] mod ns, without a division
		sb := rt.pending[sh]
		if sb == nil {
			sb = s.batch(sh, len(e.shards))
			rt.pending[sh] = sb
		}
		sb.items = append(sb.items, item{r: c, det: h.di, key: h.key})
	}
	if e.order != nil {
		hc := &heldChunk{s: s, batches: make([]*shardBatch, len(rt.pending)), kind: kind, latest: latest}
		if b.Input != nil {
			hc.seq, hc.continues = b.Input.Seq, b.Input.Header != nil
		}
		copy(hc.batches, rt.pending)
		clear(rt.pending)
		return e.submit(hc)
	}
	return e.send(s, rt.pending, kind, wm)
}

// send queues a chunk's shard batches (by shard; nil where none, and all nil
// after) to the shards, with the watermark of their kind.
func (e *Engine) send(s *slab, batches []*shardBatch, kind record.Kind, wm int64) error {
	// One reference per non-empty shard batch, plus one held while sending.
	s.refs.Store(1)
	for i, sb := range batches {
		if sb == nil {
			continue
		}
		batches[i] = nil
		s.refs.Add(1)
		sb.kind, sb.wm = kind, wm
		select {
		case e.shards[i].in <- sb:
		case <-e.ctx.Done():
			clear(batches) // the batches are the slab's
			s.release()    // this batch's reference
			s.release()    // the one held while sending
			return context.Cause(e.ctx)
		}
	}
	s.release()
	return nil
}

// routeFlows routes a chunk's flow views to the flow detections their class
// and protocol can concern (gate.go), adding to rt.hits, record by record.
func (e *Engine) routeFlows(rt *router, recs []rec) {
	for i := range recs {
		r := &recs[i]
		f := r.flow
		p := 256
		if f.Present.Has(record.FlowProtocol) {
			p = int(f.Protocol)
		}
		cl := e.flowCands[r.class][p]
		for _, c := range cl.any {
			if key, ok := c.d.det.route(r, c.d); ok {
				rt.hits = append(rt.hits, hit{rec: int32(i), di: c.di, key: key})
			}
		}
		if len(cl.ported) > 0 && f.Present.Has(record.FlowDstPort) && cl.portBits&(1<<(f.DstPort&63)) != 0 {
			for _, c := range cl.ported {
				if slices.Contains(c.dports, f.DstPort) {
					if key, ok := c.d.det.route(r, c.d); ok {
						rt.hits = append(rt.hits, hit{rec: int32(i), di: c.di, key: key})
					}
				}
			}
		}
	}
}

// advanceClock updates the stream's clock and returns the watermark of kind: the
// earliest clock among the streams currently reading that kind, less the
// lateness. A stream that starts a new object restarts its clock there, so an
// input listed out of time order (one account's day, then another's) does not
// make the second look late; the clocks of streams reading other kinds do not
// matter.
func (e *Engine) advanceClock(src int, kind record.Kind, in *decode.Input, rt *router, latest int64) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.clocks[src]
	if c == nil {
		c = &streamClock{}
		e.clocks[src] = c
	}
	name := ""
	if in != nil {
		name = in.Name
	}
	if rt.lastIn != name || c.kind != kind {
		c.kind, c.clock = kind, latest
		rt.lastIn = name
	} else {
		c.clock = max(c.clock, latest)
	}
	if e.cfg.Live {
		c.seen, c.base = time.Now(), c.clock
	}
	return e.watermarkLocked(kind)
}

// watermarkLocked returns the watermark of kind: the earliest clock among the
// streams reading it, less the lateness, and never below the kind's floor. The
// caller holds e.mu.
func (e *Engine) watermarkLocked(kind record.Kind) int64 {
	wm := int64(1<<62 - 1)
	if e.cfg.Live {
		wm = e.liveClockLocked(kind)
	} else {
		for _, o := range e.clocks {
			if o.kind == kind {
				wm = min(wm, o.clock)
			}
		}
	}
	wm -= e.cfg.Lateness.Milliseconds()
	if e.hasCeiling {
		wm = min(wm, e.ceiling[kind])
	}
	return max(wm, e.floor[kind])
}

// Close flushes every detection's open windows (at the end of input, every
// pending occurrence is final), stops the workers, and returns the findings,
// aggregated by identity (finding.Merge) and sorted by first seen, type and
// resource. The same input gives the same findings, in the same order, whatever
// the number of shards and the order in which streams interleaved. Close after a
// cancellation returns what was found and the cause.
func (e *Engine) Close() ([]*finding.Finding, error) {
	if !e.started.Load() {
		return nil, errors.New("detect: Close before Start")
	}
	if !e.closed.CompareAndSwap(false, true) {
		return nil, errors.New("detect: Close called twice")
	}
	e.flushHeld()
	for _, s := range e.shards {
		select {
		case s.in <- &shardBatch{flush: true}:
		case <-e.ctx.Done():
		}
		close(s.in)
	}
	e.wg.Wait()
	close(e.out)
	e.outWG.Wait()
	err := context.Cause(e.ctx)
	e.cancel(errors.New("detect: engine closed"))
	for _, rt := range e.routers {
		e.skipMu.Lock()
		for k, v := range rt.skips {
			e.skips[k] += v
		}
		e.skipMu.Unlock()
	}
	return aggregate(e.occ), err
}

// Stats returns the engine's counters; call it after Close for final numbers.
func (e *Engine) Stats() Stats {
	st := Stats{Records: map[record.Kind]int64{}, Skipped: map[string]int64{}}
	for _, k := range record.Kinds {
		if n := e.nRecords[k].Load(); n > 0 {
			st.Records[k] = n
		}
	}
	e.skipMu.Lock()
	for k, v := range e.skips {
		st.Skipped[k] = v
	}
	e.skipMu.Unlock()
	st.Findings = e.nOcc.Load()
	for i, d := range e.dets {
		rs := RuleStats{ID: d.rule.ID, Occurrences: d.occ.Load()}
		for j, name := range d.missedFields() {
			if n := d.missing[j].Load(); n > 0 {
				if rs.Missing == nil {
					rs.Missing = map[string]int64{}
				}
				rs.Missing[name] += n
			}
		}
		for _, s := range e.shards {
			if ms, ok := s.dets[i].(interface{ stats() int64 }); ok {
				rs.Matched += ms.stats()
			}
			if ts, ok := s.dets[i].(interface{ tableStats() (int, uint64, uint64) }); ok {
				k, ev, ex := ts.tableStats()
				rs.Keys += k
				rs.Evicted += ev
				rs.Expired += ex
			}
		}
		st.Rules = append(st.Rules, rs)
	}
	return st
}

// aggregate merges occurrences with the same identity into one finding each, in
// a fixed order (by first seen, then last seen, then content), so that the
// result does not depend on the order in which shards delivered them; then sorts
// the findings by first seen, type and resource.
func aggregate(occ []*finding.Finding) []*finding.Finding {
	slices.SortStableFunc(occ, compareOccurrences)
	return MergeInOrder(occ)
}

// MergeInOrder merges occurrences with the same identity into one finding
// each, in the order given — as the store merges what it is handed, a
// continuation (finding.Finding.Continues) adding no occurrence — and sorts
// the findings by first seen, type and resource, as Close returns them. Each
// finding is a copy of its first occurrence; the occurrences are not changed.
// The merging clock is event time: a finding's updatedAt is its latest
// activity.
func MergeInOrder(occ []*finding.Finding) []*finding.Finding {
	byID := make(map[string]*finding.Finding)
	var out []*finding.Finding
	for _, f := range occ {
		if dst, ok := byID[f.ID]; ok {
			if err := finding.Merge(dst, f, max(dst.UpdatedAt, f.Service.EventLastSeen)); err != nil {
				panic("BUG: detect: " + err.Error())
			}
			continue
		}
		c := *f
		c.Evidence = slices.Clip(c.Evidence) // Merge's appends copy
		c.Service.Count, c.Continues = f.Occurrences(), false
		byID[f.ID] = &c
		out = append(out, &c)
	}
	slices.SortStableFunc(out, func(a, b *finding.Finding) int {
		return cmp.Or(
			cmp.Compare(a.Service.EventFirstSeen, b.Service.EventFirstSeen),
			cmp.Compare(a.Type, b.Type),
			cmp.Compare(finding.ResourceID(&a.Resource), finding.ResourceID(&b.Resource)),
			cmp.Compare(a.Service.ResourceRole, b.Service.ResourceRole),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return out
}

func compareOccurrences(a, b *finding.Finding) int {
	return cmp.Or(
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.Service.EventFirstSeen, b.Service.EventFirstSeen),
		cmp.Compare(a.Service.EventLastSeen, b.Service.EventLastSeen),
		cmp.Compare(a.Service.Count, b.Service.Count),
		cmp.Compare(a.Title, b.Title),
		cmp.Compare(a.Description, b.Description),
		compareEvidence(a.Evidence, b.Evidence),
	)
}

func compareEvidence(a, b []finding.EvidenceRecord) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Or(cmp.Compare(a[i].Time, b[i].Time), cmp.Compare(a[i].Raw, b[i].Raw)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// item is one record routed to one detection on one shard.
type item struct {
	r   *rec
	det int32
	key gkey
}

// gkey is a group key: 128 bits of hash of the values that make a group.
type gkey [2]uint64

// shardBatch is what a router sends a shard: items that point into one slab
// (which owns the batch, reused with it), the watermark of their kind; or a
// flush request; in live mode also a watermark without items (tick) or a
// barrier (sync, see Sync), from shardBatchPool.
type shardBatch struct {
	items []item
	slab  *slab
	kind  record.Kind
	wm    int64
	flush bool
	tick  bool
	sync  *sync.WaitGroup
}

// collected is what shards hand the collector: occurrences, or a barrier
// closed once everything before it has been delivered (Sync).
type collected struct {
	fs     []*finding.Finding
	synced chan struct{}
}

var shardBatchPool = sync.Pool{New: func() any { return &shardBatch{items: make([]item, 0, 256)} }}

func getShardBatch() *shardBatch { return shardBatchPool.Get().(*shardBatch) }

func putShardBatch(sb *shardBatch) {
	clear(sb.items)
	sb.items, sb.slab, sb.flush, sb.tick, sb.sync = sb.items[:0], nil, false, false, nil
	shardBatchPool.Put(sb)
}

// shard owns the state of every detection for the keys routed to it. Only its
// goroutine touches that state.
type shard struct {
	e    *Engine
	idx  int
	in   chan *shardBatch
	dets []shardDetector
	env  shardEnv
	wm   [4]int64 // last watermark advanced to, per kind
	// keys is the number of keys the shard's detections hold, published at
	// ticks and barriers for LiveStats.
	keys atomic.Int64
}

// advanceStep is how far (event time) the watermark must move before a shard
// expires idle keys again: expiry is cheap per key but need not run per batch.
const advanceStep = 10_000

func (s *shard) run() {
	for sb := range s.in {
		if s.e.ctx.Err() != nil {
			if sb.sync != nil {
				sb.sync.Done()
			}
			if sb.slab != nil {
				sb.slab.release() // the batch is the slab's
			}
			continue
		}
		if sb.tick || sb.sync != nil {
			s.live(sb)
			continue
		}
		if sb.flush {
			for _, d := range s.dets {
				d.flush()
			}
			s.send()
			continue
		}
		s.env.wm = sb.wm
		for i := range sb.items {
			it := &sb.items[i]
			s.dets[it.det].observe(it.r, it.key)
		}
		wm, kind := sb.wm, sb.kind
		sb.slab.release() // and with it the batch, which is the slab's
		if wm-s.wm[kind] >= advanceStep {
			s.wm[kind] = wm
			for _, di := range s.e.byKind[kind] {
				s.dets[di].advance(wm)
			}
		}
		s.send()
	}
}

func (s *shard) send() {
	if len(s.env.out) == 0 {
		return
	}
	out := s.env.out
	s.env.out = nil
	s.e.out <- collected{fs: out}
}

// shardEnv is what a detection's shard state may use: the engine (read-only),
// the per-shard key cap, and where occurrences go.
type shardEnv struct {
	e       *Engine
	maxKeys int
	early   bool // raise occurrences when they open (Config.RaiseAtThreshold)
	out     []*finding.Finding
	// wm is the watermark of the batch being observed: activity older than it
	// is complete (records that late are not expected).
	wm int64
}

// quiet reports whether activity that last happened at last, followed by a
// record at t, is over after gap: the record comes more than gap later, and
// the watermark says no record between the two can still arrive. Deciding on
// the record alone would split one burst in two whenever records arrive out of
// order.
func (env *shardEnv) quiet(last, t, gap int64) bool {
	return t > last+gap && last+gap < env.wm
}

// emit completes a finding of occurrence o (severity, title, identity) and
// queues it.
func (env *shardEnv) emit(det int, o *occurrence, f *finding.Finding) {
	if err := f.Complete(env.e.cfg.DetectorID); err != nil {
		panic(fmt.Sprintf("BUG: detect: rule %s built an incomplete finding: %v", env.e.dets[det].rule.ID, err))
	}
	if o.announced {
		env.noteEarly(o, f)
	}
	if !f.Continues {
		env.e.dets[det].occ.Add(1)
	}
	env.out = append(env.out, f)
}

// detector is a detection's code: route runs on routing goroutines, concurrently
// (it must only read shared state); newShard makes the state one shard owns.
type detector interface {
	// route decides whether the record matters to the detection and returns its
	// group key. It counts a record that lacks a needed field with d.miss.
	route(r *rec, d *detEntry) (gkey, bool)
	newShard(env *shardEnv, det int) shardDetector
}

// shardDetector is one shard's state of a detection. Its methods run on the
// shard's goroutine only.
type shardDetector interface {
	// observe takes one record routed to this shard with its key. The record is
	// valid only during the call.
	observe(r *rec, key gkey)
	// advance moves the watermark: expire keys idle since before it, closing
	// their windows.
	advance(wm int64)
	// flush closes every open window (end of input).
	flush()
}
