// Package vpcflow decodes Amazon VPC Flow Logs (and Transit Gateway flow logs) into
// record.Flow: the text files AWS delivers to S3 (with their header line), lines
// exported from CloudWatch Logs (with a timestamp before each record), single
// lines from streaming envelopes (ParseLine), and AWS's Parquet files
// (DecodeParquet).
//
// Flow logs are the largest input vigil reads, so the text path is written for
// throughput: one pass over each line's bytes in which every field's parser also
// finds the field's end, numbers and IPv4 addresses read several bytes at a time
// without strconv or intermediate strings, string fields interned per decoder (in
// bounded tables), and records, lines and buffers reused from batch to batch. In
// steady state decoding a record allocates nothing. Strings in records never alias
// the input; Raw does, until emit returns, as decode.Decoder allows.
//
// Field order comes from, in this order of precedence: the input's header line
// (AWS writes one at the top of every S3 text file; any later header line, as in
// concatenated files, switches the order from there on), Config.Format, and AWS's
// default version 2 format. A '-' placeholder leaves the field unset in
// Flow.Present; NODATA and SKIPDATA lines decode as records like any other.
//
// Lines exported from CloudWatch Logs carry the event's timestamp first (RFC 3339
// or epoch milliseconds); Decode notices that on the first good line of an input
// and drops the prefix from then on.
//
// Bad lines are skipped, counted and reported (decode.Problem with the line
// number, a fixed reason and a detail quoting the field); they never stop
// decoding.
package vpcflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// Config says how to read flow logs whose files do not say it themselves.
type Config struct {
	// Format is the field order of lines without a header line: AWS's format string
	// ("${version} ${account-id} …", as given when the flow log was created) or
	// the field names separated by spaces. "" means the input's header line, or
	// AWS's default version 2 format (DefaultFormat) when there is none. A header
	// line always wins over Format: it is what the file says about itself.
	Format string
	// Project, when set, decodes only the fields a reader uses (a query's,
	// ProjectionOf); nil decodes every field.
	Project *Projection `yaml:"-"`
}

// Projection names the fields a reader uses. The decoder parses only those
// and steps over the others without reading them: a record lacks them
// (Flow.Present), and a line whose unused fields are malformed is kept, where
// decoding every field would skip it as bad. Lines of the wrong shape (too
// few or too many fields, an empty field) are bad either way. Fields of
// columns a header names that vigil does not know (Flow.Extra) are always
// decoded.
type Projection struct {
	Fields record.FieldSet
	// Message keeps each record's line (Flow.Raw, @message).
	Message bool
	// needles are text that a field of every record the reader keeps
	// contains (Require).
	needles []needle
}

// needle is text a field's text must contain.
type needle struct {
	id   record.FieldID // the field; FlowMessage for the whole line
	text []byte
	// addr: the field is an address. An IPv6 address's text as written may
	// differ from its text as vigil writes it, which is what like sees
	// ("0:0::1" is "::1"), so a field holding a ':' is not judged.
	addr bool
}

// Require records that the reader keeps only records whose field (a
// catalogue name or a system field, as in ProjectionOf) has text containing
// text, as a filter field like "text" does, and reports whether the decoder
// can judge that from a line: when the field's text is the line's own bytes
// (strings, numbers and IPv4 addresses as written; @message; @logStream).
// A line whose field lacks the text is then passed over unread, without
// even its shape being checked, and counted in decode.Stats.Unread.
func (p *Projection) Require(field, text string) bool {
	fd, ok := record.FlowCatalogue.Lookup(field)
	if !ok || text == "" {
		return false
	}
	n := needle{id: fd.ID, text: []byte(text)}
	switch {
	case fd.ID == record.FlowMessage:
	case fd.ID == record.FlowLogStream:
		n.id = record.FlowInterfaceID
	case fd.ID == record.FlowTimestamp:
		return false // formatted as a time, not as written
	case fd.Type == record.TypeAddr:
		n.addr = true
	case fd.Type != record.TypeString && fd.Type != record.TypeInt:
		return false
	}
	p.needles = append(p.needles, n)
	return true
}

