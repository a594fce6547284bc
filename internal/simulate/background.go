package simulate

import (
	"net/netip"
)

// Background flow traffic: what a VPC does all day when nobody is attacking it.
// It is drawn conversation by conversation until a window's record budget is
// spent; a conversation writes all its records (2 to 6 depending on the path), and
// when the next one would overflow the budget the remainder is filled with
// single-record conversations (rejected probes from internet scanners), so every
// window gets exactly the number of records it was allotted.

// bgKind is a kind of background conversation.
type bgKind uint8

const (
	bgEastWest bgKind = iota // short service-to-service connection inside the VPC
	bgPooled                 // a long-lived pooled connection (app → db/cache/queue)
	bgOutbound               // an instance to an internet or AWS service
	bgInbound                // internet clients to a public service
	bgInbound6               // the same over IPv6
	bgScanner                // an internet scanner probing a closed port: REJECT
	bgSelfDNS                // Windows hosts asking the domain controllers (self-hosted DNS)
	bgPing                   // the monitoring server pinging a host
	bgNoData                 // an idle interface: NODATA, once per window
	bgSkipData               // a capacity hiccup: SKIPDATA
	numBGKinds
)

// edge is a service dependency inside a VPC: clients connect to servers on port.
type edge struct {
	clients, servers []*instance
	port             uint16
	proto            uint8
	weight           int
	// sizes: client payload and server payload ranges in bytes
	cMin, cMax, sMin, sMax int64
}

// pool is a long-lived connection, present in every window.
type pool struct {
	client, server *instance
	cport, sport   uint16
}

// publicService is a port a public instance serves to the internet.
type publicService struct {
	in      *instance
	port    uint16
	weight  int
	clients []netip.Addr // nil: anyone; else only these addresses connect
}

// bgModel is the precomputed background model of one VPC.
type bgModel struct {
	vpc     *vpc
	kinds   [256]bgKind // weighted table: kinds[r.intn(256)]
	edges   []edge
	edgeTab []int // weighted table of edge indexes
	pools   []pool
	talkers []*instance // instances that talk to internet services, weighted
	public  []publicService
	pubTab  []int
	scanned []*instance // public instances internet scanners probe
	winHost []*instance
	dcs     []*instance
	monitor *instance
	pinged  []*instance
	quiet   *eni // the standby interface: it reports NODATA every window
	busy    []*eni
}

var scanPortsTCP = []uint16{
	23, 445, 3389, 1433, 3306, 5432, 5900, 6379, 8080, 8443, 8888, 9000, 27017, 2375, 81, 8081,
	7547, 5555, 2323, 37215, 52869, 139, 135, 21, 25, 110, 143, 1723, 11211, 9100, 10000, 4567,
	50000, 60001, 6443, 9090, 5060, 8000, 8008, 8088, 49152, 3128, 1080, 4444, 9300, 9200, 22, 80, 443,
}

var scanPortsUDP = []uint16{53, 123, 161, 1900, 5060, 11211, 137, 500, 3702, 5353, 19, 111}

