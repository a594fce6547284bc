package auto

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

const (
	flowHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	flowLine   = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	dnsLine    = `{"srcaddr":"4.5.64.102","vpc_id":"vpc-7example","answers":[{"Rdata":"203.0.113.9","Type":"PTR","Class":"IN"}],"query_name":"15.3.4.32.in-addr.arpa.","query_class":"IN","srcids":{"instance":"i-0d15cd0d3example"},"rcode":"NOERROR","query_type":"PTR","transport":"UDP","version":"1.100000","account_id":"111122223333","srcport":"56067","query_timestamp":"2021-02-04T17:51:55Z","region":"us-east-1"}`
	ctEvent    = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"Alice"},"eventTime":"2021-08-24T16:48:16Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","requestParameters":{"userName":"x"},"responseElements":null}`
)

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func cwPayload(msgs ...string) []byte {
	var b strings.Builder
	b.WriteString(`{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[`)
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%d","timestamp":1432826855000,"message":%q}`, i, m)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func TestDetect(t *testing.T) {
	big := strings.Repeat(ctEvent+"\n", 100) // longer than the sniffed head
	cases := []struct {
		name, head string
		want       Format
	}{
		{"flow header", flowHeader + "\n" + flowLine + "\n", VPCFlow},
		{"flow custom header", "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n", VPCFlow},
		{"flow header only fields vigil knows one of", "srcaddr dstaddr\n", VPCFlow},
		{"flow line without header", flowLine + "\n", VPCFlow},
		{"flow CloudWatch export", "2026-11-01T00:02:05.000Z " + flowLine + "\n", VPCFlow},
		{"flow CloudWatch export ms", "1793491325000 " + flowLine + "\n", VPCFlow},
		{"flow NODATA", "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n", VPCFlow},
		{"dns line", dnsLine + "\n", DNSLog},
		{"dns pretty", "{\n  \"query_timestamp\": \"2021-02-04T17:51:55Z\",\n  \"query_name\": \"x.\"\n}", DNSLog},
		{"dns array", "[" + dnsLine + "]", DNSLog},
		{"cloudtrail file", `{"Records":[` + ctEvent + `]}`, CloudTrail},
		{"cloudtrail file spaced", "{ \"Records\" : [\n", CloudTrail},
		{"cloudtrail file cut short", `{"Records":[{"eventVersion":"1.0","userIdentity":{"type":"IAMUser","principalId":"EX`, CloudTrail},
		{"cloudtrail line", ctEvent + "\n", CloudTrail},
		{"cloudtrail lines, long", big, CloudTrail},
		{"cloudtrail array", "[\n   {\n      \"awsRegion\": \"us-east-1\",\n      \"eventCategory\": \"Management\"", CloudTrail},
		{"cloudtrail lookup-events", `{"Events":[{"EventId":"1","CloudTrailEvent":"{}"}]}`, CloudTrail},
		{"cloudtrail lake rows", `{"QueryStatus":"FINISHED","QueryResultRows":[[{"eventID":"x"}]]}`, CloudTrail},
		{"cloudtrail eventbridge", `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":` + ctEvent + `}`, CloudTrail},
		{"cloudtrail lake event", `{"eventVersion":"1.0","eventData":{"eventName":"x"}}`, CloudTrail},
		{"cloudtrail digest", `{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z"}`, CloudTrailDigest},
		{"cwlogs payload", string(cwPayload(ctEvent)), CWLogs},
		{"cwlogs lambda", `{"awslogs":{"data":"H4sIAAAAAAAAAA=="}}`, CWLogs},
		{"cwlogs filter-log-events", `{"events":[{"logStreamName":"s","timestamp":1,"message":"{\"eventVersion\":\"1.0\"}","ingestionTime":2,"eventId":"3"}],"searchedLogStreams":[]}`, CWLogs},
		{"cwlogs get-log-events", "{\n    \"events\": [],\n    \"nextForwardToken\": \"f/1\"\n}", CWLogs},
		{"cwlogs firehose records", `{"invocationId":"x","records":[{"recordId":"1","data":"eyJ9"}]}`, CWLogs},
		{"parquet", "PAR1\x15\x04\x15", Parquet},
		{"byte order mark", "\xEF\xBB\xBF" + dnsLine, DNSLog},
		{"leading blank lines", "\n\n  " + flowLine, VPCFlow},
		{"gzip cloudtrail", string(gz([]byte(`{"Records":[` + ctEvent + `]}`))), CloudTrail},
		{"gzip head cut short", string(gz([]byte(big)))[:200], CloudTrail},
		{"gzip cwlogs payload", string(gz(cwPayload(dnsLine))), CWLogs},

		{"csv", "Event Type,Event Name,Request ID,User ID\nAwsApiCall,ListObjects,E2E9,x\n", Unknown},
		{"short text line", "hello world\n", Unknown},
		{"route 53 public query log", "1.0 2017-12-13T08:15:50.235Z Z123412341234 example.com A NOERROR UDP FRA6 192.168.1.1 -\n", Unknown},
		{"other JSON", `{"level":"info","msg":"started"}`, Unknown},
		{"binary", "\x00\x01\x02\x03\xff", Unknown},
		{"empty", "", Unknown},
		{"a number", "42", Unknown},
	}
	for _, c := range cases {
		if got := Detect([]byte(c.head), "input"); got != c.want {
			t.Errorf("%s: Detect = %v; want %v", c.name, got, c.want)
		}
	}
}

func TestDetectByName(t *testing.T) {
	for name, want := range map[string]Format{
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/01/123456789012_vpcflowlogs_us-east-1_fl-1_20261101T0000Z_abc.log.gz":        VPCFlow,
		"s3://b/AWSLogs/123456789012/vpcdnsquerylogs/vpc-1/2026/11/01/x.log.gz":                                                          DNSLog,
		"AWSLogs/123456789012/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz": CloudTrail,
		"AWSLogs/123456789012/CloudTrail-Digest/us-east-2/2015/08/01/x.json.gz":                                                          CloudTrailDigest,
		"flows/2026/11/01/part-0000.parquet": Parquet,
		"notes.txt":                          Unknown,
	} {
		// Names decide only when the content does not.
		if got := Detect(nil, name); got != want {
			t.Errorf("Detect(empty, %q) = %v; want %v", name, got, want)
		}
		if got := Detect([]byte("???"), name); got != want {
			t.Errorf("Detect(unclear, %q) = %v; want %v", name, got, want)
		}
		if got := Detect([]byte(dnsLine), name); got != DNSLog {
			t.Errorf("content should win over the name %q: got %v", name, got)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"auto": Auto, "": Auto, "vpcflow": VPCFlow, "flow": VPCFlow, "VPC-Flow": VPCFlow, "dnslog": DNSLog, "dns": DNSLog,
		"resolver": DNSLog, "cloudtrail": CloudTrail, "CloudTrail": CloudTrail, "ct": CloudTrail, "cwlogs": CWLogs,
		"cloudwatch": CWLogs, "parquet": Parquet,
	} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, got, err)
		}
	}
	_, err := ParseFormat("syslog")
	if err == nil || !strings.Contains(err.Error(), "vpcflow") {
		t.Errorf("ParseFormat(syslog) error %v should list the formats", err)
	}
}

