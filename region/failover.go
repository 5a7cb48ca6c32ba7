package region

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/geostack/geostack/identity"
)

// Keystone is what the resolver sends a request to at one auth_url.
// *identity.Client satisfies it. Implementations must be safe for
// concurrent use and must return errors that match identity's sentinels
// (identity.ErrUnavailable for a connection error, a timeout or a 5xx;
// identity.ErrUnauthorized for a 401; identity.ErrNotFound for an unknown
// subject token; …), which decide whether the resolver fails over.
type Keystone interface {
	Issue(ctx context.Context, authURL string, c identity.Credential, s identity.Scope) (*identity.Token, error)
	Validate(ctx context.Context, authURL, serviceToken, subjectToken string, o identity.ValidateOptions) (*identity.Token, error)
}

var _ Keystone = (*identity.Client)(nil)

// Issue issues a token for cred and scope, trying the auth_urls in
// Order(home). It fails over on faults only (see the package doc); a 401 at
// a replica is retried once at the primary, since the user, application
// credential or parent token may be too new for the replica to know. If no auth_url answers, the error is an
// *AllFailedError listing each one and why.
func (r *Resolver) Issue(ctx context.Context, home string, ks Keystone, cred identity.Credential, scope identity.Scope) (*identity.Token, error) {
	loc, err := r.location(home)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, request{
		op:       "issue",
		home:     home,
		plan:     loc.plan,
		failover: isFault,
		lag:      func(err error) bool { return errors.Is(err, identity.ErrUnauthorized) },
		call: func(ctx context.Context, authURL string) (*identity.Token, error) {
			return ks.Issue(ctx, authURL, cred, scope)
		},
	})
}

// IssueAt issues a token for cred and scope at location only: its
// auth_urls in health order, with no failover to another location and no
// replication-lag retry at the primary. It is for deployments whose
// locations do not share Fernet keys, where a token is valid only where it
// was issued.
func (r *Resolver) IssueAt(ctx context.Context, location string, ks Keystone, cred identity.Credential, scope identity.Scope) (*identity.Token, error) {
	loc, err := r.location(location)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, request{
		op:       "issue",
		home:     location,
		plan:     loc.circuits,
		failover: isFault,
		call: func(ctx context.Context, authURL string) (*identity.Token, error) {
			return ks.Issue(ctx, authURL, cred, scope)
		},
	})
}

// Validate validates subject with serviceToken, trying the auth_urls in
// Order(home) with the same failover as Issue. A 404 (identity.ErrNotFound)
// at a replica is retried once at the primary, since the token's user or
// project may be too new for the replica to know; but only for a token
// issued within Config.ReplicationLag (or whose issue time it does not
// show), so that a flood of old or garbage tokens costs the primary
// nothing.
func (r *Resolver) Validate(ctx context.Context, home string, ks Keystone, serviceToken, subject string, o identity.ValidateOptions) (*identity.Token, error) {
	loc, err := r.location(home)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, request{
		op:       "validate",
		home:     home,
		plan:     loc.plan,
		failover: isFault,
		lag:      func(err error) bool { return errors.Is(err, identity.ErrNotFound) && r.mayLag(subject) },
		call: func(ctx context.Context, authURL string) (*identity.Token, error) {
			return ks.Validate(ctx, authURL, serviceToken, subject, o)
		},
	})
}

// Write runs fn, an identity write (creating or deleting a user, a project
// or an application credential), against the primary location. A location
// other than the primary is refused with a *NotPrimaryError, and fn does not
// run.
//
// fn gets an auth_url of the primary and a context bounded by
// Config.AttemptTimeout. Since a write may not be idempotent, fn is run at
// the primary's next auth_url only when the previous one was not reached
// at all (connection refused, or its circuit open); an error after the
// request may have been sent (a timeout, a 5xx) is returned as it is,
// after counting against the auth_url's circuit.
func (r *Resolver) Write(ctx context.Context, location string, fn func(ctx context.Context, authURL string) error) error {
	if _, err := r.location(location); err != nil {
		return err
	}
	if location != r.primary {
		return &NotPrimaryError{Location: location, Primary: r.primary}
	}
	_, err := r.run(ctx, request{
		op:       "write",
		home:     location,
		plan:     r.byName[r.primary].circuits,
		failover: notSent,
		call: func(ctx context.Context, authURL string) (*identity.Token, error) {
			return nil, fn(ctx, authURL)
		},
	})
	return err
}

