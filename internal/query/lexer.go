package query

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lexer turns query text into tokens on demand. It is a small value: the
// parser peeks by copying it.
//
// A "/" is always lexed as tokSlash. Where the grammar expects a regex (after
// like, not like, =~ and in parse) the parser asks for regex, which re-reads
// the text from that slash as /…/. Everywhere else "/" is division.
type lexer struct {
	src  string
	pos  int
	prev tokenKind // kind of the last token returned, for the rule after "."
}

// next returns the next token, skipping white space and # comments. At the
// end it returns tokEOF with an empty span at len(src); on a lexical error it
// returns tokError and moves to the end.
func (l *lexer) next() token {
	t := l.scan()
	l.prev = t.kind
	if t.kind == tokError {
		l.pos = len(l.src)
	}
	return t
}

func (l *lexer) scan() token {
	l.skipSpace()
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, span: Span{start, start}}
	}
	c := l.src[start]
	r, size := rune(c), 1
	if c >= utf8.RuneSelf {
		r, size = utf8.DecodeRuneInString(l.src[start:])
	}
	switch {
	case l.prev == tokDot && (isNameRune(r) || c == '`'):
		// The name after "." in f(x).name or list[0].0 may begin with a digit.
		return l.path(start, true)
	case c == '`' || c == '@' || isLetter(r):
		return l.path(start, false)
	case c >= '0' && c <= '9':
		return l.number(start)
	case c == '"' || c == '\'' || typographicQuote(r) != 0:
		return l.str(start, r, size)
	}
	one := func(k tokenKind) token { return l.op(start, 1, k) }
	two := func(k tokenKind) token { return l.op(start, 2, k) }
	peek := byte(0)
	if start+1 < len(l.src) {
		peek = l.src[start+1]
	}
	switch c {
	case '|':
		return one(tokPipe)
	case ',':
		return one(tokComma)
	case '(':
		return one(tokLParen)
	case ')':
		return one(tokRParen)
	case '[':
		return one(tokLBracket)
	case ']':
		return one(tokRBracket)
	case '+':
		return one(tokPlus)
	case '-':
		return one(tokMinus)
	case '*':
		return one(tokStar)
	case '/':
		return one(tokSlash)
	case '%':
		return one(tokPercent)
	case '^':
		return one(tokCaret)
	case '.':
		if peek >= '0' && peek <= '9' && l.prev != tokRParen && l.prev != tokRBracket {
			return l.errorf(Span{start, start + 1}, nil, "a number must start with a digit: write 0%s", l.numberText(start+1))
		}
		return one(tokDot)
	case '=':
		switch peek {
		case '~':
			return two(tokMatch)
		case '=':
			return l.errorf(Span{start, start + 2}, []string{`"="`}, `unexpected "=="; the equality operator is "="`)
		}
		return one(tokEq)
	case '!':
		if peek == '=' {
			return two(tokNe)
		}
		return l.errorf(Span{start, start + 1}, []string{`"!="`, `"not"`}, `unexpected "!"; use "not" to negate and "!=" for inequality`)
	case '<':
		switch peek {
		case '=':
			return two(tokLe)
		case '>':
			return l.errorf(Span{start, start + 2}, []string{`"!="`}, `unexpected "<>"; the inequality operator is "!="`)
		}
		return one(tokLt)
	case '>':
		if peek == '=' {
			return two(tokGe)
		}
		return one(tokGt)
	case '&':
		return l.errorf(Span{start, start + 1}, []string{`"and"`}, `unexpected "&"; use "and"`)
	}
	return l.errorf(Span{start, start + size}, nil, "unexpected character %s", strconv.QuoteRune(r))
}

func (l *lexer) op(start, n int, k tokenKind) token {
	l.pos = start + n
	return token{kind: k, span: Span{start, start + n}, text: l.src[start : start+n]}
}

func (l *lexer) errorf(span Span, expected []string, format string, args ...any) token {
	e := newError(l.src, span, expected, format, args...)
	return token{kind: tokError, span: span, text: l.src[span.Start:span.End], err: e}
}

// skipSpace skips white space (including the non-breaking and zero-width
// spaces that pasting from web pages brings along) and # comments.
func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case c == '#':
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			if !unicode.IsSpace(r) && r != '\u200b' && r != '\ufeff' {
				return
			}
			l.pos += size
		default:
			return
		}
	}
}

// isLetter reports whether r may start a plain name.
func isLetter(r rune) bool {
	return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || (r >= utf8.RuneSelf && unicode.IsLetter(r))
}

// isNameRune reports whether r may continue a plain name segment.
func isNameRune(r rune) bool {
	return isLetter(r) || ('0' <= r && r <= '9') || (r >= utf8.RuneSelf && unicode.IsDigit(r))
}

