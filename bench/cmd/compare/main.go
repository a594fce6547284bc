// Command compare measures vigil against its peers — DuckDB, mawk and wc -l — on
// the same flow-log files, checks that they give the same answers, and prints a
// table of wall time, CPU time, peak RSS, records per second and the ratios
// vigil/peer, as text and as Markdown. bench/run builds what it needs and runs it:
//
//	bench/run --records 200000
//	bench/run --records 10000000 --runs 3 --out docs/benchmarks.md
//
// Every measurement is a separate process (DuckDB inside bench/bin/duckq), so
// that wall time and peak RSS include starting up and reading the files. The
// cases are data: see cases.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

type options struct {
	records int64
	runs    int
	seed    uint64
	layout  string
	out     string
	keep    bool
	input   string
	only    string
	root    string
	vigil   string
	duckq   string
	mawk    string
	command string
}

func main() {
	var o options
	flag.Int64Var(&o.records, "records", 10_000_000, "flow records in the generated corpus (10,000,000 ≈ 1.1 GB)")
	flag.IntVar(&o.runs, "runs", 3, "runs of each measurement; the fastest is reported")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated corpus")
	flag.StringVar(&o.layout, "layout", "flat", "corpus layout: flat (one uncompressed file) or s3 (gzip files in S3 key layout)")
	flag.StringVar(&o.out, "out", "", "Markdown file to write the results section into (replaced between its markers, or appended); default bench/bin/results.md")
	flag.BoolVar(&o.keep, "keep", false, "keep the generated corpus in bench/corpus/, and reuse one kept earlier with the same parameters")
	flag.StringVar(&o.input, "input", "", "measure this corpus (a v2 flow-log file, or a folder in S3 layout) instead of generating one")
	flag.StringVar(&o.only, "cases", "", "run only the cases whose name matches this regular expression")
	flag.StringVar(&o.root, "root", ".", "the vigil repository")
	flag.StringVar(&o.vigil, "vigil", "bench/bin/vigil", "the vigil binary (bench/run builds it)")
	flag.StringVar(&o.duckq, "duckq", "bench/bin/duckq", "the DuckDB helper (bench/run builds it)")
	flag.StringVar(&o.mawk, "mawk", "/usr/bin/mawk", "mawk")
	flag.StringVar(&o.command, "command", "", "the command line to show in the report (bench/run sets it)")
	flag.Parse()
	if err := runMain(context.Background(), &o); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		var d disagreement
		if errors.As(err, &d) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", a...)
}

// disagreement is the error when tools gave different answers.
type disagreement int

func (d disagreement) Error() string {
	return fmt.Sprintf("%d DISAGREEMENT(S) OR FAILURE(S) among vigil and its peers: see above", int(d))
}

