package vpcflow

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

// Formats used by the examples. The ones with AWS in their name are AWS's own
// (the default, and the formats of the documented examples); the others list the
// fields of one version for the constructed examples.
const (
	fmtAWSTCPFlags = "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}"
	fmtAWSNAT      = "${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}"
	// AWS's default format for Transit Gateway flow logs (all version 6 fields).
	fmtAWSTGW = "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}"
	fmtV4     = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id"
	fmtV5     = "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
	fmtV7     = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id"
	fmtV8     = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction reject-reason"
	fmtPlus   = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
)

// TestParseLineExamples decodes AWS's documented example records and constructed
// ones for the versions AWS's pages show no example of. Every field that is not
// '-' must come back, typed, as the text it was (checked through record.Flow.Get,
// which Logs Insights queries use); every '-' must leave its field unset.
func TestParseLineExamples(t *testing.T) {
	tests := []struct {
		name   string
		format string // "" = default
		line   string
		check  func(t *testing.T, f *record.Flow)
	}{
		// AWS: flow log record examples, default format.
		{name: "aws accepted", line: "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
			check: func(t *testing.T, f *record.Flow) {
				want := record.Flow{Version: 2, AccountID: "123456789010", InterfaceID: "eni-1235b8ca123456789",
					SrcAddr: netip.MustParseAddr("172.31.16.139"), DstAddr: netip.MustParseAddr("172.31.16.21"),
					SrcPort: 20641, DstPort: 22, Protocol: 6, Packets: 20, Bytes: 4249, Start: 1418530010, End: 1418530070,
					Action: record.ActionAccept, LogStatus: record.LogStatusOK, Present: 1<<14 - 1}
				f.Raw = nil
				if !equalFlow(f, &want) {
					t.Errorf("got %+v\nwant %+v", *f, want)
				}
			}},
		{name: "aws rejected", line: "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
			check: func(t *testing.T, f *record.Flow) { expect(t, f.Action == record.ActionReject, "action REJECT") }},
		{name: "aws nodata", line: "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.LogStatus == record.LogStatusNoData, "NODATA")
				expect(t, f.Present == record.FieldSet(0).Add(record.FlowVersion).Add(record.FlowAccountID).Add(record.FlowInterfaceID).
					Add(record.FlowStart).Add(record.FlowEnd).Add(record.FlowLogStatus), "only version, account, interface, start, end, status")
				expect(t, f.Timestamp() == 1431280876000, "timestamp from start")
			}},
		{name: "aws skipdata", line: "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
			check: func(t *testing.T, f *record.Flow) { expect(t, f.LogStatus == record.LogStatusSkipData, "SKIPDATA") }},
		{name: "aws icmp accepted", line: "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK"},
		{name: "aws icmp reply rejected", line: "2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK"},
		{name: "aws ipv6", line: "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
			check: func(t *testing.T, f *record.Flow) { expect(t, f.SrcAddr.Is6() && f.DstAddr.Is6(), "IPv6 addresses") }},
		// AWS: TCP flag sequence example (custom format with v3 fields).
		{name: "aws tcp-flags syn", format: fmtAWSTCPFlags, line: "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.TCPFlags == 2 && f.Type == "IPv4" && f.VPCID == "vpc-abcdefab012345678" && f.InstanceID == "i-01234567890123456", "v3 fields")
			}},
		{name: "aws tcp-flags syn-ack", format: fmtAWSTCPFlags, line: "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4 10.0.0.62 52.213.180.42 5001 43416 10.0.0.62 52.213.180.42 6 376 7 1566848875 1566848933 ACCEPT 18 OK"},
		{name: "aws tcp-flags fin", format: fmtAWSTCPFlags, line: "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 100701 70 1566848875 1566848933 ACCEPT 1 OK"},
		// AWS: traffic through a NAT gateway, as seen on the NAT gateway's interface
		// (pkt-* show the instance behind it and the internet host).
		{name: "aws nat instance to natgw", format: fmtAWSNAT, line: "eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.PktDstAddr == netip.MustParseAddr("203.0.113.5") && f.DstAddr == netip.MustParseAddr("10.0.0.220"), "pkt-dstaddr is the real destination")
				expect(t, !f.Present.Has(record.FlowVersion), "no version in this format")
			}},
		{name: "aws nat natgw to host", format: fmtAWSNAT, line: "eni-1235b8ca123456789 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5"},
		{name: "aws nat host to natgw", format: fmtAWSNAT, line: "eni-1235b8ca123456789 203.0.113.5 10.0.0.220 203.0.113.5 10.0.0.220"},
		{name: "aws nat natgw to instance", format: fmtAWSNAT, line: "eni-1235b8ca123456789 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5"},
		// Constructed: every v3–v4 field, one in a Local Zone.
		{name: "v4 all fields", format: fmtV4, line: "4 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 198.51.100.7 49152 443 6 12 3400 1700000000 1700000055 ACCEPT OK vpc-0abc1234def567890 subnet-0123456789abcdef0 i-0123456789abcdef0 19 IPv4 10.0.1.5 198.51.100.7 us-west-2 usw2-lax1-az1 localzone usw2-lax1-az1",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.Region == "us-west-2" && f.SublocationType == "localzone" && f.AZID == "usw2-lax1-az1", "v4 fields")
			}},
		{name: "v4 requester-managed eni", format: fmtV4, line: "4 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 198.51.100.7 49152 443 6 12 3400 1700000000 1700000055 ACCEPT OK vpc-0abc1234def567890 subnet-0123456789abcdef0 - - IPv4 10.0.1.5 198.51.100.7 us-west-2 usw2-az1 - -",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, !f.Present.Has(record.FlowInstanceID) && !f.Present.Has(record.FlowTCPFlags), "'-' numbers and strings unset")
			}},
		{name: "v4 efa ipv6 pkt", format: fmtV4, line: "4 123456789012 eni-0a1b2c3d4e5f67890 2600:1f14:abc:de00::10 2600:1f14:abc:de01::20 0 0 58 1 104 1700000000 1700000001 ACCEPT OK vpc-0abc1234def567890 subnet-0123456789abcdef0 i-0123456789abcdef0 0 IPv6 2600:1f14:abc:de00::10 2600:1f14:abc:de01::20 us-west-2 usw2-az1 - -"},
		// Constructed: v5 fields (AWS service names, direction, path).
		{name: "v5 egress to s3", format: fmtV5, line: "5 eni-0a1b2c3d4e5f67890 10.0.1.5 52.216.1.1 49152 443 6 30 9000 1700000000 1700000050 ACCEPT OK 10.0.1.5 52.216.1.1 - S3 egress 7",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.FlowDirection == record.DirectionEgress && f.TrafficPath == 7 && f.PktDstAWSService == "S3" && !f.Present.Has(record.FlowPktSrcAWSService), "v5 fields")
			}},
		{name: "v5 ingress no path", format: fmtV5, line: "5 eni-0a1b2c3d4e5f67890 52.94.1.1 10.0.1.5 443 49152 6 30 9000 1700000000 1700000050 ACCEPT OK 52.94.1.1 10.0.1.5 AMAZON - ingress -",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.FlowDirection == record.DirectionIngress && !f.Present.Has(record.FlowTrafficPath), "ingress, no traffic-path")
			}},
		// Constructed from AWS's TGW default format.
		{name: "v6 transit gateway", format: fmtAWSTGW, line: "6 TransitGateway 123456789012 tgw-0123456789abcdef0 tgw-attach-0123456789abcdef0 123456789012 210987654321 vpc-0123456789abcdef0 vpc-0fedcba9876543210 subnet-0123456789abcdef0 subnet-0fedcba9876543210 eni-0123456789abcdef0 eni-0fedcba9876543210 use1-az1 use1-az2 tgw-attach-0fedcba9876543210 10.0.1.10 10.1.1.10 49152 443 6 10 1000 1700000000 1700000060 OK IPv4 0 2 0 1 18 us-east-1 egress - -",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.TGW.ResourceType == "TransitGateway" && f.TGW.ID == "tgw-0123456789abcdef0" && f.TGW.DstVPCAccountID == "210987654321" &&
					f.TGW.PairAttachmentID == "tgw-attach-0fedcba9876543210" && f.TGW.PacketsLostBlackhole == 2 && f.TGW.PacketsLostTTLExpired == 1, "TGW fields")
				expect(t, !f.Present.Has(record.FlowAction), "TGW logs have no action")
			}},
		// Constructed: v7 ECS fields, Fargate (no container instance).
		{name: "v7 ecs fargate", format: fmtV7, line: "7 123456789012 eni-0a1b2c3d4e5f67890 10.0.2.15 10.0.3.20 40000 8080 6 5 500 1700000000 1700000010 ACCEPT OK arn:aws:ecs:us-east-1:123456789012:cluster/prod prod - - 4f8a9c6e3b2d1f0e9c8b7a6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f - web arn:aws:ecs:us-east-1:123456789012:task-definition/web:42 arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef 0123456789abcdef0123456789abcdef",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.ECS.ClusterName == "prod" && f.ECS.ServiceName == "web" && f.ECS.TaskID == "0123456789abcdef0123456789abcdef" &&
					!f.Present.Has(record.FlowECSContainerInstanceARN) && !f.Present.Has(record.FlowECSSecondContainerID), "ECS fields")
			}},
		// Constructed: v8 reject-reason for Block Public Access.
		{name: "v8 bpa", format: fmtV8, line: "8 123456789012 eni-0a1b2c3d4e5f67890 198.51.100.7 10.0.1.5 51000 22 6 1 60 1700000000 1700000001 REJECT OK ingress BPA",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.RejectReason == "BPA" && f.Action == record.ActionReject, "reject-reason")
			}},
		{name: "v8 other reject", format: fmtV8, line: "8 123456789012 eni-0a1b2c3d4e5f67890 198.51.100.7 10.0.1.5 51000 22 6 1 60 1700000000 1700000001 REJECT OK ingress -"},
		// Edge values.
		{name: "max values", format: fmtPlus, line: "2 123456789012 eni-1 255.255.255.255 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535 255 9223372036854775807 9223372036854775807 4102444800 4102444800 ACCEPT OK"},
		{name: "ipv4-mapped ipv6", line: "2 123456789012 eni-1 ::ffff:10.0.0.1 :: 0 0 0 1 1 1 1 ACCEPT OK",
			check: func(t *testing.T, f *record.Flow) {
				expect(t, f.SrcAddr.Is4In6() && f.DstAddr == netip.IPv6Unspecified(), "mapped and unspecified addresses kept as written")
			}},
		{name: "account unknown", line: "2 unknown eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK"},
		{name: "trailing space and crlf", line: "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK \r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustNew(t, Config{Format: tt.format})
			var f record.Flow
			if err := d.ParseLine([]byte(tt.line), &f); err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			checkRoundTrip(t, d.base, strings.TrimRight(tt.line, " \r\n"), &f)
			if tt.check != nil {
				tt.check(t, &f)
			}
		})
	}
}

