package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// awsFile is CloudTrail's documented example log file: an IAM user starting an
// instance (AWS CloudTrail User Guide, "CloudTrail log file examples"; the eventTime
// quoted in shared/reference/formats-and-tools.md §1.3).
const awsFile = `{"Records": [{
    "eventVersion": "1.0",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "EX_PRINCIPAL_ID",
        "arn": "arn:aws:iam::123456789012:user/Alice",
        "accessKeyId": "EXAMPLE_KEY_ID",
        "accountId": "123456789012",
        "userName": "Alice"
    },
    "eventTime": "2014-03-06T21:22:54Z",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "StartInstances",
    "awsRegion": "us-east-2",
    "sourceIPAddress": "205.251.233.176",
    "userAgent": "ec2-api-tools 1.6.12.2",
    "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-ebeaf9e2"}]}},
    "responseElements": {"instancesSet": {"items": [{
        "instanceId": "i-ebeaf9e2",
        "currentState": {"code": 0, "name": "pending"},
        "previousState": {"code": 80, "name": "stopped"}
    }]}}
}]}
`

// consoleLogin is a failed console sign-in as CloudTrail documents it: no access
// key, responseElements.ConsoleLogin, additionalEventData.MFAUsed, errorMessage.
const consoleLogin = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","accountId":"111122223333","accessKeyId":"","userName":"JohnDoe"},"eventTime":"2021-08-24T16:48:16Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.100","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","errorMessage":"Failed authentication","requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"eventID":"19a9f5e8-fd7a-4a6f-9d1f-5f9c5f0e7a2b","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"signin.aws.amazon.com"}}`

// serviceCall is an AWS service acting for a user: an AWSService identity with
// invokedBy, a service name as sourceIPAddress, no userAgent, an errorCode.
const serviceCall = `{"eventVersion":"1.05","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2020-09-14T00:44:25Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"us-east-1","sourceIPAddress":"ec2.amazonaws.com","errorCode":"AccessDenied","errorMessage":"not authorized","requestParameters":{"roleArn":"arn:aws:iam::123456789123:role/Web","roleSessionName":"i-0317f6c6b66ae9c40"},"responseElements":null,"resources":[{"ARN":"arn:aws:iam::123456789123:role/Web","accountId":"123456789123","type":"AWS::IAM::Role"}],"requestID":"r1","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"123456789123","sharedEventID":"s1"}`

// assumedRole has the session context fields.
const assumedRole = `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0317f6c6b66ae9c40","arn":"arn:aws:sts::123456789123:assumed-role/Web/i-0317f6c6b66ae9c40","accountId":"123456789123","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789123:role/Web","accountId":"123456789123","userName":"Web"},"webIdFederationData":{},"attributes":{"creationDate":"2020-09-14T00:40:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"eventTime":"2020-09-14T00:50:01.123Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"2001:db8::7","userAgent":"[aws-cli/2.0]","requestParameters":{"bucketName":"cardholder-data","key":"a/b.csv","Host":"cardholder-data.s3.amazonaws.com"},"responseElements":null,"additionalEventData":{"bytesTransferredOut":28441,"SignatureVersion":"SigV4"},"requestID":"r2","eventID":"e2","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::cardholder-data/a/b.csv"},{"accountId":"123456789123","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::cardholder-data"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789123","vpcEndpointId":"vpce-1","eventCategory":"Data"}`

type result struct {
	calls    []record.APICall
	problems []decode.Problem
	stats    decode.Stats
}

func decodeReader(t testing.TB, name string, r io.Reader) result {
	t.Helper()
	var res result
	st, err := New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: name}, r, func(b *decode.Batch) error {
		if b.Kind != record.KindAPICall || b.Len() != len(b.Calls) || b.Len() == 0 || b.Len() > decode.BatchSize || b.Input.Name != name {
			t.Fatalf("bad batch: %v %d", b.Kind, b.Len())
		}
		for _, c := range b.Calls {
			c.Raw = bytes.Clone(c.Raw)
			res.calls = append(res.calls, c)
		}
		return nil
	}, func(p decode.Problem) { res.problems = append(res.problems, p) })
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	res.stats = st
	if st.Records != int64(len(res.calls)) || st.SkippedTotal() != int64(len(res.problems)) {
		t.Errorf("stats %+v for %d calls, %d problems", st, len(res.calls), len(res.problems))
	}
	return res
}

func decodeString(t testing.TB, in string) result {
	t.Helper()
	return decodeReader(t, "test.json", strings.NewReader(in))
}

func ms(s string) int64 {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm.UnixMilli()
}

// get returns a field by its Logs Insights name, or a path.
func get(c *record.APICall, name string) record.Value {
	if f, ok := record.APICallCatalogue.Lookup(name); ok {
		return c.Get(f.ID)
	}
	return c.Path(name)
}

