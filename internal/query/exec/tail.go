package exec

import (
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/record"
)

// finish merges the workers' barrier states, runs the tail and computes the
// output columns.
func (ex *executor) finish() (*Result, error) {
	res := &Result{}
	for _, w := range ex.workers {
		if w != nil {
			res.RecordsScanned += w.scanned
			res.RecordsMatched += w.matched
		}
	}
	var rows []*query.Row
	phase, tailFrom, unordered := 0, 0, false
	switch b := ex.p.Barrier; b.Kind {
	case plan.Stats:
		final := ex.shared
		for _, w := range ex.workers {
			if w == nil {
				continue
			}
			if err := w.stats.flush(); err != nil {
				return nil, err
			}
			switch t := w.stats.t; {
			case t == final:
			case final == nil:
				final = t
			default:
				if err := t.drainInto(final); err != nil {
					return nil, err
				}
			}
		}
		if final == nil {
			final = newTable(b.Stage.Stats.Aggs, ex.opts.MaxGroups, false)
		}
		m, err := ex.rowMaker(final, b.Stage)
		if err != nil {
			return nil, err
		}
		// sort … | limit N right after the stats makes only the rows of the
		// groups among the N best.
		if keys, desc, keep, ok := ex.sortLimit(0, final.len()); ok {
			first := m.itemOf(ex.p.Tail[0].Cmd.(*query.SortCmd).Keys[0].Expr)
			if rows, err = m.top(keys, desc, keep, first); err != nil {
				return nil, err
			}
			tailFrom, unordered = 2, false
		} else if rows, err = m.all(); err != nil {
			return nil, err
		}
		phase, unordered = b.Stage.Phase+1, tailFrom == 0
	case plan.TopK:
		all := newTopK(b.K, descs(b.Keys), len(b.Dedup) > 0)
		for _, w := range ex.workers {
			if w != nil && w.top != nil {
				all.mergeFrom(w.top)
			}
		}
		for _, br := range all.sorted() {
			rows = append(rows, br.row())
		}
	case plan.Take:
		for _, w := range ex.workers {
			if w == nil {
				continue
			}
			for _, br := range w.take {
				if int64(len(rows)) < b.K {
					rows = append(rows, br.row())
				}
			}
		}
	}
	rows, phase, err := ex.runTail(rows, phase, tailFrom, unordered)
	if err != nil {
		return nil, err
	}
	return ex.output(res, rows, phase)
}

// rowMaker compiles a stats' items for making its rows from table t.
func (ex *executor) rowMaker(t *table, st *query.Stage) (*rowMaker, error) {
	ss := st.Stats
	c := ex.chk.Compiler(ss.AggScope, 0, nil, ex.opts.Eval)
	items := make([]query.Eval, len(ss.Items))
	for i, it := range ss.Items {
		ev, err := c.Value(it.Expr)
		if err != nil {
			return nil, err
		}
		items[i] = ev
	}
	return newRowMaker(t, ss, items, ex.chk.PhaseSlots[st.Phase+1]), nil
}

// sortLimit says whether tail stage si is a sort followed by a limit that
// keeps less than a quarter of n rows, and returns the sort's keys and how
// many rows the limit keeps.
func (ex *executor) sortLimit(si, n int) (keys []query.Eval, desc []bool, keep int, ok bool) {
	tail := ex.p.Tail
	if si+1 >= len(tail) {
		return nil, nil, 0, false
	}
	sc, isSort := tail[si].Cmd.(*query.SortCmd)
	lim, isLimit := tail[si+1].Cmd.(*query.LimitCmd)
	if !isSort || !isLimit || lim.N < 0 || lim.N >= int64(n)/4 {
		return nil, nil, 0, false
	}
	keys, desc, err := ex.sortKeys(tail[si], sc)
	if err != nil {
		return nil, nil, 0, false // the general path reports it
	}
	return keys, desc, int(lim.N), true
}

