package window

import (
	"net/netip"
	"runtime"
	"testing"
	"unsafe"
)

// hostState is a realistic per-source state: the ports a source touched and the
// bytes it sent.
type hostState struct {
	ports DistinctSet
	bytes Counter
}

// TestAdversarialSpray sends 5 million spoofed sources, one event each, through a
// table capped at 100,000 keys, with one real source among them that sends an
// event every 50 spoofed ones. Memory must stay within the bound computed from the
// cap (not from the input), and the real source must keep its state and count its
// 3,000 distinct ports exactly.
func TestAdversarialSpray(t *testing.T) {
	const (
		maxKeys   = 100_000
		realEvery = 50
		realPorts = 3000
	)
	n := 5_000_000
	if testing.Short() || raceEnabled {
		n = 1_000_000 // the race detector makes each event ~20× slower
	}
	portsCfg := DistinctConfig{Window: 10 * 60_000, ExactLimit: 4096, Precision: 12}
	bytesCfg := CounterConfig{Window: 60_000, Buckets: 10}
	tb := mustTable(t, TableConfig[netip.Addr, hostState]{
		MaxKeys: maxKeys, TTL: 15 * 60_000, Hash: AddrKeyHash,
		Init: func(_ netip.Addr, s *hostState) { s.ports.Init(portsCfg); s.bytes.Init(bytesCfg) },
	})
	// The bound: per key, the table entry, the index (at most 4 words of 8
	// bytes), the Counter's ring and the exact set's first table (8 slots of 9
	// bytes); plus 4 MiB for everything else.
	perKey := int(unsafe.Sizeof(entry[netip.Addr, hostState]{})) + 4*8 +
		10*int(unsafe.Sizeof(counterBucket{})) + 8*9
	bound := uint64(maxKeys*perKey + 4<<20)

	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	peak := uint64(0)

	realAddr := netip.MustParseAddr("10.0.1.5")
	const t0 = 1_700_000_400_000 // aligned to the 10-minute generation
	now := int64(t0)
	for i := range n {
		now = t0 + int64(i/10) // 10,000 events per second
		a := [4]byte{byte(11 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)}
		s, _ := tb.Get(netip.AddrFrom4(a), now)
		s.ports.Add(uint64(i%65536), now)
		s.bytes.Add(now, 60)
		if i%realEvery == 0 {
			r, _ := tb.Get(realAddr, now)
			r.ports.Add(uint64(i/realEvery%realPorts), now)
			r.bytes.Add(now, 1500)
		}
		if i%(n/10) == n/10-1 {
			if h := heap(); h > before {
				peak = max(peak, h-before)
			}
		}
	}
	growth := heap() - before
	st := tb.Stats()
	t.Logf("%d spoofed sources through %d keys: heap growth %.1f MiB at the end, peak %.1f MiB (bound %.1f MiB, %d B/key); "+
		"without the cap the same states would need ~%.0f MiB; stats %+v",
		n, maxKeys, mib(growth), mib(peak), mib(bound), perKey, mib(uint64(n)*uint64(perKey)), st)

	if peak > bound {
		t.Errorf("heap grew %.1f MiB, over the bound %.1f MiB", mib(peak), mib(bound))
	}
	if st.Keys != maxKeys || st.Inserted != uint64(n)+1 || st.Evicted != uint64(n)+1-maxKeys {
		t.Errorf("stats %+v", st)
	}
	r, ok := tb.Peek(realAddr)
	if !ok {
		t.Fatal("the real source was evicted")
	}
	if !r.ports.IsExact() || r.ports.Count() != realPorts {
		t.Errorf("real source: %d distinct ports (exact %v), want %d", r.ports.Count(), r.ports.IsExact(), realPorts)
	}
	// One real event every 5 ms; the counter covers 54 to 60 s before the last.
	if c := r.bytes.Count(); c < 54_000/5 || c > 60_000/5 || r.bytes.Sum() != 1500*c {
		t.Errorf("real source: %d events, %d bytes in the last minute", c, r.bytes.Sum())
	}

	// Everything idles out after the TTL, and the states are freed.
	if got := tb.Expire(now + 15*60_000); got != maxKeys || tb.Len() != 0 {
		t.Errorf("Expire dropped %d, %d left", got, tb.Len())
	}
	runtime.KeepAlive(tb)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
