package simulate

import (
	"net/netip"
	"time"
)

// DNS attack scenarios: what the resolver logs show when an instance tunnels data
// out through DNS, or looks up known-bad domains.

func dnsScenarios(p *scenarioSetup) []*scenario {
	out := []*scenario{dnsExfiltration(p)}
	out = append(out, threatDomains(p)...)
	return append(out, cryptoMiner(p))
}

// exfilDomain makes up a registered domain for the exfiltration scenario, in the
// style of throwaway attacker domains.
func exfilDomain(r *rng) string {
	syll := []string{"vor", "tax", "ilo", "qen", "dra", "mux", "pel", "zan", "ori", "kel", "sty", "bri", "nov", "cal"}
	name := ""
	for i := r.between(3, 4); i > 0; i-- {
		name += syll[r.intn(len(syll))]
	}
	return name + []string{".com", ".net", ".io"}[r.intn(3)]
}

// exfilNames makes n unique query names shaped like the tester's: a 62-character
// base64-like first label, one to three more labels, under domain; 115–170
// characters in all.
func exfilNames(r *rng, domain string, n int) []string {
	label := func(l int) string {
		if l < 3 {
			return r.fromAlphabet(mixedAlnum, l)
		}
		return r.fromAlphabet(mixedAlnum, 1) + r.fromAlphabet(mixedAlnum+"-", l-2) + r.fromAlphabet(mixedAlnum, 1)
	}
	seen := make(map[string]bool, n)
	var out []string
	for len(out) < n {
		budget := r.between(115, 170) - len(domain) - 1 // for the labels before the domain
		name := label(62)
		for len(name) < budget-1 {
			rest := budget - len(name) - 1
			l := min(rest, 62)
			if rest > 62 && rest-62 < 9 {
				l = rest - 9 // leave room for a last label of a few characters
			}
			name += "." + label(l)
		}
		name += "." + domain
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// dnsExfiltration: batch-3 runs `dig -f` over 930 unique long, high-entropy names
// under one registered domain, about 20 a second. Every name is new, so the
// resolver's cache answers none of them and all are logged.
func dnsExfiltration(p *scenarioSetup) *scenario {
	actor := p.est.instance("batch-3")
	r0 := p.rng("dns-exfiltration")
	domain := exfilDomain(&r0)
	names := exfilNames(&r0, domain, 930)
	s := &scenario{
		name:        "dns-exfiltration",
		description: "batch-3 resolves 930 unique 115–170-character high-entropy names under " + domain + " (dig -f)",
		at:          0.42,
		length:      2 * time.Minute,
	}
	s.dns = func(r *rng, out dnsEmit) {
		q := dnsQuery{vpc: actor.vpc, src: actor, qtype: "A", rcode: "NXDOMAIN"}
		for i, name := range names {
			q.t = s.start + int64(i)/20
			q.name = name
			q.srcPort = ephemeral(r, actor)
			out(&q)
		}
	}
	e := onInstance(typeDNSExfiltration, sevHigh, actor, "")
	e.Domain = domain
	s.expect = []Expected{e}
	return s
}

// threatDomain is one of the domains AWS's tester looks up, with the finding
// GuardDuty raises for it.
type threatDomain struct {
	key, domain, typ, sev string
}

var testerDomains = []threatDomain{
	{"c2", "c2.guarddutyc2activityb.com", "Backdoor:EC2/C&CActivity.B!DNS", sevHigh},
	{"crypto", "crypto.guarddutyc2activityb.com", typeBitcoinDNS, sevHigh},
	{"abused-rep", "abused-rep.guarddutyc2activityb.com", "Impact:EC2/AbusedDomainRequest.Reputation", sevMedium},
	{"crypto-rep", "crypto-rep.guarddutyc2activityb.com", "Impact:EC2/BitcoinDomainRequest.Reputation", sevHigh},
	{"malicious-rep", "malicious-rep.guarddutyc2activityb.com", "Impact:EC2/MaliciousDomainRequest.Reputation", sevHigh},
	{"suspicious-rep", "suspicious-rep.guarddutyc2activityb.com", "Impact:EC2/SuspiciousDomainRequest.Reputation", sevLow},
	{"droppoint", "guarddutydroppointactivity.com", "Trojan:EC2/DropPoint!DNS", sevMedium},
	{"blackhole", "guarddutyblackholeactivity.com", "Trojan:EC2/BlackholeTraffic!DNS", sevMedium},
	{"phishing", "guarddutyphishingactivity.com", "Trojan:EC2/PhishingDomainRequest!DNS", sevHigh},
	{"driveby", "guarddutydrivebyactivity.com", "Trojan:EC2/DriveBySourceTraffic!DNS", sevHigh},
	{"dga", "guarddutydgaactivity.com", "Trojan:EC2/DGADomainRequest.C!DNS", sevHigh},
}

// threatDomains: ops-tools-1 does what the tester's threat-intel tests do, one
// domain after another: curl resolves the domain (A and AAAA through the VPC
// resolver) and tries to POST 1 KiB to http://<domain>/sample.dat with a
// one-second connect timeout; nothing answers the SYNs. One scenario per domain,
// so each label's firstSeen/lastSeen is that domain's lookup.
func threatDomains(p *scenarioSetup) []*scenario {
	actor := p.est.instance("ops-tools-1")
	var out []*scenario
	var prev *scenario
	for _, td := range testerDomains {
		r0 := p.rng("threat-domain-" + td.key)
		sink := randomPublicIP(&r0)
		s := &scenario{
			name:        "threat-domain-" + td.key,
			description: "ops-tools-1 looks up " + td.domain + " and tries to POST to it (tester threat-intel test)",
			at:          0.58,
			after:       prev,
			length:      5 * time.Second,
		}
		s.dns = lookups(s, actor, td.domain, sink)
		s.flows = func(r *rng, out flowEmit) {
			e := &emitter{out: out}
			t := s.start
			c := conn{proto: protoTCP, client: at(actor, ephemeral(r, actor)), server: remote(sink, 80),
				nat: actor.vpc.nat, natPort: uint16(r.between(1024, 65535)), start: t, end: min(t+1, windowOf(t, p.start)+59),
				cPkts: 2, cBytes: 120, cFlags: flagSYN}
			e.conn(&c)
		}
		e := onInstance(td.typ, td.sev, actor, "")
		e.Domain = td.domain
		s.expect = []Expected{e}
		out = append(out, s)
		prev = s
	}
	return out
}

// lookups returns a generator of the A and AAAA queries a client makes for name,
// answered with one IPv4 address and no IPv6 address.
func lookups(s *scenario, from *instance, name string, ip netip.Addr) func(*rng, dnsEmit) {
	return func(r *rng, out dnsEmit) {
		q := dnsQuery{vpc: from.vpc, src: from, t: s.start, name: name, rcode: "NOERROR", srcPort: uint16(r.between(32768, 60999))}
		q.qtype = "A"
		q.answers = []dnsAnswer{{rdata: ip.String(), typ: "A"}}
		out(&q)
		q.qtype = "AAAA"
		q.answers = nil
		q.srcPort = uint16(r.between(32768, 60999))
		out(&q)
	}
}

// cryptoMiner: worker-b-2 in the second account looks up two Monero pool names
// (as the 2018 tester's curl did) and then keeps a stratum connection to the pool
// open for twenty minutes through VPC B's NAT gateway.
func cryptoMiner(p *scenarioSetup) *scenario {
	actor := p.est.instance("worker-b-2")
	r0 := p.rng("crypto-miner")
	poolIP := randomPublicIP(&r0)
	s := &scenario{
		name:        "crypto-miner",
		description: "worker-b-2 (account B) resolves pool.minergate.com and xmr.pool.minergate.com and mines through the NAT gateway for 20 minutes",
		at:          0.66,
		length:      22 * time.Minute,
	}
	s.dns = func(r *rng, out dnsEmit) {
		for i, name := range []string{"pool.minergate.com", "xmr.pool.minergate.com"} {
			q := dnsQuery{vpc: actor.vpc, src: actor, t: s.start + int64(i), name: name, qtype: "A", rcode: "NOERROR",
				srcPort: uint16(r.between(32768, 60999)), answers: []dnsAnswer{{rdata: poolIP.String(), typ: "A"}}}
			out(&q)
			q.qtype, q.answers, q.srcPort = "AAAA", nil, uint16(r.between(32768, 60999))
			out(&q)
		}
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		sport, nport := ephemeral(r, actor), uint16(r.between(1024, 65535))
		t0 := s.start + 2
		for i := 0; i < 20; i++ {
			w := windowOf(t0, p.start) + int64(i)*60
			c := conn{proto: protoTCP, client: at(actor, sport), server: remote(poolIP, 45700),
				nat: actor.vpc.nat, natPort: nport, start: max(w, t0), end: w + 59}
			c.cPkts, c.sPkts = int64(r.between(30, 50)), int64(r.between(20, 40))
			c.cBytes, c.sBytes = tcpBytes(c.cPkts, c.cPkts*90), tcpBytes(c.sPkts, c.sPkts*160)
			switch i {
			case 0:
				c.cFlags, c.sFlags = flagSYN, flagSYNACK
			case 19:
				c.cFlags, c.sFlags = flagFIN, flagFIN
			}
			e.conn(&c)
		}
	}
	a, b := onInstance(typeBitcoinDNS, sevHigh, actor, ""), onInstance(typeBitcoinDNS, sevHigh, actor, "")
	a.Domain, b.Domain = "pool.minergate.com", "xmr.pool.minergate.com"
	s.expect = []Expected{a, b}
	return s
}
