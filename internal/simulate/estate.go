package simulate

import (
	"fmt"
	"net/netip"
	"time"
)

// The estate is the simulated AWS organisation: two accounts sharing one central
// log bucket, each with one VPC in us-east-1.
//
//   - Account A ("prod") runs VPC A, 10.10.0.0/16: two public subnets (the NAT
//     gateway sits in 10.10.2.0/24 at 10.10.2.68 behind an Elastic IP), private
//     web/app/data/ops/windows subnets, and 46 instances of every common kind.
//   - Account B ("analytics") runs VPC B, 10.20.0.0/16: a public subnet with its
//     own NAT gateway and a bastion, and a dozen private API/worker/data hosts.
//
// The topology (names, roles, subnets, who talks to whom) is fixed, so the
// documentation can describe it; identifiers (account ids, instance and ENI ids,
// public addresses) are drawn from the seed like everything else.
type estate struct {
	accounts  []*account
	vpcs      []*vpc
	instances []*instance // every instance, in a fixed order
	byName    map[string]*instance

	// onPrem is the data-centre range reached over a site-to-site VPN from VPC A.
	onPrem netip.Prefix
	// ami maps an OS family to its image id.
	ami map[string]string
}

// account is one AWS account, with the IAM principals that appear in CloudTrail.
type account struct {
	id     string
	alias  string
	vpc    *vpc
	users  []*iamUser
	roles  []*iamRole
	root   *iamUser // the root user, as a principal
	bucket string   // the account's main S3 bucket
}

type vpc struct {
	name      string // "A" or "B", as the documentation calls them
	id        string
	cidr      netip.Prefix
	ipv6      netip.Prefix // empty when the VPC has no IPv6
	account   *account
	region    string
	subnets   []*subnet
	instances []*instance
	enis      []*eni // every ENI of the VPC, NAT gateway's included
	nat       *natGateway
	standby   *eni // a secondary interface kept for failover: no traffic, NODATA
	flowLogID string
	format    *flowFormat // set from the configuration
	zone      string      // the Route 53 private hosted zone for internal names
}

type subnet struct {
	name   string
	id     string
	cidr   netip.Prefix
	ipv6   netip.Prefix
	az     string // us-east-1a
	azID   string // use1-az4: AZ names map to different physical zones per account
	public bool
	vpc    *vpc
	used   map[netip.Addr]bool
}

// role is what an instance does; it decides its traffic, its ports, its IAM role.
type role uint8

const (
	roleEdge       role = iota + 1 // public reverse proxy on 80/443
	roleBastion                    // public SSH jump host
	roleSFTP                       // public SFTP server for partners
	roleSearch                     // Elasticsearch, exposed to the internet by mistake
	roleWinJump                    // public Windows jump host (RDP)
	roleWeb                        // private web application servers
	roleApp                        // internal API services
	roleDB                         // PostgreSQL
	roleCache                      // Redis
	roleQueue                      // RabbitMQ
	roleBatch                      // batch workers
	roleMonitoring                 // Prometheus
	roleCI                         // CI runners
	roleConfig                     // configuration management (Ansible)
	roleOpsTools                   // operators' tool box
	roleBackup                     // backup server (uploads to S3)
	roleMail                       // outbound mail relay
	roleDev                        // developer sandbox
	roleDC                         // Active Directory domain controller, self-hosted DNS
	roleWinApp                     // Windows application servers
)

// roleInfo describes a role: its instance type, OS and IAM role name.
type roleInfo struct {
	tier    string // name used in IAM roles and security groups
	typ     string // instance type
	os      string // "ubuntu", "al2023", "debian" or "windows"
	arm     bool
	windows bool
}

