package intel

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

// benchList builds a threat list the size of GuardDuty's limit: 240,000 single
// IPv4 addresses, 8,000 IPv4 CIDRs of /16–/28 (the sizes of Spamhaus DROP
// entries; nested in places) and 2,000 IPv6 networks and addresses.
func benchList(tb testing.TB, r *rand.Rand) *List {
	var b strings.Builder
	for range 240_000 {
		fmt.Fprintf(&b, "%d.%d.%d.%d\n", 1+r.IntN(222), r.IntN(256), r.IntN(256), r.IntN(256))
	}
	for range 8_000 {
		bits := 16 + r.IntN(13)
		a := netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		p, _ := a.Prefix(bits)
		fmt.Fprintln(&b, p)
	}
	for range 2_000 {
		var x [16]byte
		x[0], x[1] = 0x20, 0x01
		for i := 2; i < 16; i++ {
			x[i] = byte(r.IntN(256))
		}
		p, _ := netip.AddrFrom16(x).Prefix([]int{32, 48, 64, 128}[r.IntN(4)])
		fmt.Fprintln(&b, p)
	}
	l, _, err := Parse(strings.NewReader(b.String()), Options{Name: "bench", Kind: Threat})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// probes returns n addresses, one in hitEvery a listed one, the others random
// (so most of them miss, as most traffic does).
func probes(l *List, r *rand.Rand, n, hitEvery int, v6 bool) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		switch {
		case i%hitEvery == 0:
			for {
				e := l.Entries[r.IntN(len(l.Entries))]
				if e.Prefix.Addr().Is4() != v6 {
					out[i] = e.Prefix.Addr()
					break
				}
			}
		case v6:
			var x [16]byte
			x[0], x[1] = 0x20, 0x01
			for j := 2; j < 16; j++ {
				x[j] = byte(r.IntN(256))
			}
			out[i] = netip.AddrFrom16(x)
		default:
			out[i] = netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		}
	}
	return out
}

// BenchmarkMatch: one Set.Match (the trusted list checked first, then the
// threat list) against a Set of GuardDuty's maximum threat list size. "miss":
// one address in 16 is listed (traffic is mostly unlisted); "hit": every address
// is listed, so every lookup also reads its entry. "hot" cycles through 256
// addresses (a working set the caches hold, as the same peers recur in flow
// logs); "cold" through 16,384 random ones, which measures the memory latency of
// the machine as much as the lookup.
//
//	go test -run '^$' -bench 'Match' -benchmem ./internal/intel/
func BenchmarkMatch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	l := benchList(b, r)
	trusted := parseList(b, "trusted", Trusted, "192.0.2.0/24\n198.51.100.7\n2001:db8::/32\n")
	s := NewSet(l, trusted)
	for _, c := range []struct {
		name     string
		v6       bool
		hitEvery int
	}{{"IPv4/miss", false, 16}, {"IPv4/hit", false, 1}, {"IPv6/miss", true, 16}, {"IPv6/hit", true, 1}} {
		for _, n := range []int{1 << 8, 1 << 14} {
			ps := probes(l, r, n, c.hitEvery, c.v6)
			name := c.name + "/cold"
			if n == 1<<8 {
				name = c.name + "/hot"
			}
			b.Run(name, func(b *testing.B) {
				hits := 0
				i := 0
				for b.Loop() {
					if _, ok := s.Match(ps[i&(n-1)]); ok {
						hits++
					}
					i++
				}
				if hits == 0 {
					b.Fatal("no hits")
				}
			})
		}
	}
}

// BenchmarkMatchDomain: one threat lookup of a 4–6 label query name in a Set of
// 100,000 domains plus the built-ins.
func BenchmarkMatchDomain(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	var sb strings.Builder
	var names []string
	for i := range 100_000 {
		d := fmt.Sprintf("d%x-%d.example%d.com", r.Uint32(), i, i%50)
		sb.WriteString(d + "\n")
		names = append(names, d)
	}
	l := parseList(b, "domains", Threat, sb.String())
	s := NewSet(append(BuiltinLists(), l)...)
	qs := make([]string, 1<<12)
	for i := range qs {
		switch i % 4 {
		case 0:
			qs[i] = "www." + names[r.IntN(len(names))] + "."
		case 1:
			qs[i] = "xmr-eu1.NANOPOOL.org"
		default:
			qs[i] = fmt.Sprintf("host%d.svc.Internal.example.net", r.IntN(1000))
		}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		s.MatchDomain(qs[i&(len(qs)-1)])
		i++
	}
}

// BenchmarkLoad: parse and index the 250,000-entry list; reports the heap the
// loaded list and its Set keep, per entry.
func BenchmarkLoad(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	text := func() string {
		var sb strings.Builder
		for range 250_000 {
			fmt.Fprintf(&sb, "%d.%d.%d.%d\n", 1+r.IntN(222), r.IntN(256), r.IntN(256), r.IntN(256))
		}
		return sb.String()
	}()
	var keep *Set
	var ms0, ms1 runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		l, _, err := Parse(strings.NewReader(text), Options{Name: "bench", Kind: Threat})
		if err != nil {
			b.Fatal(err)
		}
		keep = NewSet(l)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
	}
	n, _ := keep.Len()
	b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(n), "heapB/entry")
	runtime.KeepAlive(keep)
}
