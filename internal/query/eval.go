package query

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/record"
)

// The evaluator compiles checked expressions into closures over a Row.
// Names are resolved at compile time, once per record kind: a catalogued
// field becomes a record.FieldID, a computed field a slot index, a JSON path
// a string handed to Record.Path. Evaluating a closure then does no map
// lookups and no string work for names, and the common operators
// (comparisons, like, in, and/or/not, the IP functions) do not allocate.
//
// Closures hold no mutable state: one compiled expression may be evaluated
// by several goroutines at once, each with its own Row.

// Row is what a compiled expression reads: a record (in phase 0, before the
// first stats) and the slots of computed fields and columns.
type Row struct {
	// Rec is the record; nil for rows that no longer have one (after stats,
	// and rows buffered past the call that delivered their record).
	Rec record.Record
	// Slots holds the values of computed fields and columns, indexed by the
	// slots a Scope assigns.
	Slots []record.Value
	// Log names the input the record came from (@log), and Seq is the
	// record's 1-based position in it (@ptr is "Log:Seq"). Sub numbers the
	// rows one record makes (parse … multi), from 0.
	Log string
	Seq int64
	Sub int64
}

// Eval computes a value from a row.
type Eval func(r *Row) record.Value

// Pred computes a condition from a row: comparisons with a missing value are
// false, and not is two-valued negation (§4.2).
type Pred func(r *Row) bool

// EvalOptions are the values a query's functions read from its context.
type EvalOptions struct {
	// Now is the query's start time, for now(); zero means the time the
	// expression is compiled.
	Now time.Time
	// Start and End are the query's time range, both inclusive, for
	// queryStartTime(), queryEndTime() and queryTimeRange(); zero is open.
	Start, End time.Time
}

// Compiler compiles the expressions of one place in a query (a scope) for
// one record kind.
type Compiler struct {
	kind  record.Kind
	cat   *record.Catalogue
	scope *Scope
	mat   map[string]int
	src   string
	opts  EvalOptions
}

// Compiler returns a compiler for expressions in scope over records of kind.
// kind 0 compiles for rows without a record; then, in phase 0, record
// fields are read from the slots mat names (the fields a buffered row
// kept). opts gives now() and the query's time range.
func (chk *Checked) Compiler(scope *Scope, kind record.Kind, mat map[string]int, opts EvalOptions) *Compiler {
	return newCompiler(chk.Src, scope, kind, mat, opts)
}

func newCompiler(src string, scope *Scope, kind record.Kind, mat map[string]int, opts EvalOptions) *Compiler {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if scope == nil {
		scope = newScope(0, nil)
	}
	c := &Compiler{kind: kind, scope: scope, mat: mat, src: src, opts: opts}
	if kind != 0 {
		c.cat = record.CatalogueOf(kind)
	}
	return c
}

// Scope returns the scope the compiler resolves names in.
func (c *Compiler) Scope() *Scope { return c.scope }

// WithScope returns a compiler like c for another scope of the same phase
// (the items of a fields command each have theirs).
func (c *Compiler) WithScope(s *Scope) *Compiler {
	d := *c
	d.scope = s
	return &d
}

func (c *Compiler) errorf(e Node, format string, args ...any) error {
	return newError(c.src, e.Span(), nil, format, args...)
}

// ---- filters for detection and suppression rules ----

// CompileFilter compiles a filter expression (from ParseExpr) for records of
// one kind, as detection rules and suppression filters use it. It applies
// the checker's rules for a filter over that kind: an unknown field of a
// closed kind, an aggregate or a misplaced time period is an error (a
// *Error; its line and column are relative to the expression's own text
// only when the expression was parsed alone — use ParseFilter to have them
// right). The returned function is safe for concurrent use.
func CompileFilter(e Expr, kind record.Kind) (func(record.Record) bool, error) {
	f, _, err := compileFilter("", e, kind)
	return f, err
}

// ParseFilter parses src as a filter expression and compiles it for records
// of kind (ParseExpr, then CompileFilter), with warnings and errors
// positioned in src.
func ParseFilter(src string, kind record.Kind) (func(record.Record) bool, []Warning, error) {
	e, ws, err := ParseExpr(src)
	if err != nil {
		return nil, ws, err
	}
	f, cws, err := compileFilter(src, e, kind)
	return f, mergeWarnings(ws, cws), err
}

