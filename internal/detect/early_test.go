package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/simulate"
)

// TestRaiseAtThresholdEarly: with RaiseAtThreshold, a port scan's finding is
// raised as soon as the threshold is crossed, not when the scan is over; the
// close raises the rest of it as a continuation of the same finding, and the
// two merged count one occurrence with the scan's whole numbers.
func TestRaiseAtThresholdEarly(t *testing.T) {
	rules, err := detect.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*finding.Finding
	cfg := detect.DefaultConfig()
	cfg.Live, cfg.RaiseAtThreshold, cfg.Shards = true, true, 2
	e, err := detect.New(cfg, detect.Deps{Rules: rules, OnFinding: func(f *finding.Finding) {
		mu.Lock()
		got = append(got, f)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e.Start(ctx)
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	scanLines := func(from, to int) []string {
		var lines []string
		for p := from; p < to; p++ {
			lines = append(lines, flowLine(base.Add(time.Duration(p)*time.Second), "10.0.0.5", "10.0.1.9", 1000+p, "REJECT"))
		}
		return lines
	}
	processFlows(t, e, 0, "a", scanLines(0, 49))
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("49 ports, below the threshold of 50: %d findings raised", len(got))
	}
	processFlows(t, e, 0, "a", scanLines(49, 50))
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != "Recon:EC2/Portscan" || got[0].Continues {
		t.Fatalf("after the 50th port: %v, want one early Recon:EC2/Portscan", summarize(got))
	}
	early := got[0]
	if n := early.Service.AdditionalInfo[finding.KeyVigilDistinct]; n != int64(50) {
		t.Errorf("early finding: vigilDistinct %v, want 50", n)
	}
	processFlows(t, e, 0, "a", scanLines(50, 200))
	if _, err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[1].Continues || got[1].ID != early.ID {
		t.Fatalf("after the scan: %v, want the early finding and its continuation", summarize(got))
	}
	rest := got[1]
	if n := rest.Service.AdditionalInfo[finding.KeyVigilDistinct]; n != int64(200) {
		t.Errorf("continuation: vigilDistinct %v, want 200 (the whole scan)", n)
	}
	merged := *early
	if err := finding.Merge(&merged, rest, rest.Service.EventLastSeen); err != nil {
		t.Fatal(err)
	}
	if merged.Service.Count != 1 || merged.Service.AdditionalInfo[finding.KeyVigilEvents] != int64(151) ||
		merged.Service.EventFirstSeen != finding.Time(base.UnixMilli()) || merged.Service.EventLastSeen != finding.Time(base.Add(199*time.Second).UnixMilli()) {
		t.Errorf("merged: count %d, vigilEvents %v, first %s, last %s; want 1, 151 (the 50th port on), the scan's first and last record",
			merged.Service.Count, merged.Service.AdditionalInfo[finding.KeyVigilEvents], merged.Service.EventFirstSeen, merged.Service.EventLastSeen)
	}
}

// TestRaiseAtThresholdSameFindings: on a simulated corpus with every built-in
// detection, the early findings merged with their continuations are the
// findings raised without RaiseAtThreshold — same count, numbers, times,
// details and evidence — and every windowed finding was raised early.
func TestRaiseAtThresholdSameFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and scans a simulated corpus")
	}
	dir, _ := simulateCorpus(t, 30000, simulate.LayoutFlat)
	inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.*"))
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "labels.json") })
	deps := detect.Deps{Inventory: inv, Intel: intel.NewSet(intel.BuiltinLists()...)}
	run := func(early bool) []*finding.Finding {
		var mu sync.Mutex
		var raised []*finding.Finding
		d := deps
		d.OnFinding = func(f *finding.Finding) {
			mu.Lock()
			raised = append(raised, f)
			mu.Unlock()
		}
		cfg := detect.DefaultConfig()
		// One shard and one reader: occurrences of one finding are raised in
		// the same order in both runs, so merging them gives the same details.
		cfg.Live, cfg.RaiseAtThreshold, cfg.Shards = true, early, 1
		scan(t, cfg, d, 1, paths...)
		return raised
	}
	late, early := run(false), run(true)
	byID := func(fs []*finding.Finding) map[string]*finding.Finding {
		m := map[string]*finding.Finding{}
		for _, f := range detect.MergeInOrder(fs) {
			m[f.ID] = f
		}
		return m
	}
	want, got := byID(late), byID(early)
	continued := 0
	for _, f := range early {
		if f.Continues {
			continued++
		}
	}
	if continued == 0 {
		t.Fatal("no finding was raised early and continued: the corpus should have windowed detections")
	}
	t.Logf("%d occurrences raised late; %d raised early, %d of them continuations", len(late), len(early), continued)
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range want {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		w, g := want[id], got[id]
		if g == nil {
			t.Errorf("%s %s: not raised with RaiseAtThreshold", w.Type, finding.ResourceID(&w.Resource))
			continue
		}
		wj, _ := json.MarshalIndent(w, "", " ")
		gj, _ := json.MarshalIndent(g, "", " ")
		if string(wj) != string(gj) {
			t.Errorf("%s %s differs:\n%s", w.Type, finding.ResourceID(&w.Resource), lineDiff(string(wj), string(gj)))
		}
	}
	for id, g := range got {
		if want[id] == nil {
			t.Errorf("%s %s: raised only with RaiseAtThreshold", g.Type, finding.ResourceID(&g.Resource))
		}
	}
}

func summarize(fs []*finding.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s (continues %v)", f.Type, f.Continues))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// lineDiff shows the lines where a and b first differ, with some context.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	var out []string
	for j := max(0, i-3); j < min(i+6, max(len(al), len(bl))); j++ {
		if j < len(al) {
			out = append(out, "- "+al[j])
		}
		if j < len(bl) {
			out = append(out, "+ "+bl[j])
		}
	}
	return strings.Join(out, "\n")
}
