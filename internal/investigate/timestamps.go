package investigate

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Timestamps in abuse reports. Complainants paste whatever their tools print:
// ISO 8601 and RFC 3339 (with or without a zone, a T or a space, fractions with a
// dot or a comma), RFC 2822 mail dates, date(1)'s "Mon Jan 02 15:04:05 UTC 2026",
// syslog's "Nov  1 12:02:16" (no year, no zone), Cisco's "Nov 01 2026 12:02:16",
// Apache's "01/Nov/2026:12:02:16 +0100", day-first and month-first numeric dates,
// and Unix epochs in seconds or milliseconds. findTime finds the first of them in
// a line; the zone and the year, when the line lacks them, are settled later from
// the rest of the report (resolve).

// stamp is a timestamp found in a line.
type stamp struct {
	start, end int    // byte span in the line
	text       string // the matched text
	layout     string // a short name of the format, for messages
	// The wall-clock fields as written.
	year, month, day, hour, min, sec, nsec int
	// offset is the zone's offset east of UTC in seconds, valid when hasZone.
	offset  int
	hasZone bool
	zone    string // the zone as written ("CET", "+01:00", "Z")
	hasYear bool
	// epoch is set for Unix timestamps, which need neither zone nor year.
	epoch    bool
	epochVal time.Time
	// note says what was guessed while reading this stamp (an ambiguous zone name,
	// a month-first date).
	note string
}

const monthNames = `(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?`
const dayNames = `(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?`

// zoneTail matches what may follow a time as its zone: Z, a numeric offset, or a
// word that validZone then accepts or not (so "12:02:07 DROP" has no zone).
const zoneTail = `(?:\s?(Z|[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})\b)?`

var (
	reISO        = regexp.MustCompile(`(\d{4})[-/](\d{2})[-/](\d{2})(?:T|\s+|_)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?` + zoneTail)
	reRFC2822    = regexp.MustCompile(`(?i)(?:` + dayNames + `,?\s+)?(\d{1,2})[\s-](` + monthNames + `)[\s-](\d{4})(?:\s+|:)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?` + zoneTail)
	reDate1      = regexp.MustCompile(`(?i)` + dayNames + `\s+(` + monthNames + `)\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s+([A-Za-z]{1,5}|[+-]\d{2}:?\d{2}))?\s+(\d{4})\b`)
	reCLF        = regexp.MustCompile(`(\d{1,2})/(` + monthNames + `)/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\s*([+-]\d{4}))?`)
	reSyslogYear = regexp.MustCompile(`(?i)\b(` + monthNames + `)\s+(\d{1,2}),?\s+(\d{4})[\s,]+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?` + zoneTail)
	reSyslog     = regexp.MustCompile(`(?i)\b(` + monthNames + `)\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?` + zoneTail)
	reNumDate    = regexp.MustCompile(`\b(\d{1,2})([./])(\d{1,2})[./](\d{4})[\s,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?` + zoneTail)
	reEpoch      = regexp.MustCompile(`(?:^\s*|(?i:\b(?:time|ts|timestamp|epoch|date)\s*[=:]\s*"?))(1\d{9}(?:\.\d{1,6})?|1\d{12})\b`)
)

var monthIndex = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

func monthOf(s string) int { return monthIndex[strings.ToLower(s[:3])] }

// zoneOffsets are the zone abbreviations reports use, as seconds east of UTC.
// Several abbreviations are ambiguous (CST is US Central and China; IST is
// India, Ireland and Israel); ambiguousZones says which reading is taken.
var zoneOffsets = map[string]int{
	"Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "WET": 0,
	"BST": 3600, "WEST": 3600, "CET": 3600, "MET": 3600,
	"CEST": 7200, "MEST": 7200, "EET": 7200, "SAST": 7200,
	"EEST": 10800, "MSK": 10800, "TRT": 10800,
	"GST": 14400, "PKT": 18000, "IST": 19800,
	"ICT": 25200, "WIB": 25200,
	"SGT": 28800, "HKT": 28800, "AWST": 28800, "PHT": 28800,
	"JST": 32400, "KST": 32400,
	"AEST": 36000, "AEDT": 39600, "NZST": 43200, "NZDT": 46800,
	"BRT": -10800, "ART": -10800,
	"AST": -14400, "EDT": -14400, "EST": -18000, "CDT": -18000, "CST": -21600,
	"MDT": -21600, "MST": -25200, "PDT": -25200, "PST": -28800,
	"AKDT": -28800, "AKST": -32400, "HST": -36000,
}