// request is one Issue, Validate or Write.
type request struct {
	op   string
	home string
	plan []*circuit
	call func(ctx context.Context, authURL string) (*identity.Token, error)
	// failover reports whether a fault may be retried at the next auth_url.
	failover func(error) bool
	// lag reports whether an answer from a replica is retried at the
	// primary; nil means never.
	lag func(error) bool
	// lagRetry marks the second try of a request, at the primary, for
	// the Observer.
	lagRetry bool
}

// status is how a series of attempts ended.
type status int

const (
	done      status = iota // an auth_url answered (with a token or an error)
	exhausted               // no auth_url answered
	canceled                // the caller's context ended
)

// result is the outcome of a series of attempts.
type result struct {
	status status
	tok    *identity.Token
	err    error
	by     *circuit // the circuit that answered, when done
}

// run carries out req: failover along the plan, then at most one
// replication-lag retry at the primary.
func (r *Resolver) run(ctx context.Context, req request) (*identity.Token, error) {
	var tried []Attempt
	res := r.try(ctx, req, req.plan, &tried, true)
	if res.status == done && res.err != nil && req.lag != nil && !res.by.primary && req.lag(res.err) && r.lagBudget.take(r.clock.Now()) {
		r.lagRetries.Add(1)
		// Only primary auth_urls that did not fault in this request, and
		// only those whose circuit lets a request through: a replica's
		// answer is already an answer, so a primary that is down is not
		// probed early for it.
		var primaryTried []Attempt
		lreq := req
		lreq.lagRetry = true
		pres := r.try(ctx, lreq, notFaulted(r.byName[r.primary].circuits, tried), &primaryTried, false)
		switch pres.status {
		case done:
			if pres.err != nil {
				// Say what was tried: the replica, then the primary.
				pres.err = fmt.Errorf("region: %s from %s: %s (%s) answered, then the primary %s (%s) when asked again for replication lag: %w",
					req.op, req.home, res.by.authURL, res.by.location, pres.by.authURL, pres.by.location, pres.err)
			}
			res = pres
		case canceled:
			res = pres
		case exhausted:
			// The primary could not be asked: the replica's answer stands.
			res.err = fmt.Errorf("region: %s from %s: %s (%s) answered; the primary could not be asked again: %w",
				req.op, req.home, res.by.authURL, res.by.location, res.err)
		}
	}
	switch res.status {
	case done:
		return res.tok, res.err
	case canceled:
		return nil, res.err
	}
	return nil, &AllFailedError{Op: req.op, Home: req.home, Attempts: tried}
}

// notFaulted returns the circuits of plan that no attempt in tried found
// faulty.
func notFaulted(plan []*circuit, tried []Attempt) []*circuit {
	var out []*circuit
	for _, c := range plan {
		if !slices.ContainsFunc(tried, func(a Attempt) bool { return a.AuthURL == c.authURL && a.Err != nil }) {
			out = append(out, c)
		}
	}
	return out
}

// try attempts plan in health order. If every circuit of the plan is open
// and early is set, it probes them early rather than fail on a verdict that
// may be stale.
func (r *Resolver) try(ctx context.Context, req request, plan []*circuit, tried *[]Attempt, early bool) result {
	start := len(*tried)
	ordered, down := r.ordered(plan)
	res, sent := r.pass(ctx, req, ordered, len(ordered)-down, false, tried)
	if early && res.status == exhausted && sent == 0 && len(plan) > 0 {
		*tried = (*tried)[:start]
		res, _ = r.pass(ctx, req, plan, len(plan), true, tried)
		return res
	}
	// The circuits found open were passed over by this request, whether or
	// not it got as far as the end of the order.
	for _, c := range ordered[len(ordered)-down:] {
		c.skips.Add(1)
	}
	return res
}

