package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/postgres"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
)

func init() { commands = append(commands, newTokenCmd) }

// defaultTokenStore is the store vigil token works on without --store or
// $VIGIL_STORE: the SQLite file vigil serve uses by default.
const defaultTokenStore = "sqlite:vigil.db"

// tokenStore is what vigil token needs of a store.
type tokenStore interface {
	store.Admin
	Close() error
}

// openTokenStore opens the store named by --store: sqlite:PATH, or a
// PostgreSQL URL (postgres://… or postgresql://…).
// Only create makes a SQLite file that does not exist yet.
func openTokenStore(ctx context.Context, spec string, create bool) (tokenStore, error) {
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
	return nil, usagef("--store %q: want sqlite:PATH or postgres://USER@HOST/DB", redactDSN(spec))
}

// redactDSN hides a password in a store URL shown in a message.
func redactDSN(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j > 0 && j < i {
			if k := strings.Index(s[j+3:i], ":"); k >= 0 {
				return s[:j+3+k+1] + "xxxxx" + s[i:]
			}
		}
	}
	return s
}

// localActor is who the audit log records for the command line.
func localActor() store.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return store.Actor{Name: "local:" + name}
}

func newTokenCmd(g *globals) *cobra.Command {
	var storeSpec string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens (directly on the store)",
		Long: `token manages the bearer tokens of vigil's API. It works on the store itself, not
through the API, because it is how access begins: run it where the store is
(--store sqlite:PATH, or a PostgreSQL URL for cluster mode; default
$VIGIL_STORE, else ` + defaultTokenStore + `).

A token has the scope read (list and read findings, filters, lists, the audit
log; run queries) or admin (also archive, feedback, filters, lists). The
secret is printed once, on standard output; the store keeps only its SHA-256,
so a lost secret cannot be recovered: revoke the token and create another.
Creating and revoking tokens is recorded in the audit log.`,
		Example: `  vigil token create ci-reader --scope read --store sqlite:/var/lib/vigil/vigil.db
  export VIGIL_TOKEN=$(vigil token create ops --scope admin --expires 90d)
  vigil token list
  vigil token revoke ci-reader`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&storeSpec, "store", "", "the store: sqlite:PATH or postgres://USER@HOST/DB (default $VIGIL_STORE, else "+defaultTokenStore+")")
	open := func(ctx context.Context, create bool) (tokenStore, error) {
		return openTokenStore(ctx, firstOf(storeSpec, os.Getenv("VIGIL_STORE"), defaultTokenStore), create)
	}
	cmd.AddCommand(newTokenCreateCmd(g, open), newTokenListCmd(g, open), newTokenRevokeCmd(g, open))
	return cmd
}

// parseExpiry reads --expires: a duration with d for days (90d, 12h), or 0.
func parseExpiry(s string) (time.Duration, error) {
	if s == "" || s == "0" || s == "never" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == d {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 {
		return 0, usagef("--expires %q: want a duration such as 90d or 12h, or never", s)
	}
	return dur, nil
}

func newTokenCreateCmd(g *globals, open func(context.Context, bool) (tokenStore, error)) *cobra.Command {
	var scope, expires string
	cmd := &cobra.Command{
		Use:   "create NAME --scope read|admin",
		Short: "Create a token and print its secret once",
		Example: `  vigil token create grafana --scope read
  vigil token create ops --scope admin --expires 90d --store postgres://vigil@db.internal/vigil`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc := store.Scope(strings.ToLower(scope))
			if sc != store.ScopeRead && sc != store.ScopeAdmin {
				return usagef("--scope %q: want read or admin", scope)
			}
			ttl, err := parseExpiry(expires)
			if err != nil {
				return err
			}
			st, err := open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			secret := api.NewSecret()
			t := store.Token{Name: args[0], Scope: sc, Hash: api.HashSecret(secret)}
			if ttl > 0 {
				t.ExpiresAt = finding.TimeOf(time.Now().Add(ttl))
			}
			t, err = st.CreateToken(cmd.Context(), t, localActor())
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, secret)
			exp := "never expires"
			if t.ExpiresAt != 0 {
				exp = "expires " + shortTime(t.ExpiresAt) + " UTC"
			}
			fmt.Fprintf(g.stderr, "vigil: created %s token %s (id %s, %s); the secret above is shown once\n", sc, t.Name, t.ID, exp)
			return nil
		},
	}
	cmd.Flags().StringVar(&scope, "scope", "", "read or admin (required)")
	cmd.Flags().StringVar(&expires, "expires", "never", "stop working after this long: 90d, 12h, or never")
	return cmd
}

func newTokenListCmd(g *globals, open func(context.Context, bool) (tokenStore, error)) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List tokens (never their secrets)",
		Example: `  vigil token list --store sqlite:/var/lib/vigil/vigil.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			st, err := open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			if format == output.JSON {
				if ts == nil {
					ts = []store.Token{}
				}
				return printJSON(g.stdout, ts)
			}
			if len(ts) == 0 && format == output.Table {
				_, err := fmt.Fprintln(g.stdout, "no tokens")
				return err
			}
			now := finding.TimeOf(time.Now())
			w := output.NewWriter(g.stdout, format, []string{"id", "name", "scope", "state", "created", "last used", "expires"})
			for _, t := range ts {
				state := "active"
				switch {
				case t.RevokedAt != 0:
					state = "revoked " + shortTime(t.RevokedAt)
				case !t.Usable(now):
					state = "expired"
				}
				if err := w.Write([]output.Cell{output.TextCell(t.ID), output.TextCell(t.Name), output.TextCell(string(t.Scope)), output.TextCell(state),
					output.TextCell(shortTime(t.CreatedAt)), output.TextCell(shortTime(t.LastUsedAt)), output.TextCell(shortTime(t.ExpiresAt))}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	return cmd
}

func newTokenRevokeCmd(g *globals, open func(context.Context, bool) (tokenStore, error)) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke NAME|ID...",
		Short:   "Revoke tokens: they stop working at once",
		Example: `  vigil token revoke grafana`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, a := range args {
				t, err := st.RevokeToken(cmd.Context(), a, finding.TimeOf(time.Now()), localActor())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "revoked token %s (id %s)\n", t.Name, t.ID)
			}
			return nil
		},
	}
}
