package detect

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/detect/window"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/record"
)

// rec is the engine's view of one record: the record plus what the engine
// derived from it once, on the routing goroutine, for every detector to share.
// While routing it points into the caller's batch (never written: a record
// whose addresses are re-addressed is copied first); a record some detection
// takes is then copied with its view into a slab, which the shards read.
// Detectors must not keep a *rec, its record, or a string or slice that points
// into Raw after observe returns (string fields of the typed records are heap
// strings and may be kept).
type rec struct {
	kind  record.Kind
	r     record.Record
	flow  *record.Flow
	dns   *record.DNSQuery
	call  *record.APICall
	time  int64  // event time, Unix ms
	acctH uint64 // hash of the record's account (accountOf), the start of every group key

	// Flows. srcAddr/dstAddr of flow are the packet-level addresses (pkt-srcaddr,
	// pkt-dstaddr) when the log has them: the real endpoints of NAT'd traffic.
	local   side // which address is the logged interface's own
	request bool // the record is from the side that opened the connection
	relayed bool // seen on a NAT gateway's inside leg, re-addressed
	// eni is the interface the record was logged on (interned per router), set
	// once the record is routed to a detection (detections only read it when
	// they observe the record); iface is the inventory's interface, if any.
	eni   *eniInfo
	iface *inventory.Interface
	// The classes of the (packet-level) addresses, computed once, and the
	// view's class for gates (viewClass).
	srcPub, dstPub, srcInt, dstInt bool
	class                          uint8

	// DNS: the query name lower-cased without its trailing dot.
	name string

	// memoDone and memoVal hold the results of filter conjuncts shared by
	// several rules, once evaluated for this record (flowfilter.go).
	memoDone, memoVal uint32
}

// side is one end of a flow.
type side uint8

const (
	sideNone side = iota
	sideSrc
	sideDst
)

// slab holds the copies of the records of one chunk that detections take, with
// their views. refs counts the shard batches that still point into it; the
// last one to finish gives it back to its router (home) for reuse.
type slab struct {
	kind  record.Kind // of the records it holds, and of the arrays it keeps
	kept  int         // its bytes, while on its router's free stack
	recs  []rec
	flows []record.Flow
	dns   []record.DNSQuery
	calls []record.APICall
	ans   []record.DNSAnswer
	arena []byte
	// batches are the slab's shard batches, one per shard, reused with it.
	batches []*shardBatch
	refs    atomic.Int32
	home    *slabStack
}

// batch returns the slab's empty batch for shard i of n.
func (s *slab) batch(i, n int) *shardBatch {
	if s.batches == nil {
		s.batches = make([]*shardBatch, n)
	}
	b := s.batches[i]
	if b == nil {
		b = &shardBatch{items: make([]item, 0, chunkSize)}
		s.batches[i] = b
	}
	b.items, b.slab = b.items[:0], s
	return b
}

// slabStack is a router's free slabs. Shards push, the router pops.
type slabStack struct {
	mu    sync.Mutex
	slabs []*slab
	bytes int // the slabs' bytes
}

// slabAffinity is how far down its free stack getSlab looks for a slab of
// the chunk's kind, whose arrays it can reuse.
const slabAffinity = 4

// getSlab returns an empty slab with room for a chunk of kind: one the shards
// gave back, of that kind if one is near the top, or a new one.
func (rt *router) getSlab(kind record.Kind) *slab {
	st := rt.free
	st.mu.Lock()
	if n := len(st.slabs); n > 0 {
		i := n - 1
		for j := n - 1; j >= max(0, n-slabAffinity); j-- {
			if st.slabs[j].kind == kind {
				i = j
				break
			}
		}
		s := st.slabs[i]
		copy(st.slabs[i:], st.slabs[i+1:])
		st.slabs[n-1] = nil
		st.slabs = st.slabs[:n-1]
		st.bytes -= s.kept
		st.mu.Unlock()
		s.kind = kind
		return s
	}
	st.mu.Unlock()
	return &slab{kind: kind, recs: make([]rec, 0, chunkSize), home: st}
}

