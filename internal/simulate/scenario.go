package simulate

import (
	"fmt"
	"iter"
	"math"
	"time"
)

// A scenario is one labelled story in the corpus: an attack modelled on what AWS's
// GuardDuty tester does (labelled with the findings it must raise), or a benign
// look-alike (labelled with the findings it must not raise). It writes its own
// flow, resolver and CloudTrail records on top of the background, at a fixed
// place in the window.
//
// Generators are pure functions of their rng: the simulator runs each one once
// to count and time its records (the labels' firstSeen/lastSeen come from that
// run, so they always match the logs), and again for every file it overlaps,
// keeping only that file's records. Flow and resolver generators must emit in
// time order (flows by aggregation window); the counting run checks it.
type scenario struct {
	name        string
	description string
	at          float64       // where in the window it starts, as a fraction of the duration
	length      time.Duration // how long it runs, so placement can keep it inside the window
	after       *scenario     // when set, the scenario starts a minute after this one ends
	start       int64         // Unix seconds, set by place

	flows  func(r *rng, out flowEmit)
	dns    func(r *rng, out dnsEmit)
	events func(r *rng, f ctFactory, out ctEmit)

	expect     []Expected
	expectNone []NotExpected
	placed     func() // completes labels that depend on the start time

	// Set by measure.
	first, last      int64 // span of the evidence
	nFlow, nDNS, nCT int64
	flowPeriods      [2]int // first and last period with flow records
	dnsPeriods       [2]int
	ctPeriods        [2]int
	vpcs             map[*vpc]bool // the VPCs whose flow or resolver logs it writes to
}

// touches reports whether the scenario writes flow or resolver records in v.
func (s *scenario) touches(v *vpc) bool { return s.vpcs[v] }

// place fixes the scenario's start inside [start, end): at its fraction of the
// window, on a minute boundary plus a few seconds, and early enough to finish.
func (s *scenario) place(start, end int64) {
	dur := end - start
	t := start + int64(s.at*float64(dur))
	if s.after != nil {
		t = s.after.start + int64(s.after.length/time.Second) + 60
	}
	t = t - t%60 + 7
	if last := end - 60 - int64(s.length/time.Second); t > last {
		t = last - last%60 + 7
	}
	s.start = max(t, start+7)
}

// rngs for the three kinds of record, independent of each other.
func (s *scenario) flowRNG(seed uint64) rng  { return derive(seed, tag(s.name), tag("flows")) }
func (s *scenario) dnsRNG(seed uint64) rng   { return derive(seed, tag(s.name), tag("dns")) }
func (s *scenario) eventRNG(seed uint64) rng { return derive(seed, tag(s.name), tag("events")) }

// measure runs the scenario's generators once to count its records, find the
// span of its evidence and the periods it touches, and check that every record
// lies inside the window and comes in time order.
func (s *scenario) measure(seed uint64, start, end int64) error {
	s.first, s.last = math.MaxInt64, math.MinInt64
	s.vpcs = make(map[*vpc]bool)
	var err error
	fail := func(format string, a ...any) {
		if err == nil {
			err = fmt.Errorf("BUG: scenario %s: "+format, append([]any{s.name}, a...)...)
		}
	}
	span := func(lo, hi int64) {
		s.first, s.last = min(s.first, lo), max(s.last, hi)
	}
	periodOf := func(t int64) int { return int((t - start) / periodSecs) }
	touch := func(p *[2]int, n int64, t int64) {
		if n == 1 {
			p[0] = periodOf(t)
		}
		p[1] = periodOf(t)
	}
	if s.flows != nil {
		r := s.flowRNG(seed)
		prev := int64(math.MinInt64)
		s.flows(&r, func(f *flow) {
			s.nFlow++
			w := f.start - (f.start-start)%60
			if f.start < start || f.end >= end || f.end < f.start || f.end >= w+60 {
				fail("flow record %d–%d outside the window or its aggregation interval", f.start, f.end)
			}
			if w < prev {
				fail("flow records out of order (%d after %d)", w, prev)
			}
			prev = w
			s.vpcs[f.eni.vpc] = true
			span(f.start, f.end)
			touch(&s.flowPeriods, s.nFlow, f.start)
		})
	}
	if s.dns != nil {
		r := s.dnsRNG(seed)
		prev := int64(math.MinInt64)
		s.dns(&r, func(q *dnsQuery) {
			s.nDNS++
			if q.t < start || q.t >= end {
				fail("resolver record at %d outside the window", q.t)
			}
			if q.t < prev {
				fail("resolver records out of order (%d after %d)", q.t, prev)
			}
			prev = q.t
			s.vpcs[q.vpc] = true
			span(q.t, q.t)
			touch(&s.dnsPeriods, s.nDNS, q.t)
		})
	}
	if s.events != nil {
		r := s.eventRNG(seed)
		s.ctPeriods = [2]int{math.MaxInt, math.MinInt}
		s.events(&r, ctFactory{seed: seed, r: &r}, func(ev *ctEvent) {
			s.nCT++
			if ev.t < start || ev.t >= end {
				fail("CloudTrail record at %d outside the window", ev.t)
			}
			if !ev.baseline {
				span(ev.t, ev.t)
			}
			p := periodOf(ev.t)
			s.ctPeriods = [2]int{min(s.ctPeriods[0], p), max(s.ctPeriods[1], p)}
		})
	}
	if err == nil && s.first > s.last {
		err = fmt.Errorf("BUG: scenario %s writes no evidence", s.name)
	}
	return err
}

