package query

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The printer writes the canonical form of the AST: keywords in lower case,
// one space around binary operators and after commas, strings in double
// quotes, only the parentheses that precedence needs, and no comments. Field
// names, function names, numbers, time periods and regexes are written as
// they were typed, so a column named by its expression keeps its look.
//
// The guarantee, checked by the round-trip test and FuzzParse: for every
// query q that parses, Parse(q.String()) gives the same AST apart from
// spans, and prints the same text.

// Operator precedence, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp // = != < <= > >= like =~ in
	precAdd
	precMul
	precPow
	precUnary // unary minus
	precPrimary
)

var binaryPrec = [...]int{OpAdd: precAdd, OpSub: precAdd, OpMul: precMul, OpDiv: precMul,
	OpMod: precMul, OpPow: precPow, OpAnd: precAnd, OpOr: precOr}

// prec returns the precedence of e's outermost operator.
func prec(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		if int(e.Op) < len(binaryPrec) && e.Op != 0 {
			return binaryPrec[e.Op]
		}
		return precOr
	case *UnaryExpr:
		if e.Op == OpNot {
			return precNot
		}
		return precUnary
	case *CompareExpr, *LikeExpr, *InExpr:
		return precCmp
	}
	return precPrimary
}

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// writeOperand writes e, in parentheses if it binds looser than min.
func writeOperand(b *strings.Builder, e Expr, min int) {
	if prec(e) < min {
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
		return
	}
	writeExpr(b, e)
}

// writePostfixOperand writes the X of X[i] or X.name: bare if it is a field,
// call, index or member expression, and otherwise in parentheses (literals
// take no postfix).
func writePostfixOperand(b *strings.Builder, e Expr) {
	switch e.(type) {
	case *FieldRef, *CallExpr, *IndexExpr, *MemberExpr:
		writeExpr(b, e)
	default:
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
	}
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case nil:
		b.WriteString("<nil>")
	case *FieldRef:
		writePath(b, e.Path)
	case *StringLit:
		writeQuoted(b, e.Value)
	case *NumberLit:
		if e.Text != "" {
			b.WriteString(e.Text)
		} else {
			b.WriteString(strconv.FormatFloat(e.Value, 'f', -1, 64))
		}
	case *RegexLit:
		b.WriteByte('/')
		b.WriteString(e.Pattern)
		b.WriteByte('/')
	case *DurationLit:
		if e.Text != "" {
			b.WriteString(e.Text)
		} else {
			b.WriteString(strconv.FormatInt(e.Amount, 10))
			b.WriteString(e.Unit.String())
		}
	case *Star:
		b.WriteByte('*')
	case *UnaryExpr:
		if e.Op == OpNot {
			b.WriteString("not ")
			writeOperand(b, e.X, precNot)
		} else {
			b.WriteByte('-')
			writeOperand(b, e.X, precUnary)
		}
	case *BinaryExpr:
		p := prec(e)
		writeOperand(b, e.X, p)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeOperand(b, e.Y, p+1)
	case *CompareExpr:
		writeOperand(b, e.X, precAdd)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeOperand(b, e.Y, precAdd)
	case *LikeExpr:
		writeOperand(b, e.X, precAdd)
		switch {
		case e.Match:
			b.WriteString(" =~ ")
		case e.Not:
			b.WriteString(" not like ")
		default:
			b.WriteString(" like ")
		}
		writeExpr(b, e.Pattern)
	case *InExpr:
		writeOperand(b, e.X, precAdd)
		if e.Not {
			b.WriteString(" not in [")
		} else {
			b.WriteString(" in [")
		}
		for i, v := range e.List {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, v)
		}
		b.WriteByte(']')
	case *CallExpr:
		if e.Orig != "" {
			b.WriteString(e.Orig)
		} else {
			b.WriteString(e.Name)
		}
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a)
		}
		b.WriteByte(')')
	case *IndexExpr:
		writePostfixOperand(b, e.X)
		b.WriteByte('[')
		writeExpr(b, e.Index)
		b.WriteByte(']')
	case *MemberExpr:
		writePostfixOperand(b, e.X)
		b.WriteByte('.')
		writeSegment(b, e.Name, false)
	default:
		b.WriteString("<?>")
	}
}

