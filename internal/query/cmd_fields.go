package query

// FieldsCmd is "fields item, …": it projects fields and computes new ones,
// which later commands can use. Columns add up across fields commands.
//
//	fields @timestamp, srcAddr, bytes / packets as bpp
type FieldsCmd struct {
	Items []*Projection
	Pos   Span
}

func parseFieldsCmd(p *parser, kw token) (Command, *Error) {
	items, err := p.parseProjections()
	if err != nil {
		return nil, err
	}
	return &FieldsCmd{Items: items, Pos: Span{kw.span.Start, p.end()}}, nil
}

// Name returns "fields".
func (c *FieldsCmd) Name() string { return "fields" }

// Span returns the command's span, from the keyword to its last item.
func (c *FieldsCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command.
func (c *FieldsCmd) String() string { return "fields " + joinNodes(c.Items) }

func (c *FieldsCmd) children() []Node { return nodes(c.Items) }
func (*FieldsCmd) commandNode()       {}
