// Package cloudtrail decodes CloudTrail events into record.APICall.
//
// It reads every shape CloudTrail events come in, in any mix within one input:
//
//   - the files a trail delivers to S3, {"Records":[…]} (and CloudTrail Insights
//     files, which have the same shape), streamed one event at a time so that a
//     file of hundreds of MB never sits in memory whole;
//   - one event per line (JSON lines, as Logstash and many exporters write them),
//     back-to-back documents with no separator (Firehose), and bare JSON arrays of
//     events (as Grimoire and Stratus Red Team save them), pretty-printed or not;
//   - EventBridge events, {"detail-type":"AWS API Call via CloudTrail","detail":{…}},
//     whose detail is the event;
//   - the output of `aws cloudtrail lookup-events`, {"Events":[{…,"CloudTrailEvent":
//     "<the event as a JSON string>"}]};
//   - CloudTrail Lake: events of integrations and other non-AWS sources, whose
//     fields are under eventData ({"eventVersion",…,"eventData":{"eventName",…}},
//     or eventData as a JSON string as PutAuditEvents takes it), and the output of
//     `aws cloudtrail get-query-results`, {"QueryResultRows":[[{"col":"value"},…]]},
//     where a row with an eventJson column is that event and other rows are
//     rebuilt from their columns (the userIdentity column's "{type=IAMUser, …}"
//     rendering included). Lake's saved query results in S3 are CSV, not read here.
//
// Events that went through Logstash have no eventTime but an @timestamp, which is
// used instead. The typed fields of record.APICall are filled; the whole event text
// is kept in Raw, where APICall.Path finds requestParameters.*, responseElements.*,
// resources.N.ARN and everything else. SourceIP is set when sourceIPAddress is an
// address (not a service name such as ec2.amazonaws.com or "AWS Internal").
//
// An event without eventName or a usable time, not valid UTF-8, larger than
// Config.MaxEventSize or nested deeper than Config.MaxDepth, is skipped, counted by
// a short reason and reported with its line (or its index in an array).
package cloudtrail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
	"github.com/vigil-dev/vigil/internal/record"
)

// The reasons an event is skipped for, as counted in decode.Stats.Skipped. Scanner
// failures use jsonscan's names, repeated here.
const (
	ReasonBadJSON      = "bad JSON"
	ReasonTruncated    = "truncated"
	ReasonTooLarge     = "too large"
	ReasonTooDeep      = "too deep"
	ReasonInvalidUTF8  = "invalid UTF-8"
	ReasonNotObject    = "not an object"
	ReasonNotEvent     = "not a CloudTrail event"
	ReasonNoEventName  = "missing eventName"
	ReasonNoEventTime  = "missing eventTime"
	ReasonBadEventTime = "bad eventTime"
	ReasonWrongType    = "wrong type"
)

// Config configures a Decoder.
type Config struct {
	// MaxEventSize is the largest event accepted, in bytes; larger ones are skipped
	// without being held in memory. AWS caps events at 256 KB for CloudWatch Logs
	// and EventBridge; S3 files hold larger ones only rarely.
	MaxEventSize int
	// MaxDepth is the deepest JSON nesting accepted within one event.
	MaxDepth int
	// Project, when set, passes over the events a query's filters cannot
	// keep (NewProjection); nil reads every event.
	Project *decode.JSONProjection `yaml:"-"`
}

// NewProjection returns a projection of CloudTrail events that skips nothing
// yet (decode.JSONProjection). @message may be an event unwrapped from an
// envelope (a lookup-events string, an EventBridge detail), so it is judged
// like the fields: only in an event without escapes.
func NewProjection() *decode.JSONProjection {
	return decode.NewJSONProjection(record.APICallCatalogue, false)
}

// DefaultConfig returns the limits used when a Config field is zero: 8 MiB and 64.
func DefaultConfig() Config {
	return Config{MaxEventSize: jsonscan.DefaultLimits.MaxSize, MaxDepth: jsonscan.DefaultLimits.MaxDepth}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxEventSize <= 0 {
		c.MaxEventSize = d.MaxEventSize
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = d.MaxDepth
	}
	return c
}

