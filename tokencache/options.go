package tokencache

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/geostack/geostack/identity"
)

// Defaults of Options. Keystone issues tokens for one hour by default; the
// figures below are chosen for that and scale with other lifetimes.
const (
	// DefaultRefreshShare opens the refresh window when a quarter of the
	// token's lifetime is left (15 minutes of a 1-hour token). A token
	// POST is expensive (a bcrypt check, a row replicated to every
	// location), so the cache uses 3/4 of each token before replacing it:
	// about 1.33 tokens per identity and hour. The 15 minutes left are the
	// margin in which a Keystone outage, a failover to another location
	// or replication lag is ridden out with retries while requests keep
	// being served.
	DefaultRefreshShare = 0.25
	// DefaultRefreshFloor keeps the window at least 2 minutes long for
	// short-lived tokens (25% of a 5-minute token would leave 75 s for a
	// fetch that may have to fail over across locations). The floor never
	// makes the window longer than half the lifetime, so a very short
	// token is still used for half of its life.
	DefaultRefreshFloor = 2 * time.Minute
	// DefaultJitter opens each token's window earlier by a random share of
	// up to 10% of the window (up to 90 s for a 1-hour token), drawn per
	// token. Processes started together (a deploy, a restart after an
	// outage) would otherwise all refresh in the same second; the jitter
	// only ever lengthens the window, never shortens it.
	DefaultJitter = 0.10
	// DefaultExpiryMargin treats a token as expired 30 s before its local
	// expiry (at most 10% of its lifetime), so that a request does not set
	// out with a token that dies in flight.
	DefaultExpiryMargin = 30 * time.Second
	// DefaultFetchTimeout bounds one fetch, which may fail over across
	// locations: long enough for a slow inter-location link, short enough
	// that waiters get an answer.
	DefaultFetchTimeout = time.Minute
	// DefaultBackoffMin and DefaultBackoffMax bound the wait between
	// failed background refreshes: it doubles from 1 s up to 1 minute (then
	// jittered between half and all of that), so a 15-minute window holds
	// more than a dozen tries without hammering a Keystone that is down.
	DefaultBackoffMin = time.Second
	DefaultBackoffMax = time.Minute
)

// Options configure a Cache. The zero value of every field selects its
// default. Options are read by New only; changing them afterwards has no
// effect.
type Options struct {
	// Clock drives expiry and refresh timers. Nil selects the system
	// clock (the fake clock inside a testing/synctest bubble). The clock
	// should be the one the FetchFunc stamps identity.Token.Expiry with.
	Clock Clock

	// RefreshShare is the share of a token's lifetime, in (0, 1), left
	// when the refresh window opens. Default DefaultRefreshShare.
	RefreshShare float64
	// RefreshFloor is the shortest refresh window, capped at half the
	// lifetime. Default DefaultRefreshFloor.
	RefreshFloor time.Duration
	// Jitter is the largest share of the window, in [0, 1], by which a
	// token's window opens early, drawn at random per token. Default
	// DefaultJitter; a negative value disables jitter.
	Jitter float64
	// ExpiryMargin is how long before its expiry a token is no longer
	// served (at most 10% of its lifetime). Default DefaultExpiryMargin; a
	// negative value disables the margin.
	ExpiryMargin time.Duration

	// FetchTimeout bounds each fetch. Default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// BackoffMin and BackoffMax bound the exponential, jittered wait
	// between failed background refreshes. Defaults DefaultBackoffMin and
	// DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration

	// CountReads makes every Token call count in Stats.Hits or
	// Stats.StaleHits. A read is then an atomic add on a striped counter
	// besides the load: lock-free and allocation-free, but several times
	// the cost of the load alone (see BenchmarkTokenRead). Off by default:
	// Handle.Transport counts every request it sends in Stats.Hits or
	// Stats.StaleHits anyway, where the add is noise beside the round trip.
	CountReads bool

	// Shared is the optional second tier, shared with other processes
	// through a Store (memcached): an L1 miss, cold, expired or a
	// refresh, reads it before asking Keystone, and a fetched token is
	// written to it. Nil: no second tier. Processes sharing it should use
	// the same refresh options, since they decide how long an entry is
	// served. See the package doc.
	Shared *Shared

	// Logger receives refresh failures (once per failure episode) and
	// recoveries. Tokens are never logged. Nil discards.
	Logger *slog.Logger
	// OnEvent, if set, is called for every Event, synchronously and
	// without locks held. It must not block.
	OnEvent func(Event)
}

