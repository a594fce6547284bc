package sketch

import (
	"math"
	"testing"
)

// fmix is MurmurHash3's finaliser: the well-mixed hashes the sketch expects.
func fmix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// TestAccuracy checks the estimator over the whole range against its
// documented error, 1.04/√m: within 4 standard errors at every size, including
// the range around 2.5·m where the original HyperLogLog estimator switches from
// linear counting and is biased by several percent.
func TestAccuracy(t *testing.T) {
	for _, p := range []uint8{8, 12, 14} {
		var s HLL
		s.Init(p)
		se := 1.04 / math.Sqrt(float64(int(1)<<p))
		next := 1
		for n := 1; n <= 1_000_000; n++ {
			s.Insert(fmix(uint64(n) * 0x9E3779B97F4A7C15))
			if n == next || n == 5*(1<<p)/2 {
				got := s.Estimate()
				if rel := math.Abs(got-float64(n)) / float64(n); rel > 4*se && math.Abs(got-float64(n)) > 1 {
					t.Errorf("p=%d n=%d: estimate %.1f, error %.2f%% > %.2f%%", p, n, got, 100*rel, 400*se)
				}
				if n == next {
					next = next*3/2 + 1
				}
			}
		}
	}
	var s HLL
	s.Init(10)
	if s.Estimate() != 0 || !s.Empty() {
		t.Error("empty sketch")
	}
}

// TestMerge checks that merged sketches equal one sketch of all the values.
func TestMerge(t *testing.T) {
	var a, b, all HLL
	a.Init(12)
	b.Init(12)
	all.Init(12)
	for n := range uint64(50_000) {
		x := fmix(n + 1)
		all.Insert(x)
		if n%3 == 0 {
			a.Insert(x)
		} else {
			b.Insert(x)
		}
	}
	a.Merge(&b)
	if got, want := a.Estimate(), all.Estimate(); got != want {
		t.Errorf("merged estimate %v, single sketch %v", got, want)
	}
}
