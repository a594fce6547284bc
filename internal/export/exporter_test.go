package export

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/notify"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

var start = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// manualClock is a notify.Clock moved by the test (see notify's tests for the
// same idea): it counts timers so the test can wait until the exporter sleeps.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	pending []*manualTimer
	created int
	changed chan struct{}
}

type manualTimer struct {
	c  chan time.Time
	at time.Time
	mc *manualClock
}

func newManualClock(t time.Time) *manualClock {
	return &manualClock{now: t, changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) NewTimer(d time.Duration) notify.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: make(chan time.Time, 1), at: c.now.Add(d), mc: c}
	c.created++
	if d <= 0 {
		t.c <- c.now
	} else {
		c.pending = append(c.pending, t)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Stop() bool {
	c := t.mc
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.pending, t)
	if i < 0 {
		return false
	}
	c.pending = slices.Delete(c.pending, i, i+1)
	close(c.changed)
	c.changed = make(chan struct{})
	return true
}

// advance moves the clock, fires due timers and returns how many.
func (c *manualClock) advance(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	fired := 0
	c.pending = slices.DeleteFunc(c.pending, func(t *manualTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.c <- c.now
		fired++
		return true
	})
	close(c.changed)
	c.changed = make(chan struct{})
	return fired
}

// waitIdle waits until a timer newer than after exists and sleepers are pending.
func (c *manualClock) waitIdle(t *testing.T, after, sleepers int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		created, pending, changed := c.created, len(c.pending), c.changed
		c.mu.Unlock()
		if created > after && pending == sleepers {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("exporter not idle: %d timers (want > %d), %d pending (want %d)", created, after, pending, sleepers)
		}
	}
}

func (c *manualClock) timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.created
}

// exportHarness runs an Exporter on a real SQLite store with a manual clock.
type exportHarness struct {
	t     *testing.T
	clock *manualClock
	st    *sqlite.Store
	e     *Exporter
}

const sleepers = 2 // the export worker and the dead-letter purge

func newExportHarness(t *testing.T, cfg Config, s3 S3Putter) *exportHarness {
	h := &exportHarness{t: t, clock: newManualClock(start)}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "vigil.db")})
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	h.e, err = New(cfg, Deps{Outbox: st.Outbox(), Findings: st, Clock: h.clock, S3: s3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	created := h.clock.timers()
	go func() { defer close(done); _ = h.e.Run(ctx) }()
	h.clock.waitIdle(t, created+1, sleepers)
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return h
}

func (h *exportHarness) upsert(fs ...finding.Finding) {
	h.t.Helper()
	res, err := h.st.Upsert(context.Background(), fs, finding.TimeOf(h.clock.Now()))
	if err != nil {
		h.t.Fatal(err)
	}
	created := h.clock.timers()
	before := h.e.Stats().Enqueued
	if err := h.e.Publish(context.Background(), res); err != nil {
		h.t.Fatal(err)
	}
	if h.e.Stats().Enqueued > before {
		h.clock.waitIdle(h.t, created, sleepers)
	}
}

func (h *exportHarness) step(d time.Duration) {
	h.t.Helper()
	created := h.clock.timers()
	if h.clock.advance(d) > 0 {
		h.clock.waitIdle(h.t, created, sleepers)
	}
}

// object is an export object read back.
type object struct {
	key     string
	records []map[string]any
}

func readObject(t *testing.T, key string, gz []byte) object {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("%s is not gzip: %v", key, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	o := object{key: key}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s line %d: %v", key, i+1, err)
		}
		o.records = append(o.records, m)
	}
	return o
}

