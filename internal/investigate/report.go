package investigate

import (
	"bytes"
	"fmt"
	"net/mail"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Report is what an abuse report says, as far as it could be read. Everything a
// report did not say, or said in a way that could not be read, is listed in
// Missing and Problems, so that the user knows which flags to give.
type Report struct {
	// Name is the file the report came from ("-" for standard input).
	Name string `json:"name"`
	// Email is true when the input was a saved e-mail (headers, MIME parts).
	Email   bool      `json:"email"`
	Subject string    `json:"subject,omitempty"`
	From    string    `json:"from,omitempty"`
	Date    time.Time `json:"date,omitzero"` // when the e-mail was sent
	// CaseNumber is AWS's case number ("1426212007-1").
	CaseNumber string `json:"caseNumber,omitempty"`
	AccountID  string `json:"accountId,omitempty"`
	Region     string `json:"region,omitempty"`
	// ReportedIPs are the estate's public addresses the report blames: an Elastic
	// IP, a NAT gateway's address, an instance's public IP.
	ReportedIPs []netip.Addr `json:"reportedIps"`
	// ResourceIDs are the AWS resources the report names (i-…, nat-…, eni-…).
	ResourceIDs []string `json:"resourceIds,omitempty"`
	// Activities are the kinds of abuse the report points to, strongest first.
	Activities []Activity `json:"activities"`
	// Window is the time of the reported activity.
	Window TimeRange `json:"window"`
	// Zone says which time zone times without one were read in, and why.
	Zone string `json:"zone,omitempty"`
	// Lines are the log-extract lines that were read (at most maxLogLines;
	// LinesTotal counts them all).
	Lines      []LogLine `json:"lines"`
	LinesTotal int       `json:"linesTotal"`
	// Destinations are the remote hosts the reported addresses reached, from the
	// log lines; Mentioned are other addresses the complainant names in prose
	// ("our server 203.0.113.7"), usually their own hosts.
	Destinations []netip.Addr `json:"destinations"`
	Mentioned    []netip.Addr `json:"mentioned,omitempty"`
	// DstPorts are the destination ports of the reported traffic, with how many
	// lines show each, most first; SrcPorts the source ports on the reported
	// side (a NAT gateway's ports on its outside leg).
	DstPorts  []PortCount `json:"dstPorts"`
	SrcPorts  []uint16    `json:"srcPorts,omitempty"`
	Protocols []string    `json:"protocols,omitempty"`
	// Missing lists what the report does not say (and which flag gives it);
	// Problems the lines that could not be read fully; Notes the assumptions made.
	Missing  []string  `json:"missing,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
}

// TimeRange is a span of time, both ends inclusive; Basis says where it comes from.
type TimeRange struct {
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	Basis string    `json:"basis,omitempty"`
}

// IsZero reports whether the range is unknown.
func (r TimeRange) IsZero() bool { return r.From.IsZero() && r.Until.IsZero() }

// PortCount is a port and how often it was seen.
type PortCount struct {
	Port  uint16 `json:"port"`
	Count int    `json:"count"`
}

// LogLine is one line of the log extract, as read.
type LogLine struct {
	Line     int        `json:"line"` // 1-based, in the report's text
	Text     string     `json:"text"`
	Format   string     `json:"format"`
	Time     time.Time  `json:"time,omitzero"`
	TimeText string     `json:"timeText,omitempty"`
	Src      netip.Addr `json:"src,omitzero"`
	SrcPort  uint16     `json:"srcPort,omitempty"`
	Dst      netip.Addr `json:"dst,omitzero"`
	DstPort  uint16     `json:"dstPort,omitempty"`
	Proto    string     `json:"proto,omitempty"`
	// Reported is true when the line involves a reported address.
	Reported bool `json:"reported"`
}

// Problem is a line of the report that could not be read fully.
type Problem struct {
	Line int    `json:"line"`
	Text string `json:"text"`
	Why  string `json:"why"`
}

// ParseOptions are what the caller knows beyond the report.
type ParseOptions struct {
	// IPs are addresses the user says the report is about (--ip); they are
	// reported addresses whatever the text says.
	IPs []netip.Addr
	// Now is used for the year of syslog timestamps when the report has no date
	// and no dated line; zero leaves such times unread.
	Now time.Time
}

// Caps on what one report may hold.
const (
	maxLogLines  = 10_000
	maxProblems  = 50
	maxAddresses = 10_000
)

var (
	reAccount       = regexp.MustCompile(`(?i)\bAWS\s+(?:ID|account)\s*(?:ID)?\s*[:#]?\s*\[?(\d{4}-?\d{4}-?\d{4})\b`)
	reAccountLabel  = regexp.MustCompile(`(?i)\baccount(?:\s*(?:id|number|no\.?))?\s*[:#]\s*(\d{4}-?\d{4}-?\d{4})\b`)
	reAccountARN    = regexp.MustCompile(`arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):`)
	reRegion        = regexp.MustCompile(`\b((?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso)?-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-\d)\b`)
	reRegionLabel   = regexp.MustCompile(`(?i)\bregion\s*[:=]\s*([a-z]{2}(?:-gov|-iso)?-[a-z]+-\d)\b`)
	reCase          = regexp.MustCompile(`(?i)\bcase\s*(?:number|no\.?|id|#)?\s*[:#]?\s*\[?(\d{6,}(?:-\d+)?)\b`)
	reCaseSubject   = regexp.MustCompile(`\[(\d{6,}-\d+)\]`)
	reResourceID    = regexp.MustCompile(`\b((?:i|nat|eni|eipalloc)-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b`)
	reReportedLabel = regexp.MustCompile(`(?i)\b(?:elastic\s+ip|eip|public\s+ip|ip\s+address|ipv4\s+address|ip|offending\s+ip|abusive\s+ip|reported\s+ip|your\s+ip|nat\s+gateway(?:\s+ip)?)\s*(?:address)?\s*[:=#]?\s*\[?(` + ipv4 + `)\]?`)
	reExtractStart  = regexp.MustCompile(`(?i)^\s*(?:\*\s*)?(?:log\s+extract|logs?\s+excerpt|log\s+entries|evidence|logs?)\s*:?\s*$`)
	reForwarded     = regexp.MustCompile(`(?i)-{2,}\s*beginning of forwarded report`)
	reForwardedEnd  = regexp.MustCompile(`(?i)-{2,}\s*end of forwarded report`)
	reHeaderish     = regexp.MustCompile(`(?i)^\s*(?:date|sent|from|to|subject|cc|reply-to|received)\s*:`)
	reWindowWords   = regexp.MustCompile(`(?i)\b(?:between|from|since|until|timestamp|abuse\s+time|incident\s+time|attack\s+time|event\s+time|time\s+of\s+(?:the\s+)?(?:attack|incident|abuse|activity)|first\s+seen|last\s+seen|start(?:ed)?|end(?:ed)?|observed|occurred)\b`)
)

// Parse reads an abuse report: a saved e-mail (.eml) or pasted text. It fails only
// when there is nothing to read; everything else that cannot be read is said in
// the Report.
func Parse(name string, data []byte, opts ParseOptions) (*Report, error) {
	r := &Report{Name: name}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("read report %s: it is empty", name)
	}
	if len(data) > maxReportBytes {
		data = data[:maxReportBytes]
		r.Notes = append(r.Notes, fmt.Sprintf("the report is longer than %d MB; only the first %d MB were read", maxReportBytes>>20, maxReportBytes>>20))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var text string
	if looksLikeEmail(data) {
		if msg, err := readEmail(data); err == nil {
			r.Email = true
			r.Subject, r.From, r.Date, text = msg.subject, msg.from, msg.date, msg.text
			r.Notes = append(r.Notes, msg.notes...)
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("the input looks like an e-mail but its headers could not be read (%v); it was read as text", err))
		}
	}
	if !r.Email {
		text = toUTF8(data, "utf-8")
		if t := strings.TrimSpace(strings.ToLower(clip(text, 200))); strings.HasPrefix(t, "<!doctype html") || strings.HasPrefix(t, "<html") {
			text = htmlToText(text)
		}
	}
	lines := splitLines(text, r)
	if !r.Email {
		r.readPastedHeaders(lines)
	}
	r.read(lines, opts)
	return r, nil
}

// splitLines cuts the text into lines: CR LF and lone CR end lines, quoting
// prefixes of forwarded mail ("> ") are removed, NBSP and zero-width characters
// are normalised, and overlong lines are cut.
func splitLines(text string, r *Report) []string {
	text = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u00a0", " ", "\u200b", "", "\ufeff", "", "\u2009", " ", "\u202f", " ").Replace(text)
	raw := strings.Split(text, "\n")
	if len(raw) > maxLines {
		r.Notes = append(r.Notes, fmt.Sprintf("the report has more than %d lines; only the first %d were read", maxLines, maxLines))
		raw = raw[:maxLines]
	}
	cut := 0
	for i, l := range raw {
		for strings.HasPrefix(l, ">") && !strings.HasPrefix(l, ">>>") {
			l = strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
		}
		if len(l) > maxLineBytes {
			l = clip(l, maxLineBytes)
			cut++
		}
		raw[i] = strings.TrimRight(l, " \t")
	}
	if cut > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d lines longer than %d bytes were cut", cut, maxLineBytes))
	}
	return raw
}

