package jsonscan

import (
	"time"
	"unsafe"
)

// Helpers the JSON log decoders share.

// Absent is what a decoder puts in a string field before json.Unmarshal to learn
// afterwards whether the key was there: encoding/json leaves the field alone when
// the key is absent or null, and every string it decodes is a new allocation, so
// IsAbsent tells the two apart by identity (not content: no input can forge it).
var Absent = string([]byte("\x00absent"))

// IsAbsent reports whether s is still Absent.
func IsAbsent(s string) bool {
	return len(s) == len(Absent) && unsafe.StringData(s) == unsafe.StringData(Absent)
}

// ParseTime parses the timestamps AWS's JSON logs carry into Unix milliseconds:
// ISO 8601 in UTC with or without fractional seconds ("2021-02-04T17:51:55Z",
// "2017-03-16T19:20:25.177Z"), the same with a space for the T and no zone as
// CloudTrail Lake prints it ("2023-01-05 13:51:00.000"), and any RFC 3339 time with
// an offset. Fractions beyond milliseconds are truncated.
func ParseTime(s string) (int64, bool) {
	if ms, ok := parseUTC(s); ok {
		return ms, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// parseUTC is ParseTime's fast path for "YYYY-MM-DDTHH:MM:SS[.fff…][Z]", which is
// what nearly every record has, without time.Parse's generality.
func parseUTC(s string) (int64, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	year, ok1 := atoi(s[0:4])
	month, ok2 := atoi(s[5:7])
	day, ok3 := atoi(s[8:10])
	hour, ok4 := atoi(s[11:13])
	minute, ok5 := atoi(s[14:16])
	sec, ok6 := atoi(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	rest := s[19:]
	ms := 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			if n <= 3 {
				ms = ms*10 + int(rest[n]-'0')
			}
			n++
		}
		if n == 1 {
			return 0, false
		}
		for i := n; i <= 3; i++ {
			ms *= 10
		}
		rest = rest[n:]
	}
	switch rest {
	case "Z":
	case "":
		if s[10] != ' ' { // only the Lake form may omit the zone
			return 0, false
		}
	default:
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 2021-02-30 normalises to March: reject it
		return 0, false
	}
	return t.UnixMilli() + int64(ms), true
}

func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// TooDeep reports whether the JSON text raw nests arrays and objects deeper than
// max. It only counts brackets outside strings, so it is cheap and safe on any
// input; decoders use it on messages that did not come through a Scanner.
func TooDeep(raw []byte, max int) bool {
	depth, inStr := 0, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
			if depth > max {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}
