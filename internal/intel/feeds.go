package intel

import (
	"encoding/json"
	"strings"
)

// parseAlienVault reads the AlienVault IP reputation format: one line per
// indicator, eight "#"-separated fields
// "ip#reliability#risk#activity#country#city#lat,lon#x". The first field is the
// indicator (an address, or a domain in entity lists); the fourth, the activity
// ("Malicious Host", "Scanning Host;Spamming"), is the threat name. Lines starting
// with "#" are comments.
func parseAlienVault(b *builder, data []byte) error {
	lines(data, func(n int, raw []byte) bool {
		l := strings.TrimSpace(string(raw))
		if l == "" || l[0] == '#' {
			return true
		}
		fields := strings.SplitN(l, "#", 5)
		threat := ""
		if len(fields) > 3 {
			threat = strings.TrimSpace(fields[3])
		}
		if len(fields) < 2 {
			b.warn(n, quote(l)+": expected ip#reliability#risk#activity#country#city#lat,lon#…")
			return true
		}
		b.add(n, strings.TrimSpace(fields[0]), threat)
		return !b.full()
	})
	return nil
}

// torExitThreat is the threat name of Tor exit entries without one of their own.
const torExitThreat = "Tor exit node"

// parseTorExit reads the Tor Project's exit-addresses document
// (https://check.torproject.org/exit-addresses): records of "ExitNode <fingerprint>",
// "Published …", "LastStatus …" and one or more "ExitAddress <ip> <date> <time>"
// lines. Every ExitAddress becomes an entry; the other keywords are skipped, and
// so is a keyword the document may gain later.
func parseTorExit(b *builder, data []byte) error {
	threat := b.opt.Threat
	if threat == "" {
		threat = torExitThreat
	}
	lines(data, func(n int, raw []byte) bool {
		l := strings.TrimSpace(string(raw))
		if l == "" || l[0] == '#' {
			return true
		}
		kw, rest, _ := strings.Cut(l, " ")
		if kw != "ExitAddress" {
			return true
		}
		ip, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if ip == "" {
			b.warn(n, "ExitAddress without an address: expected ExitAddress <ip> <date> <time>")
			return true
		}
		p, ok, msg := parseNet(ip)
		if !ok {
			if msg == "" {
				msg = quote(ip) + " is not an IP address"
			}
			b.warn(n, msg)
			return true
		}
		b.addPrefix(n, p, threat)
		return !b.full()
	})
	return nil
}

// parseDROP reads Spamhaus DROP/EDROP text: "cidr ; SBLnnn" lines and ";"
// comments. The SBL id is the threat name, so a finding can point at the Spamhaus
// record.
func parseDROP(b *builder, data []byte) error {
	lines(data, func(n int, raw []byte) bool {
		l := strings.TrimSpace(string(raw))
		if l == "" || l[0] == ';' || l[0] == '#' {
			return true
		}
		v, sbl, _ := strings.Cut(l, ";")
		v = strings.TrimSpace(v)
		p, ok, msg := parseNet(v)
		if !ok {
			if msg == "" {
				msg = quote(v) + " is not a CIDR: expected cidr ; SBLnnn"
			}
			b.warn(n, msg)
			return true
		}
		b.addPrefix(n, p, strings.TrimSpace(sbl))
		return !b.full()
	})
	return nil
}

// dropJSON is one line of Spamhaus's DROP JSON: a network, or the closing
// metadata record.
type dropJSON struct {
	Type  string `json:"type"`
	CIDR  string `json:"cidr"`
	SBLID string `json:"sblid"`
	RIR   string `json:"rir"`
}

// parseDROPJSON reads Spamhaus DROP as JSON lines
// ({"cidr":"192.0.2.0/24","sblid":"SBL000001","rir":"arin"}), skipping the
// {"type":"metadata",…} line and ";"/"#" comments.
func parseDROPJSON(b *builder, data []byte) error {
	lines(data, func(n int, raw []byte) bool {
		l := strings.TrimSpace(string(raw))
		if l == "" || l[0] == ';' || l[0] == '#' {
			return true
		}
		var r dropJSON
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			b.warn(n, quote(l)+` is not JSON: expected {"cidr":…,"sblid":…,"rir":…}`)
			return true
		}
		if r.Type == "metadata" {
			return true
		}
		if r.CIDR == "" {
			b.warn(n, `no "cidr": expected {"cidr":…,"sblid":…,"rir":…}`)
			return true
		}
		p, ok, msg := parseNet(r.CIDR)
		if !ok {
			if msg == "" {
				msg = quote(r.CIDR) + " is not a CIDR"
			}
			b.warn(n, msg)
			return true
		}
		b.addPrefix(n, p, r.SBLID)
		return !b.full()
	})
	return nil
}
