package respond

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/respond/blocklist"
	"github.com/vigil-dev/vigil/internal/respond/cidr"
	"github.com/vigil-dev/vigil/internal/respond/nacl"
	"github.com/vigil-dev/vigil/internal/respond/nftables"
	"github.com/vigil-dev/vigil/internal/respond/waf"
	"github.com/vigil-dev/vigil/internal/store"
)

// Target enforces decisions. Implementations: *blocklist.List,
// *nftables.Set, *nacl.ACL, *waf.Sets.
//
// The responder calls a target from one goroutine, one call at a time, with
// slices it does not touch afterwards (the target may keep the decisions).
// Every call is idempotent: adding a decision the target holds updates its
// expiry where the target keeps one, removing one it does not hold succeeds.
// A target does not retry; a failed call returns an error and the responder
// reconciles later. Cancelling ctx abandons the call (a target may then hold
// part of the change, which the next reconcile repairs).
type Target interface {
	// Add blocks the decisions' prefixes (until their ExpiresAt where the
	// target can expire entries itself).
	Add(ctx context.Context, ds []store.Decision) error
	// Remove unblocks the decisions' prefixes.
	Remove(ctx context.Context, ds []store.Decision) error
	// Reconcile makes the target block exactly the prefixes of ds (every
	// active decision of the target), undoing what it holds beyond them.
	Reconcile(ctx context.Context, ds []store.Decision) error
	// Capacity is the most decisions the target can hold; 0 means no limit.
	Capacity() int
}

var (
	_ Target = (*blocklist.List)(nil)
	_ Target = (*nftables.Set)(nil)
	_ Target = (*nacl.ACL)(nil)
	_ Target = (*waf.Sets)(nil)
)

// TrustedList says whether an address is on a trusted list. *intel.Set
// implements it; CurrentSet adapts an intel.Loader.
type TrustedList interface {
	Trusted(addr netip.Addr) (intel.Entry, bool)
}

// CurrentSet is a TrustedList that asks the set in effect at each lookup:
// CurrentSet(loader.Current).
type CurrentSet func() *intel.Set

// Trusted implements TrustedList.
func (f CurrentSet) Trusted(addr netip.Addr) (intel.Entry, bool) { return f().Trusted(addr) }

// Lists returns the lists of the set in effect (for prefix checks).
func (f CurrentSet) Lists() []*intel.List { return f().Lists() }

// Estate says which public addresses are the estate's own.
type Estate interface {
	// IsOwnPublicIP reports whether addr is one of the estate's public
	// addresses.
	IsOwnPublicIP(addr netip.Addr) bool
	// OwnPublicIPIn returns an own public address inside p, if any.
	OwnPublicIPIn(p netip.Prefix) (netip.Addr, bool)
}

// EstateOf returns the Estate of an inventory: its instances' and network
// interfaces' public addresses, Elastic IPs and NAT gateways' addresses.
func EstateOf(inv *inventory.Inventory) Estate {
	e := &ownAddrs{inv: inv}
	if inv == nil {
		return e
	}
	add := func(as ...netip.Addr) {
		for _, a := range as {
			if a.IsValid() {
				e.addrs = append(e.addrs, a.Unmap())
			}
		}
	}
	for _, in := range inv.Instances() {
		add(in.PublicIPs()...)
	}
	for _, n := range inv.Interfaces() {
		add(n.PublicIPs()...)
	}
	for _, n := range inv.NATGateways() {
		add(n.PublicIPs()...)
	}
	for _, a := range inv.Addresses() {
		add(a.PublicIP)
	}
	slices.SortFunc(e.addrs, netip.Addr.Compare)
	e.addrs = slices.Compact(e.addrs)
	return e
}

type ownAddrs struct {
	inv   *inventory.Inventory
	addrs []netip.Addr // sorted
}

func (e *ownAddrs) IsOwnPublicIP(a netip.Addr) bool {
	if e.inv.IsOwnPublicIP(a) {
		return true
	}
	_, ok := slices.BinarySearchFunc(e.addrs, a.Unmap(), netip.Addr.Compare)
	return ok
}

