package testserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/testserver"
)

// standIn starts a Server whose services validate at keystone's locations,
// as the stand-in for a real cloud's missing services does, on clk.
func standIn(t *testing.T, keystone *testserver.Server, clk clock.Clock, hc *http.Client) *testserver.Server {
	t.Helper()
	urls := map[string]string{}
	for _, l := range keystone.Locations() {
		urls[l] = keystone.AuthURL(l)
	}
	return testserver.New(t, testserver.Options{Clock: clk, ExternalKeystone: &testserver.ExternalKeystone{
		AuthURLs: urls, UserName: "neutron", UserDomainID: testserver.DefaultDomainID, Password: testserver.ServicePassword,
		ProjectName: testserver.ServiceProject, ProjectDomainID: testserver.DefaultDomainID,
		CacheTTL: time.Minute, NegativeTTL: 10 * time.Second, HTTPClient: hc,
	}})
}

// get sends GET url with token and returns the status and the
// WWW-Authenticate header.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// TestExternalKeystone: the stand-in's services accept exactly what the
// other Keystone accepts, validate each token there once per cache
// lifetime, and answer 503 when it cannot be asked.
func TestExternalKeystone(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Now())
	keystone := testserver.New(t, testserver.Options{Clock: clk})
	fake := standIn(t, keystone, clk, nil)
	flavorsURL := fake.URL("US") + "/SJC1/compute/v2.1/flavors"

	user := provider(t, keystone, "US", "gncu00000001").Token()
	own := provider(t, fake, "US", "gncu00000001").Token() // the stand-in's own Keystone's token
	revoked := provider(t, keystone, "US", "gncu00000002").Token()

	type step struct {
		name        string
		token       string
		advance     time.Duration
		wantStatus  int
		validations int64 // at the other Keystone, after the step
	}
	steps := []step{
		{name: "valid token", token: user, wantStatus: 200, validations: 1},
		{name: "same token, cached", token: user, wantStatus: 200, validations: 1},
		{name: "another token, validated", token: revoked, wantStatus: 200, validations: 2},
		{name: "the stand-in's own token is unknown there", token: own, wantStatus: 401, validations: 3},
		{name: "unknown, remembered", token: own, wantStatus: 401, validations: 3},
		{name: "unknown, asked again after NegativeTTL", token: own, advance: 11 * time.Second, wantStatus: 401, validations: 4},
		{name: "no token, no validation", token: "", wantStatus: 401, validations: 4},
	}
	run := func(t *testing.T, steps []step) {
		t.Helper()
		for _, s := range steps {
			clk.Advance(s.advance)
			code, wa := get(t, flavorsURL, s.token)
			if code != s.wantStatus {
				t.Errorf("%s: status %d, want %d", s.name, code, s.wantStatus)
			}
			if code == 401 && wa != `Keystone uri="`+keystone.AuthURL("US")+`"` {
				t.Errorf("%s: WWW-Authenticate %q, want the other Keystone's", s.name, wa)
			}
			if got := fake.ExternalValidations(); got != s.validations {
				t.Errorf("%s: %d validations, want %d", s.name, got, s.validations)
			}
		}
	}
	run(t, steps)

	// A revocation is seen when the cached validation expires, as with
	// keystonemiddleware's token cache.
	admin := adminProvider(t, keystone)
	if err := revokeToken(t, keystone, admin.Token(), revoked); err != nil {
		t.Fatal(err)
	}
	run(t, []step{
		{name: "revoked, still cached", token: revoked, wantStatus: 200, validations: 4},
		{name: "revoked, after CacheTTL", token: revoked, advance: time.Minute, wantStatus: 401, validations: 5},
	})

	// Keystone down: a token that needs asking is 503, not 401.
	keystone.SetFault(testserver.Keystone("US"), testserver.Fault{Down: true})
	if code, _ := get(t, flavorsURL, user); code != http.StatusServiceUnavailable {
		t.Errorf("Keystone down: status %d, want 503", code)
	}
	keystone.ClearFault(testserver.Keystone("US"))
	if code, _ := get(t, flavorsURL, user); code != http.StatusOK {
		t.Errorf("Keystone back: status %d, want 200", code)
	}
}

