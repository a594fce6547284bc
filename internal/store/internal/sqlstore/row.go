// Package sqlstore is what the SQL stores (store/sqlite, store/postgres) share: the
// findings row and how it is derived from a finding, the merge of a batch into the
// stored findings, the translation of criteria, sorts and page tokens into SQL,
// and the loading of migration files. The SQL it writes is the common subset of
// SQLite and PostgreSQL, with $n parameters (modernc.org/sqlite accepts them), so
// both stores run the same statements for queries but for wildcard matching
// (Dialect); transactions, locking and bulk writes differ.
package sqlstore

import (
	"encoding/json"
	"fmt"
	"unsafe"

	gojson "github.com/goccy/go-json"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// Columns are the columns of findings that a Row writes, in Row.Values order.
// feedback_comments is not among them: it is set only by Feedback, and an upsert
// leaves it alone.
var Columns = []string{
	"id", "account_id", "region", "type", "severity", "resource_type", "resource_id",
	"instance_id", "access_key_id", "action_type", "resource_role", "remote_ipv4",
	"api_remote_ipv4", "dns_domain", "archived", "user_feedback", "count",
	"created_at", "updated_at", "event_first_seen", "event_last_seen", "rev", "body",
}

// AttrColumn is the column of each store attribute (store.Attributes).
var AttrColumn = map[string]string{
	"id":                                    "id",
	"accountId":                             "account_id",
	"region":                                "region",
	"type":                                  "type",
	"severity":                              "severity",
	"createdAt":                             "created_at",
	"updatedAt":                             "updated_at",
	"resource.resourceType":                 "resource_type",
	"resource.instanceDetails.instanceId":   "instance_id",
	"resource.accessKeyDetails.accessKeyId": "access_key_id",
	"service.action.actionType":             "action_type",
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": "remote_ipv4",
	"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4":        "api_remote_ipv4",
	"service.action.dnsRequestAction.domain":                             "dns_domain",
	"service.archived":                                                   "archived",
	"service.resourceRole":                                               "resource_role",
	"service.count":                                                      "count",
	"service.eventFirstSeen":                                             "event_first_seen",
	"service.eventLastSeen":                                              "event_last_seen",
	"service.userFeedback":                                               "user_feedback",
}

// Row is one findings row.
type Row struct {
	ID, AccountID, Region, Type   string
	Severity                      float64
	ResourceType, ResourceID      string
	InstanceID, AccessKeyID       string
	ActionType, ResourceRole      string
	RemoteIPv4, APIRemoteIPv4     string
	DNSDomain                     string
	Archived                      bool
	UserFeedback                  string
	Count                         int64
	CreatedAt, UpdatedAt          int64
	EventFirstSeen, EventLastSeen int64
	// Rev is the row's revision, fresh for every write (see Cache).
	Rev  int64
	Body string
}

// RowOf returns the row of f: its JSON, the columns copied from it (strings
// passed through store.Text) and a new revision.
//
// The JSON is written by github.com/goccy/go-json, which writes what
// encoding/json writes (TestBodyIsEncodingJSON and FuzzBodyIsEncodingJSON
// hold it to that, byte for byte) in about a third of the time: encoding a
// finding is a good part of what an upsert costs the process.
func RowOf(f *finding.Finding) (Row, error) {
	body, err := gojson.Marshal(f)
	if err != nil {
		return Row{}, fmt.Errorf("finding %s: encode: %w", f.ID, err)
	}
	r := columnsOf(f)
	// body is Marshal's own copy, never written again: the string shares it
	// rather than copying a few kilobytes per finding.
	r.Rev, r.Body = NewRev(), unsafe.String(unsafe.SliceData(body), len(body))
	return r, nil
}

// RepeatColumns are the columns a repeat of a finding changes: the occurrence
// count and times, the archived flag (a suppressed occurrence), the revision
// and the JSON. When only these change, a store writes only these, which
// spares the indexes on the others (SQLite rewrites every index on a column an
// UPDATE sets, changed or not).
var RepeatColumns = []string{"archived", "count", "updated_at", "event_first_seen", "event_last_seen", "rev", "body"}

// RepeatValues returns the row's values in RepeatColumns order.
func (r *Row) RepeatValues() []any {
	return []any{r.Archived, r.Count, r.UpdatedAt, r.EventFirstSeen, r.EventLastSeen, r.Rev, r.Body}
}

// sameBut reports whether r and o agree on every column but RepeatColumns.
func (r *Row) sameBut(o *Row) bool {
	return r.ID == o.ID && r.AccountID == o.AccountID && r.Region == o.Region && r.Type == o.Type &&
		r.Severity == o.Severity && r.ResourceType == o.ResourceType && r.ResourceID == o.ResourceID &&
		r.InstanceID == o.InstanceID && r.AccessKeyID == o.AccessKeyID && r.ActionType == o.ActionType &&
		r.ResourceRole == o.ResourceRole && r.RemoteIPv4 == o.RemoteIPv4 && r.APIRemoteIPv4 == o.APIRemoteIPv4 &&
		r.DNSDomain == o.DNSDomain && r.UserFeedback == o.UserFeedback && r.CreatedAt == o.CreatedAt
}

// columnsOf returns the row of f without revision and body.
func columnsOf(f *finding.Finding) Row {
	a := &f.Service.Action
	r := Row{
		ID:             store.Text(f.ID),
		AccountID:      store.Text(f.AccountID),
		Region:         store.Text(f.Region),
		Type:           store.Text(string(f.Type)),
		Severity:       float64(f.Severity),
		ResourceType:   store.Text(string(f.Resource.ResourceType)),
		ResourceID:     store.Text(finding.ResourceID(&f.Resource)),
		ActionType:     store.Text(string(a.ActionType)),
		ResourceRole:   store.Text(string(f.Service.ResourceRole)),
		Archived:       f.Service.Archived,
		UserFeedback:   store.Text(f.Service.UserFeedback),
		Count:          f.Service.Count,
		CreatedAt:      int64(f.CreatedAt),
		UpdatedAt:      int64(f.UpdatedAt),
		EventFirstSeen: int64(f.Service.EventFirstSeen),
		EventLastSeen:  int64(f.Service.EventLastSeen),
	}
	if d := f.Resource.InstanceDetails; d != nil {
		r.InstanceID = store.Text(d.InstanceID)
	}
	if d := f.Resource.AccessKeyDetails; d != nil {
		r.AccessKeyID = store.Text(d.AccessKeyID)
	}
	if nc := a.NetworkConnectionAction; nc != nil && nc.RemoteIPDetails != nil {
		r.RemoteIPv4 = store.Text(nc.RemoteIPDetails.IPAddressV4)
	}
	if c := a.AWSAPICallAction; c != nil && c.RemoteIPDetails != nil {
		r.APIRemoteIPv4 = store.Text(c.RemoteIPDetails.IPAddressV4)
	}
	if d := a.DNSRequestAction; d != nil {
		r.DNSDomain = store.Text(d.Domain)
	}
	return r
}

// Values returns the row's values in Columns order.
func (r *Row) Values() []any {
	return []any{
		r.ID, r.AccountID, r.Region, r.Type, r.Severity, r.ResourceType, r.ResourceID,
		r.InstanceID, r.AccessKeyID, r.ActionType, r.ResourceRole, r.RemoteIPv4,
		r.APIRemoteIPv4, r.DNSDomain, r.Archived, r.UserFeedback, r.Count,
		r.CreatedAt, r.UpdatedAt, r.EventFirstSeen, r.EventLastSeen, r.Rev, r.Body,
	}
}

// Decode reads a stored finding: its JSON body, with the user's columns (archived,
// feedback) written over the body's copies, which Archive and Feedback do not
// update.
func Decode(body []byte, archived bool, feedback string) (finding.Finding, error) {
	var f finding.Finding
	if err := json.Unmarshal(body, &f); err != nil {
		return f, fmt.Errorf("decode stored finding: %w", err)
	}
	f.Service.Archived = archived
	f.Service.UserFeedback = feedback
	return f, nil
}
