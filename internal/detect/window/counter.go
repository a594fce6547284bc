package window

import (
	"errors"
	"fmt"
)

// MaxBuckets bounds the sub-buckets of a Counter: finer gains little precision
// for the memory it costs per key.
const MaxBuckets = 64

// CounterConfig configures a Counter.
type CounterConfig struct {
	// Window is the length of the window in milliseconds of event time.
	Window int64
	// Buckets is the number of sub-buckets the window is split into: 1 makes a
	// tumbling window (the count restarts at each epoch-aligned boundary); more
	// make a sliding one that moves in steps of Window/Buckets. 10 gives a window
	// accurate to a tenth of its length. 0 means 10.
	Buckets int
}

// Validate reports whether c is usable; call it when loading configuration, since
// Init panics on an invalid config.
func (c CounterConfig) Validate() error {
	b := c.buckets()
	switch {
	case c.Window <= 0:
		return fmt.Errorf("counter window %dms: must be positive", c.Window)
	case b < 1 || b > MaxBuckets:
		return fmt.Errorf("counter buckets %d: must be 1 to %d", c.Buckets, MaxBuckets)
	case c.Window%int64(b) != 0:
		return fmt.Errorf("counter window %dms is not a multiple of its %d buckets", c.Window, b)
	}
	return nil
}

func (c CounterConfig) buckets() int {
	if c.Buckets == 0 {
		return 10
	}
	return c.Buckets
}

// Counter counts events and sums a value over a window of event time (bytes,
// packets, failed logins), in constant memory: a ring of sub-buckets, each the
// count and sum of its slice of the window.
//
// A sliding Counter's Sum and Count cover the current sub-bucket and the
// Buckets-1 before it: between Window-Window/Buckets and Window of event time
// before the latest time seen. A tumbling Counter (Buckets 1) covers from the
// start of the current window.
//
// The zero Counter is not usable; call Init.
type Counter struct {
	width      int64 // sub-bucket length, ms
	head       int64 // index (t / width) of the newest sub-bucket
	sum, count int64 // totals over the ring
	started    bool
	ring       []counterBucket
}

type counterBucket struct{ sum, count int64 }

// Init sets the counter up for cfg and empties it. It reuses the counter's
// buffer when it has one of the right size, so a Table can recycle states
// without allocating. It panics if cfg is invalid (see Validate).
func (c *Counter) Init(cfg CounterConfig) {
	if err := cfg.Validate(); err != nil {
		panic("BUG: window: " + err.Error())
	}
	b := cfg.buckets()
	if cap(c.ring) >= b {
		c.ring = c.ring[:b]
	} else {
		c.ring = make([]counterBucket, b)
	}
	c.width = cfg.Window / int64(b)
	c.Reset()
}

// Reset empties the counter, keeping its configuration.
func (c *Counter) Reset() {
	clear(c.ring)
	c.head, c.sum, c.count, c.started = 0, 0, 0, false
}

// errNotInitialized is the panic of a primitive used before Init: a programming
// error, not a condition of the input.
var errNotInitialized = errors.New("BUG: window: primitive used before Init")

// Add records one event of value v at event time t (v is what Sum adds up: bytes,
// packets, or 1). It reports false, and changes nothing, when t is older than the
// window.
func (c *Counter) Add(t, v int64) bool {
	if c.width == 0 {
		panic(errNotInitialized)
	}
	i := floorDiv(t, c.width)
	if !c.started {
		c.started, c.head = true, i
	} else if i > c.head {
		c.advanceTo(i)
	} else if i <= c.head-int64(len(c.ring)) {
		return false
	}
	b := &c.ring[ringIndex(i, len(c.ring))]
	b.sum += v
	b.count++
	c.sum += v
	c.count++
	return true
}

// Advance moves the counter's time to now without an event, dropping what has
// left the window. An earlier now changes nothing.
func (c *Counter) Advance(now int64) {
	if c.width == 0 {
		panic(errNotInitialized)
	}
	if i := floorDiv(now, c.width); c.started && i > c.head {
		c.advanceTo(i)
	}
}

// advanceTo clears the sub-buckets between the head and i (i > head): at most the
// whole ring, whatever the gap.
func (c *Counter) advanceTo(i int64) {
	n := int64(len(c.ring))
	if i-c.head >= n {
		clear(c.ring)
		c.sum, c.count = 0, 0
	} else {
		for j := c.head + 1; j <= i; j++ {
			b := &c.ring[ringIndex(j, len(c.ring))]
			c.sum -= b.sum
			c.count -= b.count
			*b = counterBucket{}
		}
	}
	c.head = i
}

// Sum returns the sum of the values in the window as of the latest time seen.
func (c *Counter) Sum() int64 { return c.sum }

// Count returns the number of events in the window as of the latest time seen.
func (c *Counter) Count() int64 { return c.count }

// ringIndex is i modulo n as a slice index, also for negative i (times before
// the epoch).
func ringIndex(i int64, n int) int {
	r := i % int64(n)
	if r < 0 {
		r += int64(n)
	}
	return int(r)
}
