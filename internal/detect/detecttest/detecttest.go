// Package detecttest runs detector scripts: small text files that load log
// records over event time and state which findings the detections must raise
// and must not. Scripts are data (internal/detect/testdata/*.dtest), written in
// the logs' own formats — flow-log lines under a header, Resolver query-log JSON,
// CloudTrail JSON — so that a script reads like the logs it stands for.
//
// Every script runs three times: with its records in event-time order (as a
// replay of S3 files delivers them); with each record delayed by a random
// amount up to the script's shuffle window (as live delivery mixes them up);
// and in order under vigil serve's live mode, where a finding is raised when
// its threshold is crossed and continued when its burst ends
// (detect.Config.RaiseAtThreshold), the raised findings merged as the store
// merges them. All three must give the same findings: the engine's event-time
// contract, and the early findings' one, checked on every detection.
//
// # Script syntax
//
// One statement per line; "#" starts a comment line; a line ending in "\" is
// continued on the next.
//
//	start 2026-11-01T10:00:00Z      base time of offsets (default 2026-11-01T00:00:00Z)
//	shuffle 60s                     how far the shuffled run may delay a record (default 60s)
//	lateness 10m                    the engine's allowed lateness (default 10m)
//	inventory FILE                  load an inventory (AWS CLI JSON), relative to the script
//	threat-list NAME FILE           add a threat list; trusted-list NAME FILE a trusted one
//	no-builtin-lists                do not use the built-in threat lists
//	rules FILE                      load a rule file (rules or overrides), relative to the script
//	header FIELD FIELD …            the flow-log fields of the flow lines that follow
//	                                (default: AWS's version 2 format)
//	at OFFSET KIND RECORD           one record at start+OFFSET (90s, 5m, 1h30m)
//	repeat N every STEP at OFFSET KIND RECORD
//	                                N records, the i-th at start+OFFSET+i×STEP
//	expect finding TYPE [resource=ID] [role=ACTOR|TARGET] [remote=IP]
//	                                [severity=Low|Medium|High] [count=N] [domain=NAME]
//	expect none TYPE [resource=ID]  no such finding
//	allow-other                     findings no expect names are not an error
//
// KIND is flow (a flow-log line in the current header's order), dns (one Resolver
// query-log JSON object) or cloudtrail (one CloudTrail event JSON object).
// RECORD may hold placeholders, expanded per record:
//
//	{t}  the record's time in Unix seconds; {t+N} N seconds later
//	{ms} the record's time in Unix milliseconds
//	{ts} the record's time as RFC 3339 (2026-11-01T10:00:05Z)
//	{i}  the repetition index from 0; {i+N}, {i*N}, {i%N} arithmetic, left to right
//	{rand:N}  N random letters and digits; {hex:N} N random hex digits
//	          (deterministic: seeded by the line and i)
//	{addr:A+i} the address A plus the index (198.51.0.0+i)
package detecttest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/cloudtrail"
	"github.com/vigil-dev/vigil/internal/decode/dnslog"
	"github.com/vigil-dev/vigil/internal/decode/vpcflow"
	"github.com/vigil-dev/vigil/internal/detect"
	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/intel"
	"github.com/vigil-dev/vigil/internal/inventory"
	"github.com/vigil-dev/vigil/internal/record"
)

// defaultHeader is AWS's default (version 2) flow-log format.
const defaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// Script is a parsed detector script.
type Script struct {
	Name        string
	start       time.Time
	shuffle     time.Duration
	lateness    time.Duration
	inventories []string
	lists       []listSpec
	noBuiltins  bool
	ruleFiles   []string
	records     []event
	expects     []expectation
	allowOther  bool
}

type listSpec struct {
	name, path string
	kind       intel.Kind
}

// event is one generated record in its log's text.
type event struct {
	kind   record.Kind
	time   int64 // Unix ms
	header string
	text   string
	seq    int // generation order, to keep equal times stable
	line   int
}

type expectation struct {
	none     bool
	typ      string
	resource string
	role     string
	remote   string
	severity string
	domain   string
	count    int64
	line     int
}

