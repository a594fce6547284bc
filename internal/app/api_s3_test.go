package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/testenv"
)

// TestServeAPIReadsS3: vigil serve gives the API the S3 client of api.s3, so
// that a threat list is created from an s3://bucket/key location and is in
// effect in detection, and POST /vigil/query reads an s3:// query source.
// Against a real MinIO.
func TestServeAPIReadsS3(t *testing.T) {
	m := testenv.MinIO(t)
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, m.Credentials())
	m.MakeBucket(t, "intel")
	m.Put(t, "intel", "lists/bad.txt", []byte("203.0.113.66\n203.0.113.67\n198.51.100.0/28\n"))
	m.Put(t, "intel", "logs/flows.log", []byte(flowHeader+"\n"+
		connLine(time.Unix(1767261600, 0), "eni-1", "10.0.1.1", "203.0.113.66")+"\n"+
		connLine(time.Unix(1767261660, 0), "eni-1", "10.0.1.1", "203.0.113.67")+"\n"))

	dir := t.TempDir()
	secret := adminToken(t, dir)

	_, hook := newReceiver(t)
	cfg := serveConfig(t, dir, hook.URL, fmt.Sprintf(`log: {format: json}
api:
  listen: "127.0.0.1:0"
  s3: {endpoint: %q, region: %q}
  query:
    sources: [{name: archive, paths: ["s3://intel/logs/"], format: vpcflow}]
`, m.Endpoint, m.Region))
	var logs syncWriter
	r := start(t, cfg, &logs)
	c, err := client.New(client.Config{Server: "http://" + logAddr(t, &logs, "api listening"), Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ops := r.a.OpsAddr()
	builtin := metricValue(t, ops, `vigil_intel_entries{kind="threat"}`)
	_, n, _, err := c.CreateList(ctx, store.ListThreat, api.CreateListRequest{Name: "s3-bad", Format: "TXT",
		Location: "s3://intel/lists/bad.txt", Activate: ptr(true)})
	if err != nil || n != 3 {
		t.Fatalf("create from s3://intel/lists/bad.txt: %d entries, %v", n, err)
	}
	waitMetric(t, ops, fmt.Sprintf(`vigil_intel_entries{kind="threat"} %d`, builtin+3))

	res, err := c.Query(ctx, api.QueryRequest{QueryString: "stats count(*) as n by dstAddr | sort dstAddr"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Results); got != "[[{dstAddr 203.0.113.66} {n 1}] [{dstAddr 203.0.113.67} {n 1}]]" {
		t.Errorf("query over s3://intel/logs/: %s", got)
	}
}

// TestServeAPIS3BadConfig: an api.s3 the AWS SDK cannot load (a profile that
// does not exist) stops serve at start, naming api.s3.
func TestServeAPIS3BadConfig(t *testing.T) {
	testenv.IsolateAWS(t)
	dir := t.TempDir()
	cfg := serveConfig(t, dir, "http://127.0.0.1:1/", "api: {listen: \"127.0.0.1:0\", s3: {profile: no-such-profile}}\n")
	a, err := app.New(cfg, app.Deps{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "api.s3: load AWS configuration: ") || !strings.Contains(err.Error(), "no-such-profile") {
		t.Errorf("Run = %v, want an api.s3 error naming the profile", err)
	}
}
