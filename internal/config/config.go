// Package config is vigil serve's configuration: one YAML file, decoded
// strictly, with defaults, validated with the key path of every problem.
//
// # The file
//
// Each top-level key is the section of one component (log, http, store, detect,
// pipeline, sources, suppress, api, notify, exports, respond); a section's type
// is that component's own Config, so the YAML names are the component's. What
// the file leaves out keeps its default (DefaultConfig); `vigil config check`
// prints the effective configuration.
//
// # Strictness
//
// An unknown key is an error naming its path and line ("sources[0].watch.pth
// (line 12): unknown key; did you mean path?"), as is a value of the wrong
// type; every problem of the file is reported, not only the first.
//
// # Secrets and the environment
//
// "${NAME}" anywhere in a value is replaced by the environment variable NAME
// ("${NAME:-default}" when it may be unset; "$${" writes a literal "${"); an
// unset variable without a default is an error. A secret field (a
// secret.Value: access keys, DSNs, webhook URLs) may also be given as
// {env: NAME}, {file: PATH}, or through a sibling key with "_file" appended
// (access_key_file: /run/secrets/firehose-key), whose file's content (without
// its trailing newline) is the value. Secrets print as "[redacted]".
package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/api"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/export"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest/firehose"
	"github.com/vigil-dev/vigil/internal/ingest/s3poll"
	"github.com/vigil-dev/vigil/internal/ingest/stdin"
	"github.com/vigil-dev/vigil/internal/ingest/watch"
	"github.com/vigil-dev/vigil/internal/notify"
	"github.com/vigil-dev/vigil/internal/pipeline"
	"github.com/vigil-dev/vigil/internal/respond"
	"github.com/vigil-dev/vigil/internal/secret"
	"github.com/vigil-dev/vigil/internal/store/retention"
	"github.com/vigil-dev/vigil/internal/store/sqlite"
	"github.com/vigil-dev/vigil/internal/suppress"

	"go.yaml.in/yaml/v3"
)

// Config is the whole file.
type Config struct {
	Log      LogConfig       `yaml:"log"`
	HTTP     HTTPConfig      `yaml:"http"`
	Store    StoreConfig     `yaml:"store"`
	Detect   DetectConfig    `yaml:"detect"`
	Pipeline pipeline.Config `yaml:"pipeline"`
	// Sources are the continuous inputs; each has a name and one of watch,
	// s3, firehose or stdin.
	Sources  []SourceConfig  `yaml:"sources"`
	Suppress suppress.Config `yaml:"suppress"`
	// API is the HTTP API (GuardDuty's operations); absent means no API.
	API *api.Config `yaml:"api"`
	// Notify sends alerts (Slack, webhooks, Teams, PagerDuty, e-mail).
	Notify notify.Config `yaml:"notify"`
	// Exports write findings to folders or S3 continuously.
	Exports []ExportConfig `yaml:"exports"`
	// Respond blocks attackers; absent means no responder.
	Respond *respond.Config `yaml:"respond"`
}

