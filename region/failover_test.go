package region

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
)

func TestFailoverRules(t *testing.T) {
	t.Parallel()
	timeout := &identity.Error{Op: "issue", URL: sg1, Kind: identity.ErrUnavailable, Err: context.DeadlineExceeded}
	tests := []struct {
		name      string
		validate  bool // Validate instead of Issue
		home      string
		answers   map[string]error
		wantCalls []string
		wantBy    string // auth_url of the token, or "" when an error is expected
		wantErr   error  // sentinel the error matches
		wantErrAt string // auth_url named by the returned *identity.Error
		wantStats Stats  // only the totals are compared
	}{
		{
			name: "home answers", home: "SG",
			wantCalls: []string{sg1}, wantBy: sg1,
			wantStats: Stats{Attempts: 1},
		},
		{
			name: "home refuses connections", home: "SG", answers: map[string]error{sg1: unavailable(sg1)},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, Failures: 1, Failovers: 1},
		},
		{
			name: "home answers 503", home: "SG", answers: map[string]error{sg1: statusErr(sg1, 503, identity.ErrUnavailable)},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, Failures: 1, Failovers: 1},
		},
		{
			name: "home times out", home: "SG", answers: map[string]error{sg1: timeout},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, Failures: 1, Failovers: 1},
		},
		{
			name: "home answers garbage", home: "SG", answers: map[string]error{sg1: statusErr(sg1, 0, identity.ErrBadResponse)},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, Failures: 1, Failovers: 1},
		},
		{
			name: "several down", home: "US", answers: map[string]error{us1: unavailable(us1), jp1: unavailable(jp1), jp2: unavailable(jp2)},
			wantCalls: []string{us1, jp1, jp2, sg1}, wantBy: sg1,
			wantStats: Stats{Attempts: 4, Failures: 3, Failovers: 3},
		},
		{
			name: "403 is an answer", home: "SG", answers: map[string]error{sg1: statusErr(sg1, 403, identity.ErrForbidden)},
			wantCalls: []string{sg1}, wantErr: identity.ErrForbidden, wantErrAt: sg1,
			wantStats: Stats{Attempts: 1},
		},
		{
			name: "401 at the primary is an answer", home: "JP", answers: map[string]error{jp1: statusErr(jp1, 401, identity.ErrUnauthorized)},
			wantCalls: []string{jp1}, wantErr: identity.ErrUnauthorized, wantErrAt: jp1,
			wantStats: Stats{Attempts: 1},
		},
		{
			name: "invalid credential is not retried", home: "SG", answers: map[string]error{sg1: &identity.Error{Op: "issue", Kind: identity.ErrInvalidCredential}},
			wantCalls: []string{sg1}, wantErr: identity.ErrInvalidCredential,
			wantStats: Stats{Attempts: 1},
		},
		{
			name: "401 at a replica: user too new, primary knows it", home: "SG", answers: map[string]error{sg1: statusErr(sg1, 401, identity.ErrUnauthorized)},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, LagRetries: 1},
		},
		{
			name: "401 at a replica and at the primary: wrong password", home: "SG",
			answers:   map[string]error{sg1: statusErr(sg1, 401, identity.ErrUnauthorized), jp1: statusErr(jp1, 401, identity.ErrUnauthorized)},
			wantCalls: []string{sg1, jp1}, wantErr: identity.ErrUnauthorized, wantErrAt: jp1,
			wantStats: Stats{Attempts: 2, LagRetries: 1},
		},
		{
			name: "lag retry fails over among the primary's auth_urls", home: "SG",
			answers:   map[string]error{sg1: statusErr(sg1, 401, identity.ErrUnauthorized), jp1: unavailable(jp1)},
			wantCalls: []string{sg1, jp1, jp2}, wantBy: jp2,
			wantStats: Stats{Attempts: 3, Failures: 1, Failovers: 1, LagRetries: 1},
		},
		{
			name: "primary unreachable for the lag retry: the replica's 401 stands", home: "SG",
			answers:   map[string]error{sg1: statusErr(sg1, 401, identity.ErrUnauthorized), jp1: unavailable(jp1), jp2: unavailable(jp2)},
			wantCalls: []string{sg1, jp1, jp2}, wantErr: identity.ErrUnauthorized, wantErrAt: sg1,
			wantStats: Stats{Attempts: 3, Failures: 2, Failovers: 1, LagRetries: 1},
		},
		{
			name: "401 at a replica reached by failover", home: "SG",
			answers: map[string]error{
				sg1: unavailable(sg1), jp1: unavailable(jp1), jp2: unavailable(jp2),
				us1: statusErr(us1, 401, identity.ErrUnauthorized),
			},
			// The primary's auth_urls already faulted in this request: the
			// lag retry does not send to them again.
			wantCalls: []string{sg1, jp1, jp2, us1}, wantErr: identity.ErrUnauthorized, wantErrAt: us1,
			wantStats: Stats{Attempts: 4, Failures: 3, Failovers: 3, LagRetries: 1},
		},
		{
			name: "validate: 404 at a replica is retried at the primary", validate: true, home: "SG",
			answers:   map[string]error{sg1: statusErr(sg1, 404, identity.ErrNotFound)},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, LagRetries: 1},
		},
		{
			name: "validate: 404 everywhere", validate: true, home: "US",
			answers:   map[string]error{us1: statusErr(us1, 404, identity.ErrNotFound), jp1: statusErr(jp1, 404, identity.ErrNotFound)},
			wantCalls: []string{us1, jp1}, wantErr: identity.ErrNotFound, wantErrAt: jp1,
			wantStats: Stats{Attempts: 2, LagRetries: 1},
		},
		{
			name: "validate: 401 (bad service token) is an answer", validate: true, home: "SG",
			answers:   map[string]error{sg1: statusErr(sg1, 401, identity.ErrUnauthorized)},
			wantCalls: []string{sg1}, wantErr: identity.ErrUnauthorized, wantErrAt: sg1,
			wantStats: Stats{Attempts: 1},
		},
		{
			name: "validate: home down", validate: true, home: "SG",
			answers:   map[string]error{sg1: unavailable(sg1)},
			wantCalls: []string{sg1, jp1}, wantBy: jp1,
			wantStats: Stats{Attempts: 2, Failures: 1, Failovers: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newTestResolver(t, nil)
			ks := newFakeKeystone()
			for u, err := range tt.answers {
				ks.set(u, err)
			}
			var tok *identity.Token
			var err error
			if tt.validate {
				tok, err = r.Validate(t.Context(), tt.home, ks, "service-token", "subject-token", identity.ValidateOptions{})
			} else {
				tok, err = r.Issue(t.Context(), tt.home, ks, testCred, identity.Scope{ProjectName: "p", ProjectDomainName: "gnc"})
			}
			if diff := cmp.Diff(tt.wantCalls, ks.takeCalls()); diff != "" {
				t.Errorf("auth_urls called (-want +got):\n%s", diff)
			}
			if tt.wantBy != "" {
				if err != nil || tok.AuthURL != tt.wantBy {
					t.Fatalf("got token from %v, error %v; want token from %s", tok, err, tt.wantBy)
				}
			} else {
				var ie *identity.Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &ie) || ie.URL != tt.wantErrAt {
					t.Fatalf("error %v; want %v from %q", err, tt.wantErr, tt.wantErrAt)
				}
			}
			got := r.Stats()
			got.AuthURLs = nil
			if diff := cmp.Diff(tt.wantStats, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllFailed(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, nil)
	ks := newFakeKeystone()
	for _, u := range []string{jp1, jp2, us1} {
		ks.set(u, unavailable(u))
	}
	ks.set(sg1, statusErr(sg1, 503, identity.ErrUnavailable))
	_, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{})

	var all *AllFailedError
	if !errors.As(err, &all) {
		t.Fatalf("error %T %v, want *AllFailedError", err, err)
	}
	var tried []string
	for _, a := range all.Attempts {
		tried = append(tried, a.Location+" "+a.AuthURL)
		if a.Skipped || a.Err == nil {
			t.Errorf("attempt %+v: want an error", a)
		}
	}
	want := []string{"SG " + sg1, "JP " + jp1, "JP " + jp2, "US " + us1}
	if diff := cmp.Diff(want, tried); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("error %v does not match identity.ErrUnavailable, the error of its attempts", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "region: issue from SG: every auth_url failed: ") || strings.Contains(msg, secret) ||
		!strings.Contains(msg, "(HTTP 503)") {
		t.Errorf("message %q", msg)
	}
	for _, u := range []string{sg1, jp1, jp2, us1} {
		if !strings.Contains(msg, u) {
			t.Errorf("message %q does not name %s", msg, u)
		}
	}
}

