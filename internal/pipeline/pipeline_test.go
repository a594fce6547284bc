package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/prometheus/client_golang/prometheus"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest/watch"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
	"github.com/vigil-dev/vigil/internal/store"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func watchSource(t *testing.T, dir string) pipeline.NamedSource {
	t.Helper()
	cfg := watch.DefaultConfig()
	cfg.Path = dir
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ScanInterval = 50 * time.Millisecond
	src, err := watch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.NamedSource{Name: "flows", Source: src}
}

// scanLines are the lines of a port scan: from 10.0.1.5 to 50 ports of
// 10.0.2.9 per call, rejected, one every 200 ms.
func scanLines(start time.Time, from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, pipelinetest.FlowLine(start.Add(time.Duration(i)*200*time.Millisecond), "10.0.1.5", "10.0.2.9", 1000+i, "REJECT"))
	}
	return out
}

// batchScan runs the batch engine over a file: what vigil scan finds.
func batchScan(t *testing.T, rules *detect.RuleSet, path string) []*finding.Finding {
	t.Helper()
	e, err := detect.New(detect.DefaultConfig(), detect.Deps{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	dec, _ := vpcflow.New(vpcflow.DefaultConfig())
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := dec.Decode(context.Background(), decode.Input{Name: path}, f, func(b *decode.Batch) error { return e.Process(0, b) }, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := e.Close()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestBurstAcrossRestarts: a port scan whose records straddle two restarts is
// one occurrence, with the same first and last seen and the same ports as a
// batch scan of the whole file: the windows lost at each stop were rebuilt by
// the replay, and what the replay raised again was not counted twice.
func TestBurstAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	rules := pipelinetest.Rules(t)
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 2)...)
	pipelinetest.Append(t, log, scanLines(t0, 0, 40)...)

	r := pipelinetest.Start(t, st, rules, watchSource(t, dir))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 2, 10*time.Second)
	r.Stop(t)

	pipelinetest.Append(t, log, scanLines(t0, 40, 40)...)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(30*time.Second), 1)...)
	r = pipelinetest.Start(t, st, rules, watchSource(t, dir))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 3, 10*time.Second)
	r.Stop(t)

	pipelinetest.Append(t, log, scanLines(t0, 80, 40)...)
	// A record a day later moves event time past every window of the scan.
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(24*time.Hour), 1)...)
	r = pipelinetest.Start(t, st, rules, watchSource(t, dir))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 4, 10*time.Second)
	pipelinetest.WaitCount(t, st, "Recon:EC2/Portscan", 1, 10*time.Second)
	r.Stop(t)

	var live *finding.Finding
	for _, f := range pipelinetest.All(t, st) {
		if f.Type == "Recon:EC2/Portscan" {
			live = &f
		}
	}
	var batch *finding.Finding
	for _, f := range batchScan(t, rules, log) {
		if f.Type == "Recon:EC2/Portscan" {
			batch = f
		}
	}
	if batch == nil || live == nil {
		t.Fatalf("port scan: live %v, batch %v", live != nil, batch != nil)
	}
	if live.Service.EventFirstSeen != batch.Service.EventFirstSeen || live.Service.EventLastSeen != batch.Service.EventLastSeen ||
		live.Service.Count != batch.Service.Count {
		t.Errorf("live finding first %s last %s count %d; batch first %s last %s count %d",
			live.Service.EventFirstSeen, live.Service.EventLastSeen, live.Service.Count,
			batch.Service.EventFirstSeen, batch.Service.EventLastSeen, batch.Service.Count)
	}
	lp, bp := live.Service.Action.PortProbeAction, batch.Service.Action.PortProbeAction
	if (lp == nil) != (bp == nil) || lp != nil && len(lp.PortProbeDetails) != len(bp.PortProbeDetails) {
		t.Errorf("port probe details differ: live %+v, batch %+v", lp, bp)
	}
	if info, binfo := live.Service.AdditionalInfo, batch.Service.AdditionalInfo; !strings.EqualFold(toJSON(t, info), toJSON(t, binfo)) {
		t.Errorf("additionalInfo differs:\nlive  %s\nbatch %s", toJSON(t, info), toJSON(t, binfo))
	}
}

// TestFenced: two pipelines of the same name on one store do not interleave
// checkpoints: one of them stops with a clear error.
func TestFenced(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	rules := pipelinetest.Rules(t)
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 1)...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 2)
	for range 2 {
		p, err := pipeline.New(pipeline.DefaultConfig(), pipeline.Deps{Detect: detect.DefaultConfig(), Rules: rules, Store: st, Sources: []pipeline.NamedSource{watchSource(t, dir)}})
		if err != nil {
			t.Fatal(err)
		}
		go func() { done <- p.Run(ctx) }()
		time.Sleep(300 * time.Millisecond)
	}
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(time.Minute), 1)...)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "another writer") {
			t.Errorf("a pipeline stopped with %v, want a fencing error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("both pipelines kept running")
	}
	cancel()
	<-done
}

