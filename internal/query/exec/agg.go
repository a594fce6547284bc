package exec

import (
	"errors"
	"math"
	"slices"
	"strings"

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
	// count, count_distinct and sum keep their states in columns of their
	// own (table.states), not as accs.
	"count":          {},
	"count_distinct": {},
	"sum":            {},
	"avg":            {newAcc: func(*query.AggCall) acc { return &avgAcc{} }},
	"stddev":         {newAcc: func(*query.AggCall) acc { return &stddevAcc{} }},
	"min":            {newAcc: func(*query.AggCall) acc { return &extremeAcc{sign: -1} }},
	"max":            {newAcc: func(*query.AggCall) acc { return &extremeAcc{sign: 1} }},
	"sortsfirst":     {newAcc: func(*query.AggCall) acc { return &sortsAcc{last: false} }},
	"sortslast":      {newAcc: func(*query.AggCall) acc { return &sortsAcc{last: true} }},
	"pct":            {newAcc: func(a *query.AggCall) acc { return &pctAcc{q: a.Percent} }},
	"earliest":       {newAcc: func(*query.AggCall) acc { return &timeAcc{} }, needsPos: true},
	"latest":         {newAcc: func(*query.AggCall) acc { return &timeAcc{latest: true} }, needsPos: true},
}

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
			if s, ok := addWhole(a.i, v.Int); ok {
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

// addWhole returns x+y and whether it did not overflow: a whole sum stays
// exact until it would, then turns to a float.
func addWhole(x, y int64) (int64, bool) {
	s := x + y
	return s, (s > x) == (y > 0)
}

func (a *sumAcc) merge(o acc) { a.mergeSum(o.(*sumAcc)) }

func (a *sumAcc) mergeSum(b *sumAcc) {
	if b.n == 0 {
		return
	}
	if !a.isFloat && !b.isFloat {
		if s, ok := addWhole(a.i, b.i); ok {
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

// rowMaker makes the rows of a stats from its groups: group values, then
// item values, in rows of width nSlots (the next phase's slots). Each row
// carries its group's encoded key in Log, which gives the default order
// (sortByKey) when something needs an order, and breaks ties when a sort
// comes first.
type rowMaker struct {
	t      *table
	ss     *query.StatsStage
	items  []query.Eval
	nSlots int
	// direct[j] is the aggregate that item j is (count(*) as n), or -1 for
	// an item computed over a row of groups, items and results (general).
	direct  []int
	general bool
	tmp     *query.Row
}

func newRowMaker(t *table, ss *query.StatsStage, items []query.Eval, nSlots int) *rowMaker {
	ng, ni := len(ss.Groups), len(ss.Items)
	m := &rowMaker{t: t, ss: ss, items: items, nSlots: max(nSlots, ng+ni), direct: make([]int, ni)}
	for j, it := range ss.Items {
		m.direct[j] = -1
		if call, ok := it.Expr.(*query.CallExpr); ok {
			for k, a := range ss.Aggs {
				if a.Call == call {
					m.direct[j] = k
				}
			}
		}
		m.general = m.general || m.direct[j] < 0
	}
	m.tmp = &query.Row{Slots: make([]record.Value, len(ss.AggScope.Names)+len(ss.Aggs))}
	return m
}

// fill makes row (whose slots are clear) the row of group g.
func (m *rowMaker) fill(row *query.Row, g groupRef) {
	ng, ni := len(m.ss.Groups), len(m.ss.Items)
	row.Log = g.p.keyString(g.id)
	if !m.general {
		decodeKey(row.Log, row.Slots[:ng])
		for j, k := range m.direct {
			row.Slots[ng+j] = m.t.result(g.p, g.id, k)
		}
		return
	}
	tmp := m.tmp
	clear(tmp.Slots)
	decodeKey(row.Log, tmp.Slots[:ng])
	for j, a := range m.ss.Aggs {
		tmp.Slots[a.Slot] = m.t.result(g.p, g.id, j)
	}
	for j, ev := range m.items {
		tmp.Slots[ng+j] = ev(tmp)
	}
	copy(row.Slots, tmp.Slots[:ng+ni])
}

// itemOf returns the stats item that sort key e names when that item is an
// aggregate as it is (sum(bytes) as b, sorted by b) and no group shares its
// name, so that the key's value is the aggregate's result; else -1.
func (m *rowMaker) itemOf(e query.Expr) int {
	ref, ok := e.(*query.FieldRef)
	if !ok {
		return -1
	}
	name := ref.Name()
	for _, g := range m.ss.Groups {
		if g.Name == name {
			return -1
		}
	}
	found := -1
	for j, it := range m.ss.Items {
		if it.Name == name {
			if found >= 0 {
				return -1 // two items of one name: leave it to the general path
			}
			found = j
		}
	}
	if found >= 0 && m.direct[found] < 0 {
		return -1
	}
	return found
}

// groups returns the table's groups. Without by, a stats over no rows still
// gives one row (count 0, other aggregates missing).
func (m *rowMaker) groups() ([]groupRef, error) {
	if m.t.len() == 0 && len(m.ss.Groups) == 0 {
		h := groupHash(nil)
		if _, err := m.t.find(&m.t.parts[partitionOf(h)], h, nil); err != nil {
			return nil, err
		}
	}
	return m.t.refs(), nil
}

// all returns the rows of every group, not sorted yet (sortByKey).
func (m *rowMaker) all() ([]*query.Row, error) {
	groups, err := m.groups()
	if err != nil {
		return nil, err
	}
	// One block for all the rows and one for all their slots.
	rows := make([]*query.Row, len(groups))
	block := make([]query.Row, len(groups))
	slots := make([]record.Value, len(groups)*m.nSlots)
	for i, g := range groups {
		row := &block[i]
		row.Slots = slots[i*m.nSlots : (i+1)*m.nSlots : (i+1)*m.nSlots]
		m.fill(row, g)
		rows[i] = row
	}
	return rows, nil
}

// top returns the rows of the keep groups that sort first by keys (ties by
// group key), sorted, making a row only for the groups that are among the
// best so far: sort … | limit N over a million groups never holds a million
// rows.
//
// first is the stats item the first key is (itemOf), or -1: then a group
// that sorts after the worst row kept on that aggregate alone is passed over
// without making its row (top talkers: 1.5 million groups, 10 rows).
func (m *rowMaker) top(keys []query.Eval, desc []bool, keep, first int) ([]*query.Row, error) {
	groups, err := m.groups()
	if err != nil {
		return nil, err
	}
	type cand struct {
		row  *query.Row
		keys []record.Value
	}
	cmp := func(a, b *cand) int {
		for j := range keys {
			if c := query.SortCompare(a.keys[j], b.keys[j], desc[j]); c != 0 {
				return c
			}
		}
		return strings.Compare(a.row.Log, b.row.Log)
	}
	newCand := func() *cand {
		return &cand{row: &query.Row{Slots: make([]record.Value, m.nSlots)}, keys: make([]record.Value, len(keys))}
	}
	// A max-heap of the keep best rows so far; its root is the worst.
	h := make([]*cand, 0, keep+1)
	c := newCand()
	for _, g := range groups {
		if keep == 0 {
			break
		}
		if first >= 0 && len(h) == keep {
			v := query.SortableValue(m.t.result(g.p, g.id, m.direct[first]))
			if query.SortCompare(v, h[0].keys[0], desc[0]) > 0 {
				continue
			}
		}
		clear(c.row.Slots)
		m.fill(c.row, g)
		for j, k := range keys {
			c.keys[j] = query.SortableValue(k(c.row))
		}
		if len(h) == keep {
			if cmp(c, h[0]) >= 0 {
				continue
			}
			h[0], c = c, h[0]
			siftDown(h, 0, cmp)
			continue
		}
		h = append(h, c)
		siftUp(h, len(h)-1, cmp)
		c = newCand()
	}
	slices.SortFunc(h, cmp)
	rows := make([]*query.Row, len(h))
	for i, c := range h {
		rows[i] = c.row
	}
	return rows, nil
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
