package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/postgres"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestMain lets a test run this package's binary as vigil itself: with
// VIGIL_TEST_MAIN set, the test binary is the vigil command.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// vigilCmd returns the test binary started as "vigil args…".
func vigilCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "VIGIL_TEST_MAIN=1")
	return cmd
}

const killRule = `id: test-bad-port
kind: flow
filter: dstPort = 4444
finding:
  type: Backdoor:EC2/C&CActivity.B
  resources:
    - side: src
`

const flowHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// killLines returns n flow-log lines from t on: connections to the bad port
// from a few instances, a port scan, and background traffic.
func killLines(rng *rand.Rand, t time.Time, n int, scanFrom *int) []string {
	out := make([]string, 0, n)
	for i := range n {
		at := t.Add(time.Duration(i) * 10 * time.Millisecond).Unix()
		switch r := rng.IntN(10); {
		case r == 0:
			out = append(out, fmt.Sprintf("2 111122223333 eni-0a1b2c3d 10.0.1.%d 198.51.100.44 49152 4444 6 3 180 %d %d ACCEPT OK", 5+rng.IntN(3), at, at))
		case r < 3:
			*scanFrom++
			out = append(out, fmt.Sprintf("2 111122223333 eni-0a1b2c3d 10.0.1.9 10.0.2.7 40000 %d 6 1 44 %d %d REJECT OK", 1000+*scanFrom%3000, at, at))
		default:
			out = append(out, fmt.Sprintf("2 111122223333 eni-0a1b2c3d 10.0.1.%d 10.0.3.%d 40000 443 6 10 5000 %d %d ACCEPT OK", rng.IntN(50), rng.IntN(50), at, at))
		}
	}
	return out
}

