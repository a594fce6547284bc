package detect

import (
	"math"
	"strconv"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// A flow rule's filter runs for nearly every flow record, several rules each,
// so the engine compiles it a second time, into a predicate over *record.Flow
// that reads the struct members directly: comparisons of whole-number fields
// with constants or with sums and products of fields and constants, action =
// "ACCEPT"/"REJECT", in-lists of numbers, ispresent, and, or, not. Any other
// node (a function such as isPublicIP, a like, a string comparison) is compiled
// by the query compiler alone and called as it is, and so is a node whose
// arithmetic leaves 64 bits. The result is the query compiler's for every
// record (flowfilter_test.go checks both on generated records); it is only
// cheaper: no Row, no Value, no closure per field read.

// flowPred is a compiled flow filter (or a part of one).
type flowPred func(f *record.Flow) bool

// compileFlowFilter compiles src, which query.ParseFilter accepted for flows.
// Top-level conjuncts that pre (the rule's prefilter, checked before the
// predicate runs: Rule.match) holds exactly are left out. It returns nil when
// src cannot be compiled this way at all (the rule then uses the query
// compiler's filter).
func compileFlowFilter(src string, pre *prefilter) flowPred {
	cs, err := flowConjuncts(src, pre)
	if err != nil {
		return nil
	}
	var kept []flowPred
	for _, c := range cs {
		p, err := flowCond(c)
		if err != nil {
			return nil
		}
		kept = append(kept, p)
	}
	return allOf(kept)
}

// flowConjuncts returns the top-level conjuncts of src that pre does not
// hold exactly, in order.
func flowConjuncts(src string, pre *prefilter) ([]query.Expr, error) {
	e, _, err := query.ParseExpr(src)
	if err != nil {
		return nil, err
	}
	var kept []query.Expr
	done := map[record.FieldID]bool{}
	for _, c := range chain(e, query.OpAnd) {
		if id, vs, ok := prefilterTerm(c); ok && !done[id] && pre.holds(id, vs) {
			done[id] = true
			continue
		}
		kept = append(kept, c)
	}
	return kept, nil
}

// chain returns the operands of a chain of op (and, or): a and b and c gives
// a, b, c.
func chain(e query.Expr, op query.BinaryOp) []query.Expr {
	if b, ok := e.(*query.BinaryExpr); ok && b.Op == op {
		return append(chain(b.X, op), chain(b.Y, op)...)
	}
	return []query.Expr{e}
}

// allOf is the conjunction of ps (true for none). Up to four operands get a
// closure of their own, each call from its own call site, which the CPU
// predicts better than one call site in a loop.
func allOf(ps []flowPred) flowPred {
	switch len(ps) {
	case 0:
		return func(*record.Flow) bool { return true }
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(f *record.Flow) bool { return a(f) && b(f) }
	case 3:
		a, b, c := ps[0], ps[1], ps[2]
		return func(f *record.Flow) bool { return a(f) && b(f) && c(f) }
	case 4:
		a, b, c, d := ps[0], ps[1], ps[2], ps[3]
		return func(f *record.Flow) bool { return a(f) && b(f) && c(f) && d(f) }
	}
	a, b := allOf(ps[:4]), allOf(ps[4:])
	return func(f *record.Flow) bool { return a(f) && b(f) }
}

// anyOf is the disjunction of ps (at least one), as allOf.
func anyOf(ps []flowPred) flowPred {
	switch len(ps) {
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(f *record.Flow) bool { return a(f) || b(f) }
	case 3:
		a, b, c := ps[0], ps[1], ps[2]
		return func(f *record.Flow) bool { return a(f) || b(f) || c(f) }
	case 4:
		a, b, c, d := ps[0], ps[1], ps[2], ps[3]
		return func(f *record.Flow) bool { return a(f) || b(f) || c(f) || d(f) }
	}
	a, b := anyOf(ps[:4]), anyOf(ps[4:])
	return func(f *record.Flow) bool { return a(f) || b(f) }
}

// flowCond compiles a condition, as query's Compiler.Cond does.
func flowCond(e query.Expr) (flowPred, error) {
	switch x := e.(type) {
	case *query.BinaryExpr:
		if x.Op != query.OpAnd && x.Op != query.OpOr {
			break
		}
		var ps []flowPred
		for _, c := range chain(x, x.Op) {
			p, err := flowCond(c)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		if x.Op == query.OpAnd {
			return allOf(ps), nil
		}
		return anyOf(ps), nil
	case *query.UnaryExpr:
		if x.Op != query.OpNot {
			break
		}
		a, err := flowCond(x.X)
		if err != nil {
			return nil, err
		}
		return func(f *record.Flow) bool { return !a(f) }, nil
	case *query.CompareExpr:
		if p := flowCompareConst(x); p != nil {
			return p, nil
		}
		if p := flowActionConst(x); p != nil {
			return p, nil
		}
		if p := flowCompare(x); p != nil {
			return withFallback(p, e)
		}
	case *query.InExpr:
		if p := flowIn(x); p != nil {
			return p, nil
		}
	case *query.CallExpr:
		if x.Name == "ispresent" && len(x.Args) == 1 {
			if id, ok := directField(x.Args[0]); ok && (record.FlowIntReader(id) != nil || record.FlowAddrReader(id) != nil) {
				return func(f *record.Flow) bool { return f.Present.Has(id) }, nil
			}
		}
	}
	q, err := query.CompileFilter(e, record.KindFlow)
	if err != nil {
		return nil, err
	}
	return func(f *record.Flow) bool { return q(f) }, nil
}

// cmpResult is what a direct comparison found: a verdict, or that the query
// compiler must decide (an arithmetic result outside 64 bits).
type cmpResult uint8

const (
	cmpFalse cmpResult = iota
	cmpTrue
	cmpAsk
)

// withFallback wraps a direct comparison with the query compiler's version of
// the same node, for the records the direct one cannot decide.
func withFallback(p func(f *record.Flow) cmpResult, e query.Expr) (flowPred, error) {
	q, err := query.CompileFilter(e, record.KindFlow)
	if err != nil {
		return nil, err
	}
	return func(f *record.Flow) bool {
		switch p(f) {
		case cmpTrue:
			return true
		case cmpFalse:
			return false
		}
		return q(f)
	}, nil
}

// flowCompare compiles a comparison of whole numbers (fields, constants, and
// + - * of them) or of action with "ACCEPT"/"REJECT"; nil for any other.
func flowCompare(e *query.CompareExpr) func(f *record.Flow) cmpResult {
	op, xe, ye := e.Op, e.X, e.Y
	if id, ok := directField(xe); ok && id == record.FlowAction {
		if s, ok := ye.(*query.StringLit); ok {
			return flowActionCompare(op, s.Value)
		}
		return nil
	}
	if id, ok := directField(ye); ok && id == record.FlowAction {
		if s, ok := xe.(*query.StringLit); ok {
			return flowActionCompare(op, s.Value)
		}
		return nil
	}
	x, y := intOperand(xe), intOperand(ye)
	if x == nil || y == nil {
		return nil
	}
	return func(f *record.Flow) cmpResult {
		a, sa := x(f)
		b, sb := y(f)
		switch {
		case sa == opMissing || sb == opMissing:
			return cmpFalse // a missing operand compares with nothing
		case sa == opOverflow || sb == opOverflow:
			return cmpAsk
		}
		if holdsInt(op, a, b) {
			return cmpTrue
		}
		return cmpFalse
	}
}

// flowCompareConst compiles the commonest comparison, a whole-number field
// with a constant (either way round), into one closure; nil for any other.
func flowCompareConst(e *query.CompareExpr) flowPred {
	op, xe, ye := e.Op, e.X, e.Y
	if _, ok := intLiteral(xe); ok {
		op, xe, ye = swappedOp(op), ye, xe
	}
	id, ok := directField(xe)
	if !ok {
		return nil
	}
	n, ok := intLiteral(ye)
	if !ok {
		return nil
	}
	switch id {
	case record.FlowProtocol:
		return func(f *record.Flow) bool {
			return f.Present.Has(record.FlowProtocol) && holdsInt(op, int64(f.Protocol), n)
		}
	case record.FlowDstPort:
		return func(f *record.Flow) bool {
			return f.Present.Has(record.FlowDstPort) && holdsInt(op, int64(f.DstPort), n)
		}
	case record.FlowSrcPort:
		return func(f *record.Flow) bool {
			return f.Present.Has(record.FlowSrcPort) && holdsInt(op, int64(f.SrcPort), n)
		}
	case record.FlowPackets:
		return func(f *record.Flow) bool { return f.Present.Has(record.FlowPackets) && holdsInt(op, f.Packets, n) }
	case record.FlowBytes:
		return func(f *record.Flow) bool { return f.Present.Has(record.FlowBytes) && holdsInt(op, f.Bytes, n) }
	}
	if get := record.FlowIntReader(id); get != nil {
		return func(f *record.Flow) bool { return f.Present.Has(id) && holdsInt(op, get(f), n) }
	}
	return nil
}

// flowActionConst compiles action = "ACCEPT"/"REJECT" (or !=) into one
// closure; nil for any other comparison.
func flowActionConst(e *query.CompareExpr) flowPred {
	xe, ye := e.X, e.Y
	if _, ok := xe.(*query.StringLit); ok {
		xe, ye = ye, xe
	}
	id, ok := directField(xe)
	if !ok || id != record.FlowAction {
		return nil
	}
	s, ok := ye.(*query.StringLit)
	if !ok {
		return nil
	}
	if flowActionCompare(e.Op, s.Value) == nil {
		return nil
	}
	want, eq := record.ActionAccept, e.Op == query.OpEq
	if s.Value == "REJECT" {
		want = record.ActionReject
	}
	return func(f *record.Flow) bool { return f.Present.Has(record.FlowAction) && (f.Action == want) == eq }
}

// swappedOp returns the operator with its operands exchanged (1 < x is x > 1).
func swappedOp(op query.CompareOp) query.CompareOp {
	switch op {
	case query.OpLt:
		return query.OpGt
	case query.OpLe:
		return query.OpGe
	case query.OpGt:
		return query.OpLt
	case query.OpGe:
		return query.OpLe
	}
	return op
}

// flowActionCompare is "action = s" (or !=): a missing action compares with
// nothing, and a value other than ACCEPT and REJECT equals no action.
func flowActionCompare(op query.CompareOp, s string) func(f *record.Flow) cmpResult {
	if op != query.OpEq && op != query.OpNe {
		return nil
	}
	want := record.ParseAction(s)
	if want == record.ActionUnknown {
		return nil
	}
	eq := op == query.OpEq
	return func(f *record.Flow) cmpResult {
		if f.Present.Has(record.FlowAction) && (f.Action == want) == eq {
			return cmpTrue
		}
		return cmpFalse
	}
}

func holdsInt(op query.CompareOp, a, b int64) bool {
	switch op {
	case query.OpEq:
		return a == b
	case query.OpNe:
		return a != b
	case query.OpLt:
		return a < b
	case query.OpLe:
		return a <= b
	case query.OpGt:
		return a > b
	case query.OpGe:
		return a >= b
	}
	return false
}

// operand states of intOperand's readers.
type opState uint8

const (
	opOK       opState = iota
	opMissing          // a field the record lacks: the value is missing
	opOverflow         // whole-number arithmetic left 64 bits (the query compiler goes on in floating point)
)

// intOperand compiles a whole-number operand: a constant, a whole-number
// field, or + - * of operands; nil for anything else.
func intOperand(e query.Expr) func(f *record.Flow) (int64, opState) {
	if v, ok := intLiteral(e); ok {
		return func(*record.Flow) (int64, opState) { return v, opOK }
	}
	if id, ok := directField(e); ok {
		get := record.FlowIntReader(id)
		if get == nil {
			return nil
		}
		return func(f *record.Flow) (int64, opState) {
			if !f.Present.Has(id) {
				return 0, opMissing
			}
			return get(f), opOK
		}
	}
	b, ok := e.(*query.BinaryExpr)
	if !ok || b.Op != query.OpAdd && b.Op != query.OpSub && b.Op != query.OpMul {
		return nil
	}
	x, y := intOperand(b.X), intOperand(b.Y)
	if x == nil || y == nil {
		return nil
	}
	op := b.Op
	return func(f *record.Flow) (int64, opState) {
		a, sa := x(f)
		c, sc := y(f)
		switch {
		case sa == opMissing || sc == opMissing:
			return 0, opMissing
		case sa == opOverflow || sc == opOverflow:
			return 0, opOverflow
		}
		if v, ok := exactArith(op, a, c); ok {
			return v, opOK
		}
		return 0, opOverflow
	}
}

// exactArith is query's whole-number + - *, and whether the result fits.
func exactArith(op query.BinaryOp, x, y int64) (int64, bool) {
	switch op {
	case query.OpAdd:
		if s := x + y; (s > x) == (y > 0) {
			return s, true
		}
	case query.OpSub:
		if s := x - y; (s < x) == (y > 0) {
			return s, true
		}
	case query.OpMul:
		if x == 0 || y == 0 {
			return 0, true
		}
		if uint64(x+1<<31) < 1<<32 && uint64(y+1<<31) < 1<<32 {
			return x * y, true // both within ±2³¹: the product fits
		}
		if p := x * y; p/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
			return p, true
		}
	}
	return 0, false
}

// intLiteral returns the value of a number literal that the query language
// reads as a whole number (as its numberLit and numValue do).
func intLiteral(e query.Expr) (int64, bool) {
	n, ok := e.(*query.NumberLit)
	if !ok {
		return 0, false
	}
	if query.LooksInteger(n.Text) {
		if i, err := strconv.ParseInt(n.Text, 10, 64); err == nil {
			return i, true
		}
	}
	v := n.Value
	if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) || math.Abs(v) >= 1<<53 {
		return 0, false
	}
	return int64(v), true
}

