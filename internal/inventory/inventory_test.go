package inventory

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// The fixture estate (testdata/estate):
//
//	account-a 111122223333, eu-west-1, vpc-0a3f5c7e9b1d24680 10.0.0.0/16:
//	  web-1    i-0b7e1d2c3a4f56789  10.0.0.10 (+10.0.0.11 in a later snapshot), public 203.0.113.10, IPv6
//	  bastion  i-0c8f2e3d4b5a67890  10.0.1.20 + 10.0.1.21, Elastic IP 198.51.100.20
//	  app-1    i-0d9a3f4e5c6b78901  10.0.10.30, private, Windows
//	  nat-a    nat-0e5f6a7b8c9d01234 10.0.0.50/198.51.100.50 + 10.0.0.51/198.51.100.51
//	  NLB ENI  10.0.0.60 / 203.0.113.60 / 2a05:d018:1c4:7a00::60
//	  endpoint 10.0.10.70, Lambda ENI 10.0.10.80, spare EIP 198.51.100.99
//	account-b 444455556666, us-east-1, vpc-0b4e6d8f0a2c35791 10.0.0.0/16 (overlapping):
//	  worker-b1 i-0e1f2a3b4c5d67890 10.0.10.30 (+10.0.10.35), private
//	  worker-b2 i-0f2a3b4c5d6e78901 10.0.10.31, public 203.0.113.131
//	  a deleted NAT gateway 10.0.0.90 / 192.0.2.90
const (
	vpcA      = "vpc-0a3f5c7e9b1d24680"
	vpcB      = "vpc-0b4e6d8f0a2c35791"
	web1      = "i-0b7e1d2c3a4f56789"
	bastion   = "i-0c8f2e3d4b5a67890"
	app1      = "i-0d9a3f4e5c6b78901"
	workerB1  = "i-0e1f2a3b4c5d67890"
	workerB2  = "i-0f2a3b4c5d6e78901"
	natA      = "nat-0e5f6a7b8c9d01234"
	natB      = "nat-0b9c8d7e6f5a43210"
	eniWeb1   = "eni-0f1a2b3c4d5e60001"
	eniNATA   = "eni-0f1a2b3c4d5e60050"
	eniNLB    = "eni-0f1a2b3c4d5e60060"
	eniVPCE   = "eni-0f1a2b3c4d5e60070"
	eniLambda = "eni-0f1a2b3c4d5e60080"
	eniB1     = "eni-0b1c2d3e4f5a60030"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func ips(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, ip(s))
	}
	return out
}

func loadEstate(t *testing.T) *Inventory {
	t.Helper()
	inv, warns, err := Load("testdata/estate")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("unexpected warning: %s", w)
	}
	return inv
}

func TestCounts(t *testing.T) {
	inv := loadEstate(t)
	if n := len(inv.Instances()); n != 5 {
		t.Errorf("instances: got %d, want 5", n)
	}
	// 3 + 2 instance ENIs, NAT A's, the NLB's, the endpoint's, the Lambda's, and the
	// stub of the deleted NAT gateway's in account B.
	if n := len(inv.Interfaces()); n != 10 {
		t.Errorf("interfaces: got %d, want 10", n)
	}
	if n := len(inv.NATGateways()); n != 2 {
		t.Errorf("NAT gateways: got %d, want 2", n)
	}
	if n := len(inv.Addresses()); n != 4 {
		t.Errorf("addresses: got %d, want 4", n)
	}
}

