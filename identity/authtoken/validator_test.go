package authtoken

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// token returns the token to validate, after preparing e.
		token    func(t *testing.T, e *env) string
		wantUser string
		wantErr  error
		// wantKeystone is how many requests Keystone gets (after the
		// service token is warm); -1 skips the check.
		wantKeystone int64
	}{
		{
			name:         "valid",
			token:        func(t *testing.T, e *env) string { return e.issue(t, "gncu00000001").ID },
			wantUser:     "gncu00000001",
			wantKeystone: 1,
		},
		{
			name: "unscoped token of a served user",
			token: func(t *testing.T, e *env) string {
				return e.issueScoped(t, identity.Password{UserName: "gncu00000002", DomainName: "gnc", Password: testserver.UserPassword}, identity.Scope{}).ID
			},
			wantUser:     "gncu00000002",
			wantKeystone: 1,
		},
		{
			name:         "garbage",
			token:        func(*testing.T, *env) string { return "gAAAAABnot-a-real-token" },
			wantErr:      ErrInvalidToken,
			wantKeystone: 0, // no Keystone provider issues that shape
		},
		{
			name:         "unknown Fernet token, issued just now",
			token:        func(_ *testing.T, e *env) string { return fernetID(e.clock.Now()) },
			wantErr:      ErrInvalidToken,
			wantKeystone: 2, // a 404 at the SG replica may be lag: asked again at JP
		},
		{
			name:         "unknown Fernet token, issued an hour ago",
			token:        func(_ *testing.T, e *env) string { return fernetID(e.clock.Now().Add(-time.Hour)) },
			wantErr:      ErrInvalidToken,
			wantKeystone: 1, // older than any replication lag: SG's 404 is final
		},
		{
			name:         "malformed is not sent to Keystone",
			token:        func(*testing.T, *env) string { return "abc\r\nX-Injected: 1" },
			wantErr:      ErrInvalidToken,
			wantKeystone: 0,
		},
		{
			name:         "too long is not sent to Keystone",
			token:        func(*testing.T, *env) string { return strings.Repeat("a", defaultMaxTokenLength+1) },
			wantErr:      ErrInvalidToken,
			wantKeystone: 0,
		},
		{
			name:         "empty",
			token:        func(*testing.T, *env) string { return "" },
			wantErr:      ErrMissing,
			wantKeystone: 0,
		},
		{
			name: "revoked",
			token: func(t *testing.T, e *env) string {
				tok := e.issue(t, "gncu00000001")
				e.revoke(t, tok.ID)
				return tok.ID
			},
			wantErr:      ErrInvalidToken,
			wantKeystone: 2, // a 404 at the SG replica is asked again at JP
		},
		{
			name: "expired before it was ever seen",
			token: func(t *testing.T, e *env) string {
				tok := e.issue(t, "gncu00000001")
				e.clock.Advance(2 * time.Hour)
				return tok.ID
			},
			wantErr: ErrInvalidToken,
			// the service token expired too: 401, refresh, retry
			wantKeystone: -1,
		},
		{
			name:         "another domain's valid token",
			token:        func(t *testing.T, e *env) string { return e.issue(t, "zjpu00000001").ID },
			wantErr:      ErrWrongDomain,
			wantKeystone: 1,
		},
		{
			name: "a Default-domain service user's token",
			token: func(t *testing.T, e *env) string {
				return e.issueScoped(t, identity.Password{UserName: "glance", DomainName: "Default", Password: testserver.ServicePassword}, serviceScope).ID
			},
			wantErr:      ErrWrongDomain,
			wantKeystone: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{})
			e.serviceToken(t) // warm
			tok := tt.token(t, e)
			before := e.keystoneRequests()
			got, err := e.v.Validate(t.Context(), tok)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Validate: err = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(tt.wantUser, got.User.Name); diff != "" {
					t.Errorf("user (-want +got):\n%s", diff)
				}
			}
			if n := e.keystoneRequests() - before; tt.wantKeystone >= 0 && n != tt.wantKeystone {
				t.Errorf("Keystone requests = %d, want %d", n, tt.wantKeystone)
			}
			if err != nil && strings.Contains(err.Error(), tok) && tok != "" {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

// TestCache follows one token through the cache as the clock moves.
func TestCache(t *testing.T) {
	t.Parallel()
	type step struct {
		advance      time.Duration
		revoke       bool
		wantErr      error
		wantKeystone int64 // validations at Keystone so far
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "hit until the TTL, then asks again",
			steps: []step{
				{wantKeystone: 1},
				{advance: defaultCacheTTL - time.Second, wantKeystone: 1},
				{advance: time.Second, wantKeystone: 2},
			},
		},
		{
			name: "expired token is never served from the cache",
			steps: []step{
				{wantKeystone: 1},
				{advance: 59 * time.Minute, wantKeystone: 2},
				// the entry is now trusted until the token's expiry, 1 min away
				{advance: time.Minute, wantErr: ErrExpired, wantKeystone: 2},
				{wantErr: ErrExpired, wantKeystone: 2},
			},
		},
		{
			name: "revoked while cached: trusted until the TTL",
			steps: []step{
				{wantKeystone: 1},
				{revoke: true, wantKeystone: 1},
				{advance: defaultCacheTTL, wantErr: ErrInvalidToken, wantKeystone: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{})
			tok := e.issue(t, "gncu00000001")
			before := e.srv.Validations("")
			for i, s := range tt.steps {
				e.clock.Advance(s.advance)
				if s.revoke {
					e.revoke(t, tok.ID)
				}
				_, err := e.v.Validate(t.Context(), tok.ID)
				if !errors.Is(err, s.wantErr) || (s.wantErr == nil) != (err == nil) {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
				}
				if n := e.srv.Validations("") - before; n != s.wantKeystone {
					t.Errorf("step %d: validations = %d, want %d", i, n, s.wantKeystone)
				}
			}
		})
	}
}

func TestNegativeCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		negativeTTL time.Duration
		advance     time.Duration
		// want is the Keystone requests after each of three validations;
		// each miss is two: SG (a replica) answers 404, JP is asked again.
		want []int64
	}{
		{name: "remembered", want: []int64{2, 2, 2}},
		{name: "forgotten after the TTL", advance: defaultNegativeTTL, want: []int64{2, 4, 6}},
		{name: "disabled", negativeTTL: -1, want: []int64{2, 4, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) { c.NegativeTTL = tt.negativeTTL }})
			e.serviceToken(t)
			bogus := fernetID(e.clock.Now())
			before := e.keystoneRequests()
			var got []int64
			for range 3 {
				if _, err := e.v.Validate(t.Context(), bogus); !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("err = %v, want ErrInvalidToken", err)
				}
				got = append(got, e.keystoneRequests()-before)
				e.clock.Advance(tt.advance)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Keystone requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDomainEnforcement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		served  []string
		token   func(t *testing.T, e *env) string
		wantErr error
		// wantLog is part of the reason that must reach the log.
		wantLog string
	}{
		{
			name:    "other product's user",
			served:  []string{"gnc"},
			token:   func(t *testing.T, e *env) string { return e.issue(t, "zsgu00000002").ID },
			wantErr: ErrWrongDomain,
			wantLog: "which this backend does not serve",
		},
		{
			name:   "user of a second served domain",
			served: []string{"gnc", "zjp"},
			token:  func(t *testing.T, e *env) string { return e.issue(t, "zjpu00000001").ID },
		},
		{
			name:   "served user scoped to another product's project",
			served: []string{"gnc"},
			token: func(t *testing.T, e *env) string {
				w := testserver.DefaultWorld()
				if err := e.srv.AssignRole(testserver.RoleAssignment{
					UserID: w.User("gncu00000001").ID, Role: testserver.RoleMember, ProjectID: w.Project("zjpt00000001").ID,
				}); err != nil {
					t.Fatal(err)
				}
				return e.issueScoped(t, identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: testserver.UserPassword},
					identity.Scope{ProjectName: "zjpt00000001", ProjectDomainName: "zjp"}).ID
			},
			wantErr: ErrWrongDomain,
			wantLog: "project zjpt00000001",
		},
		{
			name:   "user in the domain without its prefix",
			served: []string{"gnc"},
			token: func(t *testing.T, e *env) string {
				w := testserver.DefaultWorld()
				u, err := e.srv.CreateUser(testserver.User{Name: "mallory", DomainID: w.Domain("gnc").ID, Password: "mallory-password"})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.srv.AssignRole(testserver.RoleAssignment{UserID: u.ID, Role: testserver.RoleMember, ProjectID: w.Project("gnct00000001").ID}); err != nil {
					t.Fatal(err)
				}
				return e.issueScoped(t, identity.Password{UserName: "mallory", DomainName: "gnc", Password: "mallory-password"},
					identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}).ID
			},
			wantErr: ErrWrongDomain,
			wantLog: `does not carry the domain's prefix`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) {
				// Domains[0] is gnc with its endpoints; add the others.
				for _, n := range tt.served[1:] {
					d, _ := domainByName(t, n)
					c.Domains = append(c.Domains, d)
				}
			}})
			tok := tt.token(t, e)
			rec, _ := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok})
			_, err := e.v.Validate(t.Context(), tok)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			wantCode := 200
			if tt.wantErr != nil {
				wantCode = 401
			}
			if rec.Code != wantCode {
				t.Errorf("handler status = %d, want %d", rec.Code, wantCode)
			}
			if logs := e.logs.String(); tt.wantLog != "" && !strings.Contains(logs, tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
		})
	}
}

