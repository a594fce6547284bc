package query

import (
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

// FuzzFilter checks that no filter expression makes the checker or the
// evaluator panic, on a record of each kind (the query-level fuzz target,
// over whole pipelines, is exec's FuzzQuery).
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`dstPort = 22`, `srcAddr like "10.10."`, `isIpv4InSubnet(srcAddr, "10.0.0.0/8")`,
		`jsonParse(@message).a[0].b = 1`, `substr(query_name, -1, 99) = "x"`, `bin(5m) > 0`,
		`case(a, 1, b, 2, 3) > 0`, `parseDate(eventTime, "yyyy-MM-dd'T'HH:mm:ss'Z'") > 0`,
		`split(@message, " ")[2] = "x"`, `regexReplace(@message, "a+", "$1") like /b/`,
		`round(bytes / packets, -3) ^ 2 % 7 != 1`, `not not not ispresent(x)`,
	} {
		f.Add(s)
	}
	flow := testFlow()
	dns := &record.DNSQuery{QueryName: "a.example.com.", Raw: []byte(`{"query_name":"a.example.com.","answers":[]}`)}
	dns.Present = dns.Present.Add(record.DNSQueryName)
	call := &record.APICall{EventName: "X", Raw: []byte(`{"eventName":"X","requestParameters":{"a":[1,{"b":"c"}]}}`)}
	call.Present = call.Present.Add(record.CallEventName)
	recs := map[record.Kind]record.Record{record.KindFlow: flow, record.KindDNS: dns, record.KindAPICall: call}
	f.Fuzz(func(t *testing.T, src string) {
		for kind, rec := range recs {
			fn, _, err := ParseFilter(src, kind)
			if err == nil {
				fn(rec)
			}
		}
	})
}
