package tokencache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// attemptBounds returns the fewest and the most fetches a source that
// always fails can see when callers come every tick until last (the first
// at 0), with the backoff of o: the most if every backoff draws its
// shortest wait, the fewest if every one draws its longest and the next
// caller comes a tick after it ends.
func attemptBounds(o Options, last, tick time.Duration) (lo, hi int) {
	count := func(wait func(n int) time.Duration) int {
		attempts, at := 1, time.Duration(0)
		for n := 1; ; n++ {
			at += wait(n)
			if at > last {
				return attempts
			}
			attempts++
		}
	}
	hi = count(func(n int) time.Duration { return o.backoff(n, 0) })
	lo = count(func(n int) time.Duration { return o.backoff(n, 1) + tick })
	return lo, hi
}

// TestFailedFetchBackoff makes 1,000 Token calls over 10 s of the cache's
// clock on a source that always fails, at the fake Keystone: a wrong
// password (401) or Keystone down (503). The failure is remembered: the
// source is called once per backoff window (a handful of times, the
// backoff doubling), every caller in a window gets the same *FetchError,
// whose Retry says when the next attempt is, and the first caller at or
// after Retry makes it.
func TestFailedFetchBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		backoffMin, max time.Duration
		handles         int // callers take turns on this many Handles of the key
		down            bool
		wantKind        error
		// The bounds attemptBounds computes, written out: about log2 of
		// the span over BackoffMin while the backoff doubles.
		wantMinAttempts, wantMaxAttempts int
	}{
		{name: "wrong password, defaults", handles: 1, wantKind: identity.ErrUnauthorized, wantMinAttempts: 4, wantMaxAttempts: 5},
		{name: "wrong password, a Handle per caller", handles: 10, wantKind: identity.ErrUnauthorized, wantMinAttempts: 4, wantMaxAttempts: 5},
		{name: "Keystone down, defaults", handles: 1, down: true, wantKind: identity.ErrUnavailable, wantMinAttempts: 4, wantMaxAttempts: 5},
		{name: "wrong password, 100ms doubling", backoffMin: 100 * time.Millisecond, max: time.Minute, handles: 1, wantKind: identity.ErrUnauthorized, wantMinAttempts: 7, wantMaxAttempts: 8},
		{name: "wrong password, capped at 2s", backoffMin: time.Second, max: 2 * time.Second, handles: 1, wantKind: identity.ErrUnauthorized, wantMinAttempts: 6, wantMaxAttempts: 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := testserver.New(t, testserver.Options{Clock: clk})
			if tt.down {
				srv.SetFault(testserver.Keystone("JP"), testserver.Fault{Status: http.StatusServiceUnavailable})
			}
			idc := &identity.Client{Clock: clk}
			cred := identity.Password{UserName: testUser, DomainName: "gnc", Password: "wrong-password-SECRET"}
			var mu sync.Mutex
			var attempts []time.Time
			src := identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
				mu.Lock()
				attempts = append(attempts, clk.Now())
				mu.Unlock()
				return idc.Issue(ctx, srv.AuthURL("JP"), cred, testScope)
			})
			logs := &countingHandler{}
			opts := Options{Clock: clk, BackoffMin: tt.backoffMin, BackoffMax: tt.max, Logger: slog.New(logs)}
			c := mustNew(t, opts)
			key := Key{Credential: cred, Scope: testScope}
			hs := make([]*Handle, tt.handles)
			for i := range hs {
				hs[i] = mustHandle(t, c, key, src)
			}
			resolved, err := opts.withDefaults()
			if err != nil {
				t.Fatal(err)
			}

			const calls, span = 1000, 10 * time.Second
			tick := span / calls
			var (
				prev     *FetchError
				distinct []*FetchError
			)
			for i := range calls {
				now := clk.Now()
				_, err := hs[i%len(hs)].Token(t.Context())
				var ferr *FetchError
				if !errors.As(err, &ferr) || !errors.Is(err, tt.wantKind) {
					t.Fatalf("call %d: Token = %v, want a *FetchError matching %v", i, err, tt.wantKind)
				}
				mu.Lock()
				n := len(attempts)
				mu.Unlock()
				switch {
				case ferr == prev:
					if !now.Before(prev.Retry) {
						t.Fatalf("call %d at %v: the FetchError of before, whose Retry %v has passed", i, now.Sub(t0), prev.Retry.Sub(t0))
					}
				default:
					if prev != nil && (now.Before(prev.Retry) || !now.Before(prev.Retry.Add(tick))) {
						t.Errorf("call %d: attempt at %v, want the first call at or after Retry %v", i, now.Sub(t0), prev.Retry.Sub(t0))
					}
					distinct = append(distinct, ferr)
					if n != len(distinct) {
						t.Fatalf("call %d: %d source calls for %d distinct errors", i, n, len(distinct))
					}
					// Retry is one backoff after the attempt.
					lo, hi := resolved.backoff(n, 0), resolved.backoff(n, 1)
					if wait := ferr.Retry.Sub(now); wait < lo || wait > hi {
						t.Errorf("attempt %d: Retry in %v, want a backoff within [%v, %v]", n, wait, lo, hi)
					}
					if !strings.Contains(ferr.Error(), "next attempt at "+ferr.Retry.Format(time.RFC3339)) {
						t.Errorf("error %q does not say when the next attempt is", ferr)
					}
					prev = ferr
				}
				clk.Advance(tick)
			}

			lo, hi := attemptBounds(resolved, span-tick, tick)
			if lo != tt.wantMinAttempts || hi != tt.wantMaxAttempts {
				t.Fatalf("attemptBounds = [%d, %d], the table says [%d, %d]", lo, hi, tt.wantMinAttempts, tt.wantMaxAttempts)
			}
			got := len(distinct)
			if got < lo || got > hi {
				t.Errorf("%d calls over %v made %d attempts, want within [%d, %d]", calls, span, got, lo, hi)
			}
			if n := srv.Requests(testserver.Keystone("JP")); n != int64(got) {
				t.Errorf("Keystone saw %d requests, want %d", n, got)
			}
			if diff := cmp.Diff(Stats{Failures: uint64(got)}, c.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[slog.Level]int{slog.LevelError: 1}, logs.counts()); diff != "" {
				t.Errorf("log records (-want +got):\n%s", diff)
			}
			for _, r := range append(logs.records(), distinct[0].Error()) {
				if strings.Contains(r, "SECRET") {
					t.Errorf("log record or error holds the password: %s", r)
				}
			}
		})
	}
}

