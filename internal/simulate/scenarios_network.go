package simulate

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Network attack scenarios, modelled on the traffic AWS's GuardDuty tester makes
// (see docs/simulate.md for each one's exact shape).

// nmapTop1000 is the port list of nmap's default TCP scan (the top 1,000 ports of
// nmap-services), as `nmap -oG` prints it.
const nmapTop1000 = "1,3-4,6-7,9,13,17,19-26,30,32-33,37,42-43,49,53,70,79-85,88-90,99-100,106,109-111,113,119,125,135,139,143-144,146,161,163,179,199,211-212,222,254-256,259,264,280,301,306,311,340,366,389,406-407,416-417,425,427,443-445,458,464-465,481,497,500,512-515,524,541,543-545,548,554-555,563,587,593,616-617,625,631,636,646,648,666-668,683,687,691,700,705,711,714,720,722,726,749,765,777,783,787,800-801,808,843,873,880,888,898,900-903,911-912,981,987,990,992-993,995,999-1002,1007,1009-1011,1021-1100,1102,1104-1108,1110-1114,1117,1119,1121-1124,1126,1130-1132,1137-1138,1141,1145,1147-1149,1151-1152,1154,1163-1166,1169,1174-1175,1183,1185-1187,1192,1198-1199,1201,1213,1216-1218,1233-1234,1236,1244,1247-1248,1259,1271-1272,1277,1287,1296,1300-1301,1309-1311,1322,1328,1334,1352,1417,1433-1434,1443,1455,1461,1494,1500-1501,1503,1521,1524,1533,1556,1580,1583,1594,1600,1641,1658,1666,1687-1688,1700,1717-1721,1723,1755,1761,1782-1783,1801,1805,1812,1839-1840,1862-1864,1875,1900,1914,1935,1947,1971-1972,1974,1984,1998-2010,2013,2020-2022,2030,2033-2035,2038,2040-2043,2045-2049,2065,2068,2099-2100,2103,2105-2107,2111,2119,2121,2126,2135,2144,2160-2161,2170,2179,2190-2191,2196,2200,2222,2251,2260,2288,2301,2323,2366,2381-2383,2393-2394,2399,2401,2492,2500,2522,2525,2557,2601-2602,2604-2605,2607-2608,2638,2701-2702,2710,2717-2718,2725,2800,2809,2811,2869,2875,2909-2910,2920,2967-2968,2998,3000-3001,3003,3005-3007,3011,3013,3017,3030-3031,3052,3071,3077,3128,3168,3211,3221,3260-3261,3268-3269,3283,3300-3301,3306,3322-3325,3333,3351,3367,3369-3372,3389-3390,3404,3476,3493,3517,3527,3546,3551,3580,3659,3689-3690,3703,3737,3766,3784,3800-3801,3809,3814,3826-3828,3851,3869,3871,3878,3880,3889,3905,3914,3918,3920,3945,3971,3986,3995,3998,4000-4006,4045,4111,4125-4126,4129,4224,4242,4279,4321,4343,4443-4446,4449,4550,4567,4662,4848,4899-4900,4998,5000-5004,5009,5030,5033,5050-5051,5054,5060-5061,5080,5087,5100-5102,5120,5190,5200,5214,5221-5222,5225-5226,5269,5280,5298,5357,5405,5414,5431-5432,5440,5500,5510,5544,5550,5555,5560,5566,5631,5633,5666,5678-5679,5718,5730,5800-5802,5810-5811,5815,5822,5825,5850,5859,5862,5877,5900-5904,5906-5907,5910-5911,5915,5922,5925,5950,5952,5959-5963,5987-5989,5998-6007,6009,6025,6059,6100-6101,6106,6112,6123,6129,6156,6346,6389,6502,6510,6543,6547,6565-6567,6580,6646,6666-6669,6689,6692,6699,6779,6788-6789,6792,6839,6881,6901,6969,7000-7002,7004,7007,7019,7025,7070,7100,7103,7106,7200-7201,7402,7435,7443,7496,7512,7625,7627,7676,7741,7777-7778,7800,7911,7920-7921,7937-7938,7999-8002,8007-8011,8021-8022,8031,8042,8045,8080-8090,8093,8099-8100,8180-8181,8192-8194,8200,8222,8254,8290-8292,8300,8333,8383,8400,8402,8443,8500,8600,8649,8651-8652,8654,8701,8800,8873,8888,8899,8994,9000-9003,9009-9011,9040,9050,9071,9080-9081,9090-9091,9099-9103,9110-9111,9200,9207,9220,9290,9415,9418,9485,9500,9502-9503,9535,9575,9593-9595,9618,9666,9876-9878,9898,9900,9917,9929,9943-9944,9968,9998-10004,10009-10010,10012,10024-10025,10082,10180,10215,10243,10566,10616-10617,10621,10626,10628-10629,10778,11110-11111,11967,12000,12174,12265,12345,13456,13722,13782-13783,14000,14238,14441-14442,15000,15002-15004,15660,15742,16000-16001,16012,16016,16018,16080,16113,16992-16993,17877,17988,18040,18101,18988,19101,19283,19315,19350,19780,19801,19842,20000,20005,20031,20221-20222,20828,21571,22939,23502,24444,24800,25734-25735,26214,27000,27352-27353,27355-27356,27715,28201,30000,30718,30951,31038,31337,32768-32785,33354,33899,34571-34573,35500,38292,40193,40911,41511,42510,44176,44442-44443,44501,45100,48080,49152-49161,49163,49165,49167,49175-49176,49400,49999-50003,50006,50300,50389,50500,50636,50800,51103,51493,52673,52822,52848,52869,54045,54328,55055-55056,55555,55600,56737-56738,57294,57797,58080,60020,60443,61532,61900,62078,63331,64623,64680,65000,65129,65389"

