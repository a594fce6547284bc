package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
)

// TestSplitReadsEveryLineOnce splits files at every awkward place (inside a line,
// right after a newline, inside a long line, at the end) and checks that the parts
// together give every line exactly once, in order.
func TestSplitReadsEveryLineOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("version account-id\n")
	for i := range 500 {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", i%37))
		if i == 250 {
			b.WriteString(strings.Repeat("L", 200000) + "\n") // longer than a part
		}
	}
	content := b.String()
	for _, noFinalNewline := range []bool{false, true} {
		text := content
		if noFinalNewline {
			text = strings.TrimSuffix(text, "\n")
		}
		path := filepath.Join(t.TempDir(), "flows.log")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int64{19, 20, 21, 997, 4096, 65536, int64(len(text)) - 1} {
			parts, err := splitFile(NewObject(path, int64(len(text)), nil), size)
			if err != nil || len(parts) < 2 || len(parts) > len(text)/int(size)+1 {
				t.Fatalf("size %d: %d parts, %v", size, len(parts), err)
			}
			var got bytes.Buffer
			for i, p := range parts {
				if i > 0 && string(p.header) != "version account-id" {
					t.Fatalf("size %d part %d: header %q", size, i, p.header)
				}
				rc, err := p.object().Open(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// Small reads exercise the buffering of the tail line.
				data, err := io.ReadAll(smallReads{rc, 13})
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				got.Write(data)
			}
			if got.String() != text {
				t.Fatalf("size %d (final newline %v): parts give %d bytes, want %d", size, !noFinalNewline, got.Len(), len(text))
			}
		}
	}
}

func TestSplitLeavesSmallAndGzipFilesWhole(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.log")
	os.WriteFile(small, []byte("a\nb\n"), 0o644)
	gz := filepath.Join(dir, "big.log.gz")
	os.WriteFile(gz, append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte("z\n"), 100)...), 0o644)
	for _, o := range []Object{NewObject(small, 4, nil), NewObject(gz, 202, nil), NewObject("-", -1, nil)} {
		if parts, _ := splitFile(o, 10); parts != nil {
			t.Errorf("%s was split into %d parts", o.Name, len(parts))
		}
	}
}

// smallReads reads at most n bytes per call.
type smallReads struct {
	r io.Reader
	n int
}

func (s smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

// lineCount is a decoder that counts lines as records.
type lineCount struct{}

func (lineCount) Decode(_ context.Context, _ decode.Input, r io.Reader, _ func(*decode.Batch) error, _ func(decode.Problem)) (decode.Stats, error) {
	lr := decode.NewLineReader(r)
	var st decode.Stats
	for {
		if _, err := lr.Next(); err != nil {
			st.Bytes = lr.BytesRead()
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, err
		}
		st.Records++
	}
}

// TestSplitFileCountsOnce: a file read in parts is one file in the result and
// the counters, as the user named it, and every line is read.
func TestSplitFileCountsOnce(t *testing.T) {
	dir := t.TempDir()
	var big strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&big, "line %d\n", i)
	}
	for name, text := range map[string]string{"big.log": big.String(), "small.log": "one\ntwo\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := New(Config{Workers: 2, SplitSize: 1000}, func() decode.Decoder { return lineCount{} })
	res, err := r.Read(context.Background(), []string{dir}, func(int, *decode.Batch) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 2 || res.Records != 1002 {
		t.Errorf("result: %d files, %d records; want 2 files, 1002 records", res.Objects, res.Records)
	}
	if got, planned := r.Counters.Objects.Load(), r.Counters.ObjectsPlanned.Load(); got != 2 || planned != 2 {
		t.Errorf("counters: %d of %d files; want 2 of 2", got, planned)
	}
}

// TestSplitFileOutcomes: the parts of a split file finish the file once, at
// the last, and fail it once, at the first; a whole object does both alone.
func TestSplitFileOutcomes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.log")
	text := strings.Repeat("a line of text\n", 100)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	parts, err := splitFile(NewObject(path, int64(len(text)), nil), 300)
	if err != nil || len(parts) < 3 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	var finished, failed []int
	for i, p := range parts {
		o := p.object()
		if o.firstFailure() {
			failed = append(failed, i)
		}
		if o.finished() {
			finished = append(finished, i)
		}
	}
	if len(failed) != 1 || failed[0] != 0 || len(finished) != 1 || finished[0] != len(parts)-1 {
		t.Errorf("first failure at parts %v, finished at %v; want [0] and [%d]", failed, finished, len(parts)-1)
	}
	whole := NewObject(path, int64(len(text)), nil)
	for range 2 { // every time: nothing is shared
		if !whole.firstFailure() || !whole.finished() {
			t.Error("a whole object is its own file")
		}
	}
}

