package investigate

import (
	"sort"
	"strings"
)

// Kind is the kind of abuse a report describes.
type Kind string

// The kinds of abuse AWS Trust & Safety forwards.
const (
	KindPortScan         Kind = "port-scan"
	KindSSHBruteForce    Kind = "ssh-brute-force"
	KindRDPBruteForce    Kind = "rdp-brute-force"
	KindBruteForce       Kind = "brute-force" // another service: FTP, SMTP AUTH, a web login
	KindDoS              Kind = "dos"
	KindSpam             Kind = "spam"
	KindIntrusionAttempt Kind = "intrusion-attempt"
	KindMalwareHosting   Kind = "malware-hosting"
	KindCopyright        Kind = "copyright"
	KindUnknown          Kind = "unknown"
)

// Kinds lists every kind, for flags and documentation.
var Kinds = []Kind{KindPortScan, KindSSHBruteForce, KindRDPBruteForce, KindBruteForce, KindDoS, KindSpam,
	KindIntrusionAttempt, KindMalwareHosting, KindCopyright}

// Title is the kind for a sentence: "port scanning".
func (k Kind) Title() string {
	switch k {
	case KindPortScan:
		return "port scanning"
	case KindSSHBruteForce:
		return "SSH brute force"
	case KindRDPBruteForce:
		return "RDP brute force"
	case KindBruteForce:
		return "password brute force"
	case KindDoS:
		return "denial of service"
	case KindSpam:
		return "sending spam"
	case KindIntrusionAttempt:
		return "intrusion attempts"
	case KindMalwareHosting:
		return "hosting malware or phishing"
	case KindCopyright:
		return "copyright infringement"
	}
	return "unidentified activity"
}

// ParseKind reads a kind as a user types it ("portscan", "ssh", "ddos").
func ParseKind(s string) (Kind, bool) {
	k := strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(strings.TrimSpace(s)))
	switch k {
	case "port-scan", "portscan", "scan", "scanning", "port-scanning":
		return KindPortScan, true
	case "ssh-brute-force", "ssh", "ssh-bruteforce", "ssh-brute":
		return KindSSHBruteForce, true
	case "rdp-brute-force", "rdp", "rdp-bruteforce":
		return KindRDPBruteForce, true
	case "brute-force", "bruteforce", "brute":
		return KindBruteForce, true
	case "dos", "ddos", "denial-of-service", "flood":
		return KindDoS, true
	case "spam", "email", "mail":
		return KindSpam, true
	case "intrusion-attempt", "intrusion", "exploit", "hacking":
		return KindIntrusionAttempt, true
	case "malware-hosting", "malware", "phishing":
		return KindMalwareHosting, true
	case "copyright", "dmca":
		return KindCopyright, true
	}
	return "", false
}

// Activity is one kind a report points to, with how strongly and why.
type Activity struct {
	Kind  Kind   `json:"kind"`
	Score int    `json:"score"`
	Why   string `json:"why"`
}

// kindWords are the phrases that point to each kind, in lower case.
var kindWords = []struct {
	kind  Kind
	words []string
}{
	{KindPortScan, []string{"scanning remote hosts", "port scan", "portscan", "port-scan", "scanning", "network scan", "probing", "probes", "nmap", "masscan", "zmap", "syn scan", "connection attempts", "sweep*"}},
	{KindSSHBruteForce, []string{"ssh brute", "brute force ssh", "brute-force ssh", "ssh login", "ssh logins", "failed password", "invalid user", "sshd", "ssh attack", "ssh dictionary"}},
	{KindRDPBruteForce, []string{"rdp", "remote desktop", "3389", "event id 4625", "logon failure"}},
	{KindBruteForce, []string{"brute force", "brute-force", "bruteforce", "password guessing", "credential stuffing", "login attempts", "dictionary attack", "authentication failures"}},
	{KindDoS, []string{"denial of service", "denial-of-service", "dos attack", "ddos", "flood", "flooding", "amplification", "reflection attack", "syn flood", "udp flood", "packets per second"}},
	{KindSpam, []string{"spam*", "unsolicited", "bulk e-mail", "bulk email", "junk mail", "rbl", "blocklisted for sending", "smtp"}},
	{KindIntrusionAttempt, []string{"intrusion*", "exploit*", "hacking attempt", "attack attempts", "sql injection", "wp-login", "xmlrpc", "web attack", "unauthorized access attempt", "shellshock", "log4j", "path traversal", "/etc/passwd", "remote code execution"}},
	{KindMalwareHosting, []string{"malware", "hosting malicious", "malicious content", "phishing", "virus", "trojan", "command and control", "c2 server", "botnet", "ransomware"}},
	{KindCopyright, []string{"copyright", "dmca", "infring*", "intellectual property", "pirated", "piracy", "torrent"}},
}

