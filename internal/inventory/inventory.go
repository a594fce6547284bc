package inventory

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Kind is what owns an address or an ENI.
type Kind string

// The kinds of owner. The names are stable: they appear in findings and messages.
const (
	KindInstance     Kind = "instance"
	KindInterface    Kind = "interface" // an ENI of no more specific kind (Lambda, EFS, detached…)
	KindNATGateway   Kind = "nat-gateway"
	KindEIP          Kind = "eip" // an Elastic IP whose holder is not in the inventory (or none)
	KindLoadBalancer Kind = "load-balancer"
	KindVPCEndpoint  Kind = "vpc-endpoint"
)

// Owner says who holds an address. Kind is the most specific answer: an address on
// an ENI attached to an instance is owned by KindInstance, and an Elastic IP
// associated with a known ENI or instance is owned by that ENI's or instance's kind
// (EIP is then set as well); KindEIP means only the Elastic IP itself is known.
type Owner struct {
	Kind Kind
	// Addr is the address looked up; Public is true when it is a public address of
	// the owner (auto-assigned public IPv4, Elastic IP, NAT gateway public IP, or a
	// global IPv6 address), false when it is a private one.
	Addr   netip.Addr
	Public bool

	Instance   *Instance   // set when Kind is KindInstance
	Interface  *Interface  // the ENI that holds the address, when known
	NATGateway *NATGateway // set when Kind is KindNATGateway
	EIP        *Address    // set when the address is an Elastic IP
}

// VPCID returns the VPC of the owner ("" if unknown, as for an unassociated EIP).
func (o Owner) VPCID() string {
	switch {
	case o.Interface != nil && o.Interface.VPCID != "":
		return o.Interface.VPCID
	case o.Instance != nil && o.Instance.VPCID != "":
		return o.Instance.VPCID
	case o.NATGateway != nil:
		return o.NATGateway.VPCID
	}
	return ""
}

// SubnetID returns the subnet of the owner ("" if unknown).
func (o Owner) SubnetID() string {
	switch {
	case o.Interface != nil && o.Interface.SubnetID != "":
		return o.Interface.SubnetID
	case o.Instance != nil && o.Instance.SubnetID != "":
		return o.Instance.SubnetID
	case o.NATGateway != nil:
		return o.NATGateway.SubnetID
	}
	return ""
}

// ID returns the id that names the owner: the instance, NAT gateway, ENI or
// allocation id, following Kind.
func (o Owner) ID() string {
	switch {
	case o.Kind == KindInstance && o.Instance != nil:
		return o.Instance.ID
	case o.Kind == KindNATGateway && o.NATGateway != nil:
		return o.NATGateway.ID
	case o.Interface != nil:
		return o.Interface.ID
	case o.EIP != nil:
		if o.EIP.AllocationID != "" {
			return o.EIP.AllocationID
		}
		return o.EIP.PublicIP.String()
	}
	return ""
}

// Name returns the owner's Name tag; for an ENI without one, its description, which
// for service-managed ENIs names the service ("ELB net/public-nlb/50dc6c495c0c9188",
// "VPC Endpoint Interface vpce-…"); "" if neither.
func (o Owner) Name() string {
	switch {
	case o.Kind == KindInstance && o.Instance != nil:
		return o.Instance.Name()
	case o.Kind == KindNATGateway && o.NATGateway != nil:
		return o.NATGateway.Name()
	case o.Interface != nil:
		if n := o.Interface.Name(); n != "" {
			return n
		}
		return o.Interface.Description
	case o.EIP != nil:
		return o.EIP.Name()
	}
	return ""
}

// String renders the owner for a message: "instance i-0abc (web-1) eni-0123 vpc-…".
// Names come from tags, which users control: the caller escapes for its medium.
func (o Owner) String() string {
	var b strings.Builder
	b.WriteString(string(o.Kind))
	if id := o.ID(); id != "" {
		b.WriteString(" ")
		b.WriteString(id)
	}
	if n := o.Name(); n != "" {
		fmt.Fprintf(&b, " (%s)", n)
	}
	if o.Interface != nil && o.Interface.ID != o.ID() {
		b.WriteString(" ")
		b.WriteString(o.Interface.ID)
	}
	if v := o.VPCID(); v != "" {
		b.WriteString(" ")
		b.WriteString(v)
	}
	return b.String()
}

