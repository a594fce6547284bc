package simulate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// The estate's inventory as the AWS CLI prints it (JSON output, 4-space indent):
// inventory/<account>/<region>/describe-instances.json, describe-network-interfaces.json,
// describe-nat-gateways.json and describe-addresses.json. Investigations use it to
// map the addresses in flow logs back to instances, ENIs and NAT gateways.

type tagJSON struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type groupJSON struct {
	GroupName string `json:"GroupName"`
	GroupID   string `json:"GroupId"`
}

type associationJSON struct {
	AllocationID  string `json:"AllocationId,omitempty"`
	AssociationID string `json:"AssociationId,omitempty"`
	IPOwnerID     string `json:"IpOwnerId"`
	PublicDNSName string `json:"PublicDnsName"`
	PublicIP      string `json:"PublicIp"`
}

type attachmentJSON struct {
	AttachTime          string `json:"AttachTime,omitempty"`
	AttachmentID        string `json:"AttachmentId"`
	DeleteOnTermination bool   `json:"DeleteOnTermination"`
	DeviceIndex         int    `json:"DeviceIndex"`
	NetworkCardIndex    *int   `json:"NetworkCardIndex,omitempty"`
	InstanceID          string `json:"InstanceId,omitempty"`
	InstanceOwnerID     string `json:"InstanceOwnerId,omitempty"`
	Status              string `json:"Status"`
}

type privateIPJSON struct {
	Association      *associationJSON `json:"Association,omitempty"`
	Primary          bool             `json:"Primary"`
	PrivateDNSName   string           `json:"PrivateDnsName"`
	PrivateIPAddress string           `json:"PrivateIpAddress"`
}

type ipv6JSON struct {
	Ipv6Address   string `json:"Ipv6Address"`
	IsPrimaryIpv6 bool   `json:"IsPrimaryIpv6"`
}

type networkInterfaceJSON struct {
	Association        *associationJSON `json:"Association,omitempty"`
	Attachment         *attachmentJSON  `json:"Attachment,omitempty"`
	AvailabilityZone   string           `json:"AvailabilityZone,omitempty"`
	Description        string           `json:"Description"`
	Groups             []groupJSON      `json:"Groups"`
	InterfaceType      string           `json:"InterfaceType"`
	Ipv6Addresses      []ipv6JSON       `json:"Ipv6Addresses"`
	MacAddress         string           `json:"MacAddress"`
	NetworkInterfaceID string           `json:"NetworkInterfaceId"`
	OwnerID            string           `json:"OwnerId"`
	PrivateDNSName     string           `json:"PrivateDnsName"`
	PrivateIPAddress   string           `json:"PrivateIpAddress"`
	PrivateIPAddresses []privateIPJSON  `json:"PrivateIpAddresses"`
	RequesterID        string           `json:"RequesterId,omitempty"`
	RequesterManaged   *bool            `json:"RequesterManaged,omitempty"`
	SourceDestCheck    bool             `json:"SourceDestCheck"`
	Status             string           `json:"Status"`
	SubnetID           string           `json:"SubnetId"`
	TagSet             []tagJSON        `json:"TagSet,omitempty"`
	VpcID              string           `json:"VpcId"`
}

type instanceJSON struct {
	AmiLaunchIndex        int                    `json:"AmiLaunchIndex"`
	ImageID               string                 `json:"ImageId"`
	InstanceID            string                 `json:"InstanceId"`
	InstanceType          string                 `json:"InstanceType"`
	KeyName               string                 `json:"KeyName"`
	LaunchTime            string                 `json:"LaunchTime"`
	Monitoring            map[string]string      `json:"Monitoring"`
	Placement             map[string]string      `json:"Placement"`
	Platform              string                 `json:"Platform,omitempty"`
	PrivateDNSName        string                 `json:"PrivateDnsName"`
	PrivateIPAddress      string                 `json:"PrivateIpAddress"`
	ProductCodes          []any                  `json:"ProductCodes"`
	PublicDNSName         string                 `json:"PublicDnsName"`
	PublicIPAddress       string                 `json:"PublicIpAddress,omitempty"`
	State                 map[string]any         `json:"State"`
	StateTransitionReason string                 `json:"StateTransitionReason"`
	SubnetID              string                 `json:"SubnetId"`
	VpcID                 string                 `json:"VpcId"`
	Architecture          string                 `json:"Architecture"`
	ClientToken           string                 `json:"ClientToken"`
	EbsOptimized          bool                   `json:"EbsOptimized"`
	EnaSupport            bool                   `json:"EnaSupport"`
	Hypervisor            string                 `json:"Hypervisor"`
	IamInstanceProfile    map[string]string      `json:"IamInstanceProfile"`
	NetworkInterfaces     []networkInterfaceJSON `json:"NetworkInterfaces"`
	RootDeviceName        string                 `json:"RootDeviceName"`
	RootDeviceType        string                 `json:"RootDeviceType"`
	SecurityGroups        []groupJSON            `json:"SecurityGroups"`
	SourceDestCheck       bool                   `json:"SourceDestCheck"`
	Tags                  []tagJSON              `json:"Tags"`
	VirtualizationType    string                 `json:"VirtualizationType"`
	MetadataOptions       map[string]any         `json:"MetadataOptions"`
	PlatformDetails       string                 `json:"PlatformDetails"`
	UsageOperation        string                 `json:"UsageOperation"`
	CurrentInstanceBoot   string                 `json:"CurrentInstanceBootMode"`
}

