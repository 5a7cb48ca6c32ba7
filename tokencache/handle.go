package tokencache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
)

// state is where a published entry stands.
type state uint8

const (
	// stateFresh: the token is served as is.
	stateFresh state = iota
	// stateStale: the refresh window is open and no refresh runs; the
	// first reader to swap in a stateRefreshing entry starts the refresh.
	stateStale
	// stateRefreshing: the refresh window is open and a refresh runs or
	// waits out its backoff; the token is served.
	stateRefreshing
	// stateExpired: no usable token; readers wait for a fetch.
	stateExpired
	// stateFailed: no usable token and the last fetch failed; readers get
	// its error at once until the backoff timer publishes stateExpired.
	stateFailed
	// stateClosed: the cache is closed or the Handle released.
	stateClosed
)

// entry is what a slot publishes. It is immutable: every change of state
// publishes a new entry.
type entry struct {
	tok   *identity.Token
	state state
	err   *FetchError // stateFailed
	// header is the X-Auth-Token value of tok, made once per token so that
	// a request does not allocate it.
	header []string
}

// tokenEntry returns an entry of tok in state st, sharing prev's header
// value when prev holds the same token.
func tokenEntry(tok *identity.Token, st state, prev *entry) *entry {
	e := &entry{tok: tok, state: st}
	if prev != nil && prev.tok == tok && prev.header != nil {
		e.header = prev.header
	} else {
		e.header = []string{tok.ID}
	}
	return e
}

// usable reports whether e holds a token that may be served.
func (e *entry) usable() bool {
	return e != nil && (e.state == stateFresh || e.state == stateStale || e.state == stateRefreshing)
}

var (
	expiredEntry = &entry{state: stateExpired}
	closedEntry  = &entry{state: stateClosed}
)

// flightKey is the single key of a slot's singleflight group.
const flightKey = "token"

// Handle is one holder's hold on a cache entry: a client keeps its Handle
// and calls Token for every request. It is safe for concurrent use and
// implements identity.TokenSource.
type Handle struct {
	s        *slot
	src      identity.TokenSource
	released atomic.Bool
}

var _ identity.TokenSource = (*Handle)(nil)

// Token returns the cached token. A fresh or stale token is returned at
// once, without a lock, a clock read, an allocation or a write to shared
// memory; a stale one also starts the background refresh if none runs.
// When no usable token is cached, Token waits for the one coalesced fetch,
// or until ctx ends (*WaitError wrapping ctx.Err()). A failed fetch returns
// a *FetchError, which every caller gets until its backoff has passed, so
// that a wrong password costs Keystone one request per backoff, not one
// per call. After Close or Release, Token returns ErrClosed (it may still
// serve a fresh token it holds). The token is shared: callers must not
// modify it.
func (h *Handle) Token(ctx context.Context) (*identity.Token, error) {
	if e := h.s.cur.Load(); e.state == stateFresh {
		return e.tok, nil
	}
	if h.released.Load() {
		return nil, ErrClosed
	}
	return h.s.token(ctx)
}

// header returns the token and its X-Auth-Token value, as Token does.
func (h *Handle) header(ctx context.Context) (*identity.Token, []string, error) {
	if e := h.s.cur.Load(); e.state == stateFresh {
		return e.tok, e.header, nil
	}
	tok, err := h.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	if e := h.s.cur.Load(); e.tok == tok && e.header != nil {
		return tok, e.header, nil
	}
	return tok, []string{tok.ID}, nil
}

// Invalidate drops the cached token if its id is still rejectedID (a
// compare-and-swap), and reports whether it did. Call it when a service
// rejected the token; the next Token fetches a new one. Callers that
// report a token already replaced change nothing, so many callers
// reporting the same rejected token cause one refetch. It affects every
// Handle of the Key. Within 30 s of dropping a token it drops no other
// (Stats.Refused counts those refusals): a service that rejects every
// token costs one refetch per 30 s, not one per request.
// A released Handle invalidates nothing.
func (h *Handle) Invalidate(rejectedID string) bool {
	if h.released.Load() {
		return false
	}
	return h.s.invalidate(rejectedID)
}

