package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// s3Env is an API whose S3 client (api.s3, Deps.S3) talks to a real MinIO,
// built as vigil serve builds it; the standard credential chain finds the
// MinIO's root keys in the environment and nothing of the machine's.
func s3Env(t *testing.T, mutate func(*api.Config)) (*env, *testenv.MinIOServer) {
	t.Helper()
	m := testenv.MinIO(t)
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, m.Credentials())
	return s3EnvOn(t, m, mutate), m
}

// s3EnvOn is an API over m with the credentials in the environment now.
func s3EnvOn(t *testing.T, m *testenv.MinIOServer, mutate func(*api.Config)) *env {
	t.Helper()
	return newEnv(t, func(c *api.Config, d *api.Deps) {
		c.S3 = s3.Config{Endpoint: m.Endpoint, Region: m.Region}
		if mutate != nil {
			mutate(c)
		}
		l, err := s3.New(ctx, c.S3)
		if err != nil {
			t.Fatal(err)
		}
		d.S3 = l
	})
}

// The threat lists the tests publish in S3.
const (
	badTxt   = "# bad hosts\n203.0.113.66\n198.51.100.0/28\nevil.example.net\n"
	badTxtV2 = "# bad hosts, refreshed\n203.0.113.77\n203.0.113.78\n198.51.100.0/28\nevil.example.net\nc2.example.org\n"
)

// TestListFromS3: a threat list is created from, and refreshed from, an
// s3://bucket/key location; the location is stored as given, and what
// detection loads is the object's content at the last update.
func TestListFromS3(t *testing.T) {
	e, m := s3Env(t, nil)
	m.MakeBucket(t, "intel")
	m.Put(t, "intel", "lists/bad.txt", []byte(badTxt))
	// Keys the location is a prefix of, sorting before and after other keys.
	m.Put(t, "intel", "lists/bad.txt.old", []byte("192.0.2.1\n"))
	m.Put(t, "intel", "lists/bad.txt/notes", []byte("not a list\n"))

	loc := "s3://intel/lists/bad.txt"
	status, body, _ := e.raw("POST", "/detector/default/threatintelset",
		`{"name":"s3-bad","format":"TXT","location":"`+loc+`","activate":true}`, "")
	var created api.CreateThreatIntelSetResponse
	if err := json.Unmarshal(body, &created); err != nil || status != 200 || created.Entries != 3 || len(created.Warnings) != 0 || created.ThreatIntelSetID == "" {
		t.Fatalf("create from %s: %d %s", loc, status, body)
	}
	id := created.ThreatIntelSetID
	l, err := e.read.GetList(ctx, store.ListThreat, id)
	if err != nil {
		t.Fatal(err)
	}
	if l.Location != loc || l.Entries != 3 || l.Size != int64(len(badTxt)) || l.Status != store.ListActive || l.Version != 1 {
		t.Errorf("stored list: %+v", l)
	}
	checkThreat(t, e, map[string]bool{"203.0.113.66": true, "203.0.113.77": false, "192.0.2.1": false})

	// The object changes; updating with the same location reads it again.
	m.Put(t, "intel", "lists/bad.txt", []byte(badTxtV2))
	up, err := e.admin.UpdateList(ctx, store.ListThreat, id, api.UpdateListFields{Location: new(loc)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Entries != 5 {
		t.Errorf("update from the changed object: %d entries, want 5", up.Entries)
	}
	l, _ = e.read.GetList(ctx, store.ListThreat, id)
	if l.Location != loc || l.Entries != 5 || l.Size != int64(len(badTxtV2)) || l.Version != 2 {
		t.Errorf("after the update: %+v", l)
	}
	checkThreat(t, e, map[string]bool{"203.0.113.66": false, "203.0.113.77": true, "203.0.113.78": true})

	// A new location: read, and stored as given.
	m.Put(t, "intel", "feeds/otx.csv", []byte("Indicator type,Indicator,Description\nIPv4,192.0.2.200,C2\n"))
	up, err = e.admin.UpdateList(ctx, store.ListThreat, id, api.UpdateListFields{Location: new("s3://intel/feeds/otx.csv")})
	if err == nil {
		t.Fatalf("a TXT list took OTX CSV content: %+v", up)
	}
	wantCode(t, err, "InvalidList")
	m.Put(t, "intel", "feeds/more.txt", []byte("192.0.2.200\n"))
	if up, err = e.admin.UpdateList(ctx, store.ListThreat, id, api.UpdateListFields{Location: new("s3://intel/feeds/more.txt")}); err != nil || up.Entries != 1 {
		t.Fatalf("update to a new location: %+v %v", up, err)
	}
	l, _ = e.read.GetList(ctx, store.ListThreat, id)
	if l.Location != "s3://intel/feeds/more.txt" || l.Entries != 1 {
		t.Errorf("after moving: %+v", l)
	}
	checkThreat(t, e, map[string]bool{"192.0.2.200": true, "203.0.113.77": false})

	// GuardDuty's https forms of the object go through the S3 client too (the
	// object is private: a plain GET would be refused), stored as given.
	for i, loc := range []string{"https://s3.amazonaws.com/intel/feeds/more.txt", "https://intel.s3.us-east-1.amazonaws.com/feeds/more.txt"} {
		_, n, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: fmt.Sprintf("https-%d", i), Format: "TXT",
			Location: loc, Activate: new(false)})
		if err != nil || n != 1 {
			t.Errorf("threat list from %s: %d entries, %v; want 1 (read through the S3 client)", loc, n, err)
		}
	}

	// An IP set reads s3:// the same way.
	m.Put(t, "intel", "trusted/office.txt", []byte("192.0.2.0/24\n203.0.113.5\n"))
	if _, n, _, err := e.admin.CreateList(ctx, store.ListTrusted, api.CreateListRequest{Name: "office", Format: "TXT",
		Location: "s3://intel/trusted/office.txt", Activate: new(false)}); err != nil || n != 2 {
		t.Errorf("IP set from S3: %d entries, %v", n, err)
	}
}