// seqRecorder is a decoder that notes the Seq of every input it reads and
// emits one empty batch for it.
type seqRecorder struct {
	mu   *sync.Mutex
	seen map[int]string
}

func (s seqRecorder) Decode(_ context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, _ func(decode.Problem)) (decode.Stats, error) {
	n, err := io.Copy(io.Discard, r)
	s.mu.Lock()
	s.seen[in.Seq] = in.Name
	s.mu.Unlock()
	if err != nil {
		return decode.Stats{Bytes: n}, err
	}
	return decode.Stats{Bytes: n}, emit(&decode.Batch{Input: &in})
}

// TestSeqAndDone: every object and part read gets its place in the list as
// Input.Seq (a split file's parts one after another), and Done is called once
// for each, after its batches.
func TestSeqAndDone(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"a.log": strings.Repeat("a line of text\n", 100), "b.log": "one\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int]string{}
	var done []int
	emitted := map[int]bool{}
	cfg := Config{Workers: 3, SplitSize: 300, Done: func(seq int) {
		mu.Lock()
		defer mu.Unlock()
		if !emitted[seq] {
			t.Errorf("Done(%d) before its batch", seq)
		}
		done = append(done, seq)
	}}
	r := New(cfg, func() decode.Decoder { return seqRecorder{&mu, seen} })
	emit := func(_ int, b *decode.Batch) error {
		mu.Lock()
		emitted[b.Input.Seq] = true
		mu.Unlock()
		return nil
	}
	if _, err := r.Read(context.Background(), []string{dir}, emit, nil); err != nil {
		t.Fatal(err)
	}
	slices.Sort(done)
	if len(done) < 4 || len(done) != len(seen) {
		t.Fatalf("Done for %v, inputs seen %v", done, seen)
	}
	for i, seq := range done {
		if seq != i {
			t.Fatalf("Done for %v: want each of 0…%d once", done, len(done)-1)
		}
	}
	if seen[len(seen)-1] != filepath.Join(dir, "b.log") {
		t.Errorf("inputs by Seq %v: b.log, listed after a.log's parts, should be last", seen)
	}
	for i := range len(seen) - 1 {
		want := filepath.Join(dir, "a.log")
		if i > 0 {
			want += fmt.Sprintf(" (from byte %d)", 300*i)
		}
		if seen[i] != want {
			t.Errorf("inputs by Seq %v: a.log's parts should come first, in file order", seen)
		}
	}
}

// TestTimeOrder: with TimeOrder, objects are read in the order of the times
// in their keys, across accounts and log types; objects without one come
// first, and a split file's parts stay together in file order.
func TestTimeOrder(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"AWSLogs/111/vpcflowlogs/us-east-1/2026/11/01/111_vpcflowlogs_us-east-1_fl-1_20261101T0010Z_a.log",
		"AWSLogs/111/vpcflowlogs/us-east-1/2026/11/01/111_vpcflowlogs_us-east-1_fl-1_20261101T0000Z_a.log",
		"AWSLogs/111/CloudTrail/us-east-1/2026/11/01/111_CloudTrail_us-east-1_20261101T0005Z_b.json",
		"AWSLogs/222/vpcflowlogs/us-east-1/2026/11/01/222_vpcflowlogs_us-east-1_fl-2_20261101T0000Z_c.log",
		"AWSLogs/222/vpcflowlogs/us-east-1/2026/11/01/222_vpcflowlogs_us-east-1_fl-2_20261101T0005Z_c.log",
		"flat.log",
	}
	for _, name := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		text := "one line\n"
		if name == "flat.log" {
			text = strings.Repeat("a line of text\n", 100)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(timeOrder bool) []string {
		var mu sync.Mutex
		seen := map[int]string{}
		r := New(Config{Workers: 2, SplitSize: 300, TimeOrder: timeOrder}, func() decode.Decoder { return seqRecorder{&mu, seen} })
		if _, err := r.Read(context.Background(), []string{dir}, func(int, *decode.Batch) error { return nil }, nil); err != nil {
			t.Fatal(err)
		}
		var names []string
		for i := range len(seen) {
			names = append(names, strings.TrimPrefix(seen[i], dir+"/"))
		}
		return names
	}
	got := read(true)
	want := []string{"flat.log", "flat.log (from byte 300)", "flat.log (from byte 600)", "flat.log (from byte 900)", "flat.log (from byte 1200)",
		files[1], files[3], files[2], files[4], files[0]}
	if !slices.Equal(got, want) {
		t.Errorf("time order:\n got %q\nwant %q", got, want)
	}
	if listed := read(false); slices.Equal(listed, want) {
		t.Errorf("listing order is already the time order: the test shows nothing")
	}
}
