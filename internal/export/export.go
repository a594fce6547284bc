// Package export writes findings in the formats other tools read: GuardDuty's
// own JSON (as GetFindings returns it), the EventBridge event GuardDuty emits,
// AWS Security Hub's ASFF (mapped as GuardDuty maps its findings), and OCSF
// Detection Findings; and it exports findings continuously as JSON-lines.gz
// objects to a folder or an S3 prefix in GuardDuty's export layout.
//
// # Encoding
//
// Encode and Encoder write a stream of findings in a Format, either as one
// document (GuardDuty's {"findings": […]}, ASFF's {"Findings": […]}, a JSON array
// of events for EventBridge and OCSF) or as JSON lines (Options.Lines), one
// record per line. The per-finding mappings are EventBridge, ASFF and OCSF. They
// are pure functions of the finding and the Options: the same finding gives the
// same bytes (event IDs are derived from the finding's ID and updatedAt, not
// drawn at random), so an export can be compared, deduplicated and tested.
// Findings are read, never modified.
//
// # Exporter
//
// The Exporter is the continuous export (Config, New, Run): the component that
// upserts findings hands every store.UpsertResult to Publish, which queues the
// changes in the store's outbox through a notify.Dispatcher. New findings are
// written at once (after a short batching window), further occurrences of a
// finding at the configured frequency (15 minutes, 1 hour or 6 hours), archived
// or suppressed findings never — GuardDuty's rules for its S3 export. Objects are
// AWSLogs/<account>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz under the
// destination, one per account and region of a batch; their name is derived from
// the batch, so a retried write replaces its own object rather than adding one.
// Writes that fail are retried with backoff until they succeed or age out (see
// package notify for the delivery guarantees: at least once, in order).
package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/notify"
)

// Format is an export format.
type Format string

// The formats.
const (
	// GuardDuty is the finding JSON as GuardDuty's GetFindings returns it.
	GuardDuty Format = "guardduty"
	// EventBridge is the event GuardDuty sends to EventBridge per finding.
	EventBridge Format = "eventbridge"
	// ASFF is the AWS Security Finding Format of Security Hub.
	ASFF Format = "asff"
	// OCSF is the OCSF Detection Finding (class 2004).
	OCSF Format = "ocsf"
)

// Formats lists the formats, for help texts and validation.
var Formats = []Format{GuardDuty, EventBridge, ASFF, OCSF}

// ParseFormat checks a format name ("" is guardduty).
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return GuardDuty, nil
	}
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown export format %q (want guardduty, eventbridge, asff or ocsf)", s)
}

// Options tune the encodings.
type Options struct {
	// Lines writes one record per line instead of one document.
	Lines bool
	// IncludeEvidence keeps vigil's vigilEvidence sample of log records in the
	// GuardDuty and EventBridge encodings; without it they carry GuardDuty's
	// keys only. (ASFF and OCSF have no place for it.)
	IncludeEvidence bool
	// Link builds the link to a finding (ASFF SourceUrl, OCSF src_url); the zero
	// Linker makes none.
	Link notify.Linker
	// ProductARN is ASFF's ProductArn; empty means the ARN of a custom
	// integration in the finding's account and region,
	// arn:<partition>:securityhub:<region>:<account>:product/<account>/default,
	// which is what BatchImportFindings accepts from that account.
	ProductARN string
}

// Encode writes findings in format to w (see Encoder).
func Encode(w io.Writer, format Format, findings []finding.Finding, opts Options) error {
	enc, err := NewEncoder(w, format, opts)
	if err != nil {
		return err
	}
	for i := range findings {
		if err := enc.Encode(&findings[i]); err != nil {
			return err
		}
	}
	return enc.Close()
}

// Encoder writes a stream of findings in one format. It buffers; Close writes
// the end of the document and flushes. An Encoder is used by one goroutine.
type Encoder struct {
	w      *bufio.Writer
	format Format
	opts   Options
	n      int
	closed bool
}

// NewEncoder returns an encoder of format writing to w.
func NewEncoder(w io.Writer, format Format, opts Options) (*Encoder, error) {
	if _, err := ParseFormat(string(format)); err != nil || format == "" {
		return nil, fmt.Errorf("unknown export format %q (want guardduty, eventbridge, asff or ocsf)", format)
	}
	return &Encoder{w: bufio.NewWriterSize(w, 64<<10), format: format, opts: opts}, nil
}

// Encode writes one finding.
func (e *Encoder) Encode(f *finding.Finding) error {
	if e.closed {
		return fmt.Errorf("export %s: encoder closed", e.format)
	}
	rec, err := Record(f, e.format, e.opts, activityOf(f))
	if err != nil {
		return err
	}
	switch {
	case e.opts.Lines:
	case e.n == 0:
		if _, err := e.w.WriteString(e.opening()); err != nil {
			return err
		}
	default:
		if _, err := e.w.WriteString(",\n"); err != nil {
			return err
		}
	}
	if _, err := e.w.Write(rec); err != nil {
		return err
	}
	if e.opts.Lines {
		if err := e.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	e.n++
	return nil
}

// Close ends the document and flushes. It does not close the writer.
func (e *Encoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if !e.opts.Lines {
		if e.n == 0 {
			if _, err := e.w.WriteString(e.opening()); err != nil {
				return err
			}
		}
		if _, err := e.w.WriteString(e.closing()); err != nil {
			return err
		}
	}
	return e.w.Flush()
}

func (e *Encoder) opening() string {
	switch e.format {
	case GuardDuty:
		return "{\"findings\":[\n"
	case ASFF:
		return "{\"Findings\":[\n"
	}
	return "[\n"
}

func (e *Encoder) closing() string {
	if e.format == GuardDuty || e.format == ASFF {
		return "\n]}\n"
	}
	return "\n]\n"
}

// Activity says whether a record announces a new finding or an update; OCSF
// records it (activity_id).
type Activity int

// The activities.
const (
	Created Activity = iota + 1
	Updated
)

// activityOf guesses the activity from the finding: one occurrence, never
// updated, is a creation.
func activityOf(f *finding.Finding) Activity {
	if f.Service.Count <= 1 && f.UpdatedAt == f.CreatedAt {
		return Created
	}
	return Updated
}

// Record returns one finding encoded in format, as compact JSON without a
// trailing newline.
func Record(f *finding.Finding, format Format, opts Options, act Activity) ([]byte, error) {
	var v any
	switch format {
	case GuardDuty:
		v = guardDutyView(f, opts)
	case EventBridge:
		v = ToEventBridge(f, opts)
	case ASFF:
		v = ToASFF(f, opts)
	case OCSF:
		v = ToOCSF(f, opts, act)
	default:
		return nil, fmt.Errorf("unknown export format %q", format)
	}
	// As AWS writes them: "C&CActivity", not "C\u0026CActivity".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("export finding %s as %s: %w", f.ID, format, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// guardDutyView is the finding as GuardDuty writes it: without vigil's
// evidence unless asked for. The copy is shallow; nothing is modified.
func guardDutyView(f *finding.Finding, opts Options) *finding.Finding {
	if opts.IncludeEvidence || f.Evidence == nil {
		return f
	}
	c := *f
	c.Evidence = nil
	return &c
}
