package tokencache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
)

// Defaults of SharedOptions.
const (
	// defaultSharedPrefix starts every Store key the shared tier writes.
	defaultSharedPrefix = "geostack:"
	// defaultSharedTimeout bounds each Store operation. memcached belongs
	// next to the processes that share it, in the same location (never
	// across the slow links between locations): a round trip there is
	// well under a millisecond, a new connection about one more. 25 ms is
	// tens of round trips, so a busy memcached is still used, while a hung
	// one costs a cache miss at most 25 ms per operation, an eighth of the
	// bcrypt check of one token POST. Across a WAN, raise it.
	defaultSharedTimeout = 25 * time.Millisecond
	// defaultLockTTL is how long the fetch lock lives: long enough for one
	// token POST with failover, short enough that a holder that died only
	// delays the others by this much (and by no more than LockWait).
	defaultLockTTL = 5 * time.Second
	// defaultLockWait is the longest a process that lost the fetch lock
	// polls the Store for the winner's entry before it fetches itself.
	defaultLockWait = 3 * time.Second
)

// Poll schedule of a process that lost the fetch lock: the first poll
// after pollFirst, then doubling up to pollMax, until LockWait has passed.
// A token POST takes a few hundred milliseconds (bcrypt), so most losers
// find the entry on their fourth to sixth poll.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 250 * time.Millisecond
)

// SharedOptions configure a Shared tier. Secrets are key material: the
// type formats redacted with every fmt verb and with slog.
type SharedOptions struct {
	// Store is where entries live, typically tokencache/memcache.New.
	// Required.
	Store Store
	// Secrets seal the entries: Secrets[0] seals new entries, and every
	// secret opens them, so a secret is rotated by putting the new one
	// first, waiting for every process to have it, then dropping the old
	// one after a token lifetime. Each is at least 16 bytes;
	// use 32 random bytes. Every process of a fleet must be given the same
	// secrets (in any order for reading). Required.
	Secrets [][]byte
	// Prefix starts every Store key (visible ASCII, at most 64 bytes), so
	// that several fleets, or caches of several clouds, can share one
	// memcached. Default "geostack:".
	Prefix string
	// Timeout bounds each Store operation. Default 25 ms.
	Timeout time.Duration
	// LockTTL is the lifetime of the fetch lock. Default 5 s.
	LockTTL time.Duration
	// LockWait is how long a process that lost the fetch lock waits for
	// the winner's entry. Default 3 s; negative disables the
	// lock (every process fetches on a miss).
	LockWait time.Duration
	// Clock tells the time that entries expire on and drives the polls of
	// a lock loser. Nil: the system clock.
	Clock clock.Clock
	// Logger gets one record when the Store starts failing and one when
	// it recovers. Nil discards.
	Logger *slog.Logger
}

// String describes the options without the secrets.
func (o SharedOptions) String() string {
	return fmt.Sprintf("tokencache.SharedOptions{Store:%T, Secrets:%d REDACTED, Prefix:%q, Timeout:%v, LockTTL:%v, LockWait:%v}",
		o.Store, len(o.Secrets), o.Prefix, o.Timeout, o.LockTTL, o.LockWait)
}

// Format implements fmt.Formatter: every verb prints String, so no verb
// reaches the secrets.
func (o SharedOptions) Format(f fmt.State, verb rune) {
	s := o.String()
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	f.Write([]byte(s))
}

// LogValue implements slog.LogValuer without the secrets.
func (o SharedOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("store", fmt.Sprintf("%T", o.Store)),
		slog.Int("secrets", len(o.Secrets)),
		slog.String("prefix", o.Prefix),
		slog.Duration("timeout", o.Timeout),
	)
}