var roles = map[role]roleInfo{
	roleEdge:       {"edge", "c6i.large", "ubuntu", false, false},
	roleBastion:    {"bastion", "t3.micro", "al2023", false, false},
	roleSFTP:       {"sftp", "t3.small", "ubuntu", false, false},
	roleSearch:     {"search", "r6g.large", "al2023", true, false},
	roleWinJump:    {"winjump", "t3.large", "windows", false, true},
	roleWeb:        {"web", "c6i.xlarge", "ubuntu", false, false},
	roleApp:        {"app", "m6i.xlarge", "ubuntu", false, false},
	roleDB:         {"db", "r6i.2xlarge", "ubuntu", false, false},
	roleCache:      {"cache", "r6g.large", "al2023", true, false},
	roleQueue:      {"queue", "m6i.large", "ubuntu", false, false},
	roleBatch:      {"batch", "c6i.2xlarge", "al2023", false, false},
	roleMonitoring: {"monitoring", "m6i.large", "ubuntu", false, false},
	roleCI:         {"ci", "c6i.2xlarge", "ubuntu", false, false},
	roleConfig:     {"config", "t3.medium", "ubuntu", false, false},
	roleOpsTools:   {"opstools", "t3.medium", "debian", false, false},
	roleBackup:     {"backup", "m6i.large", "al2023", false, false},
	roleMail:       {"mail", "t3.small", "debian", false, false},
	roleDev:        {"dev", "t3.large", "ubuntu", false, false},
	roleDC:         {"dc", "m6i.large", "windows", false, true},
	roleWinApp:     {"winapp", "m6i.xlarge", "windows", false, true},
}

type instance struct {
	name     string
	role     role
	id       string
	vpc      *vpc
	subnet   *subnet
	eni      *eni
	privIP   netip.Addr
	pubIP    netip.Addr // invalid when the instance has no public address
	eip      *elasticIP // non-nil when pubIP is an Elastic IP
	extra    []*eni     // secondary interfaces (device index 1…)
	ipv6     netip.Addr
	ami      string
	launch   time.Time
	keyName  string
	sgID     string
	sgName   string
	profile  *iamRole // the instance profile's role
	windows  bool
	egressIP netip.Addr // the address the internet sees: pubIP, or the NAT's EIP

	// Text rendered once for the resolver logs.
	privText   string      // the private address
	fqdn       string      // <name>.<private hosted zone>
	hostName   string      // ip-10-10-20-15.ec2.internal
	ptrName    string      // 15.20.10.10.in-addr.arpa
	searchMiss string      // <name>.ec2.internal, the search-list miss
	answerA    []dnsAnswer // A record of the private address
	answerPTR  []dnsAnswer // PTR record to hostName
}

// eni is an elastic network interface: the unit flow logs record on.
type eni struct {
	id       string
	vpc      *vpc
	subnet   *subnet
	instance *instance // nil for requester-managed interfaces (NAT gateway)
	privIP   netip.Addr
	// Text rendered once for the flow formatter.
	privText          string // privIP
	vpcSubnetInstance string // "<vpc-id> <subnet-id> <instance-id or ->"
	regionAZ          string // "<region> <az-id>"
	pubIP             netip.Addr
	ipv6              netip.Addr
	mac               string
	attachID          string
	desc              string
	natGW             *natGateway
}

type natGateway struct {
	id     string
	subnet *subnet
	eni    *eni
	eip    *elasticIP
}

type elasticIP struct {
	allocationID  string
	associationID string
	publicIP      netip.Addr
	eni           *eni
}

const region = "us-east-1"

// The second region, where only a few CloudTrail events happen.
const otherRegion = "us-west-2"

// hostSpec is one line of the estate's fixed topology.
type hostSpec struct {
	name   string
	role   role
	subnet string
	public bool // has a public IPv4 address
	eip    bool // …which is an Elastic IP
	ipv6   bool
}

type subnetSpec struct {
	name   string
	cidr   string
	az     string
	public bool
	ipv6   bool
}

