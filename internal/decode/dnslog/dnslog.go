// Package dnslog decodes Route 53 Resolver query logs — one JSON object per DNS
// query the VPC resolver answered — into record.DNSQuery.
//
// S3 delivers them as JSON lines (gzip, which the caller undoes); Firehose and
// hand-made files may also hold the objects back to back or in a JSON array, so the
// decoder reads any sequence of JSON values (see package jsonscan), one record per
// object. Every documented key is typed: the srcids object, answers with their
// capitalised Rdata/Type/Class keys, the DNS Firewall fields, srcport (a string in
// the log, a number here; a JSON number is accepted too) and query_timestamp, with
// or without fractional seconds, in Unix milliseconds. Keys newer log versions add
// stay in Raw, where record.DNSQuery.Path finds them.
//
// A record without query_name or query_timestamp, or with a value that cannot be
// what the key says (a timestamp that is not a time, an address that is not an
// address), is skipped, counted by a short reason and reported with its line.
package dnslog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
	"github.com/vigil-dev/vigil/internal/record"
)

// The reasons a record is skipped for, as counted in decode.Stats.Skipped. Scanner
// failures add jsonscan's: "bad JSON", "truncated", "too large", "too deep".
const (
	ReasonBadJSON      = "bad JSON"
	ReasonInvalidUTF8  = "invalid UTF-8"
	ReasonNotObject    = "not an object"
	ReasonNotDNS       = "not a DNS query"
	ReasonNoQueryName  = "missing query_name"
	ReasonNoTimestamp  = "missing query_timestamp"
	ReasonBadTimestamp = "bad query_timestamp"
	ReasonBadSrcAddr   = "bad srcaddr"
	ReasonBadSrcPort   = "bad srcport"
	ReasonWrongType    = "wrong type"
	ReasonTooLarge     = "too large"
	ReasonTooDeep      = "too deep"
	ReasonTruncated    = "truncated"
)

// Config configures a Decoder.
type Config struct {
	// MaxRecordSize is the longest record accepted, in bytes; longer ones are
	// skipped unread. Resolver records are well under 4 KB.
	MaxRecordSize int
	// MaxDepth is the deepest JSON nesting accepted (a Resolver record nests 3).
	MaxDepth int
	// Project, when set, passes over the records a query's filters cannot
	// keep (NewProjection); nil reads every record.
	Project *decode.JSONProjection `yaml:"-"`
}

// DefaultConfig returns the limits used when a Config field is zero.
func DefaultConfig() Config {
	return Config{MaxRecordSize: decode.MaxLineSize, MaxDepth: jsonscan.DefaultLimits.MaxDepth}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxRecordSize <= 0 {
		c.MaxRecordSize = d.MaxRecordSize
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = d.MaxDepth
	}
	return c
}

// Decoder decodes Resolver query logs. It implements decode.Decoder; it keeps its
// buffers between inputs, so one Decoder per goroutine reads many inputs cheaply.
type Decoder struct {
	cfg   Config
	sc    *jsonscan.Scanner
	batch decode.Batch
	arena []byte // the Raw text of the batch's records
	st    parseState
}

// New returns a Decoder.
func New(cfg Config) *Decoder {
	return &Decoder{cfg: cfg.withDefaults()}
}

// arenaFlush is the Raw text a batch may hold before it is emitted early, so that
// a batch of large records cannot hold much memory.
const arenaFlush = 16 << 20

