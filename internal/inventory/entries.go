package inventory

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// The raw shapes mirror the AWS CLI's JSON (the EC2 API's member names). Addresses
// and times stay strings here and are checked one by one, so that one bad value
// costs only that value, with a warning naming its path. Unknown keys are ignored:
// the CLI adds fields every year.

type rawTag struct {
	Key   string
	Value string
}

type rawGroup struct {
	GroupId   string
	GroupName string
}

type rawAssoc struct {
	PublicIp      string
	PublicDnsName string
	IpOwnerId     string
	AllocationId  string
}

type rawPrivateIP struct {
	PrivateIpAddress string
	PrivateDnsName   string
	Primary          bool
	Association      *rawAssoc
}

type rawIPv6 struct {
	Ipv6Address string
}

type rawAttachment struct {
	InstanceId      string
	InstanceOwnerId string
	DeviceIndex     *int
}

type rawENI struct {
	NetworkInterfaceId string
	InterfaceType      string
	Description        string
	OwnerId            string
	Status             string
	RequesterManaged   bool
	RequesterId        string
	AvailabilityZone   string
	SubnetId           string
	VpcId              string
	MacAddress         string
	PrivateIpAddress   string
	PrivateDnsName     string
	PrivateIpAddresses []rawPrivateIP
	Ipv6Addresses      []rawIPv6
	Association        *rawAssoc
	Attachment         *rawAttachment
	Groups             []rawGroup
	TagSet             []rawTag
}

type rawInstance struct {
	InstanceId   string
	ImageId      string
	InstanceType string
	LaunchTime   string
	Placement    struct {
		AvailabilityZone string
	}
	PrivateIpAddress string
	PrivateDnsName   string
	PublicIpAddress  string
	PublicDnsName    string
	Ipv6Address      string
	SubnetId         string
	VpcId            string
	State            struct {
		Name string
	}
	SecurityGroups     []rawGroup
	Tags               []rawTag
	IamInstanceProfile *struct {
		Arn string
		Id  string
	}
	Platform        string
	PlatformDetails string
	OutpostArn      string
	ProductCodes    []struct {
		ProductCodeId   string
		ProductCodeType string
	}
	// Decoded one by one, so that a bad ENI does not cost the instance.
	NetworkInterfaces []json.RawMessage
}

type rawReservation struct {
	ReservationId string
	OwnerId       string
	Instances     []json.RawMessage
}

type rawNATAddress struct {
	AllocationId       string
	NetworkInterfaceId string
	PrivateIp          string
	PublicIp           string
	IsPrimary          bool
	Status             string
}

type rawNAT struct {
	NatGatewayId        string
	NatGatewayAddresses []rawNATAddress
	SubnetId            string
	VpcId               string
	State               string
	ConnectivityType    string
	CreateTime          string
	Tags                []rawTag
}

type rawAddress struct {
	PublicIp                string
	AllocationId            string
	AssociationId           string
	Domain                  string
	InstanceId              string
	NetworkInterfaceId      string
	NetworkInterfaceOwnerId string
	PrivateIpAddress        string
	PublicIpv4Pool          string
	NetworkBorderGroup      string
	Tags                    []rawTag
}

// entry decodes one entry of a top-level array and adds it to the builder.
func (p *parser) entry(path string, kind topKind, raw json.RawMessage) {
	switch kind {
	case kindReservation:
		var r rawReservation
		if p.decode(path, raw, &r, false) != nil {
			return
		}
		for i, ri := range r.Instances {
			p.instance(fmt.Sprintf("%s.Instances[%d]", path, i), ri, r.OwnerId, r.ReservationId)
		}
	case kindInstance:
		p.instance(path, raw, "", "")
	case kindENI:
		if e := p.eni(path, raw); e != nil {
			p.l.b.addInterface(e)
		}
	case kindNAT:
		p.nat(path, raw)
	case kindAddress:
		p.address(path, raw)
	}
}

