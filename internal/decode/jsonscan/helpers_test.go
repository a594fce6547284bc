package jsonscan

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for in, want := range map[string]int64{
		"2021-02-04T17:51:55Z":           ms("2021-02-04T17:51:55Z"),
		"2017-03-16T19:20:25.177Z":       ms("2017-03-16T19:20:25.177Z"),
		"2017-03-16T19:20:25.1Z":         ms("2017-03-16T19:20:25.100Z"),
		"2017-03-16T19:20:25.123456789Z": ms("2017-03-16T19:20:25.123Z"),
		"2020-09-14T00:44:23.000Z":       ms("2020-09-14T00:44:23Z"),
		"2023-01-05 13:51:00.000":        ms("2023-01-05T13:51:00Z"),
		"2023-01-05 13:51:00":            ms("2023-01-05T13:51:00Z"),
		"2021-02-04T19:51:55+02:00":      ms("2021-02-04T17:51:55Z"),
		"2024-02-29T00:00:00Z":           ms("2024-02-29T00:00:00Z"),
		"1969-12-31T23:59:59Z":           -1000,
	} {
		got, ok := ParseTime(in)
		if !ok || got != want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2021-02-30T00:00:00Z", "2021-13-01T00:00:00Z", "2021-02-04T17:51:55",
		"2021-02-04T25:00:00Z", "2021-02-04T17:51:55.Z", "2021-02-04T17:51:55Zjunk", "１２３４-02-04T17:51:55Z", "1612461115"} {
		if got, ok := ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) = %d, want failure", bad, got)
		}
	}
}

func TestAbsent(t *testing.T) {
	var v struct{ A, B, C string }
	v.A, v.B, v.C = Absent, Absent, Absent
	if err := json.Unmarshal([]byte("{\"A\":\"x\",\"B\":null,\"C\":\"\\u0000absent\"}"), &v); err != nil {
		t.Fatal(err)
	}
	if IsAbsent(v.A) || !IsAbsent(v.B) || IsAbsent(v.C) || v.C != Absent {
		t.Errorf("A=%q B=%q C=%q: presence wrong", v.A, v.B, v.C)
	}
	if IsAbsent("") {
		t.Error(`"" is absent`)
	}
}

func TestTooDeep(t *testing.T) {
	if TooDeep([]byte(`{"a":[[1]],"s":"[[[[[[["}`), 3) {
		t.Error("brackets in strings counted")
	}
	if !TooDeep([]byte(`[[[[1]]]]`), 3) {
		t.Error("depth 4 not caught")
	}
}
