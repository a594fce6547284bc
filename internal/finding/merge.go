package finding

import (
	"encoding/json"
	"fmt"
	"math"
)

// Keys vigil writes under service.additionalInfo. They are few and small; the
// records behind a finding go in Finding.Evidence instead.
const (
	KeyVigilRule      = "vigilRule"      // ID of the rule or detector that fired (latest)
	KeyVigilEvents    = "vigilEvents"    // log records that matched (summed)
	KeyVigilDistinct  = "vigilDistinct"  // distinct values counted by the rule, e.g. ports (maximum)
	KeyVigilThreshold = "vigilThreshold" // the threshold that was crossed (latest)
	KeyVigilWindow    = "vigilWindow"    // the rule's window, e.g. "1m" (latest)
)

// MergeOp is how Merge combines the two values of an additionalInfo key.
type MergeOp uint8

// The merge operations.
const (
	// MergeLatest keeps the value of the more recent activity, as GuardDuty
	// overwrites details with the latest occurrence (ports, threatListName, …).
	MergeLatest MergeOp = iota
	// MergeSum adds the two numbers (traffic counters, vigilEvents).
	MergeSum
	// MergeMax keeps the larger number (vigilDistinct).
	MergeMax
	// MergeAverage re-derives an average packet size from the merged byte and
	// packet counters (AverageOf), falling back to MergeLatest when they are
	// missing. It applies whenever the merged map has the average.
	MergeAverage
)

// AdditionalInfoMergeOp returns how Merge combines additionalInfo[key]:
//
//	inBytes outBytes totalBytesIn totalBytesOut packetsIn packetsOut vigilEvents  MergeSum
//	vigilDistinct                                                                  MergeMax
//	averagePacketSizeIn averagePacketSizeOut                                      MergeAverage
//	every other key (localPort, remotePort, scannedPort, threatListName, …)         MergeLatest
//
// A sum or maximum whose values are not both numbers falls back to MergeLatest.
func AdditionalInfoMergeOp(key string) MergeOp {
	switch key {
	case "inBytes", "outBytes", "totalBytesIn", "totalBytesOut", "packetsIn", "packetsOut", KeyVigilEvents:
		return MergeSum
	case KeyVigilDistinct:
		return MergeMax
	case "averagePacketSizeIn", "averagePacketSizeOut":
		return MergeAverage
	}
	return MergeLatest
}

// AverageOf names the byte and packet counters an average is derived from: the
// average is bytes / packets, rounded down, when both are numbers and packets > 0.
// inBytes is preferred to totalBytesIn (and likewise out) when both are present.
var AverageOf = map[string][3]string{
	"averagePacketSizeIn":  {"inBytes", "totalBytesIn", "packetsIn"},
	"averagePacketSizeOut": {"outBytes", "totalBytesOut", "packetsOut"},
}

// MaxPortProbeDetails bounds the probe details a PortProbe finding accumulates.
const MaxPortProbeDetails = 10

// Merge folds src, a new occurrence, into dst, the finding it repeats (same ID),
// at time now (the merging clock: event time when replaying):
//
//   - service.count: dst + src.Occurrences() (a src count below 1 counts as
//     1; a src that Continues an occurrence adds nothing);
//   - eventFirstSeen and createdAt: the earlier; eventLastSeen: the later;
//   - updatedAt: now, or dst's if that is later (updatedAt never goes back);
//   - severity: the higher;
//   - details — action, resource details present in src, title, description,
//     service.evidence, featureName — are src's if src's activity is at least as
//     recent as dst's (src.eventLastSeen >= dst.eventLastSeen), as GuardDuty
//     overwrites them with the latest occurrence; otherwise dst's are kept. A
//     PortProbe's details are the union instead (latest first, unique by remote
//     address and local port, at most MaxPortProbeDetails), so every prober stays
//     visible to a blocker;
//   - additionalInfo: per key as AdditionalInfoMergeOp says;
//   - vigilEvidence: both samples, bounded as AddEvidence does;
//   - archived and userFeedback: dst's (they are the user's; suppression and
//     unarchiving are the store's job).
//
// dst may share pointers with src afterwards, so src must not be changed after.
// Merge is deterministic: the same findings merged in the same order give
// byte-identical JSON.
func Merge(dst, src *Finding, now Time) error {
	if dst.ID == "" || dst.ID != src.ID {
		return fmt.Errorf("merge finding %q into %q: not the same finding", src.ID, dst.ID)
	}
	latest := src.Service.EventLastSeen >= dst.Service.EventLastSeen

	ds, ss := &dst.Service, &src.Service
	ds.Count += src.Occurrences()
	ds.EventFirstSeen = minTime(ds.EventFirstSeen, ss.EventFirstSeen)
	ds.EventLastSeen = max(ds.EventLastSeen, ss.EventLastSeen)
	dst.CreatedAt = minTime(dst.CreatedAt, src.CreatedAt)
	dst.UpdatedAt = max(dst.UpdatedAt, now)
	dst.Severity = max(dst.Severity, src.Severity)

	ds.AdditionalInfo = mergeInfo(ds.AdditionalInfo, ss.AdditionalInfo, latest)
	dst.Evidence = boundEvidence(append(dst.Evidence, src.Evidence...))

	probes := mergeProbes(ds.Action.PortProbeAction, ss.Action.PortProbeAction, latest)
	if latest {
		ds.Action = ss.Action
		if r := src.Resource.InstanceDetails; r != nil {
			dst.Resource.InstanceDetails = r
		}
		if r := src.Resource.AccessKeyDetails; r != nil {
			dst.Resource.AccessKeyDetails = r
		}
		if len(src.Resource.S3BucketDetails) > 0 {
			dst.Resource.S3BucketDetails = src.Resource.S3BucketDetails
		}
		if src.Title != "" {
			dst.Title = src.Title
		}
		if src.Description != "" {
			dst.Description = src.Description
		}
		if ss.Evidence != nil {
			ds.Evidence = ss.Evidence
		}
		if ss.FeatureName != "" {
			ds.FeatureName = ss.FeatureName
		}
	}
	if probes != nil {
		pp := *probes // a copy: src's action must not change
		ds.Action.PortProbeAction = &pp
	}
	return nil
}

