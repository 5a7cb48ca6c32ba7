package proxy_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/internal/testserver"
)

// domainProxies starts dom's image, compute and volume proxies and its
// identity proxy at SG, whose catalog points TYO1's public endpoints (and
// every location's identity endpoint) at them. It returns the identity
// proxy's auth_url and the roots of the others by service.
func domainProxies(t testing.TB, e *env, dom string) (authURL string, roots map[string]string) {
	t.Helper()
	roots = map[string]string{}
	var rewrites []proxy.Rewrite
	for _, svc := range []string{proxy.Image, proxy.Compute, proxy.BlockStorage} {
		roots[svc] = e.start(t, dom, proxy.Config{Service: svc})
		rewrites = append(rewrites, proxy.Rewrite{From: e.upstream(svc), To: roots[svc]})
	}
	identity := e.startLate(t, dom, func(root string) proxy.Config {
		rw := rewrites
		for _, loc := range e.srv.Locations() {
			rw = append(rw, proxy.Rewrite{From: strings.TrimSuffix(e.srv.AuthURL(loc), "/v3"), To: root})
		}
		return proxy.Config{Service: proxy.Identity, Catalog: rw}
	})
	return identity + "/v3", roots
}

// TestCatalogRewrite authenticates with gophercloud at gnc's identity
// proxy and follows the catalog: every call reaches gnc's proxies, and
// gets gnc's view, with no endpoint set by hand.
func TestCatalogRewrite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	authURL, roots := domainProxies(t, e, "gnc")
	ctx := t.Context()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: authURL, Username: "gncu00000001", DomainName: "gnc", Password: testserver.UserPassword,
		Scope: &gophercloud.AuthScope{ProjectName: "gnct00000001", DomainName: "gnc"},
	})
	if err != nil {
		t.Fatalf("authenticate at the identity proxy: %v", err)
	}
	eo := gophercloud.EndpointOpts{Region: "TYO1"}
	ic, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := openstack.NewComputeV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := openstack.NewBlockStorageV3(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	for svc, c := range map[string]*gophercloud.ServiceClient{proxy.Image: ic, proxy.Compute: cc, proxy.BlockStorage: bc} {
		if !strings.HasPrefix(c.Endpoint, roots[svc]+"/") {
			t.Errorf("%s endpoint from the catalog %s, want one under the proxy %s", svc, c.Endpoint, roots[svc])
		}
	}
	got := map[string][]string{
		"images":       collect(t, images.List(ic, nil), images.ExtractImages, func(i images.Image) string { return i.Name }),
		"flavors":      collect(t, flavors.ListDetail(cc, nil), flavors.ExtractFlavors, func(f flavors.Flavor) string { return f.Name }),
		"volume types": collect(t, volumetypes.List(bc, nil), volumetypes.ExtractVolumeTypes, func(v volumetypes.VolumeType) string { return v.Name }),
	}
	want := map[string][]string{
		"images":       {"centos-stream-9", "debian-12", "gnc_centos", "gnc_ubuntu", "gnct00000001-backup", "ubuntu-24.04"},
		"flavors":      {"gnc_g-1gb", "gnc_g-2gb", "gnc_g-4gb", "m1.large", "m1.medium", "m1.small"},
		"volume types": {"__DEFAULT__", "gnc_hdd", "gnc_ssd"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("views through the catalog (-want +got):\n%s", diff)
	}
	// Other regions' endpoints are left as they are.
	other, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: "SIN1"})
	if err != nil || !strings.HasPrefix(other.Endpoint, e.srv.URL("SG")) {
		t.Errorf("SIN1 image endpoint %v, %v: want the fake cloud's", other, err)
	}

	// Another domain's user gets no token from gnc's identity proxy.
	_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: authURL, Username: "zjpu00000001", DomainName: "zjp", Password: testserver.UserPassword,
		Scope: &gophercloud.AuthScope{ProjectName: "zjpt00000001", DomainName: "zjp"},
	})
	if !gophercloud.ResponseCodeIs(err, http.StatusUnauthorized) {
		t.Errorf("zjp user at gnc's identity proxy: %v, want 401", err)
	}
	if !strings.Contains(e.logs.String(), "token of another domain not handed out") {
		t.Errorf("the refusal was not logged:\n%s", e.logs.String())
	}
}

