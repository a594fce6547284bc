// Package jsonscan splits a stream of JSON text into the values a log decoder wants,
// one at a time and in bounded memory, without parsing them: the caller reads each
// value with a Cursor fast path or with encoding/json.
//
// AWS writes JSON logs in several shapes — one object per line, a file holding
// {"Records":[…]}, a bare array, documents written back to back with no separator
// (Firehose), pretty-printed or not — and a reader must take them all, in any mix,
// from a stream it cannot hold whole (a CloudTrail file can be hundreds of MB).
// encoding/json.Decoder streams, but it cannot bound the memory one value takes,
// cannot skip a value that is too large or too deeply nested, and stops for good at
// the first syntax error. The Scanner does those three things:
//
//   - Top-level values are returned one by one; a top-level array and, for the
//     member names the caller lists (Records, events…), an array-valued member of a
//     top-level object are opened and their elements returned one by one instead.
//   - A value longer than Limits.MaxSize is skipped without being buffered, and a
//     value nested deeper than Limits.MaxDepth is skipped too; both come back as an
//     Item with an error, and scanning goes on after them.
//   - After a syntax error (or a line cut short) the scanner resynchronises at the
//     next line that starts a value at the same indentation as the bad one — the
//     next JSON line, the next element of a pretty-printed array — so one bad
//     record loses only itself.
//
// The scanner checks structure (brackets, strings, where values start and end), not
// content: a value it returns may still be invalid JSON (`{"a" 1}`), which the
// caller's json.Unmarshal reports.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Limits bound what one value may cost.
type Limits struct {
	// MaxSize is the longest value, in bytes, that is returned; longer ones are
	// skipped without being held in memory.
	MaxSize int
	// MaxDepth is the deepest nesting of arrays and objects accepted within one
	// returned value; deeper values are skipped (a "JSON bomb").
	MaxDepth int
}

// DefaultLimits suit CloudTrail events: AWS caps an event at 256 KB for CloudWatch
// Logs and EventBridge and S3 files hold events far below 8 MiB; real events nest
// less than 20 deep.
var DefaultLimits = Limits{MaxSize: 8 << 20, MaxDepth: 64}

// ErrKind classifies why a value could not be returned.
type ErrKind uint8

// The error kinds. Each has a short fixed name (String) that decoders use as the
// reason they count skipped records by.
const (
	ErrSyntax    ErrKind = iota + 1 // not JSON
	ErrTruncated                    // the input, or a line, ends inside the value
	ErrTooLarge                     // longer than Limits.MaxSize
	ErrTooDeep                      // nested deeper than Limits.MaxDepth
)

// String returns the kind's reason text.
func (k ErrKind) String() string {
	switch k {
	case ErrSyntax:
		return "bad JSON"
	case ErrTruncated:
		return "truncated"
	case ErrTooLarge:
		return "too large"
	case ErrTooDeep:
		return "too deep"
	}
	return "error"
}

