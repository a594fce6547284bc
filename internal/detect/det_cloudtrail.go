package detect

import (
	"encoding/json"
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/internal/detect/window"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/record"
)

// This file holds the Go detectors over CloudTrail events.

func init() {
	register(&goDetector{name: "apiintel", kind: record.KindAPICall,
		types:     []finding.Type{"Recon:IAMUser/MaliciousIPCaller", "Recon:IAMUser/MaliciousIPCaller.Custom", "Recon:IAMUser/TorIPCaller", "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "UnauthorizedAccess:IAMUser/TorIPCaller"},
		newParams: func() any { return &struct{}{} },
		check:     func(r *Rule, p any) error { return needWindow(r) },
		build:     func(r *Rule, p any, e *Engine) detector { return &apiIntel{rule: r, e: e} },
	})
	register(&goDetector{name: "credexfil", kind: record.KindAPICall,
		types:     []finding.Type{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"},
		newParams: func() any { return &credExfilParams{Learn: true} },
		check: func(r *Rule, p any) error {
			cp := p.(*credExfilParams)
			var err error
			cp.ignore, err = parsePrefixes("ignoreNetworks", cp.IgnoreNetworks)
			if err != nil {
				return err
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector { return &credExfil{rule: r, p: p.(*credExfilParams), e: e} },
	})
	register(&goDetector{name: "s3policy", kind: record.KindAPICall,
		types:     []finding.Type{"Policy:S3/BucketAnonymousAccessGranted", "Policy:S3/BucketPublicAccessGranted"},
		newParams: func() any { return &struct{}{} },
		build:     func(r *Rule, p any, e *Engine) detector { return &s3Policy{rule: r, e: e} },
	})
	register(&goDetector{name: "consolelogin", kind: record.KindAPICall,
		types:     []finding.Type{"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B"},
		newParams: func() any { return &consoleLoginParams{PrefixBitsV4: 16, PrefixBitsV6: 48} },
		check: func(r *Rule, p any) error {
			cp := p.(*consoleLoginParams)
			if cp.PrefixBitsV4 < 1 || cp.PrefixBitsV4 > 32 || cp.PrefixBitsV6 < 1 || cp.PrefixBitsV6 > 128 {
				return errors.New("prefixBitsV4 must be 1–32 and prefixBitsV6 1–128")
			}
			return needWindow(r)
		},
		build: func(r *Rule, p any, e *Engine) detector {
			return &consoleLogin{rule: r, p: p.(*consoleLoginParams), e: e}
		},
	})
}

// principalKey hashes the account and the caller's identity.
func principalKey(r *rec) keyHash {
	c := r.call
	h := r.keyHash()
	switch {
	case c.UserAccessKeyID != "":
		h.str(c.UserAccessKeyID)
	case c.UserPrincipalID != "":
		h.str(c.UserPrincipalID)
	default:
		h.str(c.UserARN)
	}
	return h
}

// isReconAPI reports whether an API only reads (List*, Describe*, Get*, or
// readOnly): GuardDuty's Recon: types are for those, UnauthorizedAccess: for the
// rest.
func isReconAPI(c *record.APICall) bool {
	n := c.EventName
	return c.ReadOnly == "true" || strings.HasPrefix(n, "List") || strings.HasPrefix(n, "Describe") ||
		strings.HasPrefix(n, "Get") || strings.HasPrefix(n, "Head")
}

// callOccurrence is the state of a keyed CloudTrail detector: the entry and type
// of the latest match.
type callState struct {
	entry intel.Entry
	typ   finding.Type
}

// ---- Recon:/UnauthorizedAccess:IAMUser/MaliciousIPCaller(.Custom), TorIPCaller ----

type apiIntel struct {
	rule *Rule
	e    *Engine
}

// apiTypeOf is the IAM finding type of an API call from a listed address.
func apiTypeOf(m intel.Entry, c *record.APICall) finding.Type {
	prefix := "UnauthorizedAccess:IAMUser/"
	if isReconAPI(c) {
		prefix = "Recon:IAMUser/"
	}
	switch {
	case isTor(m):
		return finding.Type(prefix + "TorIPCaller")
	case m.Finding == "":
		return finding.Type(prefix + "MaliciousIPCaller.Custom")
	}
	return finding.Type(prefix + "MaliciousIPCaller")
}

func (d *apiIntel) route(r *rec, de *detEntry) (gkey, bool) {
	c := r.call
	if !c.SourceIP.IsValid() || !isPublic(c.SourceIP) {
		return gkey{}, false
	}
	m, ok := d.e.deps.Intel.Match(c.SourceIP)
	if !ok {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	h := principalKey(r)
	h.u64(window.HashAddr(c.SourceIP))
	h.str(string(apiTypeOf(m, c)))
	return h.sum(), true
}

func (d *apiIntel) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &callShard{rule: d.rule, e: d.e, env: env, det: det}
	s.k = newKeyed(env, 2*win, win, nil, s.raise)
	s.match = func(c *record.APICall) (callState, bool) {
		m, ok := d.e.deps.Intel.Match(c.SourceIP)
		return callState{entry: m, typ: apiTypeOf(m, c)}, ok
	}
	return s
}

// callShard groups matching calls of a key into occurrences and raises an
// AccessKey finding of the matched type.
type callShard struct {
	rule  *Rule
	e     *Engine
	env   *shardEnv
	det   int
	k     *keyed[callState]
	match func(c *record.APICall) (callState, bool)
	// info adds detector-specific details to the finding.
	info func(f *finding.Finding, st *callState)
}

func (s *callShard) observe(r *rec, key gkey) {
	st, ok := s.match(r.call)
	if !ok {
		return
	}
	e := s.k.get(key, r.time)
	e.s = st
	if e.occ == nil {
		e.open(r)
	}
	e.occ.note(r, s.rule)
	s.k.announce(e)
}

func (s *callShard) raise(e *keyedEntry[callState]) {
	o, st := e.occ, &e.s
	c := o.call
	ak := accessKeyOf(c)
	if ak == nil {
		return
	}
	ti, _ := finding.Lookup(st.typ)
	f := ti.New(callAccount(c), regionOr(c.AWSRegion, s.e.cfg.Region), finding.Time(o.last))
	f.Resource.AccessKeyDetails = ak
	f.Service.ResourceRole = finding.RoleTarget
	f.Service.Action.AWSAPICallAction = apiAction(c)
	if st.entry.List != "" {
		f.Service.Evidence = threatEvidence(st.entry)
	}
	s.e.finish(f, s.rule, o)
	if st.entry.List != "" {
		f.Service.AdditionalInfo["threatListName"] = st.entry.List
	}
	if s.info != nil {
		s.info(f, st)
	}
	s.env.emit(s.det, o, f)
}

func (s *callShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *callShard) flush()                            { s.k.flush() }
func (s *callShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *callShard) stats() int64                      { return s.k.stats() }

// ---- UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS / .InsideAWS ----

type credExfilParams struct {
	// Learn: without an inventory entry for the instance, the first public
	// address its role's credentials are used from is taken as its egress
	// address, and later calls from another address are flagged.
	Learn bool `yaml:"learn"`
	// IgnoreNetworks are addresses or CIDRs the credentials may legitimately be
	// used from (an on-premises gateway, a VPN), as GuardDuty's documentation
	// suggests suppressing.
	IgnoreNetworks []string `yaml:"ignoreNetworks"`
	ignore         []netip.Prefix
}

type credExfil struct {
	rule *Rule
	p    *credExfilParams
	e    *Engine
}

var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-fA-F]{8,17}$`)

// instanceSession returns the instance whose role credentials made the call:
// an assumed-role session named after an instance id, delivered to EC2.
func instanceSession(c *record.APICall) string {
	if c.UserType != "AssumedRole" {
		return ""
	}
	_, session, ok := strings.Cut(c.UserPrincipalID, ":")
	if !ok || !instanceIDPattern.MatchString(session) {
		return ""
	}
	if c.EC2RoleDelivery == "" && !strings.Contains(c.UserARN, "/"+session) {
		return ""
	}
	return session
}

func (d *credExfil) route(r *rec, de *detEntry) (gkey, bool) {
	c := r.call
	inst := instanceSession(c)
	if inst == "" || !c.SourceIP.IsValid() || !isPublic(c.SourceIP) || c.VPCEndpointID != "" {
		return gkey{}, false
	}
	for _, p := range d.p.ignore {
		if p.Contains(c.SourceIP) {
			return gkey{}, false
		}
	}
	if _, ok := d.e.deps.Intel.Trusted(c.SourceIP); ok {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	h.str(inst)
	return h.sum(), true
}

// credState is one instance's: the addresses its credentials were first used
// from (learned), and the occurrence per foreign address.
type credState struct {
	learned []netip.Addr
	occs    map[netip.Addr]*credOcc
}

type credOcc struct {
	occ    *occurrence
	typ    finding.Type
	inside bool
}

func (d *credExfil) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &credShard{d: d, env: env, det: det}
	s.k = newKeyed(env, 7*24*3600*1000, win, nil, func(e *keyedEntry[credState]) {})
	s.k.close = s.raiseAll
	s.gap = win
	return s
}

type credShard struct {
	d   *credExfil
	env *shardEnv
	det int
	gap int64
	k   *keyed[credState]
}

func (s *credShard) observe(r *rec, key gkey) {
	c := r.call
	inst := instanceSession(c)
	e := s.k.get(key, r.time)
	st := &e.s
	ip := c.SourceIP.Unmap()
	inv := s.d.e.deps.Inventory
	egress := inv.InstanceEgressIPs(inst)
	foreign := false
	switch {
	case len(egress) > 0:
		foreign = !slices.Contains(egress, ip)
	case s.d.p.Learn:
		if len(st.learned) == 0 {
			st.learned = append(st.learned, ip)
		}
		foreign = !slices.Contains(st.learned, ip)
	}
	if !foreign {
		return
	}
	if st.occs == nil {
		st.occs = map[netip.Addr]*credOcc{}
	}
	co := st.occs[ip]
	if co != nil && s.env.quiet(co.occ.last, r.time, s.gap) {
		s.raise(co)
		co = nil
	}
	if co == nil {
		co = &credOcc{occ: newOccurrence(r), typ: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"}
		if inv.IsOwnPublicIP(ip) {
			co.typ, co.inside = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", true
		}
		st.occs[ip] = co
	}
	co.occ.note(r, s.d.rule)
	if e.occ == nil {
		e.occ = co.occ // marks the key as holding open occurrences
	}
	if s.env.early && !co.occ.announced {
		s.env.announce(co.occ, func() { s.raise(co) })
	}
}

func (s *credShard) raiseAll(e *keyedEntry[credState]) {
	addrs := make([]netip.Addr, 0, len(e.s.occs))
	for a := range e.s.occs {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for _, a := range addrs {
		s.raise(e.s.occs[a])
	}
	clear(e.s.occs)
}

func (s *credShard) raise(co *credOcc) {
	o := co.occ
	c := o.call
	ak := accessKeyOf(c)
	if ak == nil {
		return
	}
	ti, _ := finding.Lookup(co.typ)
	f := ti.New(callAccount(c), regionOr(c.AWSRegion, s.d.e.cfg.Region), finding.Time(o.last))
	f.Resource.AccessKeyDetails = ak
	f.Service.ResourceRole = finding.RoleTarget
	a := apiAction(c)
	if co.inside {
		a.RemoteAccountDetails = &finding.RemoteAccountDetails{Affiliated: true}
	}
	f.Service.Action.AWSAPICallAction = a
	s.d.e.finish(f, s.d.rule, o)
	if inst := instanceSession(c); inst != "" {
		f.Service.AdditionalInfo["instanceId"] = inst
	}
	s.env.emit(s.det, o, f)
}

func (s *credShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *credShard) flush()                            { s.k.flush() }
func (s *credShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *credShard) stats() int64                      { return s.k.stats() }

// ---- Policy:S3/BucketAnonymousAccessGranted, Policy:S3/BucketPublicAccessGranted ----

// s3Policy judges bucket policies and ACLs as they are set: a statement that
// allows Principal "*" (or {"AWS":"*"}) without a condition that narrows who may
// call grants anonymous access; one whose only conditions keep the caller to
// authenticated AWS principals (aws:PrincipalArn arn:aws:iam::*, aws:PrincipalType)
// grants access to every AWS account. An ACL grant to AllUsers is anonymous, to
// AuthenticatedUsers public. Statements with narrowing conditions (source IP,
// VPC, endpoint, organisation, account, ARN of a given account) are not public.
type s3Policy struct {
	rule *Rule
	e    *Engine
}

func (d *s3Policy) route(r *rec, de *detEntry) (gkey, bool) {
	c := r.call
	if c.ErrorCode != "" || c.EventSource != "s3.amazonaws.com" || c.EventName != "PutBucketPolicy" && c.EventName != "PutBucketAcl" {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	h.str(c.EventID)
	return h.sum(), true
}

// s3Grant says how open a bucket change made the bucket.
type s3Grant uint8

const (
	grantNone s3Grant = iota
	grantAuthenticated
	grantAnonymous
)

// narrowingKeys are condition keys that limit who may use a grant.
var narrowingKeys = []string{"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:principalorgid",
	"aws:principalaccount", "aws:sourceaccount", "aws:sourcearn", "aws:principalorgpaths", "aws:vpcsourceip",
	"aws:userid", "aws:username", "s3:dataaccesspointaccount", "s3:dataaccesspointarn", "aws:sourceowner"}

// judgePolicy returns how open a bucket policy is.
func judgePolicy(raw json.RawMessage) s3Grant {
	var pol struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return grantNone
		}
		raw = json.RawMessage(s)
	}
	if json.Unmarshal(raw, &pol) != nil {
		return grantNone
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(pol.Statement, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(pol.Statement, &one) != nil {
			return grantNone
		}
		stmts = []map[string]json.RawMessage{one}
	}
	best := grantNone
	for _, st := range stmts {
		var effect string
		json.Unmarshal(st["Effect"], &effect)
		if effect != "Allow" || !principalIsAnyone(st["Principal"]) {
			continue
		}
		g := grantAnonymous
		var cond map[string]map[string]json.RawMessage
		json.Unmarshal(st["Condition"], &cond)
		for _, kv := range cond {
			for k, v := range kv {
				lk := strings.ToLower(k)
				switch {
				case slices.Contains(narrowingKeys, lk):
					g = grantNone
				case lk == "aws:principalarn" || lk == "aws:principaltype":
					if lk == "aws:principalarn" && !strings.Contains(string(v), "*") {
						g = grantNone // a specific principal
					} else if g == grantAnonymous {
						g = grantAuthenticated
					}
				}
			}
		}
		best = max(best, g)
	}
	return best
}

// principalIsAnyone reports whether a policy Principal is "*" or {"AWS": "*"}
// (or a list holding "*").
func principalIsAnyone(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	v, ok := m["AWS"]
	if !ok {
		return false
	}
	if json.Unmarshal(v, &s) == nil {
		return s == "*"
	}
	var list []string
	return json.Unmarshal(v, &list) == nil && slices.Contains(list, "*")
}

// judgeACL returns how open an ACL set by PutBucketAcl is: grants to the
// AllUsers or AuthenticatedUsers groups (as x-amz-grant-* headers or in the
// AccessControlPolicy body).
func judgeACL(params json.RawMessage) s3Grant {
	s := string(params)
	switch {
	case strings.Contains(s, "acs.amazonaws.com/groups/global/AllUsers"):
		return grantAnonymous
	case strings.Contains(s, "acs.amazonaws.com/groups/global/AuthenticatedUsers"):
		return grantAuthenticated
	}
	var p struct {
		ACL string `json:"x-amz-acl"`
	}
	if json.Unmarshal(params, &p) == nil {
		switch p.ACL {
		case "public-read", "public-read-write":
			return grantAnonymous
		case "authenticated-read":
			return grantAuthenticated
		}
	}
	return grantNone
}

func (d *s3Policy) newShard(env *shardEnv, det int) shardDetector {
	return &s3PolicyShard{d: d, env: env, det: det}
}

type s3PolicyShard struct {
	d       *s3Policy
	env     *shardEnv
	det     int
	matched int64
}

func (s *s3PolicyShard) observe(r *rec, _ gkey) {
	c := r.call
	var params struct {
		BucketName string          `json:"bucketName"`
		Policy     json.RawMessage `json:"bucketPolicy"`
	}
	raw := []byte(jsonObject(c.Raw, "requestParameters"))
	if json.Unmarshal(raw, &params) != nil || params.BucketName == "" {
		return
	}
	var g s3Grant
	if c.EventName == "PutBucketPolicy" {
		g = judgePolicy(params.Policy)
	} else {
		g = judgeACL(raw)
	}
	if g == grantNone {
		return
	}
	s.matched++
	typ := finding.Type("Policy:S3/BucketPublicAccessGranted")
	perm := "PUBLIC"
	if g == grantAnonymous {
		typ = "Policy:S3/BucketAnonymousAccessGranted"
	}
	o := newOccurrence(r)
	o.note(r, s.d.rule)
	ti, _ := finding.Lookup(typ)
	f := ti.New(callAccount(c), regionOr(c.AWSRegion, s.d.e.cfg.Region), finding.Time(o.last))
	f.Resource.S3BucketDetails = []finding.S3BucketDetail{{ARN: "arn:aws:s3:::" + params.BucketName, Name: params.BucketName,
		Type: "Destination", PublicAccess: &finding.PublicAccess{EffectivePermission: perm}}}
	f.Resource.AccessKeyDetails = accessKeyOf(c)
	f.Service.ResourceRole = finding.RoleTarget
	f.Service.Action.AWSAPICallAction = apiAction(c)
	s.d.e.finish(f, s.d.rule, o)
	s.env.emit(s.det, o, f)
}

func (s *s3PolicyShard) advance(int64) {}
func (s *s3PolicyShard) flush()        {}
func (s *s3PolicyShard) stats() int64  { return s.matched }

// jsonObject returns the raw JSON value of a top-level key of an object, or "".
func jsonObject(raw []byte, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return string(m[key])
}

// ---- UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B ----

type consoleLoginParams struct {
	// PrefixBitsV4 and PrefixBitsV6: two logins are from different places when
	// their addresses differ in this prefix (a /16 is roughly a provider and a
	// region; vigil has no GeoIP database).
	PrefixBitsV4 int `yaml:"prefixBitsV4"`
	PrefixBitsV6 int `yaml:"prefixBitsV6"`
}

type consoleLogin struct {
	rule *Rule
	p    *consoleLoginParams
	e    *Engine
}

func (d *consoleLogin) route(r *rec, de *detEntry) (gkey, bool) {
	c := r.call
	if c.EventName != "ConsoleLogin" || !c.SourceIP.IsValid() || c.UserType == "Root" {
		return gkey{}, false
	}
	if v := c.Path("responseElements.ConsoleLogin"); v.Str != "Success" {
		return gkey{}, false
	}
	if !d.rule.match(r) {
		return gkey{}, false
	}
	h := r.keyHash()
	h.str(c.UserARN)
	return h.sum(), true
}

type loginState struct {
	nets  []netip.Prefix
	times []int64
}

func (d *consoleLogin) newShard(env *shardEnv, det int) shardDetector {
	win := d.rule.Window.Milliseconds()
	s := &loginShard{d: d, env: env, det: det, win: win}
	s.k = newKeyed(env, 2*win, win, func(st *loginState) { *st = loginState{nets: st.nets[:0], times: st.times[:0]} }, s.raise)
	return s
}

type loginShard struct {
	d   *consoleLogin
	env *shardEnv
	det int
	win int64
	k   *keyed[loginState]
}

func (s *loginShard) observe(r *rec, key gkey) {
	c := r.call
	e := s.k.get(key, r.time)
	st := &e.s
	bits := s.d.p.PrefixBitsV4
	ip := c.SourceIP.Unmap()
	if ip.Is6() {
		bits = s.d.p.PrefixBitsV6
	}
	p, _ := ip.Prefix(bits)
	// Forget logins older than the window.
	n := 0
	for i := range st.nets {
		if r.time-st.times[i] <= s.win {
			st.nets[n], st.times[n] = st.nets[i], st.times[i]
			n++
		}
	}
	st.nets, st.times = st.nets[:n], st.times[:n]
	other := false
	for _, q := range st.nets {
		if q != p {
			other = true
		}
	}
	if i := slices.Index(st.nets, p); i >= 0 {
		st.times[i] = r.time
	} else if len(st.nets) < 8 {
		st.nets, st.times = append(st.nets, p), append(st.times, r.time)
	}
	if other && e.occ == nil {
		e.open(r)
	}
	if e.occ != nil {
		e.occ.note(r, s.d.rule)
		s.k.announce(e)
	}
}

func (s *loginShard) raise(e *keyedEntry[loginState]) {
	o := e.occ
	c := o.call
	ak := accessKeyOf(c)
	if ak == nil {
		return
	}
	ti, _ := finding.Lookup("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B")
	f := ti.New(callAccount(c), regionOr(c.AWSRegion, s.d.e.cfg.Region), finding.Time(o.last))
	f.Resource.AccessKeyDetails = ak
	f.Service.ResourceRole = finding.RoleTarget
	f.Service.Action.AWSAPICallAction = apiAction(c)
	s.d.e.finish(f, s.d.rule, o)
	s.env.emit(s.det, o, f)
}

func (s *loginShard) advance(wm int64)                  { s.k.advance(wm) }
func (s *loginShard) flush()                            { s.k.flush() }
func (s *loginShard) tableStats() (int, uint64, uint64) { return s.k.tableStats() }
func (s *loginShard) stats() int64                      { return s.k.stats() }
