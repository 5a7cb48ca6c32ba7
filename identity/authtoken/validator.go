package authtoken

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/observe"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// Validator validates incoming Keystone tokens for a backend: from its
// cache when it can, otherwise with one coalesced Keystone request per
// token, and then checks the token's domain and roles. It is safe for
// concurrent use. Make one with New; Close it when done.
type Validator struct {
	cfg      Config
	now      func() time.Time
	resolver *region.Resolver
	client   *identity.Client
	service  identity.TokenSource
	// invalidate drops a rejected service token, when the source can.
	invalidate func(id string) bool
	// release gives up what New built: the service token's Handle, and
	// the cache when it is the Validator's own.
	release func()
	opts    identity.ValidateOptions
	variant string // names opts in the shared tier's keys
	keys    *keyer
	pos     *lru.Cache[key, *entry]
	neg     *lru.Cache[key, time.Time]
	// fmu guards flights: the Keystone validations in progress, one per
	// token, each with the number of callers waiting for it.
	fmu     sync.Mutex
	flights map[string]*flight
	log     *slog.Logger
	wwwAuth string // the WWW-Authenticate header value

	stop     context.Context
	stopNow  context.CancelFunc
	stats    counters
	mu       sync.Mutex // guards closed and wg.Add
	closed   bool
	inflight sync.WaitGroup
}

// entry is a validated token, trusted until until (never past its expiry).
type entry struct {
	tok   *identity.Token
	until time.Time
}

// New checks cfg and returns a Validator. Every problem found is reported
// in one *geostack.ConfigError, matching geostack.ErrInvalidConfig.
func New(cfg Config) (*Validator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Validator{cfg: cfg, resolver: cfg.Resolver, log: cfg.Logger, keys: newKeyer(), now: cfg.Clock.Now,
		release: func() {}, flights: make(map[string]*flight)}
	if v.resolver == nil {
		rc := region.Config{Locations: locations(cfg.Domains[0]), Primary: cfg.Primary, Clock: cfg.Clock, Logger: cfg.Logger,
			FailureThreshold: cfg.FailureThreshold, CoolDown: cfg.CoolDown, AttemptTimeout: cfg.AttemptTimeout,
			ReplicationLag: cfg.ReplicationLag, Observer: cfg.Observer}
		if v.resolver, err = region.New(rc); err != nil {
			return nil, endpointProblems(cfg.Domains[0], rc.Locations, err)
		}
	}
	if v.resolver.Order(cfg.Home) == nil {
		var l configerr.List
		l.Add("home", "%q is not a location of the resolver", cfg.Home)
		return nil, l.Err()
	}
	uri, err := userAuthURL(cfg.Domains[0], cfg.Home, v.resolver.Primary())
	if err != nil {
		return nil, err
	}
	v.wwwAuth = `Keystone uri="` + uri + `"`

	c := identity.Client{Clock: cfg.Clock, HTTPClient: keystoneHTTPClient(cfg.TLSConfig)}
	if cfg.Client != nil {
		c = *cfg.Client
		if c.Clock == nil {
			c.Clock = cfg.Clock
		}
	}
	v.client = &c
	if err := v.serviceToken(cfg); err != nil {
		return nil, err
	}
	v.opts = identity.ValidateOptions{NoCatalog: !cfg.IncludeCatalog, AccessRules: cfg.ServiceType != ""}
	// Shared validations are kept apart by what they hold (with or without
	// catalog) and by how long they are trusted: a validator with a short
	// CacheTTL, so that revocations take effect quickly, never takes a
	// result that a fleet-mate trusts for longer.
	v.variant = "nocatalog"
	if cfg.IncludeCatalog {
		v.variant = "catalog"
	}
	v.variant += "/ttl=" + cfg.CacheTTL.String()
	if cfg.ServiceType != "" {
		// Tokens with access rules are shared only among validators that
		// enforce them.
		v.variant += "/rules"
	}

	// Both sizes are positive by now, the one thing lru.New checks.
	v.pos, _ = lru.New[key, *entry](cfg.CacheSize)
	v.neg, _ = lru.New[key, time.Time](cfg.NegativeCacheSize)
	v.stop, v.stopNow = context.WithCancel(context.Background())
	return v, nil
}