func runMain(ctx context.Context, o *options) error {
	if o.runs < 1 {
		return fmt.Errorf("--runs must be at least 1")
	}
	if o.records < 1 {
		return fmt.Errorf("--records must be at least 1")
	}
	if o.layout != "flat" && o.layout != "s3" {
		return fmt.Errorf("--layout must be flat or s3")
	}
	var only *regexp.Regexp
	if o.only != "" {
		var err error
		if only, err = regexp.Compile(o.only); err != nil {
			return fmt.Errorf("--cases: %w", err)
		}
	}
	for _, p := range []*string{&o.root, &o.vigil, &o.duckq} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if o.out == "" {
		o.out = filepath.Join(o.root, "bench", "bin", "results.md")
	}
	for _, p := range []string{o.vigil, o.duckq, o.mawk, timeBin} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (bench/run builds and installs what is needed)", err)
		}
	}

	m := describeMachine(ctx, o)
	logf("machine: %s", m.summary())

	// What vigil can do today: detect, do not assume.
	have := map[string]bool{}
	for _, sub := range []string{needCat, needQuery, needScan, "simulate"} {
		have[sub] = hasSubcommand(ctx, o.vigil, sub)
		logf("vigil %s: available=%v", sub, have[sub])
	}

	// The corpus.
	var (
		c        *corpus
		origin   string
		cleanup  = func() {}
		genStart = time.Now()
	)
	if o.input != "" {
		origin = "given with --input"
		var err error
		if c, err = openCorpus(o.input); err != nil {
			return err
		}
	} else {
		dir := filepath.Join(o.root, "bench", "corpus", fmt.Sprintf("%s-seed%d-%d", o.layout, o.seed, o.records))
		done := filepath.Join(dir, ".complete")
		if !o.keep {
			cleanup = func() { os.RemoveAll(dir) }
		}
		if o.keep && fileExists(done) {
			b, _ := os.ReadFile(done)
			origin = strings.TrimSpace(string(b)) + " (kept from an earlier run)"
			logf("reusing the corpus kept in %s", dir)
		} else {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			var err error
			if origin, err = makeCorpus(ctx, o, have["simulate"], dir); err != nil {
				cleanup()
				return fmt.Errorf("generating the corpus: %w", err)
			}
			if o.keep {
				if err := os.WriteFile(done, []byte(origin+"\n"), 0o644); err != nil {
					return err
				}
			}
		}
		var err error
		if c, err = openCorpus(dir); err != nil {
			cleanup()
			return err
		}
		if c.records != o.records {
			cleanup()
			return fmt.Errorf("the corpus has %d records, --records asked for %d", c.records, o.records)
		}
	}
	defer cleanup()
	if c.listFile != "" {
		defer os.Remove(c.listFile)
	}
	c.origin = origin
	logf("corpus: %d records in %d %s file(s), %s, ready in %s", c.records, len(c.files), c.layout, humanBytes(c.bytes), time.Since(genStart).Round(time.Millisecond))

	// The awk programs go in files next to nothing else.
	progDir, err := os.MkdirTemp("", "vigil-bench-awk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(progDir)

	var results []caseResult
	for i, bc := range cases {
		if only != nil && !only.MatchString(bc.name) {
			continue
		}
		prog := filepath.Join(progDir, fmt.Sprintf("case%d.awk", i))
		if err := os.WriteFile(prog, []byte(bc.awk+"\n"), 0o644); err != nil {
			return err
		}
		res := runCase(ctx, o, c, bc, prog, have[bc.needs])
		results = append(results, res)
	}
	m.loadEnd = loadAverage()

	rep := report{o: o, m: m, c: c, results: results}
	fmt.Println()
	fmt.Print(rep.text())
	md := rep.markdown()
	begin, end := markers(c.layout)
	if err := writeSectionBetween(o.out, md, begin, end); err != nil {
		return err
	}
	logf("Markdown written to %s", o.out)
	if n := rep.disagreements(); n > 0 {
		fmt.Fprintf(os.Stderr, "\n!!!!!!!! %d DISAGREEMENT(S) OR FAILURE(S) !!!!!!!!\n", n)
		for _, r := range results {
			for _, t := range r.tools {
				if t.verdict.bad {
					fmt.Fprintf(os.Stderr, "  %s / %s: %s\n", r.c.name, t.name, t.verdict.detail)
				}
			}
		}
		return disagreement(n)
	}
	return nil
}

// toolRun is one tool's measurements and answer in one case.
type toolRun struct {
	name    string
	argv    []string
	parse   func([]byte) (answer, error)
	best    run
	runs    int
	ans     answer
	failed  error
	verdict verdict
	isVigil bool
	skipped string // why the tool did not run
}

type verdict struct {
	text   string // for the table: "agrees", "reference", "DISAGREES", "—"
	bad    bool
	detail string
}

type caseResult struct {
	c     benchCase
	tools []*toolRun
	notes []string
}

// runCase measures every tool of a case o.runs times, interleaved, keeping each
// tool's fastest run, and checks the answers.
func runCase(ctx context.Context, o *options, c *corpus, bc benchCase, prog string, vigilCan bool) caseResult {
	res := caseResult{c: bc}
	sh := bc.shape
	vigil := &toolRun{name: "vigil", isVigil: true, argv: append([]string{o.vigil}, bc.vigil(c.vigilInputs)...),
		parse: func(b []byte) (answer, error) { return bc.parseVigil(b, sh) }}
	if !vigilCan {
		vigil.skipped = "vigil " + bc.needs + " not available yet"
		fmt.Fprintf(os.Stderr, "compare: %s: vigil %s not available yet — skipping vigil; DuckDB and mawk still run and are checked against each other\n", bc.name, bc.needs)
	}
	tools := []*toolRun{vigil}
	if !bc.solo {
		tools = append(tools, peers(o, c, bc, prog)...)
	}
	res.tools = tools
	measureTools(ctx, o, bc, tools)
	res.notes = judge(bc, tools)
	return res
}

// peers are the tools a case's answer is checked against.
func peers(o *options, c *corpus, bc benchCase, prog string) []*toolRun {
	sh := bc.shape
	tools := []*toolRun{
		{name: "duckdb", argv: []string{o.duckq, "-sql", strings.ReplaceAll(bc.sql, "{{flows}}", c.readCSV())},
			parse: func(b []byte) (answer, error) { return parseTSV(b, sh) }},
		{name: "mawk", argv: c.awkArgv(o.mawk, prog, bc.awkPost),
			parse: func(b []byte) (answer, error) { return parseTSV(b, sh) }},
	}
	if bc.floor {
		floorName := "wc -l"
		if c.layout == "s3" {
			floorName = "zcat | wc -l"
		}
		tools = append(tools, &toolRun{name: floorName, argv: c.floorArgv(),
			parse: func(b []byte) (answer, error) {
				a, err := parseTSV(b, shape{cols: []column{{"lines", num}}})
				if err != nil || len(a.rows) != 1 {
					return a, fmt.Errorf("wc printed %q", b)
				}
				var lines int64
				fmt.Sscan(a.rows[0][0], &lines)
				a.rows[0][0] = fmt.Sprint(lines - int64(c.headers()))
				return a, nil
			}})
	}
	return tools
}

