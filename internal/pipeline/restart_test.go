package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/pipeline/pipelinetest"
	"github.com/vigil-dev/vigil/internal/store"
)

// The restart tests below crash the pipeline at chosen points — after every
// chunk boundary of a small corpus — and compare what it has committed at the
// end with a batch run of the same records in time order. The corpus has what
// made vigil serve's kill -9 test fail: a port scan that runs through a
// rotated file, its successor and a delivery filling a gap in the successor,
// windowless occurrences (exact counts), and a second scan whose two bursts
// close at a watermark, so that what a commit held and what the replay closes
// again must agree.

// memStream is one stream of the corpus: flow-log lines (no header).
type memStream struct {
	name  string
	lines []string
}

// arrival is a chunk of a stream, in the order the corpus arrives.
type arrival struct {
	stream   int
	from, to int // lines
}

// memSource reads the corpus like a checkpointed source: it re-reads what the
// sink says to replay, in ReplayFirst's order, then reads the arrivals not yet
// read, one chunk each. A run may crash: after crashAfter chunks of new input,
// each waited for until committed, it calls crash (the store then refuses
// every commit, as a dead process makes none), reads uncommitted more chunks
// that no commit will cover, and stops.
type memSource struct {
	streams    []memStream
	arrivals   []arrival
	replayRun  int // lines per replay chunk
	crashAfter int // -1: read everything and wait for its commit
	uncommit   int
	crash      func()
	done       chan struct{} // closed at the crash, or once everything is committed
	replayed   atomic.Int64  // lines re-read
	order      []string      // the streams of the replay's chunks, in order
}

func linePos(n int) []byte { return []byte(strconv.Itoa(n)) }

func parsePos(t testing.TB, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("bad position %q", b)
	}
	return n
}

func (s *memSource) chunk(ctx context.Context, lane ingest.Lane, st memStream, from, to int) error {
	data := pipelinetest.FlowHeader + "\n" + strings.Join(st.lines[from:to], "\n") + "\n"
	return lane.Chunk(st.name, linePos(to), func(ctx context.Context, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
		dec, err := vpcflow.New(vpcflow.DefaultConfig())
		if err != nil {
			return decode.Stats{}, err
		}
		return dec.Decode(ctx, decode.Input{Name: st.name}, strings.NewReader(data), emit, report)
	})
}

func (s *memSource) run(ctx context.Context, sink ingest.Sink, t testing.TB) error {
	lane := sink.NewLane()
	next := make([]int, len(s.streams))
	replayAt := map[string]int{}
	replayTo := map[string]int{}
	for i, st := range s.streams {
		if r, ok := sink.Resume(st.name); ok {
			next[i] = parsePos(t, r.Next)
			if from := parsePos(t, r.Replay); from < next[i] {
				replayAt[st.name], replayTo[st.name] = from, next[i]
			}
		}
	}
	for len(replayAt) > 0 {
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range replayAt {
				if !yield(n) {
					return
				}
			}
		})
		name := sink.ReplayFirst(names)
		i := slices.IndexFunc(s.streams, func(st memStream) bool { return st.name == name })
		from := replayAt[name]
		to := min(from+s.replayRun, replayTo[name])
		if err := s.chunk(ctx, lane, s.streams[i], from, to); err != nil {
			return err
		}
		s.order = append(s.order, name)
		s.replayed.Add(int64(to - from))
		if replayAt[name] = to; to >= replayTo[name] {
			delete(replayAt, name)
		}
	}
	if err := sink.ReplayDone(ctx); err != nil {
		return nil
	}
	read := 0
	for _, a := range s.arrivals {
		if a.to <= next[a.stream] {
			continue // committed before
		}
		if a.from != next[a.stream] {
			t.Errorf("stream %s resumes at line %d, not at a chunk boundary (%d)", s.streams[a.stream].name, next[a.stream], a.from)
			return nil
		}
		if err := s.chunk(ctx, lane, s.streams[a.stream], a.from, a.to); err != nil {
			return nil // the pipeline is stopping (the crash)
		}
		next[a.stream] = a.to
		read++
		switch {
		case s.crashAfter < 0 || read < s.crashAfter:
			if err := sink.WaitCommitted(ctx); err != nil {
				return nil
			}
		case read == s.crashAfter:
			if err := sink.WaitCommitted(ctx); err != nil {
				return nil
			}
			s.crash()
		case read == s.crashAfter+s.uncommit:
			close(s.done)
			<-ctx.Done()
			return nil
		}
	}
	// Everything read (and committed, but what came after a crash).
	if s.crashAfter >= 0 && read < s.crashAfter {
		s.crash()
	}
	close(s.done)
	<-ctx.Done()
	return nil
}

// sourceFunc adapts a function to ingest.Source.
type sourceFunc func(ctx context.Context, sink ingest.Sink) error

func (f sourceFunc) Run(ctx context.Context, sink ingest.Sink) error { return f(ctx, sink) }

// mortalStore refuses every commit once dead, the way a killed process makes
// none: the pipeline stops (its checkpoint is not what it expects).
type mortalStore struct {
	store.Store
	dead atomic.Bool
}

func (s *mortalStore) UpsertWithCheckpoint(ctx context.Context, fs []finding.Finding, now finding.Time, cp store.Checkpoint) (store.UpsertResult, error) {
	if s.dead.Load() {
		return store.UpsertResult{}, store.ErrCheckpointConflict
	}
	return s.Store.UpsertWithCheckpoint(ctx, fs, now, cp)
}

// restartCorpus builds the corpus. Event time runs an hour from t0:
//
//   - rotated (t0 … t0+30m) and current (t0+30m … t0+60m, but for a gap
//     t0+45m … t0+46m) carry background traffic, a record to the bad port
//     every 10 s (windowless: one occurrence each), and a port scan from
//     10.0.1.9 that never pauses for its window (one burst over the hour);
//   - delivered fills current's gap, and arrives when current gets there;
//   - 10.0.1.20 scans 10.0.2.20 from t0+5m to t0+10m, and again from t0+40m
//     to t0+45m: two bursts, the first closed by the watermark mid-way;
//   - a record a day later in every stream closes every window.
func restartCorpus(chunkLines int) ([]memStream, []arrival, []string) {
	type rec struct {
		at   time.Time
		line string
	}
	var rotated, current, delivered []rec
	port := 0
	for s := 0; s < 3600; s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		var recs []rec
		recs = append(recs, rec{at, pipelinetest.FlowLine(at, fmt.Sprintf("10.0.1.%d", 30+s%7), "10.0.3.9", 443, "ACCEPT")})
		if s%10 == 3 {
			recs = append(recs, rec{at, pipelinetest.FlowLine(at, "10.0.1.5", "198.51.100.44", 4444, "ACCEPT")})
		}
		if s%2 == 0 {
			port++
			recs = append(recs, rec{at, pipelinetest.FlowLine(at, "10.0.1.9", "10.0.2.7", 1000+port%700, "REJECT")})
		}
		if m := s / 60; (m >= 5 && m < 10 || m >= 40 && m < 45) && s%3 == 0 {
			recs = append(recs, rec{at, pipelinetest.FlowLine(at, "10.0.1.20", "10.0.2.20", 2000+s%500, "REJECT")})
		}
		switch {
		case s < 1800:
			rotated = append(rotated, recs...)
		case s >= 2700 && s < 2760:
			delivered = append(delivered, recs...)
		default:
			current = append(current, recs...)
		}
	}
	late := t0.Add(24 * time.Hour)
	for _, l := range []*[]rec{&rotated, &delivered, &current} {
		*l = append(*l, rec{late, pipelinetest.FlowLine(late, "10.0.1.40", "10.0.3.9", 443, "ACCEPT")})
	}
	lines := func(rs []rec) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.line
		}
		return out
	}
	streams := []memStream{{"rotated", lines(rotated)}, {"current", lines(current)}, {"delivered", lines(delivered)}}
	// Arrival: rotated whole, current up to its gap, delivered (but its last
	// record), current to its end (but its last record), then the day-late
	// records.
	var arr []arrival
	add := func(stream, from, to int) {
		for a := from; a < to; a += chunkLines {
			arr = append(arr, arrival{stream, a, min(a+chunkLines, to)})
		}
	}
	gap := slices.IndexFunc(current, func(r rec) bool { return !r.at.Before(t0.Add(45 * time.Minute)) })
	add(0, 0, len(rotated)-1)
	add(1, 0, gap)
	add(2, 0, len(delivered)-1)
	add(1, gap, len(current)-1)
	add(0, len(rotated)-1, len(rotated))
	add(2, len(delivered)-1, len(delivered))
	add(1, len(current)-1, len(current))
	// The reference reads every record once, in time order.
	all := slices.Concat(rotated[:len(rotated)-1], current[:gap], delivered[:len(delivered)-1], current[gap:])
	slices.SortStableFunc(all, func(a, b rec) int { return a.at.Compare(b.at) })
	return streams, arr, append(lines(all), rotated[len(rotated)-1].line, delivered[len(delivered)-1].line, current[len(current)-1].line)
}

