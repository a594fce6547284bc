package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/store"
)

func init() { commands = append(commands, newFindingsCmd) }

func newFindingsCmd(g *globals) *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "List, read, archive and count the findings of a vigil server",
		Long: `findings works on the findings a vigil server keeps, through its API
(GuardDuty's ListFindings, GetFindings, ArchiveFindings, …). The server is
--server or $VIGIL_SERVER (default ` + defaultServer + `), the token --token or
$VIGIL_TOKEN ('vigil token create' makes one; archive, unarchive and feedback
need an admin token).

Findings are selected with GuardDuty's FindingCriteria (--criteria, JSON as
aws guardduty list-findings --finding-criteria takes it) or the shorthand
--where, repeated: type=Recon:EC2/Portscan, severity>=7, instance=i-1,i-2,
remoteIp=198.51.100.7, archived=false, updatedAt>=2026-11-01.`,
		Example: `  export VIGIL_TOKEN=vgl_…
  vigil findings list --where severity>=7 --where archived=false
  vigil findings get 16afba5c5c43e07c9e3e5e2e544e95df
  vigil findings archive --where type=Recon:EC2/Portscan --where instance=i-0scanner
  vigil findings stats --by type
  vigil findings export --where updatedAt>=2026-11-01 --format jsonl --out findings.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	rf.register(cmd)
	cmd.AddCommand(newFindingsListCmd(g, &rf), newFindingsGetCmd(g, &rf), newFindingsArchiveCmd(g, &rf, true),
		newFindingsArchiveCmd(g, &rf, false), newFindingsFeedbackCmd(g, &rf), newFindingsStatsCmd(g, &rf), newFindingsExportCmd(g, &rf))
	return cmd
}

// parseSort reads --sort attribute[:asc|desc].
func parseSort(s string) (*store.Sort, error) {
	if s == "" {
		return nil, nil
	}
	attr, order, _ := strings.Cut(s, ":")
	if a, ok := store.WhereAliases[attr]; ok {
		attr = a
	}
	srt, err := store.Sort{Attribute: attr, Order: store.Order(strings.ToUpper(order))}.Check()
	if err != nil {
		return nil, usagef("--sort %q: %v (want attribute[:asc|desc], e.g. severity:desc)", s, err)
	}
	return &srt, nil
}

func newFindingsListCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var cf criteriaFlags
	var out, sort string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List findings matching criteria, newest first",
		Example: `  vigil findings list --where severity>=high --where archived=false
  vigil findings list --where type=UnauthorizedAccess:EC2/SSHBruteForce --sort count:desc --limit 10
  vigil findings list --criteria file://criteria.json -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			crit, err := cf.parse(cmd.InOrStdin())
			if err != nil {
				return err
			}
			srt, err := parseSort(sort)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit must not be negative (0 lists all)")
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			return listFindings(cmd.Context(), g, c, crit, srt, limit, format)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	cmd.Flags().StringVar(&sort, "sort", "", "sort by attribute[:asc|desc] (default updatedAt:desc)")
	cmd.Flags().IntVar(&limit, "limit", 50, "findings listed at most; 0 lists all")
	return cmd
}

// findingColumns are the columns of findings tables.
// "last seen" is when the activity was last seen in the logs (event time);
// "updated" is when vigil last stored the finding, what lists sort by.
var findingColumns = []string{"id", "severity", "type", "resource", "count", "last seen", "updated", "archived", "title"}

func findingRow(f *finding.Finding) []output.Cell {
	archived := ""
	if f.Service.Archived {
		archived = "archived"
	}
	return []output.Cell{
		output.TextCell(f.ID),
		output.TextCell(f.Severity.Band().Title() + " " + strconv.FormatFloat(float64(f.Severity), 'g', -1, 64)),
		output.TextCell(string(f.Type)),
		output.TextCell(resourceLabel(f)),
		output.TextCell(strconv.FormatInt(f.Service.Count, 10)),
		output.TextCell(shortTime(f.Service.EventLastSeen)),
		output.TextCell(shortTime(f.UpdatedAt)),
		output.TextCell(archived),
		output.TextCell(f.Title),
	}
}

func listFindings(ctx context.Context, g *globals, c *client.Client, crit *store.Criteria, srt *store.Sort, limit int, format output.Format) error {
	var fw findingWriter
	switch format {
	case output.JSON:
		fw = newJSONFindingWriter(g.stdout)
	case output.JSONL:
		fw = newJSONLFindingWriter(g.stdout)
	default:
		fw = &tableFindingWriter{w: output.NewWriter(g.stdout, format, findingColumns), out: g.stdout, format: format}
	}
	pageSize := 200
	if limit > 0 && limit < pageSize {
		pageSize = limit
	}
	err := c.EachFinding(ctx, crit, srt, pageSize, limit, func(fs []finding.Finding) bool {
		for i := range fs {
			if err := fw.Write(&fs[i]); err != nil {
				return false
			}
		}
		return true
	})
	if cerr := fw.Close(); err == nil {
		err = cerr
	}
	return err
}

