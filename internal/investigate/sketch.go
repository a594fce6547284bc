package investigate

import (
	"encoding/binary"
	"net/netip"
	"sort"
)

// Bounded per-source state. Every structure here has a hard size limit and merges
// with its twin from another reading worker, so that memory depends on the
// number of sources and the configuration, never on the number of records.

// mix64 is the SplitMix64 finaliser: a fixed, well-mixing hash of a 64-bit value
// (fixed so that sampling, and so the output, is the same on every run).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	return mix64(binary.BigEndian.Uint64(b[:8]) ^ mix64(binary.BigEndian.Uint64(b[8:])+0x9e3779b97f4a7c15))
}

// keep reports whether hash h survives sampling level l: level 0 keeps every
// hash, level l one in 2^l (those whose top l bits are zero). Levels make
// sampled sets mergeable: two sets at different levels are compared at the
// higher one.
func keep(h uint64, l uint8) bool { return l == 0 || h>>(64-l) == 0 }

// distinctSet estimates how many distinct values (hashes) it has seen: exactly up
// to distinctCap values, then by adaptive sampling (the set keeps the hashes that
// survive its level and doubles the level when full), which is within a few per
// cent of the truth at this size and independent of the order values arrive in.
type distinctSet struct {
	level uint8
	slots []uint64 // open addressing; 0 is empty (hash 0 is stored as 1)
	n     int
}

const distinctCap = 128

func (d *distinctSet) add(h uint64) {
	if h == 0 {
		h = 1
	}
	if !keep(h, d.level) {
		return
	}
	if d.slots == nil {
		d.slots = make([]uint64, 8)
	}
	if !d.insert(h) {
		return
	}
	d.n++
	switch {
	case d.n > distinctCap:
		for d.n > distinctCap {
			d.level++
			d.rebuild()
		}
	case d.n*2 > len(d.slots):
		d.grow()
	}
}

// insert adds h if absent and reports whether it did.
func (d *distinctSet) insert(h uint64) bool {
	mask := uint64(len(d.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch d.slots[i] {
		case h:
			return false
		case 0:
			d.slots[i] = h
			return true
		}
	}
}

func (d *distinctSet) grow() {
	old := d.slots
	d.slots = make([]uint64, 2*len(old))
	for _, h := range old {
		if h != 0 {
			d.insert(h)
		}
	}
}

// rebuild drops the hashes the current level no longer keeps.
func (d *distinctSet) rebuild() {
	old := d.slots
	d.slots = make([]uint64, len(old))
	d.n = 0
	for _, h := range old {
		if h != 0 && keep(h, d.level) {
			d.insert(h)
			d.n++
		}
	}
}

// count returns the estimate.
func (d *distinctSet) count() int64 { return int64(d.n) << d.level }

// exact reports whether count is exact.
func (d *distinctSet) exact() bool { return d.level == 0 }

func (d *distinctSet) merge(o *distinctSet) {
	if o.level > d.level {
		d.level = o.level
		if d.slots != nil {
			d.rebuild()
		}
	}
	for _, h := range o.slots {
		if h != 0 {
			d.add(h)
		}
	}
}

// topItem is one key of a top-K counter: Count may overstate the key's true
// count by up to Err (what the key inherited when it took an evicted slot), so
// Count-Err is a guaranteed lower bound.
type topItem[K comparable] struct {
	Key   K
	Count int64
	Err   int64
}

// topK counts keys with the space-saving algorithm in at most topCap entries:
// the heavy hitters (the ports and hosts a source hit most) are counted exactly
// or very nearly, whatever the number of keys.
type topK[K comparable] struct {
	items []topItem[K]
}

const topCap = 24

func (t *topK[K]) add(k K, n int64) { t.addErr(k, n, 0) }

func (t *topK[K]) addErr(k K, n, err int64) {
	for i := range t.items {
		if t.items[i].Key == k {
			t.items[i].Count += n
			t.items[i].Err += err
			return
		}
	}
	if len(t.items) < topCap {
		t.items = append(t.items, topItem[K]{k, n, err})
		return
	}
	m := 0
	for i := range t.items {
		if t.items[i].Count < t.items[m].Count {
			m = i
		}
	}
	low := t.items[m].Count
	t.items[m] = topItem[K]{k, low + n, low + err}
}

func (t *topK[K]) merge(o *topK[K]) {
	for _, it := range o.items {
		t.addErr(it.Key, it.Count, it.Err)
	}
}

// top returns up to n items with a guaranteed count of at least one, by that
// guaranteed count (Count-Err), most first; less orders ties. Keys whose count
// may be all inherited are left out: they are noise of a busy source.
func (t *topK[K]) top(n int, less func(a, b K) bool) []topItem[K] {
	var out []topItem[K]
	for _, it := range t.items {
		if it.Count-it.Err > 0 {
			out = append(out, topItem[K]{Key: it.Key, Count: it.Count - it.Err})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return less(out[i].Key, out[j].Key)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// portSet is a set of ports as a bitmap.
type portSet [1024]uint64

func (s *portSet) add(p uint16)      { s[p>>6] |= 1 << (p & 63) }
func (s *portSet) has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }
