package detect_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/record"
)

// v5 is the presence set of a custom v5 flow record with every field.
var v5 = func() record.FieldSet {
	var s record.FieldSet
	for _, id := range []record.FieldID{record.FlowVersion, record.FlowAccountID, record.FlowInterfaceID, record.FlowSrcAddr,
		record.FlowDstAddr, record.FlowSrcPort, record.FlowDstPort, record.FlowProtocol, record.FlowPackets, record.FlowBytes,
		record.FlowStart, record.FlowEnd, record.FlowAction, record.FlowLogStatus, record.FlowVPCID, record.FlowSubnetID,
		record.FlowInstanceID, record.FlowTCPFlags, record.FlowType, record.FlowPktSrcAddr, record.FlowPktDstAddr,
		record.FlowFlowDirection} {
		s = s.Add(id)
	}
	return s
}()

// flowGen makes realistic flow records: 500 instances talking to internal
// services and internet hosts (web, DNS, APIs), with the usual share of internet
// noise (rejected probes from many sources).
type flowGen struct {
	rng   *rand.Rand
	t     int64 // Unix seconds
	n     int
	hosts []netip.Addr
	enis  []string
	insts []string
}

func newFlowGen(seed uint64) *flowGen {
	g := &flowGen{rng: rand.New(rand.NewPCG(seed, 1)), t: 1793491200}
	for i := range 500 {
		g.hosts = append(g.hosts, netip.AddrFrom4([4]byte{10, 10, byte(i / 250), byte(i%250 + 1)}))
		g.enis = append(g.enis, fmt.Sprintf("eni-%017x", i))
		g.insts = append(g.insts, fmt.Sprintf("i-%017x", i))
	}
	return g
}

