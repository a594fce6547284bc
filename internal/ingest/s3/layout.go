package s3

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil/internal/ingest"
)

// mode is how a prefix is listed, decided from its path alone.
type mode int

const (
	// modeFlat lists everything below the prefix in one paginated listing.
	modeFlat mode = iota
	// modeOutside is above any AWSLogs/ folder (the bucket root, or a user prefix
	// such as cloudtrail/): list one level to find AWSLogs/ among the children.
	modeOutside
	// modeLayout is inside AWSLogs/ above the dates (account, service, region):
	// descend into every child.
	modeLayout
	// modeDate is a year, month or day folder: descend only into the children the
	// window may contain.
	modeDate
)

const (
	// maxOutsideDepth is how many levels above AWSLogs/ are searched for it: the
	// location itself and its children, enough for a bucket root holding
	// prefix/AWSLogs/. Deeper unknown folders are listed flat, so a large bucket of
	// other things costs no more than a flat listing plus one level.
	maxOutsideDepth = 2
	// minDatePos is the first position below AWSLogs/ where a year can be:
	// account, service and region (or vpc-id) come first.
	minDatePos = 3
	// maxLayoutDepth is how deep below AWSLogs/ a folder with no date yet is still
	// walked: [o-org/]account/service/region/ plus one extra level (WAF puts the web
	// ACL's name there).
	maxLayoutDepth = 5
)

// dirOf returns the folder part of a key prefix: "a/b/c" → "a/b/", "a/b/" → "a/b/".
func dirOf(prefix string) string {
	return prefix[:strings.LastIndex(prefix, "/")+1]
}

// classify returns how the folder dir (empty or ending in "/") is listed; depth is how
// many levels below the location it is, which bounds the search for AWSLogs/.
func classify(dir string, depth int) mode {
	rest, ok := belowAWSLogs(dir)
	if !ok {
		if depth < maxOutsideDepth {
			return modeOutside
		}
		return modeFlat
	}
	start, n := dateRun(rest)
	switch {
	case n == 0 && len(rest) <= maxLayoutDepth:
		return modeLayout
	case n == 0, start+n < len(rest):
		return modeFlat // not AWS's layout, or below its dates
	case n >= 4:
		return modeFlat // an hour: nothing finer to prune by
	default:
		return modeDate
	}
}

// belowAWSLogs returns the segments of dir after its last AWSLogs segment.
func belowAWSLogs(dir string) ([]string, bool) {
	segs := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] == "AWSLogs" {
			return segs[i+1:], true
		}
	}
	return nil, false
}

// dateRun finds the date folders among the segments below AWSLogs/: the first year
// (YYYY or year=YYYY) at or after minDatePos, and how many of year, month, day and
// hour follow one another from there (0 when there is no year).
func dateRun(rest []string) (start, n int) {
	for s := minDatePos; s < len(rest); s++ {
		if !isDatePart(rest[s], 4, "year=") {
			continue
		}
		n = 1
		for _, hive := range []string{"month=", "day=", "hour="} {
			if s+n >= len(rest) || !isDatePart(rest[s+n], 2, hive) {
				break
			}
			n++
		}
		return s, n
	}
	return 0, 0
}

// isDatePart reports whether seg is a number of the given digits, bare or after the
// Hive key.
func isDatePart(seg string, digits int, hiveKey string) bool {
	seg = strings.TrimPrefix(seg, hiveKey)
	if len(seg) != digits {
		return false
	}
	for _, c := range []byte(seg) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// mayContainDir reports whether the folder dir (ending in "/") can hold records
// inside w. Days and hours are judged by w.MayContain itself; a year or a month,
// which it cannot date, may contain the window when one of its days may, so pruning
// agrees exactly with the checks the Reader and the local lister make.
func mayContainDir(w ingest.Window, dir string) bool {
	if !w.MayContain(dir) {
		return false
	}
	rest, ok := belowAWSLogs(dir)
	if !ok {
		return true
	}
	start, n := dateRun(rest)
	if n == 0 || n >= 3 || start+n != len(rest) {
		return true
	}
	hive := strings.HasPrefix(rest[start], "year=")
	months := []string{""} // a month folder: its days follow directly
	if n == 1 {
		months = months[:0]
		for m := 1; m <= 12; m++ {
			months = append(months, datePart(m, "month=", hive))
		}
	}
	for _, m := range months {
		for d := 1; d <= 31; d++ {
			if w.MayContain(dir + m + datePart(d, "day=", hive)) {
				return true
			}
		}
	}
	return false
}

// datePart returns the folder for a two-digit date part, "07/" or "day=07/".
func datePart(v int, hiveKey string, hive bool) string {
	if hive {
		return fmt.Sprintf("%s%02d/", hiveKey, v)
	}
	return fmt.Sprintf("%02d/", v)
}
