package geostack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/observe"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/wirelog"
)

// Config configures a Client. It is validated as a whole by New: the error
// lists every problem, not only the first.
type Config struct {
	// Locations are the cloud's locations, each with its own auth_urls and
	// the regions it holds. Their order is the failover order after Home.
	Locations []region.Location
	// Home is the location the client authenticates at first: the one
	// nearest to it.
	Home string
	// Primary is the location that accepts identity writes.
	Primary string

	// Domains is the product-domain registry. Optional: without it the
	// client authenticates at the locations' own auth_urls and offers no
	// domain-filtered listings.
	Domains *domain.Registry
	// Domain is the name of the client's own domain in Domains. When the
	// domain lists a user_auth_url for a location, the client authenticates
	// there instead of at the location's own auth_urls.
	Domain string
	// DomainPolicy adjusts what the domain-filtered listings show.
	DomainPolicy domain.Policy

	// Credential and Scope are the identity the client acts as.
	Credential identity.Credential
	Scope      identity.Scope

	// Cache is an optional token cache shared with other clients of the
	// process: clients of the same identity and scope then share one token.
	// The caller owns it and closes it; a Client's Close releases its hold
	// on it. Nil makes a cache of the client's own, configured by
	// CacheOptions and closed by Close. Give Cache or CacheOptions, not
	// both.
	Cache        *tokencache.Cache
	CacheOptions tokencache.Options
	// TokenPerLocation keeps one token per location, each issued at its
	// own location only and sent only to that location's regions, for
	// deployments whose locations do not share Fernet keys.
	TokenPerLocation bool

	// Interfaces is the interface preference per service type (official
	// or alias), such as {"compute": {Internal, Public}}. A service not
	// listed uses DefaultInterfaces.
	Interfaces map[string][]catalog.Interface
	// DefaultInterfaces is the preference for services not in Interfaces.
	// Empty means public only.
	DefaultInterfaces []catalog.Interface

	// FailureThreshold, CoolDown and AttemptTimeout tune the failover
	// between auth_urls; zero values take the region package's defaults.
	FailureThreshold int
	CoolDown         time.Duration
	AttemptTimeout   time.Duration

	// HTTPClient sends every request, to Keystone and to the services.
	// Nil means a client of the library's own, using TLSConfig. Give
	// HTTPClient or TLSConfig, not both.
	HTTPClient *http.Client
	// TLSConfig is the TLS configuration of the library's own HTTP client
	// (custom CA, client certificate).
	TLSConfig *tls.Config
	// Clock is the time source of the token cache, the failover circuits
	// and token expiry; nil means the system clock. With a shared Cache,
	// the cache's own Clock drives its timers.
	Clock clock.Clock
	// Logger receives failover and refresh events. Nil discards them.
	Logger *slog.Logger
	// DebugLogger, if set, logs every request the client sends, to
	// Keystone and to the services, and its answer, with every token,
	// password and secret taken out (see package wirelog; bodies too when
	// it is enabled for wirelog.LevelBody). For debugging: it costs a
	// log record or two per request.
	DebugLogger *slog.Logger
	// Observer, if set, sees the client's token fetches and each attempt
	// at an auth_url, with timings and outcomes (see package observe and,
	// for OpenTelemetry, package otelgeostack). With a shared Cache, the
	// cache's own Options.Observer sees its fetches.
	Observer observe.Observer

	// source is the file the configuration came from (LoadConfig,
	// LoadCloud), named in New's errors.
	source string
}

// Client is what a service embeds: one identity and scope, and for any
// service in any region a gophercloud ServiceClient carrying the one cached
// token. A Client is safe for concurrent use.
type Client struct {
	cfg       Config
	resolver  *region.Resolver
	issuer    *identity.Client
	cache     *tokencache.Cache
	ownsCache bool
	transport *http.Transport // the library's own, closed by Close; nil if HTTPClient was given
	filter    *domain.Filter
	// home is the token of the home location (the client's only one
	// unless Config.TokenPerLocation); byLocation, with TokenPerLocation,
	// holds one per location, home's included.
	home       *binding
	byLocation map[string]*binding
	// authURLLocation maps each auth_url the client may use to its
	// location.
	authURLLocation map[string]string
	prefs           map[string][]catalog.Interface

	// services holds one ServiceClient per (service type, region), read
	// without a lock.
	services sync.Map // serviceKey → *gophercloud.ServiceClient
	closed   atomic.Bool
}

