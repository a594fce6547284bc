package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// A large uncompressed file is the one input that cannot keep two cores busy as a
// whole, so the Reader splits it into parts at line boundaries and decodes the parts
// in parallel. Gzip files are never split: their bytes cannot be entered midway.

// DefaultSplitSize is the part size used when Config.SplitSize is 0.
const DefaultSplitSize = 64 << 20

// DetectSplitSize is the part size for detection, whose ordered engine sends a
// part's records to the detections only when the parts before it are done
// (detect.Config.Ordered): with small parts a worker ahead of the turn holds
// little (a 1 MiB flow-log part is about 9,000 records), and the workers
// still decode side by side.
const DetectSplitSize = 1 << 20

// part is a byte range of a file whose lines are decoded as one input.
type part struct {
	path       string
	start, end int64       // nominal range; the part reads whole lines starting in it
	header     []byte      // the file's first line, for parts after the first
	file       *splitState // shared by the file's parts
}

// splitFile returns the parts of a plain local file larger than size, or nil
// when it should be read whole (small, compressed, not a regular file).
func splitFile(o Object, size int64) ([]part, error) {
	if size <= 0 || o.Size <= size || o.Name == "-" || len(o.Name) > 5 && o.Name[:5] == "s3://" {
		return nil, nil
	}
	f, err := os.Open(o.Name)
	if err != nil {
		return nil, nil // the Reader reports it when it opens the object
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(2)
	if bytes.Equal(head, gzipMagic) {
		return nil, nil
	}
	first, err := br.ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil // a first line over 64 KiB: not a log we can split safely
	}
	header := bytes.TrimRight(first, "\r\n")
	var parts []part
	file := new(splitState)
	for start := int64(0); start < o.Size; start += size {
		p := part{path: o.Name, start: start, end: min(start+size, o.Size), file: file}
		file.left.Add(1)
		if start > 0 {
			p.header = header
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// object returns the part as an Object whose bytes are the whole lines that start
// in [start, end).
func (p part) object() Object {
	name := p.path
	if p.start > 0 {
		name = fmt.Sprintf("%s (from byte %d)", p.path, p.start)
	}
	o := NewObject(name, p.end-p.start, func(context.Context) (io.ReadCloser, error) {
		f, err := os.Open(p.path)
		if err != nil {
			return nil, unwrapPathError(err)
		}
		r, err := newLineRange(f, p.start, p.end)
		if err != nil {
			f.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{r, f}, nil
	})
	o.header, o.file = p.header, p.file
	return o
}

// newLineRange returns a reader of the lines of f that start in [start, end): a
// part after the first skips the line it begins inside (the previous part reads
// it), and every part reads past end to finish its last line.
func newLineRange(f *os.File, start, end int64) (io.Reader, error) {
	pos := start
	if start > 0 {
		// The line at start is this part's only if a newline ends at start-1.
		if _, err := f.Seek(start-1, io.SeekStart); err != nil {
			return nil, err
		}
		br := bufio.NewReaderSize(f, 4096)
		pos = start - 1
		for {
			chunk, err := br.ReadSlice('\n')
			pos += int64(len(chunk))
			if err == nil || errors.Is(err, io.EOF) {
				break
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				return nil, err
			}
		}
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			return nil, err
		}
	}
	if pos >= end {
		return bytes.NewReader(nil), nil
	}
	return &lineRange{r: bufio.NewReaderSize(f, int(min(256<<10, end-pos+4096))), left: end - pos}, nil
}

// lineRange reads left bytes, then on to the end of the line it stopped in.
type lineRange struct {
	r       *bufio.Reader
	left    int64  // bytes before the nominal end
	tail    bool   // past the nominal end, finishing the last line
	done    bool   // nothing more to read once pending is out
	pending []byte // the part of a tail line that did not fit the caller's buffer
}

func (l *lineRange) Read(p []byte) (int, error) {
	if len(l.pending) > 0 {
		n := copy(p, l.pending)
		l.pending = l.pending[n:]
		return n, nil
	}
	if l.done {
		return 0, io.EOF
	}
	if !l.tail {
		if int64(len(p)) > l.left {
			p = p[:l.left]
		}
		n, err := l.r.Read(p)
		l.left -= int64(n)
		if l.left == 0 {
			l.tail = true
			l.done = n > 0 && p[n-1] == '\n'
		}
		if errors.Is(err, io.EOF) {
			l.done = true
			err = nil
		}
		return n, err
	}
	line, err := l.r.ReadSlice('\n')
	n := copy(p, line)
	l.pending = append(l.pending[:0], line[n:]...)
	switch {
	case err == nil || errors.Is(err, io.EOF):
		l.done = true
	case errors.Is(err, bufio.ErrBufferFull):
	default:
		return n, err
	}
	return n, nil
}
