package simulate

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/record"
)

// IANA protocol numbers used by the simulator.
const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

// TCP flags as flow logs record them: only FIN, SYN, RST and SYN-ACK, OR-ed over
// the aggregation window. ACK and PSH alone are never recorded.
const (
	flagFIN    = 1
	flagSYN    = 2
	flagRST    = 4
	flagSYNACK = 18
)

// Log statuses.
const (
	statusOK uint8 = iota
	statusNoData
	statusSkipData
)

// Traffic paths (egress records only; 0 is written as "-").
const (
	pathNone     = 0
	pathSameVPC  = 1 // another resource in the same VPC (an instance, the NAT gateway)
	pathIGW      = 2 // internet gateway or gateway endpoint (as recorded for non-Nitro ENIs such as the NAT gateway's)
	pathVGW      = 3 // virtual private gateway (the VPN to the data centre)
	pathPeering  = 4 // intra-region VPC peering
	pathEndpoint = 7 // gateway VPC endpoint (S3), Nitro instances
	pathIGWNitro = 8 // internet gateway, Nitro instances
)

// flow is one flow-log record: one direction of one 5-tuple on one ENI in one
// aggregation window. Generators fill a reused flow and hand it to an emitter,
// which formats it before the next one is filled.
type flow struct {
	eni              *eni
	src, dst         netip.Addr
	pktSrc, pktDst   netip.Addr // zero: the same as src/dst
	srcPort, dstPort uint16
	proto            uint8
	flags            uint8
	egress           bool
	reject           bool
	path             uint8
	status           uint8
	packets, bytes   int64
	start, end       int64
}

// flowFormat is a flow log's record format: the header line AWS writes at the
// top of each file and the version every record carries.
type flowFormat struct {
	name    string // "v2" or "custom", also the flat file's suffix
	header  string
	version int
	// custom is set for the custom format, whose first 14 fields are v2's and
	// whose other 11 appendRecord writes after them.
	custom bool
}

// The two formats. v2 is AWS's default; custom adds the v3–v5 fields investigators
// need (instance-id, pkt-srcaddr/pkt-dstaddr behind NAT, flow-direction, …).
var (
	formatV2     = mustFlowFormat("v2", v2Fields, false)
	formatCustom = mustFlowFormat("custom", v2Fields+" "+customFields, true)
)

const (
	v2Fields     = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	customFields = "vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path"
)

// mustFlowFormat builds a format from AWS's format string, checking every field
// name against the flow-field catalogue. The version follows AWS's rule: the
// highest version in which any chosen field was introduced.
func mustFlowFormat(name, spec string, custom bool) *flowFormat {
	f := &flowFormat{name: name, header: spec, custom: custom}
	for _, n := range strings.Fields(spec) {
		field, ok := record.FlowCatalogue.Lookup(n)
		if _, known := record.FlowFieldByLogName(n); !ok || !known {
			panic(fmt.Sprintf("BUG: unknown flow-log field %q", n))
		}
		f.version = max(f.version, field.Version)
	}
	return f
}

// appendRecord appends r as one line (with its newline) in format f. It is
// written field by field for the two formats rather than driven by a field
// list: formatting is half of the cost of a flow record, and a loop over fields
// with a switch made it twice as slow. The tests check every line against its
// file's header.
func (f *flowFormat) appendRecord(b []byte, r *flow) []byte {
	n := r.eni
	b = strconv.AppendInt(b, int64(f.version), 10)
	b = append(b, ' ')
	b = append(b, n.vpc.account.id...)
	b = append(b, ' ')
	b = append(b, n.id...)
	if r.status != statusOK {
		// NODATA and SKIPDATA keep version, account, interface, start, end and
		// log-status; every other field is "-".
		b = append(b, " - - - - - - - "...)
		b = strconv.AppendInt(b, r.start, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.end, 10)
		if r.status == statusNoData {
			b = append(b, " - NODATA"...)
		} else {
			b = append(b, " - SKIPDATA"...)
		}
		if f.custom {
			b = append(b, " - - - - - - - - - - -"...)
		}
		return append(b, '\n')
	}
	b = append(b, ' ')
	src0 := len(b)
	b = n.appendAddr(b, r.src)
	src1 := len(b)
	b = append(b, ' ')
	dst0 := len(b)
	b = n.appendAddr(b, r.dst)
	dst1 := len(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.srcPort), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.dstPort), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.proto), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.packets, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.end, 10)
	if r.reject {
		b = append(b, " REJECT OK"...)
	} else {
		b = append(b, " ACCEPT OK"...)
	}
	if !f.custom {
		return append(b, '\n')
	}
	b = append(b, ' ')
	b = append(b, n.vpcSubnetInstance...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.flags), 10)
	if r.src.Is4() {
		b = append(b, " IPv4 "...)
	} else {
		b = append(b, " IPv6 "...)
	}
	// pkt-srcaddr and pkt-dstaddr are usually srcaddr and dstaddr again: copy them.
	if r.pktSrc.IsValid() {
		b = n.appendAddr(b, r.pktSrc)
	} else {
		b = append(b, b[src0:src1]...)
	}
	b = append(b, ' ')
	if r.pktDst.IsValid() {
		b = n.appendAddr(b, r.pktDst)
	} else {
		b = append(b, b[dst0:dst1]...)
	}
	b = append(b, ' ')
	b = append(b, n.regionAZ...)
	if r.egress {
		b = append(b, " egress "...)
	} else {
		b = append(b, " ingress "...)
	}
	if r.path == pathNone {
		b = append(b, '-')
	} else {
		b = strconv.AppendUint(b, uint64(r.path), 10)
	}
	return append(b, '\n')
}

// appendAddr appends an address, using the interface's pre-rendered private
// address when it is that one (one side of almost every record).
func (n *eni) appendAddr(b []byte, a netip.Addr) []byte {
	if a == n.privIP {
		return append(b, n.privText...)
	}
	return a.AppendTo(b)
}