// StreamKeys are the members of a top-level object whose arrays are read one
// element at a time: CloudTrail files, lookup-events output, Lake query results.
var StreamKeys = []string{"Records", "Events", "QueryResultRows"}

// Decoder decodes CloudTrail inputs. It implements decode.Decoder and keeps its
// buffers between inputs; use one per goroutine.
type Decoder struct {
	cfg   Config
	sc    *jsonscan.Scanner
	batch decode.Batch
	arena []byte
	p     parser
}

// New returns a Decoder.
func New(cfg Config) *Decoder { return &Decoder{cfg: cfg.withDefaults()} }

// arenaFlush is the event text a batch may hold before it is emitted early.
const arenaFlush = 32 << 20

// Decode reads CloudTrail events from r until its end (decode.Decoder).
func (d *Decoder) Decode(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (decode.Stats, error) {
	var st decode.Stats
	lim := jsonscan.Limits{MaxSize: d.cfg.MaxEventSize, MaxDepth: d.cfg.MaxDepth}
	if d.sc == nil {
		d.sc = jsonscan.New(r, lim, StreamKeys...)
	} else {
		d.sc.Reset(r)
	}
	defer d.sc.Reset(nil)
	d.p.cfg = d.cfg
	d.batch = decode.Batch{Kind: record.KindAPICall, Input: &in, Calls: d.batch.Calls[:0]}
	d.arena = d.arena[:0]
	skip := func(it jsonscan.Item, reason, detail string) {
		st.Skip(reason)
		if report == nil {
			return
		}
		line := it.Line
		if it.Index > 0 {
			line = it.Index
			detail = fmt.Sprintf("%s (record %d of the array, line %d)", detail, it.Index, it.Line)
		}
		report(decode.Problem{Input: in.Name, Line: line, Reason: reason, Detail: detail})
	}
	flush := func() error {
		if len(d.batch.Calls) == 0 {
			return nil
		}
		st.Records += int64(len(d.batch.Calls))
		err := emit(&d.batch)
		d.batch.Calls = d.batch.Calls[:0]
		d.arena = d.arena[:0]
		return err
	}
	for n := 0; ; n++ {
		if n&255 == 0 && ctx.Err() != nil {
			st.Bytes = d.sc.Offset()
			return st, fmt.Errorf("decode cloudtrail %s: %w", in.Name, ctx.Err())
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
			return st, fmt.Errorf("decode cloudtrail %s: %w", in.Name, err)
		}
		if it.Err != nil {
			skip(it, it.Err.Kind.String(), it.Err.Msg)
			continue
		}
		if proj := d.cfg.Project; proj != nil && it.Key != "QueryResultRows" && !proj.MayMatch(it.Raw) {
			// A CloudTrail Lake row is rebuilt into an event first, so it is
			// always read.
			st.Unread++
			continue
		}
		start := len(d.arena)
		if it.Key == "QueryResultRows" {
			d.arena, err = appendLakeRow(d.arena, it.Raw)
			if err != nil {
				d.arena = d.arena[:start]
				skip(it, reasonOf(err), detailOf(err))
				continue
			}
		} else {
			d.arena = append(d.arena, it.Raw...)
		}
		raw := d.arena[start:len(d.arena):len(d.arena)]
		i := len(d.batch.Calls)
		if i < cap(d.batch.Calls) {
			d.batch.Calls = d.batch.Calls[:i+1]
		} else {
			d.batch.Calls = append(d.batch.Calls, record.APICall{})
		}
		c := &d.batch.Calls[i]
		if err := d.p.parse(raw, c, true); err != nil {
			d.batch.Calls = d.batch.Calls[:i]
			d.arena = d.arena[:start]
			skip(it, reasonOf(err), detailOf(err))
			continue
		}
		c.Stream = in.Name
		if len(d.batch.Calls) >= decode.BatchSize || len(d.arena) >= arenaFlush {
			if err := flush(); err != nil {
				st.Bytes = d.sc.Offset()
				return st, err
			}
		}
	}
}

// RecordError says why one event was rejected; Reason is one of the Reason
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

func reasonOf(err error) string {
	var re *RecordError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ReasonBadJSON
}

func detailOf(err error) string {
	var re *RecordError
	if errors.As(err, &re) {
		return re.Detail
	}
	return err.Error()
}

// ParseMessage decodes one CloudTrail event — the message of a CloudWatch Logs
// event, an EventBridge event, a lookup-events element — into c. It resets c first
// (set c.Stream afterwards); c.Raw aliases msg, or a copy of the inner event for
// envelopes that hold it as a string. A rejected event returns a *RecordError.
func ParseMessage(msg []byte, c *record.APICall) error {
	p := parser{cfg: DefaultConfig()}
	if len(msg) > p.cfg.MaxEventSize {
		return recErr(ReasonTooLarge, "event of %d bytes, over the %d-byte limit", len(msg), p.cfg.MaxEventSize)
	}
	return p.parse(msg, c, false)
}

// parser turns one JSON value into an APICall. It is reused between events.
type parser struct {
	cfg    Config
	w      wireEvent
	in     wireEvent // eventData of Lake events
	intern fieldInterners
}

// parse decodes raw into c. checked says raw came through the Scanner, which has
// already bounded its size and depth.
func (p *parser) parse(raw []byte, c *record.APICall, checked bool) error {
	c.Reset()
	if !utf8.Valid(raw) {
		return recErr(ReasonInvalidUTF8, "event is not valid UTF-8")
	}
	if !checked && jsonscan.TooDeep(raw, p.cfg.MaxDepth) {
		return recErr(ReasonTooDeep, "nested deeper than %d", p.cfg.MaxDepth)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return recErr(ReasonNotObject, "expected a JSON object, found %s", preview(raw))
	}
	w := &p.w
	w.reset()
	var typeErr error
	if !p.fastParse(raw, w) {
		w.reset()
		typeErr = unmarshal(raw, w)
		if typeErr != nil && !isTypeError(typeErr) {
			return typeErr
		}
	}

	switch {
	case !jsonscan.IsAbsent(w.CloudTrailEvent):
		// lookup-events element: the event is a JSON string.
		inner := []byte(w.CloudTrailEvent)
		return p.parseInner(inner, c, "CloudTrailEvent")
	case w.Detail != nil && jsonscan.IsAbsent(w.EventName):
		// EventBridge: the event is the detail.
		if !bytesHasPrefixObject(w.Detail) {
			return recErr(ReasonNotEvent, "EventBridge event %q has no CloudTrail detail", clip(w.DetailType))
		}
		return p.parseInner(w.Detail, c, "detail")
	case w.EventJSON != "" && !jsonscan.IsAbsent(w.EventJSON) && jsonscan.IsAbsent(w.EventName):
		// Lake query row with the eventJson column: the original event.
		return p.parseInner([]byte(w.EventJSON), c, "eventJson")
	}
	if typeErr != nil {
		return typeErr
	}
	if w.EventData != nil {
		if err := p.mergeEventData(c, w); err != nil {
			return err
		}
	}
	if err := fill(c, w); err != nil {
		return err
	}
	if c.Raw == nil {
		c.Raw = raw
	}
	return nil
}

// parseInner parses an event held inside an envelope. The envelope's own shapes
// are not looked for again: an event is at most one envelope deep.
func (p *parser) parseInner(inner []byte, c *record.APICall, where string) error {
	if !utf8.Valid(inner) {
		return recErr(ReasonInvalidUTF8, "%s is not valid UTF-8", where)
	}
	if len(inner) > p.cfg.MaxEventSize {
		return recErr(ReasonTooLarge, "%s of %d bytes, over the %d-byte limit", where, len(inner), p.cfg.MaxEventSize)
	}
	if jsonscan.TooDeep(inner, p.cfg.MaxDepth) {
		return recErr(ReasonTooDeep, "%s nested deeper than %d", where, p.cfg.MaxDepth)
	}
	if !bytesHasPrefixObject(inner) {
		return recErr(ReasonNotEvent, "%s is not a JSON object", where)
	}
	w := &p.w
	w.reset()
	if !p.fastParse(inner, w) {
		w.reset()
		if err := unmarshal(inner, w); err != nil {
			if re, ok := err.(*RecordError); ok {
				re.Detail = where + ": " + re.Detail
			}
			return err
		}
	}
	if w.EventData != nil {
		if err := p.mergeEventData(c, w); err != nil {
			return err
		}
	}
	if err := fill(c, w); err != nil {
		return err
	}
	if c.Raw == nil {
		c.Raw = inner
	}
	return nil
}

// mergeEventData fills the fields of a CloudTrail Lake integration event from its
// eventData, where they live for events from outside AWS. Fields the outer event
// has (eventTime, eventID, eventVersion…) win.
func (p *parser) mergeEventData(c *record.APICall, w *wireEvent) error {
	data := w.EventData
	if len(data) > 0 && data[0] == '"' {
		// PutAuditEvents form: eventData is the JSON text of the event data.
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return recErr(ReasonBadJSON, "eventData: %v", err)
		}
		data = []byte(s)
		c.Raw = data // Path then reaches into the event data itself
		if !utf8.Valid(data) {
			return recErr(ReasonInvalidUTF8, "eventData is not valid UTF-8")
		}
		if jsonscan.TooDeep(data, p.cfg.MaxDepth) {
			return recErr(ReasonTooDeep, "eventData nested deeper than %d", p.cfg.MaxDepth)
		}
	}
	if !bytesHasPrefixObject(data) {
		return nil
	}
	in := &p.in
	in.reset()
	if err := unmarshal(data, in); err != nil {
		if re, ok := err.(*RecordError); ok {
			re.Detail = "eventData: " + re.Detail
		}
		return err
	}
	w.inheritFrom(in)
	return nil
}

func bytesHasPrefixObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// unmarshal decodes raw into w. Type errors (a number where a string belongs) come
// back as a *RecordError with ReasonWrongType after the rest was decoded;
// syntax errors as ReasonBadJSON.
func unmarshal(raw []byte, w *wireEvent) error {
	err := json.Unmarshal(raw, w)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "a value"
		}
		return recErr(ReasonWrongType, "%s is a JSON %s", field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return recErr(ReasonBadJSON, "%v (byte %d of the event)", se, se.Offset)
	}
	return recErr(ReasonWrongType, "%v", err)
}

func isTypeError(err error) bool {
	re, ok := err.(*RecordError)
	return ok && re.Reason == ReasonWrongType
}

// fill copies the decoded fields into c and checks the required ones.
func fill(c *record.APICall, w *wireEvent) error {
	absent := jsonscan.IsAbsent
	if absent(w.EventName) || w.EventName == "" {
		if absent(w.EventTime) && absent(w.EventSource) && absent(w.EventVersion) && absent(w.Timestamp) {
			return recErr(ReasonNotEvent, "object has no eventName, eventTime, eventSource or eventVersion")
		}
		return recErr(ReasonNoEventName, "event has no eventName")
	}
	timeText, timeKey := w.EventTime, "eventTime"
	if absent(timeText) {
		timeText, timeKey = w.Timestamp, "@timestamp" // Logstash renamed it
	}
	if absent(timeText) {
		return recErr(ReasonNoEventTime, "event %s has no eventTime", clip(w.EventName))
	}
	ms, ok := jsonscan.ParseTime(timeText)
	if !ok {
		return recErr(ReasonBadEventTime, "%s %q is not an ISO 8601 time", timeKey, clip(timeText))
	}
	c.EventTime = ms
	c.Present = c.Present.Add(record.CallEventTime)

	str := func(id record.FieldID, v string) {
		if !absent(v) {
			*c.StringField(id) = v
			c.Present = c.Present.Add(id)
		}
	}
	str(record.CallEventVersion, w.EventVersion)
	str(record.CallEventSource, w.EventSource)
	str(record.CallEventName, w.EventName)
	str(record.CallEventType, w.EventType)
	str(record.CallEventCategory, w.EventCategory)
	str(record.CallEventID, w.EventID)
	str(record.CallAWSRegion, w.AWSRegion)
	str(record.CallSourceIPAddress, w.SourceIPAddress)
	str(record.CallUserAgent, w.UserAgent)
	str(record.CallErrorCode, w.ErrorCode)
	str(record.CallErrorMessage, w.ErrorMessage)
	str(record.CallReadOnly, w.ReadOnly.s)
	str(record.CallRecipientAccountID, w.RecipientAccountID)
	str(record.CallRequestID, w.RequestID)
	str(record.CallManagementEvent, w.ManagementEvent.s)
	str(record.CallVPCEndpointID, w.VPCEndpointID)
	u := &w.UserIdentity
	str(record.CallUserType, u.Type)
	str(record.CallUserPrincipalID, u.PrincipalID)
	str(record.CallUserARN, u.ARN)
	str(record.CallUserAccountID, u.AccountID)
	str(record.CallUserAccessKeyID, u.AccessKeyID)
	str(record.CallUserName, u.UserName)
	str(record.CallUserInvokedBy, u.InvokedBy)
	sc := &u.SessionContext
	str(record.CallIssuerType, sc.SessionIssuer.Type)
	str(record.CallIssuerARN, sc.SessionIssuer.ARN)
	str(record.CallIssuerUserName, sc.SessionIssuer.UserName)
	str(record.CallMFAAuthenticated, sc.Attributes.MFAAuthenticated.s)
	str(record.CallEC2RoleDelivery, sc.EC2RoleDelivery)
	if !absent(w.SourceIPAddress) {
		c.SourceIP = ParseSourceIP(w.SourceIPAddress)
	}
	return nil
}

