package investigate

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/inventory"
)

// Ranking. Each internal source gets a score from 0 to 100 built from how well it
// explains the report:
//
//	35  reported hosts: it contacted them (seen on its own interface, in a NAT
//	    inside leg's pkt-dstaddr, or by pairing its inside legs with the NAT's
//	    outside legs to them);
//	25  share: its part of all traffic to the reported hosts (or, without hosts,
//	    on the reported ports);
//	15  ports: that traffic is on the reported ports;
//	15  timing: it was active at the times of the report's log lines;
//	10  behaviour: it looks like the reported kind (many hosts or ports for a
//	    scan, many connections for a brute force, packets for a flood).
//
// Confidence is a separate, stricter judgement. High needs destination-level
// evidence — at least one reported host contacted, three or more records to
// reported hosts, at least half of all such traffic, timing that fits, a score of
// 60 — and an egress path that can carry the reported address. Without reported
// hosts (only ports and timing) a source is at most medium. A source whose
// traffic leaves through another address (its own public IP, another NAT
// gateway) is at most low. The NAT gateway itself is never a candidate: its
// address is excluded from the sources.

// Confidence levels.
const (
	ConfidenceHigh   = "high"
	ConfidenceMedium = "medium"
	ConfidenceLow    = "low"
)

type scored struct {
	s          *source
	c          Candidate
	matched    int64
	correlated int64
	portRecs   int64
	records    int64
	hosts      map[int]bool
}

func (inv *Investigator) rank(sc *scope, a *analyzer, res *Result) []Candidate {
	reported := map[netip.Addr]bool{}
	for _, t := range res.Targets {
		reported[t.IP] = true
	}
	hostsSeen := 0
	for _, seen := range a.hostSeen {
		if seen {
			hostsSeen++
		}
	}
	var times []int64
	if r := res.Report; r != nil && res.Window.Basis != "--from/--until" {
		for _, ll := range r.Lines {
			if ll.Reported && !ll.Time.IsZero() && len(times) < 1000 {
				times = append(times, ll.Time.Unix())
			}
		}
	}
	hasTargets := len(sc.hosts) > 0 || sc.hasPorts

	var list []*scored
	var allMatched, allPort int64
	var allBehaviour float64
	invent := inv.deps.Inventory
	for _, s := range a.sources {
		if sc.isNAT(s.addr) {
			continue // never the gateway itself
		}
		if _, isNAT := invent.NATByPrivateIP(s.addr); isNAT {
			continue // nor another NAT gateway: its outside legs carry others' traffic
		}
		x := &scored{s: s, records: max(s.records[viewOwn], s.records[viewInside])}
		x.correlated, x.hosts = a.correlate(s)
		for idx := range s.hostHits {
			if x.hosts == nil {
				x.hosts = map[int]bool{}
			}
			x.hosts[idx] = true
		}
		x.matched = max(s.matched[viewOwn], s.matched[viewInside]+x.correlated)
		x.portRecs = max(s.port[viewOwn], s.port[viewInside])
		if hasTargets && x.matched == 0 && x.portRecs == 0 {
			continue
		}
		allMatched += x.matched
		allPort += x.portRecs
		allBehaviour += behaviourMetric(res.Kind, s)
		list = append(list, x)
	}
	for _, x := range list {
		inv.score(x, sc, a, res, hostsSeen, times, allMatched, allPort, allBehaviour, hasTargets)
	}
	sort.Slice(list, func(i, j int) bool {
		ci, cj := &list[i].c, &list[j].c
		if ci.Score != cj.Score {
			return ci.Score > cj.Score
		}
		if list[i].matched != list[j].matched {
			return list[i].matched > list[j].matched
		}
		if list[i].portRecs != list[j].portRecs {
			return list[i].portRecs > list[j].portRecs
		}
		if list[i].records != list[j].records {
			return list[i].records > list[j].records
		}
		return list[i].s.addr.Less(list[j].s.addr)
	})
	out := []Candidate{}
	for i, x := range list {
		if i == inv.cfg.Top {
			break
		}
		x.c.Rank = i + 1
		out = append(out, x.c)
	}
	return out
}

