package decode

import (
	"bytes"

	"github.com/vigil-dev/vigil/internal/record"
)

// JSONProjection is what a query lets a decoder of JSON records (Resolver
// logs, CloudTrail) skip: the records its filters cannot keep. A record whose
// text lacks a text that one of its fields must contain is passed over
// before it is parsed, and counted in Stats.Unread.
//
// The test is on the whole record's text, which is sound because a JSON
// string without escapes is its own bytes: when the record holds no
// backslash, every string field's value is a run of the record's text, so a
// value containing the text means the record does. A record with a backslash
// (an escape, which decodes to other bytes; an event inside a JSON string) is
// always parsed. Only the catalogue's string fields are judged, whose values
// the decoders take from JSON strings (or true, false, a number's text, as
// written); addresses, ports, times, and keys outside the catalogue (which
// may hold numbers, written as vigil writes them) are not.
type JSONProjection struct {
	cat *record.Catalogue
	// rawMessage: @message is always the record's text as written (Resolver
	// logs), not an event unwrapped from an envelope (CloudTrail).
	rawMessage bool
	fields     [][]byte // text some string field's value contains
	message    [][]byte // text @message contains, when rawMessage
}

// NewJSONProjection returns a projection over the fields of cat that skips
// nothing yet. rawMessage says that @message is the record's text as written.
func NewJSONProjection(cat *record.Catalogue, rawMessage bool) *JSONProjection {
	return &JSONProjection{cat: cat, rawMessage: rawMessage}
}

// Require records that the reader keeps only records whose field (a
// catalogue name) has text containing text, as a filter field like "text"
// does (or field = "text": every field it judges is a string compared as
// text, whose value then contains the text), and reports whether the decoder
// can judge that from a record's text.
func (p *JSONProjection) Require(field, text string) bool {
	fd, ok := p.cat.Lookup(field)
	if !ok || text == "" || fd.Type != record.TypeString || fd.Name == "@logStream" {
		return false // not a string field, or the file's name
	}
	if fd.Name == "@message" && p.rawMessage {
		p.message = append(p.message, []byte(text))
	} else {
		p.fields = append(p.fields, []byte(text))
	}
	return true
}

// Empty reports whether the projection skips nothing.
func (p *JSONProjection) Empty() bool { return p == nil || len(p.fields)+len(p.message) == 0 }

// MayMatch reports whether the record with text raw may be one the reader
// keeps.
func (p *JSONProjection) MayMatch(raw []byte) bool {
	for _, n := range p.message {
		if !bytes.Contains(raw, n) {
			return false
		}
	}
	if len(p.fields) == 0 || bytes.IndexByte(raw, '\\') >= 0 {
		return true
	}
	for _, n := range p.fields {
		if !bytes.Contains(raw, n) {
			return false
		}
	}
	return true
}
