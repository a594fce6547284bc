package ingest

import (
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Window is a time range of event times; a zero bound is open.
type Window struct {
	Since, Until time.Time
}

// keySlack widens the window when judging keys: a file is delivered after the
// records in it (flow logs aggregate up to 10 minutes and files close every 5), so a
// record can sit in a file stamped somewhat later than its own time.
const keySlack = time.Hour

var (
	// AWSLogs/…/YYYY/MM/DD/ and optionally /HH/
	slashDate = regexp.MustCompile(`/(\d{4})/(\d{2})/(\d{2})/(?:(\d{2})/)?`)
	// Hive-compatible partitions: year=YYYY/month=MM/day=DD[/hour=HH]
	hiveDate = regexp.MustCompile(`year=(\d{4})/month=(\d{2})/day=(\d{2})/(?:hour=(\d{2})/)?`)
	// file-name stamp: _YYYYMMDDTHHmmZ_
	nameStamp = regexp.MustCompile(`_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z[_.]`)
)

// MayContain reports whether an object at key (or a folder, with a trailing slash)
// can hold records inside the window, judging by the dates AWS puts in its key
// layouts. Keys without a recognisable date may always contain anything.
func (w Window) MayContain(key string) bool {
	if w.Since.IsZero() && w.Until.IsZero() {
		return true
	}
	from, to, ok := keySpan(key)
	if !ok {
		return true
	}
	if !w.Until.IsZero() && from.After(w.Until.Add(keySlack)) {
		return false
	}
	if !w.Since.IsZero() && to.Before(w.Since.Add(-keySlack)) {
		return false
	}
	return true
}

// keySpan returns the time span a key's date covers: five minutes for a file-name
// stamp, an hour for an hourly partition, a day for a daily one.
func keySpan(key string) (from, to time.Time, ok bool) {
	if m := nameStamp.FindStringSubmatch(key); m != nil {
		t, ok := date(m[1], m[2], m[3], m[4], m[5])
		return t, t.Add(5 * time.Minute), ok
	}
	for _, re := range []*regexp.Regexp{hiveDate, slashDate} {
		// The last match is the most specific: a user prefix could hold dates too.
		all := re.FindAllStringSubmatch(key, -1)
		if all == nil {
			continue
		}
		m := all[len(all)-1]
		if m[4] != "" {
			t, ok := date(m[1], m[2], m[3], m[4], "00")
			return t, t.Add(time.Hour), ok
		}
		t, ok := date(m[1], m[2], m[3], "00", "00")
		return t, t.Add(24 * time.Hour), ok
	}
	return time.Time{}, time.Time{}, false
}

func date(y, mo, d, h, mi string) (time.Time, bool) {
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	if n(mo) < 1 || n(mo) > 12 || n(d) < 1 || n(d) > 31 || n(h) > 23 || n(mi) > 59 {
		return time.Time{}, false
	}
	return time.Date(n(y), time.Month(n(mo)), n(d), n(h), n(mi), 0, 0, time.UTC), true
}

// sortByKeyTime orders objects by the start of the time their keys cover
// (Config.TimeOrder): those without one first, ties in their order.
func sortByKeyTime(objects []Object) {
	type keyed struct {
		from  time.Time
		timed bool
		o     Object
	}
	ks := make([]keyed, len(objects))
	for i, o := range objects {
		from, _, ok := keySpan(o.Name)
		ks[i] = keyed{from, ok, o}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		switch {
		case a.timed != b.timed:
			if a.timed {
				return 1
			}
			return -1
		case !a.timed:
			return 0
		}
		return a.from.Compare(b.from)
	})
	for i := range ks {
		objects[i] = ks[i].o
	}
}
