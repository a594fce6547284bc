package simulate

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

// Simulator writes one corpus. It is built by New, which lays out the estate and
// the scenarios and fixes every budget without touching the disk, and run once by
// Run.
type Simulator struct {
	cfg        Config
	est        *estate
	scenarios  []*scenario
	start, end int64 // the window, Unix seconds
	periods    int

	bgFlow []*bgModel  // per VPC
	bgDNS  []*dnsModel // per VPC
	bgCT   []*ctModel  // per CloudTrail lane (account × region)

	flowBG, dnsBG, ctBG budget
	totals              Totals
	counters            Counters
}

// Totals are the numbers of records the corpus will hold, known once New
// returns; progress is measured against them.
type Totals struct {
	Flow, DNS, CloudTrail int64
}

// All returns the number of records of all streams.
func (t Totals) All() int64 { return t.Flow + t.DNS + t.CloudTrail }

// Counters count what Run has written so far. They are updated while Run works,
// from several goroutines, and may be read at any time (for a progress display).
type Counters struct {
	FlowRecords       atomic.Int64
	DNSRecords        atomic.Int64
	CloudTrailRecords atomic.Int64
	Files             atomic.Int64
	Bytes             atomic.Int64 // bytes written to disk (compressed, in the S3 layout)
}

// Summary reports a finished run.
type Summary struct {
	Totals
	Files      int64
	Bytes      int64
	Elapsed    time.Duration
	Expected   int // labelled findings that must be raised
	LookAlikes int // labelled findings that must not
	Out        string
}

// Minimum background volumes on top of the scenarios' records.
const (
	minFlowBackground = 1000
	minDNSBackground  = 1000
	minCTBackground   = 200
)

// New validates cfg, builds the estate and the scenarios, and fixes how many
// records every file will hold. It does no I/O. Its errors are *FieldError
// values (joined when there are several): the configuration is at fault.
func New(cfg Config) (*Simulator, error) {
	cfg.Start = cfg.Start.UTC()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Simulator{
		cfg:     cfg,
		start:   cfg.Start.Unix(),
		end:     cfg.Start.Add(cfg.Duration).Unix(),
		periods: int(cfg.Duration / period),
	}
	s.est = newEstate(cfg.Seed, cfg.Start)
	names := newDNSNames(cfg.Seed)
	for _, v := range s.est.vpcs {
		v.format = formatCustom
		if cfg.FlowFormat == FlowFormatV2 || (cfg.FlowFormat == FlowFormatMixed && v.name == "B") {
			v.format = formatV2
		}
		s.bgFlow = append(s.bgFlow, newBGModel(s.est, v, cfg.Seed))
		s.bgDNS = append(s.bgDNS, newDNSModel(v, names))
	}
	for _, l := range ctLanes {
		s.bgCT = append(s.bgCT, newCTModel(cfg.Seed, s.est.accounts[l.account], l.region))
	}

	s.scenarios = newScenarios(&scenarioSetup{
		seed: cfg.Seed, est: s.est, records: cfg.Records, start: s.start, end: s.end,
	})
	var scenFlow, scenDNS, scenCT int64
	for _, sc := range s.scenarios {
		if err := sc.measure(cfg.Seed, s.start, s.end); err != nil {
			return nil, err
		}
		scenFlow += sc.nFlow
		scenDNS += sc.nDNS
		scenCT += sc.nCT
	}
	if need := scenFlow + minFlowBackground; cfg.Records < need {
		return nil, fieldErr("records", "must be at least %d: the scenarios alone write %d flow records", need, scenFlow)
	}
	s.totals = Totals{
		Flow:       cfg.Records,
		DNS:        max(cfg.Records/10, scenDNS+minDNSBackground),
		CloudTrail: max(cfg.Records/100, scenCT+minCTBackground),
	}
	s.flowBG = newBudget(s.totals.Flow-scenFlow, s.start, s.periods, flowLaneWeights)
	s.dnsBG = newBudget(s.totals.DNS-scenDNS, s.start, s.periods, dnsLaneWeights)
	s.ctBG = newBudget(s.totals.CloudTrail-scenCT, s.start, s.periods, ctLaneWeights())
	return s, nil
}

// Totals returns the numbers of records Run will write.
func (s *Simulator) Totals() Totals { return s.totals }

// Counters returns the live counters of Run's progress.
func (s *Simulator) Counters() *Counters { return &s.counters }

