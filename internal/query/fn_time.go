package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/record"
)

// Datetime functions (§5.3). Timestamps are Unix milliseconds (record.Time)
// and print as "2026-11-01 00:00:00.000" UTC.

func init() {
	register("bin", buildBin)
	register("datefloor", dateRoundFn(false))
	register("dateceil", dateRoundFn(true))
	register("fromMillis", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			n, ok := toInt(a(r))
			if !ok {
				if f, fok := toNumber(a(r)); fok {
					n, ok = int64(f), true
				}
			}
			if !ok {
				return missing
			}
			return record.TimeValue(n)
		}, nil
	})
	register("toMillis", func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.arg1(call)
		if err != nil {
			return nil, err
		}
		return func(r *Row) record.Value {
			ms, ok := timeValue(a(r))
			if !ok {
				return missing
			}
			return record.IntValue(ms)
		}, nil
	})
	register("now", func(c *Compiler, _ *CallExpr) (Eval, error) {
		return constant(record.IntValue(c.opts.Now.Unix())), nil
	})
	register("queryStartTime", func(c *Compiler, _ *CallExpr) (Eval, error) {
		return constant(msOrMissing(c.opts.Start)), nil
	})
	register("queryEndTime", func(c *Compiler, _ *CallExpr) (Eval, error) {
		return constant(msOrMissing(c.opts.End)), nil
	})
	register("queryTimeRange", func(c *Compiler, _ *CallExpr) (Eval, error) {
		if c.opts.Start.IsZero() || c.opts.End.IsZero() {
			return constant(missing), nil
		}
		return constant(record.IntValue(c.opts.End.UnixMilli() - c.opts.Start.UnixMilli())), nil
	})
	register("parseDate", buildParseDate)
	register("formatDate", buildFormatDate)
	register("strftime", buildFormatDate)
}

func msOrMissing(t time.Time) record.Value {
	if t.IsZero() {
		return missing
	}
	return record.IntValue(t.UnixMilli())
}

// Period is a time period of bin, datefloor and dateceil, after clamping.
type Period struct {
	Amount int64
	Unit   DurationUnit
}

// PeriodOf returns the period a literal stands for: amounts above the caps
// Logs Insights applies (ms 1000, s 60, m 60, h 24) are clamped to them, as
// AWS does silently (the checker warns).
func PeriodOf(d *DurationLit) Period {
	n := d.Amount
	if limit, ok := unitCaps[d.Unit]; ok && n > limit {
		n = limit
	}
	return Period{Amount: max(n, 1), Unit: d.Unit}
}

// unitMillis is the length of the fixed-length units.
var unitMillis = map[DurationUnit]int64{
	UnitMillisecond: 1, UnitSecond: 1000, UnitMinute: 60_000, UnitHour: 3_600_000,
	UnitDay: 86_400_000, UnitWeek: 7 * 86_400_000,
}

