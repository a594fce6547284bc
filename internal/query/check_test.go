package query

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

// Most of the checker is specified by testdata/qtest (run by querytest);
// these tests cover its Go API.

func TestCheckInfersKinds(t *testing.T) {
	cases := []struct {
		query string
		want  []record.Kind
	}{
		{`filter dstPort = 22`, []record.Kind{record.KindFlow}},
		{`filter query_name like "x"`, []record.Kind{record.KindDNS}},
		{`filter eventName = "CreateUser"`, []record.Kind{record.KindAPICall}},
		{`stats count(*)`, record.Kinds},
		{`fields @timestamp, @message`, record.Kinds},
		// srcaddr is a flow alias and a Resolver field.
		{`filter srcaddr = "10.0.0.1"`, []record.Kind{record.KindFlow, record.KindDNS}},
		// Only JSON paths: the kinds whose events are JSON.
		{`filter requestParameters.bucketName = "b"`, []record.Kind{record.KindDNS, record.KindAPICall}},
		{`filter dstPort = 22 or query_type = "TXT"`, []record.Kind{record.KindFlow, record.KindDNS}},
		// A computed field names no kind.
		{`fields 1 as x | filter x = 1`, record.Kinds},
		// After stats, names are columns.
		{`stats count(*) as n by srcAddr | filter n > 1`, []record.Kind{record.KindFlow}},
	}
	for _, c := range cases {
		chk, _, err := ParseAndCheck(c.query, nil)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if !slices.Equal(chk.Kinds, c.want) {
			t.Errorf("%s: kinds %v, want %v", c.query, chk.Kinds, c.want)
		}
	}
}

func TestCheckGivenKinds(t *testing.T) {
	if _, _, err := ParseAndCheck(`filter requestParameters.x = 1`, []record.Kind{record.KindFlow}); err == nil {
		t.Error("a JSON path on flows only: want an error")
	}
	chk, _, err := ParseAndCheck(`stats count(*)`, []record.Kind{record.KindAPICall, record.KindFlow})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(chk.Kinds, []record.Kind{record.KindFlow, record.KindAPICall}) {
		t.Errorf("kinds %v: want them in record.Kinds order", chk.Kinds)
	}
}

func TestCheckErrorIsPositioned(t *testing.T) {
	src := "filter dstPort = 22\n  | stats count(*) by SrcAddr"
	_, _, err := ParseAndCheck(src, nil)
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("error %v is not a *query.Error", err)
	}
	if qe.Line != 2 || qe.Column != 23 || !strings.Contains(qe.Msg, "did you mean srcAddr?") {
		t.Errorf("got %d:%d %q", qe.Line, qe.Column, qe.Msg)
	}
	want := "2:23: unknown field SrcAddr; did you mean srcAddr? (field names are case-sensitive)\n  | stats count(*) by SrcAddr\n                      ^~~~~~~"
	if got := qe.Render(src); got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
	var j struct {
		Line, Column, Offset, EndOffset int
		Message                         string
	}
	b, _ := json.Marshal(qe)
	if err := json.Unmarshal(b, &j); err != nil || j.Line != 2 || j.Column != 23 || j.Offset != 42 || j.EndOffset != 49 {
		t.Errorf("json %s", b)
	}
}

func TestCheckReportsTheFirstError(t *testing.T) {
	_, _, err := ParseAndCheck(`filter nope1 = 1 and dstPort = 22 and nope2 = 2`, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "1:8:") {
		t.Errorf("got %v, want the error at 1:8", err)
	}
}

