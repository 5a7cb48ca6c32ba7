package proxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/authurl"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/region"
)

// The services a Proxy stands in front of, by their official type.
const (
	Compute      = "compute"
	Image        = "image"
	BlockStorage = "block-storage"
	Identity     = "identity"
)

// defaultMaxUpstreamPages bounds the upstream pages one list request reads
// while looking for items the domain may see: with the limit doubling from
// 25 up to 1,000, about 11,000 hidden items in a row.
const defaultMaxUpstreamPages = 16

// Rewrite moves catalog endpoint URLs under From to the same path under
// To: {From: "https://glance.tyo1.internal/image", To:
// "https://image.tyo1.gnc.example"}.
type Rewrite struct {
	From, To string
}

// Config configures a Proxy. New reads it once.
type Config struct {
	// Service is the API proxied: "compute", "image", "block-storage" (or
	// an alias such as "volumev3"), or "identity".
	Service string
	// Filter decides what the domain's users see: Registry.Filter with the
	// domain's Policy. The proxy serves Filter.Domain().
	Filter *domain.Filter
	// Validator validates each request's token. It must serve the domain;
	// a token of any other domain is refused even if the Validator serves
	// that domain too.
	Validator *authtoken.Validator

	// Upstream is the root of the service the proxy forwards to, an
	// absolute http or https URL. A catalog endpoint URL will do: its API
	// version and what follows it ("/v2.1", "/v3/$(project_id)s") are cut
	// (see Root). Not for "identity", which takes Resolver and Home.
	Upstream string
	// Resolver (identity only): reads and token issue go to the Keystone
	// at Home, its auth_urls in Resolver.Order(Home) (the next one when
	// one cannot be reached); writes go to the primary location through
	// Resolver.Write.
	Resolver *region.Resolver
	// Home is the location the proxy runs in (required for identity). The
	// domain's user_auth_url there is the WWW-Authenticate uri of a 401
	// (without Home: that of the first location by name).
	Home string
	// Catalog (identity only) rewrites the service catalog of the tokens
	// the proxy relays, so that clients reach the domain's proxies. The
	// first Rewrite whose From is a prefix of an endpoint URL (ending at a
	// path boundary) applies.
	Catalog []Rewrite

	// Prefix is the path the Proxy is mounted at, such as
	// "/gnc/TYO1/image": a request for Prefix+P goes to Upstream+P. A
	// request outside Prefix is answered 404. Empty means the root.
	Prefix string
	// PublicURL is the URL at which clients reach Prefix, such as
	// "https://image.tyo1.gnc.example": next links and version documents
	// point there. Empty: http or https (with TLS) on the request's Host,
	// and Location headers become paths under Prefix.
	PublicURL string

	// Transport sends the requests upstream. Nil means a clone of
	// http.DefaultTransport keeping up to 100 idle connections to the
	// upstream, where the default keeps 2: every client of the domain
	// comes through this one.
	Transport http.RoundTripper
	// MaxUpstreamPages bounds the upstream pages one filtered list request
	// reads. Default 16.
	MaxUpstreamPages int
	// Logger receives refused tokens, refused writes and upstream faults,
	// never a token. Nil discards.
	Logger *slog.Logger
}

// Proxy is the wrapper proxy of one domain and one service. It is safe for
// concurrent use.
type Proxy struct {
	svc       string
	filter    *domain.Filter
	dom       domain.Domain
	prefix    string
	public    string // PublicURL, "" to derive from each request
	upstream  *url.URL
	upPath    string // upstream.Path without trailing slash
	upEscaped string // upstream.EscapedPath() without trailing slash
	roots     []string
	resolver  *region.Resolver
	home      string
	catalog   []Rewrite
	transport http.RoundTripper
	maxPages  int
	log       *slog.Logger
	wwwAuth   string

	auth http.Handler // the Validator's handler in front of serve
	open http.Handler // the same, deciding nothing: for requests that need no token
	rp   *httputil.ReverseProxy
}