// Error describes a value the scanner skipped.
type Error struct {
	Kind   ErrKind
	Offset int64 // byte offset in the input where the problem was found
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (byte %d)", e.Kind, e.Msg, e.Offset) }

// Item is one value, or one value that could not be read.
type Item struct {
	// Raw is the value's text, without surrounding space. It aliases the scanner's
	// buffer and is valid only until the next call to Next.
	Raw []byte
	// Line is the 1-based line where the value starts.
	Line int64
	// Index is the value's 1-based position in the array it was streamed from, or 0
	// for a top-level value.
	Index int64
	// Key names the top-level member whose array the value came from ("Records");
	// it is "" for top-level values and for elements of a top-level array.
	Key string
	// Err is set, and Raw nil, when the value was skipped.
	Err *Error
}

// Scanner reads JSON values from a stream. It is not safe for concurrent use.
type Scanner struct {
	r    io.Reader
	lim  Limits
	keys [][]byte // quoted member names whose array values are streamed

	buf  []byte
	pos  int   // next unread byte in buf
	end  int   // end of data in buf
	base int64 // input offset of buf[0]
	rerr error // read error or io.EOF, once seen

	// keep is the buf index from which bytes must stay buffered (the start of the
	// value being read, or of the top-level object being walked), or -1. When
	// keeping more would pass MaxSize, fill drops it and sets dropped.
	keep    int
	dropped bool
	mark    int // start of the value readValue is reading

	line      int64 // line of buf[pos]
	lineStart int64 // input offset where that line starts
	lineBusy  bool  // a non-space byte came before pos on this line

	stack  []frame
	obj    objState // the top-level object being walked, if stack[0] is one
	vstack []byte   // open brackets of the value being read
}

type frameKind uint8

const (
	inArray  frameKind = iota + 1 // streaming an array's elements
	inObject                      // walking a top-level object's members
)

type frame struct {
	kind  frameKind
	key   string // for arrays: the member that holds it
	index int64  // elements returned so far
}

type objState struct {
	start    int // buf index of '{' while kept
	line     int64
	indent   int64
	streamed bool   // a member's array was streamed: the object is not returned
	fail     *Error // why the object cannot be returned whole
}

// New returns a Scanner on r. Top-level arrays are always streamed; streamKeys names
// the members of top-level objects whose array values are streamed as well.
func New(r io.Reader, lim Limits, streamKeys ...string) *Scanner {
	s := &Scanner{lim: lim}
	if s.lim.MaxSize <= 0 {
		s.lim.MaxSize = DefaultLimits.MaxSize
	}
	if s.lim.MaxDepth <= 0 {
		s.lim.MaxDepth = DefaultLimits.MaxDepth
	}
	for _, k := range streamKeys {
		q, _ := json.Marshal(k)
		s.keys = append(s.keys, q)
	}
	s.Reset(r)
	return s
}

// Reset makes the scanner read from r, keeping its buffer, limits and keys.
func (s *Scanner) Reset(r io.Reader) {
	if s.buf == nil {
		s.buf = make([]byte, min(64<<10, s.lim.MaxSize+1))
	}
	s.r = r
	s.pos, s.end, s.base, s.rerr = 0, 0, 0, nil
	s.keep, s.dropped, s.mark = -1, false, 0
	s.line, s.lineStart, s.lineBusy = 1, 0, false
	s.stack = s.stack[:0]
	s.obj = objState{}
}

// Offset returns the number of input bytes consumed so far.
func (s *Scanner) Offset() int64 { return s.base + int64(s.pos) }

// ReadErr returns the error that ended reading, other than io.EOF.
func (s *Scanner) ReadErr() error {
	if s.rerr == io.EOF {
		return nil
	}
	return s.rerr
}

// fill reads more input after moving what must be kept to the front of the buffer,
// or growing it. Every buffer index the scanner holds is adjusted; callers holding
// their own subtract the returned shift. ok is false when no more input came.
func (s *Scanner) fill() (shift int, ok bool) {
	if s.rerr != nil {
		return 0, false
	}
	if s.keep >= 0 && s.end-s.keep >= s.lim.MaxSize {
		// Keeping more would pass the limit: give up the value, skip the rest.
		s.keep, s.dropped = -1, true
	}
	from := s.pos
	if s.keep >= 0 && s.keep < from {
		from = s.keep
	}
	if from > 0 {
		copy(s.buf, s.buf[from:s.end])
		s.end -= from
		s.pos -= from
		s.mark -= from
		if s.keep >= 0 {
			s.keep -= from
		}
		s.obj.start -= from
		s.base += int64(from)
		shift = from
	}
	if s.end == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
			return shift, n > 0
		}
		if n > 0 {
			return shift, true
		}
	}
	s.rerr = io.ErrNoProgress
	return shift, false
}

