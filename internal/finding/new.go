package finding

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// New returns a finding of type ti for an account and region at event time at, with
// everything the catalogue knows filled in: schema version, partition "aws",
// resource and action types, the usual resource role, count 1, and createdAt,
// updatedAt, eventFirstSeen and eventLastSeen all at. The detector then fills the
// resource, the action details and the evidence, and calls Complete.
func (ti *TypeInfo) New(accountID, region string, at Time) *Finding {
	return &Finding{
		SchemaVersion: SchemaVersion,
		AccountID:     accountID,
		Region:        region,
		Partition:     "aws",
		Type:          ti.Type,
		Resource:      Resource{ResourceType: ti.ResourceType},
		Service: Service{
			ServiceName:    ServiceName,
			Action:         Action{ActionType: ti.ActionType},
			ResourceRole:   ti.Role,
			Count:          1,
			EventFirstSeen: at,
			EventLastSeen:  at,
		},
		CreatedAt: at,
		UpdatedAt: at,
	}
}

// Complete checks that f has GuardDuty's required fields, then fills what is
// derived: the severity (by the type's rule, unless the detector set one for a
// SevVariable type or f's type is not in the catalogue and it has one), the title
// and description from the type's templates when empty, and the identity
// (SetIdentity with detectorID).
func (f *Finding) Complete(detectorID string) error {
	var missing []string
	for _, c := range [...]struct {
		name string
		ok   bool
	}{
		{"schemaVersion", f.SchemaVersion != ""},
		{"accountId", f.AccountID != ""},
		{"region", f.Region != ""},
		{"type", f.Type != ""},
		{"resource.resourceType", f.Resource.ResourceType != ""},
		{"service.action.actionType", f.Service.Action.ActionType != ""},
		{"createdAt", f.CreatedAt != 0},
		{"updatedAt", f.UpdatedAt != 0},
	} {
		if !c.ok {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("finding %s: missing %s", f.Type, strings.Join(missing, ", "))
	}
	if f.Service.Count < 1 {
		return fmt.Errorf("finding %s: service.count %d, want at least 1", f.Type, f.Service.Count)
	}
	if ti, ok := Lookup(f.Type); ok {
		if ti.Rule.Kind == SevVariable || f.Severity == 0 {
			f.Severity = ti.SeverityFor(f)
		}
		if f.Title == "" {
			f.Title = Render(ti.Title, f)
		}
		if f.Description == "" {
			f.Description = Render(ti.Description, f)
		}
	}
	if f.Severity.Band() == BandNone {
		return errors.New("finding " + string(f.Type) + ": severity " + strconv.FormatFloat(float64(f.Severity), 'g', -1, 64) + " outside 1.0–10.0")
	}
	f.SetIdentity(detectorID)
	return nil
}

// Render fills a title or description template from f. Placeholders are {name};
// unknown names are left as written, and a value f does not have reads "unknown".
//
//	{resource}         ResourceID (instance ID, access key, bucket)
//	{remoteIp}         remote address of the connection, probe or API call
//	{localPort}        local port (connection, or first probe)
//	{remotePort}       remote port of the connection
//	{protocol}         protocol of the connection or DNS query
//	{domain}           queried domain; {domainWithSuffix} its registrable part
//	{api}, {serviceName}  API call
//	{principal}        userName, else principalId, else accessKeyId
//	{bucket}           first bucket name
//	{actor}, {target}  the resource and the remote address, ordered by resourceRole
//	{threatListName}   additionalInfo.threatListName
//	{count}            service.count
//
// Values come from logs; Render does no escaping, so whoever displays the text in
// HTML, Slack markup or a terminal must.
func Render(tmpl string, f *Finding) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(tmpl[:i])
		name := tmpl[i+1 : i+j]
		if v, ok := templateVar(name, f); ok {
			if v == "" {
				v = "unknown"
			}
			b.WriteString(v)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
	b.WriteString(tmpl)
	return b.String()
}

func templateVar(name string, f *Finding) (string, bool) {
	a := &f.Service.Action
	switch name {
	case "resource":
		return ResourceID(&f.Resource), true
	case "remoteIp":
		return actionValue(a, KeyRemoteIP), true
	case "localPort":
		return actionValue(a, KeyLocalPort), true
	case "remotePort":
		return actionValue(a, KeyRemotePort), true
	case "protocol":
		switch {
		case a.NetworkConnectionAction != nil:
			return a.NetworkConnectionAction.Protocol, true
		case a.DNSRequestAction != nil:
			return a.DNSRequestAction.Protocol, true
		}
		return "", true
	case "domain":
		if a.DNSRequestAction != nil {
			return a.DNSRequestAction.Domain, true
		}
		return "", true
	case "domainWithSuffix":
		return actionValue(a, KeyDomainWithSuffix), true
	case "api":
		if a.AWSAPICallAction != nil {
			return a.AWSAPICallAction.API, true
		}
		return "", true
	case "serviceName":
		if a.AWSAPICallAction != nil {
			return a.AWSAPICallAction.ServiceName, true
		}
		return "", true
	case "principal":
		if d := f.Resource.AccessKeyDetails; d != nil {
			for _, v := range [...]string{d.UserName, d.PrincipalID, d.AccessKeyID} {
				if v != "" {
					return v, true
				}
			}
		}
		return "", true
	case "bucket":
		for _, b := range f.Resource.S3BucketDetails {
			if b.Name != "" {
				return b.Name, true
			}
		}
		return "", true
	case "actor", "target":
		res, remote := ResourceID(&f.Resource), actionValue(a, KeyRemoteIP)
		if res == "" {
			res = "unknown"
		}
		if remote == "" {
			remote = "unknown"
		}
		if (name == "actor") == (f.Service.ResourceRole == RoleActor) {
			return res, true
		}
		return remote, true
	case "threatListName":
		if v, ok := f.Service.AdditionalInfo["threatListName"].(string); ok {
			return v, true
		}
		return "", true
	case "count":
		return strconv.FormatInt(f.Service.Count, 10), true
	}
	return "", false
}