type serviceKey struct{ serviceType, region string }

// New validates cfg and returns a Client. It makes no request: the first
// token is fetched by the first call that needs one. Every problem of cfg
// is reported in one *ConfigError, matching ErrInvalidConfig.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The domain's own auth_urls, where it has them, replace the
	// locations'; the resolver judges the locations, and check the rest.
	locations := cfg.Locations
	var dom *domain.Domain
	if cfg.Domains != nil && cfg.Domain != "" {
		if d, ok := cfg.Domains.ByName(cfg.Domain); ok {
			locations, dom = withDomainAuthURLs(locations, d), &d
		}
	}
	resolver, regionErr := region.New(region.Config{
		Locations:        locations,
		Primary:          cfg.Primary,
		FailureThreshold: cfg.FailureThreshold,
		CoolDown:         cfg.CoolDown,
		AttemptTimeout:   cfg.AttemptTimeout,
		Clock:            cfg.Clock,
		Logger:           cfg.Logger,
		Observer:         cfg.Observer,
	})
	cache, owns := cfg.Cache, false
	var cacheErr error
	if cache == nil {
		opts := cfg.CacheOptions
		if opts.Logger == nil {
			opts.Logger = cfg.Logger
		}
		if opts.Observer == nil {
			opts.Observer = cfg.Observer
		}
		if opts.Clock == nil && !typednil.Is(cfg.Clock) {
			opts.Clock = cfg.Clock
		}
		cache, cacheErr = tokencache.New(opts)
		owns = cacheErr == nil
	}
	if err := cfg.check(regionErr, cacheErr); err != nil {
		if owns {
			cache.Close()
		}
		if ce, ok := errors.AsType[*ConfigError](err); ok {
			ce.Source = cfg.source
		}
		return nil, err
	}
	var filter *domain.Filter
	if dom != nil {
		f, err := cfg.Domains.Filter(cfg.Domain, cfg.DomainPolicy)
		if err != nil {
			if owns {
				cache.Close()
			}
			var l configerr.List
			l.Wrap("domain_policy", err)
			return nil, l.Err()
		}
		filter = f
	}

	httpClient := cfg.HTTPClient
	var own *http.Transport
	if httpClient == nil {
		own = http.DefaultTransport.(*http.Transport).Clone()
		if cfg.TLSConfig != nil {
			own.TLSClientConfig = cfg.TLSConfig.Clone()
		}
		httpClient = &http.Client{Transport: own, CheckRedirect: sameOriginRedirects}
	}
	if cfg.DebugLogger != nil {
		httpClient = wirelog.Wrap(httpClient, cfg.DebugLogger) // under the token's transport: sees what is sent
	}
	issuer := &identity.Client{HTTPClient: httpClient, UserAgent: "geostack", Clock: cfg.Clock}

	prefs := make(map[string][]catalog.Interface, len(cfg.Interfaces))
	for t, ifs := range cfg.Interfaces {
		prefs[catalog.CanonicalType(t)] = ifs
	}
	c := &Client{
		cfg:             cfg,
		resolver:        resolver,
		issuer:          issuer,
		cache:           cache,
		ownsCache:       owns,
		transport:       own,
		filter:          filter,
		prefs:           prefs,
		authURLLocation: map[string]string{},
	}
	for _, l := range locations {
		for _, u := range l.AuthURLs {
			c.authURLLocation[u] = l.Name
		}
	}
	cred, scope := cfg.Credential, cfg.Scope
	if !cfg.TokenPerLocation {
		home := cfg.Home
		h, err := cache.Handle(tokencache.Key{Credential: cred, Scope: scope}, identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
			return resolver.Issue(ctx, home, issuer, cred, scope)
		}))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.home = c.newBinding("", h, httpClient)
		return c, nil
	}
	// Locations that do not share Fernet keys: one token per location,
	// each issued at that location only.
	c.byLocation = make(map[string]*binding, len(locations))
	for _, l := range locations {
		loc := l.Name
		h, err := cache.Handle(tokencache.Key{Credential: cred, Scope: scope, Kind: "location=" + loc},
			identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
				return resolver.IssueAt(ctx, loc, issuer, cred, scope)
			}))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.byLocation[loc] = c.newBinding(loc, h, httpClient)
	}
	c.home = c.byLocation[cfg.Home]
	return c, nil
}