// Refresh fetches a new token now, whatever the state of the cached one,
// and returns it; the current token is served to other callers until the
// new one is installed. Concurrent Refresh and Token calls share one
// fetch. It is for a caller that knows the token must change (its roles
// were just changed in Keystone, say); a rejected token is better reported
// with Invalidate.
func (h *Handle) Refresh(ctx context.Context) (*identity.Token, error) {
	if h.released.Load() {
		return nil, ErrClosed
	}
	return h.s.wait(ctx, true)
}

// Stats returns the counters of the Handle's entry, which every Handle of
// its Key shares.
func (h *Handle) Stats() Stats { return h.s.stats() }

// Release gives the Handle up. Its entry fetches through the next Handle's
// source from then on; an entry with no Handle left is dropped when its
// token expires. Release is idempotent.
func (h *Handle) Release() {
	if h.released.Swap(true) {
		return
	}
	s := h.s
	s.mu.Lock()
	s.handles = slices.DeleteFunc(s.handles, func(o *Handle) bool { return o == h })
	last := len(s.handles) == 0
	s.mu.Unlock()
	if last {
		s.c.drop(s)
	}
}

// Format prints the Handle's Key described (user, scope and kind, never a
// secret) and the state of its token, with every verb.
func (h *Handle) Format(f fmt.State, verb rune) {
	if h == nil {
		fmt.Fprint(f, "tokencache.Handle(nil)")
		return
	}
	fmt.Fprintf(f, "tokencache.Handle{%s, %s}", h.s.key.describe(), h.s.cur.Load().state)
}

func (s state) String() string {
	switch s {
	case stateFresh:
		return "fresh"
	case stateStale:
		return "stale"
	case stateRefreshing:
		return "refreshing"
	case stateExpired:
		return "no token"
	case stateFailed:
		return "failed"
	}
	return "closed"
}

// slot is the cache entry of one Key, shared by its Handles.
type slot struct {
	c   *Cache
	id  string // fingerprint and kind: the key of Cache.slots
	key Key

	// cur is the published entry, never nil: expiredEntry until the
	// first fetch.
	cur atomic.Pointer[entry]

	flight singleflight.Group

	// mu serialises the publishers of cur (fetches, timers, Invalidate,
	// close) and guards what follows. Readers never take it; their one
	// write is the CAS from a stale entry to a refreshing one.
	mu       sync.Mutex
	handles  []*Handle   // live Handles, oldest first: handles[0].src fetches
	timer    clock.Timer // the current token's stale or expiry timer
	retry    clock.Timer // the backoff timer of a failed fetch
	failures int         // consecutive failed fetches
	rejected string      // the id of the token last invalidated
	fetching int         // fetches running; the entry is not dropped meanwhile
	// invalidatedAt is when Invalidate last dropped a token: another is
	// not dropped within rejectWindow of it.
	invalidatedAt time.Time

	issued, fromShared, refreshes, failed, coalesced, invalidations, refused atomic.Uint64
}

func newSlot(c *Cache, id string, key Key) *slot {
	s := &slot{c: c, id: id, key: key}
	s.cur.Store(expiredEntry)
	return s
}

// token is Token's path for everything but a fresh read.
func (s *slot) token(ctx context.Context) (*identity.Token, error) {
	e := s.cur.Load()
	switch e.state {
	case stateFresh, stateRefreshing:
		return e.tok, nil
	case stateStale:
		if s.cur.CompareAndSwap(e, tokenEntry(e.tok, stateRefreshing, e)) {
			s.refreshes.Add(1)
			s.flight.DoChan(flightKey, func() (any, error) { return s.fetchAndInstall(ctx, true) })
		}
		return e.tok, nil
	case stateFailed:
		return nil, e.err
	case stateClosed:
		return nil, ErrClosed
	}
	return s.wait(ctx, false)
}

