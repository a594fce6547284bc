package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/simulate"
)

func init() { commands = append(commands, newSimulateCmd) }

// simulateFlags maps simulate.Config's YAML keys to the flags that set them, so
// configuration errors name what the user typed.
var simulateFlags = map[string]string{
	"out": "--out", "seed": "--seed", "records": "--records", "start": "--start",
	"duration": "--duration", "flowFormat": "--flow-format", "layout": "--layout",
}

func newSimulateCmd(g *globals) *cobra.Command {
	def := simulate.DefaultConfig()
	var (
		out, start, format, layout string
		seed                       uint64
		records                    int64
		duration                   time.Duration
		force                      bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --out DIR",
		Short: "Write a realistic, labelled AWS log corpus (flow, resolver, CloudTrail)",
		Long: `simulate writes a deterministic corpus of AWS logs as AWS delivers them to S3:
VPC flow logs (gzip, 5-minute files, header line first), Route 53 Resolver query
logs and CloudTrail, from a two-account estate, with the estate's inventory as the
AWS CLI prints it and labels.json listing the GuardDuty findings the corpus must
raise (attacks modelled on AWS's GuardDuty tester) and must not raise (benign
look-alikes). The same flags always give the same bytes.

--records is the exact number of flow records; resolver logs get about a tenth
and CloudTrail about a hundredth of that, never fewer than the scenarios need.
The folder given to --out stands for the log bucket; see docs/simulate.md.`,
		Example: `  # A day of logs for seed 1 under ./corpus, in the S3 layout
  vigil simulate --out ./corpus

  # One million flow records over a week, every flow log in the default v2 format
  vigil simulate --out /tmp/week --records 1000000 --duration 168h --flow-format v2

  # A 10-million-record flat v2 file (about 1.1 GB) for benchmarks
  vigil simulate --out /tmp/bench --layout flat --flow-format v2 --records 10000000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := def
			cfg.Out, cfg.Seed, cfg.Records, cfg.Duration, cfg.Overwrite = out, seed, records, duration, force
			cfg.FlowFormat, cfg.Layout = simulate.FlowFormat(format), simulate.Layout(layout)
			if out == "" {
				return usagef("--out is required: the folder to write the corpus into (see 'vigil simulate --help')")
			}
			t, err := time.Parse(time.RFC3339, start)
			if err != nil {
				return usagef("--start: want an RFC 3339 time like 2026-11-01T00:00:00Z, got %q", start)
			}
			cfg.Start = t
			sim, err := simulate.New(cfg)
			if err != nil {
				return simulateUsageError(err)
			}
			return runSimulate(cmd.Context(), g, sim)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "folder to write into; it stands for the S3 log bucket (required)")
	f.Uint64Var(&seed, "seed", def.Seed, "seed of every random choice; the same flags give the same bytes")
	f.Int64Var(&records, "records", def.Records, "exact number of VPC flow-log records to write")
	f.StringVar(&start, "start", def.Start.Format(time.RFC3339), "start of the simulated window (RFC 3339, on a 5-minute boundary)")
	f.DurationVar(&duration, "duration", def.Duration, "length of the window (a multiple of 5m, at least 1h)")
	f.StringVar(&format, "flow-format", string(def.FlowFormat), "flow-log formats: mixed (VPC A custom v5, VPC B v2), v2 or custom")
	f.StringVar(&layout, "layout", string(def.Layout), "s3 (gzip files under AWSLogs/…) or flat (one uncompressed file per stream)")
	f.BoolVar(&force, "force", false, "write into a folder that is not empty, replacing the simulator's earlier output there")
	return cmd
}

// simulateUsageError turns simulate's configuration errors into usage errors
// that name flags.
func simulateUsageError(err error) error {
	var msgs []string
	for _, e := range unjoin(err) {
		var fe *simulate.FieldError
		if errors.As(e, &fe) {
			name := simulateFlags[fe.Field]
			if name == "" {
				name = fe.Field
			}
			msgs = append(msgs, name+": "+fe.Err.Error())
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return usagef("%s", strings.Join(msgs, "; "))
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func runSimulate(ctx context.Context, g *globals, sim *simulate.Simulator) error {
	total, c := sim.Totals().All(), sim.Counters()
	prog := startProgress(g.stderr, func(elapsed time.Duration) string {
		n := c.FlowRecords.Load() + c.DNSRecords.Load() + c.CloudTrailRecords.Load()
		st := fmt.Sprintf("%s/%s records (%d%%), %s", humanCount(n), humanCount(total), n*100/max(total, 1), humanBytes(c.Bytes.Load()))
		if secs := elapsed.Seconds(); secs > 0 && n > 0 {
			rate := float64(n) / secs
			eta := time.Duration(float64(total-n) / rate * float64(time.Second))
			st += fmt.Sprintf(", %s records/s, ETA %s", humanCount(int64(rate)), eta.Round(time.Second))
		}
		return st
	})
	sum, err := sim.Run(ctx)
	prog.Stop()
	switch {
	case errors.Is(err, simulate.ErrOutputNotEmpty):
		return fmt.Errorf("%w (choose a new folder, or add --force to replace the simulator's earlier output there)", err)
	case err != nil && ctx.Err() != nil:
		return errors.New("interrupted: the corpus is incomplete (it has no labels.json)")
	case err != nil:
		return err
	}
	secs := max(sum.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(g.stdout, "Wrote %d VPC flow records, %d Route 53 Resolver query records and %d CloudTrail events to %s "+
		"(%d findings expected and %d that must not be raised, listed in labels.json): "+
		"%d files, %s, in %.2fs; %s flow records/s, %s records/s in all.\n",
		sum.Flow, sum.DNS, sum.CloudTrail, sum.Out, sum.Expected, sum.LookAlikes,
		sum.Files, humanBytes(sum.Bytes), secs,
		humanCount(int64(float64(sum.Flow)/secs)), humanCount(int64(float64(sum.Totals.All())/secs)))
	return nil
}