func checkFields(t *testing.T, c *record.APICall, want map[string]string) {
	t.Helper()
	for name, w := range want {
		v := get(c, name)
		if w == "<missing>" {
			if !v.IsMissing() {
				t.Errorf("%s = %q; want missing", name, v.String())
			}
			continue
		}
		if v.IsMissing() || v.String() != w {
			t.Errorf("%s = %q (kind %d); want %q", name, v.String(), v.Kind, w)
		}
	}
}

func TestAWSExampleFile(t *testing.T) {
	res := decodeString(t, awsFile)
	if len(res.calls) != 1 || len(res.problems) != 0 {
		t.Fatalf("%d calls, problems %v", len(res.calls), res.problems)
	}
	c := &res.calls[0]
	checkFields(t, c, map[string]string{
		"eventVersion": "1.0", "eventTime": "2014-03-06 21:22:54.000", "@timestamp": "2014-03-06 21:22:54.000",
		"eventSource": "ec2.amazonaws.com", "eventName": "StartInstances", "awsRegion": "us-east-2",
		"sourceIPAddress": "205.251.233.176", "userAgent": "ec2-api-tools 1.6.12.2",
		"userIdentity.type": "IAMUser", "userIdentity.principalId": "EX_PRINCIPAL_ID",
		"userIdentity.arn": "arn:aws:iam::123456789012:user/Alice", "userIdentity.accessKeyId": "EXAMPLE_KEY_ID",
		"userIdentity.accountId": "123456789012", "userIdentity.userName": "Alice", "@logStream": "test.json",
		"requestParameters.instancesSet.items.0.instanceId":        "i-ebeaf9e2",
		"responseElements.instancesSet.items.0.currentState.name":  "pending",
		"responseElements.instancesSet.items.0.previousState.code": "80",
		"errorCode": "<missing>", "readOnly": "<missing>", "eventID": "<missing>", "userIdentity.invokedBy": "<missing>",
	})
	if c.SourceIP != netip.MustParseAddr("205.251.233.176") || c.EventTime != ms("2014-03-06T21:22:54Z") {
		t.Errorf("SourceIP %v EventTime %d", c.SourceIP, c.EventTime)
	}
	if !json.Valid(c.Raw) || !strings.Contains(string(c.Raw), `"StartInstances"`) || string(get(c, "@message").String()) != string(c.Raw) {
		t.Errorf("Raw = %s", c.Raw)
	}
}

func TestOddFields(t *testing.T) {
	res := decodeString(t, consoleLogin+"\n"+serviceCall+"\n"+assumedRole+"\n")
	if len(res.calls) != 3 || len(res.problems) != 0 {
		t.Fatalf("%d calls, problems %v", len(res.calls), res.problems)
	}
	checkFields(t, &res.calls[0], map[string]string{
		"eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "errorMessage": "Failed authentication",
		"errorCode": "<missing>", "responseElements.ConsoleLogin": "Failure", "additionalEventData.MFAUsed": "No",
		"readOnly": "false", "managementEvent": "true", "eventCategory": "Management", "tlsDetails.tlsVersion": "TLSv1.2",
		"userIdentity.accessKeyId": "", "userIdentity.arn": "<missing>", "requestParameters": "<missing>",
	})
	svc := &res.calls[1]
	checkFields(t, svc, map[string]string{
		"userIdentity.type": "AWSService", "userIdentity.invokedBy": "ec2.amazonaws.com",
		"sourceIPAddress": "ec2.amazonaws.com", "userAgent": "<missing>", "errorCode": "AccessDenied",
		"resources.0.ARN": "arn:aws:iam::123456789123:role/Web", "sharedEventID": "s1", "userIdentity.arn": "<missing>",
	})
	if svc.SourceIP.IsValid() {
		t.Errorf("service name parsed as address %v", svc.SourceIP)
	}
	ar := &res.calls[2]
	checkFields(t, ar, map[string]string{
		"userIdentity.type": "AssumedRole", "userIdentity.sessionContext.sessionIssuer.type": "Role",
		"userIdentity.sessionContext.sessionIssuer.arn":           "arn:aws:iam::123456789123:role/Web",
		"userIdentity.sessionContext.sessionIssuer.userName":      "Web",
		"userIdentity.sessionContext.attributes.mfaAuthenticated": "false",
		"userIdentity.sessionContext.ec2RoleDelivery":             "2.0",
		"userIdentity.sessionContext.attributes.creationDate":     "2020-09-14T00:40:00Z",
		"vpcEndpointId": "vpce-1", "readOnly": "true", "managementEvent": "false", "eventCategory": "Data",
		"requestParameters.bucketName": "cardholder-data", "additionalEventData.bytesTransferredOut": "28441",
		"resources.1.ARN": "arn:aws:s3:::cardholder-data", "eventTime": "2020-09-14 00:50:01.123",
	})
	if ar.SourceIP != netip.MustParseAddr("2001:db8::7") {
		t.Errorf("IPv6 SourceIP = %v", ar.SourceIP)
	}
}

func TestParseSourceIP(t *testing.T) {
	for in, want := range map[string]string{
		"205.251.233.176": "205.251.233.176", "035.249.253.232": "35.249.253.232", "253.252.51.07": "253.252.51.7",
		"2001:db8::7": "2001:db8::7", "::ffff:10.1.2.3": "10.1.2.3",
		"ec2.amazonaws.com": "invalid IP", "AWS Internal": "invalid IP", "": "invalid IP", "256.1.1.1": "invalid IP",
		"1.2.3": "invalid IP", "1.2.3.4.5": "invalid IP", "fe80::1%eth0": "invalid IP", "0001.2.3.4": "invalid IP",
	} {
		if got := ParseSourceIP(in).String(); got != want {
			t.Errorf("ParseSourceIP(%q) = %s; want %s", in, got, want)
		}
	}
}

// TestShapes decodes the same three events in every shape the package reads and
// expects the same typed records from each.
func TestShapes(t *testing.T) {
	events := []string{consoleLogin, serviceCall, assumedRole}
	quoted := func(s string) string { q, _ := json.Marshal(s); return string(q) }
	var eb, lookup, lines, pretty []string
	for i, e := range events {
		eb = append(eb, fmt.Sprintf(`{"version":"0","id":"id-%d","detail-type":"AWS API Call via CloudTrail","source":"aws.sts","account":"123456789123","time":"2020-09-14T00:44:25Z","region":"us-east-1","resources":[],"detail":%s}`, i, e))
		lookup = append(lookup, fmt.Sprintf(`{"EventId":"e%d","EventName":"X","ReadOnly":"true","EventTime":1600044265.0,"EventSource":"sts.amazonaws.com","Resources":[],"CloudTrailEvent":%s}`, i, quoted(e)))
		lines = append(lines, e)
		var v any
		_ = json.Unmarshal([]byte(e), &v)
		p, _ := json.MarshalIndent(v, "   ", "   ")
		pretty = append(pretty, "   "+string(p))
	}
	shapes := map[string]string{
		"records file":        `{"Records":[` + strings.Join(events, ",") + `]}`,
		"records file, lines": "{\"Records\": [\n" + strings.Join(events, ",\n") + "\n]}\n",
		"json lines":          strings.Join(lines, "\n") + "\n",
		"crlf lines":          strings.Join(lines, "\r\n"),
		"back to back":        strings.Join(events, ""),
		"bare array":          "[" + strings.Join(events, ",") + "]",
		"pretty array":        "[\n" + strings.Join(pretty, ",\n") + "\n]\n",
		"concatenated files":  `{"Records":[` + events[0] + `]}{"Records":[` + events[1] + `,` + events[2] + `]}`,
		"eventbridge lines":   strings.Join(eb, "\n"),
		"eventbridge array":   "[" + strings.Join(eb, ",") + "]",
		"lookup-events":       `{"Events":[` + strings.Join(lookup, ",") + `],"NextToken":"abc"}`,
		"mixed":               `{"Records":[` + events[0] + "]}\n" + eb[1] + "\n" + lookup[2],
	}
	want := decodeString(t, strings.Join(lines, "\n"))
	if len(want.calls) != 3 {
		t.Fatalf("baseline: %d calls %v", len(want.calls), want.problems)
	}
	for name, in := range shapes {
		t.Run(name, func(t *testing.T) {
			res := decodeReader(t, "test.json", iotest.HalfReader(strings.NewReader(in)))
			if len(res.calls) != 3 || len(res.problems) != 0 {
				t.Fatalf("%d calls, problems %v", len(res.calls), res.problems)
			}
			for i := range res.calls {
				got, exp := res.calls[i], want.calls[i]
				if !json.Valid(got.Raw) || got.Path("eventID").String() != exp.Path("eventID").String() {
					t.Errorf("event %d: Raw is not the event: %.80s", i, got.Raw)
				}
				got.Raw, exp.Raw = nil, nil
				if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", exp) {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, got, exp)
				}
			}
		})
	}
}

