package inventory

import "time"

// InstanceDetails is GuardDuty's resource.instanceDetails: what a finding says about
// the instance involved. It marshals to exactly the keys and shapes GuardDuty emits
// (finding schema 2.0), so that dashboards, SOAR playbooks and suppression rules
// written against GuardDuty work on vigil's findings:
//
//   - "platform" is null for Linux, as in GuardDuty, not absent;
//   - "productCodes", "networkInterfaces", "tags", "ipv6Addresses",
//     "privateIpAddresses" and "securityGroups" are [] when empty, never null;
//   - "launchTime" is ISO 8601 UTC with milliseconds, "2016-08-02T02:05:06.000Z";
//   - "outpostArn", "imageDescription", "iamInstanceProfile" and the public DNS name
//     and address of an ENI are left out when unknown or absent, as GuardDuty does
//     for instances outside an Outpost, without a profile or without a public IP.
//
// The finding package embeds it as is.
type InstanceDetails struct {
	InstanceID         string                    `json:"instanceId"`
	InstanceType       string                    `json:"instanceType,omitempty"`
	OutpostARN         string                    `json:"outpostArn,omitempty"`
	LaunchTime         string                    `json:"launchTime,omitempty"`
	Platform           *string                   `json:"platform"`
	ProductCodes       []ProductCodeDetails      `json:"productCodes"`
	IAMInstanceProfile *IAMInstanceProfileDetail `json:"iamInstanceProfile,omitempty"`
	NetworkInterfaces  []NetworkInterfaceDetails `json:"networkInterfaces"`
	Tags               []TagDetails              `json:"tags"`
	InstanceState      string                    `json:"instanceState,omitempty"`
	AvailabilityZone   string                    `json:"availabilityZone,omitempty"`
	ImageID            string                    `json:"imageId,omitempty"`
	// ImageDescription comes from describe-images, which vigil does not read; it is
	// there for the finding package to fill when it knows it.
	ImageDescription string `json:"imageDescription,omitempty"`
}

// ProductCodeDetails is one entry of instanceDetails.productCodes.
type ProductCodeDetails struct {
	ProductCodeID   string `json:"productCodeId"`
	ProductCodeType string `json:"productCodeType"`
}

// IAMInstanceProfileDetail is instanceDetails.iamInstanceProfile.
type IAMInstanceProfileDetail struct {
	ARN string `json:"arn"`
	ID  string `json:"id"`
}

// TagDetails is one entry of instanceDetails.tags.
type TagDetails struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NetworkInterfaceDetails is one entry of instanceDetails.networkInterfaces.
type NetworkInterfaceDetails struct {
	IPv6Addresses      []string               `json:"ipv6Addresses"`
	NetworkInterfaceID string                 `json:"networkInterfaceId,omitempty"`
	PrivateDNSName     string                 `json:"privateDnsName,omitempty"`
	PrivateIPAddress   string                 `json:"privateIpAddress,omitempty"`
	PrivateIPAddresses []PrivateIPDetails     `json:"privateIpAddresses"`
	PublicDNSName      string                 `json:"publicDnsName,omitempty"`
	PublicIP           string                 `json:"publicIp,omitempty"`
	SecurityGroups     []SecurityGroupDetails `json:"securityGroups"`
	SubnetID           string                 `json:"subnetId,omitempty"`
	VPCID              string                 `json:"vpcId,omitempty"`
}

// PrivateIPDetails is one entry of networkInterfaces[].privateIpAddresses.
type PrivateIPDetails struct {
	PrivateDNSName   string `json:"privateDnsName,omitempty"`
	PrivateIPAddress string `json:"privateIpAddress"`
}

// SecurityGroupDetails is one entry of networkInterfaces[].securityGroups.
type SecurityGroupDetails struct {
	GroupID   string `json:"groupId"`
	GroupName string `json:"groupName"`
}

// guardDutyTime is the layout of GuardDuty's timestamps.
const guardDutyTime = "2006-01-02T15:04:05.000Z"