// runMem runs the pipeline over the corpus until src.done, then stops it.
// With early, findings are raised when their threshold is crossed and
// continued when the burst ends (detect.Config.RaiseAtThreshold).
func runMem(t *testing.T, st store.Store, rules *detect.RuleSet, src *memSource, early bool) {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	cfg.CommitInterval, cfg.TickInterval, cfg.MaxReplay = 10*time.Millisecond, time.Minute, 3*time.Hour
	dc := detect.DefaultConfig()
	// Streams never go idle here: the watermark follows event time only, so
	// the run does not depend on how fast it goes.
	dc.Shards, dc.IdleAfter = 2, 24*time.Hour
	dc.RaiseAtThreshold = early
	p, err := pipeline.New(cfg, pipeline.Deps{Detect: dc, Rules: rules, Store: st,
		Sources: []pipeline.NamedSource{{Name: "mem", Source: sourceFunc(func(ctx context.Context, sink ingest.Sink) error { return src.run(ctx, sink, t) })}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-src.done:
	case err := <-done:
		cancel()
		t.Fatalf("pipeline stopped early: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("the run did not get to its end within 60s")
	}
	cancel()
	if err := <-done; err != nil && !strings.Contains(err.Error(), "another writer") {
		t.Fatalf("pipeline: %v", err)
	}
}

// TestRestartAtEveryChunk crashes the pipeline after every chunk boundary of
// the corpus in turn — stride runs, each crashing every stride chunks from its
// own offset, with two more chunks read but not committed at each crash — and
// checks after each sequence that the stored findings are the batch run's:
// same findings, counts, first and last seen, records counted. It does so
// with findings raised when their burst ends, and raised when their threshold
// is crossed then continued (serve's default): an early finding committed
// before a crash is continued, not raised again, after the restart.
func TestRestartAtEveryChunk(t *testing.T) {
	const chunkLines, stride = 400, 5
	rules := pipelinetest.Rules(t)
	streams, arrivals, ordered := restartCorpus(chunkLines)
	path := filepath.Join(t.TempDir(), "ordered.log")
	pipelinetest.Append(t, path, pipelinetest.FlowHeader)
	pipelinetest.Append(t, path, ordered...)
	want := batchScan(t, rules, path)
	if n := countType(want, "Recon:EC2/Portscan"); n != 3 {
		t.Fatalf("the batch run finds %d port scan occurrences; the corpus should make 3", n)
	}
	t.Logf("%d chunks; batch: %s", len(arrivals), describe(want))

	for run := range 2 * stride {
		offset, early := run%stride, run >= stride
		name := fmt.Sprintf("from-chunk-%d", offset+1)
		if early {
			name = "early-" + name
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := &mortalStore{Store: pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))}
			var replayed int64
			var orders []string
			// Each run commits the chunks up to its crash point (the first
			// run offset+1 of them, the others stride more), reads two more
			// that are lost, and dies; the last run reads to the end.
			for crashAt := offset + 1; ; crashAt += stride {
				crashAfter := min(crashAt, stride)
				if crashAt > len(arrivals) {
					crashAfter = -1
				}
				src := &memSource{streams: streams, arrivals: arrivals, replayRun: chunkLines, uncommit: 2,
					crashAfter: crashAfter, crash: func() { st.dead.Store(true) }, done: make(chan struct{})}
				st.dead.Store(false)
				runMem(t, st, rules, src, early)
				replayed += src.replayed.Load()
				orders = append(orders, strings.Join(compact(src.order), ","))
				if testing.Verbose() {
					var fs []*finding.Finding
					for _, f := range pipelinetest.All(t, st) {
						fs = append(fs, &f)
					}
					t.Logf("after the run crashing at chunk %d: %s", crashAt, describe(fs))
				}
				if crashAfter < 0 {
					break
				}
			}
			if replayed == 0 {
				t.Error("nothing was replayed")
			}
			compareFindings(t, fmt.Sprintf("crashes every %d chunks from chunk %d", stride, offset+1), pipelinetest.All(t, st), want)
			t.Logf("replay orders: %v", orders)
		})
	}
}

// compact collapses runs of one name.
func compact(names []string) []string {
	var out []string
	for _, n := range names {
		if len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out
}

func countType(fs []*finding.Finding, typ finding.Type) int64 {
	var n int64
	for _, f := range fs {
		if f.Type == typ {
			n += f.Service.Count
		}
	}
	return n
}

func describe(fs []*finding.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s on %s ×%d %s…%s", f.Type, finding.ResourceID(&f.Resource), f.Service.Count,
			f.Service.EventFirstSeen, f.Service.EventLastSeen))
	}
	return strings.Join(parts, "; ")
}

