package detect

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/record"
)

// Live mode (Config.Live) is the engine under vigil serve: input never ends, so
//
//   - occurrences go to Deps.OnFinding only (Close returns none);
//   - Tick moves event time forward for streams that have gone quiet, so that a
//     stream that stops still closes its windows: a quiet stream's clock runs on
//     with the wall clock from its last record, as if records kept coming;
//   - Sync is a barrier: when it returns, every batch Process accepted before it
//     has been observed and the occurrences it raised have been handed to
//     OnFinding. The caller commits those occurrences with the input positions
//     read before the barrier (see internal/pipeline);
//   - a stream that has had no records for IdleAfter (wall time) no longer
//     holds its kind's watermark back: a reader that finished its file must
//     not stop time for the others. Idle says so at once; a caller that knows
//     better than the wall clock which streams are done (vigil serve's
//     pipeline: a slow stream with input in hand is not) sets IdleAfter
//     beyond reach and calls Idle itself;
//   - Barrier is the barrier of a commit: it applies the current watermarks
//     to every shard in full (what is past them expires and closes now, not at
//     the next advance step), then waits like Sync, and returns the
//     watermarks applied. The live watermark of a kind never goes back, so
//     everything the engine has closed is closed at or below them;
//   - Watermarks, LimitWatermarks and AdvanceWatermarks let a restarted engine
//     re-read committed input without closing more than the previous run had
//     closed, then close exactly what that run had closed at its last
//     Barrier, and resume from there.
//
// None of this changes what batch mode (scan) does: without Live, Tick, Sync
// and AdvanceWatermarks return an error and clocks follow records only.

var errNotLive = errors.New("detect: Tick, Sync, Barrier and the watermark controls need Config.Live")

// Tick advances the clock of every stream by the wall time elapsed since its last
// batch (a stream that keeps receiving records is not moved: its records are
// later than that), recomputes the watermarks and lets every shard expire what
// is past them. Call it about once a second. It blocks while a shard's queue is
// full, like Process, and returns when the context of Start is cancelled.
func (e *Engine) Tick(now time.Time) error {
	if !e.cfg.Live {
		return errNotLive
	}
	if !e.started.Load() || e.closed.Load() {
		return errors.New("detect: Tick outside Start…Close")
	}
	var wms [4]int64
	var have [4]bool
	e.mu.Lock()
	for _, c := range e.clocks {
		if !c.seen.IsZero() {
			c.clock = max(c.clock, c.base+now.Sub(c.seen).Milliseconds())
		}
		have[c.kind] = true
	}
	for _, k := range record.Kinds {
		if have[k] || e.floor[k] != 0 {
			have[k] = true
			wms[k] = e.watermarkLocked(k)
		}
	}
	e.mu.Unlock()
	for _, k := range record.Kinds {
		if !have[k] {
			continue
		}
		for _, s := range e.shards {
			sb := getShardBatch()
			sb.tick, sb.kind, sb.wm = true, k, wms[k]
			select {
			case s.in <- sb:
			case <-e.ctx.Done():
				putShardBatch(sb)
				return context.Cause(e.ctx)
			}
		}
	}
	return nil
}

