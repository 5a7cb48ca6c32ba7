// Package geostack lets a Go service use an OpenStack cloud that is spread over
// several geographic locations sharing one Keystone, and sold by several product
// domains from the same infrastructure.
//
// The cloud it serves has one Keystone database replicated between locations
// (JP, US, SG, ...), each location running its own Keystone API, its auth_url,
// and holding one or more OpenStack regions. Users and projects are written
// only at the primary location; the others read a replica that may lag.
// Keystone domains are products (brands, OEM partners): each owns a name
// prefix for its users, projects, images, flavors and volume types.
//
// geostack makes one token do the work of thousands: every gophercloud
// ServiceClient of one identity and scope, for any service in any region,
// shares one cached token. It authenticates at the caller's own location
// first and fails over to the others when that one is down, and it keeps each
// domain's users inside the domain's namespace.
//
// The packages form a small graph, not a chain; each imports only those
// listed after its name (besides gophercloud and the internal helpers):
//
//   - clock: the one time source every package takes (a fake for tests).
//   - catalog: the service catalog as an immutable index; deterministic
//     endpoint selection with typed errors. A leaf.
//   - domain: the product-domain registry, name prefixes, and visibility
//     filters for images, flavors and volume types. A leaf beside catalog:
//     it speaks gophercloud's types, not ours.
//   - identity (catalog, clock): Keystone v3 through gophercloud:
//     credentials, scopes, issuing and validating tokens, the parsed Token,
//     the TokenSource interface, typed errors, redaction.
//   - region (identity): locations, auth_url ordering (home first), health
//     and failover, the primary location, replication-lag-tolerant retries.
//   - tokencache (identity): one token per identity and scope, lock-free
//     reads, coalesced fetches, proactive refresh, exact invalidation; an
//     optional shared tier of sealed entries, over memcached with
//     tokencache/memcache. It sits beside region, not above it: it caches
//     any TokenSource, and a resolver's Issue is only the usual one.
//   - identity/authtoken (identity, region, tokencache, domain): an
//     http.Handler that validates incoming Keystone tokens for SaaS
//     backends. It lives under identity because validating is identity's
//     other half, and it is the one place where region, tokencache and
//     domain meet on the server side, as this package is on the client
//     side.
//   - domain/proxy (identity/authtoken, domain, catalog, region,
//     identity): the domain API wrapper proxy, an http.Handler per domain
//     and service in front of nova, glance, cinder and keystone, which
//     gives clients nobody here wrote the domain's view with the same
//     filters as the Client's listings. It sits above authtoken, whose
//     handler validates every request it serves.
//   - geostack (all of the above but authtoken and domain/proxy): the
//     Client a service embeds.
//   - observe: the hook (an Observer) through which tokencache, region and
//     identity/authtoken report fetches, validations and attempts. A leaf.
//   - otelgeostack (observe and the above): that Observer for
//     OpenTelemetry metrics and spans; the only importer of OpenTelemetry.
//   - wirelog (identity, clock): the redacted debug RoundTripper behind
//     Config.DebugLogger.
//   - geostacktest (geostack, internal/testserver): the fake cloud as a
//     public package for users' tests and the examples.
//   - internal/testserver (clock): an in-process fake of the whole cloud,
//     behind geostacktest, used by the tests.
//
// Every configuration error of every package is one *ConfigError, matched
// by ErrInvalidConfig.
//
// The three lines a service writes:
//
//	client, err := geostack.New(ctx, cfg) // cfg from LoadConfig and ApplyCloud, or code
//	compute, err := client.ServiceClient(ctx, "compute", "SIN1")
//	srv, err := servers.Create(ctx, compute, opts, nil).Extract() // any gophercloud package
package geostack