// domainByName returns a seeded product domain, without endpoints.
func domainByName(t *testing.T, name string) (domain.Domain, bool) {
	t.Helper()
	wd := testserver.DefaultWorld().Domain(name)
	return domain.Domain{Name: wd.Name, ID: wd.ID, Prefix: wd.Prefix}, wd.ID != ""
}

func TestRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		roles   Roles
		wantErr error
	}{
		{name: "none required"},
		{name: "any of, met", roles: Roles{AnyOf: []string{"admin", "MEMBER"}}},
		{name: "any of, not met", roles: Roles{AnyOf: []string{"admin", "service"}}, wantErr: ErrForbidden},
		{name: "all of, met", roles: Roles{AllOf: []string{"member"}}},
		{name: "all of, not met", roles: Roles{AllOf: []string{"member", "admin"}}, wantErr: ErrForbidden},
		{name: "both, any not met", roles: Roles{AllOf: []string{"member"}, AnyOf: []string{"admin"}}, wantErr: ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) { c.Roles = tt.roles }})
			tok := e.issue(t, "gncu00000001")
			_, err := e.v.Validate(t.Context(), tok.ID)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			rec, _ := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok.ID})
			want := 200
			if tt.wantErr != nil {
				want = 403
			}
			if rec.Code != want {
				t.Errorf("handler status = %d, want %d", rec.Code, want)
			}
		})
	}
}

// TestCoalescing: 500 concurrent requests with one new token make one
// Keystone validation.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	e.serviceToken(t)
	tok := e.issue(t, "gncu00000001")
	before := e.srv.Validations("")
	const n = 500
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			rec, _ := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok.ID})
			codes[i] = rec.Code
		})
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("request %d: status %d", i, c)
		}
	}
	if got := e.srv.Validations("") - before; got != 1 {
		t.Errorf("Keystone validations = %d, want 1", got)
	}
}

// TestServiceTokenRejected: Keystone rejects the service's own token; it is
// refreshed once and the validation succeeds.
func TestServiceTokenRejected(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	if _, err := e.v.Validate(t.Context(), e.issue(t, "gncu00000001").ID); err != nil {
		t.Fatal(err)
	}
	old := e.serviceToken(t)
	e.revoke(t, old.ID)
	if _, err := e.v.Validate(t.Context(), e.issue(t, "gncu00000002").ID); err != nil {
		t.Fatalf("after the service token was revoked: %v", err)
	}
	if got := e.srv.TokensIssued("nova", ""); got != 2 {
		t.Errorf("service tokens issued = %d, want 2 (one refresh)", got)
	}
	if e.serviceToken(t).ID == old.ID {
		t.Error("the rejected service token is still cached")
	}
	if !strings.Contains(e.logs.String(), "refreshing it once") {
		t.Errorf("no log of the refresh:\n%s", e.logs)
	}
}

