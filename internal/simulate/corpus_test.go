package simulate

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests read corpora back with the standard library only (compress/gzip,
// encoding/json), independently of how the simulator wrote them.

// testRecords is the size of the test corpora: a little above the minimum the
// scenarios need (13,147 in an hour), so a corpus takes well under a second.
const testRecords = 15_000

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Out, cfg.Records, cfg.Duration = dir, testRecords, time.Hour
	return cfg
}

var (
	corpusMu   sync.Mutex
	corpusDirs = map[string]string{}
	corpusRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if corpusRoot != "" {
		os.RemoveAll(corpusRoot)
	}
	os.Exit(code)
}

// corpus returns the folder of a corpus written with cfg changed by tweak,
// generating it on first use; tests share corpora to stay fast.
func corpus(t *testing.T, name string, tweak func(*Config)) string {
	t.Helper()
	corpusMu.Lock()
	defer corpusMu.Unlock()
	if dir, ok := corpusDirs[name]; ok {
		return dir
	}
	if corpusRoot == "" {
		var err error
		if corpusRoot, err = os.MkdirTemp("", "vigil-simulate-test-"); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(corpusRoot, name)
	cfg := testConfig(dir)
	if tweak != nil {
		tweak(&cfg)
	}
	sim, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sum, err := sim.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Flow != cfg.Records {
		t.Fatalf("wrote %d flow records, want exactly %d", sum.Flow, cfg.Records)
	}
	corpusDirs[name] = dir
	return dir
}

func defaultCorpus(t *testing.T) string { return corpus(t, "default", nil) }

// files returns the corpus's files as slash-separated paths relative to dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// readGzip returns the lines of a gzip file and checks its header is the
// deterministic one: no name, no modification time.
func readGzip(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: not gzip: %v", path, err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("%s: gzip header carries time %v / name %q; output would not be reproducible", path, zr.ModTime, zr.Name)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}

// flowRec is a flow record read back by field name.
type flowRec struct {
	file string
	f    map[string]string
}

func (r flowRec) s(k string) string { return r.f[k] }
func (r flowRec) n(k string) int64 {
	v, _ := strconv.ParseInt(r.f[k], 10, 64)
	return v
}

// flowLog is every flow record of a corpus, with the header of its file.
type flowLog struct {
	recs    []flowRec
	headers map[string]string // file → header line
}

func readFlows(t *testing.T, dir string) flowLog {
	t.Helper()
	fl := flowLog{headers: map[string]string{}}
	for _, p := range files(t, dir) {
		if !strings.Contains(p, "/vpcflowlogs/") {
			continue
		}
		lines := readGzip(t, filepath.Join(dir, p))
		if len(lines) < 2 {
			t.Fatalf("%s: %d lines, want a header and records", p, len(lines))
		}
		names := strings.Fields(lines[0])
		fl.headers[p] = lines[0]
		for i, l := range lines[1:] {
			vals := strings.Split(l, " ")
			if len(vals) != len(names) {
				t.Fatalf("%s:%d: %d fields, header has %d: %q", p, i+2, len(vals), len(names), l)
			}
			m := make(map[string]string, len(names))
			for j, n := range names {
				m[n] = vals[j]
			}
			fl.recs = append(fl.recs, flowRec{file: p, f: m})
		}
	}
	return fl
}

// dnsRec is a resolver record read back.
type dnsRec struct {
	Version        string `json:"version"`
	AccountID      string `json:"account_id"`
	Region         string `json:"region"`
	VpcID          string `json:"vpc_id"`
	QueryTimestamp string `json:"query_timestamp"`
	QueryName      string `json:"query_name"`
	QueryType      string `json:"query_type"`
	QueryClass     string `json:"query_class"`
	Rcode          string `json:"rcode"`
	Answers        []struct {
		Rdata string `json:"Rdata"`
		Type  string `json:"Type"`
		Class string `json:"Class"`
	} `json:"answers"`
	Srcaddr   string            `json:"srcaddr"`
	Srcport   string            `json:"srcport"`
	Transport string            `json:"transport"`
	Srcids    map[string]string `json:"srcids"`

	file string
	raw  string
}

func readDNS(t *testing.T, dir string) []dnsRec {
	t.Helper()
	var out []dnsRec
	for _, p := range files(t, dir) {
		if !strings.Contains(p, "/vpcdnsquerylogs/") {
			continue
		}
		for i, l := range readGzip(t, filepath.Join(dir, p)) {
			var r dnsRec
			dec := json.NewDecoder(strings.NewReader(l))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%s:%d: %v: %s", p, i+1, err, l)
			}
			r.file, r.raw = p, l
			out = append(out, r)
		}
	}
	return out
}

// ctRec is a CloudTrail record read back; raw keeps every field.
type ctRec struct {
	raw map[string]any
	doc string
}

func (r ctRec) str(path ...string) string {
	var v any = r.raw
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func (r ctRec) time() time.Time {
	tm, _ := time.Parse(time.RFC3339, r.str("eventTime"))
	return tm
}

func readTrail(t *testing.T, dir string) []ctRec {
	t.Helper()
	var out []ctRec
	for _, p := range files(t, dir) {
		if !strings.Contains(p, "/CloudTrail/") {
			continue
		}
		lines := readGzip(t, filepath.Join(dir, p))
		doc := strings.Join(lines, "\n")
		if !json.Valid([]byte(doc)) {
			t.Fatalf("%s: not valid JSON", p)
		}
		var file struct {
			Records []map[string]any `json:"Records"`
		}
		if err := json.Unmarshal([]byte(doc), &file); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(file.Records) == 0 {
			t.Errorf("%s: no records (AWS writes no empty CloudTrail files)", p)
		}
		for _, r := range file.Records {
			out = append(out, ctRec{raw: r, doc: p})
		}
	}
	return out
}

// inventory is what the describe-* files say, reduced to what tests need.
type inventory struct {
	instances map[string]map[string]any // instance id → instance
	byName    map[string]map[string]any
	enis      map[string]map[string]any // ENI id → interface
	natIPs    map[string]string         // NAT private IP → NAT ENI id
	natPublic map[string]string         // NAT ENI id → Elastic IP
	privToID  map[string]string         // private IP → instance id
}

func readInventory(t *testing.T, dir string) inventory {
	t.Helper()
	inv := inventory{instances: map[string]map[string]any{}, byName: map[string]map[string]any{},
		enis: map[string]map[string]any{}, natIPs: map[string]string{}, natPublic: map[string]string{}, privToID: map[string]string{}}
	load := func(p string, v any) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	accounts, _ := filepath.Glob(filepath.Join(dir, "inventory", "*", "us-east-1"))
	if len(accounts) != 2 {
		t.Fatalf("inventory of %d accounts, want 2", len(accounts))
	}
	for _, a := range accounts {
		var di struct {
			Reservations []struct{ Instances []map[string]any }
		}
		load(filepath.Join(a, "describe-instances.json"), &di)
		for _, r := range di.Reservations {
			for _, in := range r.Instances {
				id := in["InstanceId"].(string)
				inv.instances[id] = in
				inv.privToID[in["PrivateIpAddress"].(string)] = id
				for _, tg := range in["Tags"].([]any) {
					if tg.(map[string]any)["Key"] == "Name" {
						inv.byName[tg.(map[string]any)["Value"].(string)] = in
					}
				}
			}
		}
		var dn struct{ NetworkInterfaces []map[string]any }
		load(filepath.Join(a, "describe-network-interfaces.json"), &dn)
		for _, n := range dn.NetworkInterfaces {
			inv.enis[n["NetworkInterfaceId"].(string)] = n
		}
		var dg struct {
			NatGateways []struct {
				NatGatewayAddresses []struct{ NetworkInterfaceId, PrivateIp, PublicIp string }
			}
		}
		load(filepath.Join(a, "describe-nat-gateways.json"), &dg)
		for _, g := range dg.NatGateways {
			for _, ad := range g.NatGatewayAddresses {
				inv.natIPs[ad.PrivateIp] = ad.NetworkInterfaceId
				inv.natPublic[ad.NetworkInterfaceId] = ad.PublicIp
			}
		}
	}
	return inv
}

// isPublic reports whether a is a routable public address (not private,
// loopback, link-local, shared, documentation, benchmarking or multicast).
func isPublic(a netip.Addr) bool {
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range []string{"100.64.0.0/10", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15",
		"192.0.0.0/24", "0.0.0.0/8", "240.0.0.0/4", "2001:db8::/32", "2002::/16", "2001::/32"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return false
		}
	}
	return true
}