// flowIn compiles "field in [numbers]" (or not in) for a whole-number field:
// a record without the field is in neither.
func flowIn(e *query.InExpr) flowPred {
	id, ok := directField(e.X)
	if !ok {
		return nil
	}
	get := record.FlowIntReader(id)
	if get == nil {
		return nil
	}
	var list []int64
	for _, el := range e.List {
		v, ok := intLiteral(el)
		if !ok {
			return nil
		}
		list = append(list, v)
	}
	not := e.Not
	return func(f *record.Flow) bool {
		if !f.Present.Has(id) {
			return false
		}
		v := get(f)
		for _, x := range list {
			if v == x {
				return !not
			}
		}
		return not
	}
}

// directField returns the catalogued flow field a field reference names.
func directField(e query.Expr) (record.FieldID, bool) {
	ref, ok := e.(*query.FieldRef)
	if !ok {
		return 0, false
	}
	name := ref.Name()
	if name == "" || name[0] == '@' {
		return 0, false
	}
	f, ok := record.FlowCatalogue.Lookup(name)
	if !ok {
		return 0, false
	}
	return f.ID, true
}

// Rules often share a condition: portscan's whole filter is the start of
// portsweep's. The engine evaluates such a shared top-level conjunct once per
// record: its result is kept in the record's view (rec.memoDone, memoVal) for
// the next rule that asks.

