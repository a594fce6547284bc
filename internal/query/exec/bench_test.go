package exec_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
)

// The benchmarks run the queries of the brief over version-2 flow records
// decoded once by the real decoder and kept in memory, so that they measure
// the engine alone. Each reports ns/record (wall), cpu-ns/record (CPU time
// of the process, all workers and the GC included: the steadier figure on a
// shared machine) and allocs/record besides the usual per-query figures.
//
//	go test ./internal/query/exec -run '^$' -bench . -benchtime 20x

const benchRecords = 16_384

var (
	benchOnce    sync.Once
	benchBatches []*decode.Batch
)

// flowText returns n version-2 flow lines, two a second: a NAT gateway
// (10.10.2.68) in front of 500 internal hosts talking to 3,000 Internet
// addresses (a few popular, most rare: Zipf), one host scanning ports of
// the gateway, and rejected traffic from outside.
func flowText(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.2, 1, 2999)
	remote := make([]string, 3000)
	for i := range remote {
		remote[i] = fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(220), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	commonPorts := []int{443, 443, 443, 80, 53, 22, 123, 8080, 3306, 5432}
	start := int64(1793491200)
	for i := range n {
		ts := start + int64(i)/2
		src := fmt.Sprintf("10.10.%d.%d", 3+r.IntN(2), r.IntN(250)+1)
		dst := remote[zipf.Uint64()]
		dport := commonPorts[r.IntN(len(commonPorts))]
		action := "ACCEPT"
		switch {
		case i%20 == 0: // the scanner
			src, dst, dport = "10.10.3.17", "10.10.2.68", r.IntN(65535)+1
		case i%7 == 0: // rejected inbound
			src, dst, action = dst, "10.10.2.68", "REJECT"
		}
		fmt.Fprintf(&b, "2 123456789012 eni-0a1b2c3d4e5f %s %s %d %d 6 %d %d %d %d %s OK\n",
			src, dst, 1024+r.IntN(60000), dport, 1+r.IntN(20), 40+r.IntN(15000), ts, ts+60, action)
	}
	return b.String()
}

// loadBatches decodes the benchmark records once and copies them out of the
// decoder's reused buffers.
func loadBatches(b *testing.B) []*decode.Batch {
	benchOnce.Do(func() { benchBatches = decodeAll(b, flowText(benchRecords)) })
	return benchBatches
}

// source delivers the batches passes times over, spread over workers
// goroutines.
func source(batches []*decode.Batch, workers, passes int) exec.Source {
	return func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				for range passes {
					for i := w; i < len(batches); i += workers {
						if err := emit(w, batches[i]); err != nil {
							errs[w] = err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
}

var benchQueries = []struct{ name, q string }{
	{"nat", `filter (dstAddr like '10.10.2.68' and srcAddr like '10.10.') | stats count(dstPort) as portsScanned by srcAddr, dstAddr, dstPort | sort portsScanned desc | limit 100`},
	{"toptalkers", `stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10`},
	{"rejects", `filter action="REJECT" | stats count(*) by dstPort, bin(5m)`},
	{"distinctports", `stats count_distinct(dstPort) as ports by srcAddr`},
	{"ssh", `filter dstPort=22 | fields @timestamp, srcAddr | sort @timestamp desc | limit 100`},
}

// BenchmarkQuery runs each query over the records once (passes=1: every
// record new, most groups new) and eight times over (passes=8: the steady
// state of a long read, where most records update existing groups — the
// case that must not allocate), on one worker and on two.
func BenchmarkQuery(b *testing.B) {
	batches := loadBatches(b)
	distinct := 0
	for _, bt := range batches {
		distinct += bt.Len()
	}
	for _, passes := range []int{1, 8} {
		for _, workers := range []int{1, 2} {
			for _, bq := range benchQueries {
				records := distinct * passes
				b.Run(fmt.Sprintf("%s/passes=%d/workers=%d", bq.name, passes, workers), func(b *testing.B) {
					chk, _, err := query.ParseAndCheck(bq.q, nil)
					if err != nil {
						b.Fatal(err)
					}
					p, err := plan.Build(chk, plan.Options{})
					if err != nil {
						b.Fatal(err)
					}
					src := source(batches, workers, passes)
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					cpu0 := cpuTime()
					b.ResetTimer()
					for b.Loop() {
						if _, err := exec.Run(context.Background(), p, src, exec.Options{Workers: workers}); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					cpu := cpuTime() - cpu0
					runtime.ReadMemStats(&after)
					n := float64(b.N) * float64(records)
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
					if cpu > 0 {
						b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/record")
					}
					b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
				})
			}
		}
	}
}