// runeAt decodes the rune at byte offset i of s (RuneError, 0 at the end).
func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return utf8.RuneError, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// path lexes a field name: segments separated by ".", each either plain
// (letters, digits, _; the first may start with one or more @ and, unless
// digitFirst, not with a digit) or backquoted (any characters but ` and a
// line break).
func (l *lexer) path(start int, digitFirst bool) token {
	var parts []string
	quoted := false
	i := start
	for {
		segStart := i
		if i < len(l.src) && l.src[i] == '`' {
			j := strings.IndexAny(l.src[i+1:], "`\n")
			if j < 0 || l.src[i+1+j] == '\n' {
				return l.errorf(Span{i, i + 1}, nil, "unterminated backquoted name")
			}
			if j == 0 {
				return l.errorf(Span{i, i + 2}, nil, "empty backquoted name")
			}
			parts = append(parts, l.src[i+1:i+1+j])
			quoted = true
			i += j + 2
		} else {
			if len(parts) == 0 && !digitFirst {
				for i < len(l.src) && l.src[i] == '@' {
					i++
				}
			}
			nameStart := i
			for {
				r, n := runeAt(l.src, i)
				if n == 0 || !isNameRune(r) {
					break
				}
				i += n
			}
			if i == nameStart {
				return l.errorf(Span{segStart, max(i, segStart+1)}, []string{"name"}, "expected a name after %q", l.src[segStart:i])
			}
			parts = append(parts, l.src[segStart:i])
		}
		if i < len(l.src) && l.src[i] == '.' {
			r, _ := runeAt(l.src, i+1)
			if r == '`' || isNameRune(r) {
				i++
				continue
			}
			return l.errorf(Span{start, i + 1}, []string{"name"}, "field name %q ends with %q; expected a name after it", l.src[start:i+1], ".")
		}
		break
	}
	t := token{kind: tokIdent, span: Span{start, i}, text: l.src[start:i], parts: parts, quoted: quoted}
	l.pos = i
	return t
}

// number lexes a number (digits, an optional fraction and exponent) or a
// time period (a whole number directly followed by a unit).
func (l *lexer) number(start int) token {
	s := l.src
	i := start
	digits := func() {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	digits()
	whole := true
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		digits()
		whole = false
		if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
			// 10.0.0.1: a dotted value written without quotes.
			for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
				i++
			}
			if i+1 < len(s) && s[i] == '/' && s[i+1] >= '0' && s[i+1] <= '9' {
				i++ // a CIDR suffix
				digits()
			}
			text := s[start:i]
			return l.errorf(Span{start, i}, []string{"string"}, "invalid number %q; quote addresses and other dotted values: \"%s\"", text, text)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			i = j
			digits()
			whole = false
		}
	}
	if r, _ := runeAt(s, i); isLetter(r) {
		unitStart := i
		for {
			r, n := runeAt(s, i)
			if n == 0 || !isNameRune(r) {
				break
			}
			i += n
		}
		text := s[start:i]
		unitText := s[unitStart:i]
		unit, ok := durationUnits[strings.ToLower(unitText)]
		switch {
		case !ok:
			return l.errorf(Span{start, i}, unitList, "invalid time period %q: unknown unit %q; expected one of %s", text, unitText, strings.Join(unitList, ", "))
		case !whole:
			return l.errorf(Span{start, i}, nil, "invalid time period %q: the amount must be a whole number", text)
		}
		n, err := strconv.ParseInt(s[start:unitStart], 10, 64)
		if err != nil {
			return l.errorf(Span{start, i}, nil, "invalid time period %q: amount out of range", text)
		}
		l.pos = i
		return token{kind: tokDuration, span: Span{start, i}, text: text, amount: n, unit: unit}
	}
	l.pos = i
	return token{kind: tokNumber, span: Span{start, i}, text: s[start:i]}
}

// numberText returns the digits starting at i, for an error message.
func (l *lexer) numberText(i int) string {
	j := i
	for j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
		j++
	}
	return "." + l.src[i:j]
}

// durationUnits maps every accepted unit spelling (lower-cased) to its unit.
// Multi-letter spellings also take a plural s (mins, hrs, days).
var durationUnits = func() map[string]DurationUnit {
	m := map[string]DurationUnit{
		"ms": UnitMillisecond, "s": UnitSecond, "m": UnitMinute, "h": UnitHour,
		"d": UnitDay, "w": UnitWeek, "mo": UnitMonth, "q": UnitQuarter, "y": UnitYear,
	}
	for name, u := range map[string]DurationUnit{
		"msec": UnitMillisecond, "millisecond": UnitMillisecond,
		"sec": UnitSecond, "second": UnitSecond,
		"min": UnitMinute, "minute": UnitMinute,
		"hr": UnitHour, "hour": UnitHour,
		"day": UnitDay, "week": UnitWeek,
		"mon": UnitMonth, "month": UnitMonth,
		"qtr": UnitQuarter, "quarter": UnitQuarter,
		"yr": UnitYear, "year": UnitYear,
	} {
		m[name] = u
		m[name+"s"] = u
	}
	return m
}()