// ParseSourceIP returns sourceIPAddress as an address, or the zero Addr when it is
// a service name ("ec2.amazonaws.com", "AWS Internal"). Dotted quads with leading
// zeros ("035.249.253.232", as anonymisers such as LogLicker write them) are read
// as decimal: CloudTrail itself never writes octal.
func ParseSourceIP(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	if len(s) > 15 || strings.Count(s, ".") != 3 {
		return netip.Addr{}
	}
	var b [4]byte
	for i, part := range strings.Split(s, ".") {
		n, err := strconv.ParseUint(part, 10, 8)
		if err != nil || len(part) == 0 || len(part) > 3 {
			return netip.Addr{}
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b)
}

// wireEvent is the JSON shape of a CloudTrail event and of the envelopes around
// it. String fields are set to jsonscan.Absent before each use, to tell absent keys
// from empty values.
type wireEvent struct {
	EventVersion       string     `json:"eventVersion"`
	EventTime          string     `json:"eventTime"`
	EventSource        string     `json:"eventSource"`
	EventName          string     `json:"eventName"`
	EventType          string     `json:"eventType"`
	EventCategory      string     `json:"eventCategory"`
	EventID            string     `json:"eventID"`
	AWSRegion          string     `json:"awsRegion"`
	SourceIPAddress    string     `json:"sourceIPAddress"`
	UserAgent          string     `json:"userAgent"`
	ErrorCode          string     `json:"errorCode"`
	ErrorMessage       string     `json:"errorMessage"`
	ReadOnly           boolString `json:"readOnly"`
	RecipientAccountID string     `json:"recipientAccountId"`
	RequestID          string     `json:"requestID"`
	ManagementEvent    boolString `json:"managementEvent"`
	VPCEndpointID      string     `json:"vpcEndpointId"`
	UserIdentity       identity   `json:"userIdentity"`

	Timestamp string `json:"@timestamp"` // Logstash's copy of the event time

	// Envelopes.
	DetailType      string          `json:"detail-type"`     // EventBridge
	Detail          json.RawMessage `json:"detail"`          // EventBridge
	CloudTrailEvent string          `json:"CloudTrailEvent"` // lookup-events
	EventData       json.RawMessage `json:"eventData"`       // CloudTrail Lake integrations
	EventJSON       string          `json:"eventJson"`       // CloudTrail Lake query rows
}

type identity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	AccessKeyID    string `json:"accessKeyId"`
	UserName       string `json:"userName"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext struct {
		Attributes struct {
			MFAAuthenticated boolString `json:"mfaAuthenticated"`
		} `json:"attributes"`
		SessionIssuer struct {
			Type     string `json:"type"`
			ARN      string `json:"arn"`
			UserName string `json:"userName"`
		} `json:"sessionIssuer"`
		EC2RoleDelivery string `json:"ec2RoleDelivery"`
	} `json:"sessionContext"`
}

func (w *wireEvent) reset() {
	a := jsonscan.Absent
	*w = wireEvent{EventVersion: a, EventTime: a, EventSource: a, EventName: a, EventType: a,
		EventCategory: a, EventID: a, AWSRegion: a, SourceIPAddress: a, UserAgent: a, ErrorCode: a,
		ErrorMessage: a, RecipientAccountID: a, RequestID: a, VPCEndpointID: a, Timestamp: a,
		DetailType: a, CloudTrailEvent: a, EventJSON: a,
		ReadOnly: boolString{s: a}, ManagementEvent: boolString{s: a}}
	u := &w.UserIdentity
	u.Type, u.PrincipalID, u.ARN, u.AccountID, u.AccessKeyID, u.UserName, u.InvokedBy = a, a, a, a, a, a, a
	sc := &u.SessionContext
	sc.Attributes.MFAAuthenticated.s = a
	sc.SessionIssuer.Type, sc.SessionIssuer.ARN, sc.SessionIssuer.UserName = a, a, a
	sc.EC2RoleDelivery = a
}

// inheritFrom takes from a Lake event's eventData the fields the outer event lacks.
func (w *wireEvent) inheritFrom(in *wireEvent) {
	take := func(dst *string, src string) {
		if jsonscan.IsAbsent(*dst) && !jsonscan.IsAbsent(src) {
			*dst = src
		}
	}
	take(&w.EventTime, in.EventTime)
	take(&w.EventSource, in.EventSource)
	take(&w.EventName, in.EventName)
	take(&w.EventType, in.EventType)
	take(&w.EventID, in.EventID)
	take(&w.AWSRegion, in.AWSRegion)
	take(&w.SourceIPAddress, in.SourceIPAddress)
	take(&w.UserAgent, in.UserAgent)
	take(&w.ErrorCode, in.ErrorCode)
	take(&w.ErrorMessage, in.ErrorMessage)
	take(&w.RecipientAccountID, in.RecipientAccountID)
	take(&w.RequestID, in.RequestID)
	take(&w.ReadOnly.s, in.ReadOnly.s)
	u, iu := &w.UserIdentity, &in.UserIdentity
	take(&u.Type, iu.Type)
	take(&u.PrincipalID, iu.PrincipalID)
	take(&u.ARN, iu.ARN)
	take(&u.AccountID, iu.AccountID)
	take(&u.AccessKeyID, iu.AccessKeyID)
	take(&u.UserName, iu.UserName)
	take(&u.InvokedBy, iu.InvokedBy)
}

// boolString is a field CloudTrail writes as a JSON boolean (readOnly,
// managementEvent) or a string ("true"); both become the text Logs Insights shows.
type boolString struct{ s string }

// UnmarshalJSON takes true/false, a string, or any other scalar's text.
func (b *boolString) UnmarshalJSON(d []byte) error {
	switch {
	case string(d) == "null":
	case string(d) == "true":
		b.s = "true"
	case string(d) == "false":
		b.s = "false"
	case len(d) > 0 && d[0] == '"':
		return json.Unmarshal(d, &b.s)
	case len(d) > 0 && (d[0] == '{' || d[0] == '['):
		return &json.UnmarshalTypeError{Value: "object or array", Type: reflect.TypeFor[string]()}
	default:
		b.s = string(d)
	}
	return nil
}

// clip shortens an input value quoted in a message.
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

func preview(raw []byte) string { return strconv.Quote(clip(string(raw))) }
