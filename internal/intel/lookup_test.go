package intel

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

func parseList(t testing.TB, name string, kind Kind, text string) *List {
	t.Helper()
	l, warns, err := Parse(strings.NewReader(text), Options{Name: name, Kind: kind, Source: name + ".txt"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) > 0 {
		t.Fatalf("warnings: %v", warns)
	}
	return l
}

func TestMatchIP(t *testing.T) {
	l := parseList(t, "threat", Threat, `
10.0.0.0/8
10.1.0.0/16
10.1.2.0/24
10.1.2.3
10.200.0.0/16
192.0.2.255
0.0.0.0/1
255.255.255.255
2001:db8::/32
2001:db8:1::/48
2001:db8:1::1
ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
`)
	for _, c := range []struct{ addr, want string }{
		{"10.1.2.3", "10.1.2.3"},    // exact beats every containing CIDR
		{"10.1.2.4", "10.1.2.0/24"}, // longest prefix
		{"10.1.3.0", "10.1.0.0/16"}, // back to the parent after a child ends
		{"10.2.0.0", "10.0.0.0/8"},  // between two children
		{"10.200.255.255", "10.200.0.0/16"},
		{"10.201.0.0", "10.0.0.0/8"},
		{"11.0.0.0", "0.0.0.0/1"}, // the /1 holds 10/8 and beyond
		{"0.0.0.0", "0.0.0.0/1"},
		{"127.255.255.255", "0.0.0.0/1"},
		{"128.0.0.0", ""},
		{"192.0.2.254", ""},
		{"192.0.2.255", "192.0.2.255"},
		{"192.0.3.0", ""},
		{"255.255.255.255", "255.255.255.255"},
		{"255.255.255.254", ""},
		{"::ffff:10.1.2.3", "10.1.2.3"}, // IPv4-mapped matches IPv4 entries
		{"2001:db8:1::1", "2001:db8:1::1"},
		{"2001:db8:1::2", "2001:db8:1::/48"},
		{"2001:db8:2::1", "2001:db8::/32"},
		{"2001:db9::", ""},
		{"::", ""},
		{"::1", ""},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"fe80::1%eth0", ""},
		{"2001:db8::1%eth0", "2001:db8::/32"}, // zone ignored
	} {
		a := netip.MustParseAddr(c.addr)
		e, ok := l.Match(a)
		got := ""
		if ok {
			got = e.Value()
		}
		if got != c.want {
			t.Errorf("Match(%s) = %q, want %q", c.addr, got, c.want)
		}
		s := NewSet(l)
		e2, ok2 := s.Match(a)
		if ok2 != ok || e2.Value() != e.Value() {
			t.Errorf("Set.Match(%s) = %q, %v; List.Match %q, %v", c.addr, e2.Value(), ok2, e.Value(), ok)
		}
	}
	if _, ok := l.Match(netip.Addr{}); ok {
		t.Error("the zero Addr matched")
	}
}

