// Package s3poll is the continuous source of S3 prefixes: it lists a location
// every PollInterval for objects it has not read (ListObjectsV2 with
// StartAfter, so a poll costs one request per prefix however many objects are
// stored), and reads each new object once, in key order.
//
// # Streams
//
// Keys are in time order only within one account, service and region of AWS's
// layout (AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/…): a new object of
// account 1111 sorts before the old ones of account 2222. So the location is
// first split into leaves: folders are followed down until a level holds year
// folders (or no folders), and each leaf is a stream with its own cursor. The
// split is refreshed every ten polls, so new accounts and regions are picked
// up. A location in any other layout is one leaf.
//
// Within a leaf, AWS delivers files of the same minute with random suffixes,
// not in key order; an object may appear after one that sorts after it. So the
// cursor lags: it keeps the keys read within the last Lookback (at most
// MaxRecent of them) and lists from before them, skipping those already read.
//
// # Positions
//
// A leaf's position is its cursor — every key up to From is read — the recent
// keys read after it, and the object being read with the offset reached in its
// decompressed content. Line formats (flow logs, Resolver query logs) are read
// in chunks of whole lines, so a restart resumes inside an object; document
// formats (CloudTrail files) are one chunk. After a restart the objects read
// since the replay position are read again (ingest.Source), then new ones.
package s3poll

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/ingest/s3"
)

