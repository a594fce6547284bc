package export

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/finding"
)

// ASFFFinding is a finding in the AWS Security Finding Format, with the fields
// GuardDuty fills when it sends its findings to Security Hub.
type ASFFFinding struct {
	SchemaVersion         string             `json:"SchemaVersion"`
	ID                    string             `json:"Id"`
	ProductArn            string             `json:"ProductArn"`
	ProductName           string             `json:"ProductName"`
	CompanyName           string             `json:"CompanyName"`
	Region                string             `json:"Region"`
	GeneratorID           string             `json:"GeneratorId"`
	AwsAccountID          string             `json:"AwsAccountId"`
	Types                 []string           `json:"Types"`
	FirstObservedAt       *finding.Time      `json:"FirstObservedAt,omitempty"`
	LastObservedAt        *finding.Time      `json:"LastObservedAt,omitempty"`
	CreatedAt             finding.Time       `json:"CreatedAt"`
	UpdatedAt             finding.Time       `json:"UpdatedAt"`
	Severity              ASFFSeverity       `json:"Severity"`
	Title                 string             `json:"Title"`
	Description           string             `json:"Description"`
	SourceURL             string             `json:"SourceUrl,omitempty"`
	ProductFields         map[string]string  `json:"ProductFields,omitempty"`
	Resources             []ASFFResource     `json:"Resources"`
	Action                *ASFFAction        `json:"Action,omitempty"`
	Workflow              ASFFWorkflow       `json:"Workflow"`
	RecordState           string             `json:"RecordState"`
	Sample                bool               `json:"Sample,omitempty"`
	FindingProviderFields ASFFProviderFields `json:"FindingProviderFields"`
}

// ASFFSeverity is ASFF's Severity. Label is the band; Normalized (0–100) is
// the GuardDuty severity times ten, which falls in the band's range of
// Security Hub's label mapping (LOW 1–39, MEDIUM 40–69, HIGH 70–89, CRITICAL
// 90–100); Product and Original keep GuardDuty's number.
type ASFFSeverity struct {
	Label      string  `json:"Label"`
	Normalized int     `json:"Normalized"`
	Product    float64 `json:"Product"`
	Original   string  `json:"Original"`
}

// ASFFWorkflow is the workflow state of a new finding.
type ASFFWorkflow struct {
	Status string `json:"Status"`
}

// ASFFProviderFields are the fields a finding provider owns.
type ASFFProviderFields struct {
	Severity ASFFProviderSeverity `json:"Severity"`
	Types    []string             `json:"Types"`
}

// ASFFProviderSeverity is FindingProviderFields.Severity.
type ASFFProviderSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original"`
}

// ASFFResource is one affected resource.
type ASFFResource struct {
	Type      string            `json:"Type"`
	ID        string            `json:"Id"`
	Partition string            `json:"Partition"`
	Region    string            `json:"Region"`
	Tags      map[string]string `json:"Tags,omitempty"`
	Details   map[string]any    `json:"Details,omitempty"`
}

// ASFFAction is ASFF's Action: GuardDuty's service.action in ASFF's spelling.
type ASFFAction struct {
	ActionType              string                 `json:"ActionType"`
	NetworkConnectionAction *ASFFNetworkConnection `json:"NetworkConnectionAction,omitempty"`
	AwsAPICallAction        *ASFFAPICall           `json:"AwsApiCallAction,omitempty"`
	DNSRequestAction        *ASFFDNSRequest        `json:"DnsRequestAction,omitempty"`
	PortProbeAction         *ASFFPortProbe         `json:"PortProbeAction,omitempty"`
}

// ASFFNetworkConnection is Action.NetworkConnectionAction.
type ASFFNetworkConnection struct {
	ConnectionDirection string        `json:"ConnectionDirection,omitempty"`
	RemoteIPDetails     *ASFFRemoteIP `json:"RemoteIpDetails,omitempty"`
	RemotePortDetails   *ASFFPort     `json:"RemotePortDetails,omitempty"`
	LocalPortDetails    *ASFFPort     `json:"LocalPortDetails,omitempty"`
	Protocol            string        `json:"Protocol,omitempty"`
	Blocked             bool          `json:"Blocked"`
}

