package intel

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// readCSV calls fn with each record of data and the line it starts on. Lines
// starting with "#" are comments (fnComment sees them, for headers written as
// comments). A record the CSV reader cannot parse becomes a warning and reading
// goes on with the next one. Quotes are read leniently: list exports are often
// hand-edited.
func readCSV(b *builder, data []byte, fnComment func(line int, text string), fn func(line int, rec []string) bool) {
	// encoding/csv's Comment option drops comment lines silently; to see them,
	// comment lines are blanked here (keeping line numbers) and handed over.
	if fnComment != nil {
		lines(data, func(n int, l []byte) bool {
			if t := bytes.TrimSpace(l); len(t) > 0 && t[0] == '#' {
				fnComment(n, string(t))
			}
			return true
		})
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				b.warn(pe.StartLine, "bad CSV: "+pe.Err.Error())
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					continue
				}
			} else {
				b.warn(0, "bad CSV: "+err.Error())
			}
			return
		}
		line, _ := r.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		if !fn(line, rec) || b.full() {
			return
		}
	}
}

// parseOTX reads the AlienVault OTX pulse export: a header "Indicator type,
// Indicator, Description", then one indicator per row. Network types (IPv4,
// IPv6, CIDR, domain, "Domain name", hostname, URL, URI) become entries with the
// description as threat name; other types (file hashes, e-mail, CVE, mutex…) are
// skipped and counted. A file without the header is read as the same three
// columns.
func parseOTX(b *builder, data []byte) error {
	first := true
	readCSV(b, data, nil, func(line int, rec []string) bool {
		if first {
			first = false
			if strings.EqualFold(rec[0], "indicator type") {
				return true
			}
		}
		if len(rec) < 2 {
			b.warn(line, quote(strings.Join(rec, ","))+": expected Indicator type,Indicator,Description")
			return true
		}
		desc := ""
		if len(rec) > 2 {
			desc = rec[2]
		}
		v := rec[1]
		switch strings.ToLower(rec[0]) {
		case "ipv4", "ipv6", "cidr", "domain", "domain name", "hostname":
			b.add(line, v, desc)
		case "url", "uri":
			host := urlHost(v)
			if host == "" {
				b.warn(line, quote(v)+" is not a URL with a host")
				return true
			}
			b.add(line, host, desc)
		case "":
			b.warn(line, "empty indicator type: expected IPv4, IPv6, CIDR, domain, hostname or URL")
		default:
			b.skipped++
		}
		return true
	})
	return nil
}

// etCategories are the Proofpoint ET Intelligence (IQRisk) reputation categories
// by number, as Proofpoint documents them; numbers not listed are unused.
var etCategories = map[string]string{
	"1": "CnC", "2": "Bot", "3": "Spam", "4": "Drop", "5": "SpywareCnC",
	"6": "OnlineGaming", "7": "DriveBySrc", "9": "ChatServer", "10": "TorNode",
	"13": "Compromised", "15": "P2P", "16": "Proxy", "17": "IPCheck", "19": "Utility",
	"20": "DDoSTarget", "21": "Scanner", "23": "Brute_Forcer", "24": "FakeAV",
	"25": "DynDNS", "26": "Undesirable", "27": "AbusedTLD", "28": "SelfSignedSSL",
	"29": "Blackhole", "30": "RemoteAccessService", "31": "P2PCnC", "33": "Parking",
	"34": "VPN", "35": "EXE_Source", "37": "Mobile_CnC", "38": "Mobile_Spyware_CnC",
	"39": "Skype_SuperNode", "40": "Bitcoin_Related", "41": "DDoSAttacker",
}

// parseProofPoint reads the Proofpoint ET Intelligence CSV: a header
// "ip, category, score, first_seen, last_seen, ports (|)" (or "domain, …"), then
// one indicator per row. The category number becomes its name ("1" → "CnC") as the
// threat name; an unknown number is kept as "category N".
func parseProofPoint(b *builder, data []byte) error {
	first := true
	readCSV(b, data, nil, func(line int, rec []string) bool {
		if first {
			first = false
			if h := strings.ToLower(rec[0]); h == "ip" || h == "domain" {
				return true
			}
		}
		threat := ""
		if len(rec) > 1 && rec[1] != "" {
			if name, ok := etCategories[rec[1]]; ok {
				threat = name
			} else if _, err := strconv.Atoi(rec[1]); err == nil {
				threat = "category " + rec[1]
			} else {
				threat = rec[1]
			}
		}
		b.add(line, rec[0], threat)
		return true
	})
	return nil
}

