package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/api/client"
	"github.com/vigil-dev/vigil/internal/store"
)

// The commands that talk to a vigil server (findings, filters, lists, audit)
// share these flags and go through internal/api/client, the same client the
// tests use.

// defaultServer is where the API listens by default (api.DefaultConfig).
const defaultServer = "http://127.0.0.1:8080"

// remoteFlags locate the server and the token.
type remoteFlags struct {
	server, token, detector string
	timeout                 time.Duration
}

func (f *remoteFlags) register(cmd *cobra.Command) {
	p := cmd.PersistentFlags()
	p.StringVar(&f.server, "server", "", "vigil API URL (default $VIGIL_SERVER, else "+defaultServer+")")
	p.StringVar(&f.token, "token", "", "API token (default $VIGIL_TOKEN; prefer the variable: flags show in process lists)")
	p.StringVar(&f.detector, "detector", "", "detector ID (default $VIGIL_DETECTOR, else asked from the server)")
	p.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up on a request after this long")
}

// client returns the API client, from the flags or else the environment.
func (f *remoteFlags) client(g *globals) (*client.Client, error) {
	server := firstOf(f.server, os.Getenv("VIGIL_SERVER"), defaultServer)
	token := firstOf(f.token, os.Getenv("VIGIL_TOKEN"))
	if token == "" {
		return nil, usagef("no API token: set VIGIL_TOKEN (or --token); 'vigil token create NAME --scope read' makes one")
	}
	if f.timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	c, err := client.New(client.Config{Server: server, Token: token, DetectorID: firstOf(f.detector, os.Getenv("VIGIL_DETECTOR")),
		Timeout: f.timeout, UserAgent: "vigil-cli/1"})
	if err != nil {
		return nil, usagef("--server: %v", err)
	}
	return c, nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// criteriaFlags select findings: GuardDuty's FindingCriteria as JSON
// (--criteria, inline or a file, as aws guardduty takes it) and the shorthand
// (--where, repeated).
type criteriaFlags struct {
	criteria string
	where    []string
}

func (f *criteriaFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.criteria, "criteria", "", `FindingCriteria as JSON: inline ('{"criterion":{…}}'), a file (file://path or a path), or - for standard input`)
	cmd.Flags().StringArrayVar(&f.where, "where", nil, "a condition: type=Recon:EC2/Portscan, severity>=7, instance=i-1,i-2, updatedAt>=2026-11-01 (repeat to AND them)")
}

func (f *criteriaFlags) given() bool { return f.criteria != "" || len(f.where) > 0 }

// parse returns the criteria the flags give (nil for none); errors are usage
// errors naming the flag.
func (f *criteriaFlags) parse(stdin io.Reader) (*store.Criteria, error) {
	if !f.given() {
		return nil, nil
	}
	var c store.Criteria
	if f.criteria != "" {
		data, err := readArg(f.criteria, stdin)
		if err != nil {
			return nil, usagef("--criteria: %v", err)
		}
		if c, err = decodeCriteria(data); err != nil {
			return nil, usagef("--criteria: %v", err)
		}
	}
	w, err := store.ParseWhere(f.where)
	if err != nil {
		return nil, usagef("--where: %s", strings.TrimPrefix(err.Error(), store.ErrInvalidCriteria.Error()+": "))
	}
	for attr, cond := range w.Criterion {
		if c.Criterion == nil {
			c.Criterion = map[string]store.Condition{}
		}
		if _, dup := c.Criterion[attr]; dup {
			return nil, usagef("--where and --criteria both give %s; give it in one of them", attr)
		}
		c.Criterion[attr] = cond
	}
	if _, err := c.Terms(); err != nil {
		return nil, usagef("--criteria: %s", strings.TrimPrefix(err.Error(), store.ErrInvalidCriteria.Error()+": "))
	}
	return &c, nil
}

// readArg returns an argument's content: inline JSON (starting with { or [),
// standard input (-), or a file (file://path or path).
func readArg(arg string, stdin io.Reader) ([]byte, error) {
	switch t := strings.TrimSpace(arg); {
	case strings.HasPrefix(t, "{"), strings.HasPrefix(t, "["):
		return []byte(t), nil
	case t == "-":
		return io.ReadAll(io.LimitReader(stdin, 1<<20))
	default:
		return os.ReadFile(strings.TrimPrefix(t, "file://"))
	}
}

// decodeCriteria reads FindingCriteria JSON strictly: {"criterion": {…}} in
// either letter case, as the API and the AWS CLI write it, or the bare
// criterion map.
func decodeCriteria(data []byte) (store.Criteria, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return store.Criteria{}, fmt.Errorf("not a JSON object: %v", err)
	}
	if _, ok := probe["criterion"]; !ok {
		if _, ok := probe["Criterion"]; !ok {
			data = append(append([]byte(`{"criterion":`), data...), '}')
		}
	}
	var c store.Criteria
	if err := api.DecodeJSON(data, &c); err != nil {
		var ae *api.Error
		if errors.As(err, &ae) {
			return c, errors.New(ae.Message)
		}
		return c, err
	}
	if err := store.CheckCriteriaBounds(c); err != nil {
		return c, err
	}
	return c, nil
}

// parseTags reads --tag key=value flags.
func parseTags(tags []string) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, usagef("--tag %q: want key=value", t)
		}
		out[k] = v
	}
	return out, nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