// pass makes one attempt at each circuit of plan that lets it through,
// until one answers. Circuits from plan[counted:] that refuse were already
// counted as skipped.
func (r *Resolver) pass(ctx context.Context, req request, plan []*circuit, counted int, early bool, tried *[]Attempt) (res result, sent int) {
	moved := false
	for i, c := range plan {
		if ctx.Err() != nil {
			return canceledResult(ctx, req), sent
		}
		ok, probe := c.acquire(r.clock.Now(), early)
		if !ok {
			if i < counted {
				c.skips.Add(1)
			}
			*tried = append(*tried, Attempt{AuthURL: c.authURL, Location: c.location, Skipped: true})
			moved = true
			continue
		}
		if moved {
			r.failovers.Add(1)
		}
		sent++
		r.attempts.Add(1)
		c.attempts.Add(1)
		actx, observed := r.observeAttempt(ctx, req, c, probe, moved, *tried) // observe.go; a no-op without an Observer
		tok, err := r.attempt(actx, req, c, probe)
		now := r.clock.Now()
		observed(now, err)
		switch {
		case err == nil:
			c.report(answered, probe, now)
			return result{status: done, tok: tok, by: c}, sent
		case ctx.Err() != nil:
			c.report(abandoned, probe, now)
			return canceledResult(ctx, req), sent
		case isFault(err):
			c.report(fault, probe, now)
			r.faults.Add(1)
			*tried = append(*tried, Attempt{AuthURL: c.authURL, Location: c.location, Err: err})
			if !req.failover(err) {
				return result{status: done, err: err, by: c}, sent
			}
			moved = true
		case errors.Is(err, identity.ErrInvalidCredential) && !answeredStatus(err):
			// Rejected before any request: no word on the auth_url's health.
			c.report(abandoned, probe, now)
			return result{status: done, err: err, by: c}, sent
		default:
			// An answer (401, 403, 404, ...): the auth_url is alive.
			c.report(answered, probe, now)
			return result{status: done, err: err, by: c}, sent
		}
	}
	return result{status: exhausted}, sent
}

// attempt calls req at c under its own timeout. Should the call panic,
// the circuit's probe slot is released on the way up, so that a panicking
// Issuer cannot leave an auth_url unprobed forever.
func (r *Resolver) attempt(ctx context.Context, req request, c *circuit, probe bool) (*identity.Token, error) {
	actx, cancel := context.WithTimeout(ctx, r.attemptTimeout)
	defer cancel()
	returned := false
	defer func() {
		if !returned {
			c.report(abandoned, probe, r.clock.Now())
		}
	}()
	tok, err := req.call(actx, c.authURL)
	returned = true
	return tok, err
}

// canceledResult is the end of a request whose caller gave up.
func canceledResult(ctx context.Context, req request) result {
	return result{status: canceled, err: fmt.Errorf("region: %s from %s stopped: %w", req.op, req.home, ctx.Err())}
}

// isFault reports whether err is a fault of the auth_url rather than an
// answer: Keystone unreachable, timed out, failing with a 5xx, or answering
// something unusable.
func isFault(err error) bool {
	if errors.Is(err, identity.ErrUnavailable) || errors.Is(err, identity.ErrBadResponse) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var sc interface{ GetStatusCode() int }
	return errors.As(err, &sc) && sc.GetStatusCode() >= 500
}

// notSent reports whether err says the request never reached the server,
// so that a non-idempotent request may safely go elsewhere.
func notSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// answeredStatus reports whether err carries an HTTP status, i.e. Keystone itself
// answered (400 Bad Request for a credential it does not accept).
func answeredStatus(err error) bool {
	var ie *identity.Error
	return errors.As(err, &ie) && ie.Status != 0
}

// mayLag reports whether a replica's ignorance of subject may be
// replication lag: it was issued within the lag window, or it does not
// show when it was issued.
func (r *Resolver) mayLag(subject string) bool {
	at, ok := identity.TokenIssuedAt(subject)
	return !ok || r.clock.Now().Sub(at) < r.lagWindow
}

// Lag retries are budgeted: a replica's answer is retried at the primary
// at most lagRate times a second on average (lagBurst at once). Real
// victims of replication lag are few (a user registered a moment ago); a
// flood of tokens forged to look new would otherwise cost the primary one
// request each on top of the replica's.
const (
	lagRate  = 10.0
	lagBurst = 20.0
)

// bucket is a token bucket on the resolver's clock.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// take reports whether a retry may go to the primary now.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = lagBurst
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(lagBurst, b.tokens+d.Seconds()*lagRate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
