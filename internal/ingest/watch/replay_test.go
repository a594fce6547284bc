package watch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/ingest/watch"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
	"github.com/vigil-dev/vigil/internal/store"
)

// TestGzipReplayPartWay: a gzip file whose last commit ended part-way through
// it — a kill -9 between two of its chunks — is re-read up to there after the
// restart (the replay), and then read on to its end: the rest of its records
// count once, none is lost.
func TestGzipReplayPartWay(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	lines = append(lines, pipelinetest.FlowHeader)
	lines = append(lines, pipelinetest.BadPortLines(t0, 300)...)
	path := filepath.Join(dir, "delivery.log.gz")
	if err := os.WriteFile(path, gz(t, lines...), 0o644); err != nil {
		t.Fatal(err)
	}
	small := func(c *watch.Config) { c.ChunkSize = 4096 }
	// The first run reads it all: its checkpoint names the file.
	first := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "first.db"))
	r := pipelinetest.Start(t, first, pipelinetest.Rules(t), newWatch(t, dir, small))
	pipelinetest.WaitCount(t, first, pipelinetest.BadPortType, 300, 10*time.Second)
	r.Stop(t)
	ctx := context.Background()
	raw, ok, err := first.GetCheckpoint(ctx, "pipeline/serve")
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	// The state a kill leaves after a commit that covered the first 100
	// records: the file's position after their lines, not done; the 100
	// occurrences stored.
	var cp map[string]any
	if err := json.Unmarshal(raw, &cp); err != nil {
		t.Fatal(err)
	}
	streams := cp["streams"].(map[string]any)["flows"].(map[string]any)
	if len(streams) != 1 {
		t.Fatalf("checkpoint streams: %v", streams)
	}
	off := len(strings.Join(lines[:101], "\n")) + 1
	for name, p := range streams {
		var next map[string]any
		b64, err := base64.StdEncoding.DecodeString(p.(map[string]any)["next"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b64, &next); err != nil {
			t.Fatal(err)
		}
		next["o"] = off
		delete(next, "done")
		b, _ := json.Marshal(next)
		streams[name] = map[string]any{"next": b}
	}
	delete(cp, "wm")
	raw, _ = json.Marshal(cp)
	second := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "second.db"))
	if err := second.PutCheckpoint(ctx, store.Checkpoint{Source: "pipeline/serve", Position: raw}); err != nil {
		t.Fatal(err)
	}
	// The 100 committed occurrences are not in this store: the replay's are
	// dropped, so what it counts is the 200 records after the position.
	pipelinetest.Start(t, second, pipelinetest.Rules(t), newWatch(t, dir, small))
	pipelinetest.WaitCount(t, second, pipelinetest.BadPortType, 200, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := pipelinetest.Counts(t, second)[pipelinetest.BadPortType]; n != 200 {
		t.Errorf("after the restart: %d occurrences, want the 200 records after the commit", n)
	}
}