func TestByIPEveryKind(t *testing.T) {
	inv := loadEstate(t)
	cases := []struct {
		addr     string
		kind     Kind
		public   bool
		id       string // Owner.ID()
		eni      string // Owner.Interface.ID, "" for none
		instance string
		nat      string
		eip      string // allocation id
		name     string
	}{
		// Instances: private, auto-assigned public, IPv6, secondary private, EIP.
		{"10.0.0.10", KindInstance, false, web1, eniWeb1, web1, "", "", "web-1"},
		{"203.0.113.10", KindInstance, true, web1, eniWeb1, web1, "", "", "web-1"},
		{"2a05:d018:1c4:7a00:5f1e:a2b3:c4d5:e6f7", KindInstance, true, web1, eniWeb1, web1, "", "", "web-1"},
		{"10.0.0.11", KindInstance, false, web1, eniWeb1, web1, "", "", "web-1"},
		{"10.0.1.21", KindInstance, false, bastion, "eni-0f1a2b3c4d5e60002", bastion, "", "", "bastion"},
		{"198.51.100.20", KindInstance, true, bastion, "eni-0f1a2b3c4d5e60002", bastion, "", "eipalloc-0a1b2c3d4e5f60020", "bastion"},
		{"203.0.113.131", KindInstance, true, workerB2, "eni-0b1c2d3e4f5a60031", workerB2, "", "", "worker-b2"},
		// NAT gateway: both private and both public addresses, through its ENI.
		{"10.0.0.50", KindNATGateway, false, natA, eniNATA, "", natA, "", "nat-a"},
		{"10.0.0.51", KindNATGateway, false, natA, eniNATA, "", natA, "", "nat-a"},
		{"198.51.100.50", KindNATGateway, true, natA, eniNATA, "", natA, "eipalloc-0a1b2c3d4e5f60050", "nat-a"},
		{"198.51.100.51", KindNATGateway, true, natA, eniNATA, "", natA, "eipalloc-0a1b2c3d4e5f60051", "nat-a"},
		// Load balancer, endpoint, plain interface, unassociated EIP.
		{"10.0.0.60", KindLoadBalancer, false, eniNLB, eniNLB, "", "", "", "ELB net/public-nlb/50dc6c495c0c9188"},
		{"203.0.113.60", KindLoadBalancer, true, eniNLB, eniNLB, "", "", "", "ELB net/public-nlb/50dc6c495c0c9188"},
		{"2a05:d018:1c4:7a00::60", KindLoadBalancer, true, eniNLB, eniNLB, "", "", "", "ELB net/public-nlb/50dc6c495c0c9188"},
		{"10.0.10.70", KindVPCEndpoint, false, eniVPCE, eniVPCE, "", "", "", "VPC Endpoint Interface vpce-0123456789abcdef0"},
		{"10.0.10.80", KindInterface, false, eniLambda, eniLambda, "", "", "", "AWS Lambda VPC ENI-orders-worker-4f2a9c1e-8b7d-4c3a-9e21-5d6f7a8b9c0d"},
		{"198.51.100.99", KindEIP, true, "eipalloc-0a1b2c3d4e5f60099", "", "", "", "eipalloc-0a1b2c3d4e5f60099", "spare"},
		// IPv4-mapped IPv6 is looked up as IPv4.
		{"::ffff:10.0.0.10", KindInstance, false, web1, eniWeb1, web1, "", "", "web-1"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			o, ok := inv.ByIP(ip(c.addr))
			if !ok {
				t.Fatalf("ByIP(%s): not found; owners %v", c.addr, inv.Owners(ip(c.addr)))
			}
			if o.Kind != c.kind || o.Public != c.public || o.ID() != c.id || o.Name() != c.name {
				t.Errorf("ByIP(%s) = %s public=%v id=%s name=%q; want %s public=%v id=%s name=%q",
					c.addr, o.Kind, o.Public, o.ID(), o.Name(), c.kind, c.public, c.id, c.name)
			}
			if o.Addr != ip(c.addr).Unmap() {
				t.Errorf("Addr = %s", o.Addr)
			}
			check := func(what, got, want string) {
				if got != want {
					t.Errorf("%s: got %q, want %q", what, got, want)
				}
			}
			var eni, inst, nat, eip string
			if o.Interface != nil {
				eni = o.Interface.ID
			}
			if o.Instance != nil {
				inst = o.Instance.ID
			}
			if o.NATGateway != nil {
				nat = o.NATGateway.ID
			}
			if o.EIP != nil {
				eip = o.EIP.AllocationID
			}
			check("interface", eni, c.eni)
			check("instance", inst, c.instance)
			check("NAT gateway", nat, c.nat)
			check("EIP", eip, c.eip)
		})
	}
	for _, a := range []string{"10.0.0.99", "8.8.8.8", "2001:db8::1"} {
		if o, ok := inv.ByIP(ip(a)); ok {
			t.Errorf("ByIP(%s) = %s, want not found", a, o)
		}
	}
	if _, ok := inv.ByIP(netip.Addr{}); ok {
		t.Error("ByIP(invalid address) found something")
	}
}

