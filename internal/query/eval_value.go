package query

import (
	"bytes"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/record"
)

// The evaluator works on record.Value, the type records hand out, so that a
// field read from a record needs no conversion. Logs Insights also has maps
// and lists (made by jsonParse, split and parse logfmt); they are a value
// kind of the evaluator's own, JSONValue, whose Str holds the JSON text of
// the object or array. Member access and indexing walk that text, so a map
// costs nothing until it is used and never needs a Go map.

// JSONValue is the record.ValueKind of maps and lists: Str is the JSON text of
// an object or array. record.Value.AppendText prints nothing for it; use
// AppendValue, which prints the JSON text.
const JSONValue record.ValueKind = 0x40

// jsonValue returns a map or list value holding the JSON text s.
func jsonValue(s string) record.Value { return record.Value{Kind: JSONValue, Str: s} }

// AppendValue appends v as Logs Insights prints it (record.Value.AppendText),
// and maps and lists as their JSON text. Missing appends nothing.
func AppendValue(b []byte, v record.Value) []byte {
	if v.Kind == JSONValue {
		return append(b, v.Str...)
	}
	return v.AppendText(b)
}

// FormatValue returns v as Logs Insights prints it ("" for Missing).
func FormatValue(v record.Value) string {
	switch v.Kind {
	case record.String, JSONValue:
		return v.Str
	}
	return string(v.AppendText(nil))
}

// CloneValue returns v with its string copied, so that it no longer aliases
// the record or buffer it came from. Values kept past the emit call that
// delivered their record (group keys, buffered rows) must be cloned.
func CloneValue(v record.Value) record.Value {
	if v.Str != "" {
		v.Str = strings.Clone(v.Str)
	}
	return v
}

// missing is the Missing value.
var missing = record.Value{}

// isNumberKind reports whether v is a typed number: an integer, float,
// timestamp (milliseconds) or boolean (1/0).
func isNumberKind(v record.Value) bool {
	switch v.Kind {
	case record.Int, record.Float, record.Time, record.Bool:
		return true
	}
	return false
}

// toNumber returns v as a number, as Logs Insights treats it: typed numbers,
// and strings that consist only of a number ("80", "-1.5", "1e3"). Unlike
// record.Value.Number it never allocates, also for strings that are not
// numbers, which is the common case in filters over text fields.
func toNumber(v record.Value) (float64, bool) {
	switch v.Kind {
	case record.Int, record.Time, record.Bool:
		return float64(v.Int), true
	case record.Float:
		return v.F, true
	case record.String:
		return parseNumber(v.Str)
	}
	return 0, false
}

// toInt returns v as an exact integer when it is one: an Int, Time or Bool,
// an integral Float, or a string holding a whole number.
func toInt(v record.Value) (int64, bool) {
	switch v.Kind {
	case record.Int, record.Time, record.Bool:
		return v.Int, true
	case record.Float:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1<<63 {
			return int64(v.F), true
		}
	case record.String:
		if LooksInteger(v.Str) {
			n, err := strconv.ParseInt(v.Str, 10, 64)
			return n, err == nil
		}
		if f, ok := parseNumber(v.Str); ok && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), true
		}
	}
	return 0, false
}

