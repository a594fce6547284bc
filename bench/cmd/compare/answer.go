package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kind says how a column's values are compared.
type kind int

const (
	str       kind = iota // text, compared exactly
	num                   // a number: 443, 443.0 and 4.43e2 are equal
	timestamp             // Unix milliseconds, or Logs Insights' "2006-01-02 15:04:05.000" (UTC)
)

// column is one column of an answer. name is the column's name in vigil's
// output (the Logs Insights name: srcAddr, bin(5m), @timestamp, an alias).
type column struct {
	name string
	kind kind
}

// shape describes a case's answer: its columns and, for `sort … | limit N`
// queries, the sort column and the limit.
type shape struct {
	cols    []column
	sortCol int  // the column the query sorts on (when limit > 0)
	desc    bool // sort descending
	limit   int  // 0: no limit, the rows are compared as a multiset
	// approx is the relative error allowed in vigil's values of the sort
	// column (0: exact). count_distinct is exact up to 2,048 values per group
	// and a HyperLogLog sketch above (standard error 0.81%), as Logs Insights'
	// own count_distinct is approximate at high cardinality.
	approx float64
}

// answer is a canonical answer: every value normalised by its column's kind.
type answer struct {
	rows [][]string
}

func (a answer) String() string {
	if len(a.rows) == 1 && len(a.rows[0]) == 1 {
		return a.rows[0][0]
	}
	return fmt.Sprintf("%d rows", len(a.rows))
}

// canon normalises one value. "-" (a missing flow-log field) and "" are missing.
func canon(k kind, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "-" {
		return "", nil
	}
	switch k {
	case num:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not a number", v)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return strconv.FormatInt(int64(f), 10), nil
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case timestamp:
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return strconv.FormatInt(ms, 10), nil
		}
		for _, layout := range []string{"2006-01-02 15:04:05.000", "2006-01-02 15:04:05", time.RFC3339Nano} {
			if t, err := time.Parse(layout, v); err == nil {
				return strconv.FormatInt(t.UnixMilli(), 10), nil
			}
		}
		return "", fmt.Errorf("%q is not a timestamp", v)
	}
	return v, nil
}

// parseTSV reads a peer's answer: tab-separated rows in the shape's column order.
func parseTSV(out []byte, sh shape) (answer, error) {
	var a answer
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" && len(sh.cols) > 1 {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(sh.cols) == 1 { // wc -l pads with spaces and may print a name
			fields = strings.Fields(line)[:1]
		}
		if len(fields) != len(sh.cols) {
			return a, fmt.Errorf("line %d: %d fields, want %d: %q", n, len(fields), len(sh.cols), line)
		}
		row, err := canonRow(sh, fields)
		if err != nil {
			return a, fmt.Errorf("line %d: %w", n, err)
		}
		a.rows = append(a.rows, row)
	}
	return a, sc.Err()
}

func canonRow(sh shape, fields []string) ([]string, error) {
	row := make([]string, len(fields))
	for i, f := range fields {
		v, err := canon(sh.cols[i].kind, f)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", sh.cols[i].name, err)
		}
		row[i] = v
	}
	return row, nil
}

// parseCatCount reads `vigil cat --count`: a table with a header line
// "kind records" and one line per kind ("flow N", "skipped N"). The answer is
// the flow count; skipped records are an error, since every line of the corpus
// is a valid record.
func parseCatCount(out []byte, _ shape) (answer, error) {
	var flow, skipped string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "flow":
			flow = f[1]
		case "skipped":
			skipped = f[1]
		}
	}
	if flow == "" {
		return answer{}, fmt.Errorf("no \"flow N\" line in vigil cat --count output: %q", truncate(string(out), 300))
	}
	if skipped != "" && skipped != "0" {
		return answer{}, fmt.Errorf("vigil skipped %s records", skipped)
	}
	v, err := canon(num, flow)
	if err != nil {
		return answer{}, err
	}
	return answer{rows: [][]string{{v}}}, nil
}

