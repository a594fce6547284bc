package investigate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/ingest"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/query/exec"
)

// Config configures an investigation.
type Config struct {
	// Margin widens the reported window on both sides when reading the logs:
	// flow logs aggregate up to 10 minutes and the complainant's clock may be off.
	Margin time.Duration `yaml:"margin"`
	// Top is how many candidates are shown.
	Top int `yaml:"top"`
	// Sample is how many flow records are kept as evidence per candidate.
	Sample int `yaml:"sample"`
	// MaxSources caps the internal source addresses tracked (over all workers);
	// records of further sources are counted and said, not analysed.
	MaxSources int `yaml:"maxSources"`
	// MaxSignatures caps the NAT inside-leg signatures kept for correlation;
	// beyond it they are sampled (and counts scaled).
	MaxSignatures int `yaml:"maxSignatures"`
	// Workers is the number of reading workers the Read dependency calls emit
	// from; 0 means GOMAXPROCS.
	Workers int `yaml:"workers"`
	// Detections runs vigil's detection engine over the same records.
	Detections bool `yaml:"detections"`
	// Queries runs the Logs Insights queries the report proposes over the same
	// records with vigil's query engine.
	Queries bool `yaml:"queries"`
	// Detect configures the detection engine (Since/Until are set from the window).
	Detect detect.Config `yaml:"detect"`
	// MaxFindings caps the findings listed.
	MaxFindings int `yaml:"maxFindings"`
}

// DefaultConfig returns the defaults: a 15-minute margin, five candidates, twelve
// flows of evidence each, 20,000 sources, detections and queries on.
func DefaultConfig() Config {
	return Config{Margin: 15 * time.Minute, Top: 5, Sample: 12, MaxSources: 20_000, MaxSignatures: 1 << 20,
		Detections: true, Queries: true, Detect: detect.DefaultConfig(), MaxFindings: 25}
}

// ReadFunc reads the logs whose records may fall in w and calls emit with every
// batch, from at most Config.Workers goroutines (worker is the caller's index;
// one worker never calls emit concurrently with itself). ingest.Reader.Read with a
// window has this shape.
type ReadFunc func(ctx context.Context, w ingest.Window, emit func(worker int, b *decode.Batch) error) (ingest.Result, error)

// Deps are an investigation's dependencies. Read is required.
type Deps struct {
	Read      ReadFunc
	Inventory *inventory.Inventory // may be nil: addresses are then not mapped
	Rules     *detect.RuleSet      // nil means the built-in rules
	Intel     *intel.Set           // may be nil
}

// Request says what to investigate: a parsed report, and what the user adds or
// corrects with flags.
type Request struct {
	Report *Report // may be nil when the flags say everything
	// IPs are reported addresses besides the report's.
	IPs []netip.Addr
	// From and Until override the report's window when set.
	From, Until time.Time
	// Kind overrides the report's kind of activity when set.
	Kind Kind
	// NATIPs are private addresses of the NAT gateway behind the reported
	// address, for logs without an inventory.
	NATIPs []netip.Addr
	// Hosts and Ports add reported destinations and destination ports.
	Hosts []netip.Addr
	Ports []uint16
}

// Errors for what the request lacks; the CLI turns them into usage errors.
var (
	ErrNoAddress = errors.New("no reported address: the report names none; give it with --ip")
	ErrNoWindow  = errors.New("no time window: the report gives no time that could be read; give --from and --until")
)

// Investigator runs one investigation. New is inert; Run reads the logs once.
type Investigator struct {
	cfg  Config
	deps Deps
	req  Request
}

