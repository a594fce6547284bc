package watch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
)

// maxChunksPerTurn bounds how much of one file a worker reads before giving
// other files their turn.
const maxChunksPerTurn = 16

// gzipGiveUp is how long a gzip file that ends early must stay unchanged
// before it is taken as truncated for good (reported, and not waited for).
const gzipGiveUp = 5 * time.Minute

// closeIdle is how long a tailed file may stay unchanged before its
// descriptor is closed (it is reopened by name when it changes).
const closeIdle = 5 * time.Minute

// reader is one worker: it owns a lane, decoders and a chunk buffer.
type reader struct {
	w    *watcher
	lane ingest.Lane
	decs map[auto.Format]decode.Decoder
	ch   *ingest.Chunker
}

func (r *reader) run(ctx context.Context) {
	r.ch = ingest.NewChunker(nil, 0, r.w.s.cfg.ChunkSize)
	for f := range r.w.work {
		f.err = r.read(ctx, f)
		r.w.back <- f
	}
}

// decoder returns the worker's decoder for a format.
func (r *reader) decoder(f auto.Format) decode.Decoder {
	d := r.decs[f]
	if d == nil {
		cfg := r.w.s.dec
		cfg.Format = f
		d = auto.New(cfg)
		r.decs[f] = d
	}
	return d
}

// position returns f's position at content offset off.
func (f *file) position(off int64, done bool) []byte {
	return pos{Path: f.path, Dev: f.dev, Ino: f.ino, Off: off, FP: f.fp, FPN: f.fpn, Done: done}.encode()
}

// read reads what f has to offer now. Only an error from the pipeline is
// returned; problems with the file are reported and the file waits.
func (r *reader) read(ctx context.Context, f *file) error {
	if f.replayTo > f.off {
		// A replay that cannot progress (the file is unreadable) is given up,
		// so that it does not hold every source back.
		before := f.off
		defer func() {
			if f.replayTo > f.off && f.off == before && f.err == nil {
				r.w.sink.Report(decode.Problem{Input: f.path, Reason: "lost input", Detail: "could not re-read the file to rebuild detection state"})
				f.replayTo = 0
			}
		}()
	}
	if f.mode == modeUnknown {
		if err := r.decide(f); err != nil {
			r.w.sink.Report(decode.Problem{Input: f.path, Reason: "unreadable input", Detail: err.Error()})
			return nil
		}
		if f.mode == modeUnknown {
			return nil
		}
	}
	if f.skipToEnd {
		return r.skipToEnd(f)
	}
	switch {
	case f.mode == modeDocument:
		return r.readDocument(f)
	case f.gz:
		return r.readGzipLines(ctx, f)
	}
	return r.tail(ctx, f)
}

// open returns f's descriptor, opening it by name if need be; the file at the
// name must still be f.
func (r *reader) open(f *file) (*os.File, error) {
	if f.f != nil {
		return f.f, nil
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if dev, ino := identity(fi); dev != f.dev || ino != f.ino {
		fh.Close()
		return nil, fmt.Errorf("open %s: another file took its place", f.path)
	}
	f.f = fh
	return fh, nil
}

// decide reads f's first bytes to choose how to read it: gzip or plain, a
// line format or a document format. It leaves f.mode unknown while the file
// is too short to tell.
func (r *reader) decide(f *file) error {
	fh, err := r.open(f)
	if err != nil {
		return err
	}
	head := make([]byte, auto.SniffSize)
	n, err := fh.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	head = head[:n]
	fi, _ := fh.Stat()
	settled := fi != nil && r.w.s.now().Sub(f.changed) >= r.w.s.cfg.Settle
	f.gz = len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
	if !f.gz && !bytes.Contains(head, []byte{'\n'}) && n < len(head) && !settled {
		return nil // not one whole line yet
	}
	if f.fpn == 0 {
		f.fp, f.fpn = fingerprint(f.path, fpSize)
	}
	format := r.w.s.dec.Format
	if format == auto.Auto {
		format = auto.Detect(head, f.path)
		if format == auto.Unknown && f.gz && !settled {
			return nil // the gzip head may be too short to tell yet
		}
	}
	f.format = format
	f.mode = modeDocument
	if format == auto.VPCFlow || format == auto.DNSLog {
		f.mode = modeLines
		first := head
		if f.gz {
			first = gunzipHead(head)
		}
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			f.header = bytes.Clone(bytes.TrimRight(first[:i], "\r"))
		}
	}
	if f.mode == modeDocument || f.gz {
		// Read once, by name: no descriptor kept.
		f.f.Close()
		f.f = nil
	}
	if f.off == 0 {
		f.lineKnown = true
	}
	return nil
}

