// Package querytest runs query tests written as data: .qtest files holding
// log records in their native text, queries, and the rows, errors and
// warnings each query must give. The records go through the real decoders
// and the queries through the real checker, planner and executor, so a
// .qtest case tests vigil as a user meets it.
//
// # Format
//
//	# A line starting with # outside a query is a comment.
//	load flow                     records for every case of the file; the
//	version account-id … log-status   kind is flow, dns or cloudtrail; the
//	2 123456789012 eni-1 …        lines are the log's own text (a flow log
//	                              with its header, JSON lines)
//	generate flow 12000           or N synthetic flow records (see generate)
//
//	=== name of the case
//	load dns                      a case may bring its own records instead
//	…
//	options split=3 since=2026-11-01T00:00:00Z until=… kinds=flow,dns now=…
//	query
//	filter dstPort = 22
//	  | stats count(*) as n by srcAddr
//	expect warning 1:22: typographic quote ‘ treated as '
//	expect
//	srcAddr     n
//	10.10.3.17  1
//
// The query runs to the first line that starts an expect. A comment ("# "
// at the left margin) ends a table. expect is followed
// by a table whose cells line up under the header's column names (two
// spaces or more between columns; an empty cell is a missing value), or,
// with "expect csv", by CSV. "expect rows N" checks only the number of rows;
// "expect stats scanned=N matched=M" the record counts. "expect error
// L:C: message" requires the query to fail with an error starting with that
// text. Every warning the query gets must be listed as "expect warning
// L:C: message" (a prefix of it), and every one listed must come.
//
// options: split=N spreads each load's records over N inputs read by N
// workers at once (the result must not change); since/until set the time
// range; kinds the record kinds; now the time now() returns.
package querytest

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/record"
)

// Load is one load section: records of one kind, as log text.
type Load struct {
	Kind  record.Kind
	Lines []string
}

// Case is one test case.
type Case struct {
	File string
	Name string
	Line int // of the === line
	// Loads are the case's records (its own, or the file's).
	Loads []Load
	Query string
	// Options.
	Split        int
	Since, Until time.Time
	Kinds        []record.Kind
	Now          time.Time
	// NoProjection decodes every record whole, not only the query's fields
	// of the records its filters can keep (as vigil query does): a
	// projection that misses a field the query reads, or passes over a
	// record it keeps, changes the outcome (TestProjection).
	NoProjection bool
	// Expectations.
	Warnings []string
	Error    string // expect error; "" if the query must succeed
	Table    [][]string
	CSV      bool
	Rows     int // expect rows N; -1 when not given
	Stats    string
	hasTable bool
	// where the expectations start, for rewriting
	expectLine int
}

// Outcome is what running a case gave.
type Outcome struct {
	Warnings []string
	Err      error
	Result   *exec.Result
}

