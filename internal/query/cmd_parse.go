package query

import (
	"regexp/syntax"
	"strconv"
	"strings"
)

// ParseMode says how a parse command extracts fields.
type ParseMode uint8

// The parse modes.
const (
	// ParseGlob: a string pattern whose * placeholders become the names after
	// as, in order. The rest of the pattern is literal text; the match is not
	// anchored.
	ParseGlob ParseMode = iota + 1
	// ParseRegex: a regex whose named groups (?<name>…) or (?P<name>…) become
	// fields, or whose groups are named by an as list.
	ParseRegex
	// ParseLogfmt: "parse logfmt as m" makes a map of key=value pairs.
	ParseLogfmt
	// ParseCSV: "parse csv as a, b, c" splits comma-separated values.
	ParseCSV
)

// String returns the mode's name.
func (m ParseMode) String() string {
	switch m {
	case ParseGlob:
		return "glob"
	case ParseRegex:
		return "regex"
	case ParseLogfmt:
		return "logfmt"
	case ParseCSV:
		return "csv"
	}
	return "?"
}

// ParseCmd is the parse command. It adds fields extracted from Source (from
// @message when Source is nil) and never drops rows: events that do not
// match pass through without the new fields.
//
//	parse @message "user=*, method:*, latency := *" as @user, @method, @latency
//	parse @message /(?<user>\S+) (?<method>\S+)/
//	parse /(\d+\.\d+\.\d+\.\d+)/ as ip multi
//	parse @message logfmt as lf
type ParseCmd struct {
	Source  *FieldRef // nil: @message
	Mode    ParseMode
	Pattern Expr     // *StringLit for ParseGlob, *RegexLit for ParseRegex, nil otherwise
	As      []*Ident // the names after as; nil for a regex whose groups are named
	Multi   bool     // ParseRegex only: one row per match
	Pos     Span
}

// Fields returns the names of the fields the command creates: the as list,
// or for a regex without one, its named groups in order.
func (c *ParseCmd) Fields() []string {
	if c.As != nil {
		names := make([]string, len(c.As))
		for i, id := range c.As {
			names[i] = id.Name
		}
		return names
	}
	if re, ok := c.Pattern.(*RegexLit); ok {
		return namedGroups(re.Pattern)
	}
	return nil
}

// namedGroups returns the names of the named capture groups of pattern.
func namedGroups(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var names []string
	for _, n := range re.CapNames() {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

func parseParseCmd(p *parser, kw token) (Command, *Error) {
	c := &ParseCmd{}
	// "parse logfmt as x" and "parse csv as …" have no source; otherwise a
	// name here is the source field (which may itself be called logfmt).
	if p.tok.kind == tokIdent && !p.tok.isReserved() {
		if mode := parseModeWord(p.tok); mode != 0 && p.peek().is("as") {
			c.Mode = mode
		} else {
			var err *Error
			if c.Source, err = p.parseField(); err != nil {
				return nil, err
			}
		}
	}
	if c.Mode == 0 {
		switch t := p.tok; {
		case t.kind == tokString:
			c.Mode = ParseGlob
			c.Pattern = &StringLit{Value: t.val, Pos: t.span}
			p.next()
		case t.kind == tokSlash:
			c.Mode = ParseRegex
			re, err := p.parseRegex("")
			if err != nil {
				return nil, err
			}
			c.Pattern = re
		case parseModeWord(t) != 0:
			c.Mode = parseModeWord(t)
		default:
			return nil, p.expected(`a pattern ("glob*" string, /regex/, logfmt or csv)`, "string", "regex", "logfmt", "csv")
		}
	}
	if c.Mode == ParseLogfmt || c.Mode == ParseCSV {
		p.next() // the mode word
	}

	asTok := p.tok
	if p.tok.is("as") {
		p.next()
		var err *Error
		if c.As, err = p.parseNames(); err != nil {
			return nil, err
		}
	} else if c.Mode != ParseRegex {
		return nil, p.expected(`"as" and field names`, `"as"`)
	}
	asSpan := Span{asTok.span.Start, p.end()}

	switch c.Mode {
	case ParseGlob:
		if stars := strings.Count(c.Pattern.(*StringLit).Value, "*"); stars != len(c.As) {
			return nil, p.errorf(asSpan, nil, "the pattern has %s but %s after as", count(stars, "* placeholder"), count(len(c.As), "name"))
		}
	case ParseRegex:
		re, _ := syntax.Parse(c.Pattern.(*RegexLit).Pattern, syntax.Perl) // checked by parseRegex
		switch groups := re.MaxCap(); {
		case c.As != nil && groups != len(c.As):
			return nil, p.errorf(asSpan, nil, "the regex has %s but %s after as", count(groups, "capture group"), count(len(c.As), "name"))
		case c.As == nil && len(namedGroups(c.Pattern.(*RegexLit).Pattern)) == 0:
			return nil, p.errorf(c.Pattern.Span(), []string{`"as"`}, "the regex has no named groups: name them (?<name>…) or list names after as")
		}
		if p.tok.is("multi") {
			c.Multi = true
			p.next()
		}
	case ParseLogfmt:
		if len(c.As) != 1 {
			return nil, p.errorf(asSpan, nil, "parse logfmt takes one name after as, found %d", len(c.As))
		}
	}
	c.Pos = Span{kw.span.Start, p.end()}
	return c, nil
}

// count returns "1 name", "2 names".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// parseModeWord returns the mode named by the word logfmt or csv, or 0.
func parseModeWord(t token) ParseMode {
	switch t.word() {
	case "logfmt":
		return ParseLogfmt
	case "csv":
		return ParseCSV
	}
	return 0
}

// Name returns "parse".
func (c *ParseCmd) Name() string { return "parse" }

// Span returns the command's span.
func (c *ParseCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command.
func (c *ParseCmd) String() string {
	var b strings.Builder
	b.WriteString("parse")
	if c.Source != nil {
		b.WriteByte(' ')
		b.WriteString(c.Source.String())
	}
	b.WriteByte(' ')
	switch c.Mode {
	case ParseLogfmt, ParseCSV:
		b.WriteString(c.Mode.String())
	default:
		if c.Pattern != nil {
			b.WriteString(c.Pattern.String())
		}
	}
	if c.As != nil {
		b.WriteString(" as ")
		b.WriteString(joinNodes(c.As))
	}
	if c.Multi {
		b.WriteString(" multi")
	}
	return b.String()
}

func (c *ParseCmd) children() []Node {
	var ns []Node
	if c.Source != nil {
		ns = append(ns, c.Source)
	}
	if c.Pattern != nil {
		ns = append(ns, c.Pattern)
	}
	return append(ns, nodes(c.As)...)
}

func (*ParseCmd) commandNode() {}