// LogConfig configures the process's log.
type LogConfig struct {
	// Format is text (key=value lines) or json (one object per line).
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// HTTPConfig configures the operations endpoint: /metrics, /healthz, /readyz.
type HTTPConfig struct {
	// Listen is the address; empty disables the endpoint.
	Listen string `yaml:"listen"`
}

// StoreConfig chooses and configures the findings store.
type StoreConfig struct {
	// Driver is sqlite (one process, a file) or postgres (cluster mode).
	Driver    string           `yaml:"driver"`
	SQLite    sqlite.Config    `yaml:"sqlite"`
	Postgres  PostgresConfig   `yaml:"postgres"`
	Retention retention.Config `yaml:"retention"`
}

// PostgresConfig is store/postgres.Config with the DSN as a secret (it may
// hold a password).
type PostgresConfig struct {
	// DSN is the connection string (postgres://user:pass@host/db or
	// key=value pairs); libpq's PG* environment variables fill the rest.
	DSN        secret.Value `yaml:"dsn"`
	MaxConns   int32        `yaml:"max_conns"`
	CacheBytes int64        `yaml:"cache_bytes"`
}

// DetectConfig configures detection: the rules, the estate's inventory, the
// threat and trusted lists, and the engine's bounds.
type DetectConfig struct {
	// Rules are folders (or files) of rule files: your rules and overrides of
	// the built-in ones (see vigil rules).
	Rules []string `yaml:"rules"`
	// Inventory are files or folders of AWS CLI describe-* JSON.
	Inventory []string `yaml:"inventory"`
	// ThreatLists and TrustedLists are list files in GuardDuty's formats.
	ThreatLists  []ListConfig `yaml:"threat_lists"`
	TrustedLists []ListConfig `yaml:"trusted_lists"`
	// BuiltinLists adds the built-in threat lists (AWS's tester domains,
	// public mining pools).
	BuiltinLists bool `yaml:"builtin_lists"`
	// Lateness, MaxKeys, Shards, Region, DetectorID and IdleAfter are the
	// engine's (detect.Config).
	Lateness   time.Duration `yaml:"lateness"`
	MaxKeys    int           `yaml:"max_keys"`
	Shards     int           `yaml:"shards"`
	Region     string        `yaml:"region"`
	DetectorID string        `yaml:"detector_id"`
	IdleAfter  time.Duration `yaml:"idle_after"`
	// RaiseAtThreshold raises a finding the moment a detection's threshold
	// is crossed and updates it when the burst is over; false raises it only
	// then, a window of quiet later (detect.Config.RaiseAtThreshold).
	RaiseAtThreshold bool `yaml:"raise_at_threshold"`
}

// ListConfig is one threat or trusted list file.
type ListConfig struct {
	// Path is the list file.
	Path string `yaml:"path"`
	// Name is the list's name in findings (threatListName); default the file
	// name without its extension.
	Name string `yaml:"name"`
	// FindingType, for a threat list, gives every entry that finding type
	// (Backdoor:EC2/C&CActivity.B…).
	FindingType string `yaml:"finding_type"`
}

// SourceConfig is one continuous source: a name (its checkpoints are kept
// under it) and exactly one kind.
type SourceConfig struct {
	Name     string           `yaml:"name"`
	Watch    *watch.Config    `yaml:"watch,omitempty"`
	S3       *s3poll.Config   `yaml:"s3,omitempty"`
	Firehose *firehose.Config `yaml:"firehose,omitempty"`
	Stdin    *stdin.Config    `yaml:"stdin,omitempty"`
}

// Kind names the source's kind, "" when none or several are set.
func (s *SourceConfig) Kind() string {
	var kinds []string
	if s.Watch != nil {
		kinds = append(kinds, "watch")
	}
	if s.S3 != nil {
		kinds = append(kinds, "s3")
	}
	if s.Firehose != nil {
		kinds = append(kinds, "firehose")
	}
	if s.Stdin != nil {
		kinds = append(kinds, "stdin")
	}
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// UnmarshalYAML fills the kind's section with its defaults before decoding
// it, so that a source states only what differs.
func (s *SourceConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain SourceConfig
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				// "stdin:" alone means the defaults.
				n.Content[i+1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column}
			}
			switch n.Content[i].Value {
			case "watch":
				c := watch.DefaultConfig()
				s.Watch = &c
			case "s3":
				c := s3poll.DefaultConfig()
				s.S3 = &c
			case "firehose":
				c := firehose.DefaultConfig()
				s.Firehose = &c
			case "stdin":
				c := stdin.DefaultConfig()
				s.Stdin = &c
			}
		}
	}
	return n.Decode((*plain)(s))
}

// ExportConfig is one continuous export (internal/export), with its
// defaults filled in before decoding.
type ExportConfig struct {
	export.Config `yaml:",inline"`
}

// UnmarshalYAML fills the export's defaults, then decodes it.
func (e *ExportConfig) UnmarshalYAML(n *yaml.Node) error {
	e.Config = export.DefaultConfig()
	return n.Decode(&e.Config)
}

// MarshalYAML writes the export's configuration.
func (e ExportConfig) MarshalYAML() (any, error) { return e.Config, nil }

// DefaultConfig returns the configuration of an empty file: text logs at info,
// the operations endpoint on 127.0.0.1:9470, SQLite in vigil.db, the
// built-in rules and lists, no sources, no API, no notifications, no responder.
func DefaultConfig() Config {
	det := detect.DefaultConfig()
	return Config{
		Log:  LogConfig{Format: "text", Level: "info"},
		HTTP: HTTPConfig{Listen: "127.0.0.1:9470"},
		Store: StoreConfig{Driver: "sqlite", SQLite: sqlite.DefaultConfig(), Postgres: PostgresConfig{CacheBytes: 64 << 20},
			Retention: retention.DefaultConfig()},
		Detect:   DetectConfig{BuiltinLists: true, Lateness: det.Lateness, MaxKeys: det.MaxKeys, IdleAfter: 10 * time.Second, RaiseAtThreshold: true},
		Pipeline: pipeline.DefaultConfig(),
		Suppress: suppress.DefaultConfig(),
		Notify:   notify.DefaultConfig(),
	}
}

// EngineConfig returns the detection engine's configuration.
func (d DetectConfig) EngineConfig() detect.Config {
	c := detect.DefaultConfig()
	c.Lateness, c.MaxKeys, c.Shards, c.Region, c.DetectorID, c.IdleAfter = d.Lateness, d.MaxKeys, d.Shards, d.Region, d.DetectorID, d.IdleAfter
	c.RaiseAtThreshold = d.RaiseAtThreshold
	return c
}