// sortKeys compiles the keys of a sort stage.
func (ex *executor) sortKeys(st *query.Stage, cmd *query.SortCmd) ([]query.Eval, []bool, error) {
	var mat map[string]int
	if st.Phase == 0 {
		mat = ex.p.MatSlots()
	}
	c := ex.chk.Compiler(st.Scope, 0, mat, ex.opts.Eval)
	keys := make([]query.Eval, len(cmd.Keys))
	desc := make([]bool, len(cmd.Keys))
	for i, k := range cmd.Keys {
		ev, err := c.Value(k.Expr)
		if err != nil {
			return nil, nil, err
		}
		keys[i], desc[i] = ev, k.Desc()
	}
	return keys, desc, nil
}

// runTail runs the stages after the barrier on rows held in memory.
// unordered says the rows are stats rows not yet in their default order
// (see statsRows): commands that do not depend on order run on them as
// they are; the first that does puts them in order, or, for a sort, uses
// the order only to break ties.
func (ex *executor) runTail(rows []*query.Row, phase, from int, unordered bool) ([]*query.Row, int, error) {
	order := func() {
		if unordered {
			sortByKey(rows)
			unordered = false
		}
	}
	for si := from; si < len(ex.p.Tail); si++ {
		st := ex.p.Tail[si]
		var mat map[string]int
		if st.Phase == 0 {
			mat = ex.p.MatSlots()
		}
		c := ex.chk.Compiler(st.Scope, 0, mat, ex.opts.Eval)
		switch cmd := st.Cmd.(type) {
		case *query.FilterCmd:
			p, err := c.Cond(cmd.Cond)
			if err != nil {
				return nil, 0, err
			}
			rows = slices.DeleteFunc(rows, func(r *query.Row) bool { return !p(r) })
		case *query.FieldsCmd, *query.DisplayCmd:
			step, err := compileStep(c, st, func(*query.Row) {})
			if err != nil {
				return nil, 0, err
			}
			for _, r := range rows {
				step(r)
			}
		case *query.ParseCmd:
			ps, err := c.Parse(cmd, st.Slots)
			if err != nil {
				return nil, 0, err
			}
			out := make([]*query.Row, 0, len(rows))
			for _, r := range rows {
				ps(r, func(r *query.Row) {
					if cmd.Multi { // one row per match, each with its own slots
						r = &query.Row{Slots: slices.Clone(r.Slots), Log: r.Log, Seq: r.Seq}
					}
					out = append(out, r)
				})
			}
			rows = out
		case *query.SortCmd:
			keys, desc, err := ex.sortKeys(st, cmd)
			if err != nil {
				return nil, 0, err
			}
			// A limit right after the sort needs only its first rows.
			keep := len(rows)
			if si+1 < len(ex.p.Tail) {
				if lim, ok := ex.p.Tail[si+1].Cmd.(*query.LimitCmd); ok && lim.N >= 0 && lim.N < int64(len(rows)) {
					keep = int(lim.N)
				}
			}
			rows = sortRows(rows, keys, desc, keep, unordered)
			unordered = false
		case *query.LimitCmd:
			order()
			if int64(len(rows)) > cmd.N {
				rows = rows[:max(cmd.N, 0)]
			}
		case *query.DedupCmd:
			evs := make([]query.Eval, len(cmd.Fields))
			for i, f := range cmd.Fields {
				ev, err := c.Value(f)
				if err != nil {
					return nil, 0, err
				}
				evs[i] = ev
			}
			order()
			rows = dedupRows(rows, evs)
		case *query.StatsCmd:
			ss := st.Stats
			ev, err := compileStats(ex.chk, st, 0, mat, ex.opts.Eval)
			if err != nil {
				return nil, 0, err
			}
			t := newTable(ss.Aggs, ex.opts.MaxGroups, false)
			sg := newStage(t)
			for _, r := range rows {
				if err := sg.add(r, ev); err != nil {
					return nil, 0, err
				}
			}
			if err := sg.flush(); err != nil {
				return nil, 0, err
			}
			m, err := ex.rowMaker(t, st)
			if err != nil {
				return nil, 0, err
			}
			if rows, err = m.all(); err != nil {
				return nil, 0, err
			}
			phase, unordered = st.Phase+1, true
		}
	}
	order()
	return rows, phase, nil
}