// peek skips white space (and a byte order mark at the start of a line) and returns
// the next byte without consuming it; ok is false at the end of input.
func (s *Scanner) peek() (c byte, ok bool) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			switch c {
			case ' ', '\t', '\r':
				s.pos++
				continue
			case '\n':
				s.pos++
				s.newline(s.pos)
				continue
			case 0xEF:
				if !s.lineBusy {
					if s.end-s.pos < 3 && s.rerr == nil {
						break // read more to see the whole mark
					}
					if bytes.HasPrefix(s.buf[s.pos:s.end], bom) {
						s.pos += len(bom)
						continue
					}
				}
				return c, true
			default:
				return c, true
			}
			break
		}
		if _, ok := s.fill(); !ok && s.pos >= s.end {
			return 0, false
		}
	}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func (s *Scanner) newline(next int) {
	s.line++
	s.lineStart = s.base + int64(next)
	s.lineBusy = false
}

// column returns the column of buf index i, or -1 when a non-space byte came
// before it on its line.
func (s *Scanner) column(i int) int64 {
	if s.lineBusy {
		return -1
	}
	return s.base + int64(i) - s.lineStart
}

func (s *Scanner) errAt(kind ErrKind, i int, format string, args ...any) *Error {
	return &Error{Kind: kind, Offset: s.base + int64(i), Msg: fmt.Sprintf(format, args...)}
}

// Next returns the next item. At the end of input it returns io.EOF; a read error
// is returned as is (the items before it have been returned). Values that cannot be
// read come back as items with Err set, never as an error.
func (s *Scanner) Next() (Item, error) {
	for {
		if len(s.stack) > 0 {
			it, done, err := s.nextInFrame()
			if err != nil || done {
				return it, err
			}
			continue
		}
		c, ok := s.peek()
		if !ok {
			if err := s.ReadErr(); err != nil {
				return Item{}, err
			}
			return Item{}, io.EOF
		}
		switch c {
		case ',', ']', '}':
			// Separators between top-level values, and closers left over after a
			// resynchronisation, carry nothing.
			s.pos++
			s.lineBusy = true
			continue
		case '[':
			s.pos++
			s.lineBusy = true
			s.stack = append(s.stack, frame{kind: inArray})
			continue
		case '{':
			if len(s.keys) > 0 {
				s.startObject()
				continue
			}
		}
		line, col := s.line, s.column(s.pos)
		raw, err := s.readValue(0)
		if err != nil {
			s.recover(err, col)
			return Item{Line: line, Err: err}, nil
		}
		return Item{Raw: raw, Line: line}, nil
	}
}

// nextInFrame advances within the innermost open array or object; done is true
// when it returns an item (or an error).
func (s *Scanner) nextInFrame() (it Item, done bool, err error) {
	f := &s.stack[len(s.stack)-1]
	c, ok := s.peek()
	if !ok {
		if rerr := s.ReadErr(); rerr != nil {
			return Item{}, true, rerr
		}
		line := s.line
		if s.stack[0].kind == inObject {
			line = s.obj.line
		}
		e := s.errAt(ErrTruncated, s.pos, "input ends inside an open array or object")
		s.popAll()
		return Item{Line: line, Err: e}, true, nil
	}
	if f.kind == inObject {
		return s.nextMember(c)
	}
	switch c {
	case ']':
		s.pos++
		s.lineBusy = true
		s.stack = s.stack[:len(s.stack)-1]
		return Item{}, false, nil
	case ',':
		s.pos++
		s.lineBusy = true
		return Item{}, false, nil
	}
	line, col := s.line, s.column(s.pos)
	f.index++
	it = Item{Line: line, Index: f.index, Key: f.key}
	raw, verr := s.readValue(0)
	if verr != nil {
		it.Err = verr
		s.recover(verr, col)
		return it, true, nil
	}
	it.Raw = raw
	return it, true, nil
}

// startObject begins the member walk of a top-level object, keeping its bytes in
// case it turns out to have no streamed member and must be returned whole.
func (s *Scanner) startObject() {
	s.obj = objState{start: s.pos, line: s.line, indent: s.column(s.pos)}
	s.keep, s.dropped = s.pos, false
	s.pos++
	s.lineBusy = true
	s.stack = append(s.stack, frame{kind: inObject})
}

