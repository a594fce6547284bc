package api

import (
	"github.com/vigil-dev/vigil/internal/finding"
)

// SampleFinding returns a well-formed finding of type ti, as
// CreateSampleFindings stores it: every field a finding of its kind has, with
// placeholder values from the documentation ranges (192.0.2.0/24,
// 198.51.100.0/24, example.com), "[SAMPLE] " before the title and
// service.additionalInfo.sample = true, as GuardDuty marks its samples, so
// that consumers can filter them out (and notifiers do).
func SampleFinding(ti *finding.TypeInfo, account, region string, at finding.Time) (*finding.Finding, error) {
	f := ti.New(account, region, at)
	remote := &finding.RemoteIPDetails{
		IPAddressV4:  "198.51.100.7",
		City:         &finding.City{CityName: "GeneratedFindingCityName"},
		Country:      &finding.Country{CountryCode: "GeneratedFindingCountryCode", CountryName: "GeneratedFindingCountryName"},
		GeoLocation:  &finding.GeoLocation{Lat: 0, Lon: 0},
		Organization: &finding.Organization{ASN: "64496", ASNOrg: "GeneratedFindingASNOrg", ISP: "GeneratedFindingISP", Org: "GeneratedFindingORG"},
	}
	switch ti.ResourceType {
	case finding.ResourceInstance:
		f.Resource.InstanceDetails = &finding.InstanceDetails{
			InstanceID: "i-99999999", InstanceType: "m3.xlarge", InstanceState: "running", AvailabilityZone: region + "a",
			ImageID: "ami-99999999", ImageDescription: "GeneratedFindingInstanceImageDescription",
			NetworkInterfaces: []finding.NetworkInterface{{
				NetworkInterfaceID: "eni-abcdef00", PrivateIPAddress: "10.0.0.1", PrivateDNSName: "GeneratedFindingPrivateDnsName",
				PublicIP: "192.0.2.10", PublicDNSName: "GeneratedFindingPublicDNSName", SubnetID: "GeneratedFindingSubnetId", VpcID: "GeneratedFindingVPCId",
				SecurityGroups: []finding.SecurityGroup{{GroupID: "GeneratedFindingSecurityId", GroupName: "GeneratedFindingSecurityGroupName"}},
			}},
			Tags: []finding.Tag{{Key: "GeneratedFindingInstanceTag1", Value: "GeneratedFindingInstanceTagValue1"}},
		}
	case finding.ResourceAccessKey:
		f.Resource.AccessKeyDetails = &finding.AccessKeyDetails{AccessKeyID: "GeneratedFindingAccessKeyId",
			PrincipalID: "GeneratedFindingPrincipalId", UserName: "GeneratedFindingUserName", UserType: "IAMUser"}
	case finding.ResourceS3Bucket:
		f.Resource.AccessKeyDetails = &finding.AccessKeyDetails{AccessKeyID: "GeneratedFindingAccessKeyId",
			PrincipalID: "GeneratedFindingPrincipalId", UserName: "GeneratedFindingUserName", UserType: "IAMUser"}
		f.Resource.S3BucketDetails = []finding.S3BucketDetail{{
			ARN: "arn:aws:s3:::bucketName", Name: "bucketName", Type: "Destination", CreatedAt: at,
			Owner: &finding.Owner{ID: "CanonicalId of Owner"},
		}}
	}
	a := &f.Service.Action
	switch ti.ActionType {
	case finding.ActionNetworkConnection:
		a.NetworkConnectionAction = &finding.NetworkConnectionAction{
			ConnectionDirection: finding.DirectionOutbound, Protocol: "TCP",
			LocalPortDetails:  &finding.PortDetails{Port: 39677, PortName: "Unknown"},
			RemotePortDetails: &finding.PortDetails{Port: 22, PortName: "SSH"},
			LocalIPDetails:    &finding.LocalIPDetails{IPAddressV4: "10.0.0.1"},
			RemoteIPDetails:   remote,
		}
		if f.Service.ResourceRole == finding.RoleTarget {
			a.NetworkConnectionAction.ConnectionDirection = finding.DirectionInbound
			a.NetworkConnectionAction.LocalPortDetails, a.NetworkConnectionAction.RemotePortDetails =
				a.NetworkConnectionAction.RemotePortDetails, a.NetworkConnectionAction.LocalPortDetails
		}
	case finding.ActionPortProbe:
		a.PortProbeAction = &finding.PortProbeAction{PortProbeDetails: []finding.PortProbeDetail{{
			LocalPortDetails: &finding.PortDetails{Port: 80, PortName: "HTTP"},
			LocalIPDetails:   &finding.LocalIPDetails{IPAddressV4: "10.0.0.1"},
			RemoteIPDetails:  remote,
		}}}
	case finding.ActionDNSRequest:
		a.DNSRequestAction = &finding.DNSRequestAction{Domain: "generated.example.com", DomainWithSuffix: "example.com", Protocol: "UDP"}
	case finding.ActionAWSAPICall:
		a.AWSAPICallAction = &finding.AWSAPICallAction{API: "GeneratedFindingAPIName", ServiceName: "GeneratedFindingAPIServiceName",
			CallerType: "Remote IP", UserAgent: "GeneratedFindingUserAgent", RemoteIPDetails: remote}
	}
	f.Service.AdditionalInfo = finding.AdditionalInfo{"sample": true, "threatListName": "GeneratedFindingThreatListName"}
	if err := f.Complete(""); err != nil {
		return nil, err
	}
	f.Title = "[SAMPLE] " + f.Title
	return f, nil
}
