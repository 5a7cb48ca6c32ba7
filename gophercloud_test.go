package geostack_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// TestGophercloudConstructors: gophercloud's own constructors work on the
// client's provider, with the client's endpoint choice, and make the same
// ServiceClient that Client.ServiceClient returns.
func TestGophercloudConstructors(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	c := newClient(t, cfg)
	type ctor = func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)
	tests := []struct {
		name, service, region string
		ctor                  ctor
		call                  func(*gophercloud.ServiceClient) error
	}{
		{"NewComputeV2", "compute", "SIN1", openstack.NewComputeV2, func(sc *gophercloud.ServiceClient) error {
			_, err := flavors.ListDetail(sc, nil).AllPages(t.Context())
			return err
		}},
		{"NewImageV2", "image", "TYO1", openstack.NewImageV2, func(sc *gophercloud.ServiceClient) error {
			_, err := images.List(sc, nil).AllPages(t.Context())
			return err
		}},
		{"NewNetworkV2", "network", "OSA1", openstack.NewNetworkV2, func(sc *gophercloud.ServiceClient) error {
			_, err := networks.List(sc, nil).AllPages(t.Context())
			return err
		}},
		{"NewBlockStorageV3", "volumev3", "SJC1", openstack.NewBlockStorageV3, func(sc *gophercloud.ServiceClient) error {
			_, err := volumetypes.List(sc, nil).AllPages(t.Context())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc, err := tt.ctor(c.Provider(), gophercloud.EndpointOpts{Region: tt.region})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.call(sc); err != nil {
				t.Fatal(err)
			}
			ours, err := c.ServiceClient(t.Context(), tt.service, tt.region)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Endpoint != ours.Endpoint || sc.ResourceBase != ours.ResourceBase || sc.Type != ours.Type {
				t.Errorf("gophercloud made %q %q %q, Client.ServiceClient %q %q %q",
					sc.Endpoint, sc.ResourceBase, sc.Type, ours.Endpoint, ours.ResourceBase, ours.Type)
			}
		})
	}
	t.Run("unknown region", func(t *testing.T) {
		t.Parallel()
		if _, err := openstack.NewComputeV2(c.Provider(), gophercloud.EndpointOpts{Region: "FRA1"}); err == nil {
			t.Error("a region the catalog lacks was accepted")
		}
	})
	t.Cleanup(func() { // after the parallel subtests
		if n := srv.TokensIssued("", ""); n != 1 {
			t.Errorf("%d tokens issued; want 1 for every constructor and call", n)
		}
	})
}

// TestRegionsAnswerTheUsersQuestion: the regions a user can use, not the
// identity-only parent regions of the region tree.
func TestRegionsAnswerTheUsersQuestion(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t, testserver.Options{}, "gnc", 1)
	c := newClient(t, cfg)
	tests := []struct {
		types []string
		want  []string
	}{
		{nil, []string{"OSA1", "SIN1", "SJC1", "TYO1"}},
		{[]string{"compute"}, []string{"OSA1", "SIN1", "SJC1", "TYO1"}},
		{[]string{"identity"}, []string{"JP", "SG", "US"}},
		{[]string{"volumev3"}, []string{"OSA1", "SIN1", "SJC1", "TYO1"}},
		{[]string{"dns"}, nil},
	}
	for _, tt := range tests {
		got, err := c.Regions(t.Context(), tt.types...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Regions(%v) (-want +got):\n%s", tt.types, diff)
		}
	}
}

