//go:build integration

package authtoken_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/tokencache"
)

// realDomain is the product domain name of the seeded Keystone, with every
// location's endpoints given by authURL.
func realDomain(t *testing.T, env *keystonetest.Env, name string, authURL func(loc string) string) domain.Domain {
	t.Helper()
	kd, ok := env.Domain(name)
	if !ok {
		t.Fatalf("no domain %s in the Keystone description", name)
	}
	d := domain.Domain{Name: kd.Name, ID: kd.ID, Prefix: kd.Prefix, Endpoints: map[string]domain.Endpoints{}}
	for loc := range env.AuthURLs {
		d.Endpoints[loc] = domain.Endpoints{UserAuthURL: authURL(loc), AdminAuthURL: authURL(loc)}
	}
	return d
}

// newCache returns a token cache closed when the test ends.
func newCache(t *testing.T) *tokencache.Cache {
	t.Helper()
	cache, err := tokencache.New(tokencache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	return cache
}

// newValidator returns a Validator for a backend of domain d at home SG,
// whose service token (nova's) lives in cache, or in the Validator's own
// cache if cache is nil.
func newValidator(t *testing.T, env *keystonetest.Env, d domain.Domain, cache *tokencache.Cache) *authtoken.Validator {
	t.Helper()
	nova := env.MustUser(t, "nova")
	v, err := authtoken.New(authtoken.Config{
		Domains:           []domain.Domain{d},
		Home:              "SG",
		Primary:           env.Primary,
		TokenCache:        cache,
		ServiceCredential: identity.Password{UserName: nova.Name, DomainID: nova.DomainID, Password: nova.Password},
		ServiceScope:      identity.Scope{ProjectID: env.ServiceProject.ID},
		NegativeTTL:       -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// status sends a request with token to h and returns the answer's status
// and the user name the backend saw.
func status(h http.Handler, token string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, "/mail", nil)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("X-Seen-User")
}

// backend is the SaaS application behind the middleware: it echoes the
// validated user.
var backend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if id, ok := authtoken.FromContext(r.Context()); ok && id.Confirmed() {
		w.Header().Set("X-Seen-User", id.Token.User.Name)
	}
	w.WriteHeader(http.StatusOK)
})

// TestIntegrationDomainEnforcement runs a gnc and a zjp backend against the
// real Keystone: each accepts its own domain's tokens (project- and
// domain-scoped) and answers 401 to the other's, to an unknown token and to
// none.
func TestIntegrationDomainEnforcement(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	ctx := t.Context()
	cache := newCache(t)

	var c identity.Client
	issue := func(name string, domainScope bool) string {
		u := env.MustUser(t, name)
		scope := identity.Scope{ProjectID: u.ProjectID}
		if domainScope {
			scope = identity.Scope{DomainID: u.DomainID}
		}
		tok, err := c.Issue(ctx, env.AuthURL("JP"), identity.Password{UserID: u.ID, Password: u.Password}, scope)
		if err != nil {
			t.Fatalf("issue a token for %s: %v", name, err)
		}
		return tok.ID
	}
	tokens := map[string]string{
		"gnc project": issue("gncu00000001", false),
		"gnc domain":  issue("gncu00000002", true),
		"zjp project": issue("zjpu00000001", false),
		"zjp domain":  issue("zjpu00000002", true),
		"unknown":     "gAAAAABnot-a-token",
		"none":        "",
	}
	backends := map[string]http.Handler{}
	for _, name := range []string{"gnc", "zjp"} {
		v := newValidator(t, env, realDomain(t, env, name, env.AuthURL), cache)
		backends[name] = v.Handler(backend, authtoken.HandlerOptions{})
	}

	type answer struct {
		Status int
		User   string
	}
	tests := []struct {
		backend, token string
		want           answer
	}{
		{"gnc", "gnc project", answer{http.StatusOK, "gncu00000001"}},
		{"gnc", "gnc domain", answer{http.StatusOK, "gncu00000002"}},
		{"gnc", "zjp project", answer{http.StatusUnauthorized, ""}},
		{"gnc", "zjp domain", answer{http.StatusUnauthorized, ""}},
		{"zjp", "zjp project", answer{http.StatusOK, "zjpu00000001"}},
		{"zjp", "zjp domain", answer{http.StatusOK, "zjpu00000002"}},
		{"zjp", "gnc project", answer{http.StatusUnauthorized, ""}},
		{"zjp", "gnc domain", answer{http.StatusUnauthorized, ""}},
		{"gnc", "unknown", answer{http.StatusUnauthorized, ""}},
		{"zjp", "none", answer{http.StatusUnauthorized, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.backend+" backend, "+tt.token+" token", func(t *testing.T) {
			t.Parallel()
			var got answer
			got.Status, got.User = status(backends[tt.backend], tokens[tt.token])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}

	// The reason is the domain, not Keystone: the token is valid.
	v := newValidator(t, env, realDomain(t, env, "gnc", env.AuthURL), cache)
	if _, err := v.Validate(ctx, tokens["zjp project"]); !errors.Is(err, authtoken.ErrWrongDomain) {
		t.Errorf("gnc validator, zjp token: %v, want ErrWrongDomain", err)
	}
	if _, err := v.Validate(ctx, tokens["unknown"]); !errors.Is(err, authtoken.ErrInvalidToken) {
		t.Errorf("gnc validator, unknown token: %v, want ErrInvalidToken", err)
	}
}

// TestIntegrationKeystoneDown answers 503 when no Keystone can be asked: the
// backend's service token was fetched from the real Keystone, then every
// location's endpoint is a closed port. A new token cannot be checked, and
// is neither accepted nor called invalid.
func TestIntegrationKeystoneDown(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	ctx := t.Context()
	cache := newCache(t)
	gnc := env.MustUser(t, "gncu00000001")

	var c identity.Client
	tok, err := c.Issue(ctx, env.AuthURL("SG"), identity.Password{UserID: gnc.ID, Password: gnc.Password},
		identity.Scope{ProjectID: gnc.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	up := newValidator(t, env, realDomain(t, env, "gnc", env.AuthURL), cache)
	if code, _ := status(up.Handler(backend, authtoken.HandlerOptions{}), tok.ID); code != http.StatusOK {
		t.Fatalf("with Keystone up: status %d, want 200", code)
	}

	closed := map[string]string{}
	for loc := range env.AuthURLs {
		closed[loc] = closedURL(t)
	}
	// Same service identity and cache: the service token is already there.
	down := newValidator(t, env, realDomain(t, env, "gnc", func(loc string) string { return closed[loc] }), cache)
	if code, user := status(down.Handler(backend, authtoken.HandlerOptions{}), tok.ID); code != http.StatusServiceUnavailable || user != "" {
		t.Errorf("every Keystone down, service token cached: status %d user %q, want 503", code, user)
	}
	_, err = down.Validate(ctx, tok.ID)
	if !errors.Is(err, authtoken.ErrUnavailable) || !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("Validate with every Keystone down: %v, want authtoken.ErrUnavailable wrapping identity.ErrUnavailable", err)
	}

	// Without a cached service token it is 503 too: the Validator's own
	// cache starts empty.
	cold := newValidator(t, env, realDomain(t, env, "gnc", func(loc string) string { return closed[loc] }), nil)
	if code, _ := status(cold.Handler(backend, authtoken.HandlerOptions{}), tok.ID); code != http.StatusServiceUnavailable {
		t.Errorf("every Keystone down, no service token: status %d, want 503", code)
	}
}

// closedURL returns an auth URL on a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v3"
}