// measureTools runs every tool o.runs times, interleaved, keeping each one's
// fastest run and checking that its answer does not change between runs.
func measureTools(ctx context.Context, o *options, bc benchCase, tools []*toolRun) {
	for k := 1; k <= o.runs; k++ {
		for _, t := range tools {
			if t.skipped != "" || t.failed != nil {
				continue
			}
			r, err := measure(ctx, o.root, t.argv)
			if err != nil {
				t.failed = err
				logf("%s / %s FAILED: %v", bc.name, t.name, err)
				continue
			}
			a, err := t.parse(r.stdout)
			if err != nil {
				t.failed = fmt.Errorf("reading its answer: %w", err)
				logf("%s / %s: %v", bc.name, t.name, t.failed)
				continue
			}
			if t.runs == 0 {
				t.ans = a
			} else if err := sameAnswer(t.ans, a); err != nil {
				t.failed = fmt.Errorf("run %d answered differently from run 1: %w", k, err)
				continue
			}
			if t.runs == 0 || r.wall < t.best.wall {
				t.best = r
			}
			t.runs++
			logf("%s / %s run %d: %s, %s RSS, answer %s", bc.name, t.name, k, r.wall.Round(time.Millisecond), humanBytes(r.maxRSS), a)
		}
	}

}

// judge gives every tool its verdict and returns the case's notes. The
// reference is the first peer that answered (DuckDB, then mawk); every other
// peer must give the same rows, and vigil a right answer (checkVigil, which
// allows any way of breaking ties at a limit). A solo case's vigil answer is
// judged by the case's own check.
func judge(bc benchCase, tools []*toolRun) []string {
	sh := bc.shape
	if bc.solo {
		v := tools[0]
		switch {
		case v.skipped != "":
			v.verdict = verdict{text: "skipped: " + v.skipped}
		case v.failed != nil:
			v.verdict = verdict{text: "FAILED", bad: true, detail: v.failed.Error()}
		case v.runs == 0:
			v.verdict = verdict{text: "—"}
		default:
			if err := bc.check(v.ans); err != nil {
				v.verdict = verdict{text: "WRONG", bad: true, detail: err.Error()}
			} else {
				v.verdict = verdict{text: "checked (no peer)"}
			}
		}
		if v.runs > 0 && v.failed == nil {
			return []string{fmt.Sprintf("answer: %s", v.ans)}
		}
		return nil
	}
	var ref *toolRun
	for _, t := range tools[1:] {
		if t.failed == nil && t.runs > 0 {
			ref = t
			break
		}
	}
	for _, t := range tools {
		switch {
		case t.skipped != "":
			t.verdict = verdict{text: "skipped: " + t.skipped}
		case t.failed != nil:
			t.verdict = verdict{text: "FAILED", bad: true, detail: t.failed.Error()}
		case ref == nil:
			t.verdict = verdict{text: "unchecked (no peer answered)", bad: true, detail: "no peer answered, so nothing was checked"}
		case t == ref:
			t.verdict = verdict{text: "reference"}
		case t.isVigil:
			if err := checkVigil(t.ans, ref.ans, sh); err != nil {
				t.verdict = verdict{text: "DISAGREES with " + ref.name, bad: true, detail: "vigil vs " + ref.name + ": " + err.Error()}
			} else {
				t.verdict = verdict{text: "agrees"}
			}
		default:
			if err := sameAnswer(ref.ans, t.ans); err != nil {
				t.verdict = verdict{text: "DISAGREES with " + ref.name, bad: true, detail: ref.name + " vs " + t.name + ": " + err.Error()}
			} else {
				t.verdict = verdict{text: "agrees"}
			}
		}
	}
	if ref != nil {
		note := fmt.Sprintf("answer: %s", ref.ans)
		if sh.limit > 0 {
			note += fmt.Sprintf(" (the top %d with ties)", sh.limit)
		}
		return []string{note}
	}
	return nil
}

// hasSubcommand reports whether `vigil SUB --help` succeeds and describes that
// subcommand (its usage line names it), rather than, say, printing the root
// command's help.
func hasSubcommand(ctx context.Context, vigil, sub string) bool {
	out, err := exec.CommandContext(ctx, vigil, sub, "--help").Output()
	return err == nil && strings.Contains(string(out), "vigil "+sub)
}
