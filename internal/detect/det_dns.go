package detect

import (
	"errors"
	"math"
	"strings"

	"github.com/vigil-dev/vigil/internal/detect/window"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/record"
)

// This file holds the Go detectors over Route 53 Resolver query logs.

func init() {
	register(&goDetector{name: "dnsexfil", kind: record.KindDNS,
		types: []finding.Type{"Trojan:EC2/DNSDataExfiltration"},
		newParams: func() any {
			return &dnsExfilParams{MinLabelLength: 30, MinEntropy: 3.5, MinNames: 50, AllowSuffixes: defaultDNSAllow()}
		},
		check: func(r *Rule, p any) error {
			dp := p.(*dnsExfilParams)
			if dp.MinLabelLength < 1 || dp.MinLabelLength > 63 {
				return errors.New("minLabelLength must be 1 to 63 (a DNS label is at most 63 characters)")
			}
			if dp.MinNames < 1 {
				return errors.New("minNames must be at least 1")
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector {
			dp := p.(*dnsExfilParams)
			return &dnsExfil{rule: r, p: dp, e: e, allow: newSuffixSet(dp.AllowSuffixes)}
		},
	})
	register(&goDetector{name: "dga", kind: record.KindDNS,
		types: []finding.Type{"Trojan:EC2/DGADomainRequest.B"},
		newParams: func() any {
			return &dgaParams{MinDomains: 10, MinLength: 10, MinEntropy: 3.2, NXDomainOnly: true, AllowSuffixes: defaultDNSAllow()}
		},
		check: func(r *Rule, p any) error {
			dp := p.(*dgaParams)
			if dp.MinDomains < 1 || dp.MinLength < 1 {
				return errors.New("minDomains and minLength must be at least 1")
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector {
			dp := p.(*dgaParams)
			return &dga{rule: r, p: dp, e: e, allow: newSuffixSet(dp.AllowSuffixes)}
		},
	})
	register(&goDetector{name: "dnsintel", kind: record.KindDNS,
		types:     []finding.Type{"Backdoor:EC2/C&CActivity.B!DNS", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "Impact:EC2/AbusedDomainRequest.Reputation", "Impact:EC2/BitcoinDomainRequest.Reputation", "Impact:EC2/MaliciousDomainRequest.Reputation", "Impact:EC2/SuspiciousDomainRequest.Reputation", "Trojan:EC2/DropPoint!DNS", "Trojan:EC2/BlackholeTraffic!DNS", "Trojan:EC2/PhishingDomainRequest!DNS", "Trojan:EC2/DriveBySourceTraffic!DNS", "Trojan:EC2/DGADomainRequest.C!DNS", "Impact:EC2/MaliciousDomainRequest.Custom"},
		newParams: func() any { return &struct{}{} },
		check:     func(r *Rule, p any) error { return needWindow(r) },
		build:     func(r *Rule, p any, e *Engine) detector { return &dnsIntel{rule: r, e: e} },
	})
}

// defaultDNSAllow are registered domains whose long, random-looking names are
// benign by design: anti-virus and reputation look-ups (file hashes and URLs
// encoded in names), DNS block lists, and cloud and CDN host names.
func defaultDNSAllow() []string {
	return []string{
		// Anti-virus, file and URL reputation services that query by DNS.
		"cymru.com", "sophosxl.net", "mcafee.com", "trendmicro.com", "trendmicro.net",
		"eset.com", "e5.sk", "kaspersky-labs.com", "kaspersky.com", "webroot.com",
		"avast.com", "avg.com", "bitdefender.net", "mailshell.net", "senderbase.org",
		"spamhaus.org", "spamhaus.net", "surbl.org", "uribl.com", "dnswl.org",
		"spamcop.net", "barracudacentral.org", "sorbs.net", "abuseat.org",
		// Clouds and CDNs, whose host names carry hashes and ids.
		"amazonaws.com", "cloudfront.net", "akamaiedge.net", "akamai.net", "akadns.net",
		"edgekey.net", "edgesuite.net", "azureedge.net", "azure.com", "windows.net",
		"cloudapp.net", "googleapis.com", "googleusercontent.com", "gvt1.com",
		"fastly.net", "cloudflare.net", "azurefd.net", "trafficmanager.net",
		// Internal and reverse zones.
		"in-addr.arpa", "ip6.arpa", "internal", "local",
	}
}

// suffixSet matches a name against registered-domain suffixes on label
// boundaries.
type suffixSet map[string]struct{}

func newSuffixSet(ss []string) suffixSet {
	m := make(suffixSet, len(ss))
	for _, s := range ss {
		m[strings.Trim(strings.ToLower(s), ".")] = struct{}{}
	}
	return m
}

func (s suffixSet) has(name string) bool {
	for {
		if _, ok := s[name]; ok {
			return true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}

// entropy returns the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// longestLabel returns the longest label of a name.
func longestLabel(name string) string {
	best := ""
	for name != "" {
		l, rest, _ := strings.Cut(name, ".")
		if len(l) > len(best) {
			best = l
		}
		name = rest
	}
	return best
}

// dnsKey hashes the account, the querying host and more.
func dnsKey(r *rec) keyHash {
	q := r.dns
	h := r.keyHash()
	if q.SrcInstance != "" {
		h.str(q.SrcInstance)
	} else {
		h.u64(window.HashAddr(q.SrcAddr))
	}
	return h
}

// ---- Trojan:EC2/DNSDataExfiltration ----

type dnsExfilParams struct {
	// MinLabelLength: a name qualifies when its longest label is at least this long.
	MinLabelLength int `yaml:"minLabelLength"`
	// MinEntropy: …and that label's Shannon entropy is at least this, in bits per
	// character (random base64 ≈ 5, random hex ≈ 3.7, English words ≈ 3).
	MinEntropy float64 `yaml:"minEntropy"`
	// MinNames is how many distinct qualifying names under one registered domain
	// one host must ask within the window.
	MinNames int `yaml:"minNames"`
	// AllowSuffixes are registered domains never judged (anti-virus hash
	// look-ups, block lists, CDN names).
	AllowSuffixes []string `yaml:"allowSuffixes"`
}

type dnsExfil struct {
	rule  *Rule
	p     *dnsExfilParams
	e     *Engine
	allow suffixSet
}

// qualifies reports whether a query name looks like encoded data.
func (d *dnsExfil) qualifies(name string) bool {
	l := longestLabel(name)
	return len(l) >= d.p.MinLabelLength && entropy(l) >= d.p.MinEntropy
}

func (d *dnsExfil) route(r *rec, de *detEntry) (gkey, bool) {
	if !d.qualifies(r.name) || d.allow.has(r.name) {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	if _, ok := d.e.deps.Intel.TrustedDomain(r.name); ok {
		return gkey{}, false
	}
	h := dnsKey(r)
	h.str(registered(r.name))
	return h.sum(), true
}

type namesState struct {
	names window.DistinctSet
}

func (d *dnsExfil) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &countShard{rule: d.rule, e: d.e, env: env, det: det, min: d.p.MinNames}
	s.k = newKeyed(env, 2*win, win, func(st *namesState) {
		*st = namesState{names: st.names}
		st.names.Init(window.DistinctConfig{Window: win, ExactLimit: 512})
	}, s.raise)
	s.value = func(r *rec) uint64 { return window.HashString(r.name) }
	return s
}

// countShard counts distinct values per key (names, registered domains) and
// raises a DNS finding when a key reaches min.
type countShard struct {
	rule  *Rule
	e     *Engine
	env   *shardEnv
	det   int
	min   int
	k     *keyed[namesState]
	value func(r *rec) uint64
}

func (s *countShard) observe(r *rec, key gkey) {
	e := s.k.get(key, r.time)
	e.s.names.Add(s.value(r), r.time)
	n := e.s.names.Count()
	if e.occ == nil && n >= s.min {
		e.open(r)
	}
	if e.occ != nil {
		e.occ.note(r, s.rule)
		e.occ.metric = max(e.occ.metric, float64(n))
		s.k.announce(e)
	}
}

func (s *countShard) raise(e *keyedEntry[namesState]) {
	o := e.occ
	res, acct, region, ok := s.e.resolveDNS(o.dns)
	if !ok {
		return
	}
	ti, _ := finding.Lookup(s.rule.Finding.Type)
	f := ti.New(acct, region, finding.Time(o.last))
	f.Resource.InstanceDetails = res
	f.Service.ResourceRole = finding.RoleActor
	f.Service.Action.DNSRequestAction = dnsAction(o.dns)
	s.e.finish(f, s.rule, o)
	f.Service.AdditionalInfo[finding.KeyVigilDistinct] = finding.InfoNumber(o.metric)
	f.Service.AdditionalInfo[finding.KeyVigilThreshold] = s.min
	s.env.emit(s.det, o, f)
}

func (s *countShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *countShard) flush()                            { s.k.flush() }
func (s *countShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *countShard) stats() int64                      { return s.k.stats() }

// ---- Trojan:EC2/DGADomainRequest.B ----

type dgaParams struct {
	// MinDomains is how many distinct algorithmic-looking registered domains one
	// host must ask within the window.
	MinDomains int `yaml:"minDomains"`
	// MinLength and MinEntropy: the registered domain's first label must be at
	// least this long and this random (bits per character) to look generated.
	MinLength  int     `yaml:"minLength"`
	MinEntropy float64 `yaml:"minEntropy"`
	// NXDomainOnly counts only names that do not exist: DGA malware tries many
	// domains of which its operator registered few.
	NXDomainOnly bool `yaml:"nxdomainOnly"`
	// AllowSuffixes are registered domains never judged.
	AllowSuffixes []string `yaml:"allowSuffixes"`
}

type dga struct {
	rule  *Rule
	p     *dgaParams
	e     *Engine
	allow suffixSet
}

// generated reports whether a registered domain's label looks algorithmic:
// long, high-entropy, and unlike a word (few vowels, or digits mixed in, or a
// long run of consonants).
func (d *dga) generated(label string) bool {
	if len(label) < d.p.MinLength || entropy(label) < d.p.MinEntropy {
		return false
	}
	vowels, digits, run, maxRun := 0, 0, 0, 0
	for i := 0; i < len(label); i++ {
		switch c := label[i]; {
		case strings.IndexByte("aeiouy", c) >= 0:
			vowels++
			run = 0
		case c >= '0' && c <= '9':
			digits++
			run = 0
		case c == '-':
			run = 0
		default:
			run++
			maxRun = max(maxRun, run)
		}
	}
	n := float64(len(label))
	return float64(vowels)/n < 0.25 || digits >= 3 && digits < len(label) || maxRun >= 5
}

func (d *dga) route(r *rec, de *detEntry) (gkey, bool) {
	q := r.dns
	if d.p.NXDomainOnly && q.RCode != "NXDOMAIN" {
		return gkey{}, false
	}
	if d.allow.has(r.name) {
		return gkey{}, false
	}
	reg := registered(r.name)
	label, _, _ := strings.Cut(reg, ".")
	if !d.generated(label) {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	if _, ok := d.e.deps.Intel.TrustedDomain(r.name); ok {
		return gkey{}, false
	}
	h := dnsKey(r)
	return h.sum(), true
}

func (d *dga) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &countShard{rule: d.rule, e: d.e, env: env, det: det, min: d.p.MinDomains}
	s.k = newKeyed(env, 2*win, win, func(st *namesState) {
		*st = namesState{names: st.names}
		st.names.Init(window.DistinctConfig{Window: win, ExactLimit: 128})
	}, s.raise)
	s.value = func(r *rec) uint64 { return window.HashString(registered(r.name)) }
	return s
}

// ---- threat-list domains ----

// dnsIntel raises the finding type a threat list gives a queried domain: the
// built-in lists name GuardDuty's type for each of their domains (C&C, mining,
// drop point, phishing, DGA, the reputation types…); a domain on a user's list
// raises Impact:EC2/MaliciousDomainRequest.Custom. Repeated look-ups of one
// domain by one host within the window are one occurrence.
type dnsIntel struct {
	rule *Rule
	e    *Engine
}

// dnsTypeOf is the DNS finding type of a threat entry.
func dnsTypeOf(m intel.Entry) finding.Type {
	if ti, ok := finding.Lookup(m.Finding); ok && ti.Source == finding.SourceDNSLogs {
		return m.Finding
	}
	switch m.Finding {
	case "Backdoor:EC2/C&CActivity.B":
		return "Backdoor:EC2/C&CActivity.B!DNS"
	case "CryptoCurrency:EC2/BitcoinTool.B":
		return "CryptoCurrency:EC2/BitcoinTool.B!DNS"
	case "Trojan:EC2/DropPoint":
		return "Trojan:EC2/DropPoint!DNS"
	case "Trojan:EC2/BlackholeTraffic":
		return "Trojan:EC2/BlackholeTraffic!DNS"
	}
	return "Impact:EC2/MaliciousDomainRequest.Custom"
}

func (d *dnsIntel) route(r *rec, de *detEntry) (gkey, bool) {
	m, ok := d.e.deps.Intel.MatchDomain(r.name)
	if !ok {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	h := dnsKey(r)
	h.str(r.name)
	h.str(m.List)
	return h.sum(), true
}

type dnsIntelState struct {
	entry intel.Entry
}

func (d *dnsIntel) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &dnsIntelShard{d: d, env: env, det: det}
	s.k = newKeyed(env, 2*win, win, nil, s.raise)
	return s
}

type dnsIntelShard struct {
	d   *dnsIntel
	env *shardEnv
	det int
	k   *keyed[dnsIntelState]
}

func (s *dnsIntelShard) observe(r *rec, key gkey) {
	e := s.k.get(key, r.time)
	if e.occ == nil {
		e.open(r)
		e.s.entry, _ = s.d.e.deps.Intel.MatchDomain(r.name)
	}
	e.occ.note(r, s.d.rule)
	s.k.announce(e)
}

func (s *dnsIntelShard) raise(e *keyedEntry[dnsIntelState]) {
	o, m := e.occ, e.s.entry
	res, acct, region, ok := s.d.e.resolveDNS(o.dns)
	if !ok {
		return
	}
	ti, _ := finding.Lookup(dnsTypeOf(m))
	f := ti.New(acct, region, finding.Time(o.last))
	f.Resource.InstanceDetails = res
	f.Service.ResourceRole = finding.RoleActor
	f.Service.Action.DNSRequestAction = dnsAction(o.dns)
	f.Service.Evidence = threatEvidence(m)
	s.d.e.finish(f, s.d.rule, o)
	f.Service.AdditionalInfo["threatListName"] = m.List
	if m.Threat != "" {
		f.Service.AdditionalInfo["threatName"] = m.Threat
	}
	f.Service.AdditionalInfo["domain"] = m.Value()
	s.env.emit(s.det, o, f)
}

func (s *dnsIntelShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *dnsIntelShard) flush()                            { s.k.flush() }
func (s *dnsIntelShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *dnsIntelShard) stats() int64                      { return s.k.stats() }