// release gives the slab back to its router when the last shard batch
// pointing into it is done. The slab keeps the arrays of its kind only, so
// that, as a router reads flow logs, Resolver logs and CloudTrail in turn, a
// slab does not come to hold the arrays of all three; and its router keeps
// at most slabsKept slabs of slabBytesKept bytes in all.
func (s *slab) release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	clear(s.recs) // drop references for the GC
	s.recs, s.flows, s.dns, s.calls, s.ans, s.arena = s.recs[:0], s.flows[:0], s.dns[:0], s.calls[:0], s.ans[:0], s.arena[:0]
	if s.kind != record.KindFlow {
		s.flows = nil
	}
	if s.kind != record.KindDNS {
		s.dns, s.ans = nil, nil
	}
	if s.kind != record.KindAPICall {
		s.calls = nil
	}
	s.kept = s.bytes()
	st := s.home
	st.mu.Lock()
	if len(st.slabs) < slabsKept && st.bytes+s.kept <= slabBytesKept {
		st.slabs = append(st.slabs, s)
		st.bytes += s.kept
	}
	st.mu.Unlock()
}

// The sizes of what a slab holds, for its bytes.
var (
	recBytes  = int(unsafe.Sizeof(rec{}))
	flowBytes = int(unsafe.Sizeof(record.Flow{}))
	dnsBytes  = int(unsafe.Sizeof(record.DNSQuery{}))
	ansBytes  = int(unsafe.Sizeof(record.DNSAnswer{}))
	callBytes = int(unsafe.Sizeof(record.APICall{}))
)

// bytes returns the room the slab's arrays take.
func (s *slab) bytes() int {
	return cap(s.recs)*recBytes + cap(s.flows)*flowBytes + cap(s.dns)*dnsBytes + cap(s.ans)*ansBytes +
		cap(s.calls)*callBytes + cap(s.arena)
}

// keep copies a routed record and its view into the slab and returns the copy.
// The slab holds at most a chunk of records, so its slices, sized for one,
// never move.
func (s *slab) keep(r *rec) *rec {
	s.recs = append(s.recs, *r)
	c := &s.recs[len(s.recs)-1]
	switch r.kind {
	case record.KindFlow:
		if s.flows == nil {
			s.flows = make([]record.Flow, 0, chunkSize)
		}
		s.flows = s.flows[:len(s.flows)+1]
		f := &s.flows[len(s.flows)-1]
		copyFlow(f, r.flow)
		f.Raw = s.copyBytes(r.flow.Raw)
		c.r, c.flow = f, f
	case record.KindDNS:
		if s.dns == nil {
			s.dns = make([]record.DNSQuery, 0, chunkSize)
		}
		s.dns = append(s.dns, *r.dns)
		q := &s.dns[len(s.dns)-1]
		q.Raw = s.copyBytes(r.dns.Raw)
		start := len(s.ans)
		s.ans = append(s.ans, r.dns.Answers...)
		q.Answers = s.ans[start:len(s.ans):len(s.ans)]
		c.r, c.dns = q, q
	case record.KindAPICall:
		if s.calls == nil {
			s.calls = make([]record.APICall, 0, chunkSize)
		}
		s.calls = append(s.calls, *r.call)
		a := &s.calls[len(s.calls)-1]
		a.Raw = s.copyBytes(r.call.Raw)
		c.r, c.call = a, a
	}
	return c
}

// copyBytes copies b into the arena and returns the copy. The arena may grow by
// reallocation; earlier copies keep pointing into the old array, which stays
// alive as long as they do.
func (s *slab) copyBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return s.arena[start:len(s.arena):len(s.arena)]
}

// why a record was not given to detectors.
const (
	skipNoAddr     = "no addresses (NODATA/SKIPDATA)"
	skipNATOutside = "NAT gateway or other non-instance interface"
	skipNoTime     = "no event time"
)

// loadChunk appends the views of records lo…hi of a decode batch to rt.recs.
// Records filtered out (outside since/until) or unusable are counted in skips.
// rt.recs and rt.moved have room for a chunk: pointers into them stay valid.
func (e *Engine) loadChunk(b *decode.Batch, lo, hi int, rt *router) {
	skips := rt.skips
	first := len(rt.recs)
	switch b.Kind {
	case record.KindFlow:
		for i := lo; i < hi; i++ {
			f := &b.Flows[i]
			if f.Present&(1<<record.FlowSrcAddr|1<<record.FlowDstAddr) != 1<<record.FlowSrcAddr|1<<record.FlowDstAddr {
				skips[skipNoAddr]++
				continue
			}
			t := f.Timestamp()
			if e.ranged && !e.inRange(t) {
				continue
			}
			rt.recs = append(rt.recs, rec{kind: record.KindFlow, r: f, flow: f, time: t, acctH: rt.accountHash(f.AccountID)})
			if !e.viewFlow(&rt.recs[len(rt.recs)-1], rt) {
				rt.recs = rt.recs[:len(rt.recs)-1]
				skips[skipNATOutside]++
			}
		}
		return
	case record.KindDNS:
		for i := lo; i < hi; i++ {
			q := &b.DNS[i]
			if !e.inRange(q.Timestamp()) {
				continue
			}
			rt.recs = append(rt.recs, rec{kind: record.KindDNS, r: q, dns: q, time: q.Time, name: normName(q.QueryName)})
		}
	case record.KindAPICall:
		for i := lo; i < hi; i++ {
			c := &b.Calls[i]
			if !e.inRange(c.Timestamp()) {
				continue
			}
			rt.recs = append(rt.recs, rec{kind: record.KindAPICall, r: c, call: c, time: c.EventTime})
		}
	}
	for i := first; i < len(rt.recs); i++ {
		r := &rt.recs[i]
		r.acctH = rt.accountHash(accountOf(r))
	}
}

