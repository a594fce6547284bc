package detect

import (
	"slices"

	"github.com/vigil-dev/vigil/internal/record"
)

// flowGate is a necessary condition for a flow detection's route to take a
// record: most records concern only a few of the detections (a rule for port
// 22 has nothing to do with the rest). The engine turns the gates into a table
// of the detections each class of view and protocol can concern, once
// (buildFlowCands), and the router calls only those, after a check of the
// destination port for gates that name ports. A gate never turns away a
// record route would take: it is made of the checks route itself starts with
// (gated) and of the rule's prefilter.
type flowGate struct {
	request bool       // only records from the side that opened the connection
	pub     uint8      // allowed (srcPub, dstPub) combinations: pubNeither…pubBoth
	proto   *[4]uint64 // allowed protocols (a record without one has none); nil = any
	dports  []uint16   // allowed destination ports (likewise); nil = any
	// allow and fields are what pass reads: the allowed classes (rec.class) of
	// request and pub, and whether proto or dports is set.
	allow  uint8
	fields bool
}

// The (srcPub, dstPub) combinations, as bits of flowGate.pub.
const (
	pubNeither uint8 = 1 << iota // internal to internal
	pubDst                       // to a public address
	pubSrc                       // from a public address
	pubBoth
	pubAny = pubNeither | pubDst | pubSrc | pubBoth
)

// viewClass is the class of a flow view for gates, 0–7: whether it is a
// request and which of its ends are public.
func viewClass(request, srcPub, dstPub bool) uint8 {
	var i uint8
	if dstPub {
		i |= 1
	}
	if srcPub {
		i |= 2
	}
	if request {
		i |= 4
	}
	return i
}

// gated is implemented by Go detectors whose route starts with checks a gate
// can make.
type gated interface {
	gate() flowGate
}

// newFlowGate makes the gate of a flow detection: its detector's, narrowed by
// the rule's direction and prefilter.
func newFlowGate(r *Rule, d detector) flowGate {
	g := flowGate{pub: pubAny}
	if gd, ok := d.(gated); ok {
		g = gd.gate()
	}
	if r.Direction == DirRequest {
		g.request = true
	}
	if p := r.pre; p != nil {
		if p.proto != nil {
			var set [4]uint64
			for _, v := range p.proto {
				if v >= 0 && v < 256 {
					set[v>>6] |= 1 << (v & 63)
				}
			}
			if g.proto != nil {
				for i := range set {
					set[i] &= g.proto[i]
				}
			}
			g.proto = &set
		}
		if p.dport != nil && g.dports == nil {
			g.dports = []uint16{}
			for _, v := range p.dport {
				if v >= 0 && v < 1<<16 {
					g.dports = append(g.dports, uint16(v))
				}
			}
		}
	}
	g.fields = g.proto != nil || g.dports != nil
	g.allow = g.pub << 4 // requests
	if !g.request {
		g.allow |= g.pub // and replies
	}
	return g
}

// protocols returns the protocol set of a gate.
func protocols(ps ...uint8) *[4]uint64 {
	var set [4]uint64
	for _, p := range ps {
		set[p>>6] |= 1 << (p & 63)
	}
	return &set
}

// pass reports whether the detection's route may take the flow view r (what
// the router's table and port check decide; for tests and as their
// definition).
func (g *flowGate) pass(r *rec) bool {
	return g.allow&(1<<r.class) != 0 && (!g.fields || g.passFields(r.flow))
}

// passFields is pass's check of the protocol and destination port.
func (g *flowGate) passFields(f *record.Flow) bool {
	if g.proto != nil && (!f.Present.Has(record.FlowProtocol) || g.proto[f.Protocol>>6]&(1<<(f.Protocol&63)) == 0) {
		return false
	}
	return g.dports == nil || f.Present.Has(record.FlowDstPort) && slices.Contains(g.dports, f.DstPort)
}

// flowCandList is what the router calls for a class of flow views: the
// detections without destination ports, then those with (ported), which only
// records to one of their ports reach; portBits has bit port%64 set for each
// of their ports, to pass most records over them at once. Detections keep
// their order within each list: each detection sees its records in order,
// which is all that its state depends on.
type flowCandList struct {
	any, ported []flowCand
	portBits    uint64
}

// flowCand is a flow detection the router calls.
type flowCand struct {
	d      *detEntry
	di     int32
	dports []uint16 // the gate's destination ports; nil = any
}

// candidates returns the flow candidates of a view's class and protocol, as
// the router calls them (for tests).
func (e *Engine) candidates(r *rec) []int32 {
	f := r.flow
	p := 256
	if f.Present.Has(record.FlowProtocol) {
		p = int(f.Protocol)
	}
	cl := e.flowCands[r.class][p]
	var out []int32
	for _, c := range cl.any {
		out = append(out, c.di)
	}
	for _, c := range cl.ported {
		if f.Present.Has(record.FlowDstPort) && slices.Contains(c.dports, f.DstPort) {
			out = append(out, c.di)
		}
	}
	slices.Sort(out)
	return out
}

// buildFlowCands fills e.flowCands from the flow detections' gates. Classes
// and protocols admitting the same detections share one list.
func (e *Engine) buildFlowCands() {
	shared := map[string]*flowCandList{}
	for class := range e.flowCands {
		for p := range e.flowCands[class] {
			cl := &flowCandList{}
			var key []byte
			for _, di := range e.byKind[record.KindFlow] {
				d := e.dets[di]
				g := &d.gate
				if g.allow&(1<<class) == 0 {
					continue
				}
				if g.proto != nil && (p == 256 || g.proto[p>>6]&(1<<(p&63)) == 0) {
					continue
				}
				c := flowCand{d: d, di: int32(di), dports: g.dports}
				if g.dports == nil {
					cl.any = append(cl.any, c)
				} else {
					cl.ported = append(cl.ported, c)
					for _, port := range g.dports {
						cl.portBits |= 1 << (port & 63)
					}
				}
				key = append(key, byte(di), byte(di>>8))
			}
			if old, ok := shared[string(key)]; ok {
				cl = old
			} else {
				shared[string(key)] = cl
			}
			e.flowCands[class][p] = cl
		}
	}
}
