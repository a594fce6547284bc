package query

import (
	"math"
	"net/netip"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil/internal/record"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func str(s string) record.Value { return record.StringValue(s) }
func num(n int64) record.Value  { return record.IntValue(n) }

func TestCompareValues(t *testing.T) {
	addr := record.AddrValue(mustAddr("10.0.0.1"))
	cases := []struct {
		a, b record.Value
		cmp  int
		ok   bool
	}{
		{num(80), str("80"), 0, true},                  // numbers against number-like text
		{num(80), str("443"), -1, true},                // numerically, not as text
		{str("80"), str("443"), 1, true},               // two strings: text
		{str("012"), num(12), 0, true},                 // unquoted IDs compare as numbers
		{str("012"), str("12"), -1, true},              // quoted: text
		{addr, str("10.0.0.1"), 0, true},               // addresses as text
		{addr, str("9"), -1, true},                     // "10…" < "9" by code point
		{record.Value{}, num(1), 0, false},             // missing: false whatever the operator
		{jsonValue("[1]"), str("[1]"), 0, false},       // maps and lists compare with nothing
		{record.TimeValue(1000), num(1000), 0, true},   // timestamps are milliseconds
		{record.BoolValue(true), num(1), 0, true},      // booleans are 1/0
		{record.FloatValue(1.5), str("1.50"), 0, true}, // float and text
	}
	for _, c := range cases {
		cmp, ok := compareValues(c.a, c.b)
		if ok != c.ok || (ok && cmp != c.cmp) {
			t.Errorf("compare(%v, %v) = %d, %v; want %d, %v", c.a, c.b, cmp, ok, c.cmp, c.ok)
		}
	}
}

// TestNaturalOrder checks AWS's test vector for sort (§3.5).
func TestNaturalOrder(t *testing.T) {
	want := []string{"!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj", "a12345hfh", "0", "1", "2", "3"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, func(a, b string) int { return NaturalCompare(str(a), str(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// Addresses sort as their text does, which for IPv4 is numerically.
	a, b := record.AddrValue(mustAddr("10.0.0.9")), record.AddrValue(mustAddr("10.0.0.10"))
	if NaturalCompare(a, b) >= 0 || NaturalCompare(str("10.0.0.9"), str("10.0.0.10")) >= 0 {
		t.Error("10.0.0.9 should sort before 10.0.0.10")
	}
	if SortCompare(record.Value{}, num(1), false) <= 0 || SortCompare(record.Value{}, num(1), true) <= 0 {
		t.Error("missing values sort last both ways")
	}
}

func TestArith(t *testing.T) {
	cases := []struct {
		op   BinaryOp
		a, b record.Value
		want string
	}{
		{OpAdd, num(1), num(2), "3"},
		{OpAdd, num(math.MaxInt64), num(1), "9223372036854776000"}, // overflow: a float
		{OpDiv, num(1), num(4), "0.25"},
		{OpDiv, num(1), num(0), ""},
		{OpMod, num(10), num(3), "1"},
		{OpMod, num(10), num(0), ""},
		{OpPow, num(2), num(10), "1024"},
		{OpSub, str("5"), num(2), "3"},
		{OpMul, str("x"), num(2), ""},
		{OpAdd, record.Value{}, num(2), ""},
		{OpAdd, record.BoolValue(true), record.BoolValue(true), "2"},
	}
	for _, c := range cases {
		if got := FormatValue(arith(c.op, c.a, c.b)); got != c.want {
			t.Errorf("%v %s %v = %q, want %q", c.a, c.op, c.b, got, c.want)
		}
	}
}

func TestTruthy(t *testing.T) {
	for v, want := range map[record.Value]bool{
		record.BoolValue(true): true, record.BoolValue(false): false, num(0): false, num(2): true,
		str("true"): true, str("1"): true, str("0"): false, str("yes"): false, {}: false,
	} {
		if truthy(v) != want {
			t.Errorf("truthy(%v) = %v", v, !want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       []string // nil: no match
	}{
		{"user=*, method:*", "x user=ann, method:GET", []string{"ann", "GET"}},
		{"[*] *", "25 May [ERROR] {a} rest", []string{"ERROR", "{a} rest"}},
		{"a*b*c", "a1b2b3c", []string{"1", "2b3"}},
		{"*:*", "k:v:w", []string{"k", "v:w"}},
		{"x=*", "no match here", nil},
		{"a*b", "a1a2b", []string{"1a2"}},
		{"**", "ab", []string{"", "ab"}},
	}
	for _, c := range cases {
		lits := splitStars(c.pattern)
		out := make([]record.Value, len(lits)-1)
		slots := make([]int, len(out))
		for i := range slots {
			slots[i] = i
		}
		ok := globMatch(c.s, lits, out, slots)
		if ok != (c.want != nil) {
			t.Errorf("%q on %q: match %v", c.pattern, c.s, ok)
			continue
		}
		for i, w := range c.want {
			if out[i].Str != w {
				t.Errorf("%q on %q: capture %d is %q, want %q", c.pattern, c.s, i, out[i].Str, w)
			}
		}
	}
}

func TestPeriods(t *testing.T) {
	ms := func(s string) int64 {
		v, ok := timeValue(str(s))
		if !ok {
			t.Fatalf("bad time %s", s)
		}
		return v
	}
	at := ms("2026-11-01 10:37:23.456")
	cases := []struct {
		p          Period
		floor, cei string
	}{
		{Period{5, UnitMinute}, "2026-11-01 10:35:00.000", "2026-11-01 10:40:00.000"},
		{Period{1, UnitHour}, "2026-11-01 10:00:00.000", "2026-11-01 11:00:00.000"},
		{Period{1, UnitDay}, "2026-11-01 00:00:00.000", "2026-11-02 00:00:00.000"},
		{Period{1, UnitWeek}, "2026-10-26 00:00:00.000", "2026-11-02 00:00:00.000"},
		{Period{1, UnitMonth}, "2026-11-01 00:00:00.000", "2026-12-01 00:00:00.000"},
		{Period{1, UnitQuarter}, "2026-10-01 00:00:00.000", "2027-01-01 00:00:00.000"},
		{Period{1, UnitYear}, "2026-01-01 00:00:00.000", "2027-01-01 00:00:00.000"},
		{Period{250, UnitMillisecond}, "2026-11-01 10:37:23.250", "2026-11-01 10:37:23.500"},
	}
	for _, c := range cases {
		if got := FormatValue(record.TimeValue(c.p.Floor(at))); got != c.floor {
			t.Errorf("floor %v: %s, want %s", c.p, got, c.floor)
		}
		if got := FormatValue(record.TimeValue(c.p.Ceil(at))); got != c.cei {
			t.Errorf("ceil %v: %s, want %s", c.p, got, c.cei)
		}
		if f := c.p.Floor(at); c.p.Ceil(f) != f {
			t.Errorf("ceil of a boundary moved: %v", c.p)
		}
	}
	// Before the epoch, floors still go down.
	if got := (Period{1, UnitHour}).Floor(-1); got != -3_600_000 {
		t.Errorf("floor(-1ms, 1h) = %d", got)
	}
	if p := PeriodOf(&DurationLit{Amount: 300, Unit: UnitSecond}); p != (Period{60, UnitSecond}) {
		t.Errorf("300s is %v, want 60s", p)
	}
}

func TestJSONWalk(t *testing.T) {
	v := parseJSONValue(` {"a":{"b":[1,{"c":"x\"y"}]},"a.b":2,"t":true,"n":null} `)
	cases := []struct {
		got  record.Value
		want string
	}{
		{jsonMember(jsonMember(v, "a"), "b"), `[1,{"c":"x\"y"}]`},
		{jsonIndex(jsonMember(jsonMember(v, "a"), "b"), 0), "1"},
		{jsonMember(jsonIndex(jsonMember(jsonMember(v, "a"), "b"), 1), "c"), `x"y`},
		{jsonMember(jsonMember(jsonMember(v, "a"), "b"), "1"), `{"c":"x\"y"}`},
		{jsonMember(v, "a.b"), "2"},
		{jsonMember(v, "t"), "true"},
		{jsonMember(v, "n"), ""},
		{jsonMember(v, "missing"), ""},
		{jsonMember(str(`{"a":1}`), "a"), ""}, // text holding JSON is not a map
		{parseJSONValue("[1,"), ""},
	}
	for i, c := range cases {
		if got := FormatValue(c.got); got != c.want {
			t.Errorf("%d: %q, want %q", i, got, c.want)
		}
	}
}
