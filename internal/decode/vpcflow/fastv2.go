package vpcflow

import (
	"math"

	"github.com/vigil-dev/vigil/internal/record"
)

// AWS's default format (version 2, DefaultFormat) is what most flow logs use,
// so lines of that layout take a straight-line parser: the fourteen fields in
// their order, without the per-column switch, placeholder test and presence
// bookkeeping of parseLine. It accepts only lines in which every field is
// there (no '-' placeholder) and good; for any other line it gives up, and
// parseLine decodes the line again, placeholders, errors and all. On the lines
// it accepts it fills the record exactly as parseLine does
// (TestParseDefaultMatchesParseLine, FuzzParseDefault).

// defaultIDs are the fields of DefaultFormat, in order (TestDefaultIDs checks
// them against it).
var defaultIDs = [...]record.FieldID{record.FlowVersion, record.FlowAccountID, record.FlowInterfaceID,
	record.FlowSrcAddr, record.FlowDstAddr, record.FlowSrcPort, record.FlowDstPort, record.FlowProtocol,
	record.FlowPackets, record.FlowBytes, record.FlowStart, record.FlowEnd, record.FlowAction, record.FlowLogStatus}

// defaultPresent is the presence set of a default-format line with every
// field.
var defaultPresent = func() record.FieldSet {
	var s record.FieldSet
	for _, id := range defaultIDs {
		s = s.Add(id)
	}
	return s
}()

// isDefaultOrder reports whether cols are the default format's fields in its
// order (names may differ in spelling, as a header's may).
func isDefaultOrder(cols []column) bool {
	if len(cols) != len(defaultIDs) {
		return false
	}
	for i := range cols {
		if cols[i].id != defaultIDs[i] {
			return false
		}
	}
	return true
}

// parseDefault decodes a default-format line into f, which must be reset, and
// reports whether it could. When it could not, f is part-filled: the caller
// resets it and uses parseLine.
func (d *Decoder) parseDefault(f *record.Flow, line []byte) bool {
	b := line
	var ok bool
	var n int
	var v uint64

	if v, n = scanUint(b); n == 0 || v > math.MaxInt32 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.Version = int32(v)
	if isPlaceholder(b) {
		return false
	}
	if f.AccountID, n, ok = d.strs[record.FlowAccountID].text(b); !ok || n == 0 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	if isPlaceholder(b) {
		return false
	}
	if f.InterfaceID, n, ok = d.strs[record.FlowInterfaceID].text(b); !ok || n == 0 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	if isPlaceholder(b) { // NODATA, SKIPDATA: before parseAddr, whose error would allocate
		return false
	}
	if f.SrcAddr, n, ok = parseAddr(b); !ok {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	if isPlaceholder(b) {
		return false
	}
	if f.DstAddr, n, ok = parseAddr(b); !ok {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	if v, n = scanUint(b); n == 0 || v > math.MaxUint16 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.SrcPort = uint16(v)
	if v, n = scanUint(b); n == 0 || v > math.MaxUint16 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.DstPort = uint16(v)
	if v, n = scanUint(b); n == 0 || v > math.MaxUint8 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.Protocol = uint8(v)
	if v, n = scanUint(b); n == 0 || v > math.MaxInt64 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.Packets = int64(v)
	if v, n = scanUint(b); n == 0 || v > math.MaxInt64 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.Bytes = int64(v)
	if v, n = scanUint(b); n == 0 || v > math.MaxInt64 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.Start = int64(v)
	if v, n = scanUint(b); n == 0 || v > math.MaxInt64 {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	f.End = int64(v)
	n = wordLen(b)
	if f.Action = parseAction(b[:n]); f.Action == record.ActionUnknown {
		return false
	}
	if b, ok = skip(b, n); !ok {
		return false
	}
	n = wordLen(b)
	if f.LogStatus = parseLogStatus(b[:n]); f.LogStatus == record.LogStatusUnknown || n != len(b) {
		return false
	}
	f.Present = defaultPresent
	return true
}

// skip returns b past a field of n bytes and the space after it; false when
// the field is not followed by a space and another field.
func skip(b []byte, n int) ([]byte, bool) {
	if n >= len(b)-1 || b[n] != ' ' {
		return nil, false
	}
	return b[n+1:], true
}

// isPlaceholder reports a '-' field at the start of b (b is not empty), which
// parseLine leaves unset.
func isPlaceholder(b []byte) bool { return b[0] == '-' && (len(b) == 1 || b[1] == ' ') }