func TestUnknownHome(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, nil)
	ks := newFakeKeystone()
	_, ierr := r.Issue(t.Context(), "EU", ks, testCred, identity.Scope{})
	_, verr := r.Validate(t.Context(), "", ks, "s", "t", identity.ValidateOptions{})
	werr := r.Write(t.Context(), "EU", func(context.Context, string) error { return nil })
	for _, err := range []error{ierr, verr, werr} {
		var ue *UnknownLocationError
		if !errors.As(err, &ue) {
			t.Errorf("error %v, want *UnknownLocationError", err)
			continue
		}
		if diff := cmp.Diff([]string{"JP", "US", "SG"}, ue.Known); diff != "" {
			t.Errorf("known locations (-want +got):\n%s", diff)
		}
	}
	if calls := ks.takeCalls(); len(calls) != 0 {
		t.Errorf("calls %v, want none", calls)
	}
}

// TestCircuitLifecycle walks one auth_url's circuit through closed, open,
// half-open with a failed probe, and closed again, on an injected clock.
func TestCircuitLifecycle(t *testing.T) {
	t.Parallel()
	r, clk := newTestResolver(t, nil) // threshold 2, cool-down 30s
	ks := newFakeKeystone()
	ks.set(sg1, unavailable(sg1))
	steps := []struct {
		name      string
		advance   time.Duration
		heal      bool
		wantCalls []string
		wantState CircuitState
	}{
		{name: "first fault", wantCalls: []string{sg1, jp1}, wantState: CircuitClosed},
		{name: "second fault opens", wantCalls: []string{sg1, jp1}, wantState: CircuitOpen},
		{name: "open: no traffic", wantCalls: []string{jp1}, wantState: CircuitOpen},
		{name: "still cooling down", advance: 29 * time.Second, wantCalls: []string{jp1}, wantState: CircuitOpen},
		{name: "probe fails and reopens", advance: time.Second, wantCalls: []string{sg1, jp1}, wantState: CircuitOpen},
		{name: "open again: no traffic", wantCalls: []string{jp1}, wantState: CircuitOpen},
		{name: "healed but still open", heal: true, advance: 10 * time.Second, wantCalls: []string{jp1}, wantState: CircuitOpen},
		{name: "probe succeeds and closes", advance: 20 * time.Second, wantCalls: []string{sg1}, wantState: CircuitClosed},
		{name: "closed: home first", wantCalls: []string{sg1}, wantState: CircuitClosed},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if st.heal {
			ks.set(sg1, nil)
		}
		if _, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{}); err != nil {
			t.Fatalf("%s: Issue: %v", st.name, err)
		}
		if diff := cmp.Diff(st.wantCalls, ks.takeCalls()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", st.name, diff)
		}
		if got := circuitStates(r)[sg1]; got != st.wantState {
			t.Errorf("%s: state %v, want %v", st.name, got, st.wantState)
		}
	}
	want := AuthURLStats{AuthURL: sg1, Location: "SG", State: CircuitClosed, Attempts: 5, Failures: 3, Skipped: 4, Opens: 2}
	if diff := cmp.Diff(want, r.Stats().AuthURLs[3]); diff != "" {
		t.Errorf("sg1 stats (-want +got):\n%s", diff)
	}
}