func userAuthURL(d domain.Domain, home, primary string) (string, error) {
	for _, loc := range []string{home, primary} {
		if ep, ok := d.AuthURLs(loc); ok && len(ep.Users()) > 0 {
			return ep.Users()[0], nil
		}
	}
	var l configerr.List
	l.Add("domains[0].endpoints", "domain %s has no user_auth_url at %s or %s", d.Name, home, primary)
	return "", l.Err()
}

// serviceToken sets up the service's own token: cfg.ServiceToken, or a
// Handle of the credential's catalog-less tokens, issued with failover
// from Home.
func (v *Validator) serviceToken(cfg Config) error {
	if cfg.ServiceToken != nil {
		v.service = cfg.ServiceToken
		if h, ok := cfg.ServiceToken.(interface{ Invalidate(string) bool }); ok {
			v.invalidate = h.Invalidate
		}
		return nil
	}
	cache := cfg.TokenCache
	own := cache == nil
	if own {
		var err error
		if cache, err = tokencache.New(tokencache.Options{Clock: cfg.Clock, Logger: cfg.Logger, Observer: cfg.Observer}); err != nil {
			return err
		}
	}
	issuer := *v.client // the service token is only ever sent to Keystone
	issuer.NoCatalog = true
	cred, scope, home, r := cfg.ServiceCredential, cfg.ServiceScope, cfg.Home, v.resolver
	// A token without a catalog: its own cache entry, apart from the
	// ordinary tokens a geostack.Client of the same service user keeps in
	// the same cache.
	h, err := cache.Handle(tokencache.Key{Credential: cred, Scope: scope, Kind: "nocatalog"},
		identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
			return r.Issue(ctx, home, &issuer, cred, scope)
		}))
	if err != nil {
		if own {
			cache.Close()
		}
		return err
	}
	v.service, v.invalidate = h, h.Invalidate
	v.release = func() {
		h.Release()
		if own {
			cache.Close()
		}
	}
	return nil
}

// ServiceToken returns the source of the service's own token, the one
// every validation authenticates with: to send it elsewhere, or to check
// it in a test.
func (v *Validator) ServiceToken() identity.TokenSource { return v.service }

