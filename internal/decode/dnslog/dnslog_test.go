package dnslog

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
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// awsExample is the example record of AWS's Resolver query-log documentation
// (shared/reference/formats-and-tools.md §1.2), as one line.
const awsExample = `{"srcaddr":"4.5.64.102","vpc_id":"vpc-7example","answers":[{"Rdata":"203.0.113.9","Type":"PTR","Class":"IN"}],"firewall_rule_group_id":"rslvr-frg-01234567890abcdef","firewall_rule_action":"BLOCK","query_name":"15.3.4.32.in-addr.arpa.","firewall_domain_list_id":"rslvr-fdl-01234567890abcdef","query_class":"IN","srcids":{"instance":"i-0d15cd0d3example"},"rcode":"NOERROR","query_type":"PTR","transport":"UDP","version":"1.100000","account_id":"111122223333","srcport":"56067","query_timestamp":"2021-02-04T17:51:55Z","region":"us-east-1"}`

// result is what decoding one input gave, copied out of the reused batches.
type result struct {
	recs     []record.DNSQuery
	problems []decode.Problem
	stats    decode.Stats
	batches  int
}

func decodeString(t testing.TB, in string, r io.Reader) result {
	t.Helper()
	var res result
	d := New(DefaultConfig())
	if r == nil {
		r = strings.NewReader(in)
	}
	st, err := d.Decode(context.Background(), decode.Input{Name: "test.log"}, r, func(b *decode.Batch) error {
		res.batches++
		if b.Kind != record.KindDNS || b.Len() != len(b.DNS) || b.Len() == 0 || b.Len() > decode.BatchSize {
			t.Fatalf("bad batch: kind %v, %d records", b.Kind, b.Len())
		}
		for _, q := range b.DNS {
			q.Raw = bytes.Clone(q.Raw)
			q.Answers = slices.Clone(q.Answers)
			res.recs = append(res.recs, q)
		}
		return nil
	}, func(p decode.Problem) { res.problems = append(res.problems, p) })
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	res.stats = st
	if st.Records != int64(len(res.recs)) {
		t.Errorf("Stats.Records = %d, emitted %d", st.Records, len(res.recs))
	}
	if st.SkippedTotal() != int64(len(res.problems)) {
		t.Errorf("skipped %d, reported %d problems", st.SkippedTotal(), len(res.problems))
	}
	return res
}

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestAWSExample(t *testing.T) {
	res := decodeString(t, awsExample+"\n", nil)
	if len(res.recs) != 1 || len(res.problems) != 0 {
		t.Fatalf("got %d records, problems %v", len(res.recs), res.problems)
	}
	q := &res.recs[0]
	want := map[string]string{
		"version": "1.100000", "account_id": "111122223333", "region": "us-east-1", "vpc_id": "vpc-7example",
		"query_timestamp": "2021-02-04 17:51:55.000", "query_name": "15.3.4.32.in-addr.arpa.", "query_type": "PTR",
		"query_class": "IN", "rcode": "NOERROR", "srcaddr": "4.5.64.102", "srcport": "56067", "transport": "UDP",
		"srcids.instance": "i-0d15cd0d3example", "firewall_rule_group_id": "rslvr-frg-01234567890abcdef",
		"firewall_rule_action": "BLOCK", "firewall_domain_list_id": "rslvr-fdl-01234567890abcdef",
		"@timestamp": "2021-02-04 17:51:55.000", "@message": awsExample, "@logStream": "test.log",
	}
	for name, w := range want {
		f, ok := record.DNSCatalogue.Lookup(name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		if got := q.Get(f.ID); got.String() != w || got.IsMissing() {
			t.Errorf("%s = %q (%v); want %q", name, got.String(), got.Kind, w)
		}
	}
	for _, missing := range []record.FieldID{record.DNSSrcResolverEndpoint, record.DNSSrcResolverNetworkInterface} {
		if v := q.Get(missing); !v.IsMissing() {
			t.Errorf("%s = %v; want missing", record.DNSCatalogue.Fields[missing].Name, v)
		}
	}
	if v := q.Get(record.DNSSrcPort); v.Kind != record.Int || v.Int != 56067 {
		t.Errorf("srcport = %#v; want Int 56067", v)
	}
	if v := q.Get(record.DNSSrcAddr); v.Kind != record.Addr || v.IP != netip.MustParseAddr("4.5.64.102") {
		t.Errorf("srcaddr = %#v", v)
	}
	if q.Time != ms("2021-02-04T17:51:55Z") || q.Timestamp() != q.Time {
		t.Errorf("Time = %d", q.Time)
	}
	for path, w := range map[string]string{"answers.0.Rdata": "203.0.113.9", "answers.0.Type": "PTR", "answers.0.Class": "IN", "srcids.instance": "i-0d15cd0d3example"} {
		if got := q.Path(path); got.String() != w {
			t.Errorf("Path(%s) = %q; want %q", path, got.String(), w)
		}
	}
	if got := q.Path("answers.1.Rdata"); !got.IsMissing() {
		t.Errorf("answers.1.Rdata = %#v", got)
	}
}

func TestVariants(t *testing.T) {
	lines := []string{
		// Fractional seconds, srcport as a number, an inbound endpoint, two answers,
		// no firewall keys, and a key newer log versions might add.
		`{"version":"1.100000","account_id":"111122223333","region":"eu-west-1","vpc_id":"vpc-1","query_timestamp":"2017-03-16T19:20:25.177Z","query_name":"example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"93.184.216.34","Type":"A","Class":"IN"},{"Rdata":"93.184.216.35","Type":"A","Class":"IN"}],"srcaddr":"2001:db8::1","srcport":53000,"transport":"TCP","srcids":{"resolver_endpoint":"rslvr-in-abc","resolver_network_interface":"rni-123"},"firewall_protection":"DGA","extra":{"nested":[1,{"k":"v"}]}}`,
		// NXDOMAIN with no answers and the minimum keys.
		`{"query_timestamp":"2021-02-04T17:51:56Z","query_name":"nope.example.","rcode":"NXDOMAIN","answers":[]}`,
		// null answers and empty strings.
		`{"query_timestamp":"2021-02-04T17:51:57.5Z","query_name":"x.","answers":null,"srcport":"","srcaddr":"","rcode":""}`,
	}
	res := decodeString(t, strings.Join(lines, "\r\n"), nil)
	if len(res.recs) != 3 || len(res.problems) != 0 {
		t.Fatalf("got %d records, problems %v", len(res.recs), res.problems)
	}
	a := &res.recs[0]
	if a.Time != ms("2017-03-16T19:20:25.177Z") {
		t.Errorf("fractional time = %d", a.Time)
	}
	if a.SrcPort != 53000 || !a.Present.Has(record.DNSSrcPort) || a.SrcAddr != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("srcport %d srcaddr %v", a.SrcPort, a.SrcAddr)
	}
	if a.SrcResolverEndpoint != "rslvr-in-abc" || a.SrcResolverNetworkInterface != "rni-123" || a.Present.Has(record.DNSSrcInstance) {
		t.Errorf("srcids: %+v", a)
	}
	if len(a.Answers) != 2 || a.Path("answers.1.Rdata").String() != "93.184.216.35" {
		t.Errorf("answers = %+v", a.Answers)
	}
	if a.Path("firewall_protection").String() != "DGA" || a.Path("extra.nested.1.k").String() != "v" {
		t.Errorf("unknown keys not reachable: %q %q", a.Path("firewall_protection"), a.Path("extra.nested.1.k"))
	}
	if a.Present.Has(record.DNSFirewallRuleAction) || !a.Get(record.DNSFirewallRuleAction).IsMissing() {
		t.Error("firewall_rule_action present")
	}
	b := &res.recs[1]
	if b.RCode != "NXDOMAIN" || len(b.Answers) != 0 || b.Present.Has(record.DNSSrcAddr) || b.Present.Has(record.DNSVersion) {
		t.Errorf("minimal record: %+v", b)
	}
	c := &res.recs[2]
	if c.Time != ms("2021-02-04T17:51:57.500Z") || c.Answers != nil || c.Present.Has(record.DNSSrcPort) || c.Present.Has(record.DNSSrcAddr) {
		t.Errorf("third record: %+v", c)
	}
	if !c.Present.Has(record.DNSRCode) || c.Get(record.DNSRCode).IsMissing() || c.Get(record.DNSRCode).String() != "" {
		t.Errorf("empty rcode should be present and empty: %#v", c.Get(record.DNSRCode))
	}
}