// RequireEqual is Require for field = "text": it takes only fields whose
// value is their text, compared as text (strings, @message, @logStream).
func (p *Projection) RequireEqual(field, text string) bool {
	fd, ok := record.FlowCatalogue.Lookup(field)
	if !ok || fd.Type != record.TypeString {
		return false
	}
	return p.Require(field, text)
}

// RequireNumber is Require for field = n, a whole number whose decimal
// digits are digits: it takes only whole-number fields, whose text as written
// holds those digits (after any leading zeros).
func (p *Projection) RequireNumber(field, digits string) bool {
	fd, ok := record.FlowCatalogue.Lookup(field)
	if !ok || fd.Type != record.TypeInt {
		return false
	}
	return p.Require(field, digits)
}

// columnNeedle is a needle placed in a layout.
type columnNeedle struct {
	needle
	col int // the column holding the field; lineCol for the whole line, noCol when the layout has none
}

const (
	lineCol = -1
	noCol   = -2
)

// placeNeedles returns the needles in lay's columns, in column order.
func placeNeedles(needles []needle, lay *layout) []columnNeedle {
	out := make([]columnNeedle, 0, len(needles))
	for _, n := range needles {
		c := columnNeedle{needle: n, col: noCol}
		if n.id == record.FlowMessage {
			c.col = lineCol
		}
		for i := range lay.cols {
			if lay.cols[i].id == n.id && n.id != record.FlowMessage {
				c.col = i
				break
			}
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b columnNeedle) int { return a.col - b.col })
	return out
}

// layoutPlan is a projection placed in a layout's columns. Inputs of one
// flow log share their layout, so the decoder keeps the last one.
type layoutPlan struct {
	lay *layout
	// cols are the indexes of the wanted columns, and ends room for the
	// field ends up to the last of them (parseProjected).
	cols []int
	ends []int32
	// needles are the projection's needles in column order (mayMatch).
	needles []columnNeedle
}

// planFor returns the decoder's projection placed in lay.
func (d *Decoder) planFor(lay *layout) *layoutPlan {
	pl := &d.plan
	if pl.lay == lay {
		return pl
	}
	*pl = layoutPlan{lay: lay}
	for i := range lay.cols {
		if d.want.Has(lay.cols[i].id) {
			pl.cols = append(pl.cols, i)
		}
	}
	need := 0
	if len(pl.cols) > 0 {
		need = pl.cols[len(pl.cols)-1] + 1
	}
	pl.ends = make([]int32, need)
	if d.need != nil {
		pl.needles = placeNeedles(d.need.needles, lay)
	}
	return pl
}

// mayMatch reports whether line (of layout lay) can hold a record the
// reader keeps: each needle's field holds its text. It steps over the fields
// before each needle's without reading them; a line too short to hold a
// needle's field is left to the parser to judge. Most lines of a filtered
// query end here, so where the CPU has AVX2 the fields are found from the
// line's space mask, as fieldEnds finds them.
func (d *Decoder) mayMatch(line []byte, lay *layout) bool {
	pl := d.planFor(lay)
	if maskable(line) {
		return pl.mayMatchMask(line)
	}
	return pl.mayMatchSWAR(line)
}

// mayMatchSWAR is mayMatch stepping over fields eight bytes at a time.
func (pl *layoutPlan) mayMatchSWAR(line []byte) bool {
	pos, col := 0, 0 // where column col starts
	for i := range pl.needles {
		n := &pl.needles[i]
		switch n.col {
		case noCol:
			return false // a field the layout lacks is missing, and like is false
		case lineCol:
			if !bytes.Contains(line, n.text) {
				return false
			}
			continue
		}
		for ; col < n.col; col++ {
			if pos += fieldLen(line[pos:]) + 1; pos > len(line) {
				return true
			}
		}
		b := line[pos:]
		b = b[:fieldLen(b)]
		if !n.holds(b) {
			return false
		}
	}
	return true
}

