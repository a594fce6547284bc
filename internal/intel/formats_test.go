package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// want is an expected entry: its value as a list writes it, and its threat name.
type want struct{ value, threat string }

func entriesOf(l *List) []want {
	var out []want
	for i := range l.Entries {
		out = append(out, want{l.Entries[i].Value(), l.Entries[i].Threat})
	}
	return out
}

func load(t *testing.T, file string, kind Kind, format Format) (*List, []Warning) {
	t.Helper()
	l, w, err := LoadFile(filepath.Join("testdata", file), Options{Name: "test-list", Kind: kind, Format: format})
	if err != nil {
		t.Fatalf("LoadFile(%s): %v", file, err)
	}
	return l, w
}

// TestFormats reads every fixture twice, with its format given and detected, and
// checks the entries, threat names, warnings and skip counts.
func TestFormats(t *testing.T) {
	cases := []struct {
		file     string
		format   Format
		entries  []want
		warnings []string // "line: message prefix"
		skipped  int
	}{
		{
			file:   "threat.txt",
			format: FormatTXT,
			entries: []want{
				{"192.0.2.10", ""}, {"192.0.2.11", ""}, {"198.51.100.0/24", ""}, {"198.51.100.128/25", ""},
				{"2001:db8:bad::/48", ""}, {"evil.example.com", ""}, {"*.wild.example.net", ""},
				{"c2.example.org", ""}, {"203.0.113.7", ""},
			},
			warnings: []string{`testdata/threat.txt:7: "10.0.0.300" is not an IP address, CIDR or domain`},
		},
		{
			file:   "stix.xml",
			format: FormatSTIX,
			entries: []want{
				{"192.0.2.33", "vigil STIX test package"},
				// The range 203.0.113.16–203.0.113.47 is exactly two /28s.
				{"203.0.113.16/28", "vigil STIX test package"},
				{"203.0.113.32/28", "vigil STIX test package"},
				{"192.0.2.40", "vigil STIX test package"}, {"192.0.2.41", "vigil STIX test package"},
				{"198.51.100.64/26", "vigil STIX test package"},
				{"2001:db8::bad:1", "vigil STIX test package"},
				{"stix-c2.example.net", "Example C2 domain"},
				{"dropper.example.org", "Example malware download URL"},
				{"*.dyn.example.com", "Example dynamic DNS zone"},
			},
			warnings: []string{`testdata/stix.xml:64: "192.0.2.999" is not an IP address, CIDR or domain`},
			skipped:  2, // the e-mail address and the file object
		},
		{
			file:   "otx.csv",
			format: FormatOTXCSV,
			entries: []want{
				{"192.0.2.50", "Scanning host"}, {"198.51.100.0/28", "Bulletproof hosting range"},
				{"otx-c2.example.com", "C2 domain of an example pulse"}, {"beacon.otx.example.net", "Beacon host"},
				{"otx-drop.example.org", "Drop URL"}, {"2001:db8::50", "IPv6 scanner"},
			},
			warnings: []string{`testdata/otx.csv:9: "192.0.2.256" is not an IP address, CIDR or domain`},
			skipped:  1,
		},
		{
			file:    "proofpoint_ip.csv",
			format:  FormatProofPoint,
			entries: []want{{"192.0.2.60", "CnC"}, {"192.0.2.61", "Bitcoin_Related"}, {"192.0.2.62", "category 99"}},
		},
		{
			file:    "proofpoint_domain.csv",
			format:  FormatProofPoint,
			entries: []want{{"et-cnc.example.com", "CnC"}, {"et-drop.example.net", "Drop"}},
		},
		{
			file:   "fireeye.csv",
			format: FormatFireEye,
			entries: []want{
				{"192.0.2.120", "EXAMPLEBOT"}, {"isight-phish.example.com", "EXAMPLE GROUP"},
				{"198.51.100.32/27", "Example bulletproof range"},
			},
			skipped: 1,
		},
		{
			file:   "alienvault.txt",
			format: FormatAlienVault,
			entries: []want{
				{"192.0.2.70", "Malicious Host"}, {"192.0.2.71", "Scanning Host;Spamming"},
				{"av-bad.example.com", "Malware Domain"},
			},
			warnings: []string{`testdata/alienvault.txt:5: "not-an-address" is not an IP address, CIDR or domain`},
		},
		{
			file:    "tor_bulk.txt",
			format:  FormatTXT,
			entries: []want{{"192.0.2.80", ""}, {"192.0.2.81", ""}, {"2001:db8::80", ""}},
		},
		{
			file:    "tor_exit_addresses.txt",
			format:  FormatTorExit,
			entries: []want{{"192.0.2.90", torExitThreat}, {"192.0.2.91", torExitThreat}, {"192.0.2.92", torExitThreat}},
		},
		{
			file:    "feodo.csv",
			format:  FormatAbuseCH,
			entries: []want{{"192.0.2.100", "QakBot"}, {"192.0.2.101", "Emotet"}},
		},
		{
			file:    "sslbl.csv",
			format:  FormatAbuseCH,
			entries: []want{{"192.0.2.110", ""}, {"192.0.2.111", ""}},
		},
		{
			file:    "drop.txt",
			format:  FormatSpamhausDROP,
			entries: []want{{"203.0.113.0/25", "SBL000001"}, {"198.18.0.0/15", "SBL000002"}},
		},
		{
			file:    "drop_v4.json",
			format:  FormatSpamhausJSON,
			entries: []want{{"203.0.113.128/25", "SBL000003"}, {"2001:db8:dead::/48", "SBL000004"}},
		},
	}
	for _, c := range cases {
		for _, detect := range []bool{false, true} {
			name := c.file
			f := c.format
			if detect {
				name += "/detected"
				f = FormatAuto
			}
			t.Run(name, func(t *testing.T) {
				l, warns := load(t, c.file, Threat, f)
				if l.Format != c.format {
					t.Errorf("format %v, want %v", l.Format, c.format)
				}
				if got := entriesOf(l); !slices.Equal(got, c.entries) {
					t.Errorf("entries\n got %v\nwant %v", got, c.entries)
				}
				var ws []string
				for _, w := range warns {
					ws = append(ws, w.String())
				}
				if !slices.Equal(ws, c.warnings) {
					t.Errorf("warnings\n got %q\nwant %q", ws, c.warnings)
				}
				if l.Skipped != c.skipped {
					t.Errorf("skipped %d, want %d", l.Skipped, c.skipped)
				}
				for i := range l.Entries {
					e := &l.Entries[i]
					if e.List != "test-list" || e.Kind != Threat || e.Source != filepath.Join("testdata", c.file) || e.Line <= 0 {
						t.Errorf("entry %d: list %q kind %v source %q line %d", i, e.List, e.Kind, e.Source, e.Line)
					}
				}
			})
		}
	}
}