// TestServiceTokenUnusable: a service credential Keystone rejects for good
// gives ErrUnavailable (503), not an invalid user token.
func TestServiceTokenUnusable(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{config: func(c *Config) {
		c.ServiceCredential = identity.Password{UserName: "nova", DomainName: "Default", Password: "wrong"}
	}})
	_, err := e.v.Validate(t.Context(), e.issue(t, "gncu00000001").ID)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

// TestReplicationLag: a token of a user registered a moment ago at the
// primary is unknown at the home replica; the one retry at the primary
// validates it.
func TestReplicationLag(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{server: testserver.Options{ReplicationLag: time.Minute}, home: "SG"})
	e.serviceToken(t)
	w := testserver.DefaultWorld()
	u, err := e.srv.CreateUser(testserver.User{Name: "gncu99999999", DomainID: w.Domain("gnc").ID, Password: "new-user-password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.AssignRole(testserver.RoleAssignment{UserID: u.ID, Role: testserver.RoleMember, ProjectID: w.Project("gnct00000001").ID}); err != nil {
		t.Fatal(err)
	}
	tok := e.issueScoped(t, identity.Password{UserName: "gncu99999999", DomainName: "gnc", Password: "new-user-password"},
		identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"})
	lag := e.res.Stats().LagRetries
	got, err := e.v.Validate(t.Context(), tok.ID)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got.User.ID != u.ID {
		t.Errorf("user = %s, want %s", got.User.ID, u.ID)
	}
	if diff := cmp.Diff(map[string]int64{"JP": 1, "SG": 0}, map[string]int64{"JP": e.srv.Validations("JP"), "SG": e.srv.Validations("SG")}); diff != "" {
		t.Errorf("validations by location (-want +got):\n%s", diff)
	}
	if n := e.res.Stats().LagRetries - lag; n != 1 {
		t.Errorf("lag retries = %d, want 1", n)
	}
}

// TestOutageNotCached: Keystone down everywhere gives ErrUnavailable; once
// it is back the same token validates at once.
func TestOutageNotCached(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault testserver.Fault
	}{
		{name: "5xx", fault: testserver.Fault{Status: 503}},
		{name: "connection refused", fault: testserver.Fault{Down: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{})
			e.serviceToken(t)
			tok := e.issue(t, "gncu00000001")
			for _, loc := range e.srv.Locations() {
				target := testserver.Keystone(loc)
				if tt.fault.Down {
					target = testserver.AtLocation(loc)
				}
				e.srv.SetFault(target, tt.fault)
			}
			rec, _ := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok.ID})
			if rec.Code != 503 {
				t.Fatalf("status during the outage = %d, want 503", rec.Code)
			}
			_, err := e.v.Validate(t.Context(), tok.ID)
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			e.srv.ClearFaults()
			rec, s := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok.ID})
			if rec.Code != 200 || !s.id.Confirmed() {
				t.Fatalf("status after the outage = %d, want 200", rec.Code)
			}
		})
	}
}

func TestWaitingCallerGivesUp(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	e.serviceToken(t)
	tok := e.issue(t, "gncu00000001")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.v.Validate(ctx, tok.ID)
	// Either the flight won the race or the caller's context did; the
	// caller never waits past its context and a cancellation is never
	// reported as an invalid token.
	if err != nil && (!errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled)) {
		t.Fatalf("err = %v, want nil or ErrUnavailable wrapping context.Canceled", err)
	}
	if _, err := e.v.Validate(t.Context(), tok.ID); err != nil {
		t.Fatalf("the validation did not go on for others: %v", err)
	}
}

// problemKeys returns the keys of the problems of err, which must be a
// config error.
func problemKeys(t *testing.T, err error) []string {
	t.Helper()
	var ce *configerr.Error
	if !errors.Is(err, configerr.ErrInvalid) || !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want a *configerr.Error matching configerr.ErrInvalid", err, err)
	}
	var keys []string
	for _, p := range ce.Problems {
		keys = append(keys, p.Key)
	}
	return keys
}

