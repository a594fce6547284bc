package intel

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary bytes to each parser: they must never panic or
// hang, every error and warning must name the file, and whatever loads must be
// well-formed and findable by its own lookup.
//
//	go test -run '^$' -fuzz '^FuzzTXT$' -fuzztime 1m ./internal/intel/

const fuzzSource = "fuzz/list"

func seedFiles(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkParse runs Parse and checks the invariants of its result.
func checkParse(t *testing.T, data []byte, format Format) {
	opt := Options{Name: "fuzz", Kind: Threat, Format: format, Source: fuzzSource, MaxEntries: 5000, MaxBytes: 1 << 20}
	l, warns, err := Parse(strings.NewReader(string(data)), opt)
	for _, w := range warns {
		if w.File != fuzzSource || w.Msg == "" || w.Line < 0 {
			t.Fatalf("bad warning %#v", w)
		}
	}
	if err != nil {
		if l != nil {
			t.Fatal("a list and an error")
		}
		if !strings.HasPrefix(err.Error(), fuzzSource) {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	if l.Len() > 5000 || len(warns) > DefaultMaxWarnings+1 {
		t.Fatalf("%d entries, %d warnings", l.Len(), len(warns))
	}
	if format != FormatAuto && l.Format != format {
		t.Fatalf("format %v, asked %v", l.Format, format)
	}
	s := NewSet(l)
	for i := range l.Entries {
		e := &l.Entries[i]
		if e.List != "fuzz" || e.Kind != Threat || e.Source != fuzzSource {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if e.Prefix.IsValid() == (e.Domain != "") {
			t.Fatalf("entry %d is neither or both IP and domain: %+v", i, e)
		}
		if e.Prefix.IsValid() {
			if e.Prefix != e.Prefix.Masked() || e.Prefix.Bits() == 0 || e.Prefix.Addr().Is4In6() || e.Prefix.Addr().Zone() != "" {
				t.Fatalf("entry %d: prefix %v not normalized", i, e.Prefix)
			}
			for _, a := range []netip.Addr{e.Prefix.Addr(), addrOf(lastOf(e.Prefix), e.Prefix.Addr().BitLen())} {
				m, ok := s.Match(a)
				if !ok || !m.Prefix.Contains(a) || m.Prefix.Bits() < e.Prefix.Bits() {
					t.Fatalf("entry %v: Match(%s) = %v, %v", e.Prefix, a, m.Prefix, ok)
				}
			}
			continue
		}
		if d, _, msg := parseDomain(e.Domain); msg != "" || d != e.Domain {
			t.Fatalf("entry %d: domain %q not normalized (%q, %s)", i, e.Domain, d, msg)
		}
		q := e.Domain
		if e.Match == SubdomainsOnly {
			q = "x." + q
		}
		if _, ok := s.MatchDomain(strings.ToUpper(q) + "."); !ok {
			t.Fatalf("entry %d: MatchDomain(%s) found nothing", i, q)
		}
	}
}

func FuzzTXT(f *testing.F) {
	seedFiles(f, "*.txt")
	for _, s := range []string{"", "\n\n", "#", "192.0.2.1", "*.a.example", "a.example.", "::ffff:1.2.3.4/104",
		"1.2.3.4 # x\r\n5.6.7.8\t;y", "\xff\xfe", "xn--bcher-kva.example", "bücher.example", "0.0.0.0/0", strings.Repeat("a.", 200) + "com"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatTXT) })
}

func FuzzSTIX(f *testing.F) {
	seedFiles(f, "*.xml")
	for _, s := range []string{"", "<", "<STIX_Package/>", "<STIX_Package><Properties category='cidr'><Address_Value>192.0.2.0/24</Address_Value></Properties></STIX_Package>",
		"<STIX_Package><Properties><Address_Value condition='InclusiveBetween'>::##comma##::ffff</Address_Value></Properties></STIX_Package>",
		"<STIX_Package><Indicator><Title>t</Title><Properties xsi:type='URIObjectType' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><Value>http://[::1]:80/</Value></Properties></Indicator></STIX_Package>",
		"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><STIX_Package>&a;</STIX_Package>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatSTIX) })
}

// FuzzCSV covers the CSV formats; the first byte picks which.
func FuzzCSV(f *testing.F) {
	for i, pattern := range []string{"otx.csv", "proofpoint_*.csv", "fireeye.csv", "feodo.csv"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, p := range files {
			b, _ := os.ReadFile(p)
			f.Add(append([]byte{byte(i)}, b...))
		}
	}
	sslbl, _ := os.ReadFile("testdata/sslbl.csv")
	f.Add(append([]byte{3}, sslbl...))
	for _, s := range []string{"\x00Indicator type,Indicator\nIPv4,\"192.0.2.1", "\x01ip\n\"", "\x02reportId,ip\n,,,,\n\"a\"b", "\x03# dst_ip\n1,2\n"} {
		f.Add([]byte(s))
	}
	formats := []Format{FormatOTXCSV, FormatProofPoint, FormatFireEye, FormatAbuseCH}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		checkParse(t, data[1:], formats[int(data[0])%len(formats)])
	})
}

func FuzzAlienVault(f *testing.F) {
	seedFiles(f, "alienvault.txt")
	for _, s := range []string{"#", "192.0.2.1", "192.0.2.1#", "a.example#1#2#x#y#z#0,0#1#extra#fields", "##########"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, FormatAlienVault) })
}

