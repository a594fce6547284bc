package suppress

import (
	"cmp"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// MatchCriteria reports whether f satisfies the checked criteria terms (from
// store.Criteria.Terms), with the stores' semantics: each term must hold; an
// Eq term holds when the attribute's value is one of its values, a Neq term
// when it is none of them; strings compare as bytes after store.Text; a
// finding that lacks an attribute (no instance details, no remote address) has
// the empty string, as the stores' columns do. TestMatchAgreesWithSQL checks
// it against both SQL stores.
func MatchCriteria(f *finding.Finding, terms []store.Term) bool {
	for i := range terms {
		t := &terms[i]
		v := attrValue(f, t.Attribute)
		var ok bool
		switch t.Op {
		case store.OpEq, store.OpNeq:
			in := slices.ContainsFunc(t.Values, func(x any) bool { c, ok := compare(v, x); return ok && c == 0 })
			ok = in == (t.Op == store.OpEq)
		default:
			c, comparable := compare(v, t.Values[0])
			switch t.Op {
			case store.OpGt:
				ok = comparable && c > 0
			case store.OpGte:
				ok = comparable && c >= 0
			case store.OpLt:
				ok = comparable && c < 0
			case store.OpLte:
				ok = comparable && c <= 0
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// attrValue returns the value of a store attribute of f, of the Go type the
// attribute's kind has in a Term (string, float64, int64, bool). An attribute
// store.Attributes does not know is nil, which equals nothing; Terms never
// yields one.
func attrValue(f *finding.Finding, name string) any {
	a := &f.Service.Action
	switch name {
	case "id":
		return store.Text(f.ID)
	case "accountId":
		return store.Text(f.AccountID)
	case "region":
		return store.Text(f.Region)
	case "type":
		return store.Text(string(f.Type))
	case "severity":
		return float64(f.Severity)
	case "createdAt":
		return int64(f.CreatedAt)
	case "updatedAt":
		return int64(f.UpdatedAt)
	case "resource.resourceType":
		return store.Text(string(f.Resource.ResourceType))
	case "resource.instanceDetails.instanceId":
		if d := f.Resource.InstanceDetails; d != nil {
			return store.Text(d.InstanceID)
		}
		return ""
	case "resource.accessKeyDetails.accessKeyId":
		if d := f.Resource.AccessKeyDetails; d != nil {
			return store.Text(d.AccessKeyID)
		}
		return ""
	case "service.action.actionType":
		return store.Text(string(a.ActionType))
	case "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":
		if nc := a.NetworkConnectionAction; nc != nil && nc.RemoteIPDetails != nil {
			return store.Text(nc.RemoteIPDetails.IPAddressV4)
		}
		return ""
	case "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4":
		if c := a.AWSAPICallAction; c != nil && c.RemoteIPDetails != nil {
			return store.Text(c.RemoteIPDetails.IPAddressV4)
		}
		return ""
	case "service.action.dnsRequestAction.domain":
		if d := a.DNSRequestAction; d != nil {
			return store.Text(d.Domain)
		}
		return ""
	case "service.archived":
		return f.Service.Archived
	case "service.resourceRole":
		return store.Text(string(f.Service.ResourceRole))
	case "service.count":
		return f.Service.Count
	case "service.eventFirstSeen":
		return int64(f.Service.EventFirstSeen)
	case "service.eventLastSeen":
		return int64(f.Service.EventLastSeen)
	case "service.userFeedback":
		return store.Text(f.Service.UserFeedback)
	}
	return nil
}

// compare orders two values of one kind; ok is false for values of different
// Go types, which checked terms never produce.
func compare(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y), true
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, true
			case !x:
				return -1, true
			}
			return 1, true
		}
	}
	return 0, false
}

// CompareAttribute orders two findings by a store attribute as the stores sort
// them (ties by ID), for sorting findings in memory.
func CompareAttribute(a, b *finding.Finding, attr string) int {
	c, _ := compare(attrValue(a, attr), attrValue(b, attr))
	if c == 0 {
		c = strings.Compare(store.Text(a.ID), store.Text(b.ID))
	}
	return c
}
