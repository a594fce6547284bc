package cidr

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func prefixes(s string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(s) {
		out = append(out, netip.MustParsePrefix(f))
	}
	return out
}

func join(ps []netip.Prefix) string {
	var b []string
	for _, p := range ps {
		b = append(b, p.String())
	}
	return strings.Join(b, " ")
}

func TestCollapse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"45.1.2.3/32", "45.1.2.3/32"},
		{"45.1.2.3/32 45.1.2.3/32", "45.1.2.3/32"},
		// adjacent halves merge, and again
		{"45.1.2.0/25 45.1.2.128/25", "45.1.2.0/24"},
		{"45.1.2.0/32 45.1.2.1/32 45.1.2.2/32 45.1.2.3/32", "45.1.2.0/30"},
		// adjacent but not aligned: two prefixes stay
		{"45.1.2.1/32 45.1.2.2/32", "45.1.2.1/32 45.1.2.2/32"},
		{"45.1.2.1/32 45.1.2.2/31", "45.1.2.1/32 45.1.2.2/31"},
		{"45.1.2.1/32 45.1.2.2/31 45.1.2.0/32", "45.1.2.0/30"},
		// contained ones go
		{"45.1.2.7/32 45.1.0.0/16 45.1.255.255/32", "45.1.0.0/16"},
		// range across an alignment boundary: 45.1.2.255–45.1.3.0
		{"45.1.2.255/32 45.1.3.0/32", "45.1.2.255/32 45.1.3.0/32"},
		// IPv6, and families kept apart and ordered
		{"2a01:4f8::1/128 2a01:4f8::/127 45.1.2.3/32", "45.1.2.3/32 2a01:4f8::/127"},
		{"2a01:4f8::/33 2a01:4f8:8000::/33", "2a01:4f8::/32"},
		// the whole space
		{"0.0.0.0/1 128.0.0.0/1", "0.0.0.0/0"},
		{"::/1 8000::/1", "::/0"},
		{"255.255.255.255/32 255.255.255.254/32", "255.255.255.254/31"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
		// an IPv4 range ending at 255.255.255.255 does not run into IPv6 space
		{"255.255.255.255/32 ::ffff:0:0/128 ::1:0:0:0/128", "0.0.0.0/32 255.255.255.255/32 ::1:0:0:0/128"},
	} {
		if got := join(Collapse(prefixes(tc.in))); got != tc.want {
			t.Errorf("Collapse(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaximal(t *testing.T) {
	got := join(Maximal(prefixes("45.1.2.7/32 45.1.2.0/24 45.1.3.0/32 45.1.2.0/24 2a01::1/128 2a01::/64 45.1.2.128/25")))
	if want := "45.1.2.0/24 45.1.3.0/32 2a01::/64"; got != want {
		t.Errorf("Maximal = %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"45.1.2.3", "45.1.2.3/32", ""},
		{"45.1.2.0/24", "45.1.2.0/24", ""},
		{"::ffff:45.1.2.3", "45.1.2.3/32", ""},
		{"::ffff:45.1.2.0/120", "45.1.2.0/24", ""},
		{"2a01:4f8::1", "2a01:4f8::1/128", ""},
		{"45.1.2.3/24", "", "host bits set (did you mean 45.1.2.0/24?)"},
		{"fe80::1%eth0", "", "zone"},
		{"example.org", "", "not an IP address or CIDR"},
		{"45.1.2.0/33", "", "not an IP address or CIDR"},
	} {
		p, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tc.in, p, err, tc.err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tc.in, p, err, tc.want)
		}
	}
}

func TestReserved(t *testing.T) {
	for _, tc := range []struct {
		p    string
		name string // "" means public
	}{
		{"10.1.2.3/32", "private (RFC 1918)"},
		{"172.31.255.255/32", "private (RFC 1918)"},
		{"172.32.0.1/32", ""},
		{"192.168.1.1/32", "private (RFC 1918)"},
		{"100.64.0.1/32", "shared address space, CGNAT (RFC 6598)"},
		{"100.128.0.1/32", ""},
		{"127.0.0.1/32", "loopback (RFC 1122)"},
		{"169.254.169.254/32", "link-local (RFC 3927)"},
		{"224.0.0.251/32", "multicast (RFC 5771)"},
		{"255.255.255.255/32", "reserved (RFC 1112), including broadcast"},
		{"192.0.2.10/32", "documentation TEST-NET-1 (RFC 5737)"},
		{"198.51.100.7/32", "documentation TEST-NET-2 (RFC 5737)"},
		{"203.0.113.9/32", "documentation TEST-NET-3 (RFC 5737)"},
		{"198.19.1.1/32", "benchmarking (RFC 2544)"},
		{"45.155.205.7/32", ""},
		{"8.0.0.0/6", "private (RFC 1918)"}, // contains 10/8
		{"0.0.0.0/0", "this network (RFC 791)"},
		{"::1/128", "loopback (RFC 4291)"},
		{"fd00::1/128", "unique local, ULA (RFC 4193)"},
		{"fe80::1/128", "link-local (RFC 4291)"},
		{"ff02::1/128", "multicast (RFC 4291)"},
		{"2001:db8::1/128", "documentation (RFC 3849)"},
		{"::ffff:10.0.0.1/128", "private (RFC 1918)"},
		{"2a01:4f8::1/128", ""},
		{"2600:1f18::1/128", ""},
	} {
		s, ok := Reserved(netip.MustParsePrefix(tc.p))
		if ok != (tc.name != "") || s.Name != tc.name {
			t.Errorf("Reserved(%s) = %q %v, want %q", tc.p, s.Name, ok, tc.name)
		}
	}
	if _, ok := Reserved(netip.Prefix{}); !ok {
		t.Error("an invalid prefix is not refused")
	}
}

func TestRange(t *testing.T) {
	for _, tc := range []struct{ p, first, last string }{
		{"45.1.2.0/24", "45.1.2.0", "45.1.2.255"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
		{"2a01:4f8::/32", "2a01:4f8::", "2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2a01::/64", "2a01::", "2a01::ffff:ffff:ffff:ffff"},
	} {
		f, l := Range(netip.MustParsePrefix(tc.p))
		if f.String() != tc.first || l.String() != tc.last {
			t.Errorf("Range(%s) = %s–%s", tc.p, f, l)
		}
	}
}

// FuzzCollapse checks Collapse against a bitmap of the 4,096 addresses of
// 45.1.0.0/20: the output covers exactly the input's addresses, in sorted,
// non-overlapping prefixes, and collapsing again changes nothing.
func FuzzCollapse(f *testing.F) {
	f.Add([]byte{0, 0, 32, 0, 1, 32})
	f.Add([]byte{0, 0, 25, 0, 128, 25})
	f.Add([]byte{1, 7, 24, 15, 255, 32, 0, 0, 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		var in []netip.Prefix
		var want [4096]bool
		for i := 0; i+2 < len(data) && len(in) < 64; i += 3 {
			bits := 20 + int(data[i+2])%13
			a := netip.AddrFrom4([4]byte{45, 1, data[i] & 0x0f, data[i+1]})
			p := netip.PrefixFrom(a, bits).Masked()
			in = append(in, p)
			lo, hi := Range(p)
			for x := idx(lo); x <= idx(hi); x++ {
				want[x] = true
			}
		}
		out := Collapse(in)
		var got [4096]bool
		for i, p := range out {
			if i > 0 && (Compare(out[i-1], p) >= 0 || Overlap(out[i-1], p)) {
				t.Fatalf("out of order or overlapping: %v", out)
			}
			lo, hi := Range(p)
			for x := idx(lo); x <= idx(hi); x++ {
				got[x] = true
			}
		}
		if got != want {
			t.Fatalf("Collapse(%v) = %v covers other addresses", in, out)
		}
		if again := Collapse(out); !slices.Equal(again, out) {
			t.Fatalf("not idempotent: %v then %v", out, again)
		}
		// Maximal keeps the same addresses too.
		var got2 [4096]bool
		for _, p := range Maximal(in) {
			lo, hi := Range(p)
			for x := idx(lo); x <= idx(hi); x++ {
				got2[x] = true
			}
		}
		if got2 != want {
			t.Fatalf("Maximal(%v) covers other addresses", in)
		}
	})
}

func idx(a netip.Addr) int {
	b := a.As4()
	return int(b[2]&0x0f)<<8 | int(b[3])
}