// kindOf derives the Kind from what the owner holds.
func (o Owner) kindOf() Kind {
	switch {
	case o.Instance != nil:
		return KindInstance
	case o.Interface != nil:
		return o.Interface.Kind()
	case o.NATGateway != nil:
		return KindNATGateway
	}
	return KindEIP
}

// same reports whether two owner entries for one address are one resource seen
// through different descriptions (the instance and its ENI, the NAT gateway and its
// ENI, the EIP and its association).
func (o Owner) same(p Owner) bool {
	switch {
	case o.Interface != nil && p.Interface != nil:
		return o.Interface == p.Interface
	case o.Instance != nil && o.Instance == p.Instance:
		return true
	case o.NATGateway != nil && o.NATGateway == p.NATGateway:
		return true
	case o.EIP != nil && o.EIP == p.EIP:
		return true
	}
	return false
}

// Inventory is the merged description of the estate, indexed for lookups. Build it
// with Load or a Loader. It is immutable and safe for concurrent use. A nil
// *Inventory is an empty one, so that a component given no inventory needs no
// special case: every lookup finds nothing.
type Inventory struct {
	instances  map[string]*Instance
	interfaces map[string]*Interface
	nats       map[string]*NATGateway
	addresses  []*Address // sorted by public IP, then allocation id

	byIP      map[netip.Addr][]Owner // every address, private and public
	public    map[netip.Addr]struct{}
	natsByVPC map[string][]*NATGateway // egress-capable gateways only
}

// ByIP returns the owner of an address, private or public, IPv4 or IPv6 (an
// IPv4-mapped IPv6 address is looked up as IPv4). It returns false when no resource
// holds the address, and also when more than one does: private ranges overlap
// between VPCs (every default VPC is 172.31.0.0/16), and blaming the wrong instance
// is worse than blaming none. Use ByIPInVPC when the VPC is known (flow logs v3+
// carry it), Interface when the ENI is known, or Owners to see every candidate.
func (inv *Inventory) ByIP(ip netip.Addr) (Owner, bool) {
	if inv == nil {
		return Owner{}, false
	}
	list := inv.byIP[ip.Unmap()]
	if len(list) != 1 {
		return Owner{}, false
	}
	return list[0], true
}

// ByIPInVPC is ByIP restricted to owners in the VPC vpcID. Public addresses are
// found through the VPC of the resource that holds them; an Elastic IP that is not
// associated with a known resource has no VPC and is never found here.
func (inv *Inventory) ByIPInVPC(vpcID string, ip netip.Addr) (Owner, bool) {
	if inv == nil {
		return Owner{}, false
	}
	var found Owner
	n := 0
	for _, o := range inv.byIP[ip.Unmap()] {
		if o.VPCID() == vpcID {
			found = o
			n++
		}
	}
	return found, n == 1
}

// Owners returns every resource that holds the address, in a deterministic order
// (ENIs by id first, then instances, NAT gateways and Elastic IPs known only from
// their own descriptions). More than one means overlapping private ranges, or
// snapshots taken at different times.
func (inv *Inventory) Owners(ip netip.Addr) []Owner {
	if inv == nil {
		return nil
	}
	return slices.Clone(inv.byIP[ip.Unmap()])
}

// Interface returns the ENI with the given id.
func (inv *Inventory) Interface(eniID string) (*Interface, bool) {
	if inv == nil {
		return nil, false
	}
	e, ok := inv.interfaces[eniID]
	return e, ok
}

// Instance returns the instance with the given id (possibly a Stub).
func (inv *Inventory) Instance(id string) (*Instance, bool) {
	if inv == nil {
		return nil, false
	}
	in, ok := inv.instances[id]
	return in, ok
}

// NATGateway returns the NAT gateway with the given id.
func (inv *Inventory) NATGateway(id string) (*NATGateway, bool) {
	if inv == nil {
		return nil, false
	}
	n, ok := inv.nats[id]
	return n, ok
}

// NATGateways returns every NAT gateway, sorted by id.
func (inv *Inventory) NATGateways() []*NATGateway {
	if inv == nil {
		return nil
	}
	return sortedValues(inv.nats, natID)
}

// Instances returns every instance, sorted by id.
func (inv *Inventory) Instances() []*Instance {
	if inv == nil {
		return nil
	}
	return sortedValues(inv.instances, instanceID)
}