// TestAccountWrites creates users and projects at gnc's identity proxy
// with gophercloud, as gnc's domain admin: names keep gnc's prefix,
// everything belongs to gnc, and writes reach the primary (the fake's
// replicas refuse writes) although the proxy's home is SG.
func TestAccountWrites(t *testing.T) {
	t.Parallel()
	e := setup(t)
	authURL, _ := domainProxies(t, e, "gnc")
	root := strings.TrimSuffix(authURL, "/v3")
	admin := e.domainAdmin(t, "gncu00000002")
	c := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{}, Endpoint: authURL + "/"}
	c.ProviderClient.SetToken(admin.ID)
	ctx := t.Context()
	gncID, zjpID := e.world.Domain("gnc").ID, e.world.Domain("zjp").ID

	u, err := users.Create(ctx, c, users.CreateOpts{Name: "gncu90000001", Password: "pw-90000001"}).Extract()
	if err != nil {
		t.Fatalf("create a gnc user: %v", err)
	}
	if u.DomainID != gncID {
		t.Errorf("created user's domain %s, want gnc's %s (set by the proxy)", u.DomainID, gncID)
	}
	p, err := projects.Create(ctx, c, projects.CreateOpts{Name: "gnct90000001"}).Extract()
	if err != nil || p.DomainID != gncID {
		t.Fatalf("create a gnc project: %v, %v", p, err)
	}

	refusals := []struct {
		name   string
		create func() error
		status int
		msg    string
	}{
		{"user outside the prefix", func() error {
			return users.Create(ctx, c, users.CreateOpts{Name: "zjpu90000001"}).Err
		}, 400, `user name \"zjpu90000001\" is outside the namespace of domain \"gnc\"`},
		{"user in another domain", func() error {
			return users.Create(ctx, c, users.CreateOpts{Name: "gncu90000002", DomainID: zjpID}).Err
		}, 403, "domain_id must be"},
		{"project outside the prefix", func() error {
			return projects.Create(ctx, c, projects.CreateOpts{Name: "tenant1"}).Err
		}, 400, `project name \"tenant1\" is outside`},
		{"a domain", func() error {
			return projects.Create(ctx, c, projects.CreateOpts{Name: "gncdomain", IsDomain: new(true)}).Err
		}, 403, "Domains are not created"},
	}
	for _, tt := range refusals {
		err := tt.create()
		var ge gophercloud.ErrUnexpectedResponseCode
		if !errors.As(err, &ge) || ge.Actual != tt.status || !strings.Contains(string(ge.Body), tt.msg) {
			t.Errorf("%s: %v, want %d with %q", tt.name, err, tt.status, tt.msg)
		}
	}

	// Items of another domain are absent; the domain's are there.
	zjpUser := e.world.User("zjpu00000001").ID
	items := []struct {
		name, method, path string
		body               string
		want               int
	}{
		{"another domain's user", http.MethodGet, "/v3/users/" + zjpUser, "", 404},
		{"another domain's user, patched", http.MethodPatch, "/v3/users/" + zjpUser, `{"user": {"enabled": false}}`, 404},
		{"another domain's project", http.MethodGet, "/v3/projects/" + e.world.Project("zjpt00000001").ID, "", 404},
		{"a role for another domain's user", http.MethodPut, "/v3/projects/" + p.ID + "/users/" + zjpUser + "/roles/" + testserver.SeedID("role", "member"), "", 404},
		{"the new user", http.MethodGet, "/v3/users/" + u.ID, "", 200},
		{"a role for the new user", http.MethodPut, "/v3/projects/" + p.ID + "/users/" + u.ID + "/roles/" + testserver.SeedID("role", "member"), "", 204},
		{"a rename out of the prefix", http.MethodPatch, "/v3/users/" + u.ID, `{"user": {"name": "bob"}}`, 400},
		{"another domain's domain", http.MethodPatch, "/v3/domains/" + zjpID, `{"domain": {"enabled": false}}`, 404},
	}
	for _, tt := range items {
		var body []byte
		if tt.body != "" {
			body = []byte(tt.body)
		}
		status, _, got := do(t, tt.method, root+tt.path, admin.ID, map[string]string{"Content-Type": "application/json"}, body)
		if status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, status, got, tt.want)
		}
		if tt.want == 404 && !strings.Contains(string(got), "Could not find") {
			t.Errorf("%s: %s, want Keystone's not-found document", tt.name, got)
		}
	}

	// The new user logs in at gnc's identity proxy, on the project it was
	// given.
	_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: authURL, Username: "gncu90000001", DomainName: "gnc", Password: "pw-90000001",
		Scope: &gophercloud.AuthScope{ProjectName: "gnct90000001", DomainName: "gnc"},
	})
	if err != nil {
		t.Errorf("the new user at the identity proxy: %v", err)
	}
}

// TestIdentityFailover checks where the identity proxy sends what: reads
// go on to another location when home cannot be reached, writes go to the
// primary only, and the primary's 5xx is relayed.
func TestIdentityFailover(t *testing.T) {
	t.Parallel()
	e := setup(t)
	authURL, _ := domainProxies(t, e, "gnc")
	root := strings.TrimSuffix(authURL, "/v3")
	admin := e.domainAdmin(t, "gncu00000002")
	e.validator(t, "gnc").Validate(t.Context(), admin.ID) // cached: SG going down costs no validation

	e.srv.SetFault(testserver.AtLocation("SG"), testserver.Fault{Down: true})
	status, _, body := do(t, http.MethodGet, root+"/v3/users/"+e.world.User("gncu00000001").ID, admin.ID, nil, nil)
	if status != http.StatusOK {
		t.Errorf("read with home down: %d %s, want 200 from another location", status, body)
	}
	e.srv.SetFault(testserver.Keystone("JP"), testserver.Fault{Status: http.StatusServiceUnavailable})
	status, _, body = do(t, http.MethodPost, root+"/v3/users", admin.ID, map[string]string{"Content-Type": "application/json"},
		[]byte(`{"user": {"name": "gncu90000003"}}`))
	if status != http.StatusServiceUnavailable {
		t.Errorf("write with the primary failing: %d %s, want its 503", status, body)
	}
	e.srv.ClearFaults()
	status, _, body = do(t, http.MethodPost, root+"/v3/users", admin.ID, map[string]string{"Content-Type": "application/json"},
		[]byte(`{"user": {"name": "gncu90000003"}}`))
	var doc struct {
		User struct {
			DomainID string `json:"domain_id"`
		} `json:"user"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &doc) != nil || doc.User.DomainID != e.world.Domain("gnc").ID {
		t.Errorf("write after recovery: %d %s", status, body)
	}
}