func TestColumnNames(t *testing.T) {
	src := `stats count(*), sum( bytes ), avg (bytes), count_distinct(concat(srcAddr, " : ", dstAddr)),
	  sum(bytes) / count(*) # a comment
	  * 100 by BIN(5m), dstPort`
	chk, _, err := ParseAndCheck(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range chk.Columns {
		got = append(got, c.Name)
	}
	want := []string{"BIN(5m)", "dstPort", "count(*)", "sum(bytes)", "avg(bytes)",
		`count_distinct(concat(srcAddr," : ",dstAddr))`, "sum(bytes)/count(*)*100"}
	if !slices.Equal(got, want) {
		t.Errorf("columns\n got %q\nwant %q", got, want)
	}
}

func TestCheckedStages(t *testing.T) {
	chk, _, err := ParseAndCheck(`fields bytes / packets as bpp, srcAddr | parse @message "* *" as a, b | stats count(*) as n, avg(bpp) by a | fields n * 2 as m`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := chk.PhaseSlots; !slices.Equal(got, []int{3, 4}) {
		t.Errorf("phase slots %v, want [3 4] (bpp a b; a n avg(bpp) m)", got)
	}
	if got := chk.Stages[0].Slots; !slices.Equal(got, []int{0, -1}) {
		t.Errorf("fields slots %v", got)
	}
	ss := chk.Stages[2].Stats
	if len(ss.Aggs) != 2 || ss.Aggs[0].Arg != nil || ss.Aggs[1].Slot != 4 {
		t.Errorf("aggregates %+v", ss.Aggs)
	}
	if n := len(chk.Columns); n != 4 {
		t.Errorf("%d columns, want a, n, avg(bpp), m", n)
	}
}

func testFlow() *record.Flow {
	f := &record.Flow{Version: 2, AccountID: "012345678901", InterfaceID: "eni-1",
		SrcPort: 40000, DstPort: 22, Protocol: 6, Packets: 3, Bytes: 180, Start: 1793491200, End: 1793491260,
		Action: record.ActionReject, LogStatus: record.LogStatusOK, Raw: []byte("2 012345678901 eni-1 …")}
	f.SrcAddr, f.DstAddr = mustAddr("10.10.3.17"), mustAddr("10.10.2.68")
	for id := record.FlowVersion; id <= record.FlowLogStatus; id++ {
		f.Present = f.Present.Add(id)
	}
	return f
}

func TestCompileFilter(t *testing.T) {
	flow := testFlow()
	dns := &record.DNSQuery{QueryName: "evil.example.com.", QueryType: "TXT", SrcPort: 53000,
		Answers: []record.DNSAnswer{{Rdata: "1.2.3.4", Type: "A", Class: "IN"}},
		Raw:     []byte(`{"query_name":"evil.example.com.","answers":[{"Rdata":"1.2.3.4"}],"srcport":"53000"}`)}
	dns.Present = dns.Present.Add(record.DNSQueryName).Add(record.DNSQueryType).Add(record.DNSSrcPort)
	call := &record.APICall{EventName: "ConsoleLogin", ReadOnly: "false", Raw: []byte(`{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"},"readOnly":false}`)}
	call.Present = call.Present.Add(record.CallEventName).Add(record.CallReadOnly)
	cases := []struct {
		kind record.Kind
		rec  record.Record
		expr string
		want bool
	}{
		{record.KindFlow, flow, `dstPort = 22`, true},
		{record.KindFlow, flow, `dstPort = "22"`, true},
		{record.KindFlow, flow, `dstPort in [23, 3389]`, false},
		{record.KindFlow, flow, `action = "REJECT" and srcAddr like "10.10."`, true},
		{record.KindFlow, flow, `action != "ACCEPT"`, true},
		{record.KindFlow, flow, `isIpv4InSubnet(srcAddr, "10.10.0.0/16") and not isPublicIP(dstAddr)`, true},
		{record.KindFlow, flow, `vpcId = "vpc-1"`, false},
		{record.KindFlow, flow, `vpcId != "vpc-1"`, false},
		{record.KindFlow, flow, `not ispresent(vpcId)`, true},
		{record.KindFlow, flow, `accountId = "012345678901"`, true},
		{record.KindFlow, flow, `accountId = 12345678901`, true},
		{record.KindFlow, flow, `bytes / packets >= 60`, true},
		{record.KindFlow, flow, `srcaddr = "10.10.3.17"`, true},
		{record.KindFlow, flow, `interfaceId =~ /^ENI/`, false},
		{record.KindFlow, flow, `interfaceId =~ /(?i)^ENI/`, true},
		{record.KindDNS, dns, `query_name like /\.example\.com\.$/ and query_type = "TXT"`, true},
		{record.KindDNS, dns, `answers.0.Rdata = "1.2.3.4" and srcport > 50000`, true},
		{record.KindAPICall, call, `eventName = "ConsoleLogin" and additionalEventData.MFAUsed != "Yes"`, true},
		{record.KindAPICall, call, `readOnly = "false"`, true},
	}
	for _, c := range cases {
		e, _, err := ParseExpr(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		f, err := CompileFilter(e, c.kind)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := f(c.rec); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.expr, c.kind, got, c.want)
		}
	}
}

func TestCompileFilterErrors(t *testing.T) {
	cases := []struct {
		kind      record.Kind
		expr, err string
	}{
		{record.KindFlow, `dstport = 22 and SrcAddr = "x"`, `1:18: unknown field SrcAddr; did you mean srcAddr?`},
		{record.KindFlow, `query_name = "x"`, `1:1: unknown field query_name: flow records have no such field (query_name is a field of dns records)`},
		{record.KindFlow, `count(*) > 1`, `1:1: count is an aggregate function`},
		{record.KindDNS, `bin(5m) > 0`, ``},
		{record.KindAPICall, `eventname = "x"`, `1:1: unknown field eventname; did you mean eventName?`},
	}
	for _, c := range cases {
		_, _, err := ParseFilter(c.expr, c.kind)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.expr, err)
		case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), c.err)):
			t.Errorf("%s: got %v, want %q", c.expr, err, c.err)
		}
	}
}

func TestParseFilterWarns(t *testing.T) {
	_, ws, err := ParseFilter(`srcAddr like ‘10.10.’`, record.KindFlow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || !strings.Contains(ws[1].Msg, "isIpv4InSubnet(srcAddr, \"10.10.0.0/16\")") {
		t.Errorf("warnings %v", ws)
	}
}

// TestCompileFilterAllocs checks that the common filters allocate nothing
// per record: detection rules run them on every event.
func TestCompileFilterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	flow := testFlow()
	for _, expr := range []string{
		`dstPort = 22`, `action = "REJECT"`, `srcAddr like "10.10." and dstAddr like "10.10.2.68"`,
		`isIpv4InSubnet(srcAddr, "10.10.0.0/16")`, `dstPort in [22, 3389] or protocol = 17`,
		`not ispresent(vpcId) and bytes > 100`, `interfaceId like /^eni-/`, `srcAddr = "10.10.3.17"`,
		`dstPort = "22"`, `interfaceId =~ /e.i/`,
	} {
		f, _, err := ParseFilter(expr, record.KindFlow)
		if err != nil {
			t.Fatal(err)
		}
		f(flow)
		if n := testing.AllocsPerRun(200, func() { f(flow) }); n != 0 {
			t.Errorf("%s: %.1f allocations per record", expr, n)
		}
	}
}

func TestCompileFilterConcurrent(t *testing.T) {
	f, _, err := ParseFilter(`srcAddr like "10.10." and dstPort = 22`, record.KindFlow)
	if err != nil {
		t.Fatal(err)
	}
	flow := testFlow()
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 1000 {
				ok = ok && f(flow)
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a concurrent filter gave a wrong answer")
		}
	}
}