var ambiguousZones = map[string]string{
	"CST": "CST read as US Central Standard Time (UTC-06:00), not China Standard Time",
	"IST": "IST read as India Standard Time (UTC+05:30), not Irish or Israel Standard Time",
	"BST": "BST read as British Summer Time (UTC+01:00)",
	"AST": "AST read as Atlantic Standard Time (UTC-04:00)",
	"GST": "GST read as Gulf Standard Time (UTC+04:00)",
}

// parseZone reads a zone as written: Z, +01:00, +0100, +01, UTC+1, GMT-05:30, or an
// abbreviation from zoneOffsets. ok is false for anything else.
func parseZone(z string) (offset int, note string, ok bool) {
	if z == "" {
		return 0, "", false
	}
	up := strings.ToUpper(z)
	if off, known := zoneOffsets[up]; known {
		return off, ambiguousZones[up], true
	}
	for _, p := range []string{"UTC", "GMT"} {
		if rest, found := strings.CutPrefix(up, p); found && rest != "" {
			up = rest
			break
		}
	}
	if up[0] != '+' && up[0] != '-' {
		return 0, "", false
	}
	sign := 1
	if up[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(up[1:], ":", "")
	var h, m int
	switch len(digits) {
	case 1, 2:
		h, _ = strconv.Atoi(digits)
	case 3, 4:
		h, _ = strconv.Atoi(digits[:len(digits)-2])
		m, _ = strconv.Atoi(digits[len(digits)-2:])
	default:
		return 0, "", false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, "", false
		}
	}
	if h > 14 || m > 59 {
		return 0, "", false
	}
	return sign * (h*3600 + m*60), "", true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// fraction turns the digits after a decimal separator into nanoseconds.
func fraction(s string) int {
	if s == "" {
		return 0
	}
	for len(s) < 9 {
		s += "0"
	}
	return atoi(s[:9])
}

// findTime returns the first timestamp in line, the earliest in the line when
// several formats match, the longest of those starting at the same place.
func findTime(line string) (stamp, bool) {
	var best stamp
	found := false
	consider := func(st stamp) {
		if !st.valid() {
			return
		}
		if !found || st.start < best.start || (st.start == best.start && st.end > best.end) {
			best, found = st, true
		}
	}
	// Cheap tests first: most regular expressions cannot match a line without
	// their anchor characters, and running them all on every line is what costs.
	digits := longestDigitRun(line)
	if digits < 10 && !strings.Contains(line, ":") {
		return stamp{}, false // no clock time and no epoch
	}
	month := hasMonth(strings.ToLower(line))
	if digits >= 4 && strings.ContainsAny(line, "-/") {
		if m := reISO.FindStringSubmatchIndex(line); m != nil {
			g := groups(line, m)
			st := stamp{start: m[0], end: m[1], layout: "ISO 8601", hasYear: true,
				year: atoi(g[1]), month: atoi(g[2]), day: atoi(g[3]), hour: atoi(g[4]), min: atoi(g[5]), sec: atoi(g[6]), nsec: fraction(g[7])}
			st.zoneFrom(g[8], m[16], line)
			consider(st)
		}
	}
	if month {
		findMonthTimes(line, consider)
	}
	if strings.ContainsAny(line, "./") {
		findNumericTime(line, consider)
	}
	if digits >= 10 {
		findEpoch(line, consider)
	}
	if found {
		best.text = line[best.start:best.end]
	}
	return best, found
}

// hasMonth reports whether a lower-cased line names a month.
func hasMonth(low string) bool {
	for _, m := range [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.Contains(low, m) {
			return true
		}
	}
	return false
}

// longestDigitRun returns the length of the longest run of ASCII digits.
func longestDigitRun(s string) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// findMonthTimes tries the formats that spell the month.
func findMonthTimes(line string, consider func(stamp)) {
	if m := reRFC2822.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		st := stamp{start: m[0], end: m[1], layout: "RFC 2822", hasYear: true,
			day: atoi(g[1]), month: monthOf(g[2]), year: atoi(g[3]), hour: atoi(g[4]), min: atoi(g[5]), sec: atoi(g[6]), nsec: fraction(g[7])}
		st.zoneFrom(g[8], m[16], line)
		consider(st)
	}
	if m := reDate1.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		st := stamp{start: m[0], end: m[1], layout: "date(1)", hasYear: true,
			month: monthOf(g[1]), day: atoi(g[2]), hour: atoi(g[3]), min: atoi(g[4]), sec: atoi(g[5]), nsec: fraction(g[6]), year: atoi(g[8])}
		zoneOK := true
		if g[7] != "" { // a word between the time and the year must be a zone
			off, note, ok := parseZone(g[7])
			st.offset, st.note, st.hasZone, st.zone, zoneOK = off, note, ok, g[7], ok
		}
		if zoneOK {
			consider(st)
		}
	}
	if m := reCLF.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		st := stamp{start: m[0], end: m[1], layout: "common log format", hasYear: true,
			day: atoi(g[1]), month: monthOf(g[2]), year: atoi(g[3]), hour: atoi(g[4]), min: atoi(g[5]), sec: atoi(g[6])}
		if g[7] != "" {
			st.offset, _, st.hasZone = parseZone(g[7])
			st.zone = g[7]
		}
		consider(st)
	}
	if m := reSyslogYear.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		st := stamp{start: m[0], end: m[1], layout: "syslog with year", hasYear: true,
			month: monthOf(g[1]), day: atoi(g[2]), year: atoi(g[3]), hour: atoi(g[4]), min: atoi(g[5]), sec: atoi(g[6]), nsec: fraction(g[7])}
		st.zoneFrom(g[8], m[16], line)
		consider(st)
	}
	if m := reSyslog.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		st := stamp{start: m[0], end: m[1], layout: "syslog",
			month: monthOf(g[1]), day: atoi(g[2]), hour: atoi(g[3]), min: atoi(g[4]), sec: atoi(g[5]), nsec: fraction(g[6])}
		st.zoneFrom(g[7], m[14], line)
		consider(st)
	}
}

