package detect

import (
	"math"
	"net/netip"

	"github.com/vigil-dev/vigil/internal/detect/window"
	"github.com/vigil-dev/vigil/internal/record"
)

// thresholdDetector runs a threshold rule: records that match the filter are
// grouped by the rule's fields (and the account), counted over the window, and a
// group whose count, distinct count or sum reaches the threshold opens an
// occurrence. The occurrence follows the group's activity and is raised as a
// finding when the group has been quiet for a window (or is evicted, expired or
// flushed), so that one burst of activity is one occurrence whose numbers cover
// the whole burst. A rule without a window raises a finding per matching record.
type thresholdDetector struct {
	rule *Rule
}

func (t *thresholdDetector) route(r *rec, d *detEntry) (gkey, bool) {
	rule := t.rule
	if rule.Direction == DirRequest && !r.request {
		return gkey{}, false
	}
	if !d.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	for i := range rule.groupBy {
		v := rule.groupBy[i].get(r.r)
		if v.IsMissing() {
			d.miss(i)
			return gkey{}, false
		}
		h.value(v)
	}
	if f := rule.Threshold.field; f != nil && f.get(r.r).IsMissing() {
		d.miss(len(rule.groupBy))
		return gkey{}, false
	}
	return h.sum(), true
}

func (t *thresholdDetector) newShard(env *shardEnv, det int) shardDetector {
	s := &thresholdShard{rule: t.rule, env: env, det: det}
	if t.rule.Window <= 0 {
		return s
	}
	win := t.rule.Window.Milliseconds()
	s.win = win
	flowCount := t.rule.Kind == record.KindFlow && t.rule.Threshold.Count
	distinct := t.rule.Threshold.Distinct != "" || flowCount
	tbl, err := window.NewTable(window.TableConfig[gkey, groupState]{
		MaxKeys: env.maxKeys,
		// A key idle for two windows past the watermark has nothing left to count.
		TTL: 2 * win,
		Init: func(_ gkey, g *groupState) {
			// Keep the primitives' buffers of a recycled state; reset the rest.
			*g = groupState{distinct: g.distinct, counter: g.counter}
			if distinct {
				g.distinct.Init(window.DistinctConfig{Window: win, ExactLimit: 256})
			} else {
				if g.counter == nil {
					g.counter = new(window.Counter)
				}
				g.counter.Init(counterConfig(win))
			}
		},
		OnDrop: func(_ gkey, g *groupState, _ window.DropReason) {
			if g.occ != nil {
				s.close(g)
			}
		},
	})
	if err != nil {
		panic("BUG: detect: " + err.Error())
	}
	s.table = tbl
	return s
}

// groupState is one group's window and its open occurrence.
type groupState struct {
	distinct window.DistinctSet
	counter  *window.Counter // count and sum rules only
	first    int64           // start of the current burst of activity
	last     int64
	src, dst sideInfo
	occ      *occurrence
}

type thresholdShard struct {
	rule    *Rule
	env     *shardEnv
	det     int
	win     int64
	table   *window.Table[gkey, groupState]
	matched int64
}

func (s *thresholdShard) observe(r *rec, key gkey) {
	s.matched++
	if s.table == nil {
		occ := newOccurrence(r)
		occ.note(r, s.rule)
		s.emit(occ, nil)
		return
	}
	g, _ := s.table.Get(key, r.time)
	if g.occ != nil && s.env.quiet(g.occ.last, r.time, s.win) {
		s.close(g) // the burst ended a window ago: this is new activity
	}
	if r.time > g.last+s.win || g.first == 0 {
		g.first = r.time // new activity after a quiet window
	} else {
		g.first = min(g.first, r.time) // a late record of the burst
	}
	g.last = max(g.last, r.time)
	if r.kind == record.KindFlow {
		g.src.note(r, sideSrc)
		g.dst.note(r, sideDst)
	}
	metric := s.add(g, r)
	opened := false
	if g.occ == nil && metric >= s.rule.Threshold.AtLeast {
		g.occ = newOccurrence(r)
		g.occ.first = min(g.first, r.time)
		opened = true
	}
	if g.occ != nil {
		g.occ.note(r, s.rule)
		g.occ.metric = max(g.occ.metric, metric)
	}
	if opened && s.env.early {
		s.env.announce(g.occ, func() { s.emit(g.occ, g) })
	}
}

