package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/obs"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/query/exec"
	"github.com/vigil-dev/vigil/internal/query/plan"
	"github.com/vigil-dev/vigil/internal/record"
)

func init() { commands = append(commands, newQueryCmd) }

type queryOptions struct {
	read      readFlags
	output    string
	file      string
	explain   bool
	stats     bool
	kinds     string
	maxGroups int
}

func newQueryCmd(g *globals) *cobra.Command {
	var o queryOptions
	cmd := &cobra.Command{
		Use:   "query [flags] 'QUERY' PATH...",
		Short: "Run a CloudWatch Logs Insights query over logs",
		Long: `query runs a CloudWatch Logs Insights query — copied from the AWS console, the
AWS docs or a blog, unchanged — over VPC Flow Logs, Route 53 Resolver query logs
and CloudTrail: files, folders, globs, gzip or not, or - for standard input.

The query is the first argument, or the content of --file (--file - reads it from
standard input). The time range is set outside the query, as in the console:
--since and --until, both inclusive. The record kinds read follow from the
field names the query uses (srcAddr reads flow logs, query_name Resolver logs,
eventName CloudTrail); --kind names them explicitly.

Results print as an aligned table (or -o json, jsonl, csv): raw events newest
first, 10,000 rows at most unless the query has a limit. Warnings about
pitfalls (a like that over-matches addresses, a clamped bin period) go to
stderr; a query error is shown with its line, column and a caret, and exits
with code 2. See docs/query.md for the language and vigil's choices.`,
		Example: `  # flows rejected, newest first (AWS sample)
  vigil query 'filter action = "REJECT"' AWSLogs/

  # top 15 packet transfers across hosts (AWS sample)
  vigil query 'stats sum(packets) as packetsTransferred by srcAddr, dstAddr
    | sort packetsTransferred desc | limit 15' flows/

  # which instance behind the NAT gateway is scanning?
  vigil query --since 2026-11-01 --until 2026-11-02 \
    'filter dstAddr = "10.10.2.68" and isIpv4InSubnet(srcAddr, "10.10.0.0/16")
     | stats count_distinct(dstPort) as ports by srcAddr | sort ports desc' flows/

  # Route 53 Resolver: NXDOMAIN answers for guardduty names (AWS sample)
  vigil query 'filter query_name like /guardduty/ and rcode = "NXDOMAIN"' dns/

  # CloudTrail: log entries per service, event type and region (AWS sample)
  vigil query -o csv 'stats count(*) by eventSource, eventName, awsRegion' CloudTrail/

  # the query from a file, the plan without running it
  vigil query --file scan.insights --explain

  # the query from standard input
  echo 'stats count(*) by bin(1h)' | vigil query --file - flows.log.gz`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuery(cmd.Context(), g, cmd.InOrStdin(), o, args)
		},
	}
	o.read.register(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "table", "output format: table, json, jsonl, csv")
	f.StringVar(&o.file, "file", "", "read the query from this file (- for standard input)")
	f.BoolVar(&o.explain, "explain", false, "print the query plan instead of running it")
	f.BoolVar(&o.stats, "stats", false, "print records scanned and matched and the time taken on stderr, also when it is not a terminal")
	f.StringVar(&o.kinds, "kind", "", "record kinds to read, comma-separated: flow, dns, cloudtrail (default: those the query's fields belong to)")
	f.IntVar(&o.maxGroups, "max-groups", exec.DefaultMaxGroups, "fail a stats that makes more groups than this (memory grows with groups)")
	return cmd
}

