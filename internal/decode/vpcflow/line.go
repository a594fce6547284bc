package vpcflow

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/record"
)

// The reasons a line is skipped. They key decode.Stats.Skipped, so they are
// short and fixed.
const (
	ReasonFieldCount   = "field count"
	ReasonBadAddress   = "bad address"
	ReasonBadNumber    = "bad number"
	ReasonBadAction    = "bad action"
	ReasonBadLogStatus = "bad log status"
	ReasonBadDirection = "bad flow direction"
	ReasonInvalidUTF8  = "invalid UTF-8"
	ReasonLineTooLong  = "line too long"
	ReasonLineBreak    = "line break"    // a message (ParseLine) holding more than one line
	ReasonUnknownField = "unknown field" // reported, not skipped: the column is kept as text
)

// LineError says why a line is not a flow record: Reason is one of the fixed
// reasons above, Detail names the field and quotes the value.
type LineError struct {
	Reason string
	Detail string
}

func (e *LineError) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return e.Reason + ": " + e.Detail
}

// parseLine decodes one record line (no header, no timestamp prefix) into f,
// which must be reset. On error f is left part-filled; the caller discards it.
//
// It walks the line once: each field's parser stops at the space that ends the
// field (a number where its digits do, an address where its last octet does).
// It only learns whether a field is good; fieldError works out what is wrong
// with a bad one. Lines of AWS's default format take parseDefault's straight
// line instead, and projected decoding parseProjected.
//
// Only the fields in want are parsed (see Projection); the others are stepped
// over unread. Fields of unknown columns (extraField) are always parsed.
func (d *Decoder) parseLine(f *record.Flow, lay *layout, line []byte, want record.FieldSet) *LineError {
	if len(line) == 0 {
		return &LineError{ReasonFieldCount, "empty line"}
	}
	if lay.isDefault && want == allFields {
		if d.parseDefault(f, line) {
			return nil
		}
		f.Reset() // and decode it field by field, to say what is wrong
	}
	cols := lay.cols
	pos := 0
	for i := range cols {
		if pos >= len(line) {
			if pos > len(line) {
				return fieldCountError(line, lay) // fewer fields than the format
			}
			return lineError(line, lay, &LineError{ReasonFieldCount, cols[i].name + " is empty (trailing space)"})
		}
		c := &cols[i]
		b := line[pos:]
		switch b[0] {
		case ' ':
			return lineError(line, lay, &LineError{ReasonFieldCount, c.name + " is empty (doubled space)"})
		case '-':
			if len(b) == 1 || b[1] == ' ' {
				pos += 2 // the placeholder: the field stays unset
				continue
			}
		}
		if !want.Has(c.id) {
			pos += fieldLen(b) + 1
			continue
		}
		n, ok := d.parseField(f, c, b)
		if !ok {
			return lineError(line, lay, fieldError(c, b))
		}
		f.Present |= 1 << (c.id & 63)
		pos += n + 1
	}
	f.Present &^= 1 << extraField // set by unknown fields above, to save a branch
	if pos <= len(line) {
		return fieldCountError(line, lay) // more fields than the format
	}
	return nil
}

// parseProjected is parseLine for a projection (want is not every field):
// one pass over the line, eight bytes at a time, checks its shape and finds
// where the fields up to the last wanted one end, and only the wanted fields
// are parsed. A line of the wrong shape goes to parseLine, which says what is
// wrong with it.
func (d *Decoder) parseProjected(f *record.Flow, lay *layout, line []byte) *LineError {
	pl := d.planFor(lay)
	cols := lay.cols
	if !fieldEnds(line, len(cols), pl.ends) {
		return d.parseLine(f, lay, line, d.want)
	}
	for _, i := range pl.cols {
		start, end := 0, int(pl.ends[i])
		if i > 0 {
			start = int(pl.ends[i-1]) + 1
		}
		if end-start == 1 && line[start] == '-' {
			continue // the placeholder: the field stays unset
		}
		// The parsers read several bytes at a time and stop at the space
		// themselves: given the rest of the line, not the field.
		c, b := &cols[i], line[start:]
		if n, ok := d.parseField(f, c, b); !ok || n != end-start {
			return lineError(line, lay, fieldError(c, b))
		}
		f.Present |= 1 << (c.id & 63)
	}
	f.Present &^= 1 << extraField
	return nil
}

