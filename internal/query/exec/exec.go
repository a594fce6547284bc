// Package exec runs a query plan over records.
//
// A source delivers decoded batches from several workers at once (the
// ingest Reader reads one object per worker). Each worker runs its own copy
// of the plan's head — the per-record commands, compiled for each record
// kind — and feeds its own barrier state: a stats hash table, a bounded
// top-K heap or a take list. Nothing is shared between workers while
// records flow, so there are no locks on the record path; at the end the
// per-worker states are merged, the tail runs in memory on the merged rows,
// and the output columns are computed.
//
// Memory is bounded by the number of groups (stats) or by K (sort, limit,
// dedup, and the 10,000-row default of raw events), never by the number of
// records: records are not kept, only the values a barrier needs, copied out
// of the decoder's buffers.
package exec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/record"
)

// Source delivers batches to emit, possibly from several goroutines at once
// (worker is the caller's index, 0 ≤ worker < Options.Workers, and one
// worker never calls emit concurrently with itself). Batches are reused
// after emit returns. A non-nil error from emit must stop the source, which
// returns it. ingest.Reader.Read has this shape.
type Source func(ctx context.Context, emit func(worker int, b *decode.Batch) error) error

// Options configure a run.
type Options struct {
	// Workers is the number of workers the source calls emit from; 0 means
	// one.
	Workers int
	// Eval gives now() and the query's time range to the functions that
	// read them.
	Eval query.EvalOptions
	// MaxGroups bounds the groups of a stats; 0 means DefaultMaxGroups.
	MaxGroups int
}

// Result is the outcome of a query.
type Result struct {
	// Columns are the column names; Rows the values, one per column, with
	// Missing for a row that lacks the column (rows are sparse).
	Columns []string
	Rows    [][]record.Value
	// RecordsScanned counts the records of the kinds the query reads within
	// its time range; RecordsMatched those that passed the per-record
	// commands (filter) and reached the first barrier.
	RecordsScanned, RecordsMatched int64
	// TotalRows is the number of result rows before the row cap (limit, or
	// the 10,000-row default); Truncated says the cap cut some.
	TotalRows int64
	Truncated bool
}

// errStop ends reading once a take barrier has its rows.
var errStop = errors.New("exec: enough rows")

// executor holds one run.
type executor struct {
	p       *plan.Plan
	chk     *query.Checked
	opts    Options
	workers []*worker
	since   int64
	until   int64
	hasWin  [2]bool
	kinds   [8]bool
	taken   atomic.Int64

	sharedOnce sync.Once
	shared     *table // the stats table workers move to when they have many groups
}

// sharedTable returns the stats table the workers share.
func (ex *executor) sharedTable() *table {
	ex.sharedOnce.Do(func() {
		ex.shared = newTable(ex.p.Barrier.Stage.Stats.Aggs, ex.opts.MaxGroups, true)
	})
	return ex.shared
}

