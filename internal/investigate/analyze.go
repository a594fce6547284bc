package investigate

import (
	"net/netip"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// The flow analysis. Every reading worker owns an analyzer and feeds it the
// batches it decodes; nothing is shared while records flow, and the analyzers
// merge at the end. An analyzer keeps, per internal source address, counters and
// bounded sketches (sketch.go) — never records — so memory is bounded by the
// number of sources (capped at Config.MaxSources) and the configuration.
//
// What it looks at, for a NAT gateway behind the reported address:
//
//   - outside legs (srcaddr = the NAT's private address, dstaddr public): what
//     the internet saw. Those to reported hosts, or from the NAT source ports
//     the complainant logged, are the reported traffic; their signatures
//     (protocol, destination port, packets, bytes, minute) are kept;
//   - inside legs (dstaddr = the NAT's private address, srcaddr internal): who
//     sent it. With pkt-dstaddr (custom formats) the real destination is on the
//     record; without it (AWS's default v2 format) the leg's signature is kept
//     and later matched against the outside legs' (correlate);
//   - records on the sources' own interfaces (srcaddr internal, dstaddr
//     public), which carry the real destination in any format.
//
// For an instance's own public address only the last kind is read, for that
// instance's private addresses.

// scopeMode says what the reported address is.
type scopeMode uint8

const (
	modeUnknown  scopeMode = iota // not in the inventory: every internal source is a suspect
	modeNAT                       // a NAT gateway: the sources behind it
	modeInstance                  // an instance (or another ENI): its own traffic
)

// scope is what the analysis looks for; built once, read by every worker.
type scope struct {
	mode     scopeMode
	natIPs   []netip.Addr
	natENIs  map[string]bool
	ownIPs   map[netip.Addr]bool
	hosts    map[netip.Addr]int // reported remote hosts → index
	nHosts   int
	ports    portSet
	hasPorts bool
	srcPorts portSet // the reported side's source ports (a NAT's ports on its outside leg)
	hasSrc   bool

	from, until       int64 // the read window, Unix seconds, inclusive
	repFrom, repUntil int64 // the reported window with the margin
	step              int64 // timeline bucket, seconds
	buckets           int
	covStep           int64 // coverage bucket, seconds
	covBuckets        int

	maxSources int
	sigBudget  int // signatures one worker keeps before sampling
	sample     int // flows kept per source
	keepRaw    bool
}

func (sc *scope) isNAT(a netip.Addr) bool {
	for _, n := range sc.natIPs {
		if a == n {
			return true
		}
	}
	return false
}

func (sc *scope) bucket(t int64) int {
	i := int((t - sc.from) / sc.step)
	return min(max(i, 0), sc.buckets-1)
}

// internal reports whether a is a private address (RFC 1918, CGNAT, unique-local
// IPv6): a VPC's own addresses.
func internal(a netip.Addr) bool {
	if a.IsPrivate() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64
	}
	return false
}

// Views of a source's traffic: its own interface, or the NAT gateway's inside leg.
// In a VPC-wide flow log every connection through the NAT appears in both, so
// counts are kept per view and the larger view is reported (never the sum).
const (
	viewOwn = iota
	viewInside
)

// bucketCounts are one timeline bucket: records to reported hosts and on reported
// ports, per view.
type bucketCounts [4]int32 // own matched, inside matched, own port, inside port

// source is one internal address and what it sent towards the internet.
type source struct {
	addr       netip.Addr
	eni        string // its own interface, from its records
	instanceID string // from v3+ records of its own interface

	records [2]int64 // per view
	packets [2]int64
	bytes   [2]int64
	matched [2]int64 // records to reported hosts
	port    [2]int64 // records on reported ports

	hostHits map[int]*[2]int64 // reported host index → its records, per view (exact)
	hosts    distinctSet       // distinct destination hosts (when known)
	ports    distinctSet       // distinct destination ports
	topHosts [2]topK[netip.Addr]
	topPorts [2]topK[uint16]

	first, last   int64 // all its records
	mFirst, mLast int64 // its records to reported hosts or ports

	sigs     map[uint64]uint32 // inside legs without pkt-dstaddr: signature → records
	timeline []bucketCounts
	sample   []flowSample
}

