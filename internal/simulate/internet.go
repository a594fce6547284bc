package simulate

import (
	"net/netip"
	"strings"
)

// The internet around the estate: random public hosts (clients, scanners,
// attack targets) and the named services instances really talk to, whose
// addresses the resolver logs hand out and the flow logs then show.

// reservedV4 lists the IPv4 blocks that are never internet hosts: private,
// shared, loopback, link-local, documentation, benchmarking, multicast and
// reserved space (IANA special-purpose registry).
var reservedV4 = masks(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
	"192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)

// estateBlocks are awsEC2Prefixes as masks: internet hosts are never drawn from
// them, so an estate address is never mistaken for a stranger's.
var estateBlocks = func() [][2]uint32 {
	var s []string
	for _, p := range awsEC2Prefixes {
		s = append(s, p.String())
	}
	return masks(s...)
}()

// masks turns IPv4 prefixes into (base, mask) pairs for fast membership tests.
func masks(prefixes ...string) [][2]uint32 {
	var out [][2]uint32
	for _, s := range prefixes {
		p := netip.MustParsePrefix(s)
		b := p.Addr().As4()
		base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		out = append(out, [2]uint32{base, ^uint32(0) << (32 - p.Bits())})
	}
	return out
}

// isInternetV4 reports whether v is a public, routable IPv4 address outside the
// EC2 blocks the estate's own addresses come from.
func isInternetV4(v uint32) bool {
	for _, rs := range reservedV4 {
		if v&rs[1] == rs[0] {
			return false
		}
	}
	for _, rs := range estateBlocks {
		if v&rs[1] == rs[0] {
			return false
		}
	}
	b := byte(v)
	return b != 0 && b != 255
}

// randomPublicIP returns a random internet host address.
func randomPublicIP(r *rng) netip.Addr {
	for {
		v := uint32(r.u64())
		if isInternetV4(v) {
			return addr4(v)
		}
	}
}

// ipv6ClientPrefixes are large allocations of access networks (cable, mobile,
// European and Asian ISPs); internet IPv6 clients are drawn from them, never
// from documentation, 6to4 or Teredo space.
var ipv6ClientPrefixes = [][2]byte{
	{0x26, 0x01}, {0x26, 0x03}, {0x26, 0x04}, {0x26, 0x07}, {0x2a, 0x01}, {0x2a, 0x02}, {0x24, 0x09},
}

func randomPublicIPv6(r *rng) netip.Addr {
	var b [16]byte
	p := ipv6ClientPrefixes[r.intn(len(ipv6ClientPrefixes))]
	b[0], b[1] = p[0], p[1]
	for i := 2; i < 16; i += 8 {
		v := r.u64()
		for j := 0; j < 8 && i+j < 16; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return netip.AddrFrom16(b)
}

// service is a named internet (or AWS) endpoint: the names a resolver returns,
// the addresses they resolve to and the port clients use.
type service struct {
	name  string   // queried name, without the trailing dot
	cname []string // CNAME chain the resolver follows, in order
	ips   []netip.Addr
	port  uint16
	proto uint8
	ttl   int64 // seconds the resolver caches the answer
	// s3 marks S3 endpoints, reached through VPC A's gateway endpoint rather
	// than the NAT gateway.
	s3 bool

	// The resolver's answers, rendered once: for A queries (the CNAME chain and
	// the addresses) and for other types (the CNAME chain alone).
	answersA, answersOther []dnsAnswer
}

// prepare renders the service's resolver answers.
func (s *service) prepare() *service {
	s.answersOther = make([]dnsAnswer, 0, len(s.cname))
	for _, c := range s.cname {
		s.answersOther = append(s.answersOther, dnsAnswer{rdata: c + ".", typ: "CNAME"})
	}
	s.answersA = append([]dnsAnswer(nil), s.answersOther...)
	for _, ip := range s.ips {
		s.answersA = append(s.answersA, dnsAnswer{rdata: ip.String(), typ: "A"})
	}
	return s
}

func (s *service) ip(r *rng) netip.Addr { return s.ips[r.intn(len(s.ips))] }

func svc(name string, port uint16, ttl int64, ips string, cname ...string) *service {
	s := &service{name: name, cname: cname, port: port, proto: protoTCP, ttl: ttl}
	for _, ip := range strings.Fields(ips) {
		s.ips = append(s.ips, netip.MustParseAddr(ip))
	}
	return s.prepare()
}

// The services. Addresses are those of the operators' real blocks (Fastly,
// Cloudflare, GitHub, Canonical, AWS us-east-1 service space).
var (
	svcSSM            = svc("ssm.us-east-1.amazonaws.com", 443, 60, "52.46.145.233 52.46.153.182 52.94.227.108")
	svcEC2Messages    = svc("ec2messages.us-east-1.amazonaws.com", 443, 60, "52.46.138.63 52.46.150.24")
	svcSSMMessages    = svc("ssmmessages.us-east-1.amazonaws.com", 443, 60, "52.46.141.150 52.94.232.49")
	svcLogs           = svc("logs.us-east-1.amazonaws.com", 443, 60, "52.46.156.12 52.94.228.178 52.119.198.90")
	svcMonitoring     = svc("monitoring.us-east-1.amazonaws.com", 443, 60, "52.94.225.10 52.46.128.85")
	svcSTS            = svc("sts.us-east-1.amazonaws.com", 443, 60, "209.54.180.124 209.54.181.52")
	svcKMS            = svc("kms.us-east-1.amazonaws.com", 443, 60, "52.46.134.166 52.94.233.134")
	svcSecrets        = svc("secretsmanager.us-east-1.amazonaws.com", 443, 60, "52.46.146.31 52.94.236.199")
	svcEC2API         = svc("ec2.us-east-1.amazonaws.com", 443, 60, "52.46.153.99 54.239.28.85 52.94.224.121")
	svcECR            = svc("api.ecr.us-east-1.amazonaws.com", 443, 60, "52.46.150.206 52.94.229.41")
	svcS3             = svc("s3.us-east-1.amazonaws.com", 443, 5, "52.216.40.240 52.216.221.56 52.217.166.8 54.231.161.80 3.5.25.171", "s3-1-w.amazonaws.com")
	svcSESSMTP        = svc("email-smtp.us-east-1.amazonaws.com", 587, 60, "35.153.46.107 52.54.228.108 3.220.49.148")
	svcDebian         = svc("deb.debian.org", 80, 300, "151.101.2.132 151.101.66.132 151.101.130.132 151.101.194.132", "debian.map.fastlydns.net")
	svcDebianSecurity = svc("security.debian.org", 80, 300, "151.101.2.132 151.101.130.132", "debian.map.fastlydns.net")
	svcUbuntu         = svc("archive.ubuntu.com", 80, 60, "91.189.91.82 91.189.91.83 185.125.190.36 185.125.190.39")
	svcUbuntuSecurity = svc("security.ubuntu.com", 80, 60, "91.189.91.81 185.125.190.81 185.125.190.82")
	svcSnapcraft      = svc("api.snapcraft.io", 443, 60, "185.125.188.54 185.125.188.55 185.125.188.58")
	svcAL2023Repo     = svc("al2023-repos-us-east-1-de612dc2.s3.dualstack.us-east-1.amazonaws.com", 443, 5, "52.216.132.3 54.231.225.26", "s3-r-w.dualstack.us-east-1.amazonaws.com")
	svcGitHub         = svc("github.com", 443, 60, "140.82.112.3 140.82.113.3 140.82.114.3")
	svcGitHubAPI      = svc("api.github.com", 443, 60, "140.82.112.5 140.82.113.6 140.82.114.6")
	svcGitHubObjects  = svc("objects.githubusercontent.com", 443, 300, "185.199.108.133 185.199.109.133 185.199.110.133 185.199.111.133")
	svcDockerRegistry = svc("registry-1.docker.io", 443, 60, "54.236.113.205 3.216.34.172 3.219.239.5")
	svcDockerCDN      = svc("production.cloudflare.docker.com", 443, 300, "104.16.98.215 104.16.99.215")
	svcPyPI           = svc("pypi.org", 443, 300, "151.101.0.223 151.101.64.223 151.101.128.223 151.101.192.223")
	svcPyPIFiles      = svc("files.pythonhosted.org", 443, 300, "151.101.1.63 151.101.65.63 151.101.129.63", "dualstack.python.map.fastly.net")
	svcNPM            = svc("registry.npmjs.org", 443, 300, "104.16.2.35 104.16.3.35 104.16.24.35 104.16.27.35")
	svcStripe         = svc("api.stripe.com", 443, 300, "54.187.174.169 54.187.205.235 54.187.216.72")
	svcDatadog        = svc("api.datadoghq.com", 443, 60, "3.233.146.101 3.233.146.246", "alb-public-api-shard0-1925377405.us-east-1.elb.amazonaws.com")
	svcDatadogLogs    = svc("http-intake.logs.datadoghq.com", 443, 60, "3.233.158.48 3.233.158.49", "alb-logs-http-shard0-1591113325.us-east-1.elb.amazonaws.com")
	svcSlack          = svc("hooks.slack.com", 443, 60, "54.224.211.206 3.230.108.25", "hooks-iad.slack-edge.com")
	svcWinSettings    = svc("settings-win.data.microsoft.com", 443, 300, "20.42.65.92 20.189.173.1", "atm-settingsfe-prod-geo2.trafficmanager.net", "settings-prod-eus2-2.eastus2.cloudapp.azure.com")
	svcWinEvents      = svc("v10.events.data.microsoft.com", 443, 300, "20.42.73.25 13.69.109.130", "global.asimov.events.data.trafficmanager.net", "onedscolprdeus14.eastus.cloudapp.azure.com")
	svcWinUpdate      = svc("ctldl.windowsupdate.com", 80, 300, "93.184.221.240 152.199.19.161", "wu-bg-shim.trafficmanager.net", "cds.d2s7q6s2.hwcdn.net")
	svcMSLogin        = svc("login.microsoftonline.com", 443, 300, "20.190.151.7 20.190.151.132 40.126.23.98", "login.mso.msidentity.com", "ak.privatelink.msidentity.com", "www.tm.ak.prd.aadg.akadns.net")
	svcNTPUbuntu      = func() *service {
		s := svc("ntp.ubuntu.com", 123, 300, "185.125.190.56 185.125.190.57 185.125.190.58")
		s.proto = protoUDP // prepared by svc; the answers do not depend on the protocol
		return s
	}()
)

func init() {
	svcS3.s3 = true
	svcAL2023Repo.s3 = true
}

// weighted is a service with a relative weight in a role's destination mix.
type weighted struct {
	s *service
	w int
}

// awsCore is what every Linux instance talks to: the SSM agent, CloudWatch
// agent and SDK calls.
var awsCore = []weighted{
	{svcSSM, 6}, {svcEC2Messages, 5}, {svcSSMMessages, 3}, {svcLogs, 4},
	{svcMonitoring, 3}, {svcSTS, 1}, {svcKMS, 1}, {svcSecrets, 1},
}

// roleServices is each role's mix of internet destinations (through the NAT
// gateway, the internet gateway or the S3 gateway endpoint).
var roleServices = func() map[role][]weighted {
	linux := func(extra ...weighted) []weighted {
		out := append([]weighted{}, awsCore...)
		out = append(out, weighted{svcUbuntu, 1}, weighted{svcUbuntuSecurity, 1}, weighted{svcSnapcraft, 1}, weighted{svcNTPUbuntu, 1})
		return append(out, extra...)
	}
	amazon := func(extra ...weighted) []weighted {
		out := append([]weighted{}, awsCore...)
		out = append(out, weighted{svcAL2023Repo, 2})
		return append(out, extra...)
	}
	debian := func(extra ...weighted) []weighted {
		out := append([]weighted{}, awsCore...)
		out = append(out, weighted{svcDebian, 2}, weighted{svcDebianSecurity, 1})
		return append(out, extra...)
	}
	windows := []weighted{
		{svcSSM, 4}, {svcEC2Messages, 4}, {svcSSMMessages, 2}, {svcLogs, 2},
		{svcWinSettings, 3}, {svcWinEvents, 4}, {svcWinUpdate, 2}, {svcMSLogin, 2},
	}
	dev := []weighted{
		{svcGitHub, 4}, {svcGitHubAPI, 3}, {svcGitHubObjects, 3}, {svcDockerRegistry, 3}, {svcDockerCDN, 4},
		{svcPyPI, 2}, {svcPyPIFiles, 3}, {svcNPM, 3}, {svcECR, 3}, {svcS3, 3},
	}
	return map[role][]weighted{
		roleEdge:       linux(weighted{svcDatadogLogs, 3}),
		roleBastion:    amazon(),
		roleSFTP:       linux(weighted{svcS3, 4}),
		roleSearch:     amazon(weighted{svcS3, 2}),
		roleWinJump:    windows,
		roleWeb:        linux(weighted{svcStripe, 4}, weighted{svcDatadog, 3}, weighted{svcDatadogLogs, 4}, weighted{svcS3, 4}),
		roleApp:        linux(weighted{svcDatadog, 3}, weighted{svcDatadogLogs, 4}, weighted{svcS3, 6}, weighted{svcSlack, 1}),
		roleDB:         linux(weighted{svcS3, 3}),
		roleCache:      amazon(),
		roleQueue:      linux(),
		roleBatch:      amazon(weighted{svcS3, 10}, weighted{svcDatadog, 2}),
		roleMonitoring: linux(weighted{svcEC2API, 6}, weighted{svcSlack, 2}),
		roleCI:         linux(dev...),
		roleConfig:     linux(weighted{svcGitHub, 2}, weighted{svcPyPI, 1}, weighted{svcPyPIFiles, 1}),
		roleOpsTools:   debian(weighted{svcGitHub, 1}, weighted{svcEC2API, 2}),
		roleBackup:     amazon(weighted{svcS3, 12}),
		roleMail:       debian(weighted{svcSESSMTP, 3}),
		roleDev:        linux(dev...),
		roleDC:         windows,
		roleWinApp:     windows,
	}
}()

// cloudFrontIPs are CloudFront edge blocks; the CDN names in the resolver logs
// resolve into them.
var cloudFrontPrefixes = []netip.Prefix{
	netip.MustParsePrefix("18.160.0.0/15"),
	netip.MustParsePrefix("13.224.0.0/14"),
	netip.MustParsePrefix("54.230.0.0/17"),
}
