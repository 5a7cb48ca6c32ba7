package clock

import "time"

// Clock tells the time and runs functions later. Implementations must be
// safe for concurrent use. AfterFunc must run f in its own goroutine, or
// synchronously from the code that moves the clock, never from inside
// AfterFunc itself: callers may hold a lock that f takes.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a call scheduled by Clock.AfterFunc. Stop prevents it and
// reports whether it did so, as time.Timer.Stop does.
type Timer interface {
	Stop() bool
}

// System returns the system clock. Inside a testing/synctest bubble it is
// the bubble's fake clock.
func System() Clock { return system{} }

type system struct{}

func (system) Now() time.Time { return time.Now() }

func (system) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