// readPastedHeaders takes Subject, From and Date from header lines a person copied
// along with the text (the first lines only).
func (r *Report) readPastedHeaders(lines []string) {
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			if i == 0 || r.Subject != "" || r.From != "" || !r.Date.IsZero() {
				continue
			}
		}
		if i >= 40 || (strings.TrimSpace(l) != "" && !reHeaderLine.MatchString(l)) {
			break // the header block a mail client shows ends at the first line that is not one
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "subject":
			if r.Subject == "" {
				r.Subject = decodeHeader(wordDecoder(), v)
			}
		case "from":
			if r.From == "" {
				r.From = v
			}
		case "date", "sent":
			if r.Date.IsZero() {
				if d, err := mail.ParseDate(v); err == nil {
					r.Date = d.UTC()
				} else if st, ok := findTime(v); ok && st.hasYear {
					r.Date = st.resolve(time.UTC, st.year, time.Time{})
				}
			}
		}
	}
}

// lineInfo is what one line holds.
type lineInfo struct {
	st     stamp
	hasT   bool
	flow   flowFields
	hasF   bool
	isLog  bool
	region bool // inside the log extract
}

// read reads the facts out of the lines.
func (r *Report) read(lines []string, opts ParseOptions) {
	first, last := extractRegion(lines)
	attached := len(lines)
	for i, l := range lines {
		if l == attachmentMarker {
			attached = i
			break
		}
	}
	info := make([]lineInfo, len(lines))
	isLog := make([]bool, len(lines))
	for i, l := range lines {
		in := &info[i]
		in.region = (i >= first && i < last) || i > attached
		if strings.TrimSpace(l) == "" {
			continue
		}
		in.st, in.hasT = findTime(l)
		in.flow, in.hasF = readFlow(l)
		if in.region && !reHeaderish.MatchString(l) {
			in.isLog = (in.hasF && in.flow.structured) || (in.hasT && in.hasF && in.st.start < 40)
		}
		isLog[i] = in.isLog
	}

	// The time zone for times that lack one, and the year for those that lack one.
	loc, said := reportZone(lines, isLog)
	zoneless, yearless := 0, 0
	for i := range info {
		if info[i].isLog && info[i].hasT && !info[i].st.hasZone {
			zoneless++
		}
		if info[i].isLog && info[i].hasT && !info[i].st.hasYear {
			yearless++
		}
	}
	if loc == nil {
		loc = time.UTC
		if zoneless > 0 {
			r.Zone = "UTC (assumed: the report does not say which time zone its times are in)"
			r.Notes = append(r.Notes, fmt.Sprintf("%d log lines have no time zone and the report states none; they were read as UTC (give --from and --until if that is wrong)", zoneless))
		}
	} else {
		r.Zone = fmt.Sprintf("%s (the report says %q)", loc, said)
		if zoneless > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d log lines have no time zone; they were read in %s, as the report says (%q)", zoneless, loc, said))
		}
	}
	year, ref, yearWhy := r.referenceYear(info, opts)
	if yearless > 0 {
		if year == 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d log lines have no year and the report has no date; their times were not read (give --from and --until)", yearless))
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("%d log lines have no year; %s", yearless, yearWhy))
		}
	}
	stampNotes := map[string]bool{}

	// Log lines.
	var mentioned []netip.Addr
	for i, l := range lines {
		in := &info[i]
		if !in.isLog {
			if in.region && in.hasF {
				mentioned = appendAddr(mentioned, in.flow.src, in.flow.dst)
			}
			continue
		}
		r.LinesTotal++
		ll := LogLine{Line: i + 1, Text: clip(l, 512), Format: in.flow.format, Src: in.flow.src, SrcPort: in.flow.srcPort,
			Dst: in.flow.dst, DstPort: in.flow.dstPort, Proto: in.flow.proto}
		if in.hasT {
			ll.TimeText = in.st.text
			if in.st.note != "" && !stampNotes[in.st.note] {
				stampNotes[in.st.note] = true
				r.Notes = append(r.Notes, in.st.note)
			}
			if in.st.hasYear || year != 0 {
				ll.Time = in.st.resolve(loc, year, ref)
			}
		} else if in.hasF && in.flow.structured {
			r.problem(i+1, l, "no time recognised in this "+in.flow.format+" line")
		}
		if !in.hasF {
			r.problem(i+1, l, "no address recognised in this line")
		}
		if len(r.Lines) < maxLogLines {
			r.Lines = append(r.Lines, ll)
		}
	}
	if r.LinesTotal > len(r.Lines) {
		r.Notes = append(r.Notes, fmt.Sprintf("the log extract has %d lines; the first %d were kept", r.LinesTotal, len(r.Lines)))
	}

	r.readFacts(lines, info, first, opts)
	r.orient()

	// Destinations, ports and protocols of the reported traffic; mentions.
	reported := r.reportedSet()
	dports := map[uint16]int{}
	sports := map[uint16]bool{}
	protos := map[string]bool{}
	for _, ll := range r.Lines {
		if !ll.Reported {
			continue
		}
		if ll.Dst.IsValid() && !reported[ll.Dst] && len(r.Destinations) < maxAddresses {
			r.Destinations = appendAddr(r.Destinations, ll.Dst)
		}
		if ll.DstPort != 0 {
			dports[ll.DstPort]++
		}
		if ll.SrcPort != 0 && len(sports) < maxAddresses {
			sports[ll.SrcPort] = true
		}
		if ll.Proto != "" {
			protos[ll.Proto] = true
		}
	}
	for _, a := range mentioned {
		if !reported[a] && isPublic(a) && !slices.Contains(r.Destinations, a) && len(r.Mentioned) < maxAddresses {
			r.Mentioned = appendAddr(r.Mentioned, a)
		}
	}
	sortAddrs(r.Destinations)
	sortAddrs(r.Mentioned)
	for p, n := range dports {
		r.DstPorts = append(r.DstPorts, PortCount{Port: p, Count: n})
	}
	sort.Slice(r.DstPorts, func(i, j int) bool {
		if r.DstPorts[i].Count != r.DstPorts[j].Count {
			return r.DstPorts[i].Count > r.DstPorts[j].Count
		}
		return r.DstPorts[i].Port < r.DstPorts[j].Port
	})
	for p := range sports {
		r.SrcPorts = append(r.SrcPorts, p)
	}
	slices.Sort(r.SrcPorts)
	for p := range protos {
		r.Protocols = append(r.Protocols, p)
	}
	slices.Sort(r.Protocols)

	r.readWindow(lines, info, loc, year, ref)
	var prose []string
	for i, l := range lines {
		if !info[i].isLog {
			prose = append(prose, l)
		}
	}
	var reportedLines []LogLine
	for _, ll := range r.Lines {
		if ll.Reported {
			reportedLines = append(reportedLines, ll)
		}
	}
	r.Activities = classify(r.Subject, prose, reportedLines)
	r.missing()
}

