package investigate

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Log-extract lines. Complainants paste firewall logs (iptables/nftables/UFW LOG
// lines with SRC= DST= SPT= DPT=, Cisco ASA/FTD messages with
// "src outside:1.2.3.4/5555 dst inside:5.6.7.8/22"), tcpdump output
// ("IP 1.2.3.4.5555 > 5.6.7.8.22:"), "ip:port -> ip:port" summaries, sshd and
// fail2ban lines ("Failed password for root from 1.2.3.4 port 5555",
// "[sshd] Ban 1.2.3.4"), mail-server lines, Windows logon failures, web access
// logs, key=value and tabular exports. readFlow reads the addresses, ports and
// protocol from one line, trying the specific formats before the generic ones.

// flowFields are what a line says about the traffic.
type flowFields struct {
	format           string
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            string // "tcp", "udp", "icmp" or ""
	// structured is true when the line matched a log format (not just addresses
	// in a sentence), so that a missing time is worth saying.
	structured bool
}

const ipv4 = `(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}`

// ipAny matches an IPv4 address or an IPv6 address written with "::" or in full
// (eight groups); addrOK then validates it. Plain colon-hex runs such as MAC
// addresses are excluded by requiring "::" or exactly eight groups bounded by
// non-hex characters.
const ipv6 = `(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){0,6}(?:[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}`

var (
	reIPv4Cand    = regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}`)
	reIPv6Bracket = regexp.MustCompile(`\[(` + ipv6 + `)\](?::(\d{1,5}))?`)

	reIptables = regexp.MustCompile(`\bSRC=(\S+)\s.*?\bDST=(\S+)`)
	reIptProto = regexp.MustCompile(`\bPROTO=(\w+)`)
	reIptSPT   = regexp.MustCompile(`\bSPT=(\d+)`)
	reIptDPT   = regexp.MustCompile(`\bDPT=(\d+)`)

	reASATag   = regexp.MustCompile(`%(?:ASA|FTD|PIX|FWSM)-\d-\d+`)
	reASASrc   = regexp.MustCompile(`(?i)\b(tcp|udp|icmp)?\s*src\s+(?:[\w.-]+:)?(` + ipv4 + `)(?:/(\d+))?\s+dst\s+(?:[\w.-]+:)?(` + ipv4 + `)(?:/(\d+))?`)
	reASAFrom  = regexp.MustCompile(`(?i)\b(tcp|udp|icmp)?\b.*?\bfrom\s+(?:[\w.-]+:)?(` + ipv4 + `)(?:/(\d+))?\s+to\s+(?:[\w.-]+:)?(` + ipv4 + `)(?:/(\d+))?`)
	reASABuilt = regexp.MustCompile(`(?i)Built\s+(inbound|outbound)\s+(tcp|udp|icmp)\s+connection\s+\S+\s+for\s+(?:[\w.-]+:)?(` + ipv4 + `)/(\d+)\s.*?\bto\s+(?:[\w.-]+:)?(` + ipv4 + `)/(\d+)`)

	reTcpdump = regexp.MustCompile(`(?:^|\s)(?:IP6?\s+)?(` + ipv4 + `)\.(\d{1,5})\s+>\s+(` + ipv4 + `)\.(\d{1,5})\b`)
	reArrow   = regexp.MustCompile(`(` + ipv4 + `)(?:[:.#](\d{1,5}))?\s*(?:->|=>|-->|→|⇒|>)\s*(` + ipv4 + `)(?:[:.#](\d{1,5}))?`)
	reArrow6  = regexp.MustCompile(`\[(` + ipv6 + `)\](?::(\d{1,5}))?\s*(?:->|=>|-->|→|>)\s*\[(` + ipv6 + `)\](?::(\d{1,5}))?`)
	reFromTo  = regexp.MustCompile(`(?i)\bfrom\s+(` + ipv4 + `)(?:[:.](\d{1,5}))?\s+to\s+(` + ipv4 + `)(?:[:.](\d{1,5}))?`)

	reFail2ban  = regexp.MustCompile(`(?i)\bfail2ban\b.*?(?:\[([\w.-]+)\]\s+)?\b(Ban|Found|Unban|Restore Ban|Already banned)\s+(` + ipv4 + `|` + ipv6 + `)`)
	reF2BJail   = regexp.MustCompile(`\[([A-Za-z][\w.-]*)\]\s+(?:Ban|Found|Unban|Restore|Already)`)
	reSSHD      = regexp.MustCompile(`(?i)(?:\bsshd\b|Failed password|Failed publickey|Invalid user|authentication failure|Did not receive identification|Connection closed by|Disconnected from|maximum authentication attempts|Unable to negotiate)`)
	reSSHFrom   = regexp.MustCompile(`(?i)(?:\bfrom|\bby|rhost=)\s*(?:invalid user \S+\s+|authenticating user \S+\s+|user \S+\s+)?(` + ipv4 + `|` + ipv6 + `)(?:\s+port\s+(\d{1,5}))?`)
	reMail      = regexp.MustCompile(`(?i)\b(?:postfix|smtpd|exim|sendmail|dovecot|sasl|qmail|RCPT|EHLO|HELO)\b.*?\[(` + ipv4 + `)\]`)
	reWinLogon  = regexp.MustCompile(`(?i)Source Network Address:\s*(` + ipv4 + `)`)
	reWinPort   = regexp.MustCompile(`(?i)Source Port:\s*(\d{1,5})`)
	reCLFLine   = regexp.MustCompile(`^\s*(` + ipv4 + `)\s+\S+\s+\S+\s+\[\d{1,2}/[A-Za-z]{3}/\d{4}:`)
	reLabelSrc  = regexp.MustCompile(`(?i)\b(?:src|source|src_?ip|source[ _]?ip(?: address)?|attacker(?: ip)?|offending ip|origin)\s*[:=]\s*\[?(` + ipv4 + `|` + ipv6 + `)\]?(?:[:/](\d{1,5}))?`)
	reLabelDst  = regexp.MustCompile(`(?i)\b(?:dst|dest|destination|dst_?ip|dest_?ip|destination[ _]?ip(?: address)?|target(?: ip)?|victim(?: ip)?)\s*[:=]\s*\[?(` + ipv4 + `|` + ipv6 + `)\]?(?:[:/](\d{1,5}))?`)
	reLabelSPT  = regexp.MustCompile(`(?i)\b(?:spt|sport|src_?port|source[ _]?port)\s*[:=]\s*(\d{1,5})\b`)
	reLabelDPT  = regexp.MustCompile(`(?i)\b(?:dpt|dport|dst_?port|dest_?port|destination[ _]?port|target[ _]?port)\s*[:=]\s*(\d{1,5})\b`)
	reLabelProt = regexp.MustCompile(`(?i)\b(?:proto|protocol)\s*[:=]\s*"?(tcp|udp|icmp|6|17|1)\b`)
	reProtoWord = regexp.MustCompile(`(?i)\b(tcp|udp|icmp)\b`)
	reProtoPort = regexp.MustCompile(`(?i)\b(tcp|udp)/(\d{1,5})\b`)
)

// jailPorts are the ports of the common fail2ban jails.
var jailPorts = map[string]uint16{
	"sshd": 22, "ssh": 22, "sshd-ddos": 22, "dropbear": 22,
	"postfix": 25, "postfix-sasl": 25, "postfix-rbl": 25, "exim": 25, "exim-spam": 25, "sendmail-auth": 25, "sendmail-reject": 25,
	"dovecot": 143, "courier-auth": 143,
	"apache-auth": 80, "apache-badbots": 80, "apache-noscript": 80, "apache-overflows": 80, "nginx-http-auth": 80, "nginx-botsearch": 80, "wordpress": 80, "php-url-fopen": 80,
	"vsftpd": 21, "proftpd": 21, "pure-ftpd": 21,
	"asterisk": 5060, "freeswitch": 5060, "mysqld-auth": 3306, "mssql-auth": 1433,
}

func addr(s string) netip.Addr {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func port(s string) uint16 {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return uint16(n)
}

func protoName(s string) string {
	switch strings.ToLower(s) {
	case "tcp", "6":
		return "tcp"
	case "udp", "17":
		return "udp"
	case "icmp", "1", "icmpv6", "58":
		return "icmp"
	}
	return ""
}

// readFlow reads what line says about a flow. ok is false when the line names no
// address at all.
func readFlow(line string) (f flowFields, ok bool) {
	// The cheap tests before each expression keep a long report fast: an
	// expression runs only on lines holding its anchor text.
	low := strings.ToLower(line)
	switch {
	case strings.Contains(line, "SRC=") && strings.Contains(line, "DST="):
		if m := reIptables.FindStringSubmatch(line); m != nil {
			f = flowFields{format: "iptables", src: addr(m[1]), dst: addr(m[2]), structured: true}
			if p := reIptProto.FindStringSubmatch(line); p != nil {
				f.proto = protoName(p[1])
			}
			if p := reIptSPT.FindStringSubmatch(line); p != nil {
				f.srcPort = port(p[1])
			}
			if p := reIptDPT.FindStringSubmatch(line); p != nil {
				f.dstPort = port(p[1])
			}
			if f.src.IsValid() || f.dst.IsValid() {
				return f, true
			}
		}
	case reASATag.MatchString(line):
		f.format, f.structured = "Cisco ASA", true
		if m := reASABuilt.FindStringSubmatch(line); m != nil {
			// "Built inbound … for outside:A/pa (…) to inside:B/pb": A is the foreign
			// side and the initiator for inbound; for outbound the initiator is B.
			a, pa, b, pb := addr(m[3]), port(m[4]), addr(m[5]), port(m[6])
			f.proto = protoName(m[2])
			if strings.EqualFold(m[1], "inbound") {
				f.src, f.srcPort, f.dst, f.dstPort = a, pa, b, pb
			} else {
				f.src, f.srcPort, f.dst, f.dstPort = b, pb, a, pa
			}
			return f, true
		}
		for _, re := range []*regexp.Regexp{reASASrc, reASAFrom} {
			if m := re.FindStringSubmatch(line); m != nil {
				f.proto = protoName(m[1])
				f.src, f.srcPort, f.dst, f.dstPort = addr(m[2]), port(m[3]), addr(m[4]), port(m[5])
				if f.proto == "" {
					if p := reProtoWord.FindStringSubmatch(line); p != nil {
						f.proto = protoName(p[1])
					}
				}
				return f, true
			}
		}
	}
	if !strings.Contains(line, " > ") {
		// not tcpdump
	} else if m := reTcpdump.FindStringSubmatch(line); m != nil && (strings.Contains(line, "Flags [") || strings.Contains(line, " IP ") || strings.HasPrefix(strings.TrimSpace(line), "IP ") || strings.Contains(line, ": UDP") || strings.Contains(line, ": ICMP")) {
		f = flowFields{format: "tcpdump", src: addr(m[1]), srcPort: port(m[2]), dst: addr(m[3]), dstPort: port(m[4]), structured: true}
		switch {
		case strings.Contains(line, "Flags ["):
			f.proto = "tcp"
		case strings.Contains(line, "UDP"):
			f.proto = "udp"
		}
		return f, true
	}
	hasArrow := strings.ContainsAny(line, ">→⇒")
	if !hasArrow {
		// no arrow
	} else if m := reArrow.FindStringSubmatch(line); m != nil {
		f = flowFields{format: "ip:port -> ip:port", src: addr(m[1]), srcPort: port(m[2]), dst: addr(m[3]), dstPort: port(m[4]), structured: true}
		f.proto = lineProto(line)
		if p := reProtoPort.FindStringSubmatch(line); p != nil && f.dstPort == 0 {
			f.proto, f.dstPort = protoName(p[1]), port(p[2])
		}
		return f, true
	}
	if !hasArrow || !strings.Contains(line, "]") {
		// no bracketed IPv6 pair
	} else if m := reArrow6.FindStringSubmatch(line); m != nil {
		f = flowFields{format: "ip:port -> ip:port", src: addr(m[1]), srcPort: port(m[2]), dst: addr(m[3]), dstPort: port(m[4]), structured: true}
		f.proto = lineProto(line)
		return f, true
	}
	if !strings.Contains(low, "fail2ban") {
		// not fail2ban
	} else if m := reFail2ban.FindStringSubmatch(line); m != nil {
		f = flowFields{format: "fail2ban", src: addr(m[3]), structured: true, proto: "tcp"}
		jail := m[1]
		if j := reF2BJail.FindStringSubmatch(line); j != nil {
			jail = j[1]
		}
		f.dstPort = jailPorts[strings.ToLower(jail)]
		return f, f.src.IsValid()
	}
	if containsAny(low, sshWords) && reSSHD.MatchString(line) {
		if m := reSSHFrom.FindStringSubmatch(line); m != nil {
			f = flowFields{format: "sshd", src: addr(m[1]), srcPort: port(m[2]), dstPort: 22, proto: "tcp", structured: true}
			if f.src.IsValid() {
				return f, true
			}
		}
	}
	if !strings.Contains(low, "source network address") {
		// not a Windows logon event
	} else if m := reWinLogon.FindStringSubmatch(line); m != nil {
		f = flowFields{format: "Windows logon failure", src: addr(m[1]), dstPort: 3389, proto: "tcp", structured: true}
		if p := reWinPort.FindStringSubmatch(line); p != nil {
			f.srcPort = port(p[1])
		}
		return f, true
	}
	if !strings.Contains(line, "[") || !containsAny(low, mailWords) {
		// not a mail server's line
	} else if m := reMail.FindStringSubmatch(line); m != nil {
		return flowFields{format: "mail server", src: addr(m[1]), dstPort: 25, proto: "tcp", structured: true}, true
	}
	if !strings.Contains(line, "[") || !strings.Contains(line, "/") {
		// not an access log
	} else if m := reCLFLine.FindStringSubmatch(line); m != nil {
		return flowFields{format: "web access log", src: addr(m[1]), proto: "tcp", structured: true}, true
	}
	if !strings.Contains(low, "from ") || !strings.Contains(low, " to ") {
		// not "from … to …"
	} else if m := reFromTo.FindStringSubmatch(line); m != nil {
		f = flowFields{format: "from … to …", src: addr(m[1]), srcPort: port(m[2]), dst: addr(m[3]), dstPort: port(m[4])}
		f.proto = lineProto(line)
		return f, true
	}
	// Labelled fields: src=… dst=… dport=…
	var ms, md []string
	if strings.ContainsAny(line, "=:") {
		ms, md = reLabelSrc.FindStringSubmatch(line), reLabelDst.FindStringSubmatch(line)
	}
	if ms != nil || md != nil {
		f = flowFields{format: "key=value", structured: true}
		if ms != nil {
			f.src, f.srcPort = addr(ms[1]), port(ms[2])
		}
		if md != nil {
			f.dst, f.dstPort = addr(md[1]), port(md[2])
		}
		if p := reLabelSPT.FindStringSubmatch(line); p != nil {
			f.srcPort = port(p[1])
		}
		if p := reLabelDPT.FindStringSubmatch(line); p != nil {
			f.dstPort = port(p[1])
		}
		if p := reLabelProt.FindStringSubmatch(line); p != nil {
			f.proto = protoName(p[1])
		} else {
			f.proto = lineProto(line)
		}
		if f.src.IsValid() || f.dst.IsValid() {
			return f, true
		}
	}
	// Whatever addresses the line holds, in order, with ports where written ip:port.
	addrs, ports := lineAddrs(line)
	if len(addrs) == 0 {
		return flowFields{}, false
	}
	f = flowFields{format: "addresses", src: addrs[0], srcPort: ports[0], proto: lineProto(line)}
	if len(addrs) > 1 {
		f.dst, f.dstPort = addrs[1], ports[1]
	}
	if p := reLabelDPT.FindStringSubmatch(line); p != nil && f.dstPort == 0 {
		f.dstPort = port(p[1])
	}
	return f, true
}

// Words one of which a line must hold for the sshd and mail expressions to run.
var (
	sshWords  = []string{"ssh", "failed", "invalid user", "authentication", "closed by", "disconnected", "identification", "negotiate"}
	mailWords = []string{"postfix", "smtp", "exim", "sendmail", "dovecot", "sasl", "qmail", "rcpt", "ehlo", "helo"}
)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func lineProto(line string) string {
	if p := reLabelProt.FindStringSubmatch(line); p != nil {
		return protoName(p[1])
	}
	if p := reProtoWord.FindStringSubmatch(line); p != nil {
		return protoName(p[1])
	}
	return ""
}

// lineAddrs returns the addresses in line in order of appearance (at most 8), with
// the port written after each (ip:port, [v6]:port), 0 if none.
func lineAddrs(line string) (addrs []netip.Addr, ports []uint16) {
	type hit struct {
		at   int
		a    netip.Addr
		port uint16
	}
	var hits []hit
	for _, m := range reIPv4Cand.FindAllStringIndex(line, 16) {
		if len(hits) == 8 {
			break
		}
		if m[0] > 0 && (isDigit(line[m[0]-1]) || line[m[0]-1] == '.') {
			continue // part of a longer number run
		}
		a := addr(line[m[0]:m[1]])
		if !a.IsValid() || (m[1] < len(line) && isDigit(line[m[1]])) {
			continue
		}
		h := hit{at: m[0], a: a}
		// A port written after it: ip:port, ip#port, or tcpdump's ip.port.
		if rest := line[m[1]:]; len(rest) > 1 && (rest[0] == ':' || rest[0] == '#' || rest[0] == '.') && isDigit(rest[1]) {
			j := 1
			for j < len(rest) && isDigit(rest[j]) {
				j++
			}
			if j <= 6 {
				h.port = port(rest[1:j])
			}
		}
		hits = append(hits, h)
	}
	for _, m := range reIPv6Bracket.FindAllStringSubmatchIndex(line, 8) {
		a := addr(line[m[2]:m[3]])
		if !a.IsValid() {
			continue
		}
		h := hit{at: m[2], a: a}
		if m[4] >= 0 {
			h.port = port(line[m[4]:m[5]])
		}
		hits = append(hits, h)
	}
	// In order of appearance.
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && hits[j].at < hits[j-1].at; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	for _, h := range hits {
		addrs = append(addrs, h.a)
		ports = append(ports, h.port)
	}
	return addrs, ports
}
