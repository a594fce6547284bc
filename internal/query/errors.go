package query

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a syntax error in a query. Parse and ParseExpr stop at the first
// error and return it as a *Error.
//
// Error() gives "line:col: message" (the CLI form); Render adds the query
// line and a caret; MarshalJSON gives the API form.
type Error struct {
	Span Span // the bytes the error is about; empty at the end of the query
	// Line and Column locate Span.Start, both from 1. Column counts
	// characters (runes), not bytes, so it matches what an editor shows.
	Line, Column int
	Msg          string // the human message, complete in itself
	// Expected lists what would have been valid at Span.Start, when the
	// parser knows, for an editor to offer: a quoted token (`"|"`, `")"`,
	// `"as"`), a command name (fields, filter, …), a time unit (ms, s, …) or
	// a category (field, string, number, regex, name, function call, an
	// operator, end of query). Msg already says the same in words.
	Expected []string
}

// Warning is a problem the parser accepted, such as a typographic quote read
// as an ASCII quote or a deprecated command name. It has the same position
// fields as Error.
type Warning struct {
	Span         Span
	Line, Column int
	Msg          string
}

// newError returns an Error at span in src.
func newError(src string, span Span, expected []string, format string, args ...any) *Error {
	line, col := Position(src, span.Start)
	return &Error{Span: span, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Expected: expected}
}

// newWarning returns a Warning at span; the parser fills in Line and Column
// for all warnings at once.
func newWarning(span Span, format string, args ...any) *Warning {
	return &Warning{Span: span, Msg: fmt.Sprintf(format, args...)}
}

// Error returns "line:col: message".
func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// String returns "line:col: message".
func (w Warning) String() string { return fmt.Sprintf("%d:%d: %s", w.Line, w.Column, w.Msg) }

// Render returns the error for a person reading a terminal: "line:col:
// message", then the query line the error is on, then a caret under the
// column followed by tildes under the rest of the span on that line:
//
//	1:8: unterminated string
//	filter "abc
//	       ^~~~
//
// src must be the text that was parsed.
func (e *Error) Render(src string) string { return render(src, e.Span, e.Error()) }

// Render returns the warning in the form of Error.Render.
func (w Warning) Render(src string) string { return render(src, w.Span, w.String()) }

// jsonPos is the API form of errors and warnings.
type jsonPos struct {
	Line      int       `json:"line"`
	Column    int       `json:"column"`
	Offset    int       `json:"offset"`
	EndOffset int       `json:"endOffset"`
	Message   string    `json:"message"`
	Expected  *[]string `json:"expected,omitempty"`
}

// MarshalJSON returns {"line", "column", "offset", "endOffset", "message",
// "expected"}. Offsets are in bytes; "expected" is always an array.
func (e *Error) MarshalJSON() ([]byte, error) {
	exp := e.Expected
	if exp == nil {
		exp = []string{}
	}
	return json.Marshal(jsonPos{e.Line, e.Column, e.Span.Start, e.Span.End, e.Msg, &exp})
}

// MarshalJSON returns {"line", "column", "offset", "endOffset", "message"}.
func (w Warning) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonPos{w.Line, w.Column, w.Span.Start, w.Span.End, w.Msg, nil})
}

// Position returns the 1-based line and column of byte offset off in src.
// Columns count characters (an invalid UTF-8 byte counts as one). An offset
// past the end is clamped to the end, which is one column past the last
// character.
func Position(src string, off int) (line, col int) {
	off = max(0, min(off, len(src)))
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	line = strings.Count(src[:lineStart], "\n") + 1
	col = utf8.RuneCountInString(src[lineStart:off]) + 1
	return line, col
}

// render formats head, the source line holding span.Start and a caret line.
func render(src string, span Span, head string) string {
	start := max(0, min(span.Start, len(src)))
	end := max(start, min(span.End, len(src)))
	lineStart := strings.LastIndexByte(src[:start], '\n') + 1
	lineEnd := len(src)
	if i := strings.IndexByte(src[start:], '\n'); i >= 0 {
		lineEnd = start + i
	}
	line := strings.TrimSuffix(src[lineStart:lineEnd], "\r")
	end = min(end, lineStart+len(line))

	var b strings.Builder
	b.WriteString(head)
	b.WriteByte('\n')
	b.WriteString(line)
	b.WriteByte('\n')
	for _, r := range src[lineStart:start] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	if n := utf8.RuneCountInString(src[start:max(start, end)]); n > 1 {
		b.WriteString(strings.Repeat("~", n-1))
	}
	return b.String()
}