// extractRegion returns the lines [first, last) of the log extract: between
// "<<<" and ">>>" after a "Log Extract" line, else after "Beginning of forwarded
// report(s)" (up to its end marker), else after a "Logs:" line, else the whole
// text.
func extractRegion(lines []string) (first, last int) {
	start := -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "<<<" || strings.HasPrefix(t, "<<< ") {
			for j := i + 1; j < len(lines); j++ {
				if strings.TrimSpace(lines[j]) == ">>>" {
					return i + 1, j
				}
			}
			return i + 1, len(lines)
		}
		if start < 0 && (reForwarded.MatchString(l) || reExtractStart.MatchString(l)) {
			start = i + 1
		}
	}
	if start >= 0 {
		for j := start; j < len(lines); j++ {
			if reForwardedEnd.MatchString(lines[j]) {
				return start, j
			}
		}
		return start, len(lines)
	}
	return 0, len(lines)
}

// referenceYear settles the year of times written without one: the e-mail's date,
// else the year most dated lines carry, else opts.Now.
func (r *Report) referenceYear(info []lineInfo, opts ParseOptions) (year int, ref time.Time, why string) {
	if !r.Date.IsZero() {
		return r.Date.Year(), r.Date, fmt.Sprintf("their year was taken from the e-mail's date (%s)", r.Date.Format("2006-01-02"))
	}
	years := map[int]int{}
	for _, in := range info {
		if in.hasT && in.st.hasYear && !in.st.epoch {
			years[in.st.year]++
		}
	}
	best, n := 0, 0
	for y, c := range years {
		if c > n || (c == n && y > best) {
			best, n = y, c
		}
	}
	if best != 0 {
		return best, time.Time{}, fmt.Sprintf("their year (%d) was taken from the other dated lines of the report", best)
	}
	if !opts.Now.IsZero() {
		return opts.Now.Year(), opts.Now, fmt.Sprintf("the report has no date; the current year (%d) was assumed", opts.Now.Year())
	}
	return 0, time.Time{}, ""
}

