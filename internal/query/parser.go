package query

import (
	"fmt"
	"math"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// MaxQueryLen is the longest query text Parse accepts, in bytes. AWS's own
// limit is believed to be 10,000 characters; ours only bounds the work and
// the depth of left-leaning trees.
const MaxQueryLen = 256 << 10

// maxDepth bounds the nesting of parentheses, calls and prefix operators, so
// that no input can exhaust the stack of the parser, the printer or an
// evaluator.
const maxDepth = 200

// Parse parses a Logs Insights query into its AST.
//
// It returns the warnings it found (such as typographic quotes read as ASCII
// quotes), in the order of their positions, even when it fails. A non-nil
// error is always a *Error; parsing stops at the first one.
func Parse(src string) (*Query, []Warning, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, nil, err
	}
	q, err := p.parseQuery()
	if err != nil {
		return nil, p.finish(), err
	}
	return q, p.finish(), nil
}

// ParseExpr parses a single expression, as written after filter. Detection
// and suppression rules use it, so that they share the query syntax.
func ParseExpr(src string) (Expr, []Warning, error) {
	p, err := newParser(src)
	if err != nil {
		return nil, nil, err
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, p.finish(), err
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokError {
			return nil, p.finish(), p.tok.err
		}
		return nil, p.finish(), p.errorf(p.tok.span, []string{"an operator", "end of expression"},
			"unexpected %s after the expression; expected an operator or the end", p.tok.describe())
	}
	return e, p.finish(), nil
}

// finish sorts the warnings by position and fills in their lines and
// columns in one pass over the text.
func (p *parser) finish() []Warning {
	ws := p.warnings
	slices.SortStableFunc(ws, func(a, b Warning) int { return a.Span.Start - b.Span.Start })
	line, col, off := 1, 1, 0
	for i := range ws {
		for _, r := range p.src[off:ws[i].Span.Start] {
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		off = ws[i].Span.Start
		ws[i].Line, ws[i].Column = line, col
	}
	return ws
}

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	src      string
	lx       lexer
	tok      token // the current token, not yet consumed
	prev     token // the last token consumed
	depth    int
	order    pipelineRules
	warnings []Warning // positions filled in by finish
}

func newParser(src string) (*parser, *Error) {
	if len(src) > MaxQueryLen {
		return nil, newError(src, Span{MaxQueryLen, len(src)}, nil, "query is too long: %d bytes, the maximum is %d", len(src), MaxQueryLen)
	}
	p := &parser{src: src, lx: lexer{src: src}, prev: token{kind: tokEOF}}
	p.tok = p.lx.next()
	p.noteWarning()
	return p, nil
}

// next consumes the current token.
func (p *parser) next() {
	p.prev = p.tok
	p.tok = p.lx.next()
	p.noteWarning()
}

func (p *parser) noteWarning() {
	if p.tok.warn != nil {
		p.warnings = append(p.warnings, *p.tok.warn)
	}
}

// peek returns the token after the current one without consuming anything.
func (p *parser) peek() token {
	lx := p.lx
	return lx.next()
}

// end returns the end offset of the last consumed token: the end of the
// construct just parsed.
func (p *parser) end() int { return p.prev.span.End }

// errorf returns an error at span.
func (p *parser) errorf(span Span, expected []string, format string, args ...any) *Error {
	return newError(p.src, span, expected, format, args...)
}

// expected returns the error for a current token that is not what the
// grammar needs: the lexer's own error if the token is one, and otherwise
// "expected <what> after <previous token>, found <current token>".
func (p *parser) expected(what string, expected ...string) *Error {
	if p.tok.kind == tokError {
		return p.tok.err
	}
	if p.prev.span == (Span{}) && p.prev.kind == tokEOF {
		return p.errorf(p.tok.span, expected, "expected %s, found %s", what, p.tok.describe())
	}
	return p.errorf(p.tok.span, expected, "expected %s after %s, found %s", what, p.prev.describe(), p.tok.describe())
}

