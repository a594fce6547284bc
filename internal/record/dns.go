package record

import (
	"net/netip"
	"strconv"
	"strings"
)

// DNSQuery is one Route 53 Resolver query-log record: a query the VPC resolver had
// to answer (cached answers are not logged). Field names in the catalogue are the
// JSON keys, snake_case, as Logs Insights discovers them.
type DNSQuery struct {
	Present FieldSet

	Version                     string
	AccountID                   string
	Region                      string
	VPCID                       string
	Time                        int64  // query_timestamp, Unix milliseconds
	QueryName                   string // with its trailing dot, as logged
	QueryType                   string
	QueryClass                  string
	RCode                       string
	Answers                     []DNSAnswer
	SrcAddr                     netip.Addr
	SrcPort                     uint16 // logged as a string; kept as a number
	Transport                   string
	SrcInstance                 string // srcids.instance
	SrcResolverEndpoint         string // srcids.resolver_endpoint
	SrcResolverNetworkInterface string // srcids.resolver_network_interface
	FirewallRuleGroupID         string
	FirewallRuleAction          string
	FirewallDomainListID        string

	// Raw is the record's JSON text; it aliases the decoder's buffer and is valid
	// only as long as the batch that carried it. Path reads unknown keys from it.
	Raw    []byte
	Stream string
}

// DNSAnswer is one element of answers[].
type DNSAnswer struct {
	Rdata, Type, Class string
}

// The DNS query fields, in catalogue order.
const (
	DNSVersion FieldID = iota
	DNSAccountID
	DNSRegion
	DNSVPCID
	DNSQueryTimestamp
	DNSQueryName
	DNSQueryType
	DNSQueryClass
	DNSRCode
	DNSSrcAddr
	DNSSrcPort
	DNSTransport
	DNSSrcInstance
	DNSSrcResolverEndpoint
	DNSSrcResolverNetworkInterface
	DNSFirewallRuleGroupID
	DNSFirewallRuleAction
	DNSFirewallDomainListID
	DNSTimestamp
	DNSMessage
	DNSLogStream
	numDNSFields
)

// DNSCatalogue lists the Resolver query-log fields. It is open: answers.0.Rdata and
// keys added by newer log versions are reached through Path.
var DNSCatalogue = newCatalogue(KindDNS, true, []Field{
	{ID: DNSVersion, Name: "version", Type: TypeString, Doc: "log format version, e.g. 1.100000"},
	{ID: DNSAccountID, Name: "account_id", Type: TypeString, Doc: "account owning the VPC"},
	{ID: DNSRegion, Name: "region", Type: TypeString, Doc: "region of the VPC"},
	{ID: DNSVPCID, Name: "vpc_id", Type: TypeString, Doc: "VPC the query came from"},
	{ID: DNSQueryTimestamp, Name: "query_timestamp", Type: TypeTime, Doc: "when the query was received"},
	{ID: DNSQueryName, Name: "query_name", Type: TypeString, Doc: "queried name, with a trailing dot"},
	{ID: DNSQueryType, Name: "query_type", Type: TypeString, Doc: "A, AAAA, TXT, PTR…"},
	{ID: DNSQueryClass, Name: "query_class", Type: TypeString, Doc: "usually IN"},
	{ID: DNSRCode, Name: "rcode", Type: TypeString, Doc: "NOERROR, NXDOMAIN, SERVFAIL…"},
	{ID: DNSSrcAddr, Name: "srcaddr", Type: TypeAddr, Doc: "address of the querying host"},
	{ID: DNSSrcPort, Name: "srcport", Type: TypeInt, Doc: "source port (a string in the log)"},
	{ID: DNSTransport, Name: "transport", Type: TypeString, Doc: "UDP or TCP"},
	{ID: DNSSrcInstance, Name: "srcids.instance", Type: TypeString, Doc: "querying instance"},
	{ID: DNSSrcResolverEndpoint, Name: "srcids.resolver_endpoint", Type: TypeString, Doc: "inbound resolver endpoint"},
	{ID: DNSSrcResolverNetworkInterface, Name: "srcids.resolver_network_interface", Type: TypeString, Doc: "resolver endpoint ENI"},
	{ID: DNSFirewallRuleGroupID, Name: "firewall_rule_group_id", Type: TypeString, Doc: "DNS Firewall rule group that matched"},
	{ID: DNSFirewallRuleAction, Name: "firewall_rule_action", Type: TypeString, Doc: "ALERT, BLOCK or ALLOW"},
	{ID: DNSFirewallDomainListID, Name: "firewall_domain_list_id", Type: TypeString, Doc: "DNS Firewall domain list that matched"},
	{ID: DNSTimestamp, Name: "@timestamp", Type: TypeTime, Doc: "event time: query_timestamp"},
	{ID: DNSMessage, Name: "@message", Type: TypeString, Doc: "the raw JSON record"},
	{ID: DNSLogStream, Name: "@logStream", Type: TypeString, Doc: "the file or object the record came from"},
}, nil)