// parseQueryCSV reads `vigil query --output csv`: a header line of column names,
// then rows. It picks the shape's columns by name, in the shape's order.
func parseQueryCSV(out []byte, sh shape) (answer, error) {
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return answer{}, fmt.Errorf("vigil query output is not CSV: %w", err)
	}
	if len(recs) == 0 {
		return answer{}, fmt.Errorf("vigil query printed nothing, not even a header line")
	}
	idx := make([]int, len(sh.cols))
	for i, c := range sh.cols {
		idx[i] = slices.Index(recs[0], c.name)
		if idx[i] < 0 {
			return answer{}, fmt.Errorf("vigil query output has no column %q (columns: %s)", c.name, strings.Join(recs[0], ", "))
		}
	}
	var a answer
	for n, rec := range recs[1:] {
		fields := make([]string, len(idx))
		for i, j := range idx {
			if j < len(rec) {
				fields[i] = rec[j]
			}
		}
		row, err := canonRow(sh, fields)
		if err != nil {
			return a, fmt.Errorf("row %d: %w", n+1, err)
		}
		a.rows = append(a.rows, row)
	}
	return a, nil
}

// sameAnswer compares two peers' answers (both "with ties" when the query has a
// limit): the rows must be the same multiset.
func sameAnswer(a, b answer) error {
	x, y := sortedRows(a.rows), sortedRows(b.rows)
	if slices.EqualFunc(x, y, slices.Equal) {
		return nil
	}
	return diffRows(x, y)
}

// checkVigil checks vigil's answer against a peer's. Without a limit the rows
// must be the same multiset. With `sort … | limit N`, the peer printed its top N
// with ties (ref), so vigil's answer is right when it has min(N, len(ref)) rows,
// each of them one of ref's rows (as a multiset), in the query's order, and its
// sort values are exactly ref's first ones: that admits every way of breaking
// ties at the cut and nothing else.
func checkVigil(got, ref answer, sh shape) error {
	if sh.limit > 0 && sh.approx > 0 {
		return checkVigilApprox(got, ref, sh)
	}
	if sh.limit == 0 {
		return sameAnswer(got, ref)
	}
	if want := min(sh.limit, len(ref.rows)); len(got.rows) != want {
		return fmt.Errorf("vigil returned %d rows, want %d", len(got.rows), want)
	}
	c := sh.sortCol
	for i := 1; i < len(got.rows); i++ {
		if cmp := compareValues(sh.cols[c].kind, got.rows[i-1][c], got.rows[i][c]); (sh.desc && cmp < 0) || (!sh.desc && cmp > 0) {
			return fmt.Errorf("vigil's rows are not sorted on %s: row %d %q before row %d %q", sh.cols[c].name, i, got.rows[i-1][c], i+1, got.rows[i][c])
		}
	}
	refSorted := slices.Clone(ref.rows)
	slices.SortStableFunc(refSorted, func(a, b []string) int {
		cmp := compareValues(sh.cols[c].kind, a[c], b[c])
		if sh.desc {
			cmp = -cmp
		}
		return cmp
	})
	for i, row := range got.rows {
		if row[c] != refSorted[i][c] {
			return fmt.Errorf("row %d: vigil's %s is %q, want %q", i+1, sh.cols[c].name, row[c], refSorted[i][c])
		}
	}
	pool := map[string]int{}
	for _, r := range ref.rows {
		pool[strings.Join(r, "\t")]++
	}
	for i, r := range got.rows {
		k := strings.Join(r, "\t")
		if pool[k] == 0 {
			return fmt.Errorf("row %d of vigil's answer is not in the peer's: %q", i+1, k)
		}
		pool[k]--
	}
	return nil
}

