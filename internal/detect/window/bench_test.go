package window

import (
	"net/netip"
	"testing"
)

// Run with: go test -run '^$' -bench . -benchmem ./internal/detect/window/
// Every Add and Get is meant to allocate nothing in steady state.

func BenchmarkCounterAdd(b *testing.B) {
	c := newCounter(b, 60_000, 10)
	t := int64(1_700_000_000_000)
	b.ReportAllocs()
	for b.Loop() {
		t += 7 // a sub-bucket rolls every ~860 events
		c.Add(t, 1500)
	}
}

func BenchmarkDistinctSetAddExact(b *testing.B) {
	d := newDistinct(b, DistinctConfig{Window: 60_000, ExactLimit: 1024})
	t := int64(1_700_000_000_000)
	v := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		t++ // a generation rolls every 60,000 events
		v = (v + 1) % 1000
		d.Add(v, t)
	}
}

func BenchmarkDistinctSetAddSketch(b *testing.B) {
	d := newDistinct(b, DistinctConfig{Window: 60_000, ExactLimit: 64, Precision: 12})
	t := int64(1_700_000_000_000)
	for v := range uint64(100) {
		d.Add(v, t)
	}
	v := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		v++
		d.Add(v, t)
	}
}

func BenchmarkDistinctSetCountSketch(b *testing.B) {
	d := newDistinct(b, DistinctConfig{ExactLimit: 64, Precision: 12})
	for v := range uint64(100_000) {
		d.Add(v, 0)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += d.Count()
	}
	_ = n
}

func BenchmarkLeakyBucketAdd(b *testing.B) {
	var l LeakyBucket
	l.Init(LeakyBucketConfig{Capacity: 5, LeakEvents: 1, LeakPer: 10_000})
	t := int64(1_700_000_000_000)
	b.ReportAllocs()
	for b.Loop() {
		t += 1000
		if l.Add(t) {
			l.Reset()
		}
	}
}

// BenchmarkTableGetHit touches 100,000 resident keys in turn.
func BenchmarkTableGetHit(b *testing.B) {
	const keys = 100_000
	tb := mustTable(b, TableConfig[uint64, Counter]{MaxKeys: keys,
		Init: func(_ uint64, c *Counter) { c.Init(CounterConfig{Window: 60_000}) }})
	for k := range uint64(keys) {
		tb.Get(k, 0)
	}
	k := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		k = (k + 1) % keys
		s, _ := tb.Get(k, 1)
		s.Add(1, 1)
	}
}

// BenchmarkTableGetChurn is the spray: every Get is a new key in a full table
// of 100,000, evicting the coldest and recycling its state.
func BenchmarkTableGetChurn(b *testing.B) {
	const keys = 100_000
	tb := mustTable(b, TableConfig[uint64, hostState]{MaxKeys: keys,
		Init: func(_ uint64, s *hostState) {
			s.ports.Init(DistinctConfig{Window: 600_000})
			s.bytes.Init(CounterConfig{Window: 60_000})
		}})
	k := uint64(0)
	for ; k < keys; k++ {
		s, _ := tb.Get(k, 0)
		s.ports.Add(k, 0)
		s.bytes.Add(0, 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		k++
		s, _ := tb.Get(k, 1)
		s.ports.Add(k, 1)
		s.bytes.Add(1, 60)
	}
}

// BenchmarkTableGetChurnAddr is the spray with netip.Addr keys and AddrKeyHash.
func BenchmarkTableGetChurnAddr(b *testing.B) {
	const keys = 100_000
	tb := mustTable(b, TableConfig[netip.Addr, struct{}]{MaxKeys: keys, Hash: AddrKeyHash})
	addr := func(i uint32) netip.Addr {
		return netip.AddrFrom4([4]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
	}
	i := uint32(0)
	for ; i < keys; i++ {
		tb.Get(addr(i), 0)
	}
	b.ReportAllocs()
	for b.Loop() {
		i++
		tb.Get(addr(i), 1)
	}
}

func BenchmarkHashString(b *testing.B) {
	var h uint64
	b.ReportAllocs()
	for b.Loop() {
		h += HashString("ec2-198-51-100-7.eu-west-1.compute.amazonaws.com")
	}
	_ = h
}

// TestSteadyStateAllocs pins the zero-allocation promise of the hot paths, so a
// regression fails the tests and not only the benchmarks.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := newCounter(t, 60_000, 10)
	d := newDistinct(t, DistinctConfig{Window: 60_000, ExactLimit: 1024})
	sk := newDistinct(t, DistinctConfig{Window: 60_000, ExactLimit: 8})
	var l LeakyBucket
	l.Init(LeakyBucketConfig{Capacity: 5, LeakEvents: 1, LeakPer: 10_000})
	for v := range uint64(2000) {
		d.Add(v%1000, 0)
		sk.Add(v, 0)
	}
	tb := mustTable(t, TableConfig[netip.Addr, Counter]{MaxKeys: 1000, Hash: AddrKeyHash,
		Init: func(_ netip.Addr, c *Counter) { c.Init(CounterConfig{Window: 1000}) }})
	tk := mustTable(t, TableConfig[[16]byte, Counter]{MaxKeys: 1000,
		Init: func(_ [16]byte, c *Counter) { c.Init(CounterConfig{Window: 1000}) }})
	i := uint32(0)
	for ; i < 2000; i++ {
		tb.Get(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 0)
		tk.Get([16]byte{0: byte(i), 1: byte(i >> 8)}, 0)
	}
	now := int64(0)
	for name, f := range map[string]func(){
		"Counter.Add":              func() { now += 10; c.Add(now, 1) },
		"DistinctSet.Add exact":    func() { now += 10; d.Add(uint64(now)%1000, now) },
		"DistinctSet.Add sketch":   func() { sk.Add(uint64(now), 0); now++ },
		"DistinctSet.Count sketch": func() { _ = sk.Count() },
		"LeakyBucket.Add":          func() { now += 10; l.Add(now) },
		"Table.Get Addr churn": func() {
			i++
			s, _ := tb.Get(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1)
			s.Add(1, 1)
		},
		"Table.Get [16]byte churn": func() {
			i++
			s, _ := tk.Get([16]byte{0: byte(i), 1: byte(i >> 8), 2: byte(i >> 16)}, 1)
			s.Add(1, 1)
		},
	} {
		if n := testing.AllocsPerRun(5000, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

// BenchmarkDistinctSetAddCountSketch is a detector's pattern in sketch mode: add a
// new value, then compare the count with a threshold (the estimate is computed
// again after each register change).
func BenchmarkDistinctSetAddCountSketch(b *testing.B) {
	d := newDistinct(b, DistinctConfig{ExactLimit: 64, Precision: 12})
	v := uint64(0)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		v++
		d.Add(v, 0)
		n += d.Count()
	}
	_ = n
}