// enter guards recursion; every successful enter must be paired with leave.
func (p *parser) enter() *Error {
	if p.depth >= maxDepth {
		return p.errorf(p.tok.span, nil, "expression is nested too deeply (more than %d levels)", maxDepth)
	}
	p.depth++
	return nil
}

func (p *parser) leave() { p.depth-- }

// ---- commands ----

// commandNames lists the commands for "expected a command" messages, in the
// order users meet them.
var commandNames = []string{"fields", "filter", "stats", "sort", "limit", "parse", "dedup", "display"}

// commandSpec describes how to parse one command.
type commandSpec struct {
	// parse parses the command; the keyword kw has been consumed.
	parse func(p *parser, kw token) (Command, *Error)
	// follow lists what may continue a complete command (besides "|" and
	// the end), for the error about the token after it.
	follow []string
}

// commandTable maps each command keyword, lower-cased, to its parser.
// Adding a command is one file (cmd_<name>.go) and one line here.
var commandTable = map[string]commandSpec{
	"fields":  {parseFieldsCmd, []string{`","`, `"as"`, "an operator"}},
	"display": {parseDisplayCmd, []string{`","`, `"as"`, "an operator"}},
	"filter":  {parseFilterCmd, []string{"an operator", `"and"`, `"or"`}},
	"where":   {parseFilterCmd, []string{"an operator", `"and"`, `"or"`}},
	"stats":   {parseStatsCmd, []string{`","`, `"as"`, `"by"`, "an operator"}},
	"sort":    {parseSortCmd, []string{`","`, `"asc"`, `"desc"`, "an operator"}},
	"limit":   {parseLimitCmd, nil},
	"head":    {parseLimitCmd, nil},
	"tail":    {parseLimitCmd, nil},
	"parse":   {parseParseCmd, []string{`","`}},
	"dedup":   {parseDedupCmd, []string{`","`}},
}

// expectedCommand returns an error at span: "<what>; expected a command: …".
func (p *parser) expectedCommand(span Span, what string) *Error {
	return p.errorf(span, commandNames, "%s; expected a command: %s", what, strings.Join(commandNames, ", "))
}

func (p *parser) parseQuery() (*Query, *Error) {
	q := &Query{}
	for {
		cmd, err := p.parseCommand(len(q.Commands) == 0)
		if err != nil {
			return nil, err
		}
		if err := p.order.check(p, cmd); err != nil {
			return nil, err
		}
		q.Commands = append(q.Commands, cmd)
		switch p.tok.kind {
		case tokEOF:
			return q, nil
		case tokPipe:
			p.next()
		case tokError:
			return nil, p.tok.err
		default:
			follow := append(slices.Clip(commandTable[cmd.Name()].follow), `"|"`, "end of query")
			return nil, p.errorf(p.tok.span, follow, "unexpected %s in %s command; expected %s or %s",
				p.tok.describe(), cmd.Name(), strings.Join(follow[:len(follow)-1], ", "), follow[len(follow)-1])
		}
	}
}