// Sync returns once every batch that Process accepted before the call has been
// observed by its shard and every occurrence raised so far has been handed to
// OnFinding. It may run concurrently with Process (batches accepted after it
// began may or may not be covered), not with Close. ctx bounds the wait.
func (e *Engine) Sync(ctx context.Context) error {
	if !e.cfg.Live {
		return errNotLive
	}
	if !e.started.Load() || e.closed.Load() {
		return errors.New("detect: Sync outside Start…Close")
	}
	var wg sync.WaitGroup
	wg.Add(len(e.shards))
	for i, s := range e.shards {
		sb := &shardBatch{sync: &wg}
		select {
		case s.in <- sb:
		case <-ctx.Done():
			wg.Add(-(len(e.shards) - i))
			wg.Wait()
			return ctx.Err()
		case <-e.ctx.Done():
			wg.Add(-(len(e.shards) - i))
			wg.Wait()
			return context.Cause(e.ctx)
		}
	}
	wg.Wait()
	done := make(chan struct{})
	select {
	case e.out <- collected{synced: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return context.Cause(e.ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Barrier applies the current watermark of every kind to every shard in full
// — keys idle past it expire and their occurrences close now, where a data
// batch or a Tick applies a watermark only once it has moved advanceStep —
// and then returns like Sync: every batch accepted before it observed, every
// occurrence raised handed to OnFinding. It returns the watermarks applied.
// Since the live watermark never goes back, nothing the engine has closed
// was closed above them: a commit that saves them with the occurrences
// collected holds exactly what closed at or below them, which is what a
// restart closes again (AdvanceWatermarks) and drops. Call it while no
// Process or Tick runs, or the watermarks may have moved on meanwhile.
func (e *Engine) Barrier(ctx context.Context) (map[record.Kind]int64, error) {
	if !e.cfg.Live {
		return nil, errNotLive
	}
	if !e.started.Load() || e.closed.Load() {
		return nil, errors.New("detect: Barrier outside Start…Close")
	}
	wms := e.Watermarks()
	if err := e.apply(ctx, wms); err != nil {
		return nil, err
	}
	if err := e.Sync(ctx); err != nil {
		return nil, err
	}
	return wms, nil
}

// apply has every shard apply the given watermarks in full and waits until
// each has.
func (e *Engine) apply(ctx context.Context, wms map[record.Kind]int64) error {
	var wg sync.WaitGroup
	for _, k := range record.Kinds {
		wm, ok := wms[k]
		if !ok {
			continue
		}
		for _, s := range e.shards {
			sb := getShardBatch()
			sb.tick, sb.kind, sb.wm, sb.sync = true, k, wm, &wg
			wg.Add(1)
			select {
			case s.in <- sb:
			case <-ctx.Done():
				wg.Done()
				putShardBatch(sb)
				wg.Wait()
				return ctx.Err()
			case <-e.ctx.Done():
				wg.Done()
				putShardBatch(sb)
				wg.Wait()
				return context.Cause(e.ctx)
			}
		}
	}
	wg.Wait()
	return nil
}

// liveClockLocked is the clock a live kind's watermark follows: the earliest
// clock among its streams that had records within IdleAfter, or, when every
// stream is idle, the latest clock (nothing is on its way). It also raises the
// kind's floor to the watermark that clock gives (under the ceiling, if any),
// so that the live watermark never goes back — a stream that starts a new
// object earlier in event time, or wakes up behind the others, does not lower
// it: what closed at a watermark stays closed, and Barrier's watermarks bound
// everything closed. The caller holds e.mu.
func (e *Engine) liveClockLocked(kind record.Kind) int64 {
	now := time.Now()
	active, latest, found := int64(1<<62-1), int64(-1<<62), false
	for _, o := range e.clocks {
		if o.kind != kind {
			continue
		}
		latest = max(latest, o.clock)
		if now.Sub(o.seen) < e.cfg.IdleAfter {
			active, found = min(active, o.clock), true
		}
	}
	clock := int64(1<<62 - 1)
	switch {
	case found:
		clock = active
	case latest > -1<<62:
		clock = latest
	default:
		return clock // no stream of the kind: no watermark to keep
	}
	wm := clock - e.cfg.Lateness.Milliseconds()
	if e.hasCeiling {
		wm = min(wm, e.ceiling[kind])
	}
	e.floor[kind] = max(e.floor[kind], wm)
	return clock
}

// LimitWatermarks holds the watermark of each kind at or below the given value
// until AdvanceWatermarks: a restarted engine re-reading committed input must
// not close windows the previous run had not closed at its last commit.
func (e *Engine) LimitWatermarks(wms map[record.Kind]int64) error {
	if !e.cfg.Live {
		return errNotLive
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.ceiling {
		e.ceiling[i] = 1<<62 - 1
	}
	for k, wm := range wms {
		if k >= 1 && int(k) < len(e.ceiling) {
			e.ceiling[k] = wm
		}
	}
	e.hasCeiling = true
	return nil
}

// Watermarks returns the current watermark of every kind that has one (Unix ms).
func (e *Engine) Watermarks() map[record.Kind]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[record.Kind]int64{}
	for _, k := range record.Kinds {
		has := e.floor[k] != 0
		for _, c := range e.clocks {
			has = has || c.kind == k
		}
		if has {
			out[k] = e.watermarkLocked(k)
		}
	}
	return out
}

// AdvanceWatermarks raises the watermark of each kind to at least the given
// value from now on (it never goes below it again), has every shard apply the
// resulting watermarks in full — with any LimitWatermarks still in force, so a
// kind limited to the same value is applied exactly at it — and then lifts the
// limit. A restarted engine calls it with the watermarks the previous run's
// last commit saved (Barrier), after re-reading the input its state needs, so
// that what closed before the restart closes again, and nothing more; a Sync
// then collects those occurrences.
func (e *Engine) AdvanceWatermarks(wms map[record.Kind]int64) error {
	if !e.cfg.Live {
		return errNotLive
	}
	if !e.started.Load() || e.closed.Load() {
		return errors.New("detect: AdvanceWatermarks outside Start…Close")
	}
	e.mu.Lock()
	for k, wm := range wms {
		if k >= 1 && int(k) < len(e.floor) {
			e.floor[k] = max(e.floor[k], wm)
		}
	}
	e.mu.Unlock()
	err := e.apply(context.Background(), e.Watermarks())
	e.mu.Lock()
	e.hasCeiling = false
	e.mu.Unlock()
	return err
}

// Idle takes the stream src as idle from now on, as if it had had no records
// for IdleAfter: it stops holding its kind's watermark back at once. Its
// clock moves on with the wall clock from now (Tick), as an idle stream's
// does, and its next batch makes it active again. A restarted pipeline calls
// it for a stream whose replay is over: it has nothing more to give until new
// input flows.
func (e *Engine) Idle(src int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.clocks[src]
	if c == nil || !e.cfg.Live {
		return
	}
	c.seen = time.Now().Add(-e.cfg.IdleAfter)
	c.base = c.clock - e.cfg.IdleAfter.Milliseconds()
}

// LiveStats are the counters of a running engine that are safe to read at any
// time (Stats reads shard state and is for after Close).
type LiveStats struct {
	Records  map[record.Kind]int64 // records given to detectors, by kind
	Findings int64                 // occurrences handed to OnFinding
	Keys     int64                 // keys held by all detections, as of the last tick
}

// LiveStats returns the engine's running counters.
func (e *Engine) LiveStats() LiveStats {
	st := LiveStats{Records: map[record.Kind]int64{}, Findings: e.nOcc.Load()}
	for _, k := range record.Kinds {
		st.Records[k] = e.nRecords[k].Load()
	}
	for _, s := range e.shards {
		st.Keys += s.keys.Load()
	}
	return st
}

// live handles a tick or a barrier on the shard's goroutine.
func (s *shard) live(sb *shardBatch) {
	wg := sb.sync
	if sb.tick {
		s.env.wm = sb.wm
		// A tick with a barrier (Barrier, AdvanceWatermarks) is applied in
		// full; a plain one only once the watermark has moved a step.
		if sb.wm-s.wm[sb.kind] >= advanceStep || wg != nil && sb.wm > s.wm[sb.kind] {
			s.wm[sb.kind] = sb.wm
			for _, di := range s.e.byKind[sb.kind] {
				s.dets[di].advance(sb.wm)
			}
		}
		var keys int64
		for _, d := range s.dets {
			if ts, ok := d.(interface{ tableStats() (int, uint64, uint64) }); ok {
				n, _, _ := ts.tableStats()
				keys += int64(n)
			}
		}
		s.keys.Store(keys)
		putShardBatch(sb)
	}
	s.send()
	if wg != nil {
		wg.Done()
	}
}