// Parse reads a script.
func Parse(name string, src []byte) (*Script, error) {
	s := &Script{Name: name, start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), shuffle: time.Minute, lateness: 10 * time.Minute}
	header := defaultHeader
	dir := filepath.Dir(name)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, cont := 0, ""
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, cont = cont+line, ""
		if line == "" || line[0] == '#' {
			continue
		}
		errf := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, a...))
		}
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch word {
		case "start":
			t, err := time.Parse(time.RFC3339, rest)
			if err != nil {
				return nil, errf("start: %v", err)
			}
			s.start = t
		case "shuffle", "lateness":
			d, err := time.ParseDuration(rest)
			if err != nil {
				return nil, errf("%s: %v", word, err)
			}
			if word == "shuffle" {
				s.shuffle = d
			} else {
				s.lateness = d
			}
		case "inventory":
			s.inventories = append(s.inventories, filepath.Join(dir, rest))
		case "threat-list", "trusted-list":
			ln, path, ok := strings.Cut(rest, " ")
			if !ok {
				return nil, errf("%s NAME FILE", word)
			}
			k := intel.Threat
			if word == "trusted-list" {
				k = intel.Trusted
			}
			s.lists = append(s.lists, listSpec{name: ln, path: filepath.Join(dir, strings.TrimSpace(path)), kind: k})
		case "no-builtin-lists":
			s.noBuiltins = true
		case "rules":
			s.ruleFiles = append(s.ruleFiles, filepath.Join(dir, rest))
		case "header":
			header = rest
		case "allow-other":
			s.allowOther = true
		case "at", "repeat":
			if err := s.parseRecords(word, rest, header, n); err != nil {
				return nil, errf("%v", err)
			}
		case "expect":
			e, err := parseExpect(rest, n)
			if err != nil {
				return nil, errf("%v", err)
			}
			s.expects = append(s.expects, e)
		default:
			return nil, errf("unknown statement %q", word)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Script) parseRecords(word, rest, header string, line int) error {
	count, step := 1, time.Duration(0)
	if word == "repeat" {
		var every string
		f := strings.Fields(rest)
		if len(f) < 5 || f[1] != "every" || f[3] != "at" {
			return fmt.Errorf("repeat N every STEP at OFFSET KIND RECORD")
		}
		var err error
		if count, err = strconv.Atoi(f[0]); err != nil || count < 1 {
			return fmt.Errorf("repeat count %q", f[0])
		}
		every = f[2]
		if step, err = time.ParseDuration(every); err != nil {
			return fmt.Errorf("repeat step: %v", err)
		}
		rest = strings.TrimSpace(strings.SplitN(rest, " at ", 2)[1])
	}
	off, rest, _ := strings.Cut(rest, " ")
	kindWord, body, _ := strings.Cut(strings.TrimSpace(rest), " ")
	offset, err := time.ParseDuration(off)
	if err != nil {
		return fmt.Errorf("offset: %v", err)
	}
	kind, err := record.ParseKind(kindWord)
	if err != nil {
		return err
	}
	body = strings.TrimSpace(body)
	for i := range count {
		t := s.start.Add(offset + time.Duration(i)*step)
		text, err := expand(body, i, t, line)
		if err != nil {
			return err
		}
		s.records = append(s.records, event{kind: kind, time: t.UnixMilli(), header: header, text: text, seq: len(s.records), line: line})
	}
	return nil
}

// placeholderPattern is what may stand between braces; other braces (JSON's)
// are left alone.
var placeholderPattern = regexp.MustCompile(`^(?:ts|(?:[0-9]+|ms|t|i)(?:[-+*%](?:[0-9]+|ms|t|i))*|(?:rand|hex):[0-9]+|addr:[0-9.]+\+[a-z0-9+*%-]+)$`)