// parsePorts expands a port list such as "1,3-4,6".
func parsePorts(list string) []uint16 {
	var out []uint16
	for _, part := range strings.Split(list, ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if found {
			b, _ = strconv.Atoi(hi)
		}
		for p := a; p <= b; p++ {
			out = append(out, uint16(p))
		}
	}
	return out
}

// dnsFloodDatagrams is the size of the DNS flood: the tester's 400,000 datagrams
// at 10 million flow records, scaled down with the corpus (N/25, at least 2,000).
func dnsFloodDatagrams(records int64) int64 {
	return min(max(records/25, 2000), 400_000)
}

func networkScenarios(p *scenarioSetup) []*scenario {
	return append([]*scenario{
		portscanInternal(p),
		portProbe(p),
		sshBruteForceInternal(p),
		sshBruteForceInbound(p),
		rdpBruteForceInternal(p),
		rdpBruteForceInbound(p),
		udpFlood(p),
		dnsFlood(p),
	}, natAbuse(p)...)
}

// portscanInternal: ci-runner-2 runs `nmap -sT -Pn` against db-2's private
// address. db-2's security group admits node_exporter (9100) from the VPC and
// nothing else from the CI subnet, so 999 probes are REJECTed at db-2's ingress
// (each SYN retransmitted once: 2 packets, tcp-flags 2) while the scanner's
// egress records are ACCEPT; on 9100 the connection completes and nmap resets it.
func portscanInternal(p *scenarioSetup) *scenario {
	actor, target := p.est.instance("ci-runner-2"), p.est.instance("db-2")
	s := &scenario{
		name:        "portscan-internal",
		description: "ci-runner-2 runs nmap -sT -Pn (top 1,000 TCP ports) against db-2's private address",
		at:          0.10,
		length:      2 * time.Minute,
	}
	ports := parsePorts(nmapTop1000)
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		order := append([]uint16(nil), ports...)
		for i := len(order) - 1; i > 0; i-- { // nmap randomises the port order
			j := r.intn(i + 1)
			order[i], order[j] = order[j], order[i]
		}
		for i, port := range order {
			t := s.start + int64(i)*35/int64(len(order)) // about 35 s at T3 against a filtered host
			c := conn{proto: protoTCP, client: at(actor, ephemeral(r, actor)), server: at(target, port), start: t}
			c.end = min(t+1, windowOf(t, p.start)+59)
			if port == 9100 {
				c.cPkts, c.cBytes, c.cFlags = 3, 172, flagSYN|flagRST
				c.sPkts, c.sBytes, c.sFlags = 1, 60, flagSYNACK
			} else {
				c.cPkts, c.cBytes, c.cFlags = 2, 120, flagSYN
				c.reject = true
			}
			e.conn(&c)
		}
	}
	s.expect = []Expected{withRemote(onInstance(typePortscan, sevMedium, actor, "ACTOR"), target.privIP)}
	return s
}