// compareFindings reports every difference between stored findings and the
// batch run's: missing, extra, or with another count, first or last seen.
func compareFindings(t *testing.T, what string, got []finding.Finding, want []*finding.Finding) {
	t.Helper()
	byID := map[string]finding.Finding{}
	for _, g := range got {
		byID[g.ID] = g
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		if !ok {
			t.Errorf("%s: missing %s on %s: batch count %d, first %s, last %s", what, w.Type, finding.ResourceID(&w.Resource),
				w.Service.Count, w.Service.EventFirstSeen, w.Service.EventLastSeen)
			continue
		}
		delete(byID, w.ID)
		ge, we := g.Service.AdditionalInfo[finding.KeyVigilEvents], w.Service.AdditionalInfo[finding.KeyVigilEvents]
		if g.Service.Count != w.Service.Count || g.Service.EventFirstSeen != w.Service.EventFirstSeen || g.Service.EventLastSeen != w.Service.EventLastSeen ||
			fmt.Sprint(ge) != fmt.Sprint(we) {
			t.Errorf("%s: %s on %s: count %d first %s last %s events %v; batch count %d first %s last %s events %v", what, w.Type, finding.ResourceID(&w.Resource),
				g.Service.Count, g.Service.EventFirstSeen, g.Service.EventLastSeen, ge, w.Service.Count, w.Service.EventFirstSeen, w.Service.EventLastSeen, we)
		}
	}
	for _, g := range byID {
		t.Errorf("%s: extra %s on %s: count %d, first %s, last %s", what, g.Type, finding.ResourceID(&g.Resource),
			g.Service.Count, g.Service.EventFirstSeen, g.Service.EventLastSeen)
	}
}

// TestBacklogHoldsWatermark: a stream whose source has more of it in hand
// (Sink.Pending) holds the watermark back however long its reader takes to
// come back to it — the tail of a rotated file read alongside its successor
// on a busy machine. Here the successor is read whole, half an hour of event
// time ahead, while the rotated file waits well past idle_after: the port
// scan that runs through both is still one burst from its first record, as in
// a batch run.
func TestBacklogHoldsWatermark(t *testing.T) {
	rules := pipelinetest.Rules(t)
	var rotated, current []string
	for s := 0; s < 3600; s += 2 {
		at := t0.Add(time.Duration(s) * time.Second)
		line := pipelinetest.FlowLine(at, "10.0.1.9", "10.0.2.7", 1000+s/2%700, "REJECT")
		if s < 1800 {
			rotated = append(rotated, line)
		} else {
			current = append(current, line)
		}
	}
	late := pipelinetest.FlowLine(t0.Add(24*time.Hour), "10.0.1.40", "10.0.3.9", 443, "ACCEPT")
	rotated, current = append(rotated, late), append(current, late)
	path := filepath.Join(t.TempDir(), "ordered.log")
	pipelinetest.Append(t, path, pipelinetest.FlowHeader)
	pipelinetest.Append(t, path, rotated[:len(rotated)-1]...)
	pipelinetest.Append(t, path, current...)
	pipelinetest.Append(t, path, late)
	want := batchScan(t, rules, path)

	st := pipelinetest.OpenStore(t, filepath.Join(t.TempDir(), "vigil.db"))
	src := &memSource{streams: []memStream{{"rotated", rotated}, {"current", current}}}
	done := make(chan struct{})
	source := sourceFunc(func(ctx context.Context, sink ingest.Sink) error {
		if err := sink.ReplayDone(ctx); err != nil {
			return nil
		}
		lane := sink.NewLane()
		// A tenth of the rotated file; the rest is in hand.
		if err := src.chunk(ctx, lane, src.streams[0], 0, 90); err != nil {
			return nil
		}
		sink.Pending("rotated", true)
		// The reader is busy elsewhere for six times idle_after, then reads
		// the successor whole.
		time.Sleep(300 * time.Millisecond)
		for from := 0; from < len(current)-1; from += 200 {
			if err := src.chunk(ctx, lane, src.streams[1], from, min(from+200, len(current)-1)); err != nil {
				return nil
			}
		}
		if err := src.chunk(ctx, lane, src.streams[0], 90, len(rotated)); err != nil {
			return nil
		}
		sink.Pending("rotated", false)
		if err := src.chunk(ctx, lane, src.streams[1], len(current)-1, len(current)); err != nil {
			return nil
		}
		if err := sink.WaitCommitted(ctx); err != nil {
			return nil
		}
		close(done)
		<-ctx.Done()
		return nil
	})
	cfg := pipeline.DefaultConfig()
	cfg.CommitInterval, cfg.TickInterval = 10*time.Millisecond, 100*time.Millisecond
	dc := detect.DefaultConfig()
	dc.Shards, dc.IdleAfter = 2, 50*time.Millisecond
	p, err := pipeline.New(cfg, pipeline.Deps{Detect: dc, Rules: rules, Store: st, Sources: []pipeline.NamedSource{{Name: "mem", Source: source}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()
	select {
	case <-done:
	case err := <-runErr:
		t.Fatalf("pipeline stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not done within 30s")
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	compareFindings(t, "a backlog read late", pipelinetest.All(t, st), want)
}
