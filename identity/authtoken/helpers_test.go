package authtoken

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// env is one fake cloud and one Validator serving gnc from home.
type env struct {
	srv    *testserver.Server
	clock  *clock.Manual
	reg    *domain.Registry
	client *identity.Client
	res    *region.Resolver
	cache  *tokencache.Cache
	v      *Validator
	logs   *logBuffer
	home   string
}

var clockStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type setupOpts struct {
	server testserver.Options
	home   string        // default "SG"
	config func(*Config) // tweaks the Config before New
}

var (
	serviceCred  = identity.Password{UserName: "nova", DomainName: testserver.DefaultDomainName, Password: testserver.ServicePassword}
	serviceScope = identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainName: testserver.DefaultDomainName}
)

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

func setup(t testing.TB, o setupOpts) *env {
	t.Helper()
	if o.home == "" {
		o.home = "SG"
	}
	// One manual clock drives the fake cloud, the identity client, the
	// resolver and the Validator's caches. The token cache of the service
	// token has a manual clock of its own that never moves: to it the
	// service token stays valid, so that a test advancing the clock past
	// the token's expiry sees Keystone's 401, the invalidation and the one
	// refresh, without a background refresh racing the test's counts.
	clk := clock.NewManual(clockStart)
	o.server.Clock = clk
	srv := testserver.New(t, o.server)
	world := testserver.DefaultWorld()
	var doms []domain.Domain
	for _, name := range testserver.ProductDomains() {
		wd := world.Domain(name)
		d := domain.Domain{Name: wd.Name, ID: wd.ID, Prefix: wd.Prefix, Endpoints: map[string]domain.Endpoints{}}
		for _, loc := range srv.Locations() {
			d.Endpoints[loc] = domain.Endpoints{
				UserAuthURL:  srv.DomainAuthURL(name, loc),
				AdminAuthURL: srv.DomainAdminAuthURL(name, loc),
			}
		}
		doms = append(doms, d)
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatal(err)
	}
	gnc, _ := reg.ByName("gnc")
	res, err := region.New(region.Config{Locations: locations(gnc), Primary: srv.Primary(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	cache := newTokenCache(t)
	logs := &logBuffer{}
	client := &identity.Client{Clock: clk}
	cfg := Config{
		Domains:           []domain.Domain{gnc},
		Home:              o.home,
		Resolver:          res,
		Client:            client,
		TokenCache:        cache,
		ServiceCredential: serviceCred,
		ServiceScope:      serviceScope,
		Clock:             clk,
		Logger:            slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if o.config != nil {
		o.config(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return &env{srv: srv, clock: clk, reg: reg, client: client, res: res, cache: cache, v: v, logs: logs, home: o.home}
}

// issue returns a token of a seeded domain user, scoped to its project,
// issued at the primary.
func (e *env) issue(t testing.TB, user string) *identity.Token {
	t.Helper()
	prefix := user[:3]
	project := prefix + "t" + user[4:]
	return e.issueScoped(t, identity.Password{UserName: user, DomainName: prefix, Password: testserver.UserPassword},
		identity.Scope{ProjectName: project, ProjectDomainName: prefix})
}

func (e *env) issueScoped(t testing.TB, cred identity.Credential, scope identity.Scope) *identity.Token {
	t.Helper()
	tok, err := e.client.Issue(context.Background(), e.srv.AuthURL(e.srv.Primary()), cred, scope)
	if err != nil {
		t.Fatalf("issue %v: %v", cred, err)
	}
	return tok
}

// revoke revokes tok in Keystone.
func (e *env) revoke(t testing.TB, id string) {
	t.Helper()
	if err := e.client.Revoke(context.Background(), e.srv.AuthURL(e.srv.Primary()), id, id); err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

// serviceToken is the Validator's own current service token, fetched if
// it has none yet.
func (e *env) serviceToken(t testing.TB) *identity.Token {
	t.Helper()
	tok, err := e.v.ServiceToken().Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newTokenCache returns a token cache on a manual clock that stays at
// clockStart, closed when the test ends.
func newTokenCache(t testing.TB) *tokencache.Cache {
	t.Helper()
	cache, err := tokencache.New(tokencache.Options{Clock: clock.NewManual(clockStart)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	return cache
}

// keystoneRequests counts requests at every location's Keystone.
func (e *env) keystoneRequests() int64 {
	var n int64
	for _, loc := range e.srv.Locations() {
		n += e.srv.Requests(testserver.Keystone(loc))
	}
	return n
}

// seen is what the next handler saw of a request.
type seen struct {
	called  bool
	id      *Identity
	headers http.Header
}

// serve sends a GET with headers through the Validator's handler.
func (e *env) serve(t testing.TB, o HandlerOptions, headers map[string]string) (*httptest.ResponseRecorder, *seen) {
	t.Helper()
	s := &seen{}
	h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.called = true
		s.id, _ = FromContext(r.Context())
		s.headers = r.Header.Clone()
	}), o)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/mail/inbox", nil)
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, s
}

// fernetID returns a token id shaped like a Fernet token issued at at,
// which no Keystone knows.
func fernetID(at time.Time) string {
	var b [1 + 8 + 16 + 64 + 32]byte
	rand.Read(b[:])
	b[0] = 0x80
	binary.BigEndian.PutUint64(b[1:9], uint64(at.Unix()))
	return base64.RawURLEncoding.EncodeToString(b[:])
}
