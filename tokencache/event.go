package tokencache

import "time"

// EventKind says what happened to a cache entry.
type EventKind uint8

// The kinds of Event.
const (
	// EventIssued: a fetch succeeded and its token is now served.
	EventIssued EventKind = iota + 1
	// EventStale: the refresh window of the token opened.
	EventStale
	// EventExpired: the token expired before it was replaced.
	EventExpired
	// EventFetchFailed: a fetch failed. Err says why.
	EventFetchFailed
	// EventRecovered: a fetch succeeded after one or more failures.
	EventRecovered
	// EventInvalidated: Invalidate dropped the token.
	EventInvalidated
	// EventShared: a token another process fetched was taken from the
	// shared tier and is now served.
	EventShared
)

func (k EventKind) String() string {
	switch k {
	case EventIssued:
		return "issued"
	case EventStale:
		return "stale"
	case EventExpired:
		return "expired"
	case EventFetchFailed:
		return "fetch-failed"
	case EventRecovered:
		return "recovered"
	case EventInvalidated:
		return "invalidated"
	case EventShared:
		return "shared"
	}
	return "unknown"
}

// Event is a change of a cache entry, passed to Options.OnEvent. It never
// holds a token id.
type Event struct {
	Kind EventKind
	Key  Key
	// Expiry is the local expiry of the token concerned, if any.
	Expiry time.Time
	// Err is the cause of an EventFetchFailed.
	Err error
	// Failures is the number of consecutive failed fetches, for
	// EventFetchFailed and EventRecovered.
	Failures int
}
