package testserver_test

import (
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/regions"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/testserver"
)

func TestScopesAndMethods(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	w := testserver.DefaultWorld()
	parent, _ := issue(t, srv.AuthURL("JP"), userOpts("zjpu00000003"))
	type summary struct {
		User, Project, Domain string
		Roles                 []string
		Catalog               bool
	}
	tests := []struct {
		name string
		opts tokens.AuthOptions
		want summary
	}{
		{"password by user id, project by id",
			tokens.AuthOptions{UserID: w.User("gncu00000002").ID, Password: testserver.UserPassword,
				Scope: tokens.Scope{ProjectID: w.Project("gnct00000002").ID}},
			summary{"gncu00000002", "gnct00000002", "", []string{"member", "reader"}, true}},
		{"password by name and domain id, project by name and domain id",
			tokens.AuthOptions{Username: "nova", DomainID: "default", Password: testserver.ServicePassword,
				Scope: tokens.Scope{ProjectName: "service", DomainID: "default"}},
			summary{"nova", "service", "", []string{"admin", "member", "reader", "service"}, true}},
		{"domain scope by name",
			tokens.AuthOptions{Username: "admin", DomainName: "Default", Password: testserver.AdminPassword,
				Scope: tokens.Scope{DomainName: "Default"}},
			summary{"admin", "", "Default", []string{"admin", "member", "reader"}, true}},
		{"system scope",
			tokens.AuthOptions{Username: "admin", DomainName: "Default", Password: testserver.AdminPassword,
				Scope: tokens.Scope{System: true}},
			summary{"admin", "", "", []string{"admin", "member", "reader"}, true}},
		{"unscoped",
			tokens.AuthOptions{Username: "zsgu00000003", DomainName: "zsg", Password: testserver.UserPassword},
			summary{"zsgu00000003", "", "", nil, false}},
		{"application credential by id",
			tokens.AuthOptions{ApplicationCredentialID: w.AppCreds[0].ID, ApplicationCredentialSecret: testserver.AppCredSecret},
			summary{"gncu00000001", "gnct00000001", "", []string{"member", "reader"}, true}},
		{"application credential by name and user",
			tokens.AuthOptions{ApplicationCredentialName: testserver.AppCredName, ApplicationCredentialSecret: testserver.AppCredSecret,
				Username: testserver.AppCredUser, DomainName: "gnc"},
			summary{"gncu00000001", "gnct00000001", "", []string{"member", "reader"}, true}},
		{"token rescoped",
			tokens.AuthOptions{TokenID: parent.ID, Scope: tokens.Scope{ProjectName: "zjpt00000003", DomainName: "zjp"}},
			summary{"zjpu00000003", "zjpt00000003", "", []string{"member", "reader"}, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, res := issue(t, srv.AuthURL("US"), tc.opts)
			var got summary
			u, _ := res.ExtractUser()
			got.User = u.Name
			if p, _ := res.ExtractProject(); p != nil {
				got.Project = p.Name
			}
			if d, _ := res.ExtractDomain(); d != nil {
				got.Domain = d.Name
			}
			roles, _ := res.ExtractRoles()
			for _, r := range roles {
				got.Roles = append(got.Roles, r.Name)
			}
			sort.Strings(got.Roles)
			cat, _ := res.ExtractServiceCatalog()
			got.Catalog = len(cat.Entries) > 0
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	tests := []struct {
		name   string
		opts   tokens.AuthOptions
		status int
	}{
		{"wrong password", tokens.AuthOptions{Username: "gncu00000001", DomainName: "gnc", Password: "x"}, http.StatusUnauthorized},
		{"user in wrong domain", tokens.AuthOptions{Username: "gncu00000001", DomainName: "zjp", Password: testserver.UserPassword}, http.StatusUnauthorized},
		{"no role on project", tokens.AuthOptions{Username: "gncu00000001", DomainName: "gnc", Password: testserver.UserPassword,
			Scope: tokens.Scope{ProjectName: "gnct00000002", DomainName: "gnc"}}, http.StatusUnauthorized},
		{"wrong app credential secret", tokens.AuthOptions{ApplicationCredentialID: testserver.DefaultWorld().AppCreds[0].ID, ApplicationCredentialSecret: "x"}, http.StatusUnauthorized},
		// As Keystone, an unknown parent token is not found.
		{"unknown token", tokens.AuthOptions{TokenID: "gAAAAABnope"}, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tokens.Create(t.Context(), identityClient(t, srv.AuthURL("JP"), ""), &tc.opts)
			if !gophercloud.ResponseCodeIs(res.Err, tc.status) {
				t.Errorf("err = %v, want %d", res.Err, tc.status)
			}
		})
	}
	if n := srv.TokensIssued("", ""); n != 0 {
		t.Errorf("TokensIssued = %d, want 0", n)
	}
}

func TestValidationPolicyAndRevocation(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	subject, _ := issue(t, srv.AuthURL("JP"), userOpts("gncu00000003"))
	member, _ := issue(t, srv.AuthURL("JP"), userOpts("gncu00000002"))
	service, _ := issue(t, srv.AuthURL("SG"), serviceOpts("cinder"))
	tests := []struct {
		name, caller, loc string
		want              int
	}{
		{"no caller", "", "US", http.StatusUnauthorized},
		{"invalid caller", "gAAAAABbogus", "US", http.StatusUnauthorized},
		{"member validating another user", member.ID, "US", http.StatusForbidden},
		{"subject validating itself", subject.ID, "US", http.StatusOK},
		{"service user", service.ID, "US", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tokens.Get(t.Context(), identityClient(t, srv.AdminAuthURL(tc.loc), tc.caller), subject.ID)
			if tc.want == http.StatusOK {
				if res.Err != nil {
					t.Errorf("err = %v, want 200", res.Err)
				}
				return
			}
			if !gophercloud.ResponseCodeIs(res.Err, tc.want) {
				t.Errorf("err = %v, want %d", res.Err, tc.want)
			}
		})
	}
	t.Run("revocation is seen everywhere", func(t *testing.T) {
		t.Parallel()
		victim, _ := issue(t, srv.AuthURL("US"), userOpts("zjpu00000001"))
		if err := tokens.Revoke(t.Context(), identityClient(t, srv.AuthURL("JP"), service.ID), victim.ID).Err; err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		for _, loc := range srv.Locations() {
			ok, err := tokens.Validate(t.Context(), identityClient(t, srv.AuthURL(loc), service.ID), victim.ID)
			if err != nil || ok {
				t.Errorf("%s: Validate = %v, %v; want false (404)", loc, ok, err)
			}
		}
	})
}

func TestExpiryOnManualClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := testserver.New(t, testserver.Options{Clock: clk, TokenLifetime: time.Minute})
	tok, _ := issue(t, srv.AuthURL("JP"), userOpts("gncu00000001"))
	if want := clk.Now().Add(time.Minute); !tok.ExpiresAt.Equal(want) {
		t.Errorf("expires_at = %v, want %v", tok.ExpiresAt, want)
	}
	get := func(query string) int {
		svc, _ := issue(t, srv.AuthURL("JP"), serviceOpts("glance"))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.AuthURL("JP")+"/auth/tokens"+query, nil)
		req.Header.Set("X-Auth-Token", svc.ID)
		req.Header.Set("X-Subject-Token", tok.ID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	clk.Advance(59 * time.Second)
	if got := get(""); got != http.StatusOK {
		t.Errorf("before expiry: %d, want 200", got)
	}
	clk.Advance(time.Second)
	if got := get(""); got != http.StatusNotFound {
		t.Errorf("at expiry: %d, want 404", got)
	}
	if got := get("?allow_expired=1"); got != http.StatusOK {
		t.Errorf("allow_expired: %d, want 200", got)
	}
}

func TestReplicationLag(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := testserver.New(t, testserver.Options{Clock: clk, ReplicationLag: 30 * time.Second})
	w := testserver.DefaultWorld()
	admin, _ := issue(t, srv.AuthURL("JP"), tokens.AuthOptions{Username: "admin", DomainName: "Default",
		Password: testserver.AdminPassword, Scope: tokens.Scope{ProjectName: "admin", DomainName: "Default"}})

	// A replica refuses writes with 403; the primary accepts them.
	_, err := projects.Create(t.Context(), identityClient(t, srv.AuthURL("SG"), admin.ID),
		projects.CreateOpts{Name: "zsgt00000099", DomainID: w.Domain("zsg").ID}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("create at replica: %v, want 403", err)
	}
	jp := identityClient(t, srv.AuthURL("JP"), admin.ID)
	p, err := projects.Create(t.Context(), jp, projects.CreateOpts{Name: "zsgt00000099", DomainID: w.Domain("zsg").ID}).Extract()
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	u, err := users.Create(t.Context(), jp, users.CreateOpts{Name: "zsgu00000099", DomainID: w.Domain("zsg").ID, Password: "pw"}).Extract()
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	if err := srv.AssignRole(testserver.RoleAssignment{UserID: u.ID, Role: testserver.RoleMember, ProjectID: p.ID}); err != nil {
		t.Fatal(err)
	}
	opts := tokens.AuthOptions{Username: "zsgu00000099", DomainName: "zsg", Password: "pw",
		Scope: tokens.Scope{ProjectName: "zsgt00000099", DomainName: "zsg"}}
	res := tokens.Create(t.Context(), identityClient(t, srv.AuthURL("SG"), ""), &opts)
	if !gophercloud.ResponseCodeIs(res.Err, http.StatusUnauthorized) {
		t.Errorf("auth at replica before lag: %v, want 401", res.Err)
	}
	tok, _ := issue(t, srv.AuthURL("JP"), opts)
	if ok, err := tokens.Validate(t.Context(), identityClient(t, srv.AuthURL("SG"), admin.ID), tok.ID); ok || err != nil {
		t.Errorf("validate at replica before lag: %v, %v; want 404", ok, err)
	}
	clk.Advance(30 * time.Second)
	issue(t, srv.AuthURL("SG"), opts)
	if ok, err := tokens.Validate(t.Context(), identityClient(t, srv.AuthURL("SG"), admin.ID), tok.ID); !ok || err != nil {
		t.Errorf("validate at replica after lag: %v, %v; want valid", ok, err)
	}
}

func TestRegionsAndCatalog(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	tok, res := issue(t, srv.AuthURL("SG"), userOpts("zsgu00000001"))
	pages, err := regions.List(identityClient(t, srv.AuthURL("SG"), tok.ID), nil).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := regions.ExtractRegions(pages)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rs {
		got[r.ID] = r.ParentRegionID
	}
	want := map[string]string{"JP": "", "US": "", "SG": "", "TYO1": "JP", "OSA1": "JP", "SJC1": "US", "SIN1": "SG"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	cat, _ := res.ExtractServiceCatalog()
	count := map[string]int{}
	for _, e := range cat.Entries {
		count[e.Type] = len(e.Endpoints)
	}
	// identity: public, internal and admin in each parent region (a
	// location); the services: the same in each of its four regions.
	wantCount := map[string]int{"identity": 9, "compute": 12, "image": 12, "volumev3": 12, "network": 12}
	if diff := cmp.Diff(wantCount, count); diff != "" {
		t.Errorf("endpoints per service (-want +got):\n%s", diff)
	}
}

func TestCounters(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	for range 3 {
		issue(t, srv.AuthURL("JP"), userOpts("gncu00000001"))
	}
	issue(t, srv.AuthURL("US"), userOpts("gncu00000001"))
	svc, _ := issue(t, srv.AuthURL("US"), serviceOpts("neutron"))
	tokens.Validate(t.Context(), identityClient(t, srv.AuthURL("US"), svc.ID), svc.ID)
	got := map[string]int64{
		"user@JP":   srv.TokensIssued("gncu00000001", "JP"),
		"user@*":    srv.TokensIssued(testserver.DefaultWorld().User("gncu00000001").ID, ""),
		"*@US":      srv.TokensIssued("", "US"),
		"total":     srv.TokensIssued("", ""),
		"valid@US":  srv.Validations("US"),
		"keystoneJ": srv.Requests(testserver.Keystone("JP")),
	}
	want := map[string]int64{"user@JP": 3, "user@*": 4, "*@US": 2, "total": 5, "valid@US": 1, "keystoneJ": 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
	srv.ResetCounters()
	if n := srv.TokensIssued("", ""); n != 0 {
		t.Errorf("after reset: %d", n)
	}
}