// flowSample is one flow record kept as evidence.
type flowSample struct {
	prio             int8 // 3 reported host, 2 reported port, 1 other
	view             string
	start, end       int64
	eni              string
	src, dst, pktDst netip.Addr
	srcPort, dstPort uint16
	proto            uint8
	packets, bytes   int64
	action           string
	raw              string
	h                uint64
}

// better reports whether s should be kept before o: stronger evidence first, then
// by hash — a deterministic sample spread over the whole activity, not its first
// minute.
func (s *flowSample) better(o *flowSample) bool {
	if s.prio != o.prio {
		return s.prio > o.prio
	}
	if s.h != o.h {
		return s.h < o.h
	}
	return s.start < o.start
}

// offer adds a sample to a bounded list that keeps the best n.
func offer(list []flowSample, n int, s flowSample) ([]flowSample, bool) {
	if len(list) < n {
		return append(list, s), true
	}
	w := 0
	for i := range list {
		if list[w].better(&list[i]) {
			w = i
		}
	}
	if !s.better(&list[w]) {
		return list, false
	}
	list[w] = s
	return list, true
}

// repSig is a signature of outside legs to reported hosts: the host (index into
// the reported hosts, -1 for one found by source port) and how many legs.
type repSig struct {
	hosts [4]int32 // up to four distinct hosts, -2 for none
	n     int32
}

// with returns r counting one more leg, to host idx.
func (r repSig) with(idx int32, n int32) repSig {
	if r.n == 0 {
		r.hosts = [4]int32{-2, -2, -2, -2}
	}
	r.n += n
	for i, h := range r.hosts {
		if h == idx {
			return r
		}
		if h == -2 {
			r.hosts[i] = idx
			return r
		}
	}
	return r
}

// analyzer is one worker's state.
type analyzer struct {
	sc      *scope
	sources map[netip.Addr]*source
	dropped int64 // records of sources beyond MaxSources

	sigLevel   uint8
	sigEntries int

	// Outside legs to the reported hosts (or from the reported source ports):
	// their signatures, for each of the minutes before, of and after the leg.
	reportedSigs  map[uint64]repSig
	repLevel      uint8
	outside       int64
	outsideRep    int64
	outsideByPort int64
	hostSeen      []bool // reported hosts seen on any record
	portDsts      topK[netip.Addr]
	outsideSample []flowSample
	repTimeline   []int32

	flows, inWindow, natRecords, insideLegs, insidePkt int64
	minStart, maxStart                                 int64
	cover, natCover                                    []uint64
	detectedNAT                                        map[netip.Addr]int64
}

func newAnalyzer(sc *scope) *analyzer {
	return &analyzer{
		sc:           sc,
		sources:      make(map[netip.Addr]*source),
		reportedSigs: make(map[uint64]repSig),
		hostSeen:     make([]bool, sc.nHosts),
		repTimeline:  make([]int32, sc.buckets),
		cover:        make([]uint64, (sc.covBuckets+63)/64),
		natCover:     make([]uint64, (sc.covBuckets+63)/64),
		detectedNAT:  make(map[netip.Addr]int64),
	}
}

// signature identifies one flow on the NAT gateway's ENI well enough to find its
// other leg: the two legs of one connection carry the same protocol, destination
// port, packets and bytes in the same aggregation window.
func signature(f *record.Flow) uint64 {
	return mix64(uint64(f.Protocol)<<16|uint64(f.DstPort)) ^ mix64(uint64(f.Packets)*0x9e3779b97f4a7c15+uint64(f.Bytes))
}

func minuteSig(sig uint64, minute int64) uint64 {
	return mix64(sig ^ uint64(minute)*0xd6e8feb86659fd93)
}

