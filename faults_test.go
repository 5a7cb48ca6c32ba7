package geostack_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// keystoneRequests sums the requests every location's Keystone received.
func keystoneRequests(srv *testserver.Server) int64 {
	var n int64
	for _, l := range srv.Locations() {
		n += srv.Requests(testserver.Keystone(l))
	}
	return n
}

// wrongPasswordCalls makes calls Token calls, spread evenly over span of
// the fake clock, by a client whose password is wrong, and returns how
// many requests Keystone received and the last error.
func wrongPasswordCalls(t testing.TB, calls int, span time.Duration) (int64, error) {
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	srv, cfg := setup(t, testserver.Options{Clock: clk}, "gnc", 1)
	cfg.Credential = identity.Password{UserID: cfg.Credential.(identity.Password).UserID, Password: "rotated-elsewhere"}
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := keystoneRequests(srv)
	var last error
	for range calls {
		_, last = c.Token(t.Context())
		clk.Advance(span / time.Duration(calls))
	}
	return keystoneRequests(srv) - before, last
}

// TestWrongPasswordIsRemembered: 1,000 calls over 10 s with a rotated
// password cost Keystone one attempt per backoff window (1 s doubling:
// about 4), each of which is the home location's 401 and the lag retry at
// the primary, not two requests per call (it was 2,000).
func TestWrongPasswordIsRemembered(t *testing.T) {
	t.Parallel()
	n, err := wrongPasswordCalls(t, 1000, 10*time.Second)
	if n < 2 || n > 10 {
		t.Errorf("%d Keystone requests for 1,000 calls over 10 s; want 2 to 10", n)
	}
	var fe *tokencache.FetchError
	if !errors.As(err, &fe) || fe.Retry.IsZero() || !errors.Is(err, identity.ErrUnauthorized) {
		t.Fatalf("last error %v; want a FetchError saying when the next attempt is, wrapping ErrUnauthorized", err)
	}
	for _, want := range []string{"/d/gnc/identity/v3 (SG) answered, then the primary", "(JP)", "next attempt at"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// rejectStorm makes calls compute calls in SIN1, spread over span of the
// fake clock, while that endpoint answers 401 to every token, and returns
// the tokens Keystone issued and the last error.
func rejectStorm(t testing.TB, calls int, span time.Duration) (int64, error) {
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	srv, cfg := setup(t, testserver.Options{Clock: clk}, "gnc", 1)
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := c.ServiceClient(t.Context(), "compute", "SIN1")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFault(testserver.Service("compute", "SIN1"), testserver.Fault{Status: http.StatusUnauthorized})
	before := srv.TokensIssued("", "")
	var last error
	for range calls {
		_, last = flavors.ListDetail(sc, nil).AllPages(t.Context())
		clk.Advance(span / time.Duration(calls))
	}
	return srv.TokensIssued("", "") - before, last
}

// TestRejectStormIsBounded: an endpoint that rejects every token costs
// one refetch per 30 s window for the identity, not one per call (20 calls
// gave 21 tokens), and the caller learns which endpoint rejects.
func TestRejectStormIsBounded(t *testing.T) {
	t.Parallel()
	n, err := rejectStorm(t, 1000, 10*time.Second)
	if n != 1 {
		t.Errorf("%d tokens issued for 1,000 calls over 10 s; want 1 (one refetch in the window)", n)
	}
	var re *tokencache.RejectedError
	if !errors.As(err, &re) || !contains(re.URL, "/SIN1/compute/") {
		t.Fatalf("last error %v; want a *tokencache.RejectedError naming the compute endpoint", err)
	}
	n, _ = rejectStorm(t, 100, 95*time.Second)
	if n < 3 || n > 4 {
		t.Errorf("%d tokens issued over 95 s; want one per 30 s window (3 or 4)", n)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// BenchmarkWrongPassword reports the Keystone requests that 1,000 calls
// over 10 s of a fake clock cost with a rotated password.
func BenchmarkWrongPassword(b *testing.B) {
	var total int64
	for b.Loop() {
		n, _ := wrongPasswordCalls(b, 1000, 10*time.Second)
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "keystone-requests/1000-calls")
}

// BenchmarkRejectStorm reports the tokens issued for 1,000 calls over 10 s
// of a fake clock to an endpoint that rejects every token.
func BenchmarkRejectStorm(b *testing.B) {
	var total int64
	for b.Loop() {
		n, _ := rejectStorm(b, 1000, 10*time.Second)
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "tokens/1000-calls")
}

// TestRateLimitIsBackPressure: a 429 from the home Keystone is not a fault:
// nobody fails over to another continent for it, the circuit stays
// closed, and nobody asks again before its Retry-After.
func TestRateLimitIsBackPressure(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	srv, cfg := setup(t, testserver.Options{Clock: clk}, "gnc", 1)
	c := newClient(t, cfg)
	srv.SetFault(testserver.Keystone("SG"), testserver.Fault{Status: http.StatusTooManyRequests, RetryAfter: 20 * time.Second})
	var last error
	for range 190 { // 19 s
		_, last = c.Token(t.Context())
		clk.Advance(100 * time.Millisecond)
	}
	if !errors.Is(last, identity.ErrRateLimited) {
		t.Fatalf("last error %v; want ErrRateLimited", last)
	}
	counts := map[string]int64{}
	for _, l := range srv.Locations() {
		counts[l] = srv.Requests(testserver.Keystone(l))
	}
	if diff := cmp.Diff(map[string]int64{"JP": 0, "US": 0, "SG": 1}, counts); diff != "" {
		t.Errorf("Keystone requests by location in the first 19 s (-want +got):\n%s", diff)
	}
	for _, a := range c.Stats().Region.AuthURLs {
		if a.State != region.CircuitClosed {
			t.Errorf("%s circuit is %v after a 429; want closed", a.AuthURL, a.State)
		}
	}
	srv.ClearFaults()
	clk.Advance(2 * time.Second) // past Retry-After
	if _, err := c.Token(t.Context()); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
}
