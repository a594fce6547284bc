package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/output"
	"github.com/vigil-dev/vigil/internal/store"
)

func init() { commands = append(commands, newListsCmd) }

func newListsCmd(g *globals) *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "lists",
		Short: "Manage trusted lists and threat lists (GuardDuty IP sets and threat intel sets)",
		Long: `lists manages the trusted lists (GuardDuty's IP sets: traffic with their entries
raises no finding) and threat lists (threat intel sets: contact with their
entries raises .Custom findings) of a vigil server. A list comes from a file
(--file, uploaded) or a location (--url: an https:// URL or an s3://bucket/key
object, fetched by the server now and on every update, as GuardDuty reads its
S3 object; the server's api.s3 configures its S3 client), in one of GuardDuty's formats (TXT,
STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE) or a feed format
(TOR_EXIT_ADDRESSES, ABUSE_CH_CSV, SPAMHAUS_DROP, SPAMHAUS_DROP_JSON); AUTO
tells it from the content. A bad line rejects the list with its line number,
unless --ignore-invalid-lines loads the good ones.

GuardDuty's limits apply by default: one trusted list and six threat lists,
2,000 and 250,000 entries, 35 MB. Activating or changing a trusted list, and
deactivating or deleting an active threat list, are recorded in the audit log
and raise a Policy:Vigil finding: they are how an attacker blinds detection.`,
		Example: `  vigil lists create office --type trusted --format TXT --file office.txt --activate
  vigil lists create feodo --type threat --format ABUSE_CH_CSV --url https://feodotracker.abuse.ch/downloads/ipblocklist.csv --activate
  vigil lists create partners --type trusted --format TXT --url s3://my-security-bucket/lists/partners.txt --activate
  vigil lists list
  vigil lists update 0123456789abcdef0123456789abcdef --url https://feodotracker.abuse.ch/downloads/ipblocklist.csv
  vigil lists update 0123456789abcdef0123456789abcdef --deactivate
  vigil lists delete 0123456789abcdef0123456789abcdef`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	rf.register(cmd)
	cmd.AddCommand(newListCreateCmd(g, &rf), newListUpdateCmd(g, &rf), newListGetCmd(g, &rf), newListListCmd(g, &rf), newListDeleteCmd(g, &rf))
	return cmd
}

// parseListType reads --type.
func parseListType(s string, optional bool) (store.ListKind, error) {
	switch strings.ToLower(s) {
	case "trusted", "ipset":
		return store.ListTrusted, nil
	case "threat", "threatintelset":
		return store.ListThreat, nil
	case "":
		if optional {
			return "", nil
		}
	}
	return "", usagef("--type %q: want trusted or threat", s)
}

// listContent reads --file (- for standard input) or takes --url.
func listContent(file, url string, stdin io.Reader) (location, content *string, err error) {
	switch {
	case file != "" && url != "":
		return nil, nil, usagef("give --file or --url, not both")
	case url != "":
		return &url, nil, nil
	case file == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			return nil, nil, fmt.Errorf("--file -: %w", err)
		}
		s := string(b)
		return nil, &s, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, usagef("--file: %v", err)
		}
		s := string(b)
		return nil, &s, nil
	}
	return nil, nil, nil
}

// printListWarnings shows the lines the server skipped.
func printListWarnings(g *globals, warns []string) {
	for _, w := range warns {
		fmt.Fprintf(g.stderr, "warning: %s\n", w)
	}
}

func newListCreateCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var typ, format, file, url string
	var activate, lenient bool
	var tags []string
	cmd := &cobra.Command{
		Use:   "create NAME --type trusted|threat (--file PATH | --url URL)",
		Short: "Create a trusted or threat list from a file or a URL",
		Example: `  vigil lists create office --type trusted --format TXT --file office.txt --activate
  vigil lists create tor-exits --type threat --format TXT --url https://check.torproject.org/torbulkexitlist --activate
  curl -s https://example.org/ioc.csv | vigil lists create iocs --type threat --format OTX_CSV --file -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseListType(typ, false)
			if err != nil {
				return err
			}
			loc, content, err := listContent(file, url, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if loc == nil && content == nil {
				return usagef("give the list with --file PATH (- for standard input) or --url URL")
			}
			tagMap, err := parseTags(tags)
			if err != nil {
				return err
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			req := api.CreateListRequest{Name: args[0], Format: format, Activate: &activate, IgnoreInvalidLines: lenient, Tags: tagMap}
			if loc != nil {
				req.Location = *loc
			}
			if content != nil {
				req.Content = *content
			}
			id, n, warns, err := c.CreateList(cmd.Context(), kind, req)
			printListWarnings(g, warns)
			if err != nil {
				return err
			}
			status := "active"
			if !activate {
				status = "inactive; 'vigil lists update " + id + " --activate' puts it in effect"
			}
			fmt.Fprintf(g.stdout, "%s\n", id)
			fmt.Fprintf(g.stderr, "vigil: created %s list %s with %s (%s)\n", strings.ToLower(string(kind)), args[0], entryCount(n), status)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "trusted or threat (required)")
	f.StringVar(&format, "format", "TXT", "TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE, TOR_EXIT_ADDRESSES, ABUSE_CH_CSV, SPAMHAUS_DROP, SPAMHAUS_DROP_JSON or AUTO")
	f.StringVar(&file, "file", "", "the list file to upload (- for standard input)")
	f.StringVar(&url, "url", "", "an https:// URL or s3://bucket/key the server fetches the list from")
	f.BoolVar(&activate, "activate", false, "put the list in effect now (default: stored inactive)")
	f.BoolVar(&lenient, "ignore-invalid-lines", false, "load the good lines of a list with bad ones (default: reject it)")
	f.StringArrayVar(&tags, "tag", nil, "a tag key=value (repeat)")
	return cmd
}

// findList returns the kind of list id: the one given, or found by trying
// trusted then threat.
func findList(ctx context.Context, c *client.Client, kind store.ListKind, id string) (store.ListKind, *api.GetListResponse, error) {
	kinds := []store.ListKind{store.ListTrusted, store.ListThreat}
	if kind != "" {
		kinds = []store.ListKind{kind}
	}
	var err error
	for _, k := range kinds {
		var l *api.GetListResponse
		l, err = c.GetList(ctx, k, id)
		if err == nil {
			return k, l, nil
		}
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != "NotFound" {
			return "", nil, err
		}
	}
	if kind == "" {
		return "", nil, fmt.Errorf("no trusted or threat list has the ID %s", id)
	}
	return "", nil, err
}

func newListUpdateCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var typ, name, file, url string
	var activate, deactivate, lenient bool
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Rename, refresh, replace, activate or deactivate a list",
		Example: `  vigil lists update 0123456789abcdef0123456789abcdef --file office.txt
  vigil lists update 0123456789abcdef0123456789abcdef --url https://check.torproject.org/torbulkexitlist
  vigil lists update 0123456789abcdef0123456789abcdef --activate`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseListType(typ, true)
			if err != nil {
				return err
			}
			if activate && deactivate {
				return usagef("give --activate or --deactivate, not both")
			}
			req := api.UpdateListFields{IgnoreInvalidLines: lenient}
			if req.Location, req.Content, err = listContent(file, url, cmd.InOrStdin()); err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				req.Name = &name
			}
			if activate || deactivate {
				req.Activate = &activate
			}
			if req.Name == nil && req.Location == nil && req.Content == nil && req.Activate == nil {
				return usagef("nothing to change: give --name, --file, --url, --activate or --deactivate")
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			kind, _, err = findList(cmd.Context(), c, kind, args[0])
			if err != nil {
				return err
			}
			r, err := c.UpdateList(cmd.Context(), kind, args[0], req)
			if r != nil {
				printListWarnings(g, r.Warnings)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "updated %s list %s: %s\n", strings.ToLower(string(kind)), args[0], entryCount(r.Entries))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "trusted or threat (default: found by ID)")
	f.StringVar(&name, "name", "", "rename the list")
	f.StringVar(&file, "file", "", "replace the content with this file (- for standard input)")
	f.StringVar(&url, "url", "", "fetch the content from this https:// URL or s3://bucket/key (also to refresh from the same location)")
	f.BoolVar(&activate, "activate", false, "put the list in effect")
	f.BoolVar(&deactivate, "deactivate", false, "take the list out of effect")
	f.BoolVar(&lenient, "ignore-invalid-lines", false, "load the good lines of a list with bad ones")
	return cmd
}

func newListGetCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use:     "get ID",
		Short:   "Print a list's details as JSON",
		Example: `  vigil lists get 0123456789abcdef0123456789abcdef`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseListType(typ, true)
			if err != nil {
				return err
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			kind, l, err := findList(cmd.Context(), c, kind, args[0])
			if err != nil {
				return err
			}
			return printJSON(g.stdout, struct {
				Type string `json:"type"`
				*api.GetListResponse
			}{strings.ToLower(string(kind)), l})
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "trusted or threat (default: found by ID)")
	return cmd
}

func newListListCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var typ, out string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List trusted and threat lists",
		Example: `  vigil lists list
  vigil lists list --type threat -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseListType(typ, true)
			if err != nil {
				return err
			}
			format, err := output.ParseFormat(out, output.Table, output.JSON, output.JSONL, output.CSV)
			if err != nil {
				return usagef("--output: %v", err)
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			kinds := []store.ListKind{store.ListTrusted, store.ListThreat}
			if kind != "" {
				kinds = []store.ListKind{kind}
			}
			type row struct {
				Type string `json:"type"`
				*api.GetListResponse
			}
			rows := []row{}
			for _, k := range kinds {
				next := ""
				for {
					ids, n, err := c.ListLists(cmd.Context(), k, store.MaxLimit, next)
					if err != nil {
						return err
					}
					for _, id := range ids {
						l, err := c.GetList(cmd.Context(), k, id)
						if err != nil {
							return err
						}
						rows = append(rows, row{strings.ToLower(string(k)), l})
					}
					if n == "" {
						break
					}
					next = n
				}
			}
			if format == output.JSON {
				return printJSON(g.stdout, rows)
			}
			if len(rows) == 0 && format == output.Table {
				_, err := fmt.Fprintln(g.stdout, "no lists")
				return err
			}
			w := output.NewWriter(g.stdout, format, []string{"id", "type", "name", "format", "status", "entries", "updated", "location"})
			for _, r := range rows {
				loc := r.Location
				if loc == "" {
					loc = "(uploaded)"
				}
				if err := w.Write([]output.Cell{output.TextCell(r.ID), output.TextCell(r.Type), output.TextCell(r.Name), output.TextCell(r.Format),
					output.TextCell(string(r.Status)), output.TextCell(strconv.Itoa(r.Entries)), output.TextCell(shortTime(r.UpdatedAt)), output.TextCell(loc)}); err != nil {
					return err
				}
			}
			return w.Close()
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "trusted or threat (default both)")
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json, jsonl, csv")
	return cmd
}

func newListDeleteCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use:     "delete ID...",
		Short:   "Delete lists",
		Example: `  vigil lists delete 0123456789abcdef0123456789abcdef`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseListType(typ, true)
			if err != nil {
				return err
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			for _, id := range args {
				k, l, err := findList(cmd.Context(), c, kind, id)
				if err != nil {
					return err
				}
				if err := c.DeleteList(cmd.Context(), k, id); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "deleted %s list %s (%s)\n", strings.ToLower(string(k)), l.Name, id)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "trusted or threat (default: found by ID)")
	return cmd
}

func entryCount(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}