func (e *ownAddrs) OwnPublicIPIn(p netip.Prefix) (netip.Addr, bool) {
	p = cidr.Normal(p)
	first, _ := cidr.Range(p)
	i, _ := slices.BinarySearchFunc(e.addrs, first, netip.Addr.Compare)
	if i < len(e.addrs) && p.Contains(e.addrs[i]) {
		return e.addrs[i], true
	}
	return netip.Addr{}, false
}

// Deps are the responder's dependencies.
type Deps struct {
	// Store keeps the decisions and the audit trail. Required.
	Store store.Decisions
	// Trusted lists addresses never to block; nil means none.
	Trusted TrustedList
	// Estate knows the estate's own public addresses; nil means none are
	// known (New logs a warning when rules are configured).
	Estate Estate
	// Logger receives decisions and failures; nil means slog.Default().
	Logger *slog.Logger
	// Targets replaces the target built from the configuration, by name: a
	// target given here keeps its configured name, type and dry_run, and its
	// section is not used to build one (tests; a caller's own AWS clients).
	Targets map[string]Target
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
}

// The reasons a matched address is not blocked (Stats.Skipped keys).
const (
	SkipArchived    = "archived"      // the finding is archived (suppressed)
	SkipSample      = "sample"        // a sample finding
	SkipTooMany     = "too_many"      // beyond max_addresses_per_finding
	SkipReserved    = "reserved"      // private or special-purpose range
	SkipOwn         = "own"           // the estate's own public address
	SkipTrusted     = "trusted"       // on a trusted list
	SkipAllowed     = "allowed"       // on the allow list
	SkipTooWide     = "too_wide"      // wider than widest_prefix_v4/v6
	SkipStoreFailed = "store_failure" // the store refused the write
)

var skipReasons = [...]string{SkipArchived, SkipSample, SkipTooMany, SkipReserved, SkipOwn, SkipTrusted, SkipAllowed, SkipTooWide, SkipStoreFailed}

// Stats are the responder's running totals.
type Stats struct {
	// Considered counts findings given to Consider; Matched the (rule,
	// address) pairs whose rule matched.
	Considered, Matched int64
	// Decided counts new decisions stored, Extended repeats that extended
	// one, DryRun decisions only reported.
	Decided, Extended, DryRun int64
	// Expired, Evicted and Removed count decisions that ended by time, by a
	// full target, and by a user.
	Expired, Evicted, Removed int64
	// StoreErrors counts failed store calls.
	StoreErrors int64
	// Skipped counts addresses not blocked, by reason (the Skip… constants).
	Skipped map[string]int64
	// Targets has one entry per target.
	Targets map[string]TargetStats
}

// TargetStats are one target's totals.
type TargetStats struct {
	Type   string
	DryRun bool
	// Added and Removed count decisions applied; Errors failed calls;
	// Reconciles successful reconciles.
	Added, Removed, Errors, Reconciles int64
	// Pending is the number of changes waiting for the next batch.
	Pending int
}

// target is a configured target and its pending changes.
type target struct {
	name, typ string
	dryRun    bool
	t         Target
	capacity  int

	// Guarded by Responder.mu.
	adds, removes map[netip.Prefix]store.Decision

	// Owned by Run.
	nextReconcile time.Time
	backoff       time.Duration

	added, removed, errors, reconciles atomic.Int64
}

// Responder makes and enforces decisions.
type Responder struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	now     func() time.Time
	rules   []*compiledRule
	allow   []netip.Prefix
	targets []*target
	byName  map[string]*target
	lists   map[string]*blocklist.List

	mu   sync.Mutex
	wake chan struct{}

	considered, matched, decided, extended, dryRun atomic.Int64
	expired, evicted, removed, storeErrors         atomic.Int64
	skipped                                        [len(skipReasons)]atomic.Int64
	running                                        atomic.Bool
}

