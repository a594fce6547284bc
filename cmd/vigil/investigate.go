package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/investigate"
	"github.com/vigil-dev/vigil/internal/obs"
)

func init() { commands = append(commands, newInvestigateCmd) }

type investigateOptions struct {
	read        readFlags
	report      string
	ips         []string
	from        string
	inventory   []string
	output      string
	activity    string
	natIPs      []string
	hosts       []string
	ports       []string
	margin      time.Duration
	top         int
	noDetect    bool
	noQueries   bool
	noBuiltins  bool
	maxSources  int
	reportLimit int64
}

func newInvestigateCmd(g *globals) *cobra.Command {
	var o investigateOptions
	def := investigate.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "investigate [--report FILE|-] [--ip IP] [--from T --until T] [--inventory P] LOGS...",
		Short: "Answer an AWS abuse report: find the instance behind the reported address, with evidence and a draft reply",
		Long: `investigate reads an AWS abuse report — the e-mail from AWS Trust & Safety saved
as .eml, or its text pasted into a file or standard input — and finds who behind
the reported address did it, in the VPC flow logs given as LOGS (files, folders,
gzip, s3:// prefixes).

From the report it reads the account, region, the reported public addresses, the
kind of activity (port scan, SSH/RDP brute force, DoS, spam, intrusion attempts,
malware, copyright), the time of the activity and the log extract's lines
(iptables, Cisco ASA, tcpdump, ip:port -> ip:port, sshd, fail2ban, mail and web
logs, in any common timestamp format and time zone). What it cannot read it
says; the flags fill the gaps and override what was read.

With an inventory (the JSON of aws ec2 describe-instances, describe-network-
interfaces, describe-nat-gateways, describe-addresses) the address is followed to
its owner: a NAT gateway, an instance's public or Elastic IP, a load balancer.
The flow logs are read once over the reported window plus a margin (flow logs
aggregate up to 10 minutes; clocks differ); files outside it are skipped by the
dates in their keys. For a NAT gateway, the sources behind it are matched on the
reported destinations and ports — through their own interfaces, the gateway's
inside legs (pkt-dstaddr), or, in AWS's default format, by pairing the gateway's
inside and outside legs — and ranked with a confidence and the reasons. The
output (Markdown, JSON or HTML) gives the evidence per candidate (flows, a
per-minute timeline, ports and hosts), the findings of vigil's detections on the
same logs, the CloudWatch Logs Insights queries to check it in the console with
the answer vigil's engine gives, containment steps, and a draft reply to AWS.

Exit status: 0 (also when nothing is found: the report says so), 1 on an error,
2 on a usage error (no reported address or window, a bad flag).`,
		Example: `  # the e-mail and a corpus from vigil simulate
  vigil investigate --report corpus/abuse-report/nat-abuse.eml --inventory corpus/inventory corpus/AWSLogs

  # no report at hand: the address and the window
  vigil investigate --ip 18.206.49.103 --from 2026-11-01T11:00:00Z --until 2026-11-01T11:15:00Z \
    --activity port-scan --inventory inventory/ s3://my-log-bucket/AWSLogs/

  # pasted text from standard input, HTML for the ticket
  pbpaste | vigil investigate --report - -o html --inventory inventory/ logs/ > answer.html`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInvestigate(cmd.Context(), g, cmd.InOrStdin(), o, args)
		},
	}
	o.read.register(cmd)
	f := cmd.Flags()
	// The shared --since/--until read the window of the reported activity here.
	f.Lookup("until").Usage = "end of the reported activity (same forms as --from; overrides the report)"
	f.Lookup("since").Usage = "the same as --from"
	_ = f.MarkHidden("since")
	f.StringVar(&o.report, "report", "", "the abuse report: an .eml file or pasted text (- for standard input)")
	f.StringArrayVar(&o.ips, "ip", nil, "a reported public address (repeatable, or comma-separated); added to the report's")
	f.StringVar(&o.from, "from", "", "start of the reported activity (same forms as --since; overrides the report)")
	f.StringArrayVar(&o.inventory, "inventory", nil, "inventory file or folder (AWS CLI describe-* JSON); repeatable")
	f.StringVarP(&o.output, "output", "o", "markdown", "output format: markdown, json, html")
	f.StringVar(&o.activity, "activity", "", "the kind of activity, overriding the report's: "+kindList())
	f.StringArrayVar(&o.natIPs, "nat-ip", nil, "private address of the NAT gateway behind the reported address, when there is no inventory; repeatable")
	f.StringArrayVar(&o.hosts, "host", nil, "a destination the report names (the complainant's host); repeatable, or comma-separated")
	f.StringArrayVar(&o.ports, "port", nil, "a destination port of the reported traffic; repeatable, or comma-separated")
	f.DurationVar(&o.margin, "margin", def.Margin, "time added before and after the reported window when reading the logs")
	f.IntVar(&o.top, "top", def.Top, "candidates shown")
	f.BoolVar(&o.noDetect, "no-detections", false, "do not run vigil's detections over the same logs")
	f.BoolVar(&o.noQueries, "no-queries", false, "do not run the proposed Logs Insights queries")
	f.BoolVar(&o.noBuiltins, "no-builtin-lists", false, "do not use the built-in threat lists in the detections")
	f.IntVar(&o.maxSources, "max-sources", def.MaxSources, "internal source addresses tracked at most")
	o.reportLimit = 16 << 20
	return cmd
}