// Decode reads Resolver records from r until its end (decode.Decoder).
func (d *Decoder) Decode(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	var st decode.Stats
	if d.sc == nil {
		d.sc = jsonscan.New(r, jsonscan.Limits{MaxSize: d.cfg.MaxRecordSize, MaxDepth: d.cfg.MaxDepth})
	} else {
		d.sc.Reset(r)
	}
	defer d.sc.Reset(nil) // do not hold on to r
	d.batch = decode.Batch{Kind: record.KindDNS, Input: &in, DNS: d.batch.DNS[:0]}
	d.arena = d.arena[:0]
	skip := func(it jsonscan.Item, reason, detail string) {
		st.Skip(reason)
		if report != nil {
			line := it.Line
			if it.Index > 0 {
				line = it.Index
				detail = fmt.Sprintf("%s (record %d of the array, line %d)", detail, it.Index, it.Line)
			}
			report(decode.Problem{Input: in.Name, Line: line, Reason: reason, Detail: detail})
		}
	}
	flush := func() error {
		if len(d.batch.DNS) == 0 {
			return nil
		}
		st.Records += int64(len(d.batch.DNS))
		err := emit(&d.batch)
		d.batch.DNS = d.batch.DNS[:0]
		d.arena = d.arena[:0]
		return err
	}
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			st.Bytes = d.sc.Offset()
			return st, fmt.Errorf("decode dnslog %s: %w", in.Name, ctx.Err())
		}
		it, err := d.sc.Next()
		if err != nil {
			st.Bytes = d.sc.Offset()
			ferr := flush()
			if err == io.EOF {
				return st, ferr
			}
			if ferr != nil {
				return st, ferr
			}
			return st, fmt.Errorf("decode dnslog %s: %w", in.Name, err)
		}
		if it.Err != nil {
			skip(it, it.Err.Kind.String(), it.Err.Msg)
			continue
		}
		if proj := d.cfg.Project; proj != nil && !proj.MayMatch(it.Raw) {
			st.Unread++
			continue
		}
		start := len(d.arena)
		d.arena = append(d.arena, it.Raw...)
		raw := d.arena[start:len(d.arena):len(d.arena)]
		i := len(d.batch.DNS)
		if i < cap(d.batch.DNS) {
			d.batch.DNS = d.batch.DNS[:i+1]
		} else {
			d.batch.DNS = append(d.batch.DNS, record.DNSQuery{})
		}
		q := &d.batch.DNS[i]
		if err := d.parse(raw, q); err != nil {
			d.batch.DNS = d.batch.DNS[:i]
			d.arena = d.arena[:start]
			var re *RecordError
			if errors.As(err, &re) {
				skip(it, re.Reason, re.Detail)
			} else {
				skip(it, ReasonBadJSON, err.Error())
			}
			continue
		}
		q.Stream = in.Name
		if len(d.batch.DNS) >= decode.BatchSize || len(d.arena) >= arenaFlush {
			if err := flush(); err != nil {
				st.Bytes = d.sc.Offset()
				return st, err
			}
		}
	}
}

// NewProjection returns a projection of Resolver records that skips nothing
// yet (decode.JSONProjection): @message is each record's text as written.
func NewProjection() *decode.JSONProjection {
	return decode.NewJSONProjection(record.DNSCatalogue, true)
}

// RecordError says why one record was rejected. Reason is one of the Reason
// constants.
type RecordError struct {
	Reason string
	Detail string
}

func (e *RecordError) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return e.Reason + ": " + e.Detail
}

