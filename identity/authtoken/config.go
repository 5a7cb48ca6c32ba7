package authtoken

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/observe"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// Defaults of Config.
const (
	// defaultCacheSize is how many validated tokens are kept: a few MiB
	// for a backend with ten thousand active users.
	defaultCacheSize = 10000
	// defaultCacheTTL is how long a validated token is trusted without
	// asking Keystone again; keystonemiddleware's token_cache_time. A token
	// revoked in Keystone stays accepted for at most this long.
	defaultCacheTTL = 300 * time.Second
	// defaultNegativeCacheSize is how many invalid tokens are remembered.
	defaultNegativeCacheSize = 1000
	// defaultNegativeTTL is how long a token Keystone called invalid (404)
	// is answered 401 without asking again: long enough that a client
	// retrying in a loop costs Keystone one request per 10 s, short enough
	// that replication catching up is not hidden for long.
	defaultNegativeTTL = 10 * time.Second
	// defaultValidateTimeout bounds one coalesced validation, failover
	// across locations included.
	defaultValidateTimeout = 30 * time.Second
	// defaultMaxTokenLength: a Fernet token is about 200 bytes; the
	// largest PKI tokens were a few KiB. A longer header is not sent to
	// Keystone.
	defaultMaxTokenLength = 8 << 10
	// defaultMaxValidations: a backend's Keystone sees at most this many
	// validations from it at once, each a bounded wait for the service
	// token and one request; past it, new tokens are turned away at once
	// instead of queueing goroutines behind an overloaded Keystone.
	defaultMaxValidations = 64
)

// Roles is a role requirement: the token must carry every role of AllOf
// and, if AnyOf is not empty, at least one role of AnyOf. Names compare
// case-insensitively, as Keystone's do. The zero Roles requires nothing.
type Roles struct {
	AnyOf []string
	AllOf []string
}

// met reports whether tok satisfies r.
func (r Roles) met(tok *identity.Token) bool {
	for _, n := range r.AllOf {
		if !tok.HasRole(n) {
			return false
		}
	}
	if len(r.AnyOf) == 0 {
		return true
	}
	for _, n := range r.AnyOf {
		if tok.HasRole(n) {
			return true
		}
	}
	return false
}

