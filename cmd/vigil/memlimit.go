package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultScanMemoryLimit is the soft memory limit of vigil scan. Its state
// is bounded (keys per detection, chunks held for ordering), but the
// garbage collector, left to itself, lets the heap grow to twice what is
// live before it collects: 274 MB at --workers 8 over the bench corpus for
// 141 MB live. Near the limit it collects sooner instead, which cost no
// measurable time there (docs/benchmarks.md).
const defaultScanMemoryLimit = 224 << 20

// applyMemoryLimit sets the Go runtime's soft memory limit from a --memory-limit
// value (set says whether the user gave it): a size, or 0 or "off" for none.
// The default gives way to a GOMEMLIMIT in the environment.
func applyMemoryLimit(value string, set bool) error {
	if !set && os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	n, err := parseByteSize(value)
	if err != nil {
		return usagef("--memory-limit: %v", err)
	}
	if n == 0 {
		n = math.MaxInt64 // the runtime's "no limit"
	}
	debug.SetMemoryLimit(n)
	return nil
}

// byteUnits are the suffixes parseByteSize takes, longest first.
var byteUnits = []struct {
	suffix string
	scale  int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1},
}

// parseByteSize reads a size such as 224MiB, 1GiB, 500MB or 1048576; "off"
// is 0.
func parseByteSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" {
		return 0, nil
	}
	scale := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, scale = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.scale
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size: want a whole number of bytes with an optional unit (KiB, MiB, GiB, KB, MB, GB), or off", s)
	}
	if n > math.MaxInt64/scale {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * scale, nil
}
