package window

import "fmt"

// LeakyBucketConfig configures a LeakyBucket: it holds Capacity events and leaks
// LeakEvents events every LeakPer milliseconds. CrowdSec's "capacity: 5,
// leakspeed: 10s" is {Capacity: 5, LeakEvents: 1, LeakPer: 10_000}.
type LeakyBucketConfig struct {
	Capacity   int
	LeakEvents int
	LeakPer    int64
}

// Validate reports whether c is usable; call it when loading configuration, since
// Init panics on an invalid config.
func (c LeakyBucketConfig) Validate() error {
	switch {
	case c.Capacity < 1:
		return fmt.Errorf("leaky bucket capacity %d: must be at least 1", c.Capacity)
	case c.LeakEvents < 1 || c.LeakPer < 1:
		return fmt.Errorf("leaky bucket leak %d per %dms: both must be positive", c.LeakEvents, c.LeakPer)
	case c.LeakPer > 1<<40/int64(c.Capacity):
		return fmt.Errorf("leaky bucket capacity %d × %dms: too long to drain", c.Capacity, c.LeakPer)
	case c.LeakPer*1000/int64(c.LeakEvents) < 1:
		return fmt.Errorf("leaky bucket leak %d per %dms: faster than one event per microsecond", c.LeakEvents, c.LeakPer)
	}
	return nil
}

// LeakyBucket is CrowdSec's leaky bucket, driven by event time: each event pours
// one unit in, the bucket leaks at a constant rate, and an event that finds it
// full overflows. It answers "more than Capacity events in a burst, faster than
// the leak rate" (five failed logins in a row, then more than one per ten seconds)
// in 32 bytes, without a timer.
//
// It is computed as the generic cell rate algorithm: the state is the time at
// which the bucket will be empty, in integer microseconds, so there is no floating
// point and no drift; the time to leak one event, LeakPer/LeakEvents, is rounded
// down to the microsecond. An event earlier than the latest one seen is counted at the
// latest time (late events cannot refill a bucket that has leaked).
//
// The zero LeakyBucket is not usable; call Init.
type LeakyBucket struct {
	interval int64 // µs to leak one event
	limit    int64 // Capacity × interval, µs
	empty    int64 // µs (Unix) at which the bucket is empty
	last     int64 // latest event time seen, ms
}

// Init sets the bucket up for cfg and empties it. It panics if cfg is invalid (see
// Validate).
func (b *LeakyBucket) Init(cfg LeakyBucketConfig) {
	if err := cfg.Validate(); err != nil {
		panic("BUG: window: " + err.Error())
	}
	b.interval = cfg.LeakPer * 1000 / int64(cfg.LeakEvents)
	b.limit = int64(cfg.Capacity) * b.interval
	b.Reset()
}

// Reset empties the bucket, keeping its configuration.
func (b *LeakyBucket) Reset() { b.empty, b.last = 0, 0 }

// Add pours one event at event time t. It reports whether the bucket overflowed:
// the event did not fit, and was not poured. A caller that raises a finding on
// overflow usually Resets the bucket then (CrowdSec destroys it); one that does
// not gets true for every event while the rate stays above the leak rate.
func (b *LeakyBucket) Add(t int64) (overflowed bool) {
	if b.interval == 0 {
		panic(errNotInitialized)
	}
	t = max(t, b.last)
	b.last = t
	now := t * 1000
	level := max(b.empty-now, 0)
	if level+b.interval > b.limit {
		return true
	}
	b.empty = now + level + b.interval
	return false
}

// Level returns the number of events in the bucket at event time now (at the
// latest time seen, if now is earlier), fractional while an event leaks.
func (b *LeakyBucket) Level(now int64) float64 {
	if b.interval == 0 {
		panic(errNotInitialized)
	}
	level := max(b.empty-max(now, b.last)*1000, 0)
	return float64(level) / float64(b.interval)
}
