package query

// FilterCmd is "filter cond" (or its alias "where cond"): it keeps the rows
// for which Cond is true. A bare field or function result is a condition too
// (filter ispresent(errorCode)).
type FilterCmd struct {
	Cond Expr
	Pos  Span
}

func parseFilterCmd(p *parser, kw token) (Command, *Error) {
	cond, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	return &FilterCmd{Cond: cond, Pos: Span{kw.span.Start, p.end()}}, nil
}

// Name returns "filter", also for a command written "where".
func (c *FilterCmd) Name() string { return "filter" }

// Span returns the command's span, from the keyword to the end of Cond.
func (c *FilterCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command; where is printed as
// filter.
func (c *FilterCmd) String() string { return "filter " + c.Cond.String() }

func (c *FilterCmd) children() []Node { return []Node{c.Cond} }
func (*FilterCmd) commandNode()       {}
