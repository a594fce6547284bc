package exec

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// ErrTooManyGroups is returned when a stats makes more groups than
// Options.MaxGroups allows.
var ErrTooManyGroups = errors.New("too many groups")

// DefaultMaxGroups bounds the groups of one stats: the memory of a query is
// a function of its groups, and this keeps an accident (grouping by a
// timestamp or a message) from taking the machine.
const DefaultMaxGroups = 2_000_000

// pos is where a row comes from, for earliest and latest: its @timestamp,
// then its place in the input, which breaks ties the same way whatever the
// number of workers.
type pos struct {
	ts  int64
	log string
	seq int64
}

// before reports whether p comes before o.
func (p pos) before(o pos) bool {
	if p.ts != o.ts {
		return p.ts < o.ts
	}
	if p.log != o.log {
		return p.log < o.log
	}
	return p.seq < o.seq
}

// acc is the state of one aggregate in one group.
type acc interface {
	// add takes one row's argument value (missing for count(*)); at is the
	// row's position, set only for aggregates that need it.
	add(v record.Value, at *pos)
	// merge folds in the state of the same aggregate from another worker.
	merge(o acc)
	// result returns the aggregate's value, owned by the caller.
	result() record.Value
}

// aggKind describes one aggregate function.
type aggKind struct {
	newAcc func(a *query.AggCall) acc
	// needsPos says the aggregate reads the row's @timestamp.
	needsPos bool
}

var aggKinds = map[string]aggKind{
	"count":          {newAcc: func(a *query.AggCall) acc { return &countAcc{star: a.Arg == nil} }},
	"count_distinct": {newAcc: func(*query.AggCall) acc { return &distinctAcc{} }},
	"sum":            {newAcc: func(*query.AggCall) acc { return &sumAcc{} }},
	// (table.newAcc takes count, count_distinct and sum from slabs.)
	"avg":        {newAcc: func(*query.AggCall) acc { return &avgAcc{} }},
	"stddev":     {newAcc: func(*query.AggCall) acc { return &stddevAcc{} }},
	"min":        {newAcc: func(*query.AggCall) acc { return &extremeAcc{sign: -1} }},
	"max":        {newAcc: func(*query.AggCall) acc { return &extremeAcc{sign: 1} }},
	"sortsfirst": {newAcc: func(*query.AggCall) acc { return &sortsAcc{last: false} }},
	"sortslast":  {newAcc: func(*query.AggCall) acc { return &sortsAcc{last: true} }},
	"pct":        {newAcc: func(a *query.AggCall) acc { return &pctAcc{q: a.Percent} }},
	"earliest":   {newAcc: func(*query.AggCall) acc { return &timeAcc{} }, needsPos: true},
	"latest":     {newAcc: func(*query.AggCall) acc { return &timeAcc{latest: true} }, needsPos: true},
}

// countAcc is count(*) and count() (every row) and count(f) (rows where f is
// present, §4.2).
type countAcc struct {
	n    int64
	star bool
}

func (a *countAcc) add(v record.Value, _ *pos) {
	if a.star || v.Kind != record.Missing {
		a.n++
	}
}
func (a *countAcc) merge(o acc)          { a.n += o.(*countAcc).n }
func (a *countAcc) result() record.Value { return record.IntValue(a.n) }

// distinctAcc is count_distinct: exact, then approximate (DistinctExact).
type distinctAcc struct {
	d distinct
}

func (a *distinctAcc) add(v record.Value, _ *pos) {
	if v.Kind == record.Missing {
		return
	}
	var buf [64]byte // on the stack: a buffer per group would cost an allocation each
	a.d.add(hashKey(appendKey(buf[:0], v)))
}
func (a *distinctAcc) merge(o acc)          { a.d.merge(&o.(*distinctAcc).d) }
func (a *distinctAcc) result() record.Value { return record.IntValue(a.d.count()) }

// sumAcc adds numbers; whole numbers stay exact while they fit in 64 bits.
// Values that are not numbers are skipped; no numbers give missing.
type sumAcc struct {
	i       int64
	f       float64 // the sum once it is no longer whole or overflowed
	isFloat bool
	n       int64
}