var vpcASubnets = []subnetSpec{
	{"public-a", "10.10.1.0/24", "us-east-1a", true, true},
	{"public-b", "10.10.2.0/24", "us-east-1b", true, true},
	{"web-a", "10.10.10.0/24", "us-east-1a", false, false},
	{"web-b", "10.10.11.0/24", "us-east-1b", false, false},
	{"app-a", "10.10.20.0/24", "us-east-1a", false, false},
	{"app-b", "10.10.21.0/24", "us-east-1b", false, false},
	{"data-a", "10.10.30.0/24", "us-east-1a", false, false},
	{"data-b", "10.10.31.0/24", "us-east-1b", false, false},
	{"ops", "10.10.40.0/24", "us-east-1a", false, false},
	{"windows", "10.10.50.0/24", "us-east-1b", false, false},
}

var vpcAHosts = []hostSpec{
	{"edge-1", roleEdge, "public-a", true, true, true},
	{"edge-2", roleEdge, "public-b", true, false, true},
	{"bastion-1", roleBastion, "public-a", true, true, false},
	{"sftp-1", roleSFTP, "public-b", true, false, false},
	{"search-1", roleSearch, "public-b", true, false, false},
	{"winjump-1", roleWinJump, "public-a", true, true, false},
	{"web-1", roleWeb, "web-a", false, false, false},
	{"web-2", roleWeb, "web-b", false, false, false},
	{"web-3", roleWeb, "web-a", false, false, false},
	{"web-4", roleWeb, "web-b", false, false, false},
	{"web-5", roleWeb, "web-a", false, false, false},
	{"web-6", roleWeb, "web-b", false, false, false},
	{"app-1", roleApp, "app-a", false, false, false},
	{"app-2", roleApp, "app-b", false, false, false},
	{"app-3", roleApp, "app-a", false, false, false},
	{"app-4", roleApp, "app-b", false, false, false},
	{"app-5", roleApp, "app-a", false, false, false},
	{"app-6", roleApp, "app-b", false, false, false},
	{"app-7", roleApp, "app-a", false, false, false},
	{"app-8", roleApp, "app-b", false, false, false},
	{"app-9", roleApp, "app-a", false, false, false},
	{"app-10", roleApp, "app-b", false, false, false},
	{"db-1", roleDB, "data-a", false, false, false},
	{"db-2", roleDB, "data-b", false, false, false},
	{"db-3", roleDB, "data-a", false, false, false},
	{"cache-1", roleCache, "data-a", false, false, false},
	{"cache-2", roleCache, "data-b", false, false, false},
	{"queue-1", roleQueue, "data-b", false, false, false},
	{"batch-1", roleBatch, "app-a", false, false, false},
	{"batch-2", roleBatch, "app-b", false, false, false},
	{"batch-3", roleBatch, "app-a", false, false, false},
	{"batch-4", roleBatch, "app-b", false, false, false},
	{"monitoring-1", roleMonitoring, "ops", false, false, false},
	{"ci-runner-1", roleCI, "ops", false, false, false},
	{"ci-runner-2", roleCI, "ops", false, false, false},
	{"ci-runner-3", roleCI, "ops", false, false, false},
	{"ansible-1", roleConfig, "ops", false, false, false},
	{"ops-tools-1", roleOpsTools, "ops", false, false, false},
	{"backup-1", roleBackup, "ops", false, false, false},
	{"mail-relay-1", roleMail, "ops", false, false, false},
	{"dev-sandbox-1", roleDev, "ops", false, false, false},
	{"dc-1", roleDC, "windows", false, false, false},
	{"dc-2", roleDC, "windows", false, false, false},
	{"win-app-1", roleWinApp, "windows", false, false, false},
	{"win-app-2", roleWinApp, "windows", false, false, false},
	{"win-app-3", roleWinApp, "windows", false, false, false},
}

var vpcBSubnets = []subnetSpec{
	{"public", "10.20.0.0/24", "us-east-1a", true, false},
	{"private-a", "10.20.10.0/24", "us-east-1a", false, false},
	{"private-b", "10.20.11.0/24", "us-east-1b", false, false},
}