// tableFindingWriter writes findings as a table or CSV.
type tableFindingWriter struct {
	w      *output.Writer
	out    io.Writer
	format output.Format
	n      int
}

func (t *tableFindingWriter) Write(f *finding.Finding) error {
	t.n++
	return t.w.Write(findingRow(f))
}

func (t *tableFindingWriter) Close() error {
	if t.n == 0 && t.format == output.Table {
		_, err := fmt.Fprintln(t.out, "no findings")
		return err
	}
	return t.w.Close()
}

func newFindingsGetCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get ID...",
		Short: "Print findings by ID in GuardDuty's JSON",
		Example: `  vigil findings get 16afba5c5c43e07c9e3e5e2e544e95df
  vigil findings get -o table ID1 ID2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			fs, err := c.GetFindings(cmd.Context(), args, nil)
			if err != nil {
				return err
			}
			if len(fs) < len(args) {
				fmt.Fprintf(g.stderr, "vigil: %d of %d findings not found\n", len(args)-len(fs), len(args))
			}
			var fw findingWriter
			switch format {
			case output.JSON:
				fw = newJSONFindingWriter(g.stdout)
			case output.JSONL:
				fw = newJSONLFindingWriter(g.stdout)
			default:
				fw = &tableFindingWriter{w: output.NewWriter(g.stdout, format, findingColumns), out: g.stdout, format: format}
			}
			for i := range fs {
				if err := fw.Write(&fs[i]); err != nil {
					return err
				}
			}
			if err := fw.Close(); err != nil {
				return err
			}
			if len(fs) == 0 {
				return fmt.Errorf("no finding has the ID %s", strings.Join(args, " or "))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "json", "output format: json, jsonl, table, csv")
	return cmd
}

// selectedIDs returns the IDs given as arguments, or else those the criteria
// select (all of them, page by page).
func selectedIDs(ctx context.Context, c *client.Client, cf *criteriaFlags, stdin io.Reader, args []string) ([]string, error) {
	switch {
	case len(args) > 0 && cf.given():
		return nil, usagef("give finding IDs or --where/--criteria, not both")
	case len(args) > 0:
		return args, nil
	case !cf.given():
		return nil, usagef("give finding IDs, or select findings with --where or --criteria")
	}
	crit, err := cf.parse(stdin)
	if err != nil {
		return nil, err
	}
	var ids []string
	tok := ""
	for {
		p, err := c.ListFindings(ctx, api.ListFindingsRequest{FindingCriteria: crit, MaxResults: store.MaxLimit, NextToken: tok})
		if err != nil {
			return nil, err
		}
		ids = append(ids, p.FindingIDs...)
		if p.NextToken == "" {
			return ids, nil
		}
		tok = p.NextToken
	}
}

// inChunks calls fn with ids in slices the API accepts.
func inChunks(ids []string, fn func([]string) (int, error)) (int, error) {
	total := 0
	for len(ids) > 0 {
		n := min(len(ids), store.MaxLimit)
		k, err := fn(ids[:n])
		total += k
		if err != nil {
			return total, err
		}
		ids = ids[n:]
	}
	return total, nil
}

func newFindingsArchiveCmd(g *globals, rf *remoteFlags, archive bool) *cobra.Command {
	var cf criteriaFlags
	use, short, verb := "archive", "Archive findings (by ID or criteria)", "archived"
	example := `  vigil findings archive 16afba5c5c43e07c9e3e5e2e544e95df
  vigil findings archive --where type=Recon:EC2/Portscan --where instance=i-0scanner`
	if !archive {
		use, short, verb = "unarchive", "Make archived findings current again", "unarchived"
		example = `  vigil findings unarchive 16afba5c5c43e07c9e3e5e2e544e95df
  vigil findings unarchive --where archived=true --where severity>=7`
	}
	cmd := &cobra.Command{
		Use:     use + " [ID...]",
		Short:   short,
		Example: example,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			ids, err := selectedIDs(cmd.Context(), c, &cf, cmd.InOrStdin(), args)
			if err != nil {
				return err
			}
			call := c.ArchiveFindings
			if !archive {
				call = c.UnarchiveFindings
			}
			n, err := inChunks(ids, func(chunk []string) (int, error) { return call(cmd.Context(), chunk) })
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s %s\n", verb, plural(n, "finding"))
			if n < len(ids) {
				fmt.Fprintf(g.stderr, "vigil: %d of the IDs were not found\n", len(ids)-n)
			}
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}

func newFindingsFeedbackCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var useful, notUseful bool
	var comments string
	cmd := &cobra.Command{
		Use:   "feedback (--useful | --not-useful) ID...",
		Short: "Record whether findings were useful",
		Example: `  vigil findings feedback --not-useful --comments "our vulnerability scanner" 16afba5c5c43e07c9e3e5e2e544e95df
  vigil findings feedback --useful ID1 ID2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if useful == notUseful {
				return usagef("give exactly one of --useful and --not-useful")
			}
			fb := store.FeedbackUseful
			if notUseful {
				fb = store.FeedbackNotUseful
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			n, err := inChunks(args, func(chunk []string) (int, error) {
				return c.UpdateFindingsFeedback(cmd.Context(), chunk, fb, comments)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "marked %s %s\n", plural(n, "finding"), fb)
			return nil
		},
	}
	cmd.Flags().BoolVar(&useful, "useful", false, "the findings were useful")
	cmd.Flags().BoolVar(&notUseful, "not-useful", false, "the findings were not useful")
	cmd.Flags().StringVar(&comments, "comments", "", "a comment kept with the feedback")
	return cmd
}

func newFindingsStatsCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var cf criteriaFlags
	var by, out, order string
	var limit int
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count findings by severity, type, account, day or resource",
		Example: `  vigil findings stats
  vigil findings stats --by type --where archived=false --limit 10
  vigil findings stats --by date --where updatedAt>=2026-11-01 -o csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			groupBy, ok := map[string]string{"severity": "SEVERITY", "type": "FINDING_TYPE", "account": "ACCOUNT", "date": "DATE", "resource": "RESOURCE"}[strings.ToLower(by)]
			if !ok {
				return usagef("--by %q: want severity, type, account, date or resource", by)
			}
			if limit < 1 || limit > 100 {
				return usagef("--limit %d: want 1 to 100", limit)
			}
			crit, err := cf.parse(cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			r, err := c.GetFindingsStatistics(cmd.Context(), api.StatisticsRequest{FindingCriteria: crit, GroupBy: groupBy, OrderBy: order, MaxResults: limit})
			if err != nil {
				return err
			}
			if format == output.JSON {
				return printJSON(g.stdout, r)
			}
			return printStats(g, format, groupBy, &r.FindingStatistics)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&by, "by", "severity", "group by severity, type, account, date or resource")
	cmd.Flags().StringVar(&order, "order", "desc", "order groups by count: asc or desc")
	cmd.Flags().IntVar(&limit, "limit", 25, "groups shown at most (1 to 100)")
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	return cmd
}

func printStats(g *globals, format output.Format, groupBy string, st *api.FindingStatistics) error {
	var cols []string
	var rows [][]string
	ts := func(t finding.Time) string { return shortTime(t) }
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	sev := func(s finding.Severity) string {
		return s.Band().Title() + " " + strconv.FormatFloat(float64(s), 'g', -1, 64)
	}
	switch groupBy {
	case "SEVERITY":
		cols = []string{"severity", "findings", "last generated"}
		for _, x := range st.GroupedBySeverity {
			rows = append(rows, []string{sev(x.Severity), n(x.TotalFindings), ts(x.LastGeneratedAt)})
		}
	case "FINDING_TYPE":
		cols = []string{"type", "findings", "last generated"}
		for _, x := range st.GroupedByFindingType {
			rows = append(rows, []string{x.FindingType, n(x.TotalFindings), ts(x.LastGeneratedAt)})
		}
	case "ACCOUNT":
		cols = []string{"account", "findings", "last generated"}
		for _, x := range st.GroupedByAccount {
			rows = append(rows, []string{x.AccountID, n(x.TotalFindings), ts(x.LastGeneratedAt)})
		}
	case "DATE":
		cols = []string{"date", "findings", "highest severity", "last generated"}
		for _, x := range st.GroupedByDate {
			rows = append(rows, []string{x.Date, n(x.TotalFindings), sev(x.Severity), ts(x.LastGeneratedAt)})
		}
	case "RESOURCE":
		cols = []string{"account", "resource type", "resource", "findings", "last generated"}
		for _, x := range st.GroupedByResource {
			rows = append(rows, []string{x.AccountID, x.ResourceType, x.ResourceID, n(x.TotalFindings), ts(x.LastGeneratedAt)})
		}
	}
	if len(rows) == 0 && format == output.Table {
		_, err := fmt.Fprintln(g.stdout, "no findings")
		return err
	}
	w := output.NewWriter(g.stdout, format, cols)
	for _, r := range rows {
		cells := make([]output.Cell, len(r))
		for i, v := range r {
			cells[i] = output.TextCell(v)
		}
		if err := w.Write(cells); err != nil {
			return err
		}
	}
	return w.Close()
}