func (a *sumAcc) add(v record.Value, _ *pos) {
	if v.Kind == record.Int || v.Kind == record.Bool {
		a.n++
		if !a.isFloat {
			if s := a.i + v.Int; (s > a.i) == (v.Int > 0) {
				a.i = s
				return
			}
			a.isFloat, a.f = true, float64(a.i)
		}
		a.f += float64(v.Int)
		return
	}
	x, ok := numberOf(v)
	if !ok {
		return
	}
	a.n++
	if !a.isFloat {
		a.isFloat, a.f = true, float64(a.i)
	}
	a.f += x
}

func (a *sumAcc) merge(o acc) {
	b := o.(*sumAcc)
	if b.n == 0 {
		return
	}
	if !a.isFloat && !b.isFloat {
		if s := a.i + b.i; (s > a.i) == (b.i > 0) {
			a.i, a.n = s, a.n+b.n
			return
		}
	}
	x, y := a.f, b.f
	if !a.isFloat {
		x = float64(a.i)
	}
	if !b.isFloat {
		y = float64(b.i)
	}
	a.isFloat, a.f, a.n = true, x+y, a.n+b.n
}

func (a *sumAcc) result() record.Value {
	switch {
	case a.n == 0:
		return record.Value{}
	case a.isFloat:
		return floatResult(a.f)
	}
	return record.IntValue(a.i)
}

// avgAcc is the arithmetic mean of the numbers.
type avgAcc struct{ sum sumAcc }

func (a *avgAcc) add(v record.Value, p *pos) { a.sum.add(v, p) }
func (a *avgAcc) merge(o acc)                { a.sum.merge(&o.(*avgAcc).sum) }
func (a *avgAcc) result() record.Value {
	if a.sum.n == 0 {
		return record.Value{}
	}
	total := a.sum.f
	if !a.sum.isFloat {
		total = float64(a.sum.i)
	}
	return floatResult(total / float64(a.sum.n))
}

// stddevAcc is the sample standard deviation (n−1 in the denominator, a
// decision of vigil's: AWS does not say, §10.8), by Welford's method, merged
// with Chan's formula. Fewer than two numbers give missing.
type stddevAcc struct {
	n        float64
	mean, m2 float64
}

func (a *stddevAcc) add(v record.Value, _ *pos) {
	x, ok := numberOf(v)
	if !ok {
		return
	}
	a.n++
	d := x - a.mean
	a.mean += d / a.n
	a.m2 += d * (x - a.mean)
}

func (a *stddevAcc) merge(o acc) {
	b := o.(*stddevAcc)
	if b.n == 0 {
		return
	}
	n := a.n + b.n
	d := b.mean - a.mean
	a.m2 += b.m2 + d*d*a.n*b.n/n
	a.mean += d * b.n / n
	a.n = n
}

func (a *stddevAcc) result() record.Value {
	if a.n < 2 {
		return record.Value{}
	}
	return floatResult(math.Sqrt(a.m2 / (a.n - 1)))
}

// extremeAcc is min (sign −1) and max (1). Numbers compare numerically and
// win over text; with no numbers, text compares in the sort order of §3.5.
// The value keeps its kind: min(@timestamp) is a timestamp.
type extremeAcc struct {
	sign      int
	num, text held
	numF      float64
	hasNum    bool
	hasText   bool
}

func (a *extremeAcc) add(v record.Value, _ *pos) {
	switch v.Kind {
	case record.Missing, query.JSONValue:
		return
	}
	if x, ok := numberOf(v); ok {
		if !a.hasNum || cmpF(x, a.numF) == a.sign {
			a.num.set(v)
			a.numF, a.hasNum = x, true
		}
		return
	}
	if !a.hasText || query.NaturalCompare(v, a.text.v)*a.sign > 0 {
		a.text.set(v)
		a.hasText = true
	}
}

