// Package watch is the continuous source of a folder of log files: files that
// appear and files that grow, in any layout (AWS's AWSLogs/… tree from an
// S3 sync, a flat folder a shipper appends to), read as they change.
//
// Every file is a stream, known by its device and inode, so a file renamed
// within the folder (log rotation by rename-and-create) is the same stream
// under its new name, and the new file at the old name is a new one. What is
// read of a file:
//
//   - a plain file in a line format (VPC flow logs, Resolver query logs) is
//     tailed: whole lines as they are appended, a last line without its "\n"
//     left until it is finished (or the file has been still for Settle). A
//     file that shrinks was truncated (copytruncate): it is read again from
//     its start. The file stays open while it is read, so a file rotated or
//     deleted is read to its end first;
//   - a gzip file is read once it is complete (unchanged for Settle, and its
//     gzip stream ends properly), whole, in chunks of its decompressed lines;
//   - a file in a document format (CloudTrail's {"Records":[…]}, CloudWatch
//     Logs payloads, Parquet) is read whole once unchanged for Settle.
//
// Positions (ingest.Source): a file's offset in its (decompressed) content, its
// identity and a fingerprint of its first bytes, which tells a file replaced
// under a reused inode from the one checkpointed. Files modified longer ago
// than IgnoreOlder are skipped when first seen and dropped from the checkpoint
// when done, which bounds the checkpoint to the files of that period.
//
// Concurrency: one goroutine scans the folder and polls the files it knows;
// Workers goroutines read, each file by one worker at a time, each worker with
// its own decoder and pipeline lane. Cancelling Run's context lets workers
// finish the chunk in hand.
package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
)

// Config configures a watched folder.
type Config struct {
	// Path is the folder to watch (walked recursively; hidden files and
	// folders are skipped) or a single file.
	Path string `yaml:"path"`
	// Include lists shell patterns on file names (not paths) to read; empty
	// means every file. Exclude lists patterns to leave out.
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
	// Format forces the format of every file (vpcflow, dnslog, cloudtrail,
	// cwlogs, parquet); "auto" (the default) detects it per file.
	Format string `yaml:"format"`
	// FlowFormat is the flow-log field list of files without a header line.
	FlowFormat string `yaml:"flow_format"`
	// PollInterval is how often known files are checked for new data; it is
	// most of the delay between a line being written and being read.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ScanInterval is how often the folder is walked for new files.
	ScanInterval time.Duration `yaml:"scan_interval"`
	// Settle is how long a gzip or document file must stay unchanged before it
	// is read, and a plain file before its unfinished last line is taken as a
	// line.
	Settle time.Duration `yaml:"settle"`
	// StartAt says where files present at the very first start are read from:
	// "beginning" (a backlog is read) or "end" (only what is written from now
	// on). Files that appear later are always read whole.
	StartAt string `yaml:"start_at"`
	// IgnoreOlder skips files last modified longer ago than this when first
	// seen, and forgets finished ones as they age past it; 0 never.
	IgnoreOlder time.Duration `yaml:"ignore_older"`
	// Workers is how many files are read at once.
	Workers int `yaml:"workers"`
	// ChunkSize is how many bytes of whole lines are decoded and committed as
	// one unit.
	ChunkSize int `yaml:"chunk_size"`
	// MaxDocumentSize bounds a document-format file (read whole).
	MaxDocumentSize int64 `yaml:"max_document_size"`
}

// DefaultConfig returns the defaults: poll every 100 ms, scan every second,
// read the backlog, two workers.
func DefaultConfig() Config {
	return Config{Format: "auto", PollInterval: 100 * time.Millisecond, ScanInterval: time.Second, Settle: time.Second,
		StartAt: "beginning", Workers: 2, ChunkSize: ingest.DefaultChunkSize, MaxDocumentSize: 256 << 20}
}

