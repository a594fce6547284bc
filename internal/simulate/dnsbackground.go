package simulate

import (
	"net/netip"
	"strings"
)

// Background resolver traffic. Every instance asks the VPC resolver for the AWS
// endpoints, package mirrors and SaaS APIs it talks to, for internal names in the
// VPC's private hosted zone and for reverse lookups; Windows hosts ask the domain
// controllers, which forward to the resolver, so their queries are logged with a
// controller as the source. The resolver caches answers for their TTL and only
// logs queries it had to resolve, so a repeat inside the TTL is not logged.

// dnsModel is the precomputed resolver-traffic model of one VPC.
type dnsModel struct {
	vpc     *vpc
	clients []*instance // weighted by how chatty each role is
	peers   []*instance // the instances internal names point at
	cdn     []*service  // CloudFront distributions the web tier loads
	misc    []*service  // the long tail of names everyone resolves now and then
}

// estate-wide name sets, built once per seed.
type dnsNames struct {
	cdn  []*service
	misc []*service
}

var miscNames = []string{
	"checkip.amazonaws.com", "api.ipify.org", "www.google.com", "fonts.googleapis.com",
	"cdn.jsdelivr.net", "acme-v02.api.letsencrypt.org", "r10.o.lencr.org", "r11.o.lencr.org",
	"ocsp.digicert.com", "crl3.digicert.com", "o4505931.ingest.us.sentry.io", "api.segment.io",
	"sqs.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com",
	"lambda.us-east-1.amazonaws.com", "events.us-east-1.amazonaws.com", "xray.us-east-1.amazonaws.com",
	"api.opsgenie.com", "events.pagerduty.com", "time.cloudflare.com", "api.twilio.com",
	"oauth2.googleapis.com", "login.okta.com", "nwt.okta.com", "api.openai.com", "sentry.io",
	"connectivity-check.ubuntu.com", "esm.ubuntu.com", "motd.ubuntu.com",
}

func newDNSNames(seed uint64) *dnsNames {
	r := derive(seed, tag("dns-names"))
	n := &dnsNames{}
	for i := 0; i < 40; i++ {
		s := &service{name: cloudFrontName(&r), port: 443, proto: protoTCP, ttl: 60}
		for j := 0; j < 4; j++ {
			s.ips = append(s.ips, randomIn(&r, cloudFrontPrefixes[r.intn(len(cloudFrontPrefixes))]))
		}
		n.cdn = append(n.cdn, s.prepare())
	}
	awsService := netip.MustParsePrefix("52.94.0.0/16") // AWS service endpoints in us-east-1
	for _, name := range miscNames {
		s := &service{name: name, port: 443, proto: protoTCP, ttl: int64(r.between(30, 300))}
		for j := r.between(1, 4); j > 0; j-- {
			if strings.HasSuffix(name, ".amazonaws.com") {
				s.ips = append(s.ips, randomIn(&r, awsService))
			} else {
				s.ips = append(s.ips, randomPublicIP(&r))
			}
		}
		n.misc = append(n.misc, s.prepare())
	}
	return n
}

// cloudFrontName returns a CloudFront distribution domain: "d", 13 lowercase
// letters and digits, ".cloudfront.net".
func cloudFrontName(r *rng) string {
	return "d" + r.fromAlphabet(lowerAlnum, 13) + ".cloudfront.net"
}

func newDNSModel(v *vpc, names *dnsNames) *dnsModel {
	m := &dnsModel{vpc: v, cdn: names.cdn, misc: names.misc}
	for _, in := range v.instances {
		if in.windows && in.role != roleDC {
			continue // Windows members ask the domain controllers
		}
		w := 2
		switch in.role {
		case roleDC:
			w = 5 // they forward for every Windows host
		case roleApp, roleWeb, roleBatch, roleCI:
			w = 3
		case roleDev:
			w = 1
		}
		for j := 0; j < w; j++ {
			m.clients = append(m.clients, in)
		}
		m.peers = append(m.peers, in)
	}
	return m
}

// dnsGen generates the background resolver records of one VPC for one period.
type dnsGen struct {
	m     *dnsModel
	r     rng
	out   dnsEmit
	q     dnsQuery
	cache map[cacheKey]int64 // when the cached answer expires
}