// New builds the responder and its targets from cfg. It validates, compiles
// the rules and loads the AWS configuration of AWS targets (no network call);
// it starts nothing.
func New(cfg Config, deps Deps) (*Responder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("respond: no store")
	}
	r := &Responder{cfg: cfg, deps: deps, log: deps.Logger, now: deps.Now, byName: map[string]*target{},
		lists: map[string]*blocklist.List{}, wake: make(chan struct{}, 1), allow: cfg.allowList()}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.now == nil {
		r.now = time.Now
	}
	var names []string
	for _, tc := range cfg.Targets {
		t, err := r.buildTarget(tc)
		if err != nil {
			return nil, fmt.Errorf("respond: target %s: %w", tc.Name, err)
		}
		tg := &target{name: tc.Name, typ: tc.Type, dryRun: tc.DryRun || cfg.DryRun, t: t, capacity: t.Capacity(),
			adds: map[netip.Prefix]store.Decision{}, removes: map[netip.Prefix]store.Decision{}}
		r.targets = append(r.targets, tg)
		r.byName[tc.Name] = tg
		names = append(names, tc.Name)
	}
	for name := range deps.Targets {
		if r.byName[name] == nil {
			return nil, fmt.Errorf("respond: Deps.Targets has %q, which the configuration does not name", name)
		}
	}
	for _, rc := range cfg.Rules {
		w, err := parseWhen(rc.When)
		if err != nil { // Validate caught it; keep the compiler honest
			return nil, fmt.Errorf("respond: rule %s: when: %w", rc.Name, err)
		}
		cr := &compiledRule{Rule: rc, when: w, origin: "rule:" + rc.Name, targets: rc.Targets}
		if len(cr.targets) == 0 {
			cr.targets = names
		}
		r.rules = append(r.rules, cr)
	}
	if len(r.rules) > 0 && deps.Estate == nil {
		r.log.Warn("respond: no inventory: the estate's own public addresses are not known, so only the allow list protects them")
	}
	return r, nil
}

func (r *Responder) buildTarget(tc TargetConfig) (Target, error) {
	if t, ok := r.deps.Targets[tc.Name]; ok {
		return t, nil
	}
	switch tc.Type {
	case TypeBlocklist:
		l := blocklist.New(tc.Name, *tc.Blocklist)
		r.lists[tc.Name] = l
		return l, nil
	case TypeNFTables:
		return nftables.New(*tc.NFTables)
	case TypeNACL:
		client, err := nacl.NewClient(context.Background(), *tc.NACL)
		if err != nil {
			return nil, err
		}
		return nacl.New(*tc.NACL, client)
	case TypeWAF:
		client, err := waf.NewClient(context.Background(), *tc.WAF)
		if err != nil {
			return nil, err
		}
		return waf.New(*tc.WAF, client)
	}
	return nil, fmt.Errorf("type %q", tc.Type)
}

// skip counts a refusal.
func (r *Responder) skip(reason string, n int64) {
	if i := slices.Index(skipReasons[:], reason); i >= 0 {
		r.skipped[i].Add(n)
	}
}

// remote is one remote address of a finding with the details it came with.
type remote struct {
	addr      netip.Addr
	details   *finding.RemoteIPDetails
	localPort int
}

// remotes returns the finding's remote addresses, each once, at most max;
// dropped says how many more there were.
func remotes(f *finding.Finding, max int) (out []remote, dropped int) {
	seen := map[netip.Addr]bool{}
	add := func(d *finding.RemoteIPDetails, port int) {
		if d == nil {
			return
		}
		for _, s := range []string{d.IPAddressV4, d.IPAddressV6} {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				continue
			}
			a = a.Unmap()
			if seen[a] {
				continue
			}
			seen[a] = true
			if len(out) >= max {
				dropped++
				continue
			}
			out = append(out, remote{a, d, port})
		}
	}
	act := &f.Service.Action
	if n := act.NetworkConnectionAction; n != nil {
		port := 0
		if n.LocalPortDetails != nil {
			port = n.LocalPortDetails.Port
		}
		add(n.RemoteIPDetails, port)
	}
	if p := act.PortProbeAction; p != nil {
		for i := range p.PortProbeDetails {
			d := &p.PortProbeDetails[i]
			port := 0
			if d.LocalPortDetails != nil {
				port = d.LocalPortDetails.Port
			}
			add(d.RemoteIPDetails, port)
		}
	}
	if a := act.AWSAPICallAction; a != nil {
		add(a.RemoteIPDetails, 0)
	}
	return out, dropped
}

