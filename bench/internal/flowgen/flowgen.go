// Package flowgen writes a deterministic VPC flow log in AWS's default (version 2)
// format: one header line, then space-separated records. The harness uses it only
// when `vigil simulate` is not available, and the tests use it for a corpus that
// exercises every benchmark case: a port scan of the NAT instance 10.10.2.68 from
// inside 10.10.0.0/16, look-alike addresses that a substring `like` over-matches
// (110.10.x.x), SSH and RDP probes that the security groups reject, NODATA and
// SKIPDATA records with "-" fields, and a skewed set of talkers.
package flowgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// Header is the first line of a version 2 flow-log file.
const Header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// Start is the capture start of the first record (2025-11-01T12:26:40Z), as in the
// issue's example line.
const Start = 1762000000

// Config says what to write.
type Config struct {
	Seed    uint64
	Records int64 // records after the header
	// Span is the number of seconds the records' start times cover; 0 means a day.
	Span int64
}

// Write writes cfg.Records records after the header line.
func Write(w io.Writer, cfg Config) error {
	span := cfg.Span
	if span <= 0 {
		span = 86400
	}
	g := gen{rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(Header)
	bw.WriteByte('\n')
	var line []byte
	for i := range cfg.Records {
		start := Start + i*span/max(cfg.Records, 1)
		line = g.record(line[:0], start)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

const account = "123456789012"

// nat is the NAT instance the port-scan query looks at.
var nat = [4]byte{10, 10, 2, 68}

type gen struct {
	rng *rand.Rand
}

func (g *gen) intn(n int) int { return g.rng.IntN(n) }

// internal returns an address in 10.10.0.0/21; a few hosts are much busier.
func (g *gen) internal() [4]byte {
	if g.intn(4) == 0 {
		hot := [][4]byte{{10, 10, 3, 17}, {10, 10, 1, 5}, {10, 10, 4, 200}, {10, 10, 0, 9}}
		return hot[g.intn(len(hot))]
	}
	return [4]byte{10, 10, byte(g.intn(8)), byte(1 + g.intn(254))}
}

// external returns an Internet address; some are 110.10.x.x, which `like '10.10.'`
// matches as a substring although it is not in 10.10.0.0/16.
func (g *gen) external() [4]byte {
	if g.intn(20) == 0 {
		return [4]byte{110, 10, byte(g.intn(4)), byte(1 + g.intn(254))}
	}
	return [4]byte{byte(11 + g.intn(180)), byte(g.intn(256)), byte(g.intn(256)), byte(1 + g.intn(254))}
}

func (g *gen) eni(a [4]byte) string {
	return fmt.Sprintf("eni-0a1b2c3d4e5f6%02x%02x", a[2], a[3])
}

var commonPorts = []int{443, 443, 443, 443, 80, 80, 53, 123, 22, 3306, 5432, 8080}

func (g *gen) record(b []byte, start int64) []byte {
	end := start + 60
	r := g.intn(1000)
	switch {
	case r < 20: // no traffic in the capture window
		return g.noData(b, "NODATA", start, end)
	case r < 25: // capture error
		return g.noData(b, "SKIPDATA", start, end)
	case r < 85: // port scan of the NAT instance from one internal host, a few flows per port
		src := [4]byte{10, 10, 3, 17}
		if g.intn(5) == 0 {
			src = [4]byte{10, 10, 5, 33}
		}
		port := 1 + g.intn(1024)
		action := "REJECT"
		if port == 22 || port == 80 || port == 443 {
			action = "ACCEPT"
		}
		return g.flow(b, g.eni(nat), src, nat, 40000+g.intn(20000), port, 6, 1, 44, start, end, action)
	case r < 105: // a look-alike address talking to the NAT: matches `srcAddr like '10.10.'`
		src := g.external()
		src[0], src[1] = 110, 10
		return g.flow(b, g.eni(nat), src, nat, 1024+g.intn(60000), commonPorts[g.intn(len(commonPorts))], 6, 1+g.intn(5), 40+g.intn(400), start, end, "REJECT")
	case r < 250: // internal hosts going out through the NAT
		src := g.internal()
		n := 1 + g.intn(200)
		return g.flow(b, g.eni(nat), src, nat, 32768+g.intn(28000), commonPorts[g.intn(len(commonPorts))], 6, n, n*(60+g.intn(1400)), start, end, "ACCEPT")
	case r < 400: // SSH, RDP and telnet probes from the Internet, rejected
		dst := g.internal()
		ports := []int{22, 22, 22, 3389, 23, 445}
		return g.flow(b, g.eni(dst), g.external(), dst, 1024+g.intn(64000), ports[g.intn(len(ports))], 6, 1+g.intn(3), 40+g.intn(120), start, end, "REJECT")
	case r < 430: // ICMP: ports are 0
		dst := g.internal()
		return g.flow(b, g.eni(dst), g.external(), dst, 0, 0, 1, 1+g.intn(4), 84*(1+g.intn(4)), start, end, []string{"ACCEPT", "REJECT"}[g.intn(2)])
	case r < 460: // DNS over UDP
		src := g.internal()
		return g.flow(b, g.eni(src), src, [4]byte{10, 10, 0, 2}, 1024+g.intn(64000), 53, 17, 1+g.intn(4), 60+g.intn(400), start, end, "ACCEPT")
	default: // ordinary traffic between internal hosts and the Internet, both ways
		in, out := g.internal(), g.external()
		n := 1 + g.intn(2000)
		bytes := n * (52 + g.intn(1448))
		if g.intn(50) == 0 { // a few heavy transfers
			bytes *= 100
		}
		port := commonPorts[g.intn(len(commonPorts))]
		if g.intn(2) == 0 {
			return g.flow(b, g.eni(in), in, out, 32768+g.intn(28000), port, 6, n, bytes, start, end, "ACCEPT")
		}
		return g.flow(b, g.eni(in), out, in, port, 32768+g.intn(28000), 6, n, bytes, start, end, "ACCEPT")
	}
}

func appendAddr(b []byte, a [4]byte) []byte {
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return b
}

func (g *gen) flow(b []byte, eni string, src, dst [4]byte, sport, dport, proto, packets, bytes int, start, end int64, action string) []byte {
	b = append(b, "2 "+account+" "...)
	b = append(b, eni...)
	b = append(b, ' ')
	b = appendAddr(b, src)
	b = append(b, ' ')
	b = appendAddr(b, dst)
	for _, n := range []int64{int64(sport), int64(dport), int64(proto), int64(packets), int64(bytes), start, end} {
		b = append(b, ' ')
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ' ')
	b = append(b, action...)
	return append(b, " OK\n"...)
}

func (g *gen) noData(b []byte, status string, start, end int64) []byte {
	b = append(b, "2 "+account+" "...)
	b = append(b, g.eni(g.internal())...)
	b = append(b, " - - - - - - - "...)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, end, 10)
	b = append(b, " - "...)
	b = append(b, status...)
	return append(b, '\n')
}
