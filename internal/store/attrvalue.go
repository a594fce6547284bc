package store

import "github.com/vigil-dev/vigil/internal/finding"

// AttributeValue returns the value of attribute name (one of Attributes) of f,
// as the stores compare it: of the Go type the attribute's kind has in a Term
// (string normalised with Text, float64, int64, bool), the empty string for an
// attribute the finding lacks (no instance details, no remote address), as the
// stores' columns hold. An attribute Attributes does not know is nil, which
// equals nothing; Terms never yields one. In-memory matching (suppression) and
// the contract suite's reference model read findings through it.
func AttributeValue(f *finding.Finding, name string) any {
	a := &f.Service.Action
	switch name {
	case "id":
		return Text(f.ID)
	case "accountId":
		return Text(f.AccountID)
	case "region":
		return Text(f.Region)
	case "type":
		return Text(string(f.Type))
	case "severity":
		return float64(f.Severity)
	case "createdAt":
		return int64(f.CreatedAt)
	case "updatedAt":
		return int64(f.UpdatedAt)
	case "resource.resourceType":
		return Text(string(f.Resource.ResourceType))
	case "resource.instanceDetails.instanceId":
		if d := f.Resource.InstanceDetails; d != nil {
			return Text(d.InstanceID)
		}
		return ""
	case "resource.accessKeyDetails.accessKeyId":
		if d := f.Resource.AccessKeyDetails; d != nil {
			return Text(d.AccessKeyID)
		}
		return ""
	case "service.action.actionType":
		return Text(string(a.ActionType))
	case "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":
		if nc := a.NetworkConnectionAction; nc != nil && nc.RemoteIPDetails != nil {
			return Text(nc.RemoteIPDetails.IPAddressV4)
		}
		return ""
	case "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4":
		if c := a.AWSAPICallAction; c != nil && c.RemoteIPDetails != nil {
			return Text(c.RemoteIPDetails.IPAddressV4)
		}
		return ""
	case "service.action.dnsRequestAction.domain":
		if d := a.DNSRequestAction; d != nil {
			return Text(d.Domain)
		}
		return ""
	case "service.archived":
		return f.Service.Archived
	case "service.resourceRole":
		return Text(string(f.Service.ResourceRole))
	case "service.count":
		return f.Service.Count
	case "service.eventFirstSeen":
		return int64(f.Service.EventFirstSeen)
	case "service.eventLastSeen":
		return int64(f.Service.EventLastSeen)
	case "service.userFeedback":
		return Text(f.Service.UserFeedback)
	}
	return nil
}
