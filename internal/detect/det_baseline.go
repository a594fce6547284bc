package detect

import (
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/vigil-dev/vigil/internal/detect/window"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/record"
)

// The baseline detector learns, per instance, what its outbound traffic to the
// internet normally is, then flags deviations: a remote port it never used
// (Behavior:EC2/NetworkPortUnusual) and an hour with far more bytes sent than
// any hour it was learning (Behavior:EC2/TrafficVolumeUnusual). GuardDuty's
// versions are machine-learned and unpublished; this one is simple on purpose
// and says what it learned in the finding.

func init() {
	register(&goDetector{name: "baseline", kind: record.KindFlow,
		types: []finding.Type{"Behavior:EC2/NetworkPortUnusual", "Behavior:EC2/TrafficVolumeUnusual"},
		newParams: func() any {
			return &baselineParams{LearningPeriod: 24 * time.Hour, MaxPorts: 256, MinHourlyBytes: 1 << 30, VolumeFactor: 10}
		},
		check: func(r *Rule, p any) error {
			bp := p.(*baselineParams)
			switch {
			case bp.LearningPeriod <= 0:
				return errors.New("learningPeriod must be positive")
			case bp.MaxPorts < 1 || bp.MaxPorts > 4096:
				return errors.New("maxPorts must be 1 to 4096")
			case bp.VolumeFactor < 1:
				return errors.New("volumeFactor must be at least 1")
			}
			return checkPorts("ignorePorts", bp.IgnorePorts)
		},
		build: func(r *Rule, p any, e *Engine) detector { return &baseline{rule: r, p: p.(*baselineParams), e: e} },
	})
}

type baselineParams struct {
	// LearningPeriod is how long, from an instance's first record, its traffic is
	// learned before deviations are flagged.
	LearningPeriod time.Duration `yaml:"learningPeriod"`
	// MaxPorts bounds the remote ports learned per instance; an instance that
	// uses more (a proxy, a crawler) is not judged on ports.
	MaxPorts int `yaml:"maxPorts"`
	// IgnorePorts are remote ports never unusual (e.g. 443 everywhere).
	IgnorePorts []int `yaml:"ignorePorts"`
	// MinHourlyBytes and VolumeFactor: an hour is unusual when the instance sends
	// more than both MinHourlyBytes and VolumeFactor times its busiest learned hour.
	MinHourlyBytes int64   `yaml:"minHourlyBytes"`
	VolumeFactor   float64 `yaml:"volumeFactor"`
}

type baseline struct {
	rule *Rule
	p    *baselineParams
	e    *Engine
}

// gate: the first checks of route.
func (d *baseline) gate() flowGate {
	return flowGate{request: true, pub: pubDst, proto: protocols(6, 17)}
}

// route takes an instance's outbound requests to internet hosts, once per flow,
// except traffic to AWS services through gateway endpoints (traffic-path 7) or
// named by pkt-dst-aws-service: backups to S3 are not unusual volume.
func (d *baseline) route(r *rec, de *detEntry) (gkey, bool) {
	f := r.flow
	if !r.request || !r.dstPub || r.srcPub || !(r.local == sideSrc || r.local == sideNone && !r.relayed) {
		return gkey{}, false
	}
	// (Absent fields are zero; testing Present first spares reading the
	// record's later cache lines, which most formats do not fill.)
	if f.Present.Has(record.FlowTrafficPath) && f.TrafficPath == 7 ||
		f.Present.Has(record.FlowPktDstAWSService) && f.PktDstAWSService != "" || f.Protocol != 6 && f.Protocol != 17 {
		return gkey{}, false
	}
	if !de.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	h.u64(window.HashAddr(f.SrcAddr))
	return h.sum(), true
}

type baselineState struct {
	ours      sideInfo
	firstSeen int64
	ports     []uint16 // sorted
	portsFull bool
	learned   int64 // busiest learned hour, bytes
	hour      int64
	bytes     int64 // this hour
	top       [4]dosEntry
	volRemote netip.Addr
}

const hourMs = 3600_000

func (d *baseline) newShard(env *shardEnv, det int) shardDetector {
	s := &baselineShard{d: d, env: env, det: det}
	// Keys live as long as the learning they hold is worth keeping.
	ttl := max(d.p.LearningPeriod.Milliseconds()*7, 7*24*hourMs)
	s.k = newKeyed(env, ttl, hourMs, func(st *baselineState) { *st = baselineState{ports: st.ports[:0]} }, s.raise)
	return s
}

type baselineShard struct {
	d   *baseline
	env *shardEnv
	det int
	k   *keyed[baselineState]
}