// LooksInteger reports whether s is an optional sign followed by 1–18
// digits, so that ParseInt cannot fail or overflow: the query language's
// test for a literal, or a string, written as a whole number.
func LooksInteger(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i == len(s) || len(s)-i > 18 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseNumber parses s when it consists only of a decimal number: an optional
// sign, digits with an optional fraction, and an optional exponent. It
// rejects what strconv would also take (hex, inf, nan, underscores) and
// never allocates.
func parseNumber(s string) (float64, bool) {
	if !isNumberText(s) {
		return 0, false
	}
	if LooksInteger(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// isNumberText reports whether s has the shape of a decimal number.
func isNumberText(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// isNumeric reports whether v counts as a number in the sort order and in
// comparisons: a typed number or a string that consists only of a number.
func isNumeric(v record.Value) bool {
	switch v.Kind {
	case record.Int, record.Float, record.Time, record.Bool:
		return true
	case record.String:
		return isNumberText(v.Str)
	}
	return false
}

// appendText appends the text form of v, used where a value is compared or
// matched as text (like, string comparisons, string functions). Callers pass
// a stack buffer, so formatting a number or an address does not allocate.
// IPv4 addresses, which like tests on flow logs format for every record,
// take a table-driven path.
func appendText(b []byte, v record.Value) []byte {
	if v.Kind == record.Addr && v.IP.Is4() {
		// Filters such as srcAddr like "10.10." format an address per
		// record: write the octets' digits from a table, three bytes at a
		// time, and keep the digits each has.
		l := len(b)
		if cap(b)-l < 16 {
			b = slices.Grow(b, 16)
		}
		t := b[l : l+16]
		a := v.IP.As4()
		n := 0
		for i, o := range a {
			d := &octets[o]
			t[n], t[n+1], t[n+2] = d.digits[0], d.digits[1], d.digits[2]
			n += int(d.n)
			if i < 3 {
				t[n&15] = '.'
				n++
			}
		}
		return b[:l+n]
	}
	return AppendValue(b, v)
}

// octets holds the decimal digits of 0–255.
var octets = func() (t [256]struct {
	digits [3]byte
	n      uint8
}) {
	for i := range t {
		s := strconv.Itoa(i)
		copy(t[i].digits[:], s)
		t[i].n = uint8(len(s))
	}
	return t
}()

// textOf returns the text of v, using buf when v is not already a string.
// The result may alias buf.
func textOf(buf []byte, v record.Value) []byte {
	if v.Kind == record.String {
		return unsafeBytes(v.Str)
	}
	return appendText(buf[:0], v)
}

// truthy reports whether v counts as true where a condition is expected
// (filter isRes, and, or, not, if): a true boolean, a non-zero number, or a
// string that is a non-zero number or "true" (how JSON true reads).
func truthy(v record.Value) bool {
	switch v.Kind {
	case record.Bool, record.Int, record.Time:
		return v.Int != 0
	case record.Float:
		return v.F != 0 && !math.IsNaN(v.F)
	case record.String:
		if v.Str == "true" {
			return true
		}
		f, ok := parseNumber(v.Str)
		return ok && f != 0
	}
	return false
}

// boolValue returns a Bool value.
func boolValue(b bool) record.Value {
	if b {
		return record.Value{Kind: record.Bool, Int: 1}
	}
	return record.Value{Kind: record.Bool}
}

// numValue returns f as a number: an Int when it is integral and exact,
// otherwise a Float. NaN and infinities are missing.
func numValue(f float64) record.Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return missing
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return record.IntValue(int64(f))
	}
	return record.FloatValue(f)
}

// compareValues compares a and b as Logs Insights comparison operators do.
// ok is false when the comparison is false whatever the operator: a side is
// missing, or is a map or list.
//
// Numbers compare numerically when both sides are numbers, or one is a typed
// number (a number field, a number literal) and the other a string holding a
// number: dstPort = "80" holds, as in AWS samples. Two strings compare as
// text by code point, even when both look like numbers, so a quoted ID
// compares exactly (accountId = "012345678901"). Addresses and timestamps
// against text compare as their text.
func compareValues(a, b record.Value) (int, bool) {
	if a.Kind == record.Missing || b.Kind == record.Missing || a.Kind == JSONValue || b.Kind == JSONValue {
		return 0, false
	}
	if a.Kind == record.Int && b.Kind == record.Int {
		return cmpInt(a.Int, b.Int), true
	}
	if a.Kind == record.String && b.Kind == record.String {
		return strings.Compare(a.Str, b.Str), true
	}
	if a.Kind == record.Addr && b.Kind == record.Addr && a.IP == b.IP {
		return 0, true
	}
	if isNumberKind(a) || isNumberKind(b) {
		if x, ok := toNumber(a); ok {
			if y, ok := toNumber(b); ok {
				return cmpFloat(x, y), true
			}
		}
	}
	var ba, bb [64]byte
	return bytes.Compare(textOf(ba[:], a), textOf(bb[:], b)), true
}

// equalValues reports whether a = b holds.
func equalValues(a, b record.Value) bool {
	c, ok := compareValues(a, b)
	return ok && c == 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// NaturalCompare orders two values as Logs Insights' sort does (§3.5 of the
// reference), ascending; missing values and maps or lists are not handled
// here (see SortCompare). Every value that is not a number sorts before every
// number; numbers compare numerically; other values compare as text, split
// into runs of digits and non-digits: non-digit runs by code point, digit
// runs by length and then value, a digit run against a non-digit run by the
// code point of their first characters.
func NaturalCompare(a, b record.Value) int {
	switch {
	case a.Kind == record.String && b.Kind == record.String && a.Str == b.Str:
		return 0
	case a.Kind == record.Addr && b.Kind == record.Addr && a.IP.Is4() && b.IP.Is4():
		// The text of IPv4 addresses compares run by run, and a run of
		// digits by length then value: that is numeric order, octet by
		// octet, without formatting.
		return a.IP.Compare(b.IP)
	}
	an, bn := isNumeric(a), isNumeric(b)
	switch {
	case an && bn:
		if a.Kind == record.Int && b.Kind == record.Int {
			return cmpInt(a.Int, b.Int)
		}
		x, _ := toNumber(a)
		y, _ := toNumber(b)
		return cmpFloat(x, y)
	case an:
		return 1
	case bn:
		return -1
	}
	var ba, bb [64]byte
	return naturalText(textOf(ba[:], a), textOf(bb[:], b))
}

// SortCompare orders two values for sort, dedup order and the default order
// of stats output: NaturalCompare, with missing values (and maps and lists,
// which cannot be sorted) after all others in ascending order. desc reverses
// the order of present values only, so missing values come last both ways
// (a decision of vigil's; AWS does not document where nulls sort).
func SortCompare(a, b record.Value, desc bool) int {
	am, bm := a.Kind == record.Missing || a.Kind == JSONValue, b.Kind == record.Missing || b.Kind == JSONValue
	switch {
	case am && bm:
		return 0
	case am:
		return 1
	case bm:
		return -1
	}
	c := NaturalCompare(a, b)
	if desc {
		return -c
	}
	return c
}

// naturalText compares two texts run by run (see NaturalCompare).
func naturalText(a, b []byte) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ad, bd := isDigit(a[i]), isDigit(b[j])
		if ad != bd {
			return cmpInt(int64(a[i]), int64(b[j]))
		}
		ie, je := i, j
		for ie < len(a) && isDigit(a[ie]) == ad {
			ie++
		}
		for je < len(b) && isDigit(b[je]) == bd {
			je++
		}
		ra, rb := a[i:ie], b[j:je]
		if ad {
			// Digit runs: longer is larger; equal lengths compare digit by
			// digit, which is by value.
			if len(ra) != len(rb) {
				return cmpInt(int64(len(ra)), int64(len(rb)))
			}
			if c := bytes.Compare(ra, rb); c != 0 {
				return c
			}
		} else if c := compareRunes(ra, rb); c != 0 {
			return c
		}
		i, j = ie, je
	}
	return cmpInt(int64(len(a)-i), int64(len(b)-j))
}

// compareRunes compares UTF-8 texts by code point; byte order is the same
// for valid UTF-8, and invalid bytes compare as themselves.
func compareRunes(a, b []byte) int { return bytes.Compare(a, b) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// strValue returns v's text as a string value: strings as they are, other
// scalars formatted. Missing and maps or lists give ok false: string
// functions treat them as null.
func strValue(v record.Value) (string, bool) {
	switch v.Kind {
	case record.String:
		return v.Str, true
	case record.Missing, JSONValue:
		return "", false
	}
	return string(v.AppendText(nil)), true
}

// timeValue returns v as Unix milliseconds when it is a timestamp or a
// number (taken as milliseconds); strings in the timestamp layouts Logs
// Insights prints and ISO 8601 are read too.
func timeValue(v record.Value) (int64, bool) {
	switch v.Kind {
	case record.Time, record.Int:
		return v.Int, true
	case record.Float:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return 0, false
		}
		return int64(v.F), true
	case record.String:
		if n, ok := toInt(v); ok {
			return n, true
		}
		for _, layout := range []string{record.TimeLayout, time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v.Str); err == nil {
				return t.UnixMilli(), true
			}
		}
	}
	return 0, false
}