// process reads one batch.
func (a *analyzer) process(b *decode.Batch) {
	if b.Kind != record.KindFlow {
		return
	}
	for i := range b.Flows {
		a.flow(&b.Flows[i])
	}
}

func (a *analyzer) flow(f *record.Flow) {
	sc := a.sc
	a.flows++
	if f.Has(record.FlowStart) {
		if a.minStart == 0 || f.Start < a.minStart {
			a.minStart = f.Start
		}
		if f.Start > a.maxStart {
			a.maxStart = f.Start
		}
	}
	if f.Start < sc.from || f.Start > sc.until {
		return
	}
	onNATENI := sc.natENIs[f.InterfaceID]
	if f.LogStatus != record.LogStatusOK {
		// NODATA/SKIPDATA: the interface is logged, it just had nothing (or lost it).
		a.markCover(f.Start, f.End, onNATENI)
		return
	}
	a.inWindow++
	src, dst := f.SrcAddr, f.DstAddr
	natSrc, natDst := sc.isNAT(src), sc.isNAT(dst)
	onNAT := onNATENI || natSrc || natDst
	a.markCover(f.Start, f.End, onNAT)
	if onNAT {
		a.natRecords++
	}
	switch {
	case natSrc && isPublic(dst):
		a.outsideLeg(f)
	case natDst && !natSrc && internal(src):
		a.insideLeg(f)
	case sc.mode == modeInstance:
		if sc.ownIPs[src] && isPublic(dst) {
			a.own(f)
		}
	case onNATENI:
		// The NAT's interface, but neither leg: replies, or traffic to the gateway itself.
	case internal(src) && isPublic(dst):
		a.own(f)
	case sc.mode == modeUnknown && internal(src) && internal(dst) && f.Has(record.FlowPktDstAddr) && isPublic(f.PktDstAddr):
		// An inside leg of a NAT gateway the inventory does not describe, known by
		// its packet-level destination.
		a.detectedNAT[dst]++
		a.insideLeg(f)
	}
}

// markCover records that the logs cover [start, end].
func (a *analyzer) markCover(start, end int64, nat bool) {
	sc := a.sc
	if end < start {
		end = start
	}
	lo, hi := (start-sc.from)/sc.covStep, (end-sc.from)/sc.covStep
	for i := max(lo, 0); i <= hi && i < int64(sc.covBuckets); i++ {
		a.cover[i>>6] |= 1 << (i & 63)
		if nat {
			a.natCover[i>>6] |= 1 << (i & 63)
		}
	}
}

func (a *analyzer) inReportWindow(t int64) bool { return t >= a.sc.repFrom && t <= a.sc.repUntil }

func (a *analyzer) outsideLeg(f *record.Flow) {
	sc := a.sc
	a.outside++
	idx, named := sc.hosts[f.DstAddr]
	byPort := !named && sc.hasSrc && sc.srcPorts.has(f.SrcPort) && (!sc.hasPorts || sc.ports.has(f.DstPort)) && a.inReportWindow(f.Start)
	if !named && !byPort {
		return
	}
	if named {
		a.outsideRep++
		a.hostSeen[idx] = true
	} else {
		a.outsideByPort++
		a.portDsts.add(f.DstAddr, 1)
		idx = -1
	}
	a.repTimeline[sc.bucket(f.Start)]++
	sig := signature(f)
	m := f.Start / 60
	for d := int64(-1); d <= 1; d++ {
		h := minuteSig(sig, m+d)
		if keep(h, a.repLevel) {
			a.reportedSigs[h] = a.reportedSigs[h].with(int32(idx), 1)
		}
	}
	for len(a.reportedSigs) > sc.sigBudget {
		a.repLevel++
		for h := range a.reportedSigs {
			if !keep(h, a.repLevel) {
				delete(a.reportedSigs, h)
			}
		}
	}
	a.outsideSample, _ = offerSample(a.outsideSample, sc.sample, f, 3, "NAT gateway, outside leg", true)
}