// expand fills a record's placeholders.
func expand(body string, i int, t time.Time, line int) (string, error) {
	if !strings.Contains(body, "{") {
		return body, nil
	}
	rng := rand.New(rand.NewPCG(uint64(line), uint64(i)))
	var b strings.Builder
	for {
		j := strings.IndexByte(body, '{')
		if j < 0 {
			break
		}
		b.WriteString(body[:j])
		k := strings.IndexByte(body[j:], '}')
		if k < 0 || !placeholderPattern.MatchString(body[j+1:j+k]) {
			b.WriteByte('{')
			body = body[j+1:]
			continue
		}
		v, err := placeholder(body[j+1:j+k], i, t, rng)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		body = body[j+k+1:]
	}
	b.WriteString(body)
	return b.String(), nil
}

func placeholder(ph string, i int, t time.Time, rng *rand.Rand) (string, error) {
	switch {
	case ph == "ts":
		return t.UTC().Format(time.RFC3339), nil
	case strings.HasPrefix(ph, "rand:"), strings.HasPrefix(ph, "hex:"):
		name, ns, _ := strings.Cut(ph, ":")
		n, err := strconv.Atoi(ns)
		if err != nil {
			return "", fmt.Errorf("{%s}: length", ph)
		}
		alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		if name == "hex" {
			alphabet = "0123456789abcdef"
		}
		out := make([]byte, n)
		for k := range out {
			out[k] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(out), nil
	case strings.HasPrefix(ph, "addr:"):
		base, idx, _ := strings.Cut(strings.TrimPrefix(ph, "addr:"), "+")
		a, err := netip.ParseAddr(base)
		if err != nil || !a.Is4() {
			return "", fmt.Errorf("{%s}: want {addr:IPv4+i}", ph)
		}
		n, err := arith(idx, i, t)
		if err != nil {
			return "", err
		}
		v := uint32(a.As4()[0])<<24 | uint32(a.As4()[1])<<16 | uint32(a.As4()[2])<<8 | uint32(a.As4()[3])
		v += uint32(n)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String(), nil
	}
	n, err := arith(ph, i, t)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), nil
}

// arith evaluates OPERAND[op OPERAND]… left to right; an operand is a number
// or one of i, t, ms; op one of + - * %.
func arith(s string, i int, t time.Time) (int64, error) {
	pos := 0
	operand := func() (int64, error) {
		for _, name := range []string{"ms", "i", "t"} {
			if strings.HasPrefix(s[pos:], name) {
				pos += len(name)
				switch name {
				case "ms":
					return t.UnixMilli(), nil
				case "i":
					return int64(i), nil
				}
				return t.Unix(), nil
			}
		}
		end := pos
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		n, err := strconv.ParseInt(s[pos:end], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("placeholder {%s}", s)
		}
		pos = end
		return n, nil
	}
	v, err := operand()
	if err != nil {
		return 0, err
	}
	for pos < len(s) {
		op := s[pos]
		pos++
		n, err := operand()
		if err != nil {
			return 0, err
		}
		switch op {
		case '+':
			v += n
		case '-':
			v -= n
		case '*':
			v *= n
		case '%':
			if n == 0 {
				return 0, fmt.Errorf("placeholder {%s}: modulo 0", s)
			}
			v %= n
		default:
			return 0, fmt.Errorf("placeholder {%s}", s)
		}
	}
	return v, nil
}

func parseExpect(rest string, line int) (expectation, error) {
	f := strings.Fields(rest)
	if len(f) < 2 || f[0] != "finding" && f[0] != "none" {
		return expectation{}, fmt.Errorf("expect finding|none TYPE [key=value…]")
	}
	e := expectation{none: f[0] == "none", typ: f[1], line: line}
	if _, ok := finding.Lookup(finding.Type(e.typ)); !ok {
		return e, fmt.Errorf("expect: %q is not a finding type", e.typ)
	}
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return e, fmt.Errorf("expect: %q: want key=value", kv)
		}
		switch k {
		case "resource":
			e.resource = v
		case "role":
			e.role = v
		case "remote":
			e.remote = v
		case "severity":
			e.severity = v
		case "domain":
			e.domain = v
		case "count":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return e, fmt.Errorf("expect: count=%q", v)
			}
			e.count = n
		default:
			return e, fmt.Errorf("expect: unknown key %q", k)
		}
	}
	return e, nil
}

