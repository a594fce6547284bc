package investigate

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantReport is what a testdata report must read as (testdata/reports/*.want.json).
// Empty fields are not checked, except that a report with no want for account or
// region must say it lacks them when the want lists that under missing.
type wantReport struct {
	Email        bool     `json:"email"`
	Subject      string   `json:"subject"`
	Account      string   `json:"account"`
	Region       string   `json:"region"`
	Case         string   `json:"case"`
	Reported     []string `json:"reported"`
	Resources    []string `json:"resources"`
	Kind         string   `json:"kind"`
	NotKinds     []string `json:"notKinds"`
	From         string   `json:"from"`
	Until        string   `json:"until"`
	Lines        int      `json:"lines"`
	Destinations []string `json:"destinations"`
	Mentioned    []string `json:"mentioned"`
	Ports        []int    `json:"ports"`
	Protocols    []string `json:"protocols"`
	Zone         string   `json:"zone"`
	Missing      []string `json:"missing"`
	Notes        []string `json:"notes"`
	Problems     int      `json:"problems"`
	ProblemWhy   string   `json:"problemWhy"`
}

func addrStrings(as []netip.Addr) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.String())
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = append([]string{}, s...)
	slices.Sort(s)
	return s
}

// TestReports parses every report under testdata/reports and compares it with its
// .want.json: real-world layouts (AWS notices, forwarded complaints, honeypot and
// firewall logs, e-mails with attachments and HTML-only bodies) in ISO 8601, RFC
// 2822, date(1), syslog, Cisco, Apache, US and European numeric dates and Unix
// time, in several time zones.
func TestReports(t *testing.T) {
	wants, err := filepath.Glob("testdata/reports/*.want.json")
	if err != nil || len(wants) < 8 {
		t.Fatalf("want files: %v (%d)", err, len(wants))
	}
	for _, wf := range wants {
		name := strings.TrimSuffix(filepath.Base(wf), ".want.json")
		t.Run(name, func(t *testing.T) {
			var want wantReport
			data, err := os.ReadFile(wf)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("%s: %v", wf, err)
			}
			src, _ := filepath.Glob("testdata/reports/" + name + ".*")
			var input string
			for _, s := range src {
				if !strings.HasSuffix(s, ".want.json") {
					input = s
				}
			}
			raw, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			// Now is far from every report's date: a test that passes reads the
			// year from the report, not from the clock.
			r, err := Parse(input, raw, ParseOptions{Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			if r.Email != want.Email {
				t.Errorf("email = %v, want %v", r.Email, want.Email)
			}
			check("subject", r.Subject, want.Subject)
			check("account", r.AccountID, want.Account)
			check("region", r.Region, want.Region)
			check("case", r.CaseNumber, want.Case)
			check("kind", string(r.Kind()), want.Kind)
			for _, k := range want.NotKinds {
				if r.HasKind(Kind(k)) {
					t.Errorf("kinds %v include %s", r.Activities, k)
				}
			}
			if got := addrStrings(r.ReportedIPs); !slices.Equal(got, sorted(want.Reported)) {
				t.Errorf("reported = %v, want %v", got, want.Reported)
			}
			for _, id := range want.Resources {
				if !slices.Contains(r.ResourceIDs, id) {
					t.Errorf("resources %v lack %s", r.ResourceIDs, id)
				}
			}
			if want.From != "" {
				check("from", r.Window.From.Format(time.RFC3339Nano), want.From)
				check("until", r.Window.Until.Format(time.RFC3339Nano), want.Until)
			}
			if r.LinesTotal != want.Lines {
				t.Errorf("%d log lines, want %d", r.LinesTotal, want.Lines)
			}
			if want.Destinations != nil {
				if got := addrStrings(r.Destinations); !slices.Equal(got, sorted(want.Destinations)) {
					t.Errorf("destinations = %v, want %v", got, want.Destinations)
				}
			}
			if want.Mentioned != nil {
				if got := addrStrings(r.Mentioned); !slices.Equal(got, sorted(want.Mentioned)) {
					t.Errorf("mentioned = %v, want %v", got, want.Mentioned)
				}
			}
			if want.Ports != nil {
				var got []int
				for _, p := range r.DstPorts {
					got = append(got, int(p.Port))
				}
				slices.Sort(got)
				if !slices.Equal(got, want.Ports) {
					t.Errorf("ports = %v, want %v", got, want.Ports)
				}
			}
			if want.Protocols != nil && !slices.Equal(r.Protocols, want.Protocols) {
				t.Errorf("protocols = %v, want %v", r.Protocols, want.Protocols)
			}
			if want.Zone != "" && !strings.HasPrefix(r.Zone, want.Zone) {
				t.Errorf("zone = %q, want %q…", r.Zone, want.Zone)
			}
			for _, m := range want.Missing {
				if !containsSub(r.Missing, m) {
					t.Errorf("missing %q does not say %q", r.Missing, m)
				}
			}
			for _, n := range want.Notes {
				if !containsSub(r.Notes, n) {
					t.Errorf("notes %q do not say %q", r.Notes, n)
				}
			}
			if len(r.Problems) != want.Problems {
				t.Errorf("%d problems %v, want %d", len(r.Problems), r.Problems, want.Problems)
			}
			for _, p := range r.Problems {
				if want.ProblemWhy != "" && p.Why != want.ProblemWhy {
					t.Errorf("problem %+v, want why %q", p, want.ProblemWhy)
				}
			}
			// Every reported line is read from the reported side.
			for _, ll := range r.Lines {
				if ll.Reported && !slices.Contains(r.ReportedIPs, ll.Src) {
					t.Errorf("line %d: source %v is not a reported address", ll.Line, ll.Src)
				}
			}
		})
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestParseSimulatedReport reads the abuse report vigil simulate writes, as an
// e-mail and as pasted text, and checks it against the scenario's labels.
func TestParseSimulatedReport(t *testing.T) {
	dir := simCorpus(t, "v2")
	labels := simLabels(t, dir)
	for _, name := range []string{"nat-abuse.eml", "nat-abuse.txt"} {
		data, err := os.ReadFile(filepath.Join(dir, "abuse-report", name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(name, data, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := addrStrings(r.ReportedIPs); len(got) != 1 || got[0] != labels.eip {
			t.Errorf("%s: reported %v, want the NAT's EIP %s", name, got, labels.eip)
		}
		if r.AccountID != labels.account || r.Region != "us-east-1" {
			t.Errorf("%s: account %q region %q, want %s us-east-1", name, r.AccountID, r.Region, labels.account)
		}
		if !r.HasKind(KindPortScan) || !r.HasKind(KindSSHBruteForce) {
			t.Errorf("%s: kinds %v, want a port scan and an SSH brute force", name, r.Activities)
		}
		if r.Window.From.Before(labels.first) || r.Window.Until.After(labels.last.Add(3*time.Second)) {
			t.Errorf("%s: window %v – %v outside the scenario's %v – %v", name, r.Window.From, r.Window.Until, labels.first, labels.last)
		}
		if r.Window.Until.Sub(r.Window.From) < 5*time.Minute {
			t.Errorf("%s: window %v – %v is too short for the scenario", name, r.Window.From, r.Window.Until)
		}
		if !slices.Contains(r.Mentioned, netip.MustParseAddr(labels.victim)) {
			t.Errorf("%s: the brute-forced server %s is not among the addresses read (%v, %v)", name, labels.victim, r.Destinations, r.Mentioned)
		}
		if r.LinesTotal < 15 || len(r.Problems) > 0 {
			t.Errorf("%s: %d lines, problems %v", name, r.LinesTotal, r.Problems)
		}
	}
}

// TestParseEdges checks small inputs: formats of one line each.
func TestParseEdges(t *testing.T) {
	for _, tc := range []struct {
		name, text     string
		src, dst       string
		sport, dport   uint16
		time           string
		format, reason string
	}{
		{name: "ufw", text: "2026-01-05T10:00:00+01:00 host kernel: [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.1 DST=192.0.2.5 PROTO=UDP SPT=5353 DPT=161",
			src: "198.51.100.1", dst: "192.0.2.5", sport: 5353, dport: 161, time: "2026-01-05T09:00:00Z", format: "iptables"},
		{name: "asa-106001", text: "Jan 05 2026 10:00:00: %ASA-2-106001: Inbound TCP connection denied from 198.51.100.1/4444 to 192.0.2.5/3389 flags SYN on interface outside",
			src: "198.51.100.1", dst: "192.0.2.5", sport: 4444, dport: 3389, time: "2026-01-05T10:00:00Z", format: "Cisco ASA"},
		{name: "tcpdump epoch", text: "1767607200.123456 IP 198.51.100.1.4444 > 192.0.2.5.22: Flags [S], seq 1",
			src: "198.51.100.1", dst: "192.0.2.5", sport: 4444, dport: 22, time: "2026-01-05T10:00:00.123456Z", format: "tcpdump"},
		{name: "rfc2822", text: "Mon, 05 Jan 2026 05:00:00 -0500 198.51.100.1:4444 -> 192.0.2.5:25",
			src: "198.51.100.1", dst: "192.0.2.5", sport: 4444, dport: 25, time: "2026-01-05T10:00:00Z"},
		{name: "date1 with zone", text: "Mon Jan 05 11:00:00 CET 2026 198.51.100.1 -> 192.0.2.5",
			src: "198.51.100.1", dst: "192.0.2.5", time: "2026-01-05T10:00:00Z"},
		{name: "european", text: "05.01.2026 11:00:00 +01:00 src=198.51.100.1 dst=192.0.2.5 dport=443",
			src: "198.51.100.1", dst: "192.0.2.5", dport: 443, time: "2026-01-05T10:00:00Z", format: "key=value"},
		{name: "reversed", text: "2026-01-05 10:00:00Z 192.0.2.5:22 <- 198.51.100.1:4444",
			src: "198.51.100.1", dst: "192.0.2.5", sport: 4444, dport: 22, time: "2026-01-05T10:00:00Z"},
		{name: "ipv6", text: "2026-01-05T10:00:00Z [2001:db8::1]:4444 -> [2001:db8:1::5]:22",
			src: "2001:db8::1", dst: "2001:db8:1::5", sport: 4444, dport: 22, time: "2026-01-05T10:00:00Z"},
		{name: "mac is not ipv6", text: "2026-01-05T10:00:00Z kernel: IN=eth0 MAC=52:54:00:91:0b:ae:00:1c:73:0a:2c:9e:08:00 SRC=198.51.100.1 DST=192.0.2.5 PROTO=TCP SPT=1 DPT=2",
			src: "198.51.100.1", dst: "192.0.2.5", sport: 1, dport: 2, time: "2026-01-05T10:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "Reported IP: 198.51.100.1\n\nLogs:\n" + tc.text + "\n"
			r, err := Parse(tc.name, []byte(text), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Lines) != 1 {
				t.Fatalf("%d lines (%+v), problems %v", len(r.Lines), r.Lines, r.Problems)
			}
			l := r.Lines[0]
			if l.Src.String() != tc.src || l.Dst.String() != tc.dst || l.SrcPort != tc.sport || l.DstPort != tc.dport {
				t.Errorf("read %v:%d -> %v:%d, want %s:%d -> %s:%d", l.Src, l.SrcPort, l.Dst, l.DstPort, tc.src, tc.sport, tc.dst, tc.dport)
			}
			if got := l.Time.Format(time.RFC3339Nano); got != tc.time {
				t.Errorf("time %s (from %q), want %s", got, l.TimeText, tc.time)
			}
			if tc.format != "" && l.Format != tc.format {
				t.Errorf("format %q, want %q", l.Format, tc.format)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	if _, err := Parse("x", []byte(" \n\t"), ParseOptions{}); err == nil {
		t.Fatal("an empty report parsed")
	}
	r, err := Parse("x", []byte("hello, nothing here"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"no AWS account ID", "no public address", "no time"} {
		if !containsSub(r.Missing, m) {
			t.Errorf("missing %q does not say %q", r.Missing, m)
		}
	}
}
