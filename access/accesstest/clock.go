package accesstest

import (
	"slices"
	"sync"
	"time"
)

// Clock is a settable clock for tests and the demo: it moves only when told. Its timers
// (After) fire when Advance reaches them.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and fires the timers it reaches.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.t) {
			keep = append(keep, w)
			continue
		}
		w.ch <- c.t
	}
	clear(c.waiters[len(keep):])
	c.waiters = keep
}

// After returns a channel that receives the clock's time once Advance has moved it d on, as
// time.After does on the real clock.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.t.Add(d), ch: ch})
	return ch
}

// Sleepers returns the wake-up times of the timers waiting, earliest first.
func (c *Clock) Sleepers() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, w := range c.waiters {
		out = append(out, w.at)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}
