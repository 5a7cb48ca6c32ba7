package testserver

import (
	"sync"
	"time"
)

// Clock tells the fake cloud what time it is. Token issue and expiry times
// and replication lag are all measured on it. Implementations must be safe
// for concurrent use.
type Clock interface {
	Now() time.Time
}

// realClock is the wall clock, used when Options.Clock is nil.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to, so that expiry and
// replication-lag tests run without waiting. The zero value is not usable;
// call NewManualClock. It is safe for concurrent use.
type ManualClock struct {
	mu     sync.RWMutex
	now    time.Time
	timers []*Timer
}

// Timer is a pending call of ManualClock.AfterFunc.
type Timer struct {
	c    *ManualClock
	when time.Time
	f    func()
}

// Stop cancels the call. It reports whether the call was still pending.
func (t *Timer) Stop() bool {
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

// AfterFunc calls f once the clock has moved d past its current reading.
// The call happens synchronously inside the Advance or Set that moves the
// clock there (never inside AfterFunc itself, even for d <= 0), in due-time
// order, so that a test that advances the clock sees every effect when
// Advance returns.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) *Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Timer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// fire runs, in due-time order, every timer due at the clock's reading,
// including timers that the callbacks themselves schedule as due.
func (c *ManualClock) fire() {
	for {
		c.mu.Lock()
		best := -1
		for i, t := range c.timers {
			if !t.when.After(c.now) && (best < 0 || t.when.Before(c.timers[best].when)) {
				best = i
			}
		}
		if best < 0 {
			c.mu.Unlock()
			return
		}
		t := c.timers[best]
		c.timers = append(c.timers[:best], c.timers[best+1:]...)
		c.mu.Unlock()
		t.f()
	}
}

// NewManualClock returns a ManualClock that reads t0 until advanced.
func NewManualClock(t0 time.Time) *ManualClock {
	return &ManualClock{now: t0}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.now
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.fire()
}

// Set sets the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
	c.fire()
}