// unitList is the canonical unit spellings, for error messages.
var unitList = []string{"ms", "s", "m", "h", "d", "w", "mo", "q", "y"}

// Typographic quotes are read as ASCII quotes, with a warning.
const (
	leftSingle  = '\u2018' // ‘
	rightSingle = '\u2019' // ’
	leftDouble  = '\u201c' // “
	rightDouble = '\u201d' // ”
	prime       = '\u2032' // ′
	doublePrime = '\u2033' // ″
)

// typographicQuote returns the ASCII quote that r stands for, or 0.
func typographicQuote(r rune) byte {
	switch r {
	case leftSingle, rightSingle, prime:
		return '\''
	case leftDouble, rightDouble, doublePrime:
		return '"'
	}
	return 0
}

// closes reports whether r ends a string opened with open. A string opened
// with an ASCII quote ends only at the same ASCII quote, so valid queries keep
// their meaning ('it’s' is one string). A string opened with a typographic
// quote ends at any quote of its kind, typographic or not.
func closes(open, r rune) bool {
	switch {
	case open == '\'' || open == '"':
		return r == open
	case r == '\'' || r == '"':
		return byte(r) == typographicQuote(open)
	}
	return typographicQuote(r) != 0 && typographicQuote(r) == typographicQuote(open)
}

// str lexes a string literal whose opening quote q (size bytes) is at start.
// Escapes: \\ \" \' \n \t \r, and a backslash before any closing quote of
// the string gives that quote; any other backslash is kept as written, so
// patterns like "\d" survive.
func (l *lexer) str(start int, q rune, size int) token {
	s := l.src
	var b strings.Builder
	i := start + size
	for {
		if i >= len(s) {
			return l.errorf(Span{start, len(s)}, nil, "unterminated string")
		}
		r, n := runeAt(s, i)
		if closes(q, r) {
			i += n
			break
		}
		if r == '\\' && i+1 < len(s) {
			e, en := runeAt(s, i+1)
			switch {
			case closes(q, e) || e == '\\' || e == '"' || e == '\'':
				b.WriteRune(e)
			case e == 'n':
				b.WriteByte('\n')
			case e == 't':
				b.WriteByte('\t')
			case e == 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte('\\')
				b.WriteString(s[i+1 : i+1+en])
			}
			i += 1 + en
			continue
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	l.pos = i
	t := token{kind: tokString, span: Span{start, i}, text: s[start:i], val: b.String()}
	if ascii := typographicQuote(q); ascii != 0 {
		t.warn = newWarning(Span{start, start + size}, "typographic quote %c treated as %c", q, ascii)
	}
	return t
}

// regex re-reads the text from the "/" at start as a regex literal /…/ and
// returns it as the next token. "\" escapes the next character, and a "/"
// inside a [...] class does not end the regex. A regex cannot span lines.
func (l *lexer) regex(start int) token {
	t := l.scanRegex(start)
	l.prev = t.kind
	if t.kind == tokError {
		l.pos = len(l.src)
	}
	return t
}

func (l *lexer) scanRegex(start int) token {
	s := l.src
	i := start + 1
	inClass := false
	for {
		if i >= len(s) || s[i] == '\n' {
			return l.errorf(Span{start, i}, nil, "unterminated regex; a regex ends with / on the same line")
		}
		switch c := s[i]; {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] == '\n' {
				i++
				continue
			}
			_, n := runeAt(s, i+1)
			i += 1 + n
			continue
		case c == '[' && !inClass:
			inClass = true
			i++
			if i < len(s) && s[i] == '^' {
				i++
			}
			if i < len(s) && s[i] == ']' {
				i++ // a leading ] is literal
			}
			continue
		case c == ']' && inClass:
			inClass = false
		case c == '/' && !inClass:
			end := i + 1
			t := token{kind: tokRegex, span: Span{start, end}, text: s[start:end], val: s[start+1 : i]}
			// Trailing flags such as /abc/i are not part of the language.
			j := end
			for j < len(s) && strings.IndexByte("gimsuxy", s[j]) >= 0 {
				j++
			}
			if r, _ := runeAt(s, j); j > end && !isNameRune(r) {
				return l.errorf(Span{end, j}, nil, "regex flags after the closing / are not supported; write them inline, e.g. /(?i)abc/")
			}
			l.pos = end
			return t
		}
		i++
	}
}