// TestTokenPerLocation: where locations do not share Fernet keys, a token
// is good only where it was issued. One token for every region fails
// everywhere but at home; with TokenPerLocation each location's regions get
// a token issued there, and only there.
func TestTokenPerLocation(t *testing.T) {
	t.Parallel()
	for _, perLocation := range []bool{false, true} {
		srv, cfg := setup(t, testserver.Options{SeparateKeys: true}, "gnc", 1)
		cfg.TokenPerLocation = perLocation
		c := newClient(t, cfg)
		got := map[string]bool{}
		for _, r := range []string{"TYO1", "OSA1", "SJC1", "SIN1"} {
			sc, err := c.ServiceClient(t.Context(), "compute", r)
			if err != nil {
				t.Fatal(err)
			}
			_, err = flavors.ListDetail(sc, nil).AllPages(t.Context())
			got[r] = err == nil
		}
		want := map[string]bool{"TYO1": true, "OSA1": true, "SJC1": true, "SIN1": true}
		if !perLocation {
			want = map[string]bool{"TYO1": false, "OSA1": false, "SJC1": false, "SIN1": true} // home SG only
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TokenPerLocation=%v: calls that worked (-want +got):\n%s", perLocation, diff)
		}
		if perLocation {
			issued := map[string]int64{}
			for _, l := range srv.Locations() {
				issued[l] = srv.TokensIssued("", l)
			}
			if diff := cmp.Diff(map[string]int64{"JP": 1, "US": 1, "SG": 1}, issued); diff != "" {
				t.Errorf("tokens issued per location (-want +got):\n%s", diff)
			}
		}
	}
}

// TestPrimaryIdentity: identity writes go to the primary, whatever the
// client's home; a plain ServiceClient for identity at home would land at a
// replica that refuses them.
func TestPrimaryIdentity(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	world := testserver.DefaultWorld()
	cfg.Domain, cfg.Domains = "", nil
	cfg.Credential = identity.Password{UserName: testserver.AdminUser, DomainID: testserver.DefaultDomainID, Password: testserver.AdminPassword}
	cfg.Scope = identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainID: testserver.DefaultDomainID}
	c := newClient(t, cfg)
	id, err := c.PrimaryIdentity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Create(t.Context(), id, users.CreateOpts{Name: "gncu99990001", DomainID: world.Domain("gnc").ID, Password: "pw"}).Extract()
	if err != nil {
		t.Fatalf("create a user at the primary: %v", err)
	}
	if u.Name != "gncu99990001" {
		t.Errorf("created %+v", u)
	}
	if n := srv.Requests(testserver.Keystone("JP")); n == 0 {
		t.Error("the write did not reach the primary JP")
	}
	home, err := c.ServiceClient(t.Context(), "identity", "SG")
	if err != nil {
		t.Fatal(err)
	}
	_, err = users.Create(t.Context(), home, users.CreateOpts{Name: "gncu99990002", DomainID: world.Domain("gnc").ID, Password: "pw"}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("a write at the SG replica: %v, want its 403", err)
	}
}

// TestRefresh: a public way to replace the client's token, no revoke
// needed; ServiceClients carry the new token from then on.
func TestRefresh(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	c := newClient(t, cfg)
	first, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Refresh(t.Context())
	if err != nil || second.ID == first.ID {
		t.Fatalf("Refresh = %v, %v; want a new token", second, err)
	}
	if now, _ := c.Token(t.Context()); now != second {
		t.Error("Token after Refresh is not the new token")
	}
	if n := srv.TokensIssued("", ""); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
	c.Close()
	if _, err := c.Refresh(t.Context()); !errors.Is(err, geostack.ErrClosed) {
		t.Errorf("Refresh after Close: %v, want ErrClosed", err)
	}
}

// TestDomainAuthURLsPerLocation: a domain may give several user auth URLs
// at a location; the client fails over between them before it leaves the
// location (once, one URL replaced the location's whole list).
func TestDomainAuthURLsPerLocation(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	var doms []domain.Domain
	for _, d := range cfg.Domains.Domains() {
		sg := d.Endpoints["SG"]
		sg.UserAuthURLs = []string{sg.UserAuthURL}
		sg.UserAuthURL = "http://127.0.0.1:1/d/gnc/identity/v3" // nothing listens
		d.Endpoints["SG"] = sg
		doms = append(doms, d)
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Domains = reg
	c := newClient(t, cfg)
	tok, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.TokensIssued("", "SG"); got != 1 || !strings.Contains(tok.AuthURL, srv.URL("SG")) {
		t.Errorf("token from %s (%d issued at SG); want SG's second auth URL", tok.AuthURL, got)
	}
}