var vpcBHosts = []hostSpec{
	{"bastion-b", roleBastion, "public", true, true, false},
	{"api-b-1", roleApp, "private-a", false, false, false},
	{"api-b-2", roleApp, "private-b", false, false, false},
	{"api-b-3", roleApp, "private-a", false, false, false},
	{"worker-b-1", roleBatch, "private-a", false, false, false},
	{"worker-b-2", roleBatch, "private-b", false, false, false},
	{"worker-b-3", roleBatch, "private-a", false, false, false},
	{"worker-b-4", roleBatch, "private-b", false, false, false},
	{"db-b-1", roleDB, "private-a", false, false, false},
	{"cache-b-1", roleCache, "private-b", false, false, false},
	{"monitoring-b", roleMonitoring, "private-a", false, false, false},
	{"etl-b-1", roleBatch, "private-b", false, false, false},
}

// natAPrivateIP is the private address of VPC A's NAT gateway; abuse reports and
// the investigation workflow are written around it.
var natAPrivateIP = netip.MustParseAddr("10.10.2.68")

// awsEC2Prefixes are real us-east-1 EC2 address blocks; the estate's public
// addresses are drawn from them so they look like what AWS hands out.
var awsEC2Prefixes = []netip.Prefix{
	netip.MustParsePrefix("3.80.0.0/12"),
	netip.MustParsePrefix("18.204.0.0/14"),
	netip.MustParsePrefix("34.192.0.0/12"),
	netip.MustParsePrefix("44.192.0.0/11"),
	netip.MustParsePrefix("52.0.0.0/15"),
	netip.MustParsePrefix("52.70.0.0/15"),
	netip.MustParsePrefix("54.80.0.0/13"),
	netip.MustParsePrefix("54.144.0.0/14"),
	netip.MustParsePrefix("54.160.0.0/12"),
}

// newEstate builds the estate for a seed. It does no I/O.
func newEstate(seed uint64, start time.Time) *estate {
	r := derive(seed, tag("estate"))
	e := &estate{
		byName: make(map[string]*instance),
		onPrem: netip.MustParsePrefix("10.200.0.0/16"),
		ami: map[string]string{
			"ubuntu":  r.awsID("ami"),
			"al2023":  r.awsID("ami"),
			"debian":  r.awsID("ami"),
			"windows": r.awsID("ami"),
		},
	}
	used := make(map[netip.Addr]bool) // public addresses handed out so far
	accA := newAccount(&r, "nwt-prod")
	accB := newAccount(&r, "nwt-analytics")
	e.accounts = []*account{accA, accB}

	vA := e.newVPC(&r, "A", accA, "10.10.0.0/16", true, "prod.nwt.internal", vpcASubnets,
		map[string]string{"us-east-1a": "use1-az4", "us-east-1b": "use1-az6"})
	vB := e.newVPC(&r, "B", accB, "10.20.0.0/16", false, "analytics.nwt.internal", vpcBSubnets,
		map[string]string{"us-east-1a": "use1-az2", "us-east-1b": "use1-az4"})

	vA.nat = e.newNAT(&r, vA, vA.subnet("public-b"), natAPrivateIP, used)
	vB.nat = e.newNAT(&r, vB, vB.subnet("public"), netip.Addr{}, used)

	for _, h := range vpcAHosts {
		e.newInstance(&r, vA, h, start, used)
	}
	for _, h := range vpcBHosts {
		e.newInstance(&r, vB, h, start, used)
	}
	vA.standby = e.newStandby(&r, e.instance("db-1"), "keepalived floating address for db-1 (standby)")
	vB.standby = e.newStandby(&r, e.instance("etl-b-1"), "etl-b-1 failover interface (standby)")
	for _, acc := range e.accounts {
		acc.addPrincipals(&r, e)
	}
	for _, v := range e.vpcs {
		for _, n := range v.enis {
			n.render()
		}
	}
	return e
}