// findNumericTime tries day.month.year and month/day/year dates.
func findNumericTime(line string, consider func(stamp)) {
	if m := reNumDate.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		a, b := atoi(g[1]), atoi(g[3])
		st := stamp{start: m[0], end: m[1], hasYear: true, year: atoi(g[4]), hour: atoi(g[5]), min: atoi(g[6]), sec: atoi(g[7])}
		switch {
		case g[2] == ".": // 01.11.2026: day first, as in most of Europe
			st.day, st.month, st.layout = a, b, "day.month.year"
		case a > 12:
			st.day, st.month, st.layout = a, b, "day/month/year"
		default:
			st.month, st.day, st.layout = a, b, "month/day/year"
			if b <= 12 && a != b {
				st.note = "the date " + g[1] + "/" + g[3] + "/" + g[4] + " was read month first (US style)"
			}
		}
		if ap := strings.ToUpper(g[8]); ap != "" {
			if st.hour < 1 || st.hour > 12 {
				st.hour = -1 // invalid
			} else if ap == "PM" && st.hour < 12 {
				st.hour += 12
			} else if ap == "AM" && st.hour == 12 {
				st.hour = 0
			}
		}
		st.zoneFrom(g[9], m[18], line)
		consider(st)
	}
}

// findEpoch tries Unix time in seconds or milliseconds.
func findEpoch(line string, consider func(stamp)) {
	if m := reEpoch.FindStringSubmatchIndex(line); m != nil {
		g := groups(line, m)
		st := stamp{start: m[2], end: m[3], layout: "Unix time", epoch: true, hasZone: true, hasYear: true}
		s := g[1]
		if len(s) == 13 && !strings.Contains(s, ".") {
			ms, _ := strconv.ParseInt(s, 10, 64)
			st.epochVal = time.UnixMilli(ms).UTC()
		} else {
			whole, frac, _ := strings.Cut(s, ".")
			sec, _ := strconv.ParseInt(whole, 10, 64)
			st.epochVal = time.Unix(sec, int64(fraction(frac))).UTC()
		}
		consider(st)
	}
}

// groups returns the submatches of m as strings ("" for a group that did not take part).
func groups(s string, m []int) []string {
	g := make([]string, len(m)/2)
	for i := range g {
		if m[2*i] >= 0 {
			g[i] = s[m[2*i]:m[2*i+1]]
		}
	}
	return g
}

// zoneFrom sets the stamp's zone from the zone group z, which starts at byte at of
// line. A word that is not a zone is not part of the stamp: the stamp then ends
// before it.
func (st *stamp) zoneFrom(z string, at int, line string) {
	if z == "" {
		return
	}
	off, note, ok := parseZone(z)
	if isLetters(z) && z != strings.ToUpper(z) {
		ok = false // zone names are written in capitals; "at", "web" are words
	}
	if !ok {
		// Cut the stamp back to before the word (and the space before it).
		end := at
		for end > st.start && (line[end-1] == ' ' || line[end-1] == '\t') {
			end--
		}
		st.end = end
		return
	}
	st.offset, st.note, st.hasZone, st.zone = off, note, true, z
}

func isLetters(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != ""
}

