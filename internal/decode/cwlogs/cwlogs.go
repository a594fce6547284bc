// Package cwlogs decodes logs as CloudWatch Logs hands them on: the payloads of
// subscription filters and the JSON the AWS CLI prints for a log group's events.
// Each log event's message is one record of another format — a VPC flow-log line,
// a Route 53 Resolver JSON object or a CloudTrail JSON object — and is decoded by
// that format's own line-level parser (vpcflow.ParseLine, dnslog.ParseMessage,
// cloudtrail.ParseMessage), chosen per message by sniffing it.
//
// Inputs read, in any mix and any number back to back:
//
//   - subscription payloads, {"messageType":"DATA_MESSAGE","owner","logGroup",
//     "logStream","subscriptionFilters","logEvents":[{"id","timestamp","message"}]},
//     as Kinesis, Firehose and logical destinations receive them (gzip, which the
//     caller or this package undoes; Firehose writes them to S3 back to back, one
//     gzip member each). CONTROL_MESSAGE payloads, AWS's reachability checks, are
//     dropped;
//   - the same base64-encoded inside {"awslogs":{"data":"…"}}, as Lambda receives
//     them, and inside {"records":[{"data":"…"}]}, as a Firehose transformation
//     Lambda or HTTP endpoint receives them;
//   - the output of `aws logs filter-log-events` ({"events":[{"logStreamName",
//     "timestamp","message","ingestionTime","eventId"}],"searchedLogStreams":…})
//     and of `aws logs get-log-events` ({"events":[{"timestamp","message",
//     "ingestionTime"}],"nextForwardToken":…}), streamed event by event.
//
// @logStream of every record is the log stream its event came from (for
// get-log-events output, which does not name it, the input's name). A batch holds
// records of one kind, so a batch is emitted whenever the kind changes.
package cwlogs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/cloudtrail"
	"github.com/vigil-dev/vigil/internal/decode/dnslog"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/record"
)

// The reasons this package skips input for, besides those of the message parsers
// (vpcflow, dnslog, cloudtrail) and of jsonscan ("bad JSON", "truncated", "too
// large", "too deep").
const (
	ReasonNotPayload     = "not a CloudWatch Logs payload"
	ReasonBadBase64      = "bad base64"
	ReasonBadGzip        = "bad gzip"
	ReasonTooLarge       = "too large"
	ReasonUnknownMessage = "unknown message"
	ReasonBadEvent       = "bad log event"
	ReasonInvalidUTF8    = "invalid UTF-8"
)

// Config configures a Decoder.
type Config struct {
	// VPCFlow says how to read flow-log messages (their field order when it is
	// not AWS's default format: CloudWatch messages carry no header line).
	VPCFlow vpcflow.Config
	// MaxPayloadSize bounds a payload document, after decompression. AWS's
	// payloads are at most a few MB; a larger one (or a gzip bomb) is skipped.
	MaxPayloadSize int
	// MaxDepth is the deepest JSON nesting accepted in a payload or message.
	MaxDepth int
}

// DefaultConfig returns the default configuration: AWS's default flow-log format,
// 32 MiB payloads, depth 64.
func DefaultConfig() Config {
	return Config{VPCFlow: vpcflow.DefaultConfig(), MaxPayloadSize: 32 << 20, MaxDepth: jsonscan.DefaultLimits.MaxDepth}
}

// Decoder decodes CloudWatch Logs payloads and CLI output. It implements
// decode.Decoder; use one per goroutine.
type Decoder struct {
	cfg  Config
	flow *vpcflow.Decoder
	sc   *jsonscan.Scanner // the input
	// Per input.
	in     decode.Input
	st     decode.Stats
	emit   func(*decode.Batch) error
	report func(decode.Problem)
	batch  decode.Batch
	arena  []byte
}

// New returns a Decoder. It fails only if cfg.VPCFlow.Format is not a valid
// flow-log format.
func New(cfg Config) (*Decoder, error) {
	def := DefaultConfig()
	if cfg.MaxPayloadSize <= 0 {
		cfg.MaxPayloadSize = def.MaxPayloadSize
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = def.MaxDepth
	}
	flow, err := vpcflow.New(cfg.VPCFlow)
	if err != nil {
		return nil, fmt.Errorf("cwlogs: %w", err)
	}
	return &Decoder{cfg: cfg, flow: flow}, nil
}

const arenaFlush = 32 << 20

