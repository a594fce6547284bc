package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Writing the corpus. In the S3 layout every file (one flow log, one VPC's
// resolver log or one account-region's CloudTrail for one 5-minute period) is a
// unit of work; workers take units in turn and stream each into its own gzip
// file, so memory does not grow with the corpus and both cores compress. In the
// flat layout each stream goes uncompressed into one file, written in period
// order by one goroutine per file.

const (
	// blockSize is how much formatted text is gathered before it is handed to the
	// compressor or the file.
	blockSize = 256 << 10
	// maxFlowFile is the size at which AWS closes a flow-log file early and
	// starts another for the same period.
	maxFlowFile = 75 << 20
	// gzipLevel trades size for speed: level 1 of klauspost/compress compresses
	// flow logs about 8:1 at several hundred MB/s (see docs/simulate.md).
	gzipLevel = gzip.BestSpeed
)

// ErrOutputNotEmpty is returned by Run when the output folder holds files and
// Config.Overwrite is not set.
var ErrOutputNotEmpty = errors.New("output folder is not empty")

// ownOutput lists what the simulator writes at the top of the output folder;
// with Overwrite, these (and only these) are removed first.
var ownOutput = []string{"AWSLogs", "inventory", "abuse-report", "labels.json", "vpcflow-v2.log", "vpcflow-custom.log", "dns.log", "cloudtrail.json"}

// prepareOut creates the output folder and checks it can be written to. It
// returns the folder's cleaned path.
func prepareOut(dir string, overwrite bool) (string, error) {
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create output folder %s: %w", dir, pathErr(err))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read output folder %s: %w", dir, pathErr(err))
	}
	if len(entries) > 0 {
		if !overwrite {
			return "", fmt.Errorf("%w: %s", ErrOutputNotEmpty, dir)
		}
		for _, name := range ownOutput {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return "", fmt.Errorf("remove earlier output %s: %w", filepath.Join(dir, name), pathErr(err))
			}
		}
	}
	probe, err := os.CreateTemp(dir, ".vigil-simulate-*")
	if err != nil {
		return "", fmt.Errorf("write to output folder %s: %w", dir, pathErr(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return dir, nil
}

// pathErr strips the operation and path from an *fs.PathError, which the caller's
// message already names, leaving e.g. "permission denied".
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// countingWriter counts the bytes that reach the disk.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// file is one output file being written: formatted text gathers in buf and goes
// to the compressor (S3 layout) or straight to the file (flat layout) in blocks.
type file struct {
	path string
	what string // "flow log", "resolver log", "CloudTrail", for messages
	f    *os.File
	gz   *gzip.Writer  // nil in the flat layout
	bw   *bufio.Writer // gathers the compressor's small writes into large ones
	dst  io.Writer
	buf  []byte
	size int64 // uncompressed bytes handed on so far
}

// flush hands buf on.
func (f *file) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	if _, err := f.dst.Write(f.buf); err != nil {
		return fmt.Errorf("write %s file %s: %w", f.what, f.path, pathErr(err))
	}
	f.size += int64(len(f.buf))
	f.buf = f.buf[:0]
	return nil
}

// close flushes and closes the file.
func (f *file) close() error {
	err := f.flush()
	if f.gz != nil && err == nil {
		if cerr := f.gz.Close(); cerr != nil {
			err = fmt.Errorf("write %s file %s: %w", f.what, f.path, pathErr(cerr))
		} else if cerr := f.bw.Flush(); cerr != nil {
			err = fmt.Errorf("write %s file %s: %w", f.what, f.path, pathErr(cerr))
		}
	}
	if cerr := f.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s file %s: %w", f.what, f.path, pathErr(cerr))
	}
	return err
}

// writer holds what one goroutine reuses from file to file.
type writer struct {
	s    *Simulator
	out  string
	gz   *gzip.Writer
	bw   *bufio.Writer
	buf  []byte
	dirs map[string]bool // folders already created
}