// withDomainAuthURLs returns the locations with each one's auth_urls
// replaced by the domain's user auth URLs there, where the domain has
// them: the client fails over between them before it leaves the location.
func withDomainAuthURLs(locs []region.Location, d domain.Domain) []region.Location {
	out := make([]region.Location, len(locs))
	for i, l := range locs {
		out[i] = l
		if ep, ok := d.AuthURLs(l.Name); ok && len(ep.Users()) > 0 {
			out[i].AuthURLs = ep.Users()
		}
	}
	return out
}

// Token returns the client's current token, fetching one if none is cached.
// The token is shared: don't modify it. A Client is an
// identity.TokenSource.
func (c *Client) Token(ctx context.Context) (*identity.Token, error) {
	return c.home.handle.Token(ctx)
}

func (c *Client) interfaces(canonType string) []catalog.Interface {
	if ifs, ok := c.prefs[canonType]; ok {
		return ifs
	}
	return c.cfg.DefaultInterfaces
}

// Resolver returns the client's region resolver: its locations, the
// primary, and the health of each auth_url.
func (c *Client) Resolver() *region.Resolver { return c.resolver }

// Stats is a snapshot of a Client's counters.
type Stats struct {
	// Cache counts the tokens issued, refreshes and invalidations of the
	// client's identity and scope. Clients of one identity and scope
	// sharing a cache share these counters too: they share the token.
	Cache tokencache.Stats
	// Region counts attempts, failovers and lag retries per auth_url.
	Region region.Stats
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{Cache: c.home.handle.Stats(), Region: c.resolver.Stats()}
}

// Close stops the client's background work and closes the idle
// connections of its own HTTP transport. A cache passed in Config.Cache is
// left open, with the client's hold on its token released: its owner
// closes it. Close is idempotent.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.services.Clear()
	if c.home != nil {
		c.home.handle.Release()
	}
	for _, b := range c.byLocation {
		b.handle.Release()
	}
	if c.ownsCache {
		c.cache.Close()
	}
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
	return nil
}

var _ identity.TokenSource = (*Client)(nil)

// ErrClosed is returned by a Client used after Close.
var ErrClosed = errors.New("geostack: client closed")

// Format prints the client's home location, domain and identity kind, never
// its credential or token, with every verb: the client's unexported state
// would otherwise be printed field by field by %+v and %#v, where a
// credential's own redaction cannot reach.
func (c *Client) Format(f fmt.State, verb rune) {
	if c == nil {
		fmt.Fprint(f, "geostack.Client(nil)")
		return
	}
	method := ""
	if c.cfg.Credential != nil {
		method = c.cfg.Credential.Method()
	}
	fmt.Fprintf(f, "geostack.Client{home: %s, domain: %s, credential: %s}", c.cfg.Home, c.cfg.Domain, method)
}

// String is the redacted form Format prints.
func (c *Client) String() string { return fmt.Sprint(c) }

// ErrRedirect is returned for a request that a service redirected to
// another scheme, host or port: geostack's own HTTP client does not follow
// such a redirect, which would otherwise go out without the token (see
// tokencache.Handle.Transport) or, through a careless proxy, with it.
var ErrRedirect = errors.New("geostack: redirect to another origin refused")

// sameOriginRedirects is the CheckRedirect of the HTTP client geostack
// builds: redirects within the origin of the first request are followed
// (up to 10), others are refused.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("geostack: stopped after 10 redirects")
	}
	from := via[0].URL
	if !strings.EqualFold(from.Scheme, req.URL.Scheme) || !strings.EqualFold(from.Host, req.URL.Host) {
		return fmt.Errorf("%w: from %s://%s to %s://%s", ErrRedirect, from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}
