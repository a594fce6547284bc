package simulate

import (
	"net/netip"
	"strconv"
	"time"
)

// Benign look-alikes: ordinary operations whose traffic resembles an attack. Each
// is labelled with the findings it must not raise, so tests catch detectors that
// mistake them for one.

func lookalikes(p *scenarioSetup) []*scenario {
	return []*scenario{
		bulkUpload(p),
		monitoringScrape(p),
		configManagement(p),
		mailRelay(p),
		avHashLookups(p),
		cdnLookups(p),
		rejectedProbes(p),
		consoleLogins(p),
	}
}

// monitoringScrape: Prometheus on monitoring-1 is reloaded with 200 targets —
// every Linux host in VPC A, VPC B's hosts over the peering connection and the
// data centre's hosts over the VPN — and scrapes node_exporter (tcp/9100) on each
// every 15 s over one kept-alive connection per target, for five minutes. One
// port on many hosts, but the same hosts, regularly, answered.
func monitoringScrape(p *scenarioSetup) *scenario {
	mon := p.est.instance("monitoring-1")
	var targets []endpoint
	for _, v := range p.est.vpcs {
		for _, in := range v.instances {
			if !in.windows && in != mon {
				targets = append(targets, at(in, 9100))
			}
		}
	}
	r0 := p.rng("lookalike-monitoring-scrape")
	for len(targets) < 200 {
		ip := randomIn(&r0, p.est.onPrem)
		targets = append(targets, endpoint{ip: ip, port: 9100})
	}
	s := &scenario{
		name:        "lookalike-monitoring-scrape",
		description: "monitoring-1 scrapes node_exporter on 200 hosts (VPC A, VPC B over peering, the data centre over VPN) every 15 s",
		at:          0.50,
		length:      6 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		ports := make([]uint16, len(targets))
		for i := range ports {
			ports[i] = ephemeral(r, mon)
		}
		w0 := windowOf(s.start, p.start)
		for k := int64(0); k < 5; k++ {
			w := w0 + k*60
			for i, tg := range targets {
				off := int64(i % 14)
				c := conn{proto: protoTCP, client: at(mon, ports[i]), server: tg, start: w + off, end: w + off + 45}
				if tg.eni == nil {
					c.outPath = pathVGW
				}
				c.cPkts, c.sPkts = int64(r.between(12, 16)), int64(r.between(150, 190))
				c.cBytes, c.sBytes = tcpBytes(c.cPkts, 4*230), tcpBytes(c.sPkts, int64(r.between(200_000, 240_000)))
				if k == 0 {
					c.cFlags, c.sFlags = flagSYN, flagSYNACK
				}
				e.conn(&c)
			}
		}
	}
	s.expectNone = []NotExpected{notOnInstance(mon, typePortscan, typePortSweep)}
	return s
}

// configManagement: Ansible on ansible-1 runs a playbook over every Linux host of
// VPC A, five at a time, one SSH connection per host.
func configManagement(p *scenarioSetup) *scenario {
	ans := p.est.instance("ansible-1")
	var hosts []*instance
	for _, in := range ans.vpc.instances {
		if !in.windows && in != ans {
			hosts = append(hosts, in)
		}
	}
	s := &scenario{
		name:        "lookalike-config-management",
		description: "ansible-1 runs a playbook on every Linux host of VPC A over SSH, one connection per host, five at a time",
		at:          0.54,
		length:      5 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		for i, h := range hosts {
			t := s.start + int64(i/5)*9 + int64(i%5)
			c := conn{proto: protoTCP, client: at(ans, ephemeral(r, ans)), server: at(h, 22), start: t}
			c.end = min(t+int64(r.between(5, 8)), windowOf(t, p.start)+59)
			pc, ps := r.between64(20_000, 60_000), r.between64(10_000, 80_000)
			c.cPkts, c.sPkts = 40+pc/1200, 30+ps/1300
			c.cBytes, c.sBytes = tcpBytes(c.cPkts, pc), tcpBytes(c.sPkts, ps)
			c.cFlags, c.sFlags = flagsClientShort, flagsServerShort
			e.conn(&c)
		}
	}
	s.expectNone = []NotExpected{notOnInstance(ans, typeSSHBruteForce, typePortscan)}
	return s
}

