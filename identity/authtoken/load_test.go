package authtoken

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/geostack/geostack/internal/testserver"
)

// hangKeystone makes every location's Keystone hold validations until the
// request's context ends, after the service token has been fetched.
func hangKeystone(t *testing.T, e *env) {
	t.Helper()
	e.serviceToken(t)
	for _, l := range e.srv.Locations() {
		e.srv.SetFault(testserver.Keystone(l), testserver.Fault{Hang: true})
	}
}

// waitFlights waits until no validation flight runs (no sleep: the
// Validator's own WaitGroup), and returns how many are still listed.
func waitFlights(v *Validator) int {
	v.inflight.Wait()
	v.fmu.Lock()
	defer v.fmu.Unlock()
	return len(v.flights)
}

// TestAbandonedValidationsAreCancelled: callers that hang up take their
// flights with them. 300 callers with distinct tokens against a Keystone
// that never answers: 64 flights start (the cap), the other 236 callers are
// turned away at once with a retry hint, and once the callers are gone
// every flight has ended, without the 30 s ValidateTimeout.
//
// Not parallel: it counts the process's goroutines, which the other tests
// of the package, running beside it, would change.
func TestAbandonedValidationsAreCancelled(t *testing.T) {
	e := setup(t, setupOpts{config: func(c *Config) { c.Client = nil }}) // the Validator's own HTTP client
	hangKeystone(t, e)
	before := runtime.NumGoroutine()

	ctx, hangUp := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[string]int{}
	started := make(chan struct{}, 300)
	for range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := fernetID(e.clock.Now())
			started <- struct{}{}
			_, err := e.v.Validate(ctx, tok)
			var ae *Error
			kind := "other"
			switch {
			case errors.As(err, &ae) && ae.RetryAfter > 0:
				kind = "turned away"
			case errors.As(err, &ae) && errors.Is(err, context.Canceled):
				kind = "hung up"
			}
			mu.Lock()
			kinds[kind]++
			mu.Unlock()
		}()
	}
	for range 300 {
		<-started
	}
	// Every caller is in Validate or done when all 64 flights are
	// listed and the other callers have returned.
	for {
		e.v.fmu.Lock()
		n := len(e.v.flights)
		e.v.fmu.Unlock()
		mu.Lock()
		away := kinds["turned away"]
		mu.Unlock()
		if n == defaultMaxValidations && away == 300-defaultMaxValidations {
			break
		}
		runtime.Gosched()
	}
	hangUp()
	wg.Wait()
	if n := waitFlights(e.v); n != 0 {
		t.Errorf("%d flights listed after the callers left", n)
	}
	if got := map[string]int{"turned away": kinds["turned away"], "hung up": kinds["hung up"]}; got["turned away"] != 236 || got["hung up"] != 64 || kinds["other"] != 0 {
		t.Errorf("outcomes %v; want 236 turned away, 64 hung up", kinds)
	}
	// The goroutines of the flights are gone (waitFlights); what else may
	// linger a moment, net/http's connection goroutines, is measured by
	// BenchmarkAbandonedValidations rather than asserted on a busy machine.
	_ = before
}

// BenchmarkAbandonedValidations reports what 300 callers with distinct
// tokens leave behind once they hang up on a Keystone that never answers:
// flights (none: each is cancelled when its last caller leaves) and
// goroutines beyond the start, once net/http has closed the connections.
// It was 1,497 goroutines for 300 callers, each waiting out the 30 s
// ValidateTimeout.
func BenchmarkAbandonedValidations(b *testing.B) {
	e := setup(b, setupOpts{config: func(c *Config) { c.Client = nil }})
	e.serviceToken(b)
	for _, l := range e.srv.Locations() {
		e.srv.SetFault(testserver.Keystone(l), testserver.Fault{Hang: true})
	}
	before := runtime.NumGoroutine()
	var left, flights int
	for b.Loop() {
		ctx, hangUp := context.WithCancel(b.Context())
		var wg sync.WaitGroup
		for range 300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.v.Validate(ctx, fernetID(e.clock.Now()))
			}()
		}
		for {
			e.v.fmu.Lock()
			n := len(e.v.flights)
			e.v.fmu.Unlock()
			if n == defaultMaxValidations {
				break
			}
			runtime.Gosched()
		}
		hangUp()
		wg.Wait()
		flights += waitFlights(e.v)
	}
	b.StopTimer()
	e.v.client.HTTPClient.Transport.(*http.Transport).CloseIdleConnections()
	left = runtime.NumGoroutine() - before
	for i := 0; i < 1000000 && left > 0; i++ {
		runtime.Gosched()
		left = runtime.NumGoroutine() - before
	}
	b.ReportMetric(float64(flights)/float64(b.N), "flights-left")
	b.ReportMetric(float64(left), "goroutines-left")
}

// TestOverloadIsA503WithRetryAfter: a caller turned away by the cap gets
// 503 and Retry-After from the Handler, at once.
func TestOverloadIsA503WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{config: func(c *Config) { c.MaxValidations = 1 }})
	hangKeystone(t, e)
	ctx, hangUp := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.v.Validate(ctx, fernetID(e.clock.Now()))
	}()
	for {
		e.v.fmu.Lock()
		n := len(e.v.flights)
		e.v.fmu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	h := e.v.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the backend was reached") }), HandlerOptions{})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Auth-Token", fernetID(e.clock.Now()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("got %d, Retry-After %q; want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	hangUp()
	<-done
	if n := waitFlights(e.v); n != 0 {
		t.Errorf("%d flights listed after the caller left", n)
	}
}

// TestConnectionsPerKeystoneAreBounded: 64 concurrent callers with
// distinct unknown tokens hold at most maxConnsPerKeystone connections to
// the home Keystone with the Validator's own HTTP client (64 before).
func TestConnectionsPerKeystoneAreBounded(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{config: func(c *Config) { c.Client = nil }})
	e.serviceToken(t)
	e.srv.SetFault(testserver.Keystone("SG"), testserver.Fault{Latency: 20 * time.Millisecond})
	var wg sync.WaitGroup
	old := e.clock.Now().Add(-time.Hour) // unknown everywhere: no lag retry
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.v.Validate(t.Context(), fernetID(old))
		}()
	}
	wg.Wait()
	if peak := e.srv.PeakConnections("SG"); peak > maxConnsPerKeystone+1 {
		t.Errorf("peak %d connections to SG; want at most %d (+1 for the service token's)", peak, maxConnsPerKeystone)
	}
}

// BenchmarkBadTokens reports the Keystone validations that distinct bad
// tokens cost with a replica home (SG), by kind: malformed ones none,
// unknown old ones one (no lag retry for a token older than any lag), and
// unknown tokens that claim to be new at most two, and beyond the lag
// retry budget (10 a second) one. It was two for every distinct token.
func BenchmarkBadTokens(b *testing.B) {
	kinds := []struct {
		name  string
		token func(e *env) string
	}{
		{"malformed", func(*env) string { return "garbage-" + fernetID(clockStart)[:20] }},
		{"unknown-old", func(e *env) string { return fernetID(e.clock.Now().Add(-time.Hour)) }},
		{"unknown-new", func(e *env) string { return fernetID(e.clock.Now()) }},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			e := setup(b, setupOpts{})
			e.serviceToken(b)
			before := e.keystoneRequests()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.v.Validate(b.Context(), k.token(e)); !errors.Is(err, ErrInvalidToken) {
					b.Fatalf("err = %v, want ErrInvalidToken", err)
				}
			}
			b.ReportMetric(float64(e.keystoneRequests()-before)/float64(b.N), "keystone-validations/token")
		})
	}
}
