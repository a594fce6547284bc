package decode

import (
	"bytes"
	"errors"
	"io"
)

// MaxLineSize is the longest line decoders accept. A longer line is skipped (and
// reported) without being held in memory, so a 20 MB line cannot grow buffers.
const MaxLineSize = 1 << 20

// ErrLineTooLong is returned by LineReader.Next for a line over the limit; the
// reader has already skipped past it, so the caller can count it and go on.
// Skipping reads the line through but keeps at most MaxLineSize+2 bytes of it.
var ErrLineTooLong = errors.New("line longer than 1 MiB")

// LineReader splits input into lines without allocating per line. The returned
// slice aliases an internal buffer valid until the next call. Unlike bufio.Scanner
// it survives over-long lines: it reports them and resumes at the next line.
type LineReader struct {
	r    io.Reader
	buf  []byte
	pos  int // start of unread data in buf
	end  int // end of data in buf
	err  error
	line int64
	read int64
}

// NewLineReader returns a LineReader on r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: r, buf: make([]byte, 256<<10)}
}

// Reset makes the reader read from r, keeping its buffer.
func (l *LineReader) Reset(r io.Reader) {
	*l = LineReader{r: r, buf: l.buf}
}

// Line returns the 1-based number of the line last returned.
func (l *LineReader) Line() int64 { return l.line }

// BytesRead returns the bytes consumed so far.
func (l *LineReader) BytesRead() int64 { return l.read }

// maxBuf is the largest buffer: a line of MaxLineSize bytes with its "\r\n".
const maxBuf = MaxLineSize + 2

// maxEmptyReads is how many reads in a row may return no data and no error
// before the reader gives up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// Next returns the next line without its line ending ("\n" or "\r\n"). At the end of
// input it returns io.EOF; on a read error, that error. A final line without a
// newline is returned as a line at the end of input, but not before a read error:
// a line cut short by a truncated stream is not a record. A line longer than
// MaxLineSize is skipped and reported as ErrLineTooLong (Line counts it); the
// next call resumes after it.
func (l *LineReader) Next() ([]byte, error) {
	skipping := false
	empty := 0
	for {
		if i := bytes.IndexByte(l.buf[l.pos:l.end], '\n'); i >= 0 {
			line := trimCR(l.buf[l.pos : l.pos+i])
			l.pos += i + 1
			l.line++
			if skipping || len(line) > MaxLineSize {
				return nil, ErrLineTooLong
			}
			return line, nil
		}
		if l.err != nil {
			if l.err != io.EOF {
				l.pos = l.end
				return nil, l.err
			}
			if l.pos < l.end || skipping {
				line := trimCR(l.buf[l.pos:l.end])
				l.pos = l.end
				l.line++
				if skipping || len(line) > MaxLineSize {
					return nil, ErrLineTooLong
				}
				return line, nil
			}
			return nil, io.EOF
		}
		// No newline in the buffered data: make room and read more.
		if l.pos > 0 {
			n := copy(l.buf, l.buf[l.pos:l.end])
			l.pos, l.end = 0, n
		}
		if l.end == len(l.buf) {
			if len(l.buf) < maxBuf {
				nb := make([]byte, min(2*len(l.buf), maxBuf))
				copy(nb, l.buf[:l.end])
				l.buf = nb
			} else {
				// The line is over the limit: drop what we have and skip to its end.
				skipping = true
				l.pos, l.end = 0, 0
			}
		}
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		l.read += int64(n)
		if err != nil {
			l.err = err
		} else if n == 0 {
			if empty++; empty >= maxEmptyReads {
				l.err = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