func (g *flowGen) fill(f *record.Flow) {
	g.n++
	if g.n%2000 == 0 {
		g.t++ // about 2,000 records per second of event time
	}
	r := g.rng
	f.Reset()
	f.Present = v5
	f.Version, f.AccountID, f.VPCID, f.SubnetID, f.Type = 5, "111122223333", "vpc-0a1b2c3d", "subnet-0a1b2c3d", "IPv4"
	h := r.IntN(len(g.hosts))
	f.InterfaceID, f.InstanceID = g.enis[h], g.insts[h]
	f.Start, f.End = g.t, g.t+int64(r.IntN(60))
	f.LogStatus, f.Action, f.Protocol = record.LogStatusOK, record.ActionAccept, 6
	f.Packets, f.Bytes = int64(2+r.IntN(40)), int64(200+r.IntN(60000))
	local := g.hosts[h]
	switch k := r.IntN(10); {
	case k < 4: // to an internal service
		f.SrcAddr, f.DstAddr = local, g.hosts[r.IntN(len(g.hosts))]
		f.SrcPort, f.DstPort = uint16(32768+r.IntN(28000)), []uint16{443, 5432, 6379, 8080, 9100}[r.IntN(5)]
		f.TCPFlags, f.FlowDirection = 3, record.DirectionEgress
	case k < 7: // to the internet
		f.SrcAddr = local
		f.DstAddr = netip.AddrFrom4([4]byte{byte(13 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		f.SrcPort, f.DstPort = uint16(32768+r.IntN(28000)), []uint16{443, 80, 443, 123}[r.IntN(4)]
		if f.DstPort == 123 {
			f.Protocol = 17
		}
		f.TCPFlags, f.FlowDirection = 3, record.DirectionEgress
	case k < 9: // a reply from the internet
		f.DstAddr = local
		f.SrcAddr = netip.AddrFrom4([4]byte{byte(13 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		f.DstPort, f.SrcPort = uint16(32768+r.IntN(28000)), 443
		f.TCPFlags, f.FlowDirection = 19, record.DirectionIngress
	default: // internet noise: a rejected probe
		f.DstAddr = local
		f.SrcAddr = netip.AddrFrom4([4]byte{byte(13 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		f.SrcPort, f.DstPort = uint16(1024+r.IntN(60000)), uint16([]int{22, 23, 3389, 445, 8080}[r.IntN(5)])
		f.Packets, f.Bytes, f.TCPFlags, f.Action, f.FlowDirection = 1, 44, 2, record.ActionReject, record.DirectionIngress
	}
	f.PktSrcAddr, f.PktDstAddr = f.SrcAddr, f.DstAddr
}

// batches returns n decode batches of flow records.
func (g *flowGen) batches(n int) []*decode.Batch {
	in := &decode.Input{Name: "bench"}
	out := make([]*decode.Batch, n)
	for i := range out {
		b := &decode.Batch{Kind: record.KindFlow, Input: in, Flows: make([]record.Flow, decode.BatchSize)}
		for j := range b.Flows {
			g.fill(&b.Flows[j])
		}
		out[i] = b
	}
	return out
}

// BenchmarkEngine measures the engine over in-memory flow batches with every
// built-in detection on, fed by two streams as two ingest workers would:
//
//	go test -run '^$' -bench Engine -benchmem ./internal/detect/
//
// records/s is the throughput; allocs/op and B/op are per record (b.N counts
// records).
func BenchmarkEngine(b *testing.B) {
	rules, err := detect.LoadRules()
	if err != nil {
		b.Fatal(err)
	}
	const streams = 2
	sets := make([][]*decode.Batch, streams)
	for s := range sets {
		sets[s] = newFlowGen(uint64(s)).batches(64) // 64k records per stream, replayed
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	e, err := detect.New(detect.DefaultConfig(), detect.Deps{Rules: rules, Intel: intel.NewSet(intel.BuiltinLists()...)})
	if err != nil {
		b.Fatal(err)
	}
	e.Start(context.Background())
	var wg sync.WaitGroup
	per := (b.N + streams*decode.BatchSize - 1) / (streams * decode.BatchSize)
	for s := range streams {
		wg.Go(func() {
			for i := range per {
				if err := e.Process(s, sets[s][i%len(sets[s])]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := e.Close(); err != nil {
		b.Fatal(err)
	}
	n := float64(per * streams * decode.BatchSize)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	// CPU time per record, all goroutines: on a loaded machine wall-clock
	// throughput understates what two free cores do; 2e9 / cpu-ns/record is the
	// throughput two cores sustain.
	b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/record")
}

// cpuTime returns the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestSpoofedSourcesBoundedMemory floods the engine with 5 million probes,
// each from a different spoofed internet address, while one real scanner
// probes 1,000 ports of the same instance: memory stays bounded by the key
// cap (the coldest keys are evicted, and counted) and the real scanner is
// still found.
func TestSpoofedSourcesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("5 million records")
	}
	rules, err := detect.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	cfg := detect.DefaultConfig()
	e, err := detect.New(cfg, detect.Deps{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	const total = 5_000_000
	victim := netip.MustParseAddr("10.0.1.5")
	scanner := netip.MustParseAddr("198.51.100.77")
	in := &decode.Input{Name: "spray"}
	b := &decode.Batch{Kind: record.KindFlow, Input: in, Flows: make([]record.Flow, decode.BatchSize)}
	t0 := int64(1793491200)
	var peak uint64
	scanned := 0
	for n := 0; n < total; {
		for j := range b.Flows {
			f := &b.Flows[j]
			f.Reset()
			f.Present = v5
			f.Version, f.AccountID, f.InterfaceID, f.InstanceID, f.VPCID = 5, "111122223333", "eni-victim", "i-0victim000000000", "vpc-1"
			f.Protocol, f.Packets, f.Bytes, f.TCPFlags = 6, 1, 44, 2
			f.Action, f.LogStatus, f.FlowDirection = record.ActionReject, record.LogStatusOK, record.DirectionIngress
			f.DstAddr = victim
			f.Start = t0 + int64(n)/20000 // 20,000 probes a second: the flood lasts ~4 minutes
			f.End = f.Start
			if n%5000 == 0 && scanned < 1000 { // the real scanner, one port in 5,000 records
				f.SrcAddr, f.SrcPort, f.DstPort = scanner, 40000, uint16(1+scanned)
				if scanned == 999 {
					f.DstPort, f.Action, f.Packets, f.Bytes, f.TCPFlags = 9200, record.ActionAccept, 5, 400, 3
				}
				scanned++
			} else {
				x := uint32(n)*2654435761 + 0x0d000000 // a different public address each time
				f.SrcAddr = netip.AddrFrom4([4]byte{byte(x>>24)%200 + 13, byte(x >> 16), byte(x >> 8), byte(x)})
				f.SrcPort, f.DstPort = uint16(1024+n%60000), uint16([]int{22, 3389, 23, 445}[n%4])
			}
			f.PktSrcAddr, f.PktDstAddr = f.SrcAddr, f.DstAddr
			n++
		}
		if err := e.Process(0, b); err != nil {
			t.Fatal(err)
		}
		if n%(500*decode.BatchSize) == 0 {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	fs, err := e.Close()
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	t.Logf("heap in use at most %d MiB", peak>>20)
	if peak > 256<<20 {
		t.Errorf("heap reached %d MiB, want at most 256 MiB", peak>>20)
	}
	var evicted uint64
	for _, r := range e.Stats().Rules {
		evicted += r.Evicted
		if r.Keys > 0 || r.Evicted > 0 {
			t.Logf("%s: %d keys held, %d evicted", r.ID, r.Keys, r.Evicted)
		}
	}
	if evicted == 0 {
		t.Error("no key was evicted: the cap was not reached, the test does not test it")
	}
	t.Logf("%d keys evicted at the cap", evicted)
	found := false
	for _, f := range fs {
		if f.Type == "Recon:EC2/PortProbeUnprotectedPort" && f.Service.Action.PortProbeAction.PortProbeDetails[0].RemoteIPDetails.IP() == scanner.String() {
			found = true
		}
		if f.Type == "Recon:EC2/PortProbeUnprotectedPort" && f.Service.Action.PortProbeAction.PortProbeDetails[0].RemoteIPDetails.IP() != scanner.String() {
			t.Errorf("a spoofed source raised %s", describe(f))
		}
	}
	if !found {
		var types []finding.Type
		for _, f := range fs {
			types = append(types, f.Type)
		}
		t.Errorf("the real scanner was not found among %d findings %v", len(fs), types)
	}
}