// Close cancels the validations in flight and waits for them to end,
// then gives up what New built and closes Config.Closers. Afterwards
// Validate fails with ErrClosed on a cache miss. It returns the Closers'
// errors, joined, the first time, and nil afterwards.
func (v *Validator) Close() error {
	v.mu.Lock()
	closed := v.closed
	v.closed = true
	v.mu.Unlock()
	v.stopNow()
	v.inflight.Wait()
	if closed {
		return nil
	}
	v.release()
	var errs []error
	for _, c := range v.cfg.Closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Validate reports whether token is a valid Keystone token of one of the
// served domains, meeting the role requirement, and returns it parsed.
// The token is shared: callers must not modify it.
//
// A token found in the cache is returned without any I/O, unless it has
// expired (ErrExpired). Otherwise one Keystone validation is made, however
// many callers ask about the same token at once; each caller waits on its
// own ctx. Errors are *Error values; see the sentinels.
func (v *Validator) Validate(ctx context.Context, token string) (*identity.Token, error) {
	tok, err := v.validateUser(ctx, token, false)
	if err != nil {
		return nil, v.rejected(err)
	}
	if _, restricted := tokenAccessRules(tok); restricted {
		return nil, v.rejected(&Error{Kind: ErrAccessRules, Token: identity.TokenFingerprint(token),
			Reason: "the token has access rules, which only Handler can check against a request"})
	}
	return tok, nil
}

// ValidateService validates an X-Service-Token: a valid token (of any
// domain: service users live in the Default domain) carrying one of
// Config.ServiceRoles.
func (v *Validator) ValidateService(ctx context.Context, token string) (*identity.Token, error) {
	tok, err := v.validateService(ctx, token)
	if err != nil {
		return nil, v.rejected(err)
	}
	return tok, nil
}

// validateService is ValidateService without counting a rejection.
func (v *Validator) validateService(ctx context.Context, token string) (tok *identity.Token, err error) {
	if v.cfg.Observer != nil { // observe.go
		var end func(error)
		ctx, end = v.observe(ctx, true)
		defer func() { end(err) }()
	}
	tok, err = v.lookup(ctx, token, false)
	if err != nil {
		return nil, asService(err)
	}
	if !(Roles{AnyOf: v.cfg.ServiceRoles}).met(tok) {
		return nil, &Error{Kind: ErrForbidden, Service: true, Token: identity.TokenFingerprint(token),
			Reason: fmt.Sprintf("service token of user %s (%s) has none of the service roles %s",
				tok.User.Name, tok.User.ID, strings.Join(v.cfg.ServiceRoles, ","))}
	}
	return tok, nil
}

// asService returns err marked as about a service token. Errors of a
// coalesced validation are shared between callers, so it copies.
func asService(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Service = true
	return &c
}

// validateUser is Validate; allowExpired accepts a token past its expiry
// within Keystone's allow_expired window, as keystonemiddleware does when a
// valid service token comes with it.
func (v *Validator) validateUser(ctx context.Context, token string, allowExpired bool) (_ *identity.Token, err error) {
	if v.cfg.Observer != nil { // observe.go
		var end func(error)
		ctx, end = v.observe(ctx, false)
		defer func() { end(err) }()
	}
	tok, err := v.lookup(ctx, token, allowExpired)
	if err != nil {
		return nil, err
	}
	if err := v.check(tok, token); err != nil {
		return nil, err
	}
	return tok, nil
}

// lookup returns token as Keystone validated it, from the cache or from
// Keystone.
func (v *Validator) lookup(ctx context.Context, token string, allowExpired bool) (*identity.Token, error) {
	if token == "" {
		return nil, &Error{Kind: ErrMissing}
	}
	if !wellFormed(token, v.cfg.MaxTokenLength) {
		v.stats.malformed.Add(1)
		return nil, &Error{Kind: ErrInvalidToken, Token: identity.TokenFingerprint(token),
			Reason: "malformed token (too long or not visible ASCII); not sent to Keystone"}
	}
	k, stripe := v.keys.keyAndStripe(token)
	switch tok, from, err := v.cached(k, token, allowExpired); from {
	case fromPositive:
		stripe.hits.Add(1)
		v.source(ctx, observe.SourceCache) // observe.go: what the Observer is told answered
		return tok, err
	case fromNegative:
		v.stats.negativeHits.Add(1)
		v.source(ctx, observe.SourceCache)
		return tok, err
	}
	// Only a token that passed this check is ever cached: checking it
	// after the cache keeps its decoding off the hit path.
	if !v.cfg.AnyTokenFormat {
		if _, ok := identity.TokenIssuedAt(token); !ok {
			v.stats.malformed.Add(1)
			return nil, &Error{Kind: ErrInvalidToken, Token: identity.TokenFingerprint(token),
				Reason: "not a Fernet or JWS token, which is all Keystone issues; not sent to Keystone (Config.AnyTokenFormat)"}
		}
	}
	v.source(ctx, observe.SourceKeystone) // observe.go: what the Observer is told answered
	v.stats.misses.Add(1)
	return v.fetch(ctx, k, token, allowExpired)
}

// Where cached found its answer.
const (
	fromNowhere = iota
	fromPositive
	fromNegative
)

// cached answers from the validation caches, if they know the token, and
// says which one did (fromNowhere: neither). It reads them with Peek,
// which takes no exclusive lock: concurrent hits on every core do not
// queue on the LRU's list. (Entries then leave in the order they came,
// which their TTL bounds anyway.)
func (v *Validator) cached(k key, token string, allowExpired bool) (tok *identity.Token, from int, err error) {
	now := v.now()
	if e, ok := v.pos.Peek(k); ok {
		if now.Before(e.until) {
			return e.tok, fromPositive, nil
		}
		if !allowExpired && !now.Before(e.tok.Expiry) {
			return nil, fromPositive, &Error{Kind: ErrExpired, Token: identity.TokenFingerprint(token),
				Reason: "token expired at " + e.tok.Expiry.Format(time.RFC3339)}
		}
	}
	if until, ok := v.neg.Peek(k); ok && !allowExpired && now.Before(until) {
		return nil, fromNegative, &Error{Kind: ErrInvalidToken, Token: identity.TokenFingerprint(token),
			Reason: "Keystone rejected the token recently (negative cache)"}
	}
	return nil, fromNowhere, nil
}

// flight is one Keystone validation that callers wait for.
type flight struct {
	done    chan struct{} // closed when tok and err are set
	tok     *identity.Token
	err     error
	waiters int // guarded by Validator.fmu
	cancel  context.CancelFunc
}

// fetch validates token at Keystone, coalescing concurrent callers into one
// flight. A flight no caller waits for any more is cancelled; when
// Config.MaxValidations flights are already running, a caller with a new
// token is turned away at once (ErrUnavailable, with a retry hint), so a
// flood of distinct tokens cannot pile up goroutines, connections or
// Keystone load.
func (v *Validator) fetch(ctx context.Context, k key, token string, allowExpired bool) (*identity.Token, error) {
	fk := string(k[:])
	if allowExpired {
		fk += "+expired"
	}
	v.fmu.Lock()
	f, ok := v.flights[fk]
	if !ok {
		v.mu.Lock()
		closed := v.closed
		if !closed && len(v.flights) < v.cfg.MaxValidations {
			v.inflight.Add(1)
		}
		v.mu.Unlock()
		switch {
		case closed:
			v.fmu.Unlock()
			return nil, &Error{Kind: ErrClosed}
		case len(v.flights) >= v.cfg.MaxValidations:
			v.fmu.Unlock()
			v.stats.overloaded.Add(1)
			return nil, &Error{Kind: ErrUnavailable, Token: identity.TokenFingerprint(token), RetryAfter: time.Second,
				Reason: fmt.Sprintf("%d validations already in progress (Config.MaxValidations)", v.cfg.MaxValidations)}
		}
		// The flight keeps the first caller's values, not its
		// cancellation: it ends when no caller waits, on its timeout, or
		// on Close.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.cfg.ValidateTimeout)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		v.flights[fk] = f
		go v.fly(fctx, f, fk, k, token, allowExpired)
	} else {
		v.stats.coalesced.Add(1)
	}
	f.waiters++
	v.fmu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return f.tok, nil
	case <-ctx.Done():
		v.fmu.Lock()
		if f.waiters--; f.waiters == 0 {
			// Nobody wants the answer any more: stop asking, and let the
			// next caller of this token start afresh.
			f.cancel()
			if v.flights[fk] == f {
				delete(v.flights, fk)
			}
		}
		v.fmu.Unlock()
		return nil, &Error{Kind: ErrUnavailable, Token: identity.TokenFingerprint(token),
			Reason: "caller stopped waiting for the validation", Err: ctx.Err()}
	}
}