// Config configures a Validator. Zero fields take their defaults; New
// reads it once.
type Config struct {
	// Domains are the product domains the backend serves (one or more,
	// typically from a domain.Registry). A token is accepted only if its
	// user, and its project or domain scope, belong to one of them.
	// Domains[0] is the backend's own domain: its endpoints at Home give
	// the WWW-Authenticate uri and, when Resolver is nil, the auth_urls.
	Domains []domain.Domain
	// Home is the location the backend runs in, such as "SG": tokens are
	// validated there first.
	Home string

	// Primary is the primary location. New builds the resolver from
	// Domains[0]'s admin_auth_urls (its user_auth_url where a location has
	// no admin one), with Primary, Clock and Logger. Give Primary or
	// Resolver, not both.
	Primary string
	// Resolver, instead of Primary, is a resolver of the caller's own:
	// validation then fails over along its locations.
	Resolver *region.Resolver
	// FailureThreshold, CoolDown, AttemptTimeout and ReplicationLag tune
	// the resolver New builds (see region.Config; zero values take its
	// defaults). A Resolver of the caller's own has its own tuning: give
	// them or Resolver, not both.
	FailureThreshold int
	CoolDown         time.Duration
	AttemptTimeout   time.Duration
	ReplicationLag   time.Duration

	// Client talks to Keystone. Nil means an identity.Client of the
	// Validator's own, with Clock, TLSConfig and a bound on the
	// connections it opens to each Keystone.
	Client *identity.Client
	// TLSConfig is the TLS configuration of the Validator's own client
	// (a CA of the deployment's own, a client certificate); it is
	// cloned. Give Client or TLSConfig, not both.
	TLSConfig *tls.Config

	// ServiceCredential and ServiceScope are the service's own identity:
	// New keeps its token (issued without a catalog through the resolver
	// from Home) in TokenCache, or in a cache of its own when TokenCache
	// is nil.
	ServiceCredential identity.Credential
	ServiceScope      identity.Scope
	TokenCache        *tokencache.Cache
	// ServiceToken, instead of ServiceCredential, hands out the service's
	// token: a source of the caller's own, or a fake in a test. Its tokens
	// are only ever sent to Keystone.
	ServiceToken identity.TokenSource

	// ServiceRoles are the roles of which an X-Service-Token must carry at
	// least one (keystonemiddleware's service_token_roles, with
	// service_token_roles_required on). Default ["service"].
	ServiceRoles []string
	// Roles is the requirement on user tokens; not met gives ErrForbidden.
	Roles Roles
	// ServiceType is the backend's service type as application
	// credentials' access rules name it (keystonemiddleware's
	// service_type). Set, the Validator tells Keystone it enforces access
	// rules (OpenStack-Identity-Access-Rules), and Handler lets a token
	// with rules through only for a request they permit; Validate, which
	// has no request to check them against, refuses such a token
	// (ErrAccessRules). Empty: Keystone refuses tokens with access rules.
	ServiceType string

	// CacheSize is how many validated tokens are kept. Default
	// 10,000.
	CacheSize int
	// CacheTTL is the longest a validated token is trusted without asking
	// Keystone; never longer than the token's own expiry. Default
	// 300 s.
	CacheTTL time.Duration
	// NegativeCacheSize is how many invalid tokens are remembered. Default
	// 1,000.
	NegativeCacheSize int
	// NegativeTTL is how long an invalid token is remembered. Default
	// 10 s; negative disables the negative cache.
	NegativeTTL time.Duration
	// ValidateTimeout bounds one Keystone validation. Default
	// 30 s.
	ValidateTimeout time.Duration
	// MaxTokenLength is the longest token sent to Keystone. Default
	// 8 KiB.
	MaxTokenLength int
	// AnyTokenFormat sends Keystone tokens of any shape. By default only
	// tokens shaped like those Keystone's providers issue (Fernet, JWS;
	// see identity.TokenIssuedAt) are, and any other is ErrInvalidToken at
	// no Keystone cost: set it for a deployment with another provider.
	AnyTokenFormat bool
	// MaxValidations bounds the Keystone validations in progress at once
	// (one per distinct token, however many callers wait for it). A
	// caller with yet another token gets ErrUnavailable at once, which
	// Handler answers 503 with Retry-After. Default 64.
	MaxValidations int
	// IncludeCatalog asks Keystone for the service catalog of validated
	// tokens. Off by default: a SaaS backend rarely needs it and it is
	// most of the bytes on a slow link.
	IncludeCatalog bool

	// Shared, if set, shares validations with the other processes of a
	// fleet through its Store (memcached): a token validated by one
	// process is trusted by the others without asking Keystone, under the
	// same rule as this cache (until the earlier of CacheTTL after the
	// validation and the token's expiry), and processes validating one
	// token at once mostly make one Keystone request. Entries are sealed
	// and keyed by an HMAC of the token, never the token. Only successes
	// are shared. Usually the Shared of TokenCache. Nil: none.
	Shared *tokencache.Shared

	// Clock is the time source for cache expiry, circuit cool-downs and
	// the service token; nil means the system clock. A Client without a
	// Clock of its own gets this one.
	Clock clock.Clock
	// Logger receives rejected tokens (with a fingerprint, never the
	// token), Keystone failures and service token refreshes. Nil discards.
	Logger *slog.Logger
	// Observer, if set, sees every validation (observe.Validation) with
	// its timing, source (cache or Keystone) and outcome, and is given to
	// the resolver and the token cache New builds, so that their attempts
	// and service-token fetches are seen too. A Resolver or TokenCache of
	// the caller's own keeps its own Observer.
	Observer observe.Observer

	// Closers are closed by the Validator's Close, in order, once the
	// validations in flight have ended: what the configuration holds
	// for the Validator alone, such as the memcached Store under Shared
	// (ksmconfig puts the Store it made there). A Config with Closers is
	// for one Validator. When New fails they are not closed.
	Closers []io.Closer
}