// accountHash returns the hash of an account (the start of every group key),
// reusing the last one while the account repeats.
func (rt *router) accountHash(a string) uint64 {
	if !sameString(a, rt.lastAcct) || !rt.acctSet {
		rt.lastAcct, rt.lastAcctH, rt.acctSet = a, window.HashString(a)^uint64(len(a)), true
	}
	return rt.lastAcctH
}

func (e *Engine) inRange(ts int64) bool {
	return (e.cfg.Since == 0 || ts >= e.cfg.Since) && (e.cfg.Until == 0 || ts <= e.cfg.Until)
}

// setENI sets the view's interface information: the record's interface, and
// its instance, from the record or else from the inventory (an interface of a
// NAT gateway or another non-instance has none).
func (rt *router) setENI(r *rec) {
	f := r.flow
	inst := f.InstanceID
	if inst == "" && r.iface != nil && r.iface.Kind() == inventory.KindInstance {
		inst = r.iface.InstanceID
	}
	r.eni = rt.eniInfo(f, inst)
}

// eniInfo returns the interned interface information of a flow record. The
// table is the router's (one goroutine) and bounded; the values are immutable
// and shared with the shards.
func (rt *router) eniInfo(f *record.Flow, inst string) *eniInfo {
	// Decoders intern interface ids, so one interface's records share the id's
	// bytes: a small cache indexed by their address answers most look-ups
	// without hashing the strings.
	slot := uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.InterfaceID)))) * 0x9e3779b97f4a7c15 >> (64 - eniCacheBits)
	if x := rt.eniCache[slot]; x != nil && x.same(f, inst) {
		return x
	}
	k := eniKey{f.InterfaceID, inst}
	if x, ok := rt.enis[k]; ok && x.same(f, inst) {
		rt.eniCache[slot] = x
		return x
	}
	if len(rt.enis) >= maxInterned {
		clear(rt.enis) // pointers already handed out stay valid
	}
	vpc, subnet, region := interfaceContext(f)
	x := &eniInfo{eni: f.InterfaceID, inst: inst, vpc: vpc, subnet: subnet, acct: f.AccountID, region: region}
	rt.enis[k] = x
	rt.eniCache[slot] = x
	return x
}

// eniCacheBits sizes a router's interface cache: 4,096 slots.
const (
	eniCacheBits = 12
	eniCacheSize = 1 << eniCacheBits
)

// same reports whether x describes the interface of record f with instance inst.
func (x *eniInfo) same(f *record.Flow, inst string) bool {
	if !sameString(x.eni, f.InterfaceID) || !sameString(x.inst, inst) || !sameString(x.acct, f.AccountID) {
		return false
	}
	vpc, subnet, region := interfaceContext(f)
	return sameString(x.vpc, vpc) && sameString(x.subnet, subnet) && sameString(x.region, region)
}

// interfaceContext returns a flow record's VPC, subnet and region, reading
// only the fields the record has (an absent one is "" anyway): most formats
// have none, and their cache lines need not be touched.
func interfaceContext(f *record.Flow) (vpc, subnet, region string) {
	if f.Present&(1<<record.FlowVPCID|1<<record.FlowSubnetID|1<<record.FlowRegion) == 0 {
		return "", "", ""
	}
	return f.VPCID, f.SubnetID, f.Region
}

// sameString is a == b, answered without a call when both are the same
// interned string (decoders intern these fields) or of different lengths.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

type eniKey struct{ eni, inst string }

// maxInterned bounds a router's interface table.
const maxInterned = 1 << 16