// Validate reports, as an *OptionError, the first option that is out of
// range. New panics on such options; a caller that takes options from
// configuration checks them with Validate first.
func (o Options) Validate() error {
	return o.withZeroDefaults().check()
}

// OptionError is an option out of range.
type OptionError struct {
	// Option is the field of Options, such as "RefreshShare".
	Option string
	// Value is its value.
	Value any
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("tokencache: option %s out of range: %v", e.Option, e.Value)
}

// withZeroDefaults fills in the defaults of the numeric options only, so
// that check sees what New would use.
func (o Options) withZeroDefaults() Options {
	if o.RefreshShare == 0 {
		o.RefreshShare = DefaultRefreshShare
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffMin)
	}
	return o
}

// check reports the first option out of range, on options whose defaults
// are filled in.
func (o Options) check() error {
	switch {
	case !(o.RefreshShare > 0 && o.RefreshShare < 1):
		return &OptionError{"RefreshShare", o.RefreshShare}
	case o.RefreshFloor < 0:
		return &OptionError{"RefreshFloor", o.RefreshFloor}
	case !(o.Jitter <= 1): // NaN too
		return &OptionError{"Jitter", o.Jitter}
	case o.FetchTimeout < 0:
		return &OptionError{"FetchTimeout", o.FetchTimeout}
	case o.BackoffMin < 0:
		return &OptionError{"BackoffMin", o.BackoffMin}
	case o.BackoffMax < o.BackoffMin:
		return &OptionError{"BackoffMax", o.BackoffMax}
	}
	return nil
}

// withDefaults returns o with defaults filled in, or panics saying which
// option is out of range.
func (o Options) withDefaults() Options {
	o = o.withZeroDefaults()
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.RefreshFloor == 0 {
		o.RefreshFloor = DefaultRefreshFloor
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	}
	switch {
	case o.ExpiryMargin == 0:
		o.ExpiryMargin = DefaultExpiryMargin
	case o.ExpiryMargin < 0:
		o.ExpiryMargin = 0
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := o.check(); err != nil {
		panic(err.Error())
	}
	return o
}

// refreshWindow returns how long before expiry the refresh window of a
// token with the given lifetime opens; u in [0, 1) is the token's random
// draw. The window is RefreshShare of the lifetime, at least RefreshFloor,
// at most half the lifetime, then lengthened by up to Jitter of itself.
func (o *Options) refreshWindow(lifetime time.Duration, u float64) time.Duration {
	w := max(time.Duration(float64(lifetime)*o.RefreshShare), o.RefreshFloor)
	w = min(w, lifetime/2)
	return w + time.Duration(float64(w)*o.Jitter*u)
}

// sharedUntil returns until when a token fetched at now may be served from
// the shared tier: until the earliest its refresh window may open in any
// process with these options (the largest jitter draw), so that no process
// picks up a token whose refresh is due, and no later than its expiry
// margin.
func (o *Options) sharedUntil(tok *identity.Token, now time.Time) time.Time {
	life := tokenLife(tok, now)
	return tok.Expiry.Add(-max(o.refreshWindow(life, 1), o.expiryMargin(life)))
}

// tokenLife is the lifetime of tok: what Keystone granted, or what is left
// at now if Keystone's times are unknown.
func tokenLife(tok *identity.Token, now time.Time) time.Duration {
	if granted := tok.ExpiresAt.Sub(tok.IssuedAt); !tok.IssuedAt.IsZero() && granted > 0 {
		return granted
	}
	return tok.Expiry.Sub(now)
}

// expiryMargin returns how long before its expiry a token of the given
// lifetime stops being served.
func (o *Options) expiryMargin(lifetime time.Duration) time.Duration {
	return min(o.ExpiryMargin, lifetime/10)
}

// backoff returns the wait before the next try after the n-th consecutive
// failure (n ≥ 1); u in [0, 1) is a random draw. The wait doubles from
// BackoffMin up to BackoffMax and is then jittered between half and all of
// itself.
func (o *Options) backoff(n int, u float64) time.Duration {
	d := o.BackoffMin
	for i := 1; i < n && d < o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.BackoffMax)
	return d/2 + time.Duration(float64(d/2)*u)
}
