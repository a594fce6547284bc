package detect_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/simulate"
)

// TestOrderedSameFindings: with Config.Ordered the findings of time-ordered
// flow, Resolver and CloudTrail files read in many small parts by several
// workers, one of them slowed down so that the others run far ahead, are
// those of reading the files in their own order with one worker: the same
// types, resources, counts and first and last seen.
func TestOrderedSameFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a simulated corpus four times")
	}
	dir, _ := simulateCorpus(t, 200000, simulate.LayoutFlat)
	inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, f := range []string{"vpcflow-custom.log", "vpcflow-v2.log", "dns.log", "cloudtrail.json"} {
		logs = append(logs, filepath.Join(dir, f))
	}
	deps := detect.Deps{Inventory: inv, Intel: intel.NewSet(intel.BuiltinLists()...)}
	want := orderSummary(orderedScan(t, deps, 1, 0, logs...))
	if want == "" {
		t.Fatal("no findings to compare")
	}
	for _, c := range []struct{ workers, slow int }{{2, 0}, {3, 1}, {5, 3}} {
		if got := orderSummary(orderedScan(t, deps, c.workers, c.slow, logs...)); got != want {
			t.Errorf("%d workers, worker %d slowed: other findings than one reader:\n%s\nwant:\n%s", c.workers, c.slow, got, want)
		}
	}
}

// orderedScan runs an ordered engine over paths as vigil scan does, with
// workers readers of 64 KiB parts, the reader slow sleeping at each batch.
func orderedScan(t *testing.T, deps detect.Deps, workers, slow int, paths ...string) []*finding.Finding {
	t.Helper()
	e := newOrdered(t, deps)
	ctx := context.Background()
	e.Start(ctx)
	r := ingest.New(ingest.Config{Workers: workers, SplitSize: 64 << 10, Done: e.Done}, func() decode.Decoder { return auto.New(auto.DefaultConfig()) })
	emit := func(w int, b *decode.Batch) error {
		if workers > 1 && w == slow {
			time.Sleep(2 * time.Millisecond)
		}
		return e.Process(w, b)
	}
	if _, err := r.Read(ctx, paths, emit, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := e.Close()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// orderSummary lists what must not depend on the order of reading.
func orderSummary(fs []*finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s %s %s %s %d %g\n", f.Type, finding.ResourceID(&f.Resource), f.Service.ResourceRole,
			f.Service.EventFirstSeen, f.Service.EventLastSeen, f.Service.Count, float64(f.Severity))
	}
	return b.String()
}

// TestOrderedCancelWhileHeld: a reader ahead of the turn that has filled the
// hold waits; cancelling the engine ends its wait with the cancellation, and
// Close returns.
func TestOrderedCancelWhileHeld(t *testing.T) {
	e := newOrdered(t, detect.Deps{})
	ctx, cancel := context.WithCancel(context.Background())
	e.Start(ctx)
	batches := newFlowGen(9).batches(40) // 40,960 records: more chunks than the hold takes
	ahead := &decode.Input{Name: "later", Seq: 1}
	errc := make(chan error, 1)
	go func() {
		for _, b := range batches {
			b.Input = ahead // input 1, while input 0 is never read
			if err := e.Process(1, b); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	select {
	case err := <-errc:
		t.Fatalf("Process ahead of the turn returned %v without waiting", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Process after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Process still waiting 10 s after cancel")
	}
	if _, err := e.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close after cancel: %v, want context.Canceled", err)
	}
}

// TestOrderedDoneReleases: chunks held for input 1 reach the shards when
// input 0 is reported done, even though input 0 had no records; and Close
// sends what a caller never reported done.
func TestOrderedDoneReleases(t *testing.T) {
	run := func(reportDone bool) detect.Stats {
		e := newOrdered(t, detect.Deps{})
		e.Start(context.Background())
		for _, b := range newFlowGen(9).batches(4) {
			b.Input = &decode.Input{Name: "second", Seq: 1}
			if err := e.Process(0, b); err != nil {
				t.Fatal(err)
			}
		}
		if reportDone {
			e.Done(0)
			e.Done(1)
		}
		if _, err := e.Close(); err != nil {
			t.Fatal(err)
		}
		return e.Stats()
	}
	for _, done := range []bool{true, false} {
		st := run(done)
		matched := int64(0)
		for _, r := range st.Rules {
			matched += r.Matched
		}
		if matched == 0 {
			t.Errorf("reported done %v: no record reached a detection (%+v)", done, st)
		}
	}
}

// newOrdered returns an ordered engine with the built-in rules and deps.
func newOrdered(t *testing.T, deps detect.Deps) *detect.Engine {
	t.Helper()
	rules, err := detect.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	deps.Rules = rules
	cfg := detect.DefaultConfig()
	cfg.Ordered = true
	e, err := detect.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