func TestEntryLines(t *testing.T) {
	l, _ := load(t, "threat.txt", Threat, FormatAuto)
	got := map[string]int{}
	for i := range l.Entries {
		got[l.Entries[i].Value()] = l.Entries[i].Line
	}
	for v, line := range map[string]int{"192.0.2.10": 3, "c2.example.org": 11, "203.0.113.7": 12} {
		if got[v] != line {
			t.Errorf("%s on line %d, want %d", v, got[v], line)
		}
	}
	e := l.Entries[0]
	if w := e.Where(); w != "testdata/threat.txt:3" {
		t.Errorf("Where() = %q", w)
	}
}

func TestDetectFormat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Format
	}{
		{"", FormatTXT},
		{"\xEF\xBB\xBF192.0.2.1\n", FormatTXT},
		{"# comment\n\n192.0.2.1\n", FormatTXT},
		{"  <?xml version=\"1.0\"?><stix:STIX_Package/>", FormatSTIX},
		{"<html><body>502 Bad Gateway</body></html>", FormatSTIX}, // and then refused as not STIX
		{`{"cidr":"192.0.2.0/24","sblid":"SBL1","rir":"arin"}`, FormatSpamhausJSON},
		{"ExitNode ABC\nExitAddress 192.0.2.1 2026-01-01 00:00:00\n", FormatTorExit},
		{"Indicator type,Indicator,Description\n", FormatOTXCSV},
		{"ip,category,score,first_seen,last_seen,ports (|)\n", FormatProofPoint},
		{"domain, category, score, first_seen, last_seen, ports (|)\n", FormatProofPoint},
		{"reportId,title,ip,domain\n", FormatFireEye},
		{"reportId,title,ipAddress\n", FormatFireEye},
		{"#\n\"first_seen_utc\",\"dst_ip\",\"dst_port\"\n", FormatAbuseCH},
		{"# Firstseen,DstIP,DstPort\n2026-01-01 00:00:00,192.0.2.1,443\n", FormatAbuseCH},
		{"192.0.2.1#4#2#Malicious Host#US##0.0,0.0#3\n", FormatAlienVault},
		{"; Spamhaus DROP\n192.0.2.0/24 ; SBL1\n", FormatSpamhausDROP},
		{"192.0.2.0/24 ; not an sbl\n", FormatTXT},
	} {
		if got := DetectFormat([]byte(c.in)); got != c.want {
			t.Errorf("DetectFormat(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for f := FormatAuto; f <= FormatSpamhausJSON; f++ {
		got, err := ParseFormat(strings.ToLower(f.String()))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", strings.ToLower(f.String()), got, err)
		}
	}
	for _, s := range []string{"OTX_CSV", "otx-csv", " FIRE_EYE ", ""} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("CSV"); err == nil || !strings.Contains(err.Error(), "OTX_CSV") {
		t.Errorf("ParseFormat(CSV) error %v, want the list of formats", err)
	}
}

