package window

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// check verifies the table's internal invariants: the index and the segment
// lists hold the same keys, links are consistent, counts add up, the protected
// segment is within its share and the free list holds only free slots.
func (t *Table[K, S]) check() error {
	seen := map[int32]bool{}
	total := 0
	for _, sg := range [...]uint8{segProbation, segProtected} {
		l := t.seg[sg]
		n := 0
		prev := int32(-1)
		for i := l.head; i >= 0; i = t.at(i).next {
			e := t.at(i)
			if e.seg != sg || e.prev != prev || seen[i] {
				return fmt.Errorf("segment %d: slot %d seg %d prev %d (want %d), seen %v", sg, i, e.seg, e.prev, prev, seen[i])
			}
			if j := t.find(e.key, e.tag); j != i {
				return fmt.Errorf("slot %d key %v: index has %d", i, e.key, j)
			}
			seen[i] = true
			prev = i
			n++
		}
		if l.tail != prev || l.n != n {
			return fmt.Errorf("segment %d: tail %d (want %d), n %d (want %d)", sg, l.tail, prev, l.n, n)
		}
		total += n
	}
	words := 0
	for _, w := range t.idx {
		if w != 0 {
			words++
		}
	}
	if total != t.n || words != t.n || total > t.cfg.MaxKeys || t.n*2 > len(t.idx) {
		return fmt.Errorf("%d keys listed, %d counted, %d index words of %d, cap %d", total, t.n, words, len(t.idx), t.cfg.MaxKeys)
	}
	if t.seg[segProtected].n > t.protectedMax {
		return fmt.Errorf("protected %d > %d", t.seg[segProtected].n, t.protectedMax)
	}
	for i := t.free; i >= 0; i = t.at(i).next {
		if seen[i] || t.at(i).seg != 0 {
			return fmt.Errorf("free slot %d in use", i)
		}
		seen[i] = true
	}
	if len(seen) != int(t.used) {
		return fmt.Errorf("%d slots accounted for, %d used", len(seen), t.used)
	}
	s := t.stats
	if s.Inserted-s.Evicted-s.Expired-s.Deleted != uint64(t.n) {
		return fmt.Errorf("stats %+v do not add up to %d keys", s, t.n)
	}
	return nil
}

// keys lists a segment's keys, most recent first.
func (t *Table[K, S]) keys(sg uint8) []K {
	var out []K
	for i := t.seg[sg].head; i >= 0; i = t.at(i).next {
		out = append(out, t.at(i).key)
	}
	return out
}