// nextMember reads one member of the top-level object being walked; c is the next
// byte.
func (s *Scanner) nextMember(c byte) (it Item, done bool, err error) {
	if s.dropped && !s.obj.streamed && s.obj.fail == nil {
		s.obj.fail = s.errAt(ErrTooLarge, s.pos, "object longer than %d bytes", s.lim.MaxSize)
	}
	switch c {
	case '}':
		s.pos++
		s.lineBusy = true
		s.stack = s.stack[:len(s.stack)-1]
		o := s.obj
		s.obj = objState{}
		kept := s.keep >= 0
		s.keep, s.dropped = -1, false
		if o.streamed {
			return Item{}, false, nil
		}
		if o.fail != nil {
			return Item{Line: o.line, Err: o.fail}, true, nil
		}
		if !kept || s.pos-o.start > s.lim.MaxSize {
			return Item{Line: o.line, Err: s.errAt(ErrTooLarge, s.pos, "object longer than %d bytes", s.lim.MaxSize)}, true, nil
		}
		return Item{Raw: s.buf[o.start:s.pos], Line: o.line}, true, nil
	case ',':
		s.pos++
		s.lineBusy = true
		return Item{}, false, nil
	case '"':
	case '{', '[':
		if s.line > s.obj.line && s.column(s.pos) == s.obj.indent {
			// A value starts a later line where a member name was expected: the
			// object's line was cut short and the next record begins here.
			return s.objectFailed(s.errAt(ErrTruncated, s.pos, "object ends early: a new value starts at line %d", s.line), false)
		}
		fallthrough
	default:
		return s.objectFailed(s.errAt(ErrSyntax, s.pos, "expected a member name, found %s", quoteByte(c)), true)
	}
	if _, verr := s.readValue(1); verr != nil {
		return s.objectFailed(verr, true)
	}
	// Decide now: the key's bytes may move once peek reads more input.
	key := s.buf[s.mark:s.pos]
	var stream string
	streamed := s.isStreamKey(key)
	if streamed {
		stream = s.keyName(key)
	}
	c, ok := s.peek()
	if !ok {
		return Item{}, false, nil // nextInFrame reports the truncation
	}
	if c != ':' {
		return s.objectFailed(s.errAt(ErrSyntax, s.pos, "expected ':' after a member name, found %s", quoteByte(c)), true)
	}
	s.pos++
	c, ok = s.peek()
	if !ok {
		return Item{}, false, nil
	}
	if c == '[' && streamed {
		s.obj.streamed = true
		s.keep, s.dropped = -1, false
		s.pos++
		s.lineBusy = true
		s.stack = append(s.stack, frame{kind: inArray, key: stream})
		return Item{}, false, nil
	}
	if _, verr := s.readValue(1); verr != nil {
		switch verr.Kind {
		case ErrTooLarge, ErrTooDeep:
			// Still in step with the input: go on to the object's end, which
			// may yet hold a streamed member.
			if s.obj.fail == nil {
				s.obj.fail = verr
			}
			if !s.obj.streamed {
				s.keep = -1
			}
			return Item{}, false, nil
		}
		return s.objectFailed(verr, true)
	}
	return Item{}, false, nil
}

func (s *Scanner) isStreamKey(quoted []byte) bool {
	for _, k := range s.keys {
		if bytes.Equal(k, quoted) {
			return true
		}
	}
	if bytes.IndexByte(quoted, '\\') >= 0 {
		var name string
		if json.Unmarshal(quoted, &name) == nil {
			for _, k := range s.keys {
				if string(k[1:len(k)-1]) == name {
					return true
				}
			}
		}
	}
	return false
}

func (s *Scanner) keyName(quoted []byte) string {
	var name string
	if json.Unmarshal(quoted, &name) != nil {
		return string(quoted)
	}
	return name
}

// objectFailed abandons the top-level object being walked after an error, and
// resynchronises unless skip is false (the error is at a good value's start).
func (s *Scanner) objectFailed(e *Error, skip bool) (Item, bool, error) {
	line, col := s.obj.line, s.obj.indent
	s.popAll()
	if skip {
		s.recover(e, col)
	}
	return Item{Line: line, Err: e}, true, nil
}