func kindList() string {
	var ks []string
	for _, k := range investigate.Kinds {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

// splitList reads repeatable, comma-separated flag values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func parseAddrs(flag string, vals []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range splitList(vals) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usagef("%s %q: not an IP address", flag, s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

func runInvestigate(ctx context.Context, g *globals, stdin io.Reader, o investigateOptions, logs []string) error {
	format, err := investigate.ParseFormat(o.output)
	if err != nil {
		return usagef("--output: %v", err)
	}
	if len(logs) == 0 {
		return usagef("no logs to read: give the flow logs (files, folders, s3:// prefixes) after the flags")
	}
	if o.report == "-" {
		for _, l := range logs {
			if l == "-" {
				return usagef("--report - and the logs - both read standard input; put one of them in a file")
			}
		}
	}
	req := investigate.Request{}
	if req.IPs, err = parseAddrs("--ip", o.ips); err != nil {
		return err
	}
	if req.NATIPs, err = parseAddrs("--nat-ip", o.natIPs); err != nil {
		return err
	}
	if req.Hosts, err = parseAddrs("--host", o.hosts); err != nil {
		return err
	}
	for _, s := range splitList(o.ports) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			return usagef("--port %q: want a port number from 1 to 65535", s)
		}
		req.Ports = append(req.Ports, uint16(n))
	}
	if o.activity != "" {
		k, ok := investigate.ParseKind(o.activity)
		if !ok {
			return usagef("--activity %q: want one of %s", o.activity, kindList())
		}
		req.Kind = k
	}
	now := time.Now()
	if o.from != "" && o.read.since != "" {
		return usagef("--from and --since say the same thing; give one")
	}
	fromText := o.from
	if fromText == "" {
		fromText = o.read.since
	}
	if req.From, err = parseTimeFlag("from", fromText, now); err != nil {
		return err
	}
	if req.Until, err = parseTimeFlag("until", o.read.until, now); err != nil {
		return err
	}
	if !req.From.IsZero() && !req.Until.IsZero() && req.Until.Before(req.From) {
		return usagef("--until %s is before --from %s", req.Until.Format(time.RFC3339), req.From.Format(time.RFC3339))
	}
	if o.margin < 0 || o.top < 1 || o.maxSources < 1 {
		return usagef("--margin must not be negative, --top and --max-sources must be at least 1")
	}

	if o.report != "" {
		data, err := readReport(stdin, o.report, o.reportLimit)
		if err != nil {
			return err
		}
		name := o.report
		if name == "-" {
			name = "standard input"
		}
		rep, err := investigate.Parse(name, data, investigate.ParseOptions{IPs: req.IPs, Now: now})
		if err != nil {
			return err
		}
		req.Report = rep
	}

	problems := obs.NewThrottle(g.stderr)
	var inv *inventory.Inventory
	if len(o.inventory) > 0 {
		var warns []inventory.Warning
		inv, warns, err = inventory.Load(o.inventory...)
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		for _, w := range warns {
			problems.Printf("inventory", "vigil: inventory: %s", w)
		}
	}
	var set *intel.Set
	if !o.noBuiltins {
		set = intel.NewSet(intel.BuiltinLists()...)
	}

	newDecoder, err := decoderFactory(o.read, nil)
	if err != nil {
		return err
	}
	// The window comes from the report; the reader's own --since/--until are not used.
	readFlagsNoWindow := o.read
	readFlagsNoWindow.since, readFlagsNoWindow.until = "", ""
	rcfg, err := readFlagsNoWindow.readerConfig(ctx, logs)
	if err != nil {
		return err
	}
	if rcfg.Workers <= 0 {
		rcfg.Workers = runtime.GOMAXPROCS(0)
	}
	var reader *ingest.Reader
	report := func(p decode.Problem) { problems.Printf(p.Reason, "vigil: skipped %s", p) }
	read := func(ctx context.Context, w ingest.Window, emit func(int, *decode.Batch) error) (ingest.Result, error) {
		c := rcfg
		c.Window = w
		reader = ingest.New(c, newDecoder)
		prog := startProgress(g.stderr, func(elapsed time.Duration) string {
			cn := &reader.Counters
			return readStatus(cn.Records.Load(), cn.BytesStored.Load(), cn.BytesPlanned.Load(), elapsed) +
				fmt.Sprintf(", %d/%d files", cn.Objects.Load(), cn.ObjectsPlanned.Load())
		})
		defer prog.Stop()
		locations, err := investigate.NarrowLocations(ctx, logs, w)
		if err != nil {
			return ingest.Result{}, err
		}
		return reader.Read(ctx, locations, emit, report)
	}

	cfg := investigate.DefaultConfig()
	cfg.Margin, cfg.Top, cfg.MaxSources, cfg.Workers = o.margin, o.top, o.maxSources, rcfg.Workers
	cfg.Detections, cfg.Queries = !o.noDetect, !o.noQueries
	in, err := investigate.New(cfg, investigate.Deps{Read: read, Inventory: inv, Intel: set}, req)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := in.Run(ctx)
	switch {
	case errors.Is(err, investigate.ErrNoAddress), errors.Is(err, investigate.ErrNoWindow):
		msg := err.Error()
		if req.Report != nil && len(req.Report.Missing) > 0 {
			msg += " (the report: " + strings.Join(req.Report.Missing, "; ") + ")"
		}
		return usagef("%s", msg)
	case err != nil:
		return err
	}
	if err := res.Write(g.stdout, format); err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "vigil: investigated %s in %.2fs: %d records from %d files; %s; confidence %s\n",
		targetsText(res), time.Since(start).Seconds(), res.Stats.Records, res.Stats.Objects,
		plural(len(res.Candidates), "candidate"), res.Confidence)
	return nil
}

func targetsText(res *investigate.Result) string {
	var s []string
	for _, t := range res.Targets {
		s = append(s, t.IP.String())
	}
	return strings.Join(s, ", ")
}

// readReport reads the report file (or standard input), at most limit bytes.
func readReport(stdin io.Reader, path string, limit int64) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, usagef("--report: open %s: %v", path, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return data, nil
}