// addrOf returns v as an IP address: an Addr value, or a string that parses
// as one. It does not allocate for text that is not an address.
func addrOf(v record.Value) (netip.Addr, bool) {
	switch v.Kind {
	case record.Addr:
		return v.IP, true
	case record.String:
		if !maybeAddr(v.Str) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(v.Str)
		return a, err == nil
	}
	return netip.Addr{}, false
}

// maybeAddr reports whether s has only the characters of an IP address (hex
// digits, dots and colons, then an optional %zone), so that ParseAddr, which
// allocates its error, is only tried on likely addresses.
func maybeAddr(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			return sep && i > 0
		case c == '.' || c == ':':
			sep = true
		case !(isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return false
		}
	}
	return sep
}

// Number returns v as a number the way the language reads one: typed
// numbers, and strings that hold only a number ("80", "1.5e3"). Unlike
// record.Value.Number it never allocates.
func Number(v record.Value) (float64, bool) { return toNumber(v) }

// Truthy reports whether v counts as true where a condition is expected.
func Truthy(v record.Value) bool { return truthy(v) }

// SortableValue returns v prepared for many comparisons in the sort order:
// an IPv6 address becomes its text, a string that holds a number becomes
// that number, and a map or list becomes missing (they cannot be sorted).
// The result compares by SortCompare exactly as v does, without formatting
// or parsing anything again. It is for sort keys, not for output.
func SortableValue(v record.Value) record.Value {
	switch v.Kind {
	case record.Addr:
		if !v.IP.Is4() {
			return record.StringValue(v.IP.String())
		}
	case record.String:
		if f, ok := parseNumber(v.Str); ok {
			return numValue(f)
		}
	case JSONValue:
		return missing
	}
	return v
}
