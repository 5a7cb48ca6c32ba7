package geostack_test

import (
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// setup starts the fake cloud and returns it with the config of the n-th
// user of domain dom at home location SG.
func setup(t testing.TB, opts testserver.Options, dom string, n int) (*testserver.Server, geostack.Config) {
	t.Helper()
	srv := testserver.New(t, opts)
	world := testserver.DefaultWorld()
	var locs []region.Location
	for _, l := range world.Locations {
		locs = append(locs, region.Location{Name: l.Name, AuthURLs: []string{srv.AuthURL(l.Name)}, Regions: l.Regions})
	}
	var doms []domain.Domain
	for _, name := range testserver.ProductDomains() {
		wd := world.Domain(name)
		d := domain.Domain{Name: wd.Name, ID: wd.ID, Prefix: wd.Prefix, Endpoints: map[string]domain.Endpoints{}}
		for _, l := range world.Locations {
			d.Endpoints[l.Name] = domain.Endpoints{UserAuthURL: srv.DomainAuthURL(name, l.Name)}
		}
		doms = append(doms, d)
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatal(err)
	}
	user := world.User(dom + "u0000000" + string(rune('0'+n)))
	proj := world.Project(dom + "t0000000" + string(rune('0'+n)))
	cfg := geostack.Config{
		Locations:  locs,
		Home:       "SG",
		Primary:    srv.Primary(),
		Domains:    reg,
		Domain:     dom,
		Credential: identity.Password{UserID: user.ID, Password: testserver.UserPassword},
		Scope:      identity.Scope{ProjectID: proj.ID},
	}
	cfg.Clock = opts.Clock // the fake cloud's clock drives the client too
	return srv, cfg
}

func newCache(t testing.TB, opts tokencache.Options) *tokencache.Cache {
	t.Helper()
	c, err := tokencache.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// collect drains a listing; a failed page gives the error and no items.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func newClient(t testing.TB, cfg geostack.Config) *geostack.Client {
	t.Helper()
	c, err := geostackNew(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// geostackNew is geostack.New, closed by the test's cleanup.
func geostackNew(t testing.TB, cfg geostack.Config) (*geostack.Client, error) {
	c, err := geostack.New(t.Context(), cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestServiceClientsShareOneToken(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	cache := newCache(t, tokencache.Options{})
	cfg.Cache = cache

	// Three clients of the same identity and scope in one process, as
	// nova-, neutron- and glance-facing code would each make.
	clients := []*geostack.Client{newClient(t, cfg), newClient(t, cfg), newClient(t, cfg)}
	services := []string{"compute", "network", "image", "volumev3", "block-storage"}
	regions := []string{"TYO1", "OSA1", "SJC1", "SIN1"}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i%len(clients)]
			sc, err := c.ServiceClient(t.Context(), services[i%len(services)], regions[i%len(regions)])
			if err != nil {
				errs <- err
				return
			}
			switch catalog.CanonicalType(services[i%len(services)]) {
			case "compute":
				_, err = flavors.ListDetail(sc, nil).AllPages(t.Context())
			case "network":
				_, err = networks.List(sc, nil).AllPages(t.Context())
			case "image":
				_, err = images.List(sc, nil).AllPages(t.Context())
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := srv.TokensIssued("", ""); got != 1 {
		t.Errorf("Keystone issued %d tokens for one identity and scope, want 1", got)
	}
	if got := srv.TokensIssued("", "SG"); got != 1 {
		t.Errorf("the token was not issued at the home location SG (SG issued %d)", got)
	}
}

func TestServiceClientSelection(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t, testserver.Options{}, "gnc", 1)
	cfg.Interfaces = map[string][]catalog.Interface{"compute": {catalog.Internal, catalog.Public}}
	c := newClient(t, cfg)

	tests := []struct {
		service, region string
		wantPath        string // the endpoint path, after the host
		wantBase        string // the resource base, when it differs
		wantErr         error
	}{
		{service: "compute", region: "SIN1", wantPath: "/internal/SIN1/compute/v2.1/"},
		{service: "image", region: "TYO1", wantPath: "/TYO1/image/", wantBase: "/TYO1/image/v2/"},
		{service: "network", region: "OSA1", wantPath: "/OSA1/network/", wantBase: "/OSA1/network/v2.0/"},
		{service: "volumev3", region: "SJC1", wantPath: "/SJC1/volume/v3/"},
		{service: "compute", region: "FRA1", wantErr: catalog.ErrNotFound},
		{service: "dns", region: "SIN1", wantErr: catalog.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.service+"/"+tt.region, func(t *testing.T) {
			t.Parallel()
			sc, err := c.ServiceClient(t.Context(), tt.service, tt.region)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.region) {
					t.Errorf("error %q does not name the region", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sc.Endpoint, tt.wantPath) {
				t.Errorf("endpoint %q, want one with path %q", sc.Endpoint, tt.wantPath)
			}
			if tt.wantBase != "" && !strings.HasSuffix(sc.ResourceBase, tt.wantBase) {
				t.Errorf("resource base %q, want one ending %q", sc.ResourceBase, tt.wantBase)
			}
			// A second call returns an equal copy: a Microversion set on one
			// changes no other caller's requests.
			sc.Microversion = "2.79"
			again, err := c.ServiceClient(t.Context(), tt.service, tt.region)
			if err != nil || again == sc || again.Endpoint != sc.Endpoint || again.ResourceBase != sc.ResourceBase ||
				again.ProviderClient != sc.ProviderClient || again.Microversion != "" {
				t.Errorf("a second call returned %+v, %v; want an equal copy without the first's Microversion", again, err)
			}
		})
	}
}

func TestDomainFilteredListings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dom         string
		wantFlavors []string
	}{
		{"gnc", []string{"gnc_g-1gb", "gnc_g-2gb", "gnc_g-4gb", "m1.large", "m1.medium", "m1.small"}},
		{"zsg", []string{"m1.large", "m1.medium", "m1.small", "zsg_g-1gb", "zsg_g-2gb", "zsg_g-4gb"}},
	}
	for _, tt := range tests {
		t.Run(tt.dom, func(t *testing.T) {
			t.Parallel()
			_, cfg := setup(t, testserver.Options{}, tt.dom, 1)
			c := newClient(t, cfg)
			fl, err := collect(c.Flavors(t.Context(), "SIN1", nil))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fl {
				got = append(got, f.Name)
			}
			if diff := cmp.Diff(tt.wantFlavors, got, cmpSorted); diff != "" {
				t.Errorf("flavors (-want +got):\n%s", diff)
			}
			imgs, err := collect(c.Images(t.Context(), "SIN1", nil))
			if err != nil {
				t.Fatal(err)
			}
			for _, img := range imgs {
				for _, other := range testserver.ProductDomains() {
					if other != tt.dom && strings.HasPrefix(img.Name, other) {
						t.Errorf("%s sees %s's image %q", tt.dom, other, img.Name)
					}
				}
			}
			vts, err := collect(c.VolumeTypes(t.Context(), "TYO1", nil))
			if err != nil || len(vts) == 0 {
				t.Errorf("volume types: %d, %v", len(vts), err)
			}
		})
	}

	t.Run("no domain", func(t *testing.T) {
		t.Parallel()
		_, cfg := setup(t, testserver.Options{}, "gnc", 1)
		cfg.Domain, cfg.Domains = "", nil
		c := newClient(t, cfg)
		if _, err := collect(c.Images(t.Context(), "SIN1", nil)); !errors.Is(err, geostack.ErrNoDomain) {
			t.Errorf("got %v, want ErrNoDomain", err)
		}
	})
	t.Run("unknown region", func(t *testing.T) {
		t.Parallel()
		_, cfg := setup(t, testserver.Options{}, "gnc", 1)
		c := newClient(t, cfg)
		if _, err := collect(c.Flavors(t.Context(), "NOPE1", nil)); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("got %v, want catalog.ErrNotFound", err)
		}
	})
	t.Run("a page fails", func(t *testing.T) {
		t.Parallel()
		srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
		c := newClient(t, cfg)
		srv.SetFault(testserver.Service("image", "SIN1"), testserver.Fault{Status: 500})
		if got, err := collect(c.Images(t.Context(), "SIN1", nil)); err == nil || got != nil {
			t.Errorf("got %d images and %v, want no images and an error", len(got), err)
		}
	})
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestRejectedTokenIsRefetchedOnce revokes the cached token in Keystone: the
// next calls get a 401, which invalidates exactly that token; one new token
// is fetched and the calls are retried, and none fails.
func TestRejectedTokenIsRefetchedOnce(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	c := newClient(t, cfg)
	sc, err := c.ServiceClient(t.Context(), "compute", "TYO1")
	if err != nil {
		t.Fatal(err)
	}
	old, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	revokeAsAdmin(t, srv, old.ID)

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := flavors.ListDetail(sc, nil).AllPages(t.Context()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := srv.TokensIssued(old.User.ID, ""); got != 2 {
		t.Errorf("Keystone issued %d tokens to the user, want 2 (the revoked one and one replacement)", got)
	}
	if tok, _ := c.Token(t.Context()); tok.ID == old.ID {
		t.Errorf("the revoked token is still cached")
	}
}

func revokeAsAdmin(t *testing.T, srv *testserver.Server, id string) {
	t.Helper()
	ic := &identity.Client{}
	admin, err := ic.Issue(t.Context(), srv.AuthURL("JP"),
		identity.Password{UserName: testserver.AdminUser, DomainID: testserver.DefaultDomainID, Password: testserver.AdminPassword},
		identity.Scope{ProjectName: "admin", ProjectDomainID: testserver.DefaultDomainID})
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Revoke(t.Context(), srv.AuthURL("JP"), admin.ID, id); err != nil {
		t.Fatal(err)
	}
}

// TestWarmCacheSurvivesKeystoneOutage takes every Keystone down while a
// token is cached: no API call fails until that token expires.
func TestWarmCacheSurvivesKeystoneOutage(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	srv, cfg := setup(t, testserver.Options{Clock: clk, TokenLifetime: time.Hour}, "gnc", 1)
	c := newClient(t, cfg)
	sc, err := c.ServiceClient(t.Context(), "compute", "SIN1")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range srv.Locations() {
		srv.SetFault(testserver.Keystone(l), testserver.Fault{Down: true})
	}
	// Into the refresh window: refreshes fail in the background, calls go on.
	for range 10 {
		clk.Advance(5 * time.Minute)
		if _, err := flavors.ListDetail(sc, nil).AllPages(t.Context()); err != nil {
			t.Fatalf("at %v: %v", clk.Now(), err)
		}
	}
	// Past expiry, a call needs a new token and every Keystone is down.
	clk.Advance(15 * time.Minute)
	_, err = flavors.ListDetail(sc, nil).AllPages(t.Context())
	if _, ok := errors.AsType[*region.AllFailedError](err); !ok {
		t.Errorf("after expiry: got %v, want a *region.AllFailedError", err)
	}
	// The failure is remembered for its backoff: a caller in that window
	// gets it without asking Keystone again, even once Keystone is back.
	srv.ClearFaults()
	before := srv.TokensIssued("", "")
	_, err = flavors.ListDetail(sc, nil).AllPages(t.Context())
	if fe, ok := errors.AsType[*tokencache.FetchError](err); !ok || fe.Retry.IsZero() {
		t.Errorf("inside the backoff: got %v, want the remembered *tokencache.FetchError with its retry time", err)
	}
	if got := srv.TokensIssued("", ""); got != before {
		t.Errorf("inside the backoff: %d tokens issued, want none", got-before)
	}
	clk.Advance(time.Minute) // the longest backoff
	if _, err := flavors.ListDetail(sc, nil).AllPages(t.Context()); err != nil {
		t.Errorf("Keystone back, backoff over: %v", err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t, testserver.Options{}, "gnc", 1)
	c := newClient(t, cfg)
	if _, err := c.ServiceClient(t.Context(), "compute", "SIN1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.ServiceClient(t.Context(), "compute", "SIN1"); !errors.Is(err, geostack.ErrClosed) {
		t.Errorf("after Close: got %v, want ErrClosed", err)
	}
}

// TestClientRedacted formats a client that holds a password and a token with
// every verb: neither may appear.
func TestClientRedacted(t *testing.T) {
	t.Parallel()
	_, cfg := setup(t, testserver.Options{}, "gnc", 1)
	c := newClient(t, cfg)
	tok, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	logger.Info("client", "client", c, "config", cfg)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{c, cfg, &cfg, []any{c}} {
			s := fmt.Sprintf(verb, v) + c.String() + logs.String()
			for _, secret := range []string{testserver.UserPassword, tok.ID} {
				if strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) {
					t.Errorf("%s of %T reveals a secret: %.200s", verb, v, s)
				}
			}
		}
	}
}

// TestValidatorAndClientShareACache: a SaaS backend keeps its own service
// token (without a catalog) for authtoken and a Client of the same service
// user in one cache; each gets its kind of token.
func TestValidatorAndClientShareACache(t *testing.T) {
	t.Parallel()
	srv, cfg := setup(t, testserver.Options{}, "gnc", 1)
	cache := newCache(t, tokencache.Options{})
	nova := identity.Password{UserName: "nova", DomainID: testserver.DefaultDomainID, Password: testserver.ServicePassword}
	service := identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainID: testserver.DefaultDomainID}

	gnc, _ := cfg.Domains.ByName("gnc")
	for l := range gnc.Endpoints {
		gnc.Endpoints[l] = domain.Endpoints{UserAuthURL: srv.DomainAuthURL("gnc", l), AdminAuthURL: srv.DomainAdminAuthURL("gnc", l)}
	}
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{gnc}, Home: "SG", Primary: "JP",
		TokenCache: cache, ServiceCredential: nova, ServiceScope: service,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	user, err := (&identity.Client{}).Issue(t.Context(), srv.AuthURL("SG"), cfg.Credential, cfg.Scope)
	if err != nil {
		t.Fatal(err)
	}
	// The validator registers its service token first.
	if _, err := v.Validate(t.Context(), user.ID); err != nil {
		t.Fatal(err)
	}

	cfg.Credential, cfg.Scope, cfg.Cache = nova, service, cache
	c := newClient(t, cfg)
	sc, err := c.ServiceClient(t.Context(), "compute", "SIN1")
	if err != nil {
		t.Fatalf("the client got the validator's catalog-less token: %v", err)
	}
	if _, err := flavors.ListDetail(sc, nil).AllPages(t.Context()); err != nil {
		t.Fatal(err)
	}
}
