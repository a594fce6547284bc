package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// crashHelperEnv makes TestCrashHelper run: it names the database the helper
// writes until it is killed.
const crashHelperEnv = "VIGIL_STORE_CRASH_HELPER_DB"

// Each batch of the crash test: every shared identity once, and crashNew new
// findings of its own, with the batch number as the checkpoint.
const (
	crashShared = 10
	crashNew    = 1000
)

func crashBatch(tb testing.TB, synth *storetest.Synth, b int) []finding.Finding {
	fs := make([]finding.Finding, 0, crashShared+crashNew)
	for i := range crashShared {
		fs = append(fs, synth.Finding(i))
	}
	for i := range crashNew {
		fs = append(fs, synth.Finding(1_000_000+b*crashNew+i))
	}
	return fs
}

// TestCrashHelper is the child process of TestCrashSafety: it writes batches
// with checkpoints in a loop, printing each committed batch number, until it is
// killed. It does nothing in a normal test run.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashHelperEnv)
	if path == "" {
		t.Skip("the child process of TestCrashSafety")
	}
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	next := 0
	if pos, ok, err := s.GetCheckpoint(ctx, "crash"); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	} else if ok {
		n, _ := strconv.Atoi(string(pos))
		next = n + 1
	}
	synth := storetest.NewSynth(t)
	for b := next; ; b++ {
		cp := store.Checkpoint{Source: "crash", Position: []byte(strconv.Itoa(b))}
		fmt.Println("writing", b)
		if _, err := s.UpsertWithCheckpoint(ctx, crashBatch(t, synth, b), storetest.Base+finding.Time(b), cp); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("committed", b)
	}
}

// TestCrashSafety kills (SIGKILL) a process writing to the store at random
// moments — during migrations, mid-batch, mid-checkpoint — and checks after each
// kill that the database opens at the latest schema, passes integrity_check,
// and holds exactly the batches up to its checkpoint: no partial batch, no lost
// commit, every count at least 1.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; not in -short")
	}
	path := filepath.Join(t.TempDir(), "vigil.db")
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	committed := -1 // the last batch a child reported committed
	midBatches := 0 // kills that hit a batch being written
	for round := range 5 {
		// The first kill comes early (often during Open and its migrations),
		// later ones after a few commits, at a random point of a batch.
		var delay time.Duration
		if round == 0 {
			delay = time.Duration(r.IntN(30)) * time.Millisecond
		} else {
			delay = time.Duration(50+r.IntN(400)) * time.Millisecond
		}
		last, midBatch := runAndKill(t, path, delay, round > 0)
		committed = max(committed, last)
		if midBatch {
			midBatches++
		}

		s, err := Open(context.Background(), Config{Path: path})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		if v := schemaVersion(t, s.w); v != len(ms) {
			t.Errorf("round %d: schema version %d, want %d", round, v, len(ms))
		}
		var check string
		if err := s.w.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check: %q %v", round, check, err)
		}
		b := -1
		if pos, ok, err := s.GetCheckpoint(context.Background(), "crash"); err != nil {
			t.Fatal(err)
		} else if ok {
			b, _ = strconv.Atoi(string(pos))
		}
		// Every commit the child reported survived; at most one more (committed,
		// killed before it could say so).
		if b < committed || b > committed+1 {
			t.Fatalf("round %d: checkpoint at batch %d, child reported %d committed", round, b, committed)
		}
		committed = b
		var total, bad int64
		if err := s.w.QueryRow("SELECT count(*), coalesce(sum(count < 1), 0) FROM findings").Scan(&total, &bad); err != nil {
			t.Fatal(err)
		}
		if want := int64((b + 1) * crashNew); b >= 0 {
			want += crashShared
			if total != want {
				t.Errorf("round %d: %d findings after %d batches, want %d: a partial batch", round, total, b+1, want)
			}
		} else if total != 0 {
			t.Errorf("round %d: %d findings without a checkpoint", round, total)
		}
		if bad != 0 {
			t.Errorf("round %d: %d findings with count < 1", round, bad)
		}
		if b >= 0 {
			fs, err := s.Get(context.Background(), []string{fmt.Sprintf("%032x", 0), fmt.Sprintf("%032x", crashShared-1)})
			if err != nil || len(fs) != 2 {
				t.Fatalf("round %d: shared findings: %v", round, err)
			}
			for _, f := range fs {
				if f.Service.Count != int64(b+1) {
					t.Errorf("round %d: shared finding count %d after %d batches", round, f.Service.Count, b+1)
				}
			}
		}
		t.Logf("round %d: killed %s in (mid-batch: %v); reopened: schema v%d, integrity ok, checkpoint at batch %d, %d findings, none partial",
			round, delay, midBatch, len(ms), b, total)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if committed < 2 || midBatches == 0 {
		t.Errorf("%d batches committed, %d kills mid-batch: the kills tested too little", committed+1, midBatches)
	}
}

// runAndKill starts the helper on path, kills it with SIGKILL delay after its
// first commit (or after start, when waitCommit is false), and returns the last
// batch it reported committed (-1 for none) and whether it was writing one when
// killed.
func runAndKill(t *testing.T, path string, delay time.Duration, waitCommit bool) (int, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var last, writing atomic.Int64
	last.Store(-1)
	writing.Store(-1)
	first := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "writing "); ok {
				b, _ := strconv.Atoi(n)
				writing.Store(int64(b))
			} else if n, ok := strings.CutPrefix(line, "committed "); ok {
				b, _ := strconv.Atoi(n)
				last.Store(int64(b))
				if !once {
					once = true
					close(first)
				}
			} else if strings.HasPrefix(line, "error") {
				lines <- line
			}
		}
	}()
	if waitCommit {
		select {
		case <-first:
		case line := <-lines:
			t.Fatalf("helper: %s", line)
		case <-time.After(60 * time.Second):
			t.Fatal("helper committed nothing in 60 s")
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// What the child had said when the signal went (it may have said more
	// since, which only makes "mid-batch" an underestimate).
	midBatch := writing.Load() > last.Load()
	_ = cmd.Wait()
	for line := range lines {
		t.Fatalf("helper: %s", line)
	}
	return int(last.Load()), midBatch
}