func folderObjects(t *testing.T, dir string) []object {
	t.Helper()
	var out []object
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(d.Name(), ".") {
			t.Errorf("temporary file left behind: %s", rel)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, readObject(t, filepath.ToSlash(rel), b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var keyRE = `^AWSLogs/(\d{12})/GuardDuty/([a-z0-9-]+)/2026/03/14/[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl\.gz$`

func findings(t *testing.T, n int, account string) []finding.Finding {
	out := make([]finding.Finding, n)
	for i := range out {
		out[i] = storetest.NetFinding(t, "Recon:EC2/Portscan", account, "i-0123456789abcdef0", "198.51.100."+string(rune('1'+i)), finding.TimeOf(start))
	}
	return out
}

// TestExportToFolder: new findings are written after the batching window, one
// object per account and region, in GuardDuty's layout; further occurrences at
// the update frequency, coalesced; archived findings never.
func TestExportToFolder(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Destination = dir
	cfg.Frequency = notify.OneHour
	h := newExportHarness(t, cfg, nil)

	a := findings(t, 3, "111122223333")
	b := findings(t, 1, "444455556666")
	h.upsert(a[0])
	h.step(2 * time.Second)
	h.upsert(a[1], a[2], b[0])
	if got := folderObjects(t, dir); len(got) != 0 {
		t.Fatalf("%d objects before the batching window ended", len(got))
	}
	h.step(10 * time.Second)
	objs := folderObjects(t, dir)
	if len(objs) != 2 {
		t.Fatalf("%d objects, want 2 (one per account): %+v", len(objs), objs)
	}
	byAccount := map[string]object{}
	for _, o := range objs {
		m := regexpMatch(t, keyRE, o.key)
		byAccount[m[1]] = o
		if m[2] != "eu-west-1" {
			t.Errorf("%s: region %s", o.key, m[2])
		}
	}
	if got := recordIDs(byAccount["111122223333"]); !slices.Equal(got, []string{a[0].ID, a[1].ID, a[2].ID}) {
		t.Errorf("account 1 records %v", got)
	}
	if got := recordIDs(byAccount["444455556666"]); !slices.Equal(got, []string{b[0].ID}) {
		t.Errorf("account 2 records %v", got)
	}
	if _, ok := byAccount["111122223333"].records[0]["vigilEvidence"]; ok {
		t.Error("records carry vigilEvidence without include_evidence")
	}

	// Repeats: one update at 11:00, with the latest count.
	for range 3 {
		h.step(5 * time.Minute)
		h.upsert(a[0])
	}
	archived := a[1]
	archived.Service.Archived = true
	h.upsert(archived) // suppressed repeat of a[1]: not exported
	h.step(30 * time.Minute)
	if n := len(folderObjects(t, dir)); n != 2 {
		t.Fatalf("%d objects before 11:00", n)
	}
	h.step(15 * time.Minute) // past 11:00
	objs = folderObjects(t, dir)
	if len(objs) != 3 {
		t.Fatalf("%d objects after 11:00, want 3", len(objs))
	}
	var upd object
	for _, o := range objs {
		if o.key != byAccount["111122223333"].key && o.key != byAccount["444455556666"].key {
			upd = o
		}
	}
	if got := recordIDs(upd); !slices.Equal(got, []string{a[0].ID}) {
		t.Fatalf("update object %s holds %v", upd.key, got)
	}
	if c := upd.records[0]["service"].(map[string]any)["count"]; c != float64(4) {
		t.Errorf("update exported count %v, want 4", c)
	}
	s := h.e.Stats()
	if s.Objects != 3 || s.Sent != 5 || s.Bytes == 0 || s.QueueDepth != 0 {
		t.Errorf("stats %+v", s)
	}
}

func recordIDs(o object) []string {
	var out []string
	for _, r := range o.records {
		out = append(out, r["id"].(string))
	}
	return out
}

// TestSinkRetryReplacesItsObject: the same batch written twice is one object,
// and hostile account and region values stay inside the folder.
func TestSinkRetryReplacesItsObject(t *testing.T) {
	dir := t.TempDir()
	s := &Sink{format: GuardDuty, opts: Options{Lines: true}, maxBatch: 10, dir: dir, now: func() time.Time { return start }}
	fs := findings(t, 2, "111122223333")
	evil := fs[1]
	evil.AccountID, evil.Region = "../../../etc", ".."
	alerts := []notify.Alert{{Finding: fs[0], Kind: notify.KindNew, ID: 1}, {Finding: evil, Kind: notify.KindNew, ID: 2}}
	for range 2 {
		if err := s.Send(context.Background(), alerts); err != nil {
			t.Fatal(err)
		}
	}
	objs := folderObjects(t, dir)
	if len(objs) != 2 {
		t.Fatalf("%d objects after writing the same batch twice, want 2", len(objs))
	}
	for _, o := range objs {
		if strings.Contains(o.key, "..") || !strings.HasPrefix(o.key, "AWSLogs/") {
			t.Errorf("object key %q escapes the layout", o.key)
		}
	}
	// A batch that differs (a revision moved) is another object.
	alerts[0].Rev = 1
	if err := s.Send(context.Background(), alerts[:1]); err != nil {
		t.Fatal(err)
	}
	if n := len(folderObjects(t, dir)); n != 3 {
		t.Errorf("%d objects, want 3", n)
	}
}

// TestExportToMinIO writes to a real S3 (MinIO) under a prefix, in ASFF.
func TestExportToMinIO(t *testing.T) {
	srv := testenv.MinIO(t)
	srv.MakeBucket(t, "exports")
	cfg := DefaultConfig()
	cfg.Destination = "s3://exports/vigil/prod"
	cfg.Format = "asff"
	cfg.BatchWindow = notify.Duration(time.Second)
	// The exporter makes its own client, from the configuration and the
	// standard credential chain, as in production.
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, srv.Credentials())
	cfg.S3 = S3Config{Endpoint: srv.Endpoint, Region: srv.Region}
	h := newExportHarness(t, cfg, nil)
	fs := findings(t, 3, "111122223333")
	h.upsert(fs...)
	h.step(2 * time.Second)

	out, err := srv.Client().ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String("exports")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 {
		t.Fatalf("%d objects in the bucket, want 1", len(out.Contents))
	}
	key := aws.ToString(out.Contents[0].Key)
	rest, ok := strings.CutPrefix(key, "vigil/prod/")
	if !ok {
		t.Fatalf("key %s is not under the prefix vigil/prod/", key)
	}
	regexpMatch(t, keyRE, rest)
	obj, err := srv.Client().GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String("exports"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if ct := aws.ToString(obj.ContentType); ct != "application/gzip" {
		t.Errorf("content type %q", ct)
	}
	body, _ := io.ReadAll(obj.Body)
	o := readObject(t, key, body)
	if len(o.records) != 3 {
		t.Fatalf("%d records", len(o.records))
	}
	for i, r := range o.records {
		checkASFF(t, r)
		if r["Id"] != fs[i].ARN {
			t.Errorf("record %d is %v, want %s", i, r["Id"], fs[i].ARN)
		}
	}
	if s := h.e.Stats(); s.Objects != 1 || s.Sent != 3 {
		t.Errorf("stats %+v", s)
	}
}

// TestExportS3Unreachable: writes that fail are retried, not lost.
func TestExportS3Unreachable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Destination = "s3://exports/x"
	cfg.S3 = S3Config{Endpoint: "http://127.0.0.1:1", Region: "us-east-1"}
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"})
	h := newExportHarness(t, cfg, nil)
	h.upsert(findings(t, 1, "111122223333")...)
	h.step(11 * time.Second)
	s := h.e.Stats()
	if s.Failed == 0 || s.DeadLettered != 0 || s.QueueDepth != 1 || !strings.Contains(s.LastError, "s3://exports/x/AWSLogs/111122223333/GuardDuty/") {
		t.Errorf("stats after a failed write %+v", s)
	}
}

func TestExportConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.Destination = "" }, "destination: missing"},
		{func(c *Config) { c.Destination = "s3:///x" }, "destination: s3:///x has no bucket name"},
		{func(c *Config) { c.Format = "csv" }, "format: unknown export format \"csv\""},
		{func(c *Config) { c.Frequency = "HOURLY" }, "frequency: \"HOURLY\""},
		{func(c *Config) { c.Name = "a/b" }, "name: \"a/b\" is not a destination name"},
		{func(c *Config) { c.MinSeverity = "loud" }, "min_severity: unknown severity"},
		{func(c *Config) { c.MaxFindingsPerObject = 1e6 }, "max_findings_per_object"},
	} {
		cfg := DefaultConfig()
		cfg.Destination = t.TempDir()
		tc.mutate(&cfg)
		_, err := New(cfg, Deps{Outbox: nil})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want …%s…", err, tc.want)
		}
	}
}

func regexpMatch(t *testing.T, re, s string) []string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%q does not match %s", s, re)
	}
	return m
}