// fieldEnds reports whether line has exactly n fields, none of them empty,
// and sets ends[i] to where field i ends (the offset of the space after it,
// or len(line) for the last) for the first len(ends) ≤ n fields.
//
// It is most of the cost of a query that reads few fields (a count: all of
// it), so on CPUs with AVX2 it finds the spaces 32 bytes an instruction
// (spaceMask) and works on the bit mask; elsewhere, and for lines of under
// 32 or over maskBytes bytes, it counts eight bytes at a time.
func fieldEnds(line []byte, n int, ends []int32) bool {
	if maskable(line) {
		return fieldEndsMask(line, n, ends)
	}
	return fieldEndsSWAR(line, n, ends)
}

// maskWords is the size of a line's space mask in words: lines of up to
// maskBytes, which a v5 line with every field set fits.
const (
	maskWords = 8
	maskBytes = 64 * maskWords
)

// maskable reports whether line's fields are found from its space mask: the
// CPU has the vector spaceMask, and the line is 32 to maskBytes long.
func maskable(line []byte) bool {
	return haveSpaceMask && len(line) >= 32 && len(line) <= maskBytes
}

// fieldEndsMask is fieldEnds for 32 ≤ len(line) ≤ maskBytes, from the line's
// space mask.
func fieldEndsMask(line []byte, n int, ends []int32) bool {
	end := len(line)
	if line[0] == ' ' || line[end-1] == ' ' {
		return false
	}
	var mask [maskWords]uint64 // zero past the line: spaceMask sets no bit there
	spaceMask(line, &mask)
	words := mask[:(end+63)>>6]
	var bad, carry uint64 // adjacent spaces; the last word's top bit
	found := 0
	for _, m := range words {
		found += bits.OnesCount64(m)
		bad |= m & (m<<1 | carry)
		carry = m >> 63
	}
	if bad != 0 || found+1 != n {
		return false // an empty field, or too many or too few
	}
	k := 0
	for w := 0; k < len(ends); w++ {
		if w == len(words) {
			ends[k] = int32(end) // the last field's
			break
		}
		for m := words[w]; m != 0 && k < len(ends); m &= m - 1 {
			ends[k], k = int32(w<<6+bits.TrailingZeros64(m)), k+1
		}
	}
	return true
}

// fieldEndsSWAR is fieldEnds eight bytes at a time. It looks at the last
// (partial) eight too, and branches only to record the ends wanted.
func fieldEndsSWAR(line []byte, n int, ends []int32) bool {
	end := len(line)
	if end == 0 || line[0] == ' ' || line[end-1] == ' ' {
		return false
	}
	var bad, carry uint64 // adjacent spaces seen; the last word's top space flag, moved to the first byte's
	var lanes uint64      // spaces counted per byte lane
	found, k := 0, 0      // spaces counted out of lanes; ends set
	i := 0
	for ; i+8 <= end; i += 8 {
		m := byteFlags(binary.LittleEndian.Uint64(line[i:]), spaces)
		bad |= m & (m<<8 | carry)
		carry = m >> 56
		lanes += m >> 7
		for ; m != 0 && k < len(ends); m &= m - 1 {
			ends[k], k = int32(i+bits.TrailingZeros64(m)>>3), k+1
		}
		if i&(127<<3) == 127<<3 { // before a lane can overflow
			found, lanes = found+sumBytes(lanes), 0
		}
	}
	if i < end {
		// The last few bytes: the line's last eight less those already
		// seen, or the short line padded with zeros (not spaces).
		var w uint64
		if end >= 8 {
			w = binary.LittleEndian.Uint64(line[end-8:]) >> (8 * (i + 8 - end))
		} else {
			var buf [8]byte
			copy(buf[:], line)
			w = binary.LittleEndian.Uint64(buf[:])
		}
		m := byteFlags(w, spaces)
		bad |= m & (m<<8 | carry)
		lanes += m >> 7
		for ; m != 0 && k < len(ends); m &= m - 1 {
			ends[k], k = int32(i+bits.TrailingZeros64(m)>>3), k+1
		}
	}
	if bad != 0 || found+sumBytes(lanes)+1 != n {
		return false // an empty field, or too many or too few
	}
	if k < len(ends) {
		ends[k] = int32(end) // the last field's
	}
	return true
}