// Run executes p over the records src delivers.
func Run(ctx context.Context, p *plan.Plan, src Source, opts Options) (*Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.MaxGroups <= 0 {
		opts.MaxGroups = DefaultMaxGroups
	}
	if opts.Eval.Start.IsZero() {
		opts.Eval.Start = p.Since
	}
	if opts.Eval.End.IsZero() {
		opts.Eval.End = p.Until
	}
	ex := &executor{p: p, chk: p.Checked, opts: opts, workers: make([]*worker, opts.Workers)}
	if !p.Since.IsZero() {
		ex.since, ex.hasWin[0] = p.Since.UnixMilli(), true
	}
	if !p.Until.IsZero() {
		ex.until, ex.hasWin[1] = p.Until.UnixMilli(), true
	}
	for _, k := range p.Kinds {
		if int(k) < len(ex.kinds) {
			ex.kinds[k] = true
		}
	}
	// A barrier that keeps nothing needs no input.
	if !(p.Barrier.Kind != plan.Stats && p.Barrier.K <= 0) {
		err := src(ctx, ex.emit)
		if err != nil && !errors.Is(err, errStop) {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ex.finish()
}

// emit runs one batch through a worker's head.
func (ex *executor) emit(wi int, b *decode.Batch) error {
	if wi < 0 || wi >= len(ex.workers) {
		return fmt.Errorf("exec: worker %d of a source configured for %d", wi, len(ex.workers))
	}
	w := ex.workers[wi]
	if w == nil {
		var err error
		if w, err = ex.newWorker(); err != nil {
			return err
		}
		ex.workers[wi] = w
	}
	return w.batch(b)
}

// worker is one worker's state: its row, its compiled heads (one per record
// kind) and its barrier state.
type worker struct {
	ex    *executor
	row   query.Row
	heads [8]*head
	input *decode.Input
	// barrier state: one of these
	stats *stage // into the worker's own table, then the shared one
	top   *topK
	take  []*bufRow
	err   error // from the barrier, which cannot return one through the head chain

	scanned, matched int64
	stopped          bool
}

func (ex *executor) newWorker() (*worker, error) {
	w := &worker{ex: ex}
	w.row.Slots = make([]record.Value, ex.chk.PhaseSlots[0])
	switch b := ex.p.Barrier; b.Kind {
	case plan.Stats:
		ss := b.Stage.Stats
		w.stats = newStage(newTable(ss.Aggs, ex.opts.MaxGroups, false))
	case plan.TopK:
		w.top = newTopK(b.K, descs(b.Keys), len(b.Dedup) > 0)
	}
	return w, nil
}

func descs(keys []plan.Key) []bool {
	d := make([]bool, len(keys))
	for i, k := range keys {
		d[i] = k.Desc
	}
	return d
}

// batch runs a batch through the head.
func (w *worker) batch(b *decode.Batch) error {
	ex := w.ex
	if w.stopped {
		return errStop
	}
	if int(b.Kind) >= len(ex.kinds) || !ex.kinds[b.Kind] {
		return nil
	}
	h := w.heads[b.Kind]
	if h == nil {
		var err error
		if h, err = w.compileHead(b.Kind); err != nil {
			return err
		}
		w.heads[b.Kind] = h
	}
	if b.Input != w.input {
		w.input = b.Input
		w.row.Seq = 0
		w.row.Log = ""
		if b.Input != nil {
			w.row.Log = b.Input.Name
		}
	}
	r := &w.row
	n := b.Len()
	for i := range n {
		rec := b.At(i)
		r.Seq++
		ts := rec.Timestamp()
		if (ex.hasWin[0] && ts < ex.since) || (ex.hasWin[1] && ts > ex.until) {
			continue
		}
		w.scanned++
		r.Rec = rec
		r.Sub = 0
		clear(r.Slots)
		h.run(r)
		if w.err != nil {
			r.Rec = nil
			return w.err
		}
	}
	r.Rec = nil
	if w.stats != nil {
		if err := w.endStatsBatch(); err != nil {
			return err
		}
	}
	if w.stopped {
		return errStop
	}
	return nil
}

// endStatsBatch adds the rows staged from the batch, whose values may view
// its records, to the table; and moves the worker to the shared table once
// its own has many groups.
func (w *worker) endStatsBatch() error {
	st := w.stats
	if err := st.flush(); err != nil {
		return err
	}
	if st.t.shared || w.ex.opts.Workers < 2 || st.t.len() <= localMaxGroups {
		return nil
	}
	shared := w.ex.sharedTable()
	if err := st.t.drainInto(shared); err != nil {
		return err
	}
	st.t = shared
	return nil
}

// head is the compiled head of one record kind: the per-record commands
// chained into the barrier.
type head struct {
	run func(r *query.Row)
}

// compileHead compiles the head for records of kind.
func (w *worker) compileHead(kind record.Kind) (*head, error) {
	ex := w.ex
	sink, err := w.compileSink(kind)
	if err != nil {
		return nil, err
	}
	next := sink
	for i := len(ex.p.Head) - 1; i >= 0; i-- {
		st := ex.p.Head[i]
		c := ex.chk.Compiler(st.Scope, kind, nil, ex.opts.Eval)
		if next, err = compileStep(c, st, next); err != nil {
			return nil, err
		}
	}
	return &head{run: next}, nil
}

// compileStep compiles one per-row command in front of next.
func compileStep(c *query.Compiler, st *query.Stage, next func(*query.Row)) (func(*query.Row), error) {
	switch cmd := st.Cmd.(type) {
	case *query.FilterCmd:
		p, err := c.Cond(cmd.Cond)
		if err != nil {
			return nil, err
		}
		return func(r *query.Row) {
			if p(r) {
				next(r)
			}
		}, nil
	case *query.FieldsCmd:
		var slots []int
		var evs []query.Eval
		for i, it := range cmd.Items {
			if st.Slots[i] < 0 {
				continue
			}
			ev, err := c.WithScope(st.ItemScopes[i]).Value(it.Expr)
			if err != nil {
				return nil, err
			}
			slots, evs = append(slots, st.Slots[i]), append(evs, ev)
		}
		if len(evs) == 0 {
			return next, nil
		}
		// In order: an item may use the ones before it.
		return func(r *query.Row) {
			for i, ev := range evs {
				r.Slots[slots[i]] = ev(r)
			}
			next(r)
		}, nil
	case *query.ParseCmd:
		ps, err := c.Parse(cmd, st.Slots)
		if err != nil {
			return nil, err
		}
		return func(r *query.Row) { ps(r, next) }, nil
	case *query.DisplayCmd:
		return next, nil
	}
	return nil, fmt.Errorf("exec: %s is not a per-record command", st.Cmd.Name())
}

// compileSink compiles the barrier's side of the head for records of kind.
func (w *worker) compileSink(kind record.Kind) (func(*query.Row), error) {
	ex := w.ex
	b := ex.p.Barrier
	switch b.Kind {
	case plan.Stats:
		ev, err := compileStats(ex.chk, b.Stage, kind, nil, ex.opts.Eval)
		if err != nil {
			return nil, err
		}
		st := w.stats
		return func(r *query.Row) {
			w.matched++
			if err := st.add(r, ev); err != nil {
				w.err = err
			}
		}, nil
	case plan.TopK:
		keys := make([]query.Eval, len(b.Keys))
		for i, k := range b.Keys {
			ev, err := ex.chk.Compiler(k.Scope, kind, nil, ex.opts.Eval).Value(k.Expr)
			if err != nil {
				return nil, err
			}
			keys[i] = ev
		}
		var dedup []query.Eval
		for _, f := range b.Dedup {
			ev, err := ex.chk.Compiler(b.DedupScope, kind, nil, ex.opts.Eval).Value(f)
			if err != nil {
				return nil, err
			}
			dedup = append(dedup, ev)
		}
		fill, err := ex.materializer(kind)
		if err != nil {
			return nil, err
		}
		t := w.top
		var dbuf []byte
		timeKey := b.TimeKey
		desc := len(b.Keys) > 0 && b.Keys[0].Desc
		return func(r *query.Row) {
			w.matched++
			if t.k <= 0 {
				return
			}
			if timeKey && t.full() {
				// Reject on @timestamp alone before computing anything else.
				if wk := t.worst().keys[0]; wk.Kind == record.Time {
					ts := r.Rec.Timestamp()
					if (desc && ts < wk.Int) || (!desc && ts > wk.Int) {
						return
					}
				}
			}
			for i, k := range keys {
				t.keys[i] = k(r)
			}
			var dkey []byte
			if dedup != nil {
				dbuf = dbuf[:0]
				null := false
				for _, d := range dedup {
					v := d(r)
					if v.Kind == record.Missing || v.Kind == query.JSONValue {
						null = true
						break
					}
					dbuf = appendKey(dbuf, v)
				}
				if !null {
					dkey = dbuf
				}
			}
			t.offer(at{r.Log, r.Seq, r.Sub}, dkey, func(e *bufRow) { fill(r, e) })
			r.Sub++
		}, nil
	case plan.Take:
		fill, err := ex.materializer(kind)
		if err != nil {
			return nil, err
		}
		return func(r *query.Row) {
			w.matched++
			if w.stopped {
				return
			}
			if n := ex.taken.Add(1); n > b.K {
				w.stopped = true
				return
			} else if n == b.K {
				w.stopped = true
			}
			e := &bufRow{log: r.Log, seq: r.Seq, sub: r.Sub}
			r.Sub++
			fill(r, e)
			w.take = append(w.take, e)
		}, nil
	}
	return nil, fmt.Errorf("exec: unknown barrier %v", b.Kind)
}

// materializer returns the function that copies a row of kind into a
// buffered row: the phase-0 slots, then the record fields the tail and the
// output read (plan.Materialize), with their strings in the row's memory.
func (ex *executor) materializer(kind record.Kind) (func(r *query.Row, e *bufRow), error) {
	p := ex.p
	c := ex.chk.Compiler(nil, kind, nil, ex.opts.Eval)
	fields := make([]query.Eval, len(p.Materialize))
	for i, name := range p.Materialize {
		fields[i] = c.RecordField(name)
	}
	width := p.MatBase + len(p.Materialize)
	return func(r *query.Row, e *bufRow) {
		if cap(e.slots) < width {
			e.slots = make([]record.Value, width)
		}
		e.slots = e.slots[:width]
		copy(e.slots, r.Slots[:p.MatBase])
		for i, f := range fields {
			e.slots[p.MatBase+i] = f(r)
		}
		e.mem.reset(strLen(e.slots))
		for i := range e.slots {
			e.slots[i] = e.mem.copy(e.slots[i])
		}
	}, nil
}

// compileStats compiles a stats' group and argument expressions for records
// of kind (0: rows without records, reading fields from mat).
func compileStats(chk *query.Checked, st *query.Stage, kind record.Kind, mat map[string]int, opts query.EvalOptions) (*evals, error) {
	ss := st.Stats
	c := chk.Compiler(st.Scope, kind, mat, opts)
	ev := &evals{}
	for _, g := range ss.Groups {
		e, err := c.Value(g.Expr)
		if err != nil {
			return nil, err
		}
		ev.groups = append(ev.groups, e)
	}
	for _, a := range ss.Aggs {
		var e query.Eval
		if a.Arg != nil {
			var err error
			if e, err = c.Value(a.Arg); err != nil {
				return nil, err
			}
		}
		ev.args = append(ev.args, e)
		if aggKinds[a.Call.Name].needsPos && ev.ts == nil {
			var err error
			if ev.ts, err = c.Value(&query.FieldRef{Path: []string{"@timestamp"}}); err != nil {
				return nil, err
			}
		}
	}
	return ev, nil
}