// firstMonday is 1970-01-05, a Monday: weeks are ISO weeks, from Monday
// 00:00 UTC.
const firstMonday = 4 * 86_400_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Floor returns the start of the period holding ms: epoch-aligned buckets
// for ms to days, ISO weeks (Monday, UTC), and UTC calendar months,
// quarters and years counted from 1970.
func (p Period) Floor(ms int64) int64 {
	switch p.Unit {
	case UnitWeek:
		size := p.Amount * unitMillis[UnitWeek]
		return firstMonday + floorDiv(ms-firstMonday, size)*size
	case UnitMonth, UnitQuarter, UnitYear:
		months := p.months()
		t := time.UnixMilli(ms).UTC()
		idx := int64(t.Year()-1970)*12 + int64(t.Month()-1)
		idx = floorDiv(idx, months) * months
		return time.Date(1970+int(floorDiv(idx, 12)), time.Month(idx-floorDiv(idx, 12)*12+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	size := p.Amount * unitMillis[p.Unit]
	return floorDiv(ms, size) * size
}

// Ceil returns the end of the period holding ms; a time on a boundary stays.
func (p Period) Ceil(ms int64) int64 {
	f := p.Floor(ms)
	if f == ms {
		return ms
	}
	switch p.Unit {
	case UnitMonth, UnitQuarter, UnitYear:
		return time.UnixMilli(f).UTC().AddDate(0, int(p.months()), 0).UnixMilli()
	}
	return f + p.Amount*unitMillis[p.Unit]
}

func (p Period) months() int64 {
	switch p.Unit {
	case UnitQuarter:
		return 3 * p.Amount
	case UnitYear:
		return 12 * p.Amount
	}
	return p.Amount
}

// buildBin builds bin(period): @timestamp floored to the period. It reads
// @timestamp as the scope sees it: the record's, or a column of that name
// after stats.
func buildBin(c *Compiler, call *CallExpr) (Eval, error) {
	d, ok := call.Args[0].(*DurationLit)
	if !ok {
		return nil, c.errorf(call.Args[0], "bin needs a time period such as 5m")
	}
	p := PeriodOf(d)
	ts := c.field(&FieldRef{Path: []string{"@timestamp"}, Pos: call.Pos})
	return func(r *Row) record.Value {
		ms, ok := timeValue(ts(r))
		if !ok {
			return missing
		}
		return record.TimeValue(p.Floor(ms))
	}, nil
}

// dateRoundFn builds datefloor (ceil false) and dateceil.
func dateRoundFn(ceil bool) builder {
	return func(c *Compiler, call *CallExpr) (Eval, error) {
		a, err := c.Value(call.Args[0])
		if err != nil {
			return nil, err
		}
		d, ok := call.Args[1].(*DurationLit)
		if !ok {
			return nil, c.errorf(call.Args[1], "%s needs a time period such as 5m", call.Orig)
		}
		p := PeriodOf(d)
		return func(r *Row) record.Value {
			ms, ok := timeValue(a(r))
			if !ok {
				return missing
			}
			if ceil {
				return record.TimeValue(p.Ceil(ms))
			}
			return record.TimeValue(p.Floor(ms))
		}, nil
	}
}

// location reads a time-zone argument: UTC, an IANA name or an offset such
// as +05:30.
func location(name string) (*time.Location, bool) {
	if name == "" || strings.EqualFold(name, "UTC") || name == "Z" {
		return time.UTC, true
	}
	if (name[0] == '+' || name[0] == '-') && len(name) >= 3 {
		s := strings.ReplaceAll(name[1:], ":", "")
		if len(s) == 2 {
			s += "00"
		}
		if len(s) == 4 {
			h, err1 := strconv.Atoi(s[:2])
			m, err2 := strconv.Atoi(s[2:])
			if err1 == nil && err2 == nil && h < 24 && m < 60 {
				off := h*3600 + m*60
				if name[0] == '-' {
					off = -off
				}
				return time.FixedZone(name, off), true
			}
		}
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// buildParseDate builds parseDate(s, javaFormat [, tz]): Unix milliseconds.
func buildParseDate(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	var fixed string
	if lit, ok := call.Args[1].(*StringLit); ok {
		fixed = javaLayout(lit.Value)
	}
	return func(r *Row) record.Value {
		s, ok := strValue(args[0](r))
		if !ok {
			return missing
		}
		layout := fixed
		if layout == "" {
			f, ok := strValue(args[1](r))
			if !ok {
				return missing
			}
			layout = javaLayout(f)
		}
		loc := time.UTC
		if len(args) > 2 {
			tz, ok := strValue(args[2](r))
			if !ok {
				return missing
			}
			if loc, ok = location(tz); !ok {
				return missing
			}
		}
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return missing
		}
		return record.IntValue(t.UnixMilli())
	}, nil
}

// javaLayout turns a Java date pattern (yyyy-MM-dd HH:mm:ss.SSS) into a Go
// layout. Quoted text is literal.
func javaLayout(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		ch := p[i]
		if ch == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				b.WriteString(p[i+1:])
				break
			}
			if j == 0 {
				b.WriteByte('\'')
			} else {
				b.WriteString(p[i+1 : i+1+j])
			}
			i += j + 2
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == ch {
			n++
		}
		i += n
		switch ch {
		case 'y', 'u':
			if n == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case 'M':
			switch {
			case n >= 4:
				b.WriteString("January")
			case n == 3:
				b.WriteString("Jan")
			case n == 2:
				b.WriteString("01")
			default:
				b.WriteString("1")
			}
		case 'd':
			if n >= 2 {
				b.WriteString("02")
			} else {
				b.WriteString("2")
			}
		case 'H', 'k':
			b.WriteString("15")
		case 'h', 'K':
			if n >= 2 {
				b.WriteString("03")
			} else {
				b.WriteString("3")
			}
		case 'm':
			if n >= 2 {
				b.WriteString("04")
			} else {
				b.WriteString("4")
			}
		case 's':
			if n >= 2 {
				b.WriteString("05")
			} else {
				b.WriteString("5")
			}
		case 'S':
			b.WriteString(strings.Repeat("0", n))
		case 'a':
			b.WriteString("PM")
		case 'E':
			if n >= 4 {
				b.WriteString("Monday")
			} else {
				b.WriteString("Mon")
			}
		case 'Z':
			b.WriteString("-0700")
		case 'X':
			switch n {
			case 1:
				b.WriteString("Z07")
			case 2:
				b.WriteString("Z0700")
			default:
				b.WriteString("Z07:00")
			}
		case 'x':
			b.WriteString("-07:00")
		case 'z':
			b.WriteString("MST")
		default:
			b.WriteString(strings.Repeat(string(ch), n))
		}
	}
	return b.String()
}

// buildFormatDate builds formatDate(ts, strftimeFormat [, tz]) and its
// synonym strftime.
func buildFormatDate(c *Compiler, call *CallExpr) (Eval, error) {
	args, err := c.args(call)
	if err != nil {
		return nil, err
	}
	return func(r *Row) record.Value {
		ms, ok := timeValue(args[0](r))
		if !ok {
			return missing
		}
		f, ok := strValue(args[1](r))
		if !ok {
			return missing
		}
		loc := time.UTC
		if len(args) > 2 {
			tz, ok := strValue(args[2](r))
			if !ok {
				return missing
			}
			if loc, ok = location(tz); !ok {
				return missing
			}
		}
		return record.StringValue(strftime(time.UnixMilli(ms).In(loc), f))
	}, nil
}

// strftime formats t by a strftime pattern: %Y %y %m %d %e %H %I %M %S %L
// (milliseconds) %f (microseconds) %j %a %A %b %B %p %Z %z %s (Unix
// seconds) %F %T %D %R %n %t %%; anything else is copied.
func strftime(t time.Time, f string) string {
	var b []byte
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b = append(b, f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b = t.AppendFormat(b, "2006")
		case 'y':
			b = t.AppendFormat(b, "06")
		case 'm':
			b = t.AppendFormat(b, "01")
		case 'd':
			b = t.AppendFormat(b, "02")
		case 'e':
			b = t.AppendFormat(b, "_2")
		case 'H':
			b = t.AppendFormat(b, "15")
		case 'I':
			b = t.AppendFormat(b, "03")
		case 'M':
			b = t.AppendFormat(b, "04")
		case 'S':
			b = t.AppendFormat(b, "05")
		case 'L':
			b = append(b, t.Format(".000")[1:]...)
		case 'f':
			b = append(b, t.Format(".000000")[1:]...)
		case 'j':
			b = t.AppendFormat(b, "002")
		case 'a':
			b = t.AppendFormat(b, "Mon")
		case 'A':
			b = t.AppendFormat(b, "Monday")
		case 'b', 'h':
			b = t.AppendFormat(b, "Jan")
		case 'B':
			b = t.AppendFormat(b, "January")
		case 'p':
			b = t.AppendFormat(b, "PM")
		case 'Z':
			b = t.AppendFormat(b, "MST")
		case 'z':
			b = t.AppendFormat(b, "-0700")
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
		case 'F':
			b = t.AppendFormat(b, "2006-01-02")
		case 'T':
			b = t.AppendFormat(b, "15:04:05")
		case 'D':
			b = t.AppendFormat(b, "01/02/06")
		case 'R':
			b = t.AppendFormat(b, "15:04")
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case '%':
			b = append(b, '%')
		default:
			b = append(b, '%', f[i])
		}
	}
	return string(b)
}