func TestLake(t *testing.T) {
	// An integration event: CloudTrail's fields outside, the source's in eventData.
	integration := `{"eventVersion":"1.0","eventCategory":"ActivityAuditLog","eventType":"ActivityLog","eventID":"lake-1","eventTime":"2023-01-05T13:51:00Z","awsRegion":"us-east-1","recipientAccountId":"111122223333","metadata":{"ingestionTime":"2023-01-05T13:52:00Z","channelARN":"arn:aws:cloudtrail:us-east-1:111122223333:channel/x"},"eventData":{"version":"1","userIdentity":{"type":"okta-user","principalId":"00u1","details":{"email":"a@example.com"}},"userAgent":"okta","eventSource":"okta.com","eventName":"user.session.start","eventTime":"2023-01-05T13:50:59Z","UID":"u-1","requestParameters":{"k":"v"},"sourceIPAddress":"198.51.100.7","errorCode":"FAILURE","recipientAccountId":"111122223333"}}`
	// The same with eventData as a JSON string, as PutAuditEvents takes it.
	var m map[string]any
	_ = json.Unmarshal([]byte(integration), &m)
	inner, _ := json.Marshal(m["eventData"])
	m["eventData"] = string(inner)
	asString, _ := json.Marshal(m)
	// get-query-results: one row with eventJson, one rebuilt from its columns.
	evJSON, _ := json.Marshal(map[string]string{"eventJson": serviceCall})
	rows := `{"QueryStatus":"FINISHED","QueryStatistics":{"ResultsCount":2,"TotalResultsCount":2,"BytesScanned":1},"QueryResultRows":[` +
		`[{"eventID":"x1"},` + string(evJSON) + `],` +
		`[{"eventVersion":"1.08"},{"userIdentity":"{type=AssumedRole, principalid=AROA1:s, arn=arn:aws:sts::111122223333:assumed-role/R/s, accountid=111122223333, accesskeyid=ASIA1, username=null, sessioncontext={attributes={creationdate=2023-01-05 13:00:00.000, mfaauthenticated=false}, sessionissuer={type=Role, principalid=AROA1, arn=arn:aws:iam::111122223333:role/R, accountid=111122223333, username=R}, webidfederationdata=null, sourceidentity=null, ec2roledelivery=2.0}, invokedby=null, identityprovider=null}"},{"eventTime":"2023-01-05 13:51:00.000"},{"eventSource":"iam.amazonaws.com"},{"eventName":"CreateUser"},{"sourceIPAddress":"203.0.113.5"},{"readOnly":"false"},{"requestParameters":"{\"userName\":\"backdoor\"}"}]]}`
	res := decodeString(t, integration+"\n"+string(asString)+"\n"+rows)
	if len(res.calls) != 4 || len(res.problems) != 0 {
		t.Fatalf("%d calls, problems %v", len(res.calls), res.problems)
	}
	for i, c := range res.calls[:2] {
		checkFields(t, &c, map[string]string{
			"eventName": "user.session.start", "eventSource": "okta.com", "eventType": "ActivityLog",
			"eventCategory": "ActivityAuditLog", "eventID": "lake-1", "eventTime": "2023-01-05 13:51:00.000",
			"userIdentity.type": "okta-user", "userIdentity.principalId": "00u1", "sourceIPAddress": "198.51.100.7",
			"errorCode": "FAILURE", "userAgent": "okta",
		})
		if c.SourceIP != netip.MustParseAddr("198.51.100.7") {
			t.Errorf("lake event %d SourceIP = %v", i, c.SourceIP)
		}
	}
	if v := res.calls[0].Path("eventData.requestParameters.k").String(); v != "v" {
		t.Errorf("eventData path = %q", v)
	}
	if v := res.calls[1].Path("requestParameters.k").String(); v != "v" {
		t.Errorf("string eventData path = %q", v)
	}
	checkFields(t, &res.calls[2], map[string]string{"eventName": "AssumeRole", "userIdentity.invokedBy": "ec2.amazonaws.com"})
	checkFields(t, &res.calls[3], map[string]string{
		"eventName": "CreateUser", "eventTime": "2023-01-05 13:51:00.000", "userIdentity.type": "AssumedRole",
		"userIdentity.arn": "arn:aws:sts::111122223333:assumed-role/R/s", "userIdentity.accessKeyId": "ASIA1",
		"userIdentity.userName": "<missing>", "userIdentity.sessionContext.sessionIssuer.userName": "R",
		"userIdentity.sessionContext.attributes.mfaAuthenticated": "false", "userIdentity.sessionContext.ec2RoleDelivery": "2.0",
		"readOnly": "false", "sourceIPAddress": "203.0.113.5",
	})
}

