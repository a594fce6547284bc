package respond

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/respond/awstest"
	"github.com/vigil-dev/vigil/internal/respond/nacl"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

var ctx = context.Background()

// world is a responder on a real SQLite store, with the test estate and
// trusted list, running until the test ends.
type world struct {
	r      *Responder
	st     *sqlite.Store
	dir    string
	cancel context.CancelFunc
	done   chan error
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func testDeps(t *testing.T, st store.Decisions) Deps {
	t.Helper()
	inv, warns, err := inventory.Load("testdata/estate")
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	trusted, _, err := intel.LoadFile("testdata/trusted.txt", intel.Options{Name: "monitoring", Kind: intel.Trusted})
	if err != nil {
		t.Fatal(err)
	}
	return Deps{Store: st, Estate: EstateOf(inv), Trusted: intel.NewSet(trusted),
		Logger: slog.New(slog.NewTextHandler(testLog, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// start builds a responder from YAML in dir (${DIR} is replaced by dir) on the
// store file dir/vigil.db and runs it.
func start(t *testing.T, dir, yaml string, change func(*Deps)) *world {
	t.Helper()
	cfg, err := ParseConfig([]byte(strings.ReplaceAll(yaml, "${DIR}", dir)))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, filepath.Join(dir, "vigil.db"))
	deps := testDeps(t, st)
	if change != nil {
		change(&deps)
	}
	r, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{r: r, st: st, dir: dir, done: make(chan error, 1)}
	runCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	go func() { w.done <- r.Run(runCtx) }()
	t.Cleanup(w.stop)
	return w
}

func (w *world) stop() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
		w.cancel = nil
	}
}

// netFinding is an inbound SSH brute force from remote.
func netFinding(id, remote string, sev finding.Severity) *finding.Finding {
	f := &finding.Finding{ID: id, Type: "UnauthorizedAccess:EC2/SSHBruteForce", Severity: sev, AccountID: "111122223333", Region: "eu-west-1"}
	f.Resource.ResourceType = finding.ResourceInstance
	f.Service.Count = 40
	f.Service.Action = finding.Action{ActionType: finding.ActionNetworkConnection, NetworkConnectionAction: &finding.NetworkConnectionAction{
		ConnectionDirection: "INBOUND", Protocol: "TCP", LocalPortDetails: &finding.PortDetails{Port: 22, PortName: "SSH"},
		RemoteIPDetails: &finding.RemoteIPDetails{IPAddressV4: remote}}}
	return f
}

// probeFrom is a port probe from several remotes.
func probeFrom(id string, remotes ...string) *finding.Finding {
	f := &finding.Finding{ID: id, Type: "Recon:EC2/PortProbeUnprotectedPort", Severity: 8, AccountID: "111122223333", Region: "eu-west-1"}
	var ds []finding.PortProbeDetail
	for _, r := range remotes {
		d := &finding.RemoteIPDetails{}
		if strings.Contains(r, ":") {
			d.IPAddressV6 = r
		} else {
			d.IPAddressV4 = r
		}
		ds = append(ds, finding.PortProbeDetail{LocalPortDetails: &finding.PortDetails{Port: 22}, RemoteIPDetails: d})
	}
	f.Service.Action = finding.Action{ActionType: finding.ActionPortProbe, PortProbeAction: &finding.PortProbeAction{PortProbeDetails: ds}}
	return f
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func audit(t *testing.T, st store.Decisions) []string {
	t.Helper()
	es, err := st.ListDecisionAudit(ctx, store.DecisionAuditFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, string(e.Action)+" "+e.Target+" "+e.Prefix.String())
	}
	slices.Reverse(out) // oldest first
	return out
}

const blockYAML = `
batch_window: 50ms
expiry_interval: 100ms
allow: [1.1.1.0/24]
rules:
  - name: high-inbound
    when: severity >= 7 and remote is public
    types: ["UnauthorizedAccess:EC2/*", "Recon:EC2/*"]
    exclude_types: ["*Tor*"]
    ttl: 1h
targets:
  - name: edge
    type: blocklist
    blocklist:
      file: ${DIR}/blocklist.txt
      json_file: ${DIR}/blocklist.json
`

// A high-severity finding from the internet becomes a decision, stored,
// audited, and served by the blocklist (collapsed) over HTTP and in files.
func TestBlocksAndPublishes(t *testing.T) {
	w := start(t, t.TempDir(), blockYAML, nil)
	srv := httptest.NewServer(http.StripPrefix("/blocklist/", w.r.Handler()))
	defer srv.Close()

	ds, err := w.r.Consider(ctx, netFinding("f1", "45.155.205.7", 8))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Target != "edge" || ds[0].Prefix.String() != "45.155.205.7/32" || ds[0].Origin != "rule:high-inbound" ||
		ds[0].FindingID != "f1" || ds[0].Hits != 1 || ds[0].ExpiresAt.Sub(ds[0].CreatedAt) != time.Hour {
		t.Fatalf("decisions %+v", ds)
	}
	if want := "UnauthorizedAccess:EC2/SSHBruteForce (severity 8.0) from 45.155.205.7 matched rule high-inbound"; ds[0].Reason != want {
		t.Errorf("reason %q", ds[0].Reason)
	}
	// A port probe from three more addresses: two adjacent ones collapse.
	if _, err := w.r.Consider(ctx, probeFrom("f2", "185.220.101.4", "185.220.101.5", "45.155.205.7", "2a01:4f8::1")); err != nil {
		t.Fatal(err)
	}
	// Low severity and excluded types are not acted on.
	if ds, _ := w.r.Consider(ctx, netFinding("f3", "81.2.69.160", 5)); len(ds) != 0 {
		t.Errorf("severity 5 decided %+v", ds)
	}
	tor := netFinding("f4", "81.2.69.161", 8)
	tor.Type = "UnauthorizedAccess:EC2/TorClient"
	if ds, _ := w.r.Consider(ctx, tor); len(ds) != 0 {
		t.Errorf("excluded type decided %+v", ds)
	}

	want := "45.155.205.7/32\n185.220.101.4/31\n2a01:4f8::1/128\n"
	eventually(t, "the blocklist holds the decisions", func() bool {
		_, body, _ := get(t, srv.URL+"/blocklist/edge")
		return body == want
	})
	code, body, hdr := get(t, srv.URL+"/blocklist/")
	if code != 200 || body != want || hdr.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("root: %d %q %v", code, body, hdr)
	}
	if code, _, _ := get(t, srv.URL+"/blocklist/edge", "If-None-Match", hdr.Get("ETag")); code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", code)
	}
	code, body, _ = get(t, srv.URL+"/blocklist/edge.json")
	if code != 200 || !strings.Contains(body, `"cidrs": [`) || !strings.Contains(body, `"findingId": "f2"`) || strings.Count(body, `"cidr":`) != 4 {
		t.Errorf("json: %d %s", code, body)
	}
	if code, body, _ := get(t, srv.URL+"/blocklist/nope"); code != 404 || !strings.Contains(body, `"errorType":"not_found"`) {
		t.Errorf("unknown list: %d %s", code, body)
	}
	// The files are written when the batch is applied, just after the list
	// serves it.
	eventually(t, "the file holds the list", func() bool {
		b, _ := os.ReadFile(filepath.Join(w.dir, "blocklist.txt"))
		return string(b) == want
	})
	eventually(t, "the JSON file holds the list", func() bool {
		b, _ := os.ReadFile(filepath.Join(w.dir, "blocklist.json"))
		return strings.Contains(string(b), `"count": 3`) && strings.Count(string(b), `"cidr":`) == 4
	})

	s := w.r.Stats()
	if s.Considered != 4 || s.Decided != 4 || s.Extended != 1 || s.Matched != 5 || s.Targets["edge"].Errors != 0 {
		t.Errorf("stats %+v", s)
	}
	if got := audit(t, w.st); !slices.Equal(got, []string{"add edge 45.155.205.7/32", "add edge 185.220.101.4/32",
		"add edge 185.220.101.5/32", "extend edge 45.155.205.7/32", "add edge 2a01:4f8::1/128"}) {
		t.Errorf("audit %q", got)
	}
}