// score fills x.c: confidence, score, reasons, instance and evidence.
func (inv *Investigator) score(x *scored, sc *scope, a *analyzer, res *Result, hostsSeen int, times []int64, allMatched, allPort int64, allBehaviour float64, hasTargets bool) {
	s := x.s
	c := &x.c
	c.Addr = s.addr
	c.Interface = s.eni
	invent := inv.deps.Inventory
	if in := lookupInstance(invent, s, res.Targets); in != nil {
		c.Instance = instanceInfo(invent, in)
	}

	// The five parts of the score.
	contacted := 0
	for idx := range x.hosts {
		if idx >= 0 {
			contacted++
		}
	}
	var hostPart float64
	if hostsSeen > 0 {
		hostPart = math.Min(1, float64(contacted)/math.Max(1, math.Ceil(float64(hostsSeen)/2)))
	}
	var share float64
	switch {
	case allMatched > 0:
		share = float64(x.matched) / float64(allMatched)
	case allPort > 0:
		share = float64(x.portRecs) / float64(allPort)
	case !hasTargets && allBehaviour > 0:
		// No hosts or ports to match: its part of what every source did of the
		// reported kind (distinct hosts for a scan, packets for a flood…).
		share = behaviourMetric(res.Kind, s) / allBehaviour
	}
	var portPart float64
	switch {
	case !sc.hasPorts && x.matched > 0:
		portPart = 1
	case sc.hasPorts && x.portRecs > 0 && x.matched > 0:
		portPart = 1
	case sc.hasPorts && x.portRecs > 0:
		portPart = 0.5
	}
	explained := explainedTimes(s, sc, times)
	var timePart float64
	switch {
	case len(times) > 0:
		timePart = float64(explained) / float64(len(times))
	case s.mFirst != 0 && s.mFirst <= res.Window.Until.Unix()+int64(inv.cfg.Margin/time.Second) && s.mLast >= res.Window.From.Unix()-int64(inv.cfg.Margin/time.Second):
		timePart = 1
	case !hasTargets && s.first <= res.Window.Until.Unix() && s.last >= res.Window.From.Unix():
		timePart = 1
	}
	behave := behaviour(res.Kind, s, x)
	c.Score = math.Round(1000*(0.35*hostPart+0.25*share+0.15*portPart+0.15*timePart+0.10*behave)) / 10

	// Evidence.
	e := &c.Evidence
	e.OwnRecords, e.InsideLegs = s.records[viewOwn], s.records[viewInside]
	e.Records = x.records
	v := viewOwn
	if s.records[viewInside] > s.records[viewOwn] {
		v = viewInside
	}
	e.Packets, e.Bytes = s.packets[v], s.bytes[v]
	e.Matched = max(s.matched[viewOwn], s.matched[viewInside])
	e.ToReported = x.matched
	e.Correlated = x.correlated
	e.PortRecords = x.portRecs
	e.ReportedHost = contacted
	for h, idx := range sc.hosts {
		if x.hosts[idx] {
			e.ReportedHosts = append(e.ReportedHosts, h)
		}
	}
	sortAddrs(e.ReportedHosts)
	e.DistinctHosts, e.DistinctPorts = s.hosts.count(), s.ports.count()
	e.DistinctApprox = !s.hosts.exact() || !s.ports.exact()
	e.TimesExplained, e.TimesInReport = explained, len(times)
	if s.first != 0 {
		e.First, e.Last = time.Unix(s.first, 0).UTC(), time.Unix(s.last, 0).UTC()
	}
	if s.mFirst != 0 {
		e.MatchFirst, e.MatchLast = time.Unix(s.mFirst, 0).UTC(), time.Unix(s.mLast, 0).UTC()
	}
	for _, it := range s.topPorts[v].top(8, func(p, q uint16) bool { return p < q }) {
		e.TopPorts = append(e.TopPorts, PortCount{Port: it.Key, Count: int(it.Count)})
	}
	// Hosts: the reported ones it reached with their exact counts, then the
	// others from the top-K counter (exact for sources with few destinations,
	// estimated for busy ones).
	for h, idx := range sc.hosts {
		if c := s.hostHits[idx]; c != nil {
			e.TopHosts = append(e.TopHosts, HostCount{Host: h, Count: max(c[0], c[1]), Reported: true})
		}
	}
	hv := v
	if len(s.topHosts[hv].items) == 0 {
		hv = 1 - v
	}
	for _, it := range s.topHosts[hv].top(topCap, func(p, q netip.Addr) bool { return p.Less(q) }) {
		if _, rep := sc.hosts[it.Key]; !rep {
			e.TopHosts = append(e.TopHosts, HostCount{Host: it.Key, Count: it.Count})
		}
	}
	sort.SliceStable(e.TopHosts, func(i, j int) bool {
		a, b := e.TopHosts[i], e.TopHosts[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Host.Less(b.Host)
	})
	if len(e.TopHosts) > 8 {
		e.TopHosts = e.TopHosts[:8]
	}
	e.Timeline, e.TimelineStep = timeline(s, sc, a)
	e.Sample = flowRecords(s.sample)

	// Reasons, and the confidence.
	var why []string
	if contacted > 0 {
		how := []string{}
		if s.matched[viewOwn] > 0 {
			how = append(how, "its own interface")
		}
		if s.matched[viewInside] > 0 {
			how = append(how, "the NAT gateway's inside leg (pkt-dstaddr)")
		}
		if x.correlated > 0 {
			how = append(how, "inside legs paired with the NAT gateway's outside legs")
		}
		why = append(why, fmt.Sprintf("contacted %d of the %d reported hosts seen in the logs (%s)", contacted, hostsSeen, strings.Join(how, "; ")))
	}
	if x.matched > 0 {
		why = append(why, fmt.Sprintf("%d flow records to reported hosts: %.0f%% of all such records from inside the VPC", x.matched, 100*float64(x.matched)/float64(max(allMatched, 1))))
	}
	if x.correlated > 0 {
		why = append(why, fmt.Sprintf("%d of its NAT inside legs match outside legs to reported hosts (same protocol, port, packets, bytes and minute)", x.correlated))
	}
	if x.portRecs > 0 {
		why = append(why, fmt.Sprintf("%d records on the reported port(s)", x.portRecs))
	}
	if len(times) > 0 {
		why = append(why, fmt.Sprintf("active at the times of %d of the report's %d log lines", explained, len(times)))
	}
	if b := behaviourText(res.Kind, s, x); b != "" {
		why = append(why, b)
	}
	egressOK := true
	if c.Instance != nil && len(c.Instance.EgressIPs) > 0 {
		ok := false
		for _, ip := range c.Instance.EgressIPs {
			for _, t := range res.Targets {
				if ip == t.IP {
					ok = true
				}
			}
		}
		if !ok && sc.mode == modeNAT {
			egressOK = false
			c.Score = math.Round(c.Score*2) / 10 // it cannot have used the address: a fifth of its score
			e.EgressMismatch = fmt.Sprintf("its traffic to the internet leaves through %s, not the reported address", joinAddrs(c.Instance.EgressIPs, 3))
			why = append(why, e.EgressMismatch)
		}
	}
	covered := res.Coverage.Minutes > 0
	share50 := allMatched > 0 && float64(x.matched) >= 0.5*float64(allMatched)
	timingOK := len(times) == 0 || timePart >= 0.3
	switch {
	case !egressOK || !covered:
		c.Confidence = ConfidenceLow
	case contacted >= 1 && x.matched >= 3 && share50 && c.Score >= 60 && timingOK:
		c.Confidence = ConfidenceHigh
	case c.Score >= 35 || contacted >= 1:
		c.Confidence = ConfidenceMedium
	default:
		c.Confidence = ConfidenceLow
	}
	if c.Confidence != ConfidenceHigh && contacted == 0 && hasTargets && len(sc.hosts) > 0 {
		why = append(why, "no record shows it reaching a reported host")
	}
	c.Reasons = why
}

// lookupInstance finds the inventory's instance for a source: by the instance id
// its records carry, its interface, or its address (in the reported resource's
// VPC when known).
func lookupInstance(inv *inventory.Inventory, s *source, targets []Target) *inventory.Instance {
	if inv == nil {
		return nil
	}
	if s.instanceID != "" {
		if in, ok := inv.Instance(s.instanceID); ok {
			return in
		}
	}
	if s.eni != "" {
		if e, ok := inv.Interface(s.eni); ok && e.Instance != nil {
			return e.Instance
		}
	}
	for _, t := range targets {
		if t.VPCID == "" {
			continue
		}
		if o, ok := inv.ByIPInVPC(t.VPCID, s.addr); ok && o.Instance != nil {
			return o.Instance
		}
	}
	if o, ok := inv.ByIP(s.addr); ok && o.Instance != nil {
		return o.Instance
	}
	return nil
}

// explainedTimes counts the report's line times at which the source sent
// traffic to reported hosts or ports: between ten minutes before (a flow
// record's start can precede a packet by the aggregation interval) and two
// minutes after (clocks differ).
func explainedTimes(s *source, sc *scope, times []int64) int {
	if s.timeline == nil {
		return 0
	}
	n := 0
	for _, t := range times {
		lo, hi := sc.bucket(t-660), sc.bucket(t+120)
		for b := lo; b <= hi; b++ {
			c := s.timeline[b]
			if c[0]+c[1]+c[2]+c[3] > 0 {
				n++
				break
			}
		}
	}
	return n
}

// behaviour says, from 0 to 1, how much the source's traffic looks like kind.
func behaviour(kind Kind, s *source, x *scored) float64 {
	switch kind {
	case KindPortScan:
		n := float64(max(s.hosts.count(), s.ports.count()))
		return math.Min(1, math.Max(n/50, float64(x.portRecs)/200))
	case KindSSHBruteForce:
		return math.Min(1, float64(max(x.portRecs, portCount(s, 22)))/50)
	case KindRDPBruteForce:
		return math.Min(1, float64(max(x.portRecs, portCount(s, 3389)))/50)
	case KindBruteForce:
		return math.Min(1, float64(x.portRecs)/50)
	case KindDoS:
		return math.Min(1, float64(max(s.packets[0], s.packets[1]))/100_000)
	case KindSpam:
		return math.Min(1, float64(portCount(s, 25)+portCount(s, 465)+portCount(s, 587))/50)
	}
	if x.matched > 0 {
		return 0.5
	}
	return 0
}

// behaviourMetric is the amount of the reported kind's activity a source shows,
// to compare sources when the report names no hosts or ports.
func behaviourMetric(kind Kind, s *source) float64 {
	switch kind {
	case KindPortScan:
		return float64(max(s.hosts.count(), s.ports.count()))
	case KindSSHBruteForce:
		return float64(portCount(s, 22))
	case KindRDPBruteForce:
		return float64(portCount(s, 3389))
	case KindDoS:
		return float64(max(s.packets[0], s.packets[1]))
	case KindSpam:
		return float64(portCount(s, 25) + portCount(s, 465) + portCount(s, 587))
	}
	return float64(max(s.records[0], s.records[1]))
}

func behaviourText(kind Kind, s *source, x *scored) string {
	switch kind {
	case KindPortScan:
		return fmt.Sprintf("reached %d distinct hosts on %d distinct ports", s.hosts.count(), s.ports.count())
	case KindSSHBruteForce:
		return fmt.Sprintf("%d connections to port 22", max(x.portRecs, portCount(s, 22)))
	case KindRDPBruteForce:
		return fmt.Sprintf("%d connections to port 3389", max(x.portRecs, portCount(s, 3389)))
	case KindDoS:
		return fmt.Sprintf("%d packets, %d bytes sent", max(s.packets[0], s.packets[1]), max(s.bytes[0], s.bytes[1]))
	case KindSpam:
		return fmt.Sprintf("%d connections to mail ports (25, 465, 587)", portCount(s, 25)+portCount(s, 465)+portCount(s, 587))
	}
	return ""
}

// portCount is the source's records to a port, in its larger view.
func portCount(s *source, p uint16) int64 {
	var n int64
	for v := 0; v < 2; v++ {
		for _, it := range s.topPorts[v].items {
			if it.Key == p {
				n = max(n, it.Count)
			}
		}
	}
	return n
}

// timeline renders the buckets of a source's timeline that saw anything, with
// what the NAT sent to reported hosts at the same time.
func timeline(s *source, sc *scope, a *analyzer) ([]Minute, string) {
	if s.timeline == nil {
		return nil, ""
	}
	var out []Minute
	for i, b := range s.timeline {
		m := Minute{Time: time.Unix(sc.from+int64(i)*sc.step, 0).UTC(), Matched: max(b[0], b[1]), PortRecords: max(b[2], b[3])}
		if i < len(a.repTimeline) {
			m.Reported = a.repTimeline[i]
		}
		if m.Matched+m.PortRecords > 0 {
			out = append(out, m)
		}
	}
	if len(out) > 240 {
		out = out[:240]
	}
	return out, fmt.Sprintf("%d min", sc.step/60)
}

func joinAddrs(as []netip.Addr, n int) string {
	var parts []string
	for i, a := range as {
		if i == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ", ")
}

// statements are the honest caveats about what the logs can and cannot show.
func statements(sc *scope, a *analyzer, res *Result) []string {
	var out []string
	c := res.Coverage
	w := res.Window
	span := func(r TimeRange) string {
		return r.From.Format("2006-01-02 15:04") + " – " + r.Until.Format("15:04 MST")
	}
	switch {
	case c.Minutes == 0:
		msg := fmt.Sprintf("The flow logs read have no records between %s (the reported activity, %s margin on each side included): they do not cover the reported window, so nothing here can name a source.",
			span(res.ReadWindow), res.ReadWindow.From.Sub(w.From).Abs())
		if !c.LogsFrom.IsZero() {
			msg += fmt.Sprintf(" The records read start between %s and %s.", c.LogsFrom.Format(time.RFC3339), c.LogsUntil.Format(time.RFC3339))
		} else {
			msg += " No flow record was read at all: check the paths, and that the window falls within the logs' dates."
		}
		out = append(out, msg)
	case c.Minutes < c.MinutesTotal*8/10:
		var gaps []string
		for i, g := range c.Gaps {
			if i == 3 {
				gaps = append(gaps, "…")
				break
			}
			gaps = append(gaps, span(g))
		}
		out = append(out, fmt.Sprintf("The flow logs cover only %d of the %d minutes of the reported window (gaps: %s); activity in the gaps cannot be attributed.",
			c.Minutes, c.MinutesTotal, strings.Join(gaps, ", ")))
	}
	if sc.mode == modeNAT && c.Minutes > 0 && c.NATMinutes == 0 {
		enis := ""
		for _, t := range res.Targets {
			if len(t.Interfaces) > 0 {
				enis = " (" + strings.Join(t.Interfaces, ", ") + ")"
			}
		}
		out = append(out, fmt.Sprintf("No flow-log record in the window comes from the NAT gateway's interface%s or carries its private address %s: the gateway's ENI seems to have no flow log. Sources could only be matched on their own interfaces; enable a flow log on the gateway's ENI (ideally a custom format with pkt-srcaddr and pkt-dstaddr).",
			enis, joinAddrs(sc.natIPs, 3)))
	}
	if sc.mode == modeNAT && c.InsideLegs > 0 && c.InsidePktDst == 0 {
		out = append(out, "The NAT gateway's flow log has no pkt-dstaddr (AWS's default format): its inside legs show the gateway's own address as destination. Sources were matched through their own interfaces, and by pairing inside legs with outside legs on protocol, destination port, packets, bytes and minute.")
	}
	if sc.mode == modeUnknown {
		if len(a.detectedNAT) > 0 {
			var nats []netip.Addr
			for n := range a.detectedNAT {
				nats = append(nats, n)
			}
			sortAddrs(nats)
			out = append(out, fmt.Sprintf("The reported address is not in the inventory. Inside legs of a NAT gateway at %s were recognised by their pkt-dstaddr; give --inventory (or --nat-ip) to use its outside legs too.", joinAddrs(nats, 3)))
		} else {
			out = append(out, "The reported address is not in the inventory (or none was given): only records on the sources' own interfaces could be used. Give --inventory, or --nat-ip with the NAT gateway's private address.")
		}
	}
	if len(sc.hosts) > 0 && c.Minutes > 0 && len(res.ReportedTraffic.HostsSeen) == 0 {
		out = append(out, fmt.Sprintf("None of the %d hosts the report names appears in the flow logs in the window.", len(sc.hosts)))
	}
	if len(res.Candidates) == 0 && c.Minutes > 0 {
		if len(sc.hosts) > 0 || sc.hasPorts {
			out = append(out, "No internal source sent traffic to the reported hosts or on the reported ports in the window: nothing in these logs explains the report.")
		} else {
			out = append(out, "No internal source sent traffic to the internet in the window.")
		}
	}
	if len(res.Candidates) > 0 && res.Candidates[0].Confidence != ConfidenceHigh && c.Minutes > 0 {
		out = append(out, "No source explains the report with high confidence: the candidates below are leads to check, not conclusions.")
	}
	if len(res.Candidates) > 1 && res.Candidates[0].Confidence == ConfidenceHigh && res.Candidates[1].Confidence == ConfidenceHigh {
		out = append(out, "More than one source explains the report with high confidence: several hosts may be involved.")
	}
	if a.dropped > 0 {
		out = append(out, fmt.Sprintf("More internal sources than the cap of %d were seen; %d records of the others were not analysed.", sc.maxSources, a.dropped))
	}
	if a.sigLevel > 0 || a.repLevel > 0 {
		out = append(out, "There were more NAT legs than the correlation budget: the pairing of inside and outside legs was sampled and its counts are estimates.")
	}
	return out
}

// verdict says the answer in one paragraph.
func verdict(res *Result) string {
	var via string
	for _, t := range res.Targets {
		if t.Kind == string(inventory.KindNATGateway) {
			name := t.ID
			if t.Name != "" {
				name += " (" + t.Name + ")"
			}
			via = fmt.Sprintf("behind NAT gateway %s, whose address %s the report names", name, t.IP)
			break
		}
	}
	if len(res.Candidates) == 0 {
		if res.Coverage.Minutes == 0 {
			return "No answer: the flow logs read do not cover the reported window."
		}
		return "No source found: no internal source in these logs sent traffic matching the report in its window."
	}
	c := res.Candidates[0]
	e := c.Evidence
	what := res.Kind.Title()
	switch c.Confidence {
	case ConfidenceHigh:
		s := fmt.Sprintf("%s is the source of the reported %s", c.describe(), what)
		if via != "" {
			s += ", " + via
		}
		s += fmt.Sprintf(": %d flow records to %d of the reported hosts", e.ToReported, e.ReportedHost)
		if p := mainPort(res, e); p != 0 {
			s += fmt.Sprintf(" on port %d", p)
		}
		if !e.MatchFirst.IsZero() {
			s += fmt.Sprintf(" between %s and %s UTC", e.MatchFirst.Format("2006-01-02 15:04"), e.MatchLast.Format("15:04"))
		}
		s += fmt.Sprintf(". Confidence high (score %.0f).", c.Score)
		if len(res.Candidates) == 1 || res.Candidates[1].Confidence != ConfidenceHigh {
			s += " No other internal source explains the report."
		}
		return s
	case ConfidenceMedium:
		return fmt.Sprintf("The most likely source is %s, with medium confidence (score %.0f): the evidence is not conclusive: %s.", c.describe(), c.Score, strings.Join(c.Reasons, "; "))
	}
	return fmt.Sprintf("No source explains the report: the best lead, %s, has low confidence (score %.0f).", c.describe(), c.Score)
}

// mainPort is the port to name for a candidate's traffic: the reported port it
// used most, else its most used port.
func mainPort(res *Result, e Evidence) uint16 {
	if res.Report != nil {
		for _, tp := range e.TopPorts {
			for _, rp := range res.Report.DstPorts {
				if tp.Port == rp.Port {
					return tp.Port
				}
			}
		}
	}
	if len(e.TopPorts) > 0 {
		return e.TopPorts[0].Port
	}
	return 0
}
