package cidr

import "net/netip"

// Special is an address block that is not a host on the public internet:
// vigil never blocks an address in one (blocking 10.0.0.0/8 because a finding
// named a private address would cut the estate off from itself).
type Special struct {
	Prefix netip.Prefix
	// Name says what the block is, for the reason a decision was refused.
	Name string
}

// Specials are the blocks Reserved checks: IANA's special-purpose registries
// (RFC 6890 and successors) for both families, less the blocks that are globally
// reachable unicast in practice.
var Specials = func() []Special {
	raw := []struct{ p, name string }{
		{"0.0.0.0/8", "this network (RFC 791)"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space, CGNAT (RFC 6598)"},
		{"127.0.0.0/8", "loopback (RFC 1122)"},
		{"169.254.0.0/16", "link-local (RFC 3927)"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
		{"192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"},
		{"192.31.196.0/24", "AS112 (RFC 7535)"},
		{"192.52.193.0/24", "AMT (RFC 7450)"},
		{"192.88.99.0/24", "6to4 relay anycast (RFC 7526)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"192.175.48.0/24", "AS112 direct delegation (RFC 7534)"},
		{"198.18.0.0/15", "benchmarking (RFC 2544)"},
		{"198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"},
		{"203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"},
		{"224.0.0.0/4", "multicast (RFC 5771)"},
		{"240.0.0.0/4", "reserved (RFC 1112), including broadcast"},
		{"::/128", "unspecified address (RFC 4291)"},
		{"::1/128", "loopback (RFC 4291)"},
		{"::/96", "IPv4-compatible addresses (deprecated, RFC 4291)"},
		{"64:ff9b::/96", "NAT64 well-known prefix (RFC 6052): block the IPv4 address instead"},
		{"64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"},
		{"100::/64", "discard-only (RFC 6666)"},
		{"2001::/23", "IETF protocol assignments, Teredo (RFC 2928, RFC 4380)"},
		{"2001:db8::/32", "documentation (RFC 3849)"},
		{"2002::/16", "6to4 (RFC 3056): block the IPv4 address instead"},
		{"3fff::/20", "documentation (RFC 9637)"},
		{"5f00::/16", "SRv6 SIDs (RFC 9602)"},
		{"fc00::/7", "unique local, ULA (RFC 4193)"},
		{"fe80::/10", "link-local (RFC 4291)"},
		{"fec0::/10", "site-local (deprecated, RFC 3879)"},
		{"ff00::/8", "multicast (RFC 4291)"},
	}
	out := make([]Special, len(raw))
	for i, r := range raw {
		out[i] = Special{netip.MustParsePrefix(r.p), r.name}
	}
	return out
}()

// Reserved returns the special block p overlaps, if any: a prefix that merely
// contains a private range (8.0.0.0/6 holds 10.0.0.0/8) is refused as well.
// An invalid prefix is reported as reserved, so that a caller never blocks what
// it could not read.
func Reserved(p netip.Prefix) (Special, bool) {
	if !p.IsValid() {
		return Special{Name: "not a valid prefix"}, true
	}
	p = Normal(p)
	for _, s := range Specials {
		if Overlap(s.Prefix, p) {
			return s, true
		}
	}
	return Special{}, false
}