func recErr(reason, format string, args ...any) *RecordError {
	return &RecordError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// ParseMessage decodes one Resolver record, such as the message of a CloudWatch
// Logs event, into q. It resets q first (set q.Stream afterwards); q.Raw aliases
// msg. A rejected record returns a *RecordError.
func ParseMessage(msg []byte, q *record.DNSQuery) error {
	cfg := DefaultConfig()
	if len(msg) > cfg.MaxRecordSize {
		return recErr(ReasonTooLarge, "record of %d bytes, over the %d-byte limit", len(msg), cfg.MaxRecordSize)
	}
	if jsonscan.TooDeep(msg, cfg.MaxDepth) {
		return recErr(ReasonTooDeep, "nested deeper than %d", cfg.MaxDepth)
	}
	st := messageStates.Get().(*parseState)
	defer messageStates.Put(st)
	return st.w.parse(msg, q, &st.in)
}

// parseState is what parsing one record needs between records: the wire
// struct and the fast path's interners.
type parseState struct {
	w  wire
	in fieldInterners
}

// messageStates keeps ParseMessage's states (CloudWatch Logs payloads come one
// message at a time, from many goroutines).
var messageStates = sync.Pool{New: func() any { return new(parseState) }}

func (d *Decoder) parse(raw []byte, q *record.DNSQuery) error { return d.st.w.parse(raw, q, &d.st.in) }

// wire is the JSON shape of a Resolver record. Its string fields are set to
// jsonscan.Absent before each use to tell absent keys from empty values.
type wire struct {
	Version        string             `json:"version"`
	AccountID      string             `json:"account_id"`
	Region         string             `json:"region"`
	VPCID          string             `json:"vpc_id"`
	QueryTimestamp string             `json:"query_timestamp"`
	QueryName      string             `json:"query_name"`
	QueryType      string             `json:"query_type"`
	QueryClass     string             `json:"query_class"`
	RCode          string             `json:"rcode"`
	Answers        []record.DNSAnswer `json:"answers"`
	SrcAddr        string             `json:"srcaddr"`
	SrcPort        port               `json:"srcport"`
	Transport      string             `json:"transport"`
	SrcIDs         struct {
		Instance                 string `json:"instance"`
		ResolverEndpoint         string `json:"resolver_endpoint"`
		ResolverNetworkInterface string `json:"resolver_network_interface"`
	} `json:"srcids"`
	FirewallRuleGroupID  string `json:"firewall_rule_group_id"`
	FirewallRuleAction   string `json:"firewall_rule_action"`
	FirewallDomainListID string `json:"firewall_domain_list_id"`
}

// port is srcport: a JSON string as the log writes it, or a number.
type port struct {
	n    uint16
	text []byte // the value as logged when it is not a port, for the message
	set  bool
	bad  bool
}

// UnmarshalJSON parses the port in place: a string or a number. A value that is
// not a port is remembered, not returned as an error, so that it is reported with
// the reason "bad srcport" rather than as a type error.
func (p *port) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	p.set = true
	digits := b
	if len(b) >= 2 && b[0] == '"' {
		digits = b[1 : len(b)-1]
	}
	if len(digits) == 0 || string(digits) == "-" {
		p.set = false // logged as empty: absent
		return nil
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' || n > 0xffff {
			p.bad, p.text = true, b
			return nil
		}
		n = n*10 + int(c-'0')
	}
	if n > 0xffff || len(digits) > 5 {
		p.bad, p.text = true, b
		return nil
	}
	p.n = uint16(n)
	return nil
}

func (w *wire) reset(answers []record.DNSAnswer) {
	a := jsonscan.Absent
	*w = wire{Version: a, AccountID: a, Region: a, VPCID: a, QueryTimestamp: a, QueryName: a,
		QueryType: a, QueryClass: a, RCode: a, Answers: answers, SrcAddr: a, Transport: a,
		FirewallRuleGroupID: a, FirewallRuleAction: a, FirewallDomainListID: a}
	w.SrcIDs.Instance, w.SrcIDs.ResolverEndpoint, w.SrcIDs.ResolverNetworkInterface = a, a, a
}

func (w *wire) parse(raw []byte, q *record.DNSQuery, in *fieldInterners) error {
	answers := q.Answers[:0]
	q.Reset()
	if !utf8.Valid(raw) {
		return recErr(ReasonInvalidUTF8, "record is not valid UTF-8")
	}
	if len(raw) == 0 || raw[0] != '{' {
		return recErr(ReasonNotObject, "expected a JSON object, found %s", preview(raw))
	}
	w.reset(answers)
	if !w.fastParse(raw, in) {
		if err := w.slowParse(raw, answers); err != nil {
			return err
		}
	}
	return w.finish(raw, q)
}

