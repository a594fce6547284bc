package query

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/vigil-dev/vigil/internal/record"
)

// Checked is a query whose names, functions and pipeline rules have been
// checked against the record catalogues. It says, for every command, which
// names it sees and which slots it sets, so that the planner and executor
// compile expressions without resolving anything again.
type Checked struct {
	Query *Query
	// Src is the text the query was parsed from; column names of unaliased
	// expressions are cut from it.
	Src string
	// Kinds are the record kinds the query reads, in record.Kinds order:
	// the ones given to Check, or those whose fields the query names.
	Kinds []record.Kind
	// Stages holds one entry per command, in order.
	Stages []*Stage
	// Columns are the columns of the result, evaluated on the final rows in
	// the scope Final.
	Columns []Column
	// Final is the scope after the last command.
	Final *Scope
	// PhaseSlots is the number of slots each phase defines in all: the
	// length of Row.Slots for rows of that phase.
	PhaseSlots []int
}

// Stage is one command of a checked query.
type Stage struct {
	Cmd Command
	// Phase is 0 before the first stats, n after the n-th (a stats command
	// itself belongs to the phase it reads).
	Phase int
	// Scope holds the names the command's expressions see; Out the names
	// after it.
	Scope, Out *Scope
	// Slots says where a fields or parse command stores what it computes:
	// for fields, one entry per item, -1 for an item that only names an
	// existing field; for parse, one per extracted field.
	Slots []int
	// ItemScopes holds, for a fields command, the scope of each item: the
	// names before the command and the items before it.
	ItemScopes []*Scope
	// Ignored marks a display that has no effect: a later display overrides
	// it, or a stats after it replaces the columns.
	Ignored bool
	// Stats describes a stats command.
	Stats *StatsStage
}

// StatsStage is the resolved form of a stats command.
type StatsStage struct {
	Groups []Column // the by items, evaluated in the input scope
	Items  []Column // the aggregate items, evaluated in AggScope
	// Aggs lists every aggregate call of the items, in order of appearance.
	Aggs []*AggCall
	// AggScope is the scope the items are compiled in, over a row of the
	// groups' values (slots 0…), the items' values (after the groups, so an
	// item can use an earlier one) and the aggregate results (after the
	// items; each AggCall's Slot).
	AggScope *Scope
}

// AggCall is one aggregate function call in a stats item.
type AggCall struct {
	Call *CallExpr
	Func *Func
	// Arg is the argument, evaluated per input row in the stats' input
	// scope; nil for count(*) and count().
	Arg Expr
	// Percent is pct's second argument.
	Percent float64
	// Slot is where the result goes in the AggScope row.
	Slot int
}

// Column is a named output column (or a stats group or item).
type Column struct {
	Name string
	Expr Expr
}

// systemFields are the fields every record has, whatever its kind.
var systemFields = map[string]bool{
	"@timestamp": true, "@message": true, "@logStream": true, "@log": true, "@ptr": true, "@ingestionTime": true,
}

// publicDNSNames maps the field names of Route 53 public DNS query logs to
// their Resolver query-log counterparts (§9.5: a common mix-up).
var publicDNSNames = map[string]string{
	"queryName": "query_name", "queryType": "query_type", "responseCode": "rcode",
	"resolverIp": "srcaddr", "queryTimestamp": "query_timestamp", "hostZoneId": "",
	"edgeLocation": "", "ednsClientSubnet": "",
}

// Check resolves every field of q against the catalogues of the record kinds
// it may read, checks functions (names, arities, where aggregates and time
// periods may appear) and the pipeline rules (after stats only its columns
// exist), and returns the warnings that the pitfalls of §9 of the reference
// deserve. src is the text q was parsed from: errors and warnings are
// positioned in it, and unaliased columns are named from it.
//
// kinds restricts the records the query reads; nil infers them from the
// field names (srcAddr reads flows, query_name DNS, eventName CloudTrail;
// a query that names no kind's field reads all). A non-nil error is a
// *Error; like Parse, Check reports the first error in the text.
func Check(src string, q *Query, kinds []record.Kind) (*Checked, []Warning, error) {
	c := &checker{src: src, given: kinds != nil}
	if c.given {
		c.kinds = normKinds(kinds)
	}
	chk := c.check(q)
	ws := c.finishWarnings()
	if len(c.errs) > 0 {
		first := c.errs[0]
		for _, e := range c.errs[1:] {
			if e.Span.Start < first.Span.Start {
				first = e
			}
		}
		return nil, ws, first
	}
	return chk, ws, nil
}