// Interfaces returns every ENI, sorted by id.
func (inv *Inventory) Interfaces() []*Interface {
	if inv == nil {
		return nil
	}
	return sortedValues(inv.interfaces, interfaceID)
}

// Addresses returns every Elastic IP, sorted by address.
func (inv *Inventory) Addresses() []*Address {
	if inv == nil {
		return nil
	}
	return slices.Clone(inv.addresses)
}

// NATByPrivateIP returns the NAT gateway whose private address is ip: the address
// flow logs show as the source of everything the gateway translated. It returns false
// when no gateway, or more than one (overlapping VPCs), has that address.
func (inv *Inventory) NATByPrivateIP(ip netip.Addr) (*NATGateway, bool) {
	if inv == nil {
		return nil, false
	}
	var found *NATGateway
	for _, o := range inv.byIP[ip.Unmap()] {
		if o.Public || o.NATGateway == nil || o.Kind != KindNATGateway {
			continue
		}
		if found != nil && found != o.NATGateway {
			return nil, false
		}
		found = o.NATGateway
	}
	return found, found != nil
}

// IsOwnPublicIP reports whether ip is one of the estate's own public addresses:
// instances' public IPv4 addresses, Elastic IPs (associated or not), NAT gateways'
// public addresses, public addresses of load-balancer and other ENIs, and global
// unicast IPv6 addresses of any ENI (unique local fc00::/7 ones are private). An
// address held in any loaded snapshot counts. Responders must never block these, and
// an API call from one of them comes from inside the estate.
func (inv *Inventory) IsOwnPublicIP(ip netip.Addr) bool {
	if inv == nil {
		return false
	}
	_, ok := inv.public[ip.Unmap()]
	return ok
}

// InstanceEgressIPs returns the addresses the internet may see the instance's
// traffic come from, sorted: its own public IPv4 addresses (auto-assigned or Elastic
// IPs, on any ENI), its global IPv6 addresses (IPv6 to IPv6 destinations leaves
// through an internet or egress-only gateway with the instance's own address), and,
// when it has no public IPv4 address, the public addresses of every egress-capable
// NAT gateway in its VPC(s) (which also covers NAT64 from IPv6-only instances).
//
// The NAT part approximates AWS: the real path is decided by the subnet's route
// table, which describe-* outputs do not include. An instance without a public IPv4
// address in a VPC with a public NAT gateway almost always reaches the internet
// through one; with several gateways (one per zone is common), all of them are
// returned, so the answer is a superset. It is wrong when the subnet routes to a
// NAT gateway of another VPC through a transit gateway, to a NAT instance, or to no
// internet route at all. It returns nil for an unknown instance.
func (inv *Inventory) InstanceEgressIPs(instanceID string) []netip.Addr {
	if inv == nil {
		return nil
	}
	in, ok := inv.instances[instanceID]
	if !ok {
		return nil
	}
	out := in.PublicIPs()
	for _, a := range inv.addresses {
		if a.Instance == in {
			out = append(out, a.PublicIP)
		}
	}
	hasV4 := len(out) > 0
	vpcs := []string{in.VPCID}
	if in.IPv6.IsValid() && isPublicV6(in.IPv6) {
		out = append(out, in.IPv6)
	}
	for _, e := range in.Interfaces {
		for _, a := range e.IPv6 {
			if isPublicV6(a) {
				out = append(out, a)
			}
		}
		vpcs = append(vpcs, e.VPCID)
	}
	if !hasV4 {
		slices.Sort(vpcs)
		for _, v := range slices.Compact(vpcs) {
			if v == "" {
				continue
			}
			for _, n := range inv.natsByVPC[v] {
				out = append(out, n.PublicIPs()...)
			}
		}
	}
	return sortAddrs(out)
}

// isPublicV6 reports whether an IPv6 address is globally routable as far as the
// estate is concerned: global unicast and not unique-local (fc00::/7, which VPCs can
// use as private IPv6).
func isPublicV6(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && a.IsGlobalUnicast() && !a.IsPrivate()
}

func natID(n *NATGateway) string      { return n.ID }
func instanceID(i *Instance) string   { return i.ID }
func interfaceID(e *Interface) string { return e.ID }

// sortedValues returns the map's values sorted by their id.
func sortedValues[T any](m map[string]*T, id func(*T) string) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *T) int { return strings.Compare(id(a), id(b)) })
	return out
}
