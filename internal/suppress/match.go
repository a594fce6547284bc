package suppress

import (
	"cmp"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// MatchCriteria reports whether f satisfies the checked criteria terms (from
// store.Criteria.Terms), with the stores' semantics: each term must hold; an
// Eq term holds when the attribute's value is one of its values, a Neq term
// when it is none of them; a Match term when the value matches one of its
// wildcard patterns (store.MatchWildcard), a NotMatch term when it matches
// none; strings compare as bytes after store.Text; a
// finding that lacks an attribute (no instance details, no remote address) has
// the empty string, as the stores' columns do. TestMatchAgreesWithSQL checks
// it against both SQL stores.
func MatchCriteria(f *finding.Finding, terms []store.Term) bool {
	for i := range terms {
		t := &terms[i]
		v := store.AttributeValue(f, t.Attribute)
		var ok bool
		switch t.Op {
		case store.OpEq, store.OpNeq:
			in := slices.ContainsFunc(t.Values, func(x any) bool { c, ok := compare(v, x); return ok && c == 0 })
			ok = in == (t.Op == store.OpEq)
		case store.OpMatch, store.OpNotMatch:
			s, isString := v.(string)
			in := isString && slices.ContainsFunc(t.Values, func(p any) bool { ps, _ := p.(string); return store.MatchWildcard(ps, s) })
			ok = isString && in == (t.Op == store.OpMatch)
		default:
			c, comparable := compare(v, t.Values[0])
			switch t.Op {
			case store.OpGt:
				ok = comparable && c > 0
			case store.OpGte:
				ok = comparable && c >= 0
			case store.OpLt:
				ok = comparable && c < 0
			case store.OpLte:
				ok = comparable && c <= 0
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// compare orders two values of one kind; ok is false for values of different
// Go types, which checked terms never produce.
func compare(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y), true
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, true
			case !x:
				return -1, true
			}
			return 1, true
		}
	}
	return 0, false
}

// CompareAttribute orders two findings by a store attribute as the stores sort
// them (ties by ID), for sorting findings in memory.
func CompareAttribute(a, b *finding.Finding, attr string) int {
	c, _ := compare(store.AttributeValue(a, attr), store.AttributeValue(b, attr))
	if c == 0 {
		c = strings.Compare(store.Text(a.ID), store.Text(b.ID))
	}
	return c
}
