package tokencache

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// The identity the tests against testserver use.
var (
	testUser  = "gncu00000001"
	testCred  = identity.Password{UserName: testUser, DomainName: "gnc", Password: testserver.UserPassword}
	testScope = identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
)

// cloud is a testserver on a manual clock with a Cache whose Handle for
// testCred fetches at the JP auth_url.
type cloud struct {
	srv    *testserver.Server
	clock  *clock.Manual
	idc    *identity.Client
	cache  *Cache
	h      *Handle
	counts *countingTransport
}

func newCloud(t testing.TB, opts Options) *cloud {
	t.Helper()
	clk := newClock()
	srv := testserver.New(t, testserver.Options{Clock: clk})
	idc := &identity.Client{Clock: clk}
	opts.Clock = clk
	c := mustNew(t, opts)
	authURL := srv.AuthURL("JP")
	h := mustHandle(t, c, Key{Credential: testCred, Scope: testScope}, identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
		return idc.Issue(ctx, authURL, testCred, testScope)
	}))
	return &cloud{srv: srv, clock: clk, idc: idc, cache: c, h: h, counts: &countingTransport{base: http.DefaultTransport}}
}

// serviceClient builds a gophercloud ServiceClient for a service and
// region from the cached token's catalog, with requests going through
// base (nil: the cloud's counting transport).
func (cl *cloud) serviceClient(t testing.TB, typ, region string, base http.RoundTripper) *gophercloud.ServiceClient {
	t.Helper()
	tok, err := cl.h.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	ep, err := tok.Catalog.Select(catalog.Query{Type: typ, Region: region})
	if err != nil {
		t.Fatalf("Select %s in %s: %v", typ, region, err)
	}
	if base == nil {
		base = cl.counts
	}
	return &gophercloud.ServiceClient{
		ProviderClient: NewProviderClient(cl.h, &http.Client{Transport: base}),
		Endpoint:       strings.TrimSuffix(ep.URL, "/") + "/",
	}
}

// countingTransport counts the 401 answers that pass through it.
type countingTransport struct {
	base         http.RoundTripper
	requests     atomic.Int64
	unauthorized atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		c.unauthorized.Add(1)
	}
	return resp, err
}

func listFlavors(ctx context.Context, sc *gophercloud.ServiceClient) error {
	_, err := flavors.ListDetail(sc, nil).AllPages(ctx)
	return err
}

func TestColdCacheOneToken(t *testing.T) {
	t.Parallel()
	cl := newCloud(t, Options{})
	const n = 1000
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			tok, err := cl.h.Token(t.Context())
			if err != nil {
				t.Errorf("Token: %v", err)
				return
			}
			ids[i] = tok.ID
		})
	}
	wg.Wait()
	if got := cl.srv.TokensIssued(testUser, ""); got != 1 {
		t.Errorf("%d goroutines on a cold cache made Keystone issue %d tokens, want 1", n, got)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatal("goroutines got different tokens")
		}
	}
	// Goroutines that start after the token is installed read it without
	// waiting, so how many coalesced depends on scheduling; that they all
	// got the one token does not.
	s := cl.cache.Stats()
	if s.Issued != 1 || s.Coalesced < 1 || s.Coalesced > n-1 {
		t.Errorf("Stats = %+v, want Issued 1 and Coalesced in [1, %d]", s, n-1)
	}
}

// barrier holds every request that carries token until want of them
// arrived, so that they are all in flight together.
type barrier struct {
	base    http.RoundTripper
	token   string
	want    int64
	arrived atomic.Int64
	release chan struct{}
}

func (b *barrier) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get(authHeader) == b.token {
		if b.arrived.Add(1) == b.want {
			close(b.release)
		}
		<-b.release
	}
	return b.base.RoundTrip(req)
}

// TestRejectedTokenOneRefetch sends 100 concurrent requests with a token
// Keystone has revoked: every one gets a 401, exactly one new token is
// issued, and every request succeeds on its one retry.
func TestRejectedTokenOneRefetch(t *testing.T) {
	t.Parallel()
	cl := newCloud(t, Options{})
	ctx := t.Context()
	tok, err := cl.h.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.idc.Revoke(ctx, cl.srv.AuthURL("JP"), tok.ID, tok.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	const n = 100
	b := &barrier{base: cl.counts, token: tok.ID, want: n, release: make(chan struct{})}
	sc := cl.serviceClient(t, "compute", "TYO1", b)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := listFlavors(ctx, sc); err != nil {
				t.Errorf("request after a 401: %v", err)
			}
		})
	}
	wg.Wait()
	if got := cl.counts.unauthorized.Load(); got != n {
		t.Errorf("%d requests saw a 401, want %d", got, n)
	}
	if got := cl.srv.TokensIssued(testUser, ""); got != 2 {
		t.Errorf("Keystone issued %d tokens, want 2 (the revoked one and one refetch)", got)
	}
	if got := cl.cache.Stats().Invalidations; got != 1 {
		t.Errorf("Stats.Invalidations = %d, want 1", got)
	}
}