// mayMatchMask is mayMatch for 32 ≤ len(line) ≤ maskBytes, from the line's
// space mask.
func (pl *layoutPlan) mayMatchMask(line []byte) bool {
	var mask [maskWords]uint64
	spaceMask(line, &mask)
	words := mask[:(len(line)+63)>>6]
	w, m := 0, words[0] // the word of the next space, and its spaces not yet passed
	start, col := 0, 0  // where column col starts
	for i := range pl.needles {
		n := &pl.needles[i]
		switch n.col {
		case noCol:
			return false
		case lineCol:
			if !bytes.Contains(line, n.text) {
				return false
			}
			continue
		}
		for ; col < n.col; col++ {
			for m == 0 {
				if w++; w == len(words) {
					return true // fewer fields than the needle's column
				}
				m = words[w]
			}
			start = w<<6 + bits.TrailingZeros64(m) + 1
			m &= m - 1
		}
		end := len(line)
		for nw, nm := w, m; ; {
			if nm != 0 {
				end = nw<<6 + bits.TrailingZeros64(nm)
				break
			}
			if nw++; nw == len(words) {
				break
			}
			nm = words[nw]
		}
		if !n.holds(line[start:end]) {
			return false
		}
	}
	return true
}

// holds reports whether field b may match the needle: it holds the text, or
// it is an IPv6 address, whose text is not the address's own (see needle).
func (n *columnNeedle) holds(b []byte) bool {
	return bytes.Contains(b, n.text) || n.addr && hasColon(b)
}

// ProjectionOf returns the projection of the field names a query reads:
// catalogue names and system fields (@timestamp needs start, @logStream the
// interface id, @message the line), as plan.Plan.Fields lists them. Names the
// catalogue does not know are left out.
func ProjectionOf(names []string) *Projection {
	p := &Projection{}
	for _, name := range names {
		fd, ok := record.FlowCatalogue.Lookup(name)
		if !ok {
			continue
		}
		switch fd.ID {
		case record.FlowTimestamp:
			p.Fields = p.Fields.Add(record.FlowStart)
		case record.FlowLogStream:
			p.Fields = p.Fields.Add(record.FlowInterfaceID)
		case record.FlowMessage:
			p.Message = true
		default:
			p.Fields = p.Fields.Add(fd.ID)
		}
	}
	return p
}

// allFields is the projection of every field.
const allFields = ^record.FieldSet(0)

// DefaultConfig returns the configuration for AWS's own files: the field order
// from the header line, the default format without one.
func DefaultConfig() Config { return Config{} }

// arenaSize is the initial room for the Raw lines of one batch: BatchSize lines
// of ~200 bytes (long custom formats) without growing.
const arenaSize = 256 << 10

// Decoder decodes flow logs. It implements decode.Decoder. A Decoder is used by
// one goroutine at a time; it keeps its buffers and interned strings from input
// to input, so reuse one per worker rather than making one per file.
type Decoder struct {
	base *layout         // from Config.Format or the default format
	want record.FieldSet // the fields to parse (Config.Project); extraField always
	raw  bool            // keep each record's line as Raw
	need *Projection     // when it has needles: lines to pass over
	plan layoutPlan      // the projection placed in the last layout it was used in

	lr    *decode.LineReader
	in    decode.Input // the input being decoded; batches point to it
	batch decode.Batch
	flows []record.Flow // BatchSize reusable records
	// wide marks the records of flows that a line of a format other than
	// the default one was decoded into: they may hold fields outside the
	// default fourteen, so they are reset whole before reuse.
	wide  []bool
	n     int    // records filled in flows
	arena []byte // copies of the lines of the batch's records, for Raw

	strs   [64]interner // per string field (FieldSet caps field IDs at 64)
	extras map[string]*interner

	lastHeader []byte // the last header line seen, and its layout
	headerLay  *layout

	pqRows []parquet.Row // DecodeParquet's reused rows
}

