package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

// adminToken puts an admin API token in the store serve will open in dir
// (dir/vigil.db), as vigil token create makes one, and returns its secret.
func adminToken(t *testing.T, dir string) string {
	t.Helper()
	scfg := sqlite.DefaultConfig()
	scfg.Path = filepath.Join(dir, "vigil.db")
	st, err := sqlite.Open(context.Background(), scfg)
	if err != nil {
		t.Fatal(err)
	}
	secret := api.NewSecret()
	if _, err := st.CreateToken(context.Background(), store.Token{Name: "ops", Scope: store.ScopeAdmin, Hash: api.HashSecret(secret)},
		store.Actor{Name: "local:test"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	return secret
}

// TestListsChangeLive: threat and trusted lists created, deactivated and
// deleted through the API take effect in the running detection engine,
// without a restart: a connection to an address is a finding once a threat
// list holds it, not while a trusted list holds it too, again once the
// trusted list is deactivated, and not once the threat list is deleted.
func TestListsChangeLive(t *testing.T) {
	dir := t.TempDir()
	secret := adminToken(t, dir)

	rcv, hook := newReceiver(t)
	cfg := serveConfig(t, dir, hook.URL, "log: {format: json}\napi: {listen: \"127.0.0.1:0\"}\n")
	log := filepath.Join(dir, "logs", "flows.log")
	appendLines(t, log, flowHeader)
	var logs syncWriter
	r := start(t, cfg, &logs)
	c, err := client.New(client.Config{Server: "http://" + logAddr(t, &logs, "api listening"), Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ops := r.a.OpsAddr()
	const bad = "198.51.100.77"
	t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Hour)
	at := t0
	// connect makes an instance (its own interface and address) connect to
	// bad, then moves event time three hours on, past every window of the
	// connection: it is raised, if it is a finding, before what comes next.
	// It returns once serve has read both records.
	n := 0
	connect := func(eni string) {
		t.Helper()
		n++
		read := metricValue(t, ops, `vigil_source_records_total{source="flows"}`)
		appendLines(t, log, connLine(at, eni, fmt.Sprintf("10.0.1.%d", n), bad), connLine(at.Add(3*time.Hour), "eni-0000000f", "10.0.1.99", "10.0.3.9"))
		at = at.Add(3*time.Hour + time.Minute)
		waitMetric(t, ops, fmt.Sprintf(`vigil_source_records_total{source="flows"} %d`, max(read, 0)+2))
	}

	// No list yet: no finding.
	connect("eni-00000001")
	builtin := metricValue(t, ops, `vigil_intel_entries{kind="threat"}`) // the built-in lists
	threatID, _, _, err := c.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "bad-hosts", Format: "TXT",
		Content: bad + "\n", Activate: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ops, fmt.Sprintf(`vigil_intel_entries{kind="threat"} %d`, builtin+1))
	connect("eni-00000002")
	if _, ok := rcv.waitFor("eni-00000002", 20*time.Second); !ok {
		var types []string
		c.EachFinding(ctx, nil, nil, 50, 200, func(fs []finding.Finding) bool {
			for _, f := range fs {
				types = append(types, fmt.Sprintf("%s %s", f.Type, finding.ResourceID(&f.Resource)))
			}
			return true
		})
		t.Fatalf("no finding for a connection to an address the new threat list holds; findings: %v", types)
	}

	trustedID, _, _, err := c.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "partners", Format: "TXT",
		Content: bad + "\n", Activate: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ops, `vigil_intel_entries{kind="trusted"} 1`)
	connect("eni-00000003") // trusted wins: no finding

	if _, err := c.UpdateList(ctx, store.ListTrusted, trustedID, api.UpdateListFields{Activate: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ops, `vigil_intel_entries{kind="trusted"} 0`)
	connect("eni-00000004")
	if _, ok := rcv.waitFor("eni-00000004", 20*time.Second); !ok {
		t.Fatal("no finding once the trusted list was deactivated")
	}

	if err := c.DeleteList(ctx, store.ListThreat, threatID); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ops, fmt.Sprintf(`vigil_intel_entries{kind="threat"} %d`, builtin))
	connect("eni-00000005")
	connect("eni-00000006") // closes eni-00000005's windows, if it had any
	// What the engine raises arrives in event-time order: with the last
	// connection's windows closed, every earlier one is in.
	appendLines(t, log, connLine(at, "eni-0000000e", "10.0.1.98", "10.0.3.9"))
	time.Sleep(3 * time.Second)
	for _, eni := range []string{"eni-00000001", "eni-00000003", "eni-00000005", "eni-00000006"} {
		if at, ok := rcv.waitFor(eni, 10*time.Millisecond); ok {
			t.Errorf("a finding about %s (at %s), while no list in effect made it one", eni, at)
		}
	}
	if !strings.Contains(logs.String(), "threat and trusted lists in effect") {
		t.Error("the reloads were not logged")
	}
}

func ptr[T any](v T) *T { return &v }

// connLine is an accepted TCP connection from src (on eni) to dst:443.
func connLine(at time.Time, eni, src, dst string) string {
	return fmt.Sprintf("2 111122223333 %s %s %s 49152 443 6 10 5000 %d %d ACCEPT OK", eni, src, dst, at.Unix(), at.Unix())
}

// logAddr returns the addr of the first JSON log line with message msg.
func logAddr(t *testing.T, logs *syncWriter, msg string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var e struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Msg == msg && e.Addr != "" {
				return e.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q in the log:\n%s", msg, logs.String())
	return ""
}

// metricValue returns the value of a metric line of /metrics (name and
// labels as printed), or -1.
func metricValue(t *testing.T, addr, name string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	return -1
}

// waitMetric waits until /metrics has a line starting with want.
func waitMetric(t *testing.T, addr, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(b)
		for _, l := range strings.Split(last, "\n") {
			if l == want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var intel []string
	for _, l := range strings.Split(last, "\n") {
		if strings.HasPrefix(l, "vigil_intel") {
			intel = append(intel, l)
		}
	}
	t.Fatalf("/metrics has no %q within 10s: %v", want, intel)
}