// checkThreat checks which addresses the active threat lists hold, as serve
// loads them.
func checkThreat(t *testing.T, e *env, want map[string]bool) {
	t.Helper()
	lists, problems, err := api.LoadLists(ctx, e.st, e.srv.Config().Limits)
	if err != nil || len(problems) != 0 {
		t.Fatalf("LoadLists: %v %v", problems, err)
	}
	set := intel.NewSet(lists...)
	for addr, in := range want {
		if got := set.Check(netip.MustParseAddr(addr)).Finding(); got != in {
			t.Errorf("%s in the threat lists: %v, want %v", addr, got, in)
		}
	}
}

// TestListFromS3Errors: each failure of an s3:// location is its code, and
// the message names the location and S3's reason.
func TestListFromS3Errors(t *testing.T) {
	e, m := s3Env(t, func(c *api.Config) { c.Limits.MaxListBytes = 1024 })
	m.MakeBucket(t, "intel")
	m.Put(t, "intel", "lists/bad.txt", []byte(badTxt))
	m.Put(t, "intel", "lists/bad/x", []byte(badTxt))
	m.Put(t, "intel", "lists/big.txt", []byte(strings.Repeat("192.0.2.1\n", 200))) // 2,000 bytes
	m.Put(t, "intel", "lists/at-limit.txt", []byte(strings.Repeat("#", 1024-len("192.0.2.1\n"))+"\n192.0.2.1"))

	for _, tc := range []struct {
		location, code, msg string
	}{
		// Exact keys only: lists/bad is a prefix of lists/bad.txt and lists/bad/x.
		{"s3://intel/lists/bad", "ListFetchFailed", "no object s3://intel/lists/bad "},
		{"s3://intel/lists/missing.txt", "ListFetchFailed", "no object s3://intel/lists/missing.txt "},
		{"s3://intel/lists/ba", "ListFetchFailed", "no object s3://intel/lists/ba "},
		{"s3://no-such-bucket/lists/bad.txt", "ListFetchFailed", "fetch s3://no-such-bucket/lists/bad.txt: bucket does not exist"},
		{"s3://intel/lists/big.txt", "InvalidList", "fetch s3://intel/lists/big.txt: 2000 bytes, the limit is 1024"},
		{"s3://intel/lists/", "InvalidParameter", `location "s3://intel/lists/": a folder`},
		{"s3://intel", "InvalidParameter", `location "s3://intel": want s3://bucket/key`},
		{"s3:///lists/bad.txt", "InvalidParameter", "want s3://bucket/key"},
		{"S3://intel/lists/bad.txt", "InvalidParameter", "want an http:// or https:// URL, or s3://bucket/key"},
	} {
		_, _, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "x", Format: "TXT", Location: tc.location, Activate: new(true)})
		got := wantCode(t, err, tc.code)
		if !strings.Contains(got.Message+" ", tc.msg) {
			t.Errorf("%s: %q, want …%s…", tc.location, got.Message, tc.msg)
		}
		if strings.Contains(got.Message, "\n") || strings.Contains(got.Message, "RequestID") || strings.Contains(got.Message, "operation error") {
			t.Errorf("%s: SDK noise in %q", tc.location, got.Message)
		}
	}
	// Nothing was stored by the failures; a list of exactly the limit is.
	if ids, _, err := e.read.ListLists(ctx, store.ListThreat, 0, ""); err != nil || len(ids) != 0 {
		t.Fatalf("lists after failures: %v %v", ids, err)
	}
	if _, n, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "limit", Format: "TXT",
		Location: "s3://intel/lists/at-limit.txt", Activate: new(true)}); err != nil || n != 1 {
		t.Errorf("a list of exactly max_list_bytes: %d entries, %v", n, err)
	}
	// An update to a failing location changes nothing.
	id, _, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "good", Format: "TXT", Location: "s3://intel/lists/bad.txt", Activate: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.UpdateList(ctx, store.ListThreat, id, api.UpdateListFields{Location: new("s3://intel/lists/gone.txt")})
	if got := wantCode(t, err, "ListFetchFailed"); !strings.Contains(got.Message, "no object s3://intel/lists/gone.txt") {
		t.Errorf("update: %s", got.Message)
	}
	if l, _ := e.read.GetList(ctx, store.ListThreat, id); l.Location != "s3://intel/lists/bad.txt" || l.Entries != 3 || l.Version != 1 {
		t.Errorf("after a failed update: %+v", l)
	}

	// Credentials that may list the bucket but not read one object, nor list
	// another bucket: S3's refusal, said plainly.
	m.MakeBucket(t, "private")
	testenv.SetCredentialsEnv(t, m.AssumeRole(t, `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::intel","arn:aws:s3:::intel/*"]},
{"Effect":"Deny","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::intel/lists/bad.txt"]}]}`))
	denied := s3EnvOn(t, m, nil)
	for _, tc := range []struct{ location, msg string }{
		{"s3://intel/lists/bad.txt", "fetch s3://intel/lists/bad.txt: access denied"},
		{"s3://private/lists/bad.txt", "fetch s3://private/lists/bad.txt: access denied (check credentials)"},
	} {
		_, _, _, err := denied.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "x", Format: "TXT", Location: tc.location, Activate: new(true)})
		if got := wantCode(t, err, "ListFetchFailed"); got.Message != tc.msg {
			t.Errorf("denied %s: %q, want %q", tc.location, got.Message, tc.msg)
		}
	}
}