// compareValues orders two canonical values of a column: numbers and
// timestamps numerically, missing values last in descending order (so first
// when ascending), text by bytes.
func compareValues(k kind, a, b string) int {
	if a == b {
		return 0
	}
	if k == str {
		return strings.Compare(a, b)
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	x, _ := strconv.ParseFloat(a, 64)
	y, _ := strconv.ParseFloat(b, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func sortedRows(rows [][]string) [][]string {
	s := slices.Clone(rows)
	slices.SortFunc(s, func(a, b []string) int { return slices.Compare(a, b) })
	return s
}

// diffRows describes how two sorted row lists differ, briefly.
func diffRows(x, y [][]string) error {
	count := func(rows [][]string) map[string]int {
		m := map[string]int{}
		for _, r := range rows {
			m[strings.Join(r, "\t")]++
		}
		return m
	}
	cx, cy := count(x), count(y)
	var onlyX, onlyY []string
	for k, n := range cx {
		if n > cy[k] {
			onlyX = append(onlyX, k)
		}
	}
	for k, n := range cy {
		if n > cx[k] {
			onlyY = append(onlyY, k)
		}
	}
	slices.Sort(onlyX)
	slices.Sort(onlyY)
	show := func(s []string) string {
		if len(s) > 3 {
			return fmt.Sprintf("%q … (%d in all)", s[:3], len(s))
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Errorf("%d rows vs %d rows; only in the first: %s; only in the second: %s", len(x), len(y), show(onlyX), show(onlyY))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkVigilApprox checks a `sort … | limit N` answer whose sort column is
// approximate (count_distinct above its exact range). vigil's rows must be
// sorted on its own values; every row whose key (the other columns) the peer
// has must carry a value within the column's relative error of the peer's;
// a row the peer lacks must be near the cut (its value no more than the error
// above the peer's last value); and every peer row clearly above vigil's cut
// must be in vigil's answer. Approximation may reorder rows whose true values
// are within the error of each other, and nothing else.
func checkVigilApprox(got, ref answer, sh shape) error {
	c, tol := sh.sortCol, sh.approx
	if want := min(sh.limit, len(ref.rows)); len(got.rows) != want {
		return fmt.Errorf("vigil returned %d rows, want %d", len(got.rows), want)
	}
	key := func(r []string) string {
		k := slices.Clone(r)
		k[c] = ""
		return strings.Join(k, "\t")
	}
	num := func(v string) float64 { f, _ := strconv.ParseFloat(v, 64); return f }
	exact := map[string]float64{}
	refCut := math.Inf(1)
	for _, r := range ref.rows {
		exact[key(r)] = num(r[c])
		refCut = min(refCut, num(r[c]))
	}
	seen := map[string]bool{}
	for i, r := range got.rows {
		v := num(r[c])
		if i > 0 {
			if prev := num(got.rows[i-1][c]); (sh.desc && prev < v) || (!sh.desc && prev > v) {
				return fmt.Errorf("vigil's rows are not sorted on %s: row %d %q before row %d %q", sh.cols[c].name, i, got.rows[i-1][c], i+1, r[c])
			}
		}
		k := key(r)
		if seen[k] {
			return fmt.Errorf("row %d of vigil's answer repeats the group %q", i+1, k)
		}
		seen[k] = true
		want, ok := exact[k]
		switch {
		case ok && math.Abs(v-want) > tol*want:
			return fmt.Errorf("row %d: vigil's %s is %q, want %v within %.1f%%", i+1, sh.cols[c].name, r[c], want, 100*tol)
		case !ok && sh.desc && v > refCut*(1+tol):
			return fmt.Errorf("row %d of vigil's answer (%q) is not in the peer's top %d although its %s %v is above the cut %v", i+1, k, sh.limit, sh.cols[c].name, v, refCut)
		}
	}
	if len(got.rows) > 0 && sh.desc {
		gotCut := num(got.rows[len(got.rows)-1][c])
		for k, v := range exact {
			if !seen[k] && v > gotCut*(1+tol) {
				return fmt.Errorf("the peer's row %q (%s %v) is missing from vigil's answer, whose cut is %v", k, sh.cols[c].name, v, gotCut)
			}
		}
	}
	return nil
}

// parseFindingsJSONL reads `vigil scan -o jsonl`: one GuardDuty finding per
// line. The answer is how many there are; each line must be a JSON object with
// a type.
func parseFindingsJSONL(out []byte, _ shape) (answer, error) {
	n := 0
	for line := range strings.Lines(string(out)) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var f struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil || f.Type == "" {
			return answer{}, fmt.Errorf("finding %d is not a GuardDuty finding: %q", n+1, truncate(line, 200))
		}
		n++
	}
	return answer{rows: [][]string{{strconv.Itoa(n)}}}, nil
}