type cacheKey struct {
	name  string
	qtype string
}

// second writes exactly n background queries at time t.
func (g *dnsGen) second(t int64, n int) {
	for ; n > 0; n-- {
		ok := false
		for try := 0; try < 6 && !ok; try++ {
			ok = g.pick(t)
		}
		if !ok {
			g.uncached(t)
		}
		g.out(&g.q)
	}
}

// pick fills g.q with a query; it returns false when the answer is still in the
// resolver's cache, in which case the query would not be logged.
func (g *dnsGen) pick(t int64) bool {
	r := &g.r
	m := g.m
	q := &g.q
	q.vpc, q.t, q.rcode = m.vpc, t, "NOERROR"
	q.answers = nil
	q.src = m.clients[r.intn(len(m.clients))]
	q.srcPort = ephemeral(r, q.src)
	q.tcp = r.intn(150) == 0
	ttl := int64(60)
	switch x := r.intn(100); {
	case x < 58:
		s := pickService(r, roleServices[q.src.role])
		q.name = s.name
		q.qtype = "A"
		if r.chance(2, 5) {
			q.qtype = "AAAA"
		}
		answerService(q, s)
		ttl = s.ttl
	case x < 76:
		p := m.peers[r.intn(len(m.peers))]
		q.name, q.qtype, q.answers = p.fqdn, "A", p.answerA
		ttl = 300
	case x < 82:
		p := m.peers[r.intn(len(m.peers))]
		q.name, q.qtype, q.answers = p.ptrName, "PTR", p.answerPTR
	case x < 85:
		p := m.peers[r.intn(len(m.peers))]
		q.name, q.qtype, q.answers = p.hostName, "A", p.answerA
	case x < 89:
		// a short name tried against the search list first
		p := m.peers[r.intn(len(m.peers))]
		q.name, q.qtype, q.rcode = p.searchMiss, "A", "NXDOMAIN"
	case x < 94:
		if q.src.role != roleWeb && q.src.role != roleEdge && q.src.role != roleApp {
			return g.pickMisc(ttl)
		}
		s := m.cdn[r.intn(len(m.cdn))]
		q.name, q.qtype = s.name, "A"
		answerService(q, s)
	default:
		return g.pickMisc(ttl)
	}
	if r.intn(800) == 0 {
		q.rcode = "SERVFAIL"
		q.answers = nil
		return true // failures are not cached
	}
	return g.remember(ttl)
}

func (g *dnsGen) pickMisc(ttl int64) bool {
	s := g.m.misc[g.r.intn(len(g.m.misc))]
	g.q.name, g.q.qtype = s.name, "A"
	answerService(&g.q, s)
	return g.remember(s.ttl)
}

// remember consults and updates the resolver cache for g.q.
func (g *dnsGen) remember(ttl int64) bool {
	key := cacheKey{g.q.name, g.q.qtype}
	if exp, ok := g.cache[key]; ok && g.q.t < exp {
		return false
	}
	g.cache[key] = g.q.t + ttl
	return true
}

// uncached fills g.q with a query no cache can answer: a reverse lookup of a
// random internet address (the kind log shippers and SSH daemons make).
func (g *dnsGen) uncached(t int64) {
	r := &g.r
	q := &g.q
	q.vpc, q.t = g.m.vpc, t
	q.src = g.m.clients[r.intn(len(g.m.clients))]
	q.srcPort = ephemeral(r, q.src)
	q.tcp = false
	ip := randomPublicIP(r)
	q.name, q.qtype = reverseName(ip), "PTR"
	q.answers = nil
	if r.chance(1, 2) {
		q.rcode = "NXDOMAIN"
	} else {
		q.rcode = "NOERROR"
		b := ip.As4()
		host := strings.ReplaceAll(netip.AddrFrom4(b).String(), ".", "-")
		q.answers = []dnsAnswer{{rdata: host + ".static." + ispDomains[r.intn(len(ispDomains))] + ".", typ: "PTR"}}
	}
}

var ispDomains = []string{"comcast.net", "as13335.net", "vultrusercontent.com", "linodeusercontent.com", "hetzner.com", "ovh.net", "digitalocean.com", "telia.com"}
