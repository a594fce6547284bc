package inventory

import (
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Tag is one AWS resource tag.
type Tag struct {
	Key   string
	Value string
}

// Tags is a resource's tag set, sorted by key (AWS tag keys are unique per resource),
// so that output built from it is deterministic.
type Tags []Tag

// Get returns the value of the tag key (case-sensitive, as in AWS).
func (t Tags) Get(key string) (string, bool) {
	i := sort.Search(len(t), func(i int) bool { return t[i].Key >= key })
	if i < len(t) && t[i].Key == key {
		return t[i].Value, true
	}
	return "", false
}

// Name returns the value of the "Name" tag, the name the AWS console shows; "" if none.
func (t Tags) Name() string {
	v, _ := t.Get("Name")
	return v
}

// newTags builds a sorted tag set; a key given twice keeps its last value.
func newTags(raw []rawTag) Tags {
	if len(raw) == 0 {
		return nil
	}
	t := make(Tags, 0, len(raw))
	for _, r := range raw {
		t = append(t, Tag(r))
	}
	sort.SliceStable(t, func(i, j int) bool { return t[i].Key < t[j].Key })
	out := t[:0]
	for i, tg := range t {
		if i+1 < len(t) && t[i+1].Key == tg.Key {
			continue
		}
		out = append(out, tg)
	}
	return out
}

// SecurityGroup is a security group attached to an instance or ENI.
type SecurityGroup struct {
	ID   string
	Name string
}

// IAMInstanceProfile is the instance profile an instance runs with.
type IAMInstanceProfile struct {
	ARN string
	ID  string
}

// ProductCode is an AWS Marketplace or devpay product code of an instance.
type ProductCode struct {
	ID   string
	Type string
}

// Instance is an EC2 instance, as describe-instances reports it.
type Instance struct {
	ID               string
	OwnerID          string // account id, from the reservation
	ReservationID    string
	ImageID          string // AMI
	InstanceType     string
	State            string // pending, running, stopping, stopped, shutting-down, terminated
	LaunchTime       time.Time
	AvailabilityZone string
	SubnetID         string
	VPCID            string
	// PrivateIP, PublicIP and IPv6 are the instance-level fields, which AWS copies from
	// the primary ENI. Interfaces holds the full picture.
	PrivateIP          netip.Addr
	PrivateDNSName     string
	PublicIP           netip.Addr
	PublicDNSName      string
	IPv6               netip.Addr
	SecurityGroups     []SecurityGroup
	Tags               Tags
	IAMInstanceProfile *IAMInstanceProfile
	Platform           string // "windows", or "" for Linux/UNIX (as AWS reports it)
	PlatformDetails    string // "Linux/UNIX", "Windows", "Red Hat Enterprise Linux"…
	OutpostARN         string
	ProductCodes       []ProductCode

	// Interfaces are the ENIs attached to the instance, primary (device index 0) first.
	Interfaces []*Interface

	// Stub is true when no file described the instance itself: it is known only
	// because an ENI's attachment or an EIP's association names it. A stub carries
	// the id and what the referrer knew (VPC, subnet, zone, owner).
	Stub bool
	// Sources are the files that described the instance (or its referrers, for a stub).
	Sources []string
}

// Name returns the instance's Name tag.
func (in *Instance) Name() string { return in.Tags.Name() }

// Region returns the region, derived from the availability zone; "" if unknown.
func (in *Instance) Region() string { return regionOf(in.AvailabilityZone) }

// PublicIPs returns every public address of the instance: the public IPv4 address
// of each private address of each ENI (auto-assigned or Elastic IP) and the
// instance-level public IP, sorted, without duplicates. It does not include IPv6
// addresses; see InstanceEgressIPs for everything the internet may see.
func (in *Instance) PublicIPs() []netip.Addr {
	var out []netip.Addr
	if in.PublicIP.IsValid() {
		out = append(out, in.PublicIP)
	}
	for _, e := range in.Interfaces {
		out = append(out, e.PublicIPs()...)
	}
	return sortAddrs(out)
}

// PrivateIPs returns every private address of the instance (IPv4 from all its ENIs
// and the instance-level field), sorted, without duplicates.
func (in *Instance) PrivateIPs() []netip.Addr {
	var out []netip.Addr
	if in.PrivateIP.IsValid() {
		out = append(out, in.PrivateIP)
	}
	for _, e := range in.Interfaces {
		for _, p := range e.PrivateIPs {
			out = append(out, p.Addr)
		}
	}
	return sortAddrs(out)
}

// Interface is an elastic network interface (ENI), from describe-network-interfaces,
// from the NetworkInterfaces of describe-instances, or both merged.
type Interface struct {
	ID string
	// Type is AWS's InterfaceType as printed: "interface", "nat_gateway",
	// "network_load_balancer", "vpc_endpoint", "lambda", "efa", "trunk"… It is empty
	// when the ENI is known only from describe-instances, which does not print it.
	Type             string
	Description      string
	OwnerID          string
	Status           string // in-use, available…
	RequesterManaged bool   // created by an AWS service (NAT gateway, ELB, endpoint…)
	RequesterID      string // "amazon-elb", an account or principal id…
	AvailabilityZone string
	SubnetID         string
	VPCID            string
	MACAddress       string
	PrivateDNSName   string
	// PrivateIPs are the ENI's private IPv4 addresses, primary first, each with the
	// public address associated with it, if any.
	PrivateIPs     []PrivateIP
	IPv6           []netip.Addr
	SecurityGroups []SecurityGroup
	Tags           Tags
	// InstanceID is the instance the ENI is attached to ("" if none, as for NAT
	// gateway and load-balancer ENIs); InstanceOwnerID is that instance's account, or
	// the service ("amazon-elb", "amazon-aws") for requester-managed attachments.
	InstanceID      string
	InstanceOwnerID string
	DeviceIndex     int // attachment device index; -1 if unknown or not attached

	// Instance and NATGateway are the resources the ENI belongs to, when known.
	Instance   *Instance   `json:"-"`
	NATGateway *NATGateway `json:"-"`

	// Stub is true when no file described the ENI itself: it is known only from a
	// NAT gateway's address list.
	Stub    bool
	Sources []string
}

// PrivateIP is one private IPv4 address of an ENI and its public association.
type PrivateIP struct {
	Addr           netip.Addr
	Primary        bool
	PrivateDNSName string
	PublicIP       netip.Addr // invalid when no public address is associated
	PublicDNSName  string
	// IPOwnerID is "amazon" for an auto-assigned public IP, else the account that owns
	// the Elastic IP.
	IPOwnerID    string
	AllocationID string // the Elastic IP's allocation, when known
}

// Name returns the ENI's Name tag.
func (e *Interface) Name() string { return e.Tags.Name() }

// Region returns the region, derived from the availability zone; "" if unknown.
func (e *Interface) Region() string { return regionOf(e.AvailabilityZone) }

// PrimaryPrivateIP returns the primary private IPv4 address (invalid if unknown).
func (e *Interface) PrimaryPrivateIP() netip.Addr {
	for _, p := range e.PrivateIPs {
		if p.Primary {
			return p.Addr
		}
	}
	if len(e.PrivateIPs) > 0 {
		return e.PrivateIPs[0].Addr
	}
	return netip.Addr{}
}

// PublicIPs returns the public IPv4 addresses associated with the ENI's private
// addresses, sorted, without duplicates.
func (e *Interface) PublicIPs() []netip.Addr {
	var out []netip.Addr
	for _, p := range e.PrivateIPs {
		if p.PublicIP.IsValid() {
			out = append(out, p.PublicIP)
		}
	}
	return sortAddrs(out)
}

// Kind says what the ENI belongs to. An ENI attached to an instance is KindInstance
// whatever its type. Otherwise the InterfaceType decides, with the description as a
// fallback because describe-instances and older outputs omit the type and because
// application and classic load balancers use plain "interface" ENIs described
// "ELB app/…" or "ELB name": NAT gateway ENIs are KindNATGateway; network, gateway,
// application and classic load balancers' are KindLoadBalancer; interface and gateway
// load-balancer endpoints' are KindVPCEndpoint; every other ENI (Lambda, EFS, a
// detached "interface"…) is KindInterface, and Type says more.
func (e *Interface) Kind() Kind {
	if e.InstanceID != "" {
		return KindInstance
	}
	if e.NATGateway != nil {
		return KindNATGateway
	}
	switch normType(e.Type) {
	case "natgateway":
		return KindNATGateway
	case "networkloadbalancer", "loadbalancer", "gatewayloadbalancer":
		return KindLoadBalancer
	case "vpcendpoint", "gatewayloadbalancerendpoint":
		return KindVPCEndpoint
	}
	switch {
	case natIDFromDescription(e.Description) != "":
		return KindNATGateway
	case strings.HasPrefix(e.Description, "ELB ") && (e.RequesterManaged || e.RequesterID == "amazon-elb" || e.Type == ""):
		return KindLoadBalancer
	case strings.HasPrefix(e.Description, "VPC Endpoint Interface "):
		return KindVPCEndpoint
	}
	return KindInterface
}

// normType folds the spellings AWS uses for one InterfaceType ("nat_gateway" in CLI
// output, "natGateway" in the API enum) to one key.
func normType(t string) string {
	t = strings.ToLower(t)
	t = strings.ReplaceAll(t, "_", "")
	return strings.ReplaceAll(t, "-", "")
}

// natIDFromDescription returns the NAT gateway id from the description AWS gives a
// NAT gateway's ENI, "Interface for NAT Gateway nat-…"; "" if it is not one.
func natIDFromDescription(d string) string {
	const p = "Interface for NAT Gateway "
	if !strings.HasPrefix(d, p) {
		return ""
	}
	id := strings.TrimSpace(d[len(p):])
	if !strings.HasPrefix(id, "nat-") || strings.ContainsAny(id, " \t") {
		return ""
	}
	return id
}

// NATGateway is a NAT gateway, as describe-nat-gateways reports it.
type NATGateway struct {
	ID               string
	State            string // pending, available, deleting, deleted, failed
	ConnectivityType string // "public" (egress to the internet) or "private"
	SubnetID         string
	VPCID            string
	CreateTime       time.Time
	Tags             Tags
	Addresses        []NATAddress
	// Interfaces are the gateway's ENIs (one in practice), described or stubbed.
	Interfaces []*Interface
	Sources    []string
}

// NATAddress is one address pair of a NAT gateway.
type NATAddress struct {
	AllocationID string
	InterfaceID  string
	PrivateIP    netip.Addr
	PublicIP     netip.Addr // invalid for a private NAT gateway
	Primary      bool
	Status       string // assigning, succeeded, failed…
}

// Name returns the gateway's Name tag.
func (n *NATGateway) Name() string { return n.Tags.Name() }

// PublicIPs returns the gateway's public addresses, sorted: what the internet (and an
// abuse report) sees for every host behind it.
func (n *NATGateway) PublicIPs() []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Addresses {
		if a.PublicIP.IsValid() {
			out = append(out, a.PublicIP)
		}
	}
	return sortAddrs(out)
}