func (p *parser) instance(path string, raw json.RawMessage, owner, reservation string) {
	var r rawInstance
	if p.unmarshal(path, raw, &r) != nil {
		return
	}
	if r.InstanceId == "" {
		p.warn(path, "no InstanceId; entry skipped")
		return
	}
	in := &Instance{
		ID:               r.InstanceId,
		OwnerID:          owner,
		ReservationID:    reservation,
		ImageID:          r.ImageId,
		InstanceType:     r.InstanceType,
		State:            r.State.Name,
		LaunchTime:       p.time(path+".LaunchTime", r.LaunchTime),
		AvailabilityZone: r.Placement.AvailabilityZone,
		SubnetID:         r.SubnetId,
		VPCID:            r.VpcId,
		PrivateIP:        p.addr(path+".PrivateIpAddress", r.PrivateIpAddress),
		PrivateDNSName:   r.PrivateDnsName,
		PublicIP:         p.addr(path+".PublicIpAddress", r.PublicIpAddress),
		PublicDNSName:    r.PublicDnsName,
		IPv6:             p.addr(path+".Ipv6Address", r.Ipv6Address),
		SecurityGroups:   groups(r.SecurityGroups),
		Tags:             newTags(r.Tags),
		Platform:         r.Platform,
		PlatformDetails:  r.PlatformDetails,
		OutpostARN:       r.OutpostArn,
		Sources:          []string{p.file},
	}
	if r.IamInstanceProfile != nil && (r.IamInstanceProfile.Arn != "" || r.IamInstanceProfile.Id != "") {
		in.IAMInstanceProfile = &IAMInstanceProfile{ARN: r.IamInstanceProfile.Arn, ID: r.IamInstanceProfile.Id}
	}
	for _, pc := range r.ProductCodes {
		in.ProductCodes = append(in.ProductCodes, ProductCode{ID: pc.ProductCodeId, Type: pc.ProductCodeType})
	}
	p.l.b.addInstance(in)
	for i, rn := range r.NetworkInterfaces {
		e := p.eni(fmt.Sprintf("%s.NetworkInterfaces[%d]", path, i), rn)
		if e == nil {
			continue
		}
		// An ENI printed inside an instance is attached to it, whatever its own
		// Attachment says (describe-instances prints no InstanceId there).
		e.InstanceID = in.ID
		if e.InstanceOwnerID == "" {
			e.InstanceOwnerID = owner
		}
		if e.OwnerID == "" {
			e.OwnerID = owner
		}
		if e.AvailabilityZone == "" {
			e.AvailabilityZone = in.AvailabilityZone
		}
		p.l.b.addInterface(e)
	}
}

func (p *parser) eni(path string, raw json.RawMessage) *Interface {
	var r rawENI
	if p.unmarshal(path, raw, &r) != nil {
		return nil
	}
	if r.NetworkInterfaceId == "" {
		p.warn(path, "no NetworkInterfaceId; entry skipped")
		return nil
	}
	e := &Interface{
		ID:               r.NetworkInterfaceId,
		Type:             r.InterfaceType,
		Description:      r.Description,
		OwnerID:          r.OwnerId,
		Status:           r.Status,
		RequesterManaged: r.RequesterManaged,
		RequesterID:      r.RequesterId,
		AvailabilityZone: r.AvailabilityZone,
		SubnetID:         r.SubnetId,
		VPCID:            r.VpcId,
		MACAddress:       r.MacAddress,
		PrivateDNSName:   r.PrivateDnsName,
		SecurityGroups:   groups(r.Groups),
		Tags:             newTags(r.TagSet),
		DeviceIndex:      -1,
		Sources:          []string{p.file},
	}
	if a := r.Attachment; a != nil {
		e.InstanceID = a.InstanceId
		e.InstanceOwnerID = a.InstanceOwnerId
		if a.DeviceIndex != nil && *a.DeviceIndex >= 0 {
			e.DeviceIndex = *a.DeviceIndex
		}
	}
	for i, rp := range r.PrivateIpAddresses {
		pp := fmt.Sprintf("%s.PrivateIpAddresses[%d]", path, i)
		addr := p.addr(pp+".PrivateIpAddress", rp.PrivateIpAddress)
		if !addr.IsValid() {
			continue
		}
		pi := PrivateIP{Addr: addr, Primary: rp.Primary, PrivateDNSName: rp.PrivateDnsName}
		p.assoc(pp+".Association", rp.Association, &pi)
		e.upsertPrivateIP(pi, true)
	}
	// The top-level fields repeat the primary address; they are all there is when a
	// --query trimmed PrivateIpAddresses.
	if addr := p.addr(path+".PrivateIpAddress", r.PrivateIpAddress); addr.IsValid() {
		pi := PrivateIP{Addr: addr, Primary: true, PrivateDNSName: r.PrivateDnsName}
		p.assoc(path+".Association", r.Association, &pi)
		e.upsertPrivateIP(pi, false)
	}
	for i, r6 := range r.Ipv6Addresses {
		if a := p.addr(fmt.Sprintf("%s.Ipv6Addresses[%d].Ipv6Address", path, i), r6.Ipv6Address); a.IsValid() {
			if !a.Is6() {
				p.warn(fmt.Sprintf("%s.Ipv6Addresses[%d].Ipv6Address", path, i), "%q is not an IPv6 address", r6.Ipv6Address)
				continue
			}
			e.IPv6 = append(e.IPv6, a)
		}
	}
	return e
}

