package investigate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse feeds the report parser arbitrary bytes: e-mails and text seeded from
// the testdata reports. It must never panic, and what it returns must hold
// together: line numbers inside the input, lines from the input, bounded lists.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/reports/*")
	for _, name := range files {
		if strings.HasSuffix(name, ".want.json") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("From: a\nSubject: b\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nFrom: c\n\n--x--\n"))
	f.Add([]byte("Content-Type: text/plain\nFrom: x\nContent-Transfer-Encoding: base64\n\n!!!!\n"))
	f.Add([]byte("<<<\n2026-01-01T00:00:00Z 1.2.3.4:1 -> 5.6.7.8:2\n>>>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz", data, ParseOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			if strings.TrimSpace(string(data)) != "" && !strings.Contains(err.Error(), "empty") {
				t.Fatalf("Parse failed on non-empty input: %v", err)
			}
			return
		}
		if len(r.Lines) > maxLogLines || len(r.Problems) > maxProblems || len(r.Destinations) > maxAddresses {
			t.Fatalf("unbounded: %d lines, %d problems, %d destinations", len(r.Lines), len(r.Problems), len(r.Destinations))
		}
		prev := 0
		for _, l := range r.Lines {
			if l.Line <= prev {
				t.Fatalf("line numbers out of order: %d after %d", l.Line, prev)
			}
			prev = l.Line
			if !utf8.ValidString(l.Text) {
				t.Fatalf("line %d is not UTF-8: %q", l.Line, l.Text)
			}
			if !l.Time.IsZero() && (l.Time.Year() < 1970 || l.Time.Year() > 2300) {
				t.Fatalf("line %d: time %v", l.Line, l.Time)
			}
		}
		if !r.Window.IsZero() && r.Window.Until.Before(r.Window.From) {
			t.Fatalf("window %v – %v ends before it starts", r.Window.From, r.Window.Until)
		}
		for _, a := range r.ReportedIPs {
			if !isPublic(a) {
				t.Fatalf("reported address %v is not public", a)
			}
		}
	})
}

// FuzzLogLine reads one line as a log line: the time's span lies in the line and
// the ports are real ports.
func FuzzLogLine(f *testing.F) {
	for _, s := range []string{
		"Nov  1 12:02:16 sensor-1 kernel: [1834193.843207] DROP IN=eth0 SRC=18.206.49.103 DST=138.98.75.30 PROTO=TCP SPT=20075 DPT=22",
		"Jun 11 2026 14:22:01: %ASA-4-106023: Deny udp src outside:3.91.22.7/41000 dst inside:192.0.2.10/53 by access-group",
		"Mon Nov 02 15:04:05 UTC 2026: connection from 44.201.9.77:44123 to 203.0.113.9:23",
		"1793632860512 44.201.9.77 -> 203.0.113.14 tcp/23 SYN",
		"8/14/2026 3:12:44 PM Source Network Address: 35.160.44.12 Source Port: 49823",
		"52.14.88.201 - - [02/Sep/2026:13:55:36 +0200] \"GET / HTTP/1.1\" 200",
		"2026-05-03 06:12:48,431 fail2ban.actions [991]: NOTICE [sshd] Ban 54.210.11.23",
		"2026-01-05T10:00:00Z [2001:db8::1]:4444 -> [2001:db8:1::5]:22",
		"05.01.2026 11:00:00 +01:00 src=198.51.100.1 dst=192.0.2.5 dport=443",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > maxLineBytes {
			return
		}
		if st, ok := findTime(line); ok {
			if st.start < 0 || st.end > len(line) || st.start > st.end {
				t.Fatalf("time span [%d, %d) outside the line of %d bytes", st.start, st.end, len(line))
			}
			_ = st.resolve(time.UTC, 2026, time.Time{})
		}
		readFlow(line) // must not panic; ports are uint16 by type
	})
}