// checkRoundTrip checks that each field of the line is in f, typed, as written:
// its value prints back (as Logs Insights would print it) as the line's text, and
// '-' fields are absent. It also checks Raw.
func checkRoundTrip(t *testing.T, lay *layout, line string, f *record.Flow) {
	t.Helper()
	toks := strings.Split(line, " ")
	if len(toks) != len(lay.cols) {
		t.Fatalf("test line has %d fields, format %d", len(toks), len(lay.cols))
	}
	var present record.FieldSet
	for i, c := range lay.cols {
		var got record.Value
		if c.id == extraField {
			got = f.Path(c.name)
		} else {
			got = f.Get(c.id)
		}
		if toks[i] == "-" {
			if !got.IsMissing() {
				t.Errorf("%s: '-' decoded as %q, want missing", c.name, got.String())
			}
			continue
		}
		if c.id != extraField {
			present = present.Add(c.id)
		}
		if got.String() != toks[i] {
			t.Errorf("%s: got %q (kind %d), want %q", c.name, got.String(), got.Kind, toks[i])
		}
	}
	if f.Present != present {
		t.Errorf("Present = %b, want %b", f.Present, present)
	}
	if string(f.Raw) != line {
		t.Errorf("Raw = %q, want the line", f.Raw)
	}
}

