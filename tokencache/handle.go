package tokencache

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/geostack/geostack/identity"
)

// state is where a published entry stands.
type state uint8

const (
	// stateFresh: the token is served as is.
	stateFresh state = iota
	// stateStale: the refresh window is open and no refresh runs; the
	// first reader swaps in the entry's next (stateRefreshing) entry and
	// starts the refresh.
	stateStale
	// stateRefreshing: the refresh window is open and a refresh runs or
	// waits out its backoff; the token is served.
	stateRefreshing
	// stateExpired: no usable token; readers wait for a fetch.
	stateExpired
	// stateClosed: the cache is closed.
	stateClosed
)

// entry is what a Handle publishes. It is immutable: every change of state
// publishes a new entry.
type entry struct {
	tok   *identity.Token
	state state
	// next is, for a stateStale entry, the stateRefreshing entry of the
	// same token, allocated in advance so that readers never allocate.
	next *entry
}

// usable reports whether e holds a token that may be served.
func (e *entry) usable() bool {
	return e != nil && (e.state == stateFresh || e.state == stateStale || e.state == stateRefreshing)
}

var (
	expiredEntry = &entry{state: stateExpired}
	closedEntry  = &entry{state: stateClosed}
)

func newStaleEntry(tok *identity.Token) *entry {
	return &entry{tok: tok, state: stateStale, next: &entry{tok: tok, state: stateRefreshing}}
}

// flightKey is the single key of a Handle's singleflight group.
const flightKey = "token"

// Handle is the cache entry of one Key. Clients keep a Handle and call
// Token for every request. It is safe for concurrent use.
type Handle struct {
	c     *Cache
	key   Key
	fetch FetchFunc

	// cur is the published entry, never nil: expiredEntry until the
	// first fetch.
	cur atomic.Pointer[entry]
	// countReads is Options.CountReads.
	countReads bool
	// _ keeps the counters, which readers write, off the cache line of
	// cur, which readers only load.
	_         [64]byte
	hits      counter
	staleHits counter

	flight singleflight.Group

	// mu serialises the publishers of cur (fetches, timers, Invalidate,
	// close). Readers never take it; their one write is the CAS from a
	// stale entry to its refreshing successor.
	mu       sync.Mutex
	timer    Timer  // the current token's stale or expiry timer
	retry    Timer  // the backoff timer of a failed refresh
	failures int    // consecutive failed fetches
	rejected string // the id of the token last invalidated

	issued, fromShared, refreshes, failed, coalesced, invalidations atomic.Uint64
}

// Key returns the key of the Handle.
func (h *Handle) Key() Key { return h.key }

// Token returns the cached token. A fresh or stale token is returned at
// once without a lock, a clock read or an allocation (and, unless
// Options.CountReads, without any write to shared memory); a stale one also
// starts the background refresh if none runs. When no usable token is
// cached, Token waits for the one coalesced fetch, or until ctx ends
// (*WaitError wrapping ctx.Err()). A failed fetch returns a *FetchError;
// a closed cache ErrClosed. The token is shared: callers must not modify it.
func (h *Handle) Token(ctx context.Context) (*identity.Token, error) {
	if e := h.cur.Load(); e.state == stateFresh && !h.countReads {
		return e.tok, nil
	}
	return h.token(ctx, h.countReads)
}

// token is Token's path for everything but an uncounted fresh read. It
// counts the read in Stats if count is set.
func (h *Handle) token(ctx context.Context, count bool) (*identity.Token, error) {
	e := h.cur.Load()
	switch e.state {
	case stateFresh:
		if count {
			h.hits.inc()
		}
		return e.tok, nil
	case stateRefreshing:
		if count {
			h.staleHits.inc()
		}
		return e.tok, nil
	case stateStale:
		if count {
			h.staleHits.inc()
		}
		if h.cur.CompareAndSwap(e, e.next) {
			h.refreshes.Add(1)
			h.flight.DoChan(flightKey, func() (any, error) { return h.fetchAndInstall(ctx, true) })
		}
		return e.tok, nil
	case stateClosed:
		return nil, ErrClosed
	}
	return h.wait(ctx)
}

// wait joins or starts the fetch and waits for it on ctx.
func (h *Handle) wait(ctx context.Context) (*identity.Token, error) {
	var mine atomic.Bool
	ch := h.flight.DoChan(flightKey, func() (any, error) {
		mine.Store(true)
		return h.fetchAndInstall(ctx, false)
	})
	select {
	case r := <-ch:
		if !mine.Load() {
			h.coalesced.Add(1)
		}
		tok, _ := r.Val.(*identity.Token)
		if r.Err != nil || tok == nil {
			return nil, cmp.Or(r.Err, error(&FetchError{Key: h.key, Err: errNoToken}))
		}
		return tok, nil
	case <-ctx.Done():
		return nil, &WaitError{Key: h.key, Err: ctx.Err()}
	case <-h.c.closing.Done():
		return nil, ErrClosed
	}
}