var _ decode.Decoder = (*Decoder)(nil)

var defaultLayout = mustParseFormat(DefaultFormat)

// New returns a Decoder. It fails if cfg.Format is not a valid format string; the
// error names the bad field.
func New(cfg Config) (*Decoder, error) {
	lay := defaultLayout
	if cfg.Format != "" {
		var err error
		if lay, err = parseFormat(cfg.Format); err != nil {
			return nil, fmt.Errorf("vpcflow: %w", err)
		}
	}
	d := &Decoder{base: lay, want: allFields, raw: true}
	if p := cfg.Project; p != nil {
		d.want, d.raw = p.Fields.Add(extraField), p.Message
		if len(p.needles) > 0 {
			d.need = p
		}
	}
	return d, nil
}

// ParseLine decodes one line in the configured (or default) format into f, for
// envelopes that carry one record per message and no header: CloudWatch Logs
// subscription events, Firehose records. f is reset first; f.Raw aliases line and
// f.Stream is left for the caller. A bad line returns a *LineError; so does a
// message holding a line break, which is not one record (a field would carry
// the break into the record and its evidence).
func (d *Decoder) ParseLine(line []byte, f *record.Flow) error {
	f.Reset()
	line = trimRight(line)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		return &LineError{Reason: ReasonLineBreak, Detail: fmt.Sprintf("a line break at byte %d: one flow record per message", i)}
	}
	if err := d.parseLine(f, d.base, line, allFields); err != nil {
		return err
	}
	f.Raw = line
	return nil
}

// prefixState tracks whether an input's lines carry a CloudWatch export timestamp.
type prefixState uint8

const (
	prefixUnknown prefixState = iota // decided by the first line that parses
	prefixNone
	prefixPresent
)

// Decode reads one text input (decompressed) to its end; see decode.Decoder.
func (d *Decoder) Decode(ctx context.Context, in decode.Input, r io.Reader, emit func(*decode.Batch) error, report func(decode.Problem)) (stats decode.Stats, err error) {
	if report == nil {
		report = func(decode.Problem) {}
	}
	d.init()
	if d.lr == nil {
		d.lr = decode.NewLineReader(r)
	} else {
		d.lr.Reset(r)
	}
	d.in = in
	d.n = 0
	d.arena = d.arena[:0]
	defer func() { stats.Bytes = d.lr.BytesRead() }()

	lay := d.base
	if h := trimRight(in.Header); len(h) > 0 && IsHeader(h) {
		// A later part of a split file: the file's header line still rules it.
		lay = d.useHeader(h, in.Name, 0, func(decode.Problem) {})
	}
	prefix := prefixUnknown
	problem := func(reason, detail string) {
		stats.Skip(reason)
		report(decode.Problem{Input: in.Name, Line: d.lr.Line(), Reason: reason, Detail: detail})
	}
	for lines := 1; ; lines++ {
		if lines%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return stats, err
			}
		}
		line, err := d.lr.Next()
		if err != nil {
			if errors.Is(err, decode.ErrLineTooLong) {
				problem(ReasonLineTooLong, fmt.Sprintf("line longer than %d bytes skipped", decode.MaxLineSize))
				continue
			}
			if ferr := d.flush(emit, &stats); ferr != nil {
				return stats, ferr
			}
			if err == io.EOF {
				return stats, nil
			}
			return stats, fmt.Errorf("vpcflow: reading %s: %w", in.Name, err)
		}
		line = trimRight(line)
		if lines == 1 {
			line = bytes.TrimPrefix(line, utf8BOM) // from editors and Windows tools
		}
		if len(line) == 0 {
			continue
		}
		if 'a' <= line[0] && line[0] <= 'z' && IsHeader(line) {
			lay = d.useHeader(line, in.Name, d.lr.Line(), report)
			continue
		}

		body := line
		if prefix != prefixNone {
			if k := timestampPrefixLen(line); k > 0 {
				if prefix == prefixPresent {
					body = line[k:]
				} else if countFields(line[k:]) == len(lay.cols) {
					prefix, body = prefixPresent, line[k:]
				}
			}
		}
		if d.need != nil && !d.mayMatch(body, lay) {
			stats.Unread++
			continue
		}

		// Make room for the record and its line before decoding into it.
		if d.raw && len(d.arena)+len(line) > cap(d.arena) {
			if err := d.flush(emit, &stats); err != nil {
				return stats, err
			}
			if len(line) > cap(d.arena) {
				d.arena = make([]byte, 0, len(line))
			}
		}
		f := &d.flows[d.n]
		switch {
		case d.want != allFields:
			f.ResetFields(d.want) // a projection writes no other field
		case lay.isDefault && !d.wide[d.n]:
			// Only default-format lines were decoded into f, so its other
			// fields are zero; parseDefault writes all fourteen of a line
			// it takes, and parseLine resets f before it decodes one
			// parseDefault does not. What is left is what surrounds the
			// fields: clearing 864 bytes a line was 5% of a scan.
			f.Present, f.Extra, f.Raw, f.Stream = 0, f.Extra[:0], nil, ""
		default:
			f.Reset()
			d.wide[d.n] = !lay.isDefault
		}

		var lerr *LineError
		if d.want == allFields {
			lerr = d.parseLine(f, lay, body, allFields)
		} else {
			lerr = d.parseProjected(f, lay, body)
		}
		if lerr != nil {
			problem(lerr.Reason, lerr.Detail)
			continue
		}
		if prefix == prefixUnknown {
			prefix = prefixNone
		}
		if d.raw {
			start := len(d.arena)
			d.arena = append(d.arena, body...)
			f.Raw = d.arena[start:len(d.arena):len(d.arena)]
		}
		f.Stream = in.Name
		d.n++
		if d.n == len(d.flows) {
			if err := d.flush(emit, &stats); err != nil {
				return stats, err
			}
		}
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