// valid reports whether the fields make a real date and time.
func (st *stamp) valid() bool {
	if st.epoch {
		return !st.epochVal.IsZero()
	}
	if st.month < 1 || st.month > 12 || st.day < 1 || st.day > 31 || st.hour < 0 || st.hour > 23 || st.min > 59 || st.sec > 60 {
		return false
	}
	if st.hasYear && (st.year < 1990 || st.year > 2200) {
		return false
	}
	y := st.year
	if !st.hasYear {
		y = 2024 // a leap year, so that Feb 29 stays valid until the year is known
	}
	t := time.Date(y, time.Month(st.month), st.day, 0, 0, 0, 0, time.UTC)
	return t.Day() == st.day
}

// resolve turns the stamp into a time: the zone is the stamp's own, else loc (the
// report's zone); a missing year is year, or the year before when that would put
// the time more than two days after ref (a syslog line from December in a January
// e-mail).
func (st *stamp) resolve(loc *time.Location, year int, ref time.Time) time.Time {
	if st.epoch {
		return st.epochVal
	}
	if st.hasZone {
		loc = time.FixedZone(st.zone, st.offset)
	}
	y := st.year
	if !st.hasYear {
		y = year
	}
	t := time.Date(y, time.Month(st.month), st.day, st.hour, st.min, min(st.sec, 59), st.nsec, loc)
	if !st.hasYear && !ref.IsZero() && t.After(ref.Add(48*time.Hour)) {
		t = time.Date(y-1, time.Month(st.month), st.day, st.hour, st.min, min(st.sec, 59), st.nsec, loc)
	}
	return t.UTC()
}

// Report-wide time zones, from the prose around a log extract: "All times are
// CET (UTC+01:00)", "timestamps in UTC", "Timezone: Europe/Berlin", "(GMT+2)".
var (
	reZoneSentence = regexp.MustCompile(`(?i)\b(?:all\s+)?(?:times?|timestamps?|dates?|logs?)\s+(?:are\s+|is\s+|shown\s+|given\s+|listed\s+)?(?:in\s+)?(?:the\s+)?([A-Z]{1,5}\b|(?:UTC|GMT)\s?[+-]\s?\d{1,2}(?::?\d{2})?)`)
	reZoneLabel    = regexp.MustCompile(`(?i)\btime\s?zone\s*[:=]?\s*([A-Za-z_]+/[A-Za-z_]+(?:/[A-Za-z_]+)?|[A-Za-z]{1,5}\b|(?:UTC|GMT)?\s?[+-]\d{1,2}(?::?\d{2})?)`)
	reZoneParen    = regexp.MustCompile(`\((?:UTC|GMT)\s?([+-]\d{1,2}(?::?\d{2})?)\)`)
	reZoneOffset   = regexp.MustCompile(`\b(?:UTC|GMT)\s?([+-]\d{1,2}(?::\d{2})?)(?:\b|$)`)
)

// reportZone looks for the time zone a report states for its times, in the text's
// prose lines. It returns nil when the report states none.
func reportZone(lines []string, isLog []bool) (loc *time.Location, said string) {
	for i, l := range lines {
		if isLog != nil && isLog[i] {
			continue
		}
		if m := reZoneParen.FindStringSubmatch(l); m != nil {
			if off, _, ok := parseZone(strings.ReplaceAll(m[1], " ", "")); ok {
				return time.FixedZone("UTC"+m[1], off), strings.TrimSpace(m[0])
			}
		}
		if m := reZoneLabel.FindStringSubmatch(l); m != nil {
			z := strings.ReplaceAll(m[1], " ", "")
			if strings.Contains(z, "/") {
				if loc, err := time.LoadLocation(z); err == nil {
					return loc, strings.TrimSpace(m[0])
				}
			} else if off, _, ok := parseZone(z); ok {
				return time.FixedZone(strings.ToUpper(z), off), strings.TrimSpace(m[0])
			}
		}
		if m := reZoneOffset.FindStringSubmatch(l); m != nil && !strings.Contains(l, "://") {
			if off, _, ok := parseZone(m[1]); ok {
				return time.FixedZone("UTC"+m[1], off), strings.TrimSpace(m[0])
			}
		}
		for _, m := range reZoneSentence.FindAllStringSubmatch(l, -1) {
			z := strings.ReplaceAll(m[1], " ", "")
			if isLetters(z) && z != strings.ToUpper(z) {
				continue // "times are in the morning"
			}
			if off, _, ok := parseZone(z); ok {
				return time.FixedZone(strings.ToUpper(z), off), strings.TrimSpace(m[0])
			}
		}
	}
	return nil, ""
}