func isSample(f *finding.Finding) bool {
	v, ok := f.Service.AdditionalInfo["sample"]
	return ok && (v == true || v == "true")
}

// Refusal says why a prefix is never blocked.
type Refusal struct {
	// Reason is a Skip… constant.
	Reason string
	// Detail explains, naming the range, list entry or resource.
	Detail string
}

func (e *Refusal) Error() string { return "not blocked: " + e.Detail }

// Check returns why p must never be blocked, or nil.
func (r *Responder) Check(p netip.Prefix) *Refusal {
	p = cidr.Normal(p)
	if !p.IsValid() {
		return &Refusal{SkipReserved, "not a valid prefix"}
	}
	if p.Addr().Is4() && p.Bits() < r.cfg.WidestV4 || p.Addr().Is6() && p.Bits() < r.cfg.WidestV6 {
		return &Refusal{SkipTooWide, fmt.Sprintf("%s is wider than /%d (widest_prefix_v4) or /%d (widest_prefix_v6)", p, r.cfg.WidestV4, r.cfg.WidestV6)}
	}
	if s, ok := cidr.Reserved(p); ok {
		return &Refusal{SkipReserved, fmt.Sprintf("%s is in %s, %s", p, s.Prefix, s.Name)}
	}
	for _, a := range r.allow {
		if cidr.Overlap(a, p) {
			return &Refusal{SkipAllowed, fmt.Sprintf("%s overlaps %s on the allow list", p, a)}
		}
	}
	if e := r.deps.Estate; e != nil {
		if p.IsSingleIP() && e.IsOwnPublicIP(p.Addr()) {
			return &Refusal{SkipOwn, fmt.Sprintf("%s is a public address of the estate", p.Addr())}
		}
		if a, ok := e.OwnPublicIPIn(p); ok {
			return &Refusal{SkipOwn, fmt.Sprintf("%s holds %s, a public address of the estate", p, a)}
		}
	}
	if t := r.deps.Trusted; t != nil {
		if e, ok := trustedIn(t, p); ok {
			return &Refusal{SkipTrusted, fmt.Sprintf("%s is on trusted list %s (%s)", p, e.List, e.Where())}
		}
	}
	return nil
}

// trustedIn finds a trusted entry overlapping p: by lookup for one address,
// through the lists when the TrustedList exposes them, else at p's ends.
func trustedIn(t TrustedList, p netip.Prefix) (intel.Entry, bool) {
	first, last := cidr.Range(p)
	if e, ok := t.Trusted(first); ok {
		return e, true
	}
	if p.IsSingleIP() {
		return intel.Entry{}, false
	}
	if e, ok := t.Trusted(last); ok {
		return e, true
	}
	if ls, ok := t.(interface{ Lists() []*intel.List }); ok {
		for _, l := range ls.Lists() {
			if l.Kind != intel.Trusted {
				continue
			}
			for _, e := range l.Entries {
				if e.IsIP() && cidr.Overlap(e.Prefix, p) {
					return e, true
				}
			}
		}
	}
	return intel.Entry{}, false
}

// pick is the decision a rule makes for one address and target.
type pick struct {
	rule *compiledRule
	ttl  time.Duration
	r    remote
}