// newBGModel builds the background model of v.
func newBGModel(e *estate, v *vpc, seed uint64) *bgModel {
	m := &bgModel{vpc: v}
	r := derive(seed, tag("bg-model"), tag(v.id))
	all := func(rls ...role) []*instance {
		var out []*instance
		for _, rl := range rls {
			out = append(out, v.ofRole(rl)...)
		}
		return out
	}
	linux := func() []*instance {
		var out []*instance
		for _, in := range v.instances {
			if !in.windows {
				out = append(out, in)
			}
		}
		return out
	}
	add := func(clients, servers []*instance, port uint16, weight int, cMin, cMax, sMin, sMax int64) {
		if len(clients) == 0 || len(servers) == 0 {
			return
		}
		m.edges = append(m.edges, edge{clients: clients, servers: servers, port: port, proto: protoTCP,
			weight: weight, cMin: cMin, cMax: cMax, sMin: sMin, sMax: sMax})
	}
	web, app, db, cache, queue, batch := all(roleWeb), all(roleApp), all(roleDB), all(roleCache), all(roleQueue), all(roleBatch)
	add(all(roleEdge), web, 8080, 10, 400, 6000, 800, 120_000)
	add(web, app, 8443, 12, 300, 4000, 300, 40_000)
	add(app, app, 8443, 4, 300, 3000, 300, 20_000)
	add(app, db, 5432, 6, 200, 3000, 200, 90_000)
	add(app, cache, 6379, 5, 60, 800, 60, 4000)
	add(app, queue, 5672, 3, 200, 2000, 100, 1000)
	add(web, cache, 6379, 3, 60, 800, 60, 4000)
	add(batch, db, 5432, 3, 300, 8000, 2000, 900_000)
	add(batch, queue, 5672, 3, 200, 2000, 200, 6000)
	add(batch, app, 8443, 2, 300, 3000, 300, 20_000)
	add(all(roleMonitoring), linux(), 9100, 4, 150, 300, 8000, 60_000)
	add(all(roleBastion), linux(), 22, 1, 2000, 40_000, 3000, 200_000)
	add(all(roleConfig), linux(), 22, 1, 3000, 30_000, 4000, 60_000)
	add(all(roleCI), append(web, app...), 22, 1, 20_000, 900_000, 3000, 20_000)
	add(all(roleWinApp, roleWinJump), all(roleDC), 88, 2, 1200, 2400, 1200, 2800)
	add(all(roleWinApp, roleWinJump), all(roleDC), 389, 2, 300, 3000, 400, 9000)
	add(all(roleWinApp, roleWinJump), all(roleDC), 445, 1, 2000, 20_000, 2000, 60_000)
	add(all(roleDC), all(roleDC), 135, 1, 200, 1200, 200, 1200)
	add(all(roleWinJump), all(roleWinApp), 3389, 1, 20_000, 400_000, 100_000, 4_000_000)
	add(append(web, app...), all(roleSearch), 9200, 2, 300, 4000, 500, 80_000)
	add(all(roleBackup), db, 5432, 1, 2000, 20_000, 1_000_000, 40_000_000)
	add(app, all(roleMail), 25, 1, 2000, 60_000, 300, 1200)
	for i, e := range m.edges {
		for j := 0; j < e.weight; j++ {
			m.edgeTab = append(m.edgeTab, i)
		}
	}

	// Pools: fixed client ports, so the same 5-tuples recur in every window.
	addPool := func(clients, servers []*instance, port uint16, per int) {
		for _, c := range clients {
			for _, s := range servers {
				for k := 0; k < per; k++ {
					m.pools = append(m.pools, pool{client: c, server: s, cport: uint16(r.between(32768, 60999)), sport: port})
				}
			}
		}
	}
	if len(db) > 0 {
		addPool(app, db[:1], 5432, 2)
		addPool(batch, db[:1], 5432, 1)
	}
	addPool(app, cache, 6379, 1)
	addPool(batch, queue, 5672, 1)

	for _, in := range v.instances {
		w := 2
		switch in.role {
		case roleBatch, roleCI, roleBackup:
			w = 4
		case roleApp, roleWeb:
			w = 3
		}
		for j := 0; j < w; j++ {
			m.talkers = append(m.talkers, in)
		}
	}

	office := v.account.root.sourceIP
	for _, in := range v.instances {
		if !in.pubIP.IsValid() {
			continue
		}
		m.scanned = append(m.scanned, in)
		switch in.role {
		case roleEdge:
			m.public = append(m.public, publicService{in: in, port: 443, weight: 14}, publicService{in: in, port: 80, weight: 3})
		case roleSFTP:
			partners := []netip.Addr{randomPublicIP(&r), randomPublicIP(&r), randomPublicIP(&r)}
			m.public = append(m.public, publicService{in: in, port: 22, weight: 1, clients: partners})
		case roleBastion:
			m.public = append(m.public, publicService{in: in, port: 22, weight: 1, clients: []netip.Addr{office}})
		case roleWinJump:
			m.public = append(m.public, publicService{in: in, port: 3389, weight: 1, clients: []netip.Addr{office}})
		}
	}
	for i, p := range m.public {
		for j := 0; j < p.weight; j++ {
			m.pubTab = append(m.pubTab, i)
		}
	}
	m.winHost = all(roleWinApp, roleWinJump)
	m.dcs = all(roleDC)
	if mon := all(roleMonitoring); len(mon) > 0 {
		m.monitor = mon[0]
		m.pinged = linux()
	}
	m.quiet = v.standby
	m.busy = []*eni{v.nat.eni}
	for _, in := range all(roleEdge, roleApp) {
		m.busy = append(m.busy, in.eni)
	}

	// The kind table: weights out of 256.
	weights := []struct {
		k bgKind
		w int
	}{
		{bgEastWest, 84}, {bgPooled, 22}, {bgOutbound, 52}, {bgInbound, 44}, {bgInbound6, 6},
		{bgScanner, 30}, {bgSelfDNS, 14}, {bgPing, 4},
	}
	i := 0
	for _, w := range weights {
		for j := 0; j < w.w && i < len(m.kinds); j++ {
			m.kinds[i] = w.k
			i++
		}
	}
	for ; i < 256; i++ {
		m.kinds[i] = bgEastWest
	}
	return m
}

