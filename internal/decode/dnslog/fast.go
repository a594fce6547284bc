package dnslog

import (
	"unsafe"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
	"github.com/vigil-dev/vigil/internal/record"
)

// The fast path. Resolver writes every record in one plain shape: an object of
// string members, srcids an object of strings, answers an array of objects of
// strings, no escapes. fastParse reads exactly that shape in one pass, without
// reflection, taking low-cardinality values from interners so that a record
// costs two or three allocations (query_name, Rdata) instead of twenty. Anything
// else — an escape, a number where a string belongs, a nested value under an
// unknown key, a key that differs from a known one only in letter case (which
// encoding/json would match) — makes it give up, and the record goes through
// encoding/json as before. FuzzFastParse checks that whenever the fast path
// accepts a record, encoding/json reads it the same way.

// fieldInterners are the per-field tables of a Decoder's fast path.
type fieldInterners struct {
	version, account, region, vpc, qtype, qclass, rcode, transport decode.Interner
	instance, endpoint, eni, fwGroup, fwAction, fwList             decode.Interner
	ansType, ansClass                                              decode.Interner
}

// fastParser is a cursor over one record's text.
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// eat skips white space and consumes c, reporting whether it was there.
func (p *fastParser) eat(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters and returns its
// content (aliasing the record's text).
func (p *fastParser) str() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	p.i += jsonscan.PlainRun(p.b[p.i:])
	if p.i < len(p.b) && p.b[p.i] == '"' {
		p.i++
		return p.b[start : p.i-1], true
	}
	return nil, false // an escape, a control character or the end
}

// literal consumes true, false or null; null reports isNull.
func (p *fastParser) literal() (isNull, ok bool) {
	p.ws()
	for _, lit := range [...]string{"null", "true", "false"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			return lit == "null", true
		}
	}
	return false, false
}

// strOrNull reads a string member value; a null leaves the field as it was
// (absent), as encoding/json does.
func (p *fastParser) strOrNull(dst *string, in *decode.Interner) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		isNull, ok := p.literal()
		return ok && isNull
	}
	v, ok := p.str()
	if !ok {
		return false
	}
	if in != nil {
		*dst = in.Intern(v)
	} else {
		*dst = string(v)
	}
	return true
}

// viewOrNull is strOrNull for the fields that are parsed into numbers and
// addresses and never kept (query_timestamp, srcaddr): the string views the
// record's text instead of copying it.
func (p *fastParser) viewOrNull(dst *string) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == 'n' {
		isNull, ok := p.literal()
		return ok && isNull
	}
	v, ok := p.str()
	if ok {
		*dst = ""
		if len(v) > 0 {
			*dst = unsafe.String(&v[0], len(v))
		}
	}
	return ok
}

// skipValue skips an unknown member's value: a string or a literal. Anything
// else (numbers, objects, arrays) is left to encoding/json.
func (p *fastParser) skipValue() bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '"' {
		_, ok := p.str()
		return ok
	}
	_, ok := p.literal()
	return ok
}

// object reads the members of an object, calling member for each key; member
// reads the value. It consumes the closing brace.
func (p *fastParser) object(member func(key []byte) bool) bool {
	if !p.eat('{') {
		return false
	}
	if p.eat('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.eat(':') || !member(key) {
			return false
		}
		if p.eat(',') {
			continue
		}
		return p.eat('}')
	}
}