// normName lower-cases a DNS name and drops its trailing dot.
func normName(s string) string {
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// viewFlow derives a flow record's view: packet-level addresses, which side is
// the logged interface's own, whether the record is the requesting side, and
// whether it is relayed through a NAT gateway. It returns false for a record no
// detection should see: one on a NAT gateway's (or another non-instance
// interface's) own address, which would blame the gateway for what the instances
// behind it do.
//
// NAT gateways: on the gateway's interface the inside leg (instance → gateway)
// carries pkt-dstaddr = the real destination (and replies pkt-srcaddr = the real
// source). Re-addressed with those, the record is about the instance and the real
// remote host, and the gateway disappears from it. The outside leg (gateway →
// internet) only names the gateway's own address; it is dropped. Gateway
// interfaces are known from the inventory, or, without one, from the record: a
// format that has pkt-* fields but no instance-id value (interfaces of NAT
// gateways, load balancers and endpoints have none).
func (e *Engine) viewFlow(r *rec, rt *router) bool {
	f := r.flow
	srcMoved := f.Present.Has(record.FlowPktSrcAddr) && f.PktSrcAddr.IsValid() && f.PktSrcAddr != f.SrcAddr
	dstMoved := f.Present.Has(record.FlowPktDstAddr) && f.PktDstAddr.IsValid() && f.PktDstAddr != f.DstAddr
	if srcMoved || dstMoved {
		// Re-address a copy: the batch is the caller's.
		rt.moved = rt.moved[:len(rt.moved)+1]
		m := &rt.moved[len(rt.moved)-1]
		copyFlow(m, f)
		m.Raw, m.Extra = f.Raw, f.Extra
		if srcMoved {
			m.SrcAddr = f.PktSrcAddr
		}
		if dstMoved {
			m.DstAddr = f.PktDstAddr
		}
		f = m
		r.r, r.flow = m, m
	}
	r.relayed = srcMoved || dstMoved
	r.srcInt, r.srcPub = classify(f.SrcAddr)
	r.dstInt, r.dstPub = classify(f.DstAddr)
	inv := e.deps.Inventory
	var eni *inventory.Interface
	if inv != nil && f.InterfaceID != "" {
		eni, _ = inv.Interface(f.InterfaceID)
	}
	nonInstance := false
	switch {
	case eni != nil:
		nonInstance = eni.Kind() != inventory.KindInstance
	case f.Present.Has(record.FlowInstanceID):
	case f.Present.Has(record.FlowPktSrcAddr) || f.Present.Has(record.FlowPktDstAddr):
		nonInstance = true
	}
	if nonInstance {
		if !r.relayed {
			return false
		}
		r.local = sideNone
	} else {
		dir := record.DirectionUnknown // as an absent field holds; read only if present, sparing a cache line
		if f.Present.Has(record.FlowFlowDirection) {
			dir = f.FlowDirection
		}
		switch dir {
		case record.DirectionEgress:
			r.local = sideSrc
		case record.DirectionIngress:
			r.local = sideDst
		default:
			r.local = localByAddress(f, eni, r.srcInt, r.dstInt)
		}
		if r.local == sideSrc && srcMoved || r.local == sideDst && dstMoved {
			// The interface's own side was re-addressed: not its address any more.
			r.local = sideNone
		}
	}
	r.iface = eni
	r.request = isRequest(f)
	r.class = viewClass(r.request, r.srcPub, r.dstPub)
	return true
}

// localByAddress tells which address is the interface's own when the record has
// no flow-direction: from the inventory's addresses of the interface, else the
// private side of a private–public pair, else none (both private: the record
// could be either end's). sp and dp are isInternal of the addresses.
func localByAddress(f *record.Flow, eni *inventory.Interface, sp, dp bool) side {
	if eni != nil {
		for _, p := range eni.PrivateIPs {
			switch p.Addr {
			case f.SrcAddr:
				return sideSrc
			case f.DstAddr:
				return sideDst
			}
		}
		for _, a := range eni.IPv6 {
			switch a {
			case f.SrcAddr:
				return sideSrc
			case f.DstAddr:
				return sideDst
			}
		}
	}
	switch {
	case sp && !dp:
		return sideSrc
	case dp && !sp:
		return sideDst
	}
	return sideNone
}

// classify returns isInternal(a) and isPublic(a), fast for IPv4.
func classify(a netip.Addr) (internal, public bool) {
	if !a.Is4() {
		return isInternal(a), isPublic(a)
	}
	b := a.As4()
	switch {
	case b[0] == 10, b[0] == 172 && b[1]&0xf0 == 16, b[0] == 192 && b[1] == 168,
		b[0] == 100 && b[1]&0xc0 == 64, b[0] == 169 && b[1] == 254, b[0] == 127:
		return true, false
	case b[0] == 0, b[0] >= 224:
		return false, false // this network, multicast, reserved, broadcast
	}
	return false, true
}

// isInternal reports whether an address is private (RFC 1918, RFC 6598 shared,
// unique-local IPv6): an address of the estate or a network it reaches
// privately, never a host on the internet.
func isInternal(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLoopback() {
		return true
	}
	return a.Is4() && sharedSpace.Contains(a)
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// isPublic reports whether an address is routable on the internet.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !isInternal(a) && !a.IsMulticast()
}

// Groups of flow fields that share cache lines of record.Flow and that most
// logs lack (version 2 has none of them): copies skip a group unless either
// record has one of its fields. The interface group (vpc-id, subnet-id,
// instance-id), the version 3–5 groups, ECS (v7), Transit Gateway (v6) and
// reject-reason (v8).
var ifaceGroup, v3Group, v5Group, ecsGroup, tgwGroup = func() (i, v3, v5, e, t record.FieldSet) {
	i = i.Add(record.FlowVPCID).Add(record.FlowSubnetID).Add(record.FlowInstanceID)
	v3 = v3.Add(record.FlowTCPFlags).Add(record.FlowType).Add(record.FlowPktSrcAddr).Add(record.FlowPktDstAddr)
	for id := record.FlowRegion; id <= record.FlowTrafficPath; id++ {
		v5 = v5.Add(id)
	}
	for id := record.FlowECSClusterARN; id <= record.FlowECSTaskID; id++ {
		e = e.Add(id)
	}
	for id := record.FlowTGWResourceType; id <= record.FlowPacketsLostTTLExpired; id++ {
		t = t.Add(id)
	}
	return i, v3, v5, e, t
}()

// copyFlow copies a flow record into dst (a reused slot that may hold an older
// record), field by field, a group of fields only when either record has one
// of them. Raw and Extra are the caller's.
func copyFlow(dst, src *record.Flow) {
	old := dst.Present
	any := src.Present | old
	dst.Present, dst.Version, dst.AccountID, dst.InterfaceID = src.Present, src.Version, src.AccountID, src.InterfaceID
	dst.SrcAddr, dst.DstAddr, dst.SrcPort, dst.DstPort, dst.Protocol = src.SrcAddr, src.DstAddr, src.SrcPort, src.DstPort, src.Protocol
	dst.Packets, dst.Bytes, dst.Start, dst.End = src.Packets, src.Bytes, src.Start, src.End
	dst.Action, dst.LogStatus = src.Action, src.LogStatus
	if any&ifaceGroup != 0 {
		dst.VPCID, dst.SubnetID, dst.InstanceID = src.VPCID, src.SubnetID, src.InstanceID
	}
	if any&v3Group != 0 {
		dst.TCPFlags, dst.Type, dst.PktSrcAddr, dst.PktDstAddr = src.TCPFlags, src.Type, src.PktSrcAddr, src.PktDstAddr
	}
	if any&v5Group != 0 {
		dst.Region, dst.AZID, dst.SublocationType, dst.SublocationID = src.Region, src.AZID, src.SublocationType, src.SublocationID
		dst.PktSrcAWSService, dst.PktDstAWSService = src.PktSrcAWSService, src.PktDstAWSService
		dst.FlowDirection, dst.TrafficPath = src.FlowDirection, src.TrafficPath
	}
	if any&(1<<record.FlowRejectReason) != 0 {
		dst.RejectReason = src.RejectReason
	}
	dst.Stream = src.Stream
	dst.Extra = nil // aliases the decoder's line; detections do not read it
	if any&ecsGroup != 0 {
		dst.ECS = src.ECS
	}
	if any&tgwGroup != 0 {
		dst.TGW = src.TGW
	}
}

// TCP flag bits as VPC Flow Logs report them.
const (
	tcpFIN    = 1
	tcpSYN    = 2
	tcpRST    = 4
	tcpSYNACK = 18
)

// isRequest reports whether a flow record is from the side that opened the
// connection: by TCP flags when the log has them (a SYN without ACK opens, a
// SYN-ACK answers), else by ports (the server's port is the lower one, a
// well-known port below 1024 always being the server's).
func isRequest(f *record.Flow) bool {
	if f.Protocol == 6 && f.Present.Has(record.FlowTCPFlags) {
		switch fl := f.TCPFlags; {
		case fl&tcpSYNACK == tcpSYNACK:
			return false
		case fl&tcpSYN != 0:
			return true
		}
	}
	if !f.Present.Has(record.FlowSrcPort) || !f.Present.Has(record.FlowDstPort) {
		return true
	}
	sp, dp := f.SrcPort, f.DstPort
	switch {
	case sp == dp:
		return true
	case dp < 1024 && sp >= 1024:
		return true
	case sp < 1024 && dp >= 1024:
		return false
	}
	return dp < sp
}