func TestOwnerDetails(t *testing.T) {
	inv := loadEstate(t)
	o, _ := inv.ByIP(ip("10.0.0.10"))
	in := o.Instance
	if in.ImageID != "ami-0d64bb532e0502c46" || in.SubnetID != "subnet-0e1d2c3b4a5968770" || o.SubnetID() != in.SubnetID ||
		o.VPCID() != vpcA || in.Region() != "eu-west-1" || in.OwnerID != "111122223333" ||
		!in.LaunchTime.Equal(time.Date(2026, 9, 14, 8, 21, 37, 0, time.UTC)) {
		t.Errorf("web-1: %+v", in)
	}
	if v, _ := in.Tags.Get("Role"); v != "web" || in.Tags[0].Key != "Environment" {
		t.Errorf("tags not sorted or wrong: %v", in.Tags)
	}
	if got, want := o.String(), "instance i-0b7e1d2c3a4f56789 (web-1) eni-0f1a2b3c4d5e60001 vpc-0a3f5c7e9b1d24680"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	o, _ = inv.ByIP(ip("198.51.100.99"))
	if got, want := o.String(), "eip eipalloc-0a1b2c3d4e5f60099 (spare)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if o.VPCID() != "" || o.SubnetID() != "" {
		t.Errorf("unassociated EIP has VPC %q subnet %q", o.VPCID(), o.SubnetID())
	}
}

// Overlapping private ranges: 10.0.10.30 is app-1 in account A and worker-b1 in
// account B. ByIP refuses to guess; the VPC or the ENI decides.
func TestOverlappingPrivateAddresses(t *testing.T) {
	inv := loadEstate(t)
	a := ip("10.0.10.30")
	if o, ok := inv.ByIP(a); ok {
		t.Fatalf("ByIP(%s) = %s, want ambiguous", a, o)
	}
	owners := inv.Owners(a)
	if len(owners) != 2 || owners[0].Instance.ID != workerB1 || owners[1].Instance.ID != app1 {
		t.Fatalf("Owners(%s) = %v", a, owners)
	}
	if o, ok := inv.ByIPInVPC(vpcA, a); !ok || o.Instance.ID != app1 {
		t.Errorf("ByIPInVPC(A) = %v, %v", o, ok)
	}
	if o, ok := inv.ByIPInVPC(vpcB, a); !ok || o.Instance.ID != workerB1 {
		t.Errorf("ByIPInVPC(B) = %v, %v", o, ok)
	}
	if _, ok := inv.ByIPInVPC("vpc-0000000000000000", a); ok {
		t.Error("ByIPInVPC(unknown VPC) found something")
	}
	// Public addresses are found in the VPC of their holder.
	if o, ok := inv.ByIPInVPC(vpcA, ip("198.51.100.50")); !ok || o.NATGateway.ID != natA {
		t.Errorf("ByIPInVPC(A, NAT public) = %v, %v", o, ok)
	}
	// Owners returns a copy.
	owners[0].Kind = "changed"
	if inv.Owners(a)[0].Kind == "changed" {
		t.Error("Owners returned the index's own slice")
	}
}