// skipToEnd records the end of a file present at the very first start with
// start_at: end, without reading it.
func (r *reader) skipToEnd(f *file) error {
	f.skipToEnd = false
	off, done := f.size, true
	if f.mode == modeLines && !f.gz {
		off, done = lastLineEnd(f), false
	}
	f.off, f.done, f.readSize = off, done, f.size
	return r.lane.Chunk(f.key, f.position(off, done), func(context.Context, func(*decode.Batch) error, func(decode.Problem)) (decode.Stats, error) {
		return decode.Stats{}, nil
	})
}

// lastLineEnd returns the offset after f's last "\n".
func lastLineEnd(f *file) int64 {
	fh := f.f
	if fh == nil {
		return 0
	}
	end := f.size
	buf := make([]byte, 64<<10)
	for end > 0 {
		start := max(0, end-int64(len(buf)))
		n, err := fh.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1
		}
		end = start
	}
	return 0
}

// tail reads the whole lines appended to a plain file since the last read.
func (r *reader) tail(ctx context.Context, f *file) error {
	fh, err := r.open(f)
	if err != nil {
		r.w.sink.Report(decode.Problem{Input: f.path, Reason: "unreadable input", Detail: err.Error()})
		f.readSize = f.size
		return nil
	}
	fi, err := fh.Stat()
	if err != nil {
		return nil
	}
	size := fi.Size()
	if size < f.off {
		// Truncated in place (copytruncate): what is there now is new.
		r.w.sink.Report(decode.Problem{Input: f.path, Reason: "truncated", Detail: fmt.Sprintf("the file shrank from %d to %d bytes; reading it again from its start", f.off, size)})
		f.off, f.line, f.lineKnown, f.replayTo = 0, 0, true, 0
		f.fp, f.fpn = fingerprint(f.path, fpSize)
	}
	if f.fpn < fpSize && size > int64(f.fpn) && f.off == 0 {
		f.fp, f.fpn = fingerprint(f.path, fpSize)
	}
	limit := size
	replaying := f.replayTo > f.off
	if replaying {
		limit = min(limit, f.replayTo)
	}
	settled := r.w.s.now().Sub(f.changed) >= r.w.s.cfg.Settle
	r.ch.Reset(io.NewSectionReader(fh, f.off, limit-f.off), f.off)
	r.ch.KeepPartial = !settled && !replaying
	more := true // stopped by the turn's bound rather than the end
	turn := maxChunksPerTurn
	if f.replayTurn {
		turn = 1
	}
	for range turn {
		c, err := r.ch.Next()
		if errors.Is(err, io.EOF) {
			more = false
			break
		}
		if err != nil {
			r.w.sink.Report(decode.Problem{Input: f.path, Reason: "unreadable input", Detail: err.Error()})
			more = false
			break
		}
		if err := r.chunk(f, c, f.position(c.End, false)); err != nil {
			return err
		}
	}
	if replaying && f.off >= f.replayTo {
		f.replayTo = 0
	}
	// Not read to its end — a turn's bound, a replay that stopped where the
	// last commit did, a line not whole yet: detection waits for the rest
	// (Sink.Pending).
	r.w.sink.Pending(f.key, f.off < size)
	f.readSize = size
	if more || replaying {
		// More than a turn's worth, or a replay that stopped where the last
		// commit ended, before what was appended since: come back at once.
		f.readSize = -1
	}
	if !f.present.Load() || f.f != nil && r.w.s.now().Sub(f.changed) > closeIdle {
		if f.off >= size {
			f.f.Close()
			f.f = nil
		}
	}
	return ctx.Err()
}

// chunk hands one chunk of f to the pipeline and moves f past it.
func (r *reader) chunk(f *file, c ingest.Chunk, position []byte) error {
	start := f.off
	name := f.path
	var header []byte
	if start > 0 {
		header = f.header
		if !f.lineKnown {
			name = fmt.Sprintf("%s (from byte %d)", f.path, start)
		}
	}
	lineBase := f.line
	known := f.lineKnown
	dec := r.decoder(f.format)
	err := r.lane.Chunk(f.key, position, func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
		if c.TooLong > 0 {
			var st decode.Stats
			for range c.TooLong {
				st.Skip("line too long")
			}
			report(decode.Problem{Input: name, Reason: "line too long", Detail: fmt.Sprintf("a line at byte %d is longer than %d bytes", start, decode.MaxLineSize)})
			return st, nil
		}
		in := decode.Input{Name: name, Header: header}
		return dec.Decode(ctx, in, bytes.NewReader(c.Data), emit, func(p decode.Problem) {
			if known && p.Line > 0 {
				p.Line += lineBase
			}
			report(p)
		})
	})
	if err != nil {
		return err
	}
	f.off = c.End
	f.line += int64(bytes.Count(c.Data, []byte{'\n'})) + int64(c.TooLong)
	return nil
}

