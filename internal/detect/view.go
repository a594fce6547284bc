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

// rec is the engine's copy of one record plus what the engine derived from it
// once, on the routing goroutine, for every detector to share. It lives in a slab
// that is recycled when every shard has processed it: detectors must not keep a
// *rec, its record, or a string or slice that points into Raw after observe
// returns (string fields of the typed records are heap strings and may be kept).
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
	// eni is the interface the record was logged on (interned per router).
	eni *eniInfo
	// The classes of the (packet-level) addresses, computed once.
	srcPub, dstPub, srcInt, dstInt bool

	// DNS: the query name lower-cased without its trailing dot.
	name string
}

// side is one end of a flow.
type side uint8

const (
	sideNone side = iota
	sideSrc
	sideDst
)

// slab holds the copies of one decode batch's records. refs counts the shard
// batches that still point into it; the last one to finish returns it to the pool.
type slab struct {
	recs  []rec
	flows []record.Flow
	dns   []record.DNSQuery
	calls []record.APICall
	ans   []record.DNSAnswer
	arena []byte
	refs  atomic.Int32
}

var slabPool = sync.Pool{New: func() any { return new(slab) }}

func getSlab() *slab {
	s := slabPool.Get().(*slab)
	s.recs, s.flows, s.dns, s.calls, s.ans, s.arena = s.recs[:0], s.flows[:0], s.dns[:0], s.calls[:0], s.ans[:0], s.arena[:0]
	return s
}