// where locates a problem: the input line (or array index) of the document or
// CLI event, and what inside it.
type where struct {
	line  int64
	index int64 // 1-based index in a streamed "events" array, or 0
	what  string
}

// Decode reads payloads or CLI output from r to its end (decode.Decoder). Input
// that is still gzip-compressed is decompressed here.
func (d *Decoder) Decode(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	d.in, d.st, d.emit, d.report = in, decode.Stats{}, emit, report
	defer func() { d.emit, d.report = nil, nil }()
	d.batch = decode.Batch{Input: &d.in, Flows: d.batch.Flows[:0], DNS: d.batch.DNS[:0], Calls: d.batch.Calls[:0]}
	d.arena = d.arena[:0]

	plain, err := gunzipIfCompressed(r)
	if err != nil {
		return d.st, fmt.Errorf("decode cwlogs %s: %w", in.Name, err)
	}
	lim := jsonscan.Limits{MaxSize: d.cfg.MaxPayloadSize, MaxDepth: d.cfg.MaxDepth}
	if d.sc == nil {
		d.sc = jsonscan.New(plain, lim, "events")
	} else {
		d.sc.Reset(plain)
	}
	defer d.sc.Reset(nil)
	for n := 0; ; n++ {
		if n&63 == 0 && ctx.Err() != nil {
			d.st.Bytes = d.sc.Offset()
			return d.st, fmt.Errorf("decode cwlogs %s: %w", in.Name, ctx.Err())
		}
		it, err := d.sc.Next()
		if err != nil {
			d.st.Bytes = d.sc.Offset()
			ferr := d.flush()
			if err == io.EOF {
				return d.st, ferr
			}
			if ferr != nil {
				return d.st, ferr
			}
			return d.st, fmt.Errorf("decode cwlogs %s: %w", in.Name, err)
		}
		w := where{line: it.Line, index: it.Index}
		switch {
		case it.Err != nil:
			w.what = "document"
			d.skip(w, it.Err.Kind.String(), it.Err.Msg)
		case it.Key == "events":
			err = d.cliEvent(it.Raw, w)
		default:
			err = d.document(it.Raw, w, true)
		}
		if err != nil {
			d.st.Bytes = d.sc.Offset()
			return d.st, err // emit failed
		}
	}
}

// gunzipIfCompressed returns r's content, gunzipped (all members) when it starts
// with the gzip magic number: objects Firehose wrote with its own compression on
// top of CloudWatch's, or payloads handed over as they arrived.
func gunzipIfCompressed(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip header: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

func (d *Decoder) skip(w where, reason, detail string) {
	d.st.Skip(reason)
	if d.report == nil {
		return
	}
	line := w.line
	if w.index > 0 {
		line = w.index
		detail = fmt.Sprintf("%s (event %d of the events array, line %d)", detail, w.index, w.line)
	}
	if w.what != "" {
		detail = w.what + ": " + detail
	}
	d.report(decode.Problem{Input: d.in.Name, Line: line, Reason: reason, Detail: detail})
}

// payload is the JSON of a subscription payload and of the envelopes around one.
type payload struct {
	MessageType string     `json:"messageType"`
	Owner       string     `json:"owner"`
	LogGroup    string     `json:"logGroup"`
	LogStream   string     `json:"logStream"`
	LogEvents   []logEvent `json:"logEvents"`
	AWSLogs     *struct {
		Data string `json:"data"`
	} `json:"awslogs"`
	Records []struct {
		Data string `json:"data"`
	} `json:"records"`
}

type logEvent struct {
	ID        string      `json:"id"`
	Timestamp int64       `json:"timestamp"`
	Message   jsonMessage `json:"message"`
}

// jsonMessage is a log event's message. encoding/json would replace invalid UTF-8
// in it with U+FFFD and hide the damage, so the message's JSON text is checked
// first: a message that is not valid UTF-8 is kept as such and rejected later,
// like a bad record in any other input.
type jsonMessage struct {
	s       string
	set     bool
	badUTF8 bool
}

// UnmarshalJSON takes a JSON string.
func (m *jsonMessage) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	m.set = true
	if !utf8.Valid(b) {
		m.badUTF8 = true
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeFor[string](), Field: "message"}
	}
	if bytes.IndexByte(b, '\\') < 0 {
		m.s = string(b[1 : len(b)-1])
		return nil
	}
	return json.Unmarshal(b, &m.s)
}

