package query

// DisplayCmd is "display item, …": it sets the final columns. Only the last
// display of a query counts, and it creates no fields for later commands.
//
//	display loggingMessage, loggingType = "ERROR" as isError
type DisplayCmd struct {
	Items []*Projection
	Pos   Span
}

func parseDisplayCmd(p *parser, kw token) (Command, *Error) {
	items, err := p.parseProjections()
	if err != nil {
		return nil, err
	}
	return &DisplayCmd{Items: items, Pos: Span{kw.span.Start, p.end()}}, nil
}

// Name returns "display".
func (c *DisplayCmd) Name() string { return "display" }

// Span returns the command's span, from the keyword to its last item.
func (c *DisplayCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command.
func (c *DisplayCmd) String() string { return "display " + joinNodes(c.Items) }

func (c *DisplayCmd) children() []Node { return nodes(c.Items) }
func (*DisplayCmd) commandNode()       {}