// slowParse reads raw with encoding/json: any valid JSON, with its errors.
func (w *wire) slowParse(raw []byte, answers []record.DNSAnswer) error {
	// encoding/json decodes array elements into the reused backing array
	// without zeroing them: clear it, so no answer keeps a field of an older one.
	clear(answers[:cap(answers)])
	w.reset(answers)
	if err := json.Unmarshal(raw, w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return recErr(ReasonWrongType, "%s is a JSON %s", fieldName(te), te.Value)
		}
		return recErr(ReasonBadJSON, "%v", err)
	}
	return nil
}

// finish checks the fields read into w and moves them into q.
func (w *wire) finish(raw []byte, q *record.DNSQuery) error {
	if jsonscan.IsAbsent(w.QueryName) && jsonscan.IsAbsent(w.QueryTimestamp) {
		return recErr(ReasonNotDNS, "object has neither query_name nor query_timestamp")
	}
	if jsonscan.IsAbsent(w.QueryName) {
		return recErr(ReasonNoQueryName, "record has no query_name")
	}
	if jsonscan.IsAbsent(w.QueryTimestamp) {
		return recErr(ReasonNoTimestamp, "record has no query_timestamp")
	}
	ms, ok := jsonscan.ParseTime(w.QueryTimestamp)
	if !ok {
		return recErr(ReasonBadTimestamp, "%q is not an ISO 8601 time", clip(w.QueryTimestamp))
	}
	q.Time = ms
	q.Present = q.Present.Add(record.DNSQueryTimestamp)

	str := func(id record.FieldID, v string) {
		if !jsonscan.IsAbsent(v) {
			*q.StringField(id) = v
			q.Present = q.Present.Add(id)
		}
	}
	str(record.DNSVersion, w.Version)
	str(record.DNSAccountID, w.AccountID)
	str(record.DNSRegion, w.Region)
	str(record.DNSVPCID, w.VPCID)
	str(record.DNSQueryName, w.QueryName)
	str(record.DNSQueryType, w.QueryType)
	str(record.DNSQueryClass, w.QueryClass)
	str(record.DNSRCode, w.RCode)
	str(record.DNSTransport, w.Transport)
	str(record.DNSSrcInstance, w.SrcIDs.Instance)
	str(record.DNSSrcResolverEndpoint, w.SrcIDs.ResolverEndpoint)
	str(record.DNSSrcResolverNetworkInterface, w.SrcIDs.ResolverNetworkInterface)
	str(record.DNSFirewallRuleGroupID, w.FirewallRuleGroupID)
	str(record.DNSFirewallRuleAction, w.FirewallRuleAction)
	str(record.DNSFirewallDomainListID, w.FirewallDomainListID)
	q.Answers = w.Answers

	if !jsonscan.IsAbsent(w.SrcAddr) && w.SrcAddr != "" && w.SrcAddr != "-" {
		a, err := netip.ParseAddr(w.SrcAddr)
		if err != nil || a.Zone() != "" {
			return recErr(ReasonBadSrcAddr, "%q is not an IP address", clip(w.SrcAddr))
		}
		q.SrcAddr = a.Unmap()
		q.Present = q.Present.Add(record.DNSSrcAddr)
	}
	if w.SrcPort.bad {
		return recErr(ReasonBadSrcPort, "%s is not a port number", clip(string(w.SrcPort.text)))
	}
	if w.SrcPort.set {
		q.SrcPort = w.SrcPort.n
		q.Present = q.Present.Add(record.DNSSrcPort)
	}
	q.Raw = raw
	return nil
}

// fieldName names the JSON key a type error is about.
func fieldName(te *json.UnmarshalTypeError) string {
	if te.Field != "" {
		return te.Field
	}
	return "a value"
}

// clip shortens a value quoted in a message; values come from the input and may be
// long.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// preview shows the start of a value for a message.
func preview(raw []byte) string {
	return strconv.Quote(clip(string(raw)))
}