// withDefaults returns c with its zero fields set, or every problem.
func (c Config) withDefaults() (Config, error) {
	var l configerr.List
	if len(c.Domains) == 0 {
		l.Add("domains", "no domain served")
	}
	for i, d := range c.Domains {
		if d.ID == "" || d.Prefix == "" {
			l.Add(fmt.Sprintf("domains[%d]", i), "domain without id or prefix")
		}
	}
	if c.Home == "" {
		l.Add("home", "no home location")
	}
	switch {
	case c.Resolver == nil && c.Primary == "":
		l.Add("primary", "no primary location (or give a Resolver)")
	case c.Resolver != nil && c.Primary != "":
		l.Add("primary", "give Primary or Resolver, not both: the resolver has a primary of its own")
	case c.Resolver != nil && (c.FailureThreshold != 0 || c.CoolDown != 0 || c.AttemptTimeout != 0 || c.ReplicationLag != 0):
		l.Add("resolver", "the failover tuning would be ignored by a Resolver of the caller's own: give one or the other")
	}
	switch {
	case c.ServiceToken != nil && typednil.Is(c.ServiceToken):
		l.Add("service_token", "a nil %T", c.ServiceToken)
	case c.ServiceToken != nil && (c.ServiceCredential != nil || c.TokenCache != nil):
		l.Add("service_token", "give ServiceToken or ServiceCredential (with TokenCache), not both")
	case c.ServiceToken != nil:
	case c.ServiceCredential == nil || typednil.Is(c.ServiceCredential):
		l.Add("service_credential", "no service credential (or give a ServiceToken)")
	default:
		if err := c.ServiceCredential.Validate(); err != nil {
			l.Add("service_credential", "%v", err)
		}
		if err := c.ServiceScope.Validate(); err != nil {
			l.Add("service_scope", "%v", err)
		}
	}
	switch {
	case c.Clock != nil && typednil.Is(c.Clock):
		l.Add("clock", "a nil %T", c.Clock)
	case c.Client != nil && c.Client.Clock != nil && c.Clock != nil && !sameClock(c.Client.Clock, c.Clock):
		l.Add("clock", "the Client has a Clock of its own that is not Clock: give one of them")
	}
	if c.Client != nil && c.TLSConfig != nil {
		l.Add("tls_config", "give Client or TLSConfig, not both: the Client's own HTTP client would not use it")
	}
	for i, cl := range c.Closers {
		if cl == nil || typednil.Is(cl) {
			l.Add(fmt.Sprintf("closers[%d]", i), "a nil io.Closer")
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"cache_size", int64(c.CacheSize)}, {"negative_cache_size", int64(c.NegativeCacheSize)},
		{"cache_ttl", int64(c.CacheTTL)}, {"validate_timeout", int64(c.ValidateTimeout)},
		{"max_token_length", int64(c.MaxTokenLength)}, {"max_validations", int64(c.MaxValidations)},
	} {
		if f.v < 0 {
			l.Add(f.name, "%d is negative", f.v)
		}
	}
	if err := l.Err(); err != nil {
		return c, err
	}
	if c.Clock == nil {
		c.Clock = clock.System()
	}
	if len(c.ServiceRoles) == 0 {
		c.ServiceRoles = []string{"service"}
	}
	if c.CacheSize == 0 {
		c.CacheSize = defaultCacheSize
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = defaultCacheTTL
	}
	if c.NegativeCacheSize == 0 {
		c.NegativeCacheSize = defaultNegativeCacheSize
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = defaultNegativeTTL
	}
	if c.ValidateTimeout == 0 {
		c.ValidateTimeout = defaultValidateTimeout
	}
	if c.MaxTokenLength == 0 {
		c.MaxTokenLength = defaultMaxTokenLength
	}
	if c.MaxValidations == 0 {
		c.MaxValidations = defaultMaxValidations
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// locations returns the locations of d for a resolver that validates
// tokens: one per location d has endpoints at, sorted by name, each with
// d's admin_auth_url there (its user_auth_url where it has no admin one).
func locations(d domain.Domain) []region.Location {
	names := make([]string, 0, len(d.Endpoints))
	for n := range d.Endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	locs := make([]region.Location, 0, len(names))
	for _, n := range names {
		ep := d.Endpoints[n]
		urls := ep.Admins()
		if len(urls) == 0 {
			urls = ep.Users()
		}
		if len(urls) == 0 {
			continue
		}
		locs = append(locs, region.Location{Name: n, AuthURLs: urls})
	}
	return locs
}

// sameClock reports whether a and b are the same clock, without comparing
// values of a type that cannot be compared.
func sameClock(a, b clock.Clock) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}
