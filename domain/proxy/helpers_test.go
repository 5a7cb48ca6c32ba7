package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

var clockStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// env is the fake cloud, its domains and one Validator per domain, all on
// one manual clock.
type env struct {
	srv   *testserver.Server
	world *testserver.World
	clock *clock.Manual
	reg   *domain.Registry
	res   *region.Resolver // the locations' Keystones, for the identity proxy
	logs  *logBuffer

	mu         sync.Mutex
	validators map[string]*authtoken.Validator
}

func setup(t testing.TB) *env {
	t.Helper()
	clk := clock.NewManual(clockStart)
	srv := testserver.New(t, testserver.Options{Clock: clk})
	world := testserver.DefaultWorld()
	var doms []domain.Domain
	for _, name := range testserver.ProductDomains() {
		wd := world.Domain(name)
		d := domain.Domain{Name: wd.Name, ID: wd.ID, Prefix: wd.Prefix, Endpoints: map[string]domain.Endpoints{}}
		for _, loc := range srv.Locations() {
			d.Endpoints[loc] = domain.Endpoints{UserAuthURL: srv.DomainAuthURL(name, loc), AdminAuthURL: srv.DomainAdminAuthURL(name, loc)}
		}
		doms = append(doms, d)
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatal(err)
	}
	var locs []region.Location
	for _, l := range world.Locations {
		locs = append(locs, region.Location{Name: l.Name, AuthURLs: []string{srv.AuthURL(l.Name)}, Regions: l.Regions})
	}
	res, err := region.New(region.Config{Locations: locs, Primary: srv.Primary(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, world: world, clock: clk, reg: reg, res: res, logs: &logBuffer{}, validators: map[string]*authtoken.Validator{}}
}

// validator returns the Validator of a domain's backends at SG.
func (e *env) validator(t testing.TB, dom string) *authtoken.Validator {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.validators[dom]; ok {
		return v
	}
	d, _ := e.reg.ByName(dom)
	// The service token's cache has a clock of its own that never moves,
	// so that no background refresh runs during a test.
	cache, err := tokencache.New(tokencache.Options{Clock: clock.NewManual(clockStart)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{d}, Home: "SG", Primary: e.srv.Primary(), Clock: e.clock, TokenCache: cache,
		Client:            &identity.Client{Clock: e.clock},
		ServiceCredential: identity.Password{UserName: "nova", DomainName: testserver.DefaultDomainName, Password: testserver.ServicePassword},
		ServiceScope:      identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainName: testserver.DefaultDomainName},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	e.validators[dom] = v
	return v
}

func (e *env) filter(t testing.TB, dom string, p domain.Policy) *domain.Filter {
	t.Helper()
	f, err := e.reg.Filter(dom, p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// upstream is the root of a service of the fake cloud in TYO1 (public).
func (e *env) upstream(service string) string {
	path := map[string]string{proxy.Image: "/TYO1/image", proxy.Compute: "/TYO1/compute", proxy.BlockStorage: "/TYO1/volume"}[service]
	return e.srv.URL("JP") + path
}

// start mounts a proxy for dom and cfg.Service at /<dom>/<service> on a
// test server and returns its root URL. cfg's Filter, Validator,
// Upstream (or, for identity, Resolver and Home) and Prefix default to the
// fake cloud's.
func (e *env) start(t testing.TB, dom string, cfg proxy.Config) string {
	t.Helper()
	return e.startLate(t, dom, func(string) proxy.Config { return cfg })
}

// startLate is start with a configuration made once the root URL of the
// proxy is known, for an identity proxy whose catalog points at itself.
func (e *env) startLate(t testing.TB, dom string, config func(root string) proxy.Config) string {
	t.Helper()
	var h atomic.Pointer[http.Handler]
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	cfg := config(ts.URL + "/" + dom + "/" + config("").Service)
	if cfg.Filter == nil {
		cfg.Filter = e.filter(t, dom, domain.Policy{})
	}
	if cfg.Validator == nil {
		cfg.Validator = e.validator(t, dom)
	}
	if cfg.Service == proxy.Identity {
		if cfg.Resolver == nil {
			cfg.Resolver, cfg.Home = e.res, "SG"
		}
	} else if cfg.Upstream == "" {
		cfg.Upstream = e.upstream(cfg.Service)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/" + dom + "/" + cfg.Service
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(cfg.Prefix+"/", p)
	mux.Handle(cfg.Prefix, p)
	var handler http.Handler = mux
	h.Store(&handler)
	return ts.URL + cfg.Prefix
}

// token issues a project token of a seeded user ("gncu00000001" is
// scoped to gnct00000001).
func (e *env) token(t testing.TB, user string) *identity.Token {
	t.Helper()
	dom := user[:3]
	cred := identity.Password{UserName: user, DomainName: dom, Password: testserver.UserPassword}
	scope := identity.Scope{ProjectName: dom + "t" + user[4:], ProjectDomainName: dom}
	tok, err := (&identity.Client{Clock: e.clock}).Issue(context.Background(), e.srv.AuthURL(e.srv.Primary()), cred, scope)
	if err != nil {
		t.Fatalf("issue for %s: %v", user, err)
	}
	return tok
}

// domainAdmin gives a seeded user the admin role on its domain and returns
// a domain-scoped token of it.
func (e *env) domainAdmin(t testing.TB, user string) *identity.Token {
	t.Helper()
	dom := user[:3]
	if err := e.srv.AssignRole(testserver.RoleAssignment{UserID: e.world.User(user).ID, Role: testserver.RoleAdmin, DomainID: e.world.Domain(dom).ID}); err != nil {
		t.Fatal(err)
	}
	cred := identity.Password{UserName: user, DomainName: dom, Password: testserver.UserPassword}
	tok, err := (&identity.Client{Clock: e.clock}).Issue(context.Background(), e.srv.AuthURL(e.srv.Primary()), cred, identity.Scope{DomainName: dom})
	if err != nil {
		t.Fatalf("issue domain token for %s: %v", user, err)
	}
	return tok
}

// serviceClient is a gophercloud client of the service at endpoint (a
// proxy's root, or an upstream root) with token, as the catalog would give
// it: resourceBase is the versioned path under the root.
func serviceClient(endpoint, resourceBase, token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{}}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint + "/", ResourceBase: endpoint + "/" + resourceBase}
}

// do sends one request and returns its status, header and body.
func do(t testing.TB, method, u, token string, header map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// listUpstream is a small service holding one list, paged as Glance
// (style "glance": a "next" path under the root), Nova ("nova": absolute
// flavors_links) or Cinder ("cinder": absolute volume_type_links) page:
// limit and marker, a next link whenever a page is full, so that a full
// last page is followed by an empty one. It records every list query.
type listUpstream struct {
	style        string
	names        []string // item i has the id "id-<i>"
	defaultLimit int
	// failPage, if positive, makes the list request with that 1-based
	// number answer a truncated document after its first item.
	failPage int

	mu      sync.Mutex
	queries []url.Values
	srv     *httptest.Server
}

// paths of the list and of an item, under the root.
func (u *listUpstream) listPath() string {
	return map[string]string{"glance": "/v2/images", "nova": "/v2.1/flavors/detail", "cinder": "/v3/p1/types"}[u.style]
}

func (u *listUpstream) itemPath(id string) string {
	return map[string]string{"glance": "/v2/images/", "nova": "/v2.1/flavors/", "cinder": "/v3/p1/types/"}[u.style] + id
}

func (u *listUpstream) key() string {
	return map[string]string{"glance": "images", "nova": "flavors", "cinder": "volume_types"}[u.style]
}

func startListUpstream(t testing.TB, u *listUpstream) *listUpstream {
	t.Helper()
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// item is item i as the service writes it.
func (u *listUpstream) item(i int) map[string]any {
	m := map[string]any{"id": "id-" + strconv.Itoa(i), "name": u.names[i]}
	if u.style == "glance" {
		m["visibility"], m["owner"], m["status"] = "public", "operator", "active"
	}
	return m
}

func (u *listUpstream) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Openstack-Request-Id", "req-upstream")
	if r.URL.Path != u.listPath() {
		for i := range u.names {
			if r.URL.Path == u.itemPath("id-"+strconv.Itoa(i)) {
				doc := any(u.item(i))
				if u.style != "glance" {
					doc = map[string]any{map[string]string{"nova": "flavor", "cinder": "volume_type"}[u.style]: doc}
				}
				json.NewEncoder(w).Encode(doc)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"itemNotFound": {"code": 404, "message": "no such item"}}`)
		return
	}
	q := r.URL.Query()
	u.mu.Lock()
	u.queries = append(u.queries, q)
	n := len(u.queries)
	u.mu.Unlock()
	limit := u.defaultLimit
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	start := 0
	if m := q.Get("marker"); m != "" {
		i, err := strconv.Atoi(strings.TrimPrefix(m, "id-"))
		if err != nil || i >= len(u.names) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"badRequest": {"code": 400, "message": "marker not found"}}`)
			return
		}
		start = i + 1
	}
	end := min(start+limit, len(u.names))
	var items []any
	for i := start; i < end; i++ {
		items = append(items, u.item(i))
	}
	if items == nil {
		items = []any{}
	}
	doc := map[string]any{u.key(): items}
	if end-start == limit && limit > 0 {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("marker", "id-"+strconv.Itoa(end-1))
		next := u.listPath() + "?" + nq.Encode()
		switch u.style {
		case "glance":
			doc["next"] = next
		case "nova":
			doc["flavors_links"] = []any{map[string]string{"rel": "next", "href": u.srv.URL + next}}
		case "cinder":
			doc["volume_type_links"] = []any{map[string]string{"rel": "next", "href": u.srv.URL + next}}
		}
	}
	if u.style == "glance" {
		doc["first"], doc["schema"] = u.listPath(), "/v2/schemas/images"
	}
	b, _ := json.Marshal(doc)
	if n == u.failPage {
		// Cut the document after its first item.
		i := bytes.Index(b, []byte("},"))
		b = b[:i+2]
	}
	w.Write(b)
}

// seen returns the list queries the upstream received, as "k=v&…".
func (u *listUpstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, q := range u.queries {
		out = append(out, q.Encode())
	}
	return out
}

// names returns the names of the items of a list document.
func names(t testing.TB, key string, body []byte) []string {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("list document: %v\n%s", err, body)
	}
	var items []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(doc[key], &items); err != nil {
		t.Fatalf("list %q: %v\n%s", key, err, body)
	}
	out := []string{}
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