// New checks cfg and returns a Proxy. Every problem found is reported in
// one *geostack.ConfigError (geostack.ErrInvalidConfig).
func New(cfg Config) (*Proxy, error) {
	var l configerr.List
	svc := catalog.CanonicalType(strings.ToLower(cfg.Service))
	switch svc {
	case Compute, Image, BlockStorage, Identity:
	default:
		l.Add("service", "%q is not a service the proxy knows (compute, image, block-storage, identity)", cfg.Service)
	}
	if cfg.Filter == nil {
		l.Add("filter", "no domain filter")
	}
	if cfg.Validator == nil {
		l.Add("validator", "no token validator")
	}
	p := &Proxy{svc: svc, filter: cfg.Filter, transport: cfg.Transport, maxPages: cfg.MaxUpstreamPages,
		log: cfg.Logger, resolver: cfg.Resolver, home: cfg.Home, catalog: cfg.Catalog}
	if cfg.Filter != nil {
		p.dom = cfg.Filter.Domain()
	}
	switch {
	case svc != Identity && cfg.Upstream == "":
		l.Add("upstream", "no upstream service URL")
	case svc != Identity:
		root, err := Root(cfg.Upstream)
		if err != nil {
			l.Add("upstream", "%v", err)
			break
		}
		p.upstream, _ = url.Parse(root)
		p.roots = []string{root}
	}
	if svc == Identity {
		switch {
		case cfg.Upstream != "":
			l.Add("upstream", "the identity proxy takes Resolver and Home, not Upstream")
		case cfg.Resolver == nil:
			l.Add("resolver", "the identity proxy needs a region.Resolver")
		case cfg.Resolver.Order(cfg.Home) == nil:
			l.Add("home", "%q is not a location of the resolver", cfg.Home)
		default:
			for _, loc := range cfg.Resolver.Locations() {
				for _, u := range cfg.Resolver.Order(loc) {
					if root, err := authurl.Root(u); err == nil && !contains(p.roots, root) {
						p.roots = append(p.roots, root)
					}
				}
			}
		}
	} else if len(cfg.Catalog) > 0 {
		l.Add("catalog", "only the identity proxy rewrites catalogs")
	}
	for i, rw := range cfg.Catalog {
		for _, u := range []struct{ key, v string }{{"from", rw.From}, {"to", rw.To}} {
			if _, err := Root(u.v); err != nil || strings.ContainsAny(u.v, "?#") {
				l.Add("catalog["+strconv.Itoa(i)+"]."+u.key, "%q is not an absolute http or https URL", u.v)
			}
		}
	}
	p.prefix = strings.TrimRight(cfg.Prefix, "/")
	if cfg.Prefix != "" && !strings.HasPrefix(cfg.Prefix, "/") {
		l.Add("prefix", "%q does not start with /", cfg.Prefix)
	}
	if cfg.PublicURL != "" {
		if _, err := Root(cfg.PublicURL); err != nil {
			l.Add("public_url", "%v", err)
		}
		p.public = strings.TrimRight(cfg.PublicURL, "/")
	}
	if cfg.Transport != nil && typednil.Is(cfg.Transport) {
		l.Add("transport", "a nil %T", cfg.Transport)
	}
	if cfg.MaxUpstreamPages < 0 {
		l.Add("max_upstream_pages", "%d is negative", cfg.MaxUpstreamPages)
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	if p.transport == nil {
		p.transport = defaultTransport()
	}
	if p.maxPages == 0 {
		p.maxPages = defaultMaxUpstreamPages
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.upstream != nil {
		p.upPath = strings.TrimRight(p.upstream.Path, "/")
		p.upEscaped = strings.TrimRight(p.upstream.EscapedPath(), "/")
	}
	if uri := userAuthURL(p.dom, cfg.Home); uri != "" {
		p.wwwAuth = `Keystone uri="` + uri + `"`
	}
	p.auth = cfg.Validator.Handler(http.HandlerFunc(p.serve), authtoken.HandlerOptions{})
	p.open = cfg.Validator.Handler(http.HandlerFunc(p.serveOpen), authtoken.HandlerOptions{DelayAuthDecision: true})
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      p.transport,
		FlushInterval:  -1,
		BufferPool:     bufferPool{},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
	}
	return p, nil
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := p.rel(r.URL.Path)
	if !ok {
		writeJSONError(w, nil, http.StatusNotFound, "Not Found", "The resource could not be found.")
		return
	}
	if p.needsNoToken(r.Method, rel) {
		p.open.ServeHTTP(w, r)
		return
	}
	p.auth.ServeHTTP(w, r)
}

// rel returns the request path below the prefix ("" or "/…").
func (p *Proxy) rel(path string) (string, bool) {
	if p.prefix == "" {
		return path, true
	}
	rest, ok := strings.CutPrefix(path, p.prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	return rest, true
}

// needsNoToken reports whether a request is answered without a token:
// version documents, and Keystone's token issue.
func (p *Proxy) needsNoToken(method, rel string) bool {
	if (method == http.MethodGet || method == http.MethodHead) && isVersionPath(rel) {
		return true
	}
	return p.svc == Identity && method == http.MethodPost && strings.TrimSuffix(rel, "/") == "/v3/auth/tokens"
}

// isVersionPath reports whether rel is the root or a version root ("/",
// "/v2", "/v2.1/"), where the services answer their version documents.
func isVersionPath(rel string) bool {
	s := strings.Trim(rel, "/")
	return s == "" || (!strings.Contains(s, "/") && isVersion(s))
}

// isVersion reports whether a path segment names an API version: "v2",
// "v2.1", "v3".
func isVersion(seg string) bool {
	if len(seg) < 2 || seg[0] != 'v' {
		return false
	}
	dot := false
	for i := 1; i < len(seg); i++ {
		switch c := seg[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 1 && i < len(seg)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

// serveOpen serves what needs no token, with spoofed identity headers
// stripped by the Validator's handler.
func (p *Proxy) serveOpen(w http.ResponseWriter, r *http.Request) {
	// The handler marked the request for a backend deciding itself; the
	// upstream is no such backend.
	r.Header.Del("X-Identity-Status")
	r.Header.Del("X-Service-Identity-Status")
	rel, _ := p.rel(r.URL.Path)
	if p.svc == Identity && r.Method == http.MethodPost {
		p.issueToken(w, r, rel)
		return
	}
	p.serveVersions(w, r, rel)
}

// serve serves a request whose token the Validator accepted.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	id, _ := authtoken.FromContext(r.Context())
	if !id.Confirmed() || !p.ours(id.Token) {
		p.refuse(w, r, id)
		return
	}
	rel, _ := p.rel(r.URL.Path)
	switch p.svc {
	case Image:
		p.serveImage(w, r, rel, id.Token)
	case Compute:
		p.serveCompute(w, r, rel, id.Token)
	case BlockStorage:
		p.serveVolume(w, r, rel, id.Token)
	case Identity:
		p.serveIdentity(w, r, rel)
	}
}

// ours reports whether tok belongs to the proxy's domain: its user, and
// its project or domain scope.
func (p *Proxy) ours(tok *identity.Token) bool {
	switch {
	case tok.User.Domain.ID != p.dom.ID, tok.System:
		return false
	case tok.Project != nil:
		return tok.Project.Domain.ID == p.dom.ID
	case tok.Domain != nil:
		return tok.Domain.ID == p.dom.ID
	}
	return true
}

// refuse answers a token of another domain 401, as the Validator's
// handler answers one it does not serve.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, id *authtoken.Identity) {
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("domain", p.dom.Name)}
	if id != nil && id.Token != nil {
		attrs = append(attrs, slog.String("user", id.Token.User.Name), slog.String("user_domain", id.Token.User.Domain.ID))
	}
	p.log.LogAttrs(r.Context(), slog.LevelWarn, "proxy: token of another domain refused", attrs...)
	if p.wwwAuth != "" {
		w.Header().Set("WWW-Authenticate", p.wwwAuth)
	}
	writeJSONError(w, nil, http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
}

// Format prints what the proxy serves, and nothing of its Validator's
// configuration, with every verb.
func (p *Proxy) Format(f fmt.State, verb rune) {
	if p == nil {
		fmt.Fprint(f, "proxy.Proxy(nil)")
		return
	}
	fmt.Fprintf(f, "proxy.Proxy{domain: %s, service: %s, prefix: %q}", p.dom.Name, p.svc, p.prefix)
}

// String is the form Format prints.
func (p *Proxy) String() string { return fmt.Sprint(p) }

// publicBase is the URL clients reach the prefix at.
func (p *Proxy) publicBase(r *http.Request) string {
	if p.public != "" {
		return p.public
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return scheme + r.Host + p.prefix
}

// buffers are the copy buffers of response bodies.
var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bufferPool lends ReverseProxy the same buffers.
type bufferPool struct{}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// defaultTransport is Config.Transport's default.
func defaultTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = 100
	return t
}

// userAuthURL returns d's user_auth_url at home, or at the first location
// by name that has one.
func userAuthURL(d domain.Domain, home string) string {
	if ep, ok := d.AuthURLs(home); ok && ep.UserAuthURL != "" {
		return ep.UserAuthURL
	}
	locs := make([]string, 0, len(d.Endpoints))
	for l := range d.Endpoints {
		locs = append(locs, l)
	}
	slices.Sort(locs)
	for _, l := range locs {
		if u := d.Endpoints[l].UserAuthURL; u != "" {
			return u
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
