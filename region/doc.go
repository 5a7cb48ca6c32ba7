// Package region knows where a client's Keystone is: the locations of a
// cloud, the auth_urls each one serves, which location holds which region,
// and which location is the primary that accepts identity writes. It keeps a
// circuit breaker per auth_url and fails over between locations when the
// caller's own one is down, and it hides the replication lag between the
// primary and the replicas behind one bounded retry.
//
// A service writes:
//
//	r, err := region.New(region.Config{Locations: locs, Primary: "JP"})
//	home, err := r.LocationOf("SIN1")                     // "SG"
//	tok, err := r.Issue(ctx, home, idClient, cred, scope) // SG first, then JP, US
//
// # Order
//
// Order(home) lists the home location's auth_urls first, then those of the
// other locations in configured order; an auth_url whose circuit is open is
// moved to the end. Issue, Validate and Write try the auth_urls in that
// order.
//
// # When to fail over
//
// An attempt that ends in identity.ErrUnavailable (connection refused, a
// timeout, a 5xx) or identity.ErrBadResponse is a fault of that auth_url:
// it counts against the auth_url's circuit and the next auth_url is tried.
// Every other answer (401, 403, 404, a malformed credential) is an answer,
// not a fault: it is returned as it is, and it tells the circuit that the
// auth_url is alive. Each attempt runs under its own timeout,
// Config.AttemptTimeout, inside the caller's deadline; the caller's
// cancellation stops everything at once.
//
// # Replication lag
//
// A user, project or application credential created at the primary is seen
// by the replicas a little later. So a 401 to an authentication at a
// replica (password, application credential, or a token issued for a new
// user), and a 404 to a token validation at a replica, are retried once at
// the primary before they are reported; the primary's answer is final, and
// if the primary cannot be reached the replica's answer stands. Stats counts
// these retries, and an error that the primary answered says that the
// replica was asked first. The price is that a wrong password tried at a
// replica costs a second request, at the primary, so the cost is bounded
// twice over: a token validation is retried only if the token was issued
// within Config.ReplicationLag (Fernet and JWS tokens show when; an older
// unknown token is unknown everywhere), and all retries at the primary
// share a budget of 10 a second (20 at once), beyond which the replica's
// answer stands. A flood of unknown tokens then costs the primary nothing
// beyond that budget.
//
// # Back pressure
//
// A 429 (identity.ErrRateLimited) is an answer, not a fault: it is not
// failed over to another location, and it keeps the auth_url's circuit
// closed. Its Retry-After is on the *identity.Error for the caller (the
// token cache waits at least that long before asking again).
//
// # Circuits
//
// After Config.FailureThreshold consecutive faults an auth_url's circuit
// opens for Config.CoolDown: no request is sent to it. Once the cool-down
// has passed the circuit is half-open: exactly one request at a time (the
// probe) goes to it; an answer closes the circuit, a fault opens it for
// another cool-down.
//
// When every auth_url a request may use is open, the resolver does not fail
// on what may be a stale verdict: it probes them early, in order, one probe
// per auth_url at a time. A caller that finds every probe slot already taken
// fails at once with *AllFailedError.
package region