// fly runs one flight and hands its answer to the waiters.
func (v *Validator) fly(ctx context.Context, f *flight, fk string, k key, token string, allowExpired bool) {
	defer v.inflight.Done()
	defer f.cancel()
	stop := context.AfterFunc(v.stop, f.cancel)
	defer stop()
	f.tok, f.err = v.validateRemote(ctx, k, token, allowExpired)
	v.fmu.Lock()
	if v.flights[fk] == f {
		delete(v.flights, fk)
	}
	v.fmu.Unlock()
	close(f.done)
}

// validateRemote is a flight's work: the cache again (a flight that just
// ended may have filled it), then the shared tier or Keystone.
func (v *Validator) validateRemote(ctx context.Context, k key, token string, allowExpired bool) (*identity.Token, error) {
	if tok, from, err := v.cached(k, token, allowExpired); from != fromNowhere {
		return tok, err
	}
	if v.cfg.Shared == nil || allowExpired {
		tok, _, err := v.remote(ctx, k, token, allowExpired)
		return tok, err
	}
	tok, until, shared, err := v.cfg.Shared.Validated(ctx, token, v.variant, func(ctx context.Context) (*identity.Token, time.Time, error) {
		return v.remote(ctx, k, token, false)
	})
	if err != nil {
		return nil, err
	}
	if shared {
		v.stats.sharedHits.Add(1)
		v.pos.Add(k, &entry{tok: tok, until: until})
	}
	return tok, nil
}

