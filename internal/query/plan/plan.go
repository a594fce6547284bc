// Package plan turns a checked Logs Insights query into a logical plan: which
// record kinds to read and which of their fields, the time window, and the
// pipeline cut in three:
//
//   - the head: the per-record commands (filter, fields, parse) that run
//     where records are decoded, in parallel, one pipeline per worker;
//   - the barrier: the first command that needs more than one record at a
//     time — stats (hash aggregation per worker, merged at the end), or an
//     ordering (sort, limit, dedup, and the default newest-first order of
//     raw events) kept as a bounded top-K per worker, or limit any (the
//     first N rows, after which reading stops);
//   - the tail: everything after the barrier, run in memory on the rows the
//     barrier produced, whose number is bounded by the groups or by K.
//
// Building the plan applies the rewrites that make this cut possible and
// keeps memory bounded: per-record commands after a sort move before it (they
// do not depend on order), consecutive sorts merge into one (stably, the
// later one's keys first), a sort directly before stats is dropped, and a
// limit or dedup right after an ordering bounds the top-K. Explain renders
// the result for vigil query --explain.
package plan

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/decode/cloudtrail"
	"github.com/vigil-dev/vigil/internal/decode/dnslog"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// DefaultMaxRows is the number of rows a query returns when it has no limit
// (the Logs Insights default, §3.6).
const DefaultMaxRows = 10000

// Options are what the plan takes from outside the query.
type Options struct {
	// Since and Until bound @timestamp, both inclusive; zero is open.
	Since, Until time.Time
}

// BarrierKind is the kind of the first multi-record command.
type BarrierKind uint8

// The barriers.
const (
	// Stats aggregates rows into groups: a hash table per worker, merged.
	Stats BarrierKind = iota + 1
	// TopK keeps the first K rows in an order (with dedup: the first per
	// key), as a bounded heap per worker, merged.
	TopK
	// Take keeps the first K rows as they arrive (limit any): reading stops
	// once K rows matched.
	Take
)

func (k BarrierKind) String() string {
	switch k {
	case Stats:
		return "stats"
	case TopK:
		return "top-k"
	case Take:
		return "take"
	}
	return "?"
}

// Key is one sort key of a TopK barrier, with the scope to compile it in.
type Key struct {
	Expr  query.Expr
	Desc  bool
	Scope *query.Scope
}

// Barrier is the command that ends the per-record head.
type Barrier struct {
	Kind BarrierKind
	// Stage is the stats stage (Stats).
	Stage *query.Stage
	// Keys order the rows (TopK): the query's sorts, or @timestamp
	// descending (DefaultOrder).
	Keys         []Key
	DefaultOrder bool
	// Dedup lists the dedup fields (TopK), compiled in DedupScope.
	Dedup      []*query.FieldRef
	DedupScope *query.Scope
	// K bounds the rows kept (TopK, Take).
	K int64
	// TimeKey says the first key is the record's own @timestamp, so a worker
	// whose top-K is full turns a row on the wrong side of its K-th away by
	// comparing timestamps, before computing any other key or copying
	// anything.
	TimeKey bool
}

// Plan is the logical plan of one query.
type Plan struct {
	Checked *query.Checked
	// Kinds are the record kinds read; records of other kinds are skipped.
	Kinds []record.Kind
	// Since and Until bound @timestamp, both inclusive; zero is open.
	Since, Until time.Time
	// Fields lists, per kind, the fields the query reads (its projection,
	// for decoders that can skip the rest): catalogue names, system fields
	// and JSON paths, sorted.
	Fields map[record.Kind][]string
	// Needles are what the per-record filters require of a record field's
	// text: every record the query keeps passes each of them. Decoders that
	// can tell from a record's text that a field's cannot contain a needle
	// pass over the record unread (Project, Judged).
	Needles []Needle
	// Head are the per-record stages, in order; each compiles in its own
	// Scope.
	Head    []*query.Stage
	Barrier Barrier
	// Tail are the stages after the barrier, run in memory.
	Tail []*query.Stage
	// Materialize names the record fields a TopK or Take barrier keeps with
	// each row, for the tail and the output: field i goes to slot
	// MatBase+i, after the phase-0 computed slots.
	Materialize []string
	MatBase     int
	// MaxRows caps the result: the last limit of the final phase, else
	// DefaultMaxRows.
	MaxRows int64
	// Notes describes the rewrites applied, for Explain.
	Notes []string
}

