// Package cidr is the address arithmetic of the responders: the ranges vigil
// never blocks (private, reserved, documentation, multicast…), prefix overlap,
// and collapsing a set of prefixes into the fewest CIDRs that cover exactly the
// same addresses (what a blocklist publishes).
//
// Everything here is a pure function of its arguments: safe for concurrent use,
// and the slices it returns are new (the caller's are never modified).
package cidr

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// Normal returns p masked, with an IPv4-mapped IPv6 prefix of at least /96
// turned into the IPv4 prefix it means (::ffff:198.51.100.7/128 is
// 198.51.100.7/32). An invalid prefix stays invalid.
func Normal(p netip.Prefix) netip.Prefix {
	if !p.IsValid() {
		return p
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// Host returns the single-address prefix of a (/32 or /128), unmapped.
func Host(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// Parse reads an address ("198.51.100.7") or a CIDR ("198.51.100.0/24") and
// returns its normal prefix. A CIDR with host bits set ("198.51.100.7/24") is
// an error: it is usually a typo, and masking it silently would block more than
// the user wrote.
func Parse(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Prefix{}, &ParseError{s, "an address with a zone"}
		}
		return Host(a), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, &ParseError{s, "not an IP address or CIDR"}
	}
	if p.Masked() != p {
		return netip.Prefix{}, &ParseError{s, "host bits set (did you mean " + p.Masked().String() + "?)"}
	}
	return Normal(p), nil
}

// ParseError is a value that is not an address or CIDR.
type ParseError struct {
	Value, Why string
}

func (e *ParseError) Error() string { return "\"" + e.Value + "\": " + e.Why }

// u128 is an address as a 128-bit number; IPv4 addresses are their
// ::ffff:a.b.c.d form, so both families order in one line without mixing.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int { return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo)) }

func (a u128) addOne() u128 {
	a.lo++
	if a.lo == 0 {
		a.hi++
	}
	return a
}

func num(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func addrOf(n u128, v4 bool) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], n.hi)
	binary.BigEndian.PutUint64(b[8:], n.lo)
	a := netip.AddrFrom16(b)
	if v4 {
		return a.Unmap()
	}
	return a
}

// bits16 is the prefix length in the 128-bit space.
func bits16(p netip.Prefix) int {
	if p.Addr().Is4() {
		return p.Bits() + 96
	}
	return p.Bits()
}

// Range returns the first and last address of p.
func Range(p netip.Prefix) (first, last netip.Addr) {
	lo, hi := span(p)
	v4 := p.Addr().Is4()
	return addrOf(lo, v4), addrOf(hi, v4)
}

func span(p netip.Prefix) (lo, hi u128) {
	p = p.Masked()
	lo = num(p.Addr())
	hi = lo
	n := bits16(p)
	// Set the host bits.
	switch {
	case n == 0:
		hi = u128{^uint64(0), ^uint64(0)}
	case n < 64:
		hi.hi |= ^uint64(0) >> n
		hi.lo = ^uint64(0)
	case n < 128:
		hi.lo |= ^uint64(0) >> (n - 64)
	}
	return lo, hi
}

// Overlap reports whether a and b share an address (one contains the other:
// prefixes never partly overlap). Prefixes of different families never do.
func Overlap(a, b netip.Prefix) bool {
	a, b = Normal(a), Normal(b)
	if a.Addr().Is4() != b.Addr().Is4() {
		return false
	}
	return a.Overlaps(b)
}

// Collapse returns the fewest prefixes that cover exactly the addresses of ps:
// contained prefixes are dropped and adjacent ones merged ("198.51.100.0/25"
// and "198.51.100.128/25" become "198.51.100.0/24"). The result is sorted,
// IPv4 before IPv6, and its prefixes do not overlap. Invalid prefixes are
// ignored.
func Collapse(ps []netip.Prefix) []netip.Prefix {
	type iv struct {
		lo, hi u128
		v4     bool
	}
	ivs := make([]iv, 0, len(ps))
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		p = Normal(p)
		lo, hi := span(p)
		ivs = append(ivs, iv{lo, hi, p.Addr().Is4()})
	}
	if len(ivs) == 0 {
		return nil
	}
	slices.SortFunc(ivs, func(a, b iv) int { return cmp.Or(a.lo.cmp(b.lo), b.hi.cmp(a.hi)) })
	// Merge overlapping and touching intervals of the same family. IPv4 lives in
	// ::ffff:0:0/96, so an IPv4 interval never touches an IPv6 one except at
	// that block's edges, which the family check keeps apart.
	merged := ivs[:1]
	for _, x := range ivs[1:] {
		last := &merged[len(merged)-1]
		if x.v4 == last.v4 && (x.lo.cmp(last.hi) <= 0 || (last.hi != u128{^uint64(0), ^uint64(0)} && x.lo == last.hi.addOne())) {
			if x.hi.cmp(last.hi) > 0 {
				last.hi = x.hi
			}
			continue
		}
		merged = append(merged, x)
	}
	var out []netip.Prefix
	for _, m := range merged {
		out = appendRange(out, m.lo, m.hi, m.v4)
	}
	return out
}

// appendRange appends the fewest prefixes covering lo…hi.
func appendRange(out []netip.Prefix, lo, hi u128, v4 bool) []netip.Prefix {
	minBits := 0
	if v4 {
		minBits = 96
	}
	for lo.cmp(hi) <= 0 {
		// The largest block starting at lo (by its alignment) that ends by hi.
		n := 128 - trailingZeros(lo)
		n = max(n, minBits)
		for ; n < 128; n++ {
			_, end := span(netip.PrefixFrom(addrOf(lo, false), n))
			if end.cmp(hi) <= 0 {
				break
			}
		}
		p := netip.PrefixFrom(addrOf(lo, false), n)
		_, end := span(p)
		if v4 {
			p = netip.PrefixFrom(addrOf(lo, true), n-96)
		}
		out = append(out, p)
		if (end == u128{^uint64(0), ^uint64(0)}) {
			break
		}
		lo = end.addOne()
	}
	return out
}

func trailingZeros(a u128) int {
	if a.lo != 0 {
		return tz64(a.lo)
	}
	if a.hi != 0 {
		return 64 + tz64(a.hi)
	}
	return 128
}

func tz64(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// Maximal returns the prefixes of ps that no other prefix of ps contains, each
// once, sorted as Collapse sorts (without merging adjacent ones): the set an
// nftables interval set accepts, which refuses overlapping elements.
func Maximal(ps []netip.Prefix) []netip.Prefix {
	in := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() {
			in = append(in, Normal(p))
		}
	}
	slices.SortFunc(in, Compare)
	out := in[:0]
	for _, p := range in {
		if len(out) > 0 {
			last := out[len(out)-1]
			if last.Addr().Is4() == p.Addr().Is4() && last.Bits() <= p.Bits() && last.Contains(p.Addr()) {
				continue // contained in (or equal to) the previous maximal prefix
			}
		}
		out = append(out, p)
	}
	return slices.Clip(out)
}

// Compare orders prefixes by address in the 16-byte form (IPv4 as
// ::ffff:a.b.c.d), then shorter first.
func Compare(a, b netip.Prefix) int {
	return cmp.Or(num(a.Addr()).cmp(num(b.Addr())), cmp.Compare(bits16(a), bits16(b)))
}
