package finding

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The bounds of a finding's evidence sample. A finding aggregated over a day of
// brute force would otherwise carry a day of log lines; the sample keeps what a
// reader needs: how the activity began (the EvidenceHead earliest records) and what
// it looks like now (the most recent ones), MaxEvidence in all, each raw record cut
// at MaxEvidenceBytes. So a finding's size is bounded whatever its count.
const (
	MaxEvidence      = 20
	EvidenceHead     = 5
	MaxEvidenceBytes = 4096
)

// EvidenceRecord is one log record that contributed to a finding (a finding's
// vigilEvidence). Raw is the record as it appeared in the log (a flow-log line, a
// resolver-log or CloudTrail JSON object), cut at MaxEvidenceBytes on a UTF-8
// boundary. It comes from a log, so whoever renders it must escape it.
type EvidenceRecord struct {
	// Time is the record's event time.
	Time Time `json:"time"`
	// Kind is the record kind: flow, dns or cloudtrail.
	Kind string `json:"kind"`
	// Source says where the record was read: file:line, s3://bucket/key:line, a
	// stream name.
	Source    string `json:"source,omitempty"`
	Raw       string `json:"raw"`
	Truncated bool   `json:"truncated,omitempty"`
}

// NewEvidence returns an EvidenceRecord, cutting raw at MaxEvidenceBytes. raw is
// copied, so the caller may reuse its buffer.
func NewEvidence(t Time, kind, source string, raw []byte) EvidenceRecord {
	e := EvidenceRecord{Time: t, Kind: kind, Source: source}
	if len(raw) > MaxEvidenceBytes {
		n := MaxEvidenceBytes
		// Back up to a rune start so the cut does not split a character; at most
		// utf8.UTFMax-1 bytes.
		for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(raw[n]); i++ {
			n--
		}
		raw = raw[:n]
		e.Truncated = true
	}
	e.Raw = string(raw)
	return e
}

// AddEvidence appends records to f's evidence sample and bounds it as Merge does.
func (f *Finding) AddEvidence(recs ...EvidenceRecord) {
	f.Evidence = boundEvidence(append(f.Evidence, recs...))
}

// boundEvidence orders ev by event time, then text (stable, so records equal
// in both keep their arrival order), and, if there are more than MaxEvidence,
// keeps the EvidenceHead earliest and the MaxEvidence-EvidenceHead latest. The
// order is the detection engine's, so a sample split in two (an early finding
// and its continuation) merges back into the one sample; and the result is a
// function of the multiset and arrival order of the records only, so merging the
// same findings in the same order gives the same sample.
func boundEvidence(ev []EvidenceRecord) []EvidenceRecord {
	slices.SortStableFunc(ev, func(a, b EvidenceRecord) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), strings.Compare(a.Raw, b.Raw))
	})
	if len(ev) <= MaxEvidence {
		return ev
	}
	tail := MaxEvidence - EvidenceHead
	n := copy(ev[EvidenceHead:], ev[len(ev)-tail:])
	clear(ev[EvidenceHead+n:]) // drop references to the cut records' strings
	return ev[:EvidenceHead+n]
}
