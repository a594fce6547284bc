package finding

// The JSON tags follow GuardDuty's exported finding JSON key for key. omitempty
// is used where GuardDuty leaves a key out when it has no value; omitzero on slices
// and maps keeps an explicitly empty list ("tags": []) as GuardDuty writes it,
// while a nil one is left out, so a GuardDuty finding survives a decode/encode
// round trip. Booleans that GuardDuty always writes (archived, blocked, the
// publicAccess flags) have no omitempty.

// SchemaVersion is the GuardDuty finding schema version vigil writes.
const SchemaVersion = "2.0"

// ServiceName is the value of service.serviceName. vigil writes "guardduty" so
// that consumers that branch on it keep working.
const ServiceName = "guardduty"

// Finding is one GuardDuty finding (schema 2.0).
type Finding struct {
	SchemaVersion string   `json:"schemaVersion"`
	AccountID     string   `json:"accountId"`
	Region        string   `json:"region"`
	Partition     string   `json:"partition,omitempty"`
	ID            string   `json:"id"`
	ARN           string   `json:"arn"`
	Type          Type     `json:"type"`
	Resource      Resource `json:"resource"`
	Service       Service  `json:"service"`
	Severity      Severity `json:"severity"`
	// Confidence is GuardDuty's legacy field: absent, or 0 when the finding was
	// marked a false positive. A pointer so that 0 can be written.
	Confidence  *float64 `json:"confidence,omitempty"`
	CreatedAt   Time     `json:"createdAt"`
	UpdatedAt   Time     `json:"updatedAt"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	// AssociatedAttackSequenceArn links a finding to an attack-sequence finding.
	AssociatedAttackSequenceArn string `json:"associatedAttackSequenceArn,omitempty"`

	// Evidence is vigil's extension: a bounded sample of the log records that
	// triggered the finding (at most MaxEvidence, see Merge), so a user sees what
	// happened without searching the logs. It is a top-level key of its own, not
	// inside service.additionalInfo, so GuardDuty's own keys stay exactly
	// GuardDuty's; GuardDuty consumers ignore unknown keys.
	Evidence []EvidenceRecord `json:"vigilEvidence,omitempty"`

	// Continues marks the rest of an occurrence whose finding was raised
	// early, when its threshold was crossed (vigil serve's raise_at_threshold):
	// its counters and evidence are what came after, and Merge adds them
	// without counting another occurrence. It is not part of the JSON: once
	// merged, a finding is a finding.
	Continues bool `json:"-"`
}

// Occurrences is how many occurrences f adds to the finding it is merged
// into: its count (at least 1), or 0 when it continues one already counted.
func (f *Finding) Occurrences() int64 {
	if f.Continues {
		return 0
	}
	return max(f.Service.Count, 1)
}

// ResourceType is resource.resourceType.
type ResourceType string

// The resource types of the findings vigil raises.
const (
	ResourceInstance  ResourceType = "Instance"
	ResourceAccessKey ResourceType = "AccessKey"
	ResourceS3Bucket  ResourceType = "S3Bucket"
)

// Resource is the affected resource (resource).
type Resource struct {
	ResourceType     ResourceType      `json:"resourceType"`
	InstanceDetails  *InstanceDetails  `json:"instanceDetails,omitempty"`
	AccessKeyDetails *AccessKeyDetails `json:"accessKeyDetails,omitempty"`
	S3BucketDetails  []S3BucketDetail  `json:"s3BucketDetails,omitzero"`
}

// InstanceDetails describes an EC2 instance (resource.instanceDetails). The
// inventory fills it; details can be missing when the instance is gone.
type InstanceDetails struct {
	InstanceID         string              `json:"instanceId,omitempty"`
	InstanceType       string              `json:"instanceType,omitempty"`
	InstanceState      string              `json:"instanceState,omitempty"`
	LaunchTime         Time                `json:"launchTime,omitempty"`
	AvailabilityZone   string              `json:"availabilityZone,omitempty"`
	ImageID            string              `json:"imageId,omitempty"`
	ImageDescription   string              `json:"imageDescription,omitempty"`
	Platform           string              `json:"platform,omitempty"`
	OutpostARN         string              `json:"outpostArn,omitempty"`
	IAMInstanceProfile *IAMInstanceProfile `json:"iamInstanceProfile,omitempty"`
	ProductCodes       []ProductCode       `json:"productCodes,omitzero"`
	Tags               []Tag               `json:"tags,omitzero"`
	NetworkInterfaces  []NetworkInterface  `json:"networkInterfaces,omitzero"`
}

// IAMInstanceProfile is instanceDetails.iamInstanceProfile.
type IAMInstanceProfile struct {
	ARN string `json:"arn,omitempty"`
	ID  string `json:"id,omitempty"`
}

// ProductCode is one of instanceDetails.productCodes.
type ProductCode struct {
	ProductCodeID   string `json:"productCodeId,omitempty"`
	ProductCodeType string `json:"productCodeType,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NetworkInterface is one of instanceDetails.networkInterfaces.
type NetworkInterface struct {
	NetworkInterfaceID string             `json:"networkInterfaceId,omitempty"`
	PrivateDNSName     string             `json:"privateDnsName,omitempty"`
	PrivateIPAddress   string             `json:"privateIpAddress,omitempty"`
	PrivateIPAddresses []PrivateIPAddress `json:"privateIpAddresses,omitzero"`
	PublicDNSName      string             `json:"publicDnsName,omitempty"`
	PublicIP           string             `json:"publicIp,omitempty"`
	IPv6Addresses      []string           `json:"ipv6Addresses,omitzero"`
	SubnetID           string             `json:"subnetId,omitempty"`
	VpcID              string             `json:"vpcId,omitempty"`
	SecurityGroups     []SecurityGroup    `json:"securityGroups,omitzero"`
}

// PrivateIPAddress is one of networkInterfaces.privateIpAddresses.
type PrivateIPAddress struct {
	PrivateDNSName   string `json:"privateDnsName,omitempty"`
	PrivateIPAddress string `json:"privateIpAddress,omitempty"`
}

// SecurityGroup is one of networkInterfaces.securityGroups.
type SecurityGroup struct {
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
}

// AccessKeyDetails identifies the IAM principal of an IAM or S3 finding
// (resource.accessKeyDetails). UserType is CloudTrail's userIdentity.type:
// Root, IAMUser, AssumedRole, FederatedUser, AWSAccount or AWSService.
type AccessKeyDetails struct {
	AccessKeyID string `json:"accessKeyId,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	UserType    string `json:"userType,omitempty"`
}

// S3BucketDetail is one of resource.s3BucketDetails.
type S3BucketDetail struct {
	ARN                         string                       `json:"arn,omitempty"`
	Name                        string                       `json:"name,omitempty"`
	Type                        string                       `json:"type,omitempty"` // Destination or Source
	CreatedAt                   Time                         `json:"createdAt,omitempty"`
	Owner                       *Owner                       `json:"owner,omitempty"`
	Tags                        []Tag                        `json:"tags,omitzero"`
	DefaultServerSideEncryption *DefaultServerSideEncryption `json:"defaultServerSideEncryption,omitempty"`
	PublicAccess                *PublicAccess                `json:"publicAccess,omitempty"`
}

// Owner is a bucket owner's canonical user ID.
type Owner struct {
	ID string `json:"id,omitempty"`
}

// DefaultServerSideEncryption is a bucket's default encryption.
type DefaultServerSideEncryption struct {
	EncryptionType  string `json:"encryptionType,omitempty"`
	KMSMasterKeyARN string `json:"kmsMasterKeyArn,omitempty"`
}

// PublicAccess is a bucket's effective public access and how it was derived.
// EffectivePermission is PUBLIC, NOT_PUBLIC or UNKNOWN.
type PublicAccess struct {
	EffectivePermission     string                   `json:"effectivePermission,omitempty"`
	PermissionConfiguration *PermissionConfiguration `json:"permissionConfiguration,omitempty"`
}

// PermissionConfiguration holds bucket-level and account-level permissions.
type PermissionConfiguration struct {
	BucketLevelPermissions  *BucketLevelPermissions  `json:"bucketLevelPermissions,omitempty"`
	AccountLevelPermissions *AccountLevelPermissions `json:"accountLevelPermissions,omitempty"`
}

// BucketLevelPermissions are a bucket's ACL, policy and Block Public Access.
type BucketLevelPermissions struct {
	AccessControlList *PublicGrants      `json:"accessControlList,omitempty"`
	BucketPolicy      *PublicGrants      `json:"bucketPolicy,omitempty"`
	BlockPublicAccess *BlockPublicAccess `json:"blockPublicAccess,omitempty"`
}

// AccountLevelPermissions is the account's Block Public Access.
type AccountLevelPermissions struct {
	BlockPublicAccess *BlockPublicAccess `json:"blockPublicAccess,omitempty"`
}

// PublicGrants says whether an ACL or a bucket policy allows public access.
type PublicGrants struct {
	AllowsPublicReadAccess  bool `json:"allowsPublicReadAccess"`
	AllowsPublicWriteAccess bool `json:"allowsPublicWriteAccess"`
}

// BlockPublicAccess is an S3 Block Public Access configuration.
type BlockPublicAccess struct {
	BlockPublicACLs       bool `json:"blockPublicAcls"`
	BlockPublicPolicy     bool `json:"blockPublicPolicy"`
	IgnorePublicACLs      bool `json:"ignorePublicAcls"`
	RestrictPublicBuckets bool `json:"restrictPublicBuckets"`
}

// ResourceRole is service.resourceRole: whether the resource was acted upon
// (TARGET) or did it (ACTOR).
type ResourceRole string

// The resource roles.
const (
	RoleTarget ResourceRole = "TARGET"
	RoleActor  ResourceRole = "ACTOR"
)

// Service is the service object: what happened, when, how often, and the
// finding's state.
type Service struct {
	ServiceName  string       `json:"serviceName"`
	DetectorID   string       `json:"detectorId"`
	Action       Action       `json:"action"`
	ResourceRole ResourceRole `json:"resourceRole,omitempty"`
	// Count is the number of occurrences aggregated into this finding.
	Count int64 `json:"count"`
	// EventFirstSeen and EventLastSeen bound the underlying activity in event time
	// (unlike CreatedAt/UpdatedAt, which say when the finding was written).
	EventFirstSeen Time `json:"eventFirstSeen,omitempty"`
	EventLastSeen  Time `json:"eventLastSeen,omitempty"`
	Archived       bool `json:"archived"`
	// UserFeedback is USEFUL or NOT_USEFUL.
	UserFeedback   string           `json:"userFeedback,omitempty"`
	AdditionalInfo AdditionalInfo   `json:"additionalInfo,omitzero"`
	Evidence       *ServiceEvidence `json:"evidence,omitempty"`
	FeatureName    string           `json:"featureName,omitempty"`
}

// AdditionalInfo is service.additionalInfo: a flat map of GuardDuty's keys
// (inBytes, threatListName, …) and vigil's (KeyVigilRule, …). Values are what
// encoding/json produces: float64 for numbers after a decode, int64 or float64
// when built in Go (both marshal the same). Map keys are written sorted, so the
// JSON is deterministic.
type AdditionalInfo map[string]any

// ActionType is service.action.actionType.
type ActionType string

// The action types of the findings vigil raises.
const (
	ActionNetworkConnection ActionType = "NETWORK_CONNECTION"
	ActionPortProbe         ActionType = "PORT_PROBE"
	ActionDNSRequest        ActionType = "DNS_REQUEST"
	ActionAWSAPICall        ActionType = "AWS_API_CALL"
)

// Action is service.action: the activity, one of four shapes by ActionType.
type Action struct {
	ActionType              ActionType               `json:"actionType"`
	NetworkConnectionAction *NetworkConnectionAction `json:"networkConnectionAction,omitempty"`
	PortProbeAction         *PortProbeAction         `json:"portProbeAction,omitempty"`
	DNSRequestAction        *DNSRequestAction        `json:"dnsRequestAction,omitempty"`
	AWSAPICallAction        *AWSAPICallAction        `json:"awsApiCallAction,omitempty"`
}

// The connection directions of a NetworkConnectionAction.
const (
	DirectionInbound  = "INBOUND"
	DirectionOutbound = "OUTBOUND"
	DirectionUnknown  = "UNKNOWN"
)

// NetworkConnectionAction is the activity of a flow-log finding.
type NetworkConnectionAction struct {
	ConnectionDirection   string           `json:"connectionDirection,omitempty"`
	Protocol              string           `json:"protocol,omitempty"`
	Blocked               bool             `json:"blocked"`
	LocalPortDetails      *PortDetails     `json:"localPortDetails,omitempty"`
	RemotePortDetails     *PortDetails     `json:"remotePortDetails,omitempty"`
	LocalIPDetails        *LocalIPDetails  `json:"localIpDetails,omitempty"`
	LocalNetworkInterface string           `json:"localNetworkInterface,omitempty"`
	RemoteIPDetails       *RemoteIPDetails `json:"remoteIpDetails,omitempty"`
}

// PortDetails is a port and its service label (SSH, Unknown, …).
type PortDetails struct {
	Port     int    `json:"port"`
	PortName string `json:"portName,omitempty"`
}

// LocalIPDetails is the local address of a connection or probe.
type LocalIPDetails struct {
	IPAddressV4 string `json:"ipAddressV4,omitempty"`
	IPAddressV6 string `json:"ipAddressV6,omitempty"`
}

// RemoteIPDetails is the remote address with its GeoIP and ASN data.
type RemoteIPDetails struct {
	IPAddressV4  string        `json:"ipAddressV4,omitempty"`
	IPAddressV6  string        `json:"ipAddressV6,omitempty"`
	City         *City         `json:"city,omitempty"`
	Country      *Country      `json:"country,omitempty"`
	GeoLocation  *GeoLocation  `json:"geoLocation,omitempty"`
	Organization *Organization `json:"organization,omitempty"`
}

// IP returns the IPv4 address, or the IPv6 one when there is no IPv4.
func (r *RemoteIPDetails) IP() string {
	if r == nil {
		return ""
	}
	if r.IPAddressV4 != "" {
		return r.IPAddressV4
	}
	return r.IPAddressV6
}

// City is a GeoIP city.
type City struct {
	CityName string `json:"cityName,omitempty"`
}

// Country is a GeoIP country.
type Country struct {
	CountryCode string `json:"countryCode,omitempty"`
	CountryName string `json:"countryName,omitempty"`
}

// GeoLocation is a GeoIP position.
type GeoLocation struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Organization is the network owner of an address. ASN is a string in
// GuardDuty's JSON ("16509", or "-1" when unknown).
type Organization struct {
	ASN    string `json:"asn,omitempty"`
	ASNOrg string `json:"asnOrg,omitempty"`
	ISP    string `json:"isp,omitempty"`
	Org    string `json:"org,omitempty"`
}

// PortProbeAction is the activity of a PortProbe finding: one detail per probing
// source and port.
type PortProbeAction struct {
	Blocked          bool              `json:"blocked"`
	PortProbeDetails []PortProbeDetail `json:"portProbeDetails,omitzero"`
}

// PortProbeDetail is one probe: which local port, from where.
type PortProbeDetail struct {
	LocalPortDetails *PortDetails     `json:"localPortDetails,omitempty"`
	LocalIPDetails   *LocalIPDetails  `json:"localIpDetails,omitempty"`
	RemoteIPDetails  *RemoteIPDetails `json:"remoteIpDetails,omitempty"`
}

// DNSRequestAction is the activity of a DNS finding.
type DNSRequestAction struct {
	Domain            string `json:"domain,omitempty"`
	DomainWithSuffix  string `json:"domainWithSuffix,omitempty"`
	Protocol          string `json:"protocol,omitempty"`
	Blocked           bool   `json:"blocked"`
	VpcOwnerAccountID string `json:"vpcOwnerAccountId,omitempty"`
}

// AWSAPICallAction is the activity of a CloudTrail finding.
type AWSAPICallAction struct {
	API                  string                `json:"api,omitempty"`
	ServiceName          string                `json:"serviceName,omitempty"`
	CallerType           string                `json:"callerType,omitempty"`
	UserAgent            string                `json:"userAgent,omitempty"`
	ErrorCode            string                `json:"errorCode,omitempty"`
	RemoteIPDetails      *RemoteIPDetails      `json:"remoteIpDetails,omitempty"`
	DomainDetails        *DomainDetails        `json:"domainDetails,omitempty"`
	RemoteAccountDetails *RemoteAccountDetails `json:"remoteAccountDetails,omitempty"`
	AffectedResources    map[string]string     `json:"affectedResources,omitzero"`
}

// DomainDetails is the domain of an API caller.
type DomainDetails struct {
	Domain string `json:"domain,omitempty"`
}

// RemoteAccountDetails is the AWS account an API call came from
// (InstanceCredentialExfiltration.InsideAWS).
type RemoteAccountDetails struct {
	AccountID  string `json:"accountId,omitempty"`
	Affiliated bool   `json:"affiliated"`
}

// ServiceEvidence is service.evidence: the threat-intelligence matches behind a
// finding.
type ServiceEvidence struct {
	ThreatIntelligenceDetails []ThreatIntelligenceDetail `json:"threatIntelligenceDetails,omitzero"`
}

// ThreatIntelligenceDetail names a threat list and what it says.
type ThreatIntelligenceDetail struct {
	ThreatListName   string   `json:"threatListName,omitempty"`
	ThreatNames      []string `json:"threatNames,omitzero"`
	ThreatFileSha256 string   `json:"threatFileSha256,omitempty"`
}