// init makes the buffers a decoder keeps from input to input.
func (d *Decoder) init() {
	if d.flows == nil {
		d.flows = make([]record.Flow, decode.BatchSize)
		d.wide = make([]bool, decode.BatchSize)
		d.arena = make([]byte, 0, arenaSize)
	}
}

// flush emits the records decoded so far, if any, and starts a new batch.
func (d *Decoder) flush(emit func(*decode.Batch) error, stats *decode.Stats) error {
	if d.n == 0 {
		return nil
	}
	d.batch = decode.Batch{Kind: record.KindFlow, Input: &d.in, Flows: d.flows[:d.n]}
	stats.Records += int64(d.n)
	d.n = 0
	err := emit(&d.batch)
	d.arena = d.arena[:0]
	return err
}

// useHeader returns the layout a header line names, reporting its unknown fields.
// Inputs of one flow log share their header, so the last layout is kept.
func (d *Decoder) useHeader(line []byte, input string, lineNo int64, report func(decode.Problem)) *layout {
	if d.headerLay == nil || string(line) != string(d.lastHeader) {
		d.headerLay = headerLayout(line, d.extraInterner)
		d.lastHeader = append(d.lastHeader[:0], line...)
	}
	for _, name := range d.headerLay.unknown {
		report(decode.Problem{Input: input, Line: lineNo, Reason: ReasonUnknownField,
			Detail: fmt.Sprintf("header field %q is not known to vigil; its values are kept as text", name)})
	}
	return d.headerLay
}

func (d *Decoder) extraInterner(name string) *interner {
	if d.extras == nil {
		d.extras = make(map[string]*interner)
	}
	in := d.extras[name]
	if in == nil {
		in = &interner{}
		d.extras[name] = in
	}
	return in
}

// trimRight drops trailing spaces, tabs and line ends, which some tools add.
func trimRight(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\r', '\n':
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}
