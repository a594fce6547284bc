package respond

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/respond/blocklist"
	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/respond/nacl"
	"github.com/vigil-dev/vigil/internal/respond/nftables"
	"github.com/vigil-dev/vigil/internal/respond/waf"
)

// Config is the respond section of vigil's configuration.
type Config struct {
	// DryRun makes every rule only report (log, audit "dry-run", count) what it
	// would block; no decision is stored and no target is touched.
	DryRun bool `yaml:"dry_run"`
	// DefaultTTL is how long a block lasts when its rule names no ttl.
	DefaultTTL time.Duration `yaml:"default_ttl"`
	// MaxTTL caps every block's duration, whatever a rule or a user asks.
	MaxTTL time.Duration `yaml:"max_ttl"`
	// Allow lists addresses and CIDRs that are never blocked (your office, your
	// partners, your monitoring), on top of trusted lists, private and reserved
	// ranges and the estate's own public addresses, which are never blocked
	// either.
	Allow []string `yaml:"allow"`
	// WidestV4 and WidestV6 are the widest prefixes a decision may block
	// (a manual "vigil decisions add 45.0.0.0/8" is refused with the default /16).
	WidestV4 int `yaml:"widest_prefix_v4"`
	WidestV6 int `yaml:"widest_prefix_v6"`
	// MaxAddressesPerFinding bounds the remote addresses taken from one finding
	// (a port probe can list many); the rest are counted as skipped.
	MaxAddressesPerFinding int `yaml:"max_addresses_per_finding"`
	// Rules decide what to block. Every rule is evaluated; an address matched by
	// several is blocked on the union of their targets, for the longest TTL.
	Rules []Rule `yaml:"rules"`
	// Targets enforce the decisions.
	Targets []TargetConfig `yaml:"targets"`
	// BatchWindow is how long changes are collected before they are applied,
	// so that a burst becomes one call per target (AWS WAF allows about one
	// update per second).
	BatchWindow time.Duration `yaml:"batch_window"`
	// ExpiryInterval is how often expired decisions are removed.
	ExpiryInterval time.Duration `yaml:"expiry_interval"`
	// ReconcileInterval is how often every target is made to hold exactly the
	// stored decisions (picking up decisions added with the CLI, and repairing
	// drift); a target that failed is retried sooner, with backoff.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// AuditRetention is how long audit entries are kept.
	AuditRetention time.Duration `yaml:"audit_retention"`
}

// Rule is one blocking rule.
type Rule struct {
	// Name identifies the rule in decisions ("rule:<name>") and logs.
	Name string `yaml:"name"`
	// When is the condition over the finding and one of its remote addresses
	// (see the grammar in when.go); empty means always.
	When string `yaml:"when"`
	// Types are finding type patterns ("Recon:EC2/*"); empty means all types.
	Types []string `yaml:"types"`
	// ExcludeTypes are finding type patterns the rule never acts on.
	ExcludeTypes []string `yaml:"exclude_types"`
	// MinSeverity is the lowest severity acted on: a number (7.5) or a band
	// (LOW, MEDIUM, HIGH, CRITICAL); empty means any.
	MinSeverity Severity `yaml:"min_severity"`
	// TTL is how long the block lasts; 0 means DefaultTTL.
	TTL time.Duration `yaml:"ttl"`
	// Targets are the names of the targets to block on; empty means all.
	Targets []string `yaml:"targets"`
}

// Severity is a severity threshold written as a number or a band name.
type Severity float64

// UnmarshalYAML reads 7, 7.5, HIGH, high.
func (s *Severity) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: min_severity: expected a number or LOW, MEDIUM, HIGH, CRITICAL", n.Line)
	}
	switch strings.ToUpper(n.Value) {
	case "LOW":
		*s = 1
	case "MEDIUM":
		*s = 4
	case "HIGH":
		*s = 7
	case "CRITICAL":
		*s = 9
	default:
		var f float64
		if err := n.Decode(&f); err != nil {
			return fmt.Errorf("line %d: min_severity: %q is not a number or LOW, MEDIUM, HIGH, CRITICAL", n.Line, n.Value)
		}
		*s = Severity(f)
	}
	return nil
}

// The target types.
const (
	TypeBlocklist = "blocklist"
	TypeNFTables  = "nftables"
	TypeNACL      = "nacl"
	TypeWAF       = "waf"
)

// TargetConfig is one target: a name, a type, and the section of that type.
type TargetConfig struct {
	// Name is how rules and decisions refer to the target.
	Name string `yaml:"name"`
	// Type is blocklist, nftables, nacl or waf.
	Type string `yaml:"type"`
	// DryRun makes this target only report.
	DryRun bool `yaml:"dry_run"`

	Blocklist *blocklist.Config `yaml:"blocklist"`
	NFTables  *nftables.Config  `yaml:"nftables"`
	NACL      *nacl.Config      `yaml:"nacl"`
	WAF       *waf.Config       `yaml:"waf"`
}

// DefaultConfig returns the defaults: blocks last 4 hours (CrowdSec's default
// ban) and at most 7 days; no rules and no targets, so nothing is blocked until
// the user says what and where.
func DefaultConfig() Config {
	return Config{
		DefaultTTL:             4 * time.Hour,
		MaxTTL:                 7 * 24 * time.Hour,
		WidestV4:               16,
		WidestV6:               32,
		MaxAddressesPerFinding: 100,
		BatchWindow:            500 * time.Millisecond,
		ExpiryInterval:         time.Second,
		ReconcileInterval:      time.Minute,
		AuditRetention:         90 * 24 * time.Hour,
	}
}