// MatSlots returns the slots of the materialized fields, by name.
func (p *Plan) MatSlots() map[string]int {
	m := make(map[string]int, len(p.Materialize))
	for i, name := range p.Materialize {
		m[name] = p.MatBase + i
	}
	return m
}

// Build makes the plan of a checked query.
func Build(chk *query.Checked, opts Options) (*Plan, error) {
	if chk == nil || len(chk.Stages) == 0 {
		return nil, fmt.Errorf("plan: empty query")
	}
	p := &Plan{Checked: chk, Kinds: chk.Kinds, Since: opts.Since, Until: opts.Until, MatBase: chk.PhaseSlots[0]}
	stages := chk.Stages
	headScope := stages[0].Scope
	var pending []Key
	var sortAt, movedPast *query.Stage
	i := 0
	done := false
	for ; i < len(stages) && !done; i++ {
		st := stages[i]
		switch cmd := st.Cmd.(type) {
		case *query.FilterCmd, *query.FieldsCmd, *query.ParseCmd, *query.DisplayCmd:
			p.Head = append(p.Head, st)
			headScope = st.Out
			if sortAt != nil && movedPast == nil {
				movedPast = sortAt
			}
		case *query.SortCmd:
			keys := make([]Key, 0, len(cmd.Keys))
			for _, k := range cmd.Keys {
				keys = append(keys, Key{Expr: k.Expr, Desc: k.Desc(), Scope: st.Scope})
			}
			if sortAt != nil {
				p.note("the sorts at %s and %s are merged into one (stable: the later keys first)", pos(chk, sortAt), pos(chk, st))
			}
			pending = append(keys, pending...)
			sortAt = st
		case *query.LimitCmd:
			if cmd.Any && pending == nil {
				p.Barrier = Barrier{Kind: Take, K: cmd.N}
			} else {
				p.Barrier = p.topK(pending, st.Scope, cmd.N)
			}
			done = true
		case *query.DedupCmd:
			b := p.topK(pending, st.Scope, DefaultMaxRows)
			b.Dedup, b.DedupScope = cmd.Fields, st.Scope
			if i+1 < len(stages) {
				if lim, ok := stages[i+1].Cmd.(*query.LimitCmd); ok {
					b.K = lim.N
					i++
				}
			}
			p.Barrier = b
			done = true
		case *query.StatsCmd:
			if sortAt != nil {
				p.note("the sort at %s is dropped: stats does not keep the order of its input", pos(chk, sortAt))
			}
			p.Barrier = Barrier{Kind: Stats, Stage: st}
			done = true
		}
	}
	if !done {
		p.Barrier = p.topK(pending, headScope, DefaultMaxRows)
	}
	if movedPast != nil {
		p.note("per-record commands after the sort at %s run before it (they do not depend on order)", pos(chk, movedPast))
	}
	p.Tail = stages[i:]
	p.MaxRows = maxRows(chk)
	if p.Barrier.Kind != Stats {
		p.Materialize = materialize(chk, p.Tail)
	}
	p.Fields = p.projection()
	p.Needles = p.needles()
	return p, nil
}

// Needle says that the text of record field Field (as like sees it)
// contains Text, or with Equal is Text.
type Needle struct {
	Field, Text string
	Equal       bool
	// Number: field = n for a whole number n, whose digits are Text.
	Number bool
}

// String returns the condition as the query would write it.
func (n Needle) String() string {
	switch {
	case n.Number:
		return n.Field + " = " + n.Text
	case n.Equal:
		return n.Field + " = " + strconv.Quote(n.Text)
	}
	return n.Field + " like " + strconv.Quote(n.Text)
}

