// Package observe is the hook through which geostack reports the work it
// does against Keystone: token fetches, token validations, and each attempt
// at one auth_url, failovers included. An Observer sees every such
// operation start and end, with its times and outcome, so that a service
// can turn them into latency histograms, counters and trace spans. Package
// otelgeostack is the Observer for OpenTelemetry; a test can use a Func.
//
// Set it once, where the work is configured:
//
//	cfg.Observer = otelgeostack.New(otelgeostack.Options{}) // geostack.Config
//	client, err := geostack.New(ctx, cfg)
//
// (or tokencache.Options.Observer, region.Config.Observer and
// authtoken.Config.Observer for those packages used on their own).
//
// Each operation is reported once, by the component that does it: a token
// fetch by the cache whose entry fetches it (however many clients share
// the entry), an attempt by the resolver that makes it, a validation by
// the Validator that answers it. So counts taken from an Observer add up
// across clients, where summing each client's Stats would count a shared
// token once per client.
//
// A nil Observer costs nothing: the components test for nil before they
// read a clock or build an Operation, and the hot paths (a cached token
// read, a token read by a service request) are never observed.
package observe

import (
	"context"
	"time"
)

// Observer receives operations as they start and end.
//
// Start is called on the goroutine that runs the operation, as it begins.
// It returns the context the operation goes on in, which may carry a span
// under which nested operations start (a fetch's attempts, a validation's
// attempts), and the function to call when the operation ends; that
// function is called exactly once, from the same or another goroutine.
// Implementations must be safe for concurrent use, must not block, must
// return a non-nil function, and must not keep Operation or Result values
// past the calls (their errors may be shared with other callers).
type Observer interface {
	Start(ctx context.Context, op Operation) (context.Context, func(Result))
}

// Func adapts a function to an Observer.
type Func func(ctx context.Context, op Operation) (context.Context, func(Result))

// Start calls f.
func (f Func) Start(ctx context.Context, op Operation) (context.Context, func(Result)) {
	return f(ctx, op)
}

var _ Observer = Func(nil)

// Kind is what an Operation does.
type Kind uint8

const (
	// Fetch is a token cache's fetch of one token: the one coalesced call
	// of its TokenSource (and the shared tier, if any) that every waiting
	// caller shares. Reported by tokencache.
	Fetch Kind = iota + 1
	// Validation is one answer to "is this incoming token valid?" by an
	// authtoken.Validator, from its cache or from Keystone, domain and
	// role checks included. Reported by identity/authtoken.
	Validation
	// Attempt is one request to one auth_url within a resolver's issue,
	// validation or write: the first one, or one after a failover, or a
	// replication-lag retry at the primary. Reported by region.
	Attempt
)

func (k Kind) String() string {
	switch k {
	case Fetch:
		return "fetch"
	case Validation:
		return "validation"
	case Attempt:
		return "attempt"
	}
	return "unknown"
}

// Source says where an operation's answer came from.
type Source string

const (
	// SourceKeystone: a Fetch that called its TokenSource (Keystone,
	// through the resolver), or a Validation that was not in the local
	// cache (asked of the shared tier or Keystone, or coalesced with a
	// caller that did).
	SourceKeystone Source = "keystone"
	// SourceShared: a Fetch answered by the shared tier (another
	// process's token).
	SourceShared Source = "shared"
	// SourceCache: a Validation answered by the Validator's own cache,
	// positive or negative, without any request.
	SourceCache Source = "cache"
)

// Operation describes an operation as it starts. Fields that do not apply
// to its Kind are zero. No field holds a secret.
type Operation struct {
	Kind Kind
	// Start is when the operation began, on the component's clock.
	Start time.Time

	// Identity describes the identity and scope of a Fetch's token
	// ("user gncu00000001 in domain gnc, project gnct00000001"), never a
	// secret. It names a user: fine for a span, too many values for a
	// metric attribute.
	Identity string
	// Refresh is set for a Fetch that replaces a token still served (a
	// background refresh, or Handle.Refresh).
	Refresh bool

	// Service is set for a Validation of an X-Service-Token.
	Service bool

	// Op is an Attempt's request: "issue", "validate" or "write".
	Op string
	// AuthURL is the auth_url an Attempt goes to, and Location its
	// location; Home is the location the request started from.
	AuthURL, Location, Home string
	// Resends is how many attempts of the same request were sent before
	// this one (0 for the first).
	Resends int
	// Failover is set for an Attempt that follows an auth_url that
	// faulted or had its circuit open in the same request.
	Failover bool
	// LagRetry is set for an Attempt that asks the primary again after a
	// replica's answer, for replication lag.
	LagRetry bool
	// Probe is set for an Attempt that probes an auth_url whose circuit
	// was open.
	Probe bool
}

// Result is how an operation ended.
type Result struct {
	// End is when the operation ended, on the component's clock.
	End time.Time
	// Err is the operation's error, nil on success. For an Attempt, an
	// answer such as a 401 is an error too; Fault tells faults apart.
	Err error
	// Source is where a Fetch's or a Validation's answer came from; ""
	// for a Validation of a token turned away unasked (missing or
	// malformed).
	Source Source
	// Fault is set for an Attempt that failed as a fault of the auth_url
	// (connection error, timeout, 5xx, unusable answer): the kind of
	// failure the resolver fails over on.
	Fault bool
}