// TestRolloverNo401 runs requests through three token lifetimes on the
// fake clock: the cache replaces each token before it expires, so no
// request ever carries a token the cloud rejects, and Keystone issues one
// token per 3/4 lifetime or so.
func TestRolloverNo401(t *testing.T) {
	t.Parallel()
	cl := newCloud(t, Options{})
	ctx := t.Context()
	var scs []*gophercloud.ServiceClient
	for _, region := range []string{"TYO1", "SJC1", "SIN1"} {
		scs = append(scs, cl.serviceClient(t, "compute", region, nil))
	}
	for minute := 0; minute < 180; minute++ {
		var wg sync.WaitGroup
		for _, sc := range scs {
			wg.Go(func() {
				if err := listFlavors(ctx, sc); err != nil {
					t.Errorf("minute %d: %v", minute, err)
				}
			})
		}
		wg.Wait()
		waitFetch(cl.h)
		cl.clock.Advance(time.Minute)
	}
	if got := cl.counts.unauthorized.Load(); got != 0 {
		t.Errorf("%d requests saw a 401 across token rollover, want 0", got)
	}
	if got := cl.srv.TokensIssued(testUser, ""); got < 4 || got > 5 {
		t.Errorf("Keystone issued %d tokens in 3 hours of 1-hour tokens, want 4 or 5", got)
	}
}

// waitFetch waits for the fetch of h in flight, if any, so that a test
// does not move the fake clock under a running refresh. It joins the
// flight; when none runs, its own flight does nothing.
func waitFetch(h *Handle) {
	<-h.s.flight.DoChan(flightKey, func() (any, error) { return nil, errNoFetch })
}

var errNoFetch = errors.New("tokencache test: no fetch")

// TestKeystoneDownDuringStaleWindow makes Keystone answer 503 from the
// moment the refresh window opens: every request succeeds while the token
// is valid, and once it has expired callers get a *FetchError matching
// identity.ErrUnavailable. The failure is remembered until its Retry, even
// once Keystone is back, without asking Keystone; from Retry on, requests
// succeed again.
func TestKeystoneDownDuringStaleWindow(t *testing.T) {
	t.Parallel()
	cl := newCloud(t, Options{Jitter: -1})
	ctx := t.Context()
	sc := cl.serviceClient(t, "compute", "SIN1", nil)
	cl.clock.Advance(45 * time.Minute) // the window opens
	cl.srv.SetFault(testserver.Keystone("JP"), testserver.Fault{Status: http.StatusServiceUnavailable})
	for second := 0; second < 14*60+29; second += 10 {
		if err := listFlavors(ctx, sc); err != nil {
			t.Fatalf("request %v into the window, with Keystone down: %v", time.Duration(second)*time.Second, err)
		}
		waitFetch(cl.h)
		cl.clock.Advance(10 * time.Second)
	}
	if s := cl.cache.Stats(); s.Failures == 0 || s.Issued != 1 {
		t.Errorf("Stats = %+v, want failed refreshes and no new token", s)
	}

	cl.clock.Advance(time.Minute) // past expiry
	_, err := cl.h.Token(ctx)
	var ferr *FetchError
	if !errors.As(err, &ferr) || !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("Token after expiry with Keystone down = %v, want a *FetchError matching identity.ErrUnavailable", err)
	}
	if ferr == nil {
		return
	}
	cl.srv.ClearFault(testserver.Keystone("JP"))
	asked := cl.srv.Requests(testserver.Keystone("JP"))
	cl.clock.Set(ferr.Retry.Add(-time.Millisecond))
	if err := listFlavors(ctx, sc); !errors.Is(err, ferr) {
		t.Errorf("request within the backoff = %v, want the remembered %v", err, ferr)
	}
	if n := cl.srv.Requests(testserver.Keystone("JP")) - asked; n != 0 {
		t.Errorf("Keystone was asked %d times within the backoff, want 0", n)
	}
	cl.clock.Set(ferr.Retry)
	if err := listFlavors(ctx, sc); err != nil {
		t.Errorf("request after Keystone came back and the backoff ended: %v", err)
	}
}