// SharedStats are counters of a Shared tier since it was made, summed over
// every Cache and authtoken.Validator using it.
type SharedStats struct {
	// Hits are entries found and opened; Misses, lookups that found none
	// (or only expired ones).
	Hits, Misses uint64
	// Rejected are entries found that failed to open or decode (tampered,
	// truncated, copied from another key, sealed with an unknown secret):
	// each was treated as a miss.
	Rejected uint64
	// Errors are Store operations that failed or timed out.
	Errors uint64
	// Writes are entries written.
	Writes uint64
	// LockWins are fetch locks taken; LockWaits, lookups that found the
	// lock taken by another process and waited for its entry.
	LockWins, LockWaits uint64
}

// Shared is the optional second tier of a Cache and of an
// authtoken.Validator: a Store shared by a fleet of processes, holding
// sealed entries. It is safe for concurrent use; one Shared may serve
// several Caches and Validators. Make one with NewShared.
type Shared struct {
	store    Store
	sealer   *sealer
	timeout  time.Duration
	lockTTL  time.Duration
	lockWait time.Duration
	clock    clock.Clock
	log      *slog.Logger

	failing atomic.Bool // a failure episode is going on

	hits, misses, rejected, errors, writes, lockWins, lockWaits atomic.Uint64
}

// NewShared checks o and returns a Shared tier. Every problem of o is
// reported in one *geostack.ConfigError, matching
// geostack.ErrInvalidConfig; no error quotes a secret.
func NewShared(o SharedOptions) (*Shared, error) {
	var l configerr.List
	if o.Store == nil || typednil.Is(o.Store) {
		l.Add("store", "no Store (a nil %T)", o.Store)
	}
	if o.Prefix == "" {
		o.Prefix = defaultSharedPrefix
	}
	if len(o.Prefix) > 64 {
		l.Add("prefix", "%d bytes, want at most 64", len(o.Prefix))
	}
	for i := 0; i < len(o.Prefix); i++ {
		if c := o.Prefix[i]; c < 0x21 || c > 0x7e {
			l.Add("prefix", "must be visible ASCII")
			break
		}
	}
	if o.Timeout < 0 {
		l.Add("timeout", "%s is negative", o.Timeout)
	}
	if o.LockTTL < 0 {
		l.Add("lock_ttl", "%s is negative", o.LockTTL)
	}
	if o.Clock != nil && typednil.Is(o.Clock) {
		l.Add("clock", "a nil %T", o.Clock)
	}
	sealer, err := newSealer(o.Secrets, o.Prefix)
	if err != nil {
		l.Add("secrets", "%v", err)
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = defaultSharedTimeout
	}
	if o.LockTTL == 0 {
		o.LockTTL = defaultLockTTL
	}
	if o.LockWait == 0 {
		o.LockWait = defaultLockWait
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Shared{
		store: o.Store, sealer: sealer, timeout: o.Timeout, lockTTL: o.LockTTL, lockWait: o.LockWait,
		clock: o.Clock, log: o.Logger,
	}, nil
}

// String describes the tier without its keys.
func (s *Shared) String() string {
	return fmt.Sprintf("tokencache.Shared{Store:%T, Secrets:%d REDACTED, Prefix:%q}", s.store, len(s.sealer.keys), s.sealer.prefix)
}

// Format implements fmt.Formatter: every verb prints String.
func (s *Shared) Format(f fmt.State, verb rune) {
	str := s.String()
	if verb == 'q' {
		str = strconv.Quote(str)
	}
	f.Write([]byte(str))
}

// Stats returns the counters of the tier.
func (s *Shared) Stats() SharedStats {
	return SharedStats{
		Hits: s.hits.Load(), Misses: s.misses.Load(), Rejected: s.rejected.Load(), Errors: s.errors.Load(),
		Writes: s.writes.Load(), LockWins: s.lockWins.Load(), LockWaits: s.lockWaits.Load(),
	}
}

// logicalKey names an entry; per secret, since a validation entry's name is
// derived from the token with a key of the secret.
type logicalKey func(k *sealKey) string

// tokenLogical is the logical key of the token issued for key: a
// fingerprint under a key of the secret, so that processes sharing the
// secret agree on it and nobody without it can test a password against a
// Store key.
func tokenLogical(key Key) logicalKey {
	return func(k *sealKey) string {
		return "token/" + identity.Fingerprint(k.tokenMAC, key.Credential, key.Scope) + "/" + key.Kind
	}
}

// validatedLogical is the logical key of the validation of an incoming
// token: derived from its HMAC, never the token itself.
func validatedLogical(variant, token string) logicalKey {
	return func(k *sealKey) string { return "validated/" + variant + "/" + tokenDigest(k, token) }
}

// failed records a Store failure; the first of an episode is logged.
func (s *Shared) failed(op string, err error) {
	s.errors.Add(1)
	if s.failing.CompareAndSwap(false, true) {
		s.log.Warn("tokencache: shared tier unavailable; using the in-process cache and Keystone until it answers",
			slog.String("op", op), slog.String("error", err.Error()))
	}
}

// answered records a Store answer; the first after a failure is logged.
func (s *Shared) answered() {
	if s.failing.Load() && s.failing.CompareAndSwap(true, false) {
		s.log.Info("tokencache: shared tier answers again")
	}
}

// load looks the entry up under each secret, the sealing one first, and
// returns the first that opens, decodes, is still to be served at now and
// is accepted. down reports that the Store failed.
func (s *Shared) load(ctx context.Context, lk logicalKey, accept func(*identity.Token) bool) (tok *identity.Token, until time.Time, down bool) {
	now := s.clock.Now()
	for _, k := range s.sealer.keys {
		logical := lk(k)
		octx, cancel := context.WithTimeout(ctx, s.timeout)
		v, err := s.store.Get(octx, s.sealer.storeKey(k, logical))
		cancel()
		if errors.Is(err, ErrCacheMiss) {
			s.answered()
			continue
		}
		if err != nil {
			s.failed("get", err)
			return nil, time.Time{}, true
		}
		s.answered()
		u, payload, err := s.sealer.open(k, logical, v)
		if err == nil {
			tok, err = identity.DecodeToken(payload)
			clear(payload)
		}
		if err != nil {
			s.rejected.Add(1)
			s.log.Debug("tokencache: shared entry rejected", slog.String("reason", err.Error()))
			continue
		}
		if now.Before(u) && now.Before(tok.Expiry) && (accept == nil || accept(tok)) {
			s.hits.Add(1)
			return tok, u, false
		}
	}
	s.misses.Add(1)
	return nil, time.Time{}, false
}

// save writes tok, to be served until until, under the sealing secret.
// Nothing is written for less than a second.
func (s *Shared) save(ctx context.Context, lk logicalKey, tok *identity.Token, until time.Time) {
	ttl := until.Sub(s.clock.Now())
	if ttl < time.Second {
		return
	}
	payload, err := identity.EncodeToken(tok)
	if err != nil {
		s.log.Debug("tokencache: token not shared", slog.String("reason", err.Error()))
		return
	}
	k := s.sealer.keys[0]
	logical := lk(k)
	v := s.sealer.seal(logical, until, payload)
	clear(payload)
	octx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.store.Set(octx, s.sealer.storeKey(k, logical), v, ttl); err != nil {
		s.failed("set", err)
		return
	}
	s.answered()
	s.writes.Add(1)
}

// lockKey is the Store key of the fetch lock of an entry. Locks are taken
// under the sealing secret only: during a rotation, processes that seal
// with different secrets do not exclude each other, which costs at most
// one extra fetch.
func (s *Shared) lockKey(lk logicalKey) string {
	k := s.sealer.keys[0]
	return s.sealer.storeKey(k, "lock/"+lk(k))
}

// lockState is the outcome of trying the fetch lock.
type lockState uint8

const (
	lockWon  lockState = iota // we hold it: fetch, save, unlock
	lockLost                  // another process holds it: wait for its entry
	lockDown                  // the Store failed: fetch without it
)

func (s *Shared) lock(ctx context.Context, lk logicalKey) lockState {
	octx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.store.Add(octx, s.lockKey(lk), []byte{1}, s.lockTTL)
	switch {
	case err == nil:
		s.answered()
		s.lockWins.Add(1)
		return lockWon
	case errors.Is(err, ErrNotStored):
		s.answered()
		return lockLost
	}
	s.failed("add", err)
	return lockDown
}

func (s *Shared) unlock(ctx context.Context, lk logicalKey) {
	octx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.store.Delete(octx, s.lockKey(lk)); err != nil {
		s.failed("delete", err)
	}
}

// fetchFunc makes the entry of a fill: a token and until when it may be
// served from the Store.
type fetchFunc func(ctx context.Context) (tok *identity.Token, until time.Time, err error)

// fill returns the entry lk from the Store or, when it holds none that
// accept takes, from fetch, whose result it then shares. Processes that
// fill the same entry at once mostly fetch once: the first to take the
// fetch lock fetches, the others poll the Store for its entry for up to
// LockWait and then fetch themselves. The lock is only an optimisation:
// a failing Store, a lost lock or a dead holder ends in a fetch, never in
// an error. fromStore reports a token read from the Store.
func (s *Shared) fill(ctx context.Context, lk logicalKey, accept func(*identity.Token) bool, fetch fetchFunc) (tok *identity.Token, until time.Time, fromStore bool, err error) {
	tok, until, down := s.load(ctx, lk, accept)
	if tok != nil {
		return tok, until, true, nil
	}
	if down {
		// Don't add a timeout per operation to a fetch that is needed
		// anyway; the next fill tries the Store again.
		tok, until, err = fetch(ctx)
		return tok, until, false, err
	}
	if s.lockWait > 0 {
		deadline := s.clock.Now().Add(s.lockWait)
		delay := pollFirst
		waited := false
	poll:
		for {
			switch s.lock(ctx, lk) {
			case lockWon:
				defer s.unlock(context.WithoutCancel(ctx), lk)
				// The holder before us may have saved its entry and
				// unlocked between our load and our lock.
				if tok, until, _ = s.load(ctx, lk, accept); tok != nil {
					return tok, until, true, nil
				}
				break poll
			case lockDown:
				break poll
			}
			if !waited {
				waited = true
				s.lockWaits.Add(1)
			}
			left := deadline.Sub(s.clock.Now())
			if left <= 0 {
				break poll
			}
			if err := sleep(ctx, s.clock, min(delay, left)); err != nil {
				return nil, time.Time{}, false, err
			}
			delay = min(2*delay, pollMax)
			if tok, until, down = s.load(ctx, lk, accept); tok != nil {
				return tok, until, true, nil
			}
			if down {
				break poll
			}
		}
	}
	tok, until, err = fetch(ctx)
	if err == nil && tok != nil {
		s.save(ctx, lk, tok, until)
	}
	return tok, until, false, err
}

// sleep waits d on clk, or until ctx ends.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	done := make(chan struct{})
	t := clk.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Validated returns the validation of an incoming token shared by the
// fleet or, when none is shared, calls validate and shares what it
// returns: the validated token and until when it may be trusted without
// asking Keystone (the rule of the caller's own cache). Processes
// validating the same token at once mostly validate once (see the fetch
// lock in the package doc). Only successes are shared; validate's errors
// are returned as they are. variant separates validations made with
// different options (with or without catalog).
//
// The Store key and the sealed entry's logical key are derived from an
// HMAC of token under a key of the secret; the token itself is neither
// stored nor used as a key. shared reports a result read from the Store.
// Validated is for identity/authtoken; a Store failure is never an error.
func (s *Shared) Validated(ctx context.Context, token, variant string, validate func(ctx context.Context) (*identity.Token, time.Time, error)) (tok *identity.Token, until time.Time, shared bool, err error) {
	lk := validatedLogical(variant, token)
	accept := func(t *identity.Token) bool { return t.ID == token }
	return s.fill(ctx, lk, accept, validate)
}