// fireEyeCols are the indicator columns of an iSIGHT CSV header (-1: absent).
type fireEyeCols struct {
	ip, cidr, domain                int
	malware, actor, title, reportID int
}

func (c fireEyeCols) ok() bool {
	return c.reportID >= 0 && (c.ip >= 0 || c.cidr >= 0 || c.domain >= 0)
}

// fireEyeColumns finds the columns in a lower-cased header.
func fireEyeColumns(h []string) fireEyeCols {
	c := fireEyeCols{-1, -1, -1, -1, -1, -1, -1}
	for i, name := range h {
		switch name {
		case "ip", "ipaddress":
			c.ip = i
		case "cidr":
			c.cidr = i
		case "domain":
			c.domain = i
		case "malwarefamily":
			c.malware = i
		case "actor":
			c.actor = i
		case "title":
			c.title = i
		case "reportid":
			c.reportID = i
		}
	}
	return c
}

// parseFireEye reads the FireEye iSIGHT Threat Intelligence CSV. Columns are
// found by header name (reportId, …, cidr, domain, …, ip, …; ipAddress is
// accepted for ip), so column order and extra columns do not matter. A row gives
// an entry for each of its ip, cidr and domain cells that is set; the threat name
// is the malware family, else the actor, else the report title. Rows with none of
// the three (file or e-mail indicators) are skipped and counted.
func parseFireEye(b *builder, data []byte) error {
	var c fireEyeCols
	header := false
	var herr error
	readCSV(b, data, nil, func(line int, rec []string) bool {
		if !header {
			h := make([]string, len(rec))
			for i, f := range rec {
				h[i] = strings.ToLower(f)
			}
			c = fireEyeColumns(h)
			if !c.ok() {
				herr = fmt.Errorf("%s:%d: %w: expected the iSIGHT CSV header (reportId, …, cidr, domain, …, ip, …), found %s",
					b.opt.Source, line, ErrFormat, quote(strings.Join(rec, ",")))
				return false
			}
			header = true
			return true
		}
		cell := func(i int) string {
			if i >= 0 && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		threat := cell(c.malware)
		if threat == "" {
			threat = cell(c.actor)
		}
		if threat == "" {
			threat = cell(c.title)
		}
		n := 0
		for _, i := range []int{c.ip, c.cidr, c.domain} {
			if v := cell(i); v != "" {
				b.add(line, v, threat)
				n++
			}
		}
		if n == 0 {
			b.skipped++
		}
		return true
	})
	return herr
}

// abuseCHColumn returns the index of the IP column in an abuse.ch CSV header
// (lower case), or -1.
func abuseCHColumn(h []string) int {
	for i, name := range h {
		switch name {
		case "dst_ip", "dstip", "ip_address":
			return i
		}
	}
	return -1
}

// parseAbuseCH reads abuse.ch CSV blocklists: Feodo Tracker's ipblocklist.csv
// (a quoted header "first_seen_utc","dst_ip",…,"malware") and SSLBL's
// sslipblacklist.csv (a comment header "# Firstseen,DstIP,DstPort"). The IP column
// is found from the header, in a row or a comment; the malware column, when there
// is one, gives the threat name. Without a header, the first cell that is an
// address is taken.
func parseAbuseCH(b *builder, data []byte) error {
	ipCol, malCol := -1, -1
	header := func(h []string) bool {
		for i := range h {
			h[i] = strings.ToLower(strings.Trim(h[i], `"' `))
		}
		i := abuseCHColumn(h)
		if i < 0 {
			return false
		}
		ipCol, malCol = i, -1
		for j, name := range h {
			if name == "malware" {
				malCol = j
			}
		}
		return true
	}
	readCSV(b, data, func(_ int, text string) {
		header(strings.Split(strings.TrimSpace(strings.TrimLeft(text, "#")), ","))
	}, func(line int, rec []string) bool {
		if len(rec) > 0 && header(append([]string(nil), rec...)) {
			return true
		}
		threat := ""
		if malCol >= 0 && malCol < len(rec) {
			threat = rec[malCol]
		}
		if ipCol >= 0 {
			if ipCol >= len(rec) {
				b.warn(line, "row has "+strconv.Itoa(len(rec))+" columns: expected the IP address in column "+strconv.Itoa(ipCol+1))
				return true
			}
			b.add(line, rec[ipCol], threat)
			return true
		}
		for _, v := range rec {
			if p, ok, _ := parseNet(v); ok {
				b.addPrefix(line, p, threat)
				return true
			}
		}
		b.warn(line, quote(strings.Join(rec, ","))+": expected a row with an IP address")
		return true
	})
	return nil
}
