package window

import (
	"fmt"
	"hash/maphash"
	"net/netip"
)

// TableConfig configures a Table of states S keyed by K.
type TableConfig[K comparable, S any] struct {
	// MaxKeys caps the keys held. At the cap, a new key evicts the coldest one.
	MaxKeys int
	// TTL drops a key that has not been touched for TTL milliseconds of event time
	// when Expire runs; 0 keeps idle keys until they are evicted.
	TTL int64
	// Init, if set, prepares the state of a new key. It gets either a zero S or
	// the state of an evicted key (so that buffers are reused, not reallocated)
	// and must make it that of an empty key; primitives' Init methods do both.
	// Without Init a new key's state is the zero S.
	Init func(key K, s *S)
	// OnDrop, if set, is called with a key and its state just before the key is
	// evicted, expired or deleted: the last chance to report what the state holds
	// (a window about to close). It must not call the Table.
	OnDrop func(key K, s *S, why DropReason)
	// Hash, if set, hashes a key with the table's seed; the default is
	// maphash.Comparable. Set it for keys that hold pointers other than strings
	// (netip.Addr does): maphash.Comparable moves such keys to the heap, one
	// allocation per call. A key of integers, arrays and strings needs no Hash.
	// The seed is random per table, so that an attacker who chooses keys (spoofed
	// addresses) cannot make them collide; it changes where keys sit in the index,
	// never what the table does.
	Hash func(seed maphash.Seed, key K) uint64
}

// DropReason says why a key left a Table.
type DropReason uint8

// The drop reasons.
const (
	Evicted DropReason = iota + 1 // the table was full and the key was the coldest
	Expired                       // idle for TTL (Expire)
	Deleted                       // Delete
)