func compileFilter(src string, e Expr, kind record.Kind) (func(record.Record) bool, []Warning, error) {
	if record.CatalogueOf(kind) == nil {
		return nil, nil, fmt.Errorf("compile filter: unknown record kind %s", kind)
	}
	c := &checker{src: src, given: true, kinds: []record.Kind{kind}}
	scope := newScope(0, nil)
	c.expr(e, exprCtx{scope: scope})
	for _, ref := range c.refs {
		c.validateField(ref)
	}
	ws := c.finishWarnings()
	if len(c.errs) > 0 {
		return nil, ws, c.errs[0]
	}
	p, err := newCompiler(src, scope, kind, nil, EvalOptions{}).Cond(e)
	if err != nil {
		return nil, ws, err
	}
	pool := sync.Pool{New: func() any { return new(Row) }}
	return func(rec record.Record) bool {
		r := pool.Get().(*Row)
		r.Rec = rec
		ok := p(r)
		r.Rec = nil
		pool.Put(r)
		return ok
	}, ws, nil
}

// ---- values ----

// constant returns an Eval of a fixed value.
func constant(v record.Value) Eval { return func(*Row) record.Value { return v } }

// literal returns the value of a literal expression, if e is one.
func literal(e Expr) (record.Value, bool) {
	switch e := e.(type) {
	case *StringLit:
		return record.StringValue(e.Value), true
	case *NumberLit:
		return numberLit(e), true
	case *UnaryExpr:
		if e.Op == OpNeg {
			if v, ok := literal(e.X); ok && isNumberKind(v) {
				return arith(OpSub, record.IntValue(0), v), true
			}
		}
	}
	return missing, false
}

// numberLit returns a number literal's value, exact for whole numbers.
func numberLit(n *NumberLit) record.Value {
	if LooksInteger(n.Text) {
		if i, err := strconv.ParseInt(n.Text, 10, 64); err == nil {
			return record.IntValue(i)
		}
	}
	return numValue(n.Value)
}

// Value compiles an expression that yields a value.
func (c *Compiler) Value(e Expr) (Eval, error) {
	if i, ok := c.boundSlot(e); ok {
		return func(r *Row) record.Value { return r.Slots[i] }, nil
	}
	switch e := e.(type) {
	case *FieldRef:
		return c.field(e), nil
	case *StringLit, *NumberLit:
		v, _ := literal(e)
		return constant(v), nil
	case *UnaryExpr:
		if e.Op == OpNot {
			return c.boolOf(e)
		}
		if v, ok := literal(e); ok {
			return constant(v), nil
		}
		x, err := c.Value(e.X)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value { return arith(OpSub, record.IntValue(0), x(r)) }, nil
	case *BinaryExpr:
		if e.Op == OpAnd || e.Op == OpOr {
			return c.boolOf(e)
		}
		return c.arith(e)
	case *CompareExpr, *LikeExpr, *InExpr:
		return c.boolOf(e)
	case *CallExpr:
		return c.call(e)
	case *IndexExpr:
		x, err := c.Value(e.X)
		if err != nil {
			return nil, err
		}
		idx, err := c.Value(e.Index)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			i, ok := toInt(idx(r))
			if !ok {
				return missing
			}
			return jsonIndex(x(r), i)
		}, nil
	case *MemberExpr:
		x, err := c.Value(e.X)
		if err != nil {
			return nil, err
		}
		name := e.Name
		return func(r *Row) record.Value { return jsonMember(x(r), name) }, nil
	case *RegexLit:
		return nil, c.errorf(e, "a regex is only allowed after like, not like and =~")
	case *DurationLit:
		return nil, c.errorf(e, "a time period such as %s is only allowed as the period of bin, datefloor and dateceil", e.Text)
	case *Star:
		return nil, c.errorf(e, `"*" is only allowed in count(*)`)
	}
	return nil, c.errorf(e, "unsupported expression %s", e.String())
}

// boundSlot reports whether e as a whole stands for a slot: an aggregate
// call in a stats item, or (after stats) a column named by the expression's
// text, as in "sort count(*) desc".
func (c *Compiler) boundSlot(e Expr) (int, bool) {
	s := c.scope
	if i, ok := s.exprs[e]; ok {
		return i, true
	}
	if s.Phase > 0 && s.exprs == nil && c.kind == 0 {
		if _, isRef := e.(*FieldRef); !isRef {
			if i, ok := s.slots[columnName(c.src, e)]; ok {
				return i, true
			}
		}
	}
	return 0, false
}

// boolOf compiles a condition as a value: true/false print as 1/0.
func (c *Compiler) boolOf(e Expr) (Eval, error) {
	p, err := c.Cond(e)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value { return boolValue(p(r)) }, nil
}

// field compiles a field reference.
func (c *Compiler) field(ref *FieldRef) Eval {
	res := c.scope.resolve(ref)
	switch res.kind {
	case resSlot:
		i := res.slot
		return func(r *Row) record.Value { return r.Slots[i] }
	case resMember:
		i, path := res.slot, res.member
		return func(r *Row) record.Value {
			v := r.Slots[i]
			for _, m := range path {
				v = jsonMember(v, m)
			}
			return v
		}
	}
	return c.recordField(res.name)
}

// RecordField compiles a read of the record field called name (a catalogue
// name, a system field or a JSON path), whatever the scope holds.
func (c *Compiler) RecordField(name string) Eval { return c.recordField(name) }

// recordField compiles a read of the record field called name.
func (c *Compiler) recordField(name string) Eval {
	if c.kind == 0 {
		if i, ok := c.mat[name]; ok {
			return func(r *Row) record.Value { return r.Slots[i] }
		}
		return constant(missing)
	}
	switch name {
	case "@log":
		return func(r *Row) record.Value {
			if r.Log == "" {
				return missing
			}
			return record.StringValue(r.Log)
		}
	case "@ptr":
		return func(r *Row) record.Value {
			if r.Log == "" {
				return missing
			}
			return record.StringValue(r.Log + ":" + strconv.FormatInt(r.Seq, 10))
		}
	case "@ingestionTime":
		return constant(missing)
	}
	if f, ok := c.cat.Lookup(name); ok {
		id := f.ID
		if c.kind == record.KindFlow {
			if ev := flowValue(id); ev != nil {
				return ev
			}
		}
		return func(r *Row) record.Value { return r.Rec.Get(id) }
	}
	// Open kinds look paths up in the JSON event; flows answer for fields of
	// an unknown header and Missing otherwise.
	return func(r *Row) record.Value { return r.Rec.Path(name) }
}

// ---- arithmetic ----

func (c *Compiler) arith(e *BinaryExpr) (Eval, error) {
	x, err := c.Value(e.X)
	if err != nil {
		return nil, err
	}
	y, err := c.Value(e.Y)
	if err != nil {
		return nil, err
	}
	op := e.Op
	if cv, ok := literal(e.Y); ok {
		return func(r *Row) record.Value { return arith(op, x(r), cv) }, nil
	}
	return func(r *Row) record.Value { return arith(op, x(r), y(r)) }, nil
}

// arith applies an arithmetic operator. A missing or non-numeric operand,
// and division or modulo by zero, give missing (§4.4). Whole numbers stay
// exact through + - * % while they fit in 64 bits; / is floating-point.
func arith(op BinaryOp, a, b record.Value) record.Value {
	if a.Kind == record.Int && b.Kind == record.Int {
		x, y := a.Int, b.Int
		switch op {
		case OpAdd:
			if s := x + y; (s > x) == (y > 0) {
				return record.IntValue(s)
			}
		case OpSub:
			if s := x - y; (s < x) == (y > 0) {
				return record.IntValue(s)
			}
		case OpMul:
			if x == 0 || y == 0 {
				return record.IntValue(0)
			}
			if p := x * y; p/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
				return record.IntValue(p)
			}
		case OpMod:
			if y == 0 {
				return missing
			}
			if y != -1 {
				return record.IntValue(x % y)
			}
			return record.IntValue(0)
		}
	}
	x, ok := toNumber(a)
	if !ok {
		return missing
	}
	y, ok := toNumber(b)
	if !ok {
		return missing
	}
	switch op {
	case OpAdd:
		return numValue(x + y)
	case OpSub:
		return numValue(x - y)
	case OpMul:
		return numValue(x * y)
	case OpDiv:
		if y == 0 {
			return missing
		}
		return numValue(x / y)
	case OpMod:
		if y == 0 {
			return missing
		}
		return numValue(math.Mod(x, y))
	case OpPow:
		return numValue(math.Pow(x, y))
	}
	return missing
}

// ---- conditions ----