func (s *Simulator) newWriter(out string, compress bool) *writer {
	w := &writer{s: s, out: out, buf: make([]byte, 0, blockSize+64<<10), dirs: make(map[string]bool)}
	if compress {
		w.gz, _ = gzip.NewWriterLevel(io.Discard, gzipLevel) // the level is valid
		w.bw = bufio.NewWriterSize(io.Discard, 128<<10)
	}
	return w
}

// create opens the file at key (a slash-separated path under the output folder).
// A gzip file gets a deterministic header: no name, no modification time.
func (w *writer) create(key, what string) (*file, error) {
	path := filepath.Join(w.out, filepath.FromSlash(key))
	if dir := filepath.Dir(path); !w.dirs[dir] {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create folder %s: %w", dir, pathErr(err))
		}
		w.dirs[dir] = true
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s file %s: %w", what, path, pathErr(err))
	}
	w.s.counters.Files.Add(1)
	fl := &file{path: path, what: what, f: f, buf: w.buf[:0]}
	cw := countingWriter{w: f, n: &w.s.counters.Bytes}
	if w.gz != nil {
		w.bw.Reset(cw)
		w.gz.Reset(w.bw)
		// MTIME 0 means "no time". klauspost's writer would otherwise write the
		// zero time.Time's Unix value truncated to 32 bits, a date in 2042.
		w.gz.ModTime = time.Unix(0, 0)
		fl.gz, fl.bw, fl.dst = w.gz, w.bw, w.gz
	} else {
		fl.dst = cw
	}
	return fl, nil
}

// release takes back the block buffer of a closed file for the next one.
func (w *writer) release(f *file) { w.buf = f.buf[:0] }

// tally adds records to a counter in batches, to keep atomic traffic low.
type tally struct {
	c *atomic.Int64
	n int64
}

func (t *tally) add() {
	if t.n++; t.n == 4096 {
		t.flush()
	}
}

func (t *tally) flush() {
	t.c.Add(t.n)
	t.n = 0
}

// timeKey is the period stamp AWS puts in file names, e.g. 20261101T0005Z.
func timeKey(t int64) (date, stamp string) {
	tm := time.Unix(t, 0).UTC()
	return tm.Format("2006/01/02"), tm.Format("20060102T1504Z")
}

// flowKey is the S3 key of a flow-log file:
// AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz
func (s *Simulator) flowKey(v *vpc, p, part int) string {
	date, stamp := timeKey(s.periodStart(p))
	r := derive(s.cfg.Seed, tag("flow-file"), tag(v.id), uint64(p), uint64(part))
	acc := v.account.id
	return "AWSLogs/" + acc + "/vpcflowlogs/" + v.region + "/" + date + "/" +
		acc + "_vpcflowlogs_" + v.region + "_" + v.flowLogID + "_" + stamp + "_" + r.hexString(8) + ".log.gz"
}

// dnsKey is the S3 key of a resolver query-log file:
// AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/<vpc-id>_vpcdnsquerylogs_<account>_<YYYYMMDDTHHmmZ>_<hash>.log.gz
func (s *Simulator) dnsKey(v *vpc, p int) string {
	date, stamp := timeKey(s.periodStart(p))
	r := derive(s.cfg.Seed, tag("dns-file"), tag(v.id), uint64(p))
	acc := v.account.id
	return "AWSLogs/" + acc + "/vpcdnsquerylogs/" + v.id + "/" + date + "/" +
		v.id + "_vpcdnsquerylogs_" + acc + "_" + stamp + "_" + r.hexString(8) + ".log.gz"
}

// trailKey is the S3 key of a CloudTrail file:
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz
func (s *Simulator) trailKey(li, p int) string {
	lane := ctLanes[li]
	acc := s.est.accounts[lane.account].id
	date, stamp := timeKey(s.periodStart(p))
	r := derive(s.cfg.Seed, tag("trail-file"), uint64(li), uint64(p))
	return "AWSLogs/" + acc + "/CloudTrail/" + lane.region + "/" + date + "/" +
		acc + "_CloudTrail_" + lane.region + "_" + stamp + "_" + r.fromAlphabet(mixedAlnum, 16) + ".json.gz"
}