// bgGen generates the background flow records of one VPC for one 5-minute period.
type bgGen struct {
	m   *bgModel
	r   rng
	out flowEmit
	f   flow
	c   conn

	// Per window: pools are visited in order, each at most once, and at most one
	// NODATA/SKIPDATA line is written, so no 5-tuple repeats within a window.
	nextPool   int
	statusDone bool
}

// window writes exactly n background records whose aggregation window starts at
// ws (Unix seconds).
func (g *bgGen) window(ws int64, n int) {
	g.nextPool, g.statusDone = 0, false
	if n >= 4 && g.m.quiet != nil {
		// The idle interface reports NODATA for every window it stays idle.
		g.plan(bgNoData, ws)
		g.out(&g.f)
		n--
	}
	for n > 0 {
		k := g.m.kinds[g.r.intn(256)]
		if g.r.intn(20_000) == 0 {
			k = bgSkipData
		}
		w := g.plan(k, ws)
		if w == 0 || w > n {
			w = g.plan(bgScanner, ws) // always one record
		}
		if g.f.status != statusOK {
			g.out(&g.f)
		} else {
			g.c.emit(g.out, &g.f)
		}
		n -= w
	}
}

// plan fills g.c (or g.f for status records) with one conversation of kind k and
// returns how many records it will write; 0 when the kind does not apply here.
func (g *bgGen) plan(k bgKind, ws int64) int {
	r := &g.r
	m := g.m
	c := &g.c
	*c = conn{}
	g.f.status = statusOK
	t := ws + int64(r.intn(58))
	c.start = t
	c.end = min(t+int64(r.intn(4)), ws+59)
	switch k {
	case bgEastWest:
		e := &m.edges[m.edgeTab[r.intn(len(m.edgeTab))]]
		cl := e.clients[r.intn(len(e.clients))]
		sv := e.servers[r.intn(len(e.servers))]
		if cl == sv {
			return 0
		}
		c.proto = e.proto
		c.client, c.server = at(cl, ephemeral(r, cl)), at(sv, e.port)
		cPay, sPay := r.between64(e.cMin, e.cMax), r.between64(e.sMin, e.sMax)
		c.cPkts, c.sPkts = 3+cPay/1200+int64(r.intn(4)), 2+sPay/1400+int64(r.intn(4))
		c.cBytes, c.sBytes = tcpBytes(c.cPkts, cPay), tcpBytes(c.sPkts, sPay)
		c.cFlags, c.sFlags = flagsClientShort, flagsServerShort
		if c.end-c.start > 1 && r.chance(1, 3) {
			c.cFlags, c.sFlags = flagSYN|flagFIN, flagSYNACK // the server's FIN falls in the next window
		}
	case bgPooled:
		if g.nextPool >= len(m.pools) {
			return 0
		}
		p := m.pools[g.nextPool]
		g.nextPool++
		c.proto = protoTCP
		c.client, c.server = at(p.client, p.cport), at(p.server, p.sport)
		c.start, c.end = ws+int64(r.intn(3)), ws+57+int64(r.intn(3))
		c.cPkts = int64(r.between(20, 900))
		c.sPkts = c.cPkts + int64(r.intn(int(c.cPkts)+1))
		c.cBytes, c.sBytes = tcpBytes(c.cPkts, c.cPkts*int64(r.between(40, 400))), tcpBytes(c.sPkts, c.sPkts*int64(r.between(60, 1400)))
	case bgOutbound:
		in := m.talkers[r.intn(len(m.talkers))]
		s := pickService(r, roleServices[in.role])
		return g.outbound(in, s, ws)
	case bgInbound, bgInbound6:
		if len(m.pubTab) == 0 {
			return 0
		}
		ps := m.public[m.pubTab[r.intn(len(m.pubTab))]]
		var client netip.Addr
		switch {
		case ps.clients != nil:
			client = ps.clients[r.intn(len(ps.clients))]
		case k == bgInbound6 && ps.in.ipv6.IsValid():
			client = randomPublicIPv6(r)
		default:
			client = randomPublicIP(r)
		}
		c.proto = protoTCP
		c.client = remote(client, uint16(r.between(1024, 65535)))
		c.server = at(ps.in, ps.port)
		if client.Is6() {
			c.server.ip = ps.in.ipv6
		}
		cPay, sPay := int64(r.between(300, 3000)), int64(r.between(600, 250_000))
		if ps.port == 22 || ps.port == 3389 {
			cPay, sPay = int64(r.between(4000, 300_000)), int64(r.between(8000, 3_000_000))
			c.end = ws + 59
			c.cFlags, c.sFlags = flagSYN, flagSYNACK
		} else {
			c.cFlags, c.sFlags = flagsClientShort, flagsServerShort
		}
		c.cPkts, c.sPkts = 4+cPay/1200, 3+sPay/1400
		c.cBytes, c.sBytes = tcpBytes(c.cPkts, cPay), tcpBytes(c.sPkts, sPay)
	case bgScanner:
		g.scanner(ws)
	case bgSelfDNS:
		if len(m.winHost) == 0 || len(m.dcs) == 0 {
			return 0
		}
		cl := m.winHost[r.intn(len(m.winHost))]
		dc := m.dcs[r.intn(len(m.dcs))]
		c.proto = protoUDP
		c.client, c.server = at(cl, uint16(r.between(49152, 65535))), at(dc, 53)
		c.cPkts, c.sPkts = 1, 1
		c.cBytes, c.sBytes = int64(r.between(60, 110)), int64(r.between(90, 400))
		c.end = c.start
	case bgPing:
		if m.monitor == nil {
			return 0
		}
		tg := m.pinged[r.intn(len(m.pinged))]
		if tg == m.monitor {
			return 0
		}
		c.proto = protoICMP
		c.client, c.server = at(m.monitor, 0), at(tg, 0)
		c.cPkts = int64(r.between(1, 4))
		c.sPkts = c.cPkts
		c.cBytes, c.sBytes = 84*c.cPkts, 84*c.sPkts
	case bgNoData, bgSkipData:
		n := m.quiet
		if k == bgSkipData {
			n = m.busy[r.intn(len(m.busy))]
		}
		if n == nil || g.statusDone {
			return 0
		}
		g.statusDone = true
		g.f = flow{eni: n, start: ws + int64(r.intn(5)), end: ws + 55 + int64(r.intn(5)), status: statusNoData}
		if k == bgSkipData {
			g.f.status = statusSkipData
		}
		return 1
	}
	return c.records()
}

