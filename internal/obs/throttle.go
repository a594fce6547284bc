// Package obs holds vigil's observability helpers: the throttled reporter that keeps
// a flood of bad records from flooding the terminal or the log, and the process's
// CPU time that benchmarks report work against.
package obs

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Throttle writes messages by key (a reason such as "field count"): the first Burst
// messages of a key are written at once, then at most one per Every, and the count
// of those held back is added to the next message written for that key. The
// number of keys is small by construction (keys are fixed reasons), so its state
// stays small whatever the input.
type Throttle struct {
	Burst int
	Every time.Duration

	mu   sync.Mutex
	w    io.Writer
	now  func() time.Time
	keys map[string]*throttleKey
}

type throttleKey struct {
	sent       int
	last       time.Time
	suppressed int64
}

// NewThrottle returns a Throttle writing to w, with a burst of 5 and then one
// message every 10 seconds per key.
func NewThrottle(w io.Writer) *Throttle {
	return &Throttle{Burst: 5, Every: 10 * time.Second, w: w, now: time.Now, keys: make(map[string]*throttleKey)}
}

// Printf writes the message for key unless the key is over its rate.
func (t *Throttle) Printf(key, format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.keys[key]
	if k == nil {
		k = &throttleKey{}
		t.keys[key] = k
	}
	now := t.now()
	if k.sent >= t.Burst && now.Sub(k.last) < t.Every {
		k.suppressed++
		return
	}
	msg := fmt.Sprintf(format, a...)
	if k.suppressed > 0 {
		msg = fmt.Sprintf("%s (and %d more like it)", msg, k.suppressed)
		k.suppressed = 0
	}
	k.sent++
	k.last = now
	fmt.Fprintln(t.w, msg)
}

// Suppressed returns how many messages are held back and not yet mentioned.
func (t *Throttle) Suppressed() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, k := range t.keys {
		n += k.suppressed
	}
	return n
}
