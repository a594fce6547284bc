package s3poll_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/ingest/s3poll"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
	"github.com/vigil-dev/vigil/internal/testenv"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// flowObject is a gzip flow log with n bad-port records starting at at.
func flowObject(t *testing.T, at time.Time, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	lines := append([]string{pipelinetest.FlowHeader}, pipelinetest.BadPortLines(at, n)...)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func key(acct, stamp, suffix string) string {
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/2026/11/01/%s_vpcflowlogs_us-east-1_fl-0a1b_%s_%s.log.gz", acct, acct, stamp, suffix)
}

func source(t *testing.T, m *testenv.MinIOServer) pipeline.NamedSource {
	t.Helper()
	cfg := s3poll.DefaultConfig()
	cfg.Location = "s3://logs/AWSLogs/"
	cfg.Endpoint = m.Endpoint
	cfg.Region = m.Region
	cfg.PollInterval = 200 * time.Millisecond
	src, err := s3poll.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.NamedSource{Name: "central", Source: src}
}

// TestPollsNewObjects: objects present at the start are read; new ones in any
// account are read as they appear — also one that sorts before an object
// already read (delivered late within the same minute) — and a restart reads
// nothing twice. Against a real MinIO.
func TestPollsNewObjects(t *testing.T) {
	m := testenv.MinIO(t)
	testenv.IsolateAWS(t)
	testenv.SetCredentialsEnv(t, m.Credentials())
	m.MakeBucket(t, "logs")
	m.Put(t, "logs", key("111111111111", "20261101T1000Z", "b0"), flowObject(t, t0, 2))
	m.Put(t, "logs", key("222222222222", "20261101T1000Z", "b0"), flowObject(t, t0, 3))

	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	rules := pipelinetest.Rules(t)
	r := pipelinetest.Start(t, st, rules, source(t, m))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 5, 20*time.Second)

	// A new object in the first account: it sorts before everything of the
	// second account.
	m.Put(t, "logs", key("111111111111", "20261101T1005Z", "b0"), flowObject(t, t0.Add(5*time.Minute), 4))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 9, 20*time.Second)
	// A late object of the same minute that sorts before the one just read.
	m.Put(t, "logs", key("111111111111", "20261101T1005Z", "a0"), flowObject(t, t0.Add(5*time.Minute), 1))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 10, 20*time.Second)
	r.Stop(t)

	m.Put(t, "logs", key("222222222222", "20261101T1010Z", "c0"), flowObject(t, t0.Add(10*time.Minute), 6))
	r = pipelinetest.Start(t, st, rules, source(t, m))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 16, 20*time.Second)
	time.Sleep(time.Second) // a few more polls: nothing read twice
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 16, time.Second)
	r.Stop(t)
}

func TestConfigErrors(t *testing.T) {
	cfg := s3poll.DefaultConfig()
	cfg.Location = "logs/"
	cfg.PollInterval = time.Millisecond
	_, err := s3poll.New(cfg)
	if err == nil || !strings.Contains(err.Error(), "location") || !strings.Contains(err.Error(), "poll_interval") {
		t.Errorf("error %v does not name location and poll_interval", err)
	}
}
