package store

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Criteria is GuardDuty's FindingCriteria: conditions by attribute name. Different
// attributes are AND-ed; so are the operators of one attribute's Condition; the
// values of one Eq or Neq list are OR-ed (Eq) or all excluded (Neq), and so are
// the patterns of a Matches (OR-ed) or NotMatches (all excluded) list. The zero
// Criteria matches every finding.
//
// It decodes from GuardDuty's JSON as the API and the CLI write it, in either
// letter case ({"criterion": {"type": {"eq": […]}}} or {"Criterion": {"type":
// {"Eq": […]}}}).
type Criteria struct {
	Criterion map[string]Condition `json:"criterion,omitempty"`
}

// Condition is GuardDuty's Condition for one attribute. Eq and Neq hold strings
// whatever the attribute's kind, as in GuardDuty ("8" for a severity, "true" for
// service.archived, epoch milliseconds for a time); the range operators hold
// integers (epoch milliseconds for times). Equals, NotEquals, GreaterThan,
// GreaterThanOrEqual, LessThan and LessThanOrEqual are the current names of the
// same operators; both spellings are accepted, and when both are given both
// conditions hold.
//
// Matches and NotMatches hold wildcard patterns for string attributes (see
// MatchWildcard): the value matches one of the patterns, or none of them.
// GuardDuty accepts them in filters (CreateFilter, UpdateFilter) only, not in
// ListFindings; the stores evaluate them anywhere, and the API enforces
// GuardDuty's rule (see PatternAttributes).
type Condition struct {
	Eq  []string `json:"eq,omitempty"`
	Neq []string `json:"neq,omitempty"`
	Gt  *int64   `json:"gt,omitempty"`
	Gte *int64   `json:"gte,omitempty"`
	Lt  *int64   `json:"lt,omitempty"`
	Lte *int64   `json:"lte,omitempty"`

	Equals             []string `json:"equals,omitempty"`
	NotEquals          []string `json:"notEquals,omitempty"`
	GreaterThan        *int64   `json:"greaterThan,omitempty"`
	GreaterThanOrEqual *int64   `json:"greaterThanOrEqual,omitempty"`
	LessThan           *int64   `json:"lessThan,omitempty"`
	LessThanOrEqual    *int64   `json:"lessThanOrEqual,omitempty"`

	Matches    []string `json:"matches,omitempty" doc:"wildcard patterns (* any run of characters, the rest literal and case-sensitive), 1 to 5 of 1 to 512 characters, OR-ed; string attributes; filters only"`
	NotMatches []string `json:"notMatches,omitempty" doc:"wildcard patterns the value must match none of (as matches); filters only"`
}

// GuardDuty's bounds on Matches and NotMatches.
const (
	MaxPatterns      = 5   // patterns in one Matches or NotMatches list
	MaxPatternLength = 512 // characters (Unicode code points) in one pattern
)

// Kind is the value kind of an attribute: how its criteria values are read and how
// it compares.
type Kind uint8

// The kinds.
const (
	KindString Kind = iota + 1 // compared as bytes; Eq/Neq and Matches/NotMatches
	KindNumber                 // a float (severity); Eq values like "8" or "7.5"
	KindInt                    // an integer (service.count)
	KindTime                   // epoch milliseconds (createdAt, updatedAt, …)
	KindBool                   // "true" or "false"; Eq/Neq only
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindInt:
		return "integer"
	case KindTime:
		return "time (epoch ms)"
	case KindBool:
		return "boolean"
	}
	return "unknown"
}

// Attributes are the GuardDuty filter attributes the stores can filter and sort
// on, with their kinds. Adding one takes a column (a migration) in each store and
// its extraction from the finding.
var Attributes = map[string]Kind{
	"id":                                    KindString,
	"accountId":                             KindString,
	"region":                                KindString,
	"type":                                  KindString,
	"severity":                              KindNumber,
	"createdAt":                             KindTime,
	"updatedAt":                             KindTime,
	"resource.resourceType":                 KindString,
	"resource.instanceDetails.instanceId":   KindString,
	"resource.accessKeyDetails.accessKeyId": KindString,
	"service.action.actionType":             KindString,
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": KindString,
	"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4":        KindString,
	"service.action.dnsRequestAction.domain":                             KindString,
	"service.archived":                                                   KindBool,
	"service.resourceRole":                                               KindString,
	"service.count":                                                      KindInt,
	"service.eventFirstSeen":                                             KindTime,
	"service.eventLastSeen":                                              KindTime,
	"service.userFeedback":                                               KindString,
}