// Cond compiles an expression used as a condition (filter, and, or, not,
// if): comparisons directly, anything else by its truth (§3.3).
func (c *Compiler) Cond(e Expr) (Pred, error) {
	if _, ok := c.boundSlot(e); ok {
		v, err := c.Value(e)
		if err != nil {
			return nil, err
		}
		return func(r *Row) bool { return truthy(v(r)) }, nil
	}
	switch e := e.(type) {
	case *BinaryExpr:
		if e.Op != OpAnd && e.Op != OpOr {
			break
		}
		x, err := c.Cond(e.X)
		if err != nil {
			return nil, err
		}
		y, err := c.Cond(e.Y)
		if err != nil {
			return nil, err
		}
		if e.Op == OpAnd {
			return func(r *Row) bool { return x(r) && y(r) }, nil
		}
		return func(r *Row) bool { return x(r) || y(r) }, nil
	case *UnaryExpr:
		if e.Op != OpNot {
			break
		}
		x, err := c.Cond(e.X)
		if err != nil {
			return nil, err
		}
		return func(r *Row) bool { return !x(r) }, nil
	case *CompareExpr:
		return c.compare(e)
	case *LikeExpr:
		return c.like(e)
	case *InExpr:
		return c.in(e)
	}
	v, err := c.Value(e)
	if err != nil {
		return nil, err
	}
	return func(r *Row) bool { return truthy(v(r)) }, nil
}

// holds reports whether a comparison result satisfies op.
func holds(op CompareOp, cmp int) bool {
	switch op {
	case OpEq:
		return cmp == 0
	case OpNe:
		return cmp != 0
	case OpLt:
		return cmp < 0
	case OpLe:
		return cmp <= 0
	case OpGt:
		return cmp > 0
	case OpGe:
		return cmp >= 0
	}
	return false
}

// swapped returns the operator with its operands exchanged (1 < x is x > 1).
func swapped(op CompareOp) CompareOp {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

func (c *Compiler) compare(e *CompareExpr) (Pred, error) {
	op, xe, ye := e.Op, e.X, e.Y
	if _, ok := literal(xe); ok {
		if _, ok := literal(ye); !ok {
			op, xe, ye = swapped(op), ye, xe
		}
	}
	cv, isConst := literal(ye)
	if id, ok := c.flowField(xe); ok && isConst {
		var p Pred
		switch cv.Kind {
		case record.Int:
			p = flowCompareInt(id, op, cv.Int)
		case record.String:
			p = flowAction(id, op, cv.Str)
		}
		if p != nil {
			return p, nil
		}
	}
	x, err := c.Value(xe)
	if err != nil {
		return nil, err
	}
	if !isConst {
		y, err := c.Value(ye)
		if err != nil {
			return nil, err
		}
		return func(r *Row) bool {
			cmp, ok := compareValues(x(r), y(r))
			return ok && holds(op, cmp)
		}, nil
	}
	switch cv.Kind {
	case record.Int:
		n := cv.Int
		return func(r *Row) bool {
			v := x(r)
			if v.Kind == record.Int {
				return holds(op, cmpInt(v.Int, n))
			}
			cmp, ok := compareValues(v, cv)
			return ok && holds(op, cmp)
		}, nil
	case record.String:
		s := cv.Str
		// An address written canonically compares with address fields
		// without formatting them.
		if ip, err := netip.ParseAddr(s); err == nil && ip.String() == s && (op == OpEq || op == OpNe) {
			eq := op == OpEq
			return func(r *Row) bool {
				v := x(r)
				switch v.Kind {
				case record.Addr:
					return (v.IP == ip) == eq
				case record.String:
					return (v.Str == s) == eq
				}
				cmp, ok := compareValues(v, cv)
				return ok && holds(op, cmp)
			}, nil
		}
		return func(r *Row) bool {
			v := x(r)
			if v.Kind == record.String {
				return holds(op, strings.Compare(v.Str, s))
			}
			cmp, ok := compareValues(v, cv)
			return ok && holds(op, cmp)
		}, nil
	}
	return func(r *Row) bool {
		cmp, ok := compareValues(x(r), cv)
		return ok && holds(op, cmp)
	}, nil
}

// like compiles like, not like and =~: a case-sensitive substring test for a
// string pattern, an unanchored regex search for a regex. A missing value
// (or a map or list) matches neither like nor not like (§9.9).
func (c *Compiler) like(e *LikeExpr) (Pred, error) {
	x, err := c.Value(e.X)
	if err != nil {
		return nil, err
	}
	not := e.Not
	switch p := e.Pattern.(type) {
	case *StringLit:
		pat := p.Value
		patb := []byte(pat)
		return func(r *Row) bool {
			v := x(r)
			switch v.Kind {
			case record.String:
				return strings.Contains(v.Str, pat) != not
			case record.Missing, JSONValue:
				return false
			}
			var buf [64]byte
			return bytes.Contains(appendText(buf[:0], v), patb) != not
		}, nil
	case *RegexLit:
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return nil, c.errorf(p, "invalid regex: %v", err)
		}
		if match := literalRegex(p.Pattern, re); match != nil {
			return func(r *Row) bool {
				v := x(r)
				switch v.Kind {
				case record.String:
					return match(v.Str) != not
				case record.Missing, JSONValue:
					return false
				}
				var buf [64]byte
				return match(unsafeString(appendText(buf[:0], v))) != not
			}, nil
		}
		return func(r *Row) bool {
			v := x(r)
			switch v.Kind {
			case record.String:
				return re.MatchString(v.Str) != not
			case record.Missing, JSONValue:
				return false
			}
			var buf [64]byte
			return re.Match(appendText(buf[:0], v)) != not
		}, nil
	}
	return nil, c.errorf(e.Pattern, "like needs a string or a regex")
}