// remote asks Keystone about token, through the resolver, with the
// service's own token; a service token Keystone rejects is replaced once.
// The answer is cached: a valid token positively, an unknown one
// negatively, an outage not at all. until is when the cached token stops
// being trusted (zero if it was not cached).
func (v *Validator) remote(ctx context.Context, k key, token string, allowExpired bool) (tok *identity.Token, until time.Time, err error) {
	fp := identity.TokenFingerprint(token)
	o := v.opts
	o.AllowExpired = allowExpired
	svc, err := v.service.Token(ctx)
	if err != nil {
		return nil, time.Time{}, v.unavailable(fp, "no service token", err)
	}
	v.stats.keystone.Add(1)
	tok, err = v.resolver.Validate(ctx, v.cfg.Home, v.client, svc.ID, token, o)
	if errors.Is(err, identity.ErrUnauthorized) {
		v.log.LogAttrs(ctx, slog.LevelInfo, "authtoken: Keystone rejected the service token; refreshing it once",
			slog.String("service_token", identity.TokenFingerprint(svc.ID)))
		if v.invalidate != nil {
			v.invalidate(svc.ID)
		}
		if svc, err = v.service.Token(ctx); err != nil {
			return nil, time.Time{}, v.unavailable(fp, "no service token after refresh", err)
		}
		v.stats.keystone.Add(1)
		tok, err = v.resolver.Validate(ctx, v.cfg.Home, v.client, svc.ID, token, o)
	}
	now := v.now()
	switch {
	case err == nil:
		if tok.ValidAt(now) {
			until = now.Add(v.cfg.CacheTTL)
			if tok.Expiry.Before(until) {
				until = tok.Expiry
			}
			v.pos.Add(k, &entry{tok: tok, until: until})
			v.neg.Remove(k)
		}
		return tok, until, nil
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, identity.ErrInvalidCredential):
		if v.cfg.NegativeTTL > 0 {
			v.neg.Add(k, now.Add(v.cfg.NegativeTTL))
		}
		return nil, time.Time{}, &Error{Kind: ErrInvalidToken, Token: fp, Reason: "Keystone does not know the token (unknown, expired or revoked)", Err: err}
	}
	return nil, time.Time{}, v.unavailable(fp, "Keystone could not validate the token", err)
}

func (v *Validator) unavailable(fp, reason string, err error) error {
	e := &Error{Kind: ErrUnavailable, Token: fp, Reason: reason, Err: err}
	level := slog.LevelError
	if errors.Is(err, context.Canceled) {
		// A flight every caller gave up on, or Close: nothing failed.
		level = slog.LevelDebug
	}
	v.log.LogAttrs(context.Background(), level, "authtoken: token validation unavailable",
		slog.String("token", fp), slog.String("reason", reason), slog.String("error", err.Error()))
	return e
}

// served returns the served domain with id.
func (v *Validator) served(id string) (domain.Domain, bool) {
	for _, d := range v.cfg.Domains {
		if d.ID == id {
			return d, true
		}
	}
	return domain.Domain{}, false
}

// check applies the domain rules and the role requirement to a token
// Keystone validated:
//
//   - the user's domain is a served domain, and the user's name carries
//     that domain's prefix (a second, independent check);
//   - a project-scoped token's project is in a served domain and its name
//     carries that domain's prefix;
//   - a domain-scoped token is scoped to a served domain;
//   - a system-scoped token is refused: the system is no product's;
//   - an unscoped token passes on its user alone, as with keystonemiddleware.
func (v *Validator) check(tok *identity.Token, token string) error {
	if reason := v.domainReason(tok); reason != "" {
		return &Error{Kind: ErrWrongDomain, Token: identity.TokenFingerprint(token), Reason: reason}
	}
	if !v.cfg.Roles.met(tok) {
		return &Error{Kind: ErrForbidden, Token: identity.TokenFingerprint(token),
			Reason: fmt.Sprintf("user %s (%s) lacks the required roles", tok.User.Name, tok.User.ID)}
	}
	return nil
}

