package detect

import (
	"context"
	"slices"
	"sync"

	"github.com/vigil-dev/vigil/internal/record"
)

// Ordered reading (Config.Ordered).
//
// Several readers feed the engine at once, each its own inputs, and their
// records interleave differently from run to run. A window drops an event
// older than itself behind its key's latest, and keys expire behind the
// slowest reader's clock, so how the readers' records interleave can change
// occurrences: the same input would not always give the same findings. In
// ordered mode the shards see every record in one canonical order, the
// inputs' (decode.Input.Seq: the reader's list, parts of a file in file
// order), whatever the number of readers and however they are scheduled.
//
// Readers still decode and route in parallel: a chunk routed ahead of its
// input's turn is self-contained (its records are copied into its slab), so
// it is held, up to maxHeld chunks in all, and sent when the turn comes.
// One goroutine at a time sends (sendMu), so chunks reach the shard queues in
// order; the watermark is computed as they are sent, from one clock that
// restarts at each input, as a stream's does (the parts of a split file are
// one input there, as for a reader that does not split).

// maxHeld is how many routed chunks are held ahead of their input's turn
// before Process waits: 96 chunks of 256 records, more than two 1 MiB parts of
// a flow log (about 9,000 records each), and about 30 MB of copies. The
// reader of the input whose turn it is never waits for room, so a full hold
// only slows the readers ahead of it.
const maxHeld = 96

// sequencer puts routed chunks in input order.
type sequencer struct {
	sendMu sync.Mutex // held while chunks go to the shards
	mu     sync.Mutex // guards what follows; taken after sendMu when both are
	cond   *sync.Cond // on mu: the turn moved, or the engine stopped
	turn   int        // the input whose chunks go to the shards now
	done   map[int]bool
	held   map[int][]*heldChunk // chunks of inputs after the turn, in order
	nHeld  int                  // chunks in held

	// The canonical clock (under sendMu): the latest event time sent of the
	// input clockSeq, of kind clockKind.
	clock     int64
	clockSeq  int
	clockKind record.Kind
	clockSet  bool
}

// heldChunk is a routed chunk: its slab, its shard batches (by shard; nil
// where none), and what the watermark needs.
type heldChunk struct {
	s         *slab
	batches   []*shardBatch
	seq       int
	continues bool // a later part of a split file: the clock goes on
	kind      record.Kind
	latest    int64
}

func newSequencer() *sequencer {
	q := &sequencer{done: map[int]bool{}, held: map[int][]*heldChunk{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// wakeOnCancel makes waiters give up when ctx ends.
func (q *sequencer) wakeOnCancel(ctx context.Context) {
	context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
}

// submit sends a routed chunk if its input's turn has come, or holds it.
func (e *Engine) submit(hc *heldChunk) error {
	q := e.order
	q.mu.Lock()
	for hc.seq > q.turn && q.nHeld >= maxHeld && e.ctx.Err() == nil {
		q.cond.Wait()
	}
	q.mu.Unlock()
	if err := context.Cause(e.ctx); err != nil {
		hc.drop()
		return err
	}
	q.sendMu.Lock()
	defer q.sendMu.Unlock()
	q.mu.Lock()
	if hc.seq > q.turn {
		q.held[hc.seq] = append(q.held[hc.seq], hc)
		q.nHeld++
		q.mu.Unlock()
		return nil
	}
	q.mu.Unlock()
	return e.sendOrdered(hc)
}

// Done tells an ordered engine (Config.Ordered) that input seq has been read
// to its end, however it ended: the inputs after it may take their turn. The
// reader calls it once per input (ingest.Config.Done).
func (e *Engine) Done(seq int) {
	q := e.order
	if q == nil {
		return
	}
	q.sendMu.Lock()
	defer q.sendMu.Unlock()
	q.mu.Lock()
	q.done[seq] = true
	for q.done[q.turn] {
		delete(q.done, q.turn)
		q.turn++
		chunks := q.held[q.turn]
		delete(q.held, q.turn)
		q.nHeld -= len(chunks)
		q.cond.Broadcast()
		q.mu.Unlock()
		e.sendAll(chunks)
		q.mu.Lock()
	}
	q.mu.Unlock()
}

// sendAll sends chunks whose turn it is, in order; after a failed send (the
// engine stopped) it releases the rest. The caller holds sendMu.
func (e *Engine) sendAll(chunks []*heldChunk) {
	for i, hc := range chunks {
		if e.sendOrdered(hc) != nil {
			for _, rest := range chunks[i+1:] {
				rest.drop() // send released what it did not send of hc
			}
			return
		}
	}
}

// flushHeld sends what is still held, in input order: at Close, for inputs a
// caller never reported done.
func (e *Engine) flushHeld() {
	q := e.order
	if q == nil {
		return
	}
	q.sendMu.Lock()
	defer q.sendMu.Unlock()
	q.mu.Lock()
	seqs := make([]int, 0, len(q.held))
	for s := range q.held {
		seqs = append(seqs, s)
	}
	chunks := q.held
	q.held, q.nHeld = map[int][]*heldChunk{}, 0
	q.mu.Unlock()
	slices.Sort(seqs)
	var all []*heldChunk
	for _, s := range seqs {
		all = append(all, chunks[s]...)
	}
	e.sendAll(all)
}

// sendOrdered sends a chunk whose turn it is, with the canonical watermark.
// The caller holds sendMu.
func (e *Engine) sendOrdered(hc *heldChunk) error {
	q := e.order
	switch {
	case !q.clockSet || hc.kind != q.clockKind || hc.seq != q.clockSeq && !hc.continues:
		q.clock, q.clockSeq, q.clockKind, q.clockSet = hc.latest, hc.seq, hc.kind, true
	default: // the same input, or the next part of its file
		q.clock, q.clockSeq = max(q.clock, hc.latest), hc.seq
	}
	e.mu.Lock()
	wm := q.clock - e.cfg.Lateness.Milliseconds()
	if e.hasCeiling {
		wm = min(wm, e.ceiling[hc.kind])
	}
	wm = max(wm, e.floor[hc.kind])
	e.mu.Unlock()
	return e.send(hc.s, hc.batches, hc.kind, wm)
}

// drop releases a chunk that will not be sent.
func (hc *heldChunk) drop() {
	clear(hc.batches)
	hc.s.refs.Store(1)
	hc.s.release()
}
