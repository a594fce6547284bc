package window

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func newDistinct(t testing.TB, cfg DistinctConfig) *DistinctSet {
	t.Helper()
	var d DistinctSet
	d.Init(cfg)
	return &d
}

// distinctModel is the reference: each value's latest generation.
type distinctModel struct {
	window int64
	gen    int64
	seen   map[uint64]int64
	start  bool
}

func (m *distinctModel) add(v uint64, t int64) bool {
	g := int64(0)
	if m.window > 0 {
		g = floorDiv(t, m.window)
	}
	if !m.start {
		m.start, m.gen = true, g
	}
	if g > m.gen {
		m.gen = g
	}
	if g < m.gen-1 {
		return false
	}
	old, ok := m.seen[v]
	isNew := !ok || old < m.gen-1
	if !ok || g > old {
		m.seen[v] = g
	}
	return isNew
}

func (m *distinctModel) advance(t int64) {
	if m.window > 0 && m.start {
		m.gen = max(m.gen, floorDiv(t, m.window))
	}
}

func (m *distinctModel) count() int {
	n := 0
	for _, g := range m.seen {
		if g >= m.gen-1 {
			n++
		}
	}
	return n
}

// TestDistinctExactModel drives exact sets with random values (including 0 and
// the value whose mix is 0), random lateness and gaps, against the model.
func TestDistinctExactModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	zeroMix := unmix(0) // the value stored as the empty-slot marker's twin
	for _, window := range []int64{0, 1000, 7} {
		d := newDistinct(t, DistinctConfig{Window: window, ExactLimit: 1 << 20})
		m := &distinctModel{window: window, seen: map[uint64]int64{}}
		now := int64(0)
		for i := range 20000 {
			now += r.Int64N(20)
			if r.IntN(500) == 0 {
				now += r.Int64N(5000) // a gap of several generations
			}
			tv := now - r.Int64N(max(1, 2*window)) // late by up to two generations
			var v uint64
			switch r.IntN(10) {
			case 0:
				v = 0
			case 1:
				v = zeroMix
			default:
				v = r.Uint64N(300)
			}
			if got, want := d.Add(v, tv), m.add(v, tv); got != want {
				t.Fatalf("window %d step %d: Add(%d, %d) = %v, want %v", window, i, v, tv, got, want)
			}
			if i%97 == 0 {
				d.Advance(now)
				m.advance(now)
			}
			if !d.IsExact() || d.Count() != m.count() {
				t.Fatalf("window %d step %d: count %d (exact %v), want %d", window, i, d.Count(), d.IsExact(), m.count())
			}
		}
	}
}

// unmix inverts mix (fmix64), to find the value whose mix is a given number.
func unmix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0x9cb4b2f8129337db // inverse of 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	x *= 0x4f74430c22a54005 // inverse of 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

func TestUnmix(t *testing.T) {
	for _, v := range []uint64{0, 1, 42, math.MaxUint64} {
		if mix(unmix(v)) != v {
			t.Fatalf("unmix is not the inverse of mix for %d", v)
		}
	}
}

func TestDistinctSwitchesToSketch(t *testing.T) {
	d := newDistinct(t, DistinctConfig{ExactLimit: 100, Precision: 12})
	for v := range uint64(100) {
		d.Add(v, 0)
	}
	if !d.IsExact() || d.Count() != 100 {
		t.Fatalf("at the limit: exact %v count %d", d.IsExact(), d.Count())
	}
	if d.Add(5, 0) || !d.IsExact() {
		t.Error("a repeat switched the set")
	}
	if !d.Add(100, 0) || d.IsExact() {
		t.Fatal("value 101 did not switch to the sketch")
	}
	if d.Count() < 101 {
		t.Errorf("count %d right after switching, want at least 101", d.Count())
	}
	for v := uint64(101); v < 50_000; v++ {
		d.Add(v, 0)
	}
	if got := d.Count(); math.Abs(float64(got)-50_000)/50_000 > 0.05 {
		t.Errorf("sketch count %d for 50000", got)
	}
	if d.Bytes() > (DistinctConfig{ExactLimit: 100, Precision: 12}).MaxBytes() {
		t.Errorf("Bytes %d over MaxBytes", d.Bytes())
	}
}