// TestListFromS3Timeout: an S3 endpoint that accepts connections and never
// answers fails the fetch within list_fetch_timeout.
func TestListFromS3Timeout(t *testing.T) {
	testenv.IsolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "vigil-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "vigil-test-secret")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	go func() {
		defer close(conns)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c // held open, unanswered
		}
	}()
	defer func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	}()
	e := newEnv(t, func(c *api.Config, d *api.Deps) {
		c.ListFetchTimeout = 300 * time.Millisecond
		c.S3 = s3.Config{Endpoint: "http://" + ln.Addr().String(), Region: "us-east-1"}
		l, err := s3.New(ctx, c.S3)
		if err != nil {
			t.Fatal(err)
		}
		d.S3 = l
	})
	_, _, _, err = e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "x", Format: "TXT", Location: "s3://intel/lists/bad.txt", Activate: new(true)})
	if got := wantCode(t, err, "ListFetchFailed"); got.Message != "fetch s3://intel/lists/bad.txt: no answer within 300ms" {
		t.Errorf("%q", got.Message)
	}
}

// TestS3NotConfigured: without Deps.S3, s3:// list locations are
// InvalidParameter naming api.s3, and s3:// query sources SourceUnavailable.
func TestS3NotConfigured(t *testing.T) {
	e := newEnv(t, func(c *api.Config, _ *api.Deps) {
		c.Query.Sources = []api.QuerySource{{Name: "flows", Paths: []string{"s3://logs/AWSLogs/"}}}
	})
	_, _, _, err := e.admin.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "x", Format: "TXT", Location: "s3://intel/lists/bad.txt", Activate: new(true)})
	if got := wantCode(t, err, "InvalidParameter"); got.Status != 400 || !strings.Contains(got.Message, `location "s3://intel/lists/bad.txt"`) || !strings.Contains(got.Message, "api.s3") {
		t.Errorf("%d %s", got.Status, got.Message)
	}
	_, err = e.read.Query(ctx, api.QueryRequest{QueryString: "stats count(*)"})
	if got := wantCode(t, err, "SourceUnavailable"); !strings.Contains(got.Message, "query source flows") || !strings.Contains(got.Message, "S3 is not configured") {
		t.Errorf("%s", got.Message)
	}
}