type result struct {
	kinds    map[record.Kind]int
	calls    []record.APICall
	problems []decode.Problem
	stats    decode.Stats
}

func decodeWith(t testing.TB, dec decode.Decoder, name string, in []byte) result {
	t.Helper()
	res := result{kinds: map[record.Kind]int{}}
	st, err := dec.Decode(context.Background(), decode.Input{Name: name}, bytes.NewReader(in), func(b *decode.Batch) error {
		res.kinds[b.Kind] += b.Len()
		for _, c := range b.Calls {
			c.Raw = nil
			res.calls = append(res.calls, c)
		}
		return nil
	}, func(p decode.Problem) { res.problems = append(res.problems, p) })
	if err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	res.stats = st
	if st.SkippedTotal() != int64(len(res.problems)) {
		t.Errorf("%s: skipped %d, reported %d", name, st.SkippedTotal(), len(res.problems))
	}
	return res
}

func TestDecodeDispatch(t *testing.T) {
	lambda := `{"awslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz(cwPayload(flowLine, dnsLine, ctEvent))) + `"}}`
	inputs := []struct {
		name string
		in   []byte
		want map[record.Kind]int
	}{
		{"flows.log", []byte(flowHeader + "\n" + flowLine + "\n" + flowLine + "\n"), map[record.Kind]int{record.KindFlow: 2}},
		{"flows.log.gz", gz([]byte(flowHeader + "\n" + flowLine + "\n")), map[record.Kind]int{record.KindFlow: 1}},
		{"dns.log", []byte(dnsLine + "\n" + dnsLine + "\n"), map[record.Kind]int{record.KindDNS: 2}},
		{"trail.json.gz", gz([]byte(`{"Records":[` + ctEvent + "," + ctEvent + `]}`)), map[record.Kind]int{record.KindAPICall: 2}},
		{"gzip in gzip", gz(gz([]byte(`{"Records":[` + ctEvent + `]}`))), map[record.Kind]int{record.KindAPICall: 1}},
		{"payload.gz", gz(cwPayload(flowLine, flowLine, dnsLine)), map[record.Kind]int{record.KindFlow: 2, record.KindDNS: 1}},
		{"lambda.json", []byte(lambda), map[record.Kind]int{record.KindFlow: 1, record.KindDNS: 1, record.KindAPICall: 1}},
		{"digest.json", []byte(`{"awsAccountId":"1","digestStartTime":"2015-08-17T14:01:31Z","logFiles":[]}`), map[record.Kind]int{}},
		{"blank", []byte("\n \n"), map[record.Kind]int{}},
		{"empty", nil, map[record.Kind]int{}},
	}
	dec := New(DefaultConfig()) // one decoder for every input, as a worker uses it
	for _, c := range inputs {
		res := decodeWith(t, dec, c.name, c.in)
		if fmt.Sprint(res.kinds) != fmt.Sprint(c.want) || len(res.problems) != 0 {
			t.Errorf("%s: kinds %v, problems %v; want %v", c.name, res.kinds, res.problems, c.want)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	dec := New(DefaultConfig())
	for name, in := range map[string]string{
		"notes.txt":  "Dear team,\nplease find attached the logs.\n",
		"image.bin":  "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
		"other.json": `{"level":"info","msg":"started","pid":1}`,
	} {
		res := decodeWith(t, dec, name, []byte(in))
		if len(res.kinds) != 0 || len(res.problems) != 1 {
			t.Fatalf("%s: kinds %v, problems %v", name, res.kinds, res.problems)
		}
		p := res.problems[0]
		if p.Reason != ReasonUnknownFormat || p.Input != name || !strings.Contains(p.Detail, "--format") || res.stats.Skipped[ReasonUnknownFormat] != 1 {
			t.Errorf("%s: problem %+v", name, p)
		}
		if name == "image.bin" && !strings.Contains(p.Detail, "binary data starting 89 50 4e 47") {
			t.Errorf("binary input described as %q", p.Detail)
		}
		if name == "notes.txt" && !strings.Contains(p.Detail, `"Dear team,\nplease`) {
			t.Errorf("text input described as %q", p.Detail)
		}
	}
}

func TestForcedFormat(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Format = DNSLog
	res := decodeWith(t, New(cfg), "x", []byte(ctEvent+"\n"+dnsLine+"\n"))
	if res.kinds[record.KindDNS] != 1 || len(res.problems) != 1 || res.problems[0].Reason != "not a DNS query" {
		t.Errorf("kinds %v, problems %v", res.kinds, res.problems)
	}
	cfg = DefaultConfig()
	cfg.Format = VPCFlow
	cfg.VPCFlow.Format = "${srcaddr} ${dstaddr} ${dstport}"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	res = decodeWith(t, New(cfg), "x", []byte("10.0.0.1 10.0.0.2 443\n"))
	if res.kinds[record.KindFlow] != 1 || len(res.problems) != 0 {
		t.Errorf("custom flow format: kinds %v, problems %v", res.kinds, res.problems)
	}
	cfg.VPCFlow.Format = "${nonsense}"
	if err := cfg.Validate(); err == nil {
		t.Error("Validate accepted a bad flow format")
	}
	if _, err := New(cfg).Decode(context.Background(), decode.Input{Name: "x"}, strings.NewReader("1 2 3"), func(*decode.Batch) error { return nil }, nil); err == nil {
		t.Error("Decode with a bad flow format succeeded")
	}
}

type pqRow struct {
	Version     *int32  `parquet:"version,optional"`
	AccountID   *string `parquet:"account_id,optional"`
	InterfaceID *string `parquet:"interface_id,optional"`
	SrcAddr     *string `parquet:"srcaddr,optional"`
	DstAddr     *string `parquet:"dstaddr,optional"`
	DstPort     *int32  `parquet:"dstport,optional"`
	Action      *string `parquet:"action,optional"`
	Start       *int64  `parquet:"start,optional"`
}

func TestParquet(t *testing.T) {
	p := func(s string) *string { return &s }
	v, port, start := int32(5), int32(22), int64(1418530010)
	rows := []pqRow{
		{Version: &v, AccountID: p("123456789010"), InterfaceID: p("eni-1"), SrcAddr: p("172.31.16.139"), DstAddr: p("172.31.16.21"), DstPort: &port, Action: p("ACCEPT"), Start: &start},
		{Version: &v, AccountID: p("123456789010"), InterfaceID: p("eni-1"), SrcAddr: p("172.31.9.69"), DstAddr: p("172.31.9.12"), DstPort: &port, Action: p("REJECT"), Start: &start},
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if Detect(buf.Bytes(), "x") != Parquet {
		t.Fatal("not detected as Parquet")
	}
	res := decodeWith(t, New(DefaultConfig()), "flows.parquet", buf.Bytes())
	if res.kinds[record.KindFlow] != 2 || len(res.problems) != 0 {
		t.Errorf("kinds %v, problems %v", res.kinds, res.problems)
	}
	cfg := DefaultConfig()
	cfg.MaxParquetSize = 100
	res = decodeWith(t, New(cfg), "big.parquet", buf.Bytes())
	if len(res.kinds) != 0 || len(res.problems) != 1 || res.problems[0].Reason != ReasonTooLarge {
		t.Errorf("over the size limit: kinds %v, problems %v", res.kinds, res.problems)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "x"}, iotest{boom}, func(*decode.Batch) error { return nil }, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "decode x") {
		t.Errorf("err = %v", err)
	}
}

type iotest struct{ err error }

func (r iotest) Read([]byte) (int, error) { return 0, r.err }

// TestRealCaptures reads every file of the real captures through auto-detection:
// every CloudTrail record decodes, and the honeybucket CSV (not CloudTrail) is
// reported as an unknown format rather than misread.
func TestRealCaptures(t *testing.T) {
	data := sharedData(t)
	dec := New(DefaultConfig())
	total := 0
	names := map[string]int{}
	for _, dir := range []string{"stratus-red-team-detonation-logs", "otrf-aws-cloud-bank-breach-s3"} {
		files, _ := filepath.Glob(filepath.Join(data, dir, "*.json"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := Detect(raw[:min(len(raw), SniffSize)], f); got != CloudTrail {
				t.Errorf("%s detected as %v", f, got)
			}
			// Gzip them as S3 delivery would, and read them through the decoder.
			res := decodeWith(t, dec, f, gz(raw))
			if len(res.problems) != 0 || len(res.kinds) != 1 {
				t.Errorf("%s: kinds %v, problems %v", f, res.kinds, res.problems)
			}
			total += res.kinds[record.KindAPICall]
			for _, c := range res.calls {
				names[c.EventName]++
			}
		}
	}
	if total != 413 || names["StopLogging"] != 1 || names["GetObject"] != 2 || names["GetPasswordData"] != 30 {
		t.Errorf("%d records (want 310 + 103); StopLogging %d, GetObject %d, GetPasswordData %d", total, names["StopLogging"], names["GetObject"], names["GetPasswordData"])
	}
	csv := filepath.Join(data, "otrf-aws-s3-honeybucket", "AWS_S3_HoneyBucketLogs.csv")
	raw, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	res := decodeWith(t, dec, csv, raw)
	if len(res.kinds) != 0 || len(res.problems) != 1 || res.problems[0].Reason != ReasonUnknownFormat {
		t.Errorf("honeybucket CSV: kinds %v, problems %v", res.kinds, res.problems)
	}
	for _, doc := range []string{"README.md", "LICENSE"} {
		if f := Detect(mustRead(t, filepath.Join(data, "stratus-red-team-detonation-logs", doc)), doc); f != Unknown {
			t.Errorf("%s detected as %v", doc, f)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b[:min(len(b), SniffSize)]
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

func FuzzDetect(f *testing.F) {
	for _, s := range []string{flowHeader + "\n" + flowLine, dnsLine, `{"Records":[` + ctEvent + `]}`, string(cwPayload(flowLine)), "PAR1", "[{\"eventName\":1}]", `{"events":[{"message":"x"}]}`} {
		f.Add([]byte(s), "x")
	}
	f.Add(gz([]byte(dnsLine)), "AWSLogs/1/vpcdnsquerylogs/x.log.gz")
	f.Fuzz(func(t *testing.T, head []byte, name string) {
		format := Detect(head, name)
		if _, err := ParseFormat(string(format)); format != Unknown && err != nil {
			t.Fatalf("Detect returned %q, which ParseFormat rejects", format)
		}
		// Whatever was detected, decoding must not panic or misbehave.
		dec := New(Config{MaxParquetSize: 1 << 16})
		var problems int
		st, err := dec.Decode(context.Background(), decode.Input{Name: name}, bytes.NewReader(head), func(b *decode.Batch) error {
			for i := range b.Len() {
				if b.At(i).Kind() != b.Kind {
					t.Fatal("mixed batch")
				}
			}
			return nil
		}, func(decode.Problem) { problems++ })
		if err == nil && st.SkippedTotal() != int64(problems) && format != Parquet && format != VPCFlow {
			t.Fatalf("skipped %d, reported %d", st.SkippedTotal(), problems)
		}
		_ = io.EOF
	})
}
