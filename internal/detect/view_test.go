package detect

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

// TestCopyFlow copies records with every mix of field groups, one after the
// other, into one reused slot, and checks that the slot ends up equal to each
// record: the groups copyFlow skips hold nothing stale.
func TestCopyFlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var dst record.Flow
	for n := range 2000 {
		var src record.Flow
		for _, fld := range record.FlowCatalogue.Fields {
			if fld.ID < 64 && rng.IntN(4) == 0 {
				setFlowField(&src, fld.ID, n)
			}
		}
		copyFlow(&dst, &src)
		dst.Raw, dst.Extra = src.Raw, src.Extra
		if !reflect.DeepEqual(dst, src) {
			t.Fatalf("copy %d:\n got %+v\nwant %+v", n, dst, src)
		}
	}
}

// setFlowField gives field id of f a non-zero value and marks it present.
func setFlowField(f *record.Flow, id record.FieldID, n int) {
	f.Present = f.Present.Add(id)
	s := "v" + string(rune('a'+n%26))
	a := netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)})
	switch id {
	case record.FlowVersion:
		f.Version = int32(n + 1)
	case record.FlowSrcAddr:
		f.SrcAddr = a
	case record.FlowDstAddr:
		f.DstAddr = a
	case record.FlowPktSrcAddr:
		f.PktSrcAddr = a
	case record.FlowPktDstAddr:
		f.PktDstAddr = a
	case record.FlowSrcPort:
		f.SrcPort = uint16(n + 1)
	case record.FlowDstPort:
		f.DstPort = uint16(n + 2)
	case record.FlowProtocol:
		f.Protocol = uint8(n + 1)
	case record.FlowPackets:
		f.Packets = int64(n + 1)
	case record.FlowBytes:
		f.Bytes = int64(n + 1)
	case record.FlowStart:
		f.Start = int64(n + 1)
	case record.FlowEnd:
		f.End = int64(n + 1)
	case record.FlowAction:
		f.Action = record.ActionReject
	case record.FlowLogStatus:
		f.LogStatus = record.LogStatusOK
	case record.FlowTCPFlags:
		f.TCPFlags = uint16(n + 1)
	case record.FlowFlowDirection:
		f.FlowDirection = record.DirectionEgress
	case record.FlowTrafficPath:
		f.TrafficPath = uint8(n + 1)
	case record.FlowPacketsLostNoRoute:
		f.TGW.PacketsLostNoRoute = int64(n + 1)
	case record.FlowPacketsLostBlackhole:
		f.TGW.PacketsLostBlackhole = int64(n + 1)
	case record.FlowPacketsLostMTUExceeded:
		f.TGW.PacketsLostMTUExceeded = int64(n + 1)
	case record.FlowPacketsLostTTLExpired:
		f.TGW.PacketsLostTTLExpired = int64(n + 1)
	default:
		if p := f.StringField(id); p != nil {
			*p = s
		} else {
			f.Present &^= 1 << id
		}
	}
}

// TestSlabReuse: a released slab keeps the arrays of its kind only, its
// router keeps slabs up to slabBytesKept, and getSlab hands out a slab of
// the chunk's kind when one is near the top of the stack.
func TestSlabReuse(t *testing.T) {
	rt := &router{free: &slabStack{}}
	full := func(kind record.Kind) *slab {
		s := rt.getSlab(kind)
		s.flows = make([]record.Flow, 0, chunkSize)
		s.dns = make([]record.DNSQuery, 0, chunkSize)
		s.calls = make([]record.APICall, 0, chunkSize)
		s.arena = make([]byte, 0, 1<<10)
		s.refs.Store(1)
		return s
	}
	f, d := full(record.KindFlow), full(record.KindDNS)
	f.release()
	d.release()
	if f.flows == nil || f.dns != nil || f.calls != nil || d.dns == nil || d.flows != nil || d.calls != nil {
		t.Fatalf("released slabs keep other kinds' arrays: flow slab %v %v %v, DNS slab %v %v %v",
			f.flows != nil, f.dns != nil, f.calls != nil, d.flows != nil, d.dns != nil, d.calls != nil)
	}
	if got, want := rt.free.bytes, f.bytes()+d.bytes(); got != want || len(rt.free.slabs) != 2 {
		t.Fatalf("stack: %d slabs, %d bytes; want 2, %d", len(rt.free.slabs), got, want)
	}
	if s := rt.getSlab(record.KindFlow); s != f {
		t.Errorf("getSlab(flow) did not return the flow slab under the DNS one")
	}
	if s := rt.getSlab(record.KindAPICall); s != d || s.kind != record.KindAPICall || rt.free.bytes != 0 {
		t.Errorf("getSlab(call) from a stack of one DNS slab: %p (kind %v), stack bytes %d", s, s.kind, rt.free.bytes)
	}
	// Past the byte budget, released slabs are dropped.
	n := 0
	for range slabsKept {
		s := full(record.KindAPICall)
		s.arena = make([]byte, 0, slabBytesKept/8)
		s.release()
		n++
	}
	if rt.free.bytes > slabBytesKept || len(rt.free.slabs) >= n {
		t.Errorf("kept %d of %d slabs, %d bytes; at most %d bytes", len(rt.free.slabs), n, rt.free.bytes, slabBytesKept)
	}
}
