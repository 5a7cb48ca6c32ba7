package authtoken

import (
	"errors"
	"sync/atomic"
)

// Stats are counters of a Validator since New, for a backend's metrics:
// how often the cache answered, how often Keystone was asked, and why
// tokens were turned away. Validator.Stats returns them.
type Stats struct {
	// CacheHits are lookups answered by the cache of validated tokens,
	// without any I/O: accepted, or found expired (Rejected.Expired).
	CacheHits uint64
	// NegativeHits are lookups answered by the negative cache: a token
	// Keystone called invalid less than Config.NegativeTTL ago
	// (Rejected.InvalidToken), not asked about again.
	NegativeHits uint64
	// Misses are lookups that neither cache answered: each waited for a
	// validation, its own or one already in flight for the same token
	// (Coalesced), or was turned away (Overloaded, or ErrClosed).
	Misses uint64
	// Coalesced are the Misses that waited for a validation another
	// caller had started, instead of starting one.
	Coalesced uint64
	// SharedHits are validations answered by the shared tier
	// (Config.Shared) instead of Keystone.
	SharedHits uint64
	// KeystoneValidations are the validation requests made to Keystone,
	// each one call through the resolver (its failover between locations
	// and the retry of a 404 at the primary inside it); the retry after
	// a refreshed service token counts again.
	KeystoneValidations uint64
	// Malformed are tokens turned away without Keystone for their shape:
	// too long, not visible ASCII, or not shaped like a token Keystone
	// issues (Config.AnyTokenFormat). They count in
	// Rejected.InvalidToken too.
	Malformed uint64
	// Overloaded are tokens turned away without Keystone because
	// Config.MaxValidations validations were in progress. They count in
	// Rejected.Unavailable too.
	Overloaded uint64
	// Rejected are the tokens not accepted, by reason: one count per
	// Validate or ValidateService call that failed, and per token of a
	// request Handler did not accept (a request with both tokens can
	// count twice; a request with neither counts as Missing), whether or
	// not the decision was delayed.
	Rejected Rejections
	// InFlight are the validations in progress now (not a counter).
	InFlight int
}

// Rejections count rejected tokens by the sentinel their error matches.
type Rejections struct {
	Missing      uint64 // ErrMissing
	InvalidToken uint64 // ErrInvalidToken
	Expired      uint64 // ErrExpired
	WrongDomain  uint64 // ErrWrongDomain
	Forbidden    uint64 // ErrForbidden
	AccessRules  uint64 // ErrAccessRules
	Unavailable  uint64 // ErrUnavailable
	Closed       uint64 // ErrClosed
}

// counters are the Validator's counters off the hot path: each is
// touched only where a token is rejected or Keystone is asked, which
// costs far more than an atomic add. The cache hits, touched on every
// hit, are in hitStripes.
type counters struct {
	negativeHits, misses, coalesced, sharedHits, keystone atomic.Uint64
	malformed, overloaded                                 atomic.Uint64
	rejected                                              [numKinds]atomic.Uint64
}

// The kinds of Rejections, in its field order.
const (
	kindMissing = iota
	kindInvalidToken
	kindExpired
	kindWrongDomain
	kindForbidden
	kindAccessRules
	kindUnavailable
	kindClosed
	numKinds
)

// rejectionKind returns the counter of a sentinel, or -1.
func rejectionKind(kind error) int {
	switch kind {
	case ErrMissing:
		return kindMissing
	case ErrInvalidToken:
		return kindInvalidToken
	case ErrExpired:
		return kindExpired
	case ErrWrongDomain:
		return kindWrongDomain
	case ErrForbidden:
		return kindForbidden
	case ErrAccessRules:
		return kindAccessRules
	case ErrUnavailable:
		return kindUnavailable
	case ErrClosed:
		return kindClosed
	}
	return -1
}

// hitStripe counts cache hits for the callers that happen to use it:
// one stripe per hasher of the keyer's pool, so roughly one per P (see
// keyer). It fills two cache lines of its own, so that cores counting on
// their own stripes never write to a line another core reads (CPUs that
// prefetch lines in pairs included).
type hitStripe struct {
	hits atomic.Uint64
	_    [128 - 8]byte
}

// rejected counts err, if it is an *Error, under its kind, and returns it.
func (v *Validator) rejected(err error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	if i := rejectionKind(e.Kind); i >= 0 {
		v.stats.rejected[i].Add(1)
	}
	return err
}

// Stats returns the Validator's counters. It may be called at any time,
// concurrently with validations; each counter is read atomically, the
// set of them is not a snapshot of one instant.
func (v *Validator) Stats() Stats {
	s := Stats{
		NegativeHits:        v.stats.negativeHits.Load(),
		Misses:              v.stats.misses.Load(),
		Coalesced:           v.stats.coalesced.Load(),
		SharedHits:          v.stats.sharedHits.Load(),
		KeystoneValidations: v.stats.keystone.Load(),
		Malformed:           v.stats.malformed.Load(),
		Overloaded:          v.stats.overloaded.Load(),
	}
	for i := range v.keys.stripes {
		s.CacheHits += v.keys.stripes[i].hits.Load()
	}
	r := &v.stats.rejected
	s.Rejected = Rejections{
		Missing: r[kindMissing].Load(), InvalidToken: r[kindInvalidToken].Load(), Expired: r[kindExpired].Load(),
		WrongDomain: r[kindWrongDomain].Load(), Forbidden: r[kindForbidden].Load(), AccessRules: r[kindAccessRules].Load(),
		Unavailable: r[kindUnavailable].Load(), Closed: r[kindClosed].Load(),
	}
	v.fmu.Lock()
	s.InFlight = len(v.flights)
	v.fmu.Unlock()
	return s
}