// wait joins or starts the fetch (a forced one if refresh) and waits for
// it on ctx.
func (s *slot) wait(ctx context.Context, refresh bool) (*identity.Token, error) {
	var mine atomic.Bool
	ch := s.flight.DoChan(flightKey, func() (any, error) {
		mine.Store(true)
		return s.fetchAndInstall(ctx, refresh)
	})
	select {
	case r := <-ch:
		if !mine.Load() {
			s.coalesced.Add(1)
		}
		tok, _ := r.Val.(*identity.Token)
		if r.Err != nil || tok == nil {
			return nil, cmp.Or(r.Err, error(s.fetchError(errNoToken, time.Time{})))
		}
		return tok, nil
	case <-ctx.Done():
		return nil, &WaitError{Identity: s.key.describe(), Err: ctx.Err()}
	case <-s.c.closing.Done():
		return nil, ErrClosed
	}
}

func (s *slot) fetchError(err error, retry time.Time) *FetchError {
	return &FetchError{Identity: s.key.describe(), Retry: retry, Err: err}
}

// fetched ends a fetch; an entry whose last Handle was released while it
// ran is then dropped if it is idle.
func (s *slot) fetched() {
	s.mu.Lock()
	s.fetching--
	orphan := s.fetching == 0 && len(s.handles) == 0
	s.mu.Unlock()
	if orphan {
		s.c.drop(s)
	}
}

// fetchAndInstall runs one fetch and publishes its token. It runs inside
// the singleflight group, so at most one runs per slot. Unless refresh is
// set it first checks whether a fetch that just finished left a usable
// token (or a failure still in its backoff), so that a caller arriving
// between two flights does not fetch again.
func (s *slot) fetchAndInstall(ctx context.Context, refresh bool) (*identity.Token, error) {
	if !s.c.enter() {
		return nil, ErrClosed
	}
	defer s.c.wg.Done()
	if e := s.cur.Load(); !refresh {
		switch {
		case e.usable():
			return e.tok, nil
		case e.state == stateFailed:
			return nil, e.err
		}
	}
	s.mu.Lock()
	var src identity.TokenSource
	if len(s.handles) > 0 {
		src = s.handles[0].src
	}
	if src != nil {
		s.fetching++
	}
	s.mu.Unlock()
	if src == nil {
		return nil, ErrClosed
	}
	defer s.fetched()

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.c.opts.FetchTimeout)
	defer cancel()
	defer context.AfterFunc(s.c.closing, cancel)()
	var (
		tok       *identity.Token
		fromStore bool
		err       error
	)
	fctx, observed := s.observeFetch(fctx, refresh) // observe.go; a no-op without an Observer
	if sh := s.c.opts.Shared; sh != nil {
		tok, fromStore, err = s.fetchShared(fctx, sh, src)
	} else {
		tok, err = s.fetchChecked(fctx, src)
	}
	now := s.c.opts.Clock.Now()
	observed(now, fromStore, err)
	if err != nil {
		s.failed.Add(1)
		return nil, s.fail(err, now)
	}
	if fromStore {
		s.fromShared.Add(1)
	} else {
		s.issued.Add(1)
	}
	s.install(tok, now, fromStore)
	return tok, nil
}

// fetchChecked calls src and checks that it kept its contract.
func (s *slot) fetchChecked(ctx context.Context, src identity.TokenSource) (*identity.Token, error) {
	tok, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case tok == nil:
		return nil, errNoToken
	case !s.c.opts.Clock.Now().Before(tok.Expiry):
		return nil, errExpiredToken
	}
	return tok, nil
}

// fetchShared gets a token through the shared tier: one another process
// fetched, or else one fetched here and shared. A token in the Store that
// this slot already holds (a refresh) or that was rejected here
// (Invalidate) is passed over.
func (s *slot) fetchShared(ctx context.Context, sh *Shared, src identity.TokenSource) (*identity.Token, bool, error) {
	s.mu.Lock()
	var current string
	if e := s.cur.Load(); e.tok != nil {
		current = e.tok.ID
	}
	rejected := s.rejected
	s.mu.Unlock()
	accept := func(t *identity.Token) bool { return t.ID != current && t.ID != rejected }
	tok, _, fromStore, err := sh.fill(ctx, tokenLogical(s.key), accept, func(ctx context.Context) (*identity.Token, time.Time, error) {
		tok, err := s.fetchChecked(ctx, src)
		if err != nil {
			return nil, time.Time{}, err
		}
		return tok, s.c.opts.sharedUntil(tok, s.c.opts.Clock.Now()), nil
	})
	return tok, fromStore, err
}