// readFacts reads the account, region, case number, resources and reported
// addresses.
func (r *Report) readFacts(lines []string, info []lineInfo, extractStart int, opts ParseOptions) {
	all := r.Subject + "\n" + strings.Join(lines, "\n")
	if m := reAccount.FindStringSubmatch(all); m != nil {
		r.AccountID = strings.ReplaceAll(m[1], "-", "")
	} else if m := reAccountLabel.FindStringSubmatch(all); m != nil {
		r.AccountID = strings.ReplaceAll(m[1], "-", "")
	} else if m := reAccountARN.FindStringSubmatch(all); m != nil {
		r.AccountID = m[1]
	}
	if m := reRegionLabel.FindStringSubmatch(all); m != nil && reRegion.MatchString(m[1]) {
		r.Region = m[1]
	} else if m := reRegion.FindStringSubmatch(all); m != nil {
		r.Region = m[1]
	}
	if m := reCaseSubject.FindStringSubmatch(r.Subject); m != nil {
		r.CaseNumber = m[1]
	} else if m := reCase.FindStringSubmatch(all); m != nil {
		r.CaseNumber = m[1]
	}
	seen := map[string]bool{}
	for _, m := range reResourceID.FindAllStringSubmatch(all, 100) {
		if !seen[m[1]] {
			seen[m[1]] = true
			r.ResourceIDs = append(r.ResourceIDs, m[1])
		}
	}

	// Reported addresses: the user's, then those AWS's notice names (the text
	// before the forwarded report), then labelled ones anywhere.
	add := func(a netip.Addr) {
		if a.IsValid() && isPublic(a) && !slices.Contains(r.ReportedIPs, a) {
			r.ReportedIPs = append(r.ReportedIPs, a)
		}
	}
	for _, a := range opts.IPs {
		add(a.Unmap())
	}
	notice := extractStart
	if notice == 0 {
		notice = len(lines)
	}
	for i := 0; i < notice && i < len(lines); i++ {
		if info[i].isLog || strings.Contains(lines[i], "://") {
			continue
		}
		for _, m := range reReportedLabel.FindAllStringSubmatch(lines[i], 10) {
			add(addr(m[1]))
		}
		if extractStart > 0 {
			addrs, _ := lineAddrs(lines[i])
			for _, a := range addrs {
				add(a)
			}
		}
	}
	if r.Subject != "" {
		addrs, _ := lineAddrs(r.Subject)
		for _, a := range addrs {
			add(a)
		}
	}
	if len(r.ReportedIPs) > 0 {
		return
	}
	for i := notice; i < len(lines); i++ {
		if info[i].isLog {
			continue
		}
		for _, m := range reReportedLabel.FindAllStringSubmatch(lines[i], 10) {
			add(addr(m[1]))
		}
	}
	if len(r.ReportedIPs) > 0 {
		return
	}
	// The address most log lines come from.
	count := map[netip.Addr]int{}
	for _, ll := range r.Lines {
		if ll.Src.IsValid() && isPublic(ll.Src) {
			count[ll.Src]++
		}
	}
	var best netip.Addr
	for a, n := range count {
		if n > count[best] || (n == count[best] && best.IsValid() && a.Less(best)) {
			best = a
		}
	}
	if best.IsValid() {
		add(best)
		r.Notes = append(r.Notes, fmt.Sprintf("the report names no address of yours outright; %s, the source of most log lines (%d), was taken as the reported address", best, count[best]))
	}
}

