package detect

import (
	"slices"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// prefilter is a fast necessary condition taken from a flow rule's filter: the
// protocol and port values its top-level conjuncts require ("protocol = 6 and
// dstPort in [5985, 5986] and …"). Most records fail it on a small integer
// compare, before the compiled filter runs; a record that passes still has to
// pass the filter. It never rejects what the filter would accept: it only reads
// conjuncts that must hold, and a record without the field fails both.
type prefilter struct {
	proto, dport, sport []int64 // allowed values; nil = any
}

// newPrefilter derives the prefilter of a flow filter; nil when it constrains
// none of those fields.
func newPrefilter(src string) *prefilter {
	e, _, err := query.ParseExpr(src)
	if err != nil {
		return nil
	}
	p := &prefilter{}
	var walk func(e query.Expr)
	walk = func(e query.Expr) {
		switch x := e.(type) {
		case *query.BinaryExpr:
			if x.Op == query.OpAnd {
				walk(x.X)
				walk(x.Y)
			}
		case *query.CompareExpr:
			if x.Op != query.OpEq {
				return
			}
			f, n := x.X, x.Y
			if _, ok := f.(*query.FieldRef); !ok {
				f, n = n, f
			}
			if fr, ok := f.(*query.FieldRef); ok {
				if v, ok := wholeNumber(n); ok {
					p.set(fr.Name(), []int64{v})
				}
			}
		case *query.InExpr:
			fr, ok := x.X.(*query.FieldRef)
			if !ok || x.Not {
				return
			}
			var vs []int64
			for _, el := range x.List {
				v, ok := wholeNumber(el)
				if !ok {
					return
				}
				vs = append(vs, v)
			}
			p.set(fr.Name(), vs)
		}
	}
	walk(e)
	if p.proto == nil && p.dport == nil && p.sport == nil {
		return nil
	}
	return p
}

func wholeNumber(e query.Expr) (int64, bool) {
	n, ok := e.(*query.NumberLit)
	if !ok || n.Value != float64(int64(n.Value)) {
		return 0, false
	}
	return int64(n.Value), true
}

func (p *prefilter) set(name string, vs []int64) {
	f, ok := record.FlowCatalogue.Lookup(name)
	if !ok {
		return
	}
	switch f.ID {
	case record.FlowProtocol:
		if p.proto == nil {
			p.proto = vs
		}
	case record.FlowDstPort:
		if p.dport == nil {
			p.dport = vs
		}
	case record.FlowSrcPort:
		if p.sport == nil {
			p.sport = vs
		}
	}
}

// prefilterTerm reports whether a conjunct is one a prefilter takes (field =
// number, field in [numbers]) and returns its field and values.
func prefilterTerm(e query.Expr) (record.FieldID, []int64, bool) {
	p := &prefilter{}
	var name string
	switch x := e.(type) {
	case *query.CompareExpr:
		if x.Op != query.OpEq {
			return 0, nil, false
		}
		f, n := x.X, x.Y
		if _, ok := f.(*query.FieldRef); !ok {
			f, n = n, f
		}
		fr, ok := f.(*query.FieldRef)
		if !ok {
			return 0, nil, false
		}
		v, ok := wholeNumber(n)
		if !ok {
			return 0, nil, false
		}
		name = fr.Name()
		p.set(name, []int64{v})
	case *query.InExpr:
		fr, ok := x.X.(*query.FieldRef)
		if !ok || x.Not {
			return 0, nil, false
		}
		var vs []int64
		for _, el := range x.List {
			v, ok := wholeNumber(el)
			if !ok {
				return 0, nil, false
			}
			vs = append(vs, v)
		}
		name = fr.Name()
		p.set(name, vs)
	default:
		return 0, nil, false
	}
	f, _ := record.FlowCatalogue.Lookup(name)
	switch {
	case p.proto != nil:
		return f.ID, p.proto, true
	case p.dport != nil:
		return f.ID, p.dport, true
	case p.sport != nil:
		return f.ID, p.sport, true
	}
	return 0, nil, false
}

// holds reports whether the prefilter checks exactly that field id has one of
// the values vs (so the conjunct that says so need not run again).
func (p *prefilter) holds(id record.FieldID, vs []int64) bool {
	if p == nil {
		return false
	}
	var have []int64
	switch id {
	case record.FlowProtocol:
		have = p.proto
	case record.FlowDstPort:
		have = p.dport
	case record.FlowSrcPort:
		have = p.sport
	}
	return have != nil && slices.Equal(have, vs)
}

// ok reports whether a flow record can pass the filter.
func (p *prefilter) ok(f *record.Flow) bool {
	if p.proto != nil && (!f.Present.Has(record.FlowProtocol) || !slices.Contains(p.proto, int64(f.Protocol))) {
		return false
	}
	if p.dport != nil && (!f.Present.Has(record.FlowDstPort) || !slices.Contains(p.dport, int64(f.DstPort))) {
		return false
	}
	if p.sport != nil && (!f.Present.Has(record.FlowSrcPort) || !slices.Contains(p.sport, int64(f.SrcPort))) {
		return false
	}
	return true
}