// offlineConfig is a valid Config whose New makes no request: gnc served
// at JP, the primary, with a service token source that is never called.
func offlineConfig(t *testing.T) Config {
	t.Helper()
	gnc, _ := domainByName(t, "gnc")
	gnc.Endpoints = map[string]domain.Endpoints{"JP": {UserAuthURL: "http://keystone.invalid/v3"}}
	return Config{
		Domains: []domain.Domain{gnc},
		Home:    "JP",
		Primary: "JP",
		ServiceToken: identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
			t.Error("the service token was asked for")
			return nil, identity.ErrUnavailable
		}),
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	otherResolver := func(t *testing.T) *region.Resolver {
		t.Helper()
		r, err := region.New(region.Config{Locations: []region.Location{{Name: "JP", AuthURLs: []string{"http://keystone.invalid/v3"}}}, Primary: "JP"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		// cfg changes a valid offlineConfig.
		cfg  func(t *testing.T, c *Config)
		want []string // keys at fault
	}{
		{name: "empty", cfg: func(_ *testing.T, c *Config) { *c = Config{} },
			want: []string{"domains", "home", "primary", "service_credential"}},
		{name: "bad numbers", cfg: func(_ *testing.T, c *Config) {
			c.CacheSize, c.NegativeCacheSize, c.CacheTTL, c.ValidateTimeout, c.MaxTokenLength = -1, -1, -1, -1, -1
		}, want: []string{"cache_size", "negative_cache_size", "cache_ttl", "validate_timeout", "max_token_length"}},
		{name: "domain without id or prefix", cfg: func(_ *testing.T, c *Config) {
			c.Domains = append(c.Domains, domain.Domain{Name: "nameless"})
		}, want: []string{"domains[1]"}},
		{name: "Primary and Resolver", cfg: func(t *testing.T, c *Config) { c.Resolver = otherResolver(t) },
			want: []string{"primary"}},
		{name: "ServiceToken and ServiceCredential", cfg: func(_ *testing.T, c *Config) {
			c.ServiceCredential, c.ServiceScope = serviceCred, serviceScope
		}, want: []string{"service_token"}},
		{name: "ServiceToken and TokenCache", cfg: func(t *testing.T, c *Config) { c.TokenCache = newTokenCache(t) },
			want: []string{"service_token"}},
		{name: "ServiceToken a nil TokenSourceFunc", cfg: func(_ *testing.T, c *Config) {
			c.ServiceToken = identity.TokenSourceFunc(nil)
		}, want: []string{"service_token"}},
		{name: "ServiceToken a nil *tokencache.Handle", cfg: func(_ *testing.T, c *Config) {
			c.ServiceToken = (*tokencache.Handle)(nil)
		}, want: []string{"service_token"}},
		{name: "ServiceToken nil, no ServiceCredential", cfg: func(_ *testing.T, c *Config) { c.ServiceToken = nil },
			want: []string{"service_credential"}},
		{name: "ServiceCredential a nil *identity.Password", cfg: func(_ *testing.T, c *Config) {
			c.ServiceToken = nil
			c.ServiceCredential, c.ServiceScope = (*identity.Password)(nil), serviceScope
		}, want: []string{"service_credential"}},
		{name: "ServiceCredential and ServiceScope incomplete", cfg: func(_ *testing.T, c *Config) {
			c.ServiceToken = nil
			c.ServiceCredential = identity.Password{UserName: "nova"}
			c.ServiceScope = identity.Scope{ProjectName: "service"}
		}, want: []string{"service_credential", "service_scope"}},
		{name: "ServiceToken and ServiceCredential both typed nil", cfg: func(_ *testing.T, c *Config) {
			c.ServiceToken = identity.TokenSourceFunc(nil)
			c.ServiceCredential = (*identity.Password)(nil)
		}, want: []string{"service_token"}},
		{name: "Client with a clock of its own", cfg: func(_ *testing.T, c *Config) {
			c.Clock = clock.NewManual(clockStart)
			c.Client = &identity.Client{Clock: clock.NewManual(clockStart)}
		}, want: []string{"clock"}},
		{name: "Client and TLSConfig", cfg: func(_ *testing.T, c *Config) {
			c.Client, c.TLSConfig = &identity.Client{}, &tls.Config{}
		}, want: []string{"tls_config"}},
		{name: "nil Closers", cfg: func(_ *testing.T, c *Config) {
			c.Closers = []io.Closer{nil, (*os.File)(nil)}
		}, want: []string{"closers[0]", "closers[1]"}},
		{name: "home not a location", cfg: func(_ *testing.T, c *Config) { c.Home = "SG" },
			want: []string{"home"}},
		{name: "no user_auth_url at home or primary", cfg: func(_ *testing.T, c *Config) {
			gnc := c.Domains[0]
			gnc.Endpoints = map[string]domain.Endpoints{"JP": {AdminAuthURL: "http://keystone.invalid/v3"}}
			c.Domains = []domain.Domain{gnc}
		}, want: []string{"domains[0].endpoints"}},
		{name: "valid with a TokenSourceFunc", cfg: func(*testing.T, *Config) {}},
		{name: "valid with a service credential and no TokenCache", cfg: func(_ *testing.T, c *Config) {
			c.ServiceToken = nil
			c.ServiceCredential, c.ServiceScope = serviceCred, serviceScope
		}},
		{name: "valid with a Resolver", cfg: func(t *testing.T, c *Config) { c.Primary, c.Resolver = "", otherResolver(t) }},
		{name: "valid with the same clock in Client and Config", cfg: func(_ *testing.T, c *Config) {
			clk := clock.NewManual(clockStart)
			c.Clock, c.Client = clk, &identity.Client{Clock: clk}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := offlineConfig(t)
			tt.cfg(t, &cfg)
			v, err := New(cfg)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if err := v.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if v != nil {
				t.Errorf("New returned a Validator with the error %v", err)
			}
			if diff := cmp.Diff(tt.want, problemKeys(t, err)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), testserver.ServicePassword) {
				t.Errorf("error %q holds the service password", err)
			}
		})
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	d := domain.Domain{Endpoints: map[string]domain.Endpoints{
		"SG": {UserAuthURL: "https://id.sg/v3", AdminAuthURL: "https://admin.sg/v3"},
		"JP": {UserAuthURL: "https://id.jp/v3"},
	}}
	got := locations(d)
	want := []string{"JP https://id.jp/v3", "SG https://admin.sg/v3"}
	var gotS []string
	for _, l := range got {
		gotS = append(gotS, l.Name+" "+strings.Join(l.AuthURLs, ","))
	}
	if diff := cmp.Diff(want, gotS); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	cached := e.issue(t, "gncu00000001")
	if _, err := e.v.Validate(t.Context(), cached.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.v.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Validate(t.Context(), cached.ID); err != nil {
		t.Errorf("cached token after Close: %v", err)
	}
	if _, err := e.v.Validate(t.Context(), e.issue(t, "gncu00000002").ID); !errors.Is(err, ErrClosed) {
		t.Errorf("miss after Close: err = %v, want ErrClosed", err)
	}
	e.v.Close() // idempotent
}

// TestOwnTokenCache: without a TokenCache the Validator keeps its service
// token in a cache of its own, on its Clock, which Close closes; a
// TokenCache of the caller's is left open.
func TestOwnTokenCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		own  bool
	}{
		{name: "own cache", own: true},
		{name: "caller's cache", own: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) {
				if tt.own {
					c.TokenCache = nil
				}
			}})
			for _, user := range []string{"gncu00000001", "gncu00000002"} {
				if _, err := e.v.Validate(t.Context(), e.issue(t, user).ID); err != nil {
					t.Fatalf("Validate: %v", err)
				}
			}
			// The one service token serves both validations; an own cache
			// runs its timer on the Validator's clock.
			wantTimers := 0
			if tt.own {
				wantTimers = 1
			}
			type state struct {
				Issued, Timers int
			}
			got := state{int(e.srv.TokensIssued("nova", "")), e.clock.Pending()}
			if diff := cmp.Diff(state{1, wantTimers}, got); diff != "" {
				t.Errorf("before Close (-want +got):\n%s", diff)
			}
			svc := e.v.ServiceToken()
			if err := e.v.Close(); err != nil {
				t.Fatal(err)
			}
			if n := e.clock.Pending(); n != 0 {
				t.Errorf("%d timers left on the Validator's clock after Close", n)
			}
			if tt.own {
				if _, err := svc.Token(t.Context()); !errors.Is(err, tokencache.ErrClosed) {
					t.Errorf("service token after Close: err = %v, want tokencache.ErrClosed", err)
				}
				return
			}
			// The caller's cache still holds the token for others. (The
			// released Handle may still serve it too: tokencache says so.)
			h, err := e.cache.Handle(tokencache.Key{Credential: serviceCred, Scope: serviceScope, Kind: "nocatalog"},
				identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
					t.Error("the caller's cache fetched again after Close")
					return nil, identity.ErrUnavailable
				}))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Release()
			if _, err := h.Token(t.Context()); err != nil {
				t.Errorf("caller's cache after Close: %v", err)
			}
		})
	}
}

