package region_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// Warm cache: a token fetched through the resolver is cached; then every
// location's Keystone goes down. Nova calls keep working on the cached
// token until it expires; only then does the fetch fail, with the
// resolver's typed error; and once Keystone is back the next call
// succeeds.
func TestCloudWarmCache(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{TokenLifetime: time.Hour})
	cache, err := tokencache.New(tokencache.Options{Clock: c.clk, Jitter: -1, ExpiryMargin: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	src := identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
		return c.r.Issue(ctx, "SG", c.id, user, scope)
	})
	h, err := cache.Handle(tokencache.Key{Credential: user, Scope: scope}, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Release)
	pc := tokencache.NewProviderClient(h, nil)

	ctx := t.Context()
	first, err := h.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := first.Catalog.Select(catalog.Query{Type: "compute", Region: "SIN1"})
	if err != nil {
		t.Fatal(err)
	}
	nova := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: strings.TrimSuffix(ep.URL, "/") + "/"}
	listFlavors := func() error {
		_, err := flavors.ListDetail(nova, nil).AllPages(ctx)
		return err
	}

	for _, loc := range c.srv.Locations() {
		c.srv.SetFault(testserver.Keystone(loc), testserver.Fault{Down: true})
	}
	lifetime := first.Expiry.Sub(c.clk.Now())
	for _, at := range []time.Duration{0, lifetime / 2, lifetime * 3 / 4, lifetime * 9 / 10, lifetime - time.Second} {
		c.clk.Set(first.Expiry.Add(at - lifetime))
		if err := listFlavors(); err != nil {
			t.Fatalf("%v into the token's life, Keystone down: nova call failed: %v", at, err)
		}
		if tok, err := h.Token(ctx); err != nil || tok.ID != first.ID {
			t.Fatalf("%v into the token's life: cached token %v, %v", at, tok, err)
		}
	}

	c.clk.Set(first.Expiry.Add(time.Second))
	_, err = h.Token(ctx)
	var fe *tokencache.FetchError
	var all *region.AllFailedError
	if !errors.As(err, &fe) || !errors.As(err, &all) || !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("after expiry: %v, want a *tokencache.FetchError wrapping a *region.AllFailedError", err)
	}
	if err := listFlavors(); err == nil {
		t.Fatal("after expiry with Keystone down: nova call succeeded")
	}

	// Keystone is back, but the failure is remembered until its backoff
	// has passed: no caller asks Keystone again before fe.Retry.
	c.srv.ClearFaults()
	before := c.keystoneRequests()
	if err := listFlavors(); err == nil {
		t.Fatal("Keystone back, inside the failure's backoff: nova call succeeded without a fetch")
	}
	if diff := cmp.Diff(before, c.keystoneRequests()); diff != "" {
		t.Errorf("Keystone requests inside the backoff (-before +after):\n%s", diff)
	}
	c.clk.Set(fe.Retry)
	if err := listFlavors(); err != nil {
		t.Fatalf("Keystone back, backoff over: %v", err)
	}
	if diff := cmp.Diff(map[string]int64{"SG": 2}, c.issuedAt("gncu00000001")); diff != "" {
		t.Errorf("tokens issued per location (-want +got):\n%s", diff)
	}
}