// Config configures polled S3 locations.
type Config struct {
	// Location is s3://bucket/prefix.
	Location string `yaml:"location"`
	// Region, Endpoint, PathStyle and Profile say which S3 to talk to (see
	// ingest/s3.Config); credentials come from the standard AWS chain.
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`
	Profile   string `yaml:"profile"`
	// PollInterval is how often the location is listed.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lookback is how long read keys are remembered to catch objects that
	// appear after one sorting after them.
	Lookback time.Duration `yaml:"lookback"`
	// MaxRecent bounds the keys remembered per leaf.
	MaxRecent int `yaml:"max_recent"`
	// StartAfter, on the very first start, skips the keys up to this one (a
	// key in the bucket, e.g. AWSLogs/1111/vpcflowlogs/us-east-1/2026/11/01/);
	// empty reads everything there is.
	StartAfter string `yaml:"start_after"`
	// Format forces the format of every object; "auto" detects it.
	Format string `yaml:"format"`
	// FlowFormat is the flow-log field list of files without a header line.
	FlowFormat string `yaml:"flow_format"`
	// ChunkSize bounds the bytes of whole lines decoded as one unit.
	ChunkSize int `yaml:"chunk_size"`
	// MaxDocumentSize bounds a document-format object (read whole).
	MaxDocumentSize int64 `yaml:"max_document_size"`
}

// DefaultConfig returns the defaults: poll every 30 seconds, remember 10
// minutes of keys.
func DefaultConfig() Config {
	return Config{PollInterval: 30 * time.Second, Lookback: 10 * time.Minute, MaxRecent: 200, Format: "auto",
		ChunkSize: ingest.DefaultChunkSize, MaxDocumentSize: 256 << 20}
}

// Validate checks the configuration; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := s3.ParseLocation(c.Location); err != nil {
		errs = append(errs, fmt.Errorf("location: %q is not s3://bucket/prefix", c.Location))
	}
	if c.PollInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("poll_interval: %s is below 100ms", c.PollInterval))
	}
	if c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("lookback: %s is negative", c.Lookback))
	}
	if c.MaxRecent < 1 || c.MaxRecent > 10_000 {
		errs = append(errs, fmt.Errorf("max_recent: %d is outside 1–10000", c.MaxRecent))
	}
	if _, err := c.decoderConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.ChunkSize < 4096 || c.ChunkSize > 64<<20 {
		errs = append(errs, fmt.Errorf("chunk_size: %d is outside 4 KiB–64 MiB", c.ChunkSize))
	}
	if c.MaxDocumentSize < 1 {
		errs = append(errs, fmt.Errorf("max_document_size: %d must be positive", c.MaxDocumentSize))
	}
	return errors.Join(errs...)
}

func (c Config) decoderConfig() (auto.Config, error) {
	return auto.ConfigFor(c.Format, c.FlowFormat, "format", "flow_format")
}

// Source polls a location. It implements ingest.Source.
type Source struct {
	cfg    Config
	dec    auto.Config
	bucket string
	prefix string
	now    func() time.Time
}

var _ ingest.Source = (*Source)(nil)

// New returns an inert source.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dc, _ := cfg.decoderConfig()
	b, p, _ := s3.ParseLocation(cfg.Location)
	return &Source{cfg: cfg, dec: dc, bucket: b, prefix: p, now: time.Now}, nil
}

// state is a leaf's position.
type state struct {
	// From: every key up to it is read.
	From string `json:"from,omitempty"`
	// Done are the keys after From that are read, in key order, with their
	// modification time (Unix ms).
	Done []doneKey `json:"done,omitempty"`
	// Cur is the object being read, Off the offset reached in its content.
	Cur string `json:"cur,omitempty"`
	Off int64  `json:"off,omitempty"`
}

type doneKey struct {
	K string `json:"k"`
	T int64  `json:"t"`
}

func (st *state) encode() []byte {
	b, err := json.Marshal(st)
	if err != nil {
		panic("BUG: s3poll: " + err.Error())
	}
	return b
}

func decodeState(b []byte) (state, error) {
	var st state
	if len(b) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Off < 0 {
		return state{}, fmt.Errorf("not a position of an S3 prefix: %v", err)
	}
	return st, nil
}

// done reports whether key is read.
func (st *state) done(key string) bool {
	if key <= st.From {
		return true
	}
	_, found := slices.BinarySearchFunc(st.Done, key, func(d doneKey, k string) int { return strings.Compare(d.K, k) })
	return found
}

// markDone records key as read.
func (st *state) markDone(key string, modified time.Time) {
	i, found := slices.BinarySearchFunc(st.Done, key, func(d doneKey, k string) int { return strings.Compare(d.K, k) })
	if !found {
		st.Done = slices.Insert(st.Done, i, doneKey{K: key, T: modified.UnixMilli()})
	}
	st.Cur, st.Off = "", 0
}

// compact moves From past read keys older than the lookback (and past the
// oldest ones beyond max), keeping the position small.
func (st *state) compact(now time.Time, lookback time.Duration, max int) {
	cut := now.Add(-lookback).UnixMilli()
	i := 0
	for i < len(st.Done) && (st.Done[i].T < cut || len(st.Done)-i > max) {
		i++
	}
	if i > 0 {
		st.From = st.Done[i-1].K
		st.Done = slices.Delete(st.Done, 0, i)
	}
}

// poller is one Run's state.
type poller struct {
	s      *Source
	sink   ingest.Sink
	lane   ingest.Lane
	lister *s3.Lister
	dec    map[auto.Format]decode.Decoder
	ch     *ingest.Chunker
	leaves map[string]*state
}

// Run polls until ctx is cancelled.
func (s *Source) Run(ctx context.Context, sink ingest.Sink) error {
	cfg := s3.DefaultConfig()
	cfg.Region, cfg.Endpoint, cfg.PathStyle, cfg.Profile = s.cfg.Region, s.cfg.Endpoint, s.cfg.PathStyle, s.cfg.Profile
	lister, err := s3.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("s3 source %s: %w", s.cfg.Location, err)
	}
	p := &poller{s: s, sink: sink, lane: sink.NewLane(), lister: lister, dec: map[auto.Format]decode.Decoder{},
		ch: ingest.NewChunker(nil, 0, s.cfg.ChunkSize), leaves: map[string]*state{}}
	if err := p.replay(ctx); err != nil {
		return nilIfDone(ctx, err)
	}
	if err := sink.ReplayDone(ctx); err != nil {
		return nil
	}
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for n := 0; ; n++ {
		if n%10 == 0 {
			if err := p.discover(ctx); err != nil {
				return nilIfDone(ctx, err)
			}
		}
		for _, leaf := range slices.Sorted(mapsKeys(p.leaves)) {
			if err := p.poll(ctx, leaf, p.leaves[leaf], nil); err != nil {
				return nilIfDone(ctx, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func mapsKeys(m map[string]*state) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func nilIfDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// replay re-reads what each checkpointed leaf read after its replay position,
// up to its Next position.
func (p *poller) replay(ctx context.Context) error {
	for _, leaf := range p.sink.Streams() {
		r, _ := p.sink.Resume(leaf)
		from, err1 := decodeState(r.Replay)
		next, err2 := decodeState(r.Next)
		if err := errors.Join(err1, err2); err != nil {
			p.sink.Report(decode.Problem{Input: p.s.cfg.Location, Reason: "bad checkpoint", Detail: err.Error() + "; the prefix is read from its start"})
			p.sink.Forget(leaf)
			continue
		}
		if len(r.Replay) == 0 && len(r.Next) > 0 {
			from = state{}
		}
		st := from
		if !bytes.Equal(r.Replay, r.Next) {
			// Only keys the last run had read: read in full (or up to Next's
			// offset for the object it was in).
			upTo := func(key string) (int64, bool) {
				switch {
				case key == next.Cur:
					return next.Off, true
				case next.done(key):
					return -1, true
				}
				return 0, false
			}
			if err := p.poll(ctx, leaf, &st, upTo); err != nil {
				return err
			}
		}
		p.leaves[leaf] = &next
	}
	return nil
}

// discover finds the leaves below the location.
func (p *poller) discover(ctx context.Context) error {
	var walk func(prefix string, depth int) error
	walk = func(prefix string, depth int) error {
		folders, _, err := p.lister.Folders(ctx, p.s.bucket, prefix)
		if err != nil {
			return err
		}
		leaf := depth >= 8 || len(folders) == 0
		for _, f := range folders {
			if isYear(strings.TrimSuffix(f[len(prefix):], "/")) {
				leaf = true
			}
		}
		if leaf {
			if p.leaves[prefix] == nil {
				st := &state{}
				if p.sink.Fresh() && p.s.cfg.StartAfter != "" && strings.HasPrefix(p.s.cfg.StartAfter, prefix) {
					st.From = p.s.cfg.StartAfter
				}
				p.leaves[prefix] = st
			}
			return nil
		}
		for _, f := range folders {
			if err := walk(f, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(p.s.prefix, 0)
}

// isYear reports whether a folder name is a year (or Hive's year=YYYY).
func isYear(s string) bool {
	s = strings.TrimPrefix(s, "year=")
	if len(s) != 4 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// poll reads the leaf's unread objects in key order. In a replay, upTo says
// which objects to read and how far (-1: whole); others are skipped.
func (p *poller) poll(ctx context.Context, leaf string, st *state, upTo func(string) (int64, bool)) error {
	failed := false
	err := p.lister.ListAfter(ctx, p.s.bucket, leaf, st.From, func(page []s3.ListedObject) (bool, error) {
		for _, o := range page {
			if ctx.Err() != nil {
				return false, nil
			}
			if st.done(o.Key) {
				continue
			}
			limit := int64(-1)
			if upTo != nil {
				n, ok := upTo(o.Key)
				if !ok {
					continue
				}
				limit = n
			}
			off := int64(0)
			if o.Key == st.Cur {
				off = st.Off
			}
			complete, err := p.read(ctx, leaf, st, o, off, limit)
			if err != nil {
				return false, err
			}
			if !complete {
				failed = true
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if !failed && upTo == nil {
		st.compact(p.s.now(), p.s.cfg.Lookback, p.s.cfg.MaxRecent)
	}
	return nil
}

// decoder returns the decoder of a format.
func (p *poller) decoder(f auto.Format) decode.Decoder {
	d := p.dec[f]
	if d == nil {
		cfg := p.s.dec
		cfg.Format = f
		d = auto.New(cfg)
		p.dec[f] = d
	}
	return d
}

// read reads one object from content offset off to limit (-1: its end). It
// returns whether the object is done with (read, or failed for good); only
// the pipeline's errors are returned.
func (p *poller) read(ctx context.Context, leaf string, st *state, o s3.ListedObject, off, limit int64) (bool, error) {
	name := "s3://" + p.s.bucket + "/" + o.Key
	obj := p.lister.Object(p.s.bucket, o.Key, o.Size)
	rc, err := obj.Open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		gone := errors.Is(err, s3.ErrObjectGone) || errors.Is(err, s3.ErrAccessDenied)
		p.sink.Report(decode.Problem{Input: name, Reason: "unreadable input", Detail: err.Error()})
		if gone {
			st.markDone(o.Key, o.Modified)
			return true, p.record(leaf, st, decode.Stats{})
		}
		return false, nil // tried again at the next poll
	}
	defer rc.Close()
	plain, err := ingest.Decompress(rc)
	if err != nil {
		p.sink.Report(decode.Problem{Input: name, Reason: "unreadable input", Detail: err.Error()})
		st.markDone(o.Key, o.Modified)
		return true, p.record(leaf, st, decode.Stats{})
	}
	br := bufio.NewReaderSize(plain, 64<<10)
	head, _ := br.Peek(auto.SniffSize)
	format := p.s.dec.Format
	if format == auto.Auto {
		format = auto.Detect(head, o.Key)
	}
	dec := p.decoder(format)
	if format != auto.VPCFlow && format != auto.DNSLog {
		// A document: one chunk, whole.
		lr := &io.LimitedReader{R: br, N: p.s.cfg.MaxDocumentSize + 1}
		st.markDone(o.Key, o.Modified)
		return true, p.lane.Chunk(leaf, st.encode(), func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
			s, err := dec.Decode(ctx, decode.Input{Name: name}, lr, emit, report)
			if lr.N <= 0 {
				s.Skip("too large")
				report(decode.Problem{Input: name, Reason: "too large", Detail: fmt.Sprintf("over max_document_size (%d bytes); the rest is skipped", p.s.cfg.MaxDocumentSize)})
			}
			return s, err
		})
	}
	var header []byte
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		header = bytes.Clone(bytes.TrimRight(head[:i], "\r"))
	}
	if _, err := io.CopyN(io.Discard, br, off); err != nil {
		p.sink.Report(decode.Problem{Input: name, Reason: "unreadable input", Detail: fmt.Sprintf("cannot resume at byte %d: %v", off, err)})
		st.markDone(o.Key, o.Modified)
		return true, p.record(leaf, st, decode.Stats{})
	}
	var src io.Reader = br
	if limit >= 0 {
		src = io.LimitReader(br, limit-off)
	}
	p.ch.Reset(src, off)
	p.ch.KeepPartial = false
	for {
		c, err := p.ch.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return false, nil // resumed at st.Off
			}
			p.sink.Report(decode.Problem{Input: name, Reason: "unreadable input", Detail: fmt.Sprintf("after byte %d: %v", st.Off, err)})
			break
		}
		st.Cur, st.Off = o.Key, c.End
		chunkName := name
		var hdr []byte
		if c.End-int64(len(c.Data)) > 0 {
			hdr = header
			chunkName = fmt.Sprintf("%s (from byte %d)", name, c.End-int64(len(c.Data)))
		}
		err = p.lane.Chunk(leaf, st.encode(), func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
			if c.TooLong > 0 {
				var s decode.Stats
				s.Skip("line too long")
				report(decode.Problem{Input: name, Reason: "line too long", Detail: fmt.Sprintf("a line is longer than %d bytes", decode.MaxLineSize)})
				return s, nil
			}
			return dec.Decode(ctx, decode.Input{Name: chunkName, Header: hdr}, bytes.NewReader(c.Data), emit, report)
		})
		if err != nil {
			return false, err
		}
		if ctx.Err() != nil && limit < 0 {
			return false, nil // the rest at the next start, from st.Off
		}
	}
	if limit >= 0 && limit < 1<<62 && o.Key == st.Cur {
		return true, nil // a replay that ends inside this object
	}
	st.markDone(o.Key, o.Modified)
	return true, p.record(leaf, st, decode.Stats{})
}

// record commits the leaf's position with no records (an object finished or
// given up on).
func (p *poller) record(leaf string, st *state, _ decode.Stats) error {
	return p.lane.Chunk(leaf, st.encode(), func(context.Context, func(*decode.Batch) error, func(decode.Problem)) (decode.Stats, error) {
		return decode.Stats{}, nil
	})
}