// Op is a comparison operator of a Term.
type Op uint8

// The operators.
const (
	OpEq  Op = iota + 1 // the value is one of Values
	OpNeq               // the value is none of Values
	OpGt
	OpGte
	OpLt
	OpLte
	OpMatch    // the value matches one of the wildcard patterns of Values
	OpNotMatch // the value matches none of them
)

// Term is one checked condition: attribute op values. Values hold the
// attribute's Go type: string (KindString, normalised with Text), float64
// (KindNumber), int64 (KindInt, KindTime) or bool (KindBool). Eq and Neq have one
// or more values, sorted; the range operators have one. Match and NotMatch
// have one to MaxPatterns wildcard patterns (strings, normalised with Text),
// sorted.
type Term struct {
	Attribute string
	Kind      Kind
	Op        Op
	Values    []any
}

// Terms checks c and returns its conditions, one Term per operator, ordered by
// attribute and operator so that equal criteria give equal terms. Errors wrap
// ErrInvalidCriteria and name the attribute.
func (c Criteria) Terms() ([]Term, error) {
	var terms []Term
	for _, attr := range slices.Sorted(maps.Keys(c.Criterion)) {
		cond := c.Criterion[attr]
		kind, ok := Attributes[attr]
		if !ok {
			return nil, fmt.Errorf("%w: attribute %q is not supported (supported: %s)",
				ErrInvalidCriteria, attr, strings.Join(slices.Sorted(maps.Keys(Attributes)), ", "))
		}
		n := len(terms)
		for _, l := range [...]struct {
			op   Op
			name string
			vals []string
		}{{OpEq, "Eq", cond.Eq}, {OpEq, "Equals", cond.Equals}, {OpNeq, "Neq", cond.Neq}, {OpNeq, "NotEquals", cond.NotEquals}} {
			if l.vals == nil {
				continue
			}
			if len(l.vals) == 0 {
				return nil, fmt.Errorf("%w: %s: %s has no values", ErrInvalidCriteria, attr, l.name)
			}
			vals := make([]any, 0, len(l.vals))
			for _, s := range l.vals {
				v, err := parseValue(kind, s)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: %s value %q: %v", ErrInvalidCriteria, attr, l.name, s, err)
				}
				vals = append(vals, v)
			}
			slices.SortFunc(vals, compareValues)
			vals = slices.CompactFunc(vals, func(a, b any) bool { return compareValues(a, b) == 0 })
			terms = append(terms, Term{Attribute: attr, Kind: kind, Op: l.op, Values: vals})
		}
		for _, l := range [...]struct {
			op   Op
			name string
			pats []string
		}{{OpMatch, "Matches", cond.Matches}, {OpNotMatch, "NotMatches", cond.NotMatches}} {
			if l.pats == nil {
				continue
			}
			pats, err := checkPatterns(attr, kind, l.name, l.pats)
			if err != nil {
				return nil, err
			}
			terms = append(terms, Term{Attribute: attr, Kind: kind, Op: l.op, Values: pats})
		}
		for _, r := range [...]struct {
			op   Op
			name string
			v    *int64
		}{{OpGt, "Gt", cond.Gt}, {OpGt, "GreaterThan", cond.GreaterThan}, {OpGte, "Gte", cond.Gte},
			{OpGte, "GreaterThanOrEqual", cond.GreaterThanOrEqual}, {OpLt, "Lt", cond.Lt}, {OpLt, "LessThan", cond.LessThan},
			{OpLte, "Lte", cond.Lte}, {OpLte, "LessThanOrEqual", cond.LessThanOrEqual}} {
			if r.v == nil {
				continue
			}
			var v any
			switch kind {
			case KindNumber:
				v = float64(*r.v)
			case KindInt, KindTime:
				v = *r.v
			default:
				return nil, fmt.Errorf("%w: %s: %s needs a number or time attribute; %s is a %s (use Eq/Neq)",
					ErrInvalidCriteria, attr, r.name, attr, kind)
			}
			terms = append(terms, Term{Attribute: attr, Kind: kind, Op: r.op, Values: []any{v}})
		}
		if len(terms) == n {
			return nil, fmt.Errorf("%w: %s: no condition", ErrInvalidCriteria, attr)
		}
		slices.SortStableFunc(terms[n:], func(a, b Term) int {
			if a.Op != b.Op {
				return cmp.Compare(a.Op, b.Op)
			}
			return slices.CompareFunc(a.Values, b.Values, compareValues)
		})
	}
	return terms, nil
}