// writeQuoted writes s as a double-quoted string literal.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// writePath writes a field path, backquoting the segments that need it.
func writePath(b *strings.Builder, path []string) {
	for i, seg := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		writeSegment(b, seg, i == 0)
	}
}

// writeSegment writes one name segment, backquoted unless it lexes back as
// the same plain segment.
func writeSegment(b *strings.Builder, seg string, first bool) {
	if plainSegment(seg, first) {
		b.WriteString(seg)
		return
	}
	b.WriteByte('`')
	b.WriteString(seg)
	b.WriteByte('`')
}

// plainSegment reports whether seg can be written without backquotes: as
// the first segment, @* followed by a name that does not start with a digit
// unless after @, and not a reserved word; after a dot, any name.
func plainSegment(seg string, first bool) bool {
	rest := seg
	if first {
		if reserved[strings.ToLower(seg)] {
			return false
		}
		rest = strings.TrimLeft(seg, "@")
		if rest == seg {
			if r, _ := utf8.DecodeRuneInString(seg); !isLetter(r) {
				return false
			}
		}
	}
	if rest == "" {
		return false
	}
	for _, r := range rest {
		if !isNameRune(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// nameString returns an alias as it must be written: plain when it lexes back
// as the same dotted name, and otherwise in backquotes.
func nameString(name string) string {
	for i, seg := range strings.Split(name, ".") {
		if !plainSegment(seg, i == 0) {
			return "`" + name + "`"
		}
	}
	return name
}

// String methods of the expression nodes.

// String returns the field name, backquoting the segments that need it.
func (n *FieldRef) String() string { return exprString(n) }

// String returns the string in double quotes, with \" \\ \n \t \r escapes.
func (n *StringLit) String() string { return exprString(n) }

// String returns the number as written.
func (n *NumberLit) String() string { return exprString(n) }

// String returns /pattern/.
func (n *RegexLit) String() string { return exprString(n) }

// String returns the period as written.
func (n *DurationLit) String() string { return exprString(n) }

// String returns "*".
func (n *Star) String() string { return "*" }

// String returns the canonical text of the expression.
func (n *UnaryExpr) String() string { return exprString(n) }

// String returns the canonical text of the expression.
func (n *BinaryExpr) String() string { return exprString(n) }

// String returns the canonical text of the expression.
func (n *CompareExpr) String() string { return exprString(n) }

// String returns the canonical text of the expression.
func (n *LikeExpr) String() string { return exprString(n) }

// String returns the canonical text of the expression.
func (n *InExpr) String() string { return exprString(n) }

// String returns the call with the function name as written.
func (n *CallExpr) String() string { return exprString(n) }

// String returns the canonical text of the expression.
func (n *IndexExpr) String() string { return exprString(n) }

// String returns the canonical text of the expression.
func (n *MemberExpr) String() string { return exprString(n) }

// String returns the name, backquoted if needed.
func (n *Ident) String() string { return nameString(n.Name) }

// String returns "expr" or "expr as name".
func (n *Projection) String() string {
	if n.Alias == nil {
		return n.Expr.String()
	}
	return n.Expr.String() + " as " + n.Alias.String()
}

// joinNodes prints nodes separated by ", ".
func joinNodes[T Node](ns []T) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.String()
	}
	return strings.Join(parts, ", ")
}

// nodes converts a slice of nodes to []Node.
func nodes[T Node](ns []T) []Node {
	out := make([]Node, len(ns))
	for i, n := range ns {
		out[i] = n
	}
	return out
}
