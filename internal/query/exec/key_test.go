package exec

import (
	"bytes"
	"math"
	"net/netip"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

var keyValues = []record.Value{
	{},
	record.IntValue(0), record.IntValue(-1), record.IntValue(math.MaxInt64), record.IntValue(math.MinInt64),
	record.FloatValue(1.5), record.FloatValue(-2.25), record.FloatValue(1e300), record.FloatValue(-1e300),
	record.TimeValue(1_793_491_200_000), record.TimeValue(-5),
	record.AddrValue(netip.MustParseAddr("10.10.2.68")), record.AddrValue(netip.MustParseAddr("255.255.255.255")),
	record.AddrValue(netip.MustParseAddr("2001:db8::1")), record.AddrValue(netip.MustParseAddr("::ffff:1.2.3.4")),
	record.StringValue(""), record.StringValue("a"), record.StringValue("a\x00b"), record.StringValue("\x00"),
	record.StringValue("\x00\x00\xff"), record.StringValue("ü\xff"),
	{Kind: query.JSONValue, Str: `{"a":1}`},
}

// TestKeyRoundTrip checks that group values come back from their keys as
// they print, alone and in every pair.
func TestKeyRoundTrip(t *testing.T) {
	check := func(vals ...record.Value) {
		var key []byte
		for _, v := range vals {
			key = appendKey(key, v)
		}
		got := make([]record.Value, len(vals))
		if !decodeKey(string(key), got) {
			t.Fatalf("%v: key %q does not decode", vals, key)
		}
		for i := range vals {
			if got[i].Kind != vals[i].Kind || query.FormatValue(got[i]) != query.FormatValue(vals[i]) {
				t.Errorf("%v: value %d comes back %v", vals, i, got[i])
			}
		}
	}
	for _, a := range keyValues {
		check(a)
		for _, b := range keyValues {
			check(a, b)
		}
	}
	// Whole numbers of every kind are one class: an Int comes back.
	for _, v := range []record.Value{record.BoolValue(true), record.FloatValue(3)} {
		got := make([]record.Value, 1)
		if !decodeKey(string(appendKey(nil, v)), got) || got[0].Kind != record.Int || query.FormatValue(got[0]) != query.FormatValue(v) {
			t.Errorf("%v comes back %v", v, got[0])
		}
	}
	// Truncated keys are refused, never a panic.
	key := appendKey(appendKey(nil, keyValues[11]), record.StringValue("x\x00y"))
	for n := range len(key) {
		decodeKey(string(key[:n]), make([]record.Value, 2))
	}
}

// TestKeyOrder checks that keys sort as their values do by default:
// addresses numerically, IPv4 first.
func TestKeyOrder(t *testing.T) {
	addrs := []string{"1.2.3.4", "9.0.0.1", "10.0.0.1", "200.1.1.1", "::1", "2001:db8::1"}
	var keys [][]byte
	for _, a := range addrs {
		keys = append(keys, appendKey(nil, record.AddrValue(netip.MustParseAddr(a))))
	}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Errorf("address keys out of order: %q", keys)
	}
}
