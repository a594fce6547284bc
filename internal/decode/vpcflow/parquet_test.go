package vpcflow

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// pqFlow is a flow-log row as AWS's Parquet files hold it, as far as AWS's Athena
// DDL tells: underscore names, INT32 ports/protocol/flags/path, INT64 counts and
// times, strings for the rest, every column nullable. It has fields of versions
// 2–5, 7 and 8, and one column vigil does not know.
type pqFlow struct {
	Version          *int32  `parquet:"version,optional"`
	AccountID        *string `parquet:"account_id,optional"`
	InterfaceID      *string `parquet:"interface_id,optional"`
	SrcAddr          *string `parquet:"srcaddr,optional"`
	DstAddr          *string `parquet:"dstaddr,optional"`
	SrcPort          *int32  `parquet:"srcport,optional"`
	DstPort          *int32  `parquet:"dstport,optional"`
	Protocol         *int32  `parquet:"protocol,optional"`
	Packets          *int64  `parquet:"packets,optional"`
	Bytes            *int64  `parquet:"bytes,optional"`
	Start            *int64  `parquet:"start,optional"`
	End              *int64  `parquet:"end,optional"`
	Action           *string `parquet:"action,optional"`
	LogStatus        *string `parquet:"log_status,optional"`
	VPCID            *string `parquet:"vpc_id,optional"`
	SubnetID         *string `parquet:"subnet_id,optional"`
	InstanceID       *string `parquet:"instance_id,optional"`
	TCPFlags         *int32  `parquet:"tcp_flags,optional"`
	Type             *string `parquet:"type,optional"`
	PktSrcAddr       *string `parquet:"pkt_srcaddr,optional"`
	PktDstAddr       *string `parquet:"pkt_dstaddr,optional"`
	Region           *string `parquet:"region,optional"`
	AZID             *string `parquet:"az_id,optional"`
	SublocationType  *string `parquet:"sublocation_type,optional"`
	SublocationID    *string `parquet:"sublocation_id,optional"`
	PktSrcAWSService *string `parquet:"pkt_src_aws_service,optional"`
	PktDstAWSService *string `parquet:"pkt_dst_aws_service,optional"`
	FlowDirection    *string `parquet:"flow_direction,optional"`
	TrafficPath      *int32  `parquet:"traffic_path,optional"`
	ECSClusterName   *string `parquet:"ecs_cluster_name,optional"`
	ECSTaskID        *string `parquet:"ecs_task_id,optional"`
	RejectReason     *string `parquet:"reject_reason,optional"`
	ResourceID       *string `parquet:"resource_id,optional"`
}

const pqColumns = "version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status vpc_id subnet_id instance_id tcp_flags type pkt_srcaddr pkt_dstaddr region az_id sublocation_type sublocation_id pkt_src_aws_service pkt_dst_aws_service flow_direction traffic_path ecs_cluster_name ecs_task_id reject_reason resource_id"

