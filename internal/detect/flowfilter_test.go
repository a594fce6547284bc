package detect

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// flowFilterCases are filters the direct compiler must agree with the query
// compiler on: every node it compiles itself, the ones it leaves to the query
// compiler, and the edges (missing fields, literals that are not whole numbers,
// arithmetic that leaves 64 bits). The built-in rules' filters are added.
var flowFilterCases = []string{
	`protocol = 6`, `6 = protocol`, `dstPort != 22`, `dstPort < 1024`, `packets >= 4`, `1024 > srcPort`,
	`not ispresent(tcpFlags)`, `ispresent(dstAddr)`, `ispresent(action)`, `ispresent(version)`,
	`tcpFlags in [2, 6]`, `tcpFlags not in [2, 6]`, `dstPort in [22.0, 3389]`, `dstPort in [-1, 22]`, `dstPort in ["22", 80]`,
	`action = "REJECT"`, `action != "ACCEPT"`, `"REJECT" = action`, `action = "FOO"`, `action != "FOO"`, `action < "B"`, `action in ["REJECT"]`,
	`bytes <= 80 * packets`, `80 * packets >= bytes`, `bytes > packets * 9223372036854775807`,
	`packets + bytes > 100`, `bytes - packets < 0`, `packets * packets * packets > 1000000`, `bytes + 9223372036854775000 > 0`,
	`srcPort > dstPort`, `start <= end`, `dstPort = -1`, `bytes / packets > 10`, `packets % 2 = 0`,
	`bytes < 1.5e3`, `packets = 2.0`, `packets = 0.5`, `packets = 1e400`, `packets = 99999999999999999999`,
	`isPublicIP(dstAddr) and protocol = 17`, `not (protocol = 6 or protocol = 17)`, `dstAddr = "10.0.0.1"`, `srcAddr like "10."`,
	`protocol`, `not protocol`, `version = 2`, `dstPort = "22"`,
	`protocol = 6 and (tcpFlags in [2, 6] or action = "REJECT" or (not ispresent(tcpFlags) and packets <= 4 and bytes <= 80 * packets))`,
	`protocol = 6 and protocol = 17`, `protocol in [6, 17] and protocol = 6 and dstPort = 22 and 22 = dstPort`, `protocol = 6.0 and dstPort in [22, 1e0]`,
	`dstPort = 22 or protocol = 6`, `not protocol = 6 and srcPort in [1, 2] and srcPort in [2]`, `protocol = 300 and dstPort = 70000`,
}

// randomFlows returns flow records with random field values and random gaps,
// including values that make arithmetic overflow.
func randomFlows(n int, seed uint64) []record.Flow {
	rng := rand.New(rand.NewPCG(seed, 7))
	ints := []int64{0, 1, 2, 4, 6, 22, 80, 1023, 1024, 3389, 65535, 1 << 40, 1 << 62, math.MaxInt64}
	pick := func() int64 {
		if rng.IntN(3) == 0 {
			return int64(rng.IntN(200))
		}
		return ints[rng.IntN(len(ints))]
	}
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("100.64.0.1")}
	out := make([]record.Flow, n)
	for i := range out {
		f := &out[i]
		f.Version = 2
		f.SrcAddr, f.DstAddr = addrs[rng.IntN(len(addrs))], addrs[rng.IntN(len(addrs))]
		f.SrcPort, f.DstPort, f.Protocol = uint16(pick()), uint16(pick()), uint8(pick())
		f.Packets, f.Bytes, f.Start, f.End = pick(), pick(), pick(), pick()
		f.TCPFlags = uint16(pick())
		f.Action = record.Action(rng.IntN(3))
		for _, id := range []record.FieldID{record.FlowVersion, record.FlowSrcAddr, record.FlowDstAddr, record.FlowSrcPort, record.FlowDstPort,
			record.FlowProtocol, record.FlowPackets, record.FlowBytes, record.FlowStart, record.FlowEnd, record.FlowAction, record.FlowTCPFlags} {
			if rng.IntN(8) != 0 {
				f.Present = f.Present.Add(id)
			}
		}
		if f.Action == record.ActionUnknown {
			f.Present &^= 1 << record.FlowAction
		}
	}
	return out
}