// foldsTo reports whether key differs from one of names only in letter case
// or in non-ASCII bytes, which encoding/json's case-insensitive matching may
// map onto that name.
func foldsTo(key []byte, names ...string) bool {
	if hasNonASCII(key) {
		return true
	}
	for _, n := range names {
		if len(n) != len(key) {
			continue
		}
		same := true
		for i := range n {
			if lower(key[i]) != lower(n[i]) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

var (
	topNames    = []string{"version", "account_id", "region", "vpc_id", "query_timestamp", "query_name", "query_type", "query_class", "rcode", "answers", "srcaddr", "srcport", "transport", "srcids", "firewall_rule_group_id", "firewall_rule_action", "firewall_domain_list_id"}
	srcidNames  = []string{"instance", "resolver_endpoint", "resolver_network_interface"}
	answerNames = []string{"Rdata", "Type", "Class"}
)

// fastParse fills w (reset by the caller) from raw, valid UTF-8, or returns
// false when raw is not in the plain shape; w is then garbage and the caller
// starts over.
func (w *wire) fastParse(raw []byte, in *fieldInterners) bool {
	p := fastParser{b: raw}
	sawAnswers := false
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "version":
			return p.strOrNull(&w.Version, &in.version)
		case "account_id":
			return p.strOrNull(&w.AccountID, &in.account)
		case "region":
			return p.strOrNull(&w.Region, &in.region)
		case "vpc_id":
			return p.strOrNull(&w.VPCID, &in.vpc)
		case "query_timestamp":
			return p.viewOrNull(&w.QueryTimestamp)
		case "query_name":
			return p.strOrNull(&w.QueryName, nil)
		case "query_type":
			return p.strOrNull(&w.QueryType, &in.qtype)
		case "query_class":
			return p.strOrNull(&w.QueryClass, &in.qclass)
		case "rcode":
			return p.strOrNull(&w.RCode, &in.rcode)
		case "transport":
			return p.strOrNull(&w.Transport, &in.transport)
		case "srcaddr":
			return p.viewOrNull(&w.SrcAddr)
		case "firewall_rule_group_id":
			return p.strOrNull(&w.FirewallRuleGroupID, &in.fwGroup)
		case "firewall_rule_action":
			return p.strOrNull(&w.FirewallRuleAction, &in.fwAction)
		case "firewall_domain_list_id":
			return p.strOrNull(&w.FirewallDomainListID, &in.fwList)
		case "srcport":
			return p.srcPort(&w.SrcPort)
		case "srcids":
			return p.object(func(k []byte) bool {
				switch string(k) {
				case "instance":
					return p.strOrNull(&w.SrcIDs.Instance, &in.instance)
				case "resolver_endpoint":
					return p.strOrNull(&w.SrcIDs.ResolverEndpoint, &in.endpoint)
				case "resolver_network_interface":
					return p.strOrNull(&w.SrcIDs.ResolverNetworkInterface, &in.eni)
				}
				return !foldsTo(k, srcidNames...) && p.skipValue()
			})
		case "answers":
			if sawAnswers {
				return false
			}
			sawAnswers = true
			return p.answers(w, in)
		}
		return !foldsTo(key, topNames...) && p.skipValue()
	})
	if !ok {
		return false
	}
	p.ws()
	return p.i == len(p.b)
}

// answers reads the answers array into w.Answers, reusing its backing array.
func (p *fastParser) answers(w *wire, in *fieldInterners) bool {
	if !p.eat('[') {
		return false
	}
	w.Answers = w.Answers[:0]
	if p.eat(']') {
		if w.Answers == nil {
			w.Answers = []record.DNSAnswer{}
		}
		return true
	}
	for {
		w.Answers = append(w.Answers, record.DNSAnswer{})
		a := &w.Answers[len(w.Answers)-1]
		ok := p.object(func(k []byte) bool {
			switch string(k) {
			case "Rdata":
				return p.strOrNull(&a.Rdata, nil)
			case "Type":
				return p.strOrNull(&a.Type, &in.ansType)
			case "Class":
				return p.strOrNull(&a.Class, &in.ansClass)
			}
			return !foldsTo(k, answerNames...) && p.skipValue()
		})
		if !ok {
			return false
		}
		if p.eat(',') {
			continue
		}
		return p.eat(']')
	}
}

// srcPort reads srcport: a string (as Resolver logs it), a plain non-negative
// integer, or null, and hands the token to port.UnmarshalJSON, the same code
// encoding/json calls.
func (p *fastParser) srcPort(dst *port) bool {
	p.ws()
	start := p.i
	switch {
	case p.i < len(p.b) && p.b[p.i] == '"':
		if _, ok := p.str(); !ok {
			return false
		}
	case p.i < len(p.b) && p.b[p.i] == 'n':
		if isNull, ok := p.literal(); !ok || !isNull {
			return false
		}
	case p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9':
		// JSON integers: 0, or no leading zero. Fractions and exponents are
		// left to encoding/json.
		if p.b[p.i] == '0' {
			p.i++
		} else {
			for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
				p.i++
			}
		}
		if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E' || (p.b[p.i] >= '0' && p.b[p.i] <= '9')) {
			return false
		}
	default:
		return false
	}
	return dst.UnmarshalJSON(p.b[start:p.i]) == nil
}