func (a *analyzer) source(addr netip.Addr) *source {
	s := a.sources[addr]
	if s == nil {
		if len(a.sources) >= a.sc.maxSources {
			a.dropped++
			return nil
		}
		s = &source{addr: addr}
		a.sources[addr] = s
	}
	return s
}

func (a *analyzer) insideLeg(f *record.Flow) {
	sc := a.sc
	a.insideLegs++
	s := a.source(f.SrcAddr)
	if s == nil {
		return
	}
	var real netip.Addr
	if f.Has(record.FlowPktDstAddr) && f.PktDstAddr.IsValid() && f.PktDstAddr != f.DstAddr {
		real = f.PktDstAddr
		a.insidePkt++
	}
	portHit := sc.hasPorts && sc.ports.has(f.DstPort)
	prio := a.count(s, f, viewInside, real, portHit)
	if !real.IsValid() && (!sc.hasPorts || portHit) {
		a.addSig(s, minuteSig(signature(f), f.Start/60))
	}
	s.sample, _ = offerSample(s.sample, sc.sample, f, prio, "NAT gateway, inside leg", sc.keepRaw || prio >= 2)
}

func (a *analyzer) own(f *record.Flow) {
	sc := a.sc
	s := a.source(f.SrcAddr)
	if s == nil {
		return
	}
	if s.eni == "" {
		s.eni = f.InterfaceID
	}
	if s.instanceID == "" && f.Has(record.FlowInstanceID) {
		s.instanceID = f.InstanceID
	}
	portHit := sc.hasPorts && sc.ports.has(f.DstPort)
	prio := a.count(s, f, viewOwn, f.DstAddr, portHit)
	if prio == 1 && isReply(f) {
		return // a server's answer to a client is not evidence of what it sent on its own
	}
	s.sample, _ = offerSample(s.sample, sc.sample, f, prio, "its own interface", sc.keepRaw || prio >= 2)
}

// isReply reports whether a record on an instance's own interface is the answer
// of a server to a client rather than traffic the instance started: SYN-ACK in
// its TCP flags, or, without flags, a source port below the ephemeral range sent
// to an ephemeral port above it.
func isReply(f *record.Flow) bool {
	if f.Has(record.FlowTCPFlags) && f.TCPFlags&18 == 18 {
		return true
	}
	return f.SrcPort != 0 && f.SrcPort < 32768 && f.DstPort >= 32768
}

// count adds a record to a source's counters and returns its evidence priority.
// dst is the real destination, invalid when the record does not show it.
func (a *analyzer) count(s *source, f *record.Flow, view int, dst netip.Addr, portHit bool) int8 {
	sc := a.sc
	s.records[view]++
	s.packets[view] += f.Packets
	s.bytes[view] += f.Bytes
	if s.first == 0 || f.Start < s.first {
		s.first = f.Start
	}
	s.last = max(s.last, f.End, f.Start)
	// Replies on its own interface stay out of the hosts and ports it contacted.
	started := view == viewInside || !isReply(f)
	if started {
		s.ports.add(mix64(uint64(f.DstPort) + 1))
		s.topPorts[view].add(f.DstPort, 1)
	}
	prio := int8(1)
	col := -1
	if dst.IsValid() {
		if started {
			s.hosts.add(hashAddr(dst))
			s.topHosts[view].add(dst, 1)
		}
		if idx, ok := sc.hosts[dst]; ok {
			a.hostSeen[idx] = true
			s.matched[view]++
			if s.hostHits == nil {
				s.hostHits = make(map[int]*[2]int64)
			}
			h := s.hostHits[idx]
			if h == nil {
				h = new([2]int64)
				s.hostHits[idx] = h
			}
			h[view]++
			prio, col = 3, view
		}
	}
	if portHit {
		s.port[view]++
		if prio < 2 {
			prio, col = 2, 2+view
		}
	}
	if col >= 0 {
		if s.mFirst == 0 || f.Start < s.mFirst {
			s.mFirst = f.Start
		}
		s.mLast = max(s.mLast, f.End, f.Start)
		if s.timeline == nil {
			s.timeline = make([]bucketCounts, sc.buckets)
		}
		b := &s.timeline[sc.bucket(f.Start)]
		b[col]++
		if col < 2 && portHit {
			b[2+view]++
		}
	}
	return prio
}