// portProbe: an internet scanner walks 40 ports of search-1, which has a public
// address; its security group drops everything but Elasticsearch (9200/9300),
// opened to the world by mistake. The probe of 9200 is ACCEPTed and answered.
func portProbe(p *scenarioSetup) *scenario {
	target := p.est.instance("search-1")
	r0 := p.rng("portprobe-unprotected-port")
	scanner := randomPublicIP(&r0)
	s := &scenario{
		name:        "portprobe-unprotected-port",
		description: "an internet scanner probes 40 ports of search-1 (public); all are REJECTed except Elasticsearch on 9200, which answers",
		at:          0.14,
		length:      6 * time.Minute,
	}
	var probe []uint16
	for _, port := range scanPortsTCP {
		if port != 9200 && port != 9300 && len(probe) < 39 {
			probe = append(probe, port)
		}
	}
	probe = append(probe[:17:17], append([]uint16{9200}, probe[17:]...)...)
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		for i, port := range probe {
			t := s.start + int64(i)*8 + int64(r.intn(5))
			c := conn{proto: protoTCP, client: remote(scanner, uint16(r.between(40000, 65000))), server: at(target, port), start: t, end: t}
			if port == 9200 {
				c.end = min(t+1, windowOf(t, p.start)+59)
				c.cPkts, c.cBytes, c.cFlags = 6, tcpBytes(6, 180), flagsClientShort
				c.sPkts, c.sBytes, c.sFlags = 5, tcpBytes(5, 560), flagsServerShort
			} else {
				c.cPkts, c.cBytes, c.cFlags = 1, 44, flagSYN
				c.reject = true
			}
			e.conn(&c)
		}
	}
	s.expect = []Expected{withRemote(onInstance(typePortProbe, sevHigh, target, "TARGET"), scanner)}
	return s
}

// bruteForce emits n short authentication attempts from client to server, each a
// new TCP connection with a new source port, spaced by gap seconds (plus jitter).
func bruteForce(r *rng, e *emitter, start, origin int64, n int, gap float64, mk func(i int) conn, cPay, sPay [2]int64) {
	last := start
	for i := 0; i < n; i++ {
		t := max(start+int64(float64(i)*gap)+int64(r.intn(2)), last)
		last = t
		c := mk(i)
		c.proto, c.start = protoTCP, t
		c.end = min(t+int64(r.intn(2)), windowOf(t, origin)+59)
		pc, ps := r.between64(cPay[0], cPay[1]), r.between64(sPay[0], sPay[1])
		c.cPkts, c.sPkts = 10+pc/900, 8+ps/1100
		c.cBytes, c.sBytes = tcpBytes(c.cPkts, pc), tcpBytes(c.sPkts, ps)
		c.cFlags, c.sFlags = flagsClientShort, flagsServerShort
		e.conn(&c)
	}
}

var (
	sshAttempt = [2][2]int64{{2400, 3600}, {3000, 4400}}
	rdpAttempt = [2][2]int64{{3400, 5200}, {4200, 7400}}
)

