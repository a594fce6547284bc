package sqlstore

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// MaxIDLength is the longest finding ID accepted, GuardDuty's limit.
const MaxIDLength = 300

// Batch is an upsert batch grouped by finding ID.
type Batch struct {
	// IDs are the distinct IDs (store.Text applied), sorted: the order in which a
	// store locks and writes rows, so that two batches never wait on each other in
	// opposite orders.
	IDs []string

	first  []string // distinct IDs in order of first appearance
	groups map[string][]*finding.Finding
}

// NewBatch groups findings by ID. Every finding must have an ID of at most
// MaxIDLength bytes; the error wraps store.ErrInvalid.
func NewBatch(findings []finding.Finding) (*Batch, error) {
	b := &Batch{groups: make(map[string][]*finding.Finding, len(findings))}
	for i := range findings {
		f := &findings[i]
		switch {
		case f.ID == "":
			return nil, fmt.Errorf("%w: finding %d (%s) has no ID (finding.Complete sets it)", store.ErrInvalid, i, f.Type)
		case len(f.ID) > MaxIDLength:
			return nil, fmt.Errorf("%w: finding %d: ID of %d bytes, longer than %d", store.ErrInvalid, i, len(f.ID), MaxIDLength)
		}
		id := store.Text(f.ID)
		if _, ok := b.groups[id]; !ok {
			b.first = append(b.first, id)
		}
		b.groups[id] = append(b.groups[id], f)
	}
	b.IDs = slices.Clone(b.first)
	slices.Sort(b.IDs)
	return b, nil
}

// Len returns the number of distinct IDs.
func (b *Batch) Len() int { return len(b.first) }

// Apply computes the finding to store for id: the batch's findings with that ID
// folded, in batch order, into stored (nil when the ID is not stored) with
// finding.Merge at now. After each merge the archived flag is the occurrence's
// (see store.Store.Upsert).
func (b *Batch) Apply(id string, stored *finding.Finding, now finding.Time) (store.Change, error) {
	srcs := b.groups[id]
	var ch store.Change
	var dst finding.Finding
	if stored == nil {
		ch.Created = true
		dst = *srcs[0]
		// Merge appends to dst's evidence; clipping makes that append copy, so
		// the caller's slice is never written.
		dst.Evidence = slices.Clip(dst.Evidence)
		dst.Service.Count = max(dst.Service.Count, 1)
		dst.Continues = false // an occurrence the store never saw start
		srcs = srcs[1:]
	} else {
		dst = *stored
		dst.Evidence = slices.Clip(dst.Evidence) // stored may be the cache's
	}
	// The stored ID is the normalised one (store.Text), and Merge wants equal IDs.
	dst.ID = id
	wasArchived := dst.Service.Archived
	for _, src := range srcs {
		if src.ID != id {
			c := *src
			c.ID = id
			src = &c
		}
		if err := finding.Merge(&dst, src, now); err != nil {
			return ch, err
		}
		dst.Service.Archived = src.Service.Archived
	}
	ch.Unarchived = !ch.Created && wasArchived && !dst.Service.Archived
	ch.Finding = dst
	return ch, nil
}

// Write is a row an upsert writes: the change, its row, whether it is new,
// and, for an update, whether only RepeatColumns change. RowID is the row's
// rowid in a store that has them (SQLite), set by the store.
type Write struct {
	Change store.Change
	Row    Row
	Insert bool
	Repeat bool
	RowID  int64
}