// Consider evaluates a new or updated finding and stores the decisions it
// makes (in dry-run, only reports them). It returns the decisions as stored
// (or, in dry-run, as they would be). The targets apply them in Run's next
// batch. An error means the store failed: the decisions of this call are lost
// (a repeat of the finding makes them again).
func (r *Responder) Consider(ctx context.Context, f *finding.Finding) ([]store.Decision, error) {
	r.considered.Add(1)
	if len(r.rules) == 0 {
		return nil, nil
	}
	if f.Service.Archived {
		r.skip(SkipArchived, 1)
		return nil, nil
	}
	if isSample(f) {
		r.skip(SkipSample, 1)
		return nil, nil
	}
	rs, dropped := remotes(f, r.cfg.MaxAddressesPerFinding)
	if dropped > 0 {
		r.skip(SkipTooMany, int64(dropped))
	}
	if len(rs) == 0 {
		return nil, nil
	}
	picks := map[netip.Addr]map[string]pick{}
	var order []netip.Addr
	for _, rule := range r.rules {
		if !rule.matchesFinding(f) {
			continue
		}
		ttl := cmp.Or(rule.TTL, r.cfg.DefaultTTL)
		ttl = min(ttl, r.cfg.MaxTTL)
		for _, rm := range rs {
			c := candidate{f: f, remote: rm.addr, details: rm.details, localPort: rm.localPort}
			if !rule.when(&c) {
				continue
			}
			r.matched.Add(1)
			byTarget := picks[rm.addr]
			if byTarget == nil {
				byTarget = map[string]pick{}
				picks[rm.addr] = byTarget
				order = append(order, rm.addr)
			}
			for _, name := range rule.targets {
				if old, ok := byTarget[name]; !ok || ttl > old.ttl {
					byTarget[name] = pick{rule, ttl, rm}
				}
			}
		}
	}
	now := r.now()
	var live, dry []store.Decision
	var refusals []store.DecisionAudit
	for _, a := range order {
		p := cidr.Host(a)
		if ref := r.Check(p); ref != nil {
			r.skip(ref.Reason, 1)
			r.log.Info("respond: not blocking", "address", a.String(), "finding", f.ID, "type", string(f.Type), "reason", ref.Reason, "detail", ref.Detail)
			refusals = append(refusals, store.DecisionAudit{At: now, Action: store.DecisionSkip, Prefix: p, Origin: "respond",
				Reason: ref.Detail, FindingID: f.ID, FindingType: f.Type, Severity: f.Severity})
			continue
		}
		names := make([]string, 0, len(picks[a]))
		for name := range picks[a] {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			pk := picks[a][name]
			d := store.Decision{Target: name, Prefix: p, Origin: pk.rule.origin,
				Reason:    fmt.Sprintf("%s (severity %.1f) from %s matched rule %s", f.Type, float64(f.Severity), a, pk.rule.Name),
				FindingID: f.ID, FindingType: f.Type, Severity: f.Severity, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(pk.ttl), Hits: 1}
			if r.byName[name].dryRun {
				dry = append(dry, d)
			} else {
				live = append(live, d)
			}
		}
	}
	var errs []error
	if len(refusals) > 0 || len(dry) > 0 {
		entries := refusals
		for _, d := range dry {
			r.dryRun.Add(1)
			r.log.Info("respond: dry run: would block", "target", d.Target, "prefix", d.Prefix.String(), "until", d.ExpiresAt.UTC().Format(time.RFC3339),
				"finding", d.FindingID, "reason", d.Reason)
			entries = append(entries, store.DecisionAudit{At: now, Action: store.DecisionDryRun, Target: d.Target, Prefix: d.Prefix,
				Origin: d.Origin, Reason: d.Reason, FindingID: d.FindingID, FindingType: d.FindingType, Severity: d.Severity, ExpiresAt: d.ExpiresAt})
		}
		if err := r.deps.Store.AuditDecisions(ctx, entries); err != nil {
			r.storeErrors.Add(1)
			errs = append(errs, fmt.Errorf("respond: %w", err))
		}
	}
	out := dry
	if len(live) > 0 {
		stored, err := r.store(ctx, live, now)
		if err != nil {
			r.skip(SkipStoreFailed, int64(len(live)))
			errs = append(errs, err)
		}
		out = append(out, stored...)
	}
	return out, errors.Join(errs...)
}

