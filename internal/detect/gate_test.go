package detect

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/record"
)

// TestFlowGatesNeverTurnAwayWhatRouteTakes routes random flow records through
// every built-in flow detection, and through rules with filters of their own,
// and checks that a record a detection's gate turns away is one its route
// does not take either.
func TestFlowGatesNeverTurnAwayWhatRouteTakes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "extra.yaml"), []byte(`
id: t-udp-dns
kind: flow
filter: protocol in [17, 300] and dstPort in [53, 70000]
groupBy: [srcAddr]
window: 1m
threshold: {count: true, atLeast: 2}
finding: {type: "Recon:EC2/Portscan", resources: [{side: src}]}
---
id: t-any
kind: flow
direction: request
groupBy: [srcAddr]
window: 1m
threshold: {count: true, atLeast: 2}
finding: {type: "Recon:EC2/Portscan", resources: [{side: src}]}
---
id: t-shared-a
kind: flow
filter: protocol = 6 and (packets > 3 or action = "REJECT") and srcPort < 1024
groupBy: [srcAddr]
window: 1m
threshold: {count: true, atLeast: 2}
finding: {type: "Recon:EC2/Portscan", resources: [{side: src}]}
---
id: t-shared-b
kind: flow
filter: (packets > 3 or action = "REJECT") and dstPort != 443
groupBy: [srcAddr]
window: 1m
threshold: {count: true, atLeast: 2}
finding: {type: "Recon:EC2/Portscan", resources: [{side: src}]}
---
override: port-probe-unprotected
filter: protocol = 6 and dstPort != 443
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := LoadRules(dir)
	if err != nil {
		t.Fatal(err)
	}
	threat, _, err := intel.Parse(strings.NewReader("198.51.100.0/24\n"), intel.Options{Name: "tor-exits", Kind: intel.Threat, Source: "t"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(DefaultConfig(), Deps{Rules: rules, Intel: intel.NewSet(threat)})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	defer e.Close()

	rng := rand.New(rand.NewPCG(3, 3))
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6"), netip.MustParseAddr("198.51.100.7"),
		netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("2001:db8::1")}
	ports := []uint16{22, 25, 53, 80, 443, 3389, 5985, 40000, 50000}
	b := &decode.Batch{Kind: record.KindFlow, Input: &decode.Input{Name: "t"}, Flows: make([]record.Flow, 20_000)}
	for i := range b.Flows {
		f := &b.Flows[i]
		f.Present = v5Fields
		f.Version, f.AccountID, f.InterfaceID = 5, "111122223333", "eni-1"
		f.SrcAddr, f.DstAddr = addrs[rng.IntN(len(addrs))], addrs[rng.IntN(len(addrs))]
		f.PktSrcAddr, f.PktDstAddr = f.SrcAddr, f.DstAddr
		if rng.IntN(8) == 0 {
			f.PktDstAddr = addrs[rng.IntN(len(addrs))]
		}
		f.SrcPort, f.DstPort = ports[rng.IntN(len(ports))], ports[rng.IntN(len(ports))]
		f.Protocol = []uint8{6, 17, 1, 47}[rng.IntN(4)]
		f.Packets, f.Bytes, f.TCPFlags = int64(1+rng.IntN(10)), int64(40+rng.IntN(5000)), []uint16{2, 18, 3, 19}[rng.IntN(4)]
		f.Action = record.Action(1 + rng.IntN(2))
		f.FlowDirection = record.Direction(rng.IntN(3))
		f.Start = 1793491200 + int64(i/100)
		if rng.IntN(3) == 0 {
			f.InstanceID = "i-1"
		} else {
			f.Present &^= 1 << record.FlowInstanceID
		}
		if rng.IntN(5) == 0 { // an absent field holds its zero value (record.Flow)
			f.Present &^= 1 << record.FlowProtocol
			f.Protocol = 0
		}
	}
	rt := &router{skips: map[string]int64{}, enis: map[eniKey]*eniInfo{}}
	rt.recs = make([]rec, 0, len(b.Flows))
	rt.moved = make([]record.Flow, 0, len(b.Flows))
	e.loadChunk(b, 0, len(b.Flows), rt)
	for i := range rt.recs {
		r := &rt.recs[i]
		var want []int32
		for _, di := range e.byKind[record.KindFlow] {
			if e.dets[di].gate.pass(r) {
				want = append(want, int32(di))
			}
		}
		if got := e.candidates(r); !slices.Equal(got, want) {
			t.Fatalf("record %+v: the router's candidates are %v, the gates pass %v", *r.flow, got, want)
		}
	}
	memo := 0
	for _, di := range e.byKind[record.KindFlow] {
		d := e.dets[di]
		if d.memoMatch != nil {
			memo++
		}
		for i := range rt.recs {
			r := &rt.recs[i]
			if got, want := d.match(r), d.rule.match(r); got != want {
				t.Fatalf("%s: match with shared conjuncts %v, the rule's own %v: %+v", d.rule.ID, got, want, *r.flow)
			}
		}
	}
	if memo < 3 { // portscan and portsweep, t-shared-a and t-shared-b
		t.Errorf("%d detections share a conjunct, want at least 3", memo)
	}
	for _, di := range e.byKind[record.KindFlow] {
		d := e.dets[di]
		taken, gated := 0, 0
		for i := range rt.recs {
			r := &rt.recs[i]
			_, ok := d.det.route(r, d)
			if ok {
				taken++
			}
			if !d.gate.pass(r) {
				gated++
				if ok {
					t.Fatalf("%s: the gate turns away a record route takes: %+v", d.rule.ID, *r.flow)
				}
			}
		}
		t.Logf("%-24s route takes %5d of %d records, the gate turns away %5d", d.rule.ID, taken, len(rt.recs), gated)
		if gated == 0 && d.gate.request {
			t.Errorf("%s: a gate for requests turned away nothing: the records do not test it", d.rule.ID)
		}
	}
}

// v5Fields is the presence set of a v5 record with every field.
var v5Fields = func() record.FieldSet {
	var s record.FieldSet
	for _, id := range []record.FieldID{record.FlowVersion, record.FlowAccountID, record.FlowInterfaceID, record.FlowSrcAddr,
		record.FlowDstAddr, record.FlowSrcPort, record.FlowDstPort, record.FlowProtocol, record.FlowPackets, record.FlowBytes,
		record.FlowStart, record.FlowEnd, record.FlowAction, record.FlowLogStatus, record.FlowInstanceID, record.FlowTCPFlags,
		record.FlowPktSrcAddr, record.FlowPktDstAddr, record.FlowFlowDirection} {
		s = s.Add(id)
	}
	return s
}()