func (s *slab) release() {
	if s.refs.Add(-1) == 0 {
		clear(s.recs[:cap(s.recs)]) // drop references for the GC
		slabPool.Put(s)
	}
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

// loadBatch copies a decode batch into a slab and derives each record's view.
// Records filtered out (outside since/until) or unusable are counted in skips.
func (e *Engine) loadBatch(b *decode.Batch, s *slab, rt *router) {
	skips := rt.skips
	n := b.Len()
	if cap(s.recs) < n {
		s.recs = make([]rec, 0, n)
	}
	switch b.Kind {
	case record.KindFlow:
		if cap(s.flows) < n {
			s.flows = make([]record.Flow, 0, n)
		}
		for i := range b.Flows {
			src := &b.Flows[i]
			if src.Present&(1<<record.FlowSrcAddr|1<<record.FlowDstAddr) != 1<<record.FlowSrcAddr|1<<record.FlowDstAddr {
				skips[skipNoAddr]++
				continue
			}
			if !e.inRange(src.Timestamp()) {
				continue
			}
			s.flows = s.flows[:len(s.flows)+1]
			f := &s.flows[len(s.flows)-1]
			copyFlow(f, src)
			f.Raw = s.copyBytes(src.Raw)
			s.recs = append(s.recs, rec{kind: record.KindFlow, r: f, flow: f, time: f.Timestamp()})
			if !e.viewFlow(&s.recs[len(s.recs)-1], rt) {
				s.recs = s.recs[:len(s.recs)-1]
				skips[skipNATOutside]++
			}
		}
	case record.KindDNS:
		if cap(s.dns) < n {
			s.dns = make([]record.DNSQuery, 0, n)
		}
		for i := range b.DNS {
			src := &b.DNS[i]
			if !e.inRange(src.Timestamp()) {
				continue
			}
			s.dns = append(s.dns, *src)
			q := &s.dns[len(s.dns)-1]
			q.Raw = s.copyBytes(src.Raw)
			start := len(s.ans)
			s.ans = append(s.ans, src.Answers...)
			q.Answers = s.ans[start:len(s.ans):len(s.ans)]
			s.recs = append(s.recs, rec{kind: record.KindDNS, r: q, dns: q, time: q.Time, name: normName(q.QueryName)})
		}
	case record.KindAPICall:
		if cap(s.calls) < n {
			s.calls = make([]record.APICall, 0, n)
		}
		for i := range b.Calls {
			src := &b.Calls[i]
			if !e.inRange(src.Timestamp()) {
				continue
			}
			s.calls = append(s.calls, *src)
			c := &s.calls[len(s.calls)-1]
			c.Raw = s.copyBytes(src.Raw)
			s.recs = append(s.recs, rec{kind: record.KindAPICall, r: c, call: c, time: c.EventTime})
		}
	}
	for i := range s.recs {
		r := &s.recs[i]
		a := accountOf(r)
		if a != rt.lastAcct || !rt.acctSet {
			rt.lastAcct, rt.lastAcctH, rt.acctSet = a, window.HashString(a)^uint64(len(a)), true
		}
		r.acctH = rt.lastAcctH
	}
	// Pointers into s.flows etc. stay valid: each slice was given enough capacity
	// before the loop, so append never moved it.
}

func (e *Engine) inRange(ts int64) bool {
	return (e.cfg.Since == 0 || ts >= e.cfg.Since) && (e.cfg.Until == 0 || ts <= e.cfg.Until)
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
	x := &eniInfo{eni: f.InterfaceID, inst: inst, vpc: f.VPCID, subnet: f.SubnetID, acct: f.AccountID, region: f.Region}
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
	return x.eni == f.InterfaceID && x.inst == inst && x.vpc == f.VPCID && x.acct == f.AccountID &&
		x.region == f.Region && x.subnet == f.SubnetID
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
	var srcMoved, dstMoved bool
	if f.Present.Has(record.FlowPktSrcAddr) && f.PktSrcAddr.IsValid() && f.PktSrcAddr != f.SrcAddr {
		f.SrcAddr, srcMoved = f.PktSrcAddr, true
	}
	if f.Present.Has(record.FlowPktDstAddr) && f.PktDstAddr.IsValid() && f.PktDstAddr != f.DstAddr {
		f.DstAddr, dstMoved = f.PktDstAddr, true
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
		switch f.FlowDirection {
		case record.DirectionEgress:
			r.local = sideSrc
		case record.DirectionIngress:
			r.local = sideDst
		default:
			r.local = localByAddress(f, eni)
		}
		if r.local == sideSrc && srcMoved || r.local == sideDst && dstMoved {
			// The interface's own side was re-addressed: not its address any more.
			r.local = sideNone
		}
	}
	inst := f.InstanceID
	if inst == "" && eni != nil && !nonInstance {
		inst = eni.InstanceID
	}
	r.eni = rt.eniInfo(f, inst)
	r.request = isRequest(f)
	return true
}

// localByAddress tells which address is the interface's own when the record has
// no flow-direction: from the inventory's addresses of the interface, else the
// private side of a private–public pair, else none (both private: the record
// could be either end's).
func localByAddress(f *record.Flow, eni *inventory.Interface) side {
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
	sp, dp := isInternal(f.SrcAddr), isInternal(f.DstAddr)
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

// The flow fields of the ECS (v7) and Transit Gateway (v6) groups: most logs
// have none, so copies skip them.
var ecsFields, tgwFields = func() (e, t record.FieldSet) {
	for id := record.FlowECSClusterARN; id <= record.FlowECSTaskID; id++ {
		e = e.Add(id)
	}
	for id := record.FlowTGWResourceType; id <= record.FlowPacketsLostTTLExpired; id++ {
		t = t.Add(id)
	}
	return e, t
}()

// copyFlow copies a flow record into dst (a slab slot that may hold an older
// record), field by field: the ECS and Transit Gateway groups, half of the
// struct, only when either record has them. Raw and Extra are the caller's.
func copyFlow(dst, src *record.Flow) {
	old := dst.Present
	dst.Present, dst.Version, dst.AccountID, dst.InterfaceID = src.Present, src.Version, src.AccountID, src.InterfaceID
	dst.SrcAddr, dst.DstAddr, dst.SrcPort, dst.DstPort, dst.Protocol = src.SrcAddr, src.DstAddr, src.SrcPort, src.DstPort, src.Protocol
	dst.Packets, dst.Bytes, dst.Start, dst.End = src.Packets, src.Bytes, src.Start, src.End
	dst.Action, dst.LogStatus, dst.VPCID, dst.SubnetID, dst.InstanceID = src.Action, src.LogStatus, src.VPCID, src.SubnetID, src.InstanceID
	dst.TCPFlags, dst.Type, dst.PktSrcAddr, dst.PktDstAddr = src.TCPFlags, src.Type, src.PktSrcAddr, src.PktDstAddr
	dst.Region, dst.AZID, dst.SublocationType, dst.SublocationID = src.Region, src.AZID, src.SublocationType, src.SublocationID
	dst.PktSrcAWSService, dst.PktDstAWSService = src.PktSrcAWSService, src.PktDstAWSService
	dst.FlowDirection, dst.TrafficPath, dst.RejectReason, dst.Stream = src.FlowDirection, src.TrafficPath, src.RejectReason, src.Stream
	dst.Extra = nil // aliases the decoder's line; detections do not read it
	if (src.Present|old)&ecsFields != 0 {
		dst.ECS = src.ECS
	}
	if (src.Present|old)&tgwFields != 0 {
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