// Details renders the instance as GuardDuty's resource.instanceDetails. ENIs are
// listed primary first. An instance described without its NetworkInterfaces (a
// --query that trimmed them) gets one entry built from its instance-level fields, so
// that the finding still carries its addresses, subnet and VPC.
func (in *Instance) Details() InstanceDetails {
	d := InstanceDetails{
		InstanceID:        in.ID,
		InstanceType:      in.InstanceType,
		OutpostARN:        in.OutpostARN,
		ProductCodes:      []ProductCodeDetails{},
		NetworkInterfaces: []NetworkInterfaceDetails{},
		Tags:              []TagDetails{},
		InstanceState:     in.State,
		AvailabilityZone:  in.AvailabilityZone,
		ImageID:           in.ImageID,
	}
	if !in.LaunchTime.IsZero() {
		d.LaunchTime = in.LaunchTime.UTC().Truncate(time.Millisecond).Format(guardDutyTime)
	}
	if in.Platform != "" {
		p := in.Platform
		d.Platform = &p
	}
	for _, pc := range in.ProductCodes {
		d.ProductCodes = append(d.ProductCodes, ProductCodeDetails{ProductCodeID: pc.ID, ProductCodeType: pc.Type})
	}
	if pr := in.IAMInstanceProfile; pr != nil {
		d.IAMInstanceProfile = &IAMInstanceProfileDetail{ARN: pr.ARN, ID: pr.ID}
	}
	for _, t := range in.Tags {
		d.Tags = append(d.Tags, TagDetails(t))
	}
	for _, e := range in.Interfaces {
		nd := e.details()
		// The instance-level public address belongs to the primary ENI; it fills the
		// gap when the ENI's own association was not printed.
		if e.DeviceIndex == 0 && nd.PublicIP == "" && in.PublicIP.IsValid() {
			nd.PublicIP = in.PublicIP.String()
			if nd.PublicDNSName == "" {
				nd.PublicDNSName = in.PublicDNSName
			}
		}
		d.NetworkInterfaces = append(d.NetworkInterfaces, nd)
	}
	if len(in.Interfaces) == 0 && (in.PrivateIP.IsValid() || in.PublicIP.IsValid() || in.SubnetID != "") {
		nd := NetworkInterfaceDetails{
			IPv6Addresses:      []string{},
			PrivateDNSName:     in.PrivateDNSName,
			PrivateIPAddresses: []PrivateIPDetails{},
			PublicDNSName:      in.PublicDNSName,
			SecurityGroups:     sgDetails(in.SecurityGroups),
			SubnetID:           in.SubnetID,
			VPCID:              in.VPCID,
		}
		if in.PrivateIP.IsValid() {
			nd.PrivateIPAddress = in.PrivateIP.String()
			nd.PrivateIPAddresses = append(nd.PrivateIPAddresses, PrivateIPDetails{PrivateDNSName: in.PrivateDNSName, PrivateIPAddress: nd.PrivateIPAddress})
		}
		if in.PublicIP.IsValid() {
			nd.PublicIP = in.PublicIP.String()
		}
		if in.IPv6.IsValid() {
			nd.IPv6Addresses = append(nd.IPv6Addresses, in.IPv6.String())
		}
		d.NetworkInterfaces = append(d.NetworkInterfaces, nd)
	}
	return d
}

// details renders one ENI as a networkInterfaces entry.
func (e *Interface) details() NetworkInterfaceDetails {
	nd := NetworkInterfaceDetails{
		IPv6Addresses:      []string{},
		NetworkInterfaceID: e.ID,
		PrivateDNSName:     e.PrivateDNSName,
		PrivateIPAddresses: []PrivateIPDetails{},
		SecurityGroups:     sgDetails(e.SecurityGroups),
		SubnetID:           e.SubnetID,
		VPCID:              e.VPCID,
	}
	for _, a := range e.IPv6 {
		nd.IPv6Addresses = append(nd.IPv6Addresses, a.String())
	}
	for i, p := range e.PrivateIPs { // primary first
		nd.PrivateIPAddresses = append(nd.PrivateIPAddresses, PrivateIPDetails{PrivateDNSName: p.PrivateDNSName, PrivateIPAddress: p.Addr.String()})
		if i == 0 {
			nd.PrivateIPAddress = p.Addr.String()
			if nd.PrivateDNSName == "" {
				nd.PrivateDNSName = p.PrivateDNSName
			}
			if p.PublicIP.IsValid() {
				nd.PublicIP = p.PublicIP.String()
				nd.PublicDNSName = p.PublicDNSName
			}
		}
	}
	return nd
}

func sgDetails(gs []SecurityGroup) []SecurityGroupDetails {
	out := make([]SecurityGroupDetails, 0, len(gs))
	for _, g := range gs {
		out = append(out, SecurityGroupDetails{GroupID: g.ID, GroupName: g.Name})
	}
	return out
}