// ASFFAPICall is Action.AwsApiCallAction.
type ASFFAPICall struct {
	API               string            `json:"Api,omitempty"`
	ServiceName       string            `json:"ServiceName,omitempty"`
	CallerType        string            `json:"CallerType,omitempty"`
	RemoteIPDetails   *ASFFRemoteIP     `json:"RemoteIpDetails,omitempty"`
	DomainDetails     *ASFFDomain       `json:"DomainDetails,omitempty"`
	AffectedResources map[string]string `json:"AffectedResources,omitempty"`
	FirstSeen         *finding.Time     `json:"FirstSeen,omitempty"`
	LastSeen          *finding.Time     `json:"LastSeen,omitempty"`
}

// ASFFDomain is AwsApiCallAction.DomainDetails.
type ASFFDomain struct {
	Domain string `json:"Domain"`
}

// ASFFDNSRequest is Action.DnsRequestAction.
type ASFFDNSRequest struct {
	Domain   string `json:"Domain,omitempty"`
	Protocol string `json:"Protocol,omitempty"`
	Blocked  bool   `json:"Blocked"`
}

// ASFFPortProbe is Action.PortProbeAction.
type ASFFPortProbe struct {
	PortProbeDetails []ASFFPortProbeDetail `json:"PortProbeDetails"`
	Blocked          bool                  `json:"Blocked"`
}

// ASFFPortProbeDetail is one probe.
type ASFFPortProbeDetail struct {
	LocalPortDetails *ASFFPort     `json:"LocalPortDetails,omitempty"`
	LocalIPDetails   *ASFFLocalIP  `json:"LocalIpDetails,omitempty"`
	RemoteIPDetails  *ASFFRemoteIP `json:"RemoteIpDetails,omitempty"`
}

// ASFFPort is a port and its name.
type ASFFPort struct {
	Port     int    `json:"Port"`
	PortName string `json:"PortName,omitempty"`
}

// ASFFLocalIP is a local address.
type ASFFLocalIP struct {
	IPAddressV4 string `json:"IpAddressV4"`
}

// ASFFRemoteIP is a remote address with its GeoIP and ASN data. ASFF's Asn is
// a number where GuardDuty's is a string.
type ASFFRemoteIP struct {
	IPAddressV4  string            `json:"IpAddressV4,omitempty"`
	Organization *ASFFOrganization `json:"Organization,omitempty"`
	Country      *ASFFCountry      `json:"Country,omitempty"`
	City         *ASFFCity         `json:"City,omitempty"`
	GeoLocation  *ASFFGeo          `json:"GeoLocation,omitempty"`
}

// ASFFOrganization is RemoteIpDetails.Organization.
type ASFFOrganization struct {
	Asn    *int   `json:"Asn,omitempty"`
	AsnOrg string `json:"AsnOrg,omitempty"`
	Isp    string `json:"Isp,omitempty"`
	Org    string `json:"Org,omitempty"`
}

// ASFFCountry is RemoteIpDetails.Country.
type ASFFCountry struct {
	CountryCode string `json:"CountryCode,omitempty"`
	CountryName string `json:"CountryName,omitempty"`
}

// ASFFCity is RemoteIpDetails.City.
type ASFFCity struct {
	CityName string `json:"CityName"`
}

// ASFFGeo is RemoteIpDetails.GeoLocation.
type ASFFGeo struct {
	Lon float64 `json:"Lon"`
	Lat float64 `json:"Lat"`
}

// ASFF limits (Security Hub refuses findings beyond them).
const (
	asffTitleMax       = 256
	asffDescriptionMax = 1024
	asffProductFields  = 50
	asffFieldValueMax  = 2048
)