// in reports whether period p lies within the span ps of a scenario with n records.
func in(ps [2]int, n int64, p int) bool { return n > 0 && p >= ps[0] && p <= ps[1] }

// pullFlows starts s's flow generator as an iterator over the records of VPC v
// that start in [from, to). The generator always runs from its beginning (its
// rng must draw the same numbers), but records outside the range cost no
// coroutine switch.
func (s *scenario) pullFlows(seed uint64, v *vpc, from, to int64) (next func() (*flow, bool), stop func()) {
	return iter.Pull(func(yield func(*flow) bool) {
		r := s.flowRNG(seed)
		done := false
		s.flows(&r, func(f *flow) {
			if done || f.start < from || f.eni.vpc != v {
				return
			}
			if f.start >= to || !yield(f) {
				done = true
			}
		})
	})
}

// pullDNS starts s's resolver generator as an iterator over the records of VPC
// v in [from, to), as pullFlows does for flows.
func (s *scenario) pullDNS(seed uint64, v *vpc, from, to int64) (next func() (*dnsQuery, bool), stop func()) {
	return iter.Pull(func(yield func(*dnsQuery) bool) {
		r := s.dnsRNG(seed)
		done := false
		s.dns(&r, func(q *dnsQuery) {
			if done || q.t < from || q.vpc != v {
				return
			}
			if q.t >= to || !yield(q) {
				done = true
			}
		})
	})
}

// runEvents runs s's CloudTrail generator.
func (s *scenario) runEvents(seed uint64, out ctEmit) {
	r := s.eventRNG(seed)
	s.events(&r, ctFactory{seed: seed, r: &r}, out)
}

// scenarioSetup is what scenario constructors draw on.
type scenarioSetup struct {
	seed    uint64
	est     *estate
	records int64 // flow records asked for: the DNS flood scales with it
	start   int64
	end     int64
}

// rng returns a scenario's setup rng, for choices fixed before any record is
// generated (remote addresses, target lists, names).
func (p *scenarioSetup) rng(name string) rng { return derive(p.seed, tag(name), tag("setup")) }

// newScenarios builds every scenario and places it in the window.
func newScenarios(p *scenarioSetup) []*scenario {
	var list []*scenario
	list = append(list, networkScenarios(p)...)
	list = append(list, dnsScenarios(p)...)
	list = append(list, trailScenarios(p)...)
	list = append(list, lookalikes(p)...)
	for _, s := range list {
		s.place(p.start, p.end)
		if s.placed != nil {
			s.placed()
		}
	}
	return list
}

// emitter writes conns and single records for a scenario generator.
type emitter struct {
	out flowEmit
	f   flow
}

func (e *emitter) conn(c *conn) { c.emit(e.out, &e.f) }

// windowOf returns the start of the aggregation window containing t, relative
// to the simulation start.
func windowOf(t, start int64) int64 { return t - (t-start)%60 }
