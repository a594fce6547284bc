package query

// DedupCmd is "dedup field, …": it keeps the first row for each distinct
// combination of the fields, in the current order; rows missing any of the
// fields are always kept. Only limit may follow it (Parse enforces this).
type DedupCmd struct {
	Fields []*FieldRef
	Pos    Span
}

func parseDedupCmd(p *parser, kw token) (Command, *Error) {
	c := &DedupCmd{}
	for {
		f, err := p.parseField()
		if err != nil {
			return nil, err
		}
		c.Fields = append(c.Fields, f)
		if p.tok.kind != tokComma {
			break
		}
		p.next()
	}
	c.Pos = Span{kw.span.Start, p.end()}
	return c, nil
}

// Name returns "dedup".
func (c *DedupCmd) Name() string { return "dedup" }

// Span returns the command's span.
func (c *DedupCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command.
func (c *DedupCmd) String() string { return "dedup " + joinNodes(c.Fields) }

func (c *DedupCmd) children() []Node { return nodes(c.Fields) }
func (*DedupCmd) commandNode()       {}
