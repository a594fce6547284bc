package intel

import (
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// indicator is one parsed list value: a network or a domain.
type indicator struct {
	prefix netip.Prefix // valid for an IP entry
	domain string       // non-empty for a domain entry
	match  DomainMatch
}

// parseIndicator parses one value as a list writes it: an IPv4 or IPv6 address,
// a CIDR, a domain, or a "*.domain" wildcard. On failure it returns a message
// saying what the value is not, for a Warning.
func parseIndicator(s string) (indicator, string) {
	if s == "" {
		return indicator{}, "empty value: expected an IP address, CIDR or domain"
	}
	if strings.Contains(s, "://") {
		return indicator{}, quote(s) + " is a URL: expected an IP address, CIDR or domain (list the URL's host)"
	}
	if p, ok, msg := parseNet(s); ok {
		return indicator{prefix: p}, ""
	} else if msg != "" {
		return indicator{}, msg
	}
	d, m, msg := parseDomain(s)
	if msg != "" {
		return indicator{}, msg
	}
	return indicator{domain: d, match: m}, ""
}

// parseNet parses an address or CIDR. ok reports success; when the value looks
// like an address or CIDR but is not a usable one, msg says why; when it does not
// look like one at all, msg is empty and the caller may try a domain.
func parseNet(s string) (p netip.Prefix, ok bool, msg string) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if looksNumeric(s) {
				return p, false, quote(s) + " is not an IP address, CIDR or domain"
			}
			return p, false, quote(s) + " is not a CIDR (expected address/length, as 192.0.2.0/24)"
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			return p, false, quote(s) + " would match every address; a list entry must be narrower than /0"
		}
		return p, true, ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if looksNumeric(s) {
			return p, false, quote(s) + " is not an IP address, CIDR or domain"
		}
		return p, false, ""
	}
	if a.Zone() != "" {
		return p, false, quote(s) + " has an IPv6 zone: expected an address without %zone"
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true, ""
}

// looksNumeric reports whether s can only have meant an address: digits, dots,
// colons and slashes (with hex digits when it has a colon). Such a value that
// fails to parse is a bad address, not a domain.
func looksNumeric(s string) bool {
	colon := strings.IndexByte(s, ':') >= 0
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' || c == '/' || c == ':':
		case colon && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return digit
}

// maxDomainLen is the longest domain name in text form (RFC 1035: 255 octets on
// the wire, 253 characters without the trailing dot).
const maxDomainLen = 253

// parseDomain normalizes a domain list value: "*." and a leading "." are
// wildcards, a trailing dot is dropped, case is folded, internationalized names
// become their xn-- form. It rejects what cannot be a registered host name and a
// bare public suffix ("com", "co.uk"), which would match every name under it.
func parseDomain(s string) (string, DomainMatch, string) {
	orig := s
	m := DomainAndSubdomains
	switch {
	case strings.HasPrefix(s, "*."):
		m, s = SubdomainsOnly, s[2:]
	case strings.HasPrefix(s, "."):
		s = s[1:]
	}
	s = strings.TrimSuffix(s, ".")
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			a, err := idna.Lookup.ToASCII(s)
			if err != nil {
				return "", m, quote(orig) + " is not an IP address, CIDR or domain (bad internationalized name)"
			}
			s = a
			break
		}
	}
	s = strings.ToLower(s)
	if !validHostname(s) {
		return "", m, quote(orig) + " is not an IP address, CIDR or domain"
	}
	if ps, icann := publicsuffix.PublicSuffix(s); ps == s && icann {
		return "", m, quote(orig) + " is a public suffix: it would match every domain under it (list the registered domain, as example." + s + ")"
	}
	return s, m, ""
}

// validHostname reports whether s (lower case) is a plausible DNS host name:
// 2 to 127 labels of 1–63 letters, digits, '-' or '_', at most 253 characters,
// and a top-level label that is not all digits (so that "10.0.0.300" is a bad
// address, not a domain).
func validHostname(s string) bool {
	if len(s) == 0 || len(s) > maxDomainLen {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
			continue
		}
		if n := i - start; n == 0 || n > 63 {
			return false
		}
		labels++
		start = i + 1
	}
	if labels < 2 {
		return false
	}
	tld := s[strings.LastIndexByte(s, '.')+1:]
	for i := 0; i < len(tld); i++ {
		if tld[i] < '0' || tld[i] > '9' {
			return true
		}
	}
	return false
}

// RegisteredDomain returns the registered domain of a name, as the public suffix
// list defines it (eTLD+1: "a.b.example.co.uk" → "example.co.uk"), after the same
// normalization as a list value. It returns "" for a name that has none (a public
// suffix or not a host name).
func RegisteredDomain(name string) string {
	d, _, msg := parseDomain(name)
	if msg != "" {
		return ""
	}
	r, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return ""
	}
	return r
}

// quote quotes a value for a message, cut to a readable length: a warning names
// the bad value without repeating a 20 MB line.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