// addSig keeps an inside leg's signature, sampling all sources' signatures more
// sparsely when the worker's budget is spent.
func (a *analyzer) addSig(s *source, h uint64) {
	if !keep(h, a.sigLevel) {
		return
	}
	if s.sigs == nil {
		s.sigs = make(map[uint64]uint32)
	}
	if _, ok := s.sigs[h]; !ok {
		a.sigEntries++
	}
	s.sigs[h]++
	for a.sigEntries > a.sc.sigBudget {
		a.sigLevel++
		a.sigEntries = 0
		for _, o := range a.sources {
			for k := range o.sigs {
				if !keep(k, a.sigLevel) {
					delete(o.sigs, k)
				}
			}
			a.sigEntries += len(o.sigs)
		}
	}
}

// offerSample offers a record to a bounded sample, copying it only when it is kept.
func offerSample(list []flowSample, n int, f *record.Flow, prio int8, view string, raw bool) ([]flowSample, bool) {
	if n <= 0 {
		return list, false
	}
	s := flowSample{prio: prio, view: view, start: f.Start, end: f.End, src: f.SrcAddr, dst: f.DstAddr,
		srcPort: f.SrcPort, dstPort: f.DstPort, proto: f.Protocol, packets: f.Packets, bytes: f.Bytes,
		h: mix64(uint64(f.Start)<<20 ^ uint64(f.SrcPort)<<4 ^ uint64(f.DstPort) ^ hashAddr(f.SrcAddr) ^ hashAddr(f.DstAddr)*3 ^ uint64(f.Bytes)<<7)}
	if len(list) >= n {
		// Cheap refusal before copying strings.
		w := 0
		for i := range list {
			if list[w].better(&list[i]) {
				w = i
			}
		}
		if !s.better(&list[w]) {
			return list, false
		}
	}
	s.eni = f.InterfaceID
	s.action = f.Action.String()
	if f.Has(record.FlowPktDstAddr) && f.PktDstAddr != f.DstAddr {
		s.pktDst = f.PktDstAddr
	}
	if raw && len(f.Raw) > 0 {
		s.raw = clip(string(f.Raw), 400)
	}
	return offer(list, n, s)
}

// merge folds o (another worker's analyzer) into a.
func (a *analyzer) merge(o *analyzer) {
	a.dropped += o.dropped
	a.flows += o.flows
	a.inWindow += o.inWindow
	a.natRecords += o.natRecords
	a.insideLegs += o.insideLegs
	a.insidePkt += o.insidePkt
	a.outside += o.outside
	a.outsideRep += o.outsideRep
	a.outsideByPort += o.outsideByPort
	if o.minStart != 0 && (a.minStart == 0 || o.minStart < a.minStart) {
		a.minStart = o.minStart
	}
	a.maxStart = max(a.maxStart, o.maxStart)
	for i := range a.cover {
		a.cover[i] |= o.cover[i]
		a.natCover[i] |= o.natCover[i]
	}
	for i := range a.hostSeen {
		a.hostSeen[i] = a.hostSeen[i] || o.hostSeen[i]
	}
	for i := range a.repTimeline {
		a.repTimeline[i] += o.repTimeline[i]
	}
	a.portDsts.merge(&o.portDsts)
	for k, v := range o.detectedNAT {
		a.detectedNAT[k] += v
	}
	for _, s := range o.outsideSample {
		a.outsideSample, _ = offer(a.outsideSample, a.sc.sample, s)
	}
	// Reported signatures at the higher of the two levels.
	level := max(a.repLevel, o.repLevel)
	a.repLevel = level
	for h, r := range o.reportedSigs {
		if keep(h, level) {
			mine := a.reportedSigs[h]
			for i, host := range r.hosts {
				if host != -2 {
					n := int32(0)
					if i == 0 {
						n = r.n
					}
					mine = mine.with(host, n)
				}
			}
			a.reportedSigs[h] = mine
		}
	}
	for h := range a.reportedSigs {
		if !keep(h, level) {
			delete(a.reportedSigs, h)
		}
	}
	// Sources, their signatures at the higher level.
	a.sigLevel = max(a.sigLevel, o.sigLevel)
	for addr, os := range o.sources {
		s := a.sources[addr]
		if s == nil {
			if len(a.sources) >= a.sc.maxSources {
				a.dropped += os.records[0] + os.records[1]
				continue
			}
			a.sources[addr] = os
			continue
		}
		s.mergeFrom(os, a.sc)
	}
	for _, s := range a.sources {
		for k := range s.sigs {
			if !keep(k, a.sigLevel) {
				delete(s.sigs, k)
			}
		}
	}
}

