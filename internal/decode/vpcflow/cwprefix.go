package vpcflow

// CloudWatch Logs exports (the console's download, scripts around
// `aws logs filter-log-events`/`get-log-events`) write each event as its timestamp
// followed by the message. Decode recognises such a prefix per input: the first
// line that decodes tells whether the input has it (its first token is a
// timestamp and the rest has the format's field count), and from then on a
// timestamp-shaped first token is dropped. Raw is the record without the prefix,
// as CloudWatch's @message would be.

// timestampPrefixLen returns the length of a leading event timestamp and the
// single space or tab after it, or 0. It accepts RFC 3339 / ISO 8601 times
// ("2026-11-01T00:00:05.000Z", "2026-11-01 00:00:05.000", "…+01:00") and 13-digit
// Unix milliseconds ("1793491205000"). It checks shape and ranges, not the
// calendar: it only has to tell a timestamp from a flow-log field.
func timestampPrefixLen(b []byte) int {
	if len(b) > 13 && digits(b[:13]) && isSep(b[13]) {
		return 14
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' {
		return 0
	}
	if b[10] != 'T' && b[10] != 't' && b[10] != ' ' {
		return 0
	}
	if !digits(b[0:4]) || !inRange(b[5:7], 1, 12) || !inRange(b[8:10], 1, 31) ||
		!inRange(b[11:13], 0, 24) || !inRange(b[14:16], 0, 59) || !inRange(b[17:19], 0, 60) {
		return 0
	}
	i := 19
	if b[i] == '.' || b[i] == ',' {
		i++
		j := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == j {
			return 0
		}
	}
	if i < len(b) {
		switch b[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			// ±hh:mm or ±hhmm
			if i+5 < len(b) && inRange(b[i+1:i+3], 0, 23) && b[i+3] == ':' && inRange(b[i+4:i+6], 0, 59) {
				i += 6
			} else if i+4 < len(b) && inRange(b[i+1:i+3], 0, 23) && inRange(b[i+3:i+5], 0, 59) {
				i += 5
			} else {
				return 0
			}
		}
	}
	if i < len(b) && isSep(b[i]) {
		return i + 1
	}
	return 0
}

func isSep(c byte) bool { return c == ' ' || c == '\t' }

func digits(b []byte) bool {
	for _, c := range b {
		if c-'0' > 9 {
			return false
		}
	}
	return len(b) > 0
}

// inRange reports whether b is exactly two digits between lo and hi.
func inRange(b []byte, lo, hi int) bool {
	if len(b) != 2 || !digits(b) {
		return false
	}
	n := int(b[0]-'0')*10 + int(b[1]-'0')
	return lo <= n && n <= hi
}
