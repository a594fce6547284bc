package investigate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/simulate"
)

// Simulated corpora: two hours of logs from vigil simulate with a fixed seed, in
// the default v2 format and in the custom (v3–v5) format, made once per test run.
var (
	corpusRoot string
	corpusMu   sync.Mutex
	corpora    = map[string]string{}
)

// TestMain removes the corpora after the tests. The folder is made on first use,
// so that fuzzing workers (which the fuzzer may kill) never make one.
func TestMain(m *testing.M) {
	code := m.Run()
	if corpusRoot != "" {
		os.RemoveAll(corpusRoot)
	}
	os.Exit(code)
}

const (
	simSeed    = 7
	simRecords = 40_000
)

var simStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// simCorpus returns the folder of a corpus in the given flow format ("v2" or
// "custom").
func simCorpus(t *testing.T, format string) string {
	t.Helper()
	corpusMu.Lock()
	defer corpusMu.Unlock()
	if dir, ok := corpora[format]; ok {
		return dir
	}
	if corpusRoot == "" {
		root, err := os.MkdirTemp("", "vigil-investigate-test-")
		if err != nil {
			t.Fatal(err)
		}
		corpusRoot = root
	}
	dir := filepath.Join(corpusRoot, format)
	cfg := simulate.DefaultConfig()
	cfg.Out, cfg.Seed, cfg.Records, cfg.Start, cfg.Duration = dir, simSeed, simRecords, simStart, 2*time.Hour
	cfg.FlowFormat, cfg.Workers = simulate.FlowFormat(format), 2
	sim, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	corpora[format] = dir
	return dir
}

// simTruth is what the corpus's labels say about the NAT-abuse scenarios.
type simTruth struct {
	instance, eip, victim, account string
	natENI                         string
	natIP                          string
	first, last                    time.Time
}

func simLabels(t *testing.T, dir string) simTruth {
	t.Helper()
	l, err := simulate.ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s simTruth
	for _, e := range l.Expect {
		switch e.Scenario {
		case "nat-abuse-portsweep":
			s.first, _ = time.Parse(time.RFC3339, e.FirstSeen)
		case "nat-abuse-ssh-bruteforce":
			s.instance, s.eip, s.victim, s.account = e.Resource, e.PublicIP, e.RemoteIP, e.AccountID
			s.last, _ = time.Parse(time.RFC3339, e.LastSeen)
		}
	}
	for _, n := range l.ExpectNone {
		if n.Scenario == "nat-abuse-ssh-bruteforce" && n.ResourceType == "NetworkInterface" {
			s.natENI, s.natIP = n.Resource, n.PrivateIP
		}
	}
	if s.instance == "" || s.eip == "" || s.natENI == "" || s.first.IsZero() || s.last.IsZero() {
		t.Fatalf("labels lack the NAT-abuse scenarios: %+v", s)
	}
	return s
}

// reader reads paths with ingest and the automatic decoder, as vigil does.
func reader(paths []string, workers int) ReadFunc {
	return func(ctx context.Context, w ingest.Window, emit func(int, *decode.Batch) error) (ingest.Result, error) {
		cfg := ingest.DefaultConfig()
		cfg.Workers, cfg.Window = workers, w
		r := ingest.New(cfg, func() decode.Decoder { return auto.New(auto.DefaultConfig()) })
		locs, err := NarrowLocations(ctx, paths, w)
		if err != nil {
			return ingest.Result{}, err
		}
		return r.Read(ctx, locs, emit, nil)
	}
}

