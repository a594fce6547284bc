package api_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
)

// flowLog writes a VPC flow log: 20 flows from 10.0.0.5 to ports 1–20 of
// 10.0.0.9 (a scan), 3 REJECTed SSH flows from 203.0.113.7.
func flowLog(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for p := 1; p <= 20; p++ {
		fmt.Fprintf(&b, "2 111122223333 eni-1 10.0.0.5 10.0.0.9 40000 %d 6 1 60 1767261600 1767261660 ACCEPT OK\n", p)
	}
	for i := range 3 {
		fmt.Fprintf(&b, "2 111122223333 eni-1 203.0.113.7 10.0.0.9 5000%d 22 6 1 60 1767265200 1767265260 REJECT OK\n", i)
	}
	path := filepath.Join(t.TempDir(), "flows.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestQuery(t *testing.T) {
	path := flowLog(t)
	e := newEnv(t, func(c *api.Config, _ *api.Deps) {
		c.Query.Sources = []api.QuerySource{{Name: "flows", Paths: []string{path}}, {Name: "empty", Paths: []string{t.TempDir()}}, {Name: "gone", Paths: []string{"/nonexistent/vigil/flows"}}}
	})
	r, err := e.read.Query(ctx, api.QueryRequest{LogGroupNames: []string{"flows"},
		QueryString: `filter action = "ACCEPT" | stats count_distinct(dstPort) as ports by srcAddr | sort ports desc`})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "Complete" || len(r.Results) != 1 || fmt.Sprint(r.Results[0]) != "[{srcAddr 10.0.0.5} {ports 20}]" {
		t.Errorf("results %v", r.Results)
	}
	if r.Statistics.RecordsScanned != 23 || r.Statistics.RecordsMatched != 20 || r.Statistics.BytesScanned == 0 {
		t.Errorf("statistics %+v", r.Statistics)
	}
	// The time range prunes by event time: only the REJECTs are an hour later.
	r, err = e.read.Query(ctx, api.QueryRequest{QueryString: `stats count(*) as n by action`, StartTime: 1767265000, EndTime: 1767270000,
		LogGroupNames: []string{"flows", "empty"}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.Results) != "[[{action REJECT} {n 3}]]" {
		t.Errorf("windowed %v", r.Results)
	}
	// limit cuts the rows.
	r, err = e.read.Query(ctx, api.QueryRequest{QueryString: `fields srcAddr, dstPort`, Limit: 5, LogGroupNames: []string{"flows"}})
	if err != nil || len(r.Results) != 5 || !r.Truncated {
		t.Errorf("limit: %d rows, truncated %v, %v", len(r.Results), r.Truncated, err)
	}
	// Errors: positioned, 4xx.
	_, err = e.read.Query(ctx, api.QueryRequest{QueryString: "filter action = \n | stats count( by x"})
	if got := wantCode(t, err, "InvalidQuery"); got.Line != 2 || got.Column == 0 {
		t.Errorf("query error at %d:%d: %s", got.Line, got.Column, got.Message)
	}
	_, err = e.read.Query(ctx, api.QueryRequest{QueryString: "fields @message", LogGroupNames: []string{"nope"}})
	if got := wantCode(t, err, "InvalidParameter"); !strings.Contains(got.Message, "flows, empty, gone") {
		t.Errorf("%s", got.Message)
	}
	_, err = e.read.Query(ctx, api.QueryRequest{QueryString: "fields @message"})
	if got := wantCode(t, err, "SourceUnavailable"); got.Status != 503 || !strings.Contains(got.Message, "query source gone") {
		t.Errorf("missing source: %d %s", got.Status, got.Message)
	}
	_, err = e.read.Query(ctx, api.QueryRequest{QueryString: "fields @message", StartTime: 10, EndTime: 5})
	wantCode(t, err, "InvalidParameter")
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*api.Config)
		want string
	}{
		{func(c *api.Config) { c.TLSCert = "x.pem" }, "tls_cert and tls_key"},
		{func(c *api.Config) { c.DetectorID = "a/b" }, "detector_id"},
		{func(c *api.Config) { c.Query.Timeout = c.WriteTimeout }, "shorter than write_timeout"},
		{func(c *api.Config) { c.Query.Sources = []api.QuerySource{{Name: "x"}} }, "query.sources[0]"},
		{func(c *api.Config) {
			c.Query.Sources = []api.QuerySource{{Name: "x", Paths: []string{"a"}, Format: "xml"}}
		}, "format"},
	} {
		c := api.DefaultConfig()
		tc.mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	if err := api.DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
	if _, err := api.New(api.DefaultConfig(), api.Deps{}); err == nil {
		t.Error("New without a store")
	}
}

func TestQueryTimeout(t *testing.T) {
	path := flowLog(t)
	e := newEnv(t, func(c *api.Config, _ *api.Deps) {
		c.Query.Sources = []api.QuerySource{{Name: "flows", Paths: []string{path}}}
		c.Query.Timeout = time.Nanosecond
	})
	_, err := e.read.Query(ctx, api.QueryRequest{QueryString: "stats count(*)"})
	if got := wantCode(t, err, "QueryTimeout"); got.Status != 400 || !strings.Contains(got.Message, "1ns") {
		t.Errorf("%d %s", got.Status, got.Message)
	}
}
