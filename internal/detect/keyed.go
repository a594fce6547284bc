package detect

import (
	"github.com/vigil-dev/vigil/internal/detect/window"
)

// keyed is the per-shard state of a Go detector: for each key, the detector's
// state S and an open occurrence, in a window.Table (capped, coldest evicted,
// idle keys expired). An occurrence is raised (close) when its key goes quiet for
// gap, is evicted or expired, or at flush.
type keyed[S any] struct {
	env     *shardEnv
	tbl     *window.Table[gkey, keyedEntry[S]]
	gap     int64
	close   func(e *keyedEntry[S])
	matched int64
}

type keyedEntry[S any] struct {
	occ *occurrence
	// first and last bound the key's current burst of activity: records less
	// than gap apart.
	first, last int64
	s           S
}

// open starts an occurrence at record r, dated from the start of the burst.
func (e *keyedEntry[S]) open(r *rec) *occurrence {
	e.occ = newOccurrence(r)
	e.occ.first = min(e.first, r.time)
	return e.occ
}

// newKeyed makes the table. ttl is how long an idle key is kept past the
// watermark; init prepares a new key's state (it gets a recycled one to reuse
// buffers, or a zero one).
func newKeyed[S any](env *shardEnv, ttl, gap int64, init func(*S), close func(e *keyedEntry[S])) *keyed[S] {
	k := &keyed[S]{env: env, gap: gap, close: close}
	tbl, err := window.NewTable(window.TableConfig[gkey, keyedEntry[S]]{
		MaxKeys: env.maxKeys,
		TTL:     ttl,
		Init: func(_ gkey, e *keyedEntry[S]) {
			e.occ, e.first, e.last = nil, 0, 0
			if init != nil {
				init(&e.s)
			} else {
				var zero S
				e.s = zero
			}
		},
		OnDrop: func(_ gkey, e *keyedEntry[S], _ window.DropReason) {
			if e.occ != nil {
				k.raise(e)
			}
		},
	})
	if err != nil {
		panic("BUG: detect: " + err.Error())
	}
	k.tbl = tbl
	return k
}

// get returns the key's entry, touched at t. If its occurrence has been quiet
// for the gap, it is raised first: the record starts new activity.
func (k *keyed[S]) get(key gkey, t int64) *keyedEntry[S] {
	k.matched++
	e, created := k.tbl.Get(key, t)
	if e.occ != nil && k.env.quiet(e.occ.last, t, k.gap) {
		k.raise(e)
	}
	if created || t > e.last+k.gap {
		e.first = t
	}
	e.first = min(e.first, t)
	e.last = max(e.last, t)
	return e
}

// announce raises e's open occurrence early with the detection's close
// (shardEnv.announce); the close must leave the key's state as it is.
func (k *keyed[S]) announce(e *keyedEntry[S]) {
	if e.occ != nil && k.env.early && !e.occ.announced {
		k.env.announce(e.occ, func() { k.close(e) })
	}
}

func (k *keyed[S]) raise(e *keyedEntry[S]) {
	// The occurrence covers the key's whole burst, also records that came in
	// before it opened but happened after (out of order).
	e.occ.first, e.occ.last = min(e.occ.first, e.first), max(e.occ.last, e.last)
	k.close(e)
	e.occ = nil
}

func (k *keyed[S]) advance(wm int64) { k.tbl.Expire(wm) }

func (k *keyed[S]) flush() {
	k.tbl.Range(func(_ gkey, e *keyedEntry[S], _ int64) bool {
		if e.occ != nil {
			k.raise(e)
		}
		return true
	})
}

func (k *keyed[S]) tableStats() (int, uint64, uint64) {
	st := k.tbl.Stats()
	return st.Keys, st.Evicted, st.Expired
}

func (k *keyed[S]) stats() int64 { return k.matched }
