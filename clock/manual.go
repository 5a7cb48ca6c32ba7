package clock

import (
	"sync"
	"time"
)

// Manual is a Clock that moves only when told to, so that expiry, refresh
// and cool-down tests run without waiting. The zero value is not usable;
// call NewManual. It is safe for concurrent use.
type Manual struct {
	mu     sync.RWMutex
	now    time.Time
	timers []*manualTimer
}

var _ Clock = (*Manual)(nil)

// NewManual returns a Manual that reads t0 until moved.
func NewManual(t0 time.Time) *Manual { return &Manual{now: t0} }

// Now returns the clock's reading.
func (c *Manual) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.now
}

// AfterFunc calls f once the clock has moved d past its current reading.
// The call happens synchronously inside the Advance or Set that moves the
// clock there (never inside AfterFunc itself, even for d <= 0), in due-time
// order, so that a test that advances the clock sees every effect when
// Advance returns.
func (c *Manual) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d (backward if d is negative) and runs
// the calls that are then due.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.moveTo(target)
}

// Set sets the clock to t and runs the calls that are then due.
func (c *Manual) Set(t time.Time) { c.moveTo(t) }

// Pending reports how many AfterFunc calls are scheduled and not yet run
// or stopped: a test can check that everything it started was stopped.
func (c *Manual) Pending() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.timers)
}

// moveTo runs, in due-time order, every call due by target, including
// calls that the callbacks themselves schedule as due, with the clock
// reading each call's due time while it runs (as a real clock would), and
// then leaves the clock at target.
func (c *Manual) moveTo(target time.Time) {
	for {
		c.mu.Lock()
		best := -1
		for i, t := range c.timers {
			if !t.when.After(target) && (best < 0 || t.when.Before(c.timers[best].when)) {
				best = i
			}
		}
		if best < 0 {
			c.now = target
			c.mu.Unlock()
			return
		}
		t := c.timers[best]
		c.timers = append(c.timers[:best], c.timers[best+1:]...)
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
	}
}

type manualTimer struct {
	c    *Manual
	when time.Time
	f    func()
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, p := range t.c.timers {
		if p == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}
