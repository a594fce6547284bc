package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/notify"
)

const badPortRule = `id: test-bad-port
kind: flow
filter: dstPort = 4444
finding:
  type: Backdoor:EC2/C&CActivity.B
  resources:
    - side: src
`

const flowHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// receiver is a webhook endpoint that records when each finding arrives.
type receiver struct {
	mu      sync.Mutex
	arrived map[string]time.Time // finding resource (interface) → first arrival
	alerts  int
	signal  chan struct{}
}

func newReceiver(t testing.TB) (*receiver, *httptest.Server) {
	r := &receiver{arrived: map[string]time.Time{}, signal: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		var p notify.WebhookPayload
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil || p.Version != "1" {
			http.Error(w, "bad payload", http.StatusBadRequest)
			t.Errorf("webhook payload: %v", err)
			return
		}
		r.mu.Lock()
		for _, a := range p.Alerts {
			r.alerts++
			key := ""
			if d := a.Finding.Resource.InstanceDetails; d != nil && len(d.NetworkInterfaces) > 0 {
				key = d.NetworkInterfaces[0].NetworkInterfaceID
			}
			if _, seen := r.arrived[key]; !seen {
				r.arrived[key] = now
			}
		}
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

// waitFor waits until the receiver has a finding about interface eni.
func (r *receiver) waitFor(eni string, d time.Duration) (time.Time, bool) {
	deadline := time.After(d)
	for {
		r.mu.Lock()
		at, ok := r.arrived[eni]
		r.mu.Unlock()
		if ok {
			return at, true
		}
		select {
		case <-r.signal:
		case <-deadline:
			return time.Time{}, false
		}
	}
}

// serveConfig writes a configuration: a watched folder, a webhook, the API
// off, and returns it loaded.
func serveConfig(t testing.TB, dir, webhook string, extra string) *config.Config {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(badPortRule), 0o600)
	doc := fmt.Sprintf(`http: {listen: "127.0.0.1:0"}
store: {sqlite: {path: %q}}
detect: {rules: [%q], idle_after: 2s}
sources:
  - name: flows
    watch: {path: %q}
notify:
  destinations:
    - name: hook
      webhook: {url: %q}
      rate_limit: 1000/s
%s`, filepath.Join(dir, "vigil.db"), filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "logs"), webhook, extra)
	cfg, err := config.Parse([]byte(doc), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// running is an App running in the background.
type running struct {
	a      *app.App
	cancel context.CancelFunc
	done   chan error
}

func start(t testing.TB, cfg *config.Config, log io.Writer) *running {
	t.Helper()
	if log == nil {
		log = io.Discard
	}
	a, err := app.New(cfg, app.Deps{Log: app.NewLogger(log, cfg.Log)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	waitReady(t, a)
	return r
}

func (r *running) stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("serve did not stop within 30s")
	}
}

func waitReady(t testing.TB, a *app.App) {
	t.Helper()
	addr := a.OpsAddr()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("serve not ready within 20s")
}

func flowLine(at time.Time, eni, src string, dport int) string {
	return fmt.Sprintf("2 111122223333 %s %s 198.51.100.44 49152 %d 6 3 180 %d %d ACCEPT OK", eni, src, dport, at.Unix(), at.Unix())
}

func appendLines(t testing.TB, path string, lines ...string) {
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

// TestServe: a record appended to a watched file reaches the webhook as a
// finding; /healthz, /readyz and /metrics answer, the metrics name what moved;
// a stop is clean.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	rcv, hook := newReceiver(t)
	cfg := serveConfig(t, dir, hook.URL, "")
	var logs syncWriter
	r := start(t, cfg, &logs)
	log := filepath.Join(dir, "logs", "flows.log")
	appendLines(t, log, flowHeader, flowLine(time.Now(), "eni-00000001", "10.0.1.5", 4444), "not a flow record")
	if _, ok := rcv.waitFor("eni-00000001", 10*time.Second); !ok {
		t.Fatal("no webhook call within 10s")
	}
	addr := r.a.OpsAddr()
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var metrics string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		if strings.Contains(metrics, `vigil_notify_alerts_sent_total{destination="hook",kind="webhook"} 1`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		`vigil_source_records_total{source="flows"} 1`,
		`vigil_source_records_skipped_total{reason="field count",source="flows"} 1`,
		`vigil_findings_committed_total{result="created"} 1`,
		`vigil_notify_alerts_sent_total{destination="hook",kind="webhook"} 1`,
		`vigil_notify_queue_depth{destination="hook",kind="webhook"}`,
		`vigil_pipeline_pending_occurrences`,
		`vigil_detect_state_keys`,
		`vigil_pipeline_commit_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	r.stop(t)
	// Started in order, stopped in reverse.
	var order []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if i := strings.Index(line, "component="); i >= 0 && (strings.Contains(line, "msg=started") || strings.Contains(line, "msg=stopping")) {
			verb := "start"
			if strings.Contains(line, "msg=stopping") {
				verb = "stop"
			}
			order = append(order, verb+":"+strings.Fields(line[i+len("component="):])[0])
		}
	}
	want := "start:ops start:retention start:suppress start:lists start:notify start:pipeline stop:pipeline stop:notify stop:lists stop:suppress stop:retention stop:ops"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order:\n%s\nwant:\n%s", got, want)
	}
}

// TestStartFailure: a component that cannot start (the operations port is
// taken) stops serve with an error naming it, after stopping what started.
func TestStartFailure(t *testing.T) {
	busy := httptest.NewServer(http.NotFoundHandler())
	defer busy.Close()
	dir := t.TempDir()
	cfg := serveConfig(t, dir, "http://127.0.0.1:1/", "")
	cfg.HTTP.Listen = strings.TrimPrefix(busy.URL, "http://")
	a, err := app.New(cfg, app.Deps{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "ops") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Run = %v, want the ops component's listen error", err)
	}
}

// syncWriter is a log destination safe for concurrent writes.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

var _ = prometheus.NewRegistry