// Plan computes the writes of the batch for ids (b.IDs, or some of them), in
// that order: each ID folded into its stored finding (absent from stored: a new
// finding). Merging and encoding are most of an upsert's own
// work, and independent per ID, so a large batch is planned on several cores
// while the database waits.
func (b *Batch) Plan(stored map[string]*finding.Finding, now finding.Time, ids []string) ([]Write, error) {
	ws := make([]Write, len(ids))
	plan := func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			w, err := b.plan(ids[i], stored[ids[i]], now)
			if err != nil {
				return err
			}
			ws[i] = w
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(ids)/planChunk)
	if workers <= 1 {
		return ws, plan(0, len(ids))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { errs[w] = plan(w*len(ids)/workers, (w+1)*len(ids)/workers) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ws, nil
}

// plan computes the write of id folded into old (nil: a new finding).
func (b *Batch) plan(id string, old *finding.Finding, now finding.Time) (Write, error) {
	ch, err := b.Apply(id, old, now)
	if err != nil {
		return Write{}, err
	}
	row, err := RowOf(&ch.Finding)
	if err != nil {
		return Write{}, err
	}
	w := Write{Change: ch, Row: row, Insert: old == nil}
	if old != nil {
		// The stored finding's columns are the stored row's: the row was
		// written from it (or it was decoded from the row's JSON, with the
		// row's user columns), and nothing else writes them.
		oldRow := columnsOf(old)
		w.Repeat = row.sameBut(&oldRow)
	}
	return w, nil
}

// planChunk is the least number of findings worth a goroutine of their own.
const planChunk = 64

// Pipeline plans a batch alongside the caller, who writes the rows as they
// come: while the database writes row i on one core, the findings after it
// are merged and encoded on the others, instead of all of them first. Next
// returns the writes in order; the planners work ahead in chunks of
// pipeChunk, on GOMAXPROCS-1 goroutines (one on a single core), and stop
// early when Stop is called. A Pipeline is used by one goroutine.
type Pipeline struct {
	ws     []Write
	errs   []error         // per chunk
	done   []chan struct{} // closed when a chunk is planned
	next   atomic.Int64    // the next chunk to plan
	stop   atomic.Bool
	cursor int // the next write Next returns
}

// pipeChunk is the number of findings a planner takes at a time: small, so
// that writing starts soon after the call.
const pipeChunk = 16

// Pipeline starts planning the writes of ids (see Plan).
func (b *Batch) Pipeline(stored map[string]*finding.Finding, now finding.Time, ids []string) *Pipeline {
	n := (len(ids) + pipeChunk - 1) / pipeChunk
	p := &Pipeline{ws: make([]Write, len(ids)), errs: make([]error, n), done: make([]chan struct{}, n)}
	for k := range p.done {
		p.done[k] = make(chan struct{})
	}
	work := func() {
		for !p.stop.Load() {
			k := int(p.next.Add(1) - 1)
			if k >= n {
				return
			}
			for i := k * pipeChunk; i < min((k+1)*pipeChunk, len(ids)); i++ {
				w, err := b.plan(ids[i], stored[ids[i]], now)
				if err != nil {
					p.errs[k] = err
					break
				}
				p.ws[i] = w
			}
			close(p.done[k])
		}
	}
	for range max(1, min(runtime.GOMAXPROCS(0)-1, n)) {
		go work()
	}
	return p
}

// Next returns the next write, waiting until it is planned, and false after
// the last one or after an error.
func (p *Pipeline) Next() (*Write, bool, error) {
	if p.cursor >= len(p.ws) {
		return nil, false, nil
	}
	k := p.cursor / pipeChunk
	<-p.done[k]
	if err := p.errs[k]; err != nil {
		return nil, false, err
	}
	w := &p.ws[p.cursor]
	p.cursor++
	return w, true, nil
}

// Writes returns all the writes; call it after Next returned false without
// an error.
func (p *Pipeline) Writes() []Write { return p.ws }

// Stop makes the planners stop after their current chunk; the caller calls
// it when it stops reading, so that an abandoned batch does not keep cores
// busy.
func (p *Pipeline) Stop() { p.stop.Store(true) }

// Committed caches the written findings and returns the UpsertResult. Call it
// after the transaction committed.
func (b *Batch) Committed(ws []Write, cache *Cache) store.UpsertResult {
	changes := make(map[string]store.Change, len(ws))
	for i := range ws {
		w := &ws[i]
		cache.Put(w.Row.ID, w.Row.Rev, w.RowID, w.Change.Finding, len(w.Row.Body))
		changes[w.Row.ID] = w.Change
	}
	return b.Result(changes)
}

// Result assembles the UpsertResult from the changes by ID, in order of first
// appearance.
func (b *Batch) Result(changes map[string]store.Change) store.UpsertResult {
	res := store.UpsertResult{Changes: make([]store.Change, 0, len(b.first))}
	for _, id := range b.first {
		ch := changes[id]
		if ch.Created {
			res.Created++
		} else {
			res.Updated++
		}
		res.Changes = append(res.Changes, ch)
	}
	return res
}