// TestShapes reads the same records as JSON lines, back to back, as an array and
// pretty-printed.
func TestShapes(t *testing.T) {
	rec := func(i int) string {
		return fmt.Sprintf(`{"query_timestamp":"2021-02-04T17:51:%02dZ","query_name":"q%d.example.","srcport":"%d"}`, i, i, 1000+i)
	}
	shapes := map[string]string{
		"lines":         rec(1) + "\n" + rec(2) + "\n" + rec(3) + "\n",
		"back to back":  rec(1) + rec(2) + rec(3),
		"array":         "[" + rec(1) + "," + rec(2) + "," + rec(3) + "]",
		"pretty array":  "[\n  " + strings.ReplaceAll(rec(1), ",", ",\n    ") + ",\n  " + rec(2) + ",\n  " + rec(3) + "\n]\n",
		"no final line": rec(1) + "\n" + rec(2) + "\n" + rec(3),
	}
	for name, in := range shapes {
		res := decodeString(t, in, iotest.HalfReader(strings.NewReader(in)))
		var names []string
		for _, q := range res.recs {
			names = append(names, q.QueryName)
		}
		if strings.Join(names, " ") != "q1.example. q2.example. q3.example." || len(res.problems) != 0 {
			t.Errorf("%s: got %v, problems %v", name, names, res.problems)
		}
		if res.stats.Bytes != int64(len(in)) && res.stats.Bytes != int64(len(strings.TrimRight(in, "\n"))) {
			t.Errorf("%s: Bytes = %d of %d", name, res.stats.Bytes, len(in))
		}
	}
}

