package window

import (
	"fmt"
	"github.com/vigil-dev/vigil/internal/sketch"
	"unsafe"
)

// DistinctConfig configures a DistinctSet.
type DistinctConfig struct {
	// Window is the length of a generation in milliseconds of event time; 0 means
	// no window (the set only grows until Reset: "ports this instance has ever
	// used").
	Window int64
	// ExactLimit is how many values the set holds exactly before it switches to a
	// sketch. 0 means 1024.
	ExactLimit int
	// Precision is the sketch's p: 2^p registers of one byte, relative standard
	// error about 1.04/√(2^p). 0 means 12 (4 KiB, 1.6 %).
	Precision uint8
}

// The defaults of DistinctConfig.
const (
	DefaultExactLimit = 1024
	DefaultPrecision  = 12
	maxExactLimit     = 1 << 20
)

// Validate reports whether c is usable; call it when loading configuration, since
// Init panics on an invalid config.
func (c DistinctConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Window < 0:
		return fmt.Errorf("distinct window %dms: must not be negative", c.Window)
	case c.ExactLimit < 1 || c.ExactLimit > maxExactLimit:
		return fmt.Errorf("distinct exact limit %d: must be 1 to %d", c.ExactLimit, maxExactLimit)
	case c.Precision < MinPrecision || c.Precision > MaxPrecision:
		return fmt.Errorf("distinct precision %d: must be %d to %d", c.Precision, MinPrecision, MaxPrecision)
	}
	return nil
}

func (c DistinctConfig) withDefaults() DistinctConfig {
	if c.ExactLimit == 0 {
		c.ExactLimit = DefaultExactLimit
	}
	if c.Precision == 0 {
		c.Precision = DefaultPrecision
	}
	return c
}

// MaxBytes returns the most memory one DistinctSet with this configuration holds,
// in bytes: the larger of its exact set at the limit and its sketches, plus the
// struct itself.
func (c DistinctConfig) MaxBytes() int {
	c = c.withDefaults()
	slots := 8
	for slots < 2*c.ExactLimit {
		slots *= 2
	}
	exact := slots * 9
	sketches := 1
	if c.Window > 0 {
		sketches = 2
	}
	sk := int(unsafe.Sizeof(twoSketch{})) + sketches*(1<<c.Precision)
	return int(unsafe.Sizeof(DistinctSet{})) + max(exact, sk)
}

// DistinctSet counts the distinct values seen in a window of event time: ports a
// host connected to, addresses it probed, names it queried. Values are uint64:
// small integers as they are, strings and addresses through HashString and
// HashAddr.
//
// It is exact (an open-addressing hash set) up to ExactLimit values, then switches
// to a HyperLogLog sketch whose memory does not grow with the values; IsExact
// tells which. On switching, the sketch never reports fewer values than the exact
// set knew until the window rolls.
//
// Windowing: time is cut into epoch-aligned generations of length Window, and the
// set holds the current generation and the previous one; Count is the number of
// distinct values in both, that is over the last Window to 2×Window of event time.
// So every burst that fits in Window is counted whole whatever the boundaries (a
// tumbling window could split a scan in two halves that each stay under the
// threshold), at the price of remembering up to one generation more. The same
// semantics hold exact or sketched: a sketch keeps the current generation and the
// union of both, each 2^Precision bytes. When both generations are empty the set
// drops its sketch and becomes exact again.
//
// The zero DistinctSet is not usable; call Init.
type DistinctSet struct {
	window  int64
	gen     int64 // current generation: t / window (0 without a window)
	limit   int32
	n       int32 // values held, exact mode
	floor   int32 // lower bound of Count in sketch mode until the next roll
	p       uint8
	started bool
	zero    uint8 // flags of the value whose mix is 0 (the empty-slot marker)

	vals  []uint64 // mixed values, 0 = empty slot; len is a power of two
	flags []uint8  // flagCur | flagPrev per slot
	sk    *twoSketch
}

