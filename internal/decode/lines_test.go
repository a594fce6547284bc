package decode

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// line is what one Next call gave: a line, or an error, with Line().
type line struct {
	text string
	err  error
	no   int64
}

func readAll(t *testing.T, r io.Reader) []line {
	t.Helper()
	lr := NewLineReader(r)
	var got []line
	for range 1000 {
		b, err := lr.Next()
		if err == io.EOF {
			return got
		}
		got = append(got, line{string(b), err, lr.Line()})
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			return got
		}
	}
	t.Fatal("no io.EOF after 1000 lines")
	return nil
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxLineSize+1)
	exact := strings.Repeat("y", MaxLineSize)
	tests := []struct {
		name string
		in   string
		want []line
	}{
		{"empty", "", nil},
		{"one line", "a\n", []line{{"a", nil, 1}}},
		{"no final newline", "a\nb", []line{{"a", nil, 1}, {"b", nil, 2}}},
		{"crlf", "a\r\nb\r\n", []line{{"a", nil, 1}, {"b", nil, 2}}},
		{"bare cr kept inside", "a\rb\n", []line{{"a\rb", nil, 1}}},
		{"empty lines", "\n\na\n", []line{{"", nil, 1}, {"", nil, 2}, {"a", nil, 3}}},
		{"long line between good ones", "a\n" + long + "\nb\n", []line{{"a", nil, 1}, {"", ErrLineTooLong, 2}, {"b", nil, 3}}},
		{"long line at end without newline", "a\n" + long, []line{{"a", nil, 1}, {"", ErrLineTooLong, 2}}},
		{"long line first", long + "\nb", []line{{"", ErrLineTooLong, 1}, {"b", nil, 2}}},
		{"line of exactly MaxLineSize", exact + "\n" + exact + "\r\nz", []line{{exact, nil, 1}, {exact, nil, 2}, {"z", nil, 3}}},
		{"exact at end", exact, []line{{exact, nil, 1}}},
		{"two long lines", long + "\n" + long + "\nc\n", []line{{"", ErrLineTooLong, 1}, {"", ErrLineTooLong, 2}, {"c", nil, 3}}},
	}
	for _, tt := range tests {
		for _, wrap := range []struct {
			name string
			f    func(io.Reader) io.Reader
		}{
			{"plain", func(r io.Reader) io.Reader { return r }},
			{"onebyte", iotest.OneByteReader},
			{"dataerr", iotest.DataErrReader},
			{"half", iotest.HalfReader},
		} {
			if wrap.name == "onebyte" && len(tt.in) > 1<<16 {
				continue // correct but slow
			}
			t.Run(tt.name+"/"+wrap.name, func(t *testing.T) {
				got := readAll(t, wrap.f(strings.NewReader(tt.in)))
				if len(got) != len(tt.want) {
					t.Fatalf("got %d lines, want %d: %v", len(got), len(tt.want), short(got))
				}
				for i := range got {
					if got[i].text != tt.want[i].text || !errors.Is(got[i].err, tt.want[i].err) || got[i].no != tt.want[i].no {
						t.Errorf("line %d: got %v, want %v", i, short(got[i:i+1]), short(tt.want[i:i+1]))
					}
				}
			})
		}
	}
}

func short(ls []line) []line {
	out := make([]line, len(ls))
	for i, l := range ls {
		if len(l.text) > 20 {
			l.text = l.text[:20] + "…"
		}
		out[i] = l
	}
	return out
}

// A 20 MB line costs no more than the buffer: the reader skips it in place.
func TestLineReaderHugeLineBoundedMemory(t *testing.T) {
	huge := io.MultiReader(strings.NewReader("first\n"), io.LimitReader(repeatByte('z'), 20<<20), strings.NewReader("\nlast\n"))
	lr := NewLineReader(huge)
	b, err := lr.Next()
	if string(b) != "first" || err != nil {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := lr.Next(); !errors.Is(err, ErrLineTooLong) || lr.Line() != 2 {
		t.Fatalf("got %v at line %d, want ErrLineTooLong at 2", err, lr.Line())
	}
	if b, err := lr.Next(); string(b) != "last" || err != nil || lr.Line() != 3 {
		t.Fatalf("got %q, %v at line %d", b, err, lr.Line())
	}
	if len(lr.buf) > maxBuf {
		t.Errorf("buffer grew to %d bytes, limit %d", len(lr.buf), maxBuf)
	}
	if want := int64(len("first\n") + 20<<20 + len("\nlast\n")); lr.BytesRead() != want {
		t.Errorf("BytesRead = %d, want %d", lr.BytesRead(), want)
	}
}

type repeatByte byte

func (r repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// A read error ends the input; the partial line before it is not returned, as it
// may be a record cut short (a truncated gzip member).
func TestLineReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\nparti"), iotest.ErrReader(boom)))
	if b, err := lr.Next(); string(b) != "a" || err != nil {
		t.Fatalf("got %q, %v", b, err)
	}
	for range 2 { // and again: the error sticks
		if b, err := lr.Next(); !errors.Is(err, boom) || b != nil {
			t.Fatalf("got %q, %v; want boom", b, err)
		}
	}
}

type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestLineReaderNoProgress(t *testing.T) {
	lr := NewLineReader(stuckReader{})
	if _, err := lr.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

func TestLineReaderReset(t *testing.T) {
	lr := NewLineReader(strings.NewReader("a\nb\n"))
	lr.Next()
	lr.Reset(strings.NewReader("c\n"))
	b, err := lr.Next()
	if string(b) != "c" || err != nil || lr.Line() != 1 || lr.BytesRead() != 2 {
		t.Fatalf("after Reset: %q, %v, line %d, read %d", b, err, lr.Line(), lr.BytesRead())
	}
}

func BenchmarkLineReader(b *testing.B) {
	data := bytes.Repeat([]byte("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"), 10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	r := bytes.NewReader(data)
	lr := NewLineReader(r)
	for b.Loop() {
		r.Reset(data)
		lr.Reset(r)
		for {
			if _, err := lr.Next(); err != nil {
				break
			}
		}
	}
}
