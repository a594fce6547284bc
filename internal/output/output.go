// Package output writes tabular results — query rows, findings, records — in the
// formats users ask for with -o: an aligned table for people, and json, jsonl and
// csv for programs. Every command that prints data goes through it, so the formats
// behave the same everywhere.
package output

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Format is an output format.
type Format string

// The formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// ParseFormat checks a -o value against the formats a command allows.
func ParseFormat(s string, allowed ...Format) (Format, error) {
	names := make([]string, len(allowed))
	for i, f := range allowed {
		if string(f) == s {
			return f, nil
		}
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown output format %q (expected %s)", s, strings.Join(names, ", "))
}

// Color reports whether colour may be used on w: it must be a terminal and
// NO_COLOR (https://no-color.org) must be unset or empty.
func Color(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// Writer writes rows with a fixed set of columns. A row may lack a column (rows are
// sparse, as Logs Insights results are): pass ok=false in Cell.
type Writer struct {
	format  Format
	w       io.Writer
	columns []string
	// table buffers rows to align them; json streams with a bracket and commas.
	rows   [][]Cell
	csv    *csv.Writer
	nrows  int
	maxRow int // table: rows buffered at most; more are flushed in blocks
}

// Cell is one value of a row; OK is false when the row lacks the column.
type Cell struct {
	Text string
	OK   bool
	// Raw, if set, is written as this JSON value instead of a string (numbers,
	// nested objects) in json and jsonl.
	Raw json.RawMessage
}

// TextCell returns a present text cell.
func TextCell(s string) Cell { return Cell{Text: s, OK: true} }

// NewWriter returns a writer of rows with the given columns.
func NewWriter(w io.Writer, format Format, columns []string) *Writer {
	ow := &Writer{format: format, w: w, columns: columns, maxRow: 10000}
	if format == CSV {
		ow.csv = csv.NewWriter(w)
		ow.csv.Write(columns)
	}
	return ow
}

// Write writes one row; cells correspond to the columns.
func (ow *Writer) Write(cells []Cell) error {
	ow.nrows++
	switch ow.format {
	case CSV:
		rec := make([]string, len(ow.columns))
		for i := range ow.columns {
			if i < len(cells) && cells[i].OK {
				rec[i] = cells[i].Text
			}
		}
		return ow.csv.Write(rec)
	case JSON, JSONL:
		b, err := ow.object(cells)
		if err != nil {
			return err
		}
		prefix := ""
		if ow.format == JSON {
			prefix = ",\n  "
			if ow.nrows == 1 {
				prefix = "[\n  "
			}
		}
		suffix := ""
		if ow.format == JSONL {
			suffix = "\n"
		}
		_, err = fmt.Fprintf(ow.w, "%s%s%s", prefix, b, suffix)
		return err
	default:
		ow.rows = append(ow.rows, append([]Cell(nil), cells...))
		if len(ow.rows) >= ow.maxRow {
			return ow.flushTable()
		}
		return nil
	}
}

func (ow *Writer) object(cells []Cell) ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for i, c := range cells {
		if i >= len(ow.columns) || !c.OK {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(ow.columns[i])
		b.Write(k)
		b.WriteByte(':')
		if c.Raw != nil {
			b.Write(c.Raw)
		} else {
			v, err := json.Marshal(c.Text)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// Close finishes the output (closing bracket, flushing the table).
func (ow *Writer) Close() error {
	switch ow.format {
	case CSV:
		ow.csv.Flush()
		return ow.csv.Error()
	case JSON:
		if ow.nrows == 0 {
			_, err := io.WriteString(ow.w, "[]\n")
			return err
		}
		_, err := io.WriteString(ow.w, "\n]\n")
		return err
	case JSONL:
		return nil
	}
	return ow.flushTable()
}

// flushTable writes the buffered rows aligned under the column names, as the Logs
// Insights console shows results. Control characters from logs are escaped so a
// hostile value cannot move the cursor or forge lines.
func (ow *Writer) flushTable() error {
	widths := make([]int, len(ow.columns))
	used := make([]bool, len(ow.columns))
	for i, c := range ow.columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, r := range ow.rows {
		for i := range ow.columns {
			if i < len(r) && r[i].OK {
				r[i].Text = escapeControl(r[i].Text)
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i].Text))
				used[i] = true
			}
		}
	}
	// Columns no row has are left out of a table (a v2 flow log has no vpcId), unless
	// there are no rows at all, when the header alone says what would have come.
	var cols []int
	for i := range ow.columns {
		if used[i] || len(ow.rows) == 0 {
			cols = append(cols, i)
		}
	}
	var b strings.Builder
	line := func(cells func(i int) string) {
		for j, i := range cols {
			s := cells(i)
			b.WriteString(s)
			if j < len(cols)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s)+2))
			}
		}
		b.WriteByte('\n')
	}
	if ow.nrows <= len(ow.rows) { // header only once, before the first block
		line(func(i int) string { return ow.columns[i] })
		line(func(i int) string { return strings.Repeat("-", widths[i]) })
	}
	for _, r := range ow.rows {
		line(func(i int) string {
			if i < len(r) && r[i].OK {
				return r[i].Text
			}
			return ""
		})
	}
	ow.rows = ow.rows[:0]
	_, err := io.WriteString(ow.w, b.String())
	return err
}

func escapeControl(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