// install publishes tok, fetched at now (from the shared tier if
// fromStore), and starts its timers.
func (s *slot) install(tok *identity.Token, now time.Time, fromStore bool) {
	o := &s.c.opts
	life := tokenLife(tok, now)
	staleAt := tok.Expiry.Add(-o.refreshWindow(life, rand.Float64()))
	expireAt := tok.Expiry.Add(-o.expiryMargin(life))

	s.mu.Lock()
	if s.cur.Load() == closedEntry {
		s.mu.Unlock()
		return
	}
	// A refresh that gained no lifetime means the credential cannot renew
	// the token (a token credential's tokens keep their parent's expiry):
	// the token is served to its end without another refresh, instead of
	// being refreshed ever more often as its window shrinks.
	prev := s.cur.Load()
	final := prev.usable() && !tok.ExpiresAt.After(prev.tok.ExpiresAt)
	s.stopTimers()
	failures := s.failures
	s.failures = 0
	var e *entry
	if final && now.Before(expireAt) {
		e = tokenEntry(tok, stateFresh, nil)
		s.timer = o.Clock.AfterFunc(expireAt.Sub(now), func() { s.markExpired(tok) })
	} else if now.Before(staleAt) {
		e = tokenEntry(tok, stateFresh, nil)
		s.timer = o.Clock.AfterFunc(staleAt.Sub(now), func() { s.markStale(tok, expireAt) })
	} else {
		// Already inside its window (a token that was old when fetched).
		// Published as refreshing, since a reader's refresh would only
		// join the flight that is installing it; the retry timer makes it
		// stale, and so refreshable, once that flight is over.
		e = tokenEntry(tok, stateRefreshing, nil)
		s.timer = o.Clock.AfterFunc(max(expireAt.Sub(now), 0), func() { s.markExpired(tok) })
		s.retry = o.Clock.AfterFunc(o.BackoffMin, func() { s.retryRefresh(tok) })
	}
	s.cur.Store(e)
	s.mu.Unlock()

	if failures > 0 {
		s.c.opts.Logger.Info("tokencache: token fetch recovered",
			slog.String("identity", s.key.describe()), slog.Int("failures", failures))
	}
}

// markStale opens the refresh window of tok, if it is still the fresh
// token, and starts its expiry timer.
func (s *slot) markStale(tok *identity.Token, expireAt time.Time) {
	if !s.c.enter() {
		return
	}
	defer s.c.wg.Done()
	s.mu.Lock()
	e := s.cur.Load()
	if e.tok != tok || e.state != stateFresh {
		s.mu.Unlock()
		return
	}
	s.cur.Store(tokenEntry(tok, stateStale, e))
	clk := s.c.opts.Clock
	s.timer = clk.AfterFunc(max(expireAt.Sub(clk.Now()), 0), func() { s.markExpired(tok) })
	s.mu.Unlock()
}

// markExpired drops tok, if it is still the current token. An entry no
// Handle holds is then dropped from the cache.
func (s *slot) markExpired(tok *identity.Token) {
	if !s.c.enter() {
		return
	}
	defer s.c.wg.Done()
	s.mu.Lock()
	if e := s.cur.Load(); e.tok != tok {
		s.mu.Unlock()
		return
	}
	s.cur.Store(expiredEntry)
	s.stopTimers()
	orphan := len(s.handles) == 0
	s.mu.Unlock()
	if orphan {
		s.c.drop(s)
	}
}

