package tokencache

import (
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by Token after the Cache was closed or the Handle
// released.
var ErrClosed = errors.New("tokencache: cache closed")

// FetchError is returned by Token when the fetch of a token failed and no
// valid token was left to serve. It wraps the cause: errors.Is(err,
// identity.ErrUnavailable) and the like match it.
//
// Callers that come within the failure's backoff get the same FetchError
// without another fetch: Retry says when the next fetch may start.
type FetchError struct {
	// Identity describes the entry whose fetch failed: the credential's
	// method and user, and the scope. It holds no secret.
	Identity string
	// Retry is when the next fetch may start; zero if not known.
	Retry time.Time
	// Err is what the TokenSource returned.
	Err error
}

func (e *FetchError) Error() string {
	if e.Retry.IsZero() {
		return fmt.Sprintf("tokencache: fetch token for %s: %v", e.Identity, e.Err)
	}
	return fmt.Sprintf("tokencache: fetch token for %s: %v (next attempt at %s)", e.Identity, e.Err, e.Retry.Format(time.RFC3339))
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// WaitError is returned by Token when the caller's context ended while it
// waited for a fetch. The fetch itself goes on for the other callers. It
// wraps the context's error: errors.Is(err, context.DeadlineExceeded)
// matches a timed-out caller.
type WaitError struct {
	// Identity describes the entry the caller waited for, as in
	// FetchError.
	Identity string
	// Err is ctx.Err() of the caller.
	Err error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("tokencache: gave up waiting for the token of %s: %v", e.Identity, e.Err)
}

// Unwrap returns the context's error.
func (e *WaitError) Unwrap() error { return e.Err }

// errNoToken and errExpiredToken are causes of a FetchError for a
// TokenSource that broke its contract. The FetchError's message carries the
// package name.
var (
	errNoToken      = errors.New("fetch returned neither a token nor an error")
	errExpiredToken = errors.New("fetch returned a token that has already expired")
)