// store writes live decisions, evicts from full targets and queues the
// changes for Run.
func (r *Responder) store(ctx context.Context, ds []store.Decision, now time.Time) ([]store.Decision, error) {
	changes, err := r.deps.Store.PutDecisions(ctx, ds, now)
	if err != nil {
		r.storeErrors.Add(1)
		return nil, fmt.Errorf("respond: %w", err)
	}
	out := make([]store.Decision, len(changes))
	grew := map[*target]bool{}
	for i, c := range changes {
		d := c.Decision
		out[i] = d
		if c.Created {
			r.decided.Add(1)
			grew[r.byName[d.Target]] = true
			r.log.Info("respond: block", "target", d.Target, "prefix", d.Prefix.String(), "until", d.ExpiresAt.UTC().Format(time.RFC3339),
				"finding", d.FindingID, "reason", d.Reason)
		} else {
			r.extended.Add(1)
		}
	}
	var errs []error
	var gone []store.Decision
	for _, t := range r.targets {
		if grew[t] && t.capacity > 0 {
			evicted, err := r.evict(ctx, t, now)
			if err != nil {
				errs = append(errs, err)
			}
			gone = append(gone, evicted...)
		}
	}
	// One step, so that a batch never carries a new block without the
	// eviction that makes room for it.
	r.enqueue(out, gone)
	return out, errors.Join(errs...)
}

// evict deletes the decisions that expire soonest until t holds at most its
// capacity, and returns them.
func (r *Responder) evict(ctx context.Context, t *target, now time.Time) ([]store.Decision, error) {
	n, err := r.deps.Store.CountDecisions(ctx, t.name, now)
	if err != nil {
		r.storeErrors.Add(1)
		return nil, fmt.Errorf("respond: %w", err)
	}
	if n <= t.capacity {
		return nil, nil
	}
	old, err := r.deps.Store.OldestDecisions(ctx, t.name, now, n-t.capacity)
	if err != nil {
		r.storeErrors.Add(1)
		return nil, fmt.Errorf("respond: %w", err)
	}
	keys := make([]store.DecisionKey, len(old))
	for i := range old {
		keys[i] = old[i].Key()
	}
	gone, err := r.deps.Store.DeleteDecisions(ctx, keys, store.DecisionEvict,
		fmt.Sprintf("evicted: target %s is full (%d decisions)", t.name, t.capacity), now)
	if err != nil {
		r.storeErrors.Add(1)
		return nil, fmt.Errorf("respond: %w", err)
	}
	for _, d := range gone {
		r.evicted.Add(1)
		r.log.Info("respond: evict", "target", t.name, "prefix", d.Prefix.String(), "reason", d.Reason)
	}
	return gone, nil
}

