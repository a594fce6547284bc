package notify

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test advances it. It counts the
// timers it made and those still pending, so that a test can wait until the
// dispatcher's goroutines have gone back to sleep before advancing again.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	pending []*fakeTimer
	created int
	changed chan struct{} // closed and replaced on every timer change
}

type fakeTimer struct {
	c  chan time.Time
	at time.Time
	fc *fakeClock
}

func newFakeClock(start time.Time) *fakeClock {
	return &fakeClock{now: start, changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: make(chan time.Time, 1), at: c.now.Add(d), fc: c}
	c.created++
	if d <= 0 {
		t.c <- c.now
	} else {
		c.pending = append(c.pending, t)
	}
	c.notify()
	return t
}

// notify wakes waiters; c.mu is held.
func (c *fakeClock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	c := t.fc
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.pending {
		if p == t {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			c.notify()
			return true
		}
	}
	return false
}

// Advance moves the clock by d, fires the timers that are due and returns how
// many it fired.
func (c *fakeClock) Advance(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.pending[:0]
	fired := 0
	for _, t := range c.pending {
		if !t.at.After(c.now) {
			t.c <- c.now
			fired++
		} else {
			kept = append(kept, t)
		}
	}
	clear(c.pending[len(kept):])
	c.pending = kept
	c.notify()
	return fired
}

// state returns the timers made so far and those pending.
func (c *fakeClock) state() (created, pending int, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.created, len(c.pending), c.changed
}

// waitIdle waits (in real time) until at least one timer was made after
// `after` and pending timers number `sleepers`: every goroutine of the
// dispatcher sleeps again.
func (c *fakeClock) waitIdle(t *testing.T, after, sleepers int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		created, pending, changed := c.state()
		if created > after && pending == sleepers {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("dispatcher not idle: %d timers made (want > %d), %d pending (want %d)", created, after, pending, sleepers)
		}
	}
}