// document handles one top-level JSON document. envelopes says whether awslogs
// and records envelopes may be opened (not inside one another).
func (d *Decoder) document(raw []byte, w where, envelopes bool) error {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		w.what = "document"
		d.skip(w, jsonReason(err), err.Error())
		return nil
	}
	switch {
	case p.MessageType == "CONTROL_MESSAGE":
		return nil
	case p.MessageType == "DATA_MESSAGE":
		for i := range p.LogEvents {
			e := &p.LogEvents[i]
			ew := w
			ew.what = fmt.Sprintf("logEvents[%d] of %s/%s", i, p.LogGroup, p.LogStream)
			if err := d.message(e.Message, p.LogStream, ew); err != nil {
				return err
			}
		}
		return nil
	case envelopes && p.AWSLogs != nil:
		w.what = "awslogs.data"
		return d.encoded(p.AWSLogs.Data, w)
	case envelopes && len(p.Records) > 0:
		for i := range p.Records {
			rw := w
			rw.what = fmt.Sprintf("records[%d].data", i)
			if err := d.encoded(p.Records[i].Data, rw); err != nil {
				return err
			}
		}
		return nil
	}
	w.what = "document"
	d.skip(w, ReasonNotPayload, "no messageType DATA_MESSAGE, awslogs or records member")
	return nil
}

// encoded handles base64 data holding (usually gzip-compressed) payloads.
func (d *Decoder) encoded(data string, w where) error {
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		d.skip(w, ReasonBadBase64, err.Error())
		return nil
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			d.skip(w, ReasonBadGzip, err.Error())
			return nil
		}
		plain, err := io.ReadAll(io.LimitReader(zr, int64(d.cfg.MaxPayloadSize)+1))
		if err != nil {
			d.skip(w, ReasonBadGzip, err.Error())
			return nil
		}
		if len(plain) > d.cfg.MaxPayloadSize {
			d.skip(w, ReasonTooLarge, fmt.Sprintf("decompresses to more than %d bytes", d.cfg.MaxPayloadSize))
			return nil
		}
		raw = plain
	}
	// The data may hold several payloads back to back.
	sc := jsonscan.New(bytes.NewReader(raw), jsonscan.Limits{MaxSize: d.cfg.MaxPayloadSize, MaxDepth: d.cfg.MaxDepth})
	for {
		it, err := sc.Next()
		if err != nil {
			return nil // io.EOF: a bytes.Reader has no other error
		}
		if it.Err != nil {
			d.skip(w, it.Err.Kind.String(), it.Err.Msg)
			continue
		}
		if err := d.document(it.Raw, w, false); err != nil {
			return err
		}
	}
}