// needles collects the conditions field like "text" (not negated) and
// field = "text" that every record passing the per-record filters meets:
// the operands of each filter's top-level and.
func (p *Plan) needles() []Needle {
	var out []Needle
	var conjuncts func(e query.Expr, s *query.Scope)
	conjuncts = func(e query.Expr, s *query.Scope) {
		switch e := e.(type) {
		case *query.BinaryExpr:
			if e.Op == query.OpAnd {
				conjuncts(e.X, s)
				conjuncts(e.Y, s)
			}
		case *query.LikeExpr:
			ref, ok := e.X.(*query.FieldRef)
			lit, isText := e.Pattern.(*query.StringLit)
			if !ok || !isText || e.Not || e.Match || lit.Value == "" {
				return
			}
			if name := s.RecordField(ref); name != "" {
				out = append(out, Needle{Field: name, Text: lit.Value})
			}
		case *query.CompareExpr:
			ref, ok := e.X.(*query.FieldRef)
			lit := e.Y
			if !ok {
				ref, ok = e.Y.(*query.FieldRef)
				lit = e.X
			}
			if !ok || e.Op != query.OpEq {
				return
			}
			n := Needle{Field: s.RecordField(ref), Equal: true}
			switch lit := lit.(type) {
			case *query.StringLit:
				n.Text = lit.Value
			case *query.NumberLit:
				// A whole number: the field's digits as written, less any
				// leading zeros.
				if v := lit.Value; v == math.Trunc(v) && v >= 0 && v < 1<<53 {
					n.Text, n.Number = strconv.FormatInt(int64(v), 10), true
				}
			}
			if n.Field != "" && n.Text != "" {
				out = append(out, n)
			}
		}
	}
	for _, st := range p.Head {
		if f, ok := st.Cmd.(*query.FilterCmd); ok {
			conjuncts(f.Cond, st.Scope)
		}
	}
	return out
}

func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// pos returns a stage's line:col.
func pos(chk *query.Checked, st *query.Stage) string {
	line, col := query.Position(chk.Src, st.Cmd.Span().Start)
	return fmt.Sprintf("%d:%d", line, col)
}

// timestampRef is @timestamp as a field reference.
func timestampRef() *query.FieldRef { return &query.FieldRef{Path: []string{"@timestamp"}} }

// topK returns a TopK barrier over keys (or the default newest-first order
// of raw events, compiled in scope) keeping k rows.
func (p *Plan) topK(keys []Key, scope *query.Scope, k int64) Barrier {
	b := Barrier{Kind: TopK, Keys: keys, K: k}
	if len(keys) == 0 {
		b.Keys = []Key{{Expr: timestampRef(), Desc: true, Scope: scope}}
		b.DefaultOrder = true
	}
	if ref, ok := b.Keys[0].Expr.(*query.FieldRef); ok && ref.Name() == "@timestamp" && b.Keys[0].Scope.RecordField(ref) == "@timestamp" {
		b.TimeKey = true
	}
	return b
}

// maxRows returns the result cap: the last limit if it is in the final
// phase (a limit before a stats bounds that stats' input, not the result).
func maxRows(chk *query.Checked) int64 {
	final := len(chk.PhaseSlots) - 1
	for i := len(chk.Stages) - 1; i >= 0; i-- {
		st := chk.Stages[i]
		if lim, ok := st.Cmd.(*query.LimitCmd); ok {
			if st.Phase == final {
				return lim.N
			}
			break
		}
	}
	return DefaultMaxRows
}

// materialize returns the record fields that the phase-0 part of the tail,
// and the output when the query ends in phase 0, read: a TopK or Take
// barrier keeps them with each row, since the records themselves are gone
// by then.
func materialize(chk *query.Checked, tail []*query.Stage) []string {
	seen := map[string]bool{}
	var names []string
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, st := range tail {
		if st.Phase != 0 {
			break
		}
		stageRefs(st, add)
	}
	if len(chk.PhaseSlots) == 1 {
		for _, col := range chk.Columns {
			exprRefs(col.Expr, chk.Final, add)
		}
	}
	return names
}

// stageRefs calls add with each record field a stage reads.
func stageRefs(st *query.Stage, add func(string)) {
	s := st.Scope
	switch cmd := st.Cmd.(type) {
	case *query.FilterCmd:
		exprRefs(cmd.Cond, s, add)
	case *query.FieldsCmd:
		for i, it := range cmd.Items {
			exprRefs(it.Expr, st.ItemScopes[i], add)
		}
	case *query.DisplayCmd:
		for _, it := range cmd.Items {
			exprRefs(it.Expr, s, add)
		}
	case *query.ParseCmd:
		if cmd.Source != nil {
			exprRefs(cmd.Source, s, add)
		} else {
			add(s.RecordField(&query.FieldRef{Path: []string{"@message"}}))
		}
	case *query.SortCmd:
		for _, k := range cmd.Keys {
			exprRefs(k.Expr, s, add)
		}
	case *query.DedupCmd:
		for _, f := range cmd.Fields {
			exprRefs(f, s, add)
		}
	case *query.StatsCmd:
		for _, g := range st.Stats.Groups {
			exprRefs(g.Expr, s, add)
		}
		for _, a := range st.Stats.Aggs {
			if a.Arg != nil {
				exprRefs(a.Arg, s, add)
			}
			switch a.Func.Name {
			case "earliest", "latest":
				add(s.RecordField(timestampRef()))
			}
		}
	}
}

