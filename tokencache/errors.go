package tokencache

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by Token after the Cache was closed.
var ErrClosed = errors.New("tokencache: cache closed")

// FetchError is returned by Token when the fetch of a token failed and no
// valid token was left to serve. It wraps the cause: errors.Is(err,
// identity.ErrUnavailable) and the like match it.
type FetchError struct {
	// Key is the entry whose fetch failed.
	Key Key
	// Err is what the FetchFunc returned.
	Err error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("tokencache: fetch token for %s: %v", e.Key.short(), e.Err)
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// WaitError is returned by Token when the caller's context ended while it
// waited for a fetch. The fetch itself goes on for the other callers. It
// wraps the context's error: errors.Is(err, context.DeadlineExceeded)
// matches a timed-out caller.
type WaitError struct {
	// Key is the entry the caller waited for.
	Key Key
	// Err is ctx.Err() of the caller.
	Err error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("tokencache: gave up waiting for token %s: %v", e.Key.short(), e.Err)
}

// Unwrap returns the context's error.
func (e *WaitError) Unwrap() error { return e.Err }

// errNoToken and errExpiredToken are causes of a FetchError for a
// FetchFunc that broke its contract. The FetchError's message carries the
// package name.
var (
	errNoToken      = errors.New("fetch returned neither a token nor an error")
	errExpiredToken = errors.New("fetch returned a token that has already expired")
)
