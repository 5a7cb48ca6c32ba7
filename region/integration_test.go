//go:build integration

package region_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// The replication-lag retry (a 401 or 404 at a replica retried at the
// primary) cannot be shown against this Keystone: its three locations share
// one database, so there is no lag to ride out. The fake cloud's
// ReplicationLag covers it in the unit tests.

func sameURL(a, b string) bool {
	return strings.TrimSuffix(strings.TrimSuffix(a, "/"), "/v3") == strings.TrimSuffix(strings.TrimSuffix(b, "/"), "/v3")
}

// TestIntegrationFailover kills a Keystone in the middle of a run. The home
// location's only auth_url is a Keystone instance of the test's own (never a
// shared location's); the real US Keystone is the next location. Tokens are
// fetched at home while it lives; then it is killed while readers keep
// reading, and the fetches that follow (a token invalidated as if a service
// had rejected it, and a new identity) fail over to US. No read and no fetch
// fails.
func TestIntegrationFailover(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	ctx := t.Context()
	inst := env.StartInstance(t, "failover-"+strings.ToLower(rand.Text()[:8]))

	r, err := region.New(region.Config{
		Locations: []region.Location{
			{Name: "HOME", AuthURLs: []string{inst.AuthURL}, Regions: []string{"TYO1"}},
			{Name: "US", AuthURLs: []string{env.AuthURL("US")}, Regions: env.Regions["US"]},
		},
		Primary: "US",
	})
	if err != nil {
		t.Fatal(err)
	}
	var ic identity.Client
	cache, err := tokencache.New(tokencache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	handle := func(name string) *tokencache.Handle {
		u := env.MustUser(t, name)
		cred := identity.Password{UserID: u.ID, Password: u.Password}
		scope := identity.Scope{ProjectID: u.ProjectID}
		h, err := cache.Handle(tokencache.Key{Credential: cred, Scope: scope},
			identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
				return r.Issue(ctx, "HOME", &ic, cred, scope)
			}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Release)
		return h
	}
	gnc, zjp := handle("gncu00000001"), handle("zjpu00000001")

	// Cold fetch at home, which is up.
	first, err := gnc.Token(ctx)
	if err != nil {
		t.Fatalf("cold fetch: %v", err)
	}
	if !sameURL(first.AuthURL, inst.AuthURL) {
		t.Errorf("cold fetch at %s, want home %s", first.AuthURL, inst.AuthURL)
	}

	// Readers keep going while home is killed.
	var (
		stop    atomic.Bool
		reads   atomic.Int64
		readers sync.WaitGroup
	)
	for range 4 {
		readers.Go(func() {
			// Paced, so that spinning readers do not starve the
			// Keystones of a 2-core machine.
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for range tick.C {
				if stop.Load() {
					return
				}
				if _, err := gnc.Token(ctx); err != nil {
					t.Errorf("read during the kill: %v", err)
					return
				}
				reads.Add(1)
			}
		})
	}
	if err := inst.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// A service rejected the token: the refetch cannot reach home.
	if !gnc.Invalidate(first.ID) {
		t.Error("Invalidate of the current token did nothing")
	}
	second, err := gnc.Token(ctx)
	if err != nil {
		t.Fatalf("fetch after the kill: %v", err)
	}
	// Another identity, cold, after the kill.
	other, err := zjp.Token(ctx)
	if err != nil {
		t.Fatalf("cold fetch of another identity after the kill: %v", err)
	}
	stop.Store(true)
	readers.Wait()

	for _, tok := range []*identity.Token{second, other} {
		if !sameURL(tok.AuthURL, env.AuthURL("US")) {
			t.Errorf("token of %s fetched at %s, want the failover to US %s", tok.User.Name, tok.AuthURL, env.AuthURL("US"))
		}
	}
	if second.ID == first.ID {
		t.Error("the invalidated token was served again")
	}

	// Validation fails over the same way.
	nova := env.MustUser(t, "nova")
	svc, err := r.Issue(ctx, "HOME", &identity.Client{NoCatalog: true},
		identity.Password{UserID: nova.ID, Password: nova.Password}, identity.Scope{ProjectID: env.ServiceProject.ID})
	if err != nil {
		t.Fatalf("service token after the kill: %v", err)
	}
	got, err := r.Validate(ctx, "HOME", &ic, svc.ID, second.ID, identity.ValidateOptions{NoCatalog: true})
	if err != nil || got.User.Name != "gncu00000001" {
		t.Errorf("Validate after the kill: %v, %v", got, err)
	}
	_, err = r.Validate(ctx, "HOME", &ic, svc.ID, "gAAAAABnot-a-token", identity.ValidateOptions{NoCatalog: true})
	if !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("Validate of a bad token after the kill: %v, want identity.ErrNotFound from US", err)
	}

	st := r.Stats()
	t.Logf("%d reads during the kill; region stats: attempts %d, failures %d, failovers %d", reads.Load(), st.Attempts, st.Failures, st.Failovers)
	for _, a := range st.AuthURLs {
		t.Logf("  %s %s: %s, attempts %d, failures %d, skipped %d, opens %d", a.Location, a.AuthURL, a.State, a.Attempts, a.Failures, a.Skipped, a.Opens)
	}
	// Five requests were made after the kill (two fetches, a service token
	// and two validations). The first three each failed at home and failed
	// over to US, which opened home's circuit; the other two went to US
	// first, home being ordered last.
	home, us := st.AuthURLs[0], st.AuthURLs[1]
	const threshold = 3 // region's default FailureThreshold
	if home.Attempts != 1+threshold || home.Failures != threshold || home.State != region.CircuitOpen || home.Opens != 1 {
		t.Errorf("home stats %+v: want the cold fetch and %d failures, circuit open", home, threshold)
	}
	if st.Failovers != threshold {
		t.Errorf("failovers = %d, want %d", st.Failovers, threshold)
	}
	if us.Failures != 0 || us.Attempts != 5 {
		t.Errorf("US stats %+v: want 5 attempts, no failure", us)
	}
}