// flowLines is a VPC flow log: a header and n flows from src to ports
// port…port+n-1 of 10.0.0.9 at epoch second at, with the action.
func flowLines(src string, port, n int, at int64, action string) string {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range n {
		fmt.Fprintf(&b, "2 111122223333 eni-1 %s 10.0.0.9 40000 %d 6 1 60 %d %d %s OK\n", src, port+i, at, at+60, action)
	}
	return b.String()
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestQueryS3: POST /vigil/query reads a query source that is an s3://
// prefix, gzipped and plain objects alike, and its time range prunes objects
// by the dates in their keys.
func TestQueryS3(t *testing.T) {
	const (
		jan1at10 = 1767261600 // 2026-01-01T10:00:00Z
		jan2at10 = jan1at10 + 86400
		prefix   = "AWSLogs/111122223333/vpcflowlogs/us-east-1/"
	)
	e, m := s3Env(t, func(c *api.Config) {
		c.Query.Sources = []api.QuerySource{{Name: "flows", Paths: []string{"s3://logs/AWSLogs/"}, Format: "vpcflow"}}
	})
	m.MakeBucket(t, "logs")
	m.Put(t, "logs", prefix+"2026/01/01/111122223333_vpcflowlogs_us-east-1_fl-1_20260101T1000Z_a.log.gz",
		gzipped(t, flowLines("10.0.0.5", 1, 20, jan1at10, "ACCEPT")))
	m.Put(t, "logs", prefix+"2026/01/01/111122223333_vpcflowlogs_us-east-1_fl-1_20260101T1100Z_b.log",
		[]byte(flowLines("203.0.113.7", 22, 3, jan1at10+3600, "REJECT")))
	m.Put(t, "logs", prefix+"2026/01/02/111122223333_vpcflowlogs_us-east-1_fl-1_20260102T1000Z_c.log.gz",
		gzipped(t, flowLines("10.0.0.6", 100, 5, jan2at10, "ACCEPT")))
	// Not under the source's prefix: never read.
	m.Put(t, "logs", "other/flows.log", []byte(flowLines("10.0.0.7", 1, 7, jan1at10, "ACCEPT")))

	r, err := e.read.Query(ctx, api.QueryRequest{QueryString: `stats count(*) as n by action | sort action`})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r.Results); r.Status != "Complete" || got != "[[{action ACCEPT} {n 25}] [{action REJECT} {n 3}]]" {
		t.Errorf("all objects: %s %s", r.Status, got)
	}
	if r.Statistics.RecordsScanned != 28 || r.Statistics.RecordsMatched != 28 || r.Statistics.BytesScanned == 0 {
		t.Errorf("statistics %+v", r.Statistics)
	}

	r, err = e.read.Query(ctx, api.QueryRequest{QueryString: `filter action = "ACCEPT" | stats count_distinct(dstPort) as ports by srcAddr | sort ports desc`,
		StartTime: jan1at10, EndTime: jan1at10 + 7200})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r.Results); got != "[[{srcAddr 10.0.0.5} {ports 20}]]" {
		t.Errorf("January 1st: %s", got)
	}
	// The January 2nd object was not read at all.
	if r.Statistics.RecordsScanned != 23 || r.Statistics.RecordsMatched != 20 {
		t.Errorf("January 1st statistics %+v", r.Statistics)
	}

	r, err = e.read.Query(ctx, api.QueryRequest{QueryString: `fields srcAddr, dstPort | filter dstPort >= 100 | sort dstPort`})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 5 || fmt.Sprint(r.Results[0]) != "[{srcAddr 10.0.0.6} {dstPort 100}]" {
		t.Errorf("January 2nd rows: %v", r.Results)
	}
}
