package simulate

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAbuseReport checks the abuse-report e-mail against the corpus it comes
// with: it names the NAT gateway's Elastic IP and the account, it is a valid
// multipart e-mail whose text part is the .txt's text, and every line of its log
// extract is a real outside leg of the NAT-abuse scenarios — the time (written in
// CET), the NAT's source port, the destination and its port.
func TestAbuseReport(t *testing.T) {
	dir := defaultCorpus(t)
	l, err := ReadLabels(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var eip, account, victim string
	var first, last time.Time
	for _, e := range l.Expect {
		switch e.Scenario {
		case "nat-abuse-portsweep":
			first, _ = time.Parse(time.RFC3339, e.FirstSeen)
		case "nat-abuse-ssh-bruteforce":
			eip, account, victim = e.PublicIP, e.AccountID, e.RemoteIP
			last, _ = time.Parse(time.RFC3339, e.LastSeen)
		}
	}
	var natENI, natIP string
	for _, n := range l.ExpectNone {
		if n.Scenario == "nat-abuse-ssh-bruteforce" {
			natENI, natIP = n.Resource, n.PrivateIP
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, "abuse-report", "nat-abuse.eml"))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if subj := msg.Header.Get("Subject"); !strings.Contains(subj, "[AWS ID "+account+"]") {
		t.Errorf("subject %q does not name the account %s", subj, account)
	}
	sent, err := msg.Header.Date()
	if err != nil || !sent.After(last) {
		t.Errorf("Date %v (%v) is not after the activity (%v)", sent, err, last)
	}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || media != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	parts := 0
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		parts++
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatalf("part %d: %v", parts, err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			text = strings.ReplaceAll(string(body), "\r\n", "\n")
		}
	}
	if parts != 2 || text == "" {
		t.Fatalf("%d parts, text %d bytes; want text and HTML", parts, len(text))
	}
	pasted, err := os.ReadFile(filepath.Join(dir, "abuse-report", "nat-abuse.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(pasted), text) {
		t.Error("the .txt does not end with the e-mail's text part")
	}
	if !strings.Contains(text, "Elastic IP: ["+eip+"]") || !strings.Contains(text, "AWS ID: "+account) || !strings.Contains(text, victim) {
		t.Errorf("the text does not name the EIP %s, the account %s and the victim %s", eip, account, victim)
	}

	// The NAT gateway's outside legs, as the remote side saw them.
	type leg struct{ dst, dport string }
	legs := map[string]leg{} // NAT source port → leg
	fl := readFlows(t, dir)
	for _, r := range fl.recs {
		if r.s("interface-id") == natENI && r.s("srcaddr") == natIP && r.s("dstaddr") != "" && !strings.HasPrefix(r.s("dstaddr"), "10.") {
			legs[r.s("srcport")] = leg{r.s("dstaddr"), r.s("dstport")}
		}
	}
	reIPT := regexp.MustCompile(`^(\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ kernel: .* SRC=(\S+) DST=(\S+) .* SPT=(\d+) DPT=(\d+)`)
	reSSH := regexp.MustCompile(`^(\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: Failed password for .* from (\S+) port (\d+) ssh2$`)
	cet := time.FixedZone("CET", 3600)
	n := 0
	for _, line := range strings.Split(text, "\n") {
		var stamp, src, dst, sport, dport string
		if m := reIPT.FindStringSubmatch(line); m != nil {
			stamp, src, dst, sport, dport = m[1], m[2], m[3], m[4], m[5]
		} else if m := reSSH.FindStringSubmatch(line); m != nil {
			stamp, src, dst, sport, dport = m[1], m[2], victim, m[3], "22"
		} else {
			continue
		}
		n++
		tm, err := time.ParseInLocation("Jan _2 15:04:05 2006", stamp+" "+strconv.Itoa(first.Year()), cet)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if tm.Before(first) || tm.After(last.Add(3*time.Second)) {
			t.Errorf("%q: %v is outside the scenarios' %v – %v", line, tm.UTC(), first, last)
		}
		if src != eip {
			t.Errorf("%q: source %s, want the EIP %s", line, src, eip)
		}
		if lg, ok := legs[sport]; !ok || lg.dst != dst || lg.dport != dport {
			t.Errorf("%q: no outside leg from NAT port %s to %s:%s (found %+v)", line, sport, dst, dport, lg)
		}
	}
	if n < 15 {
		t.Errorf("%d log lines in the extract, want at least 15", n)
	}
}