// PrivateIPs returns the gateway's private addresses, sorted: the source address
// flow logs record for translated traffic on the gateway's own ENI.
func (n *NATGateway) PrivateIPs() []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Addresses {
		if a.PrivateIP.IsValid() {
			out = append(out, a.PrivateIP)
		}
	}
	return sortAddrs(out)
}

// egress reports whether the gateway can carry traffic to the internet: a public
// gateway that has not been deleted or failed. A "deleting" or "pending" gateway is
// kept, because the snapshot may be older or newer than the logs being read.
func (n *NATGateway) egress() bool {
	switch n.State {
	case "deleted", "failed":
		return false
	}
	return n.ConnectivityType != "private"
}

// Address is an Elastic IP, as describe-addresses reports it.
type Address struct {
	PublicIP           netip.Addr
	AllocationID       string
	AssociationID      string
	Domain             string // "vpc" (or "standard" for EC2-Classic)
	InstanceID         string
	InterfaceID        string
	InterfaceOwnerID   string
	PrivateIP          netip.Addr
	PublicIPv4Pool     string
	NetworkBorderGroup string
	Tags               Tags

	// Instance and Interface are the resources the address is associated with, when
	// known.
	Instance  *Instance  `json:"-"`
	Interface *Interface `json:"-"`
	Sources   []string
}