// sumBytes returns the sum of the bytes of w.
func sumBytes(w uint64) int {
	w = w&0x00ff00ff00ff00ff + w>>8&0x00ff00ff00ff00ff
	return int(w * 0x0001000100010001 >> 48)
}

// parseField decodes the field of column c at the start of b (not a '-'
// placeholder; b may run on past the field) into f and returns its length;
// false when it is malformed. Every parser stops where its field does, at a
// space or the end of b.
func (d *Decoder) parseField(f *record.Flow, c *column, b []byte) (n int, ok bool) {
	var v uint64
	ok = true
	switch c.id {
	case record.FlowVersion:
		v, n = scanUint(b)
		f.Version, ok = int32(v), isUint(b, n, v, math.MaxInt32)
	case record.FlowSrcAddr:
		f.SrcAddr, n, ok = parseAddr(b)
	case record.FlowDstAddr:
		f.DstAddr, n, ok = parseAddr(b)
	case record.FlowPktSrcAddr:
		f.PktSrcAddr, n, ok = parseAddr(b)
	case record.FlowPktDstAddr:
		f.PktDstAddr, n, ok = parseAddr(b)
	case record.FlowSrcPort:
		v, n = scanUint(b)
		f.SrcPort, ok = uint16(v), isUint(b, n, v, math.MaxUint16)
	case record.FlowDstPort:
		v, n = scanUint(b)
		f.DstPort, ok = uint16(v), isUint(b, n, v, math.MaxUint16)
	case record.FlowProtocol:
		v, n = scanUint(b)
		f.Protocol, ok = uint8(v), isUint(b, n, v, math.MaxUint8)
	case record.FlowTCPFlags:
		v, n = scanUint(b)
		f.TCPFlags, ok = uint16(v), isUint(b, n, v, math.MaxUint16)
	case record.FlowTrafficPath:
		v, n = scanUint(b)
		f.TrafficPath, ok = uint8(v), isUint(b, n, v, math.MaxUint8)
	case record.FlowPackets:
		v, n = scanUint(b)
		f.Packets, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowBytes:
		v, n = scanUint(b)
		f.Bytes, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowStart:
		v, n = scanUint(b)
		f.Start, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowEnd:
		v, n = scanUint(b)
		f.End, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowPacketsLostNoRoute:
		v, n = scanUint(b)
		f.TGW.PacketsLostNoRoute, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowPacketsLostBlackhole:
		v, n = scanUint(b)
		f.TGW.PacketsLostBlackhole, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowPacketsLostMTUExceeded:
		v, n = scanUint(b)
		f.TGW.PacketsLostMTUExceeded, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowPacketsLostTTLExpired:
		v, n = scanUint(b)
		f.TGW.PacketsLostTTLExpired, ok = int64(v), isUint(b, n, v, math.MaxInt64)
	case record.FlowAction:
		n = wordLen(b)
		f.Action = parseAction(b[:n])
		ok = f.Action != record.ActionUnknown
	case record.FlowLogStatus:
		n = wordLen(b)
		f.LogStatus = parseLogStatus(b[:n])
		ok = f.LogStatus != record.LogStatusUnknown
	case record.FlowFlowDirection:
		n = wordLen(b)
		f.FlowDirection = parseDirection(b[:n])
		ok = f.FlowDirection != record.DirectionUnknown
	case record.FlowAccountID: // the common string fields, without StringField's switch
		f.AccountID, n, ok = d.strs[record.FlowAccountID].text(b)
	case record.FlowInterfaceID:
		f.InterfaceID, n, ok = d.strs[record.FlowInterfaceID].text(b)
	case record.FlowVPCID:
		f.VPCID, n, ok = d.strs[record.FlowVPCID].text(b)
	case record.FlowSubnetID:
		f.SubnetID, n, ok = d.strs[record.FlowSubnetID].text(b)
	case record.FlowInstanceID:
		f.InstanceID, n, ok = d.strs[record.FlowInstanceID].text(b)
	case extraField:
		var s string
		if s, n, ok = c.extra.text(b); ok {
			f.Extra = append(f.Extra, record.ExtraField{Name: c.name, Value: s})
		}
	default: // the other string fields (checked by init in format.go)
		*f.StringField(c.id), n, ok = d.strs[c.id].text(b)
	}
	return n, ok
}