func TestInterfaceAndInstanceLookups(t *testing.T) {
	inv := loadEstate(t)

	e, ok := inv.Interface(eniNATA)
	if !ok || e.Kind() != KindNATGateway || e.NATGateway == nil || e.NATGateway.ID != natA || !e.RequesterManaged || e.Instance != nil {
		t.Fatalf("NAT ENI: %+v", e)
	}
	if e.Type != "nat_gateway" || e.PrimaryPrivateIP() != ip("10.0.0.50") {
		t.Errorf("NAT ENI type %q primary %s", e.Type, e.PrimaryPrivateIP())
	}
	if got := e.PublicIPs(); !reflect.DeepEqual(got, ips("198.51.100.50", "198.51.100.51")) {
		t.Errorf("NAT ENI public IPs %v", got)
	}

	e, ok = inv.Interface(eniWeb1)
	if !ok || e.Instance == nil || e.Instance.ID != web1 || e.DeviceIndex != 0 || e.Region() != "eu-west-1" {
		t.Fatalf("web-1 ENI: %+v", e)
	}

	in, ok := inv.Instance(bastion)
	if !ok || len(in.Interfaces) != 1 || in.Interfaces[0].ID != "eni-0f1a2b3c4d5e60002" {
		t.Fatalf("bastion: %+v", in)
	}
	if got := in.PrivateIPs(); !reflect.DeepEqual(got, ips("10.0.1.20", "10.0.1.21")) {
		t.Errorf("bastion private IPs %v", got)
	}
	if got := in.PublicIPs(); !reflect.DeepEqual(got, ips("198.51.100.20")) {
		t.Errorf("bastion public IPs %v", got)
	}
	if _, ok := inv.Instance("i-00000000000000000"); ok {
		t.Error("unknown instance found")
	}
	if _, ok := inv.Interface("eni-00000000000000000"); ok {
		t.Error("unknown ENI found")
	}

	// The deleted NAT gateway of account B: its ENI was never described, so it is a
	// stub made from the gateway's address list, and still resolves.
	e, ok = inv.Interface("eni-0b1c2d3e4f5a60090")
	if !ok || !e.Stub || e.NATGateway == nil || e.NATGateway.ID != natB || e.VPCID != vpcB || e.Kind() != KindNATGateway {
		t.Errorf("stub NAT ENI: %+v", e)
	}
}

func TestNATGateways(t *testing.T) {
	inv := loadEstate(t)
	nats := inv.NATGateways()
	if len(nats) != 2 || nats[0].ID != natB || nats[1].ID != natA {
		t.Fatalf("NATGateways() = %v", nats)
	}
	n := nats[1]
	if n.Name() != "nat-a" || n.State != "available" || n.ConnectivityType != "public" || n.VPCID != vpcA ||
		!n.CreateTime.Equal(time.Date(2026, 3, 11, 9, 58, 20, 0, time.UTC)) {
		t.Errorf("nat-a: %+v", n)
	}
	if !reflect.DeepEqual(n.PublicIPs(), ips("198.51.100.50", "198.51.100.51")) || !reflect.DeepEqual(n.PrivateIPs(), ips("10.0.0.50", "10.0.0.51")) {
		t.Errorf("nat-a addresses %v %v", n.PublicIPs(), n.PrivateIPs())
	}
	if len(n.Interfaces) != 1 || n.Interfaces[0].ID != eniNATA || n.Addresses[0].Primary != true {
		t.Errorf("nat-a interfaces %v addresses %+v", n.Interfaces, n.Addresses)
	}
	if g, ok := inv.NATGateway(natA); !ok || g != n {
		t.Error("NATGateway(id) disagrees with NATGateways()")
	}

	for _, c := range []struct {
		addr string
		want string
	}{
		{"10.0.0.50", natA}, {"10.0.0.51", natA}, {"10.0.0.90", natB},
		{"198.51.100.50", ""}, // public, not private
		{"10.0.0.10", ""},     // an instance
		{"10.0.0.60", ""},     // a load balancer
	} {
		g, ok := inv.NATByPrivateIP(ip(c.addr))
		got := ""
		if ok {
			got = g.ID
		}
		if got != c.want {
			t.Errorf("NATByPrivateIP(%s) = %q, want %q", c.addr, got, c.want)
		}
	}
}

func TestIsOwnPublicIP(t *testing.T) {
	inv := loadEstate(t)
	own := []string{
		"203.0.113.10",                   // web-1, auto-assigned
		"198.51.100.20",                  // bastion's EIP
		"198.51.100.50", "198.51.100.51", // NAT gateway
		"198.51.100.99", // unassociated EIP: still ours
		"203.0.113.60",  // NLB
		"203.0.113.131", // account B
		"192.0.2.90",    // a deleted NAT gateway's, held in the snapshot
		"2a05:d018:1c4:7a00:5f1e:a2b3:c4d5:e6f7",
		"::ffff:203.0.113.10",
	}
	for _, a := range own {
		if !inv.IsOwnPublicIP(ip(a)) {
			t.Errorf("IsOwnPublicIP(%s) = false", a)
		}
	}
	for _, a := range []string{"10.0.0.10", "10.0.0.50", "8.8.8.8", "203.0.113.11", "2001:db8::1"} {
		if inv.IsOwnPublicIP(ip(a)) {
			t.Errorf("IsOwnPublicIP(%s) = true", a)
		}
	}
}