func mustTable[K comparable, S any](t testing.TB, cfg TableConfig[K, S]) *Table[K, S] {
	t.Helper()
	tb, err := NewTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestTableBasics(t *testing.T) {
	var dropped []string
	tb := mustTable(t, TableConfig[string, int]{MaxKeys: 3, TTL: 100,
		OnDrop: func(k string, s *int, why DropReason) { dropped = append(dropped, fmt.Sprintf("%s=%d %s", k, *s, why)) }})
	s, created := tb.Get("a", 1)
	if !created || *s != 0 {
		t.Fatal("new key")
	}
	*s = 10
	if s2, created := tb.Get("a", 2); created || s2 != s || *s2 != 10 {
		t.Fatal("existing key")
	}
	tb.Get("b", 3)
	tb.Get("c", 4)
	// a is protected (touched twice), b and c on probation; d evicts b, the
	// least recent probation key.
	tb.Get("d", 5)
	if _, ok := tb.Peek("b"); ok {
		t.Error("b survived eviction")
	}
	if p, ok := tb.Peek("a"); !ok || *p != 10 {
		t.Error("a was evicted")
	}
	if !tb.Delete("c") || tb.Delete("c") {
		t.Error("Delete")
	}
	if last, ok := tb.LastSeen("a"); !ok || last != 2 {
		t.Errorf("LastSeen(a) = %d, %v", last, ok)
	}
	// TTL 100: at 103 a (last 2) is dropped, d (last 5) is not.
	if n := tb.Expire(103); n != 1 || tb.Len() != 1 {
		t.Errorf("Expire(103) dropped %d, %d left", n, tb.Len())
	}
	want := []string{"b=0 evicted", "c=0 deleted", "a=10 expired"}
	if !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	st := tb.Stats()
	if st != (Stats{Keys: 1, Inserted: 4, Evicted: 1, Expired: 1, Deleted: 1}) {
		t.Errorf("stats %+v", st)
	}
	if err := tb.check(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTable(TableConfig[int, int]{}); err == nil {
		t.Error("MaxKeys 0 accepted")
	}
	if _, err := NewTable(TableConfig[int, int]{MaxKeys: 1, TTL: -1}); err == nil {
		t.Error("negative TTL accepted")
	}
}

// TestTableRecyclesState: an evicted key's state goes through Init to the new key,
// buffers and all; an expired key's state is zeroed.
func TestTableRecyclesState(t *testing.T) {
	cfg := CounterConfig{Window: 1000, Buckets: 10}
	inits := 0
	tb := mustTable(t, TableConfig[int, Counter]{MaxKeys: 2, TTL: 10,
		Init: func(_ int, c *Counter) { inits++; c.Init(cfg) }})
	a, _ := tb.Get(1, 0)
	a.Add(0, 1)
	ring := &a.ring[0]
	tb.Get(2, 0)
	c, created := tb.Get(3, 0) // evicts 1
	if !created || &c.ring[0] != ring || c.Count() != 0 || inits != 3 {
		t.Errorf("recycled state: same ring %v, count %d, inits %d", &c.ring[0] == ring, c.Count(), inits)
	}
	tb.Expire(100)
	if tb.Len() != 0 || tb.at(0).state.ring != nil {
		t.Error("expired state not zeroed")
	}
	if n := testing.AllocsPerRun(1000, func() {
		for k := range 4 {
			s, _ := tb.Get(k, 0)
			s.Add(0, 1)
		}
	}); n != 0 {
		t.Errorf("steady-state churn allocates %v per run", n)
	}
}

// TestTableProtectsRepeatedKeys: a key touched more than once survives any number
// of keys seen once; among keys seen once, the least recent goes first.
func TestTableProtectsRepeatedKeys(t *testing.T) {
	tb := mustTable(t, TableConfig[int, struct{}]{MaxKeys: 100})
	tb.Get(-1, 0)
	tb.Get(-1, 0)
	for k := range 1_000_000 {
		tb.Get(k, int64(k))
	}
	if _, ok := tb.Peek(-1); !ok {
		t.Fatal("repeated key evicted by a flood of single keys")
	}
	if _, ok := tb.Peek(999_999 - 98); !ok {
		t.Error("recent single key evicted")
	}
	if _, ok := tb.Peek(999_999 - 99); ok {
		t.Error("single key beyond the cap kept")
	}
	if err := tb.check(); err != nil {
		t.Fatal(err)
	}
}

func TestTableRange(t *testing.T) {
	tb := mustTable(t, TableConfig[int, int]{MaxKeys: 10})
	for k := range 5 {
		tb.Get(k, int64(k))
	}
	tb.Get(1, 10)
	tb.Get(3, 11)
	var order []int
	tb.Range(func(k int, s *int, last int64) bool {
		order = append(order, k)
		if k == 4 {
			tb.Delete(k) // allowed: the key being visited
		}
		return true
	})
	if want := []int{3, 1, 4, 2, 0}; !slices.Equal(order, want) {
		t.Errorf("range order %v, want %v", order, want)
	}
	if _, ok := tb.Peek(4); ok {
		t.Error("delete during range")
	}
	n := 0
	tb.Range(func(int, *int, int64) bool { n++; return false })
	if n != 1 {
		t.Error("Range did not stop")
	}
	if err := tb.check(); err != nil {
		t.Fatal(err)
	}
}

// slruModel is the reference segmented LRU: two slices, most recent first.
type slruModel struct {
	max, protMax int
	ttl          int64
	prob, prot   []int
	last         map[int]int64
}

func (m *slruModel) get(k int, now int64) {
	if i := slices.Index(m.prot, k); i >= 0 {
		m.prot = slices.Insert(slices.Delete(m.prot, i, i+1), 0, k)
		m.last[k] = max(m.last[k], now)
		return
	}
	if i := slices.Index(m.prob, k); i >= 0 {
		m.prob = slices.Delete(m.prob, i, i+1)
		m.prot = slices.Insert(m.prot, 0, k)
		if len(m.prot) > m.protMax {
			d := m.prot[len(m.prot)-1]
			m.prot = m.prot[:len(m.prot)-1]
			m.prob = slices.Insert(m.prob, 0, d)
		}
		m.last[k] = max(m.last[k], now)
		return
	}
	if len(m.prob)+len(m.prot) >= m.max {
		var v int
		if len(m.prob) > 0 {
			v, m.prob = m.prob[len(m.prob)-1], m.prob[:len(m.prob)-1]
		} else {
			v, m.prot = m.prot[len(m.prot)-1], m.prot[:len(m.prot)-1]
		}
		delete(m.last, v)
	}
	m.prob = slices.Insert(m.prob, 0, k)
	m.last[k] = now
}

func (m *slruModel) del(k int) {
	m.prob = slices.DeleteFunc(m.prob, func(x int) bool { return x == k })
	m.prot = slices.DeleteFunc(m.prot, func(x int) bool { return x == k })
	delete(m.last, k)
}

func (m *slruModel) expire(now int64) {
	for _, l := range []*[]int{&m.prob, &m.prot} {
		for len(*l) > 0 && m.last[(*l)[len(*l)-1]] <= now-m.ttl {
			delete(m.last, (*l)[len(*l)-1])
			*l = (*l)[:len(*l)-1]
		}
	}
}

// runTableOps interprets ops as Get/Delete/Expire calls on a table and on the
// model, checking invariants and equality after each.
func runTableOps(t *testing.T, maxKeys int, ops []byte) {
	ttl := int64(50)
	tb := mustTable(t, TableConfig[int, int]{MaxKeys: maxKeys, TTL: ttl})
	m := &slruModel{max: maxKeys, protMax: maxKeys * 4 / 5, ttl: ttl, last: map[int]int64{}}
	now := int64(0)
	for i := 0; i+1 < len(ops); i += 2 {
		op, arg := ops[i], int(ops[i+1])
		switch op % 8 {
		case 0, 1, 2, 3, 4:
			now += int64(op / 8 % 4)
			at := now - int64(op/32) // sometimes late
			k := arg % 32
			tb.Get(k, at)
			m.get(k, at)
		case 5:
			k := arg % 32
			tb.Delete(k)
			m.del(k)
		case 6:
			now += int64(arg)
			tb.Expire(now)
			m.expire(now)
		case 7:
			now += int64(arg % 8)
		}
		if err := tb.check(); err != nil {
			t.Fatalf("op %d: %v", i/2, err)
		}
		if !slices.Equal(tb.keys(segProbation), m.prob) || !slices.Equal(tb.keys(segProtected), m.prot) {
			t.Fatalf("op %d: table probation %v protected %v, model %v %v", i/2, tb.keys(segProbation), tb.keys(segProtected), m.prob, m.prot)
		}
	}
}

func TestTableModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, maxKeys := range []int{1, 2, 5, 16, 40} {
		ops := make([]byte, 20_000)
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		runTableOps(t, maxKeys, ops)
	}
}

// TestTableIndexChurn runs a large table through heavy random churn (inserts,
// evictions, deletes, expiry, so the index grows, wraps and shifts back) and
// checks, against a shadow set kept through OnDrop, that every key is found
// exactly when it is held.
func TestTableIndexChurn(t *testing.T) {
	shadow := map[uint32]bool{}
	tb := mustTable(t, TableConfig[uint32, uint32]{MaxKeys: 3000, TTL: 400,
		Init:   func(k uint32, s *uint32) { *s = k },
		OnDrop: func(k uint32, s *uint32, _ DropReason) { delete(shadow, k) },
	})
	r := rand.New(rand.NewPCG(9, 10))
	now := int64(0)
	for i := range 300_000 {
		now += r.Int64N(3)
		k := r.Uint32N(6000)
		switch r.IntN(20) {
		case 0:
			tb.Delete(k)
		case 1:
			tb.Expire(now)
		default:
			s, created := tb.Get(k, now)
			if created {
				shadow[k] = true
			}
			if *s != k {
				t.Fatalf("key %d has state %d", k, *s)
			}
		}
		if p, ok := tb.Peek(k); ok != shadow[k] || (ok && *p != k) {
			t.Fatalf("op %d: Peek(%d) = %v, shadow %v", i, k, ok, shadow[k])
		}
		if i%20_000 == 0 {
			if err := tb.check(); err != nil {
				t.Fatalf("op %d: %v", i, err)
			}
			if len(shadow) != tb.Len() {
				t.Fatalf("op %d: %d held, shadow %d", i, tb.Len(), len(shadow))
			}
		}
	}
	if err := tb.check(); err != nil {
		t.Fatal(err)
	}
}