// Run writes the corpus: inventory first, then the log files, and labels.json
// last, so a folder with a labels.json holds a complete corpus. It returns when
// everything is written, on the first error, or when ctx is cancelled (leaving
// an incomplete corpus without labels.json).
func (s *Simulator) Run(ctx context.Context) (Summary, error) {
	began := time.Now()
	out, err := prepareOut(s.cfg.Out, s.cfg.Overwrite)
	if err != nil {
		return Summary{}, err
	}
	if err := s.writeInventory(out); err != nil {
		return Summary{}, err
	}
	if err := s.writeAbuseReport(out); err != nil {
		return Summary{}, err
	}
	workers := s.cfg.Workers
	if workers == 0 {
		// Twice the cores: creating a file can block for a while, and another
		// worker should use the core meanwhile.
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	switch s.cfg.Layout {
	case LayoutFlat:
		err = s.runFlat(ctx, out)
	default:
		err = s.runS3(ctx, out, workers)
	}
	if err != nil {
		return Summary{}, err
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	if err := s.writeLabels(out); err != nil {
		return Summary{}, err
	}
	sum := Summary{
		Totals: Totals{
			Flow:       s.counters.FlowRecords.Load(),
			DNS:        s.counters.DNSRecords.Load(),
			CloudTrail: s.counters.CloudTrailRecords.Load(),
		},
		Files:   s.counters.Files.Load(),
		Bytes:   s.counters.Bytes.Load(),
		Elapsed: time.Since(began),
		Out:     out,
	}
	for _, sc := range s.scenarios {
		sum.Expected += len(sc.expect)
		sum.LookAlikes += len(sc.expectNone)
	}
	if sum.Totals != s.totals {
		return sum, fmt.Errorf("BUG: wrote %+v records, planned %+v", sum.Totals, s.totals)
	}
	return sum, nil
}

// parallel runs work(i) for i in [0, n) on workers goroutines and returns the
// first error; after an error or cancellation the remaining items are skipped.
func parallel(ctx context.Context, n, workers int, work func(worker, i int) error) error {
	var next atomic.Int64
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					errs <- nil
					return
				}
				if err := work(w, i); err != nil {
					next.Store(int64(n)) // stop the others
					errs <- err
					return
				}
			}
		}(w)
	}
	var first error
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// A budget spreads a number of background records over periods and lanes (the
// VPCs, or the CloudTrail account × region pairs) in proportion to a daily
// traffic curve and the lanes' weights. Every unit's share is computed exactly
// from cumulative weights, so the shares always add up to the total.
type budget struct {
	total   int64
	lanes   []int64 // cumulative lane weights; lanes[len-1] is their sum
	cum     []int64 // cumulative period weights, len periods+1
	weights []int64 // period weights
}

// hourly is the relative volume of traffic by UTC hour: quiet at night in the
// Americas, busiest in the US afternoon.
var hourly = [24]int64{70, 62, 56, 52, 50, 50, 54, 60, 68, 76, 84, 92, 100, 108, 114, 118, 120, 120, 118, 112, 104, 96, 88, 78}

var (
	flowLaneWeights = []int64{85, 15} // VPC A, VPC B
	dnsLaneWeights  = []int64{80, 20}
)

// ctLane is one CloudTrail lane: an account (index into the estate) and a region.
type ctLane struct {
	account int
	region  string
	weight  int64
}

var ctLanes = []ctLane{{0, region, 60}, {0, otherRegion, 4}, {1, region, 36}}

func ctLaneWeights() []int64 {
	var w []int64
	for _, l := range ctLanes {
		w = append(w, l.weight)
	}
	return w
}

// newBudget spreads total records over the periods of a window beginning at
// start (Unix seconds) and over lanes in proportion to laneWeights.
func newBudget(total, start int64, periods int, laneWeights []int64) budget {
	b := budget{total: total, cum: make([]int64, periods+1), weights: make([]int64, periods)}
	sum := int64(0)
	for _, w := range laneWeights {
		sum += w
		b.lanes = append(b.lanes, sum)
	}
	for p := range b.weights {
		h := (start + int64(p)*periodSecs) / 3600 % 24
		b.weights[p] = hourly[h]
		b.cum[p+1] = b.cum[p] + b.weights[p]
	}
	return b
}

// share returns the number of records of unit (p, lane).
func (b *budget) share(p, lane int) int64 {
	return b.before(p, lane+1) - b.before(p, lane)
}

// before returns the records allotted to the units before (p, lane): the total
// times the cumulative weight of those units over the total weight.
func (b *budget) before(p, lane int) int64 {
	laneSum := b.lanes[len(b.lanes)-1]
	w := b.cum[p] * laneSum
	if lane > 0 {
		w += b.weights[p] * b.lanes[lane-1]
	}
	all := b.cum[len(b.cum)-1] * laneSum
	hi, lo := bits.Mul64(uint64(b.total), uint64(w))
	q, _ := bits.Div64(hi, lo, uint64(all))
	return int64(q)
}

// split returns the part of n that falls into slot i of k equal slots.
func split(n int64, i, k int) int64 { return n*int64(i+1)/int64(k) - n*int64(i)/int64(k) }

// seconds spreads a period's records over its seconds at random — exactly n in
// all, in proportion to random weights — so that a few events a period do not
// all land on the same second, and many do not arrive at a metronomic pace.
type seconds struct {
	cum [periodSecs + 1]int64 // cumulative weights
}