func (s *source) mergeFrom(o *source, sc *scope) {
	if s.eni == "" {
		s.eni = o.eni
	}
	if s.instanceID == "" {
		s.instanceID = o.instanceID
	}
	for v := 0; v < 2; v++ {
		s.records[v] += o.records[v]
		s.packets[v] += o.packets[v]
		s.bytes[v] += o.bytes[v]
		s.matched[v] += o.matched[v]
		s.port[v] += o.port[v]
		s.topHosts[v].merge(&o.topHosts[v])
		s.topPorts[v].merge(&o.topPorts[v])
	}
	for k, v := range o.hostHits {
		if s.hostHits == nil {
			s.hostHits = make(map[int]*[2]int64)
		}
		h := s.hostHits[k]
		if h == nil {
			h = new([2]int64)
			s.hostHits[k] = h
		}
		h[0] += v[0]
		h[1] += v[1]
	}
	s.hosts.merge(&o.hosts)
	s.ports.merge(&o.ports)
	if o.first != 0 && (s.first == 0 || o.first < s.first) {
		s.first = o.first
	}
	s.last = max(s.last, o.last)
	if o.mFirst != 0 && (s.mFirst == 0 || o.mFirst < s.mFirst) {
		s.mFirst = o.mFirst
	}
	s.mLast = max(s.mLast, o.mLast)
	for k, v := range o.sigs {
		if s.sigs == nil {
			s.sigs = make(map[uint64]uint32)
		}
		s.sigs[k] += v
	}
	if o.timeline != nil {
		if s.timeline == nil {
			s.timeline = make([]bucketCounts, sc.buckets)
		}
		for i := range o.timeline {
			for j := range o.timeline[i] {
				s.timeline[i][j] += o.timeline[i][j]
			}
		}
	}
	for _, x := range o.sample {
		s.sample, _ = offer(s.sample, sc.sample, x)
	}
}

// correlate matches a source's inside-leg signatures against the outside legs to
// the reported hosts: it returns the records that match — per signature no more
// than the outside legs that carry it, so that a burst of identical probes to
// other hosts is not counted — and the reported hosts they went to (index -1: a
// host found by the complainant's source ports). Both sides are compared at the
// higher of their sampling levels and the count is scaled back up.
func (a *analyzer) correlate(s *source) (records int64, hosts map[int]bool) {
	level := max(a.sigLevel, a.repLevel)
	for h, n := range s.sigs {
		if !keep(h, level) {
			continue
		}
		if r, ok := a.reportedSigs[h]; ok {
			records += int64(min(n, uint32(r.n)))
			if hosts == nil {
				hosts = make(map[int]bool)
			}
			for _, host := range r.hosts {
				if host != -2 {
					hosts[int(host)] = true
				}
			}
		}
	}
	return records << level, hosts
}