func (a *extremeAcc) merge(o acc) {
	b := o.(*extremeAcc)
	if b.hasNum {
		a.add(b.num.v, nil)
	}
	if b.hasText {
		a.add(b.text.v, nil)
	}
}

func (a *extremeAcc) result() record.Value {
	switch {
	case a.hasNum:
		return a.num.own()
	case a.hasText:
		return a.text.own()
	}
	return record.Value{}
}

// sortsAcc is sortsFirst and sortsLast: the first or last value in the sort
// order of §3.5 (text before numbers), missing values skipped.
type sortsAcc struct {
	last bool
	best held
	has  bool
}

func (a *sortsAcc) add(v record.Value, _ *pos) {
	if v.Kind == record.Missing || v.Kind == query.JSONValue {
		return
	}
	c := query.NaturalCompare(v, a.best.v)
	if !a.has || (a.last && c > 0) || (!a.last && c < 0) {
		a.best.set(v)
		a.has = true
	}
}

func (a *sortsAcc) merge(o acc) {
	if b := o.(*sortsAcc); b.has {
		a.add(b.best.v, nil)
	}
}

func (a *sortsAcc) result() record.Value {
	if !a.has {
		return record.Value{}
	}
	return a.best.own()
}

// pctAcc is pct(f, q): see PctExact.
type pctAcc struct {
	q float64
	p percentile
}

func (a *pctAcc) add(v record.Value, _ *pos) {
	if x, ok := numberOf(v); ok {
		a.p.add(x)
	}
}
func (a *pctAcc) merge(o acc) { a.p.merge(&o.(*pctAcc).p) }
func (a *pctAcc) result() record.Value {
	x, ok := a.p.value(a.q)
	if !ok {
		return record.Value{}
	}
	return floatResult(x)
}

// timeAcc is earliest(f) and latest(f): f's value in the row with the
// smallest or largest @timestamp (ties: the first or last in input order).
// A row whose f is missing still counts: its missing value is the answer if
// it is the earliest row.
type timeAcc struct {
	latest bool
	at     pos
	v      held
	has    bool
}

func (a *timeAcc) add(v record.Value, at *pos) {
	if at == nil {
		return
	}
	if !a.has || (a.latest && a.at.before(*at)) || (!a.latest && at.before(a.at)) {
		a.at = *at
		a.v.set(v)
		a.has = true
	}
}

func (a *timeAcc) merge(o acc) {
	if b := o.(*timeAcc); b.has {
		a.add(b.v.v, &b.at)
	}
}

func (a *timeAcc) result() record.Value {
	if !a.has {
		return record.Value{}
	}
	return a.v.own()
}

// numberOf returns v as a number, as aggregates read it: typed numbers and
// strings that hold one; anything else is skipped.
func numberOf(v record.Value) (float64, bool) {
	x, ok := query.Number(v)
	return x, ok && !math.IsNaN(x)
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// floatResult returns an aggregate's float result: whole values as
// integers, as Logs Insights prints them.
func floatResult(f float64) record.Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return record.Value{}
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return record.IntValue(int64(f))
	}
	return record.FloatValue(f)
}

// ---- the group table ----

// group is one stats group: its key values and its aggregates' states.
type group struct {
	key  string         // the encoded key, as in the table
	keys []record.Value // owned copies
	accs []acc
}

// table aggregates rows into groups. Each worker has its own; they are
// merged at the end. Updating an existing group allocates nothing.
type table struct {
	calls     []*query.AggCall
	kinds     []aggKind
	needsPos  bool
	groups    map[string]*group
	keyBuf    []byte
	vals      []record.Value
	maxGroups int
	slabs     slabs
	at        pos
}

func newTable(calls []*query.AggCall, nGroups int, maxGroups int) *table {
	t := &table{calls: calls, groups: map[string]*group{}, vals: make([]record.Value, nGroups), maxGroups: maxGroups}
	for _, c := range calls {
		k := aggKinds[c.Call.Name]
		t.kinds = append(t.kinds, k)
		t.needsPos = t.needsPos || k.needsPos
	}
	return t
}