// maxMemo is how many shared conjuncts the engine memoizes (bits of rec.memo).
const maxMemo = 32

// buildMemoMatch gives the flow detections whose rules share top-level
// conjuncts a match function that evaluates each shared conjunct once per
// record (detEntry.match). The others keep their rule's match.
func (e *Engine) buildMemoMatch() {
	type ruleConj struct {
		de    *detEntry
		conj  []query.Expr
		texts []string
	}
	var rcs []ruleConj
	count := map[string]int{}
	for _, di := range e.byKind[record.KindFlow] {
		d := e.dets[di]
		r := d.rule
		if r.flowPred == nil {
			continue
		}
		cs, err := flowConjuncts(r.Filter, r.pre)
		if err != nil {
			continue
		}
		rc := ruleConj{de: d, conj: cs}
		seen := map[string]bool{}
		for _, c := range cs {
			t := c.String()
			rc.texts = append(rc.texts, t)
			if !seen[t] {
				seen[t] = true
				count[t]++
			}
		}
		rcs = append(rcs, rc)
	}
	bits := map[string]uint32{}
	for _, rc := range rcs {
		var parts []func(*rec) bool
		shared := false
		for i, c := range rc.conj {
			p, err := flowCond(c)
			if err != nil {
				parts = nil
				break
			}
			t := rc.texts[i]
			bit, ok := bits[t]
			if !ok && count[t] >= 2 && len(bits) < maxMemo {
				bit = 1 << len(bits)
				bits[t], ok = bit, true
			}
			if ok {
				shared = true
				parts = append(parts, memoized(bit, p))
			} else {
				parts = append(parts, func(r *rec) bool { return p(r.flow) })
			}
		}
		if !shared || parts == nil {
			continue
		}
		pre := rc.de.rule.pre
		all := allOfRec(parts)
		rc.de.memoMatch = func(r *rec) bool {
			return (pre == nil || pre.ok(r.flow)) && all(r)
		}
	}
}

// allOfRec is allOf for predicates over views.
func allOfRec(ps []func(*rec) bool) func(*rec) bool {
	switch len(ps) {
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(r *rec) bool { return a(r) && b(r) }
	case 3:
		a, b, c := ps[0], ps[1], ps[2]
		return func(r *rec) bool { return a(r) && b(r) && c(r) }
	}
	a, b := allOfRec(ps[:3]), allOfRec(ps[3:])
	return func(r *rec) bool { return a(r) && b(r) }
}

// memoized evaluates p once per record, keeping its result in the record's
// memo bit.
func memoized(bit uint32, p flowPred) func(*rec) bool {
	return func(r *rec) bool {
		if r.memoDone&bit != 0 {
			return r.memoVal&bit != 0
		}
		v := p(r.flow)
		r.memoDone |= bit
		if v {
			r.memoVal |= bit
		}
		return v
	}
}
