// Package pipelinetest helps tests and benchmarks of vigil serve's live path:
// a real SQLite store in a temporary folder, a pipeline around sources, flow-log
// lines, and the findings as the store holds them. Nothing here is a mock.
package pipelinetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

// BadPortRule is a rule without a window: every flow to port 4444 is an
// occurrence of Backdoor:EC2/C&CActivity.B, so a finding's count is the number
// of such records — the exact accounting restarts must keep.
const BadPortRule = `id: test-bad-port
kind: flow
filter: dstPort = 4444
finding:
  type: Backdoor:EC2/C&CActivity.B
  resources:
    - side: src
`

// BadPortType is the finding type of BadPortRule.
const BadPortType finding.Type = "Backdoor:EC2/C&CActivity.B"

// Rules loads the built-in rules and BadPortRule.
func Rules(t testing.TB) *detect.RuleSet {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad-port.yaml"), []byte(BadPortRule), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := detect.LoadRules(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// OpenStore opens a SQLite store at path, closed when the test ends.
func OpenStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	cfg := sqlite.DefaultConfig()
	cfg.Path = path
	st, err := sqlite.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Running is a pipeline running in the background.
type Running struct {
	P      *pipeline.Pipeline
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	Events []store.Change
}

// Start builds a pipeline over the sources and runs it until Stop (or the end
// of the test).
func Start(t testing.TB, st store.Store, rules *detect.RuleSet, sources ...pipeline.NamedSource) *Running {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	cfg.CommitInterval = 50 * time.Millisecond
	cfg.TickInterval = 200 * time.Millisecond
	dc := detect.DefaultConfig()
	dc.Shards = 2
	dc.IdleAfter = time.Second
	r := &Running{done: make(chan error, 1)}
	p, err := pipeline.New(cfg, pipeline.Deps{Detect: dc, Rules: rules, Store: st, Sources: sources,
		OnCommit: func(_ context.Context, res store.UpsertResult) {
			r.mu.Lock()
			r.Events = append(r.Events, res.Changes...)
			r.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.P = p
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Changes returns the changes handed to OnCommit so far.
func (r *Running) Changes() []store.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.Events)
}

// Stop stops the pipeline (sources first, a last commit) and fails the test if
// Run failed.
func (r *Running) Stop(t testing.TB) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("pipeline: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("pipeline did not stop within 30s")
	}
}

// Counts returns the stored findings' counts by type.
func Counts(t testing.TB, st store.Store) map[finding.Type]int64 {
	t.Helper()
	out := map[finding.Type]int64{}
	for _, f := range All(t, st) {
		out[f.Type] += f.Service.Count
	}
	return out
}

// All returns every stored finding.
func All(t testing.TB, st store.Store) []finding.Finding {
	t.Helper()
	ctx := context.Background()
	var ids []string
	var token store.PageToken
	for {
		page, err := st.List(ctx, store.Criteria{}, store.Sort{}, token, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, page.IDs...)
		if page.Next == "" {
			break
		}
		token = page.Next
	}
	fs, err := st.Get(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// WaitCount waits until the stored count of typ is want, failing the test if
// it is not within d (or goes past it).
func WaitCount(t testing.TB, st store.Store, typ finding.Type, want int64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var got int64
	for time.Now().Before(deadline) {
		got = Counts(t, st)[typ]
		if got == want {
			return
		}
		if got > want {
			t.Fatalf("%s: count %d, more than the %d records that raise it", typ, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: count %d after %s, want %d", typ, got, d, want)
}

// FlowHeader is the header line of AWS's default flow-log format.
const FlowHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// FlowLine returns a default-format flow-log line.
func FlowLine(at time.Time, src, dst string, dport int, action string) string {
	return fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 %s %s 49152 %d 6 3 180 %d %d %s OK", src, dst, dport, at.Unix(), at.Unix(), action)
}

// BadPortLines returns n lines that each raise BadPortRule, a second apart from
// start, from one source address.
func BadPortLines(start time.Time, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = FlowLine(start.Add(time.Duration(i)*time.Second), "10.0.1.5", "198.51.100.44", 4444, "ACCEPT")
	}
	return out
}

// Append appends lines (each with its "\n") to a file, creating it.
func Append(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}
