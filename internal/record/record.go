// Package record defines the typed records vigil reads from logs — Flow (VPC Flow
// Logs), DNSQuery (Route 53 Resolver query logs) and APICall (CloudTrail) — and,
// for each kind, the catalogue of its fields under the names Logs Insights users
// write (srcAddr, query_name, userIdentity.arn, …).
//
// Records are plain structs with typed fields (netip.Addr, ports, counts, Unix
// times), not string maps: decoders fill them, and the query engine, the detection
// rules and the findings read them through the catalogue (Get by FieldID, or Path for
// the open-ended JSON kinds). The package depends on nothing but the standard
// library, so every other package may import it.
package record

import "fmt"

// Kind is the kind of a record: which log it comes from.
type Kind uint8

// The record kinds. The zero Kind is invalid, so a forgotten assignment shows.
const (
	KindFlow    Kind = iota + 1 // VPC Flow Logs (and later NetFlow/IPFIX)
	KindDNS                     // Route 53 Resolver query logs
	KindAPICall                 // CloudTrail events
)

// Kinds lists every record kind, in a fixed order.
var Kinds = []Kind{KindFlow, KindDNS, KindAPICall}

// String returns the kind's name as users write it (--kind flow|dns|cloudtrail).
func (k Kind) String() string {
	switch k {
	case KindFlow:
		return "flow"
	case KindDNS:
		return "dns"
	case KindAPICall:
		return "cloudtrail"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String; it also accepts a few common spellings.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "flow", "vpcflow", "vpcflowlogs":
		return KindFlow, nil
	case "dns", "dnslog", "resolver", "vpcdnsquerylogs":
		return KindDNS, nil
	case "cloudtrail", "apicall", "CloudTrail":
		return KindAPICall, nil
	}
	return 0, fmt.Errorf("unknown record kind %q (expected flow, dns or cloudtrail)", s)
}

// Record is what every record kind offers to the query engine and the detectors.
//
// Get and Path never allocate for catalogued fields of fixed type; they may return
// values whose strings alias the record (valid as long as the record is).
type Record interface {
	Kind() Kind
	// Timestamp is the record's event time in Unix milliseconds (@timestamp).
	Timestamp() int64
	// Get returns the value of a field of this kind's catalogue, or a Missing value
	// when the record does not have it (a '-' placeholder, an absent JSON key).
	Get(id FieldID) Value
	// Path returns the value at a flattened path that is not in the catalogue
	// (requestParameters.bucketName, answers.0.Rdata); Missing when absent. Kinds
	// with a fixed set of fields return Missing for every path.
	Path(path string) Value
}