// Validate checks the values; every problem is reported with its key path.
func (c *Config) Validate() error {
	var errs []error
	add := func(path string, err error) {
		if err == nil {
			return
		}
		for _, e := range splitErrors(err) {
			switch {
			case strings.HasPrefix(e, path+".") || strings.HasPrefix(e, path+":"):
				errs = append(errs, errors.New(e))
			case keyPrefix.MatchString(e):
				errs = append(errs, fmt.Errorf("%s.%s", path, e))
			default:
				errs = append(errs, fmt.Errorf("%s: %s", path, e))
			}
		}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", fmt.Errorf("%q is not text or json", c.Log.Format))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", fmt.Errorf("%q is not debug, info, warn or error", c.Log.Level))
	}
	switch c.Store.Driver {
	case "sqlite":
		if c.Store.SQLite.Path == "" {
			add("store.sqlite.path", errors.New("required"))
		}
		if s := strings.ToUpper(c.Store.SQLite.Synchronous); s != "NORMAL" && s != "FULL" {
			add("store.sqlite.synchronous", fmt.Errorf("%q is not NORMAL or FULL", c.Store.SQLite.Synchronous))
		}
	case "postgres":
	default:
		add("store.driver", fmt.Errorf("%q is not sqlite or postgres", c.Store.Driver))
	}
	if c.Store.Retention.MaxAge <= 0 || c.Store.Retention.Every <= 0 {
		add("store.retention", errors.New("max_age and every must be positive"))
	}
	d := c.Detect
	if d.Lateness <= 0 || d.MaxKeys < 0 || d.Shards < 0 || d.IdleAfter <= 0 {
		add("detect", errors.New("lateness and idle_after must be positive, max_keys and shards not negative"))
	}
	for i, l := range d.ThreatLists {
		add(fmt.Sprintf("detect.threat_lists[%d]", i), l.validate(true))
	}
	for i, l := range d.TrustedLists {
		add(fmt.Sprintf("detect.trusted_lists[%d]", i), l.validate(false))
	}
	add("pipeline", c.Pipeline.Validate())
	names := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		path := fmt.Sprintf("sources[%d]", i)
		if s.Name == "" {
			add(path+".name", errors.New("required"))
		} else if names[s.Name] {
			add(path+".name", fmt.Errorf("%q is used by another source", s.Name))
		}
		names[s.Name] = true
		switch s.Kind() {
		case "watch":
			add(path+".watch", s.Watch.Validate())
		case "s3":
			add(path+".s3", s.S3.Validate())
		case "firehose":
			add(path+".firehose", s.Firehose.Validate())
		case "stdin":
			add(path+".stdin", s.Stdin.Validate())
		default:
			add(path, errors.New("give exactly one of watch, s3, firehose or stdin"))
		}
	}
	if c.API != nil {
		add("api", c.API.Validate())
	}
	add("notify", c.Notify.Validate())
	exportNames := map[string]bool{}
	for i := range c.Exports {
		e := &c.Exports[i]
		add(fmt.Sprintf("exports[%d]", i), e.Validate())
		if exportNames[e.Name] {
			add(fmt.Sprintf("exports[%d].name", i), fmt.Errorf("%q is used by another export", e.Name))
		}
		exportNames[e.Name] = true
	}
	if c.Respond != nil {
		add("respond", c.Respond.Validate())
	}
	return errors.Join(errs...)
}

// validate checks a list entry.
func (l ListConfig) validate(threat bool) error {
	var errs []error
	if l.Path == "" {
		errs = append(errs, errors.New("path: required"))
	}
	if l.FindingType != "" {
		if !threat {
			errs = append(errs, errors.New("finding_type: only threat lists give a finding type"))
		} else if _, ok := finding.Lookup(finding.Type(l.FindingType)); !ok {
			errs = append(errs, fmt.Errorf("finding_type: %q is not a finding type vigil knows", l.FindingType))
		}
	}
	return errors.Join(errs...)
}

// keyPrefix matches a message that starts with a key path ("path: required").
var keyPrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\[[0-9]+\])?(\.[a-z_][a-z0-9_]*(\[[0-9]+\])?)*(, [a-z_]+)*: `)

// splitErrors flattens joined errors so that each gets its key path, and
// strips a component's own prefix ("api: ", "notify config: ").
func splitErrors(err error) []string {
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			for _, p := range []string{"api: ", "notify config: ", "respond: ", "export: "} {
				line = strings.TrimPrefix(line, p)
			}
			out = append(out, line)
		}
	}
	return out
}

func apiDefault() api.Config         { return api.DefaultConfig() }
func respondDefault() respond.Config { return respond.DefaultConfig() }