// twoSketch is the sketch state: union is every value of both generations (the
// count); cur is the current generation alone, which becomes the union when the
// window rolls. Without a window only union is used.
type twoSketch struct {
	union, cur sketch.HLL
}

const (
	flagCur  = 1
	flagPrev = 2
)

// Init sets the set up for cfg and empties it, reusing its exact-set buffers. It
// panics if cfg is invalid (see Validate).
func (d *DistinctSet) Init(cfg DistinctConfig) {
	if err := cfg.Validate(); err != nil {
		panic("BUG: window: " + err.Error())
	}
	cfg = cfg.withDefaults()
	d.window, d.limit, d.p = cfg.Window, int32(cfg.ExactLimit), cfg.Precision
	d.Reset()
}

// Reset empties the set, keeping its configuration and its exact-set buffers and
// dropping its sketch.
func (d *DistinctSet) Reset() {
	d.gen, d.n, d.floor, d.started, d.zero, d.sk = 0, 0, 0, false, 0, nil
	clear(d.vals)
	clear(d.flags)
}

// IsExact reports whether the set still holds its values exactly.
func (d *DistinctSet) IsExact() bool { return d.sk == nil }

// Count returns the number of distinct values in the window as of the latest time
// seen: exact while IsExact, else the sketch's estimate.
func (d *DistinctSet) Count() int {
	if d.sk == nil {
		return int(d.n)
	}
	return max(int(d.sk.union.Estimate()+0.5), int(d.floor))
}

// Add adds value v seen at event time t. It reports whether the count grew: in
// exact mode, whether v was not yet in the window; in sketch mode, whether a
// register changed (a new value can leave the sketch unchanged, about as often as
// the sketch's error). A value older than the previous generation is dropped and
// Add reports false.
func (d *DistinctSet) Add(v uint64, t int64) bool {
	if d.limit == 0 {
		panic(errNotInitialized)
	}
	var g int64
	if d.window > 0 {
		g = floorDiv(t, d.window)
	}
	switch {
	case !d.started:
		d.started, d.gen = true, g
	case g > d.gen:
		d.roll(g)
	case g < d.gen-1:
		return false
	}
	late := g < d.gen
	x := mix(v)
	if d.sk != nil {
		grew := d.sk.union.Insert(x)
		if d.window > 0 && !late {
			d.sk.cur.Insert(x)
		}
		return grew
	}
	bit := uint8(flagCur)
	if late {
		bit = flagPrev
	}
	if x == 0 {
		was := d.zero
		if was == 0 && d.n == d.limit {
			d.toSketch()
			return d.Add(v, t)
		}
		d.zero |= bit
		if was == 0 {
			d.n++
		}
		return was == 0
	}
	mask := uint64(len(d.vals) - 1)
	if len(d.vals) > 0 {
		for i := x & mask; d.vals[i] != 0; i = (i + 1) & mask {
			if d.vals[i] == x {
				d.flags[i] |= bit
				return false
			}
		}
	}
	if d.n == d.limit {
		d.toSketch()
		return d.Add(v, t)
	}
	if int(d.n+1)*2 > len(d.vals) {
		d.grow()
	}
	d.insertExact(x, bit)
	d.n++
	return true
}

// insertExact puts x, known to be absent and non-zero, in the table.
func (d *DistinctSet) insertExact(x uint64, f uint8) {
	mask := uint64(len(d.vals) - 1)
	i := x & mask
	for d.vals[i] != 0 {
		i = (i + 1) & mask
	}
	d.vals[i], d.flags[i] = x, f
}

// grow doubles the exact table (at least 8 slots), keeping it at most half full.
func (d *DistinctSet) grow() {
	oldV, oldF := d.vals, d.flags
	n := max(8, 2*len(oldV))
	d.vals, d.flags = make([]uint64, n), make([]uint8, n)
	for i, x := range oldV {
		if x != 0 {
			d.insertExact(x, oldF[i])
		}
	}
}

