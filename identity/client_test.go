package identity_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

var (
	adminID        = testserver.SeedID("user", testserver.AdminUser)
	adminProjectID = testserver.SeedID("project", testserver.AdminProject)
	userName       = testserver.AppCredUser // gncu00000001
	userID         = testserver.SeedID("user", userName)
	userProjectID  = testserver.SeedID("project", testserver.AppCredProject)
	gncID          = testserver.SeedID("domain", "gnc")
	appCredID      = testserver.SeedID("appcred", testserver.AppCredName)
	defaultDomain  = identity.DomainRef{ID: testserver.DefaultDomainID, Name: testserver.DefaultDomainName}
	gncDomain      = identity.DomainRef{ID: gncID, Name: "gnc"}
	adminPassword  = identity.Password{UserName: testserver.AdminUser, DomainName: testserver.DefaultDomainName, Password: testserver.AdminPassword}
	userPassword   = identity.Password{UserName: userName, DomainName: "gnc", Password: testserver.UserPassword}
	novaPassword   = identity.Password{UserName: "nova", DomainID: testserver.DefaultDomainID, Password: testserver.ServicePassword}
	userScope      = identity.Scope{ProjectName: testserver.AppCredProject, ProjectDomainName: "gnc"}
	serviceScope   = identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainID: testserver.DefaultDomainID}
)

// summary is the part of a Token a test compares.
type summary struct {
	User     identity.User
	Project  *identity.Project
	Domain   *identity.DomainRef
	System   bool
	Methods  []string
	Roles    []string
	Regions  []string
	AuthURL  string
	Lifetime time.Duration
}

func summarize(t *identity.Token) summary {
	s := summary{
		User: t.User, Project: t.Project, Domain: t.Domain, System: t.System,
		Methods: t.Methods, Regions: t.Catalog.Regions(), AuthURL: t.AuthURL,
		Lifetime: t.ExpiresAt.Sub(t.IssuedAt),
	}
	for _, r := range t.Roles {
		s.Roles = append(s.Roles, r.Name)
	}
	return s
}

var allRegions = []string{"JP", "OSA1", "SG", "SIN1", "SJC1", "TYO1", "US"} // the parent regions hold the identity endpoints

// adminRoles are the roles of an admin token: admin and the roles Keystone
// infers from it.
var adminRoles = []string{"admin", "member", "reader"}

// newServer starts a fake cloud for one test.
func newServer(t *testing.T, opts testserver.Options) *testserver.Server {
	t.Helper()
	return testserver.New(t, opts)
}

// issue issues a token or fails the test.
func issue(t *testing.T, c *identity.Client, authURL string, cred identity.Credential, s identity.Scope) *identity.Token {
	t.Helper()
	tok, err := c.Issue(t.Context(), authURL, cred, s)
	if err != nil {
		t.Fatalf("Issue(%v, %+v): %v", cred, s, err)
	}
	return tok
}

