package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/output"
)

func init() { commands = append(commands, newRulesCmd) }

func newRulesCmd(g *globals) *cobra.Command {
	var dirs []string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, show and check detection rules",
		Long: `rules lists the detections vigil runs — the built-in rule files embedded in
the binary, with the overrides and rules of --rules folders applied — shows one
in the rule-file format, and checks rule files.

A rule file is YAML: a threshold rule (a filter in the Logs Insights expression
language, fields to group by, a window and a threshold) or a Go detector with
params. "override: ID" documents change a rule's enabled, filter, window,
threshold.atLeast or params. See docs/detections.md.`,
		Example: `  # every rule, with what makes it fire
  vigil rules list

  # one rule in the rule-file format, to copy and tune
  vigil rules show ssh-bruteforce

  # the rules as your --rules folder makes them
  vigil rules list --rules ./rules

  # check rule files before deploying them
  vigil rules test ./rules/*.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringArrayVar(&dirs, "rules", nil, "folder (or file) of rule files to apply over the built-in rules; repeatable")

	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every rule: id, state, kind, finding type, severity, what makes it fire",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := output.ParseFormat(format, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			set, err := detect.LoadRules(dirs...)
			if err != nil {
				return fmt.Errorf("rules:\n%w", err)
			}
			w := output.NewWriter(g.stdout, f, []string{"id", "enabled", "kind", "type", "severity", "fires on", "source"})
			for _, r := range set.Rules {
				src := r.Source
				if len(r.Overridden) > 0 {
					src += " (overridden by " + strings.Join(r.Overridden, ", ") + ")"
				}
				enabled := "yes"
				if !r.Enabled {
					enabled = "no"
				}
				types := r.Types()
				typ := string(types[0])
				if len(types) > 1 {
					typ += fmt.Sprintf(" (+%d more)", len(types)-1)
				}
				if err := w.Write([]output.Cell{output.TextCell(r.ID), output.TextCell(enabled), output.TextCell(r.Kind.String()),
					output.TextCell(typ), output.TextCell(r.Severity()), output.TextCell(r.Summary()), output.TextCell(src)}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	list.Flags().StringVarP(&format, "output", "o", "table", "output format: table, json, jsonl, csv")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print a rule's effective settings in the rule-file format",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := detect.LoadRules(dirs...)
			if err != nil {
				return fmt.Errorf("rules:\n%w", err)
			}
			r, ok := set.Lookup(args[0])
			if !ok {
				return usagef("no rule %q (see 'vigil rules list')", args[0])
			}
			b, err := r.YAML()
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "# source: %s\n", r.Source)
			for _, o := range r.Overridden {
				fmt.Fprintf(g.stdout, "# overridden by: %s\n", o)
			}
			_, err = g.stdout.Write(b)
			return err
		},
	}

	test := &cobra.Command{
		Use:   "test FILE...",
		Short: "Load and check rule files; print every error as file:line:col",
		Long: `test loads each rule file against the built-in rules (so overrides are checked
against the rules they change) and reports every problem — YAML syntax, unknown
keys, a filter that does not parse or names a field the records do not have, a
finding type not in the catalogue, detector parameters out of range — as
file:line:col: message. It exits 1 when a file has a problem.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, file := range args {
				rules, err := detect.CheckFile(file)
				if err != nil {
					bad++
					var list detect.ErrorList
					if errors.As(err, &list) {
						for _, e := range list {
							fmt.Fprintln(g.stderr, e)
						}
					} else {
						fmt.Fprintf(g.stderr, "%s: %v\n", file, err)
					}
					continue
				}
				ids := make([]string, len(rules))
				for i, r := range rules {
					ids[i] = r.ID
				}
				fmt.Fprintf(g.stdout, "%s: ok (%s)\n", file, strings.Join(ids, ", "))
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d rule files have problems", bad, len(args))
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, test)
	return cmd
}