func TestInstanceEgressIPs(t *testing.T) {
	inv := loadEstate(t)
	cases := []struct {
		id   string
		want []netip.Addr
	}{
		// Own public IPv4 and IPv6; no NAT, since it has a public address.
		{web1, ips("203.0.113.10", "2a05:d018:1c4:7a00:5f1e:a2b3:c4d5:e6f7")},
		// Its Elastic IP.
		{bastion, ips("198.51.100.20")},
		// Private: the VPC's NAT gateway.
		{app1, ips("198.51.100.50", "198.51.100.51")},
		// Private, but the only NAT gateway of its VPC is deleted: nothing.
		{workerB1, nil},
		{workerB2, ips("203.0.113.131")},
		{"i-00000000000000000", nil},
	}
	for _, c := range cases {
		if got := inv.InstanceEgressIPs(c.id); !reflect.DeepEqual(got, c.want) {
			t.Errorf("InstanceEgressIPs(%s) = %v, want %v", c.id, got, c.want)
		}
	}
}

// An instance with only an IPv6 address still sends IPv4 through the NAT gateway,
// and a private NAT gateway is never an egress to the internet.
func TestInstanceEgressIPv6OnlyAndPrivateNAT(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "i.json", `{"Reservations":[{"OwnerId":"111122223333","Instances":[
		{"InstanceId":"i-00000000000000001","InstanceType":"t3.micro","VpcId":"vpc-1","PrivateIpAddress":"10.1.0.5",
		 "NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","VpcId":"vpc-1","PrivateIpAddress":"10.1.0.5",
		   "Ipv6Addresses":[{"Ipv6Address":"2600:1f18:aaaa:bb00::5"},{"Ipv6Address":"fd00:ec2::5"}]}]},
		{"InstanceId":"i-00000000000000002","InstanceType":"t3.micro","VpcId":"vpc-2","PrivateIpAddress":"10.2.0.5"}]}]}`)
	write(t, dir, "n.json", `{"NatGateways":[
		{"NatGatewayId":"nat-1","VpcId":"vpc-1","State":"available","ConnectivityType":"public",
		 "NatGatewayAddresses":[{"PrivateIp":"10.1.0.9","PublicIp":"198.51.100.9","IsPrimary":true}]},
		{"NatGatewayId":"nat-2","VpcId":"vpc-2","State":"available","ConnectivityType":"private",
		 "NatGatewayAddresses":[{"PrivateIp":"10.2.0.9","IsPrimary":true}]}]}`)
	inv := mustLoad(t, dir)
	if got, want := inv.InstanceEgressIPs("i-00000000000000001"), ips("198.51.100.9", "2600:1f18:aaaa:bb00::5"); !reflect.DeepEqual(got, want) {
		t.Errorf("IPv6 instance egress %v, want %v (the unique-local fd00:: address is private)", got, want)
	}
	if got := inv.InstanceEgressIPs("i-00000000000000002"); got != nil {
		t.Errorf("behind a private NAT gateway: %v, want none", got)
	}
	if inv.IsOwnPublicIP(ip("fd00:ec2::5")) {
		t.Error("a unique-local IPv6 address counted as public")
	}
	// A NAT gateway described without its ENI is still found by its addresses.
	if n, ok := inv.NATByPrivateIP(ip("10.2.0.9")); !ok || n.ID != "nat-2" {
		t.Errorf("NATByPrivateIP(private NAT) = %v, %v", n, ok)
	}
	if o, ok := inv.ByIP(ip("198.51.100.9")); !ok || o.Kind != KindNATGateway || o.Interface != nil {
		t.Errorf("ByIP(NAT without ENI) = %v, %v", o, ok)
	}
}