func TestDistinctWindowedSketch(t *testing.T) {
	cfg := DistinctConfig{Window: 60_000, ExactLimit: 64, Precision: 14}
	d := newDistinct(t, cfg)
	// Generation 0: 10000 values. Generation 1: 5000 of them and 5000 new.
	for v := range uint64(10_000) {
		d.Add(v, 1000)
	}
	for v := uint64(5000); v < 15_000; v++ {
		d.Add(v, 61_000)
	}
	within := func(got, want int, what string) {
		t.Helper()
		if math.Abs(float64(got-want))/float64(want) > 0.03 {
			t.Errorf("%s: count %d, want about %d", what, got, want)
		}
	}
	within(d.Count(), 15_000, "two generations")
	// A late value of generation 0 counts; one of generation -1 is refused.
	if d.Add(1<<40, 59_000); d.IsExact() {
		t.Fatal("exact again")
	}
	if d.Add(1<<41, -1) {
		t.Error("value two generations old accepted")
	}
	d.Advance(121_000) // generation 2: only generation 1's 10000 remain
	within(d.Count(), 10_000, "after one roll")
	if d.IsExact() {
		t.Error("exact while the previous generation is full")
	}
	d.Advance(181_000) // generation 3: both empty
	if !d.IsExact() || d.Count() != 0 {
		t.Errorf("after two empty generations: exact %v count %d", d.IsExact(), d.Count())
	}
	d.Add(7, 181_001)
	if d.Count() != 1 {
		t.Errorf("count %d", d.Count())
	}
}

func TestDistinctDeterministic(t *testing.T) {
	run := func() int {
		d := newDistinct(t, DistinctConfig{Window: 1000, ExactLimit: 10})
		for i := range 100_000 {
			d.Add(HashString(string(rune('a'+i%26))+string(rune(i))), int64(i/50))
		}
		return d.Count()
	}
	if a, b := run(), run(); a != b {
		t.Errorf("two runs: %d and %d", a, b)
	}
}

func TestHashes(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	if HashAddr(v4) != HashAddr(netip.MustParseAddr("::ffff:192.0.2.1")) {
		t.Error("mapped address hashes differently")
	}
	if HashAddr(v4) == HashAddr(netip.MustParseAddr("192.0.2.2")) {
		t.Error("collision")
	}
	if HashString("example.com") != HashBytes([]byte("example.com")) || HashString("a") == HashString("b") {
		t.Error("HashString/HashBytes")
	}
	// Pinned: the hashes feed sketches whose estimates must not change between
	// versions without notice.
	// (FNV-1a 64 of "example.com", then fmix64; checked independently.)
	if got := HashString("example.com"); got != 0x9591d6421994d599 {
		t.Errorf("HashString(example.com) = %#x, want 0x9591d6421994d599", got)
	}
}

func TestDistinctConfig(t *testing.T) {
	for _, bad := range []DistinctConfig{{Window: -1}, {ExactLimit: -1}, {ExactLimit: maxExactLimit + 1}, {Precision: 3}, {Precision: 17}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	d := newDistinct(t, DistinctConfig{})
	if d.limit != DefaultExactLimit || d.p != DefaultPrecision {
		t.Error("defaults")
	}
}

// TestDistinctMemoryBound fills sets past their limit and checks Bytes against
// MaxBytes, which the package documentation promises.
func TestDistinctMemoryBound(t *testing.T) {
	for _, cfg := range []DistinctConfig{{ExactLimit: 1000}, {Window: 10, ExactLimit: 1000, Precision: 14}, {ExactLimit: 1 << 14, Precision: 4}} {
		d := newDistinct(t, cfg)
		peak := 0
		for v := range uint64(3 * cfg.ExactLimit) {
			d.Add(v, int64(v)/1000)
			peak = max(peak, d.Bytes())
		}
		if peak > cfg.MaxBytes() {
			t.Errorf("%+v: peak %d bytes > MaxBytes %d", cfg, peak, cfg.MaxBytes())
		}
		if limit := 36*cfg.ExactLimit + 8*1024; cfg.MaxBytes() > limit && cfg.Precision < 14 {
			t.Errorf("%+v: MaxBytes %d over the documented 36 bytes per value", cfg, cfg.MaxBytes())
		}
	}
}