// ParseFile reads the cases of a .qtest file.
func ParseFile(path string) ([]*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var (
		cases     []*Case
		fileLoads []Load
		cur       *Case
		section   string // "", "load", "query", "expect", "csv"
		load      *Load
		query     []string
		table     []string
	)
	errorf := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, i+1, fmt.Sprintf(format, args...))
	}
	endSection := func() error {
		switch section {
		case "load":
			if cur == nil {
				fileLoads = append(fileLoads, *load)
			} else {
				cur.Loads = append(cur.Loads, *load)
			}
		case "query":
			cur.Query = strings.TrimSpace(strings.Join(query, "\n"))
		case "expect":
			cur.Table = parseTable(table)
			cur.hasTable = true
		case "csv":
			recs, err := csv.NewReader(strings.NewReader(strings.Join(trimBlank(table), "\n"))).ReadAll()
			if err != nil {
				return fmt.Errorf("%s: case %q: expect csv: %w", path, cur.Name, err)
			}
			cur.Table, cur.CSV, cur.hasTable = recs, true, true
		}
		section, load, query, table = "", nil, nil, nil
		return nil
	}
	finishCase := func() error {
		if err := endSection(); err != nil {
			return err
		}
		if cur == nil {
			return nil
		}
		if cur.Loads == nil {
			cur.Loads = fileLoads
		}
		if cur.Query == "" {
			return fmt.Errorf("%s:%d: case %q has no query", path, cur.Line, cur.Name)
		}
		cases = append(cases, cur)
		return nil
	}
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if section == "query" && !strings.HasPrefix(line, "expect") && !strings.HasPrefix(line, "=== ") {
			query = append(query, line)
			continue
		}
		switch {
		case strings.HasPrefix(line, "=== "):
			if err := finishCase(); err != nil {
				return nil, err
			}
			cur = &Case{File: path, Name: strings.TrimSpace(line[4:]), Line: i + 1, Rows: -1}
		case strings.HasPrefix(line, "load ") || strings.HasPrefix(line, "generate "):
			if err := endSection(); err != nil {
				return nil, err
			}
			f := strings.Fields(line)
			if len(f) < 2 {
				return nil, errorf(i, "load needs a kind")
			}
			kind, err := record.ParseKind(f[1])
			if err != nil {
				return nil, errorf(i, "%v", err)
			}
			l := Load{Kind: kind}
			if f[0] == "generate" {
				if len(f) != 3 || kind != record.KindFlow {
					return nil, errorf(i, "generate takes flow and a number")
				}
				n, err := strconv.Atoi(f[2])
				if err != nil {
					return nil, errorf(i, "generate: %v", err)
				}
				l.Lines = generateFlows(n)
				if cur == nil {
					fileLoads = append(fileLoads, l)
				} else {
					cur.Loads = append(cur.Loads, l)
				}
				continue
			}
			load, section = &l, "load"
		case section == "load" && !(cur != nil && (line == "query" || strings.HasPrefix(line, "options"))):
			if trimmed != "" && !strings.HasPrefix(line, "#") {
				load.Lines = append(load.Lines, line)
			}
		case cur == nil:
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				return nil, errorf(i, "unexpected %q before the first case", clip(trimmed))
			}
		case strings.HasPrefix(line, "options"):
			if err := endSection(); err != nil {
				return nil, err
			}
			if err := cur.options(strings.Fields(line)[1:]); err != nil {
				return nil, errorf(i, "%v", err)
			}
		case line == "query":
			if err := endSection(); err != nil {
				return nil, err
			}
			section = "query"
		case strings.HasPrefix(line, "expect"):
			if err := endSection(); err != nil {
				return nil, err
			}
			if cur.expectLine == 0 {
				cur.expectLine = i + 1
			}
			rest := strings.TrimSpace(strings.TrimPrefix(line, "expect"))
			switch {
			case rest == "":
				section = "expect"
			case rest == "csv":
				section = "csv"
			case strings.HasPrefix(rest, "error "):
				cur.Error = strings.TrimSpace(strings.TrimPrefix(rest, "error "))
			case strings.HasPrefix(rest, "warning "):
				cur.Warnings = append(cur.Warnings, strings.TrimSpace(strings.TrimPrefix(rest, "warning ")))
			case strings.HasPrefix(rest, "rows "):
				n, err := strconv.Atoi(strings.TrimSpace(rest[5:]))
				if err != nil {
					return nil, errorf(i, "expect rows: %v", err)
				}
				cur.Rows = n
			case strings.HasPrefix(rest, "stats "):
				cur.Stats = strings.TrimSpace(rest[6:])
			default:
				return nil, errorf(i, "unknown expectation %q", line)
			}
		case (section == "expect" || section == "csv") && !strings.HasPrefix(line, "# "):
			table = append(table, line)
		case section == "expect" || section == "csv":
			if err := endSection(); err != nil { // a comment ends the table
				return nil, err
			}
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		default:
			return nil, errorf(i, "unexpected %q in case %q", clip(trimmed), cur.Name)
		}
	}
	if err := finishCase(); err != nil {
		return nil, err
	}
	return cases, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (c *Case) options(opts []string) error {
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			return fmt.Errorf("option %q: expected name=value", o)
		}
		var err error
		switch k {
		case "split":
			c.Split, err = strconv.Atoi(v)
		case "since":
			c.Since, err = time.Parse(time.RFC3339, v)
		case "until":
			c.Until, err = time.Parse(time.RFC3339, v)
		case "now":
			c.Now, err = time.Parse(time.RFC3339, v)
		case "kinds":
			for _, s := range strings.Split(v, ",") {
				kind, kerr := record.ParseKind(s)
				if kerr != nil {
					return kerr
				}
				c.Kinds = append(c.Kinds, kind)
			}
		default:
			return fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return fmt.Errorf("option %s: %w", k, err)
		}
	}
	return nil
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	return lines
}

// parseTable reads an aligned table: each cell spans from its column's
// start in the header to the next column's start.
func parseTable(lines []string) [][]string {
	lines = trimBlank(lines)
	if len(lines) == 0 {
		return nil
	}
	header := lines[0]
	var starts []int
	var names []string
	for _, m := range regexp.MustCompile(`\S+(?: \S+)*`).FindAllStringIndex(header, -1) {
		starts = append(starts, runeIndex(header, m[0]))
		names = append(names, header[m[0]:m[1]])
	}
	out := [][]string{names}
	for _, l := range lines[1:] {
		rs := []rune(l)
		row := make([]string, len(starts))
		if strings.TrimSpace(l) == emptyRow {
			out = append(out, row)
			continue
		}
		for i, s := range starts {
			end := len(rs)
			if i+1 < len(starts) {
				end = min(starts[i+1], len(rs))
			}
			if s < len(rs) {
				row[i] = strings.TrimSpace(string(rs[s:end]))
			}
		}
		out = append(out, row)
	}
	return out
}