// Validate checks the configuration; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: required"))
	}
	for _, p := range append(append([]string{}, c.Include...), c.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("include/exclude: bad pattern %q", p))
		}
	}
	if _, err := c.decoderConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.PollInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("poll_interval: %s is below 10ms", c.PollInterval))
	}
	if c.ScanInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("scan_interval: %s is below 10ms", c.ScanInterval))
	}
	if c.Settle < 0 {
		errs = append(errs, fmt.Errorf("settle: %s is negative", c.Settle))
	}
	if c.StartAt != "beginning" && c.StartAt != "end" {
		errs = append(errs, fmt.Errorf("start_at: %q is not beginning or end", c.StartAt))
	}
	if c.IgnoreOlder < 0 {
		errs = append(errs, fmt.Errorf("ignore_older: %s is negative", c.IgnoreOlder))
	}
	if c.Workers < 1 || c.Workers > 64 {
		errs = append(errs, fmt.Errorf("workers: %d is outside 1–64", c.Workers))
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

// Source watches a folder. It implements ingest.Source.
type Source struct {
	cfg Config
	dec auto.Config
	now func() time.Time
}

var _ ingest.Source = (*Source)(nil)

// New returns an inert source; it fails on a bad configuration.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dc, _ := cfg.decoderConfig()
	return &Source{cfg: cfg, dec: dc, now: time.Now}, nil
}

// mode is how a file is read.
type mode uint8

const (
	modeUnknown  mode = iota // not decided yet (too few bytes)
	modeLines                // a line format: plain files tailed, gzip read when settled
	modeDocument             // read whole once settled
)

// pos is a file's position, as checkpointed.
type pos struct {
	Path string `json:"p"`
	Dev  uint64 `json:"d"`
	Ino  uint64 `json:"i"`
	Off  int64  `json:"o"`
	FP   string `json:"fp,omitempty"`
	FPN  int    `json:"fpn,omitempty"`
	Done bool   `json:"done,omitempty"`
}

func (p pos) encode() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic("BUG: watch: " + err.Error())
	}
	return b
}

func decodePos(b []byte) (pos, error) {
	var p pos
	if len(b) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("not a position of a watched file: %w", err)
	}
	if p.Off < 0 || p.FPN < 0 || p.FPN > fpSize {
		return p, errors.New("not a position of a watched file: bad offset")
	}
	return p, nil
}

// fpSize is how many of a file's first bytes identify it.
const fpSize = 1024

// file is one watched file. The scanner owns it, except while busy: then the
// worker reading it does.
type file struct {
	key      string
	path     string
	dev, ino uint64
	f        *os.File // open while the file is being tailed
	mode     mode
	gz       bool
	format   auto.Format
	header   []byte // first line, for flow logs read from the middle
	off      int64  // content offset read up to
	replayTo int64  // > off: the replay reads to here first
	size     int64  // stored size at the last look
	readSize int64  // stored size when last read
	mtime    time.Time
	changed  time.Time // wall time the size or mtime last changed
	fp       string
	fpn      int
	done     bool
	busy     bool
	present  atomic.Bool // seen by the last scan (the scanner writes it while a worker may read it)
	// line is the number of lines before off, when known (read from the start
	// in this run), for problem reports.
	line      int64
	lineKnown bool
	skipToEnd bool  // start_at end: the first read only records the end
	err       error // a worker's fatal error, passed back to the scanner
	// replayTurn: the replay reads one chunk of the file, then picks again.
	replayTurn bool
}

// Run watches the folder until ctx is cancelled.
func (s *Source) Run(ctx context.Context, sink ingest.Sink) error {
	w := &watcher{s: s, sink: sink, files: map[string]*file{}, work: make(chan *file), back: make(chan *file, s.cfg.Workers)}
	if _, err := os.Stat(s.cfg.Path); err != nil {
		return fmt.Errorf("watch %s: %w", s.cfg.Path, err)
	}
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		r := &reader{w: w, lane: sink.NewLane(), decs: map[auto.Format]decode.Decoder{}}
		wg.Go(func() { r.run(ctx) })
	}
	defer func() {
		close(w.work)
		wg.Wait()
		for _, f := range w.files {
			if f.f != nil {
				f.f.Close()
			}
		}
	}()
	// The replay: files with a checkpoint are re-read up to where the last
	// commit ended, then new input waits for every source to get there.
	if err := w.scan(ctx, true); err != nil {
		return err
	}
	if err := w.drainReplay(ctx); err != nil {
		return nilIfDone(ctx, err)
	}
	if err := sink.ReplayDone(ctx); err != nil {
		return nilIfDone(ctx, err)
	}
	return nilIfDone(ctx, w.loop(ctx))
}

func nilIfDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// watcher is one Run's state.
type watcher struct {
	s     *Source
	sink  ingest.Sink
	files map[string]*file // by key
	work  chan *file
	back  chan *file
	busy  int
	err   error // a worker's fatal error
}

// loop polls and scans until ctx ends.
func (w *watcher) loop(ctx context.Context) error {
	poll := time.NewTicker(w.s.cfg.PollInterval)
	defer poll.Stop()
	lastScan := w.s.now()
	for {
		if w.err != nil {
			return w.err
		}
		if w.s.now().Sub(lastScan) >= w.s.cfg.ScanInterval {
			lastScan = w.s.now()
			if err := w.scan(ctx, false); err != nil {
				return err
			}
		}
		for _, f := range w.files {
			if f.busy || !w.due(f) {
				continue
			}
			if !w.dispatch(ctx, f) {
				return ctx.Err()
			}
		}
		select {
		case <-ctx.Done():
			w.waitIdle()
			return ctx.Err()
		case f := <-w.back:
			w.returned(f)
		case <-poll.C:
		}
	}
}

// dispatch hands f to a free worker, taking back finished files meanwhile.
func (w *watcher) dispatch(ctx context.Context, f *file) bool {
	f.busy = true
	for {
		select {
		case w.work <- f:
			w.busy++
			return true
		case g := <-w.back:
			w.returned(g)
		case <-ctx.Done():
			f.busy = false
			w.waitIdle()
			return false
		}
	}
}

func (w *watcher) returned(f *file) {
	f.busy = false
	w.busy--
	if f.err != nil && w.err == nil {
		w.err = f.err
	}
}

// waitIdle takes back every busy file (workers finish their chunk).
func (w *watcher) waitIdle() {
	for w.busy > 0 {
		w.returned(<-w.back)
	}
}

// drainReplay re-reads every file with a replay range up to its end, one
// chunk at a time, each time from the file whose re-read records have reached
// the earliest event time (Sink.ReplayFirst): detection sees the records of a
// rotated file before its successor's, and those of a delivery that filled a
// gap when the other files get there, as it did when they were first read.
// One file is read at a time. A gzip file's replay range is read in one go
// (reading it in parts would decompress it again for each).
func (w *watcher) drainReplay(ctx context.Context) error {
	for {
		var keys []string
		for key, f := range w.files {
			if f.replayTo > f.off {
				keys = append(keys, key)
			}
		}
		if len(keys) == 0 {
			return w.err
		}
		f := w.files[w.sink.ReplayFirst(keys)]
		if f == nil {
			f = w.files[keys[0]]
		}
		f.replayTurn = true
		if !w.dispatch(ctx, f) {
			return ctx.Err()
		}
		select {
		case g := <-w.back:
			w.returned(g)
		case <-ctx.Done():
			w.waitIdle()
			return ctx.Err()
		}
		f.replayTurn = false
		if w.err != nil {
			return w.err
		}
	}
}

// due reports whether f has something to read now: it re-stats it.
func (w *watcher) due(f *file) bool {
	if f.done {
		return false
	}
	var fi os.FileInfo
	var err error
	if f.f != nil {
		fi, err = f.f.Stat()
	} else {
		fi, err = os.Stat(f.path)
	}
	if err != nil {
		return false
	}
	now := w.s.now()
	if fi.Size() != f.size || !fi.ModTime().Equal(f.mtime) {
		f.size, f.mtime, f.changed = fi.Size(), fi.ModTime(), now
	}
	settled := now.Sub(f.changed) >= w.s.cfg.Settle
	switch {
	case f.skipToEnd:
		return true
	case f.mode == modeUnknown:
		return f.size > 0 && (f.size != f.readSize || settled)
	case f.mode == modeLines && !f.gz:
		return f.size != f.readSize || settled && f.size > f.off
	}
	return settled && (f.size != f.readSize || f.replayTo > f.off)
}

