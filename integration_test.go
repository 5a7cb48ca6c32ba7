//go:build integration

package geostack_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/region"
)

// TestIntegrationClient points geostack.New at the three real auth_urls, with
// and without a domain registry, from each home location, with a password
// and an application credential: the client gets a token for its scope from
// its home Keystone, lists the catalog's regions and builds ServiceClients in
// every region.
func TestIntegrationClient(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	gnc := env.MustUser(t, "gncu00000001")

	var locs []region.Location
	for _, loc := range []string{"JP", "US", "SG"} {
		locs = append(locs, region.Location{Name: loc, AuthURLs: []string{env.AuthURL(loc)}, Regions: env.Regions[loc]})
	}
	var doms []domain.Domain
	for _, d := range env.Domains {
		eps := map[string]domain.Endpoints{}
		for loc, u := range env.AuthURLs {
			eps[loc] = domain.Endpoints{UserAuthURL: u, AdminAuthURL: u}
		}
		doms = append(doms, domain.Domain{Name: d.Name, ID: d.ID, Prefix: d.Prefix, Endpoints: eps})
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatal(err)
	}
	password := identity.Password{UserName: gnc.Name, DomainName: gnc.DomainName, Password: gnc.Password}
	appCred := identity.ApplicationCredential{ID: env.AppCredential.ID, Secret: env.AppCredential.Secret}

	tests := []struct {
		name    string
		home    string
		domains bool
		cred    identity.Credential
		scope   identity.Scope
	}{
		{"password at JP", "JP", false, password, identity.Scope{ProjectName: gnc.ProjectName, ProjectDomainName: gnc.DomainName}},
		{"password at US with domains", "US", true, password, identity.Scope{ProjectID: gnc.ProjectID}},
		{"application credential at SG with domains", "SG", true, appCred, identity.Scope{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cfg := geostack.Config{
				Locations:  locs,
				Home:       tt.home,
				Primary:    env.Primary,
				Credential: tt.cred,
				Scope:      tt.scope,
				Interfaces: map[string][]catalog.Interface{"compute": {catalog.Internal, catalog.Public}},
			}
			if tt.domains {
				cfg.Domains, cfg.Domain = reg, "gnc"
			}
			c, err := geostack.New(ctx, cfg)
			if err != nil {
				t.Fatalf("geostack.New: %v", err)
			}
			t.Cleanup(func() { c.Close() })

			tok, err := c.Token(ctx)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.User.Name != gnc.Name || tok.Project == nil || tok.Project.ID != gnc.ProjectID {
				t.Errorf("Token = %v, want %s on %s", tok, gnc.Name, gnc.ProjectName)
			}
			if !strings.HasPrefix(tok.AuthURL, strings.TrimSuffix(env.AuthURL(tt.home), "/v3")) {
				t.Errorf("token issued at %s, want home %s", tok.AuthURL, env.AuthURL(tt.home))
			}
			regions, err := c.Regions(ctx)
			if err != nil {
				t.Fatalf("Regions: %v", err)
			}
			// The location regions hold only the identity endpoints: the
			// regions a user can use are the others.
			if diff := cmp.Diff([]string{"OSA1", "SIN1", "SJC1", "TYO1"}, regions); diff != "" {
				t.Errorf("Regions (-want +got):\n%s", diff)
			}
			if ids, _ := c.Regions(ctx, "identity"); !cmp.Equal([]string{"JP", "SG", "US"}, ids) {
				t.Errorf("Regions(identity) = %v, want the parent regions JP SG US", ids)
			}
			for _, rg := range []string{"TYO1", "OSA1", "SJC1", "SIN1"} {
				for svc, iface := range map[string]string{"compute": "internal", "image": "public", "volumev3": "public", "network": "public"} {
					sc, err := c.ServiceClient(ctx, svc, rg)
					if err != nil {
						t.Errorf("ServiceClient(%s, %s): %v", svc, rg, err)
						continue
					}
					if !strings.Contains(sc.Endpoint, "/"+rg+"/"+iface+"/") {
						t.Errorf("ServiceClient(%s, %s).Endpoint = %q, want the %s endpoint of %s", svc, rg, sc.Endpoint, iface, rg)
					}
				}
				if loc, err := c.Resolver().LocationOf(rg); err != nil || env.AuthURL(loc) == "" {
					t.Errorf("LocationOf(%s) = %q, %v", rg, loc, err)
				}
			}
			st := c.Stats()
			if st.Cache.Issued != 1 || st.Region.Failovers != 0 {
				t.Errorf("stats %+v: want one token, no failover", st)
			}
		})
	}
}