func newAccount(r *rng, alias string) *account {
	id := fmt.Sprintf("%d%011d", r.between(1, 9), r.intn(100_000_000_000))
	return &account{id: id, alias: alias, bucket: alias + "-data-" + id}
}

func (e *estate) newVPC(r *rng, name string, acc *account, cidr string, ipv6 bool, zone string, specs []subnetSpec, azIDs map[string]string) *vpc {
	v := &vpc{
		name:      name,
		id:        r.awsID("vpc"),
		cidr:      netip.MustParsePrefix(cidr),
		account:   acc,
		region:    region,
		flowLogID: r.awsID("fl"),
		zone:      zone,
	}
	if ipv6 {
		// AWS assigns each VPC a /56 out of its 2600:1f18::/32 block in us-east-1.
		v.ipv6 = netip.PrefixFrom(netip.AddrFrom16([16]byte{
			0x26, 0x00, 0x1f, 0x18, byte(r.intn(256)), byte(r.intn(256)), byte(r.intn(256)),
		}), 56)
	}
	acc.vpc = v
	for i, s := range specs {
		sn := &subnet{
			name:   s.name,
			id:     r.awsID("subnet"),
			cidr:   netip.MustParsePrefix(s.cidr),
			az:     s.az,
			azID:   azIDs[s.az],
			public: s.public,
			vpc:    v,
			used:   make(map[netip.Addr]bool),
		}
		if s.ipv6 && v.ipv6.IsValid() {
			b := v.ipv6.Addr().As16()
			b[7] = byte(i)
			sn.ipv6 = netip.PrefixFrom(netip.AddrFrom16(b), 64)
		}
		v.subnets = append(v.subnets, sn)
	}
	e.vpcs = append(e.vpcs, v)
	return v
}

func (v *vpc) subnet(name string) *subnet {
	for _, s := range v.subnets {
		if s.name == name {
			return s
		}
	}
	panic("BUG: no subnet " + name + " in VPC " + v.name)
}

// addr hands out a private address of the subnet. AWS reserves the first four
// and the last address of every subnet.
func (s *subnet) addr(r *rng, fixed netip.Addr) netip.Addr {
	if fixed.IsValid() {
		s.used[fixed] = true
		return fixed
	}
	base := s.cidr.Addr().As4()
	for {
		a := base
		a[3] = byte(r.between(4, 250))
		ip := netip.AddrFrom4(a)
		if !s.used[ip] {
			s.used[ip] = true
			return ip
		}
	}
}

func (e *estate) newENI(r *rng, v *vpc, sn *subnet, ip netip.Addr) *eni {
	n := &eni{
		id:       r.awsID("eni"),
		vpc:      v,
		subnet:   sn,
		privIP:   ip,
		privText: ip.String(),
		mac:      fmt.Sprintf("0e:%02x:%02x:%02x:%02x:%02x", r.intn(256), r.intn(256), r.intn(256), r.intn(256), r.intn(256)),
		attachID: r.awsID("eni-attach"),
	}
	v.enis = append(v.enis, n)
	return n
}

func (e *estate) newNAT(r *rng, v *vpc, sn *subnet, ip netip.Addr, used map[netip.Addr]bool) *natGateway {
	n := &natGateway{id: r.awsID("nat"), subnet: sn}
	n.eni = e.newENI(r, v, sn, sn.addr(r, ip))
	n.eni.natGW = n
	n.eni.desc = "Interface for NAT Gateway " + n.id
	n.eip = &elasticIP{
		allocationID:  r.awsID("eipalloc"),
		associationID: r.awsID("eipassoc"),
		publicIP:      awsPublicIP(r, used),
		eni:           n.eni,
	}
	n.eni.pubIP = n.eip.publicIP
	return n
}