// pqRow builds a row from a text line in pqColumns order ('-' = null), so that
// each test row has a text twin to compare with.
func pqRow(t *testing.T, line string) pqFlow {
	t.Helper()
	toks := strings.Split(line, " ")
	if len(toks) != 33 {
		t.Fatalf("row has %d fields", len(toks))
	}
	s := func(i int) *string {
		if toks[i] == "-" {
			return nil
		}
		return &toks[i]
	}
	i32 := func(i int) *int32 {
		if toks[i] == "-" {
			return nil
		}
		n := int32(mustAtoi(t, toks[i]))
		return &n
	}
	i64 := func(i int) *int64 {
		if toks[i] == "-" {
			return nil
		}
		n := mustAtoi(t, toks[i])
		return &n
	}
	return pqFlow{i32(0), s(1), s(2), s(3), s(4), i32(5), i32(6), i32(7), i64(8), i64(9), i64(10), i64(11), s(12), s(13),
		s(14), s(15), s(16), i32(17), s(18), s(19), s(20), s(21), s(22), s(23), s(24), s(25), s(26), s(27), i32(28),
		s(29), s(30), s(31), s(32)}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func writeParquet[T any](t *testing.T, rows []T, opts ...parquet.WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, append([]parquet.WriterOption{parquet.Compression(&parquet.Gzip)}, opts...)...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeParquet(t *testing.T, d *Decoder, name string, data []byte) result {
	t.Helper()
	var res result
	st, err := d.DecodeParquet(context.Background(), decode.Input{Name: name}, bytes.NewReader(data), int64(len(data)), func(b *decode.Batch) error {
		res.batches++
		for i := range b.Flows {
			res.flows = append(res.flows, cloneFlow(&b.Flows[i]))
		}
		return nil
	}, func(p decode.Problem) { res.problems = append(res.problems, p) })
	if err != nil {
		t.Fatalf("DecodeParquet: %v", err)
	}
	res.stats = st
	return res
}

// TestDecodeParquet writes a Parquet file with columns of several versions (in
// row groups of two, gzip-compressed as AWS does) and checks that each row decodes
// to exactly the record its text twin decodes to, Raw included.
func TestDecodeParquet(t *testing.T) {
	lines := []string{
		// v2, AWS's default example; the v3+ columns null.
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK - - - - - - - - - - - - - - - - - - -",
		// NODATA: nearly everything null.
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA - - - - - - - - - - - - - - - - - - -",
		// v5 through a NAT gateway, IPv6 peer elsewhere.
		"5 123456789012 eni-0f0f0f0f0f0f0f0f0 10.0.0.220 203.0.113.5 40001 443 6 10 1200 1700000000 1700000050 ACCEPT OK vpc-0abc subnet-0def - 19 IPv4 10.0.1.5 203.0.113.5 eu-west-1 euw1-az2 - - - - egress 8 - - - -",
		"5 123456789012 eni-0e0e0e0e0e0e0e0e0 2a05:d018:1:2::10 2600:9000:5300::1 50000 443 6 12 5000 1700000000 1700000050 ACCEPT OK vpc-0abc subnet-0aaa i-0aaa 3 IPv6 2a05:d018:1:2::10 2600:9000:5300::1 eu-west-1 - outpost op-0123 - CLOUDFRONT egress 2 - - - -",
		// v7 ECS and v8 BPA, and the unknown column.
		"7 123456789012 eni-0a1b 10.0.2.15 10.0.3.20 40000 8080 6 5 500 1700000000 1700000010 ACCEPT OK - - - - - - - - - - - - - ingress - prod 0123abcd - i-0123456789abcdef0",
		"8 123456789012 eni-0a1b 198.51.100.7 10.0.1.5 51000 22 6 1 60 1700000000 1700000001 REJECT OK - - - - - - - - - - - - - ingress - - - BPA -",
	}
	rows := make([]pqFlow, len(lines))
	for i, l := range lines {
		rows[i] = pqRow(t, l)
	}
	// A bad row: the text path would refuse its line too.
	bad := pqRow(t, strings.Replace(lines[0], "172.31.16.139", "172.31.16.300", 1))
	rows = append(rows[:2], append([]pqFlow{bad}, rows[2:]...)...)

	data := writeParquet(t, rows, parquet.MaxRowsPerRowGroup(2))
	d := mustNew(t, DefaultConfig())
	res := decodeParquet(t, d, "flows.parquet", data)

	if len(res.flows) != len(lines) || res.stats.Records != int64(len(lines)) || res.stats.Bytes != int64(len(data)) {
		t.Fatalf("got %d records (stats %+v), want %d", len(res.flows), res.stats, len(lines))
	}
	if len(res.problems) != 2 ||
		res.problems[0].Reason != ReasonUnknownField || !strings.Contains(res.problems[0].Detail, `"resource_id"`) ||
		res.problems[1].Reason != ReasonBadAddress || res.problems[1].Line != 3 || !strings.Contains(res.problems[1].Detail, `srcaddr "172.31.16.300"`) {
		t.Errorf("problems: %v", res.problems)
	}
	text := mustNew(t, Config{Format: strings.ReplaceAll(pqColumns, " resource_id", "")})
	for i, l := range lines {
		got := res.flows[i]
		// The text twin: the same line, the unknown column added to Extra by hand.
		var want record.Flow
		if err := text.ParseLine([]byte(l[:strings.LastIndexByte(l, ' ')]), &want); err != nil {
			t.Fatal(err)
		}
		if v := l[strings.LastIndexByte(l, ' ')+1:]; v != "-" {
			want.Extra = []record.ExtraField{{Name: "resource_id", Value: v}}
		}
		want.Stream = "flows.parquet"
		if !equalFlow(&got, &want) || len(got.Extra) != len(want.Extra) || (len(want.Extra) > 0 && got.Extra[0] != want.Extra[0]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
		}
		if string(got.Raw) != l {
			t.Errorf("row %d: Raw\n got %q\nwant %q", i, got.Raw, l)
		}
	}
}

// Files with few columns, times as TIMESTAMP, numbers as text and text as numbers.
func TestDecodeParquetTypes(t *testing.T) {
	type minimal struct {
		InterfaceID string `parquet:"interface-id"` // hyphenated, required
		AccountID   int64  `parquet:"account_id"`   // a number, not a string
		SrcAddr     string `parquet:"srcaddr"`
		SrcPort     string `parquet:"srcport,optional"` // text
		Start       int64  `parquet:"start,timestamp(millisecond)"`
		End         int64  `parquet:"end,timestamp(microsecond)"`
		Bytes       float64
	}
	rows := []minimal{
		{"eni-1", 123456789012, "10.0.0.1", "443", 1700000000123, 1700000060999999, 1500},
		{"eni-2", 123456789012, "10.0.0.2", "https", 1700000000000, 1700000060000000, 1},
		{"eni-3", 123456789012, "10.0.0.3", "", 1700000000000, 1700000060000000, 2.5},
	}
	data := writeParquet(t, rows)
	res := decodeParquet(t, mustNew(t, DefaultConfig()), "few.parquet", data)
	// Row 2's port is not a number; row 3's empty port is a null.
	if len(res.flows) != 2 {
		t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
	}
	if f := res.flows[1]; f.InterfaceID != "eni-3" || f.Present.Has(record.FlowSrcPort) || f.Extra[0].Value != "2.5" {
		t.Errorf("row 3: %+v", f)
	}
	f := res.flows[0]
	if f.InterfaceID != "eni-1" || f.AccountID != "123456789012" || f.SrcPort != 443 || f.Start != 1700000000 || f.End != 1700000060 {
		t.Errorf("record: %+v", f)
	}
	if f.Present.Has(record.FlowBytes) || f.Present.Has(record.FlowVersion) || f.Present.Has(record.FlowDstAddr) {
		t.Errorf("missing columns present: %b", f.Present)
	}
	if len(f.Extra) != 1 || f.Extra[0].Name != "Bytes" || f.Extra[0].Value != "1500" {
		t.Errorf("Extra = %v (a column named Bytes is not bytes: names are case-sensitive)", f.Extra)
	}
	var reasons []string
	for _, p := range res.problems {
		reasons = append(reasons, p.String())
	}
	want := []string{
		`few.parquet: unknown field: column "Bytes" is not known to vigil; its values are kept as text`,
		`few.parquet:2: bad number: srcport "https" is not a number`,
	}
	if strings.Join(reasons, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecodeParquetNotParquet(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	data := []byte("version account-id\n2 123\n")
	_, err := d.DecodeParquet(context.Background(), decode.Input{Name: "x.log"}, bytes.NewReader(data), int64(len(data)), func(*decode.Batch) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "x.log is not a readable Parquet file") {
		t.Errorf("got %v", err)
	}
}

// Thousands of rows span several batches; each record's Raw must survive until
// its batch is emitted.
func TestDecodeParquetManyRows(t *testing.T) {
	lines := corpus("v2", 5000)
	rows := make([]pqFlow, len(lines))
	for i, l := range lines {
		rows[i] = pqRow(t, string(l)+strings.Repeat(" -", 19))
	}
	data := writeParquet(t, rows)
	res := decodeParquet(t, mustNew(t, DefaultConfig()), "many.parquet", data)
	if len(res.flows) != len(lines) || len(res.problems) != 1 { // 1: resource_id
		t.Fatalf("got %d records, problems %v", len(res.flows), res.problems)
	}
	for i := range lines {
		if want := string(lines[i]) + strings.Repeat(" -", 19); string(res.flows[i].Raw) != want {
			t.Fatalf("row %d: Raw %q", i, res.flows[i].Raw)
		}
	}
}

// BenchmarkDecodeParquet decodes a gzip-compressed Parquet file of 32768 v2 rows;
// one op is one file (see records/s and allocs/record).
func BenchmarkDecodeParquet(b *testing.B) {
	lines := cachedCorpus("v2")
	type v2 struct {
		Version     *int32  `parquet:"version,optional"`
		AccountID   *string `parquet:"account_id,optional"`
		InterfaceID *string `parquet:"interface_id,optional"`
		SrcAddr     *string `parquet:"srcaddr,optional"`
		DstAddr     *string `parquet:"dstaddr,optional"`
		SrcPort     *int32  `parquet:"srcport,optional"`
		DstPort     *int32  `parquet:"dstport,optional"`
		Protocol    *int32  `parquet:"protocol,optional"`
		Packets     *int64  `parquet:"packets,optional"`
		Bytes       *int64  `parquet:"bytes,optional"`
		Start       *int64  `parquet:"start,optional"`
		End         *int64  `parquet:"end,optional"`
		Action      *string `parquet:"action,optional"`
		LogStatus   *string `parquet:"log_status,optional"`
	}
	t := &testing.T{}
	rows := make([]v2, len(lines))
	for i, l := range lines {
		r := pqRow(t, string(l)+strings.Repeat(" -", 19))
		rows[i] = v2{r.Version, r.AccountID, r.InterfaceID, r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol,
			r.Packets, r.Bytes, r.Start, r.End, r.Action, r.LogStatus}
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[v2](&buf, parquet.Compression(&parquet.Gzip))
	if _, err := w.Write(rows); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	d := mustNew(b, DefaultConfig())
	emit := func(*decode.Batch) error { return nil }
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st, err := d.DecodeParquet(context.Background(), decode.Input{Name: "b"}, bytes.NewReader(data), int64(len(data)), emit, nil)
		if err != nil || st.Records != int64(len(rows)) {
			b.Fatal(err, st)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(rows))/b.Elapsed().Seconds(), "records/s")
}