func appendLines(t *testing.T, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// TestServeKill9: vigil serve killed with SIGKILL again and again while it
// reads — plain files appended to, a rotation, gzip files — loses no record
// and counts none twice: once it has read everything, its findings are those
// vigil scan finds in the same records, with the same counts and times.
//
// The reference is vigil scan of one file holding every record in the order
// written, read by one worker: scan of the served folder itself depends on
// the order it reads the files in (a port scan that runs through
// flows.log.1, flows.log and the gzip delivery is one burst when read in time
// order, two when flows.log is read before flows.log.1, as one worker does),
// while serve reads them as they were written.
//
// It runs with each store: SQLite, and PostgreSQL (a throwaway server).
// Findings are raised when their threshold is crossed and continued when the
// burst ends (raise_at_threshold, the default), so the early finding of a
// burst open at a kill must be continued after the restart, not raised again.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills vigil serve many times")
	}
	t.Run("sqlite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "vigil.db")
		testServeKill9(t, fmt.Sprintf("{sqlite: {path: %q}}", db), func() store.Store {
			cfg := sqlite.DefaultConfig()
			cfg.Path = db
			st, err := sqlite.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testenv.PostgresDatabase(t, testenv.Postgres(t))
		testServeKill9(t, fmt.Sprintf("{driver: postgres, postgres: {dsn: %q}}", dsn), func() store.Store {
			cfg := postgres.DefaultConfig()
			cfg.DSN = dsn
			st, err := postgres.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

// testServeKill9 is TestServeKill9 with a store: storeYAML configures it,
// open opens it for the test to read.
func testServeKill9(t *testing.T, storeYAML string, open func() store.Store) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.MkdirAll(logs, 0o755)
	os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(killRule), 0o600)
	cfgPath := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`log: {format: json}
http: {listen: "127.0.0.1:0"}
store: %s
detect: {rules: [%q], idle_after: 1s}
pipeline: {commit_interval: 30ms, max_replay: 3h}
sources:
  - name: flows
    watch: {path: %q, poll_interval: 20ms, scan_interval: 50ms, settle: 100ms}
`, storeYAML, filepath.Join(dir, "rules.yaml"), logs)), 0o600)

	rng := rand.New(rand.NewPCG(7, 7))
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	scan := 0
	written := 0
	live := filepath.Join(logs, "flows.log")
	appendLines(t, live, []string{flowHeader})
	ordered := filepath.Join(dir, "ordered", "flows.log") // the reference's input
	os.MkdirAll(filepath.Dir(ordered), 0o755)
	appendLines(t, ordered, []string{flowHeader})
	for round := range 8 {
		cmd := vigilCmd(t, "serve", "--config", cfgPath)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, &stderr)
		at := t0.Add(time.Duration(written) * 10 * time.Millisecond)
		lines := killLines(rng, at, 60000, &scan)
		written += len(lines)
		appendLines(t, ordered, lines)
		// Appended in pieces while serve reads and commits; killed in the
		// middle, the rest written while it is down.
		killAt := time.Now().Add(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		killed := false
		for piece := 0; piece < 30; piece++ {
			part := lines[piece*2000 : (piece+1)*2000]
			switch {
			case round == 3 && piece == 15: // rename-and-create rotation
				os.Rename(live, live+".1")
				appendLines(t, live, append([]string{flowHeader}, part...))
			case round == 5 && piece == 10: // a gzip file delivered whole
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write([]byte(flowHeader + "\n" + strings.Join(part, "\n") + "\n"))
				zw.Close()
				os.WriteFile(filepath.Join(logs, fmt.Sprintf("delivered-%d.log.gz", round)), b.Bytes(), 0o644)
			default:
				appendLines(t, live, part)
			}
			time.Sleep(10 * time.Millisecond)
			if !killed && time.Now().After(killAt) {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		if !killed {
			cmd.Process.Signal(syscall.SIGKILL)
		}
		cmd.Wait()
		if strings.Contains(stderr.String(), `"level":"ERROR"`) {
			t.Logf("round %d stderr:\n%s", round, stderr.String())
		}
	}
	// A last record a day later closes every window; then a clean run reads
	// everything and stops on SIGTERM.
	last := fmt.Sprintf("2 111122223333 eni-0a1b2c3d 10.0.1.5 198.51.100.44 49152 4444 6 3 180 %d %d ACCEPT OK", t0.Add(24*time.Hour).Unix(), t0.Add(24*time.Hour).Unix())
	appendLines(t, live, []string{last})
	appendLines(t, ordered, []string{last})
	cmd := vigilCmd(t, "serve", "--config", cfgPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, &stderr)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}

	got := storedFindings(t, open())
	code, out, serr := runVigil(t, "scan", "-o", "json", "--workers", "1", "--rules", filepath.Join(dir, "rules.yaml"), ordered)
	if code != 0 {
		t.Fatalf("scan: %d %s", code, serr)
	}
	var want []finding.Finding
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatal(err)
	}
	if len(want) < 2 {
		t.Fatalf("scan found %d findings; the test data should raise several", len(want))
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("serve lacks %s on %s (%s): scan count %d, first %s, last %s", w.Type, finding.ResourceID(&w.Resource), w.ID,
				w.Service.Count, w.Service.EventFirstSeen, w.Service.EventLastSeen)
			continue
		}
		ge, we := fmt.Sprint(g.Service.AdditionalInfo[finding.KeyVigilEvents]), fmt.Sprint(w.Service.AdditionalInfo[finding.KeyVigilEvents])
		if g.Service.Count != w.Service.Count || g.Service.EventFirstSeen != w.Service.EventFirstSeen || g.Service.EventLastSeen != w.Service.EventLastSeen || ge != we {
			t.Errorf("%s on %s: serve count %d first %s last %s events %s; scan count %d first %s last %s events %s", w.Type, finding.ResourceID(&w.Resource),
				g.Service.Count, g.Service.EventFirstSeen, g.Service.EventLastSeen, ge, w.Service.Count, w.Service.EventFirstSeen, w.Service.EventLastSeen, we)
		}
		delete(got, w.ID)
	}
	for id, g := range got {
		t.Errorf("serve has %s on %s (%s) that scan does not: count %d, first %s, last %s", g.Type, finding.ResourceID(&g.Resource), id,
			g.Service.Count, g.Service.EventFirstSeen, g.Service.EventLastSeen)
	}
	t.Logf("%d records in 8 killed runs; %d findings agree with vigil scan", written, len(want))
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// opsAddr returns the address of serve's operations endpoint, from its log.
func opsAddr(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(serveSlowdown * 30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var e struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "operations endpoint listening" {
				return e.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("serve did not start:\n%s", stderr.String())
	return ""
}

// waitReady waits until serve's /readyz answers 200: its replay is done.
func waitReady(t *testing.T, stderr *syncBuffer) {
	t.Helper()
	addr := opsAddr(t, stderr)
	deadline := time.Now().Add(serveSlowdown * 60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("serve not ready within %ds:\n%s", serveSlowdown*60, stderr.String())
}

// waitIdle waits until the metrics say every record has been read and
// committed: the records counter stops moving for a while.
func waitIdle(t *testing.T, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(serveSlowdown * 60 * time.Second)
	addr := opsAddr(t, stderr)
	last, stable := "", 0
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			var cur, info []string
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(l, "vigil_source_records_total") || strings.HasPrefix(l, "vigil_pipeline_commits_total") || strings.HasPrefix(l, "vigil_detect_occurrences_total") {
					cur = append(cur, l)
				}
				if strings.HasPrefix(l, "vigil_replay") || strings.HasPrefix(l, "vigil_detect_watermark") {
					info = append(info, l)
				}
			}
			s := strings.Join(cur, ";")
			if s == last && strings.Contains(s, "vigil_source_records_total") {
				if stable++; stable >= 40 {
					t.Logf("settled: %s %s", s, strings.Join(info, ";"))
					return
				}
			} else {
				last, stable = s, 0
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("serve did not settle within %ds", serveSlowdown*60)
}

func storedFindings(t *testing.T, st store.Store) map[string]finding.Finding {
	t.Helper()
	defer st.Close()
	var ids []string
	var token store.PageToken
	for {
		page, err := st.List(context.Background(), store.Criteria{}, store.Sort{}, token, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, page.IDs...)
		if page.Next == "" {
			break
		}
		token = page.Next
	}
	fs, err := st.Get(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]finding.Finding{}
	for _, f := range fs {
		out[f.ID] = f
	}
	return out
}
