package authtoken

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// TestStats follows the counters through each way a token is answered.
func TestStats(t *testing.T) {
	t.Parallel()
	validate := func(t *testing.T, e *env, token string, n int) {
		t.Helper()
		for range n {
			e.v.Validate(t.Context(), token)
		}
	}
	tests := []struct {
		name   string
		config func(*Config)
		// run validates, after the service token is warm.
		run  func(t *testing.T, e *env)
		want Stats
	}{
		{
			name: "valid, then from the cache",
			run:  func(t *testing.T, e *env) { validate(t, e, e.issue(t, "gncu00000001").ID, 3) },
			want: Stats{Misses: 1, KeystoneValidations: 1, CacheHits: 2},
		},
		{
			name: "unknown, then from the negative cache",
			run:  func(t *testing.T, e *env) { validate(t, e, fernetID(e.clock.Now().Add(-time.Hour)), 2) },
			want: Stats{Misses: 1, KeystoneValidations: 1, NegativeHits: 1, Rejected: Rejections{InvalidToken: 2}},
		},
		{
			name: "unknown and new: asked again at the primary within one validation",
			run:  func(t *testing.T, e *env) { validate(t, e, fernetID(e.clock.Now()), 1) },
			want: Stats{Misses: 1, KeystoneValidations: 1, Rejected: Rejections{InvalidToken: 1}},
		},
		{
			name: "malformed",
			run: func(t *testing.T, e *env) {
				validate(t, e, "abc\r\nX-Injected: 1", 1)
				validate(t, e, "gAAAAABnot-a-real-token", 1)
			},
			want: Stats{Malformed: 2, Rejected: Rejections{InvalidToken: 2}},
		},
		{
			name: "missing",
			run:  func(t *testing.T, e *env) { validate(t, e, "", 2) },
			want: Stats{Rejected: Rejections{Missing: 2}},
		},
		{
			name: "another domain's, twice",
			run:  func(t *testing.T, e *env) { validate(t, e, e.issue(t, "zjpu00000001").ID, 2) },
			want: Stats{Misses: 1, KeystoneValidations: 1, CacheHits: 1, Rejected: Rejections{WrongDomain: 2}},
		},
		{
			name: "expired in the cache",
			run: func(t *testing.T, e *env) {
				tok := e.issue(t, "gncu00000001")
				validate(t, e, tok.ID, 1)
				e.clock.Advance(tok.Expiry.Sub(e.clock.Now()) + time.Second)
				validate(t, e, tok.ID, 1)
			},
			want: Stats{Misses: 1, KeystoneValidations: 1, CacheHits: 1, Rejected: Rejections{Expired: 1}},
		},
		{
			name: "expired before it was seen: the service token is refused, refreshed, and the validation made again",
			run: func(t *testing.T, e *env) {
				tok := e.issue(t, "gncu00000001")
				e.clock.Advance(2 * time.Hour)
				validate(t, e, tok.ID, 1)
			},
			want: Stats{Misses: 1, KeystoneValidations: 2, Rejected: Rejections{InvalidToken: 1}},
		},
		{
			name:   "roles not met",
			config: func(c *Config) { c.Roles = Roles{AllOf: []string{"admin"}} },
			run:    func(t *testing.T, e *env) { validate(t, e, e.issue(t, "gncu00000001").ID, 2) },
			want:   Stats{Misses: 1, KeystoneValidations: 1, CacheHits: 1, Rejected: Rejections{Forbidden: 2}},
		},
		{
			name: "Keystone failing",
			run: func(t *testing.T, e *env) {
				tok := e.issue(t, "gncu00000001")
				for _, loc := range e.srv.Locations() {
					e.srv.SetFault(testserver.Keystone(loc), testserver.Fault{Status: 503})
				}
				validate(t, e, tok.ID, 2)
			},
			want: Stats{Misses: 2, KeystoneValidations: 2, Rejected: Rejections{Unavailable: 2}},
		},
		{
			name: "closed",
			run: func(t *testing.T, e *env) {
				tok := e.issue(t, "gncu00000001")
				e.v.Close()
				validate(t, e, tok.ID, 1)
			},
			want: Stats{Misses: 1, Rejected: Rejections{Closed: 1}},
		},
		{
			name: "handler: no token, strict and delayed",
			run: func(t *testing.T, e *env) {
				e.serve(t, HandlerOptions{}, nil)
				e.serve(t, HandlerOptions{DelayAuthDecision: true}, nil)
			},
			want: Stats{Rejected: Rejections{Missing: 2}},
		},
		{
			name: "handler: a user's token as the service token",
			run: func(t *testing.T, e *env) {
				tok := e.issue(t, "gncu00000001")
				e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok.ID, "X-Service-Token": tok.ID})
			},
			// The service token is refused (no service role) and the
			// request answered before the user token is looked at.
			want: Stats{Misses: 1, KeystoneValidations: 1, Rejected: Rejections{Forbidden: 1}},
		},
		{
			name: "handler: both tokens refused, decision delayed",
			run: func(t *testing.T, e *env) {
				e.serve(t, HandlerOptions{DelayAuthDecision: true}, map[string]string{
					"X-Auth-Token": e.issue(t, "zjpu00000001").ID, "X-Service-Token": "garbage"})
			},
			want: Stats{Misses: 1, KeystoneValidations: 1, Malformed: 1, Rejected: Rejections{InvalidToken: 1, WrongDomain: 1}},
		},
		{
			name: "handler: valid user and service tokens",
			run: func(t *testing.T, e *env) {
				svc := e.issueScoped(t, identity.Password{UserName: "cinder", DomainName: testserver.DefaultDomainName, Password: testserver.ServicePassword}, serviceScope)
				user := e.issue(t, "gncu00000001")
				for range 2 {
					e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": user.ID, "X-Service-Token": svc.ID})
				}
			},
			want: Stats{Misses: 2, KeystoneValidations: 2, CacheHits: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: tt.config})
			e.serviceToken(t)
			tt.run(t, e)
			if diff := cmp.Diff(tt.want, e.v.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatsInFlight: a validation Keystone holds shows in InFlight, a
// token turned away for it in Overloaded, until the caller leaves.
func TestStatsInFlight(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{config: func(c *Config) { c.MaxValidations = 1 }})
	hangKeystone(t, e)
	ctx, hangUp := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.v.Validate(ctx, fernetID(e.clock.Now()))
	}()
	// Until the flight has sent its request (the counter goes up just
	// before).
	for st := e.v.Stats(); st.InFlight != 1 || st.KeystoneValidations != 1; st = e.v.Stats() {
		runtime.Gosched()
	}
	e.v.Validate(t.Context(), fernetID(e.clock.Now()))
	want := Stats{Misses: 2, KeystoneValidations: 1, Overloaded: 1, InFlight: 1, Rejected: Rejections{Unavailable: 1}}
	if diff := cmp.Diff(want, e.v.Stats()); diff != "" {
		t.Errorf("Stats while Keystone holds the validation (-want +got):\n%s", diff)
	}
	hangUp()
	<-done
	waitFlights(e.v)
	want.InFlight, want.Rejected.Unavailable = 0, 2
	if diff := cmp.Diff(want, e.v.Stats()); diff != "" {
		t.Errorf("Stats after the caller left (-want +got):\n%s", diff)
	}
}

