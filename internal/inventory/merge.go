package inventory

import (
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// builder accumulates resources from any number of files, merging by id. It holds
// only what files described; stubs, links and indexes are made by build, on copies,
// so that a Loader can build again after adding more.
type builder struct {
	instances  map[string]*Instance
	interfaces map[string]*Interface
	nats       map[string]*NATGateway
	addresses  map[netip.Addr]*Address
}

func newBuilder() *builder {
	return &builder{
		instances:  make(map[string]*Instance),
		interfaces: make(map[string]*Interface),
		nats:       make(map[string]*NATGateway),
		addresses:  make(map[netip.Addr]*Address),
	}
}

func (b *builder) addInstance(x *Instance) {
	if old, ok := b.instances[x.ID]; ok {
		old.merge(x)
		return
	}
	b.instances[x.ID] = x
}

func (b *builder) addInterface(x *Interface) {
	if old, ok := b.interfaces[x.ID]; ok {
		old.merge(x)
		return
	}
	b.interfaces[x.ID] = x
}

func (b *builder) addNAT(x *NATGateway) {
	if old, ok := b.nats[x.ID]; ok {
		old.merge(x)
		return
	}
	b.nats[x.ID] = x
}

func (b *builder) addAddress(x *Address) {
	k := x.key()
	if old, ok := b.addresses[k]; ok {
		old.merge(x)
		return
	}
	b.addresses[k] = x
}

// The merge rule, for every resource: a non-empty field of the later description
// replaces the earlier one; lists that are sets of addresses are unioned; other lists
// (tags, security groups) are replaced when the later one is non-empty.

func setS(dst *string, src string) {
	if src != "" {
		*dst = src
	}
}

func setA(dst *netip.Addr, src netip.Addr) {
	if src.IsValid() {
		*dst = src
	}
}

func setT(dst *time.Time, src time.Time) {
	if !src.IsZero() {
		*dst = src
	}
}

func setL[S ~[]T, T any](dst *S, src S) {
	if len(src) > 0 {
		*dst = src
	}
}

func addSources(dst []string, src ...string) []string {
	for _, s := range src {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func (a *Instance) merge(b *Instance) {
	setS(&a.OwnerID, b.OwnerID)
	setS(&a.ReservationID, b.ReservationID)
	setS(&a.ImageID, b.ImageID)
	setS(&a.InstanceType, b.InstanceType)
	setS(&a.State, b.State)
	setT(&a.LaunchTime, b.LaunchTime)
	setS(&a.AvailabilityZone, b.AvailabilityZone)
	setS(&a.SubnetID, b.SubnetID)
	setS(&a.VPCID, b.VPCID)
	setA(&a.PrivateIP, b.PrivateIP)
	setS(&a.PrivateDNSName, b.PrivateDNSName)
	setA(&a.PublicIP, b.PublicIP)
	setS(&a.PublicDNSName, b.PublicDNSName)
	setA(&a.IPv6, b.IPv6)
	setL(&a.SecurityGroups, b.SecurityGroups)
	setL(&a.Tags, b.Tags)
	if b.IAMInstanceProfile != nil {
		a.IAMInstanceProfile = b.IAMInstanceProfile
	}
	setS(&a.Platform, b.Platform)
	setS(&a.PlatformDetails, b.PlatformDetails)
	setS(&a.OutpostARN, b.OutpostARN)
	setL(&a.ProductCodes, b.ProductCodes)
	a.Sources = addSources(a.Sources, b.Sources...)
}

func (a *Interface) merge(b *Interface) {
	setS(&a.Type, b.Type)
	setS(&a.Description, b.Description)
	setS(&a.OwnerID, b.OwnerID)
	setS(&a.Status, b.Status)
	a.RequesterManaged = a.RequesterManaged || b.RequesterManaged
	setS(&a.RequesterID, b.RequesterID)
	setS(&a.AvailabilityZone, b.AvailabilityZone)
	setS(&a.SubnetID, b.SubnetID)
	setS(&a.VPCID, b.VPCID)
	setS(&a.MACAddress, b.MACAddress)
	setS(&a.PrivateDNSName, b.PrivateDNSName)
	for _, p := range b.PrivateIPs {
		a.upsertPrivateIP(p, true)
	}
	for _, x := range b.IPv6 {
		if !slices.Contains(a.IPv6, x) {
			a.IPv6 = append(a.IPv6, x)
		}
	}
	setL(&a.SecurityGroups, b.SecurityGroups)
	setL(&a.Tags, b.Tags)
	setS(&a.InstanceID, b.InstanceID)
	setS(&a.InstanceOwnerID, b.InstanceOwnerID)
	if b.DeviceIndex >= 0 {
		a.DeviceIndex = b.DeviceIndex
	}
	a.Sources = addSources(a.Sources, b.Sources...)
}

// upsertPrivateIP adds p to the ENI's private addresses or merges it into the entry
// for the same address. With override, p's non-empty fields win (a later file);
// without, they only fill gaps (facts derived from a NAT gateway or an EIP, which
// must not contradict what the ENI's own description says).
func (a *Interface) upsertPrivateIP(p PrivateIP, override bool) {
	for i := range a.PrivateIPs {
		q := &a.PrivateIPs[i]
		if q.Addr != p.Addr {
			continue
		}
		q.Primary = q.Primary || p.Primary
		if override {
			setS(&q.PrivateDNSName, p.PrivateDNSName)
			setA(&q.PublicIP, p.PublicIP)
			setS(&q.PublicDNSName, p.PublicDNSName)
			setS(&q.IPOwnerID, p.IPOwnerID)
			setS(&q.AllocationID, p.AllocationID)
			return
		}
		fill(&q.PrivateDNSName, p.PrivateDNSName)
		if !q.PublicIP.IsValid() {
			q.PublicIP = p.PublicIP
		}
		fill(&q.PublicDNSName, p.PublicDNSName)
		fill(&q.IPOwnerID, p.IPOwnerID)
		if q.PublicIP == p.PublicIP {
			fill(&q.AllocationID, p.AllocationID)
		}
		return
	}
	a.PrivateIPs = append(a.PrivateIPs, p)
}

func fill(dst *string, src string) {
	if *dst == "" {
		*dst = src
	}
}

func (a *NATGateway) merge(b *NATGateway) {
	setS(&a.State, b.State)
	setS(&a.ConnectivityType, b.ConnectivityType)
	setS(&a.SubnetID, b.SubnetID)
	setS(&a.VPCID, b.VPCID)
	setT(&a.CreateTime, b.CreateTime)
	setL(&a.Tags, b.Tags)
	for _, x := range b.Addresses {
		i := slices.IndexFunc(a.Addresses, func(y NATAddress) bool {
			return y.PrivateIP == x.PrivateIP && y.PublicIP == x.PublicIP
		})
		if i < 0 {
			a.Addresses = append(a.Addresses, x)
			continue
		}
		y := &a.Addresses[i]
		setS(&y.AllocationID, x.AllocationID)
		setS(&y.InterfaceID, x.InterfaceID)
		y.Primary = y.Primary || x.Primary
		setS(&y.Status, x.Status)
	}
	a.Sources = addSources(a.Sources, b.Sources...)
}

func (a *Address) merge(b *Address) {
	setS(&a.AllocationID, b.AllocationID)
	setS(&a.AssociationID, b.AssociationID)
	setS(&a.Domain, b.Domain)
	setS(&a.InstanceID, b.InstanceID)
	setS(&a.InterfaceID, b.InterfaceID)
	setS(&a.InterfaceOwnerID, b.InterfaceOwnerID)
	setA(&a.PrivateIP, b.PrivateIP)
	setS(&a.PublicIPv4Pool, b.PublicIPv4Pool)
	setS(&a.NetworkBorderGroup, b.NetworkBorderGroup)
	setL(&a.Tags, b.Tags)
	a.Sources = addSources(a.Sources, b.Sources...)
}

// Copies, so that build never changes what the builder holds. Slices that build
// appends to or edits in place are cloned; the rest are replaced, never edited.

func (a *Instance) clone() *Instance {
	c := *a
	c.Interfaces = nil
	c.Sources = slices.Clone(a.Sources)
	return &c
}

func (a *Interface) clone() *Interface {
	c := *a
	c.PrivateIPs = slices.Clone(a.PrivateIPs)
	c.IPv6 = slices.Clone(a.IPv6)
	c.Instance, c.NATGateway = nil, nil
	c.Sources = slices.Clone(a.Sources)
	return &c
}

func (a *NATGateway) clone() *NATGateway {
	c := *a
	c.Addresses = slices.Clone(a.Addresses)
	c.Interfaces = nil
	c.Sources = slices.Clone(a.Sources)
	return &c
}

func (a *Address) clone() *Address {
	c := *a
	c.Instance, c.Interface = nil, nil
	c.Sources = slices.Clone(a.Sources)
	return &c
}

// build makes the Inventory: copies what was described, creates stubs for resources
// known only by reference, links resources to each other, and indexes every address.
// Everything is visited in id order so that the result does not depend on map order.
func (b *builder) build() *Inventory {
	inv := &Inventory{
		instances:  make(map[string]*Instance, len(b.instances)),
		interfaces: make(map[string]*Interface, len(b.interfaces)),
		nats:       make(map[string]*NATGateway, len(b.nats)),
		byIP:       make(map[netip.Addr][]Owner),
		public:     make(map[netip.Addr]struct{}),
		natsByVPC:  make(map[string][]*NATGateway),
	}
	for id, x := range b.instances {
		inv.instances[id] = x.clone()
	}
	for id, x := range b.interfaces {
		inv.interfaces[id] = x.clone()
	}
	for id, x := range b.nats {
		inv.nats[id] = x.clone()
	}
	for _, x := range b.addresses {
		inv.addresses = append(inv.addresses, x.clone())
	}
	sort.Slice(inv.addresses, func(i, j int) bool {
		a, c := inv.addresses[i], inv.addresses[j]
		if a.PublicIP != c.PublicIP {
			return a.PublicIP.Less(c.PublicIP)
		}
		return a.AllocationID < c.AllocationID
	})

	// NAT gateways → their ENIs. describe-nat-gateways names each address's ENI; when
	// describe-network-interfaces was not given, the ENI is stubbed so that a flow
	// log's interface-id still resolves to the gateway.
	for _, n := range inv.NATGateways() {
		for _, a := range n.Addresses {
			if a.InterfaceID == "" {
				continue
			}
			e, ok := inv.interfaces[a.InterfaceID]
			if !ok {
				e = &Interface{
					ID:               a.InterfaceID,
					Type:             "nat_gateway",
					Description:      "Interface for NAT Gateway " + n.ID,
					RequesterManaged: true,
					SubnetID:         n.SubnetID,
					VPCID:            n.VPCID,
					DeviceIndex:      -1,
					Stub:             true,
					Sources:          slices.Clone(n.Sources),
				}
				inv.interfaces[e.ID] = e
			}
			linkNAT(n, e)
			if a.PrivateIP.IsValid() {
				e.upsertPrivateIP(PrivateIP{Addr: a.PrivateIP, Primary: a.Primary, PublicIP: a.PublicIP, AllocationID: a.AllocationID}, false)
			}
		}
	}
	// ENIs that describe themselves as a NAT gateway's, when the gateway is known but
	// its address list did not name them (an older snapshot).
	for _, e := range inv.Interfaces() {
		if e.NATGateway != nil {
			continue
		}
		if n, ok := inv.nats[natIDFromDescription(e.Description)]; ok {
			linkNAT(n, e)
		}
	}

	// ENIs → instances, stubbing instances known only from an attachment.
	for _, e := range inv.Interfaces() {
		if e.InstanceID == "" {
			continue
		}
		in, ok := inv.instances[e.InstanceID]
		if !ok {
			in = &Instance{
				ID:               e.InstanceID,
				OwnerID:          e.InstanceOwnerID,
				AvailabilityZone: e.AvailabilityZone,
				SubnetID:         e.SubnetID,
				VPCID:            e.VPCID,
				Stub:             true,
				Sources:          slices.Clone(e.Sources),
			}
			inv.instances[in.ID] = in
		}
		e.Instance = in
		in.Interfaces = append(in.Interfaces, e)
	}

	// Elastic IPs → the ENI or instance they are associated with.
	for _, a := range inv.addresses {
		if e, ok := inv.interfaces[a.InterfaceID]; ok && a.InterfaceID != "" {
			a.Interface = e
			a.Instance = e.Instance
			if a.PrivateIP.IsValid() {
				e.upsertPrivateIP(PrivateIP{Addr: a.PrivateIP, PublicIP: a.PublicIP, IPOwnerID: a.InterfaceOwnerID, AllocationID: a.AllocationID}, false)
			}
		}
		if a.Instance == nil && a.InstanceID != "" {
			in, ok := inv.instances[a.InstanceID]
			if !ok {
				in = &Instance{ID: a.InstanceID, OwnerID: a.InterfaceOwnerID, Stub: true, Sources: slices.Clone(a.Sources)}
				inv.instances[in.ID] = in
			}
			a.Instance = in
		}
	}

	for _, in := range inv.instances {
		sort.Slice(in.Interfaces, func(i, j int) bool {
			a, c := in.Interfaces[i], in.Interfaces[j]
			if (a.DeviceIndex < 0) != (c.DeviceIndex < 0) {
				return a.DeviceIndex >= 0
			}
			if a.DeviceIndex != c.DeviceIndex {
				return a.DeviceIndex < c.DeviceIndex
			}
			return a.ID < c.ID
		})
	}
	for _, e := range inv.interfaces {
		sortPrivateIPs(e.PrivateIPs)
		e.IPv6 = sortAddrs(e.IPv6)
	}
	for _, n := range inv.nats {
		sort.SliceStable(n.Addresses, func(i, j int) bool {
			a, c := n.Addresses[i], n.Addresses[j]
			if a.Primary != c.Primary {
				return a.Primary
			}
			return a.PrivateIP.Less(c.PrivateIP)
		})
		if n.egress() && n.VPCID != "" {
			inv.natsByVPC[n.VPCID] = append(inv.natsByVPC[n.VPCID], n)
		}
	}
	for _, ns := range inv.natsByVPC {
		slices.SortFunc(ns, func(a, c *NATGateway) int { return strings.Compare(a.ID, c.ID) })
	}

	inv.index()
	return inv
}

func linkNAT(n *NATGateway, e *Interface) {
	e.NATGateway = n
	if !slices.Contains(n.Interfaces, e) {
		n.Interfaces = append(n.Interfaces, e)
	}
}

// sortPrivateIPs puts the primary address first, then the rest in address order.
func sortPrivateIPs(p []PrivateIP) {
	sort.SliceStable(p, func(i, j int) bool {
		if p[i].Primary != p[j].Primary {
			return p[i].Primary
		}
		return p[i].Addr.Less(p[j].Addr)
	})
}

// index fills byIP and public from the linked resources.
func (inv *Inventory) index() {
	for _, e := range inv.Interfaces() {
		o := Owner{Interface: e, Instance: e.Instance, NATGateway: e.NATGateway}
		for _, p := range e.PrivateIPs {
			inv.add(p.Addr, o, false)
			inv.add(p.PublicIP, o, true)
		}
		for _, a := range e.IPv6 {
			inv.add(a, o, isPublicV6(a))
		}
	}
	// Instance-level fields: they repeat the primary ENI's, and matter when the ENIs
	// were trimmed from the output (--query) or the instance has none (terminated).
	for _, in := range inv.Instances() {
		o := Owner{Instance: in}
		inv.add(in.PrivateIP, o, false)
		inv.add(in.PublicIP, o, true)
		inv.add(in.IPv6, o, isPublicV6(in.IPv6))
	}
	for _, n := range inv.NATGateways() {
		o := Owner{NATGateway: n}
		for _, a := range n.Addresses {
			if e, ok := inv.interfaces[a.InterfaceID]; ok {
				o.Interface = e
			}
			inv.add(a.PrivateIP, o, false)
			inv.add(a.PublicIP, o, true)
			o.Interface = nil
		}
	}
	for _, a := range inv.addresses {
		o := Owner{EIP: a, Interface: a.Interface, Instance: a.Instance}
		if a.Interface != nil {
			o.NATGateway = a.Interface.NATGateway
		}
		inv.add(a.PublicIP, o, true)
		// The private side of the association belongs to the ENI or instance; with
		// neither known, the private address of an unknown ENI is not indexed.
		if a.Interface != nil || a.Instance != nil {
			o.EIP = nil
			inv.add(a.PrivateIP, o, false)
		}
	}
}

// add records that o holds ip, merging with an entry for the same resource.
func (inv *Inventory) add(ip netip.Addr, o Owner, public bool) {
	if !ip.IsValid() {
		return
	}
	ip = ip.Unmap()
	o.Addr, o.Public = ip, public
	if public {
		inv.public[ip] = struct{}{}
	}
	list := inv.byIP[ip]
	for i := range list {
		q := &list[i]
		if !q.same(o) {
			continue
		}
		if q.Interface == nil {
			q.Interface = o.Interface
		}
		if q.Instance == nil {
			q.Instance = o.Instance
		}
		if q.NATGateway == nil {
			q.NATGateway = o.NATGateway
		}
		if q.EIP == nil {
			q.EIP = o.EIP
		}
		q.Public = q.Public || public
		q.Kind = q.kindOf()
		return
	}
	o.Kind = o.kindOf()
	inv.byIP[ip] = append(list, o)
}
