// Package authtoken authenticates the requests of a SaaS backend (mail,
// database or web hosting) whose users log in with Keystone tokens: the Go
// counterpart of keystonemiddleware's auth_token, coalesced, cached and
// aware of product domains.
//
// A backend writes:
//
//	v, err := authtoken.New(authtoken.Config{Domains: []domain.Domain{gnc}, Home: "SG", Primary: "JP",
//		ServiceCredential: svcCred, ServiceScope: svcScope})
//	http.Handle("/", v.Handler(app, authtoken.HandlerOptions{}))
//	// in app: id, _ := authtoken.FromContext(r.Context()); id.Token.User.Name
//
// # One configuration file
//
// A backend reads its domains, locations and failover tuning from the
// geostack configuration file its clients read (geostack.LoadConfig;
// domain.LoadFile reads the domains alone from the same file). It
// serves its own domain, or every domain of the registry:
//
//	cfg, err := geostack.LoadConfig("/etc/geostack/geostack.json")
//	gnc, _ := cfg.Domains.ByName(cfg.Domain)
//	v, err := authtoken.New(authtoken.Config{
//		Domains: []domain.Domain{gnc}, // or cfg.Domains.Domains()
//		Home:    cfg.Home, Primary: cfg.Primary,
//		FailureThreshold: cfg.FailureThreshold, CoolDown: cfg.CoolDown, AttemptTimeout: cfg.AttemptTimeout,
//		ServiceCredential: cfg.Credential, ServiceScope: cfg.Scope, // after cfg.ApplyCloud, or in code
//	})
//
// The Validator validates at the admin_auth_urls of Domains[0], not at
// the file's locations[].auth_urls, which are the clients' (see the
// geostack package's ExampleLoadConfig_backend). Config.TLSConfig holds
// a CA of the deployment's own.
//
// A service moving from Python keeps its [keystone_authtoken] section:
// package ksmconfig turns it into a Config and HandlerOptions, with an
// error for every setting that has no meaning here.
//
// # Validation
//
// A Validator validates a token at the admin_auth_url of the backend's
// domain in the backend's own location, failing over to the other locations
// through a region.Resolver; a 404 at a replica is retried once at the
// primary, since a user registered a moment ago may not have replicated yet.
// It authenticates with the service's own token: issued without a catalog
// and kept in a tokencache.Cache (Config.TokenCache, or one of the
// Validator's own), or handed out by any identity.TokenSource
// (Config.ServiceToken). When Keystone rejects that token (401), it is
// invalidated, exactly that token, where the source can (a
// tokencache.Handle can), and the validation is retried once with the
// token the source gives next; a second 401 is ErrUnavailable, never a
// loop. Validator.ServiceToken returns the source.
//
// # Cache
//
// Validated tokens are kept in an LRU cache keyed by the HMAC-SHA256 of the
// token under a random key drawn by New: the raw token is never a key. An
// entry is trusted until the earlier of Config.CacheTTL (300 s by default,
// keystonemiddleware's token_cache_time) and the token's own expiry; the
// expiry is checked on every hit, so an expired token is never accepted from
// the cache. Concurrent misses for one token make one Keystone request
// (singleflight keyed by the HMAC, run under context.WithoutCancel and
// Config.ValidateTimeout; each caller waits on its own context). A token
// Keystone calls invalid (404) is remembered for Config.NegativeTTL (10 s), so
// a client retrying a bad token does not hammer Keystone; an outage is never
// remembered.
//
// # Shared tier
//
// With Config.Shared (a tokencache.Shared over memcached), the processes of
// a backend share their validations: a miss in the in-process cache reads
// the shared tier before asking Keystone, and a validation made here is
// shared. A shared result is trusted by the rule of the process that made
// it, until the earlier of CacheTTL after the validation and the token's
// expiry, so sharing never extends how long a revoked token is accepted.
// Processes validating one token at once mostly make one Keystone request
// (tokencache's fetch lock). Entries are sealed and named by an HMAC of
// the token under a key derived from the secret; the token is never a key.
//
// Negative results are not shared: a 404 can be replication lag at one
// location, which sharing would spread to the fleet, and the in-process
// negative cache already bounds a client retrying a bad token to one
// Keystone request per NegativeTTL per process. Validations that accept
// expired tokens (with a service token) are not shared either.
//
// # Domains and roles
//
// Keystone's word is not enough: a token is accepted only if its user's
// domain id is one of Config.Domains and the user's name carries that
// domain's prefix. A project-scoped token's project must also be in a served
// domain and carry its prefix; a domain-scoped token must be scoped to a
// served domain; a system-scoped token is refused; an unscoped token passes
// on its user, as with keystonemiddleware. A valid token of another product is
// rejected (ErrWrongDomain, 401) and logged with the reason. Config.Roles adds
// an any-of / all-of role requirement (ErrForbidden, 403).
//
// # Headers
//
// Handler is keystonemiddleware's auth_token for the backends behind it,
// WSGI applications reading the headers through oslo.context included: it
// strips every identity header a client sends, in every spelling (a WSGI
// server folds X_User_Id and x-USER-id into HTTP_X_USER_ID), and with
// HandlerOptions.ForwardHeaders sets them as auth_token does, with a few
// deliberate differences listed on Handler. TestIntegrationKeystonemiddlewareParity
// checks this against the real keystonemiddleware (scripts/ksm-up.sh) and
// prints the comparison.
//
// # Stats
//
// Validator.Stats counts cache hits, negative-cache hits, misses (and
// which of them joined a validation in flight), shared-tier hits,
// Keystone validations, tokens turned away without Keystone (malformed,
// or over MaxValidations), rejections by sentinel, and the validations in
// flight. A hit is counted without a write shared between cores: each P
// mostly counts on a counter of its own, on a cache line of its own
// (BenchmarkHitCount compares this with one shared counter).
//
// # Secrets
//
// No token and no token prefix reaches a log line or an error string: tokens
// are named by identity.TokenFingerprint ("sha256:" and 8 hex digits).
package authtoken