func (s *Simulator) periodStart(p int) int64 { return s.start + int64(p)*periodSecs }

// runS3 writes the log files in the S3 layout, units in parallel.
func (s *Simulator) runS3(ctx context.Context, out string, workers int) error {
	nv := len(s.est.vpcs)
	perPeriod := 2*nv + len(ctLanes)
	ws := make([]*writer, workers)
	for i := range ws {
		ws[i] = s.newWriter(out, true)
	}
	return parallel(ctx, s.periods*perPeriod, workers, func(wi, i int) error {
		w := ws[wi]
		p, k := i/perPeriod, i%perPeriod
		switch {
		case k < nv:
			return w.flowFile(ctx, p, k)
		case k < 2*nv:
			return w.dnsFile(ctx, p, k-nv)
		default:
			return w.trailFile(ctx, p, k-2*nv)
		}
	})
}

// flowFile writes VPC vi's flow log for period p, starting another file of the
// same period whenever one reaches 75 MB, each with the header line first.
func (w *writer) flowFile(ctx context.Context, p, vi int) error {
	v := w.s.est.vpcs[vi]
	var (
		f    *file
		part int
		err  error
	)
	count := tally{c: &w.s.counters.FlowRecords}
	genErr := w.s.genFlows(ctx, p, vi, func(r *flow) {
		if err != nil {
			return
		}
		if f == nil {
			if f, err = w.create(w.s.flowKey(v, p, part), "flow log"); err != nil {
				return
			}
			f.buf = append(f.buf, v.format.header...)
			f.buf = append(f.buf, '\n')
		}
		f.buf = v.format.appendRecord(f.buf, r)
		count.add()
		if len(f.buf) >= blockSize {
			if err = f.flush(); err == nil && f.size >= maxFlowFile {
				err = f.close()
				w.release(f)
				f, part = nil, part+1
			}
		}
	})
	count.flush()
	return finish(w, f, err, genErr)
}

// finish closes a unit's last file and returns the first error.
func finish(w *writer, f *file, err, genErr error) error {
	if f != nil {
		if cerr := f.close(); err == nil {
			err = cerr
		}
		w.release(f)
	}
	if err == nil {
		err = genErr
	}
	return err
}

// dnsFile writes VPC vi's resolver query log for period p.
func (w *writer) dnsFile(ctx context.Context, p, vi int) error {
	v := w.s.est.vpcs[vi]
	var (
		f   *file
		err error
	)
	count := tally{c: &w.s.counters.DNSRecords}
	genErr := w.s.genDNS(ctx, p, vi, func(q *dnsQuery) {
		if err != nil {
			return
		}
		if f == nil {
			if f, err = w.create(w.s.dnsKey(v, p), "resolver log"); err != nil {
				return
			}
		}
		f.buf = appendDNS(f.buf, q)
		count.add()
		if len(f.buf) >= blockSize {
			err = f.flush()
		}
	})
	count.flush()
	return finish(w, f, err, genErr)
}

// trailFile writes CloudTrail lane li's file for period p: one JSON object,
// {"Records":[…]}.
func (w *writer) trailFile(ctx context.Context, p, li int) error {
	var (
		f   *file
		err error
	)
	count := tally{c: &w.s.counters.CloudTrailRecords}
	genErr := w.s.genEvents(ctx, p, li, func(ev *ctEvent) {
		if err != nil {
			return
		}
		if f == nil {
			if f, err = w.create(w.s.trailKey(li, p), "CloudTrail"); err != nil {
				return
			}
			f.buf = append(f.buf, `{"Records":[`...)
		} else {
			f.buf = append(f.buf, ',')
		}
		err = w.appendEvent(f, ev)
		count.add()
	})
	count.flush()
	if f != nil && err == nil {
		f.buf = append(f.buf, "]}"...)
	}
	return finish(w, f, err, genErr)
}