func TestBadRecords(t *testing.T) {
	good := `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"ok.example."}`
	cases := []struct {
		name, line, reason string
	}{
		{"not JSON", `this is not json`, "bad JSON"},
		{"truncated", `{"query_timestamp":"2021-02-04T17:51:55Z","query_na`, "truncated"},
		{"invalid UTF-8", "{\"query_timestamp\":\"2021-02-04T17:51:55Z\",\"query_name\":\"\xff\xfe.example.\"}", "invalid UTF-8"},
		{"missing query_name", `{"query_timestamp":"2021-02-04T17:51:55Z","rcode":"NOERROR"}`, "missing query_name"},
		{"missing query_timestamp", `{"query_name":"x.example.","rcode":"NOERROR"}`, "missing query_timestamp"},
		{"null query_name", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":null}`, "missing query_name"},
		{"garbage timestamp", `{"query_timestamp":"yesterday","query_name":"x."}`, "bad query_timestamp"},
		{"numeric timestamp", `{"query_timestamp":1612461115,"query_name":"x."}`, "wrong type"},
		{"bad srcaddr", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"x.","srcaddr":"not-an-ip"}`, "bad srcaddr"},
		{"bad srcport", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"x.","srcport":"http"}`, "bad srcport"},
		{"srcport out of range", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"x.","srcport":70000}`, "bad srcport"},
		{"srcids not an object", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"x.","srcids":"i-1"}`, "wrong type"},
		{"answers not an array", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"x.","answers":{"Rdata":"1.2.3.4"}}`, "wrong type"},
		{"not a DNS record", `{"eventVersion":"1.08","eventName":"GetObject"}`, "not a DNS query"},
		{"array element not an object", `[1]`, "not an object"},
		{"a string", `"hello"`, "not an object"},
		{"invalid JSON content", `{"query_timestamp" "2021-02-04T17:51:55Z"}`, "bad JSON"},
		{"JSON bomb", strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "too deep"},
		{"object bomb", strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), "too deep"},
		{"20 MB line", `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"` + strings.Repeat("a", 20<<20) + `."}`, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := good + "\n" + c.line + "\n" + good + "\n"
			res := decodeString(t, in, nil)
			if len(res.recs) != 2 {
				t.Errorf("got %d good records, want 2", len(res.recs))
			}
			if len(res.problems) != 1 {
				t.Fatalf("problems = %v, want one", res.problems)
			}
			p := res.problems[0]
			wantLine := int64(2)
			if strings.HasPrefix(c.line, "[") {
				wantLine = 1 // an array element is named by its index (the line is in Detail)
			}
			if p.Reason != c.reason || p.Input != "test.log" || p.Line != wantLine || res.stats.Skipped[c.reason] != 1 {
				t.Errorf("problem = %+v (skipped %v); want reason %q at test.log:%d", p, res.stats.Skipped, c.reason, wantLine)
			}
			if len(p.Detail) > 300 {
				t.Errorf("detail of %d bytes: quote less of the input", len(p.Detail))
			}
		})
	}
}

func TestArrayProblemsNameTheRecord(t *testing.T) {
	in := "[\n" + awsExample + ",\n" + `{"query_name":"x."}` + "\n]"
	res := decodeString(t, in, nil)
	if len(res.recs) != 1 || len(res.problems) != 1 {
		t.Fatalf("records %d, problems %v", len(res.recs), res.problems)
	}
	if p := res.problems[0]; p.Line != 2 || p.Reason != ReasonNoTimestamp || !strings.Contains(p.Detail, "line 3") {
		t.Errorf("problem = %+v; want record 2 at line 3", p)
	}
}

// TestBatches checks batch sizes, order, and that Raw of every record of a batch is
// intact when emit sees it (records alias the decoder's arena).
func TestBatches(t *testing.T) {
	const n = 3*decode.BatchSize + 7
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"query_timestamp":"2021-02-04T17:51:55Z","query_name":"q%d.example.","pad":"%s"}`+"\n", i, strings.Repeat("x", i%50))
	}
	d := New(DefaultConfig())
	next, batches := 0, 0
	_, err := d.Decode(context.Background(), decode.Input{Name: "b"}, strings.NewReader(b.String()), func(bt *decode.Batch) error {
		batches++
		for i := range bt.DNS {
			q := &bt.DNS[i]
			want := fmt.Sprintf("q%d.example.", next)
			if q.QueryName != want || !strings.Contains(string(q.Raw), `"`+want+`"`) {
				t.Fatalf("record %d: name %q raw %s", next, q.QueryName, q.Raw)
			}
			next++
		}
		return nil
	}, nil)
	if err != nil || next != n || batches != 4 {
		t.Errorf("err %v, %d records in %d batches", err, next, batches)
	}
}