// investigateCorpus runs an investigation of the corpus's report, with the flow
// logs at logs (a folder) and req's additions.
func investigateCorpus(t *testing.T, dir, logs string, req Request, cfg Config) *Result {
	t.Helper()
	if req.Report == nil {
		data, err := os.ReadFile(filepath.Join(dir, "abuse-report", "nat-abuse.eml"))
		if err != nil {
			t.Fatal(err)
		}
		if req.Report, err = Parse("nat-abuse.eml", data, ParseOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workers = 2
	in, err := New(cfg, Deps{Read: reader([]string{logs}, 2), Inventory: inv}, req)
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every result renders in every format.
	for _, f := range []Format{Markdown, JSON, HTML} {
		var b bytes.Buffer
		if err := res.Write(&b, f); err != nil {
			t.Fatalf("write %s: %v", f, err)
		}
		if b.Len() == 0 {
			t.Fatalf("write %s: nothing", f)
		}
	}
	return res
}

// checkNeverNAT fails when the NAT gateway (its address or interface) is a
// candidate.
func checkNeverNAT(t *testing.T, res *Result, truth simTruth) {
	t.Helper()
	for _, c := range res.Candidates {
		if c.Addr.String() == truth.natIP || c.Interface == truth.natENI && c.Instance == nil {
			t.Errorf("the NAT gateway is candidate %d: %+v", c.Rank, c)
		}
	}
}

// checkNoInnocentHigh fails when an instance other than the culprit has high
// confidence.
func checkNoInnocentHigh(t *testing.T, res *Result, culprit string) {
	t.Helper()
	for _, c := range res.Candidates {
		if c.Confidence == ConfidenceHigh && (c.Instance == nil || c.Instance.ID != culprit) {
			t.Errorf("candidate %d %s has high confidence but is not the culprit %s", c.Rank, c.describe(), culprit)
		}
	}
}

// TestCulpritRankedFirst: on corpora with the NAT-abuse scenario and its report,
// the instance that did it is ranked first with high confidence, in the default v2
// format (no pkt-dstaddr) and in the custom format; the NAT gateway is never named.
func TestCulpritRankedFirst(t *testing.T) {
	for _, format := range []string{"v2", "custom"} {
		t.Run(format, func(t *testing.T) {
			dir := simCorpus(t, format)
			truth := simLabels(t, dir)
			res := investigateCorpus(t, dir, filepath.Join(dir, "AWSLogs"), Request{}, DefaultConfig())
			if len(res.Candidates) == 0 {
				t.Fatalf("no candidates; statements %q", res.Statements)
			}
			first := res.Candidates[0]
			if first.Instance == nil || first.Instance.ID != truth.instance || first.Confidence != ConfidenceHigh {
				t.Fatalf("first candidate %s (%s, %.0f), want %s with high confidence; reasons %q", first.describe(), first.Confidence, first.Score, truth.instance, first.Reasons)
			}
			if res.Confidence != ConfidenceHigh || !strings.Contains(res.Verdict, truth.instance) {
				t.Errorf("verdict %q (confidence %s) does not name %s", res.Verdict, res.Confidence, truth.instance)
			}
			checkNeverNAT(t, res, truth)
			checkNoInnocentHigh(t, res, truth.instance)
			if len(res.Targets) != 1 || res.Targets[0].Kind != string(inventory.KindNATGateway) || res.Targets[0].IP.String() != truth.eip {
				t.Errorf("targets %+v, want the NAT gateway behind %s", res.Targets, truth.eip)
			}
			e := first.Evidence
			if e.ToReported < 100 || e.ReportedHost < 5 || len(e.Timeline) == 0 || len(e.Sample) == 0 || len(e.TopPorts) == 0 || e.TopPorts[0].Port != 22 {
				t.Errorf("thin evidence: %+v", e)
			}
			if first.Instance.Name != "app-9" || first.Instance.ImageID == "" || first.Instance.LaunchTime.IsZero() || len(first.Instance.SecurityGroups) == 0 {
				t.Errorf("instance not enriched: %+v", first.Instance)
			}
			// The detections raise the brute force on the culprit.
			found := false
			for _, f := range res.Findings {
				if f.Candidate == 1 && strings.Contains(f.Type, "SSHBruteForce") {
					found = true
				}
			}
			if !found {
				t.Errorf("no SSHBruteForce finding on candidate 1 among %+v", res.Findings)
			}
			// The queries ran, and the one aimed at the reported hosts names the culprit.
			if len(res.Queries) != 3 {
				t.Fatalf("%d queries, want 3", len(res.Queries))
			}
			for _, q := range res.Queries {
				if q.Error != "" || len(q.Rows) == 0 {
					t.Errorf("query %q: error %q, %d rows", q.Title, q.Error, len(q.Rows))
				}
			}
			if rows := res.Queries[2].Rows; len(rows) == 0 || rows[0][0] != first.Addr.String() {
				t.Errorf("query 3's first row %v, want the culprit %s", rows, first.Addr)
			}
			if format == "v2" && !containsSub(res.Statements, "no pkt-dstaddr") {
				t.Errorf("statements %q do not say the v2 format lacks pkt-dstaddr", res.Statements)
			}
		})
	}
}

// filteredCopy copies a corpus's flow logs into a new folder, keeping the header
// lines and the records keep accepts (given the record's fields).
func filteredCopy(t *testing.T, dir string, keep func(f []string) bool) string {
	t.Helper()
	out := t.TempDir()
	src := filepath.Join(dir, "AWSLogs")
	kept, dropped := 0, 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "vpcflowlogs") {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		zr, err := gzip.NewReader(in)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		sc := bufio.NewScanner(zr)
		first := true
		for sc.Scan() {
			line := sc.Text()
			if first || keep(strings.Fields(line)) {
				io.WriteString(zw, line+"\n")
				if !first {
					kept++
				}
			} else {
				dropped++
			}
			first = false
		}
		if err := sc.Err(); err != nil {
			return err
		}
		zw.Close()
		return os.WriteFile(dst, b.Bytes(), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if kept == 0 || dropped == 0 {
		t.Fatalf("filter kept %d and dropped %d records", kept, dropped)
	}
	return out
}

// Field positions shared by the v2 and custom formats.
const (
	fENI     = 2
	fSrc     = 3
	fDst     = 4
	fSrcPort = 5
	fDstPort = 6
)

// TestCulpritOnlyOnNATInterface: a flow log on the NAT gateway's interface only, in
// the default v2 format: the inside legs show the gateway's own address as
// destination, so the culprit is found by pairing inside and outside legs.
func TestCulpritOnlyOnNATInterface(t *testing.T) {
	dir := simCorpus(t, "v2")
	truth := simLabels(t, dir)
	logs := filteredCopy(t, dir, func(f []string) bool { return len(f) > fENI && f[fENI] == truth.natENI })
	res := investigateCorpus(t, dir, logs, Request{}, DefaultConfig())
	if len(res.Candidates) == 0 {
		t.Fatalf("no candidates; statements %q", res.Statements)
	}
	first := res.Candidates[0]
	if first.Instance == nil || first.Instance.ID != truth.instance || first.Confidence != ConfidenceHigh {
		t.Fatalf("first candidate %s (%s), want %s high; reasons %q", first.describe(), first.Confidence, truth.instance, first.Reasons)
	}
	if first.Evidence.Correlated == 0 || first.Evidence.OwnRecords != 0 {
		t.Errorf("the match should come from pairing the NAT's legs alone: %+v", first.Evidence)
	}
	checkNeverNAT(t, res, truth)
	checkNoInnocentHigh(t, res, truth.instance)
}

// TestNoNATFlowLog: the NAT gateway's interface has no flow log; the report says
// so, and the culprit is still found on its own interface.
func TestNoNATFlowLog(t *testing.T) {
	dir := simCorpus(t, "custom")
	truth := simLabels(t, dir)
	logs := filteredCopy(t, dir, func(f []string) bool { return len(f) > fENI && f[fENI] != truth.natENI })
	res := investigateCorpus(t, dir, logs, Request{}, DefaultConfig())
	if !containsSub(res.Statements, "seems to have no flow log") {
		t.Errorf("statements %q do not say the NAT's interface has no flow log", res.Statements)
	}
	if len(res.Candidates) == 0 || res.Candidates[0].Instance == nil || res.Candidates[0].Instance.ID != truth.instance {
		t.Fatalf("candidates %+v, want %s first", res.Candidates, truth.instance)
	}
	checkNoInnocentHigh(t, res, truth.instance)
}

// TestCulpritAbsent: the culprit's traffic is removed from the logs (its records
// and the NAT gateway's legs of them); the report says nothing matches and names
// no innocent instance with high confidence.
func TestCulpritAbsent(t *testing.T) {
	for _, format := range []string{"v2", "custom"} {
		t.Run(format, func(t *testing.T) {
			dir := simCorpus(t, format)
			truth := simLabels(t, dir)
			app9 := ""
			inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
			if err != nil {
				t.Fatal(err)
			}
			if in, ok := inv.Instance(truth.instance); ok {
				app9 = in.PrivateIP.String()
			}
			logs := filteredCopy(t, dir, func(f []string) bool {
				if len(f) <= fDstPort {
					return true
				}
				if f[fSrc] == app9 || f[fDst] == app9 {
					return false
				}
				// The NAT's legs of the culprit's connections: everything on port 22.
				return !(f[fENI] == truth.natENI && (f[fSrcPort] == "22" || f[fDstPort] == "22"))
			})
			res := investigateCorpus(t, dir, logs, Request{}, DefaultConfig())
			checkNoInnocentHigh(t, res, "")
			checkNeverNAT(t, res, truth)
			if res.Confidence == ConfidenceHigh {
				t.Errorf("confidence high without the culprit: %q", res.Verdict)
			}
			if !containsSub(res.Statements, "nothing in these logs explains the report") && !containsSub(res.Statements, "No source explains the report with high confidence") {
				t.Errorf("statements %q do not say nothing matches", res.Statements)
			}
		})
	}
}

// TestWindowNotCovered: the report's window lies outside the logs; the report says
// the logs do not cover it and names nobody.
func TestWindowNotCovered(t *testing.T) {
	dir := simCorpus(t, "v2")
	truth := simLabels(t, dir)
	from := simStart.Add(30 * time.Hour)
	res := investigateCorpus(t, dir, filepath.Join(dir, "AWSLogs"), Request{From: from, Until: from.Add(20 * time.Minute)}, DefaultConfig())
	if !containsSub(res.Statements, "do not cover the reported window") {
		t.Errorf("statements %q do not say the logs do not cover the window", res.Statements)
	}
	if len(res.Candidates) != 0 || res.Confidence != "none" {
		t.Errorf("candidates %+v named although the logs do not cover the window", res.Candidates)
	}
	if res.Coverage.Minutes != 0 || !strings.Contains(res.Verdict, "do not cover") {
		t.Errorf("coverage %+v, verdict %q", res.Coverage, res.Verdict)
	}
	_ = truth
}

// TestWindowWithoutCulprit: the logs cover the window, but the culprit is idle in
// it (the report's times are off by half an hour): nobody is named with high
// confidence.
func TestWindowWithoutCulprit(t *testing.T) {
	dir := simCorpus(t, "custom")
	truth := simLabels(t, dir)
	from := truth.last.Add(25 * time.Minute)
	res := investigateCorpus(t, dir, filepath.Join(dir, "AWSLogs"), Request{From: from, Until: from.Add(12 * time.Minute)}, DefaultConfig())
	if res.Coverage.Minutes == 0 {
		t.Fatalf("the logs should cover %v: %+v", from, res.Coverage)
	}
	checkNoInnocentHigh(t, res, "")
	if res.Confidence == ConfidenceHigh {
		t.Errorf("high confidence in a window without the culprit: %q", res.Verdict)
	}
}

// TestInstancePublicIP: a report about an instance's own public address (edge-2's
// DNS flood): the instance itself is the answer.
func TestInstancePublicIP(t *testing.T) {
	dir := simCorpus(t, "custom")
	l, err := simulate.ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := inventory.Load(filepath.Join(dir, "inventory"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Expect {
		if e.Scenario != "dos-dns" {
			continue
		}
		in, ok := inv.Instance(e.Resource)
		if !ok || !in.PublicIP.IsValid() {
			t.Fatalf("edge-2 %s has no public address in the inventory", e.Resource)
		}
		first, _ := time.Parse(time.RFC3339, e.FirstSeen)
		last, _ := time.Parse(time.RFC3339, e.LastSeen)
		req := Request{IPs: []netip.Addr{in.PublicIP}, From: first, Until: last, Kind: KindDoS,
			Hosts: []netip.Addr{netip.MustParseAddr(e.RemoteIP)}, Ports: []uint16{53}}
		cfg := DefaultConfig()
		cfg.Workers = 2
		inst, err := New(cfg, Deps{Read: reader([]string{filepath.Join(dir, "AWSLogs")}, 2), Inventory: inv}, req)
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Targets) != 1 || res.Targets[0].Kind != string(inventory.KindInstance) {
			t.Fatalf("targets %+v, want the instance", res.Targets)
		}
		if len(res.Candidates) != 1 || res.Candidates[0].Instance == nil || res.Candidates[0].Instance.ID != e.Resource || res.Candidates[0].Confidence != ConfidenceHigh {
			t.Fatalf("candidates %+v, want only %s, high", res.Candidates, e.Resource)
		}
		return
	}
	t.Fatal("no dos-dns scenario in the labels")
}

// TestRequestErrors: without an address or a window the investigation refuses.
func TestRequestErrors(t *testing.T) {
	read := func(context.Context, ingest.Window, func(int, *decode.Batch) error) (ingest.Result, error) {
		t.Fatal("read although the request is incomplete")
		return ingest.Result{}, nil
	}
	for _, tc := range []struct {
		req  Request
		want error
	}{
		{Request{From: simStart, Until: simStart.Add(time.Hour)}, ErrNoAddress},
		{Request{IPs: []netip.Addr{netip.MustParseAddr("198.51.100.1")}}, ErrNoWindow},
	} {
		in, err := New(DefaultConfig(), Deps{Read: read}, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Run(context.Background()); err != tc.want {
			t.Errorf("Run = %v, want %v", err, tc.want)
		}
	}
}
