package query

import (
	"net/netip"
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

func benchFlow() *record.Flow {
	f := &record.Flow{
		Version: 2, AccountID: "123456789012", InterfaceID: "eni-0a1b2c",
		SrcAddr: netip.MustParseAddr("10.10.3.17"), DstAddr: netip.MustParseAddr("10.10.2.68"),
		SrcPort: 40000, DstPort: 22, Protocol: 6, Packets: 3, Bytes: 180,
		Start: 1793491200, End: 1793491260, Action: record.ActionAccept, LogStatus: record.LogStatusOK,
		Raw: []byte("2 123456789012 eni-0a1b2c 10.10.3.17 10.10.2.68 40000 22 6 3 180 1793491200 1793491260 ACCEPT OK"),
	}
	for id := record.FlowVersion; id <= record.FlowLogStatus; id++ {
		f.Present = f.Present.Add(id)
	}
	return f
}

// BenchmarkFilter measures compiled filters on one record, as detection
// rules run them (CompileFilter). They must not allocate.
func BenchmarkFilter(b *testing.B) {
	rec := benchFlow()
	for _, src := range []string{
		`dstPort = 22`,
		`action = "REJECT"`,
		`dstAddr like '10.10.2.68' and srcAddr like '10.10.'`,
		`isIpv4InSubnet(srcAddr, "10.10.0.0/16") and dstPort in [22, 23, 3389]`,
		`srcAddr = "10.10.3.17" or not ispresent(vpcId)`,
		`interfaceId like /^eni-0a/`,
	} {
		b.Run(src, func(b *testing.B) {
			f, _, err := ParseFilter(src, record.KindFlow)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				f(rec)
			}
		})
	}
}