// TestBadLines: a list with bad lines loads the good ones and names each bad
// line with file:line and what was expected.
func TestBadLines(t *testing.T) {
	in := strings.Join([]string{
		"192.0.2.1",                              // 1
		"10.0.0.300",                             // 2
		"192.0.2.0/33",                           // 3
		"com",                                    // 4
		"*.co.uk",                                // 5
		"http://evil.example/x",                  // 6
		"192.0.2.2 192.0.2.3",                    // 7
		"fe80::1%eth0",                           // 8
		"0.0.0.0/0",                              // 9
		"bad_label-.example.com",                 // 10: fine, underscores and hyphens are allowed
		"a..example.com",                         // 11
		"xn--bcher-kva.example",                  // 12
		"bücher.example",                         // 13: becomes xn--bcher-kva.example
		"010.0.0.1",                              // 14
		strings.Repeat("a", 64) + ".example.com", // 15
		"::ffff:192.0.2.9",                       // 16: stored as IPv4
		"::ffff:192.0.2.0/120",                   // 17: stored as 192.0.2.0/24
	}, "\n")
	l, warns, err := Parse(strings.NewReader(in), Options{Name: "t", Kind: Threat, Source: "lists/threat.txt"})
	if err != nil {
		t.Fatal(err)
	}
	wantW := []string{
		`lists/threat.txt:2: "10.0.0.300" is not an IP address, CIDR or domain`,
		`lists/threat.txt:3: "192.0.2.0/33" is not an IP address, CIDR or domain`,
		`lists/threat.txt:4: "com" is not an IP address, CIDR or domain`,
		`lists/threat.txt:5: "*.co.uk" is a public suffix: it would match every domain under it (list the registered domain, as example.co.uk)`,
		`lists/threat.txt:6: "http://evil.example/x" is a URL: expected an IP address, CIDR or domain (list the URL's host)`,
		`lists/threat.txt:7: "192.0.2.2 192.0.2.3" has more than one value: expected one IP address, CIDR or domain per line`,
		`lists/threat.txt:8: "fe80::1%eth0" has an IPv6 zone: expected an address without %zone`,
		`lists/threat.txt:9: "0.0.0.0/0" would match every address; a list entry must be narrower than /0`,
		`lists/threat.txt:11: "a..example.com" is not an IP address, CIDR or domain`,
		`lists/threat.txt:14: "010.0.0.1" is not an IP address, CIDR or domain`,
		`lists/threat.txt:15: "` + strings.Repeat("a", 64) + `.example.com" is not an IP address, CIDR or domain`,
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	if !slices.Equal(got, wantW) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantW, "\n"))
	}
	wantEntries := []want{
		{"192.0.2.1", ""}, {"bad_label-.example.com", ""}, {"xn--bcher-kva.example", ""},
		{"xn--bcher-kva.example", ""}, {"192.0.2.9", ""}, {"192.0.2.0/24", ""},
	}
	if e := entriesOf(l); !slices.Equal(e, wantEntries) {
		t.Errorf("entries %v, want %v", e, wantEntries)
	}
	if l.Bad != len(wantW) {
		t.Errorf("Bad = %d, want %d", l.Bad, len(wantW))
	}
}

func TestWarningCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("192.0.2.1\n")
	for range 250 {
		b.WriteString("not an address!\n")
	}
	l, warns, err := Parse(strings.NewReader(b.String()), Options{Name: "t", Kind: Threat, Source: "x.txt", MaxWarnings: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 11 || l.Bad != 250 || warns[10].String() != "x.txt: 240 more bad lines not shown" {
		t.Errorf("%d warnings (last %v), Bad %d", len(warns), warns[len(warns)-1], l.Bad)
	}
}

// TestLimits: GuardDuty's limits apply by default, with errors that say which.
func TestLimits(t *testing.T) {
	var b strings.Builder
	for i := range 2001 {
		fmt.Fprintf(&b, "10.0.%d.%d\n", i/256, i%256)
	}
	in := b.String()
	_, _, err := Parse(strings.NewReader(in), Options{Name: "t", Kind: Trusted, Source: "trusted.txt"})
	if !errors.Is(err, ErrTooManyEntries) || err.Error() != "trusted.txt:2001: too many entries: more than 2000 entries, the limit for a trusted list (GuardDuty's; raise the list's max entries to load it)" {
		t.Errorf("trusted over 2000: %v", err)
	}
	if l, _, err := Parse(strings.NewReader(in), Options{Name: "t", Kind: Threat}); err != nil || l.Len() != 2001 {
		t.Errorf("threat list of 2001: %v", err)
	}
	if l, _, err := Parse(strings.NewReader(in), Options{Name: "t", Kind: Trusted, MaxEntries: -1}); err != nil || l.Len() != 2001 {
		t.Errorf("unlimited trusted list: %v", err)
	}
	_, _, err = Parse(strings.NewReader(in), Options{Name: "t", Kind: Threat, MaxEntries: 10, Source: "threat.txt"})
	if !errors.Is(err, ErrTooManyEntries) || !strings.HasPrefix(err.Error(), "threat.txt:11: too many entries: more than 10 entries, the limit for a threat list") {
		t.Errorf("MaxEntries 10: %v", err)
	}
	_, _, err = Parse(strings.NewReader(in), Options{Name: "t", Kind: Threat, MaxBytes: 100, Source: "big.txt"})
	if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "big.txt: file too large: more than 100 bytes") {
		t.Errorf("MaxBytes 100: %v", err)
	}
	if DefaultMaxBytes != 35<<20 || DefaultMaxThreatEntries != 250_000 {
		t.Error("defaults are not GuardDuty's")
	}
}

func TestSTIXNotXML(t *testing.T) {
	_, _, err := LoadFile("testdata/not_xml.stix", Options{Name: "s", Kind: Threat, Format: FormatSTIX})
	if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "testdata/not_xml.stix: not a valid list: not a STIX file (STIX is XML") {
		t.Errorf("not XML: %v", err)
	}
	for in, want := range map[string]string{
		"<html><body>502</body></html>":                          "x.xml: not a valid list: root element is <html>, expected a STIX 1.x <stix:STIX_Package>",
		"<stix:STIX_Package xmlns:stix='s'>\n<a>\n</b>":          "x.xml:3: not a valid list: bad STIX XML: XML syntax error on line 3: element <a> closed by </b>",
		"<STIX_Package>" + strings.Repeat("<a>", 300):            "x.xml:1: not a valid list: STIX elements nested more than 256 deep",
		"<?xml version='1.0' encoding='latin1'?><STIX_Package/>": "x.xml: not a valid list: not a STIX file (STIX is XML)",
	} {
		_, _, err := Parse(strings.NewReader(in), Options{Name: "s", Kind: Threat, Format: FormatSTIX, Source: "x.xml"})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%.40q: %v\nwant %s", in, err, want)
		}
	}
}

// TestAllBad: a file with no good line is not a list (an HTML error page, the
// wrong file): an error, so that a reload keeps the previous version.
func TestAllBad(t *testing.T) {
	_, warns, err := Parse(strings.NewReader("hello world\nthis is not a list\n"), Options{Name: "t", Kind: Threat, Source: "f.txt"})
	if !errors.Is(err, ErrFormat) || len(warns) != 2 {
		t.Errorf("all bad: %v, %d warnings", err, len(warns))
	}
	// An empty list is a list: the user emptied it.
	if l, _, err := Parse(strings.NewReader("# nothing yet\n"), Options{Name: "t", Kind: Threat}); err != nil || l.Len() != 0 {
		t.Errorf("empty list: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{Kind: Threat}, {Name: "x"}, {Name: "x", Kind: Threat, Format: 99}} {
		if _, _, err := Parse(strings.NewReader(""), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, _, err := LoadFile("testdata/does-not-exist.txt", Options{Name: "x", Kind: Threat}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestRangePrefixes(t *testing.T) {
	for _, c := range []struct {
		first, last string
		want        []string
	}{
		{"192.0.2.0", "192.0.2.255", []string{"192.0.2.0/24"}},
		{"192.0.2.1", "192.0.2.1", []string{"192.0.2.1/32"}},
		{"192.0.2.1", "192.0.2.6", []string{"192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32"}},
		{"0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}},
		{"255.255.255.254", "255.255.255.255", []string{"255.255.255.254/31"}},
		{"2001:db8::", "2001:db8::1:0", []string{"2001:db8::/112", "2001:db8::1:0/128"}},
	} {
		var got []string
		for _, p := range rangePrefixes(mustAddr(c.first), mustAddr(c.last)) {
			got = append(got, p.String())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s-%s: %v, want %v", c.first, c.last, got, c.want)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
