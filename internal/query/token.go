package query

import (
	"strconv"
	"strings"
)

// tokenKind classifies a token.
type tokenKind uint8

const (
	tokEOF      tokenKind = iota
	tokError              // a lexical error; token.err says what
	tokIdent              // a name or word: a, @timestamp, userIdentity.arn, `foo-bar`, a.`b.c`
	tokString             // '…' or "…" (or typographic quotes)
	tokNumber             // 17, 0.75, 1e6
	tokDuration           // 5m, 1hr, 30mins
	tokRegex              // /…/; only produced by lexer.regex, on the parser's request
	tokPipe               // |
	tokComma              // ,
	tokLParen             // (
	tokRParen             // )
	tokLBracket           // [
	tokRBracket           // ]
	tokDot                // .
	tokPlus               // +
	tokMinus              // -
	tokStar               // *
	tokSlash              // /
	tokPercent            // %
	tokCaret              // ^
	tokEq                 // =
	tokNe                 // !=
	tokLt                 // <
	tokLe                 // <=
	tokGt                 // >
	tokGe                 // >=
	tokMatch              // =~
)

// token is one lexical unit with its byte span in the query.
type token struct {
	kind tokenKind
	span Span
	text string // the source text src[span.Start:span.End]

	val    string       // tokString: decoded value; tokRegex: the pattern between the slashes
	parts  []string     // tokIdent: path segments, backquotes removed
	quoted bool         // tokIdent: at least one segment was backquoted
	amount int64        // tokDuration
	unit   DurationUnit // tokDuration
	warn   *Warning     // set on a string written with typographic quotes
	err    *Error       // tokError
}

// reserved lists the keywords that can never be an unquoted field name. The
// other words with a meaning (command names, function names, any, multi,
// logfmt, csv) are only recognised where they are expected.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "like": true, "in": true,
	"as": true, "by": true, "asc": true, "desc": true,
}

// word returns the lower-cased word if the token is an unquoted name of one
// segment, such as a keyword or a command or function name, and "" otherwise.
func (t token) word() string {
	if t.kind != tokIdent || t.quoted || len(t.parts) != 1 {
		return ""
	}
	return strings.ToLower(t.parts[0])
}

// is reports whether the token is the (case-insensitive) word w.
func (t token) is(w string) bool {
	return t.kind == tokIdent && !t.quoted && len(t.parts) == 1 && strings.EqualFold(t.parts[0], w)
}

// isReserved reports whether the token is a reserved keyword.
func (t token) isReserved() bool { return reserved[t.word()] }

// describe names the token for an error message: `"srcAddr"`, `end of query`.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokString:
		return "string " + clip(t.text)
	case tokNumber:
		return "number " + t.text
	case tokDuration:
		return "time period " + t.text
	case tokRegex:
		return "regex " + clip(t.text)
	}
	return strconv.Quote(clip(t.text))
}

// clip shortens s for an error message and writes line breaks and tabs as
// escapes, so that a message stays on one line.
func clip(s string) string {
	const maxLen = 40
	n := 0
	for i := range s {
		if n == maxLen-3 && len(s) > i+3 {
			s = s[:i] + "..."
			break
		}
		n++
	}
	return oneLine.Replace(s)
}

var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)
