package tokencache

import "time"

// Clock is the time source of a Cache: Now stamps fetched tokens and
// AfterFunc drives the fresh → stale → expired transitions. Its methods
// must be safe for concurrent use. AfterFunc must run f in its own
// goroutine or synchronously from the code that advances the clock, never
// from inside AfterFunc itself.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer started by Clock.AfterFunc. Stop prevents it from
// firing and reports whether it did so, as time.Timer.Stop does.
type Timer interface {
	Stop() bool
}

// systemClock is the wall clock. Inside a testing/synctest bubble it is the
// bubble's fake clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
