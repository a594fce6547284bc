package query

import "strings"

// Span is a half-open range [Start, End) of byte offsets into the query text.
// Every token, every AST node and every error carries one.
type Span struct {
	Start, End int
}

// Len returns the number of bytes the span covers.
func (s Span) Len() int { return s.End - s.Start }

// Node is implemented by every AST node: commands, expressions, and the
// small helper nodes (Projection, Ident, SortKey).
type Node interface {
	// Span returns the bytes of the query text the node was parsed from. For
	// an expression it excludes parentheses around the expression itself but
	// includes parenthesised operands: in "(a + b) * c" the product covers the
	// whole text and the sum covers "a + b".
	Span() Span
	// String returns the canonical text of the node. Parsing it gives the same
	// node again, apart from spans.
	String() string
}

// Command is one stage of a query pipeline. The concrete types are
// *FieldsCmd, *DisplayCmd, *FilterCmd, *StatsCmd, *SortCmd, *LimitCmd,
// *ParseCmd and *DedupCmd.
type Command interface {
	Node
	// Name returns the canonical lower-case command name ("filter", "stats", …).
	// Aliases are reported by the command they stand for: where → filter,
	// head/tail → limit.
	Name() string
	commandNode()
}

// Expr is a value expression. The concrete types are *FieldRef, *StringLit,
// *NumberLit, *RegexLit, *DurationLit, *Star, *UnaryExpr, *BinaryExpr,
// *CompareExpr, *LikeExpr, *InExpr, *CallExpr, *IndexExpr and *MemberExpr.
// Parentheses leave no node behind: the printer puts back the ones that
// precedence needs.
type Expr interface {
	Node
	exprNode()
}

// Query is a parsed query: its commands in pipeline order.
type Query struct {
	Commands []Command
}

// Span returns the span from the first command to the last one.
func (q *Query) Span() Span {
	if len(q.Commands) == 0 {
		return Span{}
	}
	return Span{q.Commands[0].Span().Start, q.Commands[len(q.Commands)-1].Span().End}
}

// String returns the canonical text of the query: the commands joined by " | ".
func (q *Query) String() string {
	parts := make([]string, len(q.Commands))
	for i, c := range q.Commands {
		parts[i] = c.String()
	}
	return strings.Join(parts, " | ")
}

// ---- expressions ----

// FieldRef names a field: @timestamp, srcAddr, userIdentity.arn, `foo-bar`,
// json_message.`user.id`, @@x.
//
// Path holds the dot-separated segments as written, with backquotes removed:
// "userIdentity.arn" is {"userIdentity", "arn"}; "`a.b`" is {"a.b"}. Records
// store JSON fields flattened ("userIdentity.arn" is one field), while values
// made by jsonParse are maps, so the parser cannot tell a flattened name from
// member access. The evaluator resolves a path by first looking the whole
// Name() up as a field and otherwise walking the segments into maps.
// A ".name" written after a parenthesised field reference is folded into the
// path, so the parser never produces a MemberExpr on a FieldRef.
type FieldRef struct {
	Path []string
	Pos  Span
}

// Name returns the path segments joined by ".": the flattened field name.
func (f *FieldRef) Name() string { return strings.Join(f.Path, ".") }

// StringLit is a string literal, '…' or "…". Value is the decoded text.
type StringLit struct {
	Value string
	Pos   Span
}

// NumberLit is a non-negative number literal such as 17, 0.75 or 1e6. Negative
// numbers are a UnaryExpr with OpNeg. Text is the literal as written (the
// printer keeps it, so 012345678901 stays as typed); Value is its value.
type NumberLit struct {
	Text  string
	Value float64
	Pos   Span
}

// RegexLit is a regular expression literal /…/. Pattern is the text between
// the slashes, unchanged (an escaped slash stays "\/"); it has been checked to
// compile as an RE2 expression. Flags are written inline, e.g. (?i).
type RegexLit struct {
	Pattern string
	Pos     Span
}

