// Package nftables is the responder target that blocks on the local host: it
// keeps the blocked networks in two nftables sets (IPv4 and IPv6) whose
// elements carry a timeout, so the kernel itself drops an element when its
// decision expires — even if vigil has stopped — and a chain drops traffic
// from them.
//
// It drives the nft command (Debian package nftables): every change is one
// "nft -f -" script, which nftables applies as one transaction, so a change is
// applied whole or not at all. With manage_table (the default) the target owns
// its table: Reconcile creates it, its sets and its chains idempotently
// (rules flushed and re-added, elements kept). Otherwise the sets must exist,
// with "flags interval, timeout".
//
// Interval sets refuse overlapping elements, so the target writes only the
// maximal prefixes of its decisions (a /32 inside a blocked /24 is left out
// while the /24 lasts) and reads the set back before each change, to work from
// what the kernel holds (elements the kernel expired, or that someone else
// added). A timeout is capped at MaxTimeout; a decision that lasts longer is
// re-added by the responder's periodic reconcile.
//
// A Set is used by one goroutine at a time (the responder's loop); nothing is
// retried here: a failed change is returned, and the responder reconciles.
package nftables

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/store"
)

// Config configures the nftables target.
type Config struct {
	// Family and Table name the table ("inet vigil").
	Family string `yaml:"family"`
	Table  string `yaml:"table"`
	// SetV4 and SetV6 name the sets of blocked IPv4 and IPv6 networks.
	SetV4 string `yaml:"set_v4"`
	SetV6 string `yaml:"set_v6"`
	// ManageTable makes the target create the table, the sets and a chain per
	// hook that drops traffic from the sets. With false, the target only
	// changes the elements of existing sets.
	ManageTable bool `yaml:"manage_table"`
	// Hooks are the netfilter hooks to filter: input (traffic to this host),
	// forward (traffic it routes).
	Hooks []string `yaml:"hooks"`
	// Priority is the chains' priority: below 0 runs before the usual filter
	// chains.
	Priority int `yaml:"priority"`
	// Netns runs nft in this network namespace (ip netns exec).
	Netns string `yaml:"netns"`
	// Command is the nft binary.
	Command string `yaml:"command"`
}

// DefaultConfig returns table "inet vigil" with sets blocked_v4 and
// blocked_v6, managed, filtering input and forward at priority -10.
func DefaultConfig() Config {
	return Config{Family: "inet", Table: "vigil", SetV4: "blocked_v4", SetV6: "blocked_v6", ManageTable: true,
		Hooks: []string{"input", "forward"}, Priority: -10, Command: "nft"}
}