// literalRegex returns a plain string test equivalent to re, compiled from
// pattern, when it is only literal text, optionally anchored (/abc/, /^abc/,
// /abc$/, /^abc$/), and optionally case-insensitive (/(?i)abc/, /(?i)^abc$/):
// most of the regexes in filters and rules. It returns nil for any other regex. The
// regexp package takes several times longer for the same answer, and tens of
// times longer for a case-insensitive one.
func literalRegex(pattern string, re *regexp.Regexp) func(string) bool {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	tree = tree.Simplify()
	if tree.Op == syntax.OpLiteral && tree.Flags&syntax.FoldCase != 0 {
		if f := newFoldSearch(string(tree.Rune)); f != nil {
			return func(v string) bool {
				found, sure := f.in(v)
				if !sure {
					return re.MatchString(v)
				}
				return found
			}
		}
		return nil
	}
	lit := func(n *syntax.Regexp) (string, bool) {
		if n.Op != syntax.OpLiteral || n.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		return string(n.Rune), true
	}
	if s, ok := lit(tree); ok {
		return func(v string) bool { return strings.Contains(v, s) }
	}
	if tree.Op != syntax.OpConcat || len(tree.Sub) < 2 || len(tree.Sub) > 3 {
		return nil
	}
	subs := tree.Sub
	begin := subs[0].Op == syntax.OpBeginText
	end := subs[len(subs)-1].Op == syntax.OpEndText
	if begin {
		subs = subs[1:]
	}
	if end {
		subs = subs[:len(subs)-1]
	}
	if len(subs) != 1 || !begin && !end {
		return nil
	}
	if n := subs[0]; n.Op == syntax.OpLiteral && n.Flags&syntax.FoldCase != 0 {
		return anchoredFold(string(n.Rune), begin, end, re)
	}
	s, ok := lit(subs[0])
	if !ok {
		return nil
	}
	switch {
	case begin && end:
		return func(v string) bool { return v == s }
	case begin:
		return func(v string) bool { return strings.HasPrefix(v, s) }
	}
	return func(v string) bool { return strings.HasSuffix(v, s) }
}

// anchoredFold is literalRegex for /(?i)^abc$/, /(?i)^abc/ and /(?i)abc$/:
// an ASCII case-folding comparison, the regexp package deciding on text past
// ASCII that the comparison does not match (see foldSearch.in).
func anchoredFold(needle string, begin, end bool, re *regexp.Regexp) func(string) bool {
	f := newFoldSearch(needle)
	if f == nil {
		return nil
	}
	n := len(f.lower)
	var match func(v string) bool
	switch {
	case begin && end:
		match = func(v string) bool { return len(v) == n && equalFoldLower(v, f.lower) }
	case begin:
		match = func(v string) bool { return len(v) >= n && equalFoldLower(v[:n], f.lower) }
	default:
		match = func(v string) bool { return len(v) >= n && equalFoldLower(v[len(v)-n:], f.lower) }
	}
	return func(v string) bool {
		if match(v) {
			return true
		}
		return !isASCII(v) && re.MatchString(v)
	}
}

// foldSearch finds an ASCII needle in a text ignoring ASCII case, as
// /(?i)needle/ does on ASCII text.
type foldSearch struct {
	lower  string // the needle in lower case
	anchor int    // index of the needle byte searched for first
	// the anchor byte in either case; the same byte when it is not a letter
	anchorLo, anchorUp byte
}

