package dnslog

import (
	"bytes"

	"github.com/vigil-dev/vigil/internal/record"
)

// Projection is what a query lets the decoder skip: the records its filters
// cannot keep. A record whose JSON text lacks a text that one of the record's
// fields must contain is passed over before it is parsed, and counted in
// decode.Stats.Unread.
//
// The test is on the whole record's text, which is sound because Resolver
// writes its strings as they are: without a backslash in the record, every
// string field's value is its own bytes in the text, so a value containing
// the text means the record's text does. A record with a backslash (an
// escape, which decodes to other bytes) is always parsed. Fields whose value
// is not their text as written — addresses, ports, times — and keys outside
// the catalogue (which may hold numbers) are not judged.
type Projection struct {
	fields  [][]byte // text some string field's value contains
	message [][]byte // text the record's own text contains (@message)
}

// Require records that the reader keeps only records whose field (a
// catalogue name) has text containing text, as a filter field like "text"
// does, and reports whether the decoder can judge that from a record's text.
func (p *Projection) Require(field, text string) bool {
	fd, ok := record.DNSCatalogue.Lookup(field)
	if !ok || text == "" {
		return false
	}
	switch {
	case fd.ID == record.DNSMessage:
		p.message = append(p.message, []byte(text))
	case fd.ID == record.DNSLogStream || fd.Type != record.TypeString:
		return false // the file's name, or a value vigil formats
	default:
		p.fields = append(p.fields, []byte(text))
	}
	return true
}

// RequireEqual is Require for field = "text": the field's value is the text,
// so it contains it. Every field Require judges is a string compared as text.
func (p *Projection) RequireEqual(field, text string) bool { return p.Require(field, text) }

// Empty reports whether the projection skips nothing.
func (p *Projection) Empty() bool { return p == nil || len(p.fields)+len(p.message) == 0 }

// mayMatch reports whether the record with text raw may be one the reader
// keeps.
func (p *Projection) mayMatch(raw []byte) bool {
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
