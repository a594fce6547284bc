package stdin_test

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/ingest/stdin"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
)

// TestPipe: lines written to the pipe in pieces are read as they come (a
// flow log's header, then records split across writes), bad lines counted.
func TestPipe(t *testing.T) {
	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	pr, pw := io.Pipe()
	defer pw.Close()
	src, err := stdin.New(stdin.DefaultConfig(), pr)
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.Start(t, st, pipelinetest.Rules(t), pipeline.NamedSource{Name: "pipe", Source: src})
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	fmt.Fprintln(pw, pipelinetest.FlowHeader)
	lines := pipelinetest.BadPortLines(t0, 4)
	fmt.Fprintln(pw, strings.Join(lines[:2], "\n"))
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 2, 10*time.Second)
	whole := strings.Join(lines[2:], "\n") + "\n"
	io.WriteString(pw, whole[:30])
	time.Sleep(100 * time.Millisecond)
	io.WriteString(pw, whole[30:])
	pipelinetest.WaitCount(t, st, pipelinetest.BadPortType, 4, 10*time.Second)
}

func TestConfigErrors(t *testing.T) {
	cfg := stdin.DefaultConfig()
	cfg.Format = "yaml"
	if _, err := stdin.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("error %v does not name format", err)
	}
}