// FuzzFeeds covers the feed formats (Tor exit-addresses, Spamhaus DROP text and
// JSON); the first byte picks which.
func FuzzFeeds(f *testing.F) {
	for i, name := range []string{"tor_exit_addresses.txt", "drop.txt", "drop_v4.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(append([]byte{byte(i)}, b...))
	}
	for _, s := range []string{"\x00ExitAddress", "\x00ExitAddress  ", "\x01;", "\x01192.0.2.0/24;", "\x02{}", "\x02{\"cidr\":1}", "\x02[]", "\x02null"} {
		f.Add([]byte(s))
	}
	formats := []Format{FormatTorExit, FormatSpamhausDROP, FormatSpamhausJSON}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		checkParse(t, data[1:], formats[int(data[0])%len(formats)])
	})
}

// FuzzDetect: any input read with detection behaves as the detected format read
// explicitly.
func FuzzDetect(f *testing.F) {
	seedFiles(f, "*")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, FormatAuto)
		if got := DetectFormat(data); got == FormatAuto || int(got) >= len(formatNames) {
			t.Fatalf("DetectFormat = %v", got)
		}
	})
}

// FuzzMatchDomain checks MatchDomain against a plain scan of the entries for
// arbitrary lists and queries.
func FuzzMatchDomain(f *testing.F) {
	f.Add("example.com\n*.wild.example.net\nc2.example.com\n", "A.C2.Example.COM.")
	f.Add("duckdns.org\n", "x.duckdns.org")
	f.Add("a.b\n", "a.b..")
	f.Fuzz(func(t *testing.T, list, q string) {
		l, _, err := Parse(strings.NewReader(list), Options{Name: "f", Kind: Threat, Format: FormatTXT, MaxBytes: 1 << 16})
		if err != nil {
			return
		}
		got, ok := l.MatchDomain(q)
		// The plain scan: the longest entry that matches.
		name := strings.ToLower(strings.TrimSuffix(q, "."))
		var want *Entry
		for i := range l.Entries {
			e := &l.Entries[i]
			if e.Domain == "" || len(q) == 0 || len(strings.TrimSuffix(q, ".")) > maxDomainLen {
				continue
			}
			self := name == e.Domain && e.Match != SubdomainsOnly
			sub := strings.HasSuffix(name, "."+e.Domain) && e.Match != ExactOnly
			if !self && !sub {
				continue
			}
			if want == nil || len(e.Domain) > len(want.Domain) || len(e.Domain) == len(want.Domain) && self && want.Domain == e.Domain && want.Match == SubdomainsOnly {
				want = e
			}
		}
		// Non-ASCII case folding differs (MatchDomain folds ASCII only, as DNS does).
		for i := 0; i < len(q); i++ {
			if q[i] >= 0x80 {
				return
			}
		}
		if ok != (want != nil) || ok && got.Domain != want.Domain {
			t.Fatalf("MatchDomain(%q) = %q %v, scan says %v", q, got.Domain, ok, want)
		}
	})
}

// FuzzMatchIP checks Match against a plain scan for arbitrary prefixes.
func FuzzMatchIP(f *testing.F) {
	f.Add([]byte{10, 0, 0, 0, 8, 10, 1, 0, 0, 16, 10, 1, 2, 3, 32}, []byte{10, 1, 2, 4})
	f.Add([]byte{0, 0, 0, 0, 1, 255, 255, 255, 255, 32}, []byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, spec, probe []byte) {
		var entries []Entry
		for len(spec) >= 5 && len(entries) < 64 {
			a := netip.AddrFrom4([4]byte{spec[0], spec[1], spec[2], spec[3]})
			bits := 1 + int(spec[4])%32
			p, _ := a.Prefix(bits)
			entries = append(entries, Entry{Prefix: p, Kind: Threat, Line: len(entries) + 1})
			spec = spec[5:]
		}
		if len(probe) < 4 {
			return
		}
		a := netip.AddrFrom4([4]byte{probe[0], probe[1], probe[2], probe[3]})
		l := &List{Name: "f", Kind: Threat, Entries: entries}
		best := -1
		for i, e := range entries {
			if e.Prefix.Contains(a) && (best < 0 || e.Prefix.Bits() > entries[best].Prefix.Bits()) {
				best = i
			}
		}
		for _, q := range []netip.Addr{a, netip.AddrFrom16(a.As16())} {
			e, ok := l.Match(q)
			if ok != (best >= 0) || ok && e.Line != entries[best].Line {
				t.Fatalf("Match(%s) = %v %v, want entry %d of %v", q, e.Prefix, ok, best, entries)
			}
		}
	})
}