// TestExternalKeystoneServiceTokenRejected: when Keystone rejects the
// services' own token (401 to a validation), they take a new one and ask
// again, once.
func TestExternalKeystoneServiceTokenRejected(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Now())
	keystone := testserver.New(t, testserver.Options{Clock: clk})
	var rejectOnce atomic.Bool
	rejectOnce.Store(true)
	var posts atomic.Int64
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/auth/tokens") && rejectOnce.CompareAndSwap(true, false) {
			return &http.Response{StatusCode: http.StatusUnauthorized, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}, Request: r}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	fake := standIn(t, keystone, clk, hc)
	user := provider(t, keystone, "JP", "zjpu00000001").Token()
	if code, _ := get(t, fake.URL("JP")+"/OSA1/compute/v2.1/flavors", user); code != http.StatusOK {
		t.Errorf("status %d, want 200", code)
	}
	if got := posts.Load(); got != 2 {
		t.Errorf("%d service token requests, want 2 (the first rejected)", got)
	}
	if got := fake.ExternalValidations(); got != 2 {
		t.Errorf("%d validations, want 2", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestExternalKeystoneServers: a server is created from an image that only
// the other cloud's image service holds, asked with the user's token; it
// is listed, deleted and gone.
func TestExternalKeystoneServers(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Now())
	keystone := testserver.New(t, testserver.Options{Clock: clk})
	fake := standIn(t, keystone, clk, nil)
	w := testserver.DefaultWorld()
	pc := provider(t, keystone, "SG", "gncu00000001")
	// The catalog of the other Keystone's token points at its own
	// services; compute is the stand-in's.
	compute := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: fake.URL("SG") + "/SIN1/public/compute/v2.1/", Type: "compute"}
	ctx := t.Context()

	if _, err := servers.Create(ctx, compute, servers.CreateOpts{Name: "vm", FlavorRef: w.Flavor("m1.small").ID, ImageRef: "no-such-image"}, nil).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Errorf("create from an unknown image: %v, want 400", err)
	}
	created, err := servers.Create(ctx, compute, servers.CreateOpts{Name: "vm", FlavorRef: w.Flavor("m1.small").ID, ImageRef: w.Image("gnc_centos").ID}, nil).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	pages, err := servers.List(compute, servers.ListOpts{Name: "^vm$"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("list = %+v, want the created server", list)
	}
	if err := servers.Delete(ctx, compute, created.ID).ExtractErr(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := servers.Get(ctx, compute, created.ID).Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get after delete: %v, want 404", err)
	}
	if err := servers.Delete(ctx, compute, created.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("second delete: %v, want 404", err)
	}
}

// TestRegionInterfacePaths: the services answer under the real services'
// layout /{REGION}/{interface}/… too, with links under the same path.
func TestRegionInterfacePaths(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	tok := provider(t, srv, "JP", "gncu00000001").Token()
	tests := []struct {
		path string
		want int
	}{
		{"/TYO1/compute/v2.1/flavors", 200},
		{"/TYO1/public/compute/v2.1/flavors", 200},
		{"/TYO1/internal/compute/v2.1/flavors", 200},
		{"/internal/TYO1/compute/v2.1/flavors", 200},
		{"/TYO1/admin/network/v2.0/ports", 200},
		{"/TYO1/private/compute/v2.1/flavors", 404},
		{"/SJC1/public/compute/v2.1/flavors", 404}, // SJC1 is served by US's listener
	}
	for _, tc := range tests {
		if code, _ := get(t, srv.URL("JP")+tc.path, tok); code != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, code, tc.want)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL("JP")+"/TYO1/internal/compute/v2.1/flavors?limit=1", nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Links []struct{ Href string } `json:"flavors_links"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Links) != 1 {
		t.Fatalf("flavors_links: %v %+v", err, body)
	}
	if !strings.HasPrefix(body.Links[0].Href, srv.URL("JP")+"/TYO1/internal/compute/v2.1/flavors?") {
		t.Errorf("next link %s, want it under the request's path", body.Links[0].Href)
	}
	var ports struct {
		Ports []any `json:"ports"`
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL("JP")+"/TYO1/network/v2.0/ports?device_id=x", nil)
	req.Header.Set("X-Auth-Token", tok)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if err := json.NewDecoder(resp2.Body).Decode(&ports); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{}, ports.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}

func adminProvider(t *testing.T, srv *testserver.Server) *gophercloud.ProviderClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: srv.AuthURL("JP"), Username: testserver.AdminUser, DomainID: testserver.DefaultDomainID,
		Password: testserver.AdminPassword, Scope: &gophercloud.AuthScope{ProjectName: testserver.AdminProject, DomainID: testserver.DefaultDomainID},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func revokeToken(t *testing.T, srv *testserver.Server, caller, subject string) error {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, srv.AuthURL("JP")+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", caller)
	req.Header.Set("X-Subject-Token", subject)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	return nil
}