// parseCommand parses one command; first says whether it starts the query.
func (p *parser) parseCommand(first bool) (Command, *Error) {
	t := p.tok
	switch t.kind {
	case tokEOF:
		if first {
			return nil, p.expectedCommand(Span{}, "empty query")
		}
		return nil, p.expectedCommand(p.prev.span, `trailing "|"`)
	case tokPipe:
		if first {
			return nil, p.expectedCommand(t.span, `query starts with "|"`)
		}
		return nil, p.expectedCommand(t.span, `empty command between two "|"`)
	case tokError:
		return nil, t.err
	case tokIdent:
		w := t.word()
		if spec, ok := commandTable[w]; ok {
			p.next()
			return spec.parse(p, t)
		}
		if unsupportedCommands[w] {
			return nil, p.errorf(t.span, nil, "command %q is not supported by vigil", t.text)
		}
		if _, isFunc := LookupFunc(w); w != "" && (isFunc || p.peek().kind == tokLParen) {
			if first {
				return nil, p.expectedCommand(t.span, fmt.Sprintf("query starts with the function %q", t.text))
			}
			return nil, p.expectedCommand(t.span, fmt.Sprintf("%q is a function, not a command", t.text))
		}
		what := fmt.Sprintf("unknown command %q", clip(t.text))
		if s := suggestCommand(w); s != "" {
			what += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, p.expectedCommand(t.span, what)
	}
	return nil, p.expectedCommand(t.span, "found "+t.describe())
}

// pipelineRules applies the rules the language sets on the order of
// commands: at most two stats; sort and limit only after the second stats;
// only limit after dedup.
type pipelineRules struct {
	stats     int
	dedup     bool
	sortLimit Command // the first sort or limit so far
}

// check applies the rules to cmd, given the commands seen before it.
func (r *pipelineRules) check(p *parser, cmd Command) *Error {
	name := cmd.Name()
	if r.dedup && name != "limit" {
		return p.errorf(cmd.Span(), []string{"limit"}, "only limit can follow dedup; found %s", name)
	}
	switch name {
	case "dedup":
		r.dedup = true
	case "sort", "limit":
		if r.sortLimit == nil {
			r.sortLimit = cmd
		}
	case "stats":
		r.stats++
		switch {
		case r.stats > 2:
			return p.errorf(cmd.Span(), nil, "a query can have at most two stats commands")
		case r.stats == 2 && r.sortLimit != nil:
			return p.errorf(r.sortLimit.Span(), nil, "%s must come after the second stats command", r.sortLimit.Name())
		}
	}
	return nil
}

// suggestCommand returns the command closest to w, if it is close enough.
func suggestCommand(w string) string {
	best, bestDist := "", 3
	for name := range commandTable {
		if d := editDistance(w, name); d < bestDist && d < len(w) {
			best, bestDist = name, d
		} else if d == bestDist && name < best {
			best = name
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 32 {
		return len(a)
	}
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			diag, row[j] = row[j], min(row[j]+1, row[j-1]+1, diag+cost)
		}
	}
	return row[len(b)]
}

// ---- pieces shared by commands ----

// parseProjections parses expr [as name] (, expr [as name])*.
func (p *parser) parseProjections() ([]*Projection, *Error) {
	var items []*Projection
	for {
		start := p.tok.span.Start
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		item := &Projection{Expr: e}
		if p.tok.is("as") {
			p.next()
			if item.Alias, err = p.parseName(); err != nil {
				return nil, err
			}
		}
		item.Pos = Span{start, p.end()}
		items = append(items, item)
		if p.tok.kind != tokComma {
			return items, nil
		}
		p.next()
	}
}

// parseName parses a name introduced by as: a field-like name, which may
// start with @ and be backquoted.
func (p *parser) parseName() (*Ident, *Error) {
	t := p.tok
	if t.kind != tokIdent {
		return nil, p.expected("a name", "name")
	}
	if t.isReserved() {
		return nil, p.errorf(t.span, []string{"name"}, "expected a name after %s, found keyword %q; write `%s` to use it as a name", p.prev.describe(), t.text, t.text)
	}
	p.next()
	return &Ident{Name: strings.Join(t.parts, "."), Pos: t.span}, nil
}

// parseNames parses name (, name)*.
func (p *parser) parseNames() ([]*Ident, *Error) {
	var names []*Ident
	for {
		id, err := p.parseName()
		if err != nil {
			return nil, err
		}
		names = append(names, id)
		if p.tok.kind != tokComma {
			return names, nil
		}
		p.next()
	}
}

// parseField parses a field name (not an expression).
func (p *parser) parseField() (*FieldRef, *Error) {
	t := p.tok
	if t.kind != tokIdent || t.isReserved() {
		return nil, p.expected("a field name", "field")
	}
	p.next()
	return &FieldRef{Path: t.parts, Pos: t.span}, nil
}

// parseRegex parses the regex the grammar expects at the current "/". after
// names what came before, for the error message.
func (p *parser) parseRegex(what string, expected ...string) (*RegexLit, *Error) {
	if p.tok.kind != tokSlash {
		return nil, p.expected(what, expected...)
	}
	p.tok = p.lx.regex(p.tok.span.Start)
	if p.tok.kind == tokError {
		return nil, p.tok.err
	}
	t := p.tok
	if err := p.checkRegex(t); err != nil {
		return nil, err
	}
	p.next()
	return &RegexLit{Pattern: t.val, Pos: t.span}, nil
}

// checkRegex reports a regex that Go's RE2 engine does not accept (AWS's
// Hyperscan supports the same family: no backreferences, no lookaround).
func (p *parser) checkRegex(t token) *Error {
	if _, err := syntax.Parse(t.val, syntax.Perl); err != nil {
		msg := err.Error()
		if e, ok := err.(*syntax.Error); ok {
			msg = e.Code.String()
			if e.Expr != "" && e.Expr != t.val {
				msg += ": " + clip(e.Expr)
			}
		}
		return p.errorf(t.span, nil, "invalid regex: %s", msg)
	}
	return nil
}

// ---- expressions ----

// operandExpected is what may start an operand.
var operandExpected = []string{"field", "string", "number", "function call", `"("`, `"-"`, `"not"`}

// parseExpr parses expr := or_expr.
func (p *parser) parseExpr() (Expr, *Error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.parseOr()
}

// parseOr parses or_expr := and_expr ("or" and_expr)*.
func (p *parser) parseOr() (Expr, *Error) {
	start := p.tok.span.Start
	x, err := p.parseAnd()
	for err == nil && p.tok.is("or") {
		p.next()
		var y Expr
		if y, err = p.parseAnd(); err == nil {
			x = &BinaryExpr{Op: OpOr, X: x, Y: y, Pos: Span{start, p.end()}}
		}
	}
	return x, err
}

// parseAnd parses and_expr := not_expr ("and" not_expr)*.
func (p *parser) parseAnd() (Expr, *Error) {
	start := p.tok.span.Start
	x, err := p.parseNot()
	for err == nil && p.tok.is("and") {
		p.next()
		var y Expr
		if y, err = p.parseNot(); err == nil {
			x = &BinaryExpr{Op: OpAnd, X: x, Y: y, Pos: Span{start, p.end()}}
		}
	}
	return x, err
}

// parseNot parses not_expr := "not" not_expr | cmp_expr.
func (p *parser) parseNot() (Expr, *Error) {
	if !p.tok.is("not") {
		return p.parseCmp()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	start := p.tok.span.Start
	p.next()
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return &UnaryExpr{Op: OpNot, X: x, Pos: Span{start, p.end()}}, nil
}

var compareOps = map[tokenKind]CompareOp{
	tokEq: OpEq, tokNe: OpNe, tokLt: OpLt, tokLe: OpLe, tokGt: OpGt, tokGe: OpGe,
}

// parseCmp parses cmp_expr := add_expr [ cmp_op add_expr | ["not"] "like"
// (string | regex) | "=~" regex | ["not"] "in" list ].
func (p *parser) parseCmp() (Expr, *Error) {
	start := p.tok.span.Start
	x, err := p.parseAdd()
	if err != nil {
		return nil, err
	}
	var e Expr
	switch op, isCmp := compareOps[p.tok.kind]; {
	case isCmp:
		p.next()
		y, err := p.parseAdd()
		if err != nil {
			return nil, err
		}
		e = &CompareExpr{Op: op, X: x, Y: y}
	case p.tok.kind == tokMatch:
		p.next()
		re, err := p.parseRegex("a /regex/", "regex")
		if err != nil {
			return nil, err
		}
		e = &LikeExpr{X: x, Pattern: re, Match: true}
	case p.tok.is("like"):
		p.next()
		pat, err := p.parseLikePattern()
		if err != nil {
			return nil, err
		}
		e = &LikeExpr{X: x, Pattern: pat}
	case p.tok.is("in"):
		p.next()
		list, err := p.parseList()
		if err != nil {
			return nil, err
		}
		e = &InExpr{X: x, List: list}
	case p.tok.is("not") && (p.peek().is("like") || p.peek().is("in")):
		p.next()
		isLike := p.tok.is("like")
		p.next()
		if isLike {
			pat, err := p.parseLikePattern()
			if err != nil {
				return nil, err
			}
			e = &LikeExpr{X: x, Pattern: pat, Not: true}
		} else {
			list, err := p.parseList()
			if err != nil {
				return nil, err
			}
			e = &InExpr{X: x, List: list, Not: true}
		}
	default:
		return x, nil
	}
	span := Span{start, p.end()}
	switch e := e.(type) {
	case *CompareExpr:
		e.Pos = span
	case *LikeExpr:
		e.Pos = span
	case *InExpr:
		e.Pos = span
	}
	if _, isCmp := compareOps[p.tok.kind]; isCmp || p.tok.kind == tokMatch || p.tok.is("like") || p.tok.is("in") ||
		(p.tok.is("not") && (p.peek().is("like") || p.peek().is("in"))) {
		return nil, p.errorf(p.tok.span, []string{`"and"`, `"or"`}, "comparisons cannot be chained; combine them with and/or, or add parentheses")
	}
	return e, nil
}

// parseLikePattern parses the string or regex after like.
func (p *parser) parseLikePattern() (Expr, *Error) {
	if p.tok.kind == tokString {
		t := p.tok
		p.next()
		return &StringLit{Value: t.val, Pos: t.span}, nil
	}
	return p.parseRegex("a string or /regex/", "string", "regex")
}

// parseList parses [v, …] after in: strings and (possibly negative) numbers.
func (p *parser) parseList() ([]Expr, *Error) {
	if p.tok.kind == tokLParen {
		return nil, p.errorf(p.tok.span, nil, "subqueries are not supported by vigil; write the values as a list [\"a\", \"b\"]")
	}
	if p.tok.kind != tokLBracket {
		return nil, p.expected(`a list ["a", "b", …]`, `"["`)
	}
	open := p.tok.span
	p.next()
	var list []Expr
	for {
		switch t := p.tok; {
		case t.kind == tokString:
			p.next()
			list = append(list, &StringLit{Value: t.val, Pos: t.span})
		case t.kind == tokNumber:
			p.next()
			list = append(list, p.number(t))
		case t.kind == tokMinus && p.peek().kind == tokNumber:
			p.next()
			n := p.tok
			p.next()
			list = append(list, &UnaryExpr{Op: OpNeg, X: p.number(n), Pos: Span{t.span.Start, n.span.End}})
		default:
			return nil, p.expected("a string or number in the list", "string", "number")
		}
		switch p.tok.kind {
		case tokComma:
			p.next()
		case tokRBracket:
			p.next()
			return list, nil
		default:
			if p.tok.kind == tokEOF {
				return nil, p.errorf(open, []string{`","`, `"]"`}, "unclosed list: expected \"]\" to close this \"[\"")
			}
			return nil, p.expected(`"," or "]"`, `","`, `"]"`)
		}
	}
}

// parseAdd parses add_expr := mul_expr (("+" | "-") mul_expr)*.
func (p *parser) parseAdd() (Expr, *Error) {
	start := p.tok.span.Start
	x, err := p.parseMul()
	for err == nil && (p.tok.kind == tokPlus || p.tok.kind == tokMinus) {
		op := OpAdd
		if p.tok.kind == tokMinus {
			op = OpSub
		}
		p.next()
		var y Expr
		if y, err = p.parseMul(); err == nil {
			x = &BinaryExpr{Op: op, X: x, Y: y, Pos: Span{start, p.end()}}
		}
	}
	return x, err
}

// parseMul parses mul_expr := pow_expr (("*" | "/" | "%") pow_expr)*.
func (p *parser) parseMul() (Expr, *Error) {
	start := p.tok.span.Start
	x, err := p.parsePow()
	for err == nil && (p.tok.kind == tokStar || p.tok.kind == tokSlash || p.tok.kind == tokPercent) {
		op := OpMul
		switch p.tok.kind {
		case tokSlash:
			op = OpDiv
		case tokPercent:
			op = OpMod
		}
		p.next()
		var y Expr
		if y, err = p.parsePow(); err == nil {
			x = &BinaryExpr{Op: op, X: x, Y: y, Pos: Span{start, p.end()}}
		}
	}
	return x, err
}

// parsePow parses pow_expr := unary ("^" unary)*, left-associative as in
// the reference grammar.
func (p *parser) parsePow() (Expr, *Error) {
	start := p.tok.span.Start
	x, err := p.parseUnary()
	for err == nil && p.tok.kind == tokCaret {
		p.next()
		var y Expr
		if y, err = p.parseUnary(); err == nil {
			x = &BinaryExpr{Op: OpPow, X: x, Y: y, Pos: Span{start, p.end()}}
		}
	}
	return x, err
}

// parseUnary parses unary := "-" unary | postfix.
func (p *parser) parseUnary() (Expr, *Error) {
	if p.tok.kind != tokMinus {
		return p.parsePostfix()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	start := p.tok.span.Start
	p.next()
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &UnaryExpr{Op: OpNeg, X: x, Pos: Span{start, p.end()}}, nil
}

// parsePostfix parses a primary followed by any number of [index] and .name.
// Literals take no postfix.
func (p *parser) parsePostfix() (Expr, *Error) {
	start := p.tok.span.Start
	x, postfix, err := p.parsePrimary()
	if err != nil || !postfix {
		return x, err
	}
	for {
		switch p.tok.kind {
		case tokLBracket:
			open := p.tok.span
			p.next()
			idx, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if p.tok.kind != tokRBracket {
				if p.tok.kind == tokEOF {
					return nil, p.errorf(open, []string{`"]"`}, "unclosed index: expected \"]\" to close this \"[\"")
				}
				return nil, p.expected(`"]"`, `"]"`)
			}
			p.next()
			x = &IndexExpr{X: x, Index: idx, Pos: Span{start, p.end()}}
		case tokDot:
			p.next()
			t := p.tok
			if t.kind != tokIdent {
				return nil, p.expected("a name", "name")
			}
			p.next()
			// Fold (a).b into the path a.b; otherwise one MemberExpr per segment.
			if f, ok := x.(*FieldRef); ok {
				x = &FieldRef{Path: append(slices.Clip(f.Path), t.parts...), Pos: Span{start, t.span.End}}
				continue
			}
			ends := segmentEnds(t.text)
			for i, part := range t.parts {
				x = &MemberExpr{X: x, Name: part, Pos: Span{start, t.span.Start + ends[i]}}
			}
		default:
			return x, nil
		}
	}
}

// segmentEnds returns, for each segment of a path token's text, the byte
// offset at which it ends, backquotes included.
func segmentEnds(text string) []int {
	var ends []int
	pos := 0
	for pos < len(text) {
		if text[pos] == '`' {
			pos += strings.IndexByte(text[pos+1:], '`') + 2
		} else if j := strings.IndexByte(text[pos:], '.'); j >= 0 {
			pos += j
		} else {
			pos = len(text)
		}
		ends = append(ends, pos)
		pos++ // the dot
	}
	return ends
}

// parsePrimary parses a literal, field, call or parenthesised expression.
// postfix reports whether [index] and .name may follow.
func (p *parser) parsePrimary() (x Expr, postfix bool, err *Error) {
	t := p.tok
	switch t.kind {
	case tokIdent:
		if t.isReserved() {
			return nil, false, p.expected("an expression", operandExpected...)
		}
		p.next()
		if p.tok.kind == tokLParen && !t.quoted && len(t.parts) == 1 && t.parts[0][0] != '@' {
			call, err := p.parseCall(t)
			return call, true, err
		}
		return &FieldRef{Path: t.parts, Pos: t.span}, true, nil
	case tokString:
		p.next()
		return &StringLit{Value: t.val, Pos: t.span}, false, nil
	case tokNumber:
		p.next()
		return p.number(t), false, nil
	case tokDuration:
		p.next()
		return &DurationLit{Text: t.text, Amount: t.amount, Unit: t.unit, Pos: t.span}, false, nil
	case tokLParen:
		p.next()
		x, err := p.parseExpr()
		if err != nil {
			return nil, false, err
		}
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokEOF || p.tok.kind == tokPipe {
				line, col := Position(p.src, t.span.Start)
				return nil, false, p.errorf(p.tok.span, []string{`")"`}, "expected \")\" to close the \"(\" at %d:%d, found %s", line, col, p.tok.describe())
			}
			return nil, false, p.expected(`")"`, `")"`, "an operator")
		}
		p.next()
		return x, true, nil
	case tokSlash:
		if rt := p.lx.regex(t.span.Start); rt.kind == tokRegex {
			return nil, false, p.errorf(rt.span, nil, "a regex /…/ is only allowed after like, not like, =~ and in parse")
		}
	case tokLBracket:
		return nil, false, p.errorf(t.span, nil, "a list [...] is only allowed after in and not in")
	case tokStar:
		return nil, false, p.errorf(t.span, operandExpected, `"*" is only allowed alone as a function argument, as in count(*)`)
	}
	return nil, false, p.expected("an expression", operandExpected...)
}

// number converts a number token.
func (p *parser) number(t token) *NumberLit {
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil && !math.IsInf(v, 0) {
		v = math.NaN() // unreachable: the lexer only produces valid numbers
	}
	return &NumberLit{Text: t.text, Value: v, Pos: t.span}
}

// parseCall parses the arguments of a call to the function named by t; the
// current token is "(".
func (p *parser) parseCall(t token) (*CallExpr, *Error) {
	open := p.tok.span
	p.next()
	call := &CallExpr{Name: strings.ToLower(t.parts[0]), Orig: t.parts[0], NamePos: t.span}
	switch p.tok.kind {
	case tokRParen:
		p.next()
	case tokStar:
		star := p.tok
		p.next()
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokError {
				return nil, p.tok.err
			}
			return nil, p.errorf(p.tok.span, []string{`")"`}, `expected ")" after "*", found %s; "*" is only allowed alone, as in count(*)`, p.tok.describe())
		}
		p.next()
		call.Args = []Expr{&Star{Pos: star.span}}
	default:
		for {
			a, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			call.Args = append(call.Args, a)
			if p.tok.kind == tokComma {
				p.next()
				continue
			}
			if p.tok.kind == tokRParen {
				p.next()
				break
			}
			if p.tok.kind == tokEOF || p.tok.kind == tokPipe {
				line, col := Position(p.src, open.Start)
				return nil, p.errorf(p.tok.span, []string{`","`, `")"`}, "expected \")\" to close the arguments of %s at %d:%d, found %s", t.text, line, col, p.tok.describe())
			}
			if p.tok.kind == tokError {
				return nil, p.tok.err
			}
			return nil, p.errorf(p.tok.span, []string{`","`, `")"`, "an operator"}, `expected "," or ")" after %s in the arguments of %s, found %s`, p.prev.describe(), t.text, p.tok.describe())
		}
	}
	call.Pos = Span{t.span.Start, p.end()}
	return call, nil
}
