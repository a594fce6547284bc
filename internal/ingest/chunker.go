package ingest

import (
	"bytes"
	"errors"
	"io"

	"github.com/vigil-dev/vigil/internal/decode"
)

// DefaultChunkSize is the chunk size of continuous sources: whole lines, up to
// this many bytes, are decoded and committed as one unit.
const DefaultChunkSize = 1 << 20

// Chunk is a run of whole lines of a stream.
type Chunk struct {
	// Data holds the lines, each ending in "\n" (but for the last line of an
	// input read with KeepPartial false). It aliases the Chunker's buffer and is
	// valid until the next call to Next.
	Data []byte
	// End is the stream offset just after Data (after a skipped line, for
	// TooLong chunks): the position to resume after this chunk.
	End int64
	// TooLong counts lines skipped for being longer than decode.MaxLineSize;
	// such a chunk carries no Data.
	TooLong int
}

// Chunker cuts a byte stream into chunks of whole lines, so that the offset after
// each chunk is exact and a restart resumes on a line boundary. Memory is one
// buffer of max(size, decode.MaxLineSize+2) bytes: a longer line is skipped
// (counted in Chunk.TooLong), never held.
type Chunker struct {
	r     io.Reader
	buf   []byte
	start int   // unread data is buf[start:n]
	n     int   //
	off   int64 // stream offset of buf[start]
	eof   bool
	err   error
	skip  bool // inside a line too long to keep
	size  int  // the most bytes of whole lines a chunk holds (unless one line is longer)
	// KeepPartial leaves a last line without "\n" unread at the end of input
	// (a file still being written) instead of returning it as a line.
	KeepPartial bool
}

// NewChunker returns a Chunker reading r, whose first byte is at stream offset
// off, in chunks of at most size bytes (0 means DefaultChunkSize).
func NewChunker(r io.Reader, off int64, size int) *Chunker {
	if size <= 0 {
		size = DefaultChunkSize
	}
	return &Chunker{r: r, buf: make([]byte, max(size, decode.MaxLineSize+2)), off: off, size: size}
}

// Reset makes the chunker read r from offset off, keeping its buffer.
func (c *Chunker) Reset(r io.Reader, off int64) {
	*c = Chunker{r: r, buf: c.buf, off: off, size: c.size, KeepPartial: c.KeepPartial}
}

// Offset returns the stream offset of the first byte not yet returned.
func (c *Chunker) Offset() int64 { return c.off }

// read compacts the buffer and reads once: a pipe returns what it has, so a
// chunk does not wait for the buffer to fill.
func (c *Chunker) read() {
	if c.start > 0 {
		copy(c.buf, c.buf[c.start:c.n])
		c.n -= c.start
		c.start = 0
	}
	for empty := 0; ; empty++ {
		k, err := c.r.Read(c.buf[c.n:])
		c.n += k
		switch {
		case errors.Is(err, io.EOF):
			c.eof = true
		case err != nil:
			c.err = err
		case k == 0 && empty < 100:
			continue
		case k == 0:
			c.err = io.ErrNoProgress
		}
		return
	}
}

// Next returns the next chunk. At the end of input it returns io.EOF (with
// KeepPartial, a last line without "\n" stays unread: Offset is where it
// starts); a read error is returned once the lines before it are out.
func (c *Chunker) Next() (Chunk, error) {
	for {
		data := c.buf[c.start:c.n]
		if c.skip {
			i := bytes.IndexByte(data, '\n')
			if i >= 0 {
				c.skip = false
				c.start += i + 1
				c.off += int64(i + 1)
				return Chunk{End: c.off, TooLong: 1}, nil
			}
			c.off += int64(len(data))
			c.start = c.n
			if c.err != nil {
				return Chunk{}, c.err
			}
			if c.eof {
				c.skip = false
				return Chunk{End: c.off, TooLong: 1}, nil
			}
			c.read()
			continue
		}
		i := bytes.LastIndexByte(data[:min(len(data), c.size)], '\n')
		if i < 0 {
			i = bytes.IndexByte(data, '\n') // one line longer than size
		}
		if i >= 0 {
			c.start += i + 1
			c.off += int64(i + 1)
			return Chunk{Data: data[:i+1], End: c.off}, nil
		}
		switch {
		case len(data) == len(c.buf):
			c.skip = true // a line longer than any decoder takes
			continue
		case c.err != nil:
			return Chunk{}, c.err // a line cut short by an error is not a record
		case c.eof && (c.KeepPartial || len(data) == 0):
			return Chunk{}, io.EOF
		case c.eof:
			c.start = c.n
			c.off += int64(len(data))
			return Chunk{Data: data, End: c.off}, nil
		}
		c.read()
	}
}