// sortRows sorts rows stably by keys in the order of §3.5, missing values
// last, and returns the first keep of them. When keep is small it selects
// them with a bounded heap rather than sorting everything. byKey says ties
// go by the stats group keys in Log (the rows are not in their default
// order yet) rather than by their current order.
func sortRows(rows []*query.Row, keys []query.Eval, desc []bool, keep int, byKey bool) []*query.Row {
	type keyed struct {
		r    *query.Row
		i    int
		keys []record.Value
	}
	// Stable: ties keep their order, by their index.
	cmp := func(a, b *keyed) int {
		for j := range keys {
			if c := query.SortCompare(a.keys[j], b.keys[j], desc[j]); c != 0 {
				return c
			}
		}
		if byKey {
			if c := strings.Compare(a.r.Log, b.r.Log); c != 0 {
				return c
			}
		}
		return a.i - b.i
	}
	var ks []*keyed
	if keep < len(rows)/4 {
		// A max-heap of the keep best rows so far; its root is the worst.
		h := make([]*keyed, 0, keep+1)
		cand := &keyed{keys: make([]record.Value, len(keys))}
		for i, r := range rows {
			cand.r, cand.i = r, i
			for j, k := range keys {
				cand.keys[j] = query.SortableValue(k(r))
			}
			if len(h) == keep {
				if keep == 0 || cmp(cand, h[0]) >= 0 {
					continue
				}
				h[0], cand = cand, h[0]
				siftDown(h, 0, cmp)
				continue
			}
			h = append(h, cand)
			siftUp(h, len(h)-1, cmp)
			cand = &keyed{keys: make([]record.Value, len(keys))}
		}
		ks = h
	} else {
		ks = make([]*keyed, len(rows))
		for i, r := range rows {
			vals := make([]record.Value, len(keys))
			for j, k := range keys {
				vals[j] = query.SortableValue(k(r))
			}
			ks[i] = &keyed{r, i, vals}
		}
	}
	slices.SortFunc(ks, cmp)
	out := rows[:0]
	for _, k := range ks[:min(keep, len(ks))] {
		out = append(out, k.r)
	}
	return out
}

// siftUp and siftDown keep h a max-heap under cmp (the root sorts last).
func siftUp[T any](h []T, i int, cmp func(a, b T) int) {
	for i > 0 {
		p := (i - 1) / 2
		if cmp(h[i], h[p]) <= 0 {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown[T any](h []T, i int, cmp func(a, b T) int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && cmp(h[r], h[l]) > 0 {
			m = r
		}
		if cmp(h[m], h[i]) <= 0 {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// dedupRows keeps the first row for each combination of the values of evs;
// rows missing one of them are all kept (§3.8).
func dedupRows(rows []*query.Row, evs []query.Eval) []*query.Row {
	seen := map[string]bool{}
	out := rows[:0]
	var buf []byte
	for _, r := range rows {
		buf = buf[:0]
		null := false
		for _, ev := range evs {
			v := ev(r)
			if v.Kind == record.Missing || v.Kind == query.JSONValue {
				null = true
				break
			}
			buf = appendKey(buf, v)
		}
		if !null {
			if seen[string(buf)] {
				continue
			}
			seen[string(buf)] = true
		}
		out = append(out, r)
	}
	return out
}

// output computes the result columns of the final rows, capped at MaxRows.
func (ex *executor) output(res *Result, rows []*query.Row, phase int) (*Result, error) {
	var mat map[string]int
	if phase == 0 {
		mat = ex.p.MatSlots()
	}
	c := ex.chk.Compiler(ex.chk.Final, 0, mat, ex.opts.Eval)
	cols := ex.chk.Columns
	evs := make([]query.Eval, len(cols))
	res.Columns = make([]string, len(cols))
	for i, col := range cols {
		ev, err := c.Value(col.Expr)
		if err != nil {
			return nil, err
		}
		evs[i], res.Columns[i] = ev, col.Name
	}
	res.TotalRows = int64(len(rows))
	if limit := ex.p.MaxRows; int64(len(rows)) > limit {
		rows, res.Truncated = rows[:max(limit, 0)], true
	}
	res.Rows = make([][]record.Value, len(rows))
	for i, r := range rows {
		vals := make([]record.Value, len(evs))
		for j, ev := range evs {
			vals[j] = ev(r)
		}
		res.Rows[i] = vals
	}
	return res, nil
}