// sshBruteForceInternal: batch-3 runs crowbar in sshkey mode against bastion-1's
// private address, 160 attempts (new connections) about one a second. Both
// ends are labelled: batch-3 as ACTOR (High), bastion-1 as TARGET (Low).
func sshBruteForceInternal(p *scenarioSetup) *scenario {
	actor, target := p.est.instance("batch-3"), p.est.instance("bastion-1")
	s := &scenario{
		name:        "ssh-bruteforce-internal",
		description: "batch-3 tries 160 SSH key logins (crowbar) against bastion-1's private address",
		at:          0.18,
		length:      4 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		bruteForce(r, &emitter{out: out}, s.start, p.start, 160, 1.1, func(int) conn {
			return conn{client: at(actor, ephemeral(r, actor)), server: at(target, 22)}
		}, sshAttempt[0], sshAttempt[1])
	}
	s.expect = []Expected{
		withRemote(onInstance(typeSSHBruteForce, sevHigh, actor, "ACTOR"), target.privIP),
		withRemote(onInstance(typeSSHBruteForce, sevLow, target, "TARGET"), actor.privIP),
	}
	return s
}

// sshBruteForceInbound: an internet host tries 220 passwords against sftp-1, whose
// SSH port is open to the world for partners.
func sshBruteForceInbound(p *scenarioSetup) *scenario {
	target := p.est.instance("sftp-1")
	r0 := p.rng("ssh-bruteforce-inbound")
	attacker := randomPublicIP(&r0)
	s := &scenario{
		name:        "ssh-bruteforce-inbound",
		description: "an internet host tries 220 SSH logins against sftp-1 (public)",
		at:          0.22,
		length:      12 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		bruteForce(r, &emitter{out: out}, s.start, p.start, 220, 3.1, func(int) conn {
			return conn{client: remote(attacker, uint16(r.between(32768, 60999))), server: at(target, 22)}
		}, sshAttempt[0], sshAttempt[1])
	}
	s.expect = []Expected{withRemote(onInstance(typeSSHBruteForce, sevLow, target, "TARGET"), attacker)}
	return s
}

// rdpBruteForceInternal: ops-tools-1 runs `hydra -f -L users -P password_list.txt
// rdp://win-app-2` (7 users × 256 passwords, 16 tasks; stopped after 300 tries).
func rdpBruteForceInternal(p *scenarioSetup) *scenario {
	actor, target := p.est.instance("ops-tools-1"), p.est.instance("win-app-2")
	s := &scenario{
		name:        "rdp-bruteforce-internal",
		description: "ops-tools-1 runs hydra against RDP on win-app-2's private address, 300 attempts",
		at:          0.26,
		length:      3 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		bruteForce(r, &emitter{out: out}, s.start, p.start, 300, 0.4, func(int) conn {
			return conn{client: at(actor, ephemeral(r, actor)), server: at(target, 3389)}
		}, rdpAttempt[0], rdpAttempt[1])
	}
	s.expect = []Expected{
		withRemote(onInstance(typeRDPBruteForce, sevHigh, actor, "ACTOR"), target.privIP),
		withRemote(onInstance(typeRDPBruteForce, sevLow, target, "TARGET"), actor.privIP),
	}
	return s
}

// rdpBruteForceInbound: an internet host tries 280 RDP logins against winjump-1,
// whose RDP port is open to the world.
func rdpBruteForceInbound(p *scenarioSetup) *scenario {
	target := p.est.instance("winjump-1")
	r0 := p.rng("rdp-bruteforce-inbound")
	attacker := randomPublicIP(&r0)
	s := &scenario{
		name:        "rdp-bruteforce-inbound",
		description: "an internet host tries 280 RDP logins against winjump-1 (public)",
		at:          0.30,
		length:      9 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		bruteForce(r, &emitter{out: out}, s.start, p.start, 280, 1.8, func(int) conn {
			return conn{client: remote(attacker, uint16(r.between(49152, 65535))), server: at(target, 3389)}
		}, rdpAttempt[0], rdpAttempt[1])
	}
	s.expect = []Expected{withRemote(onInstance(typeRDPBruteForce, sevLow, target, "TARGET"), attacker)}
	return s
}

