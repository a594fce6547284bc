package export

import (
	"crypto/sha256"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
)

// OCSFVersion is the OCSF schema version the Detection Findings follow.
const OCSFVersion = "1.3.0"

// The OCSF class of a Detection Finding.
const (
	ocsfCategoryFindings = 2
	ocsfClassDetection   = 2004
)

// OCSFDetectionFinding is an OCSF Detection Finding (class_uid 2004) with the
// cloud profile. Times are epoch milliseconds (OCSF's timestamp_t).
type OCSFDetectionFinding struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	Time         int64  `json:"time"`
	StartTime    int64  `json:"start_time,omitempty"`
	EndTime      int64  `json:"end_time,omitempty"`
	Count        int64  `json:"count"`
	Message      string `json:"message"`
	IsAlert      bool   `json:"is_alert"`

	Metadata    OCSFMetadata     `json:"metadata"`
	FindingInfo OCSFFindingInfo  `json:"finding_info"`
	Cloud       OCSFCloud        `json:"cloud"`
	Resources   []OCSFResource   `json:"resources"`
	Evidences   []OCSFEvidence   `json:"evidences,omitempty"`
	Observables []OCSFObservable `json:"observables,omitempty"`
	// Unmapped keeps what OCSF has no attribute for: GuardDuty's type parts and
	// the finding's additionalInfo.
	Unmapped map[string]any `json:"unmapped,omitempty"`
}

// OCSFMetadata is the event's metadata.
type OCSFMetadata struct {
	Version  string      `json:"version"`
	UID      string      `json:"uid"`
	Product  OCSFProduct `json:"product"`
	Profiles []string    `json:"profiles"`
}

// OCSFProduct names the reporting product.
type OCSFProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Feature    *struct {
		Name string `json:"name"`
	} `json:"feature,omitempty"`
}

// OCSFFindingInfo is finding_info.
type OCSFFindingInfo struct {
	UID           string        `json:"uid"`
	Title         string        `json:"title"`
	Desc          string        `json:"desc,omitempty"`
	Types         []string      `json:"types"`
	CreatedTime   int64         `json:"created_time,omitempty"`
	ModifiedTime  int64         `json:"modified_time,omitempty"`
	FirstSeenTime int64         `json:"first_seen_time,omitempty"`
	LastSeenTime  int64         `json:"last_seen_time,omitempty"`
	SrcURL        string        `json:"src_url,omitempty"`
	Analytic      *OCSFAnalytic `json:"analytic,omitempty"`
	DataSources   []string      `json:"data_sources,omitempty"`
}

