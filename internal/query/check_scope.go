package query

import (
	"maps"
	"slices"
	"strings"
)

// Scope is the set of names a command can use at its place in the pipeline,
// beyond the fields of the records themselves.
//
// A query's rows change shape at each stats: before the first one (phase 0)
// a row is a record plus the fields that fields and parse computed; after the
// n-th stats (phase n) a row holds only that stats' columns and what later
// commands add. Every computed name gets a slot, an index into Row.Slots,
// numbered from 0 in each phase in order of definition. Scope maps names to
// slots; names it does not hold are record fields in phase 0 and errors
// later.
type Scope struct {
	// Phase is 0 for records, n after the n-th stats.
	Phase int
	// Names lists the slot names defined so far, by slot.
	Names []string
	slots map[string]int
	// defs holds where each slot was defined, for redefinition errors.
	defs []Span
	// exprs binds whole expressions to slots: the aggregate calls of a stats
	// item, compiled after aggregation.
	exprs map[Expr]int
	// stats is the command that began the phase (nil in phase 0).
	stats *StatsCmd
}

// newScope returns an empty scope of phase.
func newScope(phase int, stats *StatsCmd) *Scope {
	return &Scope{Phase: phase, slots: map[string]int{}, stats: stats}
}

// clone returns a copy that can grow without changing s.
func (s *Scope) clone() *Scope {
	c := *s
	c.Names = slices.Clip(s.Names)
	c.defs = slices.Clip(s.defs)
	c.slots = maps.Clone(s.slots)
	return &c
}

// define adds name and returns its slot; a name already defined keeps its
// slot.
func (s *Scope) define(name string, at Span) int {
	if i, ok := s.slots[name]; ok {
		return i
	}
	i := len(s.Names)
	s.slots[name] = i
	s.Names = append(s.Names, name)
	s.defs = append(s.defs, at)
	return i
}

// Slot returns the slot of a computed name.
func (s *Scope) Slot(name string) (int, bool) {
	i, ok := s.slots[name]
	return i, ok
}

// Len returns the number of slots defined so far.
func (s *Scope) Len() int { return len(s.Names) }

// resKind says what a field reference names.
type resKind uint8

const (
	resRecord resKind = iota // a field of the record (phase 0) or nothing
	resSlot                  // a computed field or column
	resMember                // a member path into a computed map
)

// fieldRes is the resolution of a field reference in a scope.
type fieldRes struct {
	kind   resKind
	slot   int
	member []string // resMember: the path below the slot
	name   string   // resRecord: the flattened field name
}

// resolve says what ref names in s: the whole name as a slot; else the
// longest leading part of its path that is a slot, the rest being members
// of the map it holds (js.accounts after "fields jsonParse(@message) as
// js"); else a record field (or, after stats, nothing).
func (s *Scope) resolve(ref *FieldRef) fieldRes {
	name := ref.Name()
	if i, ok := s.slots[name]; ok {
		return fieldRes{kind: resSlot, slot: i}
	}
	for n := len(ref.Path) - 1; n >= 1; n-- {
		if i, ok := s.slots[strings.Join(ref.Path[:n], ".")]; ok {
			return fieldRes{kind: resMember, slot: i, member: ref.Path[n:]}
		}
	}
	return fieldRes{kind: resRecord, name: name}
}

// RecordField returns the flattened name of the record field ref reads in s,
// or "" when ref names a computed field or column.
func (s *Scope) RecordField(ref *FieldRef) string {
	if r := s.resolve(ref); r.kind == resRecord {
		return r.name
	}
	return ""
}
