package main

import "testing"

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"224MiB", 224 << 20, true}, {"1GiB", 1 << 30, true}, {"500MB", 500e6, true}, {"1048576", 1 << 20, true},
		{" 2 gib ", 2 << 30, true}, {"64k", 64 << 10, true}, {"0", 0, true}, {"off", 0, true}, {"OFF", 0, true},
		{"", 0, false}, {"-1MiB", 0, false}, {"1.5GiB", 0, false}, {"MiB", 0, false}, {"9999999999GiB", 0, false}, {"12 parsecs", 0, false},
	} {
		got, err := parseByteSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
