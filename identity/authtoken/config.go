package authtoken

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// Defaults of Config.
const (
	// DefaultCacheSize is how many validated tokens are kept: a few MiB
	// for a backend with ten thousand active users.
	DefaultCacheSize = 10000
	// DefaultCacheTTL is how long a validated token is trusted without
	// asking Keystone again; keystonemiddleware's token_cache_time. A token
	// revoked in Keystone stays accepted for at most this long.
	DefaultCacheTTL = 300 * time.Second
	// DefaultNegativeCacheSize is how many invalid tokens are remembered.
	DefaultNegativeCacheSize = 1000
	// DefaultNegativeTTL is how long a token Keystone called invalid (404)
	// is answered 401 without asking again: long enough that a client
	// retrying in a loop costs Keystone one request per 10 s, short enough
	// that replication catching up is not hidden for long.
	DefaultNegativeTTL = 10 * time.Second
	// DefaultValidateTimeout bounds one coalesced validation, failover
	// across locations included.
	DefaultValidateTimeout = 30 * time.Second
	// DefaultMaxTokenLength: a Fernet token is about 200 bytes; the
	// largest PKI tokens were a few KiB. A longer header is not sent to
	// Keystone.
	DefaultMaxTokenLength = 8 << 10
)

// Clock tells the Validator the time, for cache expiry. It must be safe for
// concurrent use. *testserver.ManualClock and region.Clock values fit.
type Clock interface {
	Now() time.Time
}

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

	// Resolver validates with failover and the replication-lag retry at
	// the primary. Nil builds one from Locations(Domains[0]) with Primary,
	// Clock and Logger.
	Resolver *region.Resolver
	// Primary is the primary location; used only when Resolver is nil.
	Primary string

	// Client talks to Keystone. Nil means a zero identity.Client whose
	// Now is Clock's.
	Client *identity.Client

	// TokenCache holds the service's own token, issued for
	// ServiceCredential and ServiceScope through the Resolver from Home
	// (without a catalog). Required.
	TokenCache        *tokencache.Cache
	ServiceCredential identity.Credential
	ServiceScope      identity.Scope

	// ServiceRoles are the roles of which an X-Service-Token must carry at
	// least one (keystonemiddleware's service_token_roles, with
	// service_token_roles_required on). Default ["service"].
	ServiceRoles []string
	// Roles is the requirement on user tokens; not met gives ErrForbidden.
	Roles Roles

	// CacheSize is how many validated tokens are kept. Default
	// DefaultCacheSize.
	CacheSize int
	// CacheTTL is the longest a validated token is trusted without asking
	// Keystone; never longer than the token's own expiry. Default
	// DefaultCacheTTL.
	CacheTTL time.Duration
	// NegativeCacheSize is how many invalid tokens are remembered. Default
	// DefaultNegativeCacheSize.
	NegativeCacheSize int
	// NegativeTTL is how long an invalid token is remembered. Default
	// DefaultNegativeTTL; negative disables the negative cache.
	NegativeTTL time.Duration
	// ValidateTimeout bounds one Keystone validation. Default
	// DefaultValidateTimeout.
	ValidateTimeout time.Duration
	// MaxTokenLength is the longest token sent to Keystone. Default
	// DefaultMaxTokenLength.
	MaxTokenLength int
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

	// Clock is the time source for cache expiry; it should be the clock
	// of Client.Now. Nil means time.Now.
	Clock Clock
	// Logger receives rejected tokens (with a fingerprint, never the
	// token), Keystone failures and service token refreshes. Nil discards.
	Logger *slog.Logger
}

// ConfigError is one problem in a Config. New reports every problem it
// finds, joined with errors.Join; each matches ErrInvalidConfig.
type ConfigError struct {
	Field  string
	Reason string
}

// ErrInvalidConfig is matched by every *ConfigError.
var ErrInvalidConfig = errors.New("authtoken: invalid config")

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("authtoken: config %s: %s", e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Locations returns the locations of d for a region.Resolver that validates
// tokens: one per location d has endpoints at, sorted by name, each with
// d's admin_auth_url there (its user_auth_url where it has no admin one).
func Locations(d domain.Domain) []region.Location {
	names := make([]string, 0, len(d.Endpoints))
	for n := range d.Endpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	locs := make([]region.Location, 0, len(names))
	for _, n := range names {
		ep := d.Endpoints[n]
		u := ep.AdminAuthURL
		if u == "" {
			u = ep.UserAuthURL
		}
		if u == "" {
			continue
		}
		locs = append(locs, region.Location{Name: n, AuthURLs: []string{u}})
	}
	return locs
}

// withDefaults returns c with its zero fields set, or what is wrong.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(field, reason string) { errs = append(errs, &ConfigError{Field: field, Reason: reason}) }
	if len(c.Domains) == 0 {
		bad("Domains", "no domain served")
	}
	for i, d := range c.Domains {
		if d.ID == "" || d.Prefix == "" {
			bad(fmt.Sprintf("Domains[%d]", i), "domain without id or prefix")
		}
	}
	if c.Home == "" {
		bad("Home", "no home location")
	}
	if c.Resolver == nil && c.Primary == "" {
		bad("Primary", "needed when Resolver is nil")
	}
	if c.TokenCache == nil {
		bad("TokenCache", "nil")
	}
	if c.ServiceCredential == nil {
		bad("ServiceCredential", "nil")
	} else if err := c.ServiceCredential.Validate(); err != nil {
		bad("ServiceCredential", err.Error())
	}
	if err := c.ServiceScope.Validate(); err != nil {
		bad("ServiceScope", err.Error())
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"CacheSize", int64(c.CacheSize)}, {"NegativeCacheSize", int64(c.NegativeCacheSize)},
		{"CacheTTL", int64(c.CacheTTL)}, {"ValidateTimeout", int64(c.ValidateTimeout)},
		{"MaxTokenLength", int64(c.MaxTokenLength)},
	} {
		if f.v < 0 {
			bad(f.name, "negative")
		}
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if len(c.ServiceRoles) == 0 {
		c.ServiceRoles = []string{"service"}
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.NegativeCacheSize == 0 {
		c.NegativeCacheSize = DefaultNegativeCacheSize
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = DefaultNegativeTTL
	}
	if c.ValidateTimeout == 0 {
		c.ValidateTimeout = DefaultValidateTimeout
	}
	if c.MaxTokenLength == 0 {
		c.MaxTokenLength = DefaultMaxTokenLength
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