// The same ENI, described by describe-instances, describe-network-interfaces and a
// later snapshot, is one ENI with everything each description added.
func TestMergeDuplicateENIs(t *testing.T) {
	inv := loadEstate(t)
	e, _ := inv.Interface(eniWeb1)
	if len(e.Sources) != 3 {
		t.Errorf("sources %v", e.Sources)
	}
	want := []netip.Addr{ip("10.0.0.10"), ip("10.0.0.11")}
	var got []netip.Addr
	for _, p := range e.PrivateIPs {
		got = append(got, p.Addr)
	}
	if !reflect.DeepEqual(got, want) || !e.PrivateIPs[0].Primary || e.PrivateIPs[1].Primary {
		t.Errorf("private IPs %+v", e.PrivateIPs)
	}
	if len(e.IPv6) != 1 {
		t.Errorf("IPv6 duplicated: %v", e.IPv6)
	}
	// Type and zone come from describe-network-interfaces, the MAC from both, the tag
	// only from describe-network-interfaces (describe-instances prints none).
	if e.Type != "interface" || e.AvailabilityZone != "eu-west-1a" || e.Name() != "web-1-primary" || e.MACAddress != "06:1b:8c:4e:2a:91" {
		t.Errorf("merged fields: %+v", e)
	}
	in, _ := inv.Instance(web1)
	if len(in.Interfaces) != 1 {
		t.Errorf("web-1 has %d interfaces, want 1", len(in.Interfaces))
	}
	// Account B's ENI: describe-instances then a file with several keys.
	e, _ = inv.Interface(eniB1)
	if len(e.PrivateIPs) != 2 || e.Name() != "" || e.Tags.Name() != "" {
		t.Errorf("worker-b1 ENI %+v", e)
	}
	if v, _ := e.Tags.Get("team"); v != "data" {
		t.Errorf("worker-b1 ENI tags %v", e.Tags)
	}
	// The index holds one entry per address, not one per description.
	if got := inv.Owners(ip("10.0.0.10")); len(got) != 1 {
		t.Errorf("Owners(10.0.0.10) = %v", got)
	}
}

// Later files win field by field; empty fields never erase.
func TestMergeLaterWins(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "1.json", `{"Reservations":[{"OwnerId":"1","Instances":[{"InstanceId":"i-1","InstanceType":"t3.micro","State":{"Name":"running"},
		"PublicIpAddress":"198.51.100.1","Tags":[{"Key":"Name","Value":"old"}]}]}]}`)
	write(t, dir, "2.json", `{"Reservations":[{"Instances":[{"InstanceId":"i-1","State":{"Name":"stopped"},"Tags":[{"Key":"Name","Value":"new"}]}]}]}`)
	inv := mustLoad(t, dir)
	in, _ := inv.Instance("i-1")
	if in.State != "stopped" || in.Name() != "new" || in.InstanceType != "t3.micro" || in.OwnerID != "1" || in.PublicIP != ip("198.51.100.1") {
		t.Errorf("merged instance %+v", in)
	}
	if !reflect.DeepEqual(in.Sources, []string{filepath.Join(dir, "1.json"), filepath.Join(dir, "2.json")}) {
		t.Errorf("sources %v", in.Sources)
	}
}

// An ENI attached to an instance nobody described makes a stub instance, so that
// the address is still blamed on an instance id; the same for an EIP.
func TestStubInstances(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "e.json", `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","InterfaceType":"interface","VpcId":"vpc-1","SubnetId":"subnet-1",
		"AvailabilityZone":"us-gov-west-1b","PrivateIpAddress":"10.0.0.5","Attachment":{"InstanceId":"i-1","InstanceOwnerId":"123","DeviceIndex":0}}],
		"Addresses":[{"PublicIp":"198.51.100.7","AllocationId":"eipalloc-7","InstanceId":"i-7","PrivateIpAddress":"10.0.0.7"}]}`)
	inv := mustLoad(t, dir)
	o, ok := inv.ByIP(ip("10.0.0.5"))
	if !ok || o.Kind != KindInstance || o.Instance == nil || !o.Instance.Stub || o.Instance.ID != "i-1" ||
		o.Instance.VPCID != "vpc-1" || o.Instance.OwnerID != "123" || o.Instance.Region() != "us-gov-west-1" {
		t.Fatalf("ByIP = %+v %v", o, ok)
	}
	o, ok = inv.ByIP(ip("198.51.100.7"))
	if !ok || o.Kind != KindInstance || o.Instance.ID != "i-7" || !o.Instance.Stub || o.EIP == nil {
		t.Fatalf("EIP on an undescribed instance: %+v %v", o, ok)
	}
	if o, ok := inv.ByIP(ip("10.0.0.7")); !ok || o.Instance.ID != "i-7" {
		t.Errorf("private side of the EIP: %+v %v", o, ok)
	}
	if got := inv.InstanceEgressIPs("i-7"); !reflect.DeepEqual(got, ips("198.51.100.7")) {
		t.Errorf("stub egress %v", got)
	}
}