// exprRefs calls add with each record field e reads in scope s, including
// the @timestamp that bin reads implicitly.
func exprRefs(e query.Expr, s *query.Scope, add func(string)) {
	query.Inspect(e, func(n query.Node) bool {
		switch n := n.(type) {
		case *query.FieldRef:
			add(s.RecordField(n))
		case *query.CallExpr:
			if n.Name == "bin" {
				add(s.RecordField(timestampRef()))
			}
		}
		return true
	})
}

// projection lists the fields each kind's records are read for.
func (p *Plan) projection() map[record.Kind][]string {
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" {
			seen[name] = true
		}
	}
	for _, st := range p.Head {
		stageRefs(st, add)
	}
	switch p.Barrier.Kind {
	case Stats:
		stageRefs(p.Barrier.Stage, add)
	case TopK:
		for _, k := range p.Barrier.Keys {
			exprRefs(k.Expr, k.Scope, add)
		}
		for _, f := range p.Barrier.Dedup {
			exprRefs(f, p.Barrier.DedupScope, add)
		}
	}
	for _, name := range p.Materialize {
		add(name)
	}
	if !p.Since.IsZero() || !p.Until.IsZero() {
		add("@timestamp") // the time range is checked on every record
	}
	out := map[record.Kind][]string{}
	for _, k := range p.Kinds {
		cat := record.CatalogueOf(k)
		var names []string
		for name := range seen {
			switch f, ok := cat.Lookup(name); {
			case ok:
				names = append(names, f.Name)
			case strings.HasPrefix(name, "@"), cat.Open:
				names = append(names, name)
			}
		}
		sort.Strings(names)
		out[k] = slices.Compact(names)
	}
	return out
}

// Project sets in cfg what the plan lets the decoders skip: the fields the
// query does not read, and the records its filters cannot keep.
func (p *Plan) Project(cfg *auto.Config) {
	cfg.VPCFlow.Project = p.FlowProjection()
	cfg.DNS.Project = p.jsonProjection(dnslog.NewProjection())
	cfg.CloudTrail.Project = p.jsonProjection(cloudtrail.NewProjection())
}

// jsonProjection fills proj, a projection of JSON records, with the plan's
// needles; nil when it can skip nothing.
func (p *Plan) jsonProjection(proj *decode.JSONProjection) *decode.JSONProjection {
	for _, n := range p.Needles {
		requireJSON(proj, n)
	}
	if proj.Empty() {
		return nil
	}
	return proj
}

// requireJSON adds n to proj and reports whether its decoder judges it. A
// number is not judged: its text as written may not be its digits.
func requireJSON(proj *decode.JSONProjection, n Needle) bool {
	return !n.Number && proj.Require(n.Field, n.Text)
}

// FlowProjection is what the plan lets a flow-log decoder skip: the fields
// the query does not read, and the lines its filters cannot keep.
func (p *Plan) FlowProjection() *vpcflow.Projection {
	proj := vpcflow.ProjectionOf(p.Fields[record.KindFlow])
	for _, n := range p.Needles {
		requireFlow(proj, n)
	}
	return proj
}

// requireFlow adds n to proj and reports whether the flow decoder judges it.
func requireFlow(proj *vpcflow.Projection, n Needle) bool {
	switch {
	case n.Number:
		return proj.RequireNumber(n.Field, n.Text)
	case n.Equal:
		return proj.RequireEqual(n.Field, n.Text)
	}
	return proj.Require(n.Field, n.Text)
}

// Judged returns the needles that the decoder of records of kind k checks on
// a record's text, passing over the records that cannot meet them.
func (p *Plan) Judged(k record.Kind) []Needle {
	var judge func(Needle) bool
	switch k {
	case record.KindFlow:
		proj := vpcflow.ProjectionOf(p.Fields[k])
		judge = func(n Needle) bool { return requireFlow(proj, n) }
	case record.KindDNS:
		proj := dnslog.NewProjection()
		judge = func(n Needle) bool { return requireJSON(proj, n) }
	case record.KindAPICall:
		proj := cloudtrail.NewProjection()
		judge = func(n Needle) bool { return requireJSON(proj, n) }
	default:
		return nil
	}
	var out []Needle
	for _, n := range p.Needles {
		if judge(n) {
			out = append(out, n)
		}
	}
	return out
}