// ParseConfig decodes a respond section from YAML over the defaults, strictly:
// an unknown key is an error naming its line. It then validates the result.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, errEOF) {
		return Config{}, fmt.Errorf("respond config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// errEOF is what yaml.v3 returns for an empty document.
var errEOF = func() error {
	err := yaml.NewDecoder(bytes.NewReader(nil)).Decode(new(struct{}))
	return err
}()

// Validate checks the configuration and returns every problem, each naming its
// key path (respond.rules[0].when: …).
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("respond.%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.DefaultTTL <= 0 {
		bad("default_ttl", "must be positive, got %s", c.DefaultTTL)
	}
	if c.MaxTTL < c.DefaultTTL {
		bad("max_ttl", "%s is shorter than default_ttl %s", c.MaxTTL, c.DefaultTTL)
	}
	if c.WidestV4 < 1 || c.WidestV4 > 32 {
		bad("widest_prefix_v4", "must be 1–32, got %d", c.WidestV4)
	}
	if c.WidestV6 < 1 || c.WidestV6 > 128 {
		bad("widest_prefix_v6", "must be 1–128, got %d", c.WidestV6)
	}
	if c.MaxAddressesPerFinding < 1 {
		bad("max_addresses_per_finding", "must be at least 1, got %d", c.MaxAddressesPerFinding)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"batch_window", c.BatchWindow}, {"expiry_interval", c.ExpiryInterval}, {"reconcile_interval", c.ReconcileInterval}, {"audit_retention", c.AuditRetention}} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %s", d.v)
		}
	}
	for i, a := range c.Allow {
		if _, err := cidr.Parse(a); err != nil {
			bad(fmt.Sprintf("allow[%d]", i), "%v", err)
		}
	}
	names := map[string]bool{}
	for i, t := range c.Targets {
		path := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.Name == "":
			bad(path+".name", "missing")
		case !validName(t.Name):
			bad(path+".name", "%q: use letters, digits, '-', '_' and '.' (at most 64)", t.Name)
		case names[t.Name]:
			bad(path+".name", "%q is used by two targets", t.Name)
		}
		names[t.Name] = true
		sections := 0
		for _, set := range []bool{t.Blocklist != nil, t.NFTables != nil, t.NACL != nil, t.WAF != nil} {
			if set {
				sections++
			}
		}
		var err error
		switch t.Type {
		case TypeBlocklist:
			if t.Blocklist == nil {
				t.Blocklist = &blocklist.Config{}
				c.Targets[i].Blocklist = t.Blocklist
				sections++
			}
			err = t.Blocklist.Validate()
		case TypeNFTables:
			if t.NFTables == nil {
				d := nftables.DefaultConfig()
				t.NFTables = &d
				c.Targets[i].NFTables = t.NFTables
				sections++
			}
			err = t.NFTables.Validate()
		case TypeNACL:
			if t.NACL == nil {
				bad(path+".nacl", "missing (network_acl_ids are needed)")
				continue
			}
			err = t.NACL.Validate()
		case TypeWAF:
			if t.WAF == nil {
				bad(path+".waf", "missing (the IP set is needed)")
				continue
			}
			err = t.WAF.Validate()
		default:
			bad(path+".type", "%q: want blocklist, nftables, nacl or waf", t.Type)
			continue
		}
		if sections != 1 {
			bad(path, "has sections for other types than %s", t.Type)
		}
		// A section's errors each start with its key ("rule_max: …").
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("respond.%s.%s.%w", path, t.Type, e))
		}
	}
	rules := map[string]bool{}
	for i, r := range c.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Name == "":
			bad(path+".name", "missing")
		case !validName(r.Name):
			bad(path+".name", "%q: use letters, digits, '-', '_' and '.' (at most 64)", r.Name)
		case rules[r.Name]:
			bad(path+".name", "%q is used by two rules", r.Name)
		}
		rules[r.Name] = true
		if _, err := parseWhen(r.When); err != nil {
			bad(path+".when", "%v", err)
		}
		for j, p := range r.Types {
			if p == "" {
				bad(fmt.Sprintf("%s.types[%d]", path, j), "empty pattern")
			}
		}
		for j, p := range r.ExcludeTypes {
			if p == "" {
				bad(fmt.Sprintf("%s.exclude_types[%d]", path, j), "empty pattern")
			}
		}
		if r.MinSeverity < 0 || r.MinSeverity > 10 {
			bad(path+".min_severity", "must be 0–10, got %g", float64(r.MinSeverity))
		}
		if r.TTL < 0 {
			bad(path+".ttl", "must not be negative, got %s", r.TTL)
		} else if r.TTL > c.MaxTTL {
			bad(path+".ttl", "%s is longer than max_ttl %s", r.TTL, c.MaxTTL)
		}
		for j, name := range r.Targets {
			if !names[name] {
				bad(fmt.Sprintf("%s.targets[%d]", path, j), "no target named %q", name)
			}
		}
	}
	if len(c.Rules) > 0 && len(c.Targets) == 0 {
		bad("targets", "rules are configured but no target")
	}
	return errors.Join(errs...)
}

// unjoin returns the errors joined in err (nil for nil).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// allowList parses Allow (validated already).
func (c *Config) allowList() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range c.Allow {
		if p, err := cidr.Parse(a); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// compiledRule is a Rule ready to evaluate.
type compiledRule struct {
	Rule
	when    when
	origin  string
	targets []string // resolved: never empty
}

// matchesFinding applies the finding-level filters: types, exclusions,
// severity.
func (r *compiledRule) matchesFinding(f *finding.Finding) bool {
	if float64(f.Severity) < float64(r.MinSeverity) {
		return false
	}
	t := string(f.Type)
	if len(r.Types) > 0 {
		ok := false
		for _, p := range r.Types {
			if globFold(p, t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, p := range r.ExcludeTypes {
		if globFold(p, t) {
			return false
		}
	}
	return true
}
