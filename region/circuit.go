package region

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// CircuitState is the health verdict on one auth_url.
type CircuitState int

const (
	// CircuitClosed: the auth_url is healthy and gets traffic.
	CircuitClosed CircuitState = iota
	// CircuitOpen: the auth_url failed FailureThreshold times in a row and gets
	// no traffic until its cool-down has passed.
	CircuitOpen
	// CircuitHalfOpen: the cool-down has passed; one probe request at a time may
	// go to the auth_url, and its outcome closes or reopens the circuit.
	CircuitHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s CircuitState) String() string {
	switch s {
	case CircuitClosed:
		return "closed"
	case CircuitOpen:
		return "open"
	case CircuitHalfOpen:
		return "half-open"
	}
	return "unknown"
}

// outcome is how an attempt at an auth_url ended, as far as its health is
// concerned.
type outcome int

const (
	// answered: Keystone answered (success or a 4xx): the auth_url is alive.
	answered outcome = iota
	// fault: connection error, timeout, 5xx or unusable answer.
	fault
	// abandoned: no verdict (the caller gave up, or no request was sent).
	abandoned
)

// circuit is the breaker of one auth_url. Its state is guarded by its own
// mutex, held for a few instructions only; the counters are atomic.
type circuit struct {
	authURL  string
	location string
	primary  bool

	threshold int
	coolDown  time.Duration
	logger    *slog.Logger

	mu      sync.Mutex
	open    bool      // open or half-open
	until   time.Time // end of the cool-down, when open
	probing bool      // the half-open probe is in flight
	streak  int       // consecutive faults while closed

	attempts atomic.Uint64
	faults   atomic.Uint64
	skips    atomic.Uint64
	opens    atomic.Uint64
}

// acquire asks to send a request at time now. It returns ok if the request
// may go, and probe if it is the circuit's half-open probe, whose outcome
// must be reported with probe set. With early, an open circuit whose
// cool-down has not passed yet may be probed too (used when every circuit
// is open).
func (c *circuit) acquire(now time.Time, early bool) (ok, probe bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open {
		return true, false
	}
	if c.probing || (!early && now.Before(c.until)) {
		return false, false
	}
	c.probing = true
	return true, true
}

// usable reports whether acquire(now, false) would let a request through.
func (c *circuit) usable(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.open || (!c.probing && !now.Before(c.until))
}

// state returns the circuit's state at time now.
func (c *circuit) state(now time.Time) (CircuitState, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.open:
		return CircuitClosed, c.streak
	case c.probing || !now.Before(c.until):
		return CircuitHalfOpen, c.streak
	}
	return CircuitOpen, c.streak
}

// report records the outcome of a request let through by acquire.
func (c *circuit) report(o outcome, probe bool, now time.Time) {
	if o == fault {
		c.faults.Add(1)
	}
	var event string
	c.mu.Lock()
	if probe {
		c.probing = false
	}
	switch o {
	case answered:
		c.streak = 0
		if c.open {
			c.open = false
			event = "closed"
		}
	case fault:
		if c.open {
			// A failed probe (or a late failure) starts a new cool-down.
			if probe {
				c.until = now.Add(c.coolDown)
				event = "reopened"
			}
			break
		}
		c.streak++
		if c.streak >= c.threshold {
			c.open = true
			c.until = now.Add(c.coolDown)
			event = "opened"
		}
	}
	streak := c.streak
	c.mu.Unlock()

	switch event {
	case "opened", "reopened":
		c.opens.Add(1)
		if c.logger != nil {
			c.logger.Warn("region: circuit "+event, "auth_url", c.authURL, "location", c.location,
				"consecutive_failures", streak, "cool_down", c.coolDown)
		}
	case "closed":
		if c.logger != nil {
			c.logger.Info("region: circuit closed", "auth_url", c.authURL, "location", c.location)
		}
	}
}