// ToASFF maps f as GuardDuty does when it sends findings to Security Hub: Id is
// the finding ARN, GeneratorId the detector ARN, Types the AWS-documented
// counterpart of the finding type, the affected resources in ASFF's resource
// types (AwsEc2Instance, AwsIamAccessKey, AwsS3Bucket), the activity as Action
// and the service fields flattened into ProductFields under
// "aws/guardduty/service/…". Archived findings have RecordState ARCHIVED.
func ToASFF(f *finding.Finding, opts Options) ASFFFinding {
	partition := f.Partition
	if partition == "" {
		partition = "aws"
	}
	band := f.Severity.Band()
	label := band.String()
	if band == finding.BandNone {
		label = "INFORMATIONAL"
	}
	original := strconv.FormatFloat(float64(f.Severity), 'f', -1, 64)
	types := []string{ASFFType(f.Type)}
	a := ASFFFinding{
		SchemaVersion: "2018-10-08",
		ID:            f.ARN,
		ProductArn:    opts.ProductARN,
		ProductName:   "vigil",
		CompanyName:   "vigil",
		Region:        f.Region,
		GeneratorID:   detectorARN(f, partition),
		AwsAccountID:  f.AccountID,
		Types:         types,
		CreatedAt:     f.CreatedAt,
		UpdatedAt:     f.UpdatedAt,
		Severity: ASFFSeverity{
			Label:      label,
			Normalized: normalized(f.Severity),
			Product:    float64(f.Severity),
			Original:   original,
		},
		Title:         clipText(titleOr(f), asffTitleMax),
		Description:   clipText(descriptionOr(f), asffDescriptionMax),
		SourceURL:     opts.Link.Link(f),
		ProductFields: productFields(f),
		Resources:     asffResources(f, partition),
		Action:        asffAction(&f.Service.Action),
		Workflow:      ASFFWorkflow{Status: "NEW"},
		RecordState:   "ACTIVE",
		Sample:        f.Service.AdditionalInfo["sample"] == true,
		FindingProviderFields: ASFFProviderFields{
			Severity: ASFFProviderSeverity{Label: label, Original: original},
			Types:    types,
		},
	}
	if a.ID == "" {
		a.ID = f.ID
	}
	if a.ProductArn == "" {
		a.ProductArn = "arn:" + partition + ":securityhub:" + f.Region + ":" + f.AccountID + ":product/" + f.AccountID + "/default"
	}
	if f.Service.EventFirstSeen != 0 {
		t := f.Service.EventFirstSeen
		a.FirstObservedAt = &t
	}
	if f.Service.EventLastSeen != 0 {
		t := f.Service.EventLastSeen
		a.LastObservedAt = &t
	}
	if f.Service.Archived {
		a.RecordState = "ARCHIVED"
	}
	return a
}

// normalized is ASFF's Normalized severity: ten times GuardDuty's, kept within
// the range Security Hub maps to the band's label (so that 3.95, Low, is 39, not
// the Medium 40); 0 for a severity outside GuardDuty's scale (INFORMATIONAL).
func normalized(s finding.Severity) int {
	lo, hi := 0, 0
	switch s.Band() {
	case finding.BandLow:
		lo, hi = 1, 39
	case finding.BandMedium:
		lo, hi = 40, 69
	case finding.BandHigh:
		lo, hi = 70, 89
	case finding.BandCritical:
		lo, hi = 90, 100
	default:
		return 0
	}
	return min(max(int(math.Floor(float64(s)*10+1e-9)), lo), hi)
}

// detectorARN is the ARN of the detector that made f: the finding ARN without
// its /finding/<id> suffix.
func detectorARN(f *finding.Finding, partition string) string {
	if i := strings.Index(f.ARN, "/finding/"); i > 0 {
		return f.ARN[:i]
	}
	return "arn:" + partition + ":guardduty:" + f.Region + ":" + f.AccountID + ":detector/" + f.Service.DetectorID
}

func titleOr(f *finding.Finding) string {
	if f.Title != "" {
		return f.Title
	}
	return string(f.Type)
}

func descriptionOr(f *finding.Finding) string {
	if f.Description != "" {
		return f.Description
	}
	return titleOr(f)
}

// clipText cuts s to at most n characters, at a rune boundary.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func asffResources(f *finding.Finding, partition string) []ASFFResource {
	r := &f.Resource
	base := func(typ, id string) ASFFResource {
		return ASFFResource{Type: typ, ID: id, Partition: partition, Region: f.Region}
	}
	var out []ASFFResource
	if d := r.InstanceDetails; d != nil && d.InstanceID != "" {
		res := base("AwsEc2Instance", "arn:"+partition+":ec2:"+f.Region+":"+f.AccountID+":instance/"+d.InstanceID)
		res.Tags = tagMap(d.Tags)
		det := map[string]any{}
		if d.InstanceType != "" {
			det["Type"] = d.InstanceType
		}
		if d.ImageID != "" {
			det["ImageId"] = d.ImageID
		}
		var v4, v6 []string
		for _, ni := range d.NetworkInterfaces {
			if ni.PublicIP != "" {
				v4 = append(v4, ni.PublicIP)
			}
			if ni.PrivateIPAddress != "" {
				v4 = append(v4, ni.PrivateIPAddress)
			}
			v6 = append(v6, ni.IPv6Addresses...)
			if det["VpcId"] == nil && ni.VpcID != "" {
				det["VpcId"] = ni.VpcID
			}
			if det["SubnetId"] == nil && ni.SubnetID != "" {
				det["SubnetId"] = ni.SubnetID
			}
		}
		if len(v4) > 0 {
			det["IpV4Addresses"] = v4
		}
		if len(v6) > 0 {
			det["IpV6Addresses"] = v6
		}
		if d.LaunchTime != 0 {
			det["LaunchedAt"] = d.LaunchTime
		}
		if d.IAMInstanceProfile != nil && d.IAMInstanceProfile.ARN != "" {
			det["IamInstanceProfileArn"] = d.IAMInstanceProfile.ARN
		}
		if len(det) > 0 {
			res.Details = map[string]any{"AwsEc2Instance": det}
		}
		out = append(out, res)
	}
	for _, b := range r.S3BucketDetails {
		id := b.ARN
		if id == "" && b.Name != "" {
			id = "arn:" + partition + ":s3:::" + b.Name
		}
		if id == "" {
			continue
		}
		res := base("AwsS3Bucket", id)
		res.Tags = tagMap(b.Tags)
		det := map[string]any{}
		if b.Owner != nil && b.Owner.ID != "" {
			det["OwnerId"] = b.Owner.ID
		}
		if b.CreatedAt != 0 {
			det["CreatedAt"] = b.CreatedAt
		}
		if len(det) > 0 {
			res.Details = map[string]any{"AwsS3Bucket": det}
		}
		out = append(out, res)
	}
	if k := r.AccessKeyDetails; k != nil && (k.AccessKeyID != "" || k.PrincipalID != "" || k.UserName != "") {
		id := k.AccessKeyID
		if id == "" {
			id = finding.ResourceID(r)
		}
		res := base("AwsIamAccessKey", "AWS::IAM::AccessKey:"+id)
		det := map[string]any{}
		if k.PrincipalID != "" {
			det["PrincipalId"] = k.PrincipalID
		}
		if k.UserType != "" {
			det["PrincipalType"] = k.UserType
		}
		if k.UserName != "" {
			det["PrincipalName"] = k.UserName
		}
		if len(det) > 0 {
			res.Details = map[string]any{"AwsIamAccessKey": det}
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		// ASFF requires a resource; say what is known.
		id := finding.ResourceID(r)
		if id == "" {
			id = "AWS::::Account:" + f.AccountID
		}
		out = append(out, base("Other", id))
	}
	return out
}