// evals are a stats' compiled expressions for one record kind (or for rows
// without records).
type evals struct {
	groups []query.Eval
	args   []query.Eval // nil for count(*)
	ts     query.Eval   // @timestamp, when an aggregate needs it
}

// add adds one row.
func (t *table) add(r *query.Row, ev *evals) error {
	buf := t.keyBuf[:0]
	for i, g := range ev.groups {
		v := g(r)
		t.vals[i] = v
		buf = appendKey(buf, v)
	}
	t.keyBuf = buf
	grp, ok := t.groups[string(buf)]
	if !ok {
		if len(t.groups) >= t.maxGroups {
			return fmt.Errorf("%w: the stats makes more than %d groups; narrow it with filter or --since/--until", ErrTooManyGroups, t.maxGroups)
		}
		grp = t.newGroup(t.vals)
		grp.key = t.ownString(unsafe.String(unsafe.SliceData(buf), len(buf)))
		t.groups[grp.key] = grp
	}
	// The position lives in the table: a local whose address went to the
	// aggregates would move to the heap, an allocation per row.
	var at *pos
	if t.needsPos {
		t.at = pos{log: r.Log, seq: r.Seq}
		if ms, ok := timeOf(ev.ts(r)); ok {
			t.at.ts = ms
			at = &t.at
		}
	}
	for i, a := range grp.accs {
		var v record.Value
		if ev.args[i] != nil {
			v = ev.args[i](r)
		}
		a.add(v, at)
	}
	return nil
}

// newGroup makes a group for key values vals (copied). Groups, their key
// values, their aggregate states of the common kinds and the strings they
// keep come from slabs that the table allocates in blocks, so that a new
// group costs a map insertion and a few bumps of a slice, not an
// allocation per piece.
func (t *table) newGroup(vals []record.Value) *group {
	g := bump(&t.slabs.groups)
	g.keys = bumpN(&t.slabs.vals, len(vals))
	for i, v := range vals {
		g.keys[i] = t.own(v)
	}
	g.accs = bumpN(&t.slabs.accs, len(t.calls))
	for i, c := range t.calls {
		g.accs[i] = t.newAcc(i, c)
	}
	return g
}

// newAcc returns a fresh state for aggregate i.
func (t *table) newAcc(i int, c *query.AggCall) acc {
	switch c.Call.Name {
	case "count":
		a := bump(&t.slabs.counts)
		a.star = c.Arg == nil
		return a
	case "sum":
		return bump(&t.slabs.sums)
	case "count_distinct":
		return bump(&t.slabs.distincts)
	}
	return t.kinds[i].newAcc(c)
}

// own returns v with its string copied into the table's string arena.
func (t *table) own(v record.Value) record.Value {
	if v.Str == "" {
		return v
	}
	v.Str = t.ownString(v.Str)
	return v
}

// ownString copies s into the table's arena, a list of blocks that are
// never reallocated, so the strings viewing them stay valid.
func (t *table) ownString(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > 4096 {
		return strings.Clone(s)
	}
	if cap(t.slabs.text)-len(t.slabs.text) < len(s) {
		t.slabs.text = make([]byte, 0, 64<<10)
	}
	start := len(t.slabs.text)
	t.slabs.text = append(t.slabs.text, s...)
	return unsafe.String(&t.slabs.text[start], len(s))
}

// slabs are the blocks a table allocates groups from.
type slabs struct {
	groups    []group
	vals      []record.Value
	accs      []acc
	counts    []countAcc
	sums      []sumAcc
	distincts []distinctAcc
	text      []byte
}

const slabSize = 256

