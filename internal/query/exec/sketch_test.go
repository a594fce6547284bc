package exec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPercentileSketchAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var p, a, b percentile
	var all []float64
	for i := range 3 * PctExact {
		x := math.Exp(r.NormFloat64()*3) - 5 // negative, zero-ish and large values
		if i%1000 == 0 {
			x = 0
		}
		all = append(all, x)
		p.add(x)
		if i%2 == 0 { // the same values split over two workers, merged
			a.add(x)
		} else {
			b.add(x)
		}
	}
	a.merge(&b)
	if p.sketch == nil || a.sketch == nil {
		t.Fatal("past PctExact values the summary must be a sketch")
	}
	slices.Sort(all)
	for _, q := range []float64{0, 1, 25, 50, 90, 99, 99.9, 100} {
		want := all[rank(q, uint64(len(all)))-1]
		for name, s := range map[string]*percentile{"one": &p, "merged": &a} {
			got, ok := s.value(q)
			if !ok || math.Abs(got-want) > pctAlpha*math.Abs(want)+1e-9 {
				t.Errorf("%s pct %v: %v, want %v within 1%%", name, q, got, want)
			}
		}
	}
}

func TestPercentileExact(t *testing.T) {
	var p percentile
	for _, x := range []float64{5, 1, 4, 2, 3} {
		p.add(x)
	}
	for q, want := range map[float64]float64{0: 1, 20: 1, 21: 2, 50: 3, 80: 4, 100: 5} {
		if got, _ := p.value(q); got != want {
			t.Errorf("pct %v = %v, want %v", q, got, want)
		}
	}
	var empty percentile
	if _, ok := empty.value(50); ok {
		t.Error("pct of nothing must be missing")
	}
}

func TestDistinctSketch(t *testing.T) {
	// 3 and 5 straddle the inline values; 40,960 = 2.5·2^14 is where the
	// original HyperLogLog estimator switched from linear counting and was
	// biased by 4% (seen in bench/run against DuckDB).
	for _, n := range []int{3, distinctInline + 1, 10, DistinctExact, 5000, 36000, 40960, 46000, 50000, 300000} {
		var one, a, b distinct
		for i := range n {
			x := hashKey([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
			one.add(x)
			one.add(x) // duplicates count once
			if i%3 == 0 {
				a.add(x)
			} else {
				b.add(x)
			}
		}
		a.merge(&b)
		for name, d := range map[string]*distinct{"one": &one, "merged": &a} {
			got := float64(d.count())
			tolerance := 0.0
			if n > DistinctExact {
				tolerance = 0.0325 * float64(n) // 4 standard errors
			}
			if math.Abs(got-float64(n)) > tolerance {
				t.Errorf("%s: %d distinct counted as %v", name, n, got)
			}
		}
	}
}