// New checks the configuration and the request and returns an inert Investigator.
func New(cfg Config, deps Deps, req Request) (*Investigator, error) {
	if deps.Read == nil {
		return nil, errors.New("investigate: no log reader")
	}
	if cfg.Margin < 0 || cfg.Top < 1 || cfg.Sample < 0 || cfg.MaxSources < 1 || cfg.MaxSignatures < 1 {
		return nil, fmt.Errorf("investigate: bad configuration %+v", cfg)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	return &Investigator{cfg: cfg, deps: deps, req: req}, nil
}

// Run investigates: it maps the reported addresses, reads the logs over the
// window with its margin once — feeding the flow analysis, the detection engine
// and the Logs Insights queries from the same batches — and assembles the Result.
// It returns ErrNoAddress or ErrNoWindow when the request lacks them, the read's
// error, or ctx's.
func (inv *Investigator) Run(ctx context.Context) (*Result, error) {
	cfg, req := inv.cfg, inv.req
	res := &Result{Report: req.Report, Candidates: []Candidate{}, Findings: []FindingSummary{}, Queries: []InsightQuery{},
		Statements: []string{}}

	// What, when, which kind.
	var ips []netip.Addr
	if req.Report != nil {
		ips = append(ips, req.Report.ReportedIPs...)
	}
	for _, a := range req.IPs {
		if !slices.Contains(ips, a.Unmap()) {
			ips = append(ips, a.Unmap())
		}
	}
	if len(ips) == 0 {
		return nil, ErrNoAddress
	}
	res.Window = inv.window()
	if res.Window.From.IsZero() || res.Window.Until.IsZero() {
		return nil, ErrNoWindow
	}
	res.Kind = req.Kind
	if res.Kind == "" && req.Report != nil {
		res.Kind = req.Report.Kind()
	}
	if res.Kind == "" {
		res.Kind = KindUnknown
	}
	res.ReadWindow = TimeRange{From: res.Window.From.Add(-cfg.Margin), Until: res.Window.Until.Add(cfg.Margin),
		Basis: fmt.Sprintf("the reported window with a margin of %s on each side", cfg.Margin)}

	// Whose addresses.
	res.Targets = mapTargets(inv.deps.Inventory, ips, req.NATIPs)
	sc := inv.scope(res)

	// The queries, the detections and the flow analysis share one read.
	specs := buildQueries(sc, inv.hostList(), inv.portList())
	var plans []*queryPlan
	if cfg.Queries {
		plans = planQueries(specs, res.ReadWindow)
	}
	var eng *detect.Engine
	if cfg.Detections {
		rules := inv.deps.Rules
		if rules == nil {
			var err error
			if rules, err = detect.LoadRules(); err != nil {
				return nil, fmt.Errorf("load detection rules: %w", err)
			}
		}
		dc := cfg.Detect
		dc.Since, dc.Until = res.ReadWindow.From.UnixMilli(), res.ReadWindow.Until.UnixMilli()
		var err error
		eng, err = detect.New(dc, detect.Deps{Rules: rules, Inventory: inv.deps.Inventory, Intel: inv.deps.Intel})
		if err != nil {
			return nil, err
		}
	}
	analyzers := make([]*analyzer, cfg.Workers)
	var mu sync.Mutex
	analyzerOf := func(w int) (*analyzer, error) {
		if w < 0 || w >= len(analyzers) {
			return nil, fmt.Errorf("investigate: worker %d of a reader configured for %d", w, len(analyzers))
		}
		mu.Lock()
		defer mu.Unlock()
		if analyzers[w] == nil {
			analyzers[w] = newAnalyzer(sc)
		}
		return analyzers[w], nil
	}
	started := time.Now()
	var readRes ingest.Result
	fromMs, untilMs := res.ReadWindow.From.UnixMilli(), res.ReadWindow.Until.UnixMilli()
	base := func(ctx context.Context, emits []func(int, *decode.Batch) error) error {
		if eng != nil {
			eng.Start(ctx)
		}
		r, err := inv.deps.Read(ctx, ingest.Window{Since: res.ReadWindow.From, Until: res.ReadWindow.Until},
			func(w int, b *decode.Batch) error {
				a, err := analyzerOf(w)
				if err != nil {
					return err
				}
				a.process(b)
				if batchOutside(b, fromMs, untilMs) {
					return nil // a file read for the key-date slack: nothing in it for the detections or queries
				}
				for _, emit := range emits {
					if err := emit(w, b); err != nil {
						return err
					}
				}
				if eng != nil {
					return eng.Process(w, b)
				}
				return nil
			})
		readRes = r
		return err
	}
	results := make([]*exec.Result, len(plans))
	readErr := runNested(ctx, plans, cfg.Workers, nil, base, results)
	var findings []*finding.Finding
	if eng != nil {
		fs, err := eng.Close()
		if readErr == nil && err != nil {
			readErr = err
		}
		findings = fs
	}
	if readErr != nil {
		return nil, readErr
	}
	res.Stats = ReadStats{Records: readRes.Records, Objects: readRes.Objects, Pruned: readRes.Pruned, Failed: readRes.Failed,
		Skipped: readRes.SkippedTotal(), Seconds: time.Since(started).Seconds(), DetectionsOn: eng != nil}

	// One analyzer from all workers.
	all := newAnalyzer(sc)
	for _, a := range analyzers {
		if a != nil {
			all.merge(a)
		}
	}
	inv.assemble(res, sc, all, specs, plans, results, findings)
	return res, nil
}

// window is the reported window: the flags', else the report's. A lone --from or
// --until fills the other end from the report, or makes a one-hour window.
func (inv *Investigator) window() TimeRange {
	req := inv.req
	var w TimeRange
	if req.Report != nil {
		w = req.Report.Window
	}
	if !req.From.IsZero() || !req.Until.IsZero() {
		basis := "--from/--until"
		from, until := req.From, req.Until
		if from.IsZero() {
			from = w.From
			if from.IsZero() || from.After(until) {
				from = until.Add(-time.Hour)
			}
		}
		if until.IsZero() {
			until = w.Until
			if until.IsZero() || until.Before(from) {
				until = from.Add(time.Hour)
			}
		}
		w = TimeRange{From: from.UTC(), Until: until.UTC(), Basis: basis}
	}
	return w
}

// hostList returns the reported remote hosts: the log lines' destinations, the
// hosts the complainant names, and --host.
func (inv *Investigator) hostList() []netip.Addr {
	var hosts []netip.Addr
	if r := inv.req.Report; r != nil {
		hosts = append(hosts, r.Destinations...)
		hosts = append(hosts, r.Mentioned...)
	}
	for _, h := range inv.req.Hosts {
		hosts = appendAddr(hosts, h.Unmap())
	}
	return hosts
}

func (inv *Investigator) portList() []uint16 {
	var ports []uint16
	if r := inv.req.Report; r != nil {
		for _, p := range r.DstPorts {
			ports = append(ports, p.Port)
		}
	}
	for _, p := range inv.req.Ports {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

// scope builds what the analysis looks for.
func (inv *Investigator) scope(res *Result) *scope {
	cfg := inv.cfg
	sc := &scope{mode: modeUnknown, natENIs: map[string]bool{}, ownIPs: map[netip.Addr]bool{}, hosts: map[netip.Addr]int{},
		maxSources: max(cfg.MaxSources/cfg.Workers, 1), sigBudget: max(cfg.MaxSignatures/cfg.Workers, 1024), sample: cfg.Sample}
	for _, t := range res.Targets {
		switch t.Kind {
		case string(inventory.KindNATGateway):
			sc.mode = modeNAT
			for _, a := range t.PrivateIPs {
				sc.natIPs = appendAddr(sc.natIPs, a)
			}
			for _, e := range t.Interfaces {
				sc.natENIs[e] = true
			}
		case string(inventory.KindInstance), string(inventory.KindLoadBalancer), string(inventory.KindInterface), string(inventory.KindVPCEndpoint):
			if sc.mode != modeNAT {
				sc.mode = modeInstance
			}
			for _, a := range t.PrivateIPs {
				sc.ownIPs[a] = true
			}
		}
	}
	for _, a := range inv.req.NATIPs {
		sc.natIPs = appendAddr(sc.natIPs, a.Unmap())
		if sc.mode == modeUnknown {
			sc.mode = modeNAT
		}
	}
	for i, h := range inv.hostList() {
		if len(sc.hosts) >= maxAddresses {
			break
		}
		sc.hosts[h] = i
	}
	sc.nHosts = len(inv.hostList())
	for _, p := range inv.portList() {
		sc.ports.add(p)
		sc.hasPorts = true
	}
	if r := inv.req.Report; r != nil {
		for _, p := range r.SrcPorts {
			sc.srcPorts.add(p)
			sc.hasSrc = true
		}
	}
	sc.keepRaw = len(sc.hosts) == 0 && !sc.hasPorts
	sc.from, sc.until = res.ReadWindow.From.Unix(), res.ReadWindow.Until.Unix()
	sc.repFrom, sc.repUntil = sc.from, sc.until
	span := max(sc.until-sc.from+1, 60)
	sc.step = 60
	for span/sc.step > 720 {
		sc.step *= 2
	}
	sc.buckets = int((span + sc.step - 1) / sc.step)
	sc.covStep = 60
	for span/sc.covStep > 50_000 {
		sc.covStep *= 2
	}
	sc.covBuckets = int((span + sc.covStep - 1) / sc.covStep)
	return sc
}

// mapTargets follows each reported address to its owner in the inventory.
func mapTargets(inv *inventory.Inventory, ips, natIPs []netip.Addr) []Target {
	var out []Target
	for _, ip := range ips {
		t := Target{IP: ip, Kind: "unknown"}
		owners := inv.Owners(ip)
		switch {
		case inv == nil:
			t.Note = "no inventory was given: the address could not be mapped to a resource"
		case len(owners) == 0:
			t.Note = "the inventory has no resource with this address: it may belong to another account or region, or have been released"
		default:
			o, ok := inv.ByIP(ip)
			if !ok {
				o = owners[0]
				t.Note = fmt.Sprintf("%d resources in the inventory hold this address (snapshots of different times, or several accounts); the first is used", len(owners))
			}
			t.Kind = string(o.Kind)
			t.ID, t.Name, t.VPCID, t.SubnetID = o.ID(), o.Name(), o.VPCID(), o.SubnetID()
			if o.Interface != nil {
				t.AccountID, t.Region = o.Interface.OwnerID, o.Interface.Region()
				t.Interfaces = append(t.Interfaces, o.Interface.ID)
			}
			switch {
			case o.NATGateway != nil && o.Kind == inventory.KindNATGateway:
				n := o.NATGateway
				t.PrivateIPs = n.PrivateIPs()
				for _, a := range n.Addresses {
					if a.InterfaceID != "" && !slices.Contains(t.Interfaces, a.InterfaceID) {
						t.Interfaces = append(t.Interfaces, a.InterfaceID)
					}
				}
				for _, e := range n.Interfaces {
					if !slices.Contains(t.Interfaces, e.ID) {
						t.Interfaces = append(t.Interfaces, e.ID)
					}
					if t.AccountID == "" {
						t.AccountID, t.Region = e.OwnerID, e.Region()
					}
				}
				if n.ConnectivityType == "private" {
					t.Note = "a private NAT gateway: it does not reach the internet"
				}
			case o.Instance != nil:
				in := o.Instance
				t.PrivateIPs = in.PrivateIPs()
				t.AccountID, t.Region = in.OwnerID, in.Region()
				for _, e := range in.Interfaces {
					if !slices.Contains(t.Interfaces, e.ID) {
						t.Interfaces = append(t.Interfaces, e.ID)
					}
				}
			case o.Interface != nil:
				for _, p := range o.Interface.PrivateIPs {
					t.PrivateIPs = appendAddr(t.PrivateIPs, p.Addr)
				}
				if o.Kind == inventory.KindLoadBalancer {
					t.Note = "a load balancer's address: load balancers forward connections clients open, they rarely originate traffic; look at what it forwards to"
				}
			case o.EIP != nil:
				t.Note = "an Elastic IP that the inventory does not show associated with a resource (it may have been moved since the snapshot)"
				if o.EIP.AllocationID != "" {
					t.ID = o.EIP.AllocationID
				}
			}
		}
		if t.Kind == "unknown" && len(natIPs) > 0 {
			t.Kind = string(inventory.KindNATGateway)
			t.PrivateIPs = natIPs
			t.Note = "taken as a NAT gateway whose private address is given by --nat-ip"
		}
		out = append(out, t)
	}
	return out
}

// runNested runs the query plans over one read: each plan's executor wraps the
// next, and the innermost calls base with every executor's emit.
func runNested(ctx context.Context, plans []*queryPlan, workers int, emits []func(int, *decode.Batch) error,
	base func(context.Context, []func(int, *decode.Batch) error) error, out []*exec.Result) error {
	for len(plans) > 0 && plans[0].plan == nil { // a query that did not plan
		plans, out = plans[1:], out[1:]
	}
	if len(plans) == 0 {
		return base(ctx, emits)
	}
	p := plans[0]
	var inner error
	// A query that fails (too many groups) is dropped from the read, not the
	// investigation: its error is reported with it.
	var failed atomic.Bool
	var once sync.Once
	var emitErr error
	res, err := exec.Run(ctx, p.plan, func(ctx context.Context, emit func(int, *decode.Batch) error) error {
		guarded := func(w int, b *decode.Batch) error {
			if failed.Load() {
				return nil
			}
			if err := emit(w, b); err != nil {
				once.Do(func() { emitErr = err })
				failed.Store(true)
			}
			return nil
		}
		inner = runNested(ctx, plans[1:], workers, append(slices.Clip(emits), guarded), base, out[1:])
		return inner
	}, exec.Options{Workers: workers, Eval: p.eval})
	switch {
	case inner != nil:
		return inner
	case emitErr != nil:
		p.err = emitErr
	case err != nil:
		p.err = err
	default:
		out[0] = res
	}
	return nil
}

// assemble turns the merged analysis into the Result.
func (inv *Investigator) assemble(res *Result, sc *scope, a *analyzer, specs []querySpec, plans []*queryPlan, results []*exec.Result, findings []*finding.Finding) {
	res.Coverage = coverage(sc, a, res)
	res.ReportedTraffic = reportedTraffic(sc, a, inv.hostList())
	res.Candidates = inv.rank(sc, a, res)
	res.Findings, res.FindingsTotal = summarizeFindings(findings, res.Candidates, inv.cfg.MaxFindings)
	res.Queries = queryResults(specs, plans, results)
	res.Statements = append(res.Statements, statements(sc, a, res)...)
	res.Confidence = "none"
	if len(res.Candidates) > 0 {
		res.Confidence = res.Candidates[0].Confidence
	}
	res.Verdict = verdict(res)
	res.Containment = containment(res)
	res.Reply = draftReply(res)
}

// coverage measures how well the logs cover the reported window.
func coverage(sc *scope, a *analyzer, res *Result) Coverage {
	c := Coverage{FlowRecords: a.inWindow, NATRecords: a.natRecords, InsideLegs: a.insideLegs, InsidePktDst: a.insidePkt,
		SourcesDropped: a.dropped}
	if a.minStart != 0 {
		c.LogsFrom, c.LogsUntil = time.Unix(a.minStart, 0).UTC(), time.Unix(a.maxStart, 0).UTC()
	}
	lo := (res.Window.From.Unix() - sc.from) / sc.covStep
	hi := (res.Window.Until.Unix() - sc.from) / sc.covStep
	var gapStart int64 = -1
	for i := lo; i <= hi && i < int64(sc.covBuckets); i++ {
		c.MinutesTotal++
		on := a.cover[i>>6]&(1<<(i&63)) != 0
		if on {
			c.Minutes++
		}
		if a.natCover[i>>6]&(1<<(i&63)) != 0 {
			c.NATMinutes++
		}
		switch {
		case !on && gapStart < 0:
			gapStart = i
		case on && gapStart >= 0:
			c.Gaps = append(c.Gaps, TimeRange{From: time.Unix(sc.from+gapStart*sc.covStep, 0).UTC(), Until: time.Unix(sc.from+i*sc.covStep-1, 0).UTC()})
			gapStart = -1
		}
	}
	if gapStart >= 0 && gapStart > lo {
		c.Gaps = append(c.Gaps, TimeRange{From: time.Unix(sc.from+gapStart*sc.covStep, 0).UTC(), Until: res.Window.Until})
	}
	if len(c.Gaps) > 10 {
		c.Gaps = c.Gaps[:10]
	}
	// Coverage counts in coverage buckets; say minutes.
	if sc.covStep != 60 {
		f := int(sc.covStep / 60)
		c.Minutes, c.MinutesTotal, c.NATMinutes = c.Minutes*f, c.MinutesTotal*f, c.NATMinutes*f
	}
	return c
}

// reportedTraffic is what the reported address sent to the reported hosts.
func reportedTraffic(sc *scope, a *analyzer, hosts []netip.Addr) ReportedTraffic {
	rt := ReportedTraffic{Records: a.outsideRep, ByPortRecords: a.outsideByPort, NATOutsideLegs: a.outside}
	for _, h := range hosts {
		idx, ok := sc.hosts[h]
		if !ok {
			continue
		}
		if a.hostSeen[idx] {
			rt.HostsSeen = append(rt.HostsSeen, h)
		} else {
			rt.HostsNotSeen = append(rt.HostsNotSeen, h)
		}
	}
	for _, it := range a.portDsts.top(10, func(x, y netip.Addr) bool { return x.Less(y) }) {
		rt.PortHosts = append(rt.PortHosts, HostCount{Host: it.Key, Count: it.Count})
	}
	rt.Sample = flowRecords(a.outsideSample)
	return rt
}

// flowRecords renders samples, oldest first.
func flowRecords(list []flowSample) []FlowRecord {
	s := append([]flowSample(nil), list...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].start != s[j].start {
			return s[i].start < s[j].start
		}
		return s[i].h < s[j].h
	})
	out := make([]FlowRecord, 0, len(s))
	for _, x := range s {
		why := "other"
		switch x.prio {
		case 3:
			why = "reported host"
		case 2:
			why = "reported port"
		}
		out = append(out, FlowRecord{Why: why, View: x.view, Start: time.Unix(x.start, 0).UTC(), End: time.Unix(x.end, 0).UTC(),
			Interface: x.eni, Src: x.src, SrcPort: x.srcPort, Dst: x.dst, DstPort: x.dstPort, PktDst: x.pktDst,
			Protocol: protoText(x.proto), Packets: x.packets, Bytes: x.bytes, Action: x.action, Raw: x.raw})
	}
	return out
}

func protoText(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	return fmt.Sprint(p)
}

// summarizeFindings lists the detections' findings: those about candidates first.
func summarizeFindings(fs []*finding.Finding, cands []Candidate, limit int) ([]FindingSummary, int) {
	byInstance := map[string]int{}
	for _, c := range cands {
		if c.Instance != nil {
			byInstance[c.Instance.ID] = c.Rank
		}
	}
	out := []FindingSummary{}
	for _, f := range fs {
		id := finding.ResourceID(&f.Resource)
		name := ""
		if d := f.Resource.InstanceDetails; d != nil {
			for _, t := range d.Tags {
				if t.Key == "Name" {
					name = t.Value
				}
			}
		}
		res := id
		if name != "" {
			res += " (" + name + ")"
		}
		out = append(out, FindingSummary{Type: string(f.Type), Severity: f.Severity.Band().Title(), Resource: res, Title: f.Title,
			FirstSeen: f.Service.EventFirstSeen.Time().UTC(), LastSeen: f.Service.EventLastSeen.Time().UTC(), Count: f.Service.Count,
			Candidate: byInstance[id]})
	}
	sev := map[string]int{"Critical": 4, "High": 3, "Medium": 2, "Low": 1}
	sort.SliceStable(out, func(i, j int) bool {
		ci, cj := out[i].Candidate, out[j].Candidate
		if (ci > 0) != (cj > 0) {
			return ci > 0
		}
		if ci != cj {
			return ci < cj
		}
		if sev[out[i].Severity] != sev[out[j].Severity] {
			return sev[out[i].Severity] > sev[out[j].Severity]
		}
		return out[i].FirstSeen.Before(out[j].FirstSeen)
	})
	total := len(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, total
}

// instanceInfo describes an inventory instance.
func instanceInfo(inv *inventory.Inventory, in *inventory.Instance) *InstanceInfo {
	info := &InstanceInfo{ID: in.ID, Name: in.Name(), ImageID: in.ImageID, InstanceType: in.InstanceType, State: in.State,
		LaunchTime: in.LaunchTime, AccountID: in.OwnerID, Region: in.Region(), VPCID: in.VPCID, SubnetID: in.SubnetID,
		PrivateIPs: in.PrivateIPs(), PublicIPs: in.PublicIPs(), EgressIPs: inv.InstanceEgressIPs(in.ID), Platform: in.PlatformDetails}
	for _, g := range in.SecurityGroups {
		s := g.ID
		if g.Name != "" {
			s += " (" + g.Name + ")"
		}
		info.SecurityGroups = append(info.SecurityGroups, s)
	}
	if in.IAMInstanceProfile != nil {
		info.IAMRole = in.IAMInstanceProfile.ARN
	}
	for _, e := range in.Interfaces {
		info.Interfaces = append(info.Interfaces, e.ID)
	}
	return info
}

// describe names a candidate for a sentence: "i-0abc (app-9, 10.10.20.205)".
func (c *Candidate) describe() string {
	if c.Instance != nil {
		var parts []string
		if c.Instance.Name != "" {
			parts = append(parts, c.Instance.Name)
		}
		parts = append(parts, c.Addr.String())
		return c.Instance.ID + " (" + strings.Join(parts, ", ") + ")"
	}
	if c.Interface != "" {
		return c.Addr.String() + " (interface " + c.Interface + ")"
	}
	return c.Addr.String()
}