func runeIndex(s string, byteOff int) int { return len([]rune(s[:byteOff])) }

// emptyRow stands for a row without any of the columns (rows are sparse).
const emptyRow = "(empty row)"

// FormatTable renders rows (header first) aligned, two spaces apart; a row
// whose cells are all empty is written as "(empty row)".
func FormatTable(rows [][]string) string {
	if len(rows) == 0 {
		return ""
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], len([]rune(c)))
			}
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))))
			}
		}
		text := strings.TrimRight(line.String(), " ")
		if text == "" && len(r) > 0 {
			text = emptyRow
		}
		b.WriteString(text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Run runs the case.
func (c *Case) Run(ctx context.Context) *Outcome {
	out := &Outcome{}
	chk, ws, err := query.ParseAndCheck(c.Query, c.Kinds)
	for _, w := range ws {
		out.Warnings = append(out.Warnings, w.String())
	}
	if err != nil {
		out.Err = err
		return out
	}
	p, err := plan.Build(chk, plan.Options{Since: c.Since, Until: c.Until})
	if err != nil {
		out.Err = err
		return out
	}
	inputs := c.inputs()
	src := func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		errs := make([]error, len(inputs))
		var wg sync.WaitGroup
		for i, in := range inputs {
			wg.Go(func() {
				cfg := auto.DefaultConfig()
				cfg.Format = formatOf(in.kind)
				if !c.NoProjection {
					p.Project(&cfg)
				}
				dec := auto.New(cfg)
				_, errs[i] = dec.Decode(ctx, decode.Input{Name: in.name}, strings.NewReader(in.text),
					func(b *decode.Batch) error { return emit(i, b) }, nil)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	now := c.Now
	if now.IsZero() {
		now = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	}
	out.Result, out.Err = exec.Run(ctx, p, src, exec.Options{Workers: max(len(inputs), 1), Eval: query.EvalOptions{Now: now}})
	return out
}

type input struct {
	name string
	kind record.Kind
	text string
}

// inputs turns the loads into decoder inputs, split as the options say.
func (c *Case) inputs() []input {
	split := max(c.Split, 1)
	var ins []input
	for li, l := range c.Loads {
		parts := make([][]string, split)
		lines := l.Lines
		var header []string
		if l.Kind == record.KindFlow && len(lines) > 0 && strings.HasPrefix(lines[0], "version") {
			header, lines = lines[:1], lines[1:]
		}
		for i, line := range lines {
			parts[i%split] = append(parts[i%split], line)
		}
		for pi, part := range parts {
			if len(part) == 0 && pi > 0 {
				continue
			}
			text := strings.Join(append(append([]string(nil), header...), part...), "\n") + "\n"
			ins = append(ins, input{name: fmt.Sprintf("%s.%d.%d", filepath.Base(c.File), li+1, pi+1), kind: l.Kind, text: text})
		}
	}
	return ins
}

func formatOf(k record.Kind) auto.Format {
	switch k {
	case record.KindDNS:
		return auto.DNSLog
	case record.KindAPICall:
		return auto.CloudTrail
	}
	return auto.VPCFlow
}

// generateFlows makes n version-2 flow records, one a second from
// 2026-11-01T00:00:00Z, from 10.0.x.y to 10.1.0.z on ports 1000–1099.
func generateFlows(n int) []string {
	lines := []string{"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"}
	base := int64(1793491200) // 2026-11-01T00:00:00Z
	for i := range n {
		action := "ACCEPT"
		if i%10 == 0 {
			action = "REJECT"
		}
		lines = append(lines, fmt.Sprintf("2 123456789012 eni-%d 10.0.%d.%d 10.1.0.%d %d %d 6 %d %d %d %d %s OK",
			i%4, i/256%256, i%256, i%7, 40000+i%1000, 1000+i%100, 1+i%5, 100*(1+i%5), base+int64(i), base+int64(i)+60, action))
	}
	return lines
}

// Check compares an outcome with the case's expectations and returns what
// differs ("" when all holds).
func (c *Case) Check(o *Outcome) string {
	var problems []string
	// Warnings: each expected one must come, and no other.
	got := append([]string(nil), o.Warnings...)
	for _, want := range c.Warnings {
		found := -1
		for i, w := range got {
			if strings.HasPrefix(w, want) {
				found = i
				break
			}
		}
		if found < 0 {
			problems = append(problems, fmt.Sprintf("missing warning %q", want))
			continue
		}
		got = append(got[:found], got[found+1:]...)
	}
	for _, w := range got {
		problems = append(problems, fmt.Sprintf("unexpected warning %q", w))
	}
	switch {
	case c.Error != "":
		if o.Err == nil {
			problems = append(problems, fmt.Sprintf("want error %q, the query succeeded", c.Error))
		} else if !strings.HasPrefix(o.Err.Error(), c.Error) {
			problems = append(problems, fmt.Sprintf("want error %q\n got error %q", c.Error, o.Err.Error()))
		}
		return strings.Join(problems, "\n")
	case o.Err != nil:
		problems = append(problems, fmt.Sprintf("unexpected error: %v", o.Err))
		return strings.Join(problems, "\n")
	}
	res := o.Result
	if c.Rows >= 0 && len(res.Rows) != c.Rows {
		problems = append(problems, fmt.Sprintf("want %d rows, got %d", c.Rows, len(res.Rows)))
	}
	if c.Stats != "" {
		if got := statsText(res); got != c.Stats {
			problems = append(problems, fmt.Sprintf("want stats %s, got %s", c.Stats, got))
		}
	}
	if c.hasTable {
		want := FormatTable(c.Table)
		gotT := FormatTable(ResultTable(res))
		if want != gotT {
			problems = append(problems, fmt.Sprintf("rows differ\n--- want\n%s--- got\n%s", want, gotT))
		}
	}
	if !c.hasTable && c.Rows < 0 && c.Stats == "" {
		problems = append(problems, "the case expects nothing")
	}
	return strings.Join(problems, "\n")
}

func statsText(res *exec.Result) string {
	return fmt.Sprintf("scanned=%d matched=%d", res.RecordsScanned, res.RecordsMatched)
}

// ResultTable returns a result as a table of text, header first. Line
// breaks and tabs in values are written \n, \r and \t, so that a row stays
// on one line.
func ResultTable(res *exec.Result) [][]string {
	esc := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)
	rows := [][]string{res.Columns}
	for _, r := range res.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = esc.Replace(query.FormatValue(v))
		}
		rows = append(rows, cells)
	}
	return rows
}

// Rewrite returns the file's text with each case's expectations replaced by
// what the outcomes gave, for go test -update. A case's expectations run
// from its first expect line to the next case, or to a comment line at the
// left margin.
func Rewrite(path string, cases []*Case, outcomes []*Outcome) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	caseAt := map[int]int{}   // === line → case
	expectAt := map[int]int{} // first expect line → case
	for i, c := range cases {
		caseAt[c.Line] = i
		if c.expectLine > 0 {
			expectAt[c.expectLine] = i
		}
	}
	var b strings.Builder
	cur, skip := -1, false
	flushMissing := func() {
		// A case without expectations gets them at its end.
		if cur >= 0 && cases[cur].expectLine == 0 {
			b.WriteString(expectText(cases[cur], outcomes[cur]))
		}
	}
	for i, line := range lines {
		n := i + 1
		if ci, ok := caseAt[n]; ok {
			flushMissing()
			cur, skip = ci, false
		}
		if strings.HasPrefix(line, "# ") {
			skip = false
		}
		if ci, ok := expectAt[n]; ok {
			b.WriteString(expectText(cases[ci], outcomes[ci]))
			skip = true
		}
		if skip {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	flushMissing()
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// expectText renders the expectations an outcome satisfies, in the form the
// case used (table, csv, rows, stats).
func expectText(c *Case, o *Outcome) string {
	var b strings.Builder
	for _, w := range o.Warnings {
		fmt.Fprintf(&b, "expect warning %s\n", w)
	}
	if o.Err != nil {
		fmt.Fprintf(&b, "expect error %s\n\n", o.Err.Error())
		return b.String()
	}
	if c.Stats != "" {
		fmt.Fprintf(&b, "expect stats %s\n", statsText(o.Result))
	}
	if c.Rows >= 0 {
		fmt.Fprintf(&b, "expect rows %d\n", len(o.Result.Rows))
	}
	if c.hasTable || (c.Rows < 0 && c.Stats == "") {
		t := ResultTable(o.Result)
		if c.CSV {
			b.WriteString("expect csv\n")
			w := csv.NewWriter(&b)
			_ = w.WriteAll(t)
		} else {
			b.WriteString("expect\n")
			b.WriteString(FormatTable(t))
		}
	}
	b.WriteByte('\n')
	return b.String()
}