func TestIssueCredentialsAndScopes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	authURL := srv.AuthURL("SG")
	var c identity.Client
	adminTok := issue(t, &c, authURL, adminPassword, identity.Scope{})

	adminProject := &identity.Project{ID: adminProjectID, Name: testserver.AdminProject, Domain: defaultDomain}
	adminUser := identity.User{ID: adminID, Name: testserver.AdminUser, Domain: defaultDomain}
	scopes := []struct {
		name  string
		scope identity.Scope
		want  summary // User, Methods and AuthURL are filled in below
	}{
		{"unscoped", identity.Scope{}, summary{}},
		{"project id", identity.Scope{ProjectID: adminProjectID},
			summary{Project: adminProject, Roles: adminRoles, Regions: allRegions}},
		{"project name domain id", identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainID: testserver.DefaultDomainID},
			summary{Project: adminProject, Roles: adminRoles, Regions: allRegions}},
		{"project name domain name", identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainName: testserver.DefaultDomainName},
			summary{Project: adminProject, Roles: adminRoles, Regions: allRegions}},
		{"domain id", identity.Scope{DomainID: testserver.DefaultDomainID},
			summary{Domain: &defaultDomain, Roles: adminRoles, Regions: allRegions}},
		{"domain name", identity.Scope{DomainName: testserver.DefaultDomainName},
			summary{Domain: &defaultDomain, Roles: adminRoles, Regions: allRegions}},
		{"system", identity.Scope{System: true},
			summary{System: true, Roles: adminRoles, Regions: allRegions}},
	}
	creds := []struct {
		name    string
		cred    identity.Credential
		methods []string
	}{
		{"password user id", identity.Password{UserID: adminID, Password: testserver.AdminPassword}, []string{"password"}},
		{"password user name domain id", identity.Password{UserName: testserver.AdminUser, DomainID: testserver.DefaultDomainID, Password: testserver.AdminPassword}, []string{"password"}},
		{"password user name domain name", &adminPassword, []string{"password"}},
		{"token", identity.TokenCredential{ID: adminTok.ID}, []string{"token", "password"}},
	}
	for _, cr := range creds {
		for _, sc := range scopes {
			t.Run(cr.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				tok := issue(t, &c, authURL, cr.cred, sc.scope)
				want := sc.want
				want.User, want.Methods, want.AuthURL, want.Lifetime = adminUser, cr.methods, authURL, time.Hour
				got := summarize(tok)
				if cr.methods[0] == "token" {
					// A rescoped token keeps its parent's expiry.
					want.Lifetime = adminTok.ExpiresAt.Sub(tok.IssuedAt)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("token (-want +got):\n%s", diff)
				}
				if tok.ID == "" || len(tok.AuditIDs) == 0 {
					t.Errorf("token has ID %v, AuditIDs %v; want both", tok.ID != "", tok.AuditIDs)
				}
			})
		}
	}

	userProject := &identity.Project{ID: userProjectID, Name: testserver.AppCredProject, Domain: gncDomain}
	appCreds := []struct {
		name string
		cred identity.ApplicationCredential
	}{
		{"id", identity.ApplicationCredential{ID: appCredID, Secret: testserver.AppCredSecret}},
		{"name user id", identity.ApplicationCredential{Name: testserver.AppCredName, UserID: userID, Secret: testserver.AppCredSecret}},
		{"name user name domain id", identity.ApplicationCredential{Name: testserver.AppCredName, UserName: userName, UserDomainID: gncID, Secret: testserver.AppCredSecret}},
		{"name user name domain name", identity.ApplicationCredential{Name: testserver.AppCredName, UserName: userName, UserDomainName: "gnc", Secret: testserver.AppCredSecret}},
	}
	for _, ac := range appCreds {
		t.Run("application credential "+ac.name, func(t *testing.T) {
			t.Parallel()
			tok := issue(t, &c, authURL, ac.cred, identity.Scope{})
			want := summary{
				User:    identity.User{ID: userID, Name: userName, Domain: gncDomain},
				Project: userProject, Methods: []string{"application_credential"},
				Roles: []string{"member", "reader"}, Regions: allRegions, AuthURL: authURL, Lifetime: time.Hour,
			}
			if diff := cmp.Diff(want, summarize(tok)); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIssueURLForms(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	base := strings.TrimSuffix(srv.AuthURL("JP"), "/v3")
	var c identity.Client
	for _, u := range []string{base, base + "/", base + "/v3", base + "/v3/"} {
		tok, err := c.Issue(t.Context(), u, userPassword, userScope)
		if err != nil {
			t.Errorf("Issue at %q: %v", u, err)
			continue
		}
		if tok.AuthURL != base+"/v3" {
			t.Errorf("Issue at %q: AuthURL = %q, want %q", u, tok.AuthURL, base+"/v3")
		}
	}
}

func TestIssueNoCatalog(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	c := identity.Client{NoCatalog: true}
	tok := issue(t, &c, srv.AuthURL("US"), userPassword, userScope)
	if r := tok.Catalog.Regions(); len(r) != 0 {
		t.Errorf("nocatalog token has regions %v", r)
	}
	if _, err := tok.Catalog.Select(catalog.Query{Type: "compute"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Select on a nocatalog token = %v, want catalog.ErrNotFound", err)
	}
	if tok.Project == nil || tok.Project.ID != userProjectID {
		t.Errorf("Project = %+v, want %s", tok.Project, userProjectID)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	authURL := srv.AdminAuthURL("JP")
	var c identity.Client
	service := issue(t, &c, authURL, novaPassword, serviceScope)
	subject := issue(t, &c, srv.AuthURL("SG"), userPassword, userScope)

	for _, o := range []identity.ValidateOptions{{}, {NoCatalog: true}, {AllowExpired: true}, {NoCatalog: true, AllowExpired: true}} {
		t.Run("GET", func(t *testing.T) {
			t.Parallel()
			got, err := c.Validate(t.Context(), authURL, service.ID, subject.ID, o)
			if err != nil {
				t.Fatalf("Validate(%+v): %v", o, err)
			}
			want := summarize(subject)
			want.AuthURL = authURL
			if o.NoCatalog {
				want.Regions = nil
			}
			if diff := cmp.Diff(want, summarize(got)); diff != "" {
				t.Errorf("Validate(%+v) (-want +got):\n%s", o, diff)
			}
			if got.ID != subject.ID || !got.IssuedAt.Equal(subject.IssuedAt) {
				t.Errorf("Validate(%+v) returned another token", o)
			}
			if d := got.Expiry.Sub(subject.Expiry); d > 2*time.Second || d < -2*time.Second {
				t.Errorf("validated Expiry %v is %v off the issued token's %v", got.Expiry, d, subject.Expiry)
			}
		})
		t.Run("HEAD", func(t *testing.T) {
			t.Parallel()
			if err := c.Check(t.Context(), authURL, service.ID, subject.ID, o); err != nil {
				t.Errorf("Check(%+v): %v", o, err)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	authURL := srv.AuthURL("JP")
	var c identity.Client
	service := issue(t, &c, authURL, novaPassword, serviceScope)
	subject := issue(t, &c, authURL, userPassword, userScope)
	other := issue(t, &c, authURL, identity.Password{UserName: "gncu00000002", DomainID: gncID, Password: testserver.UserPassword},
		identity.Scope{ProjectName: "gnct00000002", ProjectDomainID: gncID})

	tests := []struct {
		name             string
		service, subject string
		kind             error
		status           int
	}{
		{"unknown subject", service.ID, "no-such-token", identity.ErrNotFound, 404},
		{"unknown service token", "no-such-token", subject.ID, identity.ErrUnauthorized, 401},
		{"no admin or service role", other.ID, subject.ID, identity.ErrForbidden, 403},
		{"empty service token", "", subject.ID, identity.ErrInvalidCredential, 0},
		{"empty subject", service.ID, "", identity.ErrInvalidCredential, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, gerr := c.Validate(t.Context(), authURL, tt.service, tt.subject, identity.ValidateOptions{})
			herr := c.Check(t.Context(), authURL, tt.service, tt.subject, identity.ValidateOptions{})
			for op, err := range map[string]error{"validate": gerr, "check": herr} {
				var e *identity.Error
				if !errors.Is(err, tt.kind) || !errors.As(err, &e) {
					t.Fatalf("%s error = %v, want %v", op, err, tt.kind)
				}
				if e.Op != op || e.Status != tt.status || e.URL != authURL {
					t.Errorf("%s error = %+v; want Op %s, Status %d, URL %s", op, *e, op, tt.status, authURL)
				}
			}
		})
	}
	t.Run("a user validates its own token", func(t *testing.T) {
		t.Parallel()
		if _, err := c.Validate(t.Context(), authURL, other.ID, other.ID, identity.ValidateOptions{}); err != nil {
			t.Errorf("Validate own token: %v", err)
		}
	})
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	authURL := srv.AuthURL("US")
	var c identity.Client
	service := issue(t, &c, authURL, novaPassword, serviceScope)
	subject := issue(t, &c, authURL, userPassword, userScope)
	ctx := t.Context()

	if err := c.Revoke(ctx, authURL, service.ID, subject.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	// The revocation is seen at every location.
	_, err := c.Validate(ctx, srv.AuthURL("SG"), service.ID, subject.ID, identity.ValidateOptions{AllowExpired: true})
	if !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Validate after Revoke = %v, want ErrNotFound", err)
	}
	if err := c.Check(ctx, authURL, service.ID, subject.ID, identity.ValidateOptions{}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Check after Revoke = %v, want ErrNotFound", err)
	}
	var e *identity.Error
	if err := c.Revoke(ctx, authURL, service.ID, subject.ID); !errors.As(err, &e) || e.Kind != identity.ErrNotFound || e.Status != 404 {
		t.Errorf("second Revoke = %v, want ErrNotFound with status 404", err)
	}
	// The revoked token no longer authenticates.
	if _, err := c.Issue(ctx, authURL, identity.TokenCredential{ID: subject.ID}, identity.Scope{}); !errors.Is(err, identity.ErrUnauthorized) {
		t.Errorf("Issue with a revoked token = %v, want ErrUnauthorized", err)
	}
	// A token revokes itself.
	if err := c.Revoke(ctx, authURL, service.ID, service.ID); err != nil {
		t.Errorf("self Revoke: %v", err)
	}
}

func TestIssueRejected(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	authURL := srv.AuthURL("JP")
	const wrong = "wrong-password-value"
	tests := []struct {
		name    string
		cred    identity.Credential
		scope   identity.Scope
		status  int
		kind    error
		message string
	}{
		{"wrong password", identity.Password{UserID: userID, Password: wrong}, identity.Scope{}, 401, identity.ErrUnauthorized, "requires authentication"},
		{"unknown user", identity.Password{UserName: "nobody", DomainName: "gnc", Password: wrong}, identity.Scope{}, 401, identity.ErrUnauthorized, "requires authentication"},
		{"wrong secret", identity.ApplicationCredential{ID: appCredID, Secret: wrong}, identity.Scope{}, 401, identity.ErrUnauthorized, "requires authentication"},
		{"unknown token", identity.TokenCredential{ID: wrong}, identity.Scope{}, 404, identity.ErrUnauthorized, "Failed to validate token"},
		{"project without role", userPassword, identity.Scope{ProjectID: adminProjectID}, 401, identity.ErrUnauthorized, "has no access to project"},
		{"system without role", userPassword, identity.Scope{System: true}, 401, identity.ErrUnauthorized, "has no access to the system"},
	}
	var c identity.Client
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Issue(t.Context(), authURL, tt.cred, tt.scope)
			var e *identity.Error
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) {
				t.Fatalf("Issue error = %v, want %v", err, tt.kind)
			}
			if e.Status != tt.status || !strings.Contains(e.Message, tt.message) {
				t.Errorf("Issue error = %+v, want status %d and a message with %q", *e, tt.status, tt.message)
			}
			if strings.Contains(err.Error(), wrong) {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	type want struct {
		kind   error
		status int
		cause  error  // matched with errors.Is when set
		text   string // substring of the message when set
	}
	tests := []struct {
		name   string
		target func(loc string) testserver.Target
		fault  testserver.Fault
		client identity.Client
		ctx    func(context.Context) (context.Context, context.CancelFunc)
		issue  want
		get    want
		head   want // zero: Check succeeds
	}{
		{
			name: "location down", target: testserver.AtLocation, fault: testserver.Fault{Down: true},
			issue: want{kind: identity.ErrUnavailable}, get: want{kind: identity.ErrUnavailable}, head: want{kind: identity.ErrUnavailable},
		},
		{
			name: "keystone closes connections", target: testserver.Keystone, fault: testserver.Fault{Down: true},
			issue: want{kind: identity.ErrUnavailable}, get: want{kind: identity.ErrUnavailable}, head: want{kind: identity.ErrUnavailable},
		},
		{
			name: "503", target: testserver.Keystone, fault: testserver.Fault{Status: 503},
			issue: want{kind: identity.ErrUnavailable, status: 503, text: "Injected fault"},
			get:   want{kind: identity.ErrUnavailable, status: 503, text: "Injected fault"},
			head:  want{kind: identity.ErrUnavailable, status: 503},
		},
		{
			name: "500", target: testserver.AtLocation, fault: testserver.Fault{Status: 500},
			issue: want{kind: identity.ErrUnavailable, status: 500}, get: want{kind: identity.ErrUnavailable, status: 500},
			head: want{kind: identity.ErrUnavailable, status: 500},
		},
		{
			name: "hang until deadline", target: testserver.Keystone, fault: testserver.Fault{Hang: true},
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 50*time.Millisecond)
			},
			issue: want{kind: identity.ErrUnavailable, cause: context.DeadlineExceeded},
			get:   want{kind: identity.ErrUnavailable, cause: context.DeadlineExceeded},
			head:  want{kind: identity.ErrUnavailable, cause: context.DeadlineExceeded},
		},
		{
			name: "hang, caller cancels", target: testserver.Keystone, fault: testserver.Fault{Hang: true},
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			},
			issue: want{kind: identity.ErrUnavailable, cause: context.Canceled},
			get:   want{kind: identity.ErrUnavailable, cause: context.Canceled},
			head:  want{kind: identity.ErrUnavailable, cause: context.Canceled},
		},
		{
			name: "latency over the client timeout", target: testserver.Keystone, fault: testserver.Fault{Latency: time.Minute},
			client: identity.Client{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}},
			issue:  want{kind: identity.ErrUnavailable}, get: want{kind: identity.ErrUnavailable}, head: want{kind: identity.ErrUnavailable},
		},
		{
			name: "malformed JSON", target: testserver.Keystone, fault: testserver.Fault{MalformedJSON: true},
			issue: want{kind: identity.ErrBadResponse}, get: want{kind: identity.ErrBadResponse},
		},
		{
			name: "oversized body, default cap", target: testserver.Keystone, fault: testserver.Fault{OversizedBody: 4 << 20},
			issue: want{kind: identity.ErrBadResponse, text: "body over 4194304 bytes"},
			get:   want{kind: identity.ErrBadResponse, text: "body over 4194304 bytes"},
		},
		{
			name: "oversized body, small cap", target: testserver.Keystone, fault: testserver.Fault{OversizedBody: 10},
			client: identity.Client{MaxBodyBytes: 512},
			issue:  want{kind: identity.ErrBadResponse, text: "body over 512 bytes"},
			get:    want{kind: identity.ErrBadResponse, text: "body over 512 bytes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, testserver.Options{})
			authURL := srv.AuthURL("SG")
			var setup identity.Client
			service := issue(t, &setup, authURL, novaPassword, serviceScope)
			subject := issue(t, &setup, authURL, userPassword, userScope)
			srv.SetFault(tt.target("SG"), tt.fault)
			ctx, cancel := t.Context(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx(ctx)
			}
			defer cancel()
			c := tt.client

			_, ierr := c.Issue(ctx, authURL, userPassword, userScope)
			_, gerr := c.Validate(ctx, authURL, service.ID, subject.ID, identity.ValidateOptions{})
			herr := c.Check(ctx, authURL, service.ID, subject.ID, identity.ValidateOptions{})
			for _, r := range []struct {
				op   string
				err  error
				want want
			}{{"issue", ierr, tt.issue}, {"validate", gerr, tt.get}, {"check", herr, tt.head}} {
				if r.want.kind == nil {
					if r.err != nil {
						t.Errorf("%s: %v, want success", r.op, r.err)
					}
					continue
				}
				var e *identity.Error
				if !errors.As(r.err, &e) || !errors.Is(r.err, r.want.kind) {
					t.Errorf("%s error = %v, want %v", r.op, r.err, r.want.kind)
					continue
				}
				if e.Op != r.op || e.Status != r.want.status {
					t.Errorf("%s error = %q, want Op %s and status %d", r.op, e, r.op, r.want.status)
				}
				if r.want.cause != nil && !errors.Is(r.err, r.want.cause) {
					t.Errorf("%s error = %v, want it to match %v", r.op, r.err, r.want.cause)
				}
				if !strings.Contains(r.err.Error(), r.want.text) {
					t.Errorf("%s error = %q, want it to say %q", r.op, r.err, r.want.text)
				}
				for _, s := range []string{service.ID, subject.ID, userPassword.Password} {
					if strings.Contains(r.err.Error(), s) {
						t.Errorf("%s error %q holds a secret", r.op, r.err)
					}
				}
			}

			// Clearing the fault heals the location.
			srv.ClearFaults()
			if _, err := setup.Validate(t.Context(), authURL, service.ID, subject.ID, identity.ValidateOptions{}); err != nil {
				t.Errorf("after ClearFaults: %v", err)
			}
		})
	}
}

func TestNoCatalogFault(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	srv.SetFault(testserver.Keystone("JP"), testserver.Fault{NoCatalog: true})
	var c identity.Client
	tok := issue(t, &c, srv.AuthURL("JP"), userPassword, userScope)
	if _, err := tok.Catalog.Select(catalog.Query{Type: "compute", Region: "TYO1"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Select on a token without catalog = %v, want catalog.ErrNotFound", err)
	}
	// The same token has a catalog where Keystone sends one.
	tok2 := issue(t, &c, srv.AuthURL("US"), userPassword, userScope)
	if _, err := tok2.Catalog.Select(catalog.Query{Type: "compute", Region: "TYO1"}); err != nil {
		t.Errorf("Select: %v", err)
	}
}

func TestClockSkew(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, skew := range []time.Duration{-3 * time.Hour, -time.Minute, 0, time.Minute, 3 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			clk := clock.NewManual(t0)
			srv := newServer(t, testserver.Options{Clock: clk, TokenLifetime: time.Hour})
			srv.SetFault(testserver.Keystone("SG"), testserver.Fault{ClockSkew: skew})
			c := identity.Client{Clock: clk}
			tok := issue(t, &c, srv.AuthURL("SG"), userPassword, userScope)
			if want := t0.Add(skew); !tok.IssuedAt.Equal(want) {
				t.Errorf("IssuedAt = %v, want Keystone's skewed %v", tok.IssuedAt, want)
			}
			if want := t0.Add(time.Hour); !tok.Expiry.Equal(want) {
				t.Errorf("Expiry = %v, want %v whatever the skew", tok.Expiry, want)
			}
			if !tok.ValidAt(t0.Add(59*time.Minute)) || tok.ValidAt(t0.Add(time.Hour)) {
				t.Errorf("ValidAt wrong around Expiry %v", tok.Expiry)
			}
		})
	}
}

func TestAllowExpired(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	srv := newServer(t, testserver.Options{Clock: clk, TokenLifetime: time.Hour})
	authURL := srv.AuthURL("JP")
	c := identity.Client{Clock: clk}
	subject := issue(t, &c, authURL, userPassword, userScope)
	clk.Advance(2 * time.Hour)
	service := issue(t, &c, authURL, novaPassword, serviceScope)

	if _, err := c.Validate(t.Context(), authURL, service.ID, subject.ID, identity.ValidateOptions{}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Validate expired = %v, want ErrNotFound", err)
	}
	if err := c.Check(t.Context(), authURL, service.ID, subject.ID, identity.ValidateOptions{}); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Check expired = %v, want ErrNotFound", err)
	}
	tok, err := c.Validate(t.Context(), authURL, service.ID, subject.ID, identity.ValidateOptions{AllowExpired: true})
	if err != nil {
		t.Fatalf("Validate AllowExpired: %v", err)
	}
	if tok.ValidAt(clk.Now()) || !tok.Expiry.Equal(t0.Add(time.Hour)) {
		t.Errorf("expired token Expiry = %v, want %v", tok.Expiry, t0.Add(time.Hour))
	}
	if err := c.Check(t.Context(), authURL, service.ID, subject.ID, identity.ValidateOptions{AllowExpired: true}); err != nil {
		t.Errorf("Check AllowExpired: %v", err)
	}
}