// fetchAndInstall runs one fetch and publishes its token. It runs inside
// the singleflight group, so at most one runs per Handle. Unless refresh
// is set it first checks whether a fetch that just finished left a usable
// token, so that a caller arriving between two flights does not fetch
// again.
func (h *Handle) fetchAndInstall(ctx context.Context, refresh bool) (*identity.Token, error) {
	if !h.c.enter() {
		return nil, ErrClosed
	}
	defer h.c.wg.Done()
	if e := h.cur.Load(); !refresh && e.usable() {
		return e.tok, nil
	}

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.c.opts.FetchTimeout)
	defer cancel()
	defer context.AfterFunc(h.c.closing, cancel)()
	var (
		tok       *identity.Token
		fromStore bool
		err       error
	)
	if sh := h.c.opts.Shared; sh != nil {
		tok, fromStore, err = h.fetchShared(fctx, sh)
	} else {
		tok, err = h.fetchChecked(fctx)
	}
	now := h.c.opts.Clock.Now()
	if err != nil {
		h.failed.Add(1)
		ferr := &FetchError{Key: h.key, Err: err}
		h.fail(ferr)
		return nil, ferr
	}
	if fromStore {
		h.fromShared.Add(1)
	} else {
		h.issued.Add(1)
	}
	h.install(tok, now, fromStore)
	return tok, nil
}

// fetchChecked calls the FetchFunc and checks that it kept its contract.
func (h *Handle) fetchChecked(ctx context.Context) (*identity.Token, error) {
	tok, err := h.fetch(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case tok == nil:
		return nil, errNoToken
	case !h.c.opts.Clock.Now().Before(tok.Expiry):
		return nil, errExpiredToken
	}
	return tok, nil
}