func (r *Report) reportedSet() map[netip.Addr]bool {
	m := make(map[netip.Addr]bool, len(r.ReportedIPs))
	for _, a := range r.ReportedIPs {
		m[a] = true
	}
	return m
}

// orient makes every log line read from the reported side: a line whose
// destination is a reported address and whose source is not (a reply, a
// "to … from …" order) is turned around; lines that involve no reported address
// are kept but not Reported.
func (r *Report) orient() {
	reported := r.reportedSet()
	for i := range r.Lines {
		ll := &r.Lines[i]
		switch {
		case reported[ll.Src]:
			ll.Reported = true
		case reported[ll.Dst]:
			ll.Src, ll.Dst = ll.Dst, ll.Src
			ll.SrcPort, ll.DstPort = ll.DstPort, ll.SrcPort
			ll.Reported = true
		case len(reported) == 0:
			ll.Reported = true
		}
	}
	n := 0
	for _, ll := range r.Lines {
		if !ll.Reported {
			n++
		}
	}
	if n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d log lines do not involve a reported address; they were not used", n))
	}
}

// readWindow sets the window: the span of the reported lines' times, widened by
// times the prose gives for the activity ("between … and …", "Abuse Time: …").
func (r *Report) readWindow(lines []string, info []lineInfo, loc *time.Location, year int, ref time.Time) {
	var from, until time.Time
	n := 0
	widen := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if from.IsZero() || t.Before(from) {
			from = t
		}
		if until.IsZero() || t.After(until) {
			until = t
		}
	}
	for _, ll := range r.Lines {
		if ll.Reported && !ll.Time.IsZero() {
			widen(ll.Time)
			n++
		}
	}
	var basis []string
	if n > 0 {
		basis = append(basis, "the times of "+plural(n, "log line"))
	}
	prose := 0
	for i, l := range lines {
		in := info[i]
		if in.isLog || !in.hasT || reHeaderish.MatchString(l) {
			continue
		}
		if !in.st.hasYear && year == 0 {
			continue
		}
		// A time in a sentence about the activity ("First seen: …"), or two times
		// in one line (a range, in whatever language: "… bis …", "… – …").
		st2, two := findTime(l[in.st.end:])
		two = two && (st2.hasYear || year != 0)
		if !two && !reWindowWords.MatchString(l) {
			continue
		}
		widen(in.st.resolve(loc, year, ref))
		prose++
		if two {
			widen(st2.resolve(loc, year, ref))
		}
	}
	if prose > 0 {
		basis = append(basis, plural(prose, "time")+" stated in the text")
	}
	if !from.IsZero() {
		r.Window = TimeRange{From: from, Until: until, Basis: strings.Join(basis, " and ")}
	}
}

