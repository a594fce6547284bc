package query

import "strconv"

// LimitCmd is "limit N" or "limit any N": it keeps the first N rows in the
// current order. With any, the scan may stop once N rows match, in no
// particular order. The deprecated synonyms head and tail parse as limit,
// with a warning.
type LimitCmd struct {
	N   int64
	Any bool
	Pos Span
}

func parseLimitCmd(p *parser, kw token) (Command, *Error) {
	switch kw.word() {
	case "head":
		p.warnings = append(p.warnings, *newWarning(kw.span, "head is a deprecated synonym of limit"))
	case "tail":
		p.warnings = append(p.warnings, *newWarning(kw.span, "tail is read as limit: it keeps the first rows, not the last"))
	}
	c := &LimitCmd{}
	if p.tok.is("any") && p.peek().kind == tokNumber {
		c.Any = true
		p.next()
	}
	t := p.tok
	if t.kind != tokNumber {
		return nil, p.expected("a whole number", "number")
	}
	n, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil {
		return nil, p.errorf(t.span, []string{"number"}, "limit must be a whole number from 0 to %d, found %s", int64(1<<63-1), t.text)
	}
	p.next()
	c.N = n
	c.Pos = Span{kw.span.Start, p.end()}
	return c, nil
}

// Name returns "limit", also for a command written head or tail.
func (c *LimitCmd) Name() string { return "limit" }

// Span returns the command's span.
func (c *LimitCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command.
func (c *LimitCmd) String() string {
	if c.Any {
		return "limit any " + strconv.FormatInt(c.N, 10)
	}
	return "limit " + strconv.FormatInt(c.N, 10)
}

func (c *LimitCmd) children() []Node { return nil }
func (*LimitCmd) commandNode()       {}
