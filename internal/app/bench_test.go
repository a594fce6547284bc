package app_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkRecordToWebhook measures vigil serve end to end, as deployed: a
// flow record appended to a watched file → detection → store commit → notify
// outbox → a webhook receiver on 127.0.0.1. Each iteration appends, at a random
// moment, one record that raises a new finding (a new interface each time),
// and waits for the webhook to receive it: for rule=record, a record a rule
// without a window matches; for rule=portscan, the probe of the 50th port of a
// port scan whose 49 earlier probes were appended before (the built-in
// portscan rule, 50 ports in 5 minutes; raise_at_threshold, the default).
// Reported: p50, p99 and max latency, from the append of that record.
//
//	go test ./internal/app -run XXX -bench RecordToWebhook -benchtime 300x
func BenchmarkRecordToWebhook(b *testing.B) {
	b.Run("rule=record", func(b *testing.B) {
		benchRecordToWebhook(b, func(_ time.Time, _, _ string) []string { return nil },
			func(at time.Time, eni, src string) string { return flowLine(at, eni, src, 4444) })
	})
	probe := func(at time.Time, eni, src string, port int) string {
		return fmt.Sprintf("2 111122223333 %s %s 198.51.100.44 49152 %d 6 1 44 %d %d REJECT OK", eni, src, port, at.Unix(), at.Unix())
	}
	b.Run("rule=portscan", func(b *testing.B) {
		benchRecordToWebhook(b, func(at time.Time, eni, src string) []string {
			lines := make([]string, 49)
			for p := range lines {
				lines[p] = probe(at, eni, src, 1000+p)
			}
			return lines
		}, func(at time.Time, eni, src string) string { return probe(at, eni, src, 2000) })
	})
}