// missing lists what the report does not say.
func (r *Report) missing() {
	if r.AccountID == "" {
		r.Missing = append(r.Missing, "no AWS account ID")
	}
	if r.Region == "" {
		r.Missing = append(r.Missing, "no region")
	}
	if len(r.ReportedIPs) == 0 {
		r.Missing = append(r.Missing, "no public address of yours (give it with --ip)")
	}
	if r.Window.IsZero() {
		r.Missing = append(r.Missing, "no time for the activity (give --from and --until)")
	}
	if len(r.Destinations) == 0 && len(r.Mentioned) == 0 {
		r.Missing = append(r.Missing, "no destination addresses: sources can only be matched by port and timing")
	}
	if len(r.Activities) == 0 {
		r.Missing = append(r.Missing, "no recognisable kind of activity (give it with --activity)")
	}
}

func (r *Report) problem(line int, text, why string) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, Problem{Line: line, Text: clip(text, 300), Why: why})
	}
}

// Kind returns the report's main kind of activity.
func (r *Report) Kind() Kind {
	if len(r.Activities) == 0 {
		return KindUnknown
	}
	return r.Activities[0].Kind
}

// HasKind reports whether the report points to kind k at all.
func (r *Report) HasKind(k Kind) bool {
	for _, a := range r.Activities {
		if a.Kind == k {
			return true
		}
	}
	return false
}

// plural returns "1 line", "2 lines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// isPublic reports whether a is a globally routable address (documentation
// ranges included: reports in examples and tests use them).
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		if b[0] == 0 || b[0] >= 240 || (b[0] == 100 && b[1]&0xc0 == 64) { // this network, reserved, CGNAT
			return false
		}
	}
	return true
}

func appendAddr(list []netip.Addr, as ...netip.Addr) []netip.Addr {
	for _, a := range as {
		if a.IsValid() && !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

func sortAddrs(a []netip.Addr) {
	slices.SortFunc(a, func(x, y netip.Addr) int { return x.Compare(y) })
}