func TestBadInput(t *testing.T) {
	good := consoleLogin
	cases := []struct {
		name, bad, reason string
	}{
		{"not JSON", "this is not CloudTrail, just text", "bad JSON"},
		{"truncated event", good[:len(good)/2], "truncated"},
		{"invalid UTF-8", strings.Replace(good, "JohnDoe", "John\xffDoe", 1), "invalid UTF-8"},
		{"missing eventTime", strings.Replace(good, `"eventTime":"2021-08-24T16:48:16Z",`, "", 1), "missing eventTime"},
		{"missing eventName", strings.Replace(good, `"eventName":"ConsoleLogin",`, "", 1), "missing eventName"},
		{"bad eventTime", strings.Replace(good, `"2021-08-24T16:48:16Z"`, `"last tuesday"`, 1), "bad eventTime"},
		{"numeric eventTime", strings.Replace(good, `"2021-08-24T16:48:16Z"`, `1629823696`, 1), "wrong type"},
		{"eventName a number", strings.Replace(good, `"ConsoleLogin"`, `42`, 1), "wrong type"},
		{"userIdentity a string", strings.Replace(serviceCall, `{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}`, `"root"`, 1), "wrong type"},
		{"readOnly an object", strings.Replace(good, `"readOnly":false`, `"readOnly":{}`, 1), "wrong type"},
		{"not an event", `{"awsAccountId":"111122223333","digestStartTime":"2021-08-24T16:00:00Z","logFiles":[]}`, "not a CloudTrail event"},
		{"not an object", `"just a string"`, "not an object"},
		{"EventBridge non-CloudTrail", `{"detail-type":"EC2 Instance State-change Notification","detail":"x"}`, "not a CloudTrail event"},
		{"JSON bomb", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "too deep"},
		{"object bomb", `{"eventName":"x","eventTime":"2021-08-24T16:48:16Z","a":` + strings.Repeat(`{"b":`, 70) + "1" + strings.Repeat("}", 70) + "}", "too deep"},
		{"20 MB event", `{"eventName":"x","eventTime":"2021-08-24T16:48:16Z","pad":"` + strings.Repeat("p", 20<<20) + `"}`, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := decodeString(t, good+"\n"+c.bad+"\n"+good+"\n")
			if len(res.calls) != 2 || len(res.problems) != 1 {
				t.Fatalf("%d calls, problems %v; want 2 calls and one problem", len(res.calls), res.problems)
			}
			p := res.problems[0]
			wantLine := int64(2)
			if strings.HasPrefix(c.bad, "[") {
				wantLine = 1 // record 1 of the array
			}
			if p.Reason != c.reason || p.Input != "test.json" || p.Line != wantLine || res.stats.Skipped[c.reason] != 1 {
				t.Errorf("problem %+v; want %q at line %d", p, c.reason, wantLine)
			}
			if len(p.Detail) > 300 {
				t.Errorf("detail of %d bytes", len(p.Detail))
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	t.Run("not JSON at all", func(t *testing.T) {
		res := decodeString(t, "PK\x03\x04 this is a zip file\n\x00\x01\x02\nmore\n")
		if len(res.calls) != 0 || len(res.problems) != 1 || res.problems[0].Reason != "bad JSON" || res.problems[0].Line != 1 {
			t.Errorf("calls %d, problems %v", len(res.calls), res.problems)
		}
	})
	t.Run("truncated records file", func(t *testing.T) {
		in := `{"Records":[` + consoleLogin + "," + serviceCall + "," + assumedRole + `]}`
		cut := strings.Index(in, assumedRole) + 100
		res := decodeString(t, in[:cut])
		if len(res.calls) != 2 || len(res.problems) != 1 || res.problems[0].Reason != "truncated" || res.problems[0].Line != 3 {
			t.Errorf("calls %d, problems %v; want 2 and record 3 truncated", len(res.calls), res.problems)
		}
	})
	t.Run("truncated between records", func(t *testing.T) {
		in := `{"Records":[` + consoleLogin + "," + serviceCall + ","
		res := decodeString(t, in)
		if len(res.calls) != 2 || len(res.problems) != 1 || res.problems[0].Reason != "truncated" {
			t.Errorf("calls %d, problems %v", len(res.calls), res.problems)
		}
	})
	t.Run("bad record inside a records file", func(t *testing.T) {
		in := `{"Records":[` + consoleLogin + `,{"eventName":"x","eventTime":"nope"},` + serviceCall + `]}`
		res := decodeString(t, in)
		if len(res.calls) != 2 || len(res.problems) != 1 || res.problems[0].Line != 2 || res.problems[0].Reason != "bad eventTime" {
			t.Errorf("calls %d, problems %v", len(res.calls), res.problems)
		}
	})
	t.Run("empty", func(t *testing.T) {
		for _, in := range []string{"", "\n\n", `{"Records":[]}`, "[]"} {
			if res := decodeString(t, in); len(res.calls)+len(res.problems) != 0 {
				t.Errorf("%q: %d calls, problems %v", in, len(res.calls), res.problems)
			}
		}
	})
}

func TestParseMessage(t *testing.T) {
	var c record.APICall
	for _, msg := range []string{assumedRole, `{"detail-type":"AWS API Call via CloudTrail","detail":` + assumedRole + `}`} {
		c.Stream = "old"
		if err := ParseMessage([]byte(msg), &c); err != nil {
			t.Fatal(err)
		}
		if c.EventName != "GetObject" || c.Stream != "" || c.UserARN == "" || c.Path("requestParameters.key").String() != "a/b.csv" {
			t.Errorf("got %+v", c)
		}
	}
	err := ParseMessage([]byte(`{"eventName":"x"}`), &c)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != ReasonNoEventTime || !strings.HasPrefix(err.Error(), "missing eventTime: ") {
		t.Errorf("err = %v", err)
	}
	if err := ParseMessage([]byte(strings.Repeat(`{"a":`, 100)+"1"+strings.Repeat("}", 100)), &c); !errors.As(err, &re) || re.Reason != ReasonTooDeep {
		t.Errorf("bomb: %v", err)
	}
	if err := ParseMessage([]byte("garbage"), &c); !errors.As(err, &re) || re.Reason != ReasonNotObject {
		t.Errorf("garbage: %v", err)
	}
}

func TestBatchesAndEmitError(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	const n = 2*decode.BatchSize + 5
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Replace(serviceCall, `"eventID":"e1"`, fmt.Sprintf(`"eventID":"e%d"`, i), 1))
	}
	b.WriteString("]}")
	next := 0
	_, err := New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "b"}, strings.NewReader(b.String()), func(bt *decode.Batch) error {
		for i := range bt.Calls {
			c := &bt.Calls[i]
			if want := fmt.Sprintf("e%d", next); c.EventID != want || c.Path("eventID").String() != want {
				t.Fatalf("record %d: %s / %s", next, c.EventID, c.Path("eventID"))
			}
			next++
		}
		return nil
	}, nil)
	if err != nil || next != n {
		t.Errorf("err %v, %d records", err, next)
	}
	stop := errors.New("stop")
	_, err = New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "b"}, strings.NewReader(b.String()), func(*decode.Batch) error { return stop }, nil)
	if !errors.Is(err, stop) {
		t.Errorf("emit error: %v", err)
	}
	boom := errors.New("boom")
	_, err = New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "x.json"}, io.MultiReader(strings.NewReader(consoleLogin+"\n"), iotest.ErrReader(boom)), func(*decode.Batch) error { return nil }, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "decode cloudtrail x.json") {
		t.Errorf("read error: %v", err)
	}
}