// TestFetchRecoversAfterBackoff fails the first fetches and then succeeds:
// each failure is handed, without a fetch, to every caller until its
// Retry, the backoff doubles up to BackoffMax, and the first call at Retry
// fetches again. Recovery is logged once.
func TestFetchRecoversAfterBackoff(t *testing.T) {
	t.Parallel()
	wrongPassword := &identity.Error{Op: "issue", Kind: identity.ErrUnauthorized, Status: 401}
	down := &identity.Error{Op: "issue", Kind: identity.ErrUnavailable, Status: 503}
	tests := []struct {
		name     string
		failures int
		cause    error
		opts     Options
	}{
		{"one failure", 1, wrongPassword, Options{}},
		{"three failures", 3, down, Options{}},
		{"up to the cap", 6, down, Options{BackoffMin: time.Second, BackoffMax: 4 * time.Second}},
		{"context error of the source", 2, context.DeadlineExceeded, Options{BackoffMin: 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				logs := &countingHandler{}
				opts := tt.opts
				opts.Logger = slog.New(logs)
				c, h, f, clk := setup(t, opts)
				resolved, err := (Options{BackoffMin: tt.opts.BackoffMin, BackoffMax: tt.opts.BackoffMax}).withDefaults()
				if err != nil {
					t.Fatal(err)
				}
				f.set(tt.cause, nil)
				for n := 1; n <= tt.failures; n++ {
					now := clk.Now()
					_, err := h.Token(t.Context())
					var ferr *FetchError
					if !errors.As(err, &ferr) || !errors.Is(err, tt.cause) {
						t.Fatalf("failure %d: Token = %v, want a *FetchError matching %v", n, err, tt.cause)
					}
					if wait, lo, hi := ferr.Retry.Sub(now), resolved.backoff(n, 0), resolved.backoff(n, 1); wait < lo || wait > hi {
						t.Errorf("failure %d: Retry in %v, want within [%v, %v]", n, wait, lo, hi)
					}
					if want := testKey("u1").describe(); ferr.Identity != want {
						t.Errorf("FetchError.Identity = %q, want %q", ferr.Identity, want)
					}
					// Within the backoff every caller, on any Handle, gets
					// this error at once.
					clk.Set(ferr.Retry.Add(-time.Nanosecond))
					var wg sync.WaitGroup
					for range 20 {
						other := mustHandle(t, c, testKey("u1"), &fetcher{clock: clk, life: time.Hour})
						wg.Go(func() {
							if _, err := other.Token(t.Context()); err != ferr {
								t.Errorf("Token within the backoff = %v, want the FetchError of failure %d", err, n)
							}
						})
					}
					wg.Wait()
					if got := f.Calls(); got != n {
						t.Fatalf("%d fetches after failure %d and its backoff, want %d", got, n, n)
					}
					if n == tt.failures {
						f.set(nil, nil)
					}
					clk.Set(ferr.Retry)
				}
				if got := mustToken(t, h); got != fmt.Sprint("tok-", tt.failures+1) {
					t.Errorf("Token after the last backoff = %q, want tok-%d", got, tt.failures+1)
				}
				if diff := cmp.Diff(Stats{Issued: 1, Failures: uint64(tt.failures)}, c.Stats()); diff != "" {
					t.Errorf("Stats (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(map[slog.Level]int{slog.LevelError: 1, slog.LevelInfo: 1}, logs.counts()); diff != "" {
					t.Errorf("log records (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestFailedFetchCoalesced: callers waiting together on a fetch that fails
// all get its one *FetchError.
func TestFailedFetchCoalesced(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, h, f, _ := setup(t, Options{})
		gate := make(chan struct{})
		f.set(errors.New("keystone said no"), gate)
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			hc := mustHandle(t, c, testKey("u1"), f)
			if i == 0 {
				hc = h
			}
			wg.Go(func() { _, errs[i] = hc.Token(t.Context()) })
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		var ferr *FetchError
		if !errors.As(errs[0], &ferr) {
			t.Fatalf("Token = %v, want a *FetchError", errs[0])
		}
		for i, err := range errs {
			if err != ferr {
				t.Errorf("caller %d got %v, want the one FetchError", i, err)
			}
		}
		if diff := cmp.Diff(Stats{Failures: 1, Coalesced: n - 1}, c.Stats()); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}
