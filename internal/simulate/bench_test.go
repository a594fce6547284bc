package simulate

import (
	"context"
	"testing"
)

// BenchmarkRun measures whole runs: records generated, formatted, compressed
// (S3 layout) and written, on all cores.
func BenchmarkRun(b *testing.B) {
	for _, layout := range []Layout{LayoutS3, LayoutFlat} {
		b.Run(string(layout), func(b *testing.B) {
			const records = 200_000
			for b.Loop() {
				cfg := DefaultConfig()
				cfg.Out, cfg.Records, cfg.Layout = b.TempDir(), records, layout
				sim, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sim.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "flows/s")
		})
	}
}

// benchSim returns a simulator of 1,000,000 flow records for the stream benchmarks.
func benchSim(b *testing.B) *Simulator {
	cfg := DefaultConfig()
	cfg.Out, cfg.Records = b.TempDir(), 1_000_000
	sim, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return sim
}

// BenchmarkStreams measures generating and formatting each stream on one core,
// per record, without compression or I/O.
func BenchmarkStreams(b *testing.B) {
	sim := benchSim(b)
	ctx := context.Background()
	b.Run("flow", func(b *testing.B) {
		var buf []byte
		n := 0
		for i := 0; b.Loop(); i++ {
			p, vi := i%sim.periods, 0
			v := sim.est.vpcs[vi]
			sim.genFlows(ctx, p, vi, func(f *flow) {
				buf = v.format.appendRecord(buf[:0], f)
				n++
			})
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	})
	b.Run("dns", func(b *testing.B) {
		var buf []byte
		n := 0
		for i := 0; b.Loop(); i++ {
			sim.genDNS(ctx, i%sim.periods, 0, func(q *dnsQuery) {
				buf = appendDNS(buf[:0], q)
				n++
			})
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	})
	b.Run("cloudtrail", func(b *testing.B) {
		var buf []byte
		n := 0
		for i := 0; b.Loop(); i++ {
			sim.genEvents(ctx, i%sim.periods, 0, func(ev *ctEvent) {
				buf = appendEvent(buf[:0], ev)
				n++
			})
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	})
}