// appendEvent appends ev's JSON to f.
func (w *writer) appendEvent(f *file, ev *ctEvent) error {
	f.buf = appendEvent(f.buf, ev)
	if len(f.buf) >= blockSize {
		return f.flush()
	}
	return nil
}

// runFlat writes each stream into one uncompressed file: vpcflow-<format>.log
// for each flow format in use (all VPCs of that format, period by period, one
// header line at the top), dns.log and cloudtrail.json ({"Records":[…]}).
func (s *Simulator) runFlat(ctx context.Context, out string) error {
	var jobs []func(w *writer) error
	for _, format := range []*flowFormat{formatV2, formatCustom} {
		var vis []int
		for i, v := range s.est.vpcs {
			if v.format == format {
				vis = append(vis, i)
			}
		}
		if len(vis) == 0 {
			continue
		}
		jobs = append(jobs, func(w *writer) error { return w.flatFlows(ctx, format, vis) })
	}
	jobs = append(jobs, func(w *writer) error { return w.flatDNS(ctx) })
	jobs = append(jobs, func(w *writer) error { return w.flatTrail(ctx) })
	return parallel(ctx, len(jobs), len(jobs), func(_, i int) error {
		return jobs[i](s.newWriter(out, false))
	})
}

func (w *writer) flatFlows(ctx context.Context, format *flowFormat, vis []int) error {
	f, err := w.create("vpcflow-"+format.name+".log", "flow log")
	if err != nil {
		return err
	}
	f.buf = append(f.buf, format.header...)
	f.buf = append(f.buf, '\n')
	count := tally{c: &w.s.counters.FlowRecords}
	for p := 0; p < w.s.periods && err == nil; p++ {
		for _, vi := range vis {
			genErr := w.s.genFlows(ctx, p, vi, func(r *flow) {
				if err != nil {
					return
				}
				f.buf = format.appendRecord(f.buf, r)
				count.add()
				if len(f.buf) >= blockSize {
					err = f.flush()
				}
			})
			if err == nil {
				err = genErr
			}
		}
	}
	count.flush()
	return finish(w, f, err, nil)
}

func (w *writer) flatDNS(ctx context.Context) error {
	f, err := w.create("dns.log", "resolver log")
	if err != nil {
		return err
	}
	count := tally{c: &w.s.counters.DNSRecords}
	for p := 0; p < w.s.periods && err == nil; p++ {
		for vi := range w.s.est.vpcs {
			genErr := w.s.genDNS(ctx, p, vi, func(q *dnsQuery) {
				if err != nil {
					return
				}
				f.buf = appendDNS(f.buf, q)
				count.add()
				if len(f.buf) >= blockSize {
					err = f.flush()
				}
			})
			if err == nil {
				err = genErr
			}
		}
	}
	count.flush()
	return finish(w, f, err, nil)
}

func (w *writer) flatTrail(ctx context.Context) error {
	f, err := w.create("cloudtrail.json", "CloudTrail")
	if err != nil {
		return err
	}
	f.buf = append(f.buf, `{"Records":[`...)
	count := tally{c: &w.s.counters.CloudTrailRecords}
	first := true
	for p := 0; p < w.s.periods && err == nil; p++ {
		for li := range ctLanes {
			genErr := w.s.genEvents(ctx, p, li, func(ev *ctEvent) {
				if err != nil {
					return
				}
				if !first {
					f.buf = append(f.buf, ',')
				}
				first = false
				err = w.appendEvent(f, ev)
				count.add()
			})
			if err == nil {
				err = genErr
			}
		}
	}
	f.buf = append(f.buf, "]}"...)
	count.flush()
	return finish(w, f, err, nil)
}