// classify scores the kinds: words in the subject and in AWS's "activity which
// resembles …" sentence weigh three times as much as words elsewhere, and the log
// lines add their own evidence (sshd and fail2ban lines, distinct destinations
// and ports).
func classify(subject string, lines []string, logLines []LogLine) []Activity {
	score := map[Kind]int{}
	why := map[Kind][]string{}
	add := func(k Kind, n int, reason string) {
		score[k] += n
		if len(why[k]) < 3 && !contains(why[k], reason) {
			why[k] = append(why[k], reason)
		}
	}
	scan := func(text string, weight int, where string) {
		low := strings.ToLower(text)
		for _, kw := range kindWords {
			for _, w := range kw.words {
				if containsWord(low, w) {
					add(kw.kind, weight, "\""+strings.TrimSuffix(w, "*")+"\" in "+where)
				}
			}
		}
	}
	if subject != "" {
		scan(subject, 3, "the subject")
	}
	for _, l := range lines {
		low := strings.ToLower(l)
		if i := strings.Index(low, "activity which resembles"); i >= 0 {
			scan(l[i:], 3, "AWS's notice")
			continue
		}
		scan(l, 1, "the text")
	}
	// What the log lines show.
	formats := map[string]int{}
	dsts := map[string]bool{}
	ports := map[uint16]int{}
	for _, ll := range logLines {
		formats[ll.Format]++
		if ll.Dst.IsValid() {
			dsts[ll.Dst.String()] = true
		}
		if ll.DstPort != 0 {
			ports[ll.DstPort]++
		}
	}
	if n := formats["sshd"]; n > 0 {
		add(KindSSHBruteForce, 2+min(n, 5), "sshd lines in the log extract")
	}
	if n := formats["Windows logon failure"]; n > 0 {
		add(KindRDPBruteForce, 2+min(n, 5), "Windows logon failures in the log extract")
	}
	if n := formats["mail server"]; n > 0 {
		add(KindSpam, 1+min(n, 3), "mail-server lines in the log extract")
	}
	if n := formats["web access log"]; n > 0 {
		add(KindIntrusionAttempt, 1+min(n, 3), "web-server lines in the log extract")
	}
	if len(dsts) >= 5 {
		add(KindPortScan, 3, "the log extract shows many destination hosts")
	}
	if len(ports) >= 5 {
		add(KindPortScan, 3, "the log extract shows many destination ports")
	}
	if len(ports) < 5 { // a scan touches every port; only a few ports say what was attacked
		if ports[3389] > 0 {
			add(KindRDPBruteForce, 2, "port 3389 in the log extract")
		}
		if ports[25]+ports[465]+ports[587] > 0 {
			add(KindSpam, 2, "mail ports in the log extract")
		}
	}
	// A specific brute force makes the generic one redundant.
	if score[KindSSHBruteForce] > 0 || score[KindRDPBruteForce] > 0 {
		delete(score, KindBruteForce)
	}
	var out []Activity
	for k, s := range score {
		out = append(out, Activity{Kind: k, Score: s, Why: strings.Join(why[k], ", ")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// containsWord reports whether text holds w as a word (or, for w ending in *, as
// the start of a word): "rdp" is not in "thirdparty".
func containsWord(text, w string) bool {
	prefix := strings.HasSuffix(w, "*")
	w = strings.TrimSuffix(w, "*")
	for i := 0; i+len(w) <= len(text); {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		at := i + j
		end := at + len(w)
		if (at == 0 || !isWordByte(text[at-1])) && (prefix || end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = at + 1
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
