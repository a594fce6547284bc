package storetest

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// The reference model: what List and Statistics must answer, computed in Go over
// the findings a test stored, independently of any SQL.

// attrValue returns the value of a store attribute of f, as a store compares it.
func attrValue(f *finding.Finding, name string) any {
	v := store.AttributeValue(f, name)
	if v == nil {
		panic("storetest: no reference value for attribute " + name)
	}
	return v
}

func compareAny(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case float64:
		return cmp.Compare(x, b.(float64))
	case int64:
		return cmp.Compare(x, b.(int64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	panic("storetest: cannot compare")
}

// wildcardRegexp is a Matches pattern as a regular expression, the
// reference's own reading of GuardDuty's wildcards (store.MatchWildcard is
// another): '*' any run of characters, the rest literal; anchored at both
// ends.
func wildcardRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
}

// matches reports whether f satisfies c.
func matches(f *finding.Finding, c store.Criteria) bool {
	terms, err := c.Terms()
	if err != nil {
		panic(err)
	}
	for _, t := range terms {
		v := attrValue(f, t.Attribute)
		ok := false
		switch t.Op {
		case store.OpEq, store.OpNeq:
			in := slices.ContainsFunc(t.Values, func(x any) bool { return compareAny(v, x) == 0 })
			ok = in == (t.Op == store.OpEq)
		case store.OpGt:
			ok = compareAny(v, t.Values[0]) > 0
		case store.OpGte:
			ok = compareAny(v, t.Values[0]) >= 0
		case store.OpLt:
			ok = compareAny(v, t.Values[0]) < 0
		case store.OpLte:
			ok = compareAny(v, t.Values[0]) <= 0
		case store.OpMatch, store.OpNotMatch:
			in := slices.ContainsFunc(t.Values, func(p any) bool { return wildcardRegexp(p.(string)).MatchString(v.(string)) })
			ok = in == (t.Op == store.OpMatch)
		}
		if !ok {
			return false
		}
	}
	return true
}

// expectList returns the IDs List must return, all pages together.
func expectList(fs []finding.Finding, c store.Criteria, s store.Sort) []string {
	s, err := s.Check()
	if err != nil {
		panic(err)
	}
	var sel []*finding.Finding
	for i := range fs {
		if matches(&fs[i], c) {
			sel = append(sel, &fs[i])
		}
	}
	slices.SortFunc(sel, func(a, b *finding.Finding) int {
		r := compareAny(attrValue(a, s.Attribute), attrValue(b, s.Attribute))
		if r == 0 {
			r = strings.Compare(store.Text(a.ID), store.Text(b.ID))
		}
		if s.Order == store.Desc {
			r = -r
		}
		return r
	})
	ids := make([]string, len(sel))
	for i, f := range sel {
		ids[i] = store.Text(f.ID)
	}
	return ids
}

// expectStats returns what Statistics must return for q over fs.
func expectStats(fs []finding.Finding, q store.StatisticsQuery) []store.Group {
	type key struct {
		k, acct, rt string
		sev         float64
	}
	groups := map[key]*store.Group{}
	var order []key
	for i := range fs {
		f := &fs[i]
		if !matches(f, q.Criteria) {
			continue
		}
		var k key
		switch q.GroupBy {
		case store.GroupBySeverity:
			k.sev = float64(f.Severity)
		case store.GroupByType:
			k.k = store.Text(string(f.Type))
		case store.GroupByAccount:
			k.k, k.acct = store.Text(f.AccountID), store.Text(f.AccountID)
		case store.GroupByDate:
			k.k = f.UpdatedAt.Time().Format("2006-01-02")
		case store.GroupByResource:
			k.acct, k.rt, k.k = store.Text(f.AccountID), store.Text(string(f.Resource.ResourceType)), store.Text(finding.ResourceID(&f.Resource))
		}
		g := groups[k]
		if g == nil {
			g = &store.Group{Key: k.k, AccountID: k.acct, ResourceType: finding.ResourceType(k.rt)}
			if q.GroupBy == store.GroupBySeverity {
				g.Severity = finding.Severity(k.sev)
				g.Key = strconvG(k.sev)
			}
			groups[k] = g
			order = append(order, k)
		}
		g.Total++
		g.LastGeneratedAt = max(g.LastGeneratedAt, f.UpdatedAt)
		if q.GroupBy == store.GroupByDate {
			g.Severity = max(g.Severity, f.Severity)
		}
	}
	out := make([]store.Group, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	slices.SortFunc(out, func(a, b store.Group) int {
		r := cmp.Compare(a.Total, b.Total)
		if q.Order != store.Asc {
			r = -r
		}
		if r != 0 {
			return r
		}
		if q.GroupBy == store.GroupBySeverity {
			return cmp.Compare(a.Severity, b.Severity)
		}
		if r = strings.Compare(a.Key, b.Key); r != 0 {
			return r
		}
		if r = strings.Compare(a.AccountID, b.AccountID); r != 0 {
			return r
		}
		return strings.Compare(string(a.ResourceType), string(b.ResourceType))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}