// add counts the record in the group's window and returns the group's metric.
func (s *thresholdShard) add(g *groupState, r *rec) float64 {
	th := &s.rule.Threshold
	switch {
	case th.Distinct != "":
		g.distinct.Add(hashValue(th.field.get(r.r)), r.time)
		return float64(g.distinct.Count())
	case th.Sum != "":
		if r.kind == record.KindFlow && !countedOnce(r) {
			return float64(g.counter.Sum())
		}
		v, _ := th.field.get(r.r).Number()
		if v > 0 && v < math.MaxInt64/4 {
			g.counter.Add(r.time, int64(v))
		}
		return float64(g.counter.Sum())
	case r.kind == record.KindFlow:
		g.distinct.Add(flowHash(r.flow), r.time)
		return float64(g.distinct.Count())
	}
	g.counter.Add(r.time, 1)
	return float64(g.counter.Count())
}

// countedOnce reports whether a flow record is where its packets are counted
// for sums: at the sender's own interface, or, when the sender is not ours, at
// the receiver's. A flow between two logged instances is logged on both
// interfaces, and a NAT'd one also on the gateway's inside leg; each is counted
// once.
func countedOnce(r *rec) bool {
	switch r.local {
	case sideSrc:
		return true
	case sideDst:
		return r.srcPub
	}
	return !r.relayed
}

func (s *thresholdShard) advance(wm int64) {
	if s.table == nil {
		return
	}
	s.table.Expire(wm)
	// Close occurrences of keys that stay busy with other activity but whose burst
	// has ended: they would otherwise wait for expiry.
}

func (s *thresholdShard) flush() {
	if s.table == nil {
		return
	}
	s.table.Range(func(_ gkey, g *groupState, _ int64) bool {
		if g.occ != nil {
			s.close(g)
		}
		return true
	})
}

func (s *thresholdShard) tableStats() (int, uint64, uint64) {
	if s.table == nil {
		return 0, 0, 0
	}
	st := s.table.Stats()
	return st.Keys, st.Evicted, st.Expired
}

func (s *thresholdShard) stats() int64 { return s.matched }

func (s *thresholdShard) close(g *groupState) {
	occ := g.occ
	g.occ = nil
	// The occurrence covers the group's whole burst, also the records that came
	// in before it opened but happened after (out of order).
	occ.first, occ.last = min(occ.first, g.first), max(occ.last, g.last)
	s.emit(occ, g)
}

// emit turns an occurrence into findings, one per resource of the rule that is
// one of ours.
func (s *thresholdShard) emit(occ *occurrence, g *groupState) {
	var src, dst *sideInfo
	if g != nil {
		src, dst = &g.src, &g.dst
	} else if occ.flow != nil {
		src, dst = &sideInfo{}, &sideInfo{}
		src.fromOcc(occ, sideSrc)
		dst.fromOcc(occ, sideDst)
	}
	for _, f := range s.env.e.buildFindings(s.rule, occ, src, dst) {
		s.env.emit(s.det, occ, f)
	}
}

// keyHash hashes the values of a group into a gkey. The seed is fixed so that
// routing and grouping are the same in every run.
type keyHash struct{ a, b uint64 }

// keyHashOf starts a key hash from the hash of the account.
func keyHashOf(acct uint64) keyHash {
	h := keyHash{a: 0x9e3779b97f4a7c15, b: 0xc2b2ae3d27d4eb4f}
	h.u64(acct)
	return h
}

