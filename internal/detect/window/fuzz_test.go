package window

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzDistinctSet drives a DistinctSet with fuzzer-chosen values, times and limit
// and checks it against the reference model: exact counts while IsExact, and a
// count within the sketch's error once it has switched.
func FuzzDistinctSet(f *testing.F) {
	f.Add(uint8(4), uint16(10), []byte{1, 0, 2, 0, 3, 1, 1, 9, 4, 0, 5, 200, 6, 0})
	f.Add(uint8(1), uint16(0), []byte{0, 0, 0, 0, 0, 0})
	f.Add(uint8(64), uint16(3), make([]byte, 600))
	f.Fuzz(func(t *testing.T, limit uint8, window uint16, ops []byte) {
		cfg := DistinctConfig{Window: int64(window), ExactLimit: int(limit%64) + 1, Precision: 12}
		d := newDistinct(t, cfg)
		m := &distinctModel{window: cfg.Window, seen: map[uint64]int64{}}
		now := int64(0)
		for i := 0; i+1 < len(ops); i += 2 {
			v, dt := uint64(ops[i]), int64(ops[i+1])
			if dt >= 250 {
				d.Advance(now + dt)
				m.advance(now + dt)
				now += dt
				continue
			}
			now += dt % 16
			at := now - dt/16 // up to 15 ms late
			got, want := d.Add(v, at), m.add(v, at)
			if d.IsExact() {
				if got != want || d.Count() != m.count() {
					t.Fatalf("op %d Add(%d, %d): %v count %d, model %v count %d", i/2, v, at, got, d.Count(), want, m.count())
				}
				continue
			}
			if n, c := m.count(), d.Count(); math.Abs(float64(c-n)) > 3+0.1*float64(n) {
				t.Fatalf("op %d: sketch count %d, true %d", i/2, c, n)
			}
			if d.Bytes() > cfg.MaxBytes() {
				t.Fatalf("Bytes %d > MaxBytes %d", d.Bytes(), cfg.MaxBytes())
			}
		}
	})
}

// FuzzTable runs fuzzer-chosen Get/Delete/Expire sequences against the reference
// segmented LRU, checking the table's invariants after every operation.
func FuzzTable(f *testing.F) {
	f.Add(uint8(3), []byte{0, 1, 0, 2, 0, 1, 0, 3, 0, 4, 5, 1, 6, 60})
	f.Add(uint8(1), []byte{0, 0, 0, 0, 8, 1, 6, 255})
	seed := make([]byte, 512)
	for i := range seed {
		binary.LittleEndian.PutUint16(seed[i/2*2:], uint16(i*7919))
	}
	f.Add(uint8(16), seed)
	f.Fuzz(func(t *testing.T, maxKeys uint8, ops []byte) {
		runTableOps(t, int(maxKeys%40)+1, ops)
	})
}
