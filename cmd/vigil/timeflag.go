package main

import (
	"fmt"
	"strings"
	"time"
)

// parseTimeFlag reads a --since/--until value: an RFC 3339 time
// (2026-11-01T10:00:00Z), a date (2026-11-01, midnight UTC), a date and time without
// zone (2026-11-01 10:00, UTC), Unix seconds or milliseconds, or a duration back from
// now (90m, 2h, 7d).
func parseTimeFlag(name, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && fmt.Sprint(n) == d && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		if n > 1e11 { // milliseconds
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, usagef("invalid --%s %q: expected a time (2026-11-01T10:00:00Z, 2026-11-01), Unix seconds, or a duration back from now (2h, 7d)", name, s)
}