// toSketch moves the exact values into a new sketch and drops the exact table. It
// is called when a new value arrives at a full set, so the window holds at least
// one value more than the exact set did: that is the count's floor until the roll.
func (d *DistinctSet) toSketch() {
	sk := &twoSketch{}
	sk.union.Init(d.p)
	if d.window > 0 {
		sk.cur.Init(d.p)
	}
	add := func(x uint64, f uint8) {
		sk.union.Insert(x)
		if d.window > 0 && f&flagCur != 0 {
			sk.cur.Insert(x)
		}
	}
	if d.zero != 0 {
		add(0, d.zero)
	}
	for i, x := range d.vals {
		if x != 0 {
			add(x, d.flags[i])
		}
	}
	d.floor = d.n + 1
	d.sk, d.vals, d.flags, d.n, d.zero = sk, nil, nil, 0, 0
}

// Advance moves the set's time to now without a value, rolling generations. An
// earlier now changes nothing.
func (d *DistinctSet) Advance(now int64) {
	if d.limit == 0 {
		panic(errNotInitialized)
	}
	if d.window > 0 && d.started {
		if g := floorDiv(now, d.window); g > d.gen {
			d.roll(g)
		}
	}
}

// roll moves to generation g > d.gen: the current generation becomes the previous
// one and the previous one is forgotten (both, if g skips one or more).
func (d *DistinctSet) roll(g int64) {
	steps := g - d.gen
	d.gen, d.floor = g, 0
	if d.sk != nil {
		if steps == 1 && !d.sk.cur.Empty() {
			d.sk.union.CopyFrom(&d.sk.cur)
			d.sk.cur.Reset()
			return
		}
		d.sk = nil // both generations empty: exact again, the sketch's memory freed
		return
	}
	if steps > 1 {
		clear(d.vals)
		clear(d.flags)
		d.n, d.zero = 0, 0
		return
	}
	// Current → previous; values only in the previous generation leave.
	d.zero = (d.zero & flagCur) << 1
	n := int32(0)
	if d.zero != 0 {
		n++
	}
	for i, x := range d.vals {
		if x != 0 {
			d.flags[i] = (d.flags[i] & flagCur) << 1
		}
	}
	for i := 0; i < len(d.vals); {
		if d.vals[i] != 0 && d.flags[i] == 0 {
			d.deleteAt(i) // may move a later value into i: look at i again
			continue
		}
		i++
	}
	// Counted apart: a deletion near the end can wrap a counted value from the
	// start into a slot the sweep visits again.
	for _, x := range d.vals {
		if x != 0 {
			n++
		}
	}
	d.n = n
}

// deleteAt empties slot i and shifts back the values of its probe run that would
// otherwise be unreachable (linear-probing deletion without tombstones). Values
// only move into the hole from after it, so a forward sweep that re-examines i
// sees every value once or more (a value wrapped from the start to the end is seen
// twice, harmlessly: it has survived).
func (d *DistinctSet) deleteAt(i int) {
	mask := len(d.vals) - 1
	j := i
	for {
		j = (j + 1) & mask
		x := d.vals[j]
		if x == 0 {
			break
		}
		k := int(x) & mask // home slot of x
		// x may move to i unless its home lies cyclically in (i, j].
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		d.vals[i], d.flags[i] = x, d.flags[j]
		i = j
	}
	d.vals[i], d.flags[i] = 0, 0
}

// Bytes returns the memory the set holds, in bytes (struct, exact table, sketch).
func (d *DistinctSet) Bytes() int {
	b := int(unsafe.Sizeof(*d)) + cap(d.vals)*8 + cap(d.flags)
	if d.sk != nil {
		b += int(unsafe.Sizeof(*d.sk)) + d.sk.union.RegisterBytes() + d.sk.cur.RegisterBytes()
	}
	return b
}

// The precision bounds of a distinct set's sketch.
const (
	MinPrecision = sketch.MinPrecision
	MaxPrecision = sketch.MaxPrecision
)
