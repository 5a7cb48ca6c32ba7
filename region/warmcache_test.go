package region_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
	clk := &timerClock{ManualClock: c.clk}
	cache := tokencache.New(tokencache.Options{Clock: clk, Jitter: -1, ExpiryMargin: -1})
	t.Cleanup(func() { cache.Close() })
	h := cache.Handle(tokencache.KeyOf(user, scope), c.r.Fetcher("SG", c.id, user, scope))
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
		clk.Set(first.Expiry.Add(at - lifetime))
		if err := listFlavors(); err != nil {
			t.Fatalf("%v into the token's life, Keystone down: nova call failed: %v", at, err)
		}
		if tok, err := h.Token(ctx); err != nil || tok.ID != first.ID {
			t.Fatalf("%v into the token's life: cached token %v, %v", at, tok, err)
		}
	}

	clk.Set(first.Expiry.Add(time.Second))
	_, err = h.Token(ctx)
	var fe *tokencache.FetchError
	if !errors.As(err, &fe) || !errors.Is(err, region.ErrAllFailed) || !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("after expiry: %v, want a *tokencache.FetchError wrapping region.ErrAllFailed", err)
	}
	if err := listFlavors(); err == nil {
		t.Fatal("after expiry with Keystone down: nova call succeeded")
	}

	c.srv.ClearFaults()
	if err := listFlavors(); err != nil {
		t.Fatalf("Keystone back: %v", err)
	}
}

// timerClock adds AfterFunc to the test server's manual clock, for the
// token cache: timers fire synchronously from Set, in time order.
type timerClock struct {
	*testserver.ManualClock
	mu     sync.Mutex
	timers []*manualTimer
}

type manualTimer struct {
	c    *timerClock
	at   time.Time
	f    func()
	done bool // fired or stopped
}

func (c *timerClock) AfterFunc(d time.Duration, f func()) tokencache.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, at: c.Now().Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Set moves the clock to now and fires every timer due by then.
func (c *timerClock) Set(now time.Time) {
	c.ManualClock.Set(now)
	for {
		c.mu.Lock()
		var due *manualTimer
		c.timers = slices.DeleteFunc(c.timers, func(t *manualTimer) bool { return t.done })
		for _, t := range c.timers {
			if !t.at.After(now) && (due == nil || t.at.Before(due.at)) {
				due = t
			}
		}
		if due != nil {
			due.done = true
		}
		c.mu.Unlock()
		if due == nil {
			return
		}
		due.f()
	}
}
