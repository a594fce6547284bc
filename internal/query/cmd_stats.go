package query

// StatsCmd is "stats agg [as name], … [by group [as name], …]".
//
// Each aggregate item is an expression that contains at least one aggregate
// call (sum(bytes)/count(*) * 100) or refers to an alias defined earlier in
// the same command; each group is any scalar expression, bin(5m) included.
// The parser checks the shape only: which calls are aggregates is the
// checker's job. A query has at most two stats, and sort and limit may only
// follow the second (Parse enforces both).
//
//	stats count(*) as numRejections by srcAddr
//	stats count(*) by bin(1h) as t
type StatsCmd struct {
	Aggs []*Projection
	By   []*Projection // nil without "by"
	Pos  Span
}

func parseStatsCmd(p *parser, kw token) (Command, *Error) {
	aggs, err := p.parseProjections()
	if err != nil {
		return nil, err
	}
	c := &StatsCmd{Aggs: aggs}
	if p.tok.is("by") {
		p.next()
		if c.By, err = p.parseProjections(); err != nil {
			return nil, err
		}
	}
	c.Pos = Span{kw.span.Start, p.end()}
	return c, nil
}

// Name returns "stats".
func (c *StatsCmd) Name() string { return "stats" }

// Span returns the command's span, from the keyword to its last item.
func (c *StatsCmd) Span() Span { return c.Pos }

// String returns the canonical text of the command.
func (c *StatsCmd) String() string {
	s := "stats " + joinNodes(c.Aggs)
	if len(c.By) > 0 {
		s += " by " + joinNodes(c.By)
	}
	return s
}

func (c *StatsCmd) children() []Node { return append(nodes(c.Aggs), nodes(c.By)...) }
func (*StatsCmd) commandNode()       {}