func runQuery(ctx context.Context, g *globals, stdin io.Reader, o queryOptions, args []string) error {
	format, err := output.ParseFormat(o.output, output.Table, output.JSON, output.JSONL, output.CSV)
	if err != nil {
		return usagef("--output: %v", err)
	}
	src, paths, err := queryText(stdin, o.file, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 && !o.explain {
		return usagef("no logs to read: give one or more paths after the query (- for standard input)")
	}
	var kinds []record.Kind
	if o.kinds != "" {
		for _, s := range strings.Split(o.kinds, ",") {
			k, err := record.ParseKind(strings.TrimSpace(s))
			if err != nil {
				return usagef("--kind: %v", err)
			}
			kinds = append(kinds, k)
		}
	}
	window, err := o.read.window(time.Now())
	if err != nil {
		return err
	}

	chk, warnings, err := query.ParseAndCheck(src, kinds)
	for _, w := range warnings {
		fmt.Fprintf(g.stderr, "warning: %s\n", w.Render(src))
	}
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			// The caret picture for a person; the one line for the exit.
			fmt.Fprintln(g.stderr, qe.Render(src))
			return &usageError{fmt.Errorf("query:%s", qe.Error())}
		}
		return &usageError{err}
	}
	p, err := plan.Build(chk, plan.Options{Since: window.Since, Until: window.Until})
	if err != nil {
		return err
	}
	if o.explain {
		_, err := io.WriteString(g.stdout, p.Explain())
		return err
	}

	newDecoder, err := decoderFactory(o.read, p.Project)
	if err != nil {
		return err
	}
	rcfg, err := o.read.readerConfig(ctx, paths)
	if err != nil {
		return err
	}
	if rcfg.Workers <= 0 {
		rcfg.Workers = runtime.GOMAXPROCS(0)
	}
	workers := rcfg.Workers
	reader := ingest.New(rcfg, newDecoder)
	problems := obs.NewThrottle(g.stderr)
	report := func(pr decode.Problem) { problems.Printf(pr.Reason, "vigil: skipped %s", pr) }
	var (
		mu      sync.Mutex
		readRes ingest.Result
	)
	source := func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		res, err := reader.Read(ctx, paths, emit, report)
		mu.Lock()
		readRes = res
		mu.Unlock()
		return err
	}
	prog := startProgress(g.stderr, func(elapsed time.Duration) string {
		c := &reader.Counters
		return readStatus(c.Records.Load(), c.BytesStored.Load(), c.BytesPlanned.Load(), elapsed) +
			fmt.Sprintf(", %d/%d files", c.Objects.Load(), c.ObjectsPlanned.Load())
	})
	start := time.Now()
	res, err := exec.Run(ctx, p, source, exec.Options{
		Workers:   workers,
		MaxGroups: o.maxGroups,
		Eval:      query.EvalOptions{Now: start, Start: window.Since, End: window.Until},
	})
	prog.Stop()
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if err := writeResult(g.stdout, format, res); err != nil {
		return err
	}
	if res.Truncated {
		fmt.Fprintf(g.stderr, "vigil: showing the first %d of %d rows; add limit N to the query for more\n", len(res.Rows), res.TotalRows)
	}
	mu.Lock()
	rr := readRes
	mu.Unlock()
	if o.stats || isTerminal(g.stderr) || rr.SkippedTotal() > 0 || rr.Failed > 0 {
		// Records passed over unread were scanned too, for a text the filter
		// needs (their time was not read).
		fmt.Fprintf(g.stderr, "vigil: %s; %d records scanned, %d matched\n", plural(len(res.Rows), "row"), res.RecordsScanned+rr.Unread, res.RecordsMatched)
		fmt.Fprintln(g.stderr, readSummary(rr, time.Since(start)))
	}
	return nil
}

// plural returns "1 row", "2 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// queryText returns the query and the paths to read: the query is --file's
// content, or else the first argument.
func queryText(stdin io.Reader, file string, args []string) (string, []string, error) {
	if file == "" {
		if len(args) == 0 {
			return "", nil, usagef("no query: give it as the first argument or with --file")
		}
		if strings.TrimSpace(args[0]) == "" {
			return "", nil, usagef("the query is empty")
		}
		return args[0], args[1:], nil
	}
	var data []byte
	var err error
	if file == "-" {
		for _, a := range args {
			if a == "-" {
				return "", nil, usagef("--file - and the path - both read standard input; put the query or the logs in a file")
			}
		}
		data, err = io.ReadAll(io.LimitReader(stdin, query.MaxQueryLen+1))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return "", nil, usagef("--file: %v", err)
	}
	if strings.TrimSpace(string(data)) == "" {
		return "", nil, usagef("--file %s: the query is empty", file)
	}
	return string(data), args, nil
}

// writeResult prints the rows in the chosen format. Rows are sparse: a row
// lacking a column leaves it empty (omits it in JSON).
func writeResult(w io.Writer, format output.Format, res *exec.Result) error {
	ow := output.NewWriter(w, format, res.Columns)
	cells := make([]output.Cell, len(res.Columns))
	for _, row := range res.Rows {
		for i, v := range row {
			cells[i] = resultCell(v, format)
		}
		if err := ow.Write(cells); err != nil {
			return err
		}
	}
	return ow.Close()
}

// resultCell turns a value into an output cell: text as Logs Insights prints
// it; in JSON, numbers as numbers and maps and lists as JSON.
func resultCell(v record.Value, format output.Format) output.Cell {
	if v.IsMissing() {
		return output.Cell{}
	}
	c := output.TextCell(query.FormatValue(v))
	if format == output.JSON || format == output.JSONL {
		switch v.Kind {
		case record.Int, record.Bool:
			c.Raw = strconv.AppendInt(nil, v.Int, 10)
		case record.Float:
			c.Raw = []byte(c.Text)
		case query.JSONValue:
			c.Raw = []byte(v.Str)
		}
	}
	return c
}