// DurationUnit is the unit of a time-period literal.
type DurationUnit uint8

// The time-period units, from the shortest.
const (
	UnitMillisecond DurationUnit = iota + 1 // ms, msec, millisecond
	UnitSecond                              // s, sec, second
	UnitMinute                              // m, min, minute
	UnitHour                                // h, hr, hour
	UnitDay                                 // d, day
	UnitWeek                                // w, week
	UnitMonth                               // mo, mon, month
	UnitQuarter                             // q, qtr, quarter
	UnitYear                                // y, yr, year
)

// String returns the unit's short canonical spelling: ms, s, m, h, d, w, mo,
// q or y.
func (u DurationUnit) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return "?"
}

var unitNames = [...]string{"", "ms", "s", "m", "h", "d", "w", "mo", "q", "y"}

// DurationLit is a time period such as 5m, 1h or 30min: the period argument of
// bin, datefloor and dateceil. Text is the literal as written. The parser
// accepts any amount; AWS silently clamps ms ≤ 1000, s ≤ 60, m ≤ 60, h ≤ 24,
// which the checker reports.
type DurationLit struct {
	Text   string
	Amount int64
	Unit   DurationUnit
	Pos    Span
}

// Star is the * argument of count(*). The parser accepts it as the only
// argument of any call; the checker allows it only where Func.Star is set.
type Star struct {
	Pos Span
}

// UnaryOp is the operator of a UnaryExpr.
type UnaryOp uint8

// The unary operators.
const (
	OpNeg UnaryOp = iota + 1 // -x
	OpNot                    // not x
)

// String returns the operator as written in a query.
func (op UnaryOp) String() string {
	switch op {
	case OpNeg:
		return "-"
	case OpNot:
		return "not"
	}
	return "?"
}

// UnaryExpr is -X or not X.
type UnaryExpr struct {
	Op  UnaryOp
	X   Expr
	Pos Span
}

// BinaryOp is the operator of a BinaryExpr.
type BinaryOp uint8

// The binary operators. Arithmetic is left-associative, including ^.
const (
	OpAdd BinaryOp = iota + 1 // +
	OpSub                     // -
	OpMul                     // *
	OpDiv                     // /  (floating-point division)
	OpMod                     // %
	OpPow                     // ^
	OpAnd                     // and
	OpOr                      // or
)

var binaryOpText = [...]string{"?", "+", "-", "*", "/", "%", "^", "and", "or"}

// String returns the operator as written in a query.
func (op BinaryOp) String() string {
	if int(op) < len(binaryOpText) {
		return binaryOpText[op]
	}
	return "?"
}

// BinaryExpr is an arithmetic or logical operation X Op Y.
type BinaryExpr struct {
	Op   BinaryOp
	X, Y Expr
	Pos  Span
}

// CompareOp is the operator of a CompareExpr.
type CompareOp uint8

// The comparison operators.
const (
	OpEq CompareOp = iota + 1 // =
	OpNe                      // !=
	OpLt                      // <
	OpLe                      // <=
	OpGt                      // >
	OpGe                      // >=
)

var compareOpText = [...]string{"?", "=", "!=", "<", "<=", ">", ">="}

// String returns the operator as written in a query.
func (op CompareOp) String() string {
	if int(op) < len(compareOpText) {
		return compareOpText[op]
	}
	return "?"
}

// CompareExpr is X Op Y with a comparison operator. Comparisons do not chain.
type CompareExpr struct {
	Op   CompareOp
	X, Y Expr
	Pos  Span
}

// LikeExpr is X like P, X not like P or X =~ P. Pattern is a *StringLit
// (case-sensitive substring test) or a *RegexLit (unanchored regex search);
// with Match (=~) it is always a *RegexLit and Not is false.
type LikeExpr struct {
	X       Expr
	Pattern Expr
	Not     bool // not like
	Match   bool // written =~ rather than like
	Pos     Span
}

