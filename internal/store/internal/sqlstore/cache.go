package sqlstore

import (
	"container/list"
	"math/rand/v2"
	"sync"

	"github.com/vigil-dev/vigil/internal/finding"
)

// Cache keeps recently written findings decoded, so that a repeat — the common
// write: the same issue recurs — merges into the finding without decoding its
// stored JSON, which costs more than the merge and the write together.
//
// An entry is keyed by finding ID and revision: every write of a findings row
// stores a fresh random revision (NewRev) in the row, and an upsert, which reads
// the row's revision anyway while locking it, uses the cached finding only when
// the revisions match. So a finding written meanwhile by another process or
// node, or deleted and created again, is never merged from a stale copy, and the
// cache needs no invalidation. The user's columns (archived, feedback) are
// taken from the row, unless the store changes the revision when it writes
// them too: then an entry at the row's revision is the whole row (the SQLite
// store does, and checks the revision in the UPDATE itself instead of reading
// it first; see Latest).
//
// The cache is bounded by an estimate of its memory (twice the JSON size of each
// finding) and evicts the least recently used. A nil *Cache caches nothing.
type Cache struct {
	mu       sync.Mutex
	max, cur int64
	lru      list.List // of *cacheEntry, most recent first
	byID     map[string]*list.Element
}

type cacheEntry struct {
	id         string
	rev, rowid int64
	f          finding.Finding
	cost       int64
}

// NewCache returns a cache of about maxBytes, or nil (no cache) when maxBytes
// is 0 or less.
func NewCache(maxBytes int64) *Cache {
	if maxBytes <= 0 {
		return nil
	}
	return &Cache{max: maxBytes, byID: make(map[string]*list.Element)}
}

// NewRev returns a revision for a row write: random, so that revisions of
// different writes (on any node, after any deletion) do not collide.
func NewRev() int64 { return rand.Int64() }

// Get returns the finding with id at revision rev, if cached. The finding shares
// memory with the cache: it must be read only (finding.Merge into a copy of it
// is fine; Batch.Apply makes that copy).
func (c *Cache) Get(id string, rev int64) (finding.Finding, bool) {
	if c == nil {
		return finding.Finding{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byID[id]
	if e == nil {
		return finding.Finding{}, false
	}
	ce := e.Value.(*cacheEntry)
	if ce.rev != rev {
		return finding.Finding{}, false
	}
	c.lru.MoveToFront(e)
	return ce.f, true
}

// Latest returns the cached finding with id, its revision and the rowid of
// its row (0 when the store has none), whatever the row's revision now: the
// caller must check that the row is still at that revision, in the statement
// that writes it. The finding is read-only, as from Get.
func (c *Cache) Latest(id string) (f finding.Finding, rev, rowid int64, ok bool) {
	if c == nil {
		return finding.Finding{}, 0, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byID[id]
	if e == nil {
		return finding.Finding{}, 0, 0, false
	}
	ce := e.Value.(*cacheEntry)
	c.lru.MoveToFront(e)
	return ce.f, ce.rev, ce.rowid, true
}

// Put caches f as id at revision rev, in the row rowid (0: the store has no
// rowids); size is the length of its JSON. Call it only after the write of
// that revision committed.
func (c *Cache) Put(id string, rev, rowid int64, f finding.Finding, size int) {
	if c == nil {
		return
	}
	cost := 2*int64(size) + 256
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byID[id]; e != nil {
		ce := e.Value.(*cacheEntry)
		c.cur += cost - ce.cost
		ce.rev, ce.rowid, ce.f, ce.cost = rev, rowid, f, cost
		c.lru.MoveToFront(e)
	} else {
		c.byID[id] = c.lru.PushFront(&cacheEntry{id: id, rev: rev, rowid: rowid, f: f, cost: cost})
		c.cur += cost
	}
	for c.cur > c.max && c.lru.Len() > 0 {
		e := c.lru.Back()
		ce := e.Value.(*cacheEntry)
		c.lru.Remove(e)
		delete(c.byID, ce.id)
		c.cur -= ce.cost
	}
}

// Len returns the number of cached findings.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