// OCSFAnalytic is the rule that raised the finding.
type OCSFAnalytic struct {
	Name   string `json:"name"`
	UID    string `json:"uid,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// OCSFCloud is the cloud profile's cloud object.
type OCSFCloud struct {
	Provider string      `json:"provider"`
	Region   string      `json:"region,omitempty"`
	Account  OCSFAccount `json:"account"`
}

// OCSFAccount is a cloud account.
type OCSFAccount struct {
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// OCSFResource is a resource_details object.
type OCSFResource struct {
	UID            string   `json:"uid"`
	Name           string   `json:"name,omitempty"`
	Type           string   `json:"type"`
	Region         string   `json:"region,omitempty"`
	CloudPartition string   `json:"cloud_partition,omitempty"`
	Labels         []string `json:"labels,omitempty"`
	Owner          *struct {
		Name string `json:"name,omitempty"`
		UID  string `json:"uid,omitempty"`
		Type string `json:"type,omitempty"`
	} `json:"owner,omitempty"`
}

// OCSFEvidence is one evidences entry: the network or API activity seen.
type OCSFEvidence struct {
	SrcEndpoint    *OCSFEndpoint       `json:"src_endpoint,omitempty"`
	DstEndpoint    *OCSFEndpoint       `json:"dst_endpoint,omitempty"`
	ConnectionInfo *OCSFConnectionInfo `json:"connection_info,omitempty"`
	API            *OCSFAPI            `json:"api,omitempty"`
	Query          *OCSFQuery          `json:"query,omitempty"`
}

// OCSFEndpoint is a network endpoint.
type OCSFEndpoint struct {
	IP               string        `json:"ip,omitempty"`
	Port             int           `json:"port,omitempty"`
	Domain           string        `json:"domain,omitempty"`
	Location         *OCSFLocation `json:"location,omitempty"`
	AutonomousSystem *struct {
		Number int    `json:"number,omitempty"`
		Name   string `json:"name,omitempty"`
	} `json:"autonomous_system,omitempty"`
}

// OCSFLocation is a geolocation.
type OCSFLocation struct {
	Country string  `json:"country,omitempty"`
	City    string  `json:"city,omitempty"`
	Lat     float64 `json:"lat,omitempty"`
	Long    float64 `json:"long,omitempty"`
}

// OCSFConnectionInfo describes a connection.
type OCSFConnectionInfo struct {
	DirectionID  int    `json:"direction_id"`
	Direction    string `json:"direction"`
	ProtocolName string `json:"protocol_name,omitempty"`
}

// OCSFAPI is an API call.
type OCSFAPI struct {
	Operation string `json:"operation"`
	Service   *struct {
		Name string `json:"name"`
	} `json:"service,omitempty"`
}

// OCSFQuery is a DNS query.
type OCSFQuery struct {
	Hostname string `json:"hostname"`
}

// OCSFObservable is an observables entry: a pointer into the event with its
// value and type.
type OCSFObservable struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

// OCSF observable type IDs.
const (
	obsHostname    = 1
	obsIPAddress   = 2
	obsUserName    = 4
	obsResourceUID = 10
)

// ToOCSF maps f to an OCSF Detection Finding: activity Create or Update (act),
// severity_id from the band (Low 2, Medium 3, High 4, Critical 5), status New
// (Suppressed for an archived finding), finding_info with the ARN as uid and
// the GuardDuty type as types, the cloud account and region, the affected
// resources, the remote party as evidence, and observables for addresses,
// domains, users and resources.
func ToOCSF(f *finding.Finding, opts Options, act Activity) OCSFDetectionFinding {
	partition := f.Partition
	if partition == "" {
		partition = "aws"
	}
	activity, activityName := 1, "Create"
	if act == Updated {
		activity, activityName = 2, "Update"
	}
	sevID, sev := ocsfSeverity(f.Severity.Band())
	statusID, status := 1, "New"
	if f.Service.Archived {
		statusID, status = 3, "Suppressed"
	}
	uid := f.ARN
	if uid == "" {
		uid = f.ID
	}
	o := OCSFDetectionFinding{
		ActivityID: activity, ActivityName: activityName,
		CategoryUID: ocsfCategoryFindings, CategoryName: "Findings",
		ClassUID: ocsfClassDetection, ClassName: "Detection Finding",
		TypeUID: ocsfClassDetection*100 + activity, TypeName: "Detection Finding: " + activityName,
		SeverityID: sevID, Severity: sev,
		StatusID: statusID, Status: status,
		Time:      int64(f.UpdatedAt),
		StartTime: int64(f.Service.EventFirstSeen),
		EndTime:   int64(f.Service.EventLastSeen),
		Count:     max(f.Service.Count, 1),
		Message:   titleOr(f),
		IsAlert:   !f.Service.Archived,
		Metadata: OCSFMetadata{
			Version:  OCSFVersion,
			UID:      ocsfEventID(f, act),
			Product:  OCSFProduct{Name: "vigil", VendorName: "vigil"},
			Profiles: []string{"cloud"},
		},
		FindingInfo: OCSFFindingInfo{
			UID:           uid,
			Title:         titleOr(f),
			Desc:          f.Description,
			Types:         []string{string(f.Type)},
			CreatedTime:   int64(f.CreatedAt),
			ModifiedTime:  int64(f.UpdatedAt),
			FirstSeenTime: int64(f.Service.EventFirstSeen),
			LastSeenTime:  int64(f.Service.EventLastSeen),
			SrcURL:        opts.Link.Link(f),
			Analytic:      &OCSFAnalytic{Name: string(f.Type), TypeID: 1, Type: "Rule"},
			DataSources:   dataSources(f),
		},
		Cloud: OCSFCloud{Provider: "AWS", Region: f.Region, Account: OCSFAccount{UID: f.AccountID, TypeID: 10, Type: "AWS Account"}},
	}
	if rule, ok := f.Service.AdditionalInfo[finding.KeyVigilRule].(string); ok {
		o.FindingInfo.Analytic.UID = rule
	}
	o.Resources = ocsfResources(f, partition)
	for i, r := range o.Resources {
		o.Observables = append(o.Observables, OCSFObservable{Name: "resources[" + strconv.Itoa(i) + "].uid", TypeID: obsResourceUID, Type: "Resource UID", Value: r.UID})
	}
	if k := f.Resource.AccessKeyDetails; k != nil && k.UserName != "" {
		for i, r := range o.Resources {
			if r.Owner != nil && r.Owner.Name == k.UserName {
				o.Observables = append(o.Observables, OCSFObservable{Name: "resources[" + strconv.Itoa(i) + "].owner.name", TypeID: obsUserName, Type: "User Name", Value: k.UserName})
				break
			}
		}
	}
	if ev, obs := ocsfEvidence(&f.Service.Action); ev != nil {
		o.Evidences = []OCSFEvidence{*ev}
		o.Observables = append(o.Observables, obs...)
	}
	if len(f.Service.AdditionalInfo) > 0 || f.Type != "" {
		o.Unmapped = map[string]any{"guardduty": map[string]any{
			"type":           string(f.Type),
			"severity":       float64(f.Severity),
			"resourceRole":   string(f.Service.ResourceRole),
			"additionalInfo": f.Service.AdditionalInfo,
		}}
	}
	return o
}

func ocsfSeverity(b finding.Band) (int, string) {
	switch b {
	case finding.BandLow:
		return 2, "Low"
	case finding.BandMedium:
		return 3, "Medium"
	case finding.BandHigh:
		return 4, "High"
	case finding.BandCritical:
		return 5, "Critical"
	}
	return 0, "Unknown"
}

// ocsfEventID is the event's uid: a UUID from the finding's ID, updatedAt and
// the activity.
func ocsfEventID(f *finding.Finding, act Activity) string {
	h := sha256.New()
	h.Write([]byte("vigil-ocsf\x00" + f.ID + "\x00" + strconv.Itoa(int(f.UpdatedAt)) + "\x00" + strconv.Itoa(int(act))))
	return uuidOf(h.Sum(nil))
}

// dataSources names the log source behind the finding, by action type and the
// type's "!DNS" artifact.
func dataSources(f *finding.Finding) []string {
	switch {
	case strings.HasSuffix(string(f.Type), "!DNS") || f.Service.Action.ActionType == finding.ActionDNSRequest:
		return []string{"Route 53 Resolver query logs"}
	case f.Service.Action.ActionType == finding.ActionAWSAPICall:
		return []string{"CloudTrail management events"}
	case f.Service.Action.ActionType != "":
		return []string{"VPC Flow Logs"}
	}
	return nil
}

func ocsfResources(f *finding.Finding, partition string) []OCSFResource {
	r := &f.Resource
	var out []OCSFResource
	if d := r.InstanceDetails; d != nil && d.InstanceID != "" {
		res := OCSFResource{UID: d.InstanceID, Type: "AWS::EC2::Instance", Region: f.Region, CloudPartition: partition}
		for _, t := range d.Tags {
			res.Labels = append(res.Labels, t.Key+":"+t.Value)
			if t.Key == "Name" {
				res.Name = t.Value
			}
		}
		out = append(out, res)
	}
	for _, b := range r.S3BucketDetails {
		if b.Name == "" && b.ARN == "" {
			continue
		}
		uid := b.ARN
		if uid == "" {
			uid = "arn:" + partition + ":s3:::" + b.Name
		}
		out = append(out, OCSFResource{UID: uid, Name: b.Name, Type: "AWS::S3::Bucket", Region: f.Region, CloudPartition: partition})
	}
	if k := r.AccessKeyDetails; k != nil && (k.AccessKeyID != "" || k.PrincipalID != "" || k.UserName != "") {
		uid := k.AccessKeyID
		if uid == "" {
			uid = finding.ResourceID(r)
		}
		res := OCSFResource{UID: uid, Type: "AWS::IAM::AccessKey", Region: f.Region, CloudPartition: partition}
		if k.UserName != "" || k.PrincipalID != "" {
			res.Owner = &struct {
				Name string `json:"name,omitempty"`
				UID  string `json:"uid,omitempty"`
				Type string `json:"type,omitempty"`
			}{Name: k.UserName, UID: k.PrincipalID, Type: k.UserType}
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		id := finding.ResourceID(r)
		if id == "" {
			id = f.AccountID
		}
		out = append(out, OCSFResource{UID: id, Type: string(r.ResourceType), Region: f.Region, CloudPartition: partition})
	}
	return out
}

// ocsfEvidence describes the activity: the remote and local endpoints of a
// connection or probe, the API call and its caller, the DNS query.
func ocsfEvidence(a *finding.Action) (*OCSFEvidence, []OCSFObservable) {
	var obs []OCSFObservable
	ipObs := func(name, ip string) {
		if ip != "" {
			obs = append(obs, OCSFObservable{Name: name, TypeID: obsIPAddress, Type: "IP Address", Value: ip})
		}
	}
	switch {
	case a.NetworkConnectionAction != nil:
		n := a.NetworkConnectionAction
		remote := ocsfEndpoint(n.RemoteIPDetails, n.RemotePortDetails)
		local := &OCSFEndpoint{}
		if n.LocalIPDetails != nil {
			local.IP = n.LocalIPDetails.IPAddressV4
			if local.IP == "" {
				local.IP = n.LocalIPDetails.IPAddressV6
			}
		}
		if n.LocalPortDetails != nil {
			local.Port = n.LocalPortDetails.Port
		}
		ev := &OCSFEvidence{ConnectionInfo: &OCSFConnectionInfo{ProtocolName: strings.ToLower(n.Protocol)}}
		switch n.ConnectionDirection {
		case finding.DirectionInbound:
			ev.SrcEndpoint, ev.DstEndpoint = remote, local
			ev.ConnectionInfo.DirectionID, ev.ConnectionInfo.Direction = 1, "Inbound"
			ipObs("evidences[0].src_endpoint.ip", remote.IP)
		case finding.DirectionOutbound:
			ev.SrcEndpoint, ev.DstEndpoint = local, remote
			ev.ConnectionInfo.DirectionID, ev.ConnectionInfo.Direction = 2, "Outbound"
			ipObs("evidences[0].dst_endpoint.ip", remote.IP)
		default:
			ev.SrcEndpoint, ev.DstEndpoint = remote, local
			ev.ConnectionInfo.DirectionID, ev.ConnectionInfo.Direction = 0, "Unknown"
			ipObs("evidences[0].src_endpoint.ip", remote.IP)
		}
		return ev, obs
	case a.PortProbeAction != nil && len(a.PortProbeAction.PortProbeDetails) > 0:
		d := a.PortProbeAction.PortProbeDetails[0]
		ev := &OCSFEvidence{SrcEndpoint: ocsfEndpoint(d.RemoteIPDetails, nil), DstEndpoint: &OCSFEndpoint{},
			ConnectionInfo: &OCSFConnectionInfo{DirectionID: 1, Direction: "Inbound"}}
		if d.LocalPortDetails != nil {
			ev.DstEndpoint.Port = d.LocalPortDetails.Port
		}
		if d.LocalIPDetails != nil {
			ev.DstEndpoint.IP = d.LocalIPDetails.IPAddressV4
		}
		ipObs("evidences[0].src_endpoint.ip", ev.SrcEndpoint.IP)
		return ev, obs
	case a.AWSAPICallAction != nil:
		c := a.AWSAPICallAction
		ev := &OCSFEvidence{API: &OCSFAPI{Operation: c.API}, SrcEndpoint: ocsfEndpoint(c.RemoteIPDetails, nil)}
		if c.ServiceName != "" {
			ev.API.Service = &struct {
				Name string `json:"name"`
			}{Name: c.ServiceName}
		}
		if c.DomainDetails != nil && c.DomainDetails.Domain != "" {
			ev.SrcEndpoint.Domain = c.DomainDetails.Domain
			obs = append(obs, OCSFObservable{Name: "evidences[0].src_endpoint.domain", TypeID: obsHostname, Type: "Hostname", Value: c.DomainDetails.Domain})
		}
		ipObs("evidences[0].src_endpoint.ip", ev.SrcEndpoint.IP)
		return ev, obs
	case a.DNSRequestAction != nil && a.DNSRequestAction.Domain != "":
		d := a.DNSRequestAction
		obs = append(obs, OCSFObservable{Name: "evidences[0].query.hostname", TypeID: obsHostname, Type: "Hostname", Value: d.Domain})
		return &OCSFEvidence{Query: &OCSFQuery{Hostname: d.Domain}}, obs
	}
	return nil, nil
}

func ocsfEndpoint(r *finding.RemoteIPDetails, p *finding.PortDetails) *OCSFEndpoint {
	e := &OCSFEndpoint{}
	if r != nil {
		e.IP = r.IP()
		var loc OCSFLocation
		if r.Country != nil {
			loc.Country = r.Country.CountryCode
			if loc.Country == "" {
				loc.Country = r.Country.CountryName
			}
		}
		if r.City != nil {
			loc.City = r.City.CityName
		}
		if r.GeoLocation != nil {
			loc.Lat, loc.Long = r.GeoLocation.Lat, r.GeoLocation.Lon
		}
		if loc != (OCSFLocation{}) {
			e.Location = &loc
		}
		if o := r.Organization; o != nil {
			n := 0
			for _, c := range o.ASN {
				if c < '0' || c > '9' || n > 1<<28 {
					n = -1
					break
				}
				n = n*10 + int(c-'0')
			}
			if n > 0 || o.ASNOrg != "" {
				e.AutonomousSystem = &struct {
					Number int    `json:"number,omitempty"`
					Name   string `json:"name,omitempty"`
				}{Number: max(n, 0), Name: o.ASNOrg}
			}
		}
	}
	if p != nil {
		e.Port = p.Port
	}
	return e
}