func minTime(a, b Time) Time {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// mergeProbes returns the union of two PortProbe actions, or nil when one is
// missing.
func mergeProbes(dst, src *PortProbeAction, srcLatest bool) *PortProbeAction {
	if dst == nil || src == nil {
		return nil
	}
	first, second := src, dst
	if !srcLatest {
		first, second = dst, src
	}
	out := PortProbeAction{Blocked: first.Blocked}
	type probeKey struct {
		ip   string
		port int
	}
	seen := make(map[probeKey]bool)
	for _, d := range append(append([]PortProbeDetail(nil), first.PortProbeDetails...), second.PortProbeDetails...) {
		k := probeKey{ip: normIP(d.RemoteIPDetails.IP())}
		if d.LocalPortDetails != nil {
			k.port = d.LocalPortDetails.Port
		}
		if seen[k] || len(out.PortProbeDetails) == MaxPortProbeDetails {
			continue
		}
		seen[k] = true
		out.PortProbeDetails = append(out.PortProbeDetails, d)
	}
	return &out
}

// mergeInfo combines two additionalInfo maps into a new map (neither input is
// changed). The result depends only on the two maps, never on map iteration order.
func mergeInfo(dst, src AdditionalInfo, srcLatest bool) AdditionalInfo {
	if dst == nil && src == nil {
		return nil
	}
	out := make(AdditionalInfo, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, sv := range src {
		dv, both := dst[k]
		if !both {
			out[k] = sv
			continue
		}
		switch AdditionalInfoMergeOp(k) {
		case MergeSum:
			if a, b, ok := numbers(dv, sv); ok {
				out[k] = InfoNumber(a + b)
				continue
			}
		case MergeMax:
			if a, b, ok := numbers(dv, sv); ok {
				out[k] = InfoNumber(math.Max(a, b))
				continue
			}
		}
		if srcLatest {
			out[k] = sv
		}
	}
	// Averages present after the merge are re-derived from the merged counters
	// (sorted keys: the result must not depend on map order).
	for _, k := range [...]string{"averagePacketSizeIn", "averagePacketSizeOut"} {
		if _, ok := out[k]; !ok {
			continue
		}
		from := AverageOf[k]
		bytes, ok := InfoFloat(out[from[0]])
		if !ok {
			bytes, ok = InfoFloat(out[from[1]])
		}
		if packets, ok2 := InfoFloat(out[from[2]]); ok && ok2 && packets > 0 {
			out[k] = InfoNumber(math.Floor(bytes / packets))
		}
	}
	return out
}

func numbers(a, b any) (float64, float64, bool) {
	x, ok1 := InfoFloat(a)
	y, ok2 := InfoFloat(b)
	return x, y, ok1 && ok2
}

// InfoFloat returns the number an additionalInfo value holds, whatever Go
// type holds it (a detector's int64, a float64, a decoded json.Number), and
// whether it is a number.
func InfoFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// InfoNumber returns x as additionalInfo holds a number: an int64 when it is a
// whole number that float64 represents exactly, so that counters stay integers
// in Go as they are in the JSON, else the float64.
func InfoNumber(x float64) any {
	if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
		return int64(x)
	}
	return x
}
