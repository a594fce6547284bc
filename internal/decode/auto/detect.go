// Package auto tells the format of a log input from its content, so that a folder
// of mixed logs — flow logs, Resolver query logs, CloudTrail files, CloudWatch
// Logs payloads, Parquet — just works, and dispatches each input to its decoder.
//
// Detect looks at the first few KB of an input (after decompression) and, only
// when they settle nothing, at its name:
//
//	content                                                       format
//	Parquet magic "PAR1"                                          parquet
//	a flow-log header line ("version account-id interface-id …"), vpcflow
//	  or a line of 14 or more space-separated fields whose first
//	  is a version number (or a CloudWatch export timestamp)
//	{"Records":[…]}, {"Events":[…]} (lookup-events),               cloudtrail
//	  {"QueryResultRows":…} (Lake), an object or array of objects
//	  with eventVersion/eventSource/eventName/eventTime/userIdentity,
//	  an EventBridge event (detail-type), a Lake event (eventData)
//	an object or array of objects with query_name/query_timestamp/  dnslog
//	  srcids
//	{"messageType":…}, {"awslogs":…}, {"logEvents":…},             cwlogs
//	  {"events":[…]} (aws logs filter-log-events/get-log-events),
//	  {"records":[{"data":…}]} (Firehose)
//	CloudTrail digest files (digestStartTime, logFiles…)          cloudtrail-digest (read, no records)
//
// Names help only when the content is empty or unclear: AWS's S3 key layouts
// (…/vpcflowlogs/…, …/vpcdnsquerylogs/…, …/CloudTrail/…, …/CloudTrail-Digest/…)
// and the .parquet extension.
package auto

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
)

// Format names an input format, as users write it after --format.
type Format string

// The formats. Unknown is the zero value: content Detect cannot place.
const (
	Unknown          Format = ""
	Auto             Format = "auto" // detect per input
	VPCFlow          Format = "vpcflow"
	DNSLog           Format = "dnslog"
	CloudTrail       Format = "cloudtrail"
	CWLogs           Format = "cwlogs"
	Parquet          Format = "parquet"           // VPC flow logs in AWS's Parquet delivery format
	CloudTrailDigest Format = "cloudtrail-digest" // integrity digests beside CloudTrail files: no records
)

// Formats lists the formats a user may name, for help and error messages.
var Formats = []Format{Auto, VPCFlow, DNSLog, CloudTrail, CWLogs, Parquet}

var aliases = map[string]Format{
	"auto": Auto, "": Auto,
	"vpcflow": VPCFlow, "flow": VPCFlow, "flowlogs": VPCFlow, "vpcflowlogs": VPCFlow, "vpc": VPCFlow,
	"dnslog": DNSLog, "dns": DNSLog, "resolver": DNSLog, "route53resolver": DNSLog, "vpcdnsquerylogs": DNSLog,
	"cloudtrail": CloudTrail, "ct": CloudTrail, "apicall": CloudTrail,
	"cwlogs": CWLogs, "cloudwatch": CWLogs, "cloudwatchlogs": CWLogs, "cwl": CWLogs,
	"parquet":           Parquet,
	"cloudtrail-digest": CloudTrailDigest,
}

// ParseFormat reads a --format value: a format name or a common spelling of one
// (flow, dns, resolver, ct, cloudwatch…), case-insensitively.
func ParseFormat(s string) (Format, error) {
	key := strings.ToLower(strings.NewReplacer("_", "", " ", "").Replace(strings.TrimSpace(s)))
	if f, ok := aliases[key]; ok {
		return f, nil
	}
	if f, ok := aliases[strings.ReplaceAll(key, "-", "")]; ok {
		return f, nil
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return Unknown, fmt.Errorf("unknown format %q (expected %s)", s, strings.Join(names, ", "))
}

// String returns the format's name ("unknown" for Unknown).
func (f Format) String() string {
	if f == Unknown {
		return "unknown"
	}
	return string(f)
}

// SniffSize is how much of an input Detect wants to see.
const SniffSize = 8 << 10

// Detect tells an input's format from its first bytes (after decompression; a
// gzip head is decompressed as far as it goes) and, when they are empty or
// unclear, from its name. It returns Unknown when neither says.
func Detect(head []byte, name string) Format {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		head = gunzipHead(head)
	}
	if f := detectContent(head); f != Unknown {
		return f
	}
	return fromName(name)
}

// gunzipHead decompresses as much of a gzip stream's start as it can.
func gunzipHead(head []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, 4*SniffSize)) // a cut stream ends in an error: keep what came
	return out
}

func detectContent(head []byte) Format {
	if bytes.HasPrefix(head, []byte("PAR1")) {
		return Parquet
	}
	h := bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	h = bytes.TrimLeft(h, " \t\r\n")
	if len(h) == 0 {
		return Unknown
	}
	if h[0] == '{' || h[0] == '[' {
		return detectJSON(h)
	}
	if isFlowText(h) {
		return VPCFlow
	}
	return Unknown
}