// benchRecordToWebhook appends before(…) and, at a random moment after they
// have been read, the record trigger(…), and measures from that append to the
// webhook's receipt of a finding about the interface.
func benchRecordToWebhook(b *testing.B, before func(at time.Time, eni, src string) []string, trigger func(at time.Time, eni, src string) string) {
	dir := b.TempDir()
	rcv, hook := newReceiver(b)
	cfg := serveConfig(b, dir, hook.URL, "")
	var logw io.Writer
	if p := os.Getenv("VIGIL_BENCH_LOG"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		logw = f
		cfg.Log.Level = "debug"
	}
	start(b, cfg, logw)
	log := filepath.Join(dir, "logs", "flows.log")
	appendLines(b, log, flowHeader)
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	// One finding first, so that every connection and cache is warm.
	if lines := before(time.Now(), "eni-warm", "10.9.9.9"); len(lines) > 0 {
		appendLines(b, log, lines...)
	}
	appendLines(b, log, trigger(time.Now(), "eni-warm", "10.9.9.9"))
	if _, ok := rcv.waitFor("eni-warm", 10*time.Second); !ok {
		b.Fatal("no webhook call within 10s")
	}
	b.ResetTimer()
	for i := range b.N {
		eni, src := fmt.Sprintf("eni-%08x", i+1), fmt.Sprintf("10.0.%d.%d", i/250%250, i%250+1)
		if lines := before(time.Now(), eni, src); len(lines) > 0 {
			appendLines(b, log, lines...)
			time.Sleep(300 * time.Millisecond) // read and processed: a poll and a commit
			if _, ok := rcv.waitFor(eni, 0); ok {
				b.Fatalf("record %d: a finding before the record that crosses the threshold", i)
			}
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond) // any phase of the poll and commit cycles
		t0 := time.Now()
		appendLines(b, log, trigger(t0, eni, src))
		at, ok := rcv.waitFor(eni, 10*time.Second)
		if !ok {
			b.Fatalf("record %d: no webhook call within 10s", i)
		}
		lat = append(lat, at.Sub(t0))
		if d := at.Sub(t0); d > 500*time.Millisecond {
			b.Logf("record %d (%s): appended %s, received %s: %s", i, eni, t0.Format("15:04:05.000"), at.Format("15:04:05.000"), d)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
	b.ReportMetric(0, "ns/op")
}

var (
	loadDuration = flag.Duration("load.duration", 0, "TestSustainedLoad: how long to append records (0 skips the test)")
	loadRate     = flag.Int("load.rate", 200_000, "TestSustainedLoad: records appended per second")
	loadWarmup   = flag.Duration("load.warmup", 30*time.Second, "TestSustainedLoad: time before memory is expected flat")
	loadMaxKeys  = flag.Int("load.maxkeys", 0, "TestSustainedLoad: detect.max_keys (0: the default, 100000 per detection)")
	loadWindow   = flag.Duration("load.window", 0, "TestSustainedLoad: override every rule's window with this (0: the rules' own); state fills in twice the longest window")
	loadHeap     = flag.String("load.heapprofile", "", "TestSustainedLoad: write a heap profile here when the writes stop")
)

// TestSustainedLoad appends -load.rate records a second to watched files for
// -load.duration (rotating them by rename, as logrotate does), with one record
// in a thousand malformed, while vigil serve reads them with every built-in
// detection. It checks that serve keeps up, that every record written is
// accounted for (decoded, or skipped with a reason), and that memory is flat
// after the warm-up; it logs a line of numbers every 10 seconds.
//
//	go test ./internal/app -run SustainedLoad -v -timeout 30m -load.duration 10m
func TestSustainedLoad(t *testing.T) {
	if *loadDuration <= 0 {
		t.Skip("set -load.duration to run (e.g. -load.duration 2m)")
	}
	dir := t.TempDir()
	_, hook := newReceiver(t)
	cfg := serveConfig(t, dir, hook.URL, "")
	cfg.Sources[0].Watch.Include = []string{"flows.log*"}
	if *loadMaxKeys > 0 {
		cfg.Detect.MaxKeys = *loadMaxKeys
	}
	if *loadWindow > 0 {
		var docs []string
		for _, id := range windowedRules {
			docs = append(docs, fmt.Sprintf("override: %s\nwindow: %s\n", id, *loadWindow))
		}
		path := filepath.Join(dir, "windows.yaml")
		if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Detect.Rules = append(cfg.Detect.Rules, path)
	}
	r := start(t, cfg, nil)
	reg := r.a.Registry()
	logs := filepath.Join(dir, "logs")

	gen := newLoadGen(logs, *loadRate)
	stop := make(chan struct{})
	genDone := make(chan error, 1)
	go func() { genDone <- gen.run(stop) }()

	type sample struct {
		at                time.Duration
		written, in, skip int64
		heap, rss         uint64
	}
	var samples []sample
	begin := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-tick.C:
		case err := <-genDone:
			t.Fatalf("generator: %v", err)
		}
		el := time.Since(begin)
		// The live heap: after a collection, what is still reachable.
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := sample{at: el, written: gen.written.Load(), in: counter(t, reg, "vigil_source_records_total"),
			skip: counter(t, reg, "vigil_source_records_skipped_total"), heap: ms.HeapAlloc, rss: rss()}
		samples = append(samples, s)
		lag := s.written - s.in - s.skip
		t.Logf("%6s written %11d decoded %11d skipped %6d behind %9d  live heap %5d MiB  rss %5d MiB  commits %d  state keys %d  findings %d",
			el.Round(time.Second), s.written, s.in, s.skip, lag, s.heap>>20, s.rss>>20, counter(t, reg, "vigil_pipeline_commits_total"),
			gaugeValue(t, reg, "vigil_detect_state_keys"), counter(t, reg, "vigil_findings_committed_total"))
		running = el < *loadDuration
	}
	close(stop)
	if err := <-genDone; err != nil {
		t.Fatal(err)
	}
	if *loadHeap != "" {
		runtime.GC()
		f, err := os.Create(*loadHeap)
		if err != nil {
			t.Fatal(err)
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	written, bad := gen.written.Load(), gen.bad.Load()
	drainStart := time.Now()
	var in, skip int64
	for time.Since(drainStart) < 5*time.Minute {
		in, skip = counter(t, reg, "vigil_source_records_total"), counter(t, reg, "vigil_source_records_skipped_total")
		if in+skip >= written {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	drain := time.Since(drainStart)
	elapsed := time.Since(begin) - drain
	t.Logf("written %d records (%d malformed) in %s: %.0f records/s; decoded %d, skipped %d; caught up %s after the last write",
		written, bad, elapsed.Round(time.Second), float64(written)/elapsed.Seconds(), in, skip, drain.Round(time.Millisecond))
	if in+skip != written || skip != bad {
		t.Errorf("records written %d (%d malformed) ≠ decoded %d + skipped %d", written, bad, in, skip)
	}
	if drain > 30*time.Second {
		t.Errorf("serve fell behind: %s to catch up after the writes stopped", drain)
	}
	// Memory after the warm-up: the last third of the run against the first
	// third after the warm-up.
	var after []sample
	for _, s := range samples {
		if s.at >= *loadWarmup {
			after = append(after, s)
		}
	}
	if len(after) >= 6 {
		third := len(after) / 3
		avg := func(ss []sample) (heap, rss float64) {
			for _, s := range ss {
				heap += float64(s.heap)
				rss += float64(s.rss)
			}
			return heap / float64(len(ss)), rss / float64(len(ss))
		}
		h1, r1 := avg(after[:third])
		h2, r2 := avg(after[len(after)-third:])
		t.Logf("after the warm-up: heap %.0f → %.0f MiB, rss %.0f → %.0f MiB", h1/(1<<20), h2/(1<<20), r1/(1<<20), r2/(1<<20))
		if h2 > h1*1.25+16<<20 {
			t.Errorf("heap grew from %.0f to %.0f MiB after the warm-up", h1/(1<<20), h2/(1<<20))
		}
	}
}

// windowedRules are the built-in rules with a window.
var windowedRules = []string{"console-login-success-b", "denial-of-service", "dga-domain", "dns-exfiltration",
	"instance-credential-exfiltration", "port-probe-unprotected", "portscan", "portsweep", "rdp-bruteforce", "spambot",
	"ssh-bruteforce", "threat-list-api-caller", "threat-list-domain", "threat-list-ip", "unusual-behavior", "winrm-bruteforce"}

// loadGen appends flow records at a fixed rate, timestamped now: traffic among
// 2,000 instances and 5,000 internet hosts, one record in a thousand
// malformed. It rotates the file by rename every 2 million records.
type loadGen struct {
	dir     string
	rate    int
	written atomic.Int64
	bad     atomic.Int64
	rng     *rand.Rand
}

func newLoadGen(dir string, rate int) *loadGen {
	return &loadGen{dir: dir, rate: rate, rng: rand.New(rand.NewPCG(3, 4))}
}

func (g *loadGen) run(stop <-chan struct{}) error {
	path := filepath.Join(g.dir, "flows.log")
	open := func() (*os.File, *bufio.Writer, error) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(flowHeader + "\n")
		return f, w, nil
	}
	f, w, err := open()
	if err != nil {
		return err
	}
	defer func() { w.Flush(); f.Close() }()
	const step = 10 * time.Millisecond
	per := g.rate / int(time.Second/step)
	tick := time.NewTicker(step)
	defer tick.Stop()
	var inFile int
	var line []byte
	for {
		select {
		case <-stop:
			return w.Flush()
		case <-tick.C:
		}
		now := time.Now().Unix()
		for range per {
			line = g.line(line[:0], now)
			w.Write(line)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		g.written.Add(int64(per))
		if inFile += per; inFile >= 2_000_000 {
			f.Close()
			if err := os.Rename(path, path+".1"); err != nil {
				return err
			}
			if f, w, err = open(); err != nil {
				return err
			}
			inFile = 0
		}
	}
}

func (g *loadGen) line(b []byte, now int64) []byte {
	r := g.rng
	if r.IntN(1000) == 0 {
		g.bad.Add(1)
		return append(b, "2 111122223333 this line is cut short\n"...)
	}
	src, dst := r.IntN(2000), r.IntN(5000)
	b = append(b, "2 111122223333 eni-"...)
	b = strconv.AppendInt(b, int64(100000+src), 16)
	b = append(b, " 10.0."...)
	b = strconv.AppendInt(b, int64(src/250), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(src%250+1), 10)
	b = append(b, " 203.0."...)
	b = strconv.AppendInt(b, int64(dst/250%250), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(dst%250+1), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(32768+r.IntN(28000)), 10)
	ports := [...]int{443, 443, 443, 80, 53, 123, 22, 8080}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(ports[r.IntN(len(ports))]), 10)
	b = append(b, " 6 "...)
	b = strconv.AppendInt(b, int64(1+r.IntN(40)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(60+r.IntN(60000)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, now, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, now, 10)
	if r.IntN(20) == 0 {
		return append(b, " REJECT OK\n"...)
	}
	return append(b, " ACCEPT OK\n"...)
}

// counter sums a counter's series.
func counter(t testing.TB, g prometheus.Gatherer, name string) int64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return int64(sum)
}

// gaugeValue returns a gauge's value.
func gaugeValue(t testing.TB, g prometheus.Gatherer, name string) int64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return int64(mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	return 0
}

// rss returns the process's resident set size, from /proc (0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
