package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// machine describes where the numbers were taken.
type machine struct {
	date      time.Time
	cpus      int
	cpuModel  string
	memory    int64
	kernel    string
	goVersion string
	vigilRev  string
	duckdb    string
	mawk      string
	loadStart string
	loadEnd   string
}

func describeMachine(ctx context.Context, o *options) machine {
	m := machine{date: time.Now().UTC(), cpus: runtime.NumCPU(), loadStart: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var kb int64
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
				m.memory = kb * 1024
			}
		}
	}
	first := func(argv ...string) string {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = o.root
		out, err := cmd.Output()
		if err != nil {
			return "unknown"
		}
		line, _, _ := strings.Cut(string(out), "\n")
		return strings.TrimSpace(line)
	}
	m.kernel = first("uname", "-sr")
	m.goVersion = first("go", "env", "GOVERSION")
	if m.vigilRev = first("git", "describe", "--always", "--dirty"); m.vigilRev == "unknown" {
		m.vigilRev = "(working tree, no commit yet)"
	}
	m.duckdb = first(o.duckq, "-version")
	m.mawk = first(o.mawk, "-W", "version")
	return m
}

func (m machine) summary() string {
	return fmt.Sprintf("%d × %s, %s RAM, %s, %s, load average %s", m.cpus, m.cpuModel, humanBytes(m.memory), m.kernel, m.goVersion, m.loadStart)
}

// loadAverage is the 1-, 5- and 15-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type report struct {
	o       *options
	m       machine
	c       *corpus
	results []caseResult
}

func (r report) disagreements() int {
	n := 0
	for _, res := range r.results {
		for _, t := range res.tools {
			if t.verdict.bad {
				n++
			}
		}
	}
	return n
}

var header = []string{"case", "tool", "wall s", "CPU s", "peak RSS MiB", "M records/s", "vigil/peer wall", "vigil/peer RSS", "answer"}

// rows is the table, one row per tool of each case.
func (r report) rows() [][]string {
	var out [][]string
	for _, res := range r.results {
		var vigil *toolRun
		for _, t := range res.tools {
			if t.isVigil && t.runs > 0 && t.failed == nil {
				vigil = t
			}
		}
		for i, t := range res.tools {
			name := ""
			if i == 0 {
				name = res.c.name
			}
			row := []string{name, t.name, "—", "—", "—", "—", "—", "—", t.verdict.text}
			if t.runs > 0 && t.failed == nil {
				b := t.best
				row[2] = fmt.Sprintf("%.3f", b.wall.Seconds())
				row[3] = fmt.Sprintf("%.3f", b.cpu().Seconds())
				row[4] = fmt.Sprintf("%.1f", float64(b.maxRSS)/(1<<20))
				row[5] = fmt.Sprintf("%.2f", float64(r.c.records)/b.wall.Seconds()/1e6)
				if vigil != nil && !t.isVigil {
					row[6] = fmt.Sprintf("%.2f", vigil.best.wall.Seconds()/b.wall.Seconds())
					if b.maxRSS > 0 {
						row[7] = fmt.Sprintf("%.2f", float64(vigil.best.maxRSS)/float64(b.maxRSS))
					}
				}
			}
			out = append(out, row)
		}
	}
	return out
}

func (r report) notes() []string {
	var notes []string
	for _, res := range r.results {
		for _, n := range res.notes {
			notes = append(notes, res.c.name+": "+n)
		}
		if n := r.relative(res); n != "" {
			notes = append(notes, n)
		}
		for _, t := range res.tools {
			if t.verdict.bad {
				notes = append(notes, fmt.Sprintf("**%s / %s: %s** — %s", res.c.name, t.name, t.verdict.text, t.verdict.detail))
			}
		}
	}
	return notes
}

