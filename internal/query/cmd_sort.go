package query

// SortOrder is the direction of a sort key.
type SortOrder uint8

// The sort directions. AWS does not document the default; vigil sorts
// ascending when neither asc nor desc is given (§3.5, unverified).
const (
	SortDefault SortOrder = iota // neither asc nor desc written
	SortAsc
	SortDesc
)

// SortKey is one key of a sort command: an expression and its direction.
type SortKey struct {
	Expr  Expr
	Order SortOrder
	Pos   Span
}

// Span returns the key's span, direction included.
func (k *SortKey) Span() Span { return k.Pos }

// String returns the key as "expr", "expr asc" or "expr desc".
func (k *SortKey) String() string {
	switch k.Order {
	case SortAsc:
		return k.Expr.String() + " asc"
	case SortDesc:
		return k.Expr.String() + " desc"
	}
	return k.Expr.String()
}

// Desc reports whether the key sorts in descending order.
func (k *SortKey) Desc() bool { return k.Order == SortDesc }

// SortCmd is "sort [by] key [asc|desc], …". Keys are usually fields but may
// be any expression, e.g. a column named by its text (sort bin(5m) asc).
type SortCmd struct {
	Keys []*SortKey
	Pos  Span
}

func parseSortCmd(p *parser, kw token) (Command, *Error) {
	if p.tok.is("by") {
		p.next() // "sort by f" appears in AWS samples
	}
	c := &SortCmd{}
	for {
		start := p.tok.span.Start
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		k := &SortKey{Expr: e}
		switch {
		case p.tok.is("asc"):
			k.Order = SortAsc
			p.next()
		case p.tok.is("desc"):
			k.Order = SortDesc
			p.next()
		}
		k.Pos = Span{start, p.end()}
		c.Keys = append(c.Keys, k)
		if p.tok.kind != tokComma {
			break
		}
		p.next()
	}
	c.Pos = Span{kw.span.Start, p.end()}
	return c, nil
}

// Name returns "sort".
func (c *SortCmd) Name() string { return "sort" }

// Span returns the command's span, from the keyword to its last key.
func (c *SortCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command; "sort by" is printed as
// "sort".
func (c *SortCmd) String() string { return "sort " + joinNodes(c.Keys) }

func (c *SortCmd) children() []Node { return nodes(c.Keys) }
func (*SortCmd) commandNode()       {}
