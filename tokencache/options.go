package tokencache

import (
	"log/slog"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/observe"
)

// Defaults of Options. Keystone issues tokens for one hour by default; the
// figures below are chosen for that and scale with other lifetimes.
const (
	// defaultRefreshShare opens the refresh window when a quarter of the
	// token's lifetime is left (15 minutes of a 1-hour token). A token
	// POST is expensive (a bcrypt check, a row replicated to every
	// location), so the cache uses 3/4 of each token before replacing it:
	// about 1.33 tokens per identity and hour. The 15 minutes left are the
	// margin in which a Keystone outage, a failover to another location
	// or replication lag is ridden out with retries while requests keep
	// being served.
	defaultRefreshShare = 0.25
	// defaultRefreshFloor keeps the window at least 2 minutes long for
	// short-lived tokens (25% of a 5-minute token would leave 75 s for a
	// fetch that may have to fail over across locations). The floor never
	// makes the window longer than half the lifetime, so a very short
	// token is still used for half of its life.
	defaultRefreshFloor = 2 * time.Minute
	// defaultJitter opens each token's window earlier by a random share of
	// up to 10% of the window (up to 90 s for a 1-hour token), drawn per
	// token. Processes started together (a deploy, a restart after an
	// outage) would otherwise all refresh in the same second; the jitter
	// only ever lengthens the window, never shortens it.
	defaultJitter = 0.10
	// defaultExpiryMargin treats a token as expired 30 s before its local
	// expiry (at most 10% of its lifetime), so that a request does not set
	// out with a token that dies in flight.
	defaultExpiryMargin = 30 * time.Second
	// defaultFetchTimeout bounds one fetch, which may fail over across
	// locations: long enough for a slow inter-location link, short enough
	// that waiters get an answer.
	defaultFetchTimeout = time.Minute
	// defaultBackoffMin and defaultBackoffMax bound the wait after a
	// failed fetch, a background refresh or a cold one: it doubles from 1 s
	// up to 1 minute (then jittered between half and all of that), so a
	// 15-minute window holds more than a dozen tries without hammering a
	// Keystone that is down, and a wrong password costs Keystone about
	// five attempts in the first 10 s and one a minute after that.
	defaultBackoffMin = time.Second
	defaultBackoffMax = time.Minute
)

// Options configure a Cache. The zero value of every field selects its
// default. Options are read by New only; changing them afterwards has no
// effect.
type Options struct {
	// Clock drives expiry and refresh timers. Nil selects the system
	// clock (the fake clock inside a testing/synctest bubble). The clock
	// should be the one the TokenSource stamps identity.Token.Expiry with.
	Clock clock.Clock

	// RefreshShare is the share of a token's lifetime, in (0, 1), left
	// when the refresh window opens. Default 0.25.
	RefreshShare float64
	// RefreshFloor is the shortest refresh window, capped at half the
	// lifetime. Default 2 minutes.
	RefreshFloor time.Duration
	// Jitter is the largest share of the window, in [0, 1], by which a
	// token's window opens early, drawn at random per token. Default
	// 0.10; a negative value disables jitter.
	Jitter float64
	// ExpiryMargin is how long before its expiry a token is no longer
	// served (at most 10% of its lifetime). Default 30 s; a
	// negative value disables the margin.
	ExpiryMargin time.Duration

	// FetchTimeout bounds each fetch. Default 1 minute.
	FetchTimeout time.Duration
	// BackoffMin and BackoffMax bound the exponential, jittered wait
	// after a failed fetch: before the next background refresh while a
	// token is still served, and, when none is left, the time during which
	// every caller gets the failure without a new fetch. Defaults 1 s and
	// 1 minute.
	BackoffMin, BackoffMax time.Duration

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

	// Observer, if set, sees every fetch (observe.Fetch) with its timing
	// and outcome, once per fetch however many Handles share it. Reads are
	// never observed.
	Observer observe.Observer
}

// withDefaults returns o with defaults filled in, or a config error
// listing every option out of range.
func (o Options) withDefaults() (Options, error) {
	if o.RefreshShare == 0 {
		o.RefreshShare = defaultRefreshShare
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = defaultBackoffMin
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = max(defaultBackoffMax, o.BackoffMin)
	}
	var l configerr.List
	if !(o.RefreshShare > 0 && o.RefreshShare < 1) {
		l.Add("refresh_share", "%v is not between 0 and 1", o.RefreshShare)
	}
	if o.RefreshFloor < 0 {
		l.Add("refresh_floor", "%s is negative", o.RefreshFloor)
	}
	if !(o.Jitter <= 1) { // NaN too
		l.Add("jitter", "%v is over 1", o.Jitter)
	}
	if o.FetchTimeout < 0 {
		l.Add("fetch_timeout", "%s is negative", o.FetchTimeout)
	}
	if o.BackoffMin < 0 {
		l.Add("backoff_min", "%s is negative", o.BackoffMin)
	}
	if o.Clock != nil && typednil.Is(o.Clock) {
		l.Add("clock", "a nil %T", o.Clock)
	}
	if o.BackoffMax < o.BackoffMin {
		l.Add("backoff_max", "%s is below backoff_min %s", o.BackoffMax, o.BackoffMin)
	}
	if err := l.Err(); err != nil {
		return o, err
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.RefreshFloor == 0 {
		o.RefreshFloor = defaultRefreshFloor
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = defaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	}
	switch {
	case o.ExpiryMargin == 0:
		o.ExpiryMargin = defaultExpiryMargin
	case o.ExpiryMargin < 0:
		o.ExpiryMargin = 0
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = defaultFetchTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
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