type reservationJSON struct {
	Groups        []groupJSON    `json:"Groups"`
	Instances     []instanceJSON `json:"Instances"`
	OwnerID       string         `json:"OwnerId"`
	ReservationID string         `json:"ReservationId"`
}

type natAddressJSON struct {
	AllocationID       string `json:"AllocationId"`
	NetworkInterfaceID string `json:"NetworkInterfaceId"`
	PrivateIP          string `json:"PrivateIp"`
	PublicIP           string `json:"PublicIp"`
	AssociationID      string `json:"AssociationId"`
	IsPrimary          bool   `json:"IsPrimary"`
	Status             string `json:"Status"`
}

type natGatewayJSON struct {
	CreateTime          string           `json:"CreateTime"`
	NatGatewayAddresses []natAddressJSON `json:"NatGatewayAddresses"`
	NatGatewayID        string           `json:"NatGatewayId"`
	State               string           `json:"State"`
	SubnetID            string           `json:"SubnetId"`
	VpcID               string           `json:"VpcId"`
	Tags                []tagJSON        `json:"Tags"`
	ConnectivityType    string           `json:"ConnectivityType"`
}

type addressJSON struct {
	AllocationID            string    `json:"AllocationId"`
	AssociationID           string    `json:"AssociationId"`
	Domain                  string    `json:"Domain"`
	InstanceID              string    `json:"InstanceId,omitempty"`
	NetworkBorderGroup      string    `json:"NetworkBorderGroup"`
	NetworkInterfaceID      string    `json:"NetworkInterfaceId"`
	NetworkInterfaceOwnerID string    `json:"NetworkInterfaceOwnerId"`
	PrivateIPAddress        string    `json:"PrivateIpAddress"`
	PublicIP                string    `json:"PublicIp"`
	PublicIpv4Pool          string    `json:"PublicIpv4Pool"`
	Tags                    []tagJSON `json:"Tags,omitempty"`
}

// publicDNS returns the public DNS name EC2 gives a public address in us-east-1.
func publicDNS(in *instance) string {
	if !in.pubIP.IsValid() {
		return ""
	}
	b := in.pubIP.As4()
	return fmt.Sprintf("ec2-%d-%d-%d-%d.compute-1.amazonaws.com", b[0], b[1], b[2], b[3])
}

// interfaceJSON renders one of an instance's interfaces at a device index; full
// adds what describe-network-interfaces prints and describe-instances does not.
func interfaceJSON(in *instance, n *eni, index int, full bool) networkInterfaceJSON {
	acc := in.vpc.account
	launch := in.launch.Format("2006-01-02T15:04:05+00:00")
	zero := 0
	ni := networkInterfaceJSON{
		Attachment: &attachmentJSON{AttachTime: launch, AttachmentID: n.attachID, DeleteOnTermination: index == 0,
			DeviceIndex: index, NetworkCardIndex: &zero, Status: "attached"},
		Groups: []groupJSON{{GroupName: in.sgName, GroupID: in.sgID}}, InterfaceType: "interface", Ipv6Addresses: []ipv6JSON{},
		MacAddress: n.mac, NetworkInterfaceID: n.id, OwnerID: acc.id,
		PrivateDNSName: ec2Hostname(n.privIP), PrivateIPAddress: n.privText,
		SourceDestCheck: true, Status: "in-use", SubnetID: n.subnet.id, VpcID: in.vpc.id,
	}
	if index > 0 {
		ni.Description = n.desc
	}
	pip := privateIPJSON{Primary: true, PrivateDNSName: ni.PrivateDNSName, PrivateIPAddress: n.privText}
	if n.pubIP.IsValid() {
		owner := "amazon"
		if in.eip != nil {
			owner = acc.id
		}
		ni.Association = &associationJSON{IPOwnerID: owner, PublicDNSName: publicDNS(in), PublicIP: n.pubIP.String()}
		pip.Association = ni.Association
	}
	ni.PrivateIPAddresses = []privateIPJSON{pip}
	if n.ipv6.IsValid() {
		ni.Ipv6Addresses = []ipv6JSON{{Ipv6Address: n.ipv6.String(), IsPrimaryIpv6: false}}
	}
	if full {
		ni.Attachment.InstanceID, ni.Attachment.InstanceOwnerID = in.id, acc.id
		ni.AvailabilityZone = n.subnet.az
		ni.Description = n.desc
		ni.TagSet = []tagJSON{}
		f := false
		ni.RequesterManaged = &f
	}
	return ni
}

