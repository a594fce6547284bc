package watch_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/ingest/watch"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func newWatch(t *testing.T, dir string, edit func(*watch.Config)) pipeline.NamedSource {
	t.Helper()
	cfg := watch.DefaultConfig()
	cfg.Path = dir
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ScanInterval = 50 * time.Millisecond
	cfg.Settle = 200 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	src, err := watch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.NamedSource{Name: "flows", Source: src}
}

func gz(t *testing.T, lines ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAppendedAndNewFiles: lines appended to a file are read as they come,
// a new plain file and a new gzip file in a subfolder (AWS's layout) too, each
// record once.
func TestAppendedAndNewFiles(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 3)...)
	pipelinetest.Start(t, st, pipelinetest.Rules(t), newWatch(t, dir, nil))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 3, 10*time.Second)

	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(time.Minute), 4)...)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 7, 10*time.Second)

	// A line written in two parts is read once it is whole.
	line := pipelinetest.BadPortLines(t0.Add(2*time.Minute), 1)[0]
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(line[:20])
	time.Sleep(100 * time.Millisecond)
	f.WriteString(line[20:] + "\n")
	f.Close()
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 8, 10*time.Second)

	sub := filepath.Join(dir, "AWSLogs", "111122223333", "vpcflowlogs", "us-east-1", "2026", "11", "01")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	lines := append([]string{pipelinetest.FlowHeader}, pipelinetest.BadPortLines(t0.Add(3*time.Minute), 5)...)
	if err := os.WriteFile(filepath.Join(sub, "111122223333_vpcflowlogs_us-east-1_fl-1_20261101T1005Z_a1.log.gz"), gz(t, lines...), 0o644); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Append(t, filepath.Join(dir, "other.log"), append([]string{pipelinetest.FlowHeader}, pipelinetest.BadPortLines(t0.Add(4*time.Minute), 2)...)...)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 15, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // nothing more must come
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 15, time.Second)
}

// TestRotation: rename-and-create and copytruncate rotations lose nothing and
// read nothing twice.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 2)...)
	pipelinetest.Start(t, st, pipelinetest.Rules(t), newWatch(t, dir, func(c *watch.Config) { c.Include = []string{"*.log"} }))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 2, 10*time.Second)

	// Lines written just before the rename are read from the renamed file
	// (which no longer matches *.log), the new file from its start.
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(time.Minute), 3)...)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(2*time.Minute), 4)...)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 9, 10*time.Second)

	// copytruncate: the content is copied away, the file emptied and written
	// again from its start.
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(3*time.Minute), 1)...)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 10, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 10, time.Second)
}

// TestRestartResumes: a stopped and restarted watcher reads only what came
// meanwhile.
func TestRestartResumes(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(t.TempDir(), "vigil.db")
	st := pipelinetest.OpenStore(t, dbPath)
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 5)...)
	rules := pipelinetest.Rules(t)
	r := pipelinetest.Start(t, st, rules, newWatch(t, dir, nil))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 5, 10*time.Second)
	r.Stop(t)

	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(time.Minute), 6)...)
	gzPath := filepath.Join(dir, "done.log.gz")
	os.WriteFile(gzPath, gz(t, append([]string{pipelinetest.FlowHeader}, pipelinetest.BadPortLines(t0.Add(2*time.Minute), 2)...)...), 0o644)
	r = pipelinetest.Start(t, st, rules, newWatch(t, dir, nil))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 13, 10*time.Second)
	r.Stop(t)

	r = pipelinetest.Start(t, st, rules, newWatch(t, dir, nil))
	time.Sleep(500 * time.Millisecond)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 13, time.Second)
	r.Stop(t)
}

// TestStartAtEnd: with start_at end, the first start skips what is there;
// what is appended later, and everything after a restart, is read.
func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	log := filepath.Join(dir, "flows.log")
	pipelinetest.Append(t, log, pipelinetest.FlowHeader)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0, 5)...)
	end := func(c *watch.Config) { c.StartAt = "end" }
	rules := pipelinetest.Rules(t)
	r := pipelinetest.Start(t, st, rules, newWatch(t, dir, end))
	time.Sleep(300 * time.Millisecond)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(time.Minute), 2)...)
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 2, 10*time.Second)
	r.Stop(t)
	pipelinetest.Append(t, log, pipelinetest.BadPortLines(t0.Add(2*time.Minute), 3)...)
	pipelinetest.Start(t, st, rules, newWatch(t, dir, end))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 5, 10*time.Second)
}

func TestConfigErrors(t *testing.T) {
	cfg := watch.DefaultConfig()
	cfg.StartAt = "middle"
	cfg.Workers = 0
	cfg.Format = "xml"
	_, err := watch.New(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"path: required", "start_at", "workers", "format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
