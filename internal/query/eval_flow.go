package query

import "github.com/vigil-dev/vigil/internal/record"

// Flow logs are the bulk of what vigil reads, and most filters compare one
// flow field with a constant (dstPort = 22, action = "REJECT", srcAddr like
// "10.10."). For those fields the compiler reads the struct member directly
// instead of going through Record.Get's switch and a Value, which halves
// the cost of such a filter. Profiling showed the switch and the copies of
// the 64-byte Value as the bulk of it.

// flowField returns, when e reads a flow field that has a direct reader,
// its id; c must compile for flows.
func (c *Compiler) flowField(e Expr) (record.FieldID, bool) {
	ref, ok := e.(*FieldRef)
	if !ok || c.kind != record.KindFlow {
		return 0, false
	}
	res := c.scope.resolve(ref)
	if res.kind != resRecord {
		return 0, false
	}
	f, ok := c.cat.Lookup(res.name)
	if !ok {
		return 0, false
	}
	return f.ID, true
}

// flowValue compiles a read of a flow field with a direct reader, or
// returns nil.
func flowValue(id record.FieldID) Eval {
	if get := record.FlowIntReader(id); get != nil {
		return func(r *Row) record.Value {
			f, ok := r.Rec.(*record.Flow)
			if !ok {
				return r.Rec.Get(id)
			}
			if !f.Present.Has(id) {
				return missing
			}
			return record.Value{Kind: record.Int, Int: get(f)}
		}
	}
	if get := record.FlowAddrReader(id); get != nil {
		return func(r *Row) record.Value {
			f, ok := r.Rec.(*record.Flow)
			if !ok {
				return r.Rec.Get(id)
			}
			if !f.Present.Has(id) {
				return missing
			}
			return record.Value{Kind: record.Addr, IP: get(f)}
		}
	}
	return nil
}

// flowCompareInt compiles "flow field op n" for a whole-number field.
func flowCompareInt(id record.FieldID, op CompareOp, n int64) Pred {
	get := record.FlowIntReader(id)
	if get == nil {
		return nil
	}
	return func(r *Row) bool {
		f, ok := r.Rec.(*record.Flow)
		if !ok {
			v := r.Rec.Get(id)
			cmp, ok := compareValues(v, record.IntValue(n))
			return ok && holds(op, cmp)
		}
		return f.Present.Has(id) && holds(op, cmpInt(get(f), n))
	}
}

// flowAction compiles "action = s" (or !=) without making strings.
func flowAction(id record.FieldID, op CompareOp, s string) Pred {
	if id != record.FlowAction || (op != OpEq && op != OpNe) {
		return nil
	}
	want := record.ParseAction(s)
	eq := op == OpEq
	return func(r *Row) bool {
		f, ok := r.Rec.(*record.Flow)
		if !ok {
			cmp, ok := compareValues(r.Rec.Get(id), record.StringValue(s))
			return ok && holds(op, cmp)
		}
		if !f.Present.Has(id) {
			return false
		}
		return (want != record.ActionUnknown && f.Action == want) == eq
	}
}