// bulkUpload: the nightly backup on backup-1 uploads about 12 GB to S3 over six
// parallel streams through the S3 gateway endpoint, for half an hour.
func bulkUpload(p *scenarioSetup) *scenario {
	b := p.est.instance("backup-1")
	s := &scenario{
		name:        "lookalike-bulk-upload",
		description: "backup-1 uploads about 12 GB to S3 through the gateway endpoint over six streams for 30 minutes",
		at:          0.08,
		length:      32 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		ports := make([]uint16, 6)
		ips := make([]netip.Addr, 6)
		for i := range ports {
			ports[i], ips[i] = ephemeral(r, b), svcS3.ip(r)
		}
		w0 := windowOf(s.start, p.start)
		for k := int64(0); k < 30; k++ {
			w := w0 + k*60
			for i := range ports {
				c := conn{proto: protoTCP, client: at(b, ports[i]), server: remote(ips[i], 443), outPath: pathEndpoint,
					start: w + int64(i), end: w + 59}
				payload := r.between64(60_000_000, 75_000_000)
				c.cPkts = payload / 1448
				c.cBytes = tcpBytes(c.cPkts, payload)
				c.sPkts = c.cPkts / 2
				c.sBytes = tcpBytes(c.sPkts, 0)
				switch k {
				case 0:
					c.cFlags, c.sFlags = flagSYN, flagSYNACK
				case 29:
					c.cFlags, c.sFlags = flagFIN, flagFIN
				}
				e.conn(&c)
			}
		}
	}
	s.expectNone = []NotExpected{notOnInstance(b, typeTrafficVolume, typeDoSTCP)}
	return s
}

// mailRelay: mail-relay-1 hands outgoing mail to one smarthost (Amazon SES's SMTP
// endpoint, tcp/587) through the NAT gateway, a connection every 6–11 minutes
// all through the window.
func mailRelay(p *scenarioSetup) *scenario {
	m := p.est.instance("mail-relay-1")
	r0 := p.rng("lookalike-mail-relay")
	smarthost := svcSESSMTP.ip(&r0)
	s := &scenario{
		name:        "lookalike-mail-relay",
		description: "mail-relay-1 relays mail to one smarthost (Amazon SES, tcp/587) through the NAT gateway all day",
		at:          0,
		// At most a day, so that regenerating it for every file it overlaps stays cheap.
		length: min(time.Duration(p.end-p.start)*time.Second-10*time.Minute, 24*time.Hour),
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		last := min(p.end-120, s.start+int64(s.length/time.Second))
		for t := s.start + 30; t < last; t += int64(r.between(360, 660)) {
			c := conn{proto: protoTCP, client: at(m, ephemeral(r, m)), server: remote(smarthost, 587),
				nat: m.vpc.nat, natPort: uint16(r.between(1024, 65535)), start: t}
			c.end = min(t+int64(r.between(1, 4)), windowOf(t, p.start)+59)
			pc, ps := r.between64(6_000, 400_000), r.between64(2_000, 4_500)
			c.cPkts, c.sPkts = 12+pc/1400, 10+ps/600
			c.cBytes, c.sBytes = tcpBytes(c.cPkts, pc), tcpBytes(c.sPkts, ps)
			c.cFlags, c.sFlags = flagsClientShort, flagsServerShort
			e.conn(&c)
		}
	}
	s.expectNone = []NotExpected{notOnInstance(m, typeSpambot)}
	return s
}

// avHashLookups: the mail relay's anti-virus asks Team Cymru's Malware Hash
// Registry about attachment hashes: 300 TXT queries of 40-hex-digit labels under
// hash.cymru.com over two hours; almost all are unknown (NXDOMAIN).
func avHashLookups(p *scenarioSetup) *scenario {
	m := p.est.instance("mail-relay-1")
	// Two hours, or less in a short window.
	length := min(2*time.Hour, time.Duration(p.end-p.start-600)*time.Second)
	s := &scenario{
		name:        "lookalike-av-hash-lookups",
		description: "mail-relay-1's anti-virus looks up 300 attachment SHA-1 hashes under hash.cymru.com (TXT)",
		at:          0.76,
		length:      length,
	}
	s.dns = func(r *rng, out dnsEmit) {
		q := dnsQuery{vpc: m.vpc, src: m, qtype: "TXT"}
		gap := int64(length/time.Second) / 300
		for i := 0; i < 300; i++ {
			t := s.start + int64(i)*gap + int64(r.intn(int(gap)))
			q.t, q.name = t, r.hexString(40)+".hash.cymru.com"
			q.srcPort = uint16(r.between(32768, 60999))
			q.rcode, q.answers = "NXDOMAIN", nil
			if r.chance(1, 20) {
				q.rcode = "NOERROR"
				q.answers = []dnsAnswer{{rdata: `"` + strconv.FormatInt(t-int64(r.between(86_400, 90*86_400)), 10) + " " + strconv.Itoa(r.between(5, 80)) + `"`, typ: "TXT"}}
			}
			out(&q)
		}
	}
	s.expectNone = []NotExpected{notOnInstance(m, typeDNSExfiltration, typeDGA)}
	return s
}