func TestMatchDomain(t *testing.T) {
	l := parseList(t, "threat", Threat, `
evil.example.com
*.wild.example.net
deep.sub.evil.example.com
dyn.example.org
`)
	l.Entries = append(l.Entries, Entry{Domain: "exact.example.com", Match: ExactOnly, Kind: Threat, List: "threat"})
	for _, c := range []struct{ name, want string }{
		{"evil.example.com", "evil.example.com"},
		{"EVIL.Example.COM", "evil.example.com"},
		{"evil.example.com.", "evil.example.com"},
		{"a.b.evil.example.com", "evil.example.com"},
		{"x.deep.sub.evil.example.com", "deep.sub.evil.example.com"}, // the nearest entry
		{"deep.sub.evil.example.com", "deep.sub.evil.example.com"},
		{"notevil.example.com", ""}, // a suffix of the text but not a parent domain
		{"example.com", ""},
		{"com", ""},
		{"wild.example.net", ""}, // *. matches subdomains only
		{"a.wild.example.net", "*.wild.example.net"},
		{"exact.example.com", "exact.example.com"},
		{"sub.exact.example.com", ""},
		{"", ""},
		{".", ""},
		{"evil.example.com..", ""},
		{strings.Repeat("a.", 130) + "evil.example.com", ""}, // longer than a DNS name can be
		{strings.Repeat("a.", 100) + "evil.example.com", "evil.example.com"},
	} {
		e, ok := l.MatchDomain(c.name)
		got := ""
		if ok {
			got = e.Value()
		}
		if got != c.want {
			t.Errorf("MatchDomain(%.40q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestTrustedPrecedence: a trusted entry stops findings, whichever list is more
// specific, and Check explains both sides.
func TestTrustedPrecedence(t *testing.T) {
	threat := parseList(t, "bad", Threat, "198.51.100.0/24\n192.0.2.7\nevil.example.com\nexample.org\n2001:db8::/32\n")
	trusted := parseList(t, "good", Trusted, "198.51.100.200\n192.0.2.0/24\nexample.com\nok.example.org\n2001:db8::1\n")
	s := NewSet(threat, trusted)
	for _, c := range []struct {
		addr            string
		threat, trusted bool
	}{
		{"198.51.100.1", true, false},
		{"198.51.100.200", true, true}, // trusted /32 inside a threat /24
		{"192.0.2.7", true, true},      // threat /32 inside a trusted /24: trusted still wins
		{"203.0.113.1", false, false},
		{"2001:db8::1", true, true},
		{"2001:db8::2", true, false},
	} {
		a := netip.MustParseAddr(c.addr)
		v := s.Check(a)
		if v.IsThreat != c.threat || v.IsTrusted != c.trusted {
			t.Errorf("Check(%s) = threat %v trusted %v, want %v %v", c.addr, v.IsThreat, v.IsTrusted, c.threat, c.trusted)
		}
		_, ok := s.Match(a)
		if ok != (c.threat && !c.trusted) || v.Finding() != ok {
			t.Errorf("Match(%s) = %v, Finding() %v", c.addr, ok, v.Finding())
		}
		if _, ok := s.Trusted(a); ok != c.trusted {
			t.Errorf("Trusted(%s) = %v", c.addr, ok)
		}
		if v.IsTrusted && v.Trusted.List != "good" || v.IsThreat && v.Threat.List != "bad" {
			t.Errorf("Check(%s) lists %q %q", c.addr, v.Threat.List, v.Trusted.List)
		}
	}
	for _, c := range []struct {
		name            string
		threat, trusted bool
	}{
		{"evil.example.com", true, true}, // parent example.com is trusted
		{"x.example.org", true, false},
		{"ok.example.org", true, true},
		{"a.ok.example.org", true, true},
		{"other.example.net", false, false},
	} {
		v := s.CheckDomain(c.name)
		if v.IsThreat != c.threat || v.IsTrusted != c.trusted {
			t.Errorf("CheckDomain(%s) = threat %v trusted %v, want %v %v", c.name, v.IsThreat, v.IsTrusted, c.threat, c.trusted)
		}
		if _, ok := s.MatchDomain(c.name); ok != v.Finding() {
			t.Errorf("MatchDomain(%s) = %v", c.name, ok)
		}
		if _, ok := s.TrustedDomain(c.name); ok != c.trusted {
			t.Errorf("TrustedDomain(%s) = %v", c.name, ok)
		}
	}
	if n, m := s.Len(); n != 5 || m != 5 {
		t.Errorf("Len = %d, %d", n, m)
	}
}

// TestSetOrder: for the same prefix or domain, the list given first wins.
func TestSetOrder(t *testing.T) {
	a := parseList(t, "a", Threat, "192.0.2.0/24\nevil.example.com\n")
	b := parseList(t, "b", Threat, "192.0.2.0/24\n192.0.2.0/25\nevil.example.com\nx.evil.example.com\n")
	s := NewSet(a, b, nil)
	if e, _ := s.Match(netip.MustParseAddr("192.0.2.200")); e.List != "a" {
		t.Errorf("same prefix: list %q, want a", e.List)
	}
	if e, _ := s.Match(netip.MustParseAddr("192.0.2.1")); e.List != "b" || e.Value() != "192.0.2.0/25" {
		t.Errorf("longer prefix: %s from %q, want b's /25", e.Value(), e.List)
	}
	if e, _ := s.MatchDomain("evil.example.com"); e.List != "a" {
		t.Errorf("same domain: list %q", e.List)
	}
	if e, _ := s.MatchDomain("y.x.evil.example.com"); e.List != "b" {
		t.Errorf("nearer domain: list %q", e.List)
	}
	if len(s.Lists()) != 2 {
		t.Errorf("Lists: %d", len(s.Lists()))
	}
	var nilSet *Set
	if _, ok := nilSet.Match(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("nil set matched")
	}
	if _, ok := nilSet.MatchDomain("x"); ok || nilSet.Check(netip.Addr{}).IsThreat || nilSet.Lists() != nil {
		t.Error("nil set matched")
	}
}

// TestTableAgainstBruteForce cross-checks the flattened table with a linear scan
// over random nested prefixes, in both families.
func TestTableAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		v6 := round%2 == 1
		var entries []Entry
		n := 1 + r.IntN(60)
		for range n {
			var a netip.Addr
			var bits int
			if v6 {
				// Cluster addresses so that prefixes nest and collide.
				var b [16]byte
				b[0], b[1] = 0x20, 0x01
				b[2] = byte(r.IntN(3))
				b[15] = byte(r.IntN(4))
				a = netip.AddrFrom16(b)
				bits = []int{1, 16, 23, 24, 120, 127, 128}[r.IntN(7)]
			} else {
				a = netip.AddrFrom4([4]byte{byte(r.IntN(3) * 127), byte(r.IntN(3)), 0, byte(r.IntN(8))})
				bits = []int{1, 7, 8, 15, 16, 30, 31, 32}[r.IntN(8)]
			}
			p, _ := a.Prefix(bits)
			entries = append(entries, Entry{Prefix: p, Kind: Threat, Line: len(entries) + 1})
		}
		l := &List{Name: "r", Kind: Threat, Entries: entries}
		check := func(a netip.Addr) {
			best := -1
			for i, e := range entries {
				if e.Prefix.Contains(a) && (best < 0 || e.Prefix.Bits() > entries[best].Prefix.Bits()) {
					best = i
				}
			}
			e, ok := l.Match(a)
			if ok != (best >= 0) || ok && e.Line != entries[best].Line {
				want := "none"
				if best >= 0 {
					want = entries[best].Prefix.String()
				}
				t.Fatalf("round %d: Match(%s) = %v %v, want %s (entries %v)", round, a, e.Prefix, ok, want, entries)
			}
		}
		for _, e := range entries {
			// Probe the edges of every prefix and their neighbours.
			first := e.Prefix.Addr()
			last := addrOf(lastOf(e.Prefix), first.BitLen())
			for _, a := range []netip.Addr{first, last, first.Prev(), last.Next(), first.Next()} {
				if a.IsValid() {
					check(a)
				}
			}
		}
		for range 200 {
			if v6 {
				var b [16]byte
				b[0], b[1], b[2], b[15] = 0x20, 0x01, byte(r.IntN(4)), byte(r.IntN(256))
				check(netip.AddrFrom16(b))
			} else {
				check(netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(4)), byte(r.IntN(2)), byte(r.IntN(256))}))
			}
		}
	}
}

func TestRegisteredDomain(t *testing.T) {
	for in, want := range map[string]string{
		"a.b.example.co.uk":       "example.co.uk",
		"XMR.Pool.MinerGate.com.": "minergate.com",
		"com":                     "",
		"co.uk":                   "",
		"not a name":              "",
	} {
		if got := RegisteredDomain(in); got != want {
			t.Errorf("RegisteredDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