var (
	cloudTrailKeys = []string{"eventVersion", "eventSource", "eventName", "eventTime", "userIdentity", "awsRegion", "detail-type", "eventData", "CloudTrailEvent"}
	dnsKeys        = []string{"query_name", "query_timestamp", "srcids", "query_type", "query_class"}
	cwlogsKeys     = []string{"messageType", "awslogs", "logEvents", "events", "records", "logStreamName", "ingestionTime"}
	trailFileKeys  = []string{"Records", "Events", "QueryResultRows"}
	digestKeys     = []string{"digestStartTime", "digestEndTime", "digestPublicKeyFingerprint", "digestSignatureAlgorithm", "logFiles"}
)

// detectJSON classifies JSON by the keys of its first object: the top-level
// object's own, or those of a top-level array's elements.
func detectJSON(h []byte) Format {
	top, elem := jsonKeys(h)
	has := func(keys map[string]bool, names []string) bool {
		for _, n := range names {
			if keys[n] {
				return true
			}
		}
		return false
	}
	if h[0] == '[' {
		top, elem = elem, nil
	}
	switch {
	case has(top, trailFileKeys):
		return CloudTrail
	case has(top, digestKeys):
		return CloudTrailDigest
	case has(top, []string{"messageType", "awslogs", "logEvents", "records"}):
		return CWLogs
	case top["events"] && (len(elem) == 0 || has(elem, cwlogsKeys) || elem["message"] || elem["timestamp"]):
		return CWLogs
	case has(top, cloudTrailKeys):
		return CloudTrail
	case has(top, dnsKeys):
		return DNSLog
	}
	return Unknown
}

// jsonKeys collects the member names of the first JSON object in h (depth 1) and
// of objects one level down (depth 2 or 3: a top-level array's elements, or the
// elements of an array member). h may be cut anywhere; it is read as far as it goes.
func jsonKeys(h []byte) (top, inner map[string]bool) {
	top, inner = map[string]bool{}, map[string]bool{}
	depth := 0
	var stack []byte
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch c {
		case '{', '[':
			depth++
			stack = append(stack, c)
		case '}', ']':
			depth--
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if depth <= 0 {
				return top, inner
			}
		case '"':
			j := i + 1
			for j < len(h) && h[j] != '"' {
				if h[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(h) {
				return top, inner
			}
			s := string(h[i+1 : j])
			i = j
			// A key is a string in an object followed by a colon.
			k := i + 1
			for k < len(h) && (h[k] == ' ' || h[k] == '\t' || h[k] == '\r' || h[k] == '\n') {
				k++
			}
			if k < len(h) && h[k] == ':' && len(stack) > 0 && stack[len(stack)-1] == '{' {
				switch {
				case depth == 1:
					top[s] = true
				case depth <= 3:
					inner[s] = true
				}
			}
		}
	}
	return top, inner
}

// isFlowText reports whether the first line of h is a flow-log header or record.
func isFlowText(h []byte) bool {
	line := h
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, "\r")
	if vpcflow.IsHeader(line) {
		return true
	}
	fields := strings.Fields(string(line))
	if len(fields) < 14 {
		return false
	}
	first := fields[0]
	if isVersion(first) {
		return true
	}
	// CloudWatch exports put the event timestamp first.
	return (len(first) >= 20 && first[4] == '-' && first[10] == 'T' || len(first) == 13 && allDigits(first)) && isVersion(fields[1])
}

func isVersion(s string) bool { return len(s) >= 1 && len(s) <= 2 && allDigits(s) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// fromName guesses from AWS's S3 key layouts and the file extension.
func fromName(name string) Format {
	n := strings.ReplaceAll(name, "\\", "/")
	lower := strings.ToLower(n)
	switch {
	case strings.HasSuffix(lower, ".parquet"):
		return Parquet
	case strings.Contains(lower, "vpcflowlogs"):
		return VPCFlow
	case strings.Contains(lower, "vpcdnsquerylogs"):
		return DNSLog
	case strings.Contains(n, "CloudTrail-Digest"):
		return CloudTrailDigest
	case strings.Contains(n, "/CloudTrail/") || strings.Contains(n, "/CloudTrail-Insight/") || strings.Contains(path.Base(n), "_CloudTrail_"):
		return CloudTrail
	}
	return Unknown
}

// describe renders the start of an input for the "unknown format" message.
func describe(head []byte) string {
	const max = 48
	h := head
	if len(h) > max {
		h = h[:max]
	}
	printable := 0
	for _, c := range h {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' || c == '\r' {
			printable++
		}
	}
	if len(h) > 0 && printable < len(h)*3/4 {
		return fmt.Sprintf("binary data starting % x", h[:min(len(h), 16)])
	}
	s := fmt.Sprintf("%q", h)
	if len(head) > max {
		s += "…"
	}
	return "it starts " + s
}