func tagMap(tags []finding.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

func asffAction(a *finding.Action) *ASFFAction {
	if a.ActionType == "" {
		return nil
	}
	out := &ASFFAction{ActionType: string(a.ActionType)}
	switch {
	case a.NetworkConnectionAction != nil:
		n := a.NetworkConnectionAction
		out.NetworkConnectionAction = &ASFFNetworkConnection{
			ConnectionDirection: n.ConnectionDirection,
			RemoteIPDetails:     asffRemoteIP(n.RemoteIPDetails),
			RemotePortDetails:   asffPort(n.RemotePortDetails),
			LocalPortDetails:    asffPort(n.LocalPortDetails),
			Protocol:            n.Protocol,
			Blocked:             n.Blocked,
		}
	case a.AWSAPICallAction != nil:
		c := a.AWSAPICallAction
		out.AwsAPICallAction = &ASFFAPICall{
			API: c.API, ServiceName: c.ServiceName, CallerType: c.CallerType,
			RemoteIPDetails: asffRemoteIP(c.RemoteIPDetails), AffectedResources: c.AffectedResources,
		}
		if c.DomainDetails != nil && c.DomainDetails.Domain != "" {
			out.AwsAPICallAction.DomainDetails = &ASFFDomain{Domain: c.DomainDetails.Domain}
		}
	case a.DNSRequestAction != nil:
		d := a.DNSRequestAction
		out.DNSRequestAction = &ASFFDNSRequest{Domain: d.Domain, Protocol: d.Protocol, Blocked: d.Blocked}
	case a.PortProbeAction != nil:
		p := a.PortProbeAction
		out.PortProbeAction = &ASFFPortProbe{Blocked: p.Blocked, PortProbeDetails: []ASFFPortProbeDetail{}}
		for _, d := range p.PortProbeDetails {
			pd := ASFFPortProbeDetail{LocalPortDetails: asffPort(d.LocalPortDetails), RemoteIPDetails: asffRemoteIP(d.RemoteIPDetails)}
			if d.LocalIPDetails != nil && d.LocalIPDetails.IPAddressV4 != "" {
				pd.LocalIPDetails = &ASFFLocalIP{IPAddressV4: d.LocalIPDetails.IPAddressV4}
			}
			out.PortProbeAction.PortProbeDetails = append(out.PortProbeAction.PortProbeDetails, pd)
		}
	}
	return out
}

func asffPort(p *finding.PortDetails) *ASFFPort {
	if p == nil {
		return nil
	}
	return &ASFFPort{Port: p.Port, PortName: p.PortName}
}

func asffRemoteIP(r *finding.RemoteIPDetails) *ASFFRemoteIP {
	if r == nil {
		return nil
	}
	out := &ASFFRemoteIP{IPAddressV4: r.IPAddressV4}
	if o := r.Organization; o != nil {
		org := &ASFFOrganization{AsnOrg: o.ASNOrg, Isp: o.ISP, Org: o.Org}
		if n, err := strconv.Atoi(o.ASN); err == nil && n >= 0 {
			org.Asn = &n
		}
		out.Organization = org
	}
	if c := r.Country; c != nil {
		out.Country = &ASFFCountry{CountryCode: c.CountryCode, CountryName: c.CountryName}
	}
	if c := r.City; c != nil && c.CityName != "" {
		out.City = &ASFFCity{CityName: c.CityName}
	}
	if g := r.GeoLocation; g != nil {
		out.GeoLocation = &ASFFGeo{Lon: g.Lon, Lat: g.Lat}
	}
	return out
}

// productFields flattens f.service into "aws/guardduty/service/<path>" keys
// with string values, as GuardDuty's ASFF findings carry them: objects by key,
// arrays by index, additionalInfo as one JSON string. Security Hub takes at
// most 50 fields; the service's own fields come first, then the action's in
// key order, so the cut (if any) drops the least telling details.
func productFields(f *finding.Finding) map[string]string {
	const prefix = "aws/guardduty/service/"
	s := &f.Service
	fields := map[string]string{
		prefix + "serviceName": s.ServiceName,
		prefix + "detectorId":  s.DetectorID,
		prefix + "archived":    strconv.FormatBool(s.Archived),
		prefix + "count":       strconv.FormatInt(s.Count, 10),
	}
	if s.ResourceRole != "" {
		fields[prefix+"resourceRole"] = string(s.ResourceRole)
	}
	if s.EventFirstSeen != 0 {
		fields[prefix+"eventFirstSeen"] = s.EventFirstSeen.String()
	}
	if s.EventLastSeen != 0 {
		fields[prefix+"eventLastSeen"] = s.EventLastSeen.String()
	}
	if len(s.AdditionalInfo) > 0 {
		if b, err := json.Marshal(s.AdditionalInfo); err == nil {
			fields[prefix+"additionalInfo"] = clipText(string(b), asffFieldValueMax)
		}
	}
	var action []string
	var flat map[string]string
	if b, err := json.Marshal(s.Action); err == nil {
		var v any
		if json.Unmarshal(b, &v) == nil {
			flat = map[string]string{}
			flatten(prefix+"action", v, flat)
			for k := range flat {
				action = append(action, k)
			}
		}
	}
	slices.Sort(action)
	for _, k := range action {
		if len(fields) >= asffProductFields {
			break
		}
		fields[k] = clipText(flat[k], asffFieldValueMax)
	}
	return fields
}

// flatten writes the scalars of v under path: objects by key, arrays by index.
func flatten(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(path+"/"+k, e, out)
		}
	case []any:
		for i, e := range x {
			flatten(path+"/"+strconv.Itoa(i), e, out)
		}
	case string:
		out[path] = x
	case bool:
		out[path] = strconv.FormatBool(x)
	case float64:
		out[path] = strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
	}
}
