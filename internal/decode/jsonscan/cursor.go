package jsonscan

import (
	"unsafe"

	"github.com/vigil-dev/vigil/internal/decode"
)

// Cursor reads one JSON value in one pass, for the decoders' fast paths.
//
// AWS writes most records in one plain shape, and reading that shape
// directly, without reflection, costs a fraction of what encoding/json does
// (which also checks the whole text before it decodes it). A fast path built
// on a Cursor reads the members it knows and skips the rest; whenever the text
// is not in the shape it expects — an escape in a string it keeps, a number
// where a string belongs, a key that matches a known one only in letter case
// (encoding/json would take it) — it gives up, and the decoder reads the
// record with encoding/json instead, errors and all. So a fast path must only
// accept what encoding/json accepts and read it the same way; each decoder
// fuzzes that.
type Cursor struct {
	B []byte
	I int // the next byte to read
}

// WS skips white space.
func (p *Cursor) WS() {
	for p.I < len(p.B) {
		switch p.B[p.I] {
		case ' ', '\t', '\n', '\r':
			p.I++
		default:
			return
		}
	}
}

// Eat skips white space and consumes c, reporting whether it was there.
func (p *Cursor) Eat(c byte) bool {
	p.WS()
	if p.I < len(p.B) && p.B[p.I] == c {
		p.I++
		return true
	}
	return false
}

// Peek skips white space and returns the next byte, 0 at the end.
func (p *Cursor) Peek() byte {
	p.WS()
	if p.I < len(p.B) {
		return p.B[p.I]
	}
	return 0
}

// Str reads a string without escapes or control characters and returns its
// content, which views the text.
func (p *Cursor) Str() ([]byte, bool) {
	if !p.Eat('"') {
		return nil, false
	}
	start := p.I
	p.I += PlainRun(p.B[p.I:])
	if p.I < len(p.B) && p.B[p.I] == '"' {
		p.I++
		return p.B[start : p.I-1], true
	}
	return nil, false // an escape, a control character or the end
}

// Literal consumes true, false or null; null reports isNull.
func (p *Cursor) Literal() (isNull, ok bool) {
	p.WS()
	for _, lit := range [...]string{"null", "true", "false"} {
		if len(p.B)-p.I >= len(lit) && string(p.B[p.I:p.I+len(lit)]) == lit {
			p.I += len(lit)
			return lit == "null", true
		}
	}
	return false, false
}

// StrOrNull reads a string member value into dst, from in when in is not
// nil; a null leaves dst as it was, as encoding/json does.
func (p *Cursor) StrOrNull(dst *string, in *decode.Interner) bool {
	if p.Peek() == 'n' {
		isNull, ok := p.Literal()
		return ok && isNull
	}
	v, ok := p.Str()
	if !ok {
		return false
	}
	if in != nil {
		*dst = in.Intern(v)
	} else {
		*dst = string(v)
	}
	return true
}

// ViewOrNull is StrOrNull for a value that is parsed and never kept: the
// string views the text instead of copying it.
func (p *Cursor) ViewOrNull(dst *string) bool {
	if p.Peek() == 'n' {
		isNull, ok := p.Literal()
		return ok && isNull
	}
	v, ok := p.Str()
	if ok {
		*dst = ""
		if len(v) > 0 {
			*dst = unsafe.String(&v[0], len(v))
		}
	}
	return ok
}

// Object reads the members of an object, calling member for each key;
// member reads the value. It consumes the closing brace.
func (p *Cursor) Object(member func(key []byte) bool) bool {
	if !p.Eat('{') {
		return false
	}
	if p.Eat('}') {
		return true
	}
	for {
		key, ok := p.Str()
		if !ok || !p.Eat(':') || !member(key) {
			return false
		}
		if p.Eat(',') {
			continue
		}
		return p.Eat('}')
	}
}

// Skip consumes any one value, checking it as strictly as encoding/json does
// (its escapes, numbers and literals), so that a fast path that skips a value
// accepts only what encoding/json would. Nesting is bounded by whoever gave
// the text: a Scanner's Limits, or TooDeep.
func (p *Cursor) Skip() bool {
	switch p.Peek() {
	case '"':
		return p.skipString()
	case '{':
		p.I++
		if p.Eat('}') {
			return true
		}
		for {
			if p.Peek() != '"' || !p.skipString() || !p.Eat(':') || !p.Skip() {
				return false
			}
			if p.Eat(',') {
				continue
			}
			return p.Eat('}')
		}
	case '[':
		p.I++
		if p.Eat(']') {
			return true
		}
		for {
			if !p.Skip() {
				return false
			}
			if p.Eat(',') {
				continue
			}
			return p.Eat(']')
		}
	case 't', 'f', 'n':
		_, ok := p.Literal()
		return ok
	}
	return p.skipNumber()
}

// skipString consumes a string, escapes and all.
func (p *Cursor) skipString() bool {
	p.I++ // the opening quote
	for {
		p.I += PlainRun(p.B[p.I:])
		if p.I >= len(p.B) {
			return false
		}
		switch p.B[p.I] {
		case '"':
			p.I++
			return true
		case '\\':
			if p.I+1 >= len(p.B) {
				return false
			}
			switch p.B[p.I+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.I += 2
			case 'u':
				if p.I+6 > len(p.B) {
					return false
				}
				for _, c := range p.B[p.I+2 : p.I+6] {
					if !isHex(c) {
						return false
					}
				}
				p.I += 6
			default:
				return false
			}
		default:
			return false // a control character
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipNumber consumes a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *Cursor) skipNumber() bool {
	b := p.B
	i := p.I
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digitsFrom(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := digitsFrom(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digitsFrom(b, i)
		if j == i {
			return false
		}
		i = j
	}
	p.I = i
	return true
}

// digitsFrom returns the end of the run of digits at b[i:].
func digitsFrom(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// End reports whether only white space is left.
func (p *Cursor) End() bool {
	p.WS()
	return p.I == len(p.B)
}

// FoldsTo reports whether key differs from one of names only in letter case
// or in non-ASCII bytes, which encoding/json's case-insensitive matching may
// map onto that name. A fast path gives up on such a key.
func FoldsTo(key []byte, names ...string) bool {
	for _, c := range key {
		if c >= 0x80 {
			return true
		}
	}
	for _, n := range names {
		if len(n) != len(key) {
			continue
		}
		same := true
		for i := range n {
			if lowerASCII(key[i]) != lowerASCII(n[i]) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