func (v *Validator) domainReason(tok *identity.Token) string {
	d, ok := v.served(tok.User.Domain.ID)
	if !ok {
		return fmt.Sprintf("user %s (%s) is in domain %s (%s), which this backend does not serve",
			tok.User.Name, tok.User.ID, tok.User.Domain.Name, tok.User.Domain.ID)
	}
	if !d.OwnsAccount(tok.User.Name) {
		return fmt.Sprintf("user %s (%s) of domain %s does not carry the domain's prefix %q",
			tok.User.Name, tok.User.ID, d.Name, d.Prefix)
	}
	switch {
	case tok.Project != nil:
		pd, ok := v.served(tok.Project.Domain.ID)
		if !ok {
			return fmt.Sprintf("project %s (%s) is in domain %s (%s), which this backend does not serve",
				tok.Project.Name, tok.Project.ID, tok.Project.Domain.Name, tok.Project.Domain.ID)
		}
		if !pd.OwnsAccount(tok.Project.Name) {
			return fmt.Sprintf("project %s (%s) of domain %s does not carry the domain's prefix %q",
				tok.Project.Name, tok.Project.ID, pd.Name, pd.Prefix)
		}
	case tok.Domain != nil:
		if _, ok := v.served(tok.Domain.ID); !ok {
			return fmt.Sprintf("token is scoped to domain %s (%s), which this backend does not serve", tok.Domain.Name, tok.Domain.ID)
		}
	case tok.System:
		return "token is system-scoped"
	}
	return ""
}

// Format prints the validator's served domains and home location, never
// the service credential or a token, with every verb: %+v and %#v would
// otherwise print the unexported configuration field by field, where the
// credential's own redaction is not called.
func (v *Validator) Format(f fmt.State, verb rune) {
	if v == nil {
		fmt.Fprint(f, "authtoken.Validator(nil)")
		return
	}
	names := make([]string, len(v.cfg.Domains))
	for i, d := range v.cfg.Domains {
		names[i] = d.Name
	}
	fmt.Fprintf(f, "authtoken.Validator{domains: %v, home: %s}", names, v.cfg.Home)
}

// String is the redacted form Format prints.
func (v *Validator) String() string { return fmt.Sprint(v) }

// endpointProblems restates the resolver's problems with the locations
// built from d's endpoints in the words of d's own settings:
// locations[1].auth_urls[0] is domains[0].endpoints.SG.admin_auth_url.
func endpointProblems(d domain.Domain, locs []region.Location, err error) error {
	var ce *configerr.Error
	if !errors.As(err, &ce) {
		return err
	}
	var l configerr.List
	for _, p := range ce.Problems {
		q := *p
		var i int
		if _, scanErr := fmt.Sscanf(p.Key, "locations[%d]", &i); scanErr == nil && i >= 0 && i < len(locs) {
			name := locs[i].Name
			which := "admin_auth_url"
			if d.Endpoints[name].AdminAuthURL == "" {
				which = "user_auth_url"
			}
			q.Key = "domains[0].endpoints." + name + "." + which
		}
		l.AddProblem(&q)
	}
	return l.Err()
}

// maxConnsPerKeystone bounds the connections the Validator's own HTTP
// client opens to one Keystone: validations queue for a connection rather
// than open one each (a flood of distinct bad tokens at 64 callers held 64
// at once; keystonemiddleware holds a handful).
const maxConnsPerKeystone = 8

// keystoneHTTPClient is the Validator's HTTP client when Config.Client is
// nil: its own transport, with a bound on connections per Keystone host
// and, if given, a copy of tlsConfig.
func keystoneHTTPClient(tlsConfig *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = maxConnsPerKeystone
	tr.MaxIdleConnsPerHost = maxConnsPerKeystone
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
	}
	return &http.Client{Transport: tr}
}
