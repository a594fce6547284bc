package exec

import (
	"container/heap"
	"strings"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// bufRow is a row kept by a top-K or take barrier: its sort keys and its
// materialized slots, with strings in memory of its own, and its place in
// the input, which makes the order total (and so the result independent of
// how records were spread over workers).
type bufRow struct {
	keys  []record.Value
	slots []record.Value
	log   string
	seq   int64
	sub   int64
	dkey  string // the dedup key; "" when the row has a missing dedup field
	hidx  int
	mem   arena
}

// row returns the buffered row as a query row for the tail.
func (b *bufRow) row() *query.Row {
	return &query.Row{Slots: b.slots, Log: b.log, Seq: b.seq, Sub: b.sub}
}

// order compares rows by sort keys, then input position.
type order struct{ desc []bool }

// at is a row's place in the input: the total order's last keys.
type at struct {
	log      string
	seq, sub int64
}

// less reports whether a row with keys ak at a sorts before b.
func (o order) less(ak []record.Value, a at, b *bufRow) bool {
	for i, d := range o.desc {
		if c := query.SortCompare(ak[i], b.keys[i], d); c != 0 {
			return c < 0
		}
	}
	if a.log != b.log {
		return a.log < b.log
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return a.sub < b.sub
}

func (b *bufRow) at() at { return at{b.log, b.seq, b.sub} }

// topK keeps the first k rows in an order; with dedup, the first row per
// dedup key and every row with a missing dedup field (§3.8). It is a heap
// whose root is the worst row kept, so a row that does not make it is
// turned away with one comparison and no copy. Memory is bounded by k.
//
// With dedup, a key whose best row was evicted is forgotten: any later row
// of that key is worse than the k rows that pushed it out, so it could not
// come back anyway.
type topK struct {
	k     int
	ord   order
	rows  []*bufRow
	index map[string]*bufRow // dedup key → row; nil without dedup
	// keys holds the candidate's sort keys.
	keys []record.Value
}

func newTopK(k int64, desc []bool, dedup bool) *topK {
	t := &topK{k: int(min(k, 1<<40)), ord: order{desc: desc}, keys: make([]record.Value, len(desc))}
	if dedup {
		t.index = map[string]*bufRow{}
	}
	return t
}

// heap.Interface over t.rows: the root is the row that sorts last.
func (t *topK) Len() int { return len(t.rows) }
func (t *topK) Less(i, j int) bool {
	a, b := t.rows[i], t.rows[j]
	return t.ord.less(b.keys, b.at(), a)
}
func (t *topK) Swap(i, j int) {
	t.rows[i], t.rows[j] = t.rows[j], t.rows[i]
	t.rows[i].hidx, t.rows[j].hidx = i, j
}
func (t *topK) Push(x any) { b := x.(*bufRow); b.hidx = len(t.rows); t.rows = append(t.rows, b) }
func (t *topK) Pop() any {
	b := t.rows[len(t.rows)-1]
	t.rows = t.rows[:len(t.rows)-1]
	return b
}

// full reports whether k rows are kept.
func (t *topK) full() bool { return len(t.rows) >= t.k }

// worst returns the row that sorts last among those kept.
func (t *topK) worst() *bufRow { return t.rows[0] }

// offer considers a row whose keys are in t.keys and whose dedup key (if
// any) is in dkey (nil: no dedup, or a missing dedup field). fill copies
// the row into a bufRow when it is kept.
func (t *topK) offer(pos at, dkey []byte, fill func(*bufRow)) {
	if t.k <= 0 {
		return
	}
	if dkey != nil {
		if e, ok := t.index[string(dkey)]; ok {
			if t.ord.less(t.keys, pos, e) {
				t.fill(e, pos, fill)
				heap.Fix(t, e.hidx)
			}
			return
		}
	}
	if !t.full() {
		e := &bufRow{}
		t.fill(e, pos, fill)
		if dkey != nil {
			e.dkey = string(dkey)
			t.index[e.dkey] = e
		}
		heap.Push(t, e)
		return
	}
	w := t.worst()
	if !t.ord.less(t.keys, pos, w) {
		return
	}
	if w.dkey != "" {
		delete(t.index, w.dkey)
		w.dkey = ""
	}
	t.fill(w, pos, fill)
	if dkey != nil {
		w.dkey = string(dkey)
		t.index[w.dkey] = w
	}
	heap.Fix(t, 0)
}

// fill copies the candidate into e: keys, position and (through fill) the
// slots, with every string moved into e's own memory.
func (t *topK) fill(e *bufRow, pos at, fill func(*bufRow)) {
	if cap(e.keys) < len(t.keys) {
		e.keys = make([]record.Value, len(t.keys))
	}
	e.keys = e.keys[:len(t.keys)]
	e.log, e.seq, e.sub = pos.log, pos.seq, pos.sub
	fill(e)
	for i, v := range t.keys {
		if v.Str != "" {
			v.Str = strings.Clone(v.Str)
		}
		e.keys[i] = v
	}
}

// mergeFrom offers every row of o to t.
func (t *topK) mergeFrom(o *topK) {
	for _, r := range o.rows {
		copy(t.keys, r.keys)
		var dkey []byte
		if r.dkey != "" {
			dkey = []byte(r.dkey)
		}
		t.offer(r.at(), dkey, func(e *bufRow) {
			e.slots = r.slots
			e.mem = r.mem
		})
	}
}

// sorted returns the rows kept, first to last.
func (t *topK) sorted() []*bufRow {
	out := make([]*bufRow, len(t.rows))
	tmp := &topK{rows: append([]*bufRow(nil), t.rows...), ord: t.ord}
	for i := range tmp.rows {
		tmp.rows[i].hidx = i
	}
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(tmp).(*bufRow)
	}
	return out
}