// keyHash starts the group key of a record with its account, hashed once per
// record (loadBatch).
func (r *rec) keyHash() keyHash { return keyHashOf(r.acctH) }

func (h *keyHash) u64(x uint64) {
	h.a = mix64(h.a ^ x)
	h.b = mix64(h.b + x*0xff51afd7ed558ccd)
}

func (h *keyHash) str(s string) {
	h.u64(window.HashString(s) ^ uint64(len(s)))
}

func (h *keyHash) value(v record.Value) {
	h.u64(uint64(v.Kind))
	h.u64(hashValue(v))
}

func (h keyHash) sum() gkey { return gkey{mix64(h.a ^ h.b>>7), h.b} }

func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// hashValue hashes a field value deterministically (for distinct counts and keys).
func hashValue(v record.Value) uint64 {
	switch v.Kind {
	case record.String:
		return window.HashString(v.Str)
	case record.Addr:
		return window.HashAddr(v.IP)
	case record.Float:
		return mix64(math.Float64bits(v.F))
	}
	return mix64(uint64(v.Int) + 0x632be59bd9b4e019)
}

// flowHash identifies a flow (5-tuple) for counting flows once.
func flowHash(f *record.Flow) uint64 {
	h := window.HashAddr(f.SrcAddr) ^ mix64(window.HashAddr(f.DstAddr)+1)
	return mix64(h ^ uint64(f.SrcPort)<<32 ^ uint64(f.DstPort)<<16 ^ uint64(f.Protocol))
}

// accountOf returns the account a record belongs to.
func accountOf(r *rec) string {
	switch r.kind {
	case record.KindFlow:
		return r.flow.AccountID
	case record.KindDNS:
		return r.dns.AccountID
	}
	if r.call.RecipientAccountID != "" {
		return r.call.RecipientAccountID
	}
	return r.call.UserAccountID
}

// sideInfo is what the records of a group told about one end of its flows:
// the address; the interface it belongs to (own), known when a record was logged
// on that interface; and an interface that logged a record about it (seen),
// whose account, region and VPC are the address's context. Both point to
// interned, immutable eniInfo, so a side costs 40 bytes per key.
type sideInfo struct {
	addr netip.Addr
	own  *eniInfo
	seen *eniInfo
}

// eniInfo is what a flow record says about the interface it was logged on.
type eniInfo struct {
	eni, inst, vpc, subnet, acct, region string
}

func (si *sideInfo) eni() string {
	if si.own != nil {
		return si.own.eni
	}
	return ""
}

func (si *sideInfo) inst() string {
	if si.own != nil {
		return si.own.inst
	}
	return ""
}

// ctx is the interface information for account, region and VPC.
func (si *sideInfo) ctx() *eniInfo {
	switch {
	case si.own != nil:
		return si.own
	case si.seen != nil:
		return si.seen
	}
	return &eniInfo{}
}

// note updates the side from a record: the address, and, when the record was
// logged on this side's own interface, the interface.
func (si *sideInfo) note(r *rec, sd side) {
	addr := r.flow.SrcAddr
	if sd == sideDst {
		addr = r.flow.DstAddr
	}
	if si.addr != addr {
		*si = sideInfo{addr: addr}
	}
	if r.local == sd && si.own == nil {
		si.own = r.eni
	}
	if si.seen == nil {
		si.seen = r.eni
	}
}

// fromOcc fills the side from an occurrence's last record (single-record rules).
func (si *sideInfo) fromOcc(o *occurrence, sd side) {
	*si = o.side[sd-1]
}

// counterConfig is a sliding window of ten steps, or one step for windows that
// do not divide by ten milliseconds.
func counterConfig(win int64) window.CounterConfig {
	if win%10 == 0 {
		return window.CounterConfig{Window: win, Buckets: 10}
	}
	return window.CounterConfig{Window: win, Buckets: 1}
}