// ENIs known only by description (older outputs without InterfaceType).
func TestKindFromDescription(t *testing.T) {
	cases := []struct {
		e    Interface
		want Kind
	}{
		{Interface{Description: "Interface for NAT Gateway nat-0123"}, KindNATGateway},
		{Interface{Type: "natGateway"}, KindNATGateway},
		{Interface{Description: "ELB app/web/0123456789abcdef", RequesterID: "amazon-elb", RequesterManaged: true, Type: "interface"}, KindLoadBalancer},
		{Interface{Description: "ELB classic-web"}, KindLoadBalancer},
		{Interface{Type: "gateway_load_balancer"}, KindLoadBalancer},
		{Interface{Type: "gateway_load_balancer_endpoint"}, KindVPCEndpoint},
		{Interface{Description: "VPC Endpoint Interface vpce-0123"}, KindVPCEndpoint},
		{Interface{Description: "ELB looks-like-one", Type: "interface"}, KindInterface}, // user-made, not requester-managed
		{Interface{Type: "efa", InstanceID: "i-1"}, KindInstance},
		{Interface{Type: "lambda"}, KindInterface},
	}
	for _, c := range cases {
		if got := c.e.Kind(); got != c.want {
			t.Errorf("%+v: Kind() = %s, want %s", c.e, got, c.want)
		}
	}
}

func TestRegionOf(t *testing.T) {
	for az, want := range map[string]string{
		"eu-west-1a": "eu-west-1", "us-west-2-lax-1a": "us-west-2", "us-gov-west-1b": "us-gov-west-1",
		"cn-north-1a": "cn-north-1", "ap-southeast-4c": "ap-southeast-4", "": "", "bogus": "",
	} {
		if got := regionOf(az); got != want {
			t.Errorf("regionOf(%q) = %q, want %q", az, got, want)
		}
	}
}

// The same files in another order give the same lookups, and building twice from
// one Loader gives equal, independent inventories.
func TestDeterministic(t *testing.T) {
	files, _ := filepath.Glob("testdata/estate/*/*.json")
	more, _ := filepath.Glob("testdata/estate/*/*/*.json")
	files = append(files, more...)
	rev := slices.Clone(files)
	slices.Reverse(rev)
	a, _, err := Load(files...)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Load(rev...)
	if err != nil {
		t.Fatal(err)
	}
	for addr, owners := range a.byIP {
		other := b.Owners(addr)
		if len(other) != len(owners) {
			t.Errorf("%s: %v vs %v", addr, owners, other)
			continue
		}
		for i := range owners {
			if owners[i].String() != other[i].String() || owners[i].Kind != other[i].Kind {
				t.Errorf("%s: %v vs %v", addr, owners[i], other[i])
			}
		}
	}
	for _, id := range []string{web1, bastion, app1, workerB1, workerB2} {
		if x, y := a.InstanceEgressIPs(id), b.InstanceEgressIPs(id); !reflect.DeepEqual(x, y) {
			t.Errorf("%s egress %v vs %v", id, x, y)
		}
	}

	l := NewLoader(Config{})
	if err := l.AddPath("testdata/estate/account-a"); err != nil {
		t.Fatal(err)
	}
	first := l.Inventory()
	n := len(first.Interfaces())
	if err := l.AddPath("testdata/estate/account-b"); err != nil {
		t.Fatal(err)
	}
	second := l.Inventory()
	if len(first.Interfaces()) != n || len(second.Interfaces()) <= n {
		t.Errorf("building again changed the first inventory: %d, %d, %d", n, len(first.Interfaces()), len(second.Interfaces()))
	}
	e1, _ := first.Interface(eniNATA)
	e2, _ := second.Interface(eniNATA)
	if e1 == e2 {
		t.Error("two builds share an ENI")
	}
}