func (s *baselineShard) observe(r *rec, key gkey) {
	f := r.flow
	e := s.k.get(key, r.time)
	st := &e.s
	st.ours.note(r, sideSrc)
	if st.firstSeen == 0 || r.time < st.firstSeen {
		st.firstSeen = r.time
	}
	learning := r.time < st.firstSeen+s.d.p.LearningPeriod.Milliseconds()

	// Ports.
	port := f.DstPort
	if i, found := slices.BinarySearch(st.ports, port); !found && !st.portsFull && !slices.Contains(s.d.p.IgnorePorts, int(port)) {
		if len(st.ports) >= s.d.p.MaxPorts {
			st.portsFull = true
		} else {
			st.ports = slices.Insert(st.ports, i, port)
			if !learning {
				s.portFinding(r, st)
			}
		}
	}

	// Volume, by hour.
	if h := r.time / hourMs; h > st.hour {
		if st.hour != 0 && st.hour*hourMs < st.firstSeen+s.d.p.LearningPeriod.Milliseconds() {
			st.learned = max(st.learned, st.bytes) // the hour that ended was a learning hour
		}
		st.hour, st.bytes, st.top = h, 0, [4]dosEntry{}
	}
	st.bytes += f.Bytes
	addTop(&st.top, f.DstAddr, f.Bytes)
	limit := max(float64(s.d.p.MinHourlyBytes), s.d.p.VolumeFactor*float64(st.learned))
	if !learning && float64(st.bytes) > limit {
		if e.occ == nil {
			e.open(r)
		}
		e.occ.note(r, s.d.rule)
		e.occ.metric = max(e.occ.metric, float64(st.bytes))
		st.volRemote = st.top[0].remote
		for _, t := range st.top {
			if t.by > 0 && t.remote.IsValid() && t.by > topBytes(st.top, st.volRemote) {
				st.volRemote = t.remote
			}
		}
		s.k.announce(e)
	}
}

func topBytes(top [4]dosEntry, a netip.Addr) int64 {
	for _, t := range top {
		if t.remote == a {
			return t.by
		}
	}
	return 0
}

// addTop counts bytes to a remote host in a Space-Saving table of four.
func addTop(top *[4]dosEntry, remote netip.Addr, b int64) {
	m := 0
	for i := range top {
		if top[i].remote == remote {
			top[i].by += b
			return
		}
		if top[i].by < top[m].by {
			m = i
		}
	}
	top[m] = dosEntry{remote: remote, by: top[m].by + b, err: top[m].by}
}

func (s *baselineShard) portFinding(r *rec, st *baselineState) {
	res, acct, region, ok := s.d.e.resolveSide(&st.ours)
	if !ok {
		return
	}
	if _, trusted := s.d.e.deps.Intel.Trusted(r.flow.DstAddr); trusted {
		return
	}
	o := newOccurrence(r)
	o.note(r, s.d.rule)
	ti, _ := finding.Lookup("Behavior:EC2/NetworkPortUnusual")
	f := ti.New(acct, region, finding.Time(o.last))
	f.Resource.InstanceDetails = res
	f.Service.ResourceRole = finding.RoleActor
	other := sideInfo{addr: r.flow.DstAddr}
	f.Service.Action.NetworkConnectionAction = s.d.e.networkAction(o, &st.ours, &other, true)
	s.d.e.finish(f, s.d.rule, o)
	if p := r.flow.DstPort; p == 389 || p == 1389 {
		f.Service.AdditionalInfo["context"] = "Possible log4j callback"
	}
	f.Service.AdditionalInfo["unusual.port"] = int64(r.flow.DstPort)
	f.Service.AdditionalInfo["vigilLearnedPorts"] = int64(len(st.ports) - 1)
	s.env.emit(s.det, o, f)
}

func (s *baselineShard) raise(e *keyedEntry[baselineState]) {
	st, o := &e.s, e.occ
	res, acct, region, ok := s.d.e.resolveSide(&st.ours)
	if !ok {
		return
	}
	ti, _ := finding.Lookup("Behavior:EC2/TrafficVolumeUnusual")
	f := ti.New(acct, region, finding.Time(o.last))
	f.Resource.InstanceDetails = res
	f.Service.ResourceRole = finding.RoleActor
	other := sideInfo{addr: st.volRemote}
	f.Service.Action.NetworkConnectionAction = s.d.e.networkAction(o, &st.ours, &other, true)
	s.d.e.finish(f, s.d.rule, o)
	f.Service.AdditionalInfo["outBytes"] = finding.InfoNumber(o.metric)
	f.Service.AdditionalInfo["vigilLearnedHourlyBytes"] = st.learned
	s.env.emit(s.det, o, f)
}

func (s *baselineShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *baselineShard) flush()                            { s.k.flush() }
func (s *baselineShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *baselineShard) stats() int64                      { return s.k.stats() }
