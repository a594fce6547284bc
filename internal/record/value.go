package record

import (
	"math"
	"net/netip"
	"strconv"
	"time"
)

// ValueKind says which member of a Value is set.
type ValueKind uint8

// The value kinds. Logs Insights itself knows strings and numbers; vigil keeps
// addresses, times and booleans typed so that comparisons and functions need not
// re-parse text, and formats them as Logs Insights does on output.
const (
	Missing ValueKind = iota // the record lacks the field
	String
	Int
	Float
	Addr
	Time // Unix milliseconds in Int
	Bool // 1 or 0 in Int
)

// Value is one field's value. It is small and passed by value; its Str may alias
// the record it came from.
type Value struct {
	Kind ValueKind
	Int  int64
	F    float64
	Str  string
	IP   netip.Addr
}

// Constructors, for readable call sites.

// StringValue returns a String value.
func StringValue(s string) Value { return Value{Kind: String, Str: s} }

// IntValue returns an Int value.
func IntValue(n int64) Value { return Value{Kind: Int, Int: n} }

// FloatValue returns a Float value.
func FloatValue(f float64) Value { return Value{Kind: Float, F: f} }

// AddrValue returns an Addr value, or Missing for the zero address.
func AddrValue(a netip.Addr) Value {
	if !a.IsValid() {
		return Value{}
	}
	return Value{Kind: Addr, IP: a}
}

// TimeValue returns a Time value from Unix milliseconds.
func TimeValue(ms int64) Value { return Value{Kind: Time, Int: ms} }

// BoolValue returns a Bool value.
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: Bool, Int: 1}
	}
	return Value{Kind: Bool}
}

// IsMissing reports whether the value is absent.
func (v Value) IsMissing() bool { return v.Kind == Missing }

// Number returns the value as a number, as Logs Insights treats it: numbers are
// numbers, booleans 1/0, times their milliseconds, and strings that parse as numbers
// count as numbers ("80" = 80). ok is false for anything else.
func (v Value) Number() (f float64, ok bool) {
	switch v.Kind {
	case Int, Time, Bool:
		return float64(v.Int), true
	case Float:
		return v.F, true
	case String:
		if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
			return float64(n), true
		}
		if f, err := strconv.ParseFloat(v.Str, 64); err == nil && !math.IsNaN(f) {
			return f, true
		}
	}
	return 0, false
}

// TimeLayout is how Logs Insights prints timestamps: UTC, millisecond precision.
const TimeLayout = "2006-01-02 15:04:05.000"

// AppendText appends the value as Logs Insights prints it. Missing appends nothing.
func (v Value) AppendText(b []byte) []byte {
	switch v.Kind {
	case String:
		return append(b, v.Str...)
	case Int:
		return strconv.AppendInt(b, v.Int, 10)
	case Float:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1e15 {
			return strconv.AppendInt(b, int64(v.F), 10)
		}
		return strconv.AppendFloat(b, v.F, 'f', -1, 64)
	case Addr:
		return v.IP.AppendTo(b)
	case Time:
		return time.UnixMilli(v.Int).UTC().AppendFormat(b, TimeLayout)
	case Bool:
		if v.Int != 0 {
			return append(b, '1')
		}
		return append(b, '0')
	}
	return b
}

// String returns the value as Logs Insights prints it ("" for Missing).
func (v Value) String() string {
	if v.Kind == String {
		return v.Str
	}
	return string(v.AppendText(nil))
}
