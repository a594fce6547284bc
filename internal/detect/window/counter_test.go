package window

import (
	"math/rand/v2"
	"testing"
)

func newCounter(t testing.TB, window int64, buckets int) *Counter {
	t.Helper()
	var c Counter
	c.Init(CounterConfig{Window: window, Buckets: buckets})
	return &c
}

func TestCounterTumbling(t *testing.T) {
	c := newCounter(t, 60_000, 1)
	for s := int64(0); s < 60; s++ {
		c.Add(1_700_000_080_000+s*1000, 10) // windows are epoch-aligned: …080_000 is 40 s into a minute
	}
	// The first 20 events fell in one minute, the next 40 in the next.
	if c.Count() != 40 || c.Sum() != 400 {
		t.Errorf("count %d sum %d, want 40 and 400", c.Count(), c.Sum())
	}
	c.Advance(1_700_000_160_000)
	if c.Count() != 0 {
		t.Errorf("count %d after the window ended", c.Count())
	}
}

func TestCounterSliding(t *testing.T) {
	c := newCounter(t, 10_000, 10) // 10 s in 1 s steps
	for s := int64(0); s < 30; s++ {
		if !c.Add(s*1000, 2) {
			t.Fatalf("event at %ds refused", s)
		}
		if want := min(s+1, 10); c.Count() != want || c.Sum() != 2*want {
			t.Fatalf("at %ds: count %d sum %d, want %d", s, c.Count(), c.Sum(), want)
		}
	}
	// Late but inside the window: counted in its bucket.
	if !c.Add(25_500, 1) || c.Count() != 11 {
		t.Errorf("late event: count %d", c.Count())
	}
	// Older than the window: refused, nothing changes.
	if c.Add(19_999, 1) || c.Count() != 11 {
		t.Errorf("too-old event accepted: count %d", c.Count())
	}
	c.Advance(32_000) // buckets 20 to 22 leave; 23 to 29 and the late one in 25 stay
	if c.Count() != 8 {
		t.Errorf("after Advance: count %d, want 8", c.Count())
	}
	c.Advance(1) // earlier: nothing
	c.Advance(10_000_000)
	if c.Count() != 0 || c.Sum() != 0 {
		t.Errorf("after a long gap: count %d sum %d", c.Count(), c.Sum())
	}
}

// TestCounterModel compares a Counter with a brute-force count over random
// events, some late, some before the epoch.
func TestCounterModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range []CounterConfig{{Window: 1000, Buckets: 1}, {Window: 1000, Buckets: 10}, {Window: 600, Buckets: 3}, {Window: 64, Buckets: 64}} {
		var c Counter
		c.Init(cfg)
		w := cfg.Window / int64(cfg.buckets())
		type ev struct{ b, v int64 }
		var kept []ev
		var head int64
		started := false
		now := int64(-5000)
		for range 5000 {
			now += r.Int64N(50)
			t0 := now - r.Int64N(int64(float64(cfg.Window)*1.5)) // up to 1.5 windows late
			v := r.Int64N(100)
			b := floorDiv(t0, w)
			accepted := c.Add(t0, v)
			switch {
			case !started:
				started, head = true, b
			case b > head:
				head = b
			}
			wantAccept := b > head-int64(cfg.buckets())
			if accepted != wantAccept {
				t.Fatalf("%+v: Add(%d) = %v, want %v", cfg, t0, accepted, wantAccept)
			}
			if accepted {
				kept = append(kept, ev{b, v})
			}
			var n, sum int64
			for _, e := range kept {
				if e.b > head-int64(cfg.buckets()) {
					n++
					sum += e.v
				}
			}
			if c.Count() != n || c.Sum() != sum {
				t.Fatalf("%+v at %d: count %d sum %d, want %d %d", cfg, now, c.Count(), c.Sum(), n, sum)
			}
		}
	}
}

func TestCounterConfig(t *testing.T) {
	for _, bad := range []CounterConfig{{Window: 0}, {Window: 1000, Buckets: -1}, {Window: 1000, Buckets: 65}, {Window: 1001, Buckets: 10}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if (CounterConfig{Window: 60_000}).Validate() != nil {
		t.Error("default buckets rejected")
	}
	defer func() {
		if recover() == nil {
			t.Error("Add before Init did not panic")
		}
	}()
	var c Counter
	c.Add(1, 1)
}

func TestCounterInitReusesBuffer(t *testing.T) {
	c := newCounter(t, 1000, 10)
	c.Add(5, 5)
	p := &c.ring[0]
	c.Init(CounterConfig{Window: 500, Buckets: 5})
	if &c.ring[0] != p || c.Count() != 0 || len(c.ring) != 5 {
		t.Error("Init did not reuse and empty the ring")
	}
	if n := testing.AllocsPerRun(100, func() { c.Init(CounterConfig{Window: 1000, Buckets: 10}) }); n != 0 {
		t.Errorf("Init allocates %v times", n)
	}
}