// outbound plans a connection from in to service s: through the NAT gateway for
// private instances, the internet gateway for public ones, the S3 gateway
// endpoint for S3 from VPC A.
func (g *bgGen) outbound(in *instance, s *service, ws int64) int {
	r := &g.r
	c := &g.c
	c.proto = s.proto
	c.client = at(in, ephemeral(r, in))
	c.server = remote(s.ip(r), s.port)
	switch {
	case s.s3 && in.vpc.name == "A":
		c.outPath = pathEndpoint
	case !in.pubIP.IsValid():
		c.nat = in.vpc.nat
		c.natPort = uint16(r.between(1024, 65535))
	}
	if s.proto == protoUDP {
		c.cPkts, c.sPkts = 1, 1
		c.cBytes, c.sBytes = 76, 76
		c.end = c.start
		return c.records()
	}
	cPay, sPay := int64(r.between(400, 4000)), int64(r.between(800, 60_000))
	switch s {
	case svcS3, svcAL2023Repo:
		cPay, sPay = int64(r.between(800, 2_000_000)), int64(r.between(600, 8_000_000))
	case svcDebian, svcDebianSecurity, svcUbuntu, svcUbuntuSecurity, svcDockerCDN, svcPyPIFiles, svcGitHubObjects:
		sPay = int64(r.between(20_000, 30_000_000))
	case svcSSMMessages, svcEC2Messages:
		// long polls: the agent holds the connection for most of the window
		c.start, c.end = ws+int64(r.intn(3)), ws+55+int64(r.intn(4))
	}
	c.cPkts, c.sPkts = 5+cPay/1200+int64(r.intn(4)), 4+sPay/1400+int64(r.intn(4))
	c.cBytes, c.sBytes = tcpBytes(c.cPkts, cPay), tcpBytes(c.sPkts, sPay)
	c.cFlags, c.sFlags = flagsClientShort, flagsServerShort
	return c.records()
}