func TestFlowFilterAgreesWithQuery(t *testing.T) {
	cases := append([]string{}, flowFilterCases...)
	rules, err := LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.Rules {
		if r.Kind == record.KindFlow && r.Filter != "" {
			cases = append(cases, r.Filter)
		}
	}
	flows := randomFlows(20_000, 1)
	for _, src := range cases {
		want, _, err := query.ParseFilter(src, record.KindFlow)
		if err != nil {
			t.Errorf("%s: the test's filter does not compile: %v", src, err)
			continue
		}
		got := compileFlowFilter(src, nil)
		if got == nil {
			t.Errorf("%s: not compiled", src)
			continue
		}
		// As rules run it: the prefilter first, then the predicate without the
		// conjuncts the prefilter holds.
		pre := newPrefilter(src)
		withPre := compileFlowFilter(src, pre)
		agree, matched := 0, 0
		for i := range flows {
			f := &flows[i]
			w := want(f)
			if g := got(f); g != w {
				t.Errorf("%s: record %d (%+v): direct %v, query %v", src, i, *f, g, w)
				break
			}
			if g := (pre == nil || pre.ok(f)) && withPre(f); g != w {
				t.Errorf("%s: record %d (%+v): prefilter and direct %v, query %v", src, i, *f, g, w)
				break
			}
			agree++
			if w {
				matched++
			}
		}
		t.Logf("%-40.40s agrees on %d records (%d match)", src, agree, matched)
	}
}

// TestFlowFilterBuiltinRulesDirect checks that the built-in flow rules'
// filters compile without handing a whole-number node to the query compiler
// (the part of them the query compiler runs is a function call, at most).
func TestFlowFilterBuiltinRulesDirect(t *testing.T) {
	rules, err := LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rules.Rules {
		if r.Kind != record.KindFlow || r.Filter == "" {
			continue
		}
		n++
		if r.flowPred == nil {
			t.Errorf("rule %s: filter %q not compiled to a direct predicate", r.ID, r.Filter)
		}
		e, _, err := query.ParseExpr(r.Filter)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(e query.Expr)
		walk = func(e query.Expr) {
			switch x := e.(type) {
			case *query.BinaryExpr:
				if x.Op == query.OpAnd || x.Op == query.OpOr {
					walk(x.X)
					walk(x.Y)
				}
			case *query.UnaryExpr:
				walk(x.X)
			case *query.CompareExpr:
				if flowCompare(x) == nil {
					t.Errorf("rule %s: comparison %s left to the query compiler", r.ID, x.String())
				}
			case *query.InExpr:
				if flowIn(x) == nil {
					t.Errorf("rule %s: in-list %s left to the query compiler", r.ID, x.String())
				}
			}
		}
		walk(e)
	}
	if n == 0 {
		t.Fatal("no built-in flow rule has a filter")
	}
}

func FuzzFlowFilter(f *testing.F) {
	for _, src := range flowFilterCases {
		f.Add(src, uint64(0xffff), uint16(22), int64(4), int64(300), uint16(2))
	}
	f.Add(`bytes <= 80 * packets`, uint64(0xffff), uint16(22), int64(math.MaxInt64), int64(300), uint16(2))
	f.Fuzz(func(t *testing.T, src string, present uint64, port uint16, packets, bytes int64, flags uint16) {
		want, _, err := query.ParseFilter(src, record.KindFlow)
		if err != nil {
			return
		}
		got := compileFlowFilter(src, nil)
		if got == nil {
			return // the rule keeps the query compiler's filter
		}
		pre := newPrefilter(src)
		withPre := compileFlowFilter(src, pre)
		fl := record.Flow{Present: record.FieldSet(present), SrcPort: port ^ 0x5a5a, DstPort: port, Protocol: uint8(port), Packets: packets, Bytes: bytes,
			Start: bytes, End: packets, TCPFlags: flags, Action: record.Action(flags % 3),
			SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("8.8.8.8")}
		w := want(&fl)
		if g := got(&fl); g != w {
			t.Fatalf("%s on %+v: direct %v, query %v", src, fl, g, w)
		}
		if g := (pre == nil || pre.ok(&fl)) && withPre(&fl); g != w {
			t.Fatalf("%s on %+v: prefilter and direct %v, query %v", src, fl, g, w)
		}
	})
}