// cliEvent handles one element of the events array of filter-log-events or
// get-log-events output.
func (d *Decoder) cliEvent(raw []byte, w where) error {
	var e struct {
		LogStreamName *string     `json:"logStreamName"`
		Message       jsonMessage `json:"message"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		w.what = "event"
		d.skip(w, jsonReason(err), err.Error())
		return nil
	}
	if !e.Message.set {
		w.what = "event"
		d.skip(w, ReasonBadEvent, "log event has no message")
		return nil
	}
	stream := d.in.Name
	if e.LogStreamName != nil && *e.LogStreamName != "" {
		stream = *e.LogStreamName
	}
	return d.message(e.Message, stream, w)
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ReasonBadEvent
	}
	return "bad JSON"
}

// Kind says what a log event's message holds.
type Kind uint8

// The kinds of message.
const (
	KindUnknown Kind = iota
	KindFlow
	KindDNS
	KindCloudTrail
)

// Sniff tells what a log event's message is from its first bytes and keys: a JSON
// object with CloudTrail's keys (eventVersion, eventSource, eventName, or an
// EventBridge detail-type), a JSON object with the Resolver's (query_name,
// query_timestamp, srcids), or — anything else starting with a digit — a flow-log
// line. The keys are looked for with their quotes, as keys, and never inside
// string values, whose quotes are escaped.
func Sniff(msg []byte) Kind {
	msg = bytes.TrimLeft(msg, " \t\r\n")
	if len(msg) == 0 {
		return KindUnknown
	}
	if msg[0] == '{' {
		switch {
		case hasKey(msg, `"eventVersion"`), hasKey(msg, `"eventSource"`), hasKey(msg, `"eventName"`), hasKey(msg, `"detail-type"`):
			return KindCloudTrail
		case hasKey(msg, `"query_name"`), hasKey(msg, `"query_timestamp"`), hasKey(msg, `"srcids"`):
			return KindDNS
		}
		return KindUnknown
	}
	if msg[0] >= '0' && msg[0] <= '9' {
		return KindFlow
	}
	return KindUnknown
}

func looksJSON(msg string) bool {
	for i := 0; i < len(msg); i++ {
		switch msg[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// hasKey reports whether key (with its quotes) occurs in msg followed by a colon,
// and not escaped inside a string.
func hasKey(msg []byte, key string) bool {
	for off := 0; ; {
		i := bytes.Index(msg[off:], []byte(key))
		if i < 0 {
			return false
		}
		i += off
		off = i + len(key)
		if i > 0 && msg[i-1] == '\\' {
			continue
		}
		rest := bytes.TrimLeft(msg[off:], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return true
		}
	}
}

// message decodes one log event's message into the batch.
func (d *Decoder) message(m jsonMessage, stream string, w where) error {
	if m.badUTF8 {
		d.skip(w, ReasonInvalidUTF8, "message is not valid UTF-8")
		return nil
	}
	msg := m.s
	kind := Sniff([]byte(msg))
	if kind == KindUnknown && d.cfg.VPCFlow.Format != "" && !looksJSON(msg) {
		// A custom flow-log format may start with any field (eni-…, vpc-…).
		kind = KindFlow
	}
	if kind == KindUnknown {
		d.skip(w, ReasonUnknownMessage, fmt.Sprintf("message is neither a flow-log line nor a Resolver or CloudTrail JSON object: %.60q", msg))
		return nil
	}
	var rk record.Kind
	switch kind {
	case KindFlow:
		rk = record.KindFlow
	case KindDNS:
		rk = record.KindDNS
	case KindCloudTrail:
		rk = record.KindAPICall
	}
	if d.batch.Kind != rk && d.batch.Len() > 0 {
		if err := d.flush(); err != nil {
			return err
		}
	}
	d.batch.Kind = rk
	start := len(d.arena)
	d.arena = append(d.arena, msg...)
	raw := d.arena[start:len(d.arena):len(d.arena)]
	var err error
	switch kind {
	case KindFlow:
		f := grow(&d.batch.Flows)
		if err = d.flow.ParseLine(raw, f); err == nil {
			f.Stream = stream
		}
	case KindDNS:
		q := grow(&d.batch.DNS)
		if err = dnslog.ParseMessage(raw, q); err == nil {
			q.Stream = stream
		}
	case KindCloudTrail:
		c := grow(&d.batch.Calls)
		if err = cloudtrail.ParseMessage(raw, c); err == nil {
			c.Stream = stream
		}
	}
	if err != nil {
		d.arena = d.arena[:start]
		switch kind {
		case KindFlow:
			d.batch.Flows = d.batch.Flows[:len(d.batch.Flows)-1]
		case KindDNS:
			d.batch.DNS = d.batch.DNS[:len(d.batch.DNS)-1]
		case KindCloudTrail:
			d.batch.Calls = d.batch.Calls[:len(d.batch.Calls)-1]
		}
		reason, detail := reasonOf(err)
		d.skip(w, reason, detail)
		return nil
	}
	if d.batch.Len() >= decode.BatchSize || len(d.arena) >= arenaFlush {
		return d.flush()
	}
	return nil
}

// grow extends a record slice by one, reusing capacity, and returns the new one.
func grow[T any](s *[]T) *T {
	n := len(*s)
	if n < cap(*s) {
		*s = (*s)[:n+1]
	} else {
		var zero T
		*s = append(*s, zero)
	}
	return &(*s)[n]
}

// reasonOf extracts the fixed reason and the detail from a parser's error.
func reasonOf(err error) (reason, detail string) {
	var fe *vpcflow.LineError
	var de *dnslog.RecordError
	var ce *cloudtrail.RecordError
	switch {
	case errors.As(err, &fe):
		return fe.Reason, fe.Detail
	case errors.As(err, &de):
		return de.Reason, de.Detail
	case errors.As(err, &ce):
		return ce.Reason, ce.Detail
	}
	return "bad record", err.Error()
}

func (d *Decoder) flush() error {
	n := d.batch.Len()
	if n == 0 {
		return nil
	}
	d.st.Records += int64(n)
	err := d.emit(&d.batch)
	d.batch.Flows, d.batch.DNS, d.batch.Calls = d.batch.Flows[:0], d.batch.DNS[:0], d.batch.Calls[:0]
	d.arena = d.arena[:0]
	return err
}