func newSeconds(r *rng) *seconds {
	s := &seconds{}
	for i := range periodSecs {
		s.cum[i+1] = s.cum[i] + int64(1+r.intn(1000))
	}
	return s
}

// share returns how many of n records fall into second i.
func (s *seconds) share(n int64, i int64) int64 {
	return n*s.cum[i+1]/s.cum[periodSecs] - n*s.cum[i]/s.cum[periodSecs]
}

// genFlows produces the flow records of VPC index vi in period p: for each
// aggregation window, the background first, then the scenarios' records.
func (s *Simulator) genFlows(ctx context.Context, p, vi int, out flowEmit) error {
	v := s.est.vpcs[vi]
	g := &bgGen{m: s.bgFlow[vi], r: derive(s.cfg.Seed, tag("bg-flow"), uint64(vi), uint64(p)), out: out}
	pStart := s.start + int64(p)*periodSecs
	pEnd := pStart + periodSecs
	n := s.flowBG.share(p, vi)

	type cursor struct {
		next func() (*flow, bool)
		stop func()
		cur  *flow
	}
	var cursors []*cursor
	for _, sc := range s.scenarios {
		if in(sc.flowPeriods, sc.nFlow, p) && sc.touches(v) {
			next, stop := sc.pullFlows(s.cfg.Seed, v, pStart, pEnd)
			c := &cursor{next: next, stop: stop}
			c.cur, _ = next()
			cursors = append(cursors, c)
		}
	}
	defer func() {
		for _, c := range cursors {
			c.stop()
		}
	}()
	for w := 0; w < 5; w++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ws := pStart + int64(w)*60
		g.window(ws, int(split(n, w, 5)))
		for _, c := range cursors {
			for c.cur != nil && c.cur.start < ws+60 {
				out(c.cur)
				var ok bool
				if c.cur, ok = c.next(); !ok {
					c.cur = nil
				}
			}
		}
	}
	return nil
}

// genDNS produces the resolver records of VPC index vi in period p, second by
// second, the scenarios' queries after the background's in each second.
func (s *Simulator) genDNS(ctx context.Context, p, vi int, out dnsEmit) error {
	v := s.est.vpcs[vi]
	g := &dnsGen{m: s.bgDNS[vi], r: derive(s.cfg.Seed, tag("bg-dns"), uint64(vi), uint64(p)), out: out,
		cache: make(map[cacheKey]int64, 512)}
	pStart := s.start + int64(p)*periodSecs
	n := s.dnsBG.share(p, vi)

	type cursor struct {
		next func() (*dnsQuery, bool)
		stop func()
		cur  *dnsQuery
	}
	var cursors []*cursor
	for _, sc := range s.scenarios {
		if in(sc.dnsPeriods, sc.nDNS, p) && sc.touches(v) {
			next, stop := sc.pullDNS(s.cfg.Seed, v, pStart, pStart+periodSecs)
			c := &cursor{next: next, stop: stop}
			c.cur, _ = next()
			cursors = append(cursors, c)
		}
	}
	defer func() {
		for _, c := range cursors {
			c.stop()
		}
	}()
	spread := newSeconds(&g.r)
	for i := range periodSecs {
		if i%60 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t := pStart + i
		g.second(t, int(spread.share(n, i)))
		for _, c := range cursors {
			for c.cur != nil && c.cur.t <= t {
				out(c.cur)
				var ok bool
				if c.cur, ok = c.next(); !ok {
					c.cur = nil
				}
			}
		}
	}
	return nil
}

// genEvents produces the CloudTrail events of lane li in period p in time order.
func (s *Simulator) genEvents(ctx context.Context, p, li int, out ctEmit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lane := ctLanes[li]
	acc := s.est.accounts[lane.account]
	pStart := s.start + int64(p)*periodSecs
	pEnd := pStart + periodSecs
	var scen []*ctEvent
	for _, sc := range s.scenarios {
		if in(sc.ctPeriods, sc.nCT, p) {
			sc.runEvents(s.cfg.Seed, func(ev *ctEvent) {
				if ev.t >= pStart && ev.t < pEnd && ev.account == acc && ev.AWSRegion == lane.region {
					scen = append(scen, ev)
				}
			})
		}
	}
	sort.SliceStable(scen, func(i, j int) bool { return scen[i].t < scen[j].t })
	r := derive(s.cfg.Seed, tag("bg-ct"), uint64(li), uint64(p))
	g := &ctGen{m: s.bgCT[li], seed: s.cfg.Seed, r: r}
	g.f = ctFactory{seed: s.cfg.Seed, r: &g.r}
	n := s.ctBG.share(p, li)
	spread := newSeconds(&g.r)
	for i := range periodSecs {
		t := pStart + i
		for k := spread.share(n, i); k > 0; k-- {
			out(g.event(t))
		}
		for len(scen) > 0 && scen[0].t <= t {
			out(scen[0])
			scen = scen[1:]
		}
	}
	return nil
}