// bump returns a pointer to a new zero element of the slab s.
func bump[T any](s *[]T) *T {
	if len(*s) == cap(*s) {
		*s = make([]T, 0, slabSize)
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

// bumpN returns n new zero elements of the slab s.
func bumpN[T any](s *[]T, n int) []T {
	if n == 0 {
		return nil
	}
	if cap(*s)-len(*s) < n {
		*s = make([]T, 0, max(slabSize, n))
	}
	start := len(*s)
	*s = (*s)[:start+n]
	return (*s)[start : start+n : start+n]
}

// merge folds o's groups into t.
func (t *table) merge(o *table) error {
	for k, og := range o.groups {
		g, ok := t.groups[k]
		if !ok {
			if len(t.groups) >= t.maxGroups {
				return fmt.Errorf("%w: the stats makes more than %d groups; narrow it with filter or --since/--until", ErrTooManyGroups, t.maxGroups)
			}
			t.groups[k] = og
			continue
		}
		for i, a := range g.accs {
			a.merge(og.accs[i])
		}
	}
	return nil
}

// timeOf returns a value as Unix milliseconds (a timestamp or a number).
func timeOf(v record.Value) (int64, bool) {
	switch v.Kind {
	case record.Time, record.Int:
		return v.Int, true
	case record.Float:
		return int64(v.F), true
	}
	return 0, false
}

// statsRows computes the rows of a stats from its merged groups: group
// values, then item values, in rows of width nSlots (the next phase's
// slots). Without by, a stats over no rows still gives one row (count 0,
// other aggregates missing). The rows are not sorted yet: each carries its
// group's encoded key in Log, which gives the default order (sortByKey)
// when something needs an order, and breaks ties when a sort comes first,
// so that sort … | limit N over many groups never sorts them all.
func statsRows(t *table, ss *query.StatsStage, items []query.Eval, nSlots int) []*query.Row {
	groups := make([]*group, 0, len(t.groups))
	for _, g := range t.groups {
		groups = append(groups, g)
	}
	if len(groups) == 0 && len(ss.Groups) == 0 {
		groups = append(groups, t.newGroup(nil))
	}
	ng, ni := len(ss.Groups), len(ss.Items)
	width := len(ss.AggScope.Names) + len(ss.Aggs)
	nSlots = max(nSlots, ng+ni)
	// Items that are one aggregate call (count(*) as n) take its result
	// directly; others are computed over a row of groups, items and results.
	direct := make([]int, ni)
	general := false
	for j, it := range ss.Items {
		direct[j] = -1
		if call, ok := it.Expr.(*query.CallExpr); ok {
			for k, a := range ss.Aggs {
				if a.Call == call {
					direct[j] = k
				}
			}
		}
		general = general || direct[j] < 0
	}
	// One block for all the rows and one for all their slots.
	rows := make([]*query.Row, len(groups))
	block := make([]query.Row, len(groups))
	slots := make([]record.Value, len(groups)*nSlots)
	tmp := &query.Row{Slots: make([]record.Value, width)}
	for i, g := range groups {
		row := &block[i]
		row.Slots = slots[i*nSlots : (i+1)*nSlots : (i+1)*nSlots]
		row.Log = g.key
		rows[i] = row
		if !general {
			copy(row.Slots, g.keys)
			for j, k := range direct {
				row.Slots[ng+j] = g.accs[k].result()
			}
			continue
		}
		clear(tmp.Slots)
		copy(tmp.Slots, g.keys)
		for j, a := range ss.Aggs {
			tmp.Slots[a.Slot] = g.accs[j].result()
		}
		for j, ev := range items {
			tmp.Slots[ng+j] = ev(tmp)
		}
		copy(row.Slots, tmp.Slots[:ng+ni])
	}
	return rows
}

// sortByKey puts stats rows in the default order of stats output, which
// AWS does not document (§10.5; recommended there: bins newest first, else
// the order groups were first seen, which parallel reading cannot give
// deterministically): by the group values in by order — text in code-point
// order, then addresses (numerically), then numbers, then timestamps newest
// first, missing values last. It is the order of the groups' encoded keys
// (appendKey), which the rows carry in Log, so sorting costs one byte
// comparison per pair, and it makes the output the same whatever the number
// of workers.
func sortByKey(rows []*query.Row) {
	slices.SortFunc(rows, func(a, b *query.Row) int { return strings.Compare(a.Log, b.Log) })
}