// ParseAndCheck parses and checks src (Parse, then Check).
func ParseAndCheck(src string, kinds []record.Kind) (*Checked, []Warning, error) {
	q, ws, err := Parse(src)
	if err != nil {
		return nil, ws, err
	}
	chk, cws, err := Check(src, q, kinds)
	return chk, mergeWarnings(ws, cws), err
}

// mergeWarnings merges two position-sorted warning lists.
func mergeWarnings(a, b []Warning) []Warning {
	out := append(slices.Clip(a), b...)
	slices.SortStableFunc(out, func(x, y Warning) int { return x.Span.Start - y.Span.Start })
	return out
}

func normKinds(kinds []record.Kind) []record.Kind {
	var out []record.Kind
	for _, k := range record.Kinds {
		if slices.Contains(kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

// checker holds the state of one Check.
type checker struct {
	src    string
	kinds  []record.Kind
	given  bool
	errs   []*Error
	warns  []Warning
	refs   []*FieldRef // phase-0 record field references, validated once the kinds are known
	phases []*Scope    // the last scope of each phase
}

func (c *checker) errorf(span Span, format string, args ...any) {
	c.errs = append(c.errs, newError(c.src, span, nil, format, args...))
}

func (c *checker) warnf(span Span, format string, args ...any) {
	c.warns = append(c.warns, *newWarning(span, format, args...))
}

func (c *checker) finishWarnings() []Warning {
	slices.SortStableFunc(c.warns, func(a, b Warning) int { return a.Span.Start - b.Span.Start })
	for i := range c.warns {
		c.warns[i].Line, c.warns[i].Column = Position(c.src, c.warns[i].Span.Start)
	}
	return c.warns
}

// exprCtx is where an expression is being checked.
type exprCtx struct {
	scope *Scope
	// agg is set at the top level of a stats aggregate item (outside any
	// aggregate call): it collects the calls and knows the item scope.
	agg *aggCollector
	// inAgg is set inside an aggregate call's arguments, which are checked
	// in the stats' input scope.
	inAgg bool
}

// aggCollector gathers the aggregate calls of one stats command.
type aggCollector struct {
	input *Scope // the stats' input scope, for aggregate arguments
	items *Scope // groups and earlier items
	calls []*AggCall
	// seen counts the aggregates and item references of the current item.
	seen int
}

func (c *checker) check(q *Query) *Checked {
	chk := &Checked{Query: q, Src: c.src}
	scope := newScope(0, nil)
	phase := 0
	var lastDisplay *Stage
	for i, cmd := range q.Commands {
		st := &Stage{Cmd: cmd, Phase: phase, Scope: scope}
		ctx := exprCtx{scope: scope}
		switch cmd := cmd.(type) {
		case *FilterCmd:
			c.expr(cmd.Cond, ctx)
		case *FieldsCmd:
			// Each item sees the fields before the command and the items
			// before it: fields bytes / packets as bpp, bpp * 8 as bits.
			out := scope
			for _, it := range cmd.Items {
				c.expr(it.Expr, exprCtx{scope: out})
				st.ItemScopes = append(st.ItemScopes, out)
				if _, ok := it.Expr.(*FieldRef); ok && it.Alias == nil {
					st.Slots = append(st.Slots, -1)
					continue
				}
				out = out.clone()
				name := c.projName(it)
				if it.Alias != nil {
					c.checkRedefine(out, name, it.Alias.Pos)
				}
				st.Slots = append(st.Slots, out.define(name, it.Span()))
			}
			scope = out
		case *DisplayCmd:
			for _, it := range cmd.Items {
				c.expr(it.Expr, ctx)
			}
			if lastDisplay != nil {
				lastDisplay.Ignored = true
				c.warnf(lastDisplay.Cmd.Span(), "this display is ignored: only the last display of a query counts")
			}
			lastDisplay = st
		case *ParseCmd:
			if cmd.Source != nil {
				c.ref(cmd.Source, ctx)
			}
			out := scope.clone()
			seen := map[string]bool{}
			names := cmd.Fields()
			for j, name := range names {
				at := cmd.Span()
				if j < len(cmd.As) {
					at = cmd.As[j].Pos
				}
				if seen[name] {
					c.errorf(at, "parse names %s twice", name)
				}
				seen[name] = true
				c.checkRedefine(out, name, at)
				st.Slots = append(st.Slots, out.define(name, at))
			}
			scope = out
		case *SortCmd:
			for _, k := range cmd.Keys {
				c.expr(k.Expr, ctx)
			}
			if next := nextOrderSensitive(q.Commands[i+1:]); next != nil && next.Name() == "stats" {
				c.warnf(cmd.Span(), "this sort has no effect: stats does not keep the order of its input")
			}
		case *DedupCmd:
			for _, f := range cmd.Fields {
				c.ref(f, ctx)
			}
		case *LimitCmd:
		case *StatsCmd:
			if lastDisplay != nil && lastDisplay.Phase == phase {
				lastDisplay.Ignored = true
				c.warnf(lastDisplay.Cmd.Span(), "this display has no effect: the stats after it replaces the columns")
				lastDisplay = nil
			}
			c.phases = append(c.phases, scope)
			st.Stats, scope = c.stats(cmd, scope)
			phase++
		}
		st.Out = scope
		chk.Stages = append(chk.Stages, st)
	}
	c.phases = append(c.phases, scope)
	chk.Final = scope
	for _, s := range c.phases {
		chk.PhaseSlots = append(chk.PhaseSlots, s.Len())
	}

	// Which records does the query read? Now that every phase-0 reference
	// is known, infer the kinds and validate the names against them.
	if !c.given {
		c.kinds = c.inferKinds()
	}
	chk.Kinds = c.kinds
	for _, ref := range c.refs {
		c.validateField(ref)
	}
	chk.Columns = c.columns(chk, lastDisplay)
	return chk
}

// nextOrderSensitive returns the first command after a sort that either
// uses the order (limit, dedup, stats) or is another sort; nil at the end.
func nextOrderSensitive(rest []Command) Command {
	for _, cmd := range rest {
		switch cmd.(type) {
		case *LimitCmd, *DedupCmd, *StatsCmd, *SortCmd:
			return cmd
		}
	}
	return nil
}

// checkRedefine reports a name that fields or parse defines again in the
// same phase: AWS rejects such queries (MalformedQueryException).
func (c *checker) checkRedefine(s *Scope, name string, at Span) {
	if i, ok := s.slots[name]; ok {
		line, col := Position(c.src, s.defs[i].Start)
		c.errorf(at, "field %s is already defined at %d:%d; a query cannot redefine a field it created, choose another name", name, line, col)
	}
}

// projName returns the column name of a projection: its alias, the name of a
// plain field, or the expression's text.
func (c *checker) projName(p *Projection) string {
	if p.Alias != nil {
		return p.Alias.Name
	}
	return columnName(c.src, p.Expr)
}

// ColumnName returns the name of the column an unaliased expression makes:
// a field's name, or the expression's source text without the white space
// outside string and regex literals (§3.4: count(*), sum(bytes), bin(5m)).
func (c *Checked) ColumnName(e Expr) string { return columnName(c.Src, e) }

func columnName(src string, e Expr) string {
	if ref, ok := e.(*FieldRef); ok {
		return ref.Name()
	}
	sp := e.Span()
	if src == "" || sp.Start < 0 || sp.End > len(src) || sp.Start >= sp.End {
		return squeeze(e.String(), nil, 0, false)
	}
	// Keep literal text as written; squeeze the rest.
	var lits []Span
	Inspect(e, func(n Node) bool {
		switch n.(type) {
		case *StringLit, *RegexLit:
			lits = append(lits, n.Span())
		}
		return true
	})
	return squeeze(src[sp.Start:sp.End], lits, sp.Start, true)
}

// squeeze removes white space from text, and # comments when it is source
// text, except inside the literal spans (offsets relative to base). Printed
// text (not source) has its literals quoted, which squeeze skips over.
func squeeze(text string, lits []Span, base int, source bool) string {
	var b strings.Builder
	inLit := func(off int) (Span, bool) {
		for _, l := range lits {
			if off >= l.Start && off < l.End {
				return l, true
			}
		}
		return Span{}, false
	}
	for i := 0; i < len(text); {
		if l, ok := inLit(base + i); ok {
			end := min(l.End-base, len(text))
			b.WriteString(text[i:end])
			i = end
			continue
		}
		ch := text[i]
		switch {
		case ch == '#' && source:
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case !source && (ch == '"' || ch == '\'' || ch == '`'):
			j := i + 1
			for j < len(text) && text[j] != ch {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(text))
			b.WriteString(text[i:j])
			i = j
		default:
			b.WriteByte(ch)
			i++
		}
	}
	return b.String()
}

// ---- expressions ----

// expr checks an expression in ctx.
func (c *checker) expr(e Expr, ctx exprCtx) {
	if ctx.scope.Phase > 0 && ctx.agg == nil {
		if _, isRef := e.(*FieldRef); !isRef {
			if _, ok := ctx.scope.slots[columnName(c.src, e)]; ok {
				return // a column named by its expression text: sort count(*) desc
			}
		}
	}
	switch e := e.(type) {
	case *FieldRef:
		c.ref(e, ctx)
	case *StringLit, *NumberLit, *RegexLit:
	case *DurationLit:
		c.errorf(e.Pos, "a time period such as %s is only allowed as the period of bin, datefloor and dateceil", e.Text)
	case *Star:
		c.errorf(e.Pos, `"*" is only allowed in count(*)`)
	case *UnaryExpr:
		c.expr(e.X, ctx)
	case *BinaryExpr:
		c.expr(e.X, ctx)
		c.expr(e.Y, ctx)
	case *CompareExpr:
		c.expr(e.X, ctx)
		c.expr(e.Y, ctx)
		c.lintCompare(e, ctx)
	case *LikeExpr:
		c.expr(e.X, ctx)
		c.lintLike(e)
	case *InExpr:
		c.expr(e.X, ctx)
		c.lintIn(e, ctx)
	case *CallExpr:
		c.call(e, ctx)
	case *IndexExpr:
		c.expr(e.X, ctx)
		c.expr(e.Index, ctx)
	case *MemberExpr:
		c.expr(e.X, ctx)
	default:
		c.errorf(e.Span(), "unsupported expression %s", e.String())
	}
}

// ref checks a field reference.
func (c *checker) ref(ref *FieldRef, ctx exprCtx) {
	if ctx.agg != nil && !ctx.inAgg {
		// Top level of a stats item: only groups and earlier items.
		if r := ctx.agg.items.resolve(ref); r.kind != resRecord {
			ctx.agg.seen++
			return
		}
		c.errorf(ref.Pos, "%s is not an aggregate: in stats, use a field inside an aggregate function such as count(%s) or sum(%s), or list it after by", ref.Name(), ref.Name(), ref.Name())
		return
	}
	s := ctx.scope
	if s.resolve(ref).kind != resRecord {
		return
	}
	if s.Phase == 0 {
		c.refs = append(c.refs, ref)
		return
	}
	c.removedByStats(ref, s)
}

// removedByStats reports a raw field named after stats.
func (c *checker) removedByStats(ref *FieldRef, s *Scope) {
	name := ref.Name()
	for _, col := range s.Names {
		if strings.EqualFold(col, name) {
			c.errorf(ref.Pos, "unknown column %s; did you mean %s?", name, col)
			return
		}
	}
	at := ""
	if s.stats != nil {
		line, col := Position(c.src, s.stats.Pos.Start)
		at = fmt.Sprintf(" at %d:%d", line, col)
	}
	c.errorf(ref.Pos, "field %s was removed by the stats%s: after stats only its columns exist (%s)", name, at, strings.Join(s.Names, ", "))
}

// call checks a function call.
func (c *checker) call(call *CallExpr, ctx exprCtx) {
	f, ok := LookupFunc(call.Name)
	if !ok {
		msg := fmt.Sprintf("unknown function %s", call.Orig)
		if s := suggestFunc(call.Name); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		c.errorf(call.NamePos, "%s", msg)
		return
	}
	args := call.Args
	if len(args) == 1 {
		if star, ok := args[0].(*Star); ok {
			if !f.Star {
				c.errorf(star.Pos, `"*" is only allowed in count(*), not in %s`, call.Orig)
				return
			}
			args = nil
		}
	}
	if n := len(call.Args); n < f.MinArgs || (f.MaxArgs >= 0 && n > f.MaxArgs) {
		c.errorf(call.Pos, "%s takes %s, found %d", f.Name, arity(f), n)
		return
	}
	if f.Aggregate {
		switch {
		case ctx.inAgg:
			c.errorf(call.Pos, "aggregate functions cannot be nested: %s is inside another aggregate", call.Orig)
		case ctx.agg == nil:
			c.errorf(call.NamePos, "%s is an aggregate function: it is only allowed in stats", call.Orig)
		default:
			c.aggCall(call, f, args, ctx)
		}
		return
	}
	switch f.Name {
	case "bin":
		c.period(call, args[0])
		c.needTimestamp(call, ctx)
		return
	case "datefloor", "dateceil":
		c.expr(args[0], ctx)
		c.period(call, args[1])
		return
	case "isIpInSubnet", "isIpv4InSubnet", "isIpv6InSubnet":
		if lit, ok := args[1].(*StringLit); ok {
			p, err := netip.ParsePrefix(lit.Value)
			switch {
			case err != nil:
				c.errorf(lit.Pos, "%s: invalid CIDR %q (expected a network such as 10.0.0.0/8)", f.Name, lit.Value)
			case f.Name == "isIpv4InSubnet" && !p.Addr().Is4():
				c.errorf(lit.Pos, "isIpv4InSubnet: %s is not an IPv4 network", lit.Value)
			case f.Name == "isIpv6InSubnet" && p.Addr().Is4():
				c.errorf(lit.Pos, "isIpv6InSubnet: %s is not an IPv6 network", lit.Value)
			}
		}
	case "regexReplace":
		if lit, ok := args[1].(*StringLit); ok {
			if _, err := regexp.Compile(lit.Value); err != nil {
				c.errorf(lit.Pos, "regexReplace: invalid regex %q", lit.Value)
			}
		}
	}
	for _, a := range args {
		c.expr(a, ctx)
	}
}

// arity describes how many arguments f takes.
func arity(f *Func) string {
	switch {
	case f.MaxArgs < 0:
		return fmt.Sprintf("at least %s", count(f.MinArgs, "argument"))
	case f.MinArgs == f.MaxArgs:
		return count(f.MinArgs, "argument")
	case f.MaxArgs == f.MinArgs+1:
		return fmt.Sprintf("%d or %d arguments", f.MinArgs, f.MaxArgs)
	}
	return fmt.Sprintf("%d to %d arguments", f.MinArgs, f.MaxArgs)
}

// suggestFunc returns the function name closest to name, if close enough.
func suggestFunc(name string) string {
	best, bestDist := "", 3
	for _, f := range Funcs() {
		if d := editDistance(name, strings.ToLower(f.Name)); d < bestDist && d < len(name) {
			best, bestDist = f.Name, d
		}
	}
	return best
}

// needTimestamp reports bin (or earliest/latest) after stats removed
// @timestamp: they read it implicitly.
func (c *checker) needTimestamp(call *CallExpr, ctx exprCtx) {
	s := ctx.scope
	if s.Phase == 0 {
		return
	}
	if _, ok := s.slots["@timestamp"]; ok {
		return
	}
	c.errorf(call.Pos, "%s reads @timestamp, which the stats before it removed; keep a time in the first stats (max(@timestamp) as @t) and use datefloor(@t, …) or dateceil(@t, …)", call.Orig)
}

// unitCaps are the largest amounts Logs Insights takes per unit; larger
// ones are silently clamped (bin(300s) acts as bin(60s), §1.5).
var unitCaps = map[DurationUnit]int64{UnitMillisecond: 1000, UnitSecond: 60, UnitMinute: 60, UnitHour: 24}

// period checks the time-period argument of bin, datefloor or dateceil.
func (c *checker) period(call *CallExpr, arg Expr) {
	d, ok := arg.(*DurationLit)
	if !ok {
		c.errorf(arg.Span(), "%s needs a time period such as 5m or 1h, found %s", call.Orig, arg.String())
		return
	}
	if d.Amount <= 0 {
		c.errorf(d.Pos, "a time period must be positive, found %s", d.Text)
		return
	}
	if limit, ok := unitCaps[d.Unit]; ok && d.Amount > limit {
		msg := fmt.Sprintf("%s is read as %d%s: Logs Insights caps %s periods at %d", d.Text, limit, d.Unit, d.Unit, limit)
		if better := biggerUnit(d.Amount, d.Unit); better != "" {
			msg += "; write " + better
		}
		c.warnf(d.Pos, "%s", msg)
	}
}

// biggerUnit rewrites an over-cap period in a larger unit when it divides
// exactly (300s → 5m), or returns "".
func biggerUnit(n int64, u DurationUnit) string {
	steps := []struct {
		from, to DurationUnit
		factor   int64
	}{{UnitMillisecond, UnitSecond, 1000}, {UnitSecond, UnitMinute, 60}, {UnitMinute, UnitHour, 60}, {UnitHour, UnitDay, 24}}
	for _, s := range steps {
		if u != s.from {
			continue
		}
		if n%s.factor != 0 {
			return ""
		}
		n, u = n/s.factor, s.to
		if limit, ok := unitCaps[u]; !ok || n <= limit {
			return strconv.FormatInt(n, 10) + u.String()
		}
	}
	return ""
}

// ---- stats ----

// stats checks a stats command read in scope and returns its description
// and the scope of the rows it makes.
func (c *checker) stats(cmd *StatsCmd, in *Scope) (*StatsStage, *Scope) {
	ss := &StatsStage{}
	items := newScope(in.Phase+1, cmd)
	colAt := map[string]Span{}
	addCol := func(name string, at Span) int {
		if prev, dup := colAt[name]; dup {
			line, col := Position(c.src, prev.Start)
			c.errorf(at, "stats makes two columns named %s (the other at %d:%d); name one of them with as", name, line, col)
		}
		colAt[name] = at
		return items.define(name, at)
	}
	for _, g := range cmd.By {
		c.expr(g.Expr, exprCtx{scope: in})
		name := c.projName(g)
		ss.Groups = append(ss.Groups, Column{Name: name, Expr: g.Expr})
		addCol(name, g.Span())
	}
	agg := &aggCollector{input: in, items: items}
	nGroups, nItems := len(cmd.By), len(cmd.Aggs)
	for _, it := range cmd.Aggs {
		agg.seen = 0
		before := len(c.errs)
		c.expr(it.Expr, exprCtx{scope: items, agg: agg})
		if agg.seen == 0 && len(c.errs) == before {
			c.errorf(it.Expr.Span(), "%s has no aggregate function: stats items need one, such as count(*), sum(bytes) or avg(bytes)", it.Expr.String())
		}
		name := c.projName(it)
		ss.Items = append(ss.Items, Column{Name: name, Expr: it.Expr})
		addCol(name, it.Span())
	}
	ss.Aggs = agg.calls
	aggScope := items.clone()
	aggScope.exprs = make(map[Expr]int, len(agg.calls))
	for i, a := range agg.calls {
		a.Slot = nGroups + nItems + i
		aggScope.exprs[a.Call] = a.Slot
	}
	ss.AggScope = aggScope
	out := newScope(in.Phase+1, cmd)
	for _, name := range items.Names {
		out.define(name, colAt[name])
	}
	return ss, out
}

// aggCall records an aggregate call found in a stats item.
func (c *checker) aggCall(call *CallExpr, f *Func, args []Expr, ctx exprCtx) {
	a := &AggCall{Call: call, Func: f}
	argCtx := exprCtx{scope: ctx.agg.input, inAgg: true}
	if len(args) > 0 {
		a.Arg = args[0]
		c.expr(a.Arg, argCtx)
	}
	switch f.Name {
	case "pct":
		p, ok := constNumber(args[1])
		if !ok || p < 0 || p > 100 {
			c.errorf(args[1].Span(), "pct needs a percentile from 0 to 100 as its second argument, found %s", args[1].String())
		}
		a.Percent = p
	case "earliest", "latest":
		c.needTimestamp(call, argCtx)
	}
	ctx.agg.calls = append(ctx.agg.calls, a)
	ctx.agg.seen++
}

// constNumber returns the value of a number literal, possibly negated.
func constNumber(e Expr) (float64, bool) {
	switch e := e.(type) {
	case *NumberLit:
		return e.Value, true
	case *UnaryExpr:
		if e.Op == OpNeg {
			if v, ok := constNumber(e.X); ok {
				return -v, true
			}
		}
	}
	return 0, false
}

// ---- kinds and fields ----

// inferKinds returns the kinds whose catalogues hold the record fields the
// query names; when it names none, the open kinds if it names other fields
// (paths into JSON events), or every kind.
func (c *checker) inferKinds() []record.Kind {
	var kinds []record.Kind
	other := false
	for _, ref := range c.refs {
		name := ref.Name()
		if systemFields[name] {
			continue
		}
		found := false
		for _, k := range record.Kinds {
			if _, ok := record.CatalogueOf(k).Lookup(name); ok {
				found = true
				if !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
		}
		if !found && foldSuggestions(name, record.Kinds) == nil {
			other = true
		}
	}
	if len(kinds) == 0 {
		for _, k := range record.Kinds {
			if !other || record.CatalogueOf(k).Open {
				kinds = append(kinds, k)
			}
		}
	}
	return normKinds(kinds)
}

// validateField checks a record field name against the kinds read.
func (c *checker) validateField(ref *FieldRef) {
	name := ref.Name()
	if systemFields[name] {
		return
	}
	open := false
	for _, k := range c.kinds {
		cat := record.CatalogueOf(k)
		if _, ok := cat.Lookup(name); ok {
			return
		}
		open = open || cat.Open
	}
	// Case-insensitive match: field names are case-sensitive, and a
	// near-miss silently matches nothing in AWS. An error is kinder.
	// When the query's own fields say which kinds it reads, suggest their
	// names first; otherwise any kind's, saying whose.
	sug := foldSuggestions(name, c.kinds)
	if sug == nil && !c.given {
		sug = foldSuggestions(name, record.Kinds)
	}
	if len(sug) > 1 {
		for i, s := range sug {
			for _, k := range record.Kinds {
				if f, ok := record.CatalogueOf(k).Lookup(s); ok && f.Name == s {
					sug[i] = fmt.Sprintf("%s (%s)", s, k)
					break
				}
			}
		}
	}
	if sug != nil {
		c.errorf(ref.Pos, "unknown field %s; did you mean %s? (field names are case-sensitive)", name, orList(sug))
		return
	}
	if better, ok := publicDNSNames[name]; ok && slices.Contains(c.kinds, record.KindDNS) {
		if better != "" {
			c.warnf(ref.Pos, "%s is a field of Route 53 public DNS query logs; Resolver query logs call it %s", name, better)
		} else {
			c.warnf(ref.Pos, "%s is a field of Route 53 public DNS query logs, not of Resolver query logs", name)
		}
	}
	if open {
		return // a path into the JSON events
	}
	kindNames := make([]string, len(c.kinds))
	for i, k := range c.kinds {
		kindNames[i] = k.String()
	}
	msg := fmt.Sprintf("unknown field %s: %s records have no such field", name, strings.Join(kindNames, " and "))
	for _, k := range record.Kinds {
		if _, ok := record.CatalogueOf(k).Lookup(name); ok && !slices.Contains(c.kinds, k) {
			msg += fmt.Sprintf(" (%s is a field of %s records)", name, k)
			c.errorf(ref.Pos, "%s", msg)
			return
		}
	}
	if _, ok := lookupAny("@"+name, c.kinds); ok {
		msg += fmt.Sprintf("; did you mean @%s?", name)
	} else if s := nearestField(name, c.kinds); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	}
	c.errorf(ref.Pos, "%s", msg)
}

// lookupAny looks name up in the catalogues of kinds.
func lookupAny(name string, kinds []record.Kind) (record.Field, bool) {
	for _, k := range kinds {
		if f, ok := record.CatalogueOf(k).Lookup(name); ok {
			return f, true
		}
	}
	return record.Field{}, false
}

// foldSuggestions returns the canonical names of the fields of kinds that
// match name when case is ignored, excluding exact matches; nil if none.
func foldSuggestions(name string, kinds []record.Kind) []string {
	var out []string
	for _, k := range kinds {
		cat := record.CatalogueOf(k)
		if _, exact := cat.Lookup(name); exact {
			return nil
		}
		for _, s := range cat.Suggest(name) {
			f, _ := cat.Lookup(s)
			if !slices.Contains(out, f.Name) {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// nearestField returns the field of kinds within edit distance 2 of name.
func nearestField(name string, kinds []record.Kind) string {
	best, bestDist := "", 3
	for _, k := range kinds {
		for _, f := range record.CatalogueOf(k).Fields {
			if d := editDistance(strings.ToLower(name), strings.ToLower(f.Name)); d < bestDist && d < len(name) {
				best, bestDist = f.Name, d
			}
		}
	}
	return best
}

func orList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ---- output columns ----

// columns decides the result's columns (§3.1, §3.2, §7): the last display;
// else every field named by the fields commands of the final phase, in
// first-mention order; else @timestamp and @message and the fields parse
// extracted (raw events), or the stats columns and what later fields and
// parse commands added.
func (c *checker) columns(chk *Checked, display *Stage) []Column {
	final := len(chk.PhaseSlots) - 1
	if display != nil && display.Phase == final {
		cols := make([]Column, 0, len(display.Cmd.(*DisplayCmd).Items))
		for _, it := range display.Cmd.(*DisplayCmd).Items {
			cols = append(cols, Column{Name: c.projName(it), Expr: it.Expr})
		}
		return cols
	}
	var cols []Column
	seen := map[string]bool{}
	add := func(name string, e Expr) {
		if !seen[name] {
			seen[name] = true
			cols = append(cols, Column{Name: name, Expr: e})
		}
	}
	slotRef := func(name string) Expr { return &FieldRef{Path: []string{name}} }
	var fieldsCols, parseCols []Column
	for _, st := range chk.Stages {
		if st.Phase != final {
			continue
		}
		switch cmd := st.Cmd.(type) {
		case *FieldsCmd:
			for i, it := range cmd.Items {
				if st.Slots[i] < 0 {
					fieldsCols = append(fieldsCols, Column{Name: it.Expr.(*FieldRef).Name(), Expr: it.Expr})
				} else {
					name := st.Out.Names[st.Slots[i]]
					fieldsCols = append(fieldsCols, Column{Name: name, Expr: slotRef(name)})
				}
			}
		case *ParseCmd:
			for _, s := range st.Slots {
				name := st.Out.Names[s]
				parseCols = append(parseCols, Column{Name: name, Expr: slotRef(name)})
			}
		}
	}
	if final == 0 {
		if len(fieldsCols) > 0 {
			for _, col := range fieldsCols {
				add(col.Name, col.Expr)
			}
			return cols
		}
		add("@timestamp", slotRef("@timestamp"))
		add("@message", slotRef("@message"))
	} else {
		for _, st := range chk.Stages {
			if st.Stats != nil && st.Phase == final-1 {
				for _, g := range st.Stats.Groups {
					add(g.Name, slotRef(g.Name))
				}
				for _, it := range st.Stats.Items {
					add(it.Name, slotRef(it.Name))
				}
			}
		}
		for _, col := range fieldsCols {
			add(col.Name, col.Expr)
		}
	}
	for _, col := range parseCols {
		add(col.Name, col.Expr)
	}
	return cols
}

// ---- lint (§9) ----

// addrPrefix matches text that looks like the start of an IPv4 address.
var addrPrefix = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){0,3}\.?$`)

// lintLike warns about the like traps of §9: substring matching of address
// prefixes, * taken literally, and regexes that match everything.
func (c *checker) lintLike(e *LikeExpr) {
	switch p := e.Pattern.(type) {
	case *StringLit:
		field := e.X.String()
		switch {
		case addrPrefix.MatchString(p.Value) && strings.Contains(p.Value, ".") && addressLike(e.X):
			if a, err := netip.ParseAddr(p.Value); err == nil && a.Is4() {
				c.warnf(p.Pos, "like %q is a substring test: it also matches addresses such as 1%s; to match the address exactly write %s = %q", p.Value, p.Value, field, p.Value)
				return
			}
			if cidr := prefixCIDR(p.Value); cidr != "" {
				c.warnf(p.Pos, "like %q is a substring test: it also matches addresses such as 1%s…; for an address range write isIpv4InSubnet(%s, %q)", p.Value, p.Value, field, cidr)
			}
		case strings.Contains(p.Value, "*"):
			c.warnf(p.Pos, "in like %q the * is a literal asterisk, not a wildcard; use a regex such as /%s/", p.Value, globRegex(p.Value))
		}
	case *RegexLit:
		if re, err := regexp.Compile(p.Pattern); err == nil && re.MatchString("") {
			c.warnf(p.Pos, "the regex /%s/ matches every value, because it matches the empty string", p.Pattern)
		}
	}
}

// addressLike reports whether e names a field that likely holds addresses:
// an address field of a catalogue, or a name with addr or ip in it.
func addressLike(e Expr) bool {
	ref, ok := e.(*FieldRef)
	if !ok {
		return false
	}
	name := ref.Name()
	if f, ok := lookupAny(name, record.Kinds); ok && f.Type == record.TypeAddr {
		return true
	}
	lower := strings.ToLower(name)
	return strings.Contains(lower, "addr") || strings.Contains(lower, "ip")
}

// prefixCIDR turns "10.10." or "10.10" into "10.10.0.0/16".
func prefixCIDR(s string) string {
	parts := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(parts) == 0 || len(parts) > 3 {
		return ""
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return ""
		}
	}
	bits := 8 * len(parts)
	for len(parts) < 4 {
		parts = append(parts, "0")
	}
	return strings.Join(parts, ".") + "/" + strconv.Itoa(bits)
}

// globRegex turns a like string with * into the regex the user likely meant.
func globRegex(s string) string {
	parts := strings.Split(s, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.ReplaceAll(strings.Join(parts, ".*"), "/", `\/`)
}

// lintCompare warns about comparisons that never or always match: a
// Resolver query_name without its trailing dot, a number literal with a
// leading zero (an ID compared as a number).
func (c *checker) lintCompare(e *CompareExpr, ctx exprCtx) {
	c.lintQueryName(e.X, e.Y, ctx)
	c.lintQueryName(e.Y, e.X, ctx)
	for _, side := range []Expr{e.X, e.Y} {
		if n, ok := side.(*NumberLit); ok {
			c.lintLeadingZero(n)
		}
	}
}

func (c *checker) lintIn(e *InExpr, ctx exprCtx) {
	for _, el := range e.List {
		c.lintQueryName(e.X, el, ctx)
		if n, ok := el.(*NumberLit); ok {
			c.lintLeadingZero(n)
		}
	}
}

func (c *checker) lintLeadingZero(n *NumberLit) {
	if len(n.Text) > 1 && n.Text[0] == '0' && isDigit(n.Text[1]) {
		c.warnf(n.Pos, "%s is compared as the number %s; quote it (\"%s\") to compare the text, as account and other IDs need", n.Text, strconv.FormatFloat(n.Value, 'f', -1, 64), n.Text)
	}
}

// lintQueryName warns when a Resolver query_name is compared with a name
// lacking the trailing dot the log always has (§9.6).
func (c *checker) lintQueryName(field, value Expr, ctx exprCtx) {
	ref, ok := field.(*FieldRef)
	if !ok || ref.Name() != "query_name" || ctx.scope.Phase != 0 || ctx.scope.resolve(ref).kind != resRecord {
		return
	}
	lit, ok := value.(*StringLit)
	if !ok || lit.Value == "" || strings.HasSuffix(lit.Value, ".") || !strings.ContainsFunc(lit.Value, unicode.IsLetter) {
		return
	}
	c.warnf(lit.Pos, "Resolver query logs write query_name with a trailing dot (%s.), so this never matches %q; write %q or use like", lit.Value, lit.Value, lit.Value+".")
}
