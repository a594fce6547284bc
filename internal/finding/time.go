package finding

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Time is an instant in Unix milliseconds (UTC), the unit of event time in vigil
// (record.Record.Timestamp). It marshals to GuardDuty's timestamp format,
// ISO-8601 UTC with exactly three fractional digits ("2017-10-31T23:16:23.824Z"),
// and the zero Time is "no time" (omitted by omitempty).
type Time int64

// timeLayout is GuardDuty's timestamp format.
const timeLayout = "2006-01-02T15:04:05.000Z"

// TimeOf converts a time.Time to a Time, truncating below the millisecond.
func TimeOf(t time.Time) Time { return Time(t.UnixMilli()) }

// Time returns t as a time.Time in UTC.
func (t Time) Time() time.Time { return time.UnixMilli(int64(t)).UTC() }

// String returns t in GuardDuty's format.
func (t Time) String() string { return t.Time().Format(timeLayout) }

// MarshalJSON writes t as a GuardDuty timestamp string. Years outside 0–9999
// have no ISO-8601 form of that shape and are an error.
func (t Time) MarshalJSON() ([]byte, error) {
	return t.appendJSON(make([]byte, 0, len(timeLayout)+2))
}

// appendJSON appends t as MarshalJSON writes it. It writes the digits itself:
// time.Time.AppendFormat reads its layout on every call, which was a third of
// the cost of encoding a finding (every finding has four to six times).
func (t Time) appendJSON(b []byte) ([]byte, error) {
	tt := t.Time()
	y, mo, d := tt.Date()
	if y < 0 || y > 9999 {
		return nil, fmt.Errorf("timestamp %d ms: year %d outside 0–9999", int64(t), y)
	}
	h, mi, s := tt.Clock()
	ms := int(int64(t) % 1000)
	if ms < 0 {
		ms += 1000
	}
	b = append(b, '"', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
	return b, nil
}

// UnmarshalJSON reads an RFC 3339 timestamp with any number of fractional digits
// (precision below the millisecond is truncated), or a number of epoch
// milliseconds as GuardDuty's filter criteria use. null leaves t unchanged.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %s: want an ISO-8601 string or epoch milliseconds", b)
		}
		*t = Time(ms)
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	pt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q: want ISO-8601 like 2017-10-31T23:16:23.824Z", s)
	}
	*t = TimeOf(pt)
	return nil
}