// Name returns the address's Name tag.
func (a *Address) Name() string { return a.Tags.Name() }

// key identifies an Elastic IP across files: its address. The allocation id would
// split one EIP in two when one output prints it and another (EC2-Classic, a --query
// that trimmed it) does not, and two entries for one address would make ByIP
// ambiguous; an address is held by one allocation at a time.
func (a *Address) key() netip.Addr { return a.PublicIP }

// regionOf derives a region from an availability zone: "eu-west-1a" → "eu-west-1",
// "us-west-2-lax-1a" (Local Zone) → "us-west-2", "us-gov-west-1b" → "us-gov-west-1".
// A region name is letters-and-dashes groups ending in the first all-digit group.
func regionOf(az string) string {
	parts := strings.Split(az, "-")
	for i := 1; i < len(parts); i++ {
		p := parts[i]
		j := 0
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		if j > 0 {
			return strings.Join(parts[:i], "-") + "-" + p[:j]
		}
	}
	return ""
}

// sortAddrs sorts and deduplicates addresses in place.
func sortAddrs(a []netip.Addr) []netip.Addr {
	if len(a) == 0 {
		return nil
	}
	sort.Slice(a, func(i, j int) bool { return a[i].Less(a[j]) })
	out := a[:1]
	for _, x := range a[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