// interfaces returns all of an instance's interfaces, primary first.
func (in *instance) interfaces() []*eni { return append([]*eni{in.eni}, in.extra...) }

func (s *Simulator) instanceJSON(in *instance, r *rng) instanceJSON {
	info := roles[in.role]
	acc := in.vpc.account
	launch := in.launch.Format("2006-01-02T15:04:05+00:00")
	sg := []groupJSON{{GroupName: in.sgName, GroupID: in.sgID}}
	var nis []networkInterfaceJSON
	for i, n := range in.interfaces() {
		nis = append(nis, interfaceJSON(in, n, i, false))
	}
	arch, platformDetails, usage := "x86_64", "Linux/UNIX", "RunInstances"
	if info.arm {
		arch = "arm64"
	}
	platform := ""
	if info.windows {
		platform, platformDetails, usage = "windows", "Windows", "RunInstances:0002"
	}
	return instanceJSON{
		ImageID: in.ami, InstanceID: in.id, InstanceType: info.typ, KeyName: in.keyName, LaunchTime: launch,
		Monitoring:       map[string]string{"State": "disabled"},
		Placement:        map[string]string{"AvailabilityZone": in.subnet.az, "GroupName": "", "Tenancy": "default"},
		Platform:         platform,
		PrivateDNSName:   ec2Hostname(in.privIP),
		PrivateIPAddress: in.privIP.String(),
		ProductCodes:     []any{},
		PublicDNSName:    publicDNS(in),
		PublicIPAddress:  addrString(in.pubIP),
		State:            map[string]any{"Code": 16, "Name": "running"},
		SubnetID:         in.subnet.id,
		VpcID:            in.vpc.id,
		Architecture:     arch,
		ClientToken:      "terraform-" + r.hexString(26),
		EbsOptimized:     true,
		EnaSupport:       true,
		Hypervisor:       "xen",
		IamInstanceProfile: map[string]string{
			"Arn": in.profile.profile, "Id": in.profile.profileID,
		},
		NetworkInterfaces:  nis,
		RootDeviceName:     "/dev/xvda",
		RootDeviceType:     "ebs",
		SecurityGroups:     sg,
		SourceDestCheck:    true,
		Tags:               []tagJSON{{Key: "Name", Value: in.name}, {Key: "Role", Value: info.tier}, {Key: "Environment", Value: acc.alias}},
		VirtualizationType: "hvm",
		MetadataOptions: map[string]any{"State": "applied", "HttpTokens": "required", "HttpPutResponseHopLimit": 2,
			"HttpEndpoint": "enabled", "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "disabled"},
		PlatformDetails:     platformDetails,
		UsageOperation:      usage,
		CurrentInstanceBoot: "uefi",
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// writeInventory writes the four describe-* files of every account.
func (s *Simulator) writeInventory(out string) error {
	r := derive(s.cfg.Seed, tag("inventory"))
	for _, acc := range s.est.accounts {
		v := acc.vpc
		var res []reservationJSON
		var enis []networkInterfaceJSON
		var addrs []addressJSON
		for _, in := range v.instances {
			ij := s.instanceJSON(in, &r)
			res = append(res, reservationJSON{Groups: []groupJSON{}, Instances: []instanceJSON{ij}, OwnerID: acc.id, ReservationID: r.awsID("r")})
			for i, n := range in.interfaces() {
				enis = append(enis, interfaceJSON(in, n, i, true))
			}
			if in.eip != nil {
				addrs = append(addrs, addressJSON{
					AllocationID: in.eip.allocationID, AssociationID: in.eip.associationID, Domain: "vpc",
					InstanceID: in.id, NetworkBorderGroup: region, NetworkInterfaceID: in.eni.id,
					NetworkInterfaceOwnerID: acc.id, PrivateIPAddress: in.privIP.String(),
					PublicIP: in.eip.publicIP.String(), PublicIpv4Pool: "amazon",
					Tags: []tagJSON{{Key: "Name", Value: in.name + "-eip"}},
				})
			}
		}
		nat := v.nat
		t := true
		natENI := networkInterfaceJSON{
			Association: &associationJSON{AllocationID: nat.eip.allocationID, AssociationID: nat.eip.associationID,
				IPOwnerID: acc.id, PublicIP: nat.eip.publicIP.String()},
			Attachment:       &attachmentJSON{AttachmentID: "ela-attach-0" + r.hexString(16), DeleteOnTermination: false, DeviceIndex: 1, InstanceOwnerID: "amazon-aws", Status: "attached"},
			AvailabilityZone: nat.subnet.az, Description: nat.eni.desc, Groups: []groupJSON{}, InterfaceType: "nat_gateway",
			Ipv6Addresses: []ipv6JSON{}, MacAddress: nat.eni.mac, NetworkInterfaceID: nat.eni.id, OwnerID: acc.id,
			PrivateDNSName: ec2Hostname(nat.eni.privIP), PrivateIPAddress: nat.eni.privIP.String(),
			RequesterID: "AROA" + r.fromAlphabet(upperAlnum, 17) + ":" + r.hexString(32), RequesterManaged: &t,
			SourceDestCheck: false, Status: "in-use", SubnetID: nat.subnet.id, TagSet: []tagJSON{}, VpcID: v.id,
		}
		natENI.PrivateIPAddresses = []privateIPJSON{{Association: natENI.Association, Primary: true,
			PrivateDNSName: natENI.PrivateDNSName, PrivateIPAddress: natENI.PrivateIPAddress}}
		enis = append([]networkInterfaceJSON{natENI}, enis...)
		addrs = append([]addressJSON{{
			AllocationID: nat.eip.allocationID, AssociationID: nat.eip.associationID, Domain: "vpc",
			NetworkBorderGroup: region, NetworkInterfaceID: nat.eni.id, NetworkInterfaceOwnerID: acc.id,
			PrivateIPAddress: nat.eni.privIP.String(), PublicIP: nat.eip.publicIP.String(), PublicIpv4Pool: "amazon",
			Tags: []tagJSON{{Key: "Name", Value: acc.alias + "-nat-eip"}},
		}}, addrs...)
		created := time.Unix(s.start, 0).UTC().AddDate(0, -7, -3).Format("2006-01-02T15:04:05+00:00")
		nats := []natGatewayJSON{{
			CreateTime: created,
			NatGatewayAddresses: []natAddressJSON{{AllocationID: nat.eip.allocationID, NetworkInterfaceID: nat.eni.id,
				PrivateIP: nat.eni.privIP.String(), PublicIP: nat.eip.publicIP.String(), AssociationID: nat.eip.associationID,
				IsPrimary: true, Status: "succeeded"}},
			NatGatewayID: nat.id, State: "available", SubnetID: nat.subnet.id, VpcID: v.id,
			Tags: []tagJSON{{Key: "Name", Value: acc.alias + "-nat"}}, ConnectivityType: "public",
		}}
		dir := filepath.Join(out, "inventory", acc.id, v.region)
		for _, f := range []struct {
			name string
			doc  any
		}{
			{"describe-instances.json", map[string]any{"Reservations": res}},
			{"describe-network-interfaces.json", map[string]any{"NetworkInterfaces": enis}},
			{"describe-nat-gateways.json", map[string]any{"NatGateways": nats}},
			{"describe-addresses.json", map[string]any{"Addresses": addrs}},
		} {
			if err := s.writeJSON(filepath.Join(dir, f.name), "inventory", f.doc); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeLabels writes labels.json.
func (s *Simulator) writeLabels(out string) error {
	return s.writeJSON(filepath.Join(out, "labels.json"), "labels", s.labels())
}

// writeJSON writes doc as indented JSON, the way the AWS CLI prints it.
func (s *Simulator) writeJSON(path, what string, doc any) error {
	data, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		return fmt.Errorf("BUG: encode %s: %w", what, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create folder %s: %w", filepath.Dir(path), pathErr(err))
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s file %s: %w", what, path, pathErr(err))
	}
	s.counters.Files.Add(1)
	s.counters.Bytes.Add(int64(len(data) + 1))
	return nil
}