func (s *Scanner) popAll() {
	s.stack = s.stack[:0]
	s.obj = objState{}
	s.keep, s.dropped = -1, false
}

// recover puts the scanner back in step after the value that started at column
// col failed with e. Too large and too deep values were read to their end, so
// nothing is needed. Otherwise the scanner skips to the next line that starts a
// value at the same column (or closes the array being streamed); a value that did
// not start its line abandons every open array and object and looks for a line
// starting at column 0.
func (s *Scanner) recover(e *Error, col int64) {
	if e.Kind == ErrTooLarge || e.Kind == ErrTooDeep {
		return
	}
	if col < 0 {
		s.popAll()
		col = 0
	}
	s.keep, s.dropped = -1, false
	for {
		// Skip to the end of the current line.
		for {
			if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
				s.pos += i + 1
				s.newline(s.pos)
				break
			}
			s.pos = s.end
			if _, ok := s.fill(); !ok {
				s.popAll()
				return
			}
		}
		// Look at how the next line starts.
		n := int64(0)
		for {
			if s.pos >= s.end {
				if _, ok := s.fill(); !ok {
					s.popAll()
					return
				}
				continue
			}
			c := s.buf[s.pos]
			if c == ' ' || c == '\t' {
				s.pos++
				n++
				continue
			}
			if n == col && (c == '{' || c == '[') {
				return
			}
			if c == ']' && n < col && len(s.stack) > 0 && s.stack[len(s.stack)-1].kind == inArray {
				return
			}
			break
		}
	}
}

// readValue consumes one value starting at buf[pos] (not space). depth0 is the
// nesting it starts at. The value's text stays valid until the next fill.
func (s *Scanner) readValue(depth0 int) ([]byte, *Error) {
	own := s.keep < 0
	if own {
		s.keep, s.dropped = s.pos, false
	}
	s.mark = s.pos
	var raw []byte
	end, err := s.scanValue(depth0)
	switch {
	case err != nil:
	case s.dropped || s.keep < 0 || end-s.mark > s.lim.MaxSize:
		err = s.errAt(ErrTooLarge, s.pos, "value longer than %d bytes", s.lim.MaxSize)
	default:
		raw = s.buf[s.mark:end]
	}
	if own {
		s.keep, s.dropped = -1, false
	}
	s.lineBusy = true
	return raw, err
}

// byteClass tells scanValue what a byte outside strings is.
var byteClass = func() (t [256]uint8) {
	for _, c := range []byte("0123456789-+.eEtrufalsn") {
		t[c] = clsScalar
	}
	t[' '], t['\t'], t['\r'] = clsSpace, clsSpace, clsSpace
	t['\n'] = clsNewline
	t[','], t[':'] = clsPunct, clsPunct
	t['"'] = clsQuote
	t['{'], t['['] = clsOpen, clsOpen
	t['}'], t[']'] = clsClose, clsClose
	return t
}()

const (
	clsBad uint8 = iota
	clsScalar
	clsSpace
	clsNewline
	clsPunct
	clsQuote
	clsOpen
	clsClose
)

