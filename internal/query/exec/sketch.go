package exec

import (
	"math"
	"slices"
	"sort"

	"github.com/vigil-dev/vigil/internal/sketch"
)

// Bounded-memory summaries for count_distinct and pct. Both start exact and
// switch to a mergeable sketch past a size, so that the memory of a group is
// bounded whatever the input, and per-worker states merge exactly as a
// single one would have seen the rows.

// DistinctExact is how many distinct values count_distinct counts exactly
// per group (as 64-bit hashes: a collision among 2,048 values has a chance
// below 1e-13). Above it, the group switches to a HyperLogLog sketch with
// 2^14 one-byte registers (16 KiB) and Ertl's estimator, whose relative
// standard error is 1.04/√16384 ≈ 0.81% at every cardinality. AWS's own
// count_distinct is approximate at high cardinality too (§5.7).
const DistinctExact = 2048

// distinctPrecision is the sketch's p.
const distinctPrecision = 14

// distinctInline is how many values a group holds without a map: most groups
// of a high-cardinality stats (a source with one or two ports) never need one,
// and a stats over a million sources keeps a million of these.
const distinctInline = 2

// distinct counts distinct values: exactly up to DistinctExact, then by
// sketch.
type distinct struct {
	inline [distinctInline]uint64
	n      uint8        // values in inline, while big is nil
	big    *distinctBig // past inline
}

// distinctBig is a distinct past its inline values: a set, then a sketch.
type distinctBig struct {
	set    map[uint64]struct{}
	sketch *sketch.HLL
}

func (d *distinct) add(x uint64) {
	if d.big == nil {
		for _, y := range d.inline[:d.n] {
			if y == x {
				return
			}
		}
		if int(d.n) < distinctInline {
			d.inline[d.n] = x
			d.n++
			return
		}
		d.big = &distinctBig{set: make(map[uint64]struct{}, 2*distinctInline)}
		for _, y := range d.inline[:d.n] {
			d.big.set[y] = struct{}{}
		}
		d.n = 0
	}
	b := d.big
	if b.sketch != nil {
		b.sketch.Insert(x)
		return
	}
	b.set[x] = struct{}{}
	if len(b.set) > DistinctExact {
		d.toSketch()
	}
}

func (d *distinct) toSketch() {
	if d.big == nil {
		d.big = &distinctBig{}
	}
	s := new(sketch.HLL)
	s.Init(distinctPrecision)
	for _, x := range d.inline[:d.n] {
		s.Insert(x)
	}
	for x := range d.big.set {
		s.Insert(x)
	}
	d.big.set, d.big.sketch, d.n = nil, s, 0
}

// values calls f for every exact value.
func (d *distinct) values(f func(uint64)) {
	for _, x := range d.inline[:d.n] {
		f(x)
	}
	if d.big != nil {
		for x := range d.big.set {
			f(x)
		}
	}
}

func (d *distinct) sketched() bool { return d.big != nil && d.big.sketch != nil }

func (d *distinct) merge(o *distinct) {
	if o.sketched() {
		if !d.sketched() {
			d.toSketch()
		}
		d.big.sketch.Merge(o.big.sketch)
		return
	}
	o.values(d.add)
}

func (d *distinct) count() int64 {
	switch {
	case d.sketched():
		return int64(math.Round(d.big.sketch.Estimate()))
	case d.big != nil:
		return int64(len(d.big.set))
	}
	return int64(d.n)
}

// PctExact is how many values pct keeps exactly per group; its result is
// then the nearest-rank percentile: the value at rank ⌈p/100·n⌉ of the
// sorted values (the smallest for p = 0). Above it, the group switches to a
// log-bucketed sketch (the DDSketch idea) whose answers are within 1% of the
// true value, in relative terms, at any rank, and whose size depends on the
// range of the values, not their number (a few thousand buckets at most).
const PctExact = 65536

// pctAlpha is the relative accuracy of the pct sketch.
const pctAlpha = 0.01

var (
	pctGamma    = (1 + pctAlpha) / (1 - pctAlpha)
	pctLogGamma = math.Log(pctGamma)
)

// percentile holds the values of one pct.
type percentile struct {
	exact  []float64
	sorted bool
	sketch *ddsketch
}

func (p *percentile) add(x float64) {
	if math.IsNaN(x) {
		return
	}
	if p.sketch != nil {
		p.sketch.add(x, 1)
		return
	}
	p.exact = append(p.exact, x)
	p.sorted = false
	if len(p.exact) > PctExact {
		p.toSketch()
	}
}

func (p *percentile) toSketch() {
	p.sketch = newDDSketch()
	for _, x := range p.exact {
		p.sketch.add(x, 1)
	}
	p.exact = nil
}

func (p *percentile) merge(o *percentile) {
	if o.sketch != nil {
		if p.sketch == nil {
			p.toSketch()
		}
		p.sketch.merge(o.sketch)
		return
	}
	for _, x := range o.exact {
		p.add(x)
	}
}

// value returns the nearest-rank q-th percentile (q from 0 to 100).
func (p *percentile) value(q float64) (float64, bool) {
	if p.sketch != nil {
		return p.sketch.quantile(q)
	}
	n := len(p.exact)
	if n == 0 {
		return 0, false
	}
	if !p.sorted {
		slices.Sort(p.exact)
		p.sorted = true
	}
	return p.exact[rank(q, uint64(n))-1], true
}

// rank returns the 1-based nearest rank of percentile q among n values.
func rank(q float64, n uint64) uint64 {
	r := uint64(math.Ceil(q / 100 * float64(n)))
	return min(max(r, 1), n)
}

// ddsketch counts values in buckets whose bounds grow geometrically by
// pctGamma, for positive and negative values apart, and zeros on their own.
type ddsketch struct {
	pos, neg map[int32]uint64
	zeros    uint64
	n        uint64
}

func newDDSketch() *ddsketch {
	return &ddsketch{pos: map[int32]uint64{}, neg: map[int32]uint64{}}
}

func bucketOf(x float64) int32 { return int32(math.Ceil(math.Log(x) / pctLogGamma)) }

// bucketValue is the value reported for bucket i: within pctAlpha of every
// value in it.
func bucketValue(i int32) float64 { return 2 * math.Pow(pctGamma, float64(i)) / (pctGamma + 1) }

func (s *ddsketch) add(x float64, c uint64) {
	switch {
	case x > 0:
		s.pos[bucketOf(x)] += c
	case x < 0:
		s.neg[bucketOf(-x)] += c
	default:
		s.zeros += c
	}
	s.n += c
}

func (s *ddsketch) merge(o *ddsketch) {
	for i, c := range o.pos {
		s.pos[i] += c
	}
	for i, c := range o.neg {
		s.neg[i] += c
	}
	s.zeros += o.zeros
	s.n += o.n
}

func (s *ddsketch) quantile(q float64) (float64, bool) {
	if s.n == 0 {
		return 0, false
	}
	want := rank(q, s.n)
	seen := uint64(0)
	negs := sortedKeys(s.neg)
	for i := len(negs) - 1; i >= 0; i-- { // most negative first
		if seen += s.neg[negs[i]]; seen >= want {
			return -bucketValue(negs[i]), true
		}
	}
	if seen += s.zeros; seen >= want {
		return 0, true
	}
	for _, k := range sortedKeys(s.pos) {
		if seen += s.pos[k]; seen >= want {
			return bucketValue(k), true
		}
	}
	return 0, false
}

func sortedKeys(m map[int32]uint64) []int32 {
	ks := make([]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}
