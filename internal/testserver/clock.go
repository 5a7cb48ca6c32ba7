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
	mu  sync.RWMutex
	now time.Time
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
}

// Set sets the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