// InExpr is X in [v, …] or X not in [v, …]: membership by whole-value
// equality. List elements are *StringLit, *NumberLit or a negated *NumberLit.
type InExpr struct {
	X    Expr
	List []Expr
	Not  bool
	Pos  Span
}

// CallExpr is a function call Name(Args…), for scalar functions and
// aggregates alike; the parser does not resolve names (see LookupFunc).
type CallExpr struct {
	Name    string // lower-case canonical name, for lookups
	Orig    string // the name as written, kept for printing and column names
	Args    []Expr // a lone * argument is a *Star
	NamePos Span   // the span of the name
	Pos     Span
}

// IndexExpr is X[Index]: list indexing on jsonParse results.
type IndexExpr struct {
	X     Expr
	Index Expr
	Pos   Span
}

// MemberExpr is X.Name where X is not a field reference, e.g.
// jsonParse(@message).user or list[0].name. Name has backquotes removed.
type MemberExpr struct {
	X    Expr
	Name string
	Pos  Span
}

// ---- helper nodes ----

// Ident is a name introduced by "as" (fields, display, stats, parse). Name has
// backquotes removed; a dotted alias (as a.b) is one name "a.b".
type Ident struct {
	Name string
	Pos  Span
}

// Projection is an expression with an optional alias: an item of fields,
// display, stats (aggregates and groups).
type Projection struct {
	Expr  Expr
	Alias *Ident // nil when no "as"
	Pos   Span
}

// Span returns the node's span.
func (n *FieldRef) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *StringLit) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *NumberLit) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *RegexLit) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *DurationLit) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *Star) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *UnaryExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *BinaryExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *CompareExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *LikeExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *InExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *CallExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *IndexExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *MemberExpr) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *Ident) Span() Span { return n.Pos }

// Span returns the node's span.
func (n *Projection) Span() Span { return n.Pos }

func (*FieldRef) exprNode()    {}
func (*StringLit) exprNode()   {}
func (*NumberLit) exprNode()   {}
func (*RegexLit) exprNode()    {}
func (*DurationLit) exprNode() {}
func (*Star) exprNode()        {}
func (*UnaryExpr) exprNode()   {}
func (*BinaryExpr) exprNode()  {}
func (*CompareExpr) exprNode() {}
func (*LikeExpr) exprNode()    {}
func (*InExpr) exprNode()      {}
func (*CallExpr) exprNode()    {}
func (*IndexExpr) exprNode()   {}
func (*MemberExpr) exprNode()  {}

// Inspect walks the tree rooted at n in depth-first order, calling f for each
// node, starting with n. If f returns false, the node's children are skipped.
// Commands are visited with their projections, identifiers and expressions;
// nil children (an absent alias, the default parse source) are skipped.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walk := func(c Node) { Inspect(c, f) }
	switch n := n.(type) {
	case *Query:
		for _, c := range n.Commands {
			walk(c)
		}
	case *Projection:
		walk(n.Expr)
		if n.Alias != nil {
			walk(n.Alias)
		}
	case *SortKey:
		walk(n.Expr)
	case *UnaryExpr:
		walk(n.X)
	case *BinaryExpr:
		walk(n.X)
		walk(n.Y)
	case *CompareExpr:
		walk(n.X)
		walk(n.Y)
	case *LikeExpr:
		walk(n.X)
		walk(n.Pattern)
	case *InExpr:
		walk(n.X)
		for _, e := range n.List {
			walk(e)
		}
	case *CallExpr:
		for _, a := range n.Args {
			walk(a)
		}
	case *IndexExpr:
		walk(n.X)
		walk(n.Index)
	case *MemberExpr:
		walk(n.X)
	case interface{ children() []Node }: // commands
		for _, c := range n.children() {
			walk(c)
		}
	}
}