// udpFlood: batch-3 sends 400,000 datagrams of 256 bytes from one socket (one
// source port) to udp/80 of an internet address, through the NAT gateway, in
// about 100 seconds: a few long flows with huge packet counts.
func udpFlood(p *scenarioSetup) *scenario {
	actor := p.est.instance("batch-3")
	r0 := p.rng("dos-udp")
	victim := randomPublicIP(&r0)
	const datagrams, seconds = 400_000, 100
	s := &scenario{
		name:        "dos-udp",
		description: "batch-3 floods udp/80 of an internet host with 400,000 256-byte datagrams from one source port, through the NAT gateway",
		at:          0.34,
		length:      3 * time.Minute,
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		sport, nport := ephemeral(r, actor), uint16(r.between(1024, 65535))
		t0, t1 := s.start+23, s.start+23+seconds
		for w := windowOf(t0, p.start); w < t1; w += 60 {
			a, b := max(w, t0), min(w+60, t1)
			pkts := datagrams*(b-t0)/seconds - datagrams*(a-t0)/seconds
			c := conn{proto: protoUDP, client: at(actor, sport), server: remote(victim, 80),
				nat: actor.vpc.nat, natPort: nport, start: a, end: b - 1, cPkts: pkts, cBytes: pkts * (256 + 28)}
			e.conn(&c)
		}
	}
	exp := withRemote(onInstance(typeDoSUDP, sevHigh, actor, "ACTOR"), victim)
	exp.PublicIP = actor.egressIP.String()
	s.expect = []Expected{exp}
	return s
}

// dnsFlood: edge-2 sends 64-byte datagrams to udp/53 of an internet address,
// opening a new socket (a new source port) for each, 2,000 a second. Flow logs
// aggregate per 5-tuple per window, so each window holds one tiny flow per
// source port used in it.
func dnsFlood(p *scenarioSetup) *scenario {
	actor := p.est.instance("edge-2")
	r0 := p.rng("dos-dns")
	victim := randomPublicIP(&r0)
	n := dnsFloodDatagrams(p.records)
	const rate, lo, hi = 2000, 32768, 60999
	s := &scenario{
		name: "dos-dns",
		description: "edge-2 floods udp/53 of an internet host with " + strconv.FormatInt(n, 10) +
			" 64-byte datagrams, a new source port for each",
		at:     0.38,
		length: time.Duration(n/rate+120) * time.Second,
	}
	s.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		t0 := s.start + 11
		t1 := t0 + (n+rate-1)/rate
		port := int64(r.between(lo, hi))
		sent := int64(0)
		for w := windowOf(t0, p.start); w < t1; w += 60 {
			a, b := max(w, t0), min(w+60, t1)
			k := min((b-a)*rate, n-sent) // datagrams in this window
			sent += k
			distinct := min(k, hi-lo+1)
			for i := int64(0); i < distinct; i++ {
				pkts := k / distinct
				if i < k%distinct {
					pkts++
				}
				ts := a + i*(b-a)/distinct
				c := conn{proto: protoUDP, client: at(actor, uint16(port)), server: remote(victim, 53),
					start: ts, end: ts, cPkts: pkts, cBytes: pkts * (64 + 28)}
				if pkts > 1 {
					c.end = b - 1
				}
				e.conn(&c)
				if port++; port > hi {
					port = lo
				}
			}
		}
	}
	s.expect = []Expected{withRemote(onInstance(typeDoSDNS, sevHigh, actor, "ACTOR"), victim)}
	return s
}