// Run runs the script at path as subtests "ordered", "shuffled" and "early"
// and checks that all give the same findings.
func Run(t *testing.T, path string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	modes := []Mode{Ordered, Shuffled, Early}
	runs := make([][]*finding.Finding, len(modes))
	for i, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			fs, err := s.Execute(mode)
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = fs
			s.check(t, fs)
		})
	}
	for i := 1; i < len(modes); i++ {
		if a, b := summary(runs[0]), summary(runs[i]); a != b {
			t.Errorf("%s: the %s run found something else than the ordered run:\nordered:\n%s\n%s:\n%s", path, modes[i], a, modes[i], b)
		}
	}
}

// Mode is how Execute feeds a script's records to the engine.
type Mode int

const (
	// Ordered feeds them in event-time order (a batch run, vigil scan).
	Ordered Mode = iota
	// Shuffled delays each by a random amount up to the script's shuffle.
	Shuffled
	// Early feeds them in order to a live engine that raises findings when
	// their threshold is crossed and continues them when the burst ends
	// (vigil serve); the findings returned are those raised, merged by ID in
	// the order raised, as the store merges them.
	Early
)

func (m Mode) String() string { return [...]string{"ordered", "shuffled", "early"}[m] }

// summary renders the findings for comparing runs: identity, times, counts.
func summary(fs []*finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s %s %s %s..%s count=%d sev=%g\n", f.ID, f.Type, finding.ResourceID(&f.Resource),
			f.Service.ResourceRole, f.Service.EventFirstSeen, f.Service.EventLastSeen, f.Service.Count, float64(f.Severity))
	}
	return b.String()
}

// Execute runs the script's records through a new engine as mode says and
// returns the findings.
func (s *Script) Execute(mode Mode) ([]*finding.Finding, error) {
	shuffled := mode == Shuffled
	rules, err := detect.LoadRules(s.ruleFiles...)
	if err != nil {
		return nil, err
	}
	deps := detect.Deps{Rules: rules}
	if len(s.inventories) > 0 {
		inv, _, err := inventory.Load(s.inventories...)
		if err != nil {
			return nil, err
		}
		deps.Inventory = inv
	}
	var lists []*intel.List
	if !s.noBuiltins {
		lists = append(lists, intel.BuiltinLists()...)
	}
	for _, l := range s.lists {
		list, _, err := intel.LoadFile(l.path, intel.Options{Name: l.name, Kind: l.kind})
		if err != nil {
			return nil, err
		}
		lists = append(lists, list)
	}
	deps.Intel = intel.NewSet(lists...)
	cfg := detect.DefaultConfig()
	cfg.Lateness = s.lateness
	cfg.Shards = 2
	var raised []*finding.Finding
	if mode == Early {
		cfg.Live, cfg.RaiseAtThreshold = true, true
		deps.OnFinding = func(f *finding.Finding) { raised = append(raised, f) } // one collector goroutine
	}
	e, err := detect.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	e.Start(context.Background())

	evs := slices.Clone(s.records)
	arrival := make([]int64, len(evs))
	rng := rand.New(rand.NewPCG(7, uint64(len(evs))))
	for i := range evs {
		arrival[i] = evs[i].time
		if shuffled && s.shuffle > 0 {
			arrival[i] += rng.Int64N(s.shuffle.Milliseconds() + 1)
		}
	}
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(arrival[a], arrival[b]), cmp.Compare(evs[a].seq, evs[b].seq))
	})
	// Feed runs of one kind (and one flow header) in batches of up to 64 records.
	for start := 0; start < len(idx); {
		end := start + 1
		for end < len(idx) && end-start < 64 && evs[idx[end]].kind == evs[idx[start]].kind && evs[idx[end]].header == evs[idx[start]].header {
			end++
		}
		if err := feed(e, evs, idx[start:end], s.Name); err != nil {
			e.Close()
			return nil, err
		}
		start = end
	}
	fs, err := e.Close()
	if mode == Early {
		fs = detect.MergeInOrder(raised)
	}
	return fs, err
}

