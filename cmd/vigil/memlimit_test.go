package main

import (
	"math"
	"runtime/debug"
	"testing"
)

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

// TestApplyMemoryLimit: the flag sets the runtime's limit; without the flag,
// a GOMEMLIMIT in the environment is left in force; off lifts the limit.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	limit := func() int64 { return debug.SetMemoryLimit(-1) }

	if err := applyMemoryLimit("300MiB", true); err != nil || limit() != 300<<20 {
		t.Fatalf("--memory-limit 300MiB: limit %d, err %v", limit(), err)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if err := applyMemoryLimit("224MiB", false); err != nil || limit() != 300<<20 {
		t.Fatalf("default with GOMEMLIMIT set: limit %d (want it left alone), err %v", limit(), err)
	}
	if err := applyMemoryLimit("128MiB", true); err != nil || limit() != 128<<20 {
		t.Fatalf("--memory-limit 128MiB with GOMEMLIMIT set: limit %d, err %v", limit(), err)
	}
	if err := applyMemoryLimit("off", true); err != nil || limit() != math.MaxInt64 {
		t.Fatalf("--memory-limit off: limit %d, err %v", limit(), err)
	}
	if err := applyMemoryLimit("lots", true); err == nil {
		t.Fatal("--memory-limit lots: no error")
	}
}