// fetchShared gets a token through the shared tier: one another process
// fetched, or else one fetched here and shared. A token in the Store that
// this Handle already holds (a refresh) or that was rejected here
// (Invalidate) is passed over.
func (h *Handle) fetchShared(ctx context.Context, sh *Shared) (*identity.Token, bool, error) {
	h.mu.Lock()
	var current string
	if e := h.cur.Load(); e.tok != nil {
		current = e.tok.ID
	}
	rejected := h.rejected
	h.mu.Unlock()
	accept := func(t *identity.Token) bool { return t.ID != current && t.ID != rejected }
	tok, _, fromStore, err := sh.fill(ctx, tokenLogical(h.key), accept, func(ctx context.Context) (*identity.Token, time.Time, error) {
		tok, err := h.fetchChecked(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		return tok, h.c.opts.sharedUntil(tok, h.c.opts.Clock.Now()), nil
	})
	return tok, fromStore, err
}

// install publishes tok, fetched at now (from the shared tier if
// fromStore), and starts its timers.
func (h *Handle) install(tok *identity.Token, now time.Time, fromStore bool) {
	o := &h.c.opts
	life := tokenLife(tok, now)
	staleAt := tok.Expiry.Add(-o.refreshWindow(life, rand.Float64()))
	expireAt := tok.Expiry.Add(-o.expiryMargin(life))

	h.mu.Lock()
	if h.cur.Load() == closedEntry {
		h.mu.Unlock()
		return
	}
	// A refresh that gained no lifetime means the credential cannot renew
	// the token (a token credential's tokens keep their parent's expiry):
	// the token is served to its end without another refresh, instead of
	// being refreshed ever more often as its window shrinks.
	prev := h.cur.Load()
	final := prev.usable() && !tok.ExpiresAt.After(prev.tok.ExpiresAt)
	h.stopTimers()
	failures := h.failures
	h.failures = 0
	var e *entry
	if final && now.Before(expireAt) {
		e = &entry{tok: tok, state: stateFresh}
		h.timer = o.Clock.AfterFunc(expireAt.Sub(now), func() { h.markExpired(tok) })
	} else if now.Before(staleAt) {
		e = &entry{tok: tok, state: stateFresh}
		h.timer = o.Clock.AfterFunc(staleAt.Sub(now), func() { h.markStale(tok, expireAt) })
	} else {
		// Already inside its window (a token that was old when fetched).
		// Published as refreshing, since a reader's refresh would only
		// join the flight that is installing it; the retry timer makes it
		// stale, and so refreshable, once that flight is over.
		e = &entry{tok: tok, state: stateRefreshing}
		h.timer = o.Clock.AfterFunc(max(expireAt.Sub(now), 0), func() { h.markExpired(tok) })
		h.retry = o.Clock.AfterFunc(o.BackoffMin, func() { h.retryRefresh(tok) })
	}
	h.cur.Store(e)
	h.mu.Unlock()

	kind := EventIssued
	if fromStore {
		kind = EventShared
	}
	h.c.emit(Event{Kind: kind, Key: h.key, Expiry: tok.Expiry})
	if failures > 0 {
		h.c.opts.Logger.Info("tokencache: token fetch recovered",
			slog.String("key", h.key.short()), slog.Int("failures", failures))
		h.c.emit(Event{Kind: EventRecovered, Key: h.key, Expiry: tok.Expiry, Failures: failures})
	}
}

// markStale opens the refresh window of tok, if it is still the fresh
// token, and starts its expiry timer.
func (h *Handle) markStale(tok *identity.Token, expireAt time.Time) {
	if !h.c.enter() {
		return
	}
	defer h.c.wg.Done()
	h.mu.Lock()
	if e := h.cur.Load(); e == nil || e.tok != tok || e.state != stateFresh {
		h.mu.Unlock()
		return
	}
	h.cur.Store(newStaleEntry(tok))
	clock := h.c.opts.Clock
	h.timer = clock.AfterFunc(max(expireAt.Sub(clock.Now()), 0), func() { h.markExpired(tok) })
	h.mu.Unlock()
	h.c.emit(Event{Kind: EventStale, Key: h.key, Expiry: tok.Expiry})
}

// markExpired drops tok, if it is still the current token.
func (h *Handle) markExpired(tok *identity.Token) {
	if !h.c.enter() {
		return
	}
	defer h.c.wg.Done()
	h.mu.Lock()
	if e := h.cur.Load(); e == nil || e.tok != tok {
		h.mu.Unlock()
		return
	}
	h.cur.Store(expiredEntry)
	h.stopTimers()
	h.mu.Unlock()
	h.c.emit(Event{Kind: EventExpired, Key: h.key, Expiry: tok.Expiry})
}

// fail records a failed fetch. While a still-valid token is being served,
// it schedules the next refresh after a jittered backoff. The first
// failure of an episode is logged; the others are not.
func (h *Handle) fail(ferr *FetchError) {
	h.mu.Lock()
	e := h.cur.Load()
	if e == closedEntry {
		h.mu.Unlock()
		return
	}
	h.failures++
	n := h.failures
	serving := e != nil && e.state == stateRefreshing
	if serving {
		tok := e.tok
		if h.retry != nil {
			h.retry.Stop()
		}
		h.retry = h.c.opts.Clock.AfterFunc(h.c.opts.backoff(n, rand.Float64()), func() { h.retryRefresh(tok) })
	}
	h.mu.Unlock()

	if n == 1 {
		if serving {
			h.c.opts.Logger.Warn("tokencache: token refresh failed; serving the current token while retrying",
				slog.String("key", h.key.short()), slog.Time("expiry", e.tok.Expiry), slog.String("error", ferr.Err.Error()))
		} else {
			h.c.opts.Logger.Error("tokencache: token fetch failed and no valid token is cached",
				slog.String("key", h.key.short()), slog.String("error", ferr.Err.Error()))
		}
	}
	ev := Event{Kind: EventFetchFailed, Key: h.key, Err: ferr.Err, Failures: n}
	if serving {
		ev.Expiry = e.tok.Expiry
	}
	h.c.emit(ev)
}

// retryRefresh ends the backoff after a failed refresh of tok: the entry
// becomes stale again, and the next reader starts a new refresh.
func (h *Handle) retryRefresh(tok *identity.Token) {
	if !h.c.enter() {
		return
	}
	defer h.c.wg.Done()
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.cur.Load(); e != nil && e.tok == tok && e.state == stateRefreshing {
		h.cur.Store(newStaleEntry(tok))
	}
	h.retry = nil
}

// Invalidate drops the cached token if its id is still rejectedID (a
// compare-and-swap), and reports whether it did. Call it when a service
// rejected the token; the next Token fetches a new one. Callers that
// report a token already replaced change nothing, so many callers
// reporting the same rejected token cause one refetch.
func (h *Handle) Invalidate(rejectedID string) bool {
	h.mu.Lock()
	e := h.cur.Load()
	if e == nil || e.tok == nil || e.tok.ID != rejectedID {
		h.mu.Unlock()
		return false
	}
	h.cur.Store(expiredEntry)
	h.rejected = rejectedID
	h.stopTimers()
	h.mu.Unlock()
	h.invalidations.Add(1)
	h.c.emit(Event{Kind: EventInvalidated, Key: h.key, Expiry: e.tok.Expiry})
	return true
}

// Stats returns the counters of this Handle.
func (h *Handle) Stats() Stats {
	return Stats{
		Issued:        h.issued.Load(),
		FromShared:    h.fromShared.Load(),
		Hits:          h.hits.load(),
		StaleHits:     h.staleHits.load(),
		Refreshes:     h.refreshes.Load(),
		Failures:      h.failed.Load(),
		Coalesced:     h.coalesced.Load(),
		Invalidations: h.invalidations.Load(),
	}
}

// close publishes the closed entry and stops the timers. Called by
// Cache.Close.
func (h *Handle) close() {
	h.mu.Lock()
	h.stopTimers()
	h.cur.Store(closedEntry)
	h.mu.Unlock()
}

// stopTimers stops the timers of the current token. h.mu must be held.
func (h *Handle) stopTimers() {
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	if h.retry != nil {
		h.retry.Stop()
		h.retry = nil
	}
}
