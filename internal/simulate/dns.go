package simulate

import (
	"net/netip"
	"strconv"
	"unicode/utf8"
)

// dnsQuery is one Route 53 Resolver query-log record.
type dnsQuery struct {
	vpc     *vpc
	t       int64  // query time, Unix seconds
	name    string // query name without the trailing dot
	qtype   string
	rcode   string
	answers []dnsAnswer
	src     *instance
	srcPort uint16
	tcp     bool
}

type dnsAnswer struct {
	rdata string
	typ   string
}

// dnsEmit receives resolver-log records; the record is only valid during the call.
type dnsEmit func(*dnsQuery)

// appendDNS appends q as one JSON line, with AWS's field order and types: the
// version as the string "1.100000", srcport as a string, query_name with its
// trailing dot, answers with capitalised keys, the instance under srcids.
func appendDNS(b []byte, q *dnsQuery) []byte {
	b = append(b, `{"version":"1.100000","account_id":"`...)
	b = append(b, q.vpc.account.id...)
	b = append(b, `","region":"`...)
	b = append(b, q.vpc.region...)
	b = append(b, `","vpc_id":"`...)
	b = append(b, q.vpc.id...)
	b = append(b, `","query_timestamp":"`...)
	b = appendTime(b, q.t)
	b = append(b, `","query_name":`...)
	b = appendJSONString(b, q.name)
	b[len(b)-1] = '.' // the trailing dot, inside the quotes
	b = append(b, `","query_type":"`...)
	b = append(b, q.qtype...)
	b = append(b, `","query_class":"IN","rcode":"`...)
	b = append(b, q.rcode...)
	b = append(b, `","answers":[`...)
	for i, a := range q.answers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Rdata":`...)
		b = appendJSONString(b, a.rdata)
		b = append(b, `,"Type":"`...)
		b = append(b, a.typ...)
		b = append(b, `","Class":"IN"}`...)
	}
	b = append(b, `],"srcaddr":"`...)
	b = append(b, q.src.privText...)
	b = append(b, `","srcport":"`...)
	b = strconv.AppendUint(b, uint64(q.srcPort), 10)
	if q.tcp {
		b = append(b, `","transport":"TCP","srcids":{"instance":"`...)
	} else {
		b = append(b, `","transport":"UDP","srcids":{"instance":"`...)
	}
	b = append(b, q.src.id...)
	return append(b, "\"}}\n"...)
}

// appendTime appends Unix seconds as ISO-8601 UTC with second precision
// (2026-11-01T00:00:05Z). It does the calendar arithmetic itself (Hinnant's
// days-to-civil algorithm): time.Format was a fifth of the resolver log's cost.
func appendTime(b []byte, t int64) []byte {
	days, secs := t/86400, t%86400
	if secs < 0 {
		days, secs = days-1, secs+86400
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	h, mi, s := secs/3600, secs/60%60, secs%60
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), 'Z')
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	plain := 0 // the prefix that needs no escaping is copied in one go
	for plain < len(s) {
		c := s[plain]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			break
		}
		plain++
	}
	b = append(b, s[:plain]...)
	for i := plain; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
			i++
			continue
		}
		if c < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// answerService sets q's answers for a query of service s: its CNAME chain, then
// its addresses for an A query. The answers are shared, never modified.
func answerService(q *dnsQuery, s *service) {
	if q.qtype == "A" {
		q.answers = s.answersA
	} else {
		q.answers = s.answersOther
	}
}

// reverseName returns the in-addr.arpa name of an IPv4 address.
func reverseName(ip netip.Addr) string {
	b := ip.As4()
	buf := make([]byte, 0, 40)
	for i := 3; i >= 0; i-- {
		buf = strconv.AppendUint(buf, uint64(b[i]), 10)
		buf = append(buf, '.')
	}
	return string(append(buf, "in-addr.arpa"...))
}

// ec2Hostname returns the default EC2 host name of a private address in us-east-1.
func ec2Hostname(ip netip.Addr) string {
	b := ip.As4()
	buf := []byte("ip-")
	for i := 0; i < 4; i++ {
		if i > 0 {
			buf = append(buf, '-')
		}
		buf = strconv.AppendUint(buf, uint64(b[i]), 10)
	}
	return string(append(buf, ".ec2.internal"...))
}
