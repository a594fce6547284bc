package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/store"
)

func init() { commands = append(commands, newAuditCmd) }

func newAuditCmd(g *globals) *cobra.Command {
	var rf remoteFlags
	var out, resourceType, resource string
	var blinding bool
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log of a vigil server: who changed filters, lists and tokens",
		Long: `audit lists the changes to filters, trusted and threat lists and tokens, newest
first: when, who (the token, its address and client), what, and whether the
change can blind detection (an ARCHIVE rule created or changed, a trusted list
activated or changed, an active threat list deactivated, deleted or shrunk).
-o json shows each change's before and after.`,
		Example: `  vigil audit
  vigil audit --blinding
  vigil audit --resource-type filter --resource scanner -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			if limit < 1 || limit > store.MaxLimit {
				return usagef("--limit %d: want 1 to %d", limit, store.MaxLimit)
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			r, err := c.ListAuditEvents(cmd.Context(), api.AuditRequest{MaxResults: limit, ResourceType: resourceType, ResourceID: resource, BlindingOnly: blinding})
			if err != nil {
				return err
			}
			if format == output.JSON {
				return printJSON(g.stdout, r.Events)
			}
			if len(r.Events) == 0 && format == output.Table {
				_, err := fmt.Fprintln(g.stdout, "no audit events")
				return err
			}
			w := output.NewWriter(g.stdout, format, []string{"time", "actor", "address", "action", "resource", "blinding"})
			for _, e := range r.Events {
				blind := ""
				if e.Blinding {
					blind = "BLINDING"
				}
				if err := w.Write([]output.Cell{output.TextCell(shortTime(e.Time)), output.TextCell(e.Actor.Name), output.TextCell(e.Actor.Address),
					output.TextCell(e.Action), output.TextCell(strings.ToLower(string(e.ResourceType)) + " " + e.ResourceID), output.TextCell(blind)}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	rf.register(cmd)
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	f.StringVar(&resourceType, "resource-type", "", "only changes to filter, list or token")
	f.StringVar(&resource, "resource", "", "only changes to this filter name, list ID or token ID")
	f.BoolVar(&blinding, "blinding", false, "only changes that can blind detection")
	f.IntVar(&limit, "limit", 50, "events shown at most")
	return cmd
}
