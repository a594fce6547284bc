package query

import (
	"regexp"
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

// FuzzLiteralRegex holds the plain string tests that stand in for literal
// regexes to the regexp package's answers, case-insensitive ones included,
// on any text (Unicode case folds and invalid UTF-8 among it).
func FuzzLiteralRegex(f *testing.F) {
	for _, c := range [][2]string{
		{`(?i)distrib#kali`, "Boto3/1.9 md/distrib#KALI.2024"}, {`(?i)kali`, "\u212Aali"}, {`(?i)ss`, "\u017Fs"},
		{`(?i)abc`, "xAbC"}, {`(?i)abc`, "ab"}, {`(?i)a.b`, "A.B"}, {`(?i)#`, "x#"}, {`^abc$`, "abc"}, {`abc$`, "xabc"},
		{`^ab`, "abx"}, {`ab`, "xaby"}, {`(?i)é`, "É"}, {`(?i)x1`, "\xffX1"}, {`(?i)ab`, "aab"},
		{`(?i)^eni-nat$`, "ENI-NAT"}, {`(?i)^eni-nat$`, "eni-nat "}, {`(?i)^kali`, "\u212Aali linux"}, {`(?i)kali$`, "x KALI"},
		{`(?i)^ab`, "a"}, {`(?i)ab$`, "b"}, {`(?i)^s$`, "\u017F"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		match := literalRegex(pattern, re)
		if match == nil {
			return
		}
		if got, want := match(text), re.MatchString(text); got != want {
			t.Fatalf("literalRegex(%q)(%q) = %v, regexp says %v", pattern, text, got, want)
		}
	})
}