// TestHalfOpenOneProbe: while the probe of a half-open circuit is in flight,
// other requests do not go to that auth_url.
func TestHalfOpenOneProbe(t *testing.T) {
	t.Parallel()
	r, clk := newTestResolver(t, func(c *Config) { c.FailureThreshold = 1 })
	ks := newFakeKeystone()
	ks.set(sg1, unavailable(sg1))
	if _, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{}); err != nil {
		t.Fatal(err)
	}
	ks.takeCalls()
	ks.set(sg1, nil)
	clk.Advance(30 * time.Second)
	if got := circuitStates(r)[sg1]; got != CircuitHalfOpen {
		t.Fatalf("state %v, want half-open", got)
	}

	started, release := make(chan struct{}), make(chan struct{})
	ks.block = func(ctx context.Context, u string) error {
		if u == sg1 {
			close(started)
			<-release
		}
		return nil
	}
	probe := make(chan *identity.Token)
	go func() {
		tok, _ := r.Issue(context.WithoutCancel(t.Context()), "SG", ks, testCred, identity.Scope{})
		probe <- tok
	}()
	<-started
	// The probe holds sg1: this request goes to JP.
	tok, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{})
	if err != nil || tok.AuthURL != jp1 {
		t.Fatalf("during the probe: token from %v, %v; want from jp1", tok, err)
	}
	if got := r.Order("SG"); got[len(got)-1] != sg1 {
		t.Errorf("Order during the probe = %v, want sg1 last", got)
	}
	close(release)
	if tok := <-probe; tok == nil || tok.AuthURL != sg1 {
		t.Fatalf("probe token %v, want from sg1", tok)
	}
	if diff := cmp.Diff([]string{sg1, jp1}, ks.takeCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := circuitStates(r)[sg1]; got != CircuitClosed {
		t.Errorf("state after the probe %v, want closed", got)
	}
}