// flakyStore fails its first writes, as a database that is briefly down.
type flakyStore struct {
	store.Store
	fail atomic.Int32
}

func (s *flakyStore) UpsertWithCheckpoint(ctx context.Context, fs []finding.Finding, now finding.Time, cp store.Checkpoint) (store.UpsertResult, error) {
	if s.fail.Add(-1) >= 0 {
		return store.UpsertResult{}, errors.New("database is down")
	}
	return s.Store.UpsertWithCheckpoint(ctx, fs, now, cp)
}

// TestCommitRetried: commits that fail are retried with what came since;
// nothing is lost or doubled.
func TestCommitRetried(t *testing.T) {
	dir := t.TempDir()
	real := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	st := &flakyStore{Store: real}
	st.fail.Store(3)
	rules := pipelinetest.Rules(t)
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 4)...)
	pipelinetest.Start(t, st, rules, watchSource(t, dir))
	time.Sleep(100 * time.Millisecond)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(time.Minute), 3)...)
	pipelinetest.WaitCount(t, real, pipelinetest.BadPortType, 7, 20*time.Second)
	if st.fail.Load() >= 0 {
		t.Error("the store never failed")
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var jsonMarshal = json.Marshal

// TestReplayHorizon: after a restart only the input that can still matter to
// detection state is re-read — the records within the horizon (the watermark
// less the longest window's span, capped by max_replay) — not the whole file.
func TestReplayHorizon(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	rules := pipelinetest.Rules(t)
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	var lines []string
	for i := range 3000 { // 50 minutes, one record a second
		lines = append(lines, pipelinetest.FlowLine(t0.Add(time.Duration(i)*time.Second), "10.0.1.5", "10.0.3.9", 443, "ACCEPT"))
	}
	pipelinetest.Append(t, log, lines...)
	src := func() pipeline.NamedSource {
		cfg := watch.DefaultConfig()
		cfg.Path, cfg.PollInterval, cfg.ChunkSize = dir, 20*time.Millisecond, 4096
		w, err := watch.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return pipeline.NamedSource{Name: "flows", Source: w}
	}
	run := func() float64 {
		reg := prometheus.NewRegistry()
		cfg := pipeline.DefaultConfig()
		cfg.CommitInterval, cfg.MaxReplay = 20*time.Millisecond, 5*time.Minute
		dc := detect.DefaultConfig()
		dc.Lateness = time.Minute
		p, err := pipeline.New(cfg, pipeline.Deps{Detect: dc, Rules: rules, Store: st, Sources: []pipeline.NamedSource{src()}, Metrics: pipeline.NewMetrics(reg)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		var n, last float64
		for stable := 0; stable < 10 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			n = counterValue(t, reg, "vigil_source_records_total")
			if n == last && n > 0 {
				stable++
			} else {
				last, stable = n, 0
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := run(); n != 3000 {
		t.Fatalf("first run read %v records, want 3000", n)
	}

	// The watermark is a minute behind the last record and the cap five
	// minutes: about six minutes of records (and a chunk of slack) come back.
	n := run()
	if n < 360 || n > 480 {
		t.Errorf("the restart re-read %v records, want about 360 (six minutes)", n)
	}
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
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
	return sum
}

// TestRepublish: when the process died after a commit but before its changes
// were handed on (to notifiers), the restart hands them on again, a new
// finding as created; the commit after the restart clears the list.
func TestRepublish(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	rules := pipelinetest.Rules(t)
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 3)...)
	r := pipelinetest.Start(t, st, rules, watchSource(t, dir))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 3, 10*time.Second)
	r.Stop(t)
	// The state a crash right after the commit leaves: the commit's changes
	// listed in the checkpoint.
	fs := pipelinetest.All(t, st)
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1", len(fs))
	}
	ctx := context.Background()
	raw, _, err := st.GetCheckpoint(ctx, "pipeline/serve")
	if err != nil {
		t.Fatal(err)
	}
	var cp map[string]any
	json.Unmarshal(raw, &cp)
	cp["publish"] = map[string]int64{fs[0].ID: 3}
	raw, _ = json.Marshal(cp)
	if err := st.PutCheckpoint(ctx, store.Checkpoint{Source: "pipeline/serve", Position: raw}); err != nil {
		t.Fatal(err)
	}
	r = pipelinetest.Start(t, st, rules, watchSource(t, dir))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(r.Changes()) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	ch := r.Changes()
	if len(ch) != 1 || ch[0].Finding.ID != fs[0].ID || !ch[0].Created {
		t.Fatalf("after the restart: changes %+v, want the finding again, as created", ch)
	}
	time.Sleep(200 * time.Millisecond)
	r.Stop(t)
	raw, _, _ = st.GetCheckpoint(ctx, "pipeline/serve")
	if strings.Contains(string(raw), `"publish"`) {
		t.Errorf("the list was not cleared: %s", raw)
	}
}
