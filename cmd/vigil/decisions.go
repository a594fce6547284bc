package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/respond"
	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/postgres"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

func init() { commands = append(commands, newDecisionsCmd) }

// decisionStore is what vigil decisions needs of a store.
type decisionStore interface {
	store.Decisions
	Close() error
}

// openDecisionStore opens --store: sqlite:PATH (which must exist unless
// create) or a PostgreSQL URL.
func openDecisionStore(ctx context.Context, spec string, create bool) (decisionStore, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, usagef("--store sqlite: needs a path, e.g. sqlite:/var/lib/vigil/vigil.db")
		}
		if _, err := os.Stat(path); err != nil && !create {
			return nil, fmt.Errorf("--store %s: %w", spec, err)
		}
		return sqlite.Open(ctx, sqlite.Config{Path: path})
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		cfg := postgres.DefaultConfig()
		cfg.DSN = spec
		return postgres.Open(ctx, cfg)
	}
	return nil, usagef("--store: want sqlite:PATH or postgres://USER@HOST/DB")
}

func newDecisionsCmd(g *globals) *cobra.Command {
	var storeSpec string
	cmd := &cobra.Command{
		Use:   "decisions",
		Short: "List, add and delete blocking decisions (directly on the store)",
		Long: `decisions works on the responders' decisions in the store (--store sqlite:PATH,
or a PostgreSQL URL; default $VIGIL_STORE, else sqlite:vigil.db).

A decision blocks a network on one target until it expires. A running vigil
applies decisions added or deleted here at its next reconcile (every minute
by default), after the same checks as its rules' decisions: private and
reserved ranges, trusted lists, the estate's own addresses and the allow list
are never blocked. Every change is written to the audit trail.`,
		Example: `  vigil decisions list
  vigil decisions add 45.155.205.0/24 --target edge --ttl 12h --reason "abuse report 4711"
  vigil decisions delete 45.155.205.0/24
  vigil decisions audit --limit 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&storeSpec, "store", "", "the store: sqlite:PATH or postgres://USER@HOST/DB (default $VIGIL_STORE, else sqlite:vigil.db)")
	open := func(ctx context.Context, create bool) (decisionStore, error) {
		spec := storeSpec
		if spec == "" {
			spec = os.Getenv("VIGIL_STORE")
		}
		if spec == "" {
			spec = "sqlite:vigil.db"
		}
		return openDecisionStore(ctx, spec, create)
	}
	cmd.AddCommand(newDecisionsListCmd(g, open), newDecisionsAddCmd(g, open), newDecisionsDeleteCmd(g, open), newDecisionsAuditCmd(g, open))
	return cmd
}

type openDecisions func(ctx context.Context, create bool) (decisionStore, error)

func parsePrefixArg(s string) (netip.Prefix, error) {
	p, err := cidr.Parse(s)
	if err != nil {
		return p, usagef("%v", err)
	}
	return p, nil
}

func remaining(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	return d.Round(time.Second).String()
}

func newDecisionsListCmd(g *globals, open openDecisions) *cobra.Command {
	var out, target, contains string
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the decisions in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("%v", err)
			}
			f := store.DecisionFilter{Target: target, Limit: store.MaxLimit}
			if contains != "" {
				if f.Contains, err = parsePrefixArg(contains); err != nil {
					return err
				}
			}
			now := time.Now()
			if !all {
				f.ActiveAt = now
			}
			st, err := open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			w := output.NewWriter(g.stdout, format, []string{"target", "prefix", "expiresAt", "remaining", "hits", "origin", "findingType", "findingId", "reason"})
			for {
				ds, err := st.ListDecisions(cmd.Context(), f)
				if err != nil {
					return err
				}
				for _, d := range ds {
					if err := w.Write([]output.Cell{output.TextCell(d.Target), output.TextCell(d.Prefix.String()),
						output.TextCell(d.ExpiresAt.UTC().Format(time.RFC3339)), output.TextCell(remaining(d.ExpiresAt.Sub(now))),
						{Text: strconv.FormatInt(d.Hits, 10), OK: true, Raw: json.RawMessage(strconv.FormatInt(d.Hits, 10))}, output.TextCell(d.Origin), output.TextCell(string(d.FindingType)),
						output.TextCell(d.FindingID), output.TextCell(d.Reason)}); err != nil {
						return err
					}
				}
				if len(ds) < f.Limit {
					break
				}
				k := ds[len(ds)-1].Key()
				f.After = &k
			}
			return w.Close()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	cmd.Flags().StringVar(&target, "target", "", "only this target's decisions")
	cmd.Flags().StringVar(&contains, "contains", "", "only decisions covering this address or overlapping this CIDR")
	cmd.Flags().BoolVar(&all, "all", false, "include decisions that expired and are not yet removed")
	return cmd
}

func newDecisionsAddCmd(g *globals, open openDecisions) *cobra.Command {
	var targets []string
	var ttl time.Duration
	var reason string
	cmd := &cobra.Command{
		Use:   "add ADDRESS|CIDR --target NAME [--ttl 4h] [--reason TEXT]",
		Short: "Block an address or network on targets until the TTL ends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePrefixArg(args[0])
			if err != nil {
				return err
			}
			if len(targets) == 0 {
				return usagef("--target is required (the name of a target in the respond configuration)")
			}
			if ttl < 0 {
				return usagef("--ttl %s: must be positive", ttl)
			}
			st, err := open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			// Without the configuration, the built-in checks apply here
			// (reserved ranges, widest prefix, max TTL); the running vigil
			// adds its trusted lists, inventory and allow list.
			r, err := respond.New(respond.DefaultConfig(), respond.Deps{Store: st, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return err
			}
			ds, err := r.AddManual(cmd.Context(), respond.Manual{Prefix: p, Targets: targets, TTL: ttl, Reason: reason, Origin: "cli:" + localActor().Name})
			if err != nil {
				return err
			}
			for _, d := range ds {
				fmt.Fprintf(g.stdout, "%s blocked on %s until %s (%s)\n", d.Prefix, d.Target, d.ExpiresAt.UTC().Format(time.RFC3339), d.Reason)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&targets, "target", nil, "target name (repeat, or comma-separate, for several)")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "how long the block lasts (default the respond default, 4h; at most 7 days)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown in lists and the audit trail)")
	return cmd
}

func newDecisionsDeleteCmd(g *globals, open openDecisions) *cobra.Command {
	var targets []string
	var reason string
	cmd := &cobra.Command{
		Use:   "delete ADDRESS|CIDR [--target NAME]",
		Short: "End the decisions on an address or network (on all targets unless named)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parsePrefixArg(args[0])
			if err != nil {
				return err
			}
			st, err := open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := respond.New(respond.DefaultConfig(), respond.Deps{Store: st, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return err
			}
			gone, err := r.Delete(cmd.Context(), p, targets, "deleted by "+localActor().Name+": "+reason)
			if err != nil {
				return err
			}
			if len(gone) == 0 {
				return fmt.Errorf("no decision on %s", p)
			}
			for _, d := range gone {
				fmt.Fprintf(g.stdout, "%s unblocked on %s\n", d.Prefix, d.Target)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&targets, "target", nil, "only on this target (repeat for several)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")
	return cmd
}

func newDecisionsAuditCmd(g *globals, open openDecisions) *cobra.Command {
	var out, target, contains string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail of decisions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("%v", err)
			}
			if limit < 1 || limit > store.MaxLimit {
				return usagef("--limit %d: want 1–%d", limit, store.MaxLimit)
			}
			f := store.DecisionAuditFilter{Target: target, Limit: limit}
			if contains != "" {
				if f.Contains, err = parsePrefixArg(contains); err != nil {
					return err
				}
			}
			st, err := open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			es, err := st.ListDecisionAudit(cmd.Context(), f)
			if err != nil {
				return err
			}
			w := output.NewWriter(g.stdout, format, []string{"at", "action", "target", "prefix", "origin", "findingType", "reason"})
			for _, e := range es {
				if err := w.Write([]output.Cell{output.TextCell(e.At.UTC().Format(time.RFC3339)), output.TextCell(string(e.Action)),
					output.TextCell(e.Target), output.TextCell(e.Prefix.String()), output.TextCell(e.Origin),
					output.TextCell(string(e.FindingType)), output.TextCell(e.Reason)}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	cmd.Flags().StringVar(&target, "target", "", "only this target's entries")
	cmd.Flags().StringVar(&contains, "contains", "", "only entries covering this address or overlapping this CIDR")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many entries")
	return cmd
}