// scanValue finds the end of the value at buf[pos] and leaves pos there; see
// readValue.
func (s *Scanner) scanValue(depth0 int) (end int, err *Error) {
	i := s.pos
	first := s.buf[i]
	switch byteClass[first] {
	case clsScalar:
		if !(first == '-' || first >= '0' && first <= '9' || first == 't' || first == 'f' || first == 'n') {
			return 0, s.errAt(ErrSyntax, i, "a value cannot start with %s", quoteByte(first))
		}
		for {
			for i < s.end && byteClass[s.buf[i]] == clsScalar {
				i++
			}
			if i < s.end {
				break
			}
			s.pos = i
			shift, ok := s.fill()
			i -= shift
			if !ok {
				break // a number or literal may end the input
			}
		}
		s.pos = i
		if i < s.end && byteClass[s.buf[i]] == clsBad {
			return 0, s.errAt(ErrSyntax, i, "unexpected %s", quoteByte(s.buf[i]))
		}
		return i, nil
	case clsQuote, clsOpen:
	default:
		return 0, s.errAt(ErrSyntax, i, "a value cannot start with %s", quoteByte(first))
	}

	depth := depth0
	tooDeep := false
	s.vstack = s.vstack[:0]
	inStr := false
	firstLine := true    // no newline met yet
	lineContent := false // non-space after the opening bracket on the first line
	if first == '"' {
		inStr = true
		i++
	}
	for {
		if i >= s.end {
			s.pos = i
			shift, ok := s.fill()
			i -= shift
			if !ok {
				s.pos = i
				return 0, s.errAt(ErrTruncated, i, "input ends inside a value that starts at line %d", s.line)
			}
			continue
		}
		if inStr {
			// Fast path through plain string bytes.
			i += PlainRun(s.buf[i:s.end])
			if i >= s.end {
				continue
			}
			c := s.buf[i]
			switch {
			case c == '"':
				inStr = false
				i++
				if depth == depth0 {
					s.pos = i
					return i, nil
				}
				lineContent = lineContent || firstLine
			case c == '\\':
				if i+1 >= s.end {
					s.pos = i
					shift, ok := s.fill()
					i -= shift
					if !ok {
						s.pos = i
						return 0, s.errAt(ErrTruncated, i, "input ends inside a string")
					}
					continue
				}
				i += 2
			case c == '\n':
				s.pos = i
				return 0, s.errAt(ErrTruncated, i, "line ends inside a string")
			default:
				s.pos = i
				return 0, s.errAt(ErrSyntax, i, "control character %s in a string", quoteByte(c))
			}
			continue
		}
		c := s.buf[i]
		switch byteClass[c] {
		case clsSpace:
			i++
		case clsNewline:
			if firstLine {
				firstLine = false
				if lineContent {
					// A minified value (a JSON line) never spans lines. If the next
					// line starts a new value at column 0, this one was cut short.
					if i+1 >= s.end {
						s.pos = i
						shift, _ := s.fill()
						i -= shift
					}
					if i+1 < s.end && (s.buf[i+1] == '{' || s.buf[i+1] == '[') {
						s.pos = i
						return 0, s.errAt(ErrTruncated, i, "line ends inside a value")
					}
				}
			}
			i++
			s.newline(i)
		case clsScalar, clsPunct:
			lineContent = lineContent || firstLine
			i++
		case clsQuote:
			inStr = true
			lineContent = lineContent || firstLine
			i++
		case clsOpen:
			if depth > depth0 {
				lineContent = lineContent || firstLine
			}
			depth++
			if depth <= s.lim.MaxDepth {
				s.vstack = append(s.vstack, c)
			}
			i++
		case clsClose:
			if depth <= depth0 {
				s.pos = i
				return 0, s.errAt(ErrSyntax, i, "unexpected %s", quoteByte(c))
			}
			if depth <= s.lim.MaxDepth {
				open := s.vstack[len(s.vstack)-1]
				if (open == '{') != (c == '}') {
					s.pos = i
					return 0, s.errAt(ErrSyntax, i, "%s closes %s", quoteByte(c), quoteByte(open))
				}
				s.vstack = s.vstack[:len(s.vstack)-1]
			}
			depth--
			i++
			lineContent = lineContent || firstLine
			if depth == depth0 {
				s.pos = i
				if tooDeep {
					return 0, s.errAt(ErrTooDeep, i, "nested deeper than %d", s.lim.MaxDepth)
				}
				return i, nil
			}
		default:
			s.pos = i
			return 0, s.errAt(ErrSyntax, i, "unexpected %s", quoteByte(c))
		}
		if depth > s.lim.MaxDepth && !tooDeep {
			// Too deep: no need to keep it any more; read on to its end.
			tooDeep = true
			s.keep = -1
		}
	}
}

// quoteByte names a byte for an error message.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
