package detect_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/record"
)

// liveRule is a rule without a window: every matching record is an occurrence.
const liveRule = `id: live-bad-port
kind: flow
filter: dstPort = 4444
finding:
  type: Backdoor:EC2/C&CActivity.B
  resources:
    - side: src
`

type liveCollector struct {
	mu  sync.Mutex
	got []*finding.Finding
}

func (c *liveCollector) add(f *finding.Finding) { c.mu.Lock(); c.got = append(c.got, f); c.mu.Unlock() }
func (c *liveCollector) types() map[finding.Type]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[finding.Type]int{}
	for _, f := range c.got {
		m[f.Type]++
	}
	return m
}

func newLiveEngine(t *testing.T, c *liveCollector) *detect.Engine {
	t.Helper()
	return newLiveEngineShards(t, c, 2)
}

func newLiveEngineShards(t *testing.T, c *liveCollector, shards int) *detect.Engine {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "live.yaml"), []byte(liveRule), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := detect.LoadRules(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := detect.DefaultConfig()
	cfg.Live, cfg.Shards, cfg.Lateness = true, shards, time.Minute
	e, err := detect.New(cfg, detect.Deps{Rules: rules, OnFinding: c.add})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// flowLines decodes default-format flow-log lines into batches handed to fn.
func processFlows(t *testing.T, e *detect.Engine, src int, name string, lines []string) {
	t.Helper()
	dec, err := vpcflow.New(vpcflow.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, err = dec.Decode(context.Background(), decode.Input{Name: name}, strings.NewReader(strings.Join(lines, "\n")+"\n"),
		func(b *decode.Batch) error { return e.Process(src, b) }, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func flowLine(t time.Time, src, dst string, dport int, action string) string {
	return fmt.Sprintf("2 111122223333 eni-0a1b2c3d %s %s 40000 %d 6 1 44 %d %d %s OK", src, dst, dport, t.Unix(), t.Unix(), action)
}

// TestLiveSync: a per-record occurrence is handed to OnFinding by the time
// Sync returns, with no further input; live mode keeps nothing for Close.
func TestLiveSync(t *testing.T) {
	var c liveCollector
	e := newLiveEngine(t, &c)
	e.Start(context.Background())
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	processFlows(t, e, 0, "a", []string{flowLine(base, "10.0.0.5", "198.51.100.7", 4444, "ACCEPT")})
	if err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c.types()["Backdoor:EC2/C&CActivity.B"]; n != 1 {
		t.Fatalf("after Sync: %d occurrences, want 1", n)
	}
	if st := e.LiveStats(); st.Findings != 1 || st.Records[record.KindFlow] != 1 {
		t.Errorf("LiveStats = %+v, want 1 finding and 1 flow record", st)
	}
	fs, err := e.Close()
	if err != nil || len(fs) != 0 {
		t.Errorf("Close in live mode = %d findings, %v; want none", len(fs), err)
	}
}

// TestLiveTickClosesQuietWindow: a port scan's occurrence closes when its
// stream goes quiet and the wall clock moves on (Tick), without a new record.
func TestLiveTickClosesQuietWindow(t *testing.T) {
	var c liveCollector
	e := newLiveEngine(t, &c)
	e.Start(context.Background())
	defer e.Close()
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var lines []string
	for p := range 200 {
		lines = append(lines, flowLine(base.Add(time.Duration(p)*100*time.Millisecond), "10.0.0.5", "10.0.0.9", 1000+p, "REJECT"))
	}
	processFlows(t, e, 0, "scan", lines)
	if err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c.types()["Recon:EC2/Portscan"]; n != 0 {
		t.Fatalf("port scan raised while its burst may go on: %d", n)
	}
	// Event time advances with the wall clock once the stream is quiet: half an
	// hour later every window of the scan is closed.
	if err := e.Tick(time.Now().Add(30 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c.types()["Recon:EC2/Portscan"]; n != 1 {
		t.Fatalf("after a quiet half hour: %d port scan occurrences, want 1 (got %v)", n, c.types())
	}
	if wm := e.Watermarks()[record.KindFlow]; wm < base.Add(20*time.Minute).UnixMilli() {
		t.Errorf("watermark %d did not move with the wall clock", wm)
	}
}

// TestLiveAdvanceWatermarks: a restarted engine raised to the previous run's
// watermark closes what that run had closed, and never falls below it.
func TestLiveAdvanceWatermarks(t *testing.T) {
	var c liveCollector
	e := newLiveEngine(t, &c)
	e.Start(context.Background())
	defer e.Close()
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var lines []string
	for p := range 200 {
		lines = append(lines, flowLine(base.Add(time.Duration(p)*100*time.Millisecond), "10.0.0.5", "10.0.0.9", 1000+p, "REJECT"))
	}
	processFlows(t, e, 0, "scan", lines)
	wm := base.Add(time.Hour).UnixMilli()
	if err := e.AdvanceWatermarks(map[record.Kind]int64{record.KindFlow: wm}); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c.types()["Recon:EC2/Portscan"]; n != 1 {
		t.Fatalf("after AdvanceWatermarks: %d port scan occurrences, want 1", n)
	}
	if got := e.Watermarks()[record.KindFlow]; got < wm {
		t.Errorf("watermark %d fell below the floor %d", got, wm)
	}
}

// TestLiveHooksNeedLive: batch mode refuses the live hooks.
func TestLiveHooksNeedLive(t *testing.T) {
	rules, err := detect.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.New(detect.DefaultConfig(), detect.Deps{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	defer e.Close()
	if err := e.Sync(context.Background()); err == nil {
		t.Error("Sync in batch mode: no error")
	}
	if err := e.Tick(time.Now()); err == nil {
		t.Error("Tick in batch mode: no error")
	}
}

// TestLiveBarrier: Barrier applies the watermark in full — a port scan idle
// past it closes now, though the watermark moved less than the step at which
// batches apply it — and returns the watermark it applied; the live
// watermark does not go back when a stream starts an object earlier in event
// time; Idle makes a stream stop holding the watermark back at once.
func TestLiveBarrier(t *testing.T) {
	var c liveCollector
	e := newLiveEngineShards(t, &c, 1) // lateness 1m; one shard sees every batch
	e.Start(context.Background())
	defer e.Close()
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var lines []string
	for p := range 200 {
		lines = append(lines, flowLine(base.Add(time.Duration(p)*100*time.Millisecond), "10.0.0.5", "10.0.0.9", 1000+p, "REJECT"))
	}
	processFlows(t, e, 0, "scan", lines)
	last := base.Add(19 * time.Second) // flow records have whole seconds
	// The scan's key expires once the watermark is two windows (10m) past
	// its last record: the stream's clock 11m past, less the minute of
	// lateness. Get there in two steps, the second under the 10 s step.
	at := last.Add(11*time.Minute - 5*time.Second)
	processFlows(t, e, 0, "scan", []string{flowLine(at, "10.0.0.77", "10.0.0.78", 443, "ACCEPT")})
	at = at.Add(8 * time.Second)
	processFlows(t, e, 0, "scan", []string{flowLine(at, "10.0.0.77", "10.0.0.78", 443, "ACCEPT")})
	if err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c.types()["Recon:EC2/Portscan"]; n != 0 {
		t.Fatalf("the watermark moved less than a step, yet the scan closed before Barrier: %d", n)
	}
	wms, err := e.Barrier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(-time.Minute).UnixMilli(); wms[record.KindFlow] != want {
		t.Errorf("Barrier applied %d, want %d", wms[record.KindFlow], want)
	}
	if n := c.types()["Recon:EC2/Portscan"]; n != 1 {
		t.Fatalf("after Barrier: %d port scan occurrences, want 1", n)
	}
	// A new object that starts an hour earlier does not take the watermark
	// back.
	processFlows(t, e, 0, "older", []string{flowLine(base, "10.0.0.77", "10.0.0.78", 443, "ACCEPT")})
	if got := e.Watermarks()[record.KindFlow]; got < wms[record.KindFlow] {
		t.Errorf("the watermark went back from %d to %d", wms[record.KindFlow], got)
	}
	// Stream 1, far behind, holds the watermark back until it is idle.
	processFlows(t, e, 1, "behind", []string{flowLine(base.Add(-time.Hour), "10.0.0.77", "10.0.0.78", 443, "ACCEPT")})
	processFlows(t, e, 0, "ahead", []string{flowLine(at.Add(time.Hour), "10.0.0.77", "10.0.0.78", 443, "ACCEPT")})
	held := e.Watermarks()[record.KindFlow]
	e.Idle(1)
	if got := e.Watermarks()[record.KindFlow]; got != at.Add(time.Hour-time.Minute).UnixMilli() || got <= held {
		t.Errorf("after Idle: watermark %d (held at %d), want the other stream's %d", got, held, at.Add(time.Hour-time.Minute).UnixMilli())
	}
}