// feed decodes a run of records with the decoder of their kind and gives the
// batches to the engine.
func feed(e *detect.Engine, evs []event, idx []int, name string) error {
	var buf bytes.Buffer
	first := evs[idx[0]]
	var dec decode.Decoder
	switch first.kind {
	case record.KindFlow:
		buf.WriteString(first.header + "\n")
		d, err := vpcflow.New(vpcflow.DefaultConfig())
		if err != nil {
			return err
		}
		dec = d
	case record.KindDNS:
		dec = dnslog.New(dnslog.DefaultConfig())
	default:
		dec = cloudtrail.New(cloudtrail.DefaultConfig())
	}
	for _, i := range idx {
		buf.WriteString(evs[i].text)
		buf.WriteByte('\n')
	}
	var problems []string
	_, err := dec.Decode(context.Background(), decode.Input{Name: name}, &buf,
		func(b *decode.Batch) error { return e.Process(0, b) },
		func(p decode.Problem) { problems = append(problems, p.String()) })
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("records of line %d and after do not decode: %s", first.line, strings.Join(problems[:min(3, len(problems))], "; "))
	}
	return nil
}

// check compares findings with the script's expectations.
func (s *Script) check(t *testing.T, fs []*finding.Finding) {
	t.Helper()
	used := make([]bool, len(fs))
	for _, ex := range s.expects {
		var matched []int
		for i, f := range fs {
			if ex.matches(f) {
				matched = append(matched, i)
			}
		}
		switch {
		case ex.none && len(matched) > 0:
			t.Errorf("%s:%d: expect none %s: found %s", s.Name, ex.line, ex.typ, describe(fs[matched[0]]))
		case !ex.none && len(matched) == 0:
			t.Errorf("%s:%d: expect finding %s: not found", s.Name, ex.line, ex.typ)
		}
		for _, i := range matched {
			used[i] = true
		}
	}
	if s.allowOther {
		return
	}
	for i, f := range fs {
		if !used[i] {
			t.Errorf("%s: unexpected finding %s", s.Name, describe(f))
		}
	}
}

func (ex *expectation) matches(f *finding.Finding) bool {
	if string(f.Type) != ex.typ {
		return false
	}
	if ex.resource != "" && finding.ResourceID(&f.Resource) != ex.resource {
		return false
	}
	if ex.role != "" && string(f.Service.ResourceRole) != ex.role {
		return false
	}
	if ex.remote != "" && remoteOf(f) != ex.remote {
		return false
	}
	if ex.severity != "" && !strings.EqualFold(f.Severity.Band().Title(), ex.severity) {
		return false
	}
	if ex.domain != "" && (f.Service.Action.DNSRequestAction == nil || f.Service.Action.DNSRequestAction.Domain != ex.domain) {
		return false
	}
	if ex.count != 0 && f.Service.Count != ex.count {
		return false
	}
	return true
}

// remoteOf returns a finding's remote address: of the connection, the first
// probe, or the API caller.
func remoteOf(f *finding.Finding) string {
	a := &f.Service.Action
	switch {
	case a.NetworkConnectionAction != nil:
		return a.NetworkConnectionAction.RemoteIPDetails.IP()
	case a.PortProbeAction != nil && len(a.PortProbeAction.PortProbeDetails) > 0:
		return a.PortProbeAction.PortProbeDetails[0].RemoteIPDetails.IP()
	case a.AWSAPICallAction != nil:
		return a.AWSAPICallAction.RemoteIPDetails.IP()
	}
	return ""
}

func describe(f *finding.Finding) string {
	return fmt.Sprintf("%s resource=%s role=%s remote=%s severity=%s count=%d", f.Type, finding.ResourceID(&f.Resource),
		f.Service.ResourceRole, remoteOf(f), f.Severity.Band().Title(), f.Service.Count)
}
