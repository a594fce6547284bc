// Package decode turns the bytes of AWS logs into typed records. Each format has its
// own package (vpcflow, dnslog, cloudtrail, cwlogs); this package holds what they
// share: the Decoder contract, the reused record Batch, the per-input Stats of good
// and skipped records, and Problem, the report of one bad record.
//
// Decoders never stop at a bad record: they count it by reason, report it (the caller
// rate-limits), skip it, and go on with the next one. Only a failure to read the
// input itself (an I/O error, a cancelled context) ends Decode with an error.
package decode

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil/internal/record"
)

// Input describes what is being decoded, for messages and @logStream.
type Input struct {
	// Name is the file path or object key (s3://bucket/key) the bytes come from.
	Name string
	// Header is set when the bytes are a later part of a file split for parallel
	// reading: it holds the file's first line, so that a format whose first line
	// names the fields (flow logs) decodes every part the same way. Line numbers
	// in a part count from the part's start, and Name says where that is.
	Header []byte
	// Seq is the input's place in its reader's list, from 0, the parts of a
	// split file one after another in file order: the order a consumer that
	// needs one canonical order (detection) puts inputs read in parallel in.
	Seq int
}

// Decoder reads one input to its end and emits its records in batches.
//
// Contract: Decode calls emit with batches of at most a few thousand records, in
// input order. The batch, its records and everything they alias (Raw lines, strings
// cut from the input) are reused after emit returns: emit must copy what it keeps,
// and must not write them (decoders reuse records on the strength of what they
// themselves wrote into them).
// A non-nil error from emit stops Decode, which returns it. Bad records go to
// report (which may be nil) and to the returned Stats; they never end Decode. A
// Decoder is used by one goroutine at a time; make one per concurrent input.
type Decoder interface {
	Decode(ctx context.Context, in Input, r io.Reader, emit func(*Batch) error, report func(Problem)) (Stats, error)
}

// BatchSize is the number of records decoders put in one batch.
const BatchSize = 1024

// Batch is a run of records of one kind from one input.
type Batch struct {
	Kind  record.Kind
	Input *Input
	Flows []record.Flow
	DNS   []record.DNSQuery
	Calls []record.APICall
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int {
	switch b.Kind {
	case record.KindFlow:
		return len(b.Flows)
	case record.KindDNS:
		return len(b.DNS)
	case record.KindAPICall:
		return len(b.Calls)
	}
	return 0
}

// At returns the i-th record; it points into the batch.
func (b *Batch) At(i int) record.Record {
	switch b.Kind {
	case record.KindFlow:
		return &b.Flows[i]
	case record.KindDNS:
		return &b.DNS[i]
	case record.KindAPICall:
		return &b.Calls[i]
	}
	return nil
}

// Problem reports one record (or one stretch of input) that could not be decoded.
type Problem struct {
	Input  string // file path or object key
	Line   int64  // 1-based line (or record number for JSON arrays); 0 if unknown
	Reason string // a short, fixed reason used as the Stats key: "field count", "bad address"
	Detail string // what exactly was wrong, for the message
}

// String renders the problem as one line: "file:line: reason: detail".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Input)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	b.WriteString(p.Reason)
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	return b.String()
}

// Stats counts what decoding one input (or many, once merged) produced.
type Stats struct {
	Records int64 // records emitted
	Bytes   int64 // input bytes consumed (after decompression)
	// Unread counts lines (JSON records) passed over without decoding
	// because no record in them can match what the reader asked for
	// (vpcflow.Projection, JSONProjection).
	Unread int64
	// Skipped counts skipped records by reason; the set of reasons is small and fixed
	// by the decoders, so the map stays small whatever the input.
	Skipped map[string]int64
}

// Skip counts one skipped record for reason.
func (s *Stats) Skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = make(map[string]int64)
	}
	s.Skipped[reason]++
}

// SkippedTotal returns the number of skipped records.
func (s *Stats) SkippedTotal() int64 {
	var n int64
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// Add merges o into s.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.Bytes += o.Bytes
	s.Unread += o.Unread
	for r, c := range o.Skipped {
		if s.Skipped == nil {
			s.Skipped = make(map[string]int64)
		}
		s.Skipped[r] += c
	}
}

// SkippedSummary renders the skip counts as "12 field count, 3 bad address",
// largest first; "" when nothing was skipped.
func (s *Stats) SkippedSummary() string {
	reasons := make([]string, 0, len(s.Skipped))
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if s.Skipped[reasons[i]] != s.Skipped[reasons[j]] {
			return s.Skipped[reasons[i]] > s.Skipped[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s", s.Skipped[r], r)
	}
	return strings.Join(parts, ", ")
}