// checkPatterns checks the wildcard patterns of a Matches or NotMatches list
// (op) of attr and returns them normalised with Text, sorted, without repeats.
func checkPatterns(attr string, kind Kind, op string, pats []string) ([]any, error) {
	if kind != KindString {
		return nil, fmt.Errorf("%w: %s: %s needs a string attribute; %s is a %s (use Equals/NotEquals or the range operators)",
			ErrInvalidCriteria, attr, op, attr, kind)
	}
	switch {
	case len(pats) == 0:
		return nil, fmt.Errorf("%w: %s: %s has no patterns", ErrInvalidCriteria, attr, op)
	case len(pats) > MaxPatterns:
		return nil, fmt.Errorf("%w: %s: %s has %d patterns: at most %d", ErrInvalidCriteria, attr, op, len(pats), MaxPatterns)
	}
	vals := make([]any, 0, len(pats))
	for i, p := range pats {
		n := utf8.RuneCountInString(p)
		switch {
		case n == 0:
			return nil, fmt.Errorf("%w: %s: %s pattern %d is empty: want 1 to %d characters", ErrInvalidCriteria, attr, op, i+1, MaxPatternLength)
		case n > MaxPatternLength:
			return nil, fmt.Errorf("%w: %s: %s pattern %d has %d characters: at most %d", ErrInvalidCriteria, attr, op, i+1, n, MaxPatternLength)
		}
		vals = append(vals, Text(p))
	}
	slices.SortFunc(vals, compareValues)
	return slices.CompactFunc(vals, func(a, b any) bool { return compareValues(a, b) == 0 }), nil
}

// PatternAttributes returns the attributes of c that have Matches or
// NotMatches, sorted: GuardDuty takes those in filters only, so the API
// refuses them in ListFindings and GetFindingsStatistics.
func (c Criteria) PatternAttributes() []string {
	var out []string
	for attr, cond := range c.Criterion {
		if cond.Matches != nil || cond.NotMatches != nil {
			out = append(out, attr)
		}
	}
	slices.Sort(out)
	return out
}

// parseValue reads an Eq/Neq value of an attribute of kind k.
func parseValue(k Kind, s string) (any, error) {
	switch k {
	case KindString:
		return Text(s), nil
	case KindNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("want a number")
		}
		return f, nil
	case KindInt, KindTime:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			if k == KindTime {
				return nil, fmt.Errorf("want epoch milliseconds")
			}
			return nil, fmt.Errorf("want an integer")
		}
		return n, nil
	case KindBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("want true or false")
	}
	return nil, fmt.Errorf("unknown kind")
}

// compareValues orders two values of one kind.
func compareValues(a, b any) int {
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
	return 0
}

// Text returns s as the stores keep strings in columns: valid UTF-8 without NUL,
// each invalid byte and each NUL replaced by U+FFFD. Invalid bytes are replaced
// one by one, as encoding/json does, so that a string and its JSON round trip
// map alike: a finding read back from its stored JSON and merged again keeps its
// column values. It returns s itself, without allocating, when s is clean.
func Text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Order is a sort direction.
type Order string

// The directions, as GuardDuty's sortCriteria.orderBy writes them.
const (
	Asc  Order = "ASC"
	Desc Order = "DESC"
)

// Sort is GuardDuty's sortCriteria: an attribute of Attributes and a direction.
// The zero Sort is updatedAt, newest first.
type Sort struct {
	Attribute string `json:"attributeName,omitempty"`
	Order     Order  `json:"orderBy,omitempty"`
}

// DefaultSort is the order of a List without a Sort.
var DefaultSort = Sort{Attribute: "updatedAt", Order: Desc}

// Check returns s with defaults filled in (updatedAt, DESC), or an ErrInvalid
// error for an unknown attribute or direction.
func (s Sort) Check() (Sort, error) {
	if s.Attribute == "" {
		s.Attribute = DefaultSort.Attribute
	}
	if _, ok := Attributes[s.Attribute]; !ok {
		return s, fmt.Errorf("%w: sort attribute %q is not supported", ErrInvalid, s.Attribute)
	}
	switch strings.ToUpper(string(s.Order)) {
	case "":
		s.Order = Desc
	case "ASC":
		s.Order = Asc
	case "DESC":
		s.Order = Desc
	default:
		return s, fmt.Errorf("%w: sort order %q (want ASC or DESC)", ErrInvalid, s.Order)
	}
	return s, nil
}
