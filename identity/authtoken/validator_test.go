package authtoken

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
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
			wantErr:      ErrInvalid,
			wantKeystone: 2, // a 404 at the SG replica is asked again at JP

		},
		{
			name:         "malformed is not sent to Keystone",
			token:        func(*testing.T, *env) string { return "abc\r\nX-Injected: 1" },
			wantErr:      ErrInvalid,
			wantKeystone: 0,
		},
		{
			name:         "too long is not sent to Keystone",
			token:        func(*testing.T, *env) string { return strings.Repeat("a", DefaultMaxTokenLength+1) },
			wantErr:      ErrInvalid,
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
			wantErr:      ErrInvalid,
			wantKeystone: 2, // a 404 at the SG replica is asked again at JP
		},
		{
			name: "expired before it was ever seen",
			token: func(t *testing.T, e *env) string {
				tok := e.issue(t, "gncu00000001")
				e.clock.Advance(2 * time.Hour)
				return tok.ID
			},
			wantErr: ErrInvalid,
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
				{advance: DefaultCacheTTL - time.Second, wantKeystone: 1},
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
				{advance: DefaultCacheTTL, wantErr: ErrInvalid, wantKeystone: 1},
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
		{name: "forgotten after the TTL", advance: DefaultNegativeTTL, want: []int64{2, 4, 6}},
		{name: "disabled", negativeTTL: -1, want: []int64{2, 4, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) { c.NegativeTTL = tt.negativeTTL }})
			e.serviceToken(t)
			before := e.keystoneRequests()
			var got []int64
			for range 3 {
				if _, err := e.v.Validate(t.Context(), "gAAAAABbogus"); !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
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

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	gnc, _ := domainByName(t, "gnc")
	gnc.Endpoints = map[string]domain.Endpoints{"JP": {UserAuthURL: "http://keystone.invalid/v3"}}
	tests := []struct {
		name string
		cfg  Config
		want []string // fields at fault
	}{
		{name: "empty", cfg: Config{}, want: []string{"Domains", "Home", "Primary", "TokenCache", "ServiceCredential"}},
		{name: "bad numbers", cfg: Config{Domains: []domain.Domain{gnc}, Home: "JP", Primary: "JP", CacheSize: -1, CacheTTL: -1},
			want: []string{"TokenCache", "ServiceCredential", "CacheSize", "CacheTTL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			var got []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *ConfigError
				if errors.As(e, &ce) {
					got = append(got, ce.Field)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
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
	got := Locations(d)
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