// fakeSource is a service token source with an Invalidate method: it hands
// out its tokens in turn, moving to the next when the current one is
// invalidated.
type fakeSource struct {
	mu          sync.Mutex
	tokens      []*identity.Token
	calls       int
	invalidated []string
}

func (f *fakeSource) Token(context.Context) (*identity.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.tokens[0], nil
}

func (f *fakeSource) Invalidate(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, id)
	if f.tokens[0].ID != id || len(f.tokens) == 1 {
		return false
	}
	f.tokens = f.tokens[1:]
	return true
}

// TestServiceTokenSource: a ServiceToken of the caller's own is what every
// validation authenticates with; a token Keystone rejects is invalidated
// when the source can be, and asked for once more either way, never in a
// loop.
func TestServiceTokenSource(t *testing.T) {
	t.Parallel()
	bogus := &identity.Token{ID: "gAAAAABnot-a-service-token", Expiry: clockStart.Add(24 * time.Hour)}
	type outcome struct {
		Calls       int64 // calls of the source
		Invalidated []string
		Issued      int64 // service tokens Keystone issued, the test's included
		Requests    int64 // Keystone requests of the validations
	}
	tests := []struct {
		name string
		// source returns the source and a func reporting its calls and
		// invalidations; svc is a valid service token.
		source    func(svc *identity.Token) (identity.TokenSource, func() outcome)
		tokens    []string // users whose tokens (one each) are validated, in turn
		wantErr   error
		wantCause error
		want      outcome
	}{
		{
			name: "func source, asked once per Keystone validation",
			source: func(svc *identity.Token) (identity.TokenSource, func() outcome) {
				var calls atomic.Int64
				return identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
						calls.Add(1)
						return svc, nil
					}), func() outcome {
						return outcome{Calls: calls.Load()}
					}
			},
			// the repeat is a cache hit: no Keystone request, no call
			tokens: []string{"gncu00000001", "gncu00000002", "gncu00000003", "gncu00000001"},
			want:   outcome{Calls: 3, Issued: 1, Requests: 3},
		},
		{
			name: "func source rejected by Keystone: one retry, then unavailable",
			source: func(*identity.Token) (identity.TokenSource, func() outcome) {
				var calls atomic.Int64
				return identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
						calls.Add(1)
						return bogus, nil
					}), func() outcome {
						return outcome{Calls: calls.Load()}
					}
			},
			tokens:    []string{"gncu00000001"},
			wantErr:   ErrUnavailable,
			wantCause: identity.ErrUnauthorized,
			want:      outcome{Calls: 2, Issued: 1, Requests: 2}, // a 401 is not asked elsewhere
		},
		{
			name: "func source failing",
			source: func(*identity.Token) (identity.TokenSource, func() outcome) {
				var calls atomic.Int64
				return identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
						calls.Add(1)
						return nil, identity.ErrUnavailable
					}), func() outcome {
						return outcome{Calls: calls.Load()}
					}
			},
			tokens:    []string{"gncu00000001"},
			wantErr:   ErrUnavailable,
			wantCause: identity.ErrUnavailable,
			want:      outcome{Calls: 1, Issued: 1, Requests: 0},
		},
		{
			name: "invalidating source rejected by Keystone: invalidated, replaced",
			source: func(svc *identity.Token) (identity.TokenSource, func() outcome) {
				f := &fakeSource{tokens: []*identity.Token{bogus, svc}}
				return f, func() outcome {
					f.mu.Lock()
					defer f.mu.Unlock()
					return outcome{Calls: int64(f.calls), Invalidated: f.invalidated}
				}
			},
			tokens: []string{"gncu00000001", "gncu00000002"},
			want:   outcome{Calls: 3, Invalidated: []string{bogus.ID}, Issued: 1, Requests: 3},
		},
		{
			name: "invalidating source rejected for good: one retry, then unavailable",
			source: func(*identity.Token) (identity.TokenSource, func() outcome) {
				f := &fakeSource{tokens: []*identity.Token{bogus}}
				return f, func() outcome {
					f.mu.Lock()
					defer f.mu.Unlock()
					return outcome{Calls: int64(f.calls), Invalidated: f.invalidated}
				}
			},
			tokens:    []string{"gncu00000001"},
			wantErr:   ErrUnavailable,
			wantCause: identity.ErrUnauthorized,
			want:      outcome{Calls: 2, Invalidated: []string{bogus.ID}, Issued: 1, Requests: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var report func() outcome
			var svc identity.Token
			e := setup(t, setupOpts{config: func(c *Config) {
				c.ServiceCredential, c.ServiceScope, c.TokenCache = nil, identity.Scope{}, nil
				c.ServiceToken, report = tt.source(&svc)
			}})
			// The service token is issued by the test, not the Validator,
			// which New did not ask for a token.
			if got := report(); got.Calls != 0 {
				t.Fatalf("New asked the source for a token %d times", got.Calls)
			}
			svc = *e.issueScoped(t, serviceCred, serviceScope)
			issued := map[string]string{} // user: token id
			for _, user := range tt.tokens {
				if issued[user] == "" {
					issued[user] = e.issue(t, user).ID
				}
			}
			var err error
			before := e.keystoneRequests()
			for _, user := range tt.tokens {
				if _, err = e.v.Validate(t.Context(), issued[user]); err != nil {
					break
				}
			}
			requests := e.keystoneRequests() - before
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Validate: err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("Validate: err = %v, want it to wrap %v", err, tt.wantCause)
			}
			got := report()
			got.Issued, got.Requests = e.srv.TokensIssued("nova", ""), requests
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestServiceTokenIsTheSource: ServiceToken returns the configured source
// itself, and with a credential a source of the credential's token.
func TestServiceTokenIsTheSource(t *testing.T) {
	t.Parallel()
	f := &fakeSource{tokens: []*identity.Token{{ID: "gAAAAABfake", Expiry: clockStart.Add(time.Hour)}}}
	var funcCalls atomic.Int64
	fn := identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
		funcCalls.Add(1)
		return &identity.Token{ID: "gAAAAABfunc", Expiry: clockStart.Add(time.Hour)}, nil
	})
	tests := []struct {
		name   string
		source identity.TokenSource
		wantID string
		// calls reports how often the configured source was asked.
		calls func() int64
	}{
		{name: "pointer source", source: f, wantID: "gAAAAABfake", calls: func() int64 {
			f.mu.Lock()
			defer f.mu.Unlock()
			return int64(f.calls)
		}},
		{name: "func source", source: fn, wantID: "gAAAAABfunc", calls: funcCalls.Load},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := offlineConfig(t)
			cfg.ServiceToken = tt.source
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			got := v.ServiceToken()
			if p, ok := tt.source.(*fakeSource); ok && got != identity.TokenSource(p) {
				t.Errorf("ServiceToken() = %v, want the configured %v", got, tt.source)
			}
			before := tt.calls()
			tok, err := got.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{tt.wantID, before + 1}, []any{tok.ID, tt.calls()}); diff != "" {
				t.Errorf("token id and calls of the source (-want +got):\n%s", diff)
			}
		})
	}
	// With a credential: the source is the cache's Handle.
	e := setup(t, setupOpts{})
	if _, ok := e.v.ServiceToken().(*tokencache.Handle); !ok {
		t.Errorf("ServiceToken() with a credential is a %T, want a *tokencache.Handle", e.v.ServiceToken())
	}
	if diff := cmp.Diff("nova", e.serviceToken(t).User.Name); diff != "" {
		t.Errorf("service token's user (-want +got):\n%s", diff)
	}
}
