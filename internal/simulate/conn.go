package simulate

import "net/netip"

// flowEmit receives flow records. The record is only valid during the call.
type flowEmit func(*flow)

// endpoint is one end of a connection. eni is nil when that end is outside the
// estate (an internet host, the data centre, an AWS service endpoint).
type endpoint struct {
	eni  *eni
	ip   netip.Addr // the address packets carry on this side (private for estate ENIs)
	port uint16
}

// at returns the endpoint of an instance's primary interface.
func at(in *instance, port uint16) endpoint {
	return endpoint{eni: in.eni, ip: in.privIP, port: port}
}

// remote returns an endpoint outside the estate.
func remote(ip netip.Addr, port uint16) endpoint { return endpoint{ip: ip, port: port} }

// conn describes the traffic of one connection (or one UDP exchange) within one
// aggregation window, and emits every flow record AWS writes for it: on the
// client's ENI, on both legs of the NAT gateway's ENI when the client goes out
// through it, and on the server's ENI; replies in the opposite direction.
//
// This is where the flow-log semantics live:
//   - a flow between two ENIs appears on both, egress on one and ingress on the other;
//   - a REJECT is recorded at the target's ingress, the sender's egress is ACCEPT,
//     and a rejected connection has no replies;
//   - the NAT gateway's inside leg shows srcaddr = instance, dstaddr = the NAT's
//     private address, pkt-dstaddr = the real destination; its outside leg shows
//     srcaddr = the NAT's private address and dstaddr = the destination, with the
//     NAT's own source port; the instance's ENI shows the real destination.
type conn struct {
	proto          uint8
	client, server endpoint
	nat            *natGateway // the client goes out through this NAT gateway
	natPort        uint16      // the NAT gateway's source port on the outside leg
	outPath        uint8       // traffic-path towards the side outside the VPC; 0 means the internet gateway
	start, end     int64
	cPkts, cBytes  int64 // client to server
	sPkts, sBytes  int64 // server to client; zero when nothing answers
	cFlags, sFlags uint8
	reject         bool // the server's security group dropped the client's packets
}

// records returns how many flow records emit writes for c.
func (c *conn) records() int {
	n := 0
	if c.client.eni != nil {
		n++
	}
	if c.nat != nil {
		n += 2
	}
	if c.server.eni != nil {
		n++
	}
	if c.sPkts > 0 && !c.reject {
		n *= 2
	}
	return n
}

// emit writes c's records through out, reusing f.
func (c *conn) emit(out flowEmit, f *flow) {
	base := flow{proto: c.proto, start: c.start, end: c.end}
	cPath, sPath := c.paths()

	if c.client.eni != nil {
		*f = base
		f.eni, f.src, f.dst = c.client.eni, c.client.ip, c.server.ip
		f.srcPort, f.dstPort = c.client.port, c.server.port
		f.egress, f.path = true, cPath
		f.packets, f.bytes, f.flags = c.cPkts, c.cBytes, c.cFlags
		out(f)
	}
	if c.nat != nil {
		natIP := c.nat.eni.privIP
		*f = base // inside leg: instance → NAT, the real destination in pkt-dstaddr
		f.eni, f.src, f.dst, f.pktDst = c.nat.eni, c.client.ip, natIP, c.server.ip
		f.srcPort, f.dstPort = c.client.port, c.server.port
		f.packets, f.bytes, f.flags = c.cPkts, c.cBytes, c.cFlags
		out(f)
		*f = base // outside leg: NAT → destination, from the NAT's own port
		f.eni, f.src, f.dst = c.nat.eni, natIP, c.server.ip
		f.srcPort, f.dstPort = c.natPort, c.server.port
		f.egress, f.path = true, pathIGW
		f.packets, f.bytes, f.flags = c.cPkts, c.cBytes, c.cFlags
		out(f)
	}
	if c.server.eni != nil {
		*f = base
		f.eni, f.src, f.dst = c.server.eni, c.client.ip, c.server.ip
		f.srcPort, f.dstPort = c.client.port, c.server.port
		f.packets, f.bytes, f.flags = c.cPkts, c.cBytes, c.cFlags
		f.reject = c.reject
		out(f)
	}
	if c.sPkts == 0 || c.reject {
		return
	}
	if c.server.eni != nil {
		*f = base
		f.eni, f.src, f.dst = c.server.eni, c.server.ip, c.client.ip
		f.srcPort, f.dstPort = c.server.port, c.client.port
		f.egress, f.path = true, sPath
		f.packets, f.bytes, f.flags = c.sPkts, c.sBytes, c.sFlags
		out(f)
	}
	if c.nat != nil {
		natIP := c.nat.eni.privIP
		*f = base // outside leg, reply: destination → NAT
		f.eni, f.src, f.dst = c.nat.eni, c.server.ip, natIP
		f.srcPort, f.dstPort = c.server.port, c.natPort
		f.packets, f.bytes, f.flags = c.sPkts, c.sBytes, c.sFlags
		out(f)
		*f = base // inside leg, reply: NAT → instance, the real source in pkt-srcaddr
		f.eni, f.src, f.dst, f.pktSrc = c.nat.eni, natIP, c.client.ip, c.server.ip
		f.srcPort, f.dstPort = c.server.port, c.client.port
		f.egress, f.path = true, pathSameVPC
		f.packets, f.bytes, f.flags = c.sPkts, c.sBytes, c.sFlags
		out(f)
	}
	if c.client.eni != nil {
		*f = base
		f.eni, f.src, f.dst = c.client.eni, c.server.ip, c.client.ip
		f.srcPort, f.dstPort = c.server.port, c.client.port
		f.packets, f.bytes, f.flags = c.sPkts, c.sBytes, c.sFlags
		out(f)
	}
}

// paths returns the traffic-path of the client's and the server's egress records.
func (c *conn) paths() (client, server uint8) {
	out := c.outPath
	if out == pathNone {
		out = pathIGWNitro
	}
	switch {
	case c.nat != nil:
		return pathSameVPC, pathNone
	case c.client.eni != nil && c.server.eni != nil:
		if c.client.eni.vpc == c.server.eni.vpc {
			return pathSameVPC, pathSameVPC
		}
		return pathPeering, pathPeering
	case c.client.eni != nil:
		return out, pathNone
	default:
		return pathNone, out
	}
}

// tcp flag sets for the common connection shapes.
const (
	flagsClientShort = flagSYN | flagFIN    // 3: a whole short connection in one window
	flagsServerShort = flagSYNACK | flagFIN // 19
)

// tcpBytes returns a plausible byte count for pkts TCP packets carrying payload
// bytes in all: at least the 40 bytes of IP and TCP headers per packet.
func tcpBytes(pkts, payload int64) int64 { return pkts*52 + payload }
