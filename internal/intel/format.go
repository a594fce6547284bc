package intel

import (
	"bytes"
	"fmt"
	"strings"
)

// Format is the layout of a list file.
type Format uint8

// The formats. The first six are GuardDuty's (its API enum values are what
// ParseFormat accepts and String returns); the others are the public feeds users
// point vigil at directly.
const (
	// FormatAuto: tell the format by the content (see DetectFormat).
	FormatAuto Format = iota
	// FormatTXT: one IPv4/IPv6 address, CIDR, domain or "*.domain" per line;
	// "#" (or ";") starts a comment, blank lines are skipped.
	FormatTXT
	// FormatSTIX: a STIX 1.x XML package; addresses, CIDRs and ranges from
	// AddressObject, names from DomainNameObject, HostnameObject and the host of
	// URIObject URLs.
	FormatSTIX
	// FormatOTXCSV: the AlienVault OTX pulse export, "Indicator type,Indicator,
	// Description"; IPv4, IPv6, CIDR, domain, hostname and URL rows.
	FormatOTXCSV
	// FormatAlienVault: the AlienVault IP reputation feed,
	// "ip#reliability#risk#activity#country#city#lat,lon#x".
	FormatAlienVault
	// FormatProofPoint: the Proofpoint ET Intelligence reputation CSV,
	// "ip,category,score,first_seen,last_seen,ports" (or "domain,…").
	FormatProofPoint
	// FormatFireEye: the FireEye iSIGHT Threat Intelligence CSV (47 columns);
	// indicators from its ip/ipAddress, cidr and domain columns.
	FormatFireEye
	// FormatTorExit: the Tor Project's exit-addresses document ("ExitNode …",
	// "ExitAddress ip date time"). The plain torbulkexitlist is FormatTXT.
	FormatTorExit
	// FormatAbuseCH: abuse.ch CSV blocklists (Feodo Tracker ipblocklist.csv,
	// SSLBL sslipblacklist.csv): "#" comments, a header naming the IP column
	// (dst_ip / DstIP), optionally a malware column. Their .txt forms are
	// FormatTXT.
	FormatAbuseCH
	// FormatSpamhausDROP: Spamhaus DROP/EDROP text, "cidr ; SBLnnn" with ";"
	// comments.
	FormatSpamhausDROP
	// FormatSpamhausJSON: Spamhaus DROP JSON lines,
	// {"cidr":…,"sblid":…,"rir":…} plus a metadata line.
	FormatSpamhausJSON
)

var formatNames = [...]string{
	FormatAuto:         "AUTO",
	FormatTXT:          "TXT",
	FormatSTIX:         "STIX",
	FormatOTXCSV:       "OTX_CSV",
	FormatAlienVault:   "ALIEN_VAULT",
	FormatProofPoint:   "PROOF_POINT",
	FormatFireEye:      "FIRE_EYE",
	FormatTorExit:      "TOR_EXIT_ADDRESSES",
	FormatAbuseCH:      "ABUSE_CH_CSV",
	FormatSpamhausDROP: "SPAMHAUS_DROP",
	FormatSpamhausJSON: "SPAMHAUS_DROP_JSON",
}

// String returns the format's name: GuardDuty's enum value for its formats
// (TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE), vigil's for the feeds.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("FORMAT(%d)", f)
}

// ParseFormat parses a format name as String writes it, case-insensitively, with
// "-" for "_" allowed; "" means FormatAuto.
func ParseFormat(s string) (Format, error) {
	n := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	if n == "" {
		return FormatAuto, nil
	}
	for f, name := range formatNames {
		if n == name {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("list format %q: want one of %s", s, strings.Join(formatNames[:], ", "))
}

// DetectFormat tells a list's format from its first lines, for lists given
// without one:
//
//   - "<" first: STIX (XML);
//   - "{" first: Spamhaus DROP JSON lines;
//   - a first line of "ExitNode", "ExitAddress", "Published" or "LastStatus":
//     Tor exit-addresses;
//   - a CSV header starting "Indicator type": OTX CSV; a header with "reportId"
//     and an ip/ipAddress/domain/cidr column: FireEye iSIGHT; a header "ip" or
//     "domain" then "category": Proofpoint ET; a header (or "#" comment header)
//     with a dst_ip/DstIP column: abuse.ch CSV;
//   - a first data line with three or more "#": AlienVault reputation;
//   - a first data line "cidr ; SBL…": Spamhaus DROP;
//   - anything else: TXT.
func DetectFormat(data []byte) Format {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return FormatTXT
	}
	switch data[0] {
	case '<':
		return FormatSTIX
	case '{':
		return FormatSpamhausJSON
	}
	for lines := 0; len(data) > 0 && lines < 200; lines++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		l := strings.TrimSpace(string(line))
		if l == "" {
			continue
		}
		if l[0] == '#' || l[0] == ';' {
			if h := strings.TrimSpace(strings.TrimLeft(l, "#;")); l[0] == '#' && abuseCHColumn(splitHeader(h)) >= 0 {
				return FormatAbuseCH
			}
			continue
		}
		first, _, _ := strings.Cut(l, " ")
		switch first {
		case "ExitNode", "ExitAddress", "Published", "LastStatus":
			return FormatTorExit
		}
		if strings.Count(l, "#") >= 3 {
			return FormatAlienVault
		}
		if strings.IndexByte(l, ',') >= 0 {
			h := splitHeader(l)
			switch {
			case h[0] == "indicator type":
				return FormatOTXCSV
			case h[0] == "ip" || h[0] == "domain":
				if len(h) > 1 && h[1] == "category" {
					return FormatProofPoint
				}
			}
			if fireEyeColumns(h).ok() {
				return FormatFireEye
			}
			if abuseCHColumn(h) >= 0 {
				return FormatAbuseCH
			}
		}
		if v, rest, ok := strings.Cut(l, ";"); ok {
			if _, ok, _ := parseNet(strings.TrimSpace(v)); ok && strings.HasPrefix(strings.TrimSpace(rest), "SBL") {
				return FormatSpamhausDROP
			}
		}
		return FormatTXT
	}
	return FormatTXT
}

// splitHeader splits a CSV header line into lower-case, trimmed, unquoted names.
// It is for telling formats apart, not for reading rows.
func splitHeader(l string) []string {
	h := strings.Split(l, ",")
	for i, f := range h {
		h[i] = strings.ToLower(strings.Trim(strings.TrimSpace(f), `"'`))
	}
	return h
}