func (r DropReason) String() string {
	switch r {
	case Evicted:
		return "evicted"
	case Expired:
		return "expired"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// Stats are a Table's counters, for metrics: Keys now, and how many keys came and
// left, and why, since the table was made.
type Stats struct {
	Keys      int // keys held
	Protected int // keys held that were touched more than once (see Table)
	Inserted  uint64
	Evicted   uint64
	Expired   uint64
	Deleted   uint64
}

// maxTableKeys bounds MaxKeys: slots are int32 indices.
const maxTableKeys = 1 << 30

// protectedShare is the share of MaxKeys (in fifths) the protected segment may
// hold: 80 %, as in the segmented-LRU literature.
const protectedShare = 4

// Table holds one state per key (a detector's per-entity windows), with a hard
// cap on keys, idle expiry in event time, and eviction of the coldest keys.
//
// Coldness is a segmented LRU: a new key enters the probation segment, and a key
// touched again moves to the protected segment (at most 80 % of MaxKeys; its
// least recent key falls back to probation). At the cap the least recently touched
// probation key is evicted. So a flood of keys seen once each (spoofed sources)
// only ever evicts other keys seen once, and an entity with repeated activity
// keeps its state however wide the flood.
//
// Get, Peek, Delete and eviction are O(1): the keys live in fixed-size chunks of
// slots linked into the segment lists by index, with a hash index from key to
// slot. A state's address never changes while its key is held: the *S from Get
// stays valid until the key is evicted, expired or deleted. Slots of evicted keys
// are reused with their state's buffers (through Init); expired and deleted keys'
// states are zeroed so their memory can be freed after a burst (the slots
// themselves stay allocated, at the high-water mark of keys, for reuse).
//
// Which key is evicted depends only on the sequence of calls, never on hashing,
// so the same input evicts the same keys in every run.
//
// A Table is not safe for concurrent use: it has one owner goroutine, and OnDrop
// and Init run on it, inside the call that evicts, expires or creates.
type Table[K comparable, S any] struct {
	cfg          TableConfig[K, S]
	protectedMax int
	seed         maphash.Seed
	// idx is the key index: open addressing with linear probing over words
	// tag<<32 | slot+1 (0 = empty), where tag is the top half of the key's hash
	// and tag & (len-1) its home position. It is kept at most half full and
	// deletes shift the probe run back instead of leaving tombstones, so probes stay
	// short under endless churn and its size only depends on the number of keys
	// (8 to 32 bytes per key). Go's map, by contrast, grew fourfold and slowed
	// down under the same insert/evict churn.
	idx    []uint64
	n      int
	chunks [][]entry[K, S]
	used   int32 // slots handed out (high-water mark)
	free   int32 // head of the free-slot list, linked by next; -1 if empty
	seg    [3]segList
	stats  Stats
}

type entry[K comparable, S any] struct {
	state      S
	key        K
	last       int64 // latest event time the key was touched
	prev, next int32
	tag        uint32 // top half of the key's hash
	seg        uint8
}

type segList struct {
	head, tail int32 // most and least recently touched; -1 when empty
	n          int
}

// The segments; 0 marks a free slot.
const (
	segProbation = 1
	segProtected = 2
)

const (
	chunkBits = 10
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// NewTable returns an empty table.
func NewTable[K comparable, S any](cfg TableConfig[K, S]) (*Table[K, S], error) {
	if cfg.MaxKeys < 1 || cfg.MaxKeys > maxTableKeys {
		return nil, fmt.Errorf("table max keys %d: must be 1 to %d", cfg.MaxKeys, maxTableKeys)
	}
	if cfg.TTL < 0 {
		return nil, fmt.Errorf("table TTL %dms: must not be negative", cfg.TTL)
	}
	t := &Table[K, S]{cfg: cfg, protectedMax: cfg.MaxKeys * protectedShare / 5, seed: maphash.MakeSeed(), free: -1}
	for i := range t.seg {
		t.seg[i] = segList{head: -1, tail: -1}
	}
	return t, nil
}

func (t *Table[K, S]) at(i int32) *entry[K, S] { return &t.chunks[i>>chunkBits][i&chunkMask] }

// Get returns the state of key, touched at event time now, creating it (through
// Init) if the key is new, and reports whether it was created. Creating a key in a
// full table evicts the coldest key first.
func (t *Table[K, S]) Get(key K, now int64) (s *S, created bool) {
	tag := t.tag(key)
	if i := t.find(key, tag); i >= 0 {
		e := t.at(i)
		e.last = max(e.last, now)
		t.touch(i, e)
		return &e.state, false
	}
	var i int32
	recycled := false
	switch {
	case t.n >= t.cfg.MaxKeys:
		i = t.seg[segProbation].tail
		if i < 0 {
			i = t.seg[segProtected].tail
		}
		t.drop(i, Evicted)
		t.stats.Evicted++
		recycled = true
	case t.free >= 0:
		i = t.free
		t.free = t.at(i).next
	default:
		i = t.used
		t.used++
		if int(i>>chunkBits) == len(t.chunks) {
			t.chunks = append(t.chunks, make([]entry[K, S], chunkSize))
		}
	}
	e := t.at(i)
	e.key, e.last, e.tag = key, now, tag
	if t.cfg.Init != nil {
		t.cfg.Init(key, &e.state)
	} else if recycled {
		var zero S
		e.state = zero
	}
	t.pushFront(segProbation, i, e)
	t.idxInsert(tag, i)
	t.stats.Inserted++
	return &e.state, true
}

// Peek returns the state of key without touching it.
func (t *Table[K, S]) Peek(key K) (*S, bool) {
	if i := t.find(key, t.tag(key)); i >= 0 {
		return &t.at(i).state, true
	}
	return nil, false
}

// LastSeen returns the latest event time key was touched at.
func (t *Table[K, S]) LastSeen(key K) (int64, bool) {
	if i := t.find(key, t.tag(key)); i >= 0 {
		return t.at(i).last, true
	}
	return 0, false
}

// Delete drops key (calling OnDrop) and reports whether it was there.
func (t *Table[K, S]) Delete(key K) bool {
	i := t.find(key, t.tag(key))
	if i < 0 {
		return false
	}
	t.drop(i, Deleted)
	t.release(i)
	t.stats.Deleted++
	return true
}

// Expire drops the keys not touched for TTL milliseconds of event time before now
// (last touch <= now-TTL), calling OnDrop for each, and returns how many. It walks
// each segment from its least recent end and stops at the first live key, so it
// costs O(expired keys). Segments are in touch order, which is event-time order
// when events arrive in order; a key last touched by a late event sits ahead of
// newer ones and is expired when they are, late by at most the events' lateness.
func (t *Table[K, S]) Expire(now int64) int {
	if t.cfg.TTL == 0 {
		return 0
	}
	cutoff := now - t.cfg.TTL
	n := 0
	for _, sg := range [...]uint8{segProbation, segProtected} {
		for i := t.seg[sg].tail; i >= 0 && t.at(i).last <= cutoff; i = t.seg[sg].tail {
			t.drop(i, Expired)
			t.release(i)
			n++
		}
	}
	t.stats.Expired += uint64(n)
	return n
}

// Range calls fn for each key, its state and its last touch, protected keys first,
// each segment from most to least recently touched: an order that depends only on
// the sequence of calls, so it is the same in every run. fn may Delete the key it
// is given but must not otherwise change the table. Range stops when fn returns
// false.
func (t *Table[K, S]) Range(fn func(key K, s *S, lastSeen int64) bool) {
	for _, sg := range [...]uint8{segProtected, segProbation} {
		for i := t.seg[sg].head; i >= 0; {
			e := t.at(i)
			next := e.next
			if !fn(e.key, &e.state, e.last) {
				return
			}
			i = next
		}
	}
}

// Len returns the number of keys held.
func (t *Table[K, S]) Len() int { return t.n }

// Stats returns the table's counters.
func (t *Table[K, S]) Stats() Stats {
	s := t.stats
	s.Keys = t.n
	s.Protected = t.seg[segProtected].n
	return s
}

// touch moves slot i to the front of the protected segment, demoting the least
// recent protected key to probation when the segment is over its share.
func (t *Table[K, S]) touch(i int32, e *entry[K, S]) {
	if e.seg == segProtected && t.seg[segProtected].head == i {
		return
	}
	t.unlink(i, e)
	t.pushFront(segProtected, i, e)
	if p := &t.seg[segProtected]; p.n > t.protectedMax {
		j := p.tail
		d := t.at(j)
		t.unlink(j, d)
		t.pushFront(segProbation, j, d)
	}
}

// drop calls OnDrop for slot i and takes its key out of the index and its
// segment. The slot's state is left as it is.
func (t *Table[K, S]) drop(i int32, why DropReason) {
	e := t.at(i)
	if t.cfg.OnDrop != nil {
		t.cfg.OnDrop(e.key, &e.state, why)
	}
	t.idxDelete(e.tag, i)
	t.unlink(i, e)
}

// release zeroes a dropped slot (freeing what its state and key refer to) and
// puts it on the free list.
func (t *Table[K, S]) release(i int32) {
	e := t.at(i)
	*e = entry[K, S]{next: t.free, prev: -1}
	t.free = i
}

func (t *Table[K, S]) pushFront(sg uint8, i int32, e *entry[K, S]) {
	l := &t.seg[sg]
	e.seg, e.prev, e.next = sg, -1, l.head
	if l.head >= 0 {
		t.at(l.head).prev = i
	} else {
		l.tail = i
	}
	l.head = i
	l.n++
}

func (t *Table[K, S]) unlink(i int32, e *entry[K, S]) {
	l := &t.seg[e.seg]
	if e.prev >= 0 {
		t.at(e.prev).next = e.next
	} else {
		l.head = e.next
	}
	if e.next >= 0 {
		t.at(e.next).prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next, e.seg = -1, -1, 0
	l.n--
}

// AddrKeyHash is a TableConfig.Hash for netip.Addr keys, which hold a pointer:
// it hashes the address's 16 bytes without allocating.
func AddrKeyHash(seed maphash.Seed, a netip.Addr) uint64 {
	b := a.As16()
	return maphash.Bytes(seed, b[:])
}

// tag returns the top half of key's hash: its home in the index and a filter
// before comparing keys.
func (t *Table[K, S]) tag(key K) uint32 {
	var h uint64
	if t.cfg.Hash != nil {
		h = t.cfg.Hash(t.seed, key)
	} else {
		h = maphash.Comparable(t.seed, key)
	}
	return uint32(h >> 32)
}

// find returns the slot of key, or -1.
func (t *Table[K, S]) find(key K, tag uint32) int32 {
	if len(t.idx) == 0 {
		return -1
	}
	mask := uint32(len(t.idx) - 1)
	for p := tag & mask; ; p = (p + 1) & mask {
		w := t.idx[p]
		if w == 0 {
			return -1
		}
		if uint32(w>>32) == tag {
			if i := int32(uint32(w)) - 1; t.at(i).key == key {
				return i
			}
		}
	}
}

// idxInsert adds slot i with tag to the index, growing it to stay half empty.
func (t *Table[K, S]) idxInsert(tag uint32, i int32) {
	if (t.n+1)*2 > len(t.idx) {
		old := t.idx
		t.idx = make([]uint64, max(16, 2*len(old)))
		for _, w := range old {
			if w != 0 {
				t.idxPut(w)
			}
		}
	}
	t.idxPut(uint64(tag)<<32 | uint64(i+1))
	t.n++
}

func (t *Table[K, S]) idxPut(w uint64) {
	mask := uint32(len(t.idx) - 1)
	p := uint32(w>>32) & mask
	for t.idx[p] != 0 {
		p = (p + 1) & mask
	}
	t.idx[p] = w
}

// idxDelete removes slot i from the index and shifts back the rest of its probe
// run, so that no tombstone is left: every word after the hole whose home is not
// cyclically between the hole and itself moves into the hole.
func (t *Table[K, S]) idxDelete(tag uint32, i int32) {
	mask := uint32(len(t.idx) - 1)
	w := uint64(tag)<<32 | uint64(i+1)
	h := tag & mask
	for t.idx[h] != w {
		h = (h + 1) & mask
	}
	for j := (h + 1) & mask; t.idx[j] != 0; j = (j + 1) & mask {
		home := uint32(t.idx[j]>>32) & mask
		if h <= j {
			if h < home && home <= j {
				continue
			}
		} else if h < home || home <= j {
			continue
		}
		t.idx[h] = t.idx[j]
		h = j
	}
	t.idx[h] = 0
	t.n--
}