var nftName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Validate checks the configuration, filling empty fields with the defaults.
func (c *Config) Validate() error {
	d := DefaultConfig()
	if c.Family == "" {
		c.Family = d.Family
	}
	if c.Table == "" {
		c.Table = d.Table
	}
	if c.SetV4 == "" {
		c.SetV4 = d.SetV4
	}
	if c.SetV6 == "" {
		c.SetV6 = d.SetV6
	}
	if c.Hooks == nil {
		c.Hooks = d.Hooks
	}
	if c.Command == "" {
		c.Command = d.Command
	}
	var errs []error
	switch c.Family {
	case "inet", "ip", "ip6", "bridge", "netdev":
	default:
		errs = append(errs, fmt.Errorf("family: %q: want inet, ip, ip6, bridge or netdev", c.Family))
	}
	for _, f := range []struct{ key, v string }{{"table", c.Table}, {"set_v4", c.SetV4}, {"set_v6", c.SetV6}} {
		if !nftName.MatchString(f.v) {
			errs = append(errs, fmt.Errorf("%s: %q: want a letter then letters, digits or _ (at most 64)", f.key, f.v))
		}
	}
	for i, h := range c.Hooks {
		if h != "input" && h != "forward" && h != "prerouting" {
			errs = append(errs, fmt.Errorf("hooks[%d]: %q: want input, forward or prerouting", i, h))
		}
	}
	if c.Priority < -1000 || c.Priority > 1000 {
		errs = append(errs, fmt.Errorf("priority: %d outside -1000–1000", c.Priority))
	}
	if c.Netns != "" && !regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`).MatchString(c.Netns) {
		errs = append(errs, fmt.Errorf("netns: %q is not a namespace name", c.Netns))
	}
	return errors.Join(errs...)
}

// MaxTimeout caps an element's timeout: older kernels keep timeouts in 32-bit
// milliseconds (about 24.8 days).
const MaxTimeout = 24 * 24 * time.Hour

// Set is the nftables target.
type Set struct {
	cfg Config
	now func() time.Time

	mu      sync.Mutex
	desired map[netip.Prefix]time.Time // prefix → expiry, for every decision held
	setup   bool                       // the table has been created this run
}

// New returns the target. It runs nothing: the first Reconcile creates the
// table.
func New(cfg Config) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Set{cfg: cfg, now: time.Now, desired: map[netip.Prefix]time.Time{}}, nil
}

// Capacity implements the responder's Target: no fixed limit.
func (s *Set) Capacity() int { return 0 }

// Add blocks the decisions' prefixes until their expiry (extending elements
// that are already there).
func (s *Set) Add(ctx context.Context, ds []store.Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		p := cidr.Normal(d.Prefix)
		if d.ExpiresAt.After(s.desired[p]) {
			s.desired[p] = d.ExpiresAt
		}
	}
	return s.sync(ctx)
}

// Remove unblocks the decisions' prefixes.
func (s *Set) Remove(ctx context.Context, ds []store.Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		delete(s.desired, cidr.Normal(d.Prefix))
	}
	return s.sync(ctx)
}

// Reconcile creates the table (when managed) and makes the sets hold exactly
// the maximal prefixes of ds.
func (s *Set) Reconcile(ctx context.Context, ds []store.Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.ManageTable {
		if err := s.run(ctx, s.setupScript()); err != nil {
			return fmt.Errorf("nftables: create table %s %s: %w", s.cfg.Family, s.cfg.Table, err)
		}
		s.setup = true
	}
	clear(s.desired)
	for _, d := range ds {
		p := cidr.Normal(d.Prefix)
		if d.ExpiresAt.After(s.desired[p]) {
			s.desired[p] = d.ExpiresAt
		}
	}
	return s.sync(ctx)
}

// setupScript creates the table, sets and chains; running it again changes
// nothing but the chains' rules, which it rewrites.
func (s *Set) setupScript() string {
	var b strings.Builder
	t := s.cfg.Family + " " + s.cfg.Table
	fmt.Fprintf(&b, "add table %s\n", t)
	fmt.Fprintf(&b, "add set %s %s { type ipv4_addr; flags interval, timeout; }\n", t, s.cfg.SetV4)
	fmt.Fprintf(&b, "add set %s %s { type ipv6_addr; flags interval, timeout; }\n", t, s.cfg.SetV6)
	for _, h := range s.cfg.Hooks {
		chain := "vigil_" + h
		fmt.Fprintf(&b, "add chain %s %s { type filter hook %s priority %d; policy accept; }\n", t, chain, h, s.cfg.Priority)
		fmt.Fprintf(&b, "flush chain %s %s\n", t, chain)
		if s.cfg.Family == "inet" || s.cfg.Family == "ip" || s.cfg.Family == "bridge" || s.cfg.Family == "netdev" {
			fmt.Fprintf(&b, "add rule %s %s ip saddr @%s counter drop\n", t, chain, s.cfg.SetV4)
		}
		if s.cfg.Family == "inet" || s.cfg.Family == "ip6" || s.cfg.Family == "bridge" || s.cfg.Family == "netdev" {
			fmt.Fprintf(&b, "add rule %s %s ip6 saddr @%s counter drop\n", t, chain, s.cfg.SetV6)
		}
	}
	return b.String()
}

// element is one set element as the kernel holds it.
type element struct {
	text    string // as nft writes it: "45.1.2.3", "45.1.2.0/24", "45.1.2.1-45.1.2.9"
	prefix  netip.Prefix
	expires time.Duration // remaining
}

// sync makes the sets hold the maximal desired prefixes, each expiring when its
// decision does. It reads the sets first; if an element expires between the
// read and the change (the change then fails on deleting it), it tries again.
// s.mu is held.
func (s *Set) sync(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var script string
		script, err = s.plan(ctx)
		if err != nil || script == "" {
			return err
		}
		if err = s.run(ctx, script); err == nil {
			return nil
		}
	}
	return err
}

// plan returns the script that moves the sets from what they hold to what is
// desired ("" when nothing is to change).
func (s *Set) plan(ctx context.Context) (string, error) {
	now := s.now()
	var want []netip.Prefix
	for p, exp := range s.desired {
		if exp.After(now) {
			want = append(want, p)
		}
	}
	want = cidr.Maximal(want)
	var b strings.Builder
	t := s.cfg.Family + " " + s.cfg.Table
	for _, fam := range []struct {
		set string
		v4  bool
	}{{s.cfg.SetV4, true}, {s.cfg.SetV6, false}} {
		have, err := s.list(ctx, fam.set)
		if err != nil {
			return "", err
		}
		held := map[netip.Prefix]element{}
		var del []string
		for _, e := range have {
			if e.prefix.IsValid() {
				held[e.prefix] = e
				if _, ok := s.desired[e.prefix]; ok && slices.Contains(want, e.prefix) {
					continue
				}
			}
			del = append(del, e.text)
		}
		var add []string
		for _, p := range want {
			if p.Addr().Is4() != fam.v4 {
				continue
			}
			// The kernel expires the element when the decision expires (nft
			// takes milliseconds).
			timeout := min(max(s.desired[p].Sub(now), time.Second), MaxTimeout)
			if e, ok := held[p]; ok {
				// Held: re-add only if the kernel would expire it more than a
				// second early (a repeat extended the decision).
				if e.expires+time.Second >= min(s.desired[p].Sub(now), MaxTimeout) {
					continue
				}
				del = append(del, e.text)
			}
			add = append(add, fmt.Sprintf("%s timeout %dms", p, timeout.Milliseconds()))
		}
		if len(del) > 0 {
			fmt.Fprintf(&b, "delete element %s %s { %s }\n", t, fam.set, strings.Join(del, ", "))
		}
		if len(add) > 0 {
			fmt.Fprintf(&b, "add element %s %s { %s }\n", t, fam.set, strings.Join(add, ", "))
		}
	}
	return b.String(), nil
}

// list reads a set's elements (nft -j list set).
func (s *Set) list(ctx context.Context, set string) ([]element, error) {
	out, err := s.output(ctx, "-j", "list", "set", s.cfg.Family, s.cfg.Table, set)
	if err != nil {
		return nil, fmt.Errorf("nftables: list set %s %s %s: %w", s.cfg.Family, s.cfg.Table, set, err)
	}
	return parseSet(out)
}

// parseSet reads the elements from nft's JSON output.
func parseSet(out []byte) ([]element, error) {
	var doc struct {
		Nftables []struct {
			Set *struct {
				Elem []json.RawMessage `json:"elem"`
			} `json:"set"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("nftables: read nft -j output: %w", err)
	}
	var els []element
	for _, item := range doc.Nftables {
		if item.Set == nil {
			continue
		}
		for _, raw := range item.Set.Elem {
			e, err := parseElem(raw)
			if err != nil {
				return nil, err
			}
			els = append(els, e)
		}
	}
	return els, nil
}

// parseElem reads one element: "1.2.3.4", {"prefix":…}, {"range":[…]}, or any
// of those wrapped in {"elem":{"val":…,"timeout":…,"expires":…}}.
func parseElem(raw json.RawMessage) (element, error) {
	var wrapped struct {
		Elem *struct {
			Val     json.RawMessage `json:"val"`
			Expires float64         `json:"expires"`
		} `json:"elem"`
	}
	var e element
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Elem != nil {
		raw = wrapped.Elem.Val
		e.expires = time.Duration(wrapped.Elem.Expires * float64(time.Second))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		e.text = s
		if a, err := netip.ParseAddr(s); err == nil {
			e.prefix = cidr.Host(a)
		}
		return e, nil
	}
	var v struct {
		Prefix *struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		} `json:"prefix"`
		Range []string `json:"range"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return e, fmt.Errorf("nftables: unexpected set element %s", raw)
	}
	switch {
	case v.Prefix != nil:
		a, err := netip.ParseAddr(v.Prefix.Addr)
		if err != nil {
			return e, fmt.Errorf("nftables: set element %s: %w", raw, err)
		}
		e.prefix = cidr.Normal(netip.PrefixFrom(a, v.Prefix.Len))
		e.text = e.prefix.String()
	case len(v.Range) == 2:
		e.text = v.Range[0] + "-" + v.Range[1]
	default:
		return e, fmt.Errorf("nftables: unexpected set element %s", raw)
	}
	return e, nil
}

// Elements returns the prefixes the sets hold, for tests and the CLI.
func (s *Set) Elements(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, set := range []string{s.cfg.SetV4, s.cfg.SetV6} {
		els, err := s.list(ctx, set)
		if err != nil {
			return nil, err
		}
		for _, e := range els {
			if e.prefix.IsValid() {
				out = append(out, e.prefix)
			}
		}
	}
	slices.SortFunc(out, cidr.Compare)
	return out, nil
}

// command returns the nft command line with args (in the namespace, if set).
func (s *Set) command(ctx context.Context, args ...string) *exec.Cmd {
	if s.cfg.Netns != "" {
		return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.cfg.Netns, s.cfg.Command}, args...)...)
	}
	return exec.CommandContext(ctx, s.cfg.Command, args...)
}

// run applies a script as one transaction.
func (s *Set) run(ctx context.Context, script string) error {
	cmd := s.command(ctx, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft -f: %w: %s", err, firstLine(stderr.String()))
	}
	return nil
}

func (s *Set) output(ctx context.Context, args ...string) ([]byte, error) {
	cmd := s.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, firstLine(stderr.String()))
	}
	return out, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
