package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vigil-dev/vigil/internal/query"
	"github.com/vigil-dev/vigil/internal/record"
)

// The group table of a stats.
//
// Memory is what limits a stats over many groups (top talkers by source and
// destination makes one group per pair: 1.5 million in a 10-million-record
// file), so a group is kept small and kept once:
//
//   - A group is its encoded key (appendKey: 6 bytes for an IPv4 address)
//     in a byte arena, and its aggregates' states in columns: an int64 for
//     count, a sumAcc for sum, a distinct for count_distinct, an acc for the
//     others. Group values are decoded from the key when rows are made.
//   - The index is open addressing over one uint64 per slot: the key hash's
//     low 32 bits and the group's number. Growing it rehashes from the slots
//     alone.
//   - The table is split in partitions by the hash's high bits, so that
//     growing one copies a 64th of it, and so that workers share one table:
//     each worker first aggregates into a table of its own, which costs no
//     locking and no cache lines moving between cores while the groups are
//     few (the common case: ports, bins, actions); once its table passes
//     localMaxGroups groups it drains it into the shared table and then
//     adds its rows there, a partition lock per staged run of rows, so that
//     a stats over millions of groups holds each group once, not once per
//     worker.

const (
	partitionBits = 6
	partitions    = 1 << partitionBits
	// localMaxGroups is how many groups a worker's own table holds before
	// it moves to the shared table.
	localMaxGroups = 1 << 14
	// stageRows is how many rows a worker stages before it adds them to
	// the shared table, partition by partition.
	stageRows = 1024
)

// stateKind is how a column keeps an aggregate's states.
type stateKind uint8

const (
	stateAcc stateKind = iota // an acc per group
	stateCount
	stateSum
	stateDistinct
)

// table is the groups of one stats.
type table struct {
	calls     []*query.AggCall
	states    []stateKind
	star      []bool // count(*): every row counts
	needsPos  bool
	maxGroups int64
	shared    bool // partitions are locked when used
	groups    atomic.Int64
	parts     [partitions]partition
}

// partition is one part of a table. When the table is shared, mu guards
// everything else.
type partition struct {
	mu    sync.Mutex
	slots []uint64 // 0: empty; else hash low 32 bits << 32 | group number + 1
	refs  []uint32 // group number → offset of its key in text
	text  []byte   // keys, each after its length as a uvarint
	cols  []column // one per aggregate
}

// column holds one aggregate's states, indexed by group number; only the
// slice of the column's stateKind is used.
type column struct {
	counts []int64
	// A sum is 9 bytes, not a 32-byte sumAcc: its int64 or float64 bits,
	// and flags.
	sums      []uint64
	sumFlags  []uint8
	distincts []distinct
	accs      []acc
}

// The flags of a sum.
const (
	sumSome  = 1 << iota // it has added a number
	sumFloat             // its bits are a float64
)

// sum returns the state of sum id.
func (c *column) sum(id uint32) sumAcc {
	var a sumAcc
	f := c.sumFlags[id]
	if f&sumSome != 0 {
		a.n = 1 // only whether it is 0 matters to a sum
	}
	if f&sumFloat != 0 {
		a.isFloat, a.f = true, math.Float64frombits(c.sums[id])
	} else {
		a.i = int64(c.sums[id])
	}
	return a
}

// setSum stores the state of sum id.
func (c *column) setSum(id uint32, a *sumAcc) {
	var f uint8
	if a.n != 0 {
		f |= sumSome
	}
	if a.isFloat {
		f |= sumFloat
		c.sums[id] = math.Float64bits(a.f)
	} else {
		c.sums[id] = uint64(a.i)
	}
	c.sumFlags[id] = f
}

func newTable(calls []*query.AggCall, maxGroups int, shared bool) *table {
	t := &table{calls: calls, maxGroups: int64(maxGroups), shared: shared}
	for _, c := range calls {
		k := aggKinds[c.Call.Name]
		t.needsPos = t.needsPos || k.needsPos
		st := stateAcc
		switch c.Call.Name {
		case "count":
			st = stateCount
		case "sum":
			st = stateSum
		case "count_distinct":
			st = stateDistinct
		}
		t.states = append(t.states, st)
		t.star = append(t.star, c.Arg == nil)
	}
	for i := range t.parts {
		t.parts[i].cols = make([]column, len(calls))
	}
	return t
}

// len returns the number of groups.
func (t *table) len() int { return int(t.groups.Load()) }