func (r report) text() string {
	var b strings.Builder
	table := append([][]string{header}, r.rows()...)
	width := make([]int, len(header))
	for _, row := range table {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range table {
		var line strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i < 2 || i == len(row)-1 { // text left, numbers right
				cell += pad
			} else {
				cell = pad + cell
			}
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(cell)
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	fmt.Fprintf(&b, "\n%d records (%s, %s layout), best of %d runs; vigil/peer < 1 means vigil is faster or smaller.\n", r.c.records, humanBytes(r.c.bytes), r.c.layout, r.o.runs)
	for _, n := range r.notes() {
		fmt.Fprintln(&b, strings.ReplaceAll(n, "**", ""))
	}
	return b.String()
}

// Markers delimit the harness's section in the Markdown file, so that a new
// run replaces the old results and leaves the rest of the page alone. Each
// layout has its own section: a run over gzip files in S3 layout does not
// replace the table of the flat file.
const (
	beginMarker = "<!-- bench/run compare: begin -->"
	endMarker   = "<!-- bench/run compare: end -->"
)

// markers returns the section markers of a layout.
func markers(layout string) (begin, end string) {
	if layout == "" || layout == "flat" {
		return beginMarker, endMarker
	}
	return "<!-- bench/run compare " + layout + ": begin -->", "<!-- bench/run compare " + layout + ": end -->"
}

func (r report) markdown() string {
	var b strings.Builder
	m := r.m
	begin, end := markers(r.c.layout)
	fmt.Fprintln(&b, begin)
	fmt.Fprintf(&b, "Measured %s UTC by\n\n```\n%s\n```\n\n", m.date.Format("2006-01-02 15:04"), r.command())
	fmt.Fprintf(&b, "- machine: %d × %s, %s RAM, %s; load average %s at the start, %s at the end\n", m.cpus, m.cpuModel, humanBytes(m.memory), m.kernel, m.loadStart, m.loadEnd)
	fmt.Fprintf(&b, "- software: vigil %s built with %s (CGO_ENABLED=0); DuckDB %s through duckdb-go; %s\n", m.vigilRev, m.goVersion, m.duckdb, m.mawk)
	fmt.Fprintf(&b, "- corpus: %s records in %d %s file(s), %s; made by %s\n", groupThousands(r.c.records), len(r.c.files), r.c.layout, humanBytes(r.c.bytes), r.c.origin)
	fmt.Fprintf(&b, "- best of %d runs, each a separate process; files in the page cache; peak RSS from GNU time %%M (for a pipeline, its largest process), CPU from wait4; vigil/peer < 1 means vigil is faster or smaller\n\n", r.o.runs)
	fmt.Fprintln(&b, "| "+strings.Join(header, " | ")+" |")
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---:"
		if i < 2 || i == len(header)-1 {
			seps[i] = "---"
		}
	}
	fmt.Fprintln(&b, "|"+strings.Join(seps, "|")+"|")
	for _, row := range r.rows() {
		fmt.Fprintln(&b, "| "+strings.Join(row, " | ")+" |")
	}
	if notes := r.notes(); len(notes) > 0 {
		fmt.Fprintln(&b)
		for _, n := range notes {
			fmt.Fprintln(&b, "- "+strings.ReplaceAll(n, "|", `\|`))
		}
	}
	fmt.Fprintln(&b, end)
	return b.String()
}

func (r report) command() string {
	if r.o.command != "" {
		return r.o.command
	}
	return strings.Join(os.Args, " ")
}

// writeSection replaces the part of path between the markers with section, or
// appends section when path has no markers, or creates path.
func writeSection(path, section string) error {
	return writeSectionBetween(path, section, beginMarker, endMarker)
}

// writeSectionBetween is writeSection with the given markers.
func writeSectionBetween(path, section, beginMarker, endMarker string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var out string
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	switch {
	case i >= 0 && j > i:
		out = s[:i] + section + strings.TrimPrefix(s[j+len(endMarker):], "\n")
	case len(s) > 0:
		out = strings.TrimRight(s, "\n") + "\n\n" + section
	default:
		out = section
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

// relative reports a case's vigil wall time against that of the case it is
// measured relative to (relativeTo), when both ran.
func (r report) relative(res caseResult) string {
	if res.c.relativeTo == "" {
		return ""
	}
	wall := func(name string) time.Duration {
		for _, x := range r.results {
			if x.c.name != name {
				continue
			}
			for _, t := range x.tools {
				if t.isVigil && t.runs > 0 && t.failed == nil {
					return t.best.wall
				}
			}
		}
		return 0
	}
	a, b := wall(res.c.name), wall(res.c.relativeTo)
	if a == 0 || b == 0 {
		return ""
	}
	return fmt.Sprintf("%s: vigil's wall time is %.2f× that of %q", res.c.name, a.Seconds()/b.Seconds(), res.c.relativeTo)
}