// TestStatsCoalesced: concurrent callers of one new token, held at
// Keystone until every one of them has come, are one miss that started
// the validation and misses that joined it.
func TestStatsCoalesced(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := setup(t, setupOpts{config: func(c *Config) {
		upstream := &http.Transport{}
		t.Cleanup(upstream.CloseIdleConnections)
		// Only validations wait; the service token's POST does not.
		gate := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && r.Header.Get("X-Subject-Token") != "" {
				select {
				case <-release:
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
			return upstream.RoundTrip(r)
		})
		c.Client.HTTPClient = &http.Client{Transport: gate}
	}})
	e.serviceToken(t)
	tok := e.issue(t, "gncu00000001")
	const n = 200
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec, _ := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok.ID})
			if rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	// Until every caller waits for the one flight (no sleep).
	for st := e.v.Stats(); st.Coalesced != n-1; st = e.v.Stats() {
		// While the one validation is held, nothing is cached and it
		// stays in flight; anything else means it was not held.
		if st.InFlight > 1 || st.CacheHits > 0 || (st.Misses == n && st.InFlight == 0) {
			close(release)
			wg.Wait()
			t.Fatalf("Stats = %+v: want one validation in flight, held until all %d callers wait for it", st, n)
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	want := Stats{Misses: n, Coalesced: n - 1, KeystoneValidations: 1}
	if diff := cmp.Diff(want, e.v.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// roundTripFunc is an http.RoundTripper of one function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