func TestEmitErrorStops(t *testing.T) {
	var b strings.Builder
	for range 2 * decode.BatchSize {
		b.WriteString(awsExample + "\n")
	}
	stop := errors.New("stop")
	calls := 0
	_, err := New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "x"}, strings.NewReader(b.String()), func(*decode.Batch) error {
		calls++
		return stop
	}, nil)
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err = %v after %d emits", err, calls)
	}
}

func TestReadErrorAndCancel(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(awsExample+"\n"), iotest.ErrReader(boom))
	got := 0
	_, err := New(DefaultConfig()).Decode(context.Background(), decode.Input{Name: "f.log"}, r, func(b *decode.Batch) error {
		got += b.Len()
		return nil
	}, nil)
	if !errors.Is(err, boom) || got != 1 || !strings.Contains(err.Error(), "decode dnslog f.log") {
		t.Errorf("err = %v, %d records", err, got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = New(DefaultConfig()).Decode(ctx, decode.Input{Name: "f.log"}, strings.NewReader(awsExample), func(*decode.Batch) error { return nil }, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestParseMessage(t *testing.T) {
	var q record.DNSQuery
	q.Stream = "old"
	if err := ParseMessage([]byte(awsExample), &q); err != nil {
		t.Fatal(err)
	}
	if q.QueryName != "15.3.4.32.in-addr.arpa." || q.SrcPort != 56067 || string(q.Raw) != awsExample || q.Stream != "" {
		t.Errorf("got %+v", q)
	}
	err := ParseMessage([]byte(`{"query_name":"x.","query_timestamp":"nope"}`), &q)
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != ReasonBadTimestamp {
		t.Errorf("err = %v", err)
	}
	if err := ParseMessage([]byte(strings.Repeat("[", 100)), &q); !errors.As(err, &re) || re.Reason != ReasonTooDeep {
		t.Errorf("bomb: err = %v", err)
	}
}

// TestGuardDutyTesterNames decodes records built from the 929 DNS-exfiltration
// names of AWS's GuardDuty tester (shared/data), the names our detections must see
// unchanged.
func TestGuardDutyTesterNames(t *testing.T) {
	data := sharedData(t)
	raw, err := os.ReadFile(filepath.Join(data, "guardduty-tester-artifacts", "queries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(raw))
	var b strings.Builder
	for i, n := range names {
		fmt.Fprintf(&b, `{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-1","query_timestamp":"2021-02-04T17:%02d:%02dZ","query_name":"%s.","query_type":"TXT","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.0.0.5","srcport":"%d","transport":"UDP","srcids":{"instance":"i-0abc"}}`+"\n", i/60%60, i%60, n, 30000+i)
	}
	res := decodeString(t, b.String(), nil)
	// 930 names: the file's last line has no newline, so `wc -l` (and the
	// README) say 929.
	if len(res.recs) != len(names) || len(names) != 930 || len(res.problems) != 0 {
		t.Fatalf("decoded %d of %d names, problems %v", len(res.recs), len(names), res.problems)
	}
	for i, q := range res.recs {
		if q.QueryName != names[i]+"." || !strings.HasSuffix(q.QueryName, ".guarddutyc2activityb.com.") {
			t.Fatalf("record %d: %q", i, q.QueryName)
		}
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

func FuzzDNS(f *testing.F) {
	f.Add([]byte(awsExample))
	f.Add([]byte(`{"query_timestamp":"2017-03-16T19:20:25.177Z","query_name":"a.","srcport":1,"answers":null}` + "\n[{}]"))
	f.Add([]byte(`{"query_timestamp":"2021-02-30T00:00:00Z","query_name":"a.","srcaddr":"::ffff:1.2.3.4"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := New(Config{MaxRecordSize: 4096, MaxDepth: 8})
		st, err := d.Decode(context.Background(), decode.Input{Name: "fuzz"}, bytes.NewReader(in), func(b *decode.Batch) error {
			for i := range b.DNS {
				q := &b.DNS[i]
				if q.QueryName == "" && !q.Present.Has(record.DNSQueryName) || !q.Present.Has(record.DNSQueryTimestamp) {
					t.Fatalf("record without required fields: %+v", q)
				}
				for _, f := range record.DNSCatalogue.Fields {
					_ = q.Get(f.ID).String()
				}
				_ = q.Path("answers.0.Rdata")
			}
			return nil
		}, func(p decode.Problem) {
			if p.Reason == "" || p.Input != "fuzz" {
				t.Fatalf("bad problem %+v", p)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Bytes > int64(len(in)) {
			t.Fatalf("Bytes %d > %d", st.Bytes, len(in))
		}
		var q record.DNSQuery
		_ = ParseMessage(in, &q)
	})
}

// FuzzFastParse checks the fast path against encoding/json: whenever fastParse
// accepts a record, encoding/json must accept it too and read the same values.
func FuzzFastParse(f *testing.F) {
	for _, line := range bytes.Split(benchInput(3), []byte("\n")) {
		f.Add(line)
	}
	for _, s := range []string{
		`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","answers":[]}`,
		`{"query_name":"a.","srcport":53,"answers":[{"Rdata":"x"},{"Type":"A","Class":"IN","extra":null}]}`,
		`{"query_name":"a.","srcport":"0053","srcids":{"instance":"i-1","other":"x"}}`,
		`{"Query_Name":"a.","query_name":"b."}`,
		`{"query_name":"a\"b."}`,
		`{"query_name":null,"version":"1.1","unknown":true}`,
		`{"query_name":"a.","srcport":5.0}`,
		`{"query_name":"a.","answers":[{"rdata":"x"}]}`,
		` { "query_name" : "a." , "rcode" : "NOERROR" } `,
		`{"query_name":"a.","answers":[{"Rdata":"1"}],"answers":[]}`,
		`{"query_name":"a."}x`,
		`{"query_name":"a.","x":{"y":[1,-2.5e3,"q\"\u00e9",true,null,{}]}}`,
		`{"query_name":"a.","x":[01]}`,
		`{"query_name":"a.","x":"\u12"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !utf8.Valid(raw) {
			return // parse rejects it before either path runs
		}
		var fast, slow wire
		fast.reset(nil)
		var in fieldInterners
		if !fast.fastParse(raw, &in) {
			return
		}
		slow.reset(nil)
		if err := json.Unmarshal(raw, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json did not: %v", raw, err)
		}
		// Unset fields are jsonscan.Absent in both; answers compare by content.
		fa, sa := fast.Answers, slow.Answers
		fast.Answers, slow.Answers = nil, nil
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", raw, fast, slow)
		}
		if !slices.Equal(fa, sa) {
			t.Fatalf("%q: answers: fast %+v, slow %+v", raw, fa, sa)
		}
	})
}
