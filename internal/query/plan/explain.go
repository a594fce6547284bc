package plan

import (
	"fmt"
	"strings"
	"time"
)

// Explain renders the plan as text, for vigil query --explain:
//
//	query:    filter dstPort = 22 | stats count(*) as n by srcAddr
//	reads:    flow records: dstPort, srcAddr
//	needs:    flow records: dstPort = 22
//	          (checked on each record's text: one that cannot meet them is passed over unread)
//	time:     all (no --since/--until)
//	per record, in parallel (one pipeline per worker):
//	  1. filter dstPort = 22
//	barrier:  stats count(*) as n by srcAddr
//	          hash aggregation per worker, merged at the end; memory grows with the groups, not the records
//	then, in memory:
//	  (nothing)
//	output:   srcAddr, n (at most 10000 rows)
func (p *Plan) Explain() string {
	var b strings.Builder
	chk := p.Checked
	fmt.Fprintf(&b, "query:    %s\n", chk.Query.String())
	for i, k := range p.Kinds {
		label := "reads:   "
		if i > 0 {
			label = "         "
		}
		fields := strings.Join(p.Fields[k], ", ")
		if fields == "" {
			fields = "(no fields)"
		}
		fmt.Fprintf(&b, "%s %s records: %s\n", label, k, fields)
	}
	label := "needs:   "
	for _, k := range p.Kinds {
		judged := p.Judged(k)
		if len(judged) == 0 {
			continue
		}
		conds := make([]string, len(judged))
		for i, n := range judged {
			conds[i] = n.String()
		}
		fmt.Fprintf(&b, "%s %s records: %s\n", label, k, strings.Join(conds, ", "))
		label = "         "
	}
	if label != "needs:   " {
		b.WriteString("          (checked on each record's text: one that cannot meet them is passed over unread)\n")
	}
	fmt.Fprintf(&b, "time:     %s\n", p.window())
	b.WriteString("per record, in parallel (one pipeline per worker):\n")
	if len(p.Head) == 0 {
		b.WriteString("  (nothing: every record goes to the barrier)\n")
	}
	for i, st := range p.Head {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, st.Cmd.String())
	}
	b.WriteString("barrier:  ")
	switch bar := p.Barrier; bar.Kind {
	case Stats:
		fmt.Fprintf(&b, "%s\n", bar.Stage.Cmd.String())
		b.WriteString("          hash aggregation per worker, merged at the end; memory grows with the groups, not the records\n")
	case TopK:
		keys := make([]string, len(bar.Keys))
		for i, k := range bar.Keys {
			keys[i] = k.Expr.String()
			if k.Desc {
				keys[i] += " desc"
			} else {
				keys[i] += " asc"
			}
		}
		order := strings.Join(keys, ", ")
		if bar.DefaultOrder {
			order += " (the default order of raw events: newest first)"
		}
		fmt.Fprintf(&b, "keep the first %d rows by %s", bar.K, order)
		if len(bar.Dedup) > 0 {
			names := make([]string, len(bar.Dedup))
			for i, f := range bar.Dedup {
				names[i] = f.Name()
			}
			fmt.Fprintf(&b, ", the first per %s (rows missing one of them are all kept)", strings.Join(names, ", "))
		}
		b.WriteString("\n          a bounded heap per worker, merged at the end\n")
		if bar.TimeKey {
			b.WriteString("          fast rejection: once a worker holds its rows, a row on the wrong side of its last one is turned away on @timestamp alone\n")
		}
	case Take:
		fmt.Fprintf(&b, "keep the first %d rows in the order they are read (limit any)\n", bar.K)
		b.WriteString("          early stop: reading ends once they are found\n")
	}
	if len(p.Materialize) > 0 {
		fmt.Fprintf(&b, "          kept with each row: %s\n", strings.Join(p.Materialize, ", "))
	}
	b.WriteString("then, in memory:\n")
	if len(p.Tail) == 0 {
		b.WriteString("  (nothing)\n")
	}
	for i, st := range p.Tail {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, st.Cmd.String())
		if st.Stats != nil {
			b.WriteString("     (hash aggregation over the rows above)\n")
		}
	}
	cols := make([]string, len(chk.Columns))
	for i, c := range chk.Columns {
		cols[i] = c.Name
	}
	fmt.Fprintf(&b, "output:   %s (at most %d rows)\n", strings.Join(cols, ", "), p.MaxRows)
	if p.Barrier.Kind != Stats && len(p.Tail) == 0 && p.Barrier.Kind == TopK && p.Barrier.DefaultOrder {
		b.WriteString("          raw events, newest first\n")
	}
	if len(p.Notes) > 0 {
		b.WriteString("rewrites:\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	return b.String()
}

// window describes the time range.
func (p *Plan) window() string {
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	switch {
	case p.Since.IsZero() && p.Until.IsZero():
		return "all (no --since/--until)"
	case p.Until.IsZero():
		return fmt.Sprintf("from %s (inclusive)", f(p.Since))
	case p.Since.IsZero():
		return fmt.Sprintf("up to %s (inclusive)", f(p.Until))
	}
	return fmt.Sprintf("%s to %s (both inclusive)", f(p.Since), f(p.Until))
}
