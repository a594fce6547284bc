package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/obs"
	"github.com/vigil-dev/vigil/internal/output"
)

func init() { commands = append(commands, newScanCmd) }

type scanOptions struct {
	read         readFlags
	output       string
	inventory    []string
	threatLists  []string
	trustedLists []string
	rules        []string
	failOn       string
	noBuiltins   bool
	lateness     time.Duration
	maxKeys      int
	shards       int
	memoryLimit  string
	memLimitSet  bool
}

func newScanCmd(g *globals) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Detect threats in logs: GuardDuty findings from flow, DNS and CloudTrail logs",
		Long: `scan reads VPC Flow Logs, Route 53 Resolver query logs and CloudTrail — files,
folders, globs, s3:// prefixes, or - for standard input — runs every enabled
detection over them in event time, and prints the findings, aggregated as
GuardDuty aggregates them (one finding per resource and issue, with a count).

Detections are rules (see 'vigil rules list'); --rules adds a folder of your own
rule files and overrides. An inventory (the JSON of aws ec2 describe-instances,
describe-network-interfaces, describe-nat-gateways, describe-addresses) names the
instance behind each address and NAT gateway. Threat and trusted lists are
GuardDuty's formats (TXT, STIX, OTX CSV, …); the built-in lists (AWS's tester
domains, public mining pools) are on unless --no-builtin-lists.

Exit status: 0, or 1 when --fail-on is given and a finding is at or above that
severity (or on an error), 2 on a usage error.`,
		Example: `  # a day of logs in S3 layout, with the estate's inventory
  vigil scan --inventory inventory/ AWSLogs/

  # as GuardDuty JSON, failing a CI job on any High finding
  vigil scan -o json --fail-on HIGH logs/ > findings.json

  # with your own rules and threat list
  vigil scan --rules ./rules --threat-list bad-ips.txt s3://my-log-bucket/AWSLogs/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.memLimitSet = cmd.Flags().Changed("memory-limit")
			return runScan(cmd.Context(), g, o, args)
		},
	}
	o.read.register(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "table", "output format: table, json (an array of GuardDuty findings), jsonl")
	f.StringArrayVar(&o.inventory, "inventory", nil, "inventory file or folder (AWS CLI describe-* JSON); repeatable")
	f.StringArrayVar(&o.threatLists, "threat-list", nil, "threat list file, [NAME=]PATH (name reported as threatListName; default the file name), or TYPE=PATH to give every entry a finding type (Backdoor:EC2/C&CActivity.B=c2.txt); repeatable")
	f.StringArrayVar(&o.trustedLists, "trusted-list", nil, "trusted list file, [NAME=]PATH: no finding about these addresses or domains; repeatable")
	f.StringArrayVar(&o.rules, "rules", nil, "folder (or file) of rule files: your rules and overrides of built-in ones; repeatable")
	f.StringVar(&o.failOn, "fail-on", "", "exit 1 when a finding is at or above this severity: LOW, MEDIUM, HIGH, CRITICAL")
	f.BoolVar(&o.noBuiltins, "no-builtin-lists", false, "do not use the built-in threat lists (AWS tester domains, mining pools)")
	f.DurationVar(&o.lateness, "lateness", 10*time.Minute, "how late a record may arrive behind its stream and still count")
	f.IntVar(&o.maxKeys, "max-keys", 0, "keys each detection holds at most (default 100000); the coldest go first")
	f.IntVar(&o.shards, "shards", 0, "detection workers (default one per CPU)")
	f.StringVar(&o.memoryLimit, "memory-limit", strconv.Itoa(defaultScanMemoryLimit>>20)+"MiB", "soft memory limit: the garbage collector works harder near it (a size such as 512MiB, or off; GOMEMLIMIT in the environment replaces the default)")
	return cmd
}

func runScan(ctx context.Context, g *globals, o scanOptions, paths []string) error {
	format, err := output.ParseFormat(o.output, output.Table, output.JSON, output.JSONL)
	if err != nil {
		return usagef("--output: %v", err)
	}
	var failOn finding.Band
	if o.failOn != "" {
		if failOn, err = finding.ParseBand(o.failOn); err != nil {
			return usagef("--fail-on: %v", err)
		}
	}
	if o.maxKeys < 0 || o.shards < 0 || o.lateness < 0 {
		return usagef("--max-keys, --shards and --lateness must not be negative")
	}
	if err := applyMemoryLimit(o.memoryLimit, o.memLimitSet); err != nil {
		return err
	}
	newDecoder, err := decoderFactory(o.read, nil)
	if err != nil {
		return err
	}
	rcfg, err := o.read.readerConfig(ctx, paths)
	if err != nil {
		return err
	}
	rcfg.SplitSize = ingest.DetectSplitSize // see detect's ordered mode
	rcfg.TimeOrder = true                   // accounts and log types interleaved, as delivered live
	problems := obs.NewThrottle(g.stderr)
	dcfg, err := o.detectConfig()
	if err != nil {
		return err
	}
	det, err := app.LoadDetection(dcfg, func(what, msg string) { problems.Printf(what, "vigil: %s: %s", what, msg) })
	if err != nil {
		return err
	}
	rules, inv := det.Rules, det.Inventory

	cfg := detect.DefaultConfig()
	cfg.Lateness, cfg.MaxKeys, cfg.Shards = o.lateness, o.maxKeys, o.shards
	cfg.Ordered = true // the same findings whatever --workers and the scheduling
	if !rcfg.Window.Since.IsZero() {
		cfg.Since = rcfg.Window.Since.UnixMilli()
	}
	if !rcfg.Window.Until.IsZero() {
		cfg.Until = rcfg.Window.Until.UnixMilli()
	}
	eng, err := detect.New(cfg, detect.Deps{Rules: rules, Inventory: inv, Intel: det.Intel()})
	if err != nil {
		return err
	}
	rcfg.Done = eng.Done
	reader := ingest.New(rcfg, newDecoder)
	report := func(p decode.Problem) { problems.Printf(p.Reason, "vigil: skipped %s", p) }

	eng.Start(ctx)
	prog := startProgress(g.stderr, func(elapsed time.Duration) string {
		c := &reader.Counters
		return readStatus(c.Records.Load(), c.BytesStored.Load(), c.BytesPlanned.Load(), elapsed) +
			fmt.Sprintf(", %d/%d files", c.Objects.Load(), c.ObjectsPlanned.Load())
	})
	start := time.Now()
	res, readErr := reader.Read(ctx, paths, eng.Process, report)
	prog.Stop()
	findings, closeErr := eng.Close()
	if readErr != nil {
		return readErr
	}
	if closeErr != nil {
		return closeErr
	}
	if err := printFindings(g, format, findings); err != nil {
		return err
	}
	st := eng.Stats()
	fmt.Fprintln(g.stderr, readSummary(res, time.Since(start))+scanSummary(findings, st))
	if failOn != finding.BandNone {
		n := 0
		for _, f := range findings {
			if f.Severity.AtLeast(failOn) {
				n++
			}
		}
		if n > 0 {
			return fmt.Errorf("%d findings at or above %s (--fail-on)", n, failOn)
		}
	}
	return nil
}

// detectConfig turns the detection flags into the detect section vigil serve
// reads from its configuration, so that both load rules, inventory and lists
// the same way (app.LoadDetection).
func (o scanOptions) detectConfig() (config.DetectConfig, error) {
	d := config.DetectConfig{Rules: o.rules, Inventory: o.inventory, BuiltinLists: !o.noBuiltins}
	for _, spec := range []struct {
		flag   string
		threat bool
		paths  []string
	}{{"--threat-list", true, o.threatLists}, {"--trusted-list", false, o.trustedLists}} {
		for _, p := range spec.paths {
			name, path, ok := strings.Cut(p, "=")
			if !ok {
				name, path = "", p
			}
			var typ finding.Type
			if _, known := finding.Lookup(finding.Type(name)); known && spec.threat {
				typ, name = finding.Type(name), "" // TYPE=PATH: every entry implies that finding type
			}
			if ok && (path == "" || strings.HasPrefix(p, "=")) {
				return d, usagef("%s %q: expected [NAME=]PATH or TYPE=PATH", spec.flag, p)
			}
			l := config.ListConfig{Path: path, Name: name, FindingType: string(typ)}
			if spec.threat {
				d.ThreatLists = append(d.ThreatLists, l)
			} else {
				d.TrustedLists = append(d.TrustedLists, l)
			}
		}
	}
	return d, nil
}

// scanSummary is the findings part of the closing line.
func scanSummary(fs []*finding.Finding, st detect.Stats) string {
	byBand := map[finding.Band]int{}
	for _, f := range fs {
		byBand[f.Severity.Band()]++
	}
	s := fmt.Sprintf("; %d findings", len(fs))
	var parts []string
	for _, b := range []finding.Band{finding.BandCritical, finding.BandHigh, finding.BandMedium, finding.BandLow} {
		if byBand[b] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", byBand[b], b.Title()))
		}
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	var evicted uint64
	for _, r := range st.Rules {
		evicted += r.Evicted
	}
	if evicted > 0 {
		s += fmt.Sprintf("; %d detection keys evicted at the --max-keys cap", evicted)
	}
	reasons := slices.Sorted(maps.Keys(st.Skipped))
	var passed []string
	for _, why := range reasons {
		if n := st.Skipped[why]; n > 0 {
			passed = append(passed, fmt.Sprintf("%d %s", n, why))
		}
	}
	if len(passed) > 0 {
		s += "; records no detection reads: " + strings.Join(passed, ", ")
	}
	return s
}

// printFindings writes the findings: a table for people, or GuardDuty JSON.
func printFindings(g *globals, format output.Format, fs []*finding.Finding) error {
	switch format {
	case output.JSON:
		if fs == nil {
			fs = []*finding.Finding{}
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false) // C&CActivity, not C\u0026CActivity
		enc.SetIndent("", "  ")
		if err := enc.Encode(fs); err != nil {
			return fmt.Errorf("encode findings: %w", err)
		}
		return nil
	case output.JSONL:
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		for _, f := range fs {
			if err := enc.Encode(f); err != nil {
				return fmt.Errorf("encode finding: %w", err)
			}
		}
		return nil
	}
	cols := []string{"severity", "type", "resource", "role", "count", "first seen", "last seen", "title"}
	w := output.NewWriter(g.stdout, output.Table, cols)
	for _, f := range fs {
		err := w.Write([]output.Cell{
			output.TextCell(f.Severity.Band().Title()),
			output.TextCell(string(f.Type)),
			output.TextCell(resourceLabel(f)),
			output.TextCell(string(f.Service.ResourceRole)),
			output.TextCell(strconv.FormatInt(f.Service.Count, 10)),
			output.TextCell(shortTime(f.Service.EventFirstSeen)),
			output.TextCell(shortTime(f.Service.EventLastSeen)),
			output.TextCell(f.Title),
		})
		if err != nil {
			return err
		}
	}
	if len(fs) == 0 {
		_, err := fmt.Fprintln(g.stdout, "no findings")
		return err
	}
	return w.Close()
}

// resourceLabel names a finding's resource for the table: the instance (with
// its Name tag), the interface or address, the access key (and user), the bucket.
func resourceLabel(f *finding.Finding) string {
	id := finding.ResourceID(&f.Resource)
	if d := f.Resource.InstanceDetails; d != nil {
		for _, t := range d.Tags {
			if t.Key == "Name" && t.Value != "" {
				return id + " (" + t.Value + ")"
			}
		}
	}
	if d := f.Resource.AccessKeyDetails; d != nil && d.UserName != "" && d.UserName != id {
		return id + " (" + d.UserName + ")"
	}
	if id == "" {
		return "-"
	}
	return id
}

func shortTime(t finding.Time) string {
	if t == 0 {
		return "-"
	}
	return t.Time().Format("2006-01-02 15:04:05")
}
