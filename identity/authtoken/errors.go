package authtoken

import (
	"errors"
	"net/http"
	"time"
)

// Sentinel errors. Every error Validate and ValidateService return is an
// *Error that matches exactly one of them with errors.Is; Handler maps each
// to its HTTP status.
var (
	// ErrMissing: the request carried no token (401).
	ErrMissing = errors.New("authtoken: no token")
	// ErrInvalidToken: Keystone does not know the token (unknown, expired or
	// revoked: it answered 404), or the token is malformed (401).
	ErrInvalidToken = errors.New("authtoken: invalid token")
	// ErrExpired: the token was valid and has expired since (401). It is
	// reported without asking Keystone again.
	ErrExpired = errors.New("authtoken: token expired")
	// ErrWrongDomain: Keystone says the token is valid, but it belongs to a
	// domain (or a scope) the backend does not serve (401).
	ErrWrongDomain = errors.New("authtoken: token of another domain")
	// ErrForbidden: the token is valid but lacks the required roles (403).
	// A service token without a service role is ErrForbidden too, with
	// Error.Service set; Handler answers 401 for it, as keystonemiddleware
	// does for an invalid service token.
	ErrForbidden = errors.New("authtoken: roles not met")
	// ErrAccessRules: the token is an application credential's whose
	// access rules do not permit the request (its service type, method and
	// path), or the handler has no ServiceType to check them against (401,
	// as keystonemiddleware answers). Only Handler returns it.
	ErrAccessRules = errors.New("authtoken: request not permitted by the token's access rules")
	// ErrUnavailable: the token could not be checked: Keystone is
	// unreachable or failing, the service's own token could not be had or
	// was refused twice, or the caller gave up waiting (503). It is never
	// cached.
	ErrUnavailable = errors.New("authtoken: keystone unavailable")
	// ErrClosed: the Validator was closed (503).
	ErrClosed = errors.New("authtoken: validator closed")
)

// Error is a token that was not accepted, and why. It never holds the token
// itself: Token is its fingerprint (identity.TokenFingerprint).
type Error struct {
	// Kind is the sentinel the error matches (ErrInvalidToken, ...).
	Kind error
	// Token is the fingerprint of the token concerned, "" if none.
	Token string
	// Service is true when the token was an X-Service-Token.
	Service bool
	// Reason says what was wrong, for logs. It names users, projects and
	// domains, never secrets.
	Reason string
	// Err is the underlying cause, if any (an *identity.Error, a
	// region.AllFailedError, a context error).
	Err error
	// RetryAfter, for ErrUnavailable, is when the caller may try again,
	// if known; Handler sends it as Retry-After.
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Service {
		s += " (service token)"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Token != "" {
		s += " [token " + e.Token + "]"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause, so that errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// status is the HTTP status Handler answers for err.
func status(err error) int {
	var e *Error
	if !errors.As(err, &e) {
		return http.StatusServiceUnavailable
	}
	switch e.Kind {
	case ErrForbidden:
		if e.Service {
			return http.StatusUnauthorized
		}
		return http.StatusForbidden
	case ErrUnavailable, ErrClosed:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}