// assoc copies a public-address association into pi.
func (p *parser) assoc(path string, a *rawAssoc, pi *PrivateIP) {
	if a == nil {
		return
	}
	pi.PublicIP = p.addr(path+".PublicIp", a.PublicIp)
	if !pi.PublicIP.IsValid() {
		return
	}
	pi.PublicDNSName = a.PublicDnsName
	pi.IPOwnerID = a.IpOwnerId
	pi.AllocationID = a.AllocationId
}

func (p *parser) nat(path string, raw json.RawMessage) {
	var r rawNAT
	if p.unmarshal(path, raw, &r) != nil {
		return
	}
	if r.NatGatewayId == "" {
		p.warn(path, "no NatGatewayId; entry skipped")
		return
	}
	n := &NATGateway{
		ID:               r.NatGatewayId,
		State:            r.State,
		ConnectivityType: r.ConnectivityType,
		SubnetID:         r.SubnetId,
		VPCID:            r.VpcId,
		CreateTime:       p.time(path+".CreateTime", r.CreateTime),
		Tags:             newTags(r.Tags),
		Sources:          []string{p.file},
	}
	for i, ra := range r.NatGatewayAddresses {
		ap := fmt.Sprintf("%s.NatGatewayAddresses[%d]", path, i)
		a := NATAddress{
			AllocationID: ra.AllocationId,
			InterfaceID:  ra.NetworkInterfaceId,
			PrivateIP:    p.addr(ap+".PrivateIp", ra.PrivateIp),
			PublicIP:     p.addr(ap+".PublicIp", ra.PublicIp),
			Primary:      ra.IsPrimary,
			Status:       ra.Status,
		}
		if !a.PrivateIP.IsValid() && !a.PublicIP.IsValid() && a.InterfaceID == "" {
			continue
		}
		n.Addresses = append(n.Addresses, a)
	}
	p.l.b.addNAT(n)
}

func (p *parser) address(path string, raw json.RawMessage) {
	var r rawAddress
	if p.unmarshal(path, raw, &r) != nil {
		return
	}
	ip := p.addr(path+".PublicIp", r.PublicIp)
	if !ip.IsValid() {
		if r.PublicIp == "" {
			p.warn(path, "no PublicIp; entry skipped")
		}
		return
	}
	p.l.b.addAddress(&Address{
		PublicIP:           ip,
		AllocationID:       r.AllocationId,
		AssociationID:      r.AssociationId,
		Domain:             r.Domain,
		InstanceID:         r.InstanceId,
		InterfaceID:        r.NetworkInterfaceId,
		InterfaceOwnerID:   r.NetworkInterfaceOwnerId,
		PrivateIP:          p.addr(path+".PrivateIpAddress", r.PrivateIpAddress),
		PublicIPv4Pool:     r.PublicIpv4Pool,
		NetworkBorderGroup: r.NetworkBorderGroup,
		Tags:               newTags(r.Tags),
		Sources:            []string{p.file},
	})
}

// addr parses an address field. An empty field is no address; a bad one is a warning
// and no address. IPv4-mapped IPv6 is stored as IPv4, and zones (fe80::1%eth0),
// which AWS never prints, are refused.
func (p *parser) addr(path, s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		p.warn(path, "%q is not an IP address", clip(s))
		return netip.Addr{}
	}
	return a.Unmap()
}

// time parses a timestamp as the CLI prints it: "2026-03-02T08:15:00+00:00" (v2) or
// "2026-03-02T08:15:00.000Z" (v1).
func (p *parser) time(path, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.warn(path, "%q is not an RFC 3339 time", clip(s))
		return time.Time{}
	}
	return t.UTC()
}

// clip shortens a bad value quoted in a warning, so that a megabyte string cannot
// make a megabyte message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

func groups(r []rawGroup) []SecurityGroup {
	if len(r) == 0 {
		return nil
	}
	out := make([]SecurityGroup, 0, len(r))
	for _, g := range r {
		out = append(out, SecurityGroup{ID: g.GroupId, Name: g.GroupName})
	}
	return out
}
