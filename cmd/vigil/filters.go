package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/suppress"
)

func init() { commands = append(commands, newFiltersCmd) }

func newFiltersCmd(g *globals) *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "filters",
		Short: "Manage saved filters and suppression rules (GuardDuty filters)",
		Long: `filters manages GuardDuty's filters on a vigil server: saved FindingCriteria with
an action. NOOP (the default) saves a view; ARCHIVE makes a suppression rule:
new findings and new occurrences it matches are stored archived and not
notified. Creating or changing a filter prints how many stored findings it
matches. Creating or changing an ARCHIVE rule is recorded in the audit log and
raises a Policy:Vigil/SuppressionRuleChanged finding.

A filter selects with --criteria (GuardDuty JSON, as aws guardduty
create-filter --finding-criteria takes it), --where (the shorthand, repeated),
or --expression, a filter in vigil's query language over the finding's JSON
(type like /^Recon:/ and isIpv4InSubnet(service.action.networkConnectionAction.remoteIpDetails.ipAddressV4, "203.0.113.0/24")).

Filters also take GuardDuty's wildcards, which ListFindings does not: matches
and notMatches in --criteria ({"type":{"matches":["Recon:*"]}}), written ~ and
!~ in --where (type~Recon:*, domain!~*.corp.example.com,*.internal): '*' is
any run of characters, everything else literal and case-sensitive; at most 5
patterns of 512 characters, on string attributes.`,
		Example: `  vigil filters create scanner --action archive --where type=Recon:EC2/Portscan --where instance=i-0scanner
  vigil filters create office-ssh --action archive \
    --expression 'type = "UnauthorizedAccess:EC2/SSHBruteForce" and isIpv4InSubnet(service.action.networkConnectionAction.remoteIpDetails.ipAddressV4, "203.0.113.0/24")'
  vigil filters list
  vigil filters update scanner --rank 1
  vigil filters delete scanner`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	rf.register(cmd)
	cmd.AddCommand(newFilterCreateCmd(g, &rf), newFilterUpdateCmd(g, &rf), newFilterGetCmd(g, &rf), newFilterListCmd(g, &rf), newFilterDeleteCmd(g, &rf))
	return cmd
}

// filterFlags are the fields of create and update.
type filterFlags struct {
	criteria    criteriaFlags
	action      string
	rank        int
	description string
	expression  string
	tags        []string
}

func (f *filterFlags) register(cmd *cobra.Command, create bool) {
	f.criteria.register(cmd)
	fl := cmd.Flags()
	if create {
		fl.StringVar(&f.action, "action", "noop", "noop (a saved view) or archive (a suppression rule)")
		fl.StringArrayVar(&f.tags, "tag", nil, "a tag key=value (repeat)")
	} else {
		fl.StringVar(&f.action, "action", "", "noop (a saved view) or archive (a suppression rule)")
	}
	fl.IntVar(&f.rank, "rank", 0, "position 1–100: rules apply in rank order (default after the last filter)")
	fl.StringVar(&f.description, "description", "", "what the filter is for")
	fl.StringVar(&f.expression, "expression", "", "select with a filter expression in vigil's query language instead of criteria")
}

func parseAction(s string) (store.FilterAction, error) {
	switch strings.ToUpper(s) {
	case "NOOP":
		return store.FilterNoop, nil
	case "ARCHIVE":
		return store.FilterArchive, nil
	}
	return "", usagef("--action %q: want noop or archive", s)
}

func newFilterCreateCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var ff filterFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a filter or suppression rule",
		Example: `  vigil filters create scanner --action archive --where type=Recon:EC2/Portscan --where instance=i-0scanner
  vigil filters create scanners --action archive --where 'type~Recon:*' --where 'instance~i-0scan*,i-0nessus*'
  vigil filters create high-current --where severity>=high --where archived=false
  vigil filters create from-json --criteria file://criteria.json --description "as in GuardDuty"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			action, err := parseAction(ff.action)
			if err != nil {
				return err
			}
			crit, err := ff.criteria.parse(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if (crit != nil) == (ff.expression != "") {
				return usagef("select findings with --where/--criteria or with --expression (one of them)")
			}
			tags, err := parseTags(ff.tags)
			if err != nil {
				return err
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			r, err := c.CreateFilter(cmd.Context(), api.CreateFilterRequest{Name: args[0], Description: ff.description, Action: action,
				Rank: ff.rank, FindingCriteria: crit, Expression: ff.expression, Tags: tags})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "created filter %s (%s): %s\n", r.Name, action, previewText(r))
			return nil
		},
	}
	ff.register(cmd, true)
	return cmd
}

func previewText(r *api.FilterResponse) string {
	s := "matches " + plural(int(r.PreviewCount), "stored finding")
	if !r.PreviewComplete {
		s += " among the newest scanned (preview stopped at the scan limit)"
	}
	return s
}

func newFilterUpdateCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var ff filterFlags
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a filter: the flags given change, the rest stays",
		Example: `  vigil filters update scanner --action noop
  vigil filters update scanner --where type=Recon:EC2/Portscan --where instance=i-0scanner,i-0scanner2
  vigil filters update scanner --rank 1 --description "the weekly Nessus scan"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.UpdateFilterRequest{FilterPath: api.FilterPath{FilterName: args[0]}}
			fl := cmd.Flags()
			if fl.Changed("action") {
				a, err := parseAction(ff.action)
				if err != nil {
					return err
				}
				req.Action = &a
			}
			if fl.Changed("rank") {
				req.Rank = &ff.rank
			}
			if fl.Changed("description") {
				req.Description = &ff.description
			}
			crit, err := ff.criteria.parse(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if crit != nil && fl.Changed("expression") {
				return usagef("give --where/--criteria or --expression, not both")
			}
			req.FindingCriteria = crit
			if fl.Changed("expression") {
				req.Expression = &ff.expression
			}
			if req.Action == nil && req.Rank == nil && req.Description == nil && req.FindingCriteria == nil && req.Expression == nil {
				return usagef("nothing to change: give --action, --rank, --description, --where, --criteria or --expression")
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			r, err := c.UpdateFilter(cmd.Context(), req)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "updated filter %s: %s\n", r.Name, previewText(r))
			return nil
		},
	}
	ff.register(cmd, false)
	return cmd
}

func newFilterGetCmd(g *globals, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "get NAME",
		Short:   "Print a filter as JSON",
		Example: `  vigil filters get scanner`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			f, err := c.GetFilter(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(g.stdout, f)
		},
	}
	return cmd
}

// allFilters reads every filter, in rank order.
func allFilters(ctx context.Context, c *client.Client) ([]*api.GetFilterResponse, error) {
	var out []*api.GetFilterResponse
	next := ""
	for {
		p, err := c.ListFilters(ctx, store.MaxLimit, next)
		if err != nil {
			return nil, err
		}
		for _, name := range p.FilterNames {
			f, err := c.GetFilter(ctx, name)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		if p.NextToken == "" {
			return out, nil
		}
		next = p.NextToken
	}
}

// selection describes what a filter selects, on one line.
func selection(f *api.GetFilterResponse) string {
	if f.Expression != "" {
		return f.Expression
	}
	if f.FindingCriteria == nil {
		return "-"
	}
	r, err := suppress.Compile(store.Filter{Name: f.Name, Action: f.Action, Rank: f.Rank, Criteria: *f.FindingCriteria})
	if err != nil {
		return "(invalid: " + err.Error() + ")"
	}
	return r.Describe()
}

func newFilterListCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List filters in rank order",
		Example: `  vigil filters list
  vigil filters list -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			fs, err := allFilters(cmd.Context(), c)
			if err != nil {
				return err
			}
			if format == output.JSON {
				if fs == nil {
					fs = []*api.GetFilterResponse{}
				}
				return printJSON(g.stdout, fs)
			}
			if len(fs) == 0 && format == output.Table {
				_, err := fmt.Fprintln(g.stdout, "no filters")
				return err
			}
			w := output.NewWriter(g.stdout, format, []string{"rank", "name", "action", "selects", "updated", "description"})
			for _, f := range fs {
				if err := w.Write([]output.Cell{output.TextCell(strconv.Itoa(f.Rank)), output.TextCell(f.Name), output.TextCell(string(f.Action)),
					output.TextCell(selection(f)), output.TextCell(shortTime(f.UpdatedAt)), output.TextCell(f.Description)}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	return cmd
}

func newFilterDeleteCmd(g *globals, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Short:   "Delete filters",
		Example: `  vigil filters delete scanner`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			for _, name := range args {
				if err := c.DeleteFilter(cmd.Context(), name); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "deleted filter %s\n", name)
			}
			return nil
		},
	}
}