// natAbuse: app-9, a private instance behind VPC A's NAT gateway, sweeps tcp/22 of
// 300 internet hosts and then brute-forces SSH on one that answered. The
// internet sees only the NAT gateway's Elastic IP, which is what an abuse report
// names; the flow logs must let the investigation attribute it to app-9 (its own
// ENI, and pkt-srcaddr on the NAT's inside leg), never to the NAT gateway.
func natAbuse(p *scenarioSetup) []*scenario {
	actor := p.est.instance("app-9")
	nat := actor.vpc.nat
	r0 := p.rng("nat-abuse")
	targets := make([]netip.Addr, 300)
	for i := range targets {
		targets[i] = randomPublicIP(&r0)
	}
	// Hosts that answer: every tenth listens on 22, a few more reset.
	victim := targets[40]
	sweep := &scenario{
		name:        "nat-abuse-portsweep",
		description: "app-9 (private, behind the NAT gateway) sweeps tcp/22 on 300 internet hosts",
		at:          0.46,
		length:      5 * time.Minute,
	}
	sweep.flows = func(r *rng, out flowEmit) {
		e := &emitter{out: out}
		for i, ip := range targets {
			t := sweep.start + int64(i)*240/int64(len(targets))
			c := conn{proto: protoTCP, client: at(actor, ephemeral(r, actor)), server: remote(ip, 22),
				nat: nat, natPort: uint16(r.between(1024, 65535)), start: t}
			c.end = min(t+1, windowOf(t, p.start)+59)
			switch {
			case i%10 == 0:
				c.cPkts, c.cBytes, c.cFlags = 3, 172, flagSYN|flagRST
				c.sPkts, c.sBytes, c.sFlags = 1, 60, flagSYNACK
			case i%7 == 3:
				c.cPkts, c.cBytes, c.cFlags = 1, 60, flagSYN
				c.sPkts, c.sBytes, c.sFlags = 1, 40, flagRST
			default:
				c.cPkts, c.cBytes, c.cFlags = 2, 120, flagSYN
				c.end = c.start
			}
			e.conn(&c)
		}
	}
	exp := onInstance(typePortSweep, sevHigh, actor, "ACTOR")
	exp.PublicIP = actor.egressIP.String()
	sweep.expect = []Expected{exp}
	sweep.expectNone = []NotExpected{natNotExpected(nat, typePortSweep, typePortscan)}

	brute := &scenario{
		name:        "nat-abuse-ssh-bruteforce",
		description: "app-9 (private, behind the NAT gateway) tries 150 SSH logins on an internet host that answered the sweep",
		after:       sweep,
		length:      6 * time.Minute,
	}
	brute.flows = func(r *rng, out flowEmit) {
		bruteForce(r, &emitter{out: out}, brute.start, p.start, 150, 2.2, func(int) conn {
			return conn{client: at(actor, ephemeral(r, actor)), server: remote(victim, 22),
				nat: nat, natPort: uint16(r.between(1024, 65535))}
		}, sshAttempt[0], sshAttempt[1])
	}
	exp = withRemote(onInstance(typeSSHBruteForce, sevHigh, actor, "ACTOR"), victim)
	exp.PublicIP = actor.egressIP.String()
	brute.expect = []Expected{exp}
	brute.expectNone = []NotExpected{natNotExpected(nat, typeSSHBruteForce)}
	return []*scenario{sweep, brute}
}

// natNotExpected says the NAT gateway's interface must not be blamed.
func natNotExpected(nat *natGateway, types ...string) NotExpected {
	return NotExpected{ResourceType: "NetworkInterface", Resource: nat.eni.id, PrivateIP: nat.eni.privIP.String(),
		AccountID: nat.eni.vpc.account.id, Region: nat.eni.vpc.region, Types: types}
}

func withRemote(e Expected, ip netip.Addr) Expected {
	e.RemoteIP = ip.String()
	return e
}