// TestStratusRedTeam decodes every record of the 35 Stratus Red Team detonation
// captures (bare JSON arrays) and checks each technique's API calls.
func TestStratusRedTeam(t *testing.T) {
	dir := filepath.Join(sharedData(t), "stratus-red-team-detonation-logs")
	// Technique → number of records, and eventNames the technique must show.
	want := map[string]struct {
		n     int
		names []string
	}{
		"aws.credential-access.ec2-get-password-data":                 {34, []string{"GetPasswordData", "AssumeRole"}},
		"aws.credential-access.ec2-steal-instance-credentials":        {45, []string{"SendCommand", "DescribeInstanceInformation", "GetCallerIdentity", "DescribeInstances", "GetCommandInvocation"}},
		"aws.credential-access.secretsmanager-batch-retrieve-secrets": {5, []string{"BatchGetSecretValue"}},
		"aws.credential-access.secretsmanager-retrieve-secrets":       {21, []string{"GetSecretValue", "ListSecrets"}},
		"aws.credential-access.ssm-retrieve-securestring-parameters":  {10, []string{"DescribeParameters", "GetParameters"}},
		"aws.defense-evasion.cloudtrail-delete":                       {1, []string{"DeleteTrail"}},
		"aws.defense-evasion.cloudtrail-event-selectors":              {1, []string{"PutEventSelectors"}},
		"aws.defense-evasion.cloudtrail-stop":                         {1, []string{"StopLogging"}},
		"aws.defense-evasion.dns-delete-logs":                         {1, []string{"DeleteResolverQueryLogConfig"}},
		"aws.defense-evasion.organizations-leave":                     {3, []string{"LeaveOrganization", "AssumeRole"}},
		"aws.defense-evasion.vpc-remove-flow-logs":                    {1, []string{"DeleteFlowLogs"}},
		"aws.discovery.ec2-download-user-data":                        {19, []string{"DescribeInstanceAttribute", "AssumeRole"}},
		"aws.execution.ec2-launch-unusual-instances":                  {3, []string{"RunInstances", "AssumeRole"}},
		"aws.execution.ec2-user-data":                                 {35, []string{"ModifyInstanceAttribute", "StartInstances", "StopInstances", "DescribeInstances"}},
		"aws.execution.ssm-send-command":                              {56, []string{"SendCommand", "DescribeInstanceInformation", "GetCommandInvocation"}},
		"aws.execution.ssm-start-session":                             {29, []string{"StartSession", "TerminateSession", "DescribeInstanceInformation"}},
		"aws.exfiltration.ec2-security-group-open-port-22-ingress":    {1, []string{"AuthorizeSecurityGroupIngress"}},
		"aws.exfiltration.ec2-share-ami":                              {1, []string{"ModifyImageAttribute"}},
		"aws.exfiltration.ec2-share-ebs-snapshot":                     {1, []string{"ModifySnapshotAttribute"}},
		"aws.exfiltration.rds-share-snapshot":                         {1, []string{"ModifyDBSnapshotAttribute"}},
		"aws.impact.bedrock-invoke-model":                             {15, []string{"InvokeModel", "GetFoundationModelAvailability", "PutUseCaseForModelAccess"}},
		"aws.initial-access.console-login-without-mfa":                {1, []string{"ConsoleLogin"}},
		"aws.lateral-movement.ec2-instance-connect":                   {3, []string{"SendSSHPublicKey"}},
		"aws.lateral-movement.ec2-serial-console-send-ssh-public-key": {4, []string{"EnableSerialConsoleAccess", "SendSerialConsoleSSHPublicKey"}},
		"aws.persistence.iam-backdoor-role":                           {1, []string{"UpdateAssumeRolePolicy"}},
		"aws.persistence.iam-backdoor-user":                           {1, []string{"CreateAccessKey"}},
		"aws.persistence.iam-create-admin-user":                       {3, []string{"CreateUser", "AttachUserPolicy", "CreateAccessKey"}},
		"aws.persistence.iam-create-backdoor-role":                    {2, []string{"CreateRole", "AttachRolePolicy"}},
		"aws.persistence.iam-create-user-login-profile":               {3, []string{"CreateLoginProfile", "DeleteLoginProfile", "GetCallerIdentity"}},
		"aws.persistence.lambda-backdoor-function":                    {1, []string{"AddPermission20150331v2"}},
		"aws.persistence.lambda-layer-extension":                      {1, []string{"UpdateFunctionConfiguration20150331v2"}},
		"aws.persistence.lambda-overwrite-code":                       {1, []string{"UpdateFunctionCode20150331v2"}},
		"aws.persistence.rolesanywhere-create-trust-anchor":           {2, []string{"CreateTrustAnchor", "CreateProfile"}},
		"aws.persistence.sts-federation-token":                        {2, []string{"GetFederationToken", "GetCallerIdentity"}},
		"aws.privilege-escalation.iam-update-user-login-profile":      {1, []string{"UpdateLoginProfile"}},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(want) {
		t.Fatalf("%d capture files, want %d", len(files), len(want))
	}
	total, withError, ips := 0, 0, 0
	userTypes := map[string]int{}
	var all []record.APICall
	for _, f := range files {
		technique := strings.TrimSuffix(filepath.Base(f), ".json")
		w, ok := want[technique]
		if !ok {
			t.Errorf("unexpected file %s", f)
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		res := decodeReader(t, f, fh)
		fh.Close()
		if len(res.calls) != w.n || len(res.problems) != 0 {
			t.Errorf("%s: %d calls (want %d), problems %v", technique, len(res.calls), w.n, res.problems)
		}
		seen := map[string]bool{}
		for i := range res.calls {
			c := &res.calls[i]
			seen[c.EventName] = true
			if c.EventTime < ms("2024-01-01T00:00:00Z") || c.EventTime > ms("2025-01-01T00:00:00Z") || c.EventID == "" ||
				c.EventSource == "" || c.UserType == "" || c.RecipientAccountID == "" || c.Stream != f || !json.Valid(c.Raw) {
				t.Errorf("%s record %d incomplete: %+v", technique, i, c)
			}
			if c.ReadOnly != "true" && c.ReadOnly != "false" || c.ManagementEvent != "true" && c.ManagementEvent != "false" {
				t.Errorf("%s record %d: readOnly %q managementEvent %q", technique, i, c.ReadOnly, c.ManagementEvent)
			}
			if c.Path("tlsDetails.tlsVersion").IsMissing() {
				t.Errorf("%s record %d: no tlsDetails.tlsVersion", technique, i)
			}
			if c.ErrorCode != "" {
				withError++
				if c.ErrorMessage == "" {
					t.Errorf("%s record %d: errorCode without errorMessage", technique, i)
				}
			}
			if c.SourceIP.IsValid() {
				ips++
			}
			userTypes[c.UserType]++
		}
		for _, name := range w.names {
			if !seen[name] {
				t.Errorf("%s: no %s event (saw %v)", technique, name, keys(seen))
			}
		}
		total += len(res.calls)
		all = append(all, res.calls...)
	}
	if total != 310 || withError != 52 || ips != 310 {
		t.Errorf("%d records (want 310), %d with errorCode (want 52), %d with an address (want 310)", total, withError, ips)
	}
	if userTypes["IAMUser"] != 241 || userTypes["AssumedRole"] != 68 || userTypes["FederatedUser"] != 1 {
		t.Errorf("userIdentity.type counts %v", userTypes)
	}

	// Spot checks of single techniques.
	find := func(name string) *record.APICall {
		for i := range all {
			if all[i].EventName == name {
				return &all[i]
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	checkFields(t, find("StopLogging"), map[string]string{
		"eventSource": "cloudtrail.amazonaws.com", "eventTime": "2024-07-31 13:06:24.000", "awsRegion": "apiso-centralnorth-2r",
		"sourceIPAddress": "86.245.153.234", "userIdentity.userName": "christophe", "userIdentity.type": "IAMUser",
		"requestParameters.name": "stratus-red-team-ct-stop-trail-buykxbqejv", "readOnly": "false",
		"tlsDetails.cipherSuite": "TLS_AES_128_GCM_SHA256", "errorCode": "<missing>",
	})
	login := find("ConsoleLogin")
	if login.Path("responseElements.ConsoleLogin").IsMissing() || login.Path("additionalEventData.MFAUsed").String() != "No" {
		t.Errorf("ConsoleLogin: %s / %s", login.Path("responseElements.ConsoleLogin"), login.Path("additionalEventData.MFAUsed"))
	}
	pw := find("GetPasswordData")
	if pw.ErrorCode != "Client.UnauthorizedOperation" || pw.UserType != "AssumedRole" || pw.IssuerType != "Role" || pw.IssuerARN == "" {
		t.Errorf("GetPasswordData: %+v", pw)
	}
	if !strings.HasPrefix(find("StopLogging").UserAgent, "stratus-red-team_") {
		t.Errorf("userAgent %q", find("StopLogging").UserAgent)
	}
}

// TestOTRFCloudBankBreach decodes the 103 JSON-lines records of the OTRF capture,
// which went through Logstash: no eventTime, an @timestamp instead.
func TestOTRFCloudBankBreach(t *testing.T) {
	f := filepath.Join(sharedData(t), "otrf-aws-cloud-bank-breach-s3", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	res := decodeReader(t, f, fh)
	if len(res.calls) != 103 || len(res.problems) != 0 {
		t.Fatalf("%d calls, problems %v", len(res.calls), res.problems)
	}
	names := map[string]int{}
	service := 0
	for i := range res.calls {
		c := &res.calls[i]
		names[c.EventName]++
		if c.EventTime < ms("2020-09-13T00:00:00Z") || c.EventTime > ms("2020-09-15T00:00:00Z") || c.Present.Has(record.CallEventTime) != true {
			t.Errorf("record %d: time %d", i, c.EventTime)
		}
		if c.UserType == "AWSService" {
			service++
			if c.UserInvokedBy != "ec2.amazonaws.com" || c.SourceIPAddress != "ec2.amazonaws.com" || c.SourceIP.IsValid() || c.EventName != "AssumeRole" {
				t.Errorf("service record %d: %+v", i, c)
			}
		} else if c.SourceIP != netip.MustParseAddr("1.2.3.4") {
			t.Errorf("record %d SourceIP %v", i, c.SourceIP)
		}
	}
	for name, n := range map[string]int{"DescribeInstances": 11, "ListObjects": 7, "GetObject": 2, "AssumeRole": 5, "ListBuckets": 2, "DescribeVolumes": 10} {
		if names[name] != n {
			t.Errorf("%d %s events, want %d", names[name], name, n)
		}
	}
	if service != 5 {
		t.Errorf("%d AWSService records, want 5", service)
	}
	// The stolen role session reading the bucket.
	for i := range res.calls {
		c := &res.calls[i]
		if c.EventName == "GetObject" {
			if c.UserType != "AssumedRole" || !strings.Contains(c.UserARN, "assumed-role/MordorNginxStack-BankingWAFRole") || c.Path("requestParameters.bucketName").IsMissing() {
				t.Errorf("GetObject by %s %s, bucket %q", c.UserType, c.UserARN, c.Path("requestParameters.bucketName"))
			}
			if c.Path("@timestamp").String() == "" {
				t.Error("@timestamp key not reachable through Path")
			}
		}
	}
	first := &res.calls[0]
	if first.EventName != "DescribeInstanceTypes" || first.MFAAuthenticated != "true" || first.EventTime != ms("2020-09-14T00:44:23Z") {
		t.Errorf("first record: %+v", first)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sharedData returns <repo root>/../shared/data, or skips the test when it is not
// there (CI clones the repository with shared/ beside it).
func sharedData(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory, so no shared/data beside the repository")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("shared data folder %s is absent (CI has it beside the repository): %v", data, err)
	}
	return data
}
