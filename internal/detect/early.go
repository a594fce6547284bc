package detect

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Early findings (Config.RaiseAtThreshold, live mode only).
//
// An occurrence is raised when its burst is over, so that one attack is one
// finding whose numbers cover it whole; on a live stream that is a window of
// quiet after the attack, minutes after the record that crossed the
// threshold. With RaiseAtThreshold an occurrence is also raised the moment it
// opens — its threshold crossed, its first record for detections without
// one — with its numbers so far, and what its close raises is only the rest:
// the same finding IDs with Finding.Continues set, counters less what the
// early findings counted, evidence less what they showed. Merged (the store,
// finding.Merge), the two are the finding the close alone would have raised,
// counted once. A finding the close raises under an ID the opening did not
// (another resource, another port) is an occurrence of its own; an early
// finding whose close raises nothing (a flood whose host answered after all)
// stands as raised.

// earlyFinding is what an early finding reported, for its continuation.
type earlyFinding struct {
	id   string
	sums map[string]float64 // additionalInfo counters Merge adds up
	ev   []uint64           // evidence records shown (evidenceKey)
}

var evidenceSeed = maphash.MakeSeed()

func evidenceKey(r *finding.EvidenceRecord) uint64 {
	var h maphash.Hash
	h.SetSeed(evidenceSeed)
	var t [8]byte
	h.Write(binary.LittleEndian.AppendUint64(t[:0], uint64(r.Time)))
	h.WriteString(r.Source)
	h.WriteByte(0)
	h.WriteString(r.Raw)
	return h.Sum64()
}

// announce raises an occurrence's findings early, once, when the engine does
// that (live mode and RaiseAtThreshold): raise is the detection's close of o,
// without side effects on its state. Call it when o has taken the record that
// opened it.
func (env *shardEnv) announce(o *occurrence, raise func()) {
	if !env.early || o.announced {
		return
	}
	o.announced, o.announcing = true, true
	raise()
	o.announcing = false
}

// early notes a finding of o raised early, or turns a finding of o's close
// into the continuation of the early one with its ID.
func (env *shardEnv) noteEarly(o *occurrence, f *finding.Finding) {
	if o.announcing {
		ef := earlyFinding{id: f.ID}
		for k, v := range f.Service.AdditionalInfo {
			if finding.AdditionalInfoMergeOp(k) != finding.MergeSum {
				continue
			}
			if n, ok := finding.InfoFloat(v); ok {
				if ef.sums == nil {
					ef.sums = map[string]float64{}
				}
				ef.sums[k] = n
			}
		}
		for i := range f.Evidence {
			ef.ev = append(ef.ev, evidenceKey(&f.Evidence[i]))
		}
		o.early = append(o.early, ef)
		return
	}
	i := 0
	for i < len(o.early) && o.early[i].id != f.ID {
		i++
	}
	if i == len(o.early) {
		return
	}
	ef := o.early[i]
	o.early = append(o.early[:i], o.early[i+1:]...)
	f.Continues = true
	for k, a := range ef.sums {
		if n, ok := finding.InfoFloat(f.Service.AdditionalInfo[k]); ok {
			f.Service.AdditionalInfo[k] = finding.InfoNumber(n - a)
		}
	}
	kept := f.Evidence[:0]
	for _, ev := range f.Evidence {
		shown := false
		key := evidenceKey(&ev)
		for _, k := range ef.ev {
			if k == key {
				shown = true
				break
			}
		}
		if !shown {
			kept = append(kept, ev)
		}
	}
	clear(f.Evidence[len(kept):])
	f.Evidence = kept
}