func init() { catalogues[KindDNS] = DNSCatalogue }

// Kind returns KindDNS.
func (q *DNSQuery) Kind() Kind { return KindDNS }

// Timestamp returns query_timestamp in Unix milliseconds.
func (q *DNSQuery) Timestamp() int64 { return q.Time }

// Get returns a catalogued field's value (record.Record).
func (q *DNSQuery) Get(id FieldID) Value {
	switch id {
	case DNSTimestamp:
		id = DNSQueryTimestamp
	case DNSMessage:
		if q.Raw == nil {
			return Value{}
		}
		return StringValue(unsafeString(q.Raw))
	case DNSLogStream:
		if q.Stream == "" {
			return Value{}
		}
		return StringValue(q.Stream)
	}
	if !q.Present.Has(id) {
		return Value{}
	}
	switch id {
	case DNSQueryTimestamp:
		return TimeValue(q.Time)
	case DNSSrcAddr:
		return AddrValue(q.SrcAddr)
	case DNSSrcPort:
		return IntValue(int64(q.SrcPort))
	}
	if p := q.StringField(id); p != nil {
		return StringValue(*p)
	}
	return Value{}
}

// StringField returns a pointer to the member holding a string field, or nil.
func (q *DNSQuery) StringField(id FieldID) *string {
	switch id {
	case DNSVersion:
		return &q.Version
	case DNSAccountID:
		return &q.AccountID
	case DNSRegion:
		return &q.Region
	case DNSVPCID:
		return &q.VPCID
	case DNSQueryName:
		return &q.QueryName
	case DNSQueryType:
		return &q.QueryType
	case DNSQueryClass:
		return &q.QueryClass
	case DNSRCode:
		return &q.RCode
	case DNSTransport:
		return &q.Transport
	case DNSSrcInstance:
		return &q.SrcInstance
	case DNSSrcResolverEndpoint:
		return &q.SrcResolverEndpoint
	case DNSSrcResolverNetworkInterface:
		return &q.SrcResolverNetworkInterface
	case DNSFirewallRuleGroupID:
		return &q.FirewallRuleGroupID
	case DNSFirewallRuleAction:
		return &q.FirewallRuleAction
	case DNSFirewallDomainListID:
		return &q.FirewallDomainListID
	}
	return nil
}

// Path returns answers.N.Rdata/Type/Class from the typed answers, and any other
// flattened path from the raw JSON (record.Record).
func (q *DNSQuery) Path(path string) Value {
	if rest, ok := strings.CutPrefix(path, "answers."); ok {
		idx, key, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 || n >= len(q.Answers) {
			return Value{}
		}
		switch key {
		case "Rdata":
			return StringValue(q.Answers[n].Rdata)
		case "Type":
			return StringValue(q.Answers[n].Type)
		case "Class":
			return StringValue(q.Answers[n].Class)
		}
		return Value{}
	}
	return JSONPath(q.Raw, path)
}

// Reset clears the record for reuse, keeping the Answers slice's capacity.
func (q *DNSQuery) Reset() {
	answers := q.Answers[:0]
	*q = DNSQuery{Answers: answers}
}