// fail records a failed fetch at now and returns the error callers get.
// While a still-valid token is being served, it schedules the next refresh
// after a jittered backoff. Without one, it publishes the failure, which
// every caller gets at once until the backoff has passed. The first
// failure of an episode is logged; the others are not.
func (s *slot) fail(cause error, now time.Time) *FetchError {
	o := &s.c.opts
	s.mu.Lock()
	e := s.cur.Load()
	if e == closedEntry {
		s.mu.Unlock()
		return s.fetchError(cause, time.Time{})
	}
	s.failures++
	n := s.failures
	wait := o.backoff(n, rand.Float64())
	// Back pressure (a 429 or 503 with Retry-After) is honoured: nobody
	// asks again before Keystone said it may.
	var ie *identity.Error
	if errors.As(cause, &ie) && ie.RetryAfter > wait {
		wait = ie.RetryAfter
	}
	ferr := s.fetchError(cause, now.Add(wait))
	serving := e.state == stateRefreshing
	if s.retry != nil {
		s.retry.Stop()
	}
	if serving {
		tok := e.tok
		s.retry = o.Clock.AfterFunc(wait, func() { s.retryRefresh(tok) })
	} else {
		failed := &entry{state: stateFailed, err: ferr}
		s.cur.Store(failed)
		s.retry = o.Clock.AfterFunc(wait, func() { s.endBackoff(failed) })
	}
	s.mu.Unlock()

	desc := s.key.describe()
	if n == 1 {
		if serving {
			o.Logger.Warn("tokencache: token refresh failed; serving the current token while retrying",
				slog.String("identity", desc), slog.Time("expiry", e.tok.Expiry), slog.String("error", cause.Error()))
		} else {
			o.Logger.Error("tokencache: token fetch failed and no valid token is cached",
				slog.String("identity", desc), slog.Time("retry", ferr.Retry), slog.String("error", cause.Error()))
		}
	}
	return ferr
}

// endBackoff ends the backoff of a failed fetch: the next caller fetches.
func (s *slot) endBackoff(failed *entry) {
	if !s.c.enter() {
		return
	}
	defer s.c.wg.Done()
	s.mu.Lock()
	if s.cur.Load() == failed {
		s.cur.Store(expiredEntry)
	}
	s.retry = nil
	orphan := len(s.handles) == 0
	s.mu.Unlock()
	if orphan {
		s.c.drop(s)
	}
}

// retryRefresh ends the backoff after a failed refresh of tok: the entry
// becomes stale again, and the next reader starts a new refresh.
func (s *slot) retryRefresh(tok *identity.Token) {
	if !s.c.enter() {
		return
	}
	defer s.c.wg.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.cur.Load(); e.tok == tok && e.state == stateRefreshing {
		s.cur.Store(tokenEntry(tok, stateStale, e))
	}
	s.retry = nil
}

// rejectWindow is how long after dropping a rejected token the entry
// refuses to drop the next one. A service that rejects every token (stale
// Fernet keys at one location, a broken middleware) would otherwise make
// every request fetch a new token for the identity, which every service
// in every region shares; with the window it costs one refetch per window.
const rejectWindow = 30 * time.Second

// invalidate drops the token if its id is still rejectedID, unless a token
// was already dropped within rejectWindow.
func (s *slot) invalidate(rejectedID string) bool {
	s.mu.Lock()
	e := s.cur.Load()
	if e.tok == nil || e.tok.ID != rejectedID {
		s.mu.Unlock()
		return false
	}
	now := s.c.opts.Clock.Now()
	if !s.invalidatedAt.IsZero() && now.Sub(s.invalidatedAt) < rejectWindow {
		s.mu.Unlock()
		s.refused.Add(1)
		return false
	}
	s.invalidatedAt = now
	s.cur.Store(expiredEntry)
	s.rejected = rejectedID
	s.stopTimers()
	s.mu.Unlock()
	s.invalidations.Add(1)
	return true
}

func (s *slot) stats() Stats {
	return Stats{
		Issued:        s.issued.Load(),
		FromShared:    s.fromShared.Load(),
		Refreshes:     s.refreshes.Load(),
		Failures:      s.failed.Load(),
		Coalesced:     s.coalesced.Load(),
		Invalidations: s.invalidations.Load(),
		Refused:       s.refused.Load(),
	}
}

// close publishes the closed entry and stops the timers. Called by
// Cache.Close.
func (s *slot) close() {
	s.mu.Lock()
	s.stopTimers()
	s.cur.Store(closedEntry)
	s.mu.Unlock()
}

// stopTimers stops the timers of the current token. s.mu must be held.
func (s *slot) stopTimers() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.retry != nil {
		s.retry.Stop()
		s.retry = nil
	}
}
