package authtoken

import (
	"context"

	"github.com/geostack/geostack/identity"
)

// Status is the verdict on a token, as keystonemiddleware's
// X-Identity-Status and X-Service-Identity-Status headers carry it.
type Status uint8

// The values of Status.
const (
	// StatusNone: no such token was presented (only for service tokens).
	StatusNone Status = iota
	// StatusConfirmed: the token is valid and met every requirement.
	StatusConfirmed
	// StatusInvalid: the token is missing or was not accepted; the
	// request was passed on only because of DelayAuthDecision.
	StatusInvalid
)

// String returns "Confirmed", "Invalid" or "" (StatusNone), the header
// values.
func (s Status) String() string {
	switch s {
	case StatusConfirmed:
		return "Confirmed"
	case StatusInvalid:
		return "Invalid"
	}
	return ""
}

// Identity is what Handler learned about a request, stored in its context.
// It is immutable once stored.
type Identity struct {
	// Status is the verdict on the user token (X-Auth-Token).
	Status Status
	// Token is the validated user token; nil unless Status is
	// StatusConfirmed. It is shared: do not modify it.
	Token *identity.Token
	// Err says why the user token was not accepted (an *Error), when
	// Status is StatusInvalid.
	Err error

	// ServiceStatus is the verdict on the X-Service-Token, StatusNone if
	// the request had none.
	ServiceStatus Status
	// Service is the validated service token, when ServiceStatus is
	// StatusConfirmed.
	Service *identity.Token
	// ServiceErr says why the service token was not accepted.
	ServiceErr error
}

// Confirmed reports whether the user token was accepted.
func (id *Identity) Confirmed() bool { return id != nil && id.Status == StatusConfirmed }

type ctxKey struct{}

// NewContext returns a copy of ctx carrying id. Handler calls it; tests of
// a backend can too.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the Identity Handler stored in ctx. With
// DelayAuthDecision it may be unconfirmed: check Confirmed.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(*Identity)
	return id, ok && id != nil
}