// scanner plans one internet probe of a closed port on a public instance; the
// security group drops it, so it is one REJECT record at the target.
func (g *bgGen) scanner(ws int64) {
	r := &g.r
	c := &g.c
	m := g.m
	*c = conn{start: ws + int64(r.intn(58))}
	c.end = c.start
	var target *instance
	if len(m.scanned) > 0 {
		target = m.scanned[r.intn(len(m.scanned))]
	} else {
		target = m.vpc.instances[0]
	}
	c.client = remote(randomPublicIP(r), uint16(r.between(1024, 65535)))
	c.reject = true
	switch x := r.intn(10); {
	case x < 7:
		c.proto = protoTCP
		port := scanPortsTCP[r.intn(len(scanPortsTCP))]
		for isOpen(target, port) {
			port = scanPortsTCP[r.intn(len(scanPortsTCP))]
		}
		c.server = at(target, port)
		c.cPkts = int64(r.between(1, 2))
		c.cBytes = c.cPkts * int64(40+4*r.intn(6))
		c.cFlags = flagSYN
	case x < 9:
		c.proto = protoUDP
		c.server = at(target, scanPortsUDP[r.intn(len(scanPortsUDP))])
		c.cPkts = 1
		c.cBytes = int64(r.between(29, 120))
	default:
		c.proto = protoICMP
		c.client.port = 0
		c.server = at(target, 0)
		c.cPkts = 1
		c.cBytes = 60
	}
}

// isOpen reports whether a public instance's security group admits port from
// the whole internet. Background scanners only probe closed ports, so that the
// only probes of an open port are the scenarios' (Elasticsearch on search-1 is
// open by mistake: probing it is the PortProbeUnprotectedPort scenario).
func isOpen(in *instance, port uint16) bool {
	switch in.role {
	case roleEdge:
		return port == 80 || port == 443
	case roleSFTP:
		return port == 22
	case roleSearch:
		return port == 9200 || port == 9300
	case roleWinJump:
		return port == 3389
	}
	return false
}

// ephemeral returns a client source port from the instance OS's ephemeral range.
func ephemeral(r *rng, in *instance) uint16 {
	if in.windows {
		return uint16(r.between(49152, 65535))
	}
	return uint16(r.between(32768, 60999))
}

func pickService(r *rng, ws []weighted) *service {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	x := r.intn(total)
	for _, w := range ws {
		if x < w.w {
			return w.s
		}
		x -= w.w
	}
	return ws[len(ws)-1].s
}