func (e *estate) newInstance(r *rng, v *vpc, h hostSpec, start time.Time, used map[netip.Addr]bool) {
	info := roles[h.role]
	sn := v.subnet(h.subnet)
	in := &instance{
		name:    h.name,
		role:    h.role,
		id:      r.awsID("i"),
		vpc:     v,
		subnet:  sn,
		ami:     e.ami[info.os],
		launch:  start.Add(-time.Duration(r.between(3*24, 400*24)) * time.Hour).Add(-time.Duration(r.intn(3600)) * time.Second),
		keyName: v.account.alias + "-ops",
		sgID:    r.awsID("sg"),
		sgName:  v.account.alias + "-" + info.tier + "-sg",
		windows: info.windows,
	}
	in.privIP = sn.addr(r, netip.Addr{})
	in.privText = in.privIP.String()
	in.fqdn = in.name + "." + v.zone
	in.hostName = ec2Hostname(in.privIP)
	in.ptrName = reverseName(in.privIP)
	in.searchMiss = in.name + ".ec2.internal"
	in.answerA = []dnsAnswer{{rdata: in.privText, typ: "A"}}
	in.answerPTR = []dnsAnswer{{rdata: in.hostName + ".", typ: "PTR"}}
	in.eni = e.newENI(r, v, sn, in.privIP)
	in.eni.instance = in
	in.eni.desc = "Primary network interface"
	if h.public {
		in.pubIP = awsPublicIP(r, used)
		in.eni.pubIP = in.pubIP
		if h.eip {
			in.eip = &elasticIP{
				allocationID:  r.awsID("eipalloc"),
				associationID: r.awsID("eipassoc"),
				publicIP:      in.pubIP,
				eni:           in.eni,
			}
		}
		in.egressIP = in.pubIP
	} else {
		in.egressIP = v.nat.eip.publicIP
	}
	if h.ipv6 && sn.ipv6.IsValid() {
		b := sn.ipv6.Addr().As16()
		for i := 8; i < 16; i++ {
			b[i] = byte(r.intn(256))
		}
		in.ipv6 = netip.AddrFrom16(b)
		in.eni.ipv6 = in.ipv6
	}
	v.instances = append(v.instances, in)
	e.instances = append(e.instances, in)
	e.byName[in.name] = in
}

// newStandby attaches a secondary interface to in, in the same subnet, that
// carries no traffic: the interface whose flow log reports NODATA.
func (e *estate) newStandby(r *rng, in *instance, desc string) *eni {
	n := e.newENI(r, in.vpc, in.subnet, in.subnet.addr(r, netip.Addr{}))
	n.instance, n.desc = in, desc
	in.extra = append(in.extra, n)
	return n
}

// instance returns the instance with the given name; the names are the fixed
// topology above, so a missing one is a bug.
func (e *estate) instance(name string) *instance {
	in, ok := e.byName[name]
	if !ok {
		panic("BUG: no instance " + name)
	}
	return in
}

// ofRole returns a VPC's instances of a role, in topology order.
func (v *vpc) ofRole(rl role) []*instance {
	var out []*instance
	for _, in := range v.instances {
		if in.role == rl {
			out = append(out, in)
		}
	}
	return out
}

// awsPublicIP draws an unused address from the us-east-1 EC2 blocks.
func awsPublicIP(r *rng, used map[netip.Addr]bool) netip.Addr {
	for {
		p := awsEC2Prefixes[r.intn(len(awsEC2Prefixes))]
		ip := randomIn(r, p)
		b := ip.As4()
		if b[3] == 0 || b[3] == 255 || used[ip] {
			continue
		}
		used[ip] = true
		return ip
	}
}

// randomIn returns a random IPv4 address inside p.
func randomIn(r *rng, p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := uint32(r.u64()) & (1<<(32-p.Bits()) - 1)
	return addr4(base | host)
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// render fills the text the flow formatter copies into every record of n; it is
// called once the interface's instance, if any, is known.
func (n *eni) render() {
	inst := "-"
	if n.instance != nil {
		inst = n.instance.id
	}
	n.vpcSubnetInstance = n.vpc.id + " " + n.subnet.id + " " + inst
	n.regionAZ = n.vpc.region + " " + n.subnet.azID
}
