package cwlogs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/cloudtrail"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/record"
)

// Messages of the three kinds, as AWS documents them.
const (
	flowLine  = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	flowLine2 = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"
	dnsMsg    = `{"srcaddr":"4.5.64.102","vpc_id":"vpc-7example","answers":[{"Rdata":"203.0.113.9","Type":"PTR","Class":"IN"}],"firewall_rule_group_id":"rslvr-frg-01234567890abcdef","firewall_rule_action":"BLOCK","query_name":"15.3.4.32.in-addr.arpa.","firewall_domain_list_id":"rslvr-fdl-01234567890abcdef","query_class":"IN","srcids":{"instance":"i-0d15cd0d3example"},"rcode":"NOERROR","query_type":"PTR","transport":"UDP","version":"1.100000","account_id":"111122223333","srcport":"56067","query_timestamp":"2021-02-04T17:51:55Z","region":"us-east-1"}`
	ctMsg     = `{"eventVersion":"1.03","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","userName":"Alice"},"eventTime":"2015-05-28T15:27:35Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.3","userAgent":"console.ec2.amazonaws.com","requestParameters":{"filterSet":{}},"responseElements":null,"requestID":"r","eventID":"e","eventType":"AwsApiCall","recipientAccountId":"123456789012"}`
)

type event struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// payloadJSON builds a subscription payload as shared/reference/formats-and-tools.md
// §1.4 shows it.
func payloadJSON(group, stream string, msgs ...string) []byte {
	p := map[string]any{"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group, "logStream": stream,
		"subscriptionFilters": []string{"Destination"}}
	var evs []event
	for i, m := range msgs {
		evs = append(evs, event{ID: fmt.Sprintf("3195310660696698337880902507980421114328961542429822%04d", i), Timestamp: 1432826855000 + int64(i), Message: m})
	}
	p["logEvents"] = evs
	b, _ := json.Marshal(p)
	return b
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func lambdaEnvelope(payload []byte) []byte {
	return []byte(`{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz(payload)) + `"}}`)
}

type result struct {
	flows    []record.Flow
	dns      []record.DNSQuery
	calls    []record.APICall
	kinds    []record.Kind // of each batch
	problems []decode.Problem
	stats    decode.Stats
	err      error
}

func run(t testing.TB, cfg Config, name string, in []byte) result {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	res.stats, res.err = d.Decode(context.Background(), decode.Input{Name: name}, bytes.NewReader(in), func(b *decode.Batch) error {
		if b.Len() == 0 || b.Len() > decode.BatchSize {
			t.Fatalf("batch of %d", b.Len())
		}
		// A batch holds one kind only.
		if n := len(b.Flows) + len(b.DNS) + len(b.Calls); n != b.Len() {
			t.Fatalf("batch of kind %v holds %d flows, %d dns, %d calls", b.Kind, len(b.Flows), len(b.DNS), len(b.Calls))
		}
		res.kinds = append(res.kinds, b.Kind)
		for _, f := range b.Flows {
			f.Raw = bytes.Clone(f.Raw)
			res.flows = append(res.flows, f)
		}
		for _, q := range b.DNS {
			q.Raw = bytes.Clone(q.Raw)
			res.dns = append(res.dns, q)
		}
		for _, c := range b.Calls {
			c.Raw = bytes.Clone(c.Raw)
			res.calls = append(res.calls, c)
		}
		return nil
	}, func(p decode.Problem) { res.problems = append(res.problems, p) })
	n := int64(len(res.flows) + len(res.dns) + len(res.calls))
	if res.stats.Records != n || res.stats.SkippedTotal() != int64(len(res.problems)) {
		t.Errorf("stats %+v for %d records and %d problems", res.stats, n, len(res.problems))
	}
	return res
}

func TestSubscriptionPayload(t *testing.T) {
	in := gz(payloadJSON("CloudTrail", "123456789012_CloudTrail_us-east-1", ctMsg))
	res := run(t, DefaultConfig(), "payload.gz", in)
	if res.err != nil || len(res.calls) != 1 || len(res.problems) != 0 {
		t.Fatalf("err %v, %d calls, problems %v", res.err, len(res.calls), res.problems)
	}
	c := &res.calls[0]
	if c.EventName != "DescribeInstances" || c.Stream != "123456789012_CloudTrail_us-east-1" || string(c.Raw) != ctMsg ||
		c.Get(record.CallLogStream).String() != "123456789012_CloudTrail_us-east-1" || c.UserName != "Alice" {
		t.Errorf("call %+v", c)
	}
}

func TestAllKindsAndBatchKinds(t *testing.T) {
	var in bytes.Buffer
	// Firehose writes one gzip member per record, back to back; the decoder sees
	// them as one stream of documents.
	in.Write(gz(payloadJSON("/vpc/flow", "eni-1235b8ca123456789-all", flowLine, flowLine2)))
	in.Write(gz(payloadJSON("/vpc/dns", "vpc-7example_vpcdnsquerylogs", dnsMsg)))
	in.Write(gz([]byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`)))
	in.Write(gz(payloadJSON("CloudTrail", "ct", ctMsg, ctMsg)))
	in.Write(gz(payloadJSON("/vpc/flow", "eni-2", flowLine)))
	res := run(t, DefaultConfig(), "firehose-object", in.Bytes())
	if res.err != nil || len(res.problems) != 0 {
		t.Fatalf("err %v, problems %v", res.err, res.problems)
	}
	if len(res.flows) != 3 || len(res.dns) != 1 || len(res.calls) != 2 {
		t.Fatalf("%d flows, %d dns, %d calls", len(res.flows), len(res.dns), len(res.calls))
	}
	want := []record.Kind{record.KindFlow, record.KindDNS, record.KindAPICall, record.KindFlow}
	if fmt.Sprint(res.kinds) != fmt.Sprint(want) {
		t.Errorf("batch kinds %v; want %v", res.kinds, want)
	}
	f := &res.flows[1]
	if f.DstPort != 3389 || f.Action != record.ActionReject || f.Stream != "eni-1235b8ca123456789-all" || string(f.Raw) != flowLine2 {
		t.Errorf("flow %+v", f)
	}
	q := &res.dns[0]
	if q.QueryName != "15.3.4.32.in-addr.arpa." || q.SrcPort != 56067 || q.Stream != "vpc-7example_vpcdnsquerylogs" || q.Get(record.DNSLogStream).String() != q.Stream {
		t.Errorf("dns %+v", q)
	}
	if res.stats.Bytes == 0 {
		t.Error("Bytes not counted")
	}
}

func TestLambdaAndFirehoseEnvelopes(t *testing.T) {
	p := payloadJSON("g", "s1", ctMsg)
	frec := `{"invocationId":"i","deliveryStreamArn":"arn","region":"us-east-1","records":[{"recordId":"1","approximateArrivalTimestamp":1,"data":"` +
		base64.StdEncoding.EncodeToString(gz(payloadJSON("g", "s2", dnsMsg))) + `"},{"recordId":"2","data":"` +
		base64.StdEncoding.EncodeToString(payloadJSON("g", "s3", flowLine)) + `"}]}`
	in := string(lambdaEnvelope(p)) + "\n" + string(lambdaEnvelope(p)) + "\n" + frec
	res := run(t, DefaultConfig(), "lambda.json", []byte(in))
	if res.err != nil || len(res.problems) != 0 || len(res.calls) != 2 || len(res.dns) != 1 || len(res.flows) != 1 {
		t.Fatalf("err %v, problems %v, %d/%d/%d", res.err, res.problems, len(res.calls), len(res.dns), len(res.flows))
	}
	if res.calls[1].Stream != "s1" || res.dns[0].Stream != "s2" || res.flows[0].Stream != "s3" {
		t.Errorf("streams %q %q %q", res.calls[1].Stream, res.dns[0].Stream, res.flows[0].Stream)
	}
}

func TestCLIOutput(t *testing.T) {
	filter := `{
    "events": [
        {"logStreamName": "eni-aaa-all", "timestamp": 1418530070000, "message": "` + flowLine + `", "ingestionTime": 1418530080000, "eventId": "1"},
        {"logStreamName": "eni-bbb-all", "timestamp": 1418530070000, "message": "` + flowLine2 + `", "ingestionTime": 1418530080000, "eventId": "2"}
    ],
    "searchedLogStreams": [{"logStreamName": "eni-aaa-all", "searchedCompletely": true}],
    "nextToken": "abc"
}`
	get := `{"events":[{"timestamp":1,"message":` + jsonString(dnsMsg) + `,"ingestionTime":2}],"nextForwardToken":"f/1","nextBackwardToken":"b/1"}`
	res := run(t, DefaultConfig(), "out.json", []byte(filter+"\n"+get))
	if res.err != nil || len(res.problems) != 0 || len(res.flows) != 2 || len(res.dns) != 1 {
		t.Fatalf("err %v, problems %v, %d flows %d dns", res.err, res.problems, len(res.flows), len(res.dns))
	}
	if res.flows[0].Stream != "eni-aaa-all" || res.flows[1].Stream != "eni-bbb-all" || res.dns[0].Stream != "out.json" {
		t.Errorf("streams %q %q %q", res.flows[0].Stream, res.flows[1].Stream, res.dns[0].Stream)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestCustomFlowFormat(t *testing.T) {
	cfg := DefaultConfig()
	cfg.VPCFlow.Format = "${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action}"
	res := run(t, cfg, "x", payloadJSON("g", "s", "eni-1 10.0.0.1 10.0.0.2 443 ACCEPT"))
	if len(res.flows) != 1 || len(res.problems) != 0 || res.flows[0].DstPort != 443 {
		t.Fatalf("flows %+v, problems %v", res.flows, res.problems)
	}
	if _, err := New(Config{VPCFlow: vpcflow.Config{Format: "${no-such-field}"}}); err == nil {
		t.Error("bad flow format accepted")
	}
}

func TestBadInput(t *testing.T) {
	small := DefaultConfig()
	small.MaxPayloadSize = 1 << 20
	bomb := lambdaEnvelope(payloadJSON("g", "s", strings.Repeat("9", 4<<20)))
	cases := []struct {
		name   string
		cfg    Config
		in     string
		reason string
	}{
		{"not JSON", DefaultConfig(), "hello world", "bad JSON"},
		{"not a payload", DefaultConfig(), `{"foo":1}`, ReasonNotPayload},
		{"bad base64", DefaultConfig(), `{"awslogs":{"data":"!!!not base64!!!"}}`, ReasonBadBase64},
		{"bad gzip", DefaultConfig(), `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 1, 2, 3}) + `"}}`, ReasonBadGzip},
		{"gzip bomb", small, string(bomb), ReasonTooLarge},
		{"unknown message", DefaultConfig(), string(payloadJSON("g", "s", "hello, world")), ReasonUnknownMessage},
		{"unknown JSON message", DefaultConfig(), string(payloadJSON("g", "s", `{"level":"info","msg":"x"}`)), ReasonUnknownMessage},
		{"bad flow line", DefaultConfig(), string(payloadJSON("g", "s", "2 123 eni-1 1.2.3.4")), vpcflow.ReasonFieldCount},
		{"bad DNS message", DefaultConfig(), string(payloadJSON("g", "s", `{"query_name":"x.","query_timestamp":"nope"}`)), "bad query_timestamp"},
		{"bad CloudTrail message", DefaultConfig(), string(payloadJSON("g", "s", `{"eventName":"x","eventSource":"s"}`)), cloudtrail.ReasonNoEventTime},
		{"invalid UTF-8 message", DefaultConfig(), `{"messageType":"DATA_MESSAGE","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"x\",\"eventTime\":\"2015-05-28T15:27:35Z\",\"userAgent\":\"` + "\xff" + `\"}"}]}`, "invalid UTF-8"},
		{"event without message", DefaultConfig(), `{"events":[{"timestamp":1}]}`, ReasonBadEvent},
		{"JSON bomb", DefaultConfig(), strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "too deep"},
		{"deep message", DefaultConfig(), string(payloadJSON("g", "s", `{"eventName":"x","a":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+"}")), "too deep"},
	}
	good := string(payloadJSON("g", "ok", ctMsg))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, c.cfg, "in.json", []byte(good+"\n"+c.in+"\n"+good))
			if res.err != nil || len(res.calls) != 2 {
				t.Errorf("err %v, %d good calls", res.err, len(res.calls))
			}
			if len(res.problems) != 1 || res.problems[0].Reason != c.reason || res.problems[0].Input != "in.json" {
				t.Fatalf("problems %v; want one %q", res.problems, c.reason)
			}
			if p := res.problems[0]; p.Line != 2 && p.Line != 1 || len(p.Detail) > 400 {
				t.Errorf("problem %+v", p)
			}
		})
	}
}

func TestTruncatedGzip(t *testing.T) {
	in := append(gz(payloadJSON("g", "s", ctMsg)), gz(payloadJSON("g", "s", ctMsg, ctMsg))...)
	res := run(t, DefaultConfig(), "cut.gz", in[:len(in)-30])
	if res.err == nil || !strings.Contains(res.err.Error(), "decode cwlogs cut.gz") || len(res.calls) != 1 {
		t.Errorf("err %v, %d calls; want the first payload then a read error", res.err, len(res.calls))
	}
}

func TestSniff(t *testing.T) {
	for msg, want := range map[string]Kind{
		flowLine: KindFlow, " " + dnsMsg: KindDNS, ctMsg: KindCloudTrail, "": KindUnknown, "hello": KindUnknown,
		`{"level":"x","msg":"\"eventName\": 1"}`:                    KindUnknown,
		`{"detail-type":"AWS API Call via CloudTrail","detail":{}}`: KindCloudTrail,
		`{"note":"query_name","query_timestamp" : "x"}`:             KindDNS,
	} {
		if got := Sniff([]byte(msg)); got != want {
			t.Errorf("Sniff(%.40q) = %d; want %d", msg, got, want)
		}
	}
}

func TestEmitError(t *testing.T) {
	d, _ := New(DefaultConfig())
	stop := errors.New("stop")
	in := append(payloadJSON("g", "a", flowLine), payloadJSON("g", "b", dnsMsg)...)
	_, err := d.Decode(context.Background(), decode.Input{Name: "x"}, bytes.NewReader(in), func(*decode.Batch) error { return stop }, nil)
	if !errors.Is(err, stop) {
		t.Errorf("err = %v", err)
	}
}

// TestRealCapturesRoundTrip sends every real CloudTrail record in shared/data
// through CloudWatch Logs envelopes built here — a gzip subscription payload per
// file, base64 inside awslogs as Lambda gets it — and checks each comes out as the
// cloudtrail decoder reads it from the file.
func TestRealCapturesRoundTrip(t *testing.T) {
	data := sharedData(t)
	files, _ := filepath.Glob(filepath.Join(data, "stratus-red-team-detonation-logs", "*.json"))
	files = append(files, filepath.Join(data, "otrf-aws-cloud-bank-breach-s3", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"))
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The events as the cloudtrail decoder reads them from the file.
		var direct []record.APICall
		var msgs []string
		_, err = cloudtrail.New(cloudtrail.DefaultConfig()).Decode(context.Background(), decode.Input{Name: f}, bytes.NewReader(raw), func(b *decode.Batch) error {
			for _, c := range b.Calls {
				c.Raw = bytes.Clone(c.Raw)
				direct = append(direct, c)
				var compact bytes.Buffer
				json.Compact(&compact, c.Raw)
				msgs = append(msgs, compact.String())
			}
			return nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		stream := "123456789012_CloudTrail_" + filepath.Base(f)
		lambda := lambdaEnvelope(payloadJSON("CloudTrail/logs", stream, msgs...))
		// Kinesis and Firehose get the gzip payload itself; Firehose writes them
		// back to back, so split the events over two payloads.
		half := len(msgs) / 2
		firehose := append(gz(payloadJSON("CloudTrail/logs", stream, msgs[:half]...)), gz(payloadJSON("CloudTrail/logs", stream, msgs[half:]...))...)
		var calls []record.APICall
		for _, in := range [][]byte{lambda, firehose} {
			res := run(t, DefaultConfig(), "envelopes", in)
			if res.err != nil || len(res.problems) != 0 || len(res.calls) != len(direct) {
				t.Fatalf("%s: err %v, problems %v, %d calls for %d events", f, res.err, res.problems, len(res.calls), len(direct))
			}
			calls = append(calls, res.calls...)
		}
		for i, c := range calls {
			w := direct[i%len(direct)]
			if c.Stream != stream {
				t.Fatalf("stream %q", c.Stream)
			}
			c.Raw, c.Stream, w.Raw, w.Stream = nil, "", nil, ""
			if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", w) {
				t.Fatalf("%s event %d:\n got %+v\nwant %+v", f, i, c, w)
			}
		}
		total += len(direct)
	}
	if total != 310+103 {
		t.Errorf("%d events round-tripped, want 413", total)
	}
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

func FuzzCWLogs(f *testing.F) {
	f.Add(payloadJSON("g", "s", flowLine, dnsMsg, ctMsg))
	f.Add(lambdaEnvelope(payloadJSON("g", "s", ctMsg)))
	f.Add(gz(payloadJSON("g", "s", flowLine)))
	f.Add([]byte(`{"events":[{"logStreamName":"a","message":"2 1 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := New(Config{MaxPayloadSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Decode(context.Background(), decode.Input{Name: "fuzz"}, bufio.NewReader(bytes.NewReader(in)), func(b *decode.Batch) error {
			for i := range b.Len() {
				r := b.At(i)
				if r.Kind() != b.Kind {
					t.Fatalf("record of kind %v in a %v batch", r.Kind(), b.Kind)
				}
				_ = r.Get(0).String()
			}
			return nil
		}, func(p decode.Problem) {
			if p.Reason == "" {
				t.Fatal("problem without a reason")
			}
		})
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "gzip") && !strings.Contains(err.Error(), "flate") {
			t.Fatalf("Decode: %v", err)
		}
	})
}