// isUint reports whether scanUint found a whole field of at most max.
func isUint(b []byte, n int, v, max uint64) bool {
	return n > 0 && (n == len(b) || b[n] == ' ') && v <= max
}

// text returns the string field at the start of b, interned, and its length; ok
// is false if it is not valid UTF-8.
func (in *interner) text(b []byte) (s string, n int, ok bool) {
	n, ascii := scanField(b)
	if !ascii && !utf8.Valid(b[:n]) {
		return "", n, false
	}
	return in.intern(b[:n]), n, true
}

func parseAction(b []byte) record.Action {
	switch string(b) {
	case "ACCEPT":
		return record.ActionAccept
	case "REJECT":
		return record.ActionReject
	}
	return record.ActionUnknown
}

func parseLogStatus(b []byte) record.LogStatus {
	switch string(b) {
	case "OK":
		return record.LogStatusOK
	case "NODATA":
		return record.LogStatusNoData
	case "SKIPDATA":
		return record.LogStatusSkipData
	}
	return record.LogStatusUnknown
}

func parseDirection(b []byte) record.Direction {
	switch string(b) {
	case "ingress":
		return record.DirectionIngress
	case "egress":
		return record.DirectionEgress
	}
	return record.DirectionUnknown
}

// fieldError says what is wrong with the value at the start of b for column c,
// which parseLine found bad. It runs only for bad lines, so it can take its time.
func fieldError(c *column, b []byte) *LineError {
	v := b[:wordLen(b)]
	switch c.id {
	case record.FlowAction:
		return &LineError{ReasonBadAction, c.name + " " + quote(v) + " (want ACCEPT or REJECT)"}
	case record.FlowLogStatus:
		return &LineError{ReasonBadLogStatus, c.name + " " + quote(v) + " (want OK, NODATA or SKIPDATA)"}
	case record.FlowFlowDirection:
		return &LineError{ReasonBadDirection, c.name + " " + quote(v) + " (want ingress or egress)"}
	}
	if c.id == extraField || record.FlowCatalogue.Fields[c.id].Type == record.TypeString {
		return &LineError{ReasonInvalidUTF8, c.name + " is not valid UTF-8"}
	}
	if record.FlowCatalogue.Fields[c.id].Type == record.TypeAddr {
		return &LineError{ReasonBadAddress, c.name + " " + quote(v) + " is not an IP address"}
	}
	max := uint64(math.MaxInt64)
	switch c.id {
	case record.FlowVersion:
		max = math.MaxInt32
	case record.FlowSrcPort, record.FlowDstPort, record.FlowTCPFlags:
		max = math.MaxUint16
	case record.FlowProtocol, record.FlowTrafficPath:
		max = math.MaxUint8
	}
	if !digits(v) {
		return &LineError{ReasonBadNumber, c.name + " " + quote(v) + " is not a number"}
	}
	return &LineError{ReasonBadNumber, fmt.Sprintf("%s %s is out of range 0–%d", c.name, quote(v), max)}
}

// lineError returns err for line, unless the line has the wrong number of fields:
// then a value failed because the fields were shifted, and the count is the
// problem to report.
func lineError(line []byte, lay *layout, err *LineError) *LineError {
	if countFields(line) != len(lay.cols) {
		return fieldCountError(line, lay)
	}
	if err.Reason == ReasonInvalidUTF8 {
		err.Detail += fmt.Sprintf(" (byte %d of the line)", invalidUTF8At(line)+1)
	}
	return err
}

func fieldCountError(line []byte, lay *layout) *LineError {
	n := countFields(line)
	return &LineError{ReasonFieldCount, fmt.Sprintf("%d %s, want %d", n, plural(n, "field"), len(lay.cols))}
}

// maxDetailValueBytes is how much of a bad value a message quotes.
const maxDetailValueBytes = 64

// quote renders a value from a log for a message: quoted and escaped (logs are
// hostile: no raw control characters or invalid UTF-8 reach a terminal), and
// cut short.
func quote(v []byte) string {
	if len(v) > maxDetailValueBytes {
		return fmt.Sprintf("%q… (%d bytes)", v[:maxDetailValueBytes], len(v))
	}
	return fmt.Sprintf("%q", v)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
