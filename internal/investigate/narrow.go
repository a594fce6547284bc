package investigate

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/ingest"
)

// Reading less. An investigation's window is narrow (the reported activity plus a
// margin), so most of a bucket's files hold nothing it needs. ingest already skips
// files whose key dates fall outside the window, keeping an hour of slack for
// late deliveries; for local files named the way AWS names them
// (…_YYYYMMDDTHHmmZ_….log.gz: five-minute files) NarrowLocations applies a
// tighter rule, and inWindow lets whole batches outside the window bypass the
// detections and queries.

// nameStamp is the five-minute stamp AWS puts in flow-log, resolver-log and
// CloudTrail file names.
var nameStamp = regexp.MustCompile(`_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z[_.]`)

// Slack around the window for a file's name stamp: the stamp is the start of the
// five minutes the file covers (or, for slow deliveries, later than its
// records), so a file stamped up to stampBefore before the window's start, or
// stampAfter after its end, may hold records inside it.
const (
	stampBefore = 20 * time.Minute
	stampAfter  = 30 * time.Minute
)

// stampOf returns the time in a file name's stamp.
func stampOf(name string) (time.Time, bool) {
	m := nameStamp.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	t := time.Date(n(m[1]), time.Month(n(m[2])), n(m[3]), n(m[4]), n(m[5]), 0, 0, time.UTC)
	if t.Month() != time.Month(n(m[2])) || t.Day() != n(m[3]) {
		return time.Time{}, false
	}
	return t, true
}

// NarrowLocations lists the local locations (files, folders, globs) and returns
// the files that may hold records in w: those ingest's key pruning keeps, less
// those whose five-minute name stamp lies further from w than the slack above.
// s3:// locations and standard input are returned unchanged (listing S3 keys one
// by one would cost a request each; ingest prunes them by their key dates).
func NarrowLocations(ctx context.Context, locations []string, w ingest.Window) ([]string, error) {
	var out []string
	for _, loc := range locations {
		if loc == "-" || strings.HasPrefix(loc, "s3://") {
			out = append(out, loc)
			continue
		}
		err := ingest.List(ctx, loc, w, nil, func(o ingest.Object) error {
			if !w.MayContain(o.Name) {
				return nil
			}
			if t, ok := stampOf(o.Name); ok {
				if (!w.Since.IsZero() && t.Before(w.Since.Add(-stampBefore))) || (!w.Until.IsZero() && t.After(w.Until.Add(stampAfter))) {
					return nil
				}
			}
			out = append(out, o.Name)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batchOutside reports whether every record of b lies outside [from, until]
// (Unix milliseconds): the detections and queries need not see it.
func batchOutside(b *decode.Batch, from, until int64) bool {
	n := b.Len()
	for i := 0; i < n; i++ {
		if t := b.At(i).Timestamp(); t >= from && t <= until {
			return false
		}
	}
	return n > 0
}
