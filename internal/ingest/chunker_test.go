package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vigil-dev/vigil/internal/decode"
)

// chunks reads every chunk and returns the lines seen, the ends and the
// skipped-line count.
func readChunks(t testing.TB, c *Chunker) (string, []int64, int, error) {
	var all strings.Builder
	var ends []int64
	tooLong := 0
	for {
		ch, err := c.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return all.String(), ends, tooLong, err
		}
		all.Write(ch.Data)
		ends = append(ends, ch.End)
		tooLong += ch.TooLong
	}
}

func TestChunkerWholeLines(t *testing.T) {
	in := "a\nbb\nccc\ndddd\n"
	c := NewChunker(iotest.OneByteReader(strings.NewReader(in)), 100, 0)
	got, ends, _, err := readChunks(t, c)
	if err != nil || got != in {
		t.Fatalf("got %q, %v", got, err)
	}
	if ends[len(ends)-1] != 100+int64(len(in)) {
		t.Errorf("last end %d, want %d", ends[len(ends)-1], 100+len(in))
	}
}

func TestChunkerPartialLine(t *testing.T) {
	for _, keep := range []bool{true, false} {
		c := NewChunker(strings.NewReader("a\nb\nunfinished"), 0, 0)
		c.KeepPartial = keep
		got, _, _, err := readChunks(t, c)
		if err != nil {
			t.Fatal(err)
		}
		want := "a\nb\nunfinished"
		if keep {
			want = "a\nb\n"
		}
		if got != want {
			t.Errorf("KeepPartial %v: got %q, want %q", keep, got, want)
		}
		if keep && c.Offset() != 4 {
			t.Errorf("Offset = %d, want 4 (where the partial line starts)", c.Offset())
		}
	}
}

// TestChunkerLongLine: a line over decode.MaxLineSize is skipped and counted,
// the lines around it are kept, and offsets stay exact.
func TestChunkerLongLine(t *testing.T) {
	long := strings.Repeat("x", decode.MaxLineSize+10)
	in := "first\n" + long + "\nlast\n"
	c := NewChunker(strings.NewReader(in), 0, 4096)
	got, ends, tooLong, err := readChunks(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got != "first\nlast\n" || tooLong != 1 {
		t.Errorf("got %q with %d too long, want first and last lines and 1", got, tooLong)
	}
	if ends[len(ends)-1] != int64(len(in)) {
		t.Errorf("last end %d, want %d", ends[len(ends)-1], len(in))
	}
}

// TestChunkerReadError: lines before an error are returned, a line cut by it
// is not.
func TestChunkerReadError(t *testing.T) {
	boom := errors.New("boom")
	c := NewChunker(io.MultiReader(strings.NewReader("ok\ncut"), iotest.ErrReader(boom)), 0, 0)
	got, _, _, err := readChunks(t, c)
	if got != "ok\n" || !errors.Is(err, boom) {
		t.Errorf("got %q, %v; want the whole line and the error", got, err)
	}
}

// FuzzChunker: whatever the input and chunk size, the chunks and skipped lines
// account for every byte, in order, and each chunk ends where the next begins.
func FuzzChunker(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint16(3))
	f.Add([]byte("no newline"), uint16(1))
	f.Add([]byte("\n\n\n"), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, size uint16) {
		c := NewChunker(bytes.NewReader(in), 7, int(size))
		var got []byte
		last := int64(7)
		for {
			ch, err := c.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.End < last {
				t.Fatalf("end %d before previous %d", ch.End, last)
			}
			if ch.TooLong == 0 && ch.End-last != int64(len(ch.Data)) {
				t.Fatalf("chunk of %d bytes moves the offset by %d", len(ch.Data), ch.End-last)
			}
			got = append(got, ch.Data...)
			last = ch.End
		}
		if last != 7+int64(len(in)) {
			t.Fatalf("ended at %d, want %d", last, 7+len(in))
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("lines %q differ from input %q", got, in)
		}
	})
}