// newFoldSearch returns a search for needle, nil when needle is empty or not
// all ASCII.
func newFoldSearch(needle string) *foldSearch {
	if needle == "" || !isASCII(needle) {
		return nil
	}
	f := &foldSearch{lower: strings.ToLower(needle)}
	// Search first for a byte that is not a letter, which has one case and so
	// one fast IndexByte; failing that, for the needle's first byte.
	for i := range len(f.lower) {
		if c := f.lower[i]; c < 'a' || c > 'z' {
			f.anchor = i
			break
		}
	}
	c := f.lower[f.anchor]
	f.anchorLo, f.anchorUp = c, c
	if 'a' <= c && c <= 'z' {
		f.anchorUp = c - 'a' + 'A'
	}
	return f
}

// in reports whether the needle is in v. sure is false when it found none
// but v holds bytes past ASCII: Unicode folds K and S with the Kelvin and
// long-s signs, so the regex may still match.
func (f *foldSearch) in(v string) (found, sure bool) {
	n := len(f.lower)
	for from := f.anchor; from < len(v); {
		i := strings.IndexByte(v[from:], f.anchorLo)
		if f.anchorUp != f.anchorLo {
			rest := v[from:]
			if i >= 0 {
				rest = rest[:i]
			}
			if j := strings.IndexByte(rest, f.anchorUp); j >= 0 {
				i = j
			}
		}
		if i < 0 {
			break
		}
		at := from + i - f.anchor // where the needle would start
		if at+n > len(v) {
			break
		}
		if equalFoldLower(v[at:at+n], f.lower) {
			return true, true
		}
		from += i + 1
	}
	return false, isASCII(v)
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// equalFoldLower reports whether s, folded to lower case in ASCII, is lower.
func equalFoldLower(s, lower string) bool {
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// in compiles in and not in: whole-value equality with any element, by the
// rules of = (§4.3). A missing value is in no list and not in none.
func (c *Compiler) in(e *InExpr) (Pred, error) {
	x, err := c.Value(e.X)
	if err != nil {
		return nil, err
	}
	list := make([]record.Value, 0, len(e.List))
	for _, el := range e.List {
		v, ok := literal(el)
		if !ok {
			return nil, c.errorf(el, "a list holds only strings and numbers")
		}
		list = append(list, v)
	}
	not := e.Not
	return func(r *Row) bool {
		v := x(r)
		if v.Kind == record.Missing || v.Kind == JSONValue {
			return false
		}
		for _, el := range list {
			if equalValues(v, el) {
				return !not
			}
		}
		return not
	}, nil
}

// ---- calls ----

// builder compiles a call to one scalar function; its arguments have the
// counts the function table allows (the checker saw to it).
type builder func(c *Compiler, call *CallExpr) (Eval, error)

// builders maps lower-case function names to their builders; the fn_*.go
// files fill it.
var builders = map[string]builder{}

func register(name string, b builder) {
	key := strings.ToLower(name)
	if _, dup := builders[key]; dup {
		panic("BUG: function " + name + " registered twice")
	}
	builders[key] = b
}

func (c *Compiler) call(call *CallExpr) (Eval, error) {
	f, ok := LookupFunc(call.Name)
	if !ok {
		return nil, c.errorf(call, "unknown function %s", call.Orig)
	}
	if f.Aggregate {
		return nil, c.errorf(call, "%s is an aggregate function: it is only allowed in stats", call.Orig)
	}
	n := len(call.Args)
	if n < f.MinArgs || (f.MaxArgs >= 0 && n > f.MaxArgs) {
		return nil, c.errorf(call, "%s takes %s, found %d", f.Name, arity(f), n)
	}
	b := builders[call.Name]
	if b == nil {
		return nil, c.errorf(call, "function %s is not implemented", f.Name)
	}
	return b(c, call)
}

// args compiles every argument of call.
func (c *Compiler) args(call *CallExpr) ([]Eval, error) {
	evals := make([]Eval, len(call.Args))
	for i, a := range call.Args {
		ev, err := c.Value(a)
		if err != nil {
			return nil, err
		}
		evals[i] = ev
	}
	return evals, nil
}

// arg1 compiles the single argument of call.
func (c *Compiler) arg1(call *CallExpr) (Eval, error) { return c.Value(call.Args[0]) }
