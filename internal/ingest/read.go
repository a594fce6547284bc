package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vigil-dev/vigil/internal/decode"
)

// Config configures a Reader.
type Config struct {
	// Workers is how many objects are decoded at once; 0 means one per CPU.
	Workers int
	// Window prunes objects by the dates in their keys.
	Window Window
	// S3 lists s3:// locations; nil when S3 is not configured.
	S3 Lister
	// SplitSize is the part size plain local files larger than it are split into,
	// so that one big file is decoded on every worker; 0 means DefaultSplitSize,
	// a negative value never splits. With one worker nothing is split.
	SplitSize int64
	// TimeOrder reads the objects in the order of the times in their keys
	// (AWS's layouts stamp each file with the five minutes it covers), not
	// in the listing's order, which runs through one account's and one log
	// type's whole period before the next's. Objects without a time in their
	// key come first, in listing order; ties keep it too. An ordered
	// detection (vigil scan) then sees the accounts, regions and log types
	// of an S3 bucket interleaved as live delivery interleaves them.
	TimeOrder bool
	// Done, when set, is called once for each object (or part) read, however
	// its reading ended, with its decode.Input.Seq, from the worker that read
	// it, after its last emit: what an ordered consumer (detect.Engine.Done)
	// waits for before the next object's records.
	Done func(seq int)
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config { return Config{} }

// Counters are the Reader's running totals, safe to read while it runs (for
// progress displays and metrics).
type Counters struct {
	Objects        atomic.Int64 // objects finished
	ObjectsPruned  atomic.Int64 // objects skipped by the time window
	Records        atomic.Int64 // records emitted
	Skipped        atomic.Int64 // records skipped as bad
	Unread         atomic.Int64 // records passed over unread (decode.Stats.Unread)
	BytesStored    atomic.Int64 // bytes read as stored (compressed)
	BytesDecoded   atomic.Int64 // bytes after decompression
	ObjectsFailed  atomic.Int64 // objects that could not be opened or read to the end
	ObjectsPlanned atomic.Int64 // objects listed so far
	BytesPlanned   atomic.Int64 // stored bytes of the objects listed so far (known sizes)
}

// Reader reads the objects at a set of locations through decoders, in parallel.
type Reader struct {
	cfg Config
	// newDecoder makes one worker's decoder; it is called once per worker and must
	// return a decoder no other goroutine uses, which then reads object after object.
	newDecoder func() decode.Decoder
	Counters   Counters
}

// New returns an inert Reader.
func New(cfg Config, newDecoder func() decode.Decoder) *Reader {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	return &Reader{cfg: cfg, newDecoder: newDecoder}
}

// Result summarises a Read.
type Result struct {
	decode.Stats
	Objects int64
	Failed  int64 // objects that could not be opened or read to the end
	Pruned  int64
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Read lists every location, then decodes the objects with cfg.Workers workers,
// calling emit with each batch. emit is called concurrently from several workers
// (worker is its index, 0 ≤ worker < Workers) but never concurrently for one worker,
// and batches of one object arrive in order from one worker. Problems — bad records,
// and objects that cannot be opened or end early — go to report, which must be
// safe for concurrent use; they never stop the read. Read returns an error only
// when a location cannot be listed, emit fails, or ctx is cancelled.
func (r *Reader) Read(ctx context.Context, locations []string, emit func(worker int, b *decode.Batch) error, report func(decode.Problem)) (Result, error) {
	var objects []Object
	for _, loc := range locations {
		err := List(ctx, loc, r.cfg.Window, r.cfg.S3, func(o Object) error {
			if !r.cfg.Window.MayContain(o.Name) {
				r.Counters.ObjectsPruned.Add(1)
				return nil
			}
			if r.cfg.Workers > 1 && r.cfg.SplitSize >= 0 {
				size := r.cfg.SplitSize
				if size == 0 {
					size = DefaultSplitSize
				}
				parts, err := splitFile(o, size)
				if err != nil {
					return err
				}
				for _, p := range parts {
					objects = append(objects, p.object())
				}
				if parts != nil {
					r.Counters.ObjectsPlanned.Add(1) // a file, whatever its parts
					r.Counters.BytesPlanned.Add(o.Size)
					return nil
				}
			}
			objects = append(objects, o)
			r.Counters.ObjectsPlanned.Add(1)
			if o.Size > 0 {
				r.Counters.BytesPlanned.Add(o.Size)
			}
			return nil
		})
		if err != nil {
			return Result{}, err
		}
	}
	if r.cfg.TimeOrder {
		sortByKeyTime(objects)
	}
	for i := range objects {
		objects[i].seq = i
	}
	if report == nil {
		report = func(decode.Problem) {}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan Object)
	var (
		mu    sync.Mutex
		total Result
		wg    sync.WaitGroup
	)
	for w := range min(r.cfg.Workers, max(len(objects), 1)) {
		wg.Go(func() {
			dec := r.newDecoder()
			for o := range work {
				st, err := r.readObject(ctx, dec, o, func(b *decode.Batch) error { return emit(w, b) }, report)
				if r.cfg.Done != nil {
					r.cfg.Done(o.seq)
				}
				whole := o.finished()
				mu.Lock()
				total.Add(st)
				if whole {
					total.Objects++
				}
				mu.Unlock()
				if whole {
					r.Counters.Objects.Add(1)
				}
				r.Counters.Unread.Add(st.Unread)
				if err == nil {
					continue
				}
				if errors.Is(err, errEmit) || ctx.Err() != nil {
					cancel(err)
					continue
				}
				if o.firstFailure() {
					r.Counters.ObjectsFailed.Add(1)
					mu.Lock()
					total.Failed++
					mu.Unlock()
				}
				report(decode.Problem{Input: o.Name, Reason: "unreadable input", Detail: err.Error()})
			}
		})
	}
feed:
	for _, o := range objects {
		select {
		case work <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	total.Pruned = r.Counters.ObjectsPruned.Load()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, errEmit) {
			return total, errors.Unwrap(err)
		}
		return total, err
	}
	return total, nil
}

// errEmit marks errors that came from the caller's emit, which stop the read.
var errEmit = errors.New("emit")

type emitError struct{ err error }

func (e emitError) Error() string        { return e.err.Error() }
func (e emitError) Is(target error) bool { return target == errEmit }
func (e emitError) Unwrap() error        { return e.err }

func (r *Reader) readObject(ctx context.Context, dec decode.Decoder, o Object, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	rc, err := o.Open(ctx)
	if err != nil {
		return decode.Stats{}, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	stored := countingReader{rc, &r.Counters.BytesStored}
	plain, err := Decompress(stored)
	if err != nil {
		return decode.Stats{}, err
	}
	in := decode.Input{Name: o.Name, Header: o.header, Seq: o.seq}
	var emitted int64
	st, err := dec.Decode(ctx, in, countingReader{plain, &r.Counters.BytesDecoded}, func(b *decode.Batch) error {
		n := int64(b.Len())
		emitted += n
		r.Counters.Records.Add(n)
		if err := emit(b); err != nil {
			return emitError{err}
		}
		return nil
	}, func(p decode.Problem) {
		r.Counters.Skipped.Add(1)
		report(p)
	})
	if err != nil {
		var ee emitError
		if errors.As(err, &ee) {
			return st, ee
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, fmt.Errorf("read after %d records: %w", emitted, err)
	}
	return st, nil
}