func expect(t *testing.T, ok bool, what string) {
	t.Helper()
	if !ok {
		t.Errorf("want %s", what)
	}
}

// equalFlow compares records, Raw and Extra aside.
func equalFlow(a, b *record.Flow) bool {
	a2, b2 := *a, *b
	a2.Raw, b2.Raw = nil, nil
	a2.Extra, b2.Extra = nil, nil
	return reflect.DeepEqual(a2, b2)
}

func mustNew(t testing.TB, cfg Config) *Decoder {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestParseLineErrors covers each reason a line is refused, with the field and
// value named in the detail.
func TestParseLineErrors(t *testing.T) {
	const good = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	tests := []struct {
		name, format, line string
		reason             string
		detail             string // a substring of the detail
	}{
		{"13 fields", "", "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT", ReasonFieldCount, "13 fields, want 14"},
		{"15 fields", "", good + " extra", ReasonFieldCount, "15 fields, want 14"},
		{"empty", "", "", ReasonFieldCount, "empty line"},
		{"doubled space", "", strings.Replace(good, " 22 ", "  ", 1), ReasonFieldCount, "dstport is empty"},
		{"leading space", "", " " + good, ReasonFieldCount, "15 fields"},
		{"tabs are not separators", "", strings.ReplaceAll(good, " ", "\t"), ReasonFieldCount, "1 field, want 14"},
		{"bad ipv4", "", strings.Replace(good, "172.31.16.139", "172.31.16.256", 1), ReasonBadAddress, `srcaddr "172.31.16.256"`},
		{"ipv4 leading zero", "", strings.Replace(good, "172.31.16.139", "172.031.16.139", 1), ReasonBadAddress, "srcaddr"},
		{"ipv4 short", "", strings.Replace(good, "172.31.16.21", "172.31.16", 1), ReasonBadAddress, `dstaddr "172.31.16"`},
		{"ipv6 zone", "", strings.Replace(good, "172.31.16.21", "fe80::1%eth0", 1), ReasonBadAddress, "dstaddr"},
		{"hostname", "", strings.Replace(good, "172.31.16.21", "example.com", 1), ReasonBadAddress, "dstaddr"},
		{"port out of range", "", strings.Replace(good, " 22 ", " 65536 ", 1), ReasonBadNumber, `dstport "65536" is out of range 0–65535`},
		{"protocol out of range", "", strings.Replace(good, " 6 ", " 256 ", 1), ReasonBadNumber, "protocol"},
		{"negative", "", strings.Replace(good, " 20 ", " -20 ", 1), ReasonBadNumber, `packets "-20" is not a number`},
		{"bytes overflow", "", strings.Replace(good, " 4249 ", " 9223372036854775808 ", 1), ReasonBadNumber, "bytes"},
		{"bytes 25 digits", "", strings.Replace(good, " 4249 ", " 1234567890123456789012345 ", 1), ReasonBadNumber, "bytes"},
		{"start not a number", "", strings.Replace(good, "1418530010", "1418530010.5", 1), ReasonBadNumber, "start"},
		{"version", "", "x" + good[1:], ReasonBadNumber, "version"},
		{"action", "", strings.Replace(good, "ACCEPT", "accept", 1), ReasonBadAction, `action "accept"`},
		{"log status", "", strings.Replace(good, " OK", " FINE", 1), ReasonBadLogStatus, `log-status "FINE"`},
		{"direction", fmtV8, "8 123456789012 eni-1 1.2.3.4 10.0.1.5 1 22 6 1 60 1 1 REJECT OK inbound BPA", ReasonBadDirection, `flow-direction "inbound"`},
		{"invalid utf-8", "", strings.Replace(good, "eni-1235b8ca123456789", "eni-\xff\xfe", 1), ReasonInvalidUTF8, "interface-id is not valid UTF-8 (byte 20 of the line)"},
		{"long value truncated", "", strings.Replace(good, "172.31.16.139", strings.Repeat("9", 500), 1), ReasonBadAddress, `… (500 bytes)`},
		{"control chars quoted", "", strings.Replace(good, "ACCEPT", "\x1b[31mX", 1), ReasonBadAction, `"\x1b[31mX"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustNew(t, Config{Format: tt.format})
			var f record.Flow
			err := d.ParseLine([]byte(tt.line), &f)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LineError", err)
			}
			if le.Reason != tt.reason || !strings.Contains(le.Detail, tt.detail) {
				t.Errorf("got %q / %q, want %q / …%s…", le.Reason, le.Detail, tt.reason, tt.detail)
			}
			if len(le.Detail) > 200 {
				t.Errorf("detail too long (%d bytes): %s", len(le.Detail), le.Detail)
			}
		})
	}
}

// A decoder reused for many lines must not carry fields from one line to the next.
func TestParseLineReuse(t *testing.T) {
	d := mustNew(t, Config{Format: fmtV5})
	var f record.Flow
	lines := []string{
		"5 eni-1 10.0.1.5 52.216.1.1 49152 443 6 30 9000 1700000000 1700000050 ACCEPT OK 10.0.1.5 52.216.1.1 AMAZON S3 egress 7",
		"5 eni-2 - - - - - - - 1700000000 1700000050 - NODATA - - - - - -",
	}
	for _, l := range lines {
		if err := d.ParseLine([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, d.base, l, &f)
	}
	if f.SrcAddr.IsValid() || f.PktSrcAWSService != "" || f.TrafficPath != 0 || f.Action != record.ActionUnknown {
		t.Errorf("fields of the first line survived: %+v", f)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		format  string
		wantErr string // "" = valid
		cols    int
	}{
		{"", "", 14},
		{DefaultFormat, "", 14},
		{"${version} ${account-id}", "", 2},
		{"  ${version}   srcaddr  ", "", 2},
		{"version account_id log_status", "", 3},
		{fmtAWSTGW, "", 36},
		{fmtV7, "", 24},
		{"${version} ${dstadr}", `unknown field "dstadr" (did you mean "dstaddr"?)`, 0},
		{"${version} ${resource-id}", `unknown field "resource-id"`, 0},
		{"${version} ${srcaddr", `malformed field "${srcaddr"`, 0},
		{"${version} $srcaddr", `malformed field "$srcaddr"`, 0},
		{"${version} ${}", `malformed field "${}"`, 0},
		{"${Version}", `malformed field "${Version}"`, 0},
		{"version srcaddr version", `field "version" appears twice`, 0},
		{"   ", `empty flow-log format`, 0},
	}
	for _, tt := range tests {
		d, err := New(Config{Format: tt.format})
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("New(%q): %v", tt.format, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("New(%q) = %v, want error containing %q", tt.format, err, tt.wantErr)
		case tt.wantErr == "" && len(d.base.cols) != tt.cols:
			t.Errorf("New(%q): %d columns, want %d", tt.format, len(d.base.cols), tt.cols)
		}
	}
}

func TestIsHeader(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{DefaultFormat, true},
		{"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id resource-id", true},
		{"account_id log_status", true},
		{"encryption-status", false}, // nothing known
		{"", false},
		{"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA", false},
		{"eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5", false},
		{"eni-1235b8ca123456789 vpc-1 subnet-2", false},
		{"${version} ${srcaddr}", false},
		{"Version Srcaddr", false},
		{"version srcaddr -", false},
	}
	for _, tt := range tests {
		if got := IsHeader([]byte(tt.line)); got != tt.want {
			t.Errorf("IsHeader(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestTimestampPrefixLen(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"2026-11-01T00:00:05.000Z 2 1", 25},
		{"2026-11-01T00:00:05Z 2", 21},
		{"2026-11-01T00:00:05.123456789Z\t2", 31},
		{"2026-11-01 00:00:05.000 2", 24},
		{"2026-11-01T00:00:05+01:00 2", 26},
		{"2026-11-01T00:00:05-0800 2", 25},
		{"2026-11-01T00:00:05 2", 20},
		{"1793491205000 2 1", 14},
		{"2 123456789010", 0},
		{"179349120500 2", 0},   // 12 digits: an account id
		{"17934912050001 2", 0}, // 14 digits
		{"2026-13-01T00:00:05Z 2", 0},
		{"2026-11-01T00:00:05.Z 2", 0},
		{"2026-11-01T00:00:05Zx 2", 0},
		{"2026-11-01T00:00:05+1 2", 0},
		{"2026-11-01T00:00:05", 0}, // nothing after it
		{"", 0},
	}
	for _, tt := range tests {
		if got := timestampPrefixLen([]byte(tt.line)); got != tt.want {
			t.Errorf("timestampPrefixLen(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}
