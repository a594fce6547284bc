package main

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/auto"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/obs"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/record"
)

func init() { commands = append(commands, newCatCmd) }

type catOptions struct {
	read   readFlags
	output string
	fields string
	kind   string
	count  bool
	limit  int64
}

func newCatCmd(g *globals) *cobra.Command {
	var o catOptions
	cmd := &cobra.Command{
		Use:   "cat [flags] PATH...",
		Short: "Decode logs and print their records",
		Long: `cat reads VPC Flow Logs, Route 53 Resolver query logs and CloudTrail — files,
folders, globs, gzip or not, or - for standard input — detects each file's format
from its content, and prints the records with the field names Logs Insights uses.
Bad records are skipped, counted and reported on stderr with file and line; the
rest is still read.`,
		Example: `  # every record of a folder in S3 layout, as JSON lines
  vigil cat AWSLogs/

  # flow records of one day as a table, only some fields
  vigil cat --kind flow --since 2026-11-01 --until 2026-11-02 -o table \
    --fields interfaceId,srcAddr,dstAddr,dstPort,action AWSLogs/

  # count records and skipped records by reason
  vigil cat --count 'logs/*.log.gz'

  # from standard input
  zcat flows.log.gz | vigil cat -o csv -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCat(cmd.Context(), g, o, args)
		},
	}
	o.read.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "jsonl", "output format: jsonl, json, csv, table")
	cmd.Flags().StringVar(&o.fields, "fields", "", "comma-separated fields to print (default: all the records have)")
	cmd.Flags().StringVar(&o.kind, "kind", "", "print only records of this kind: flow, dns, cloudtrail")
	cmd.Flags().BoolVar(&o.count, "count", false, "print only the number of records by kind and of skipped records by reason")
	cmd.Flags().Int64Var(&o.limit, "limit", 0, "stop after this many records (0: no limit)")
	return cmd
}

func runCat(ctx context.Context, g *globals, o catOptions, paths []string) error {
	format, err := output.ParseFormat(o.output, output.JSONL, output.JSON, output.CSV, output.Table)
	if err != nil {
		return usagef("--output: %v", err)
	}
	var onlyKind record.Kind
	if o.kind != "" {
		if onlyKind, err = record.ParseKind(o.kind); err != nil {
			return usagef("--kind: %v", err)
		}
	}
	if o.limit < 0 {
		return usagef("--limit must not be negative")
	}
	newDecoder, err := decoderFactory(o.read, nil)
	if err != nil {
		return err
	}
	rcfg, err := o.read.readerConfig(ctx, paths)
	if err != nil {
		return err
	}
	if !o.count {
		rcfg.Workers = 1 // records print in the order of the files and of their lines
	}
	window := rcfg.Window
	reader := ingest.New(rcfg, newDecoder)
	problems := obs.NewThrottle(g.stderr)
	report := func(p decode.Problem) { problems.Printf(p.Reason, "vigil: skipped %s", p) }

	var (
		mu      sync.Mutex
		perKind = map[record.Kind]int64{}
		printer *recordPrinter
		printed int64
		errStop = fmt.Errorf("limit reached")
	)
	if !o.count {
		printer = newRecordPrinter(g, format, o.fields, onlyKind)
	}
	emit := func(_ int, b *decode.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for i := range b.Len() {
			rec := b.At(i)
			if !inWindow(rec, window) || (onlyKind != 0 && rec.Kind() != onlyKind) {
				continue
			}
			perKind[rec.Kind()]++
			if printer != nil {
				if err := printer.print(rec); err != nil {
					return err
				}
			}
			printed++
			if o.limit > 0 && printed >= o.limit {
				return errStop
			}
		}
		return nil
	}
	prog := startProgress(g.stderr, func(elapsed time.Duration) string {
		c := &reader.Counters
		return readStatus(c.Records.Load(), c.BytesStored.Load(), c.BytesPlanned.Load(), elapsed) +
			fmt.Sprintf(", %d/%d files", c.Objects.Load(), c.ObjectsPlanned.Load())
	})
	start := time.Now()
	res, err := reader.Read(ctx, paths, emit, report)
	prog.Stop()
	if err != nil && err != errStop {
		return err
	}
	if printer != nil {
		if err := printer.close(); err != nil {
			return err
		}
	}
	if o.count {
		w := output.NewWriter(g.stdout, output.Table, []string{"kind", "records"})
		for _, k := range record.Kinds {
			if perKind[k] > 0 || onlyKind == k {
				w.Write([]output.Cell{output.TextCell(k.String()), output.TextCell(strconv.FormatInt(perKind[k], 10))})
			}
		}
		w.Write([]output.Cell{output.TextCell("skipped"), output.TextCell(strconv.FormatInt(res.SkippedTotal(), 10))})
		if err := w.Close(); err != nil {
			return err
		}
	}
	if res.SkippedTotal() > 0 || res.Failed > 0 || o.count || isTerminal(g.stderr) {
		fmt.Fprintln(g.stderr, readSummary(res, time.Since(start)))
	}
	return nil
}

// readSummary is the closing line of every command that reads logs.
func readSummary(res ingest.Result, elapsed time.Duration) string {
	s := fmt.Sprintf("vigil: read %d records from %d files (%s) in %s", res.Records, res.Objects, humanBytes(res.Bytes), elapsed.Round(time.Millisecond))
	if res.Unread > 0 {
		s += fmt.Sprintf("; %d records passed over unread (they cannot match the query's filter)", res.Unread)
	}
	if res.Pruned > 0 {
		s += fmt.Sprintf("; %d files outside the time range not read", res.Pruned)
	}
	// A file in no known format is reported once as a skip of the whole file; say
	// so apart from bad records, which are lines or events.
	skipped := res.Stats
	unknown := skipped.Skipped[auto.ReasonUnknownFormat]
	if unknown > 0 {
		skipped.Skipped = maps.Clone(skipped.Skipped)
		delete(skipped.Skipped, auto.ReasonUnknownFormat)
		s += fmt.Sprintf("; %d files in no known log format", unknown)
	}
	if n := skipped.SkippedTotal(); n > 0 {
		s += fmt.Sprintf("; skipped %s (%s)", plural(int(n), "bad record"), skipped.SkippedSummary())
	}
	if res.Failed > 0 {
		s += fmt.Sprintf("; %d files could not be read to the end", res.Failed)
	}
	return s
}

// inWindow applies --since/--until to a record's event time (both ends inclusive,
// as Logs Insights' time range).
func inWindow(rec record.Record, w ingest.Window) bool {
	ts := rec.Timestamp()
	if !w.Since.IsZero() && ts < w.Since.UnixMilli() {
		return false
	}
	if !w.Until.IsZero() && ts > w.Until.UnixMilli() {
		return false
	}
	return true
}

// recordPrinter writes records as rows. Its columns are --fields, or the
// catalogue fields of the first record's kind (all kinds' when --kind is unset and
// the output is JSON, whose rows are sparse anyway).
type recordPrinter struct {
	g      *globals
	format output.Format
	fields []string
	kind   record.Kind
	w      *output.Writer
	cells  []output.Cell
}

func newRecordPrinter(g *globals, format output.Format, fields string, kind record.Kind) *recordPrinter {
	p := &recordPrinter{g: g, format: format, kind: kind}
	if fields != "" {
		for _, f := range strings.Split(fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				p.fields = append(p.fields, f)
			}
		}
	}
	return p
}

func (p *recordPrinter) print(rec record.Record) error {
	if p.w == nil {
		if p.fields == nil {
			p.fields = defaultColumns(rec, p.format, p.kind)
		}
		p.w = output.NewWriter(p.g.stdout, p.format, p.fields)
		p.cells = make([]output.Cell, len(p.fields))
	}
	cat := record.CatalogueOf(rec.Kind())
	for i, name := range p.fields {
		var v record.Value
		if f, ok := cat.Lookup(name); ok {
			v = rec.Get(f.ID)
		} else {
			v = rec.Path(name)
		}
		p.cells[i] = valueCell(v, p.format)
	}
	return p.w.Write(p.cells)
}

func (p *recordPrinter) close() error {
	if p.w == nil {
		if p.format == output.JSON {
			_, err := fmt.Fprintln(p.g.stdout, "[]")
			return err
		}
		return nil
	}
	return p.w.Close()
}

// defaultColumns picks the columns when --fields is not given.
func defaultColumns(first record.Record, format output.Format, kind record.Kind) []string {
	kinds := []record.Kind{first.Kind()}
	if kind == 0 && (format == output.JSON || format == output.JSONL) {
		kinds = record.Kinds
	}
	seen := map[string]bool{}
	var cols []string
	for _, k := range kinds {
		for _, f := range record.CatalogueOf(k).Fields {
			if f.Name == "@message" || seen[f.Name] {
				continue
			}
			// For the first record's own kind in csv, keep the fields it has, so a
			// v2 flow log does not print fifty empty columns.
			if format == output.CSV && k == first.Kind() && first.Get(f.ID).IsMissing() {
				continue
			}
			seen[f.Name] = true
			cols = append(cols, f.Name)
		}
	}
	return cols
}

func valueCell(v record.Value, format output.Format) output.Cell {
	if v.IsMissing() {
		return output.Cell{}
	}
	c := output.TextCell(v.String())
	if format == output.JSON || format == output.JSONL {
		switch v.Kind {
		case record.Int, record.Bool:
			c.Raw = strconv.AppendInt(nil, v.Int, 10)
		case record.Float:
			c.Raw = []byte(c.Text)
		}
	}
	return c
}