// Trusted, private, own, allowed addresses and too-wide networks are never
// blocked, whatever the rule; each refusal is counted and audited.
func TestNeverBlocks(t *testing.T) {
	// A careless rule: no "remote is public".
	w := start(t, t.TempDir(), strings.Replace(blockYAML, "severity >= 7 and remote is public", "severity >= 7", 1), nil)
	f := probeFrom("f1",
		"10.0.0.5",        // RFC 1918
		"100.64.1.1",      // CGNAT
		"203.0.113.9",     // documentation
		"fd00::5",         // ULA
		"52.16.0.10",      // our Elastic IP
		"34.240.7.8",      // our NAT gateway
		"8.8.8.8",         // trusted list
		"2a00:1450::200e", // trusted list (IPv6)
		"1.1.1.1",         // allow list
		"45.155.205.7")    // a real attacker
	ds, err := w.r.Consider(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Prefix.String() != "45.155.205.7/32" {
		t.Fatalf("decided %+v", ds)
	}
	s := w.r.Stats()
	if s.Skipped[SkipReserved] != 4 || s.Skipped[SkipOwn] != 2 || s.Skipped[SkipTrusted] != 2 || s.Skipped[SkipAllowed] != 1 {
		t.Errorf("skipped %v", s.Skipped)
	}
	es, err := w.st.ListDecisionAudit(ctx, store.DecisionAuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range es {
		if e.Action == store.DecisionSkip {
			reasons[e.Prefix.Addr().String()] = e.Reason
		}
	}
	for addr, want := range map[string]string{
		"10.0.0.5":   "10.0.0.5/32 is in 10.0.0.0/8, private (RFC 1918)",
		"52.16.0.10": "52.16.0.10 is a public address of the estate",
		"8.8.8.8":    "8.8.8.8/32 is on trusted list monitoring (testdata/trusted.txt:2)",
		"1.1.1.1":    "1.1.1.1/32 overlaps 1.1.1.0/24 on the allow list",
	} {
		if reasons[addr] != want {
			t.Errorf("audit reason for %s: %q, want %q", addr, reasons[addr], want)
		}
	}

	// Archived and sample findings are never acted on.
	arch := netFinding("f2", "45.155.205.8", 9)
	arch.Service.Archived = true
	sample := netFinding("f3", "45.155.205.9", 9)
	sample.Service.AdditionalInfo = finding.AdditionalInfo{"sample": true}
	for _, f := range []*finding.Finding{arch, sample} {
		if ds, err := w.r.Consider(ctx, f); err != nil || len(ds) != 0 {
			t.Errorf("%s: %+v %v", f.ID, ds, err)
		}
	}

	// A user cannot block them by hand either.
	for _, tc := range []struct{ p, reason string }{
		{"52.16.0.0/24", SkipOwn},   // holds our EIP
		{"8.8.0.0/16", SkipTrusted}, // holds a trusted /24
		{"45.0.0.0/8", SkipTooWide}, // wider than /16
		{"8.0.0.0/6", SkipTooWide},  // wider, and holds 10/8
		{"192.168.0.0/16", SkipReserved},
	} {
		_, err := w.r.AddManual(ctx, Manual{Prefix: netip.MustParsePrefix(tc.p), Reason: "test"})
		var ref *Refusal
		if !errors.As(err, &ref) || ref.Reason != tc.reason {
			t.Errorf("manual %s: %v, want %s", tc.p, err, tc.reason)
		}
	}
	ds, err = w.r.AddManual(ctx, Manual{Prefix: netip.MustParsePrefix("45.155.204.0/24"), TTL: time.Hour, Reason: "abuse report 4711", Origin: "cli"})
	if err != nil || len(ds) != 1 || ds[0].Origin != "cli" {
		t.Errorf("manual /24: %+v %v", ds, err)
	}
	if _, err := w.r.AddManual(ctx, Manual{Prefix: netip.MustParsePrefix("45.155.203.0/24"), Targets: []string{"nope"}}); err == nil {
		t.Error("manual decision for an unknown target")
	}
}

// Dry run reports and audits, stores and blocks nothing.
func TestDryRun(t *testing.T) {
	w := start(t, t.TempDir(), blockYAML+"dry_run: true\n", nil)
	ds, err := w.r.Consider(ctx, netFinding("f1", "45.155.205.7", 8))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%+v %v", ds, err)
	}
	time.Sleep(200 * time.Millisecond) // several batch windows
	l, _ := w.r.Blocklist("edge")
	if l.Len() != 0 {
		t.Error("dry run blocked")
	}
	stored, err := w.st.ListDecisions(ctx, store.DecisionFilter{})
	if err != nil || len(stored) != 0 {
		t.Errorf("dry run stored %+v %v", stored, err)
	}
	if got := audit(t, w.st); !slices.Equal(got, []string{"dry-run edge 45.155.205.7/32"}) {
		t.Errorf("audit %q", got)
	}
	if s := w.r.Stats(); s.DryRun != 1 || s.Decided != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A repeat extends a decision; it then expires on time, leaves the
// blocklist, and the expiry is audited.
func TestExtendAndExpire(t *testing.T) {
	yaml := strings.Replace(blockYAML, "ttl: 1h", "ttl: 3s", 1)
	w := start(t, t.TempDir(), yaml, nil)
	l, _ := w.r.Blocklist("edge")
	first, err := w.r.Consider(ctx, netFinding("f1", "45.155.205.7", 8))
	if err != nil || len(first) != 1 {
		t.Fatal(first, err)
	}
	time.Sleep(time.Second)
	ds, err := w.r.Consider(ctx, netFinding("f1", "45.155.205.7", 8))
	if err != nil || len(ds) != 1 || ds[0].Hits != 2 || !ds[0].CreatedAt.Equal(first[0].CreatedAt) || !ds[0].ExpiresAt.After(first[0].ExpiresAt) {
		t.Fatalf("extension %+v %v (first %+v)", ds, err, first)
	}
	time.Sleep(time.Until(first[0].ExpiresAt.Add(300 * time.Millisecond)))
	if l.Len() != 1 {
		t.Fatal("the extended decision ended at its first expiry")
	}
	eventually(t, "the decision expires", func() bool { return l.Len() == 0 })
	if late := time.Since(ds[0].ExpiresAt); late < 0 || late > 1500*time.Millisecond {
		t.Errorf("removed %v after its expiry, want within the expiry interval", late)
	}
	if got := audit(t, w.st); !slices.Equal(got, []string{"add edge 45.155.205.7/32", "extend edge 45.155.205.7/32", "expire edge 45.155.205.7/32"}) {
		t.Errorf("audit %q", got)
	}
	eventually(t, "the removal is counted", func() bool { return w.r.Stats().Targets["edge"].Removed == 1 })
	if s := w.r.Stats(); s.Expired != 1 {
		t.Errorf("stats %+v", s)
	}
}

// A restart keeps the decisions: the new process reconciles its targets with
// the store, and expires on time what expired while it was down.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(blockYAML, "ttl: 1h", "ttl: 3s", 1)
	w := start(t, dir, yaml, nil)
	if _, err := w.r.Consider(ctx, netFinding("f1", "45.155.205.7", 8)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.r.AddManual(ctx, Manual{Prefix: netip.MustParsePrefix("185.220.101.0/24"), TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.r.AddManual(ctx, Manual{Prefix: netip.MustParsePrefix("81.2.69.0/24"), TTL: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	// Written straight into the store (as an old vigil, or a careless hand,
	// might): our own Elastic IP. The restarted responder refuses to apply it.
	if _, err := w.st.PutDecisions(ctx, []store.Decision{{Target: "edge", Prefix: netip.MustParsePrefix("52.16.0.10/32"),
		Origin: "cli", Reason: "oops", ExpiresAt: time.Now().Add(time.Hour)}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.stop()
	_ = w.st.Close()
	os.Remove(filepath.Join(dir, "blocklist.txt"))
	time.Sleep(200 * time.Millisecond) // 81.2.69.0/24 expires while vigil is down

	w2 := start(t, dir, yaml, nil)
	l, _ := w2.r.Blocklist("edge")
	eventually(t, "the restarted responder reconciles", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "blocklist.txt"))
		return string(b) == "45.155.205.7/32\n185.220.101.0/24\n"
	})
	if l.Len() != 2 {
		t.Errorf("%d entries", l.Len())
	}
	eventually(t, "the rule's decision expires after the restart", func() bool { return l.Len() == 1 })
	got := audit(t, w2.st)
	if !slices.Contains(got, "expire edge 81.2.69.0/24") || !slices.Contains(got, "expire edge 45.155.205.7/32") {
		t.Errorf("audit %q", got)
	}
}

// A target with a capacity (a NACL rule range of 2) never holds more: the
// decision that expires soonest is evicted, from the store and from AWS.
func TestEvictsOldest(t *testing.T) {
	const acl = "acl-0a1b2c3d4e5f60718"
	srv := awstest.NewEC2(t, acl)
	yaml := `
batch_window: 20ms
rules:
  - name: all
    when: remote is public
targets:
  - name: vpc
    type: nacl
    nacl:
      region: eu-west-1
      network_acl_ids: [` + acl + `]
      rule_min: 71
      rule_max: 72
`
	var target *nacl.ACL
	w := start(t, t.TempDir(), yaml, func(d *Deps) {
		client := ec2.NewFromConfig(awstest.Config(), func(o *ec2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		var err error
		target, err = nacl.New(nacl.Config{NetworkACLIDs: []string{acl}, RuleMin: 71, RuleMax: 72}, client)
		if err != nil {
			t.Fatal(err)
		}
		d.Targets = map[string]Target{"vpc": target}
	})
	for i, ip := range []string{"45.155.205.7", "45.155.205.8", "45.155.205.9"} {
		if _, err := w.r.Consider(ctx, netFinding("f"+ip, ip, 8)); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			time.Sleep(10 * time.Millisecond) // distinct expiries
		}
	}
	eventually(t, "the NACL holds the two newest", func() bool {
		var got []string
		for _, e := range srv.Entries(acl) {
			got = append(got, e.CIDR)
		}
		slices.Sort(got)
		return slices.Equal(got, []string{"45.155.205.8/32", "45.155.205.9/32"})
	})
	stored, _ := w.st.ListDecisions(ctx, store.DecisionFilter{})
	if len(stored) != 2 || stored[0].Prefix.String() != "45.155.205.8/32" {
		t.Errorf("stored %+v", stored)
	}
	if s := w.r.Stats(); s.Evicted != 1 || s.Targets["vpc"].Errors != 0 {
		t.Errorf("stats %+v", s)
	}
	if got := audit(t, w.st); !slices.Contains(got, "evict vpc 45.155.205.7/32") {
		t.Errorf("audit %q", got)
	}
}

// A target that fails is retried by reconciling, with backoff, until it
// holds the decisions.
func TestTargetFailureReconciles(t *testing.T) {
	const acl = "acl-0a1b2c3d4e5f60718"
	srv := awstest.NewEC2(t, acl)
	yaml := `
batch_window: 20ms
reconcile_interval: 3s
rules:
  - name: all
targets:
  - name: vpc
    type: nacl
    nacl:
      network_acl_ids: [` + acl + `]
`
	w := start(t, t.TempDir(), yaml, func(d *Deps) {
		client := ec2.NewFromConfig(awstest.Config(), func(o *ec2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		target, err := nacl.New(nacl.Config{NetworkACLIDs: []string{acl}}, client)
		if err != nil {
			t.Fatal(err)
		}
		d.Targets = map[string]Target{"vpc": target}
	})
	eventually(t, "the first reconcile", func() bool { return w.r.Stats().Targets["vpc"].Reconciles == 1 })
	srv.Fail("CreateNetworkAclEntry", awstest.Fault{Status: 503, Code: "Unavailable", Message: "try later"})
	if _, err := w.r.Consider(ctx, netFinding("f1", "45.155.205.7", 8)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failure is counted", func() bool { return w.r.Stats().Targets["vpc"].Errors == 1 })
	eventually(t, "a reconcile repairs it", func() bool { return len(srv.Entries(acl)) == 1 })
	// The reconcile counts itself after its writes, which the test server
	// may show first.
	eventually(t, "the repairing reconcile is counted", func() bool { return w.r.Stats().Targets["vpc"].Reconciles >= 2 })
}

func TestConfig(t *testing.T) {
	b, err := os.ReadFile("testdata/respond.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 2 || cfg.Rules[0].MinSeverity != 7 || cfg.Rules[0].TTL != 12*time.Hour || len(cfg.Targets) != 4 ||
		cfg.Targets[1].NFTables.Table != "vigil" || cfg.Targets[2].NACL.RuleMin != 71 || cfg.Targets[3].WAF.Limit != 10000 {
		t.Errorf("parsed %+v", cfg)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"rulez: []", "line 1: field rulez not found"},
		{"rules: [{name: a, when: 'severity >= hihg'}]\ntargets: [{name: x, type: blocklist}]",
			"respond.rules[0].when: column 13: expected a number or a severity band"},
		{"rules: [{name: a, targets: [nope]}]\ntargets: [{name: x, type: blocklist}]", `respond.rules[0].targets[0]: no target named "nope"`},
		{"rules: [{name: a}]", "respond.targets: rules are configured but no target"},
		{"targets: [{name: x, type: firewall}]", `respond.targets[0].type: "firewall": want blocklist, nftables, nacl or waf`},
		{"targets: [{name: x, type: nacl, nacl: {rule_min: 5}}]", "respond.targets[0].nacl.network_acl_ids: at least one"},
		{"targets: [{name: x, type: blocklist, nftables: {}}]", "respond.targets[0]: has sections for other types than blocklist"},
		{"targets: [{name: x, type: blocklist}, {name: x, type: blocklist}]", `respond.targets[1].name: "x" is used by two targets`},
		{"allow: [10.0.0.1/8]", `respond.allow[0]: "10.0.0.1/8": host bits set`},
		{"rules: [{name: a, min_severity: extreme}]", "min_severity: \"extreme\" is not a number or LOW, MEDIUM, HIGH, CRITICAL"},
		{"default_ttl: 0s", "respond.default_ttl: must be positive"},
		{"rules: [{name: a, ttl: 800h}]\ntargets: [{name: x, type: blocklist}]", "respond.rules[0].ttl: 800h0m0s is longer than max_ttl 168h0m0s"},
	} {
		_, err := ParseConfig([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q) = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	if cfg, err := ParseConfig(nil); err != nil || cfg.DefaultTTL != 4*time.Hour {
		t.Errorf("empty config: %+v %v", cfg, err)
	}
}

// testLog receives the responder's log; VIGIL_TEST_LOG=1 shows it.
var testLog = func() io.Writer {
	if os.Getenv("VIGIL_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()

// AWS targets built from the configuration (endpoint, region, credentials
// from the environment) send what the WAF API expects.
func TestWAFFromConfig(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	const id = "a1b2c3d4-0000-4000-8000-000000000004"
	srv := awstest.NewWAF(t, awstest.IPSet{Name: "vigil-v4", ID: id, Version: "IPV4", Addresses: []string{"81.2.69.160/32"}})
	yaml := `
batch_window: 20ms
rules:
  - name: all
    when: remote is public
targets:
  - name: waf
    type: waf
    waf:
      region: eu-west-1
      endpoint: ` + srv.URL + `
      ipv4: {name: vigil-v4, id: ` + id + `}
`
	w := start(t, t.TempDir(), yaml, nil)
	// The first reconcile empties the set vigil owns.
	eventually(t, "the reconcile", func() bool { return len(srv.Set(id).Addresses) == 0 })
	if _, err := w.r.Consider(ctx, probeFrom("f1", "45.155.205.7", "45.155.205.8", "2a01:4f8::1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "one batched update", func() bool {
		return slices.Equal(srv.Set(id).Addresses, []string{"45.155.205.7/32", "45.155.205.8/32"})
	})
	updates := 0
	for _, c := range srv.Calls() {
		if c.Op == "UpdateIPSet" {
			updates++
		}
	}
	if updates != 2 { // the reconcile's and the batch's
		t.Errorf("%d updates, want 2 (one per batch)", updates)
	}
}