// TestAllOpen: when every circuit is open the resolver probes them early
// rather than fail on a stale verdict; a request that finds every probe
// slot taken fails at once.
func TestAllOpen(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, func(c *Config) { c.FailureThreshold = 1 })
	ks := newFakeKeystone()
	for _, u := range []string{jp1, jp2, us1, sg1} {
		ks.set(u, unavailable(u))
	}
	// Everything fails once: every circuit opens.
	if _, err := r.Issue(t.Context(), "US", ks, testCred, identity.Scope{}); !errorAs[*AllFailedError](err) {
		t.Fatalf("error %v, want *AllFailedError", err)
	}
	for u, s := range circuitStates(r) {
		if s != CircuitOpen {
			t.Errorf("%s: state %v, want open", u, s)
		}
	}
	ks.takeCalls()
	// Still all down, no time passed: probed early, in order, all fail.
	_, err := r.Issue(t.Context(), "US", ks, testCred, identity.Scope{})
	var all *AllFailedError
	if !errors.As(err, &all) || len(all.Attempts) != 4 || all.Attempts[0].Skipped {
		t.Fatalf("error %v, want 4 attempts made", err)
	}
	if diff := cmp.Diff([]string{us1, jp1, jp2, sg1}, ks.takeCalls()); diff != "" {
		t.Errorf("early probes (-want +got):\n%s", diff)
	}
	for _, u := range r.Stats().AuthURLs {
		if u.Skipped != 0 || u.Attempts != 2 || u.Opens != 2 {
			t.Errorf("%s: %+v; want 2 attempts, 2 opens, no skip", u.AuthURL, u)
		}
	}
	// JP comes back: the early probe finds it and closes its circuit.
	ks.set(jp2, nil)
	tok, err := r.Issue(t.Context(), "US", ks, testCred, identity.Scope{})
	if err != nil || tok.AuthURL != jp2 {
		t.Fatalf("token %v, %v; want from jp2", tok, err)
	}
	if diff := cmp.Diff([]string{us1, jp1, jp2}, ks.takeCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := circuitStates(r)[jp2]; got != CircuitClosed {
		t.Errorf("jp2 state %v, want closed", got)
	}
	// Now jp2 is closed: no more early probes of the others.
	if _, err := r.Issue(t.Context(), "US", ks, testCred, identity.Scope{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{jp2}, ks.takeCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestAllOpenEveryProbeTaken(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Unix(1e9, 0))
	r, err := New(Config{
		Locations: []Location{{Name: "JP", AuthURLs: []string{jp1}}},
		Primary:   "JP", FailureThreshold: 1, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	ks := newFakeKeystone()
	ks.set(jp1, unavailable(jp1))
	if _, err := r.Issue(t.Context(), "JP", ks, testCred, identity.Scope{}); err == nil {
		t.Fatal("want an error")
	}
	started, release := make(chan struct{}), make(chan struct{})
	ks.block = func(context.Context, string) error { close(started); <-release; return nil }
	done := make(chan error)
	go func() {
		_, err := r.Issue(context.WithoutCancel(t.Context()), "JP", ks, testCred, identity.Scope{})
		done <- err
	}()
	<-started
	_, err = r.Issue(t.Context(), "JP", ks, testCred, identity.Scope{})
	var all *AllFailedError
	if !errors.As(err, &all) {
		t.Fatalf("error %v, want *AllFailedError", err)
	}
	if diff := cmp.Diff([]Attempt{{AuthURL: jp1, Location: "JP", Skipped: true}}, all.Attempts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "circuit open, not tried") {
		t.Errorf("message %q", err)
	}
	close(release)
	if err := <-done; !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("probe error %v, want the fault", err)
	}
}

func TestCallerCancellation(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, func(c *Config) { c.FailureThreshold = 1 })
	ks := newFakeKeystone()
	ctx, cancel := context.WithCancel(t.Context())
	ks.block = func(actx context.Context, u string) error {
		cancel()
		<-actx.Done()
		return &identity.Error{Op: "issue", URL: u, Kind: identity.ErrUnavailable, Err: actx.Err()}
	}
	_, err := r.Issue(ctx, "SG", ks, testCred, identity.Scope{})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "region: issue from SG stopped") {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
	if diff := cmp.Diff([]string{sg1}, ks.takeCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// The caller giving up says nothing about sg1's health.
	if s := r.Stats(); s.AuthURLs[3].State != CircuitClosed || s.Failures != 0 {
		t.Errorf("stats %+v: want sg1 closed and no failure", s)
	}
	// Already canceled: nothing is sent.
	_, err = r.Issue(ctx, "SG", ks, testCred, identity.Scope{})
	if !errors.Is(err, context.Canceled) || len(ks.takeCalls()) != 0 {
		t.Errorf("error %v: want context.Canceled and no call", err)
	}
}

// TestAttemptTimeout runs in a synctest bubble: the hanging home location
// costs exactly one AttemptTimeout of (fake) time before JP answers, and a
// caller deadline shorter than that wins.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	hang := func(ctx context.Context, u string) error {
		if u == sg1 {
			<-ctx.Done()
			return &identity.Error{Op: "issue", URL: u, Kind: identity.ErrUnavailable, Err: ctx.Err()}
		}
		return nil
	}
	synctest.Test(t, func(t *testing.T) {
		r, err := New(Config{Locations: testConfig().Locations, Primary: "JP", AttemptTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ks := newFakeKeystone()
		ks.block = hang
		start := time.Now()
		tok, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{})
		if err != nil || tok.AuthURL != jp1 {
			t.Fatalf("token %v, %v; want from jp1", tok, err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("took %v, want one attempt timeout (5s)", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		r, err := New(Config{Locations: testConfig().Locations, Primary: "JP", AttemptTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ks := newFakeKeystone()
		ks.block = hang
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err = r.Issue(ctx, "SG", ks, testCred, identity.Scope{})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 2*time.Second {
			t.Errorf("error %v after %v; want the caller's deadline after 2s", err, time.Since(start))
		}
		if diff := cmp.Diff([]string{sg1}, ks.takeCalls()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
}

func TestWrite(t *testing.T) {
	t.Parallel()
	dial := func(u string) error {
		return &identity.Error{Op: "write", URL: u, Kind: identity.ErrUnavailable,
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	}
	tests := []struct {
		name      string
		location  string
		answers   map[string]error
		wantCalls []string
		wantErr   func(error) bool // nil: no error
	}{
		{name: "primary", location: "JP", wantCalls: []string{jp1}},
		{name: "replica refused", location: "SG", wantErr: errorAs[*NotPrimaryError]},
		{name: "unknown", location: "EU", wantErr: errorAs[*UnknownLocationError]},
		{name: "primary's first auth_url unreachable", location: "JP", answers: map[string]error{jp1: dial(jp1)}, wantCalls: []string{jp1, jp2}},
		{
			name: "5xx after sending: not repeated", location: "JP", answers: map[string]error{jp1: statusErr(jp1, 503, identity.ErrUnavailable)},
			wantCalls: []string{jp1}, wantErr: errorIs(identity.ErrUnavailable),
		},
		{
			name: "both unreachable", location: "JP", answers: map[string]error{jp1: dial(jp1), jp2: dial(jp2)},
			wantCalls: []string{jp1, jp2}, wantErr: errorAs[*AllFailedError],
		},
		{
			name: "403 is returned", location: "JP", answers: map[string]error{jp1: statusErr(jp1, 403, identity.ErrForbidden)},
			wantCalls: []string{jp1}, wantErr: errorIs(identity.ErrForbidden),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newTestResolver(t, nil)
			var mu sync.Mutex
			var calls []string
			err := r.Write(t.Context(), tt.location, func(ctx context.Context, authURL string) error {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("write context has no deadline")
				}
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, authURL)
				return tt.answers[authURL]
			})
			if (tt.wantErr == nil) != (err == nil) || err != nil && !tt.wantErr(err) {
				t.Fatalf("Write error %v, want the case's error", err)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotPrimaryMessage(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, nil)
	err := r.Write(t.Context(), "SG", func(context.Context, string) error { return nil })
	var np *NotPrimaryError
	if !errors.As(err, &np) || np.Primary != "JP" || np.Location != "SG" {
		t.Fatalf("error %v, want *NotPrimaryError", err)
	}
	want := "region: write refused at SG: writes (users, projects, application credentials) go to the primary location JP; SG is a read-only replica"
	if err.Error() != want {
		t.Errorf("message\n%q\nwant\n%q", err, want)
	}
}

// TestConcurrent hammers one resolver from many goroutines with a flapping
// auth_url and a moving clock; run with -race. Every call sent must be
// counted once.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	r, clk := newTestResolver(t, nil)
	ks := newFakeKeystone()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				switch {
				case i%7 == 0:
					ks.set(sg1, unavailable(sg1))
				case i%11 == 0:
					ks.set(sg1, nil)
				}
				if i%5 == 0 {
					clk.Advance(7 * time.Second)
				}
				home := []string{"SG", "US", "JP"}[(g+i)%3]
				if _, err := r.Issue(t.Context(), home, ks, testCred, identity.Scope{}); err != nil {
					t.Errorf("Issue: %v", err)
				}
				_ = r.Order(home)
				_ = r.Stats()
			}
		})
	}
	wg.Wait()
	s := r.Stats()
	var perURL uint64
	for _, u := range s.AuthURLs {
		perURL += u.Attempts
	}
	if n := uint64(len(ks.takeCalls())); s.Attempts != n || perURL != n {
		t.Errorf("attempts %d (per auth_url %d), calls %d", s.Attempts, perURL, n)
	}
}

// TestPanickingKeystoneReleasesProbe: a probe whose Keystone panics does not
// hold the half-open slot forever.
func TestPanickingKeystoneReleasesProbe(t *testing.T) {
	t.Parallel()
	r, clk := newTestResolver(t, func(c *Config) { c.FailureThreshold = 1 })
	ks := newFakeKeystone()
	ks.set(sg1, unavailable(sg1))
	if _, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the Keystone's panic did not propagate")
			}
		}()
		_, _ = r.Issue(t.Context(), "SG", keystoneFuncs{issue: func(context.Context, string, identity.Credential, identity.Scope) (*identity.Token, error) {
			panic("keystone bug")
		}}, testCred, identity.Scope{})
	}()
	ks.set(sg1, nil)
	ks.takeCalls()
	tok, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{})
	if err != nil || tok.AuthURL != sg1 {
		t.Fatalf("token %v, %v; want the probe to reach sg1", tok, err)
	}
	if got := circuitStates(r)[sg1]; got != CircuitClosed {
		t.Errorf("state %v, want closed", got)
	}
}

// TestLagRetryRespectsOpenPrimary: while the primary's circuits are open, a
// replica's 401 is the answer; the lag retry does not probe the primary
// before its cool-down.
func TestLagRetryRespectsOpenPrimary(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, func(c *Config) { c.FailureThreshold = 1 })
	ks := newFakeKeystone()
	ks.set(jp1, unavailable(jp1))
	ks.set(jp2, unavailable(jp2))
	// Open both primary circuits.
	if _, err := r.Issue(t.Context(), "JP", ks, testCred, identity.Scope{}); err != nil {
		t.Fatalf("failover to a replica: %v", err)
	}
	ks.takeCalls()
	ks.set(sg1, statusErr(sg1, 401, identity.ErrUnauthorized))
	_, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{})
	if !errors.Is(err, identity.ErrUnauthorized) {
		t.Fatalf("error %v, want the replica's 401", err)
	}
	if diff := cmp.Diff([]string{sg1}, ks.takeCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := r.Stats().LagRetries; got != 1 {
		t.Errorf("lag retries %d, want 1 (counted, though no primary could be asked)", got)
	}
}