// scan walks the folder: new files are added (with their checkpoint, if any),
// renamed ones followed, vanished ones forgotten once read.
func (w *watcher) scan(ctx context.Context, first bool) error {
	for _, f := range w.files {
		f.present.Store(false)
	}
	root := w.s.cfg.Path
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if p == root {
				return fmt.Errorf("watch %s: %w", root, err)
			}
			return nil // a folder that vanished or cannot be read: next scan
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		dev, ino := identity(fi)
		key := fmt.Sprintf("%d:%d", dev, ino)
		if f := w.files[key]; f != nil {
			f.present.Store(true)
			if f.path != p && !f.busy {
				f.path = p // renamed: the same file
			}
			return nil
		}
		if !w.wanted(d.Name()) {
			return nil
		}
		w.add(p, fi, dev, ino, key, first)
		return nil
	})
	if err != nil {
		return err
	}
	if first {
		// Checkpointed files that are gone cannot be re-read.
		for _, name := range w.sink.Streams() {
			if f := w.files[name]; f == nil {
				r, _ := w.sink.Resume(name)
				if string(r.Replay) != string(r.Next) {
					rp, _ := decodePos(r.Replay)
					w.sink.Report(decode.Problem{Input: rp.Path, Reason: "lost input", Detail: "the file is gone: its records cannot be re-read to rebuild detection state"})
				}
				w.sink.Forget(name)
			}
		}
	}
	now := w.s.now()
	for key, f := range w.files {
		if f.busy {
			continue
		}
		gone := !f.present.Load() && (f.f == nil || f.done || now.Sub(f.changed) >= w.s.cfg.Settle && f.off >= f.size)
		old := f.done && w.s.cfg.IgnoreOlder > 0 && now.Sub(f.mtime) > w.s.cfg.IgnoreOlder
		if gone || old {
			if f.f != nil {
				f.f.Close()
			}
			delete(w.files, key)
			w.sink.Forget(key)
		}
	}
	return nil
}

// wanted reports whether a file name passes Include and Exclude.
func (w *watcher) wanted(name string) bool {
	for _, p := range w.s.cfg.Exclude {
		if ok, _ := path.Match(p, name); ok {
			return false
		}
	}
	if len(w.s.cfg.Include) == 0 {
		return true
	}
	for _, p := range w.s.cfg.Include {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// add starts following a file found by a scan.
func (w *watcher) add(p string, fi os.FileInfo, dev, ino uint64, key string, first bool) {
	now := w.s.now()
	f := &file{key: key, path: p, dev: dev, ino: ino, size: fi.Size(), mtime: fi.ModTime(), changed: now}
	f.present.Store(true)
	if first {
		f.changed = time.Time{} // unchanged since before the start: settled
	}
	if r, ok := w.sink.Resume(key); ok {
		next, err1 := decodePos(r.Next)
		replay, err2 := decodePos(r.Replay)
		if err := errors.Join(err1, err2); err != nil {
			w.sink.Report(decode.Problem{Input: p, Reason: "bad checkpoint", Detail: err.Error() + "; reading the file from its start"})
		} else if fp, _ := fingerprint(p, next.FPN); next.FPN > 0 && fp != next.FP {
			w.sink.Report(decode.Problem{Input: p, Reason: "replaced", Detail: "another file took the checkpointed file's place; reading it from its start"})
		} else {
			f.fp, f.fpn, f.done = next.FP, next.FPN, next.Done
			f.off = replay.Off
			if len(r.Replay) == 0 {
				f.off = 0
			}
			if next.Off > f.off || next.Done && !replay.Done {
				f.replayTo = next.Off
				if next.Done {
					f.replayTo = 1<<63 - 1 // a finished file: re-read it whole
				}
				f.done = false
			}
			w.files[key] = f
			return
		}
	}
	if w.s.cfg.IgnoreOlder > 0 && now.Sub(fi.ModTime()) > w.s.cfg.IgnoreOlder {
		return
	}
	w.files[key] = f
	if first && w.sink.Fresh() && w.s.cfg.StartAt == "end" {
		f.skipToEnd = true
	}
}

// identity returns a file's device and inode.
func identity(fi os.FileInfo) (uint64, uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}

// fingerprint hashes a file's first n bytes (n ≤ fpSize); it returns the hash
// and how many bytes it covers (fewer when the file is shorter).
func fingerprint(p string, n int) (string, int) {
	if n <= 0 {
		n = fpSize
	}
	fh, err := os.Open(p)
	if err != nil {
		return "", 0
	}
	defer fh.Close()
	buf := make([]byte, n)
	k, _ := io.ReadFull(fh, buf)
	sum := sha256.Sum256(buf[:k])
	return hex.EncodeToString(sum[:12]), k
}