func partitionOf(h uint64) int { return int(h >> (64 - partitionBits)) }

// find returns the group of key (hash h) in p, or creates it.
func (t *table) find(p *partition, h uint64, key []byte) (uint32, error) {
	if p.slots == nil {
		p.slots = make([]uint64, 16)
	}
	tag := uint32(h)
	mask := uint32(len(p.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := p.slots[i]
		if s == 0 {
			return t.insert(p, i, tag, key)
		}
		if uint32(s>>32) == tag {
			if id := uint32(s) - 1; bytes.Equal(p.key(id), key) {
				return id, nil
			}
		}
	}
}

// key returns group id's encoded key.
func (p *partition) key(id uint32) []byte {
	k := p.text[p.refs[id]:]
	n, w := binary.Uvarint(k)
	return k[w : w+int(n)]
}

// keyString returns group id's key as a string viewing the arena: text is
// only ever appended to, so what a string views never changes.
func (p *partition) keyString(id uint32) string {
	k := p.key(id)
	if len(k) == 0 {
		return ""
	}
	return unsafe.String(&k[0], len(k))
}

func (t *table) insert(p *partition, slot uint32, tag uint32, key []byte) (uint32, error) {
	if t.groups.Add(1) > t.maxGroups {
		t.groups.Add(-1)
		return 0, fmt.Errorf("%w: the stats makes more than %d groups; narrow it with filter or --since/--until", ErrTooManyGroups, t.maxGroups)
	}
	if len(p.text)+len(key)+binary.MaxVarintLen64 > math.MaxUint32 {
		return 0, fmt.Errorf("%w: the group values of the stats take more than 4 GiB; narrow it with filter or --since/--until", ErrTooManyGroups)
	}
	id := uint32(len(p.refs))
	p.refs = append(p.refs, uint32(len(p.text)))
	p.text = binary.AppendUvarint(p.text, uint64(len(key)))
	p.text = append(p.text, key...)
	p.slots[slot] = uint64(tag)<<32 | uint64(id+1)
	for i, c := range t.calls {
		col := &p.cols[i]
		switch t.states[i] {
		case stateCount:
			col.counts = append(col.counts, 0)
		case stateSum:
			col.sums = append(col.sums, 0)
			col.sumFlags = append(col.sumFlags, 0)
		case stateDistinct:
			col.distincts = append(col.distincts, distinct{})
		default:
			col.accs = append(col.accs, aggKinds[c.Call.Name].newAcc(c))
		}
	}
	// At most 13/16 full: linear probing stays short.
	if len(p.refs)*16 > len(p.slots)*13 {
		p.grow()
	}
	return id, nil
}

func (p *partition) grow() {
	slots := make([]uint64, 2*len(p.slots))
	mask := uint32(len(slots) - 1)
	for _, s := range p.slots {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	p.slots = slots
}

// update adds one row's argument values to group id. For count_distinct
// the value is already the hash of the row's value (stage.add), as an Int,
// or Missing.
func (t *table) update(p *partition, id uint32, args []record.Value, at *pos) {
	for i := range t.calls {
		col := &p.cols[i]
		v := args[i]
		switch t.states[i] {
		case stateCount:
			if t.star[i] || v.Kind != record.Missing {
				col.counts[id]++
			}
		case stateSum:
			if v.Kind == record.Missing {
				continue
			}
			if v.Kind == record.Int && col.sumFlags[id]&sumFloat == 0 {
				// A whole number onto a whole sum (bytes, packets): sumAcc.add's
				// first case, without making a sumAcc.
				if s, ok := addWhole(int64(col.sums[id]), v.Int); ok {
					col.sums[id], col.sumFlags[id] = uint64(s), sumSome
					continue
				}
			}
			a := col.sum(id)
			a.add(v, nil)
			col.setSum(id, &a)
		case stateDistinct:
			if v.Kind != record.Missing {
				col.distincts[id].add(uint64(v.Int))
			}
		default:
			col.accs[id].add(v, at)
		}
	}
}

// result returns aggregate i of group id.
func (t *table) result(p *partition, id uint32, i int) record.Value {
	col := &p.cols[i]
	switch t.states[i] {
	case stateCount:
		return record.IntValue(col.counts[id])
	case stateSum:
		a := col.sum(id)
		return a.result()
	case stateDistinct:
		return record.IntValue(col.distincts[id].count())
	}
	return col.accs[id].result()
}

// drainInto adds every group of t to dst and empties t.
func (t *table) drainInto(dst *table) error {
	for pi := range t.parts {
		src := &t.parts[pi]
		if len(src.refs) == 0 {
			continue
		}
		dp := &dst.parts[pi]
		if dst.shared {
			dp.mu.Lock()
		}
		err := dst.mergePartition(dp, t, src)
		if dst.shared {
			dp.mu.Unlock()
		}
		if err != nil {
			return err
		}
		*src = partition{cols: make([]column, len(t.calls))}
	}
	t.groups.Store(0)
	return nil
}

// mergePartition folds the groups of src (a partition of table st) into dp.
func (t *table) mergePartition(dp *partition, st *table, src *partition) error {
	for id := range uint32(len(src.refs)) {
		key := src.key(id)
		did, err := t.find(dp, groupHash(key), key)
		if err != nil {
			return err
		}
		for i := range t.calls {
			dc, sc := &dp.cols[i], &src.cols[i]
			switch t.states[i] {
			case stateCount:
				dc.counts[did] += sc.counts[id]
			case stateSum:
				a, b := dc.sum(did), sc.sum(id)
				a.mergeSum(&b)
				dc.setSum(did, &a)
			case stateDistinct:
				dc.distincts[did].merge(&sc.distincts[id])
			default:
				dc.accs[did].merge(sc.accs[id])
			}
		}
	}
	return nil
}

// groupRef names a group: its partition and number.
type groupRef struct {
	p  *partition
	id uint32
}

// refs returns every group, partition by partition.
func (t *table) refs() []groupRef {
	out := make([]groupRef, 0, t.len())
	for pi := range t.parts {
		p := &t.parts[pi]
		for id := range uint32(len(p.refs)) {
			out = append(out, groupRef{p, id})
		}
	}
	return out
}

// evals are a stats' compiled expressions for one record kind (or for rows
// without records).
type evals struct {
	groups []query.Eval
	args   []query.Eval // nil for count(*)
	ts     query.Eval   // @timestamp, when an aggregate needs it
}

// stage collects a worker's rows for a table: their keys, hashes and
// argument values, so that rows for the shared table are added a partition
// at a time, under one lock each, and so that everything but the table
// update itself happens outside the locks.
type stage struct {
	t       *table
	nArgs   int
	hashes  []uint64
	ends    []int // end of each row's key in keys
	keys    []byte
	args    []record.Value
	ats     []pos
	hasAt   []bool
	order   []int32
	warmIDs []uint32
	rot     int    // the partition a flush starts at
	sink    uint64 // what warm read, so that its loads are kept
	scratch [64]byte
	// one is the group of a stats without by, in table t.
	one struct {
		t  *table
		p  *partition
		id uint32
	}
}

func newStage(t *table) *stage {
	return &stage{t: t, nArgs: len(t.calls)}
}

// add stages one row; it adds the staged rows to the table when there are
// enough. The argument values may view the row's record: flush must run
// before the record goes (at the end of each batch).
func (s *stage) add(r *query.Row, ev *evals) error {
	t := s.t
	if !t.shared {
		// A table of the worker's own: no lock to save, so the row goes
		// in at once.
		s.reset()
		if len(ev.groups) == 0 {
			// No by: every row is the one group's, found once.
			if s.one.t != t {
				h := groupHash(nil)
				p := &t.parts[partitionOf(h)]
				id, err := t.find(p, h, nil)
				if err != nil {
					return err
				}
				s.one.t, s.one.p, s.one.id = t, p, id
			}
			s.stageArgs(r, ev)
			s.t.update(s.one.p, s.one.id, s.args, s.at(0))
			return nil
		}
	}
	start := len(s.keys)
	for _, g := range ev.groups {
		s.keys = appendKey(s.keys, g(r))
	}
	s.hashes = append(s.hashes, groupHash(s.keys[start:]))
	s.ends = append(s.ends, len(s.keys))
	s.stageArgs(r, ev)
	if !t.shared {
		return s.apply(&t.parts[partitionOf(s.hashes[0])], 0)
	}
	if len(s.hashes) >= stageRows {
		return s.flush()
	}
	return nil
}

// stageArgs stages the row's aggregate arguments (and its position, for
// earliest and latest).
func (s *stage) stageArgs(r *query.Row, ev *evals) {
	t := s.t
	for i, a := range ev.args {
		var v record.Value
		if a != nil {
			v = a(r)
		}
		if t.states[i] == stateDistinct && v.Kind != record.Missing {
			v = record.IntValue(int64(hashKey(appendKey(s.scratch[:0], v))))
		}
		s.args = append(s.args, v)
	}
	if t.needsPos {
		at := pos{log: r.Log, seq: r.Seq}
		ok := false
		if ev.ts != nil {
			at.ts, ok = timeOf(ev.ts(r))
		}
		s.ats = append(s.ats, at)
		s.hasAt = append(s.hasAt, ok)
	}
}

// at returns the position of staged row i, nil when it has none.
func (s *stage) at(i int) *pos {
	if s.t.needsPos && s.hasAt[i] {
		return &s.ats[i]
	}
	return nil
}

// groupSeed seeds groupHash: one per process, so that a table drained into
// another hashes alike.
var groupSeed = maphash.MakeSeed()

// groupHash hashes an encoded key for the group table. The seed varies
// between runs, which changes nothing visible: rows are ordered by their
// keys, not by where they sit in the table.
func groupHash(key []byte) uint64 { return maphash.Bytes(groupSeed, key) }

// flush adds the staged rows to the table.
func (s *stage) flush() error {
	n := len(s.hashes)
	if n == 0 {
		return nil
	}
	t := s.t
	defer s.reset()
	if !t.shared {
		return nil // applied as they came
	}
	// Order the rows by partition (a counting sort), then take each
	// partition's lock once.
	var counts [partitions + 1]int32
	for _, h := range s.hashes {
		counts[partitionOf(h)+1]++
	}
	for i := 1; i <= partitions; i++ {
		counts[i] += counts[i-1]
	}
	if cap(s.order) < n {
		s.order = make([]int32, n)
	}
	order := s.order[:n]
	next := counts
	for i, h := range s.hashes {
		pi := partitionOf(h)
		order[next[pi]] = int32(i)
		next[pi]++
	}
	// Workers flushing at once would go through the partitions in step,
	// each waiting on the lock the other holds; each starts where its last
	// flush did not.
	s.rot += 23
	for k := range partitions {
		pi := (k + s.rot) % partitions
		lo, hi := counts[pi], counts[pi+1]
		if lo == hi {
			continue
		}
		p := &t.parts[pi]
		p.mu.Lock()
		s.warm(p, order[lo:hi])
		var err error
		for _, i := range order[lo:hi] {
			if err = s.apply(p, int(i)); err != nil {
				break
			}
		}
		p.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// apply adds staged row i to its group in p.
// warm reads the memory that find and update are about to read for rows of
// p, in waves: the slot each row's hash starts at; then, where that slot
// holds a group with the row's tag, the group's key offset; then its key and
// aggregates. The loads of a wave do not depend on one another, so their
// cache misses overlap, where find and update, row after row, would wait for
// each in turn: a table of a million groups is mostly out of the cache.
func (s *stage) warm(p *partition, rows []int32) {
	if len(p.slots) == 0 || len(rows) < 2 {
		return
	}
	mask := uint32(len(p.slots) - 1)
	var sink uint64
	for _, i := range rows {
		sink += p.slots[uint32(s.hashes[i])&mask]
	}
	ids := s.warmIDs[:0]
	for _, i := range rows {
		h := uint32(s.hashes[i])
		if slot := p.slots[h&mask]; slot != 0 && uint32(slot>>32) == h {
			id := uint32(slot) - 1
			sink += uint64(p.refs[id])
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		sink += uint64(p.text[p.refs[id]])
		for i := range p.cols {
			col := &p.cols[i]
			switch s.t.states[i] {
			case stateCount:
				sink += uint64(col.counts[id])
			case stateSum:
				sink += col.sums[id] + uint64(col.sumFlags[id])
			case stateDistinct:
				sink += uint64(col.distincts[id].n)
			}
		}
	}
	s.warmIDs = ids
	s.sink += sink
}

func (s *stage) apply(p *partition, i int) error {
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	id, err := s.t.find(p, s.hashes[i], s.keys[start:s.ends[i]])
	if err != nil {
		return err
	}
	s.t.update(p, id, s.args[i*s.nArgs:(i+1)*s.nArgs], s.at(i))
	return nil
}

func (s *stage) reset() {
	s.hashes = s.hashes[:0]
	s.ends = s.ends[:0]
	s.keys = s.keys[:0]
	clear(s.args) // drop what they view
	s.args = s.args[:0]
	clear(s.ats)
	s.ats = s.ats[:0]
	s.hasAt = s.hasAt[:0]
}