// enqueue queues additions and removals for Run's next batch, in one step.
func (r *Responder) enqueue(adds, removes []store.Decision) {
	r.mu.Lock()
	for _, ch := range []struct {
		ds  []store.Decision
		add bool
	}{{adds, true}, {removes, false}} {
		for _, d := range ch.ds {
			t := r.byName[d.Target]
			if t == nil || t.dryRun {
				continue
			}
			p := cidr.Normal(d.Prefix)
			if ch.add {
				t.adds[p] = d
				delete(t.removes, p)
			} else {
				t.removes[p] = d
				delete(t.adds, p)
			}
		}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Manual is a decision a user makes (CLI, API).
type Manual struct {
	Prefix netip.Prefix
	// Targets are target names; empty means every configured target.
	Targets []string
	// TTL is capped at max_ttl; 0 means default_ttl.
	TTL    time.Duration
	Reason string
	// Origin is "cli", "api", … (default "manual").
	Origin string
}

// AddManual stores a user's decision after the same checks as a rule's. When
// the responder has no targets configured (a CLI without the configuration),
// any valid target name is accepted and the running vigil applies it at its
// next reconcile.
func (r *Responder) AddManual(ctx context.Context, m Manual) ([]store.Decision, error) {
	p := cidr.Normal(m.Prefix)
	if ref := r.Check(p); ref != nil {
		r.skip(ref.Reason, 1)
		return nil, ref
	}
	names := m.Targets
	if len(names) == 0 {
		for _, t := range r.targets {
			names = append(names, t.name)
		}
		if len(names) == 0 {
			return nil, errors.New("respond: no target named and none configured")
		}
	}
	for _, n := range names {
		if len(r.targets) > 0 && r.byName[n] == nil {
			return nil, fmt.Errorf("respond: no target named %q", n)
		}
		if !validName(n) {
			return nil, fmt.Errorf("respond: %q is not a target name", n)
		}
	}
	ttl := min(cmp.Or(m.TTL, r.cfg.DefaultTTL), r.cfg.MaxTTL)
	now := r.now()
	origin := cmp.Or(m.Origin, "manual")
	reason := cmp.Or(m.Reason, "added by hand")
	var live []store.Decision
	for _, n := range names {
		d := store.Decision{Target: n, Prefix: p, Origin: origin, Reason: reason, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(ttl), Hits: 1}
		if t := r.byName[n]; t != nil && t.dryRun {
			return nil, fmt.Errorf("respond: target %s is in dry-run mode", n)
		}
		live = append(live, d)
	}
	return r.store(ctx, live, now)
}

// Delete removes the decisions on p (on the named targets, or all) and
// returns them.
func (r *Responder) Delete(ctx context.Context, p netip.Prefix, targets []string, reason string) ([]store.Decision, error) {
	p = cidr.Normal(p)
	if len(targets) == 0 {
		ds, err := r.deps.Store.ListDecisions(ctx, store.DecisionFilter{Contains: p, Limit: store.MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("respond: %w", err)
		}
		for _, d := range ds {
			if d.Prefix == p {
				targets = append(targets, d.Target)
			}
		}
	}
	keys := make([]store.DecisionKey, len(targets))
	for i, n := range targets {
		keys[i] = store.DecisionKey{Target: n, Prefix: p}
	}
	gone, err := r.deps.Store.DeleteDecisions(ctx, keys, store.DecisionRemove, reason, r.now())
	if err != nil {
		r.storeErrors.Add(1)
		return nil, fmt.Errorf("respond: %w", err)
	}
	r.removed.Add(int64(len(gone)))
	r.enqueue(nil, gone)
	return gone, nil
}

// Stats returns a snapshot of the totals.
func (r *Responder) Stats() Stats {
	s := Stats{
		Considered: r.considered.Load(), Matched: r.matched.Load(), Decided: r.decided.Load(), Extended: r.extended.Load(),
		DryRun: r.dryRun.Load(), Expired: r.expired.Load(), Evicted: r.evicted.Load(), Removed: r.removed.Load(),
		StoreErrors: r.storeErrors.Load(), Skipped: map[string]int64{}, Targets: map[string]TargetStats{},
	}
	for i, reason := range skipReasons {
		s.Skipped[reason] = r.skipped[i].Load()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.targets {
		s.Targets[t.name] = TargetStats{Type: t.typ, DryRun: t.dryRun, Added: t.added.Load(), Removed: t.removed.Load(),
			Errors: t.errors.Load(), Reconciles: t.reconciles.Load(), Pending: len(t.adds) + len(t.removes)}
	}
	return s
}

// Blocklist returns the blocklist target named name, if there is one.
func (r *Responder) Blocklist(name string) (*blocklist.List, bool) {
	l, ok := r.lists[name]
	return l, ok
}

// describe is a short list of prefixes for logs.
func describe(ds []store.Decision) string {
	var b strings.Builder
	for i, d := range ds {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(ds)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Prefix.String())
	}
	return b.String()
}
