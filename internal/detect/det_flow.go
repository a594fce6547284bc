package detect

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vigil-dev/vigil/internal/detect/window"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/record"
)

// This file holds the Go detectors over flow records: what a threshold rule
// cannot say.

func init() {
	register(&goDetector{name: "portprobe", kind: record.KindFlow,
		types: []finding.Type{"Recon:EC2/PortProbeUnprotectedPort"},
		newParams: func() any {
			return &portProbeParams{MinPorts: 10, MinRejectedShare: 0.5, KnownScannerMinPorts: 1}
		},
		check: func(r *Rule, p any) error {
			pp := p.(*portProbeParams)
			if pp.MinPorts < 1 || pp.KnownScannerMinPorts < 1 {
				return errors.New("minPorts and knownScannerMinPorts must be at least 1")
			}
			if pp.MinRejectedShare < 0 || pp.MinRejectedShare > 1 {
				return errors.New("minRejectedShare must be between 0 and 1")
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector { return &portProbe{rule: r, p: p.(*portProbeParams), e: e} },
	})
	register(&goDetector{name: "dos", kind: record.KindFlow,
		types: []finding.Type{"Backdoor:EC2/DenialOfService.Tcp", "Backdoor:EC2/DenialOfService.Udp", "Backdoor:EC2/DenialOfService.Dns", "Backdoor:EC2/DenialOfService.UdpOnTcpPorts", "Backdoor:EC2/DenialOfService.UnusualProtocol"},
		newParams: func() any {
			return &dosParams{
				MinPackets:    dosThresholds{TCP: 30_000, UDP: 30_000, DNS: 1_000, UDPOnTCPPorts: 30_000, UnusualProtocol: 30_000},
				MaxReplyShare: 0.1, MaxSYNPacketBytes: 80,
				UDPOnTCPPorts:  []int{21, 22, 23, 25, 110, 143, 445, 465, 587, 993, 995, 1433, 3306, 3389, 5432, 5900, 6379, 27017},
				UsualProtocols: []int{1, 6, 17, 47, 50, 51, 58, 132},
			}
		},
		check: func(r *Rule, p any) error {
			dp := p.(*dosParams)
			if dp.MaxReplyShare < 0 || dp.MaxReplyShare > 1 {
				return errors.New("maxReplyShare must be between 0 and 1")
			}
			m := dp.MinPackets
			if m.TCP < 1 || m.UDP < 1 || m.DNS < 1 || m.UDPOnTCPPorts < 1 || m.UnusualProtocol < 1 {
				return errors.New("every minPackets value must be at least 1")
			}
			if err := checkPorts("udpOnTcpPorts", dp.UDPOnTCPPorts); err != nil {
				return err
			}
			for _, n := range dp.UsualProtocols {
				if n < 0 || n > 255 {
					return fmt.Errorf("usualProtocols: %d is not a protocol number (0–255)", n)
				}
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector { return &dos{rule: r, p: p.(*dosParams), e: e} },
	})
	register(&goDetector{name: "ipintel", kind: record.KindFlow,
		types:     []finding.Type{"Backdoor:EC2/C&CActivity.B", "CryptoCurrency:EC2/BitcoinTool.B", "Trojan:EC2/DropPoint", "Trojan:EC2/BlackholeTraffic", "UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/TorRelay", "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"},
		newParams: func() any { return &ipIntelParams{MinRelayPeers: 10} },
		check: func(r *Rule, p any) error {
			if p.(*ipIntelParams).MinRelayPeers < 1 {
				return errors.New("minRelayPeers must be at least 1")
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector { return &ipIntel{rule: r, p: p.(*ipIntelParams), e: e} },
	})
}

func needWindow(r *Rule) error {
	if r.Window <= 0 {
		return errors.New("this detector needs a window (e.g. window: 10m)")
	}
	return nil
}

// ---- Recon:EC2/PortProbeUnprotectedPort ----

type portProbeParams struct {
	// MinPorts is how many distinct ports of one instance an internet host must
	// probe within the window to be a scanner.
	MinPorts int `yaml:"minPorts"`
	// MinRejectedShare is the share of its probes that must have been rejected:
	// a scanner mostly knocks on closed doors.
	MinRejectedShare float64 `yaml:"minRejectedShare"`
	// KnownScannerMinPorts replaces MinPorts (and the rejected share) for a source
	// on a threat list: GuardDuty reports known scanners on the first probe.
	KnownScannerMinPorts int `yaml:"knownScannerMinPorts"`
}

type portProbe struct {
	rule *Rule
	p    *portProbeParams
	e    *Engine
}

// gate: the first checks of route.
func (d *portProbe) gate() flowGate {
	return flowGate{request: true, pub: pubSrc, proto: protocols(6, 17)}
}

func (d *portProbe) route(r *rec, de *detEntry) (gkey, bool) {
	f := r.flow
	if !r.request || (f.Protocol != 6 && f.Protocol != 17) || !r.srcPub || r.dstPub {
		return gkey{}, false
	}
	if !de.match(r) {
		return gkey{}, false
	}
	if _, ok := d.e.deps.Intel.Trusted(f.SrcAddr); ok {
		return gkey{}, false
	}
	h := r.keyHash()
	h.u64(window.HashAddr(f.SrcAddr))
	h.u64(window.HashAddr(f.DstAddr))
	return h.sum(), true
}

type probeState struct {
	ports    window.DistinctSet
	probes   int64
	rejected int64
	accepted []acceptedPort
	dst      sideInfo
	src      netip.Addr
}

type acceptedPort struct {
	port  uint16
	proto uint8
}

func (d *portProbe) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &portProbeShard{d: d, env: env, det: det}
	s.k = newKeyed(env, 2*win, win,
		func(st *probeState) {
			*st = probeState{ports: st.ports, accepted: st.accepted[:0]}
			st.ports.Init(window.DistinctConfig{Window: win, ExactLimit: 128})
		},
		s.raise)
	return s
}

type portProbeShard struct {
	d   *portProbe
	env *shardEnv
	det int
	k   *keyed[probeState]
	// raising is the state of the key being raised (set by raise's caller).
}

func (s *portProbeShard) observe(r *rec, key gkey) {
	e := s.k.get(key, r.time)
	st := &e.s
	f := r.flow
	st.src = f.SrcAddr
	st.dst.note(r, sideDst)
	st.ports.Add(uint64(f.DstPort)<<8|uint64(f.Protocol), r.time)
	st.probes++
	if f.Action == record.ActionReject {
		st.rejected++
	} else if f.Action == record.ActionAccept && (r.local == sideDst || r.local == sideNone) {
		ap := acceptedPort{port: f.DstPort, proto: f.Protocol}
		if !slices.Contains(st.accepted, ap) && len(st.accepted) < finding.MaxPortProbeDetails {
			st.accepted = append(st.accepted, ap)
		}
	}
	if e.occ == nil && len(st.accepted) > 0 && s.scanner(st) {
		e.open(r)
	}
	if e.occ != nil {
		e.occ.note(r, s.d.rule)
		e.occ.metric = max(e.occ.metric, float64(st.ports.Count()))
		s.k.announce(e)
	}
}

// scanner reports whether the key's source behaves like a scanner.
func (s *portProbeShard) scanner(st *probeState) bool {
	if _, ok := s.d.e.deps.Intel.Match(st.src); ok {
		return st.ports.Count() >= s.d.p.KnownScannerMinPorts
	}
	return st.ports.Count() >= s.d.p.MinPorts && float64(st.rejected) >= s.d.p.MinRejectedShare*float64(st.probes)
}

func (s *portProbeShard) raise(e *keyedEntry[probeState]) {
	st, o := &e.s, e.occ
	res, acct, region, ok := s.d.e.resolveSide(&st.dst)
	if !ok {
		return
	}
	ti, _ := finding.Lookup("Recon:EC2/PortProbeUnprotectedPort")
	var ev *finding.ServiceEvidence
	if m, ok := s.d.e.deps.Intel.Match(st.src); ok {
		ev = threatEvidence(m)
	}
	for _, ap := range st.accepted {
		f := ti.New(acct, region, finding.Time(o.last))
		f.Resource.InstanceDetails = res
		f.Service.ResourceRole = finding.RoleTarget
		detail := finding.PortProbeDetail{
			LocalPortDetails: &finding.PortDetails{Port: int(ap.port), PortName: portName(int(ap.port))},
			LocalIPDetails:   &finding.LocalIPDetails{},
			RemoteIPDetails:  &finding.RemoteIPDetails{},
		}
		setIP(&detail.LocalIPDetails.IPAddressV4, &detail.LocalIPDetails.IPAddressV6, st.dst.addr)
		setIP(&detail.RemoteIPDetails.IPAddressV4, &detail.RemoteIPDetails.IPAddressV6, st.src)
		f.Service.Action.PortProbeAction = &finding.PortProbeAction{Blocked: false, PortProbeDetails: []finding.PortProbeDetail{detail}}
		f.Service.Evidence = ev
		s.d.e.finish(f, s.d.rule, o)
		f.Service.AdditionalInfo[finding.KeyVigilDistinct] = finding.InfoNumber(o.metric)
		f.Service.AdditionalInfo["vigilRejected"] = st.rejected
		s.env.emit(s.det, o, f)
	}
}

func (s *portProbeShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *portProbeShard) flush()                            { s.k.flush() }
func (s *portProbeShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *portProbeShard) stats() int64                      { return s.k.stats() }

// threatEvidence is service.evidence for a threat-list match.
func threatEvidence(m intel.Entry) *finding.ServiceEvidence {
	d := finding.ThreatIntelligenceDetail{ThreatListName: m.List}
	if m.Threat != "" {
		d.ThreatNames = []string{m.Threat}
	}
	return &finding.ServiceEvidence{ThreatIntelligenceDetails: []finding.ThreatIntelligenceDetail{d}}
}

// ---- Backdoor:EC2/DenialOfService.* ----

type dosParams struct {
	// MinPackets is, per variant, the packets an instance must send to one
	// internet host within the window.
	MinPackets dosThresholds `yaml:"minPackets"`
	// MaxReplyShare is the most the target may answer, as a share of what it was
	// sent: a flood is one-way; a VPN, a video call or a download is not.
	MaxReplyShare float64 `yaml:"maxReplyShare"`
	// MaxSYNPacketBytes: TCP traffic whose average packet is no larger is a SYN
	// flood (header-only packets) even when the target answers each SYN.
	MaxSYNPacketBytes int64 `yaml:"maxSynPacketBytes"`
	// UDPOnTCPPorts are ports whose services speak TCP: UDP to them is
	// DenialOfService.UdpOnTcpPorts. 80 and 443 are not in the list: QUIC (HTTP/3)
	// is UDP on 443, and AWS's tester expects .Udp for its flood of udp/80.
	UDPOnTCPPorts []int `yaml:"udpOnTcpPorts"`
	// UsualProtocols are the IP protocols that are not "unusual" (ICMP, TCP, UDP,
	// GRE, ESP, AH, ICMPv6, SCTP).
	UsualProtocols []int `yaml:"usualProtocols"`
}

type dosThresholds struct {
	TCP             int64 `yaml:"tcp"`
	UDP             int64 `yaml:"udp"`
	DNS             int64 `yaml:"dns"`
	UDPOnTCPPorts   int64 `yaml:"udpOnTcpPorts"`
	UnusualProtocol int64 `yaml:"unusualProtocol"`
}

// The DoS variants.
const (
	dosTCP uint8 = iota + 1
	dosUDP
	dosDNS
	dosUDPOnTCP
	dosUnusual
)

var dosTypes = [...]finding.Type{
	dosTCP:      "Backdoor:EC2/DenialOfService.Tcp",
	dosUDP:      "Backdoor:EC2/DenialOfService.Udp",
	dosDNS:      "Backdoor:EC2/DenialOfService.Dns",
	dosUDPOnTCP: "Backdoor:EC2/DenialOfService.UdpOnTcpPorts",
	dosUnusual:  "Backdoor:EC2/DenialOfService.UnusualProtocol",
}

type dos struct {
	rule *Rule
	p    *dosParams
	e    *Engine
}

func (d *dos) variant(proto uint8, remotePort uint16) uint8 {
	switch proto {
	case 6:
		return dosTCP
	case 17:
		switch {
		case remotePort == 53:
			return dosDNS
		case slices.Contains(d.p.UDPOnTCPPorts, int(remotePort)):
			return dosUDPOnTCP
		}
		return dosUDP
	}
	if slices.Contains(d.p.UsualProtocols, int(proto)) {
		return 0
	}
	return dosUnusual
}

func (d *dos) min(v uint8) int64 {
	m := d.p.MinPackets
	switch v {
	case dosTCP:
		return m.TCP
	case dosUDP:
		return m.UDP
	case dosDNS:
		return m.DNS
	case dosUDPOnTCP:
		return m.UDPOnTCPPorts
	}
	return m.UnusualProtocol
}

// orient tells, for a DoS detector, which end of a flow record is ours and
// whether the record is counted here: traffic between one of ours and an
// internet host, at one observation point per flow (the interface of our end;
// NAT inside legs, which repeat the instance's own records, are not counted).
func orient(r *rec) (out bool, ok bool) {
	switch {
	case r.dstPub && !r.srcPub:
		return true, r.local == sideSrc || r.local == sideNone && !r.relayed
	case r.srcPub && !r.dstPub:
		return false, r.local == sideDst || r.local == sideNone && !r.relayed
	}
	return false, false
}

// gate: orient's traffic between one end of ours and an internet host.
func (d *dos) gate() flowGate { return flowGate{pub: pubSrc | pubDst} }

func (d *dos) route(r *rec, de *detEntry) (gkey, bool) {
	out, ok := orient(r)
	if !ok {
		return gkey{}, false
	}
	f := r.flow
	ours, rport := f.SrcAddr, f.DstPort
	if !out {
		ours, rport = f.DstAddr, f.SrcPort
	}
	v := d.variant(f.Protocol, rport)
	if v == 0 || !de.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	h.u64(window.HashAddr(ours))
	h.u64(uint64(v))
	return h.sum(), true
}

// dosTop is how many remote hosts per instance and variant the detector
// follows within a window (Space-Saving): a flood dominates its instance's
// traffic, so it is always among them, and the memory per instance is fixed
// whatever the number of hosts it talks to.
const dosTop = 8

// dosState is one instance's traffic of one variant: the heaviest remote hosts
// of the current window (epoch-aligned, the rule's window long), and the floods
// being followed.
type dosState struct {
	ours    sideInfo
	variant uint8
	win     int64
	top     [dosTop]dosEntry
	n       int
	floods  []*dosFlood
}

// dosEntry is a remote host's counts in the window. Space-Saving may have
// replaced a lighter host by this one: out then over-counts by at most err, so
// out-err is a floor of the host's true count, and only the floor is judged.
type dosEntry struct {
	remote           netip.Addr
	out, err, in, by int64
}

// dosFlood is one flood being followed: its occurrence and totals.
type dosFlood struct {
	remote         netip.Addr
	occ            *occurrence
	out, in, bytes int64
}

func (d *dos) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &dosShard{d: d, env: env, det: det, win: win}
	s.k = newKeyed(env, 2*win, win,
		func(st *dosState) { *st = dosState{floods: st.floods[:0]} },
		s.raise)
	return s
}

type dosShard struct {
	d   *dos
	env *shardEnv
	det int
	win int64
	k   *keyed[dosState]
}

func (s *dosShard) observe(r *rec, key gkey) {
	out, _ := orient(r)
	f := r.flow
	e := s.k.get(key, r.time)
	st := &e.s
	if w := r.time / s.win; w > st.win {
		st.win, st.n = w, 0 // a new window: counts start over; floods go on
	}
	remote := f.DstAddr
	if out {
		st.ours.note(r, sideSrc)
		st.variant = s.d.variant(f.Protocol, f.DstPort)
	} else {
		remote = f.SrcAddr
		st.ours.note(r, sideDst)
	}
	i := 0
	for i < st.n && st.top[i].remote != remote {
		i++
	}
	switch {
	case i < st.n:
	case !out:
		i = -1 // a reply from a host not followed: nothing to weigh it against
	case st.n < dosTop:
		st.top[i] = dosEntry{remote: remote}
		st.n++
	default:
		i = 0
		for j := 1; j < dosTop; j++ {
			if st.top[j].out < st.top[i].out {
				i = j
			}
		}
		st.top[i] = dosEntry{remote: remote, out: st.top[i].out, err: st.top[i].out}
	}
	var fl *dosFlood
	for _, x := range st.floods {
		if x.remote == remote {
			fl = x
		}
	}
	if i >= 0 {
		en := &st.top[i]
		if out {
			en.out += f.Packets
			en.by += f.Bytes
		} else {
			en.in += f.Packets
		}
		floor := en.out - en.err
		if fl == nil && out && floor >= s.d.min(st.variant) && s.flood(floor, en.in, en.by, st.variant) {
			fl = &dosFlood{remote: remote, occ: newOccurrence(r), out: floor - f.Packets, in: en.in, bytes: en.by - f.Bytes}
			fl.occ.first = min(e.first, r.time)
			st.floods = append(st.floods, fl)
		}
	}
	if fl == nil {
		return
	}
	if out {
		fl.out += f.Packets
		fl.bytes += f.Bytes
		fl.occ.note(r, s.d.rule)
		e.occ = fl.occ // the key holds open floods; the latest decides when it is quiet
	} else {
		fl.in += f.Packets
	}
	fl.occ.metric = max(fl.occ.metric, float64(fl.out))
	// A flood is not raised early (RaiseAtThreshold): whether it is one is
	// known only at its end — a host that answers after all was not flooded.
}

// flood reports whether traffic to one host looks like a flood: one-way, or,
// for TCP, header-only packets.
func (s *dosShard) flood(out, in, bytes int64, v uint8) bool {
	if float64(in) <= s.d.p.MaxReplyShare*float64(out) {
		return true
	}
	return v == dosTCP && out > 0 && bytes/out <= s.d.p.MaxSYNPacketBytes
}

// raise raises every flood of the key (the key is quiet, evicted or flushed).
func (s *dosShard) raise(e *keyedEntry[dosState]) {
	st := &e.s
	for _, fl := range st.floods {
		s.raiseFlood(st, fl)
	}
	clear(st.floods)
	st.floods = st.floods[:0]
}

func (s *dosShard) raiseFlood(st *dosState, fl *dosFlood) {
	o := fl.occ
	if !s.flood(fl.out, fl.in, fl.bytes, st.variant) {
		return // the host answered after all: not a flood
	}
	res, acct, region, ok := s.d.e.resolveSide(&st.ours)
	if !ok {
		return
	}
	if _, trusted := s.d.e.deps.Intel.Trusted(fl.remote); trusted {
		return
	}
	ti, _ := finding.Lookup(dosTypes[st.variant])
	f := ti.New(acct, region, finding.Time(o.last))
	f.Resource.InstanceDetails = res
	f.Service.ResourceRole = finding.RoleActor
	other := sideInfo{addr: fl.remote}
	f.Service.Action.NetworkConnectionAction = s.d.e.networkAction(o, &st.ours, &other, true)
	s.d.e.finish(f, s.d.rule, o)
	info := f.Service.AdditionalInfo
	info["packetsOut"], info["packetsIn"], info["outBytes"] = fl.out, fl.in, fl.bytes
	info[finding.KeyVigilThreshold] = s.d.min(st.variant)
	s.env.emit(s.det, o, f)
}

func (s *dosShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *dosShard) flush()                            { s.k.flush() }
func (s *dosShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *dosShard) stats() int64                      { return s.k.stats() }

// ---- threat-list addresses: C&C, mining, drop points, black holes, Tor, custom ----

type ipIntelParams struct {
	// MinRelayPeers is how many distinct Tor nodes an instance must exchange
	// accepted traffic with, inbound, within the window to be a Tor relay.
	MinRelayPeers int `yaml:"minRelayPeers"`
}

type ipIntel struct {
	rule *Rule
	p    *ipIntelParams
	e    *Engine
}

// flowTypeOf maps a threat entry to the flow finding type it implies: the
// built-in lists name a type (a !DNS type maps to its flow sibling), a Tor list
// means TorClient, any other user list MaliciousIPCaller.Custom.
func flowTypeOf(m intel.Entry) finding.Type {
	switch m.Finding {
	case "Backdoor:EC2/C&CActivity.B!DNS", "Backdoor:EC2/C&CActivity.B":
		return "Backdoor:EC2/C&CActivity.B"
	case "CryptoCurrency:EC2/BitcoinTool.B!DNS", "CryptoCurrency:EC2/BitcoinTool.B":
		return "CryptoCurrency:EC2/BitcoinTool.B"
	case "Trojan:EC2/DropPoint!DNS", "Trojan:EC2/DropPoint":
		return "Trojan:EC2/DropPoint"
	case "Trojan:EC2/BlackholeTraffic!DNS", "Trojan:EC2/BlackholeTraffic":
		return "Trojan:EC2/BlackholeTraffic"
	case "UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/TorRelay":
		return m.Finding
	}
	if isTor(m) {
		return "UnauthorizedAccess:EC2/TorClient"
	}
	return "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
}

// isTor reports whether an entry comes from a Tor node list: the Tor Project's
// exit-address document, or a list or threat named after Tor.
func isTor(m intel.Entry) bool {
	return containsWord(m.Threat, "tor") || containsWord(m.List, "tor")
}

// gate: the two cases of route, outbound to or inbound from an internet host.
func (d *ipIntel) gate() flowGate { return flowGate{pub: pubSrc | pubDst} }

func (d *ipIntel) route(r *rec, de *detEntry) (gkey, bool) {
	f := r.flow
	var ours, remote netip.Addr
	switch {
	case r.request && r.dstPub && !r.srcPub:
		ours, remote = f.SrcAddr, f.DstAddr
	case r.srcPub && !r.dstPub && f.Action == record.ActionAccept:
		ours, remote = f.DstAddr, f.SrcAddr // inbound: Tor relays only
	default:
		return gkey{}, false
	}
	m, ok := d.e.deps.Intel.Match(remote)
	if !ok {
		return gkey{}, false
	}
	typ := flowTypeOf(m)
	if ours == f.DstAddr && typ != "UnauthorizedAccess:EC2/TorClient" {
		return gkey{}, false // inbound from a listed address: only a Tor relay's pattern counts
	}
	if !de.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	h.u64(window.HashAddr(ours))
	if ours == f.SrcAddr {
		h.u64(window.HashAddr(remote)) // one finding per remote address
	}
	return h.sum(), true
}

type ipIntelState struct {
	ours    sideInfo
	remote  netip.Addr
	entry   intel.Entry
	typ     finding.Type
	relays  window.DistinctSet // inbound Tor peers
	inbound bool
}

func (d *ipIntel) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &ipIntelShard{d: d, env: env, det: det}
	s.k = newKeyed(env, 2*win, win,
		func(st *ipIntelState) {
			*st = ipIntelState{relays: st.relays}
			st.relays.Init(window.DistinctConfig{Window: win, ExactLimit: 64})
		},
		s.raise)
	return s
}

type ipIntelShard struct {
	d   *ipIntel
	env *shardEnv
	det int
	k   *keyed[ipIntelState]
}

func (s *ipIntelShard) observe(r *rec, key gkey) {
	f := r.flow
	e := s.k.get(key, r.time)
	st := &e.s
	inbound := r.srcPub && !r.dstPub && !(r.request && r.dstPub)
	remote := f.DstAddr
	if inbound {
		remote = f.SrcAddr
		st.ours.note(r, sideDst)
	} else {
		st.ours.note(r, sideSrc)
	}
	m, _ := s.d.e.deps.Intel.Match(remote)
	typ := flowTypeOf(m)
	if inbound {
		st.relays.Add(window.HashAddr(remote), r.time)
		if st.relays.Count() < s.d.p.MinRelayPeers && e.occ == nil {
			return
		}
		typ = "UnauthorizedAccess:EC2/TorRelay"
	}
	st.remote, st.entry, st.typ, st.inbound = remote, m, typ, inbound
	if e.occ == nil {
		e.open(r)
	}
	e.occ.note(r, s.d.rule)
	s.k.announce(e)
}

func (s *ipIntelShard) raise(e *keyedEntry[ipIntelState]) {
	st, o := &e.s, e.occ
	res, acct, region, ok := s.d.e.resolveSide(&st.ours)
	if !ok {
		return
	}
	ti, _ := finding.Lookup(st.typ)
	f := ti.New(acct, region, finding.Time(o.last))
	f.Resource.InstanceDetails = res
	f.Service.ResourceRole = finding.RoleActor
	other := sideInfo{addr: st.remote}
	f.Service.Action.NetworkConnectionAction = s.d.e.networkAction(o, &st.ours, &other, !st.inbound)
	f.Service.Evidence = threatEvidence(st.entry)
	s.d.e.finish(f, s.d.rule, o)
	f.Service.AdditionalInfo["threatListName"] = st.entry.List
	if st.entry.Threat != "" {
		f.Service.AdditionalInfo["threatName"] = st.entry.Threat
	}
	if st.inbound {
		f.Service.AdditionalInfo[finding.KeyVigilDistinct] = st.relays.Count()
	}
	s.env.emit(s.det, o, f)
}

func (s *ipIntelShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *ipIntelShard) flush()                            { s.k.flush() }
func (s *ipIntelShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *ipIntelShard) stats() int64                      { return s.k.stats() }

// containsWord reports whether s contains w as a word (case-insensitive),
// bounded by non-letters: "Tor exit node" and "tor-exits" contain "tor",
// "Monitored" does not.
func containsWord(s, w string) bool {
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i := 0; i+len(w) <= len(s); i++ {
		if !equalFoldASCII(s[i:i+len(w)], w) {
			continue
		}
		if (i == 0 || !isLetter(s[i-1])) && (i+len(w) == len(s) || !isLetter(s[i+len(w)])) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