// readGzipLines reads a settled gzip file of a line format from f.off (an
// offset in its decompressed content) on.
func (r *reader) readGzipLines(ctx context.Context, f *file) error {
	f.readSize = f.size
	fh, err := os.Open(f.path)
	if err != nil {
		r.w.sink.Report(decode.Problem{Input: f.path, Reason: "unreadable input", Detail: err.Error()})
		return nil
	}
	defer fh.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(fh, 64<<10))
	if err != nil {
		r.w.sink.Report(decode.Problem{Input: f.path, Reason: "unreadable input", Detail: "read gzip header: " + err.Error()})
		f.done = true
		return r.finish(f)
	}
	if _, err := io.CopyN(io.Discard, zr, f.off); err != nil {
		return r.gzipEnded(f, err)
	}
	var src io.Reader = zr
	replaying := f.replayTo > f.off
	if replaying && f.replayTo < 1<<62 {
		src = io.LimitReader(zr, f.replayTo-f.off)
	}
	r.ch.Reset(src, f.off)
	r.ch.KeepPartial = false
	for {
		c, err := r.ch.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r.gzipEnded(f, err)
		}
		if err := r.chunk(f, c, f.position(c.End, false)); err != nil {
			return err
		}
		if ctx.Err() != nil && !replaying {
			return nil // the rest at the next start, from this position
		}
	}
	if replaying && f.replayTo < 1<<62 {
		// The replay ends where the last commit did; the rest is new input,
		// read at the next turn (not only when the file changes again: a
		// complete gzip file never does).
		f.replayTo = 0
		f.readSize = -1
		r.w.sink.Pending(f.key, true)
		return nil
	}
	f.replayTo = 0
	f.done = true
	return r.finish(f)
}

// gzipEnded handles a gzip stream that ended with an error: a file still being
// written is waited for; one unchanged for long is reported and finished.
func (r *reader) gzipEnded(f *file, err error) error {
	if r.w.s.now().Sub(f.changed) < gzipGiveUp && errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	r.w.sink.Report(decode.Problem{Input: f.path, Reason: "unreadable input", Detail: fmt.Sprintf("gzip stream ends early after %d bytes: %v", f.off, err)})
	f.done, f.replayTo = true, 0
	return r.finish(f)
}

// finish records that f has been read to its end.
func (r *reader) finish(f *file) error {
	err := r.lane.Chunk(f.key, f.position(f.off, true), func(context.Context, func(*decode.Batch) error, func(decode.Problem)) (decode.Stats, error) {
		return decode.Stats{}, nil
	})
	r.w.sink.Pending(f.key, false)
	return err
}

// readDocument reads a settled file of a document format whole, as one chunk.
func (r *reader) readDocument(f *file) error {
	f.readSize = f.size
	dec := r.decoder(f.format)
	limit := r.w.s.cfg.MaxDocumentSize
	var read int64
	err := r.lane.Chunk(f.key, f.position(f.size, true), func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
		fh, err := os.Open(f.path)
		if err != nil {
			return decode.Stats{}, fmt.Errorf("open %s: %w", f.path, err)
		}
		defer fh.Close()
		plain, err := ingest.Decompress(fh)
		if err != nil {
			return decode.Stats{}, fmt.Errorf("read %s: %w", f.path, err)
		}
		lr := &io.LimitedReader{R: plain, N: limit + 1}
		st, err := dec.Decode(ctx, decode.Input{Name: f.path}, lr, emit, report)
		read = limit + 1 - lr.N
		if read > limit {
			st.Skip("too large")
			report(decode.Problem{Input: f.path, Reason: "too large", Detail: fmt.Sprintf("over max_document_size (%d bytes); the rest is skipped", limit)})
		}
		return st, err
	})
	if err != nil {
		return err
	}
	f.off, f.done, f.replayTo = f.size, true, 0
	return nil
}

// gunzipHead decompresses as much of a gzip file's first bytes as they hold.
func gunzipHead(head []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, 64<<10)) // a cut stream ends in an error: keep what came
	return out
}
