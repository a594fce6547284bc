package window

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLeakyBucketCrowdSec(t *testing.T) {
	// capacity 5, leakspeed 10s.
	var b LeakyBucket
	b.Init(LeakyBucketConfig{Capacity: 5, LeakEvents: 1, LeakPer: 10_000})
	const t0 = 1_700_000_000_000
	for i := range 5 {
		if b.Add(t0) {
			t.Fatalf("event %d overflowed", i+1)
		}
	}
	if !b.Add(t0) {
		t.Fatal("sixth event in a burst did not overflow")
	}
	if got := b.Level(t0); got != 5 {
		t.Errorf("level %v, want 5 (the overflowing event is not poured)", got)
	}
	if got := b.Level(t0 + 5_000); got != 4.5 {
		t.Errorf("level after 5s %v, want 4.5", got)
	}
	if b.Add(t0 + 10_000) {
		t.Error("an event after one leak interval overflowed")
	}
	if !b.Add(t0 + 10_000) {
		t.Error("second event in the same instant did not overflow")
	}
	// A late event is poured at the latest time: it cannot use room that leaked
	// before.
	if !b.Add(t0 - 100_000) {
		t.Error("late event fitted in a full bucket")
	}
	if got := b.Level(t0 + 70_000); got != 0 {
		t.Errorf("level after a minute %v", got)
	}
	b.Reset()
	if b.Level(0) != 0 {
		t.Error("reset")
	}
}

// TestLeakyBucketSteadyRate: at exactly the leak rate a bucket never overflows;
// above it, it does, and it overflows again at once after each overflow.
func TestLeakyBucketSteadyRate(t *testing.T) {
	var b LeakyBucket
	b.Init(LeakyBucketConfig{Capacity: 3, LeakEvents: 10, LeakPer: 1000}) // 10/s
	for i := range int64(10_000) {
		if b.Add(i * 100) {
			t.Fatalf("overflow at the leak rate, event %d", i)
		}
	}
	b.Reset()
	overflows := 0
	for i := range int64(1000) {
		if b.Add(i * 90) { // 11.1/s
			overflows++
		}
	}
	// 1000 events in 89.91 s; 899 leak, 3 fit: about 98 overflow.
	if overflows < 90 || overflows > 100 {
		t.Errorf("%d overflows above the rate", overflows)
	}
}

// TestLeakyBucketModel checks Add against a float simulation of a bucket.
func TestLeakyBucketModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cfg := LeakyBucketConfig{Capacity: 7, LeakEvents: 4, LeakPer: 2000} // 500 ms per event, exact in µs
	var b LeakyBucket
	b.Init(cfg)
	rate := float64(cfg.LeakEvents) / float64(cfg.LeakPer) // events per ms
	level, last := 0.0, int64(0)
	now := int64(0)
	for i := range 20_000 {
		now += r.Int64N(700)
		level = max(0, level-float64(now-last)*rate)
		last = now
		got := b.Add(now)
		if math.Abs(level+1-float64(cfg.Capacity)) < 1e-6 {
			// Too close to call in floating point: follow the bucket.
			if !got {
				level++
			}
			continue
		}
		want := level+1 > float64(cfg.Capacity)
		if !want {
			level++
		}
		if got != want {
			t.Fatalf("event %d at %d: overflow %v, want %v (level %.3f)", i, now, got, want, level)
		}
	}
}

func TestLeakyBucketConfig(t *testing.T) {
	for _, bad := range []LeakyBucketConfig{{}, {Capacity: 1}, {Capacity: 1, LeakEvents: 1}, {Capacity: 1, LeakEvents: 10_000, LeakPer: 1},
		{Capacity: 1 << 30, LeakEvents: 1, LeakPer: 1 << 20}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