// cdnLookups: web-2 renders pages that pull assets from 40 CloudFront
// distributions: random-looking names (d + 13 characters), looked up within
// twenty minutes.
func cdnLookups(p *scenarioSetup) *scenario {
	w := p.est.instance("web-2")
	r0 := p.rng("lookalike-cdn-names")
	var names []*service
	for i := 0; i < 40; i++ {
		s := &service{name: cloudFrontName(&r0)}
		for j := 0; j < 4; j++ {
			s.ips = append(s.ips, randomIn(&r0, cloudFrontPrefixes[r0.intn(len(cloudFrontPrefixes))]))
		}
		names = append(names, s.prepare())
	}
	s := &scenario{
		name:        "lookalike-cdn-names",
		description: "web-2 resolves 40 CloudFront distribution names (dXXXXXXXXXXXXX.cloudfront.net) within 20 minutes",
		at:          0.80,
		length:      21 * time.Minute,
	}
	s.dns = func(r *rng, out dnsEmit) {
		q := dnsQuery{vpc: w.vpc, src: w, rcode: "NOERROR"}
		for i, svc := range names {
			q.t, q.name = s.start+int64(i)*30, svc.name
			for _, qt := range []string{"A", "AAAA"} {
				q.qtype = qt
				q.srcPort = uint16(r.between(32768, 60999))
				answerService(&q, svc)
				out(&q)
			}
		}
	}
	s.expectNone = []NotExpected{notOnInstance(w, typeDGA)}
	return s
}

// rejectedProbes: an internet host probes 30 ports of edge-1; its security group
// admits only 80 and 443, so every probe is REJECTed. Nothing was reachable, so
// nothing was "unprotected".
func rejectedProbes(p *scenarioSetup) *scenario {
	target := p.est.instance("edge-1")
	r0 := p.rng("lookalike-rejected-probes")
	scanner := randomPublicIP(&r0)
	var ports []uint16
	for _, port := range scanPortsTCP {
		if !isOpen(target, port) && len(ports) < 30 {
			ports = append(ports, port)
		}
	}
	s := &scenario{
		name:        "lookalike-rejected-probes",
		description: "an internet host probes 30 closed ports of edge-1 (public); all are REJECTed",
		at:          0.84,
		length:      4 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		for i, port := range ports {
			t := s.start + int64(i)*6 + int64(r.intn(4))
			c := conn{proto: protoTCP, client: remote(scanner, uint16(r.between(40000, 65000))), server: at(target, port),
				start: t, end: t, cPkts: 1, cBytes: 44, cFlags: flagSYN, reject: true}
			e.conn(&c)
		}
	}
	ne := notOnInstance(target, typePortProbe)
	s.expectNone = []NotExpected{ne}
	return s
}

// consoleLogins: alice and bob (account A) and carol (account B) sign in to the
// console with MFA from their usual addresses and look around.
func consoleLogins(p *scenarioSetup) *scenario {
	type login struct {
		acc *account
		u   *iamUser
	}
	accA, accB := p.est.accounts[0], p.est.accounts[1]
	logins := []login{{accA, accA.user("alice")}, {accA, accA.user("bob")}, {accB, accB.user("carol")}}
	s := &scenario{
		name:        "lookalike-console-logins",
		description: "alice, bob and carol sign in to the console with MFA from their usual addresses",
		at:          0.56,
		length:      10 * time.Minute,
	}
	s.events = func(r *rng, f ctFactory, out ctEmit) {
		for i, l := range logins {
			t := s.start + int64(i)*150
			ev := f.event(l.acc, t, region, "signin.amazonaws.com", "ConsoleLogin", false,
				&userIdentity{Type: "IAMUser", PrincipalID: l.u.principalID, ARN: l.u.arn, AccountID: l.acc.id, UserName: l.u.name},
				l.u.sourceIP.String(), l.u.userAgent)
			consoleLogin(ev, "Yes")
			out(ev)
			key := "ASIA" + r.fromAlphabet(upperAlnum, 16)
			ev = f.event(l.acc, t+35, region, "ec2.amazonaws.com", "DescribeInstances", true,
				consoleUserID(l.acc, l.u, key, time.Unix(t, 0)), l.u.sourceIP.String(), "console.ec2.amazonaws.com")
			ev.RequestParameters = o("maxResults", 1000)
			ev.ConsoleSession = "true"
			out(ev)
		}
	}
	for _, l := range logins {
		s.expectNone = append(s.expectNone, NotExpected{ResourceType: "IAMUser", Resource: l.u.name,
			AccountID: l.acc.id, Region: region, Types: []string{typeRootUsage, typeConsoleLoginB}})
	}
	return s
}
