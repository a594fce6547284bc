package dnslog

import (
	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/decode/jsonscan"
	"github.com/vigil-dev/vigil/internal/record"
)

// The fast path. Resolver writes every record in one plain shape: an object of
// string members, srcids an object of strings, answers an array of objects of
// strings, no escapes. fastParse reads exactly that shape in one pass with a
// jsonscan.Cursor, taking low-cardinality values from interners so that a
// record costs two or three allocations (query_name, Rdata) instead of twenty.
// Anything else — an escape in a value it keeps, a number where a string
// belongs, a key that differs from a known one only in letter case (which
// encoding/json would match) — makes it give up, and the record goes through
// encoding/json as before. FuzzFastParse checks that whenever the fast path
// accepts a record, encoding/json reads it the same way.

// fieldInterners are the per-field tables of a Decoder's fast path.
type fieldInterners struct {
	version, account, region, vpc, qtype, qclass, rcode, transport decode.Interner
	instance, endpoint, eni, fwGroup, fwAction, fwList             decode.Interner
	ansType, ansClass                                              decode.Interner
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
	p := jsonscan.Cursor{B: raw}
	sawAnswers := false
	ok := p.Object(func(key []byte) bool {
		switch string(key) {
		case "version":
			return p.StrOrNull(&w.Version, &in.version)
		case "account_id":
			return p.StrOrNull(&w.AccountID, &in.account)
		case "region":
			return p.StrOrNull(&w.Region, &in.region)
		case "vpc_id":
			return p.StrOrNull(&w.VPCID, &in.vpc)
		case "query_timestamp":
			return p.ViewOrNull(&w.QueryTimestamp)
		case "query_name":
			return p.StrOrNull(&w.QueryName, nil)
		case "query_type":
			return p.StrOrNull(&w.QueryType, &in.qtype)
		case "query_class":
			return p.StrOrNull(&w.QueryClass, &in.qclass)
		case "rcode":
			return p.StrOrNull(&w.RCode, &in.rcode)
		case "transport":
			return p.StrOrNull(&w.Transport, &in.transport)
		case "srcaddr":
			return p.ViewOrNull(&w.SrcAddr)
		case "firewall_rule_group_id":
			return p.StrOrNull(&w.FirewallRuleGroupID, &in.fwGroup)
		case "firewall_rule_action":
			return p.StrOrNull(&w.FirewallRuleAction, &in.fwAction)
		case "firewall_domain_list_id":
			return p.StrOrNull(&w.FirewallDomainListID, &in.fwList)
		case "srcport":
			return srcPort(&p, &w.SrcPort)
		case "srcids":
			return p.Object(func(k []byte) bool {
				switch string(k) {
				case "instance":
					return p.StrOrNull(&w.SrcIDs.Instance, &in.instance)
				case "resolver_endpoint":
					return p.StrOrNull(&w.SrcIDs.ResolverEndpoint, &in.endpoint)
				case "resolver_network_interface":
					return p.StrOrNull(&w.SrcIDs.ResolverNetworkInterface, &in.eni)
				}
				return !jsonscan.FoldsTo(k, srcidNames...) && p.Skip()
			})
		case "answers":
			if sawAnswers {
				return false
			}
			sawAnswers = true
			return answers(&p, w, in)
		}
		return !jsonscan.FoldsTo(key, topNames...) && p.Skip()
	})
	if !ok {
		return false
	}
	p.WS()
	return p.I == len(p.B)
}

// answers reads the answers array into w.Answers, reusing its backing array.
func answers(p *jsonscan.Cursor, w *wire, in *fieldInterners) bool {
	if !p.Eat('[') {
		return false
	}
	w.Answers = w.Answers[:0]
	if p.Eat(']') {
		if w.Answers == nil {
			w.Answers = []record.DNSAnswer{}
		}
		return true
	}
	for {
		w.Answers = append(w.Answers, record.DNSAnswer{})
		a := &w.Answers[len(w.Answers)-1]
		ok := p.Object(func(k []byte) bool {
			switch string(k) {
			case "Rdata":
				return p.StrOrNull(&a.Rdata, nil)
			case "Type":
				return p.StrOrNull(&a.Type, &in.ansType)
			case "Class":
				return p.StrOrNull(&a.Class, &in.ansClass)
			}
			return !jsonscan.FoldsTo(k, answerNames...) && p.Skip()
		})
		if !ok {
			return false
		}
		if p.Eat(',') {
			continue
		}
		return p.Eat(']')
	}
}

// srcPort reads srcport: a string (as Resolver logs it), a plain non-negative
// integer, or null, and hands the token to port.UnmarshalJSON, the same code
// encoding/json calls.
func srcPort(p *jsonscan.Cursor, dst *port) bool {
	p.WS()
	start := p.I
	switch {
	case p.I < len(p.B) && p.B[p.I] == '"':
		if _, ok := p.Str(); !ok {
			return false
		}
	case p.I < len(p.B) && p.B[p.I] == 'n':
		if isNull, ok := p.Literal(); !ok || !isNull {
			return false
		}
	case p.I < len(p.B) && p.B[p.I] >= '0' && p.B[p.I] <= '9':
		// JSON integers: 0, or no leading zero. Fractions and exponents are
		// left to encoding/json.
		if p.B[p.I] == '0' {
			p.I++
		} else {
			for p.I < len(p.B) && p.B[p.I] >= '0' && p.B[p.I] <= '9' {
				p.I++
			}
		}
		if p.I < len(p.B) && (p.B[p.I] == '.' || p.B[p.I] == 'e' || p.B[p.I] == 'E' || (p.B[p.I] >= '0' && p.B[p.I] <= '9')) {
			return false
		}
	default:
		return false
	}
	return dst.UnmarshalJSON(p.B[start:p.I]) == nil
}
