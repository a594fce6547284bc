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
//     not stop time for the others;
//   - Watermarks, LimitWatermarks and AdvanceWatermarks let a restarted engine
//     re-read committed input without closing more than the previous run had
//     closed, then resume at the watermarks that run had reached.
//
// None of this changes what batch mode (scan) does: without Live, Tick, Sync
// and AdvanceWatermarks return an error and clocks follow records only.

var errNotLive = errors.New("detect: Tick, Sync and AdvanceWatermarks need Config.Live")

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

// liveClockLocked is the clock a live kind's watermark follows: the earliest
// clock among its streams that had records within IdleAfter, or, when every
// stream is idle, the latest clock (nothing is on its way). The caller holds
// e.mu.
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
	switch {
	case found:
		return active
	case latest > -1<<62:
		return latest
	}
	return 1<<62 - 1
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

// AdvanceWatermarks lifts any LimitWatermarks, raises the watermark of each
// kind to at least the given value from now on (it never goes below it
// again), and lets the shards expire what is past it. A restarted engine calls it with the watermarks the previous
// run had committed, after re-reading the input its state needs, so that what
// closed before the restart closes again.
func (e *Engine) AdvanceWatermarks(wms map[record.Kind]int64) error {
	if !e.cfg.Live {
		return errNotLive
	}
	e.mu.Lock()
	e.hasCeiling = false
	for k, wm := range wms {
		if k >= 1 && int(k) < len(e.floor) {
			e.floor[k] = max(e.floor[k], wm)
		}
	}
	e.mu.Unlock()
	return e.Tick(time.Now())
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
		if sb.wm-s.wm[sb.kind] >= advanceStep {
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
