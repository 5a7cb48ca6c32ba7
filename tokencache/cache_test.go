package tokencache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
)

// fetcher is a FetchFunc for tests: it issues tokens "tok-1", "tok-2", …
// of a fixed lifetime on a fake clock, or fails with err, optionally
// holding each call until gate is closed.
type fetcher struct {
	clock *fakeClock
	life  time.Duration

	mu    sync.Mutex
	calls int
	err   error
	gate  chan struct{}
}

func (f *fetcher) fetch(ctx context.Context) (*identity.Token, error) {
	f.mu.Lock()
	f.calls++
	n, err, gate := f.calls, f.err, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	now := f.clock.Now()
	return &identity.Token{ID: fmt.Sprintf("tok-%d", n), IssuedAt: now, ExpiresAt: now.Add(f.life), Expiry: now.Add(f.life)}, nil
}

func (f *fetcher) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fetcher) set(err error, gate chan struct{}) {
	f.mu.Lock()
	f.err, f.gate = err, gate
	f.mu.Unlock()
}

// setup returns a cache on a fake clock with jitter off, so that a 1-hour
// token goes stale at 45m and expires at 59m30s, and the Handle of a
// fetcher of such tokens. The cache is closed when the test ends, and the
// clock must then have no timer left.
func setup(t *testing.T, opts Options) (*Cache, *Handle, *fetcher, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	opts.Clock = clock
	if opts.Jitter == 0 {
		opts.Jitter = -1
	}
	c := New(opts)
	f := &fetcher{clock: clock, life: time.Hour}
	h := c.Handle("key", f.fetch)
	t.Cleanup(func() {
		c.Close()
		if n := clock.Pending(); n != 0 {
			t.Errorf("%d timers pending after Close", n)
		}
	})
	return c, h, f, clock
}

func mustToken(t *testing.T, h *Handle) string {
	t.Helper()
	tok, err := h.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.ID
}

func (h *Handle) state() state {
	if e := h.cur.Load(); e != nil {
		return e.state
	}
	return stateExpired
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	type step struct {
		advance   time.Duration // from the first fetch
		read      bool          // call Token after advancing
		wantState state         // before the read
		wantID    string        // if read
		wantCalls int           // after the read and the refresh it starts
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fresh until the window opens", []step{
			{advance: 44*time.Minute + 59*time.Second, read: true, wantState: stateFresh, wantID: "tok-1", wantCalls: 1},
		}},
		{"stale read serves and refreshes once", []step{
			{advance: 45 * time.Minute, read: true, wantState: stateStale, wantID: "tok-1", wantCalls: 2},
			{advance: 46 * time.Minute, read: true, wantState: stateFresh, wantID: "tok-2", wantCalls: 2},
		}},
		{"unread token expires at the margin", []step{
			{advance: 59*time.Minute + 29*time.Second, wantState: stateStale, wantCalls: 1},
			{advance: 59*time.Minute + 30*time.Second, read: true, wantState: stateExpired, wantID: "tok-2", wantCalls: 2},
		}},
		{"refreshed token runs its own timers", []step{
			{advance: 50 * time.Minute, read: true, wantState: stateStale, wantID: "tok-1", wantCalls: 2},
			{advance: 50*time.Minute + 44*time.Minute, wantState: stateFresh, wantCalls: 2},
			{advance: 50*time.Minute + 45*time.Minute, read: true, wantState: stateStale, wantID: "tok-2", wantCalls: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				_, h, f, clock := setup(t, Options{})
				if got := mustToken(t, h); got != "tok-1" {
					t.Fatalf("first Token = %q, want tok-1", got)
				}
				start := clock.Now()
				for i, s := range tt.steps {
					clock.Advance(start.Add(s.advance).Sub(clock.Now()))
					if got := h.state(); got != s.wantState {
						t.Errorf("step %d: state = %d, want %d", i, got, s.wantState)
					}
					if s.read {
						if got := mustToken(t, h); got != s.wantID {
							t.Errorf("step %d: Token = %q, want %q", i, got, s.wantID)
						}
					}
					synctest.Wait()
					if got := f.Calls(); got != s.wantCalls {
						t.Errorf("step %d: %d fetches, want %d", i, got, s.wantCalls)
					}
				}
			})
		})
	}
}

func TestRefreshWindow(t *testing.T) {
	t.Parallel()
	o := Options{}.withDefaults()
	tests := []struct {
		life time.Duration
		want time.Duration // without jitter
	}{
		{time.Hour, 15 * time.Minute},       // the share
		{24 * time.Hour, 6 * time.Hour},     // the share
		{5 * time.Minute, 2 * time.Minute},  // the floor
		{3 * time.Minute, 90 * time.Second}, // the floor, capped at half
		{10 * time.Second, 5 * time.Second}, // half
		{8 * time.Minute, 2 * time.Minute},  // share = floor
		{0, 0},                              // degenerate
	}
	for _, tt := range tests {
		t.Run(tt.life.String(), func(t *testing.T) {
			t.Parallel()
			if got := o.refreshWindow(tt.life, 0); got != tt.want {
				t.Errorf("window without jitter = %v, want %v", got, tt.want)
			}
			hi := tt.want + time.Duration(float64(tt.want)*DefaultJitter)
			for _, u := range []float64{0.25, 0.5, 0.999999} {
				if got := o.refreshWindow(tt.life, u); got < tt.want || got > hi {
					t.Errorf("window(u=%v) = %v, want within [%v, %v]", u, got, tt.want, hi)
				}
			}
		})
	}
}

// TestJitterSpreadsRefreshes checks that tokens fetched at the same moment
// open their windows at different times, within the documented bounds.
func TestJitterSpreadsRefreshes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Clock: clock})
		defer c.Close()
		const n = 50
		hs := make([]*Handle, n)
		for i := range hs {
			f := &fetcher{clock: clock, life: time.Hour}
			hs[i] = c.Handle(Key(fmt.Sprint(i)), f.fetch)
			mustToken(t, hs[i])
		}
		start := clock.Now()
		firstStale, lastStale := time.Duration(-1), time.Duration(0)
		for clock.Now().Sub(start) < 46*time.Minute {
			clock.Advance(time.Second)
			stale := 0
			for _, h := range hs {
				if h.state() != stateFresh {
					stale++
				}
			}
			el := clock.Now().Sub(start)
			if stale > 0 && firstStale < 0 {
				firstStale = el
			}
			if stale == n && lastStale == 0 {
				lastStale = el
			}
		}
		// Windows open between 45m-90s (15m + 10%) and 45m before expiry.
		if firstStale < 43*time.Minute+30*time.Second || lastStale > 45*time.Minute {
			t.Errorf("windows opened between %v and %v after issue, want within [43m30s, 45m]", firstStale, lastStale)
		}
		if lastStale-firstStale < 30*time.Second {
			t.Errorf("%d windows opened within %v: jitter does not spread them", n, lastStale-firstStale)
		}
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	o := Options{}.withDefaults()
	tests := []struct {
		n      int
		lo, hi time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{6, 16 * time.Second, 32 * time.Second},
		{7, 30 * time.Second, 60 * time.Second},
		{8, 30 * time.Second, 60 * time.Second},
		{100, 30 * time.Second, 60 * time.Second},
	}
	for _, tt := range tests {
		for _, u := range []float64{0, 0.5, 0.999999} {
			if got := o.backoff(tt.n, u); got < tt.lo || got > tt.hi {
				t.Errorf("backoff(%d, %v) = %v, want within [%v, %v]", tt.n, u, got, tt.lo, tt.hi)
			}
		}
	}
}

// countingHandler counts log records by level.
type countingHandler struct {
	mu     sync.Mutex
	levels map[slog.Level]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.levels == nil {
		h.levels = map[slog.Level]int{}
	}
	h.levels[r.Level]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) counts() map[slog.Level]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.levels)
}

// TestFailedRefreshKeepsServing fails every refresh in the window: reads
// keep getting the valid token, tries back off, the episode is logged
// once, and once the token expires the caller gets a *FetchError that
// wraps the cause.
func TestFailedRefreshKeepsServing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &countingHandler{}
		c, h, f, clock := setup(t, Options{Logger: slog.New(logs)})
		mustToken(t, h)
		down := &identity.Error{Op: "issue", Kind: identity.ErrUnavailable, Status: 503}
		f.set(down, nil)

		clock.Advance(45 * time.Minute)
		for range 14 * 60 { // one read a second through the window
			if got := mustToken(t, h); got != "tok-1" {
				t.Fatalf("Token = %q during failing refreshes, want tok-1", got)
			}
			synctest.Wait()
			clock.Advance(time.Second)
		}
		s := c.Stats()
		if s.Failures < 10 || s.Failures > 40 {
			t.Errorf("%d failed refreshes in 14 minutes, want backoff between 10 and 40", s.Failures)
		}
		if s.Failures != s.Refreshes {
			t.Errorf("%d refreshes started, %d failed: want one try per refresh", s.Refreshes, s.Failures)
		}
		if diff := cmp.Diff(map[slog.Level]int{slog.LevelWarn: 1}, logs.counts()); diff != "" {
			t.Errorf("logs (-want +got):\n%s", diff)
		}

		clock.Advance(time.Minute) // past expiry
		_, err := h.Token(t.Context())
		var ferr *FetchError
		if !errors.As(err, &ferr) || !errors.Is(err, identity.ErrUnavailable) {
			t.Fatalf("Token after expiry = %v, want a *FetchError matching identity.ErrUnavailable", err)
		}

		f.set(nil, nil)
		if got := mustToken(t, h); got == "tok-1" {
			t.Errorf("Token after recovery = tok-1, want a new token")
		}
		if diff := cmp.Diff(map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}, logs.counts()); diff != "" {
			t.Errorf("logs after recovery (-want +got):\n%s", diff)
		}
	})
}

// TestOneBackgroundRefresh reads a stale token from many goroutines while
// the refresh is held: exactly one refresh runs and nobody waits.
func TestOneBackgroundRefresh(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, h, f, clock := setup(t, Options{CountReads: true})
		mustToken(t, h)
		gate := make(chan struct{})
		f.set(nil, gate)
		clock.Advance(50 * time.Minute)
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if got := mustToken(t, h); got != "tok-1" {
					t.Errorf("Token = %q while refreshing, want tok-1", got)
				}
			})
		}
		wg.Wait()
		close(gate)
		synctest.Wait()
		got := c.Stats()
		want := Stats{Issued: 2, StaleHits: 100, Refreshes: 1} // the first read waited: not a hit
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
		if got := mustToken(t, h); got != "tok-2" {
			t.Errorf("Token after refresh = %q, want tok-2", got)
		}
	})
}

func TestColdCacheCoalesces(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, h, f, _ := setup(t, Options{})
		gate := make(chan struct{})
		f.set(nil, gate)
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if got := mustToken(t, h); got != "tok-1" {
					t.Errorf("Token = %q, want tok-1", got)
				}
			})
		}
		synctest.Wait() // everyone is waiting on the one fetch
		close(gate)
		wg.Wait()
		want := Stats{Issued: 1, Coalesced: 99}
		if diff := cmp.Diff(want, c.Stats()); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	})
}

func TestWaitCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		_, h, f, _ := setup(t, Options{})
		gate := make(chan struct{})
		f.set(nil, gate)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			_, err := h.Token(ctx)
			errc <- err
		}()
		patient := make(chan string)
		go func() { patient <- mustToken(t, h) }()
		synctest.Wait()
		cancel()
		err := <-errc
		var werr *WaitError
		if !errors.As(err, &werr) || !errors.Is(err, context.Canceled) {
			t.Errorf("Token with cancelled ctx = %v, want a *WaitError matching context.Canceled", err)
		}
		close(gate)
		if got := <-patient; got != "tok-1" {
			t.Errorf("other caller got %q, want tok-1: one caller giving up must not fail the fetch", got)
		}
	})
}

func TestFetchTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Clock: clock, FetchTimeout: time.Second})
		defer c.Close()
		f := &fetcher{clock: clock, life: time.Hour, gate: make(chan struct{})}
		h := c.Handle("k", f.fetch)
		_, err := h.Token(t.Context()) // synctest's clock runs the timeout
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Token with hung fetch = %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestOldTokenRefreshes installs a token fetched with less than its
// refresh window left: it is served, and a refresh follows once the flight
// that installed it is over.
func TestOldTokenRefreshes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Clock: clock})
		defer c.Close()
		var calls atomic.Int64
		h := c.Handle("k", func(context.Context) (*identity.Token, error) {
			n := calls.Add(1)
			now := clock.Now()
			// Granted an hour, but only 10 minutes are left.
			return &identity.Token{ID: fmt.Sprint("tok-", n), IssuedAt: now.Add(-50 * time.Minute), ExpiresAt: now.Add(10 * time.Minute), Expiry: now.Add(10 * time.Minute)}, nil
		})
		if got := mustToken(t, h); got != "tok-1" {
			t.Fatalf("Token = %q, want tok-1", got)
		}
		if got := mustToken(t, h); got != "tok-1" || calls.Load() != 1 {
			t.Fatalf("second Token = %q after %d fetches, want tok-1 without a fetch", got, calls.Load())
		}
		clock.Advance(DefaultBackoffMin)
		mustToken(t, h)
		synctest.Wait()
		if got := calls.Load(); got != 2 {
			t.Errorf("%d fetches after the first backoff, want 2", got)
		}
	})
}

func TestBadFetch(t *testing.T) {
	t.Parallel()
	now := newFakeClock().Now()
	tests := []struct {
		name string
		tok  *identity.Token
		want error
	}{
		{"no token", nil, errNoToken},
		{"expired", &identity.Token{ID: "x", Expiry: now}, errExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := New(Options{Clock: newFakeClock()})
			defer c.Close()
			h := c.Handle("k", func(context.Context) (*identity.Token, error) { return tt.tok, nil })
			_, err := h.Token(t.Context())
			if !errors.Is(err, tt.want) {
				t.Errorf("Token = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rejected  string
		callers   int
		wantDrops int
		wantID    string
	}{
		{"current token", "tok-1", 1, 1, "tok-2"},
		{"an older token", "tok-0", 1, 0, "tok-1"},
		{"many reports of one token", "tok-1", 100, 1, "tok-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c, h, f, _ := setup(t, Options{})
				mustToken(t, h)
				var drops atomic.Int64
				var wg sync.WaitGroup
				for range tt.callers {
					wg.Go(func() {
						if c.Invalidate("key", tt.rejected) {
							drops.Add(1)
						}
						if got := mustToken(t, h); got != tt.wantID {
							t.Errorf("Token = %q, want %q", got, tt.wantID)
						}
					})
				}
				wg.Wait()
				if got := drops.Load(); got != int64(tt.wantDrops) {
					t.Errorf("%d Invalidate calls dropped the token, want %d", got, tt.wantDrops)
				}
				if want := 1 + tt.wantDrops; f.Calls() != want {
					t.Errorf("%d fetches, want %d", f.Calls(), want)
				}
				if got := c.Stats().Invalidations; got != uint64(tt.wantDrops) {
					t.Errorf("Stats.Invalidations = %d, want %d", got, tt.wantDrops)
				}
			})
		})
	}
	if New(Options{}).Invalidate("unknown", "x") {
		t.Error("Invalidate of an unknown key reported a drop")
	}
}

// TestClose closes a cache with a token on its timers and a fetch in
// flight: Close cancels the fetch, stops the timers (setup checks) and
// returns once everything ended (synctest fails the test on a goroutine
// left blocked); afterwards Token returns ErrClosed.
func TestClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Clock: clock})
		f1 := &fetcher{clock: clock, life: time.Hour}
		h1 := c.Handle("ready", f1.fetch)
		mustToken(t, h1)
		f2 := &fetcher{clock: clock, life: time.Hour, gate: make(chan struct{})}
		h2 := c.Handle("hung", f2.fetch)
		errc := make(chan error)
		go func() {
			_, err := h2.Token(context.Background())
			errc <- err
		}()
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled) {
			t.Errorf("waiter after Close got %v, want ErrClosed", err)
		}
		if n := clock.Pending(); n != 0 {
			t.Errorf("%d timers pending after Close", n)
		}
		for _, h := range []*Handle{h1, h2, c.Handle("new", f1.fetch)} {
			if _, err := h.Token(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Token(%s) after Close = %v, want ErrClosed", h.Key(), err)
			}
		}
		clock.Advance(2 * time.Hour) // nothing fires
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestHandleIsShared(t *testing.T) {
	t.Parallel()
	c := New(Options{})
	defer c.Close()
	f := func(context.Context) (*identity.Token, error) { return nil, nil }
	if c.Handle("a", f) != c.Handle("a", f) {
		t.Error("two Handle calls with one key returned different Handles")
	}
	if c.Handle("a", f) == c.Handle("b", f) {
		t.Error("two keys share a Handle")
	}
}

func TestOptionsOutOfRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		o    Options
		name string
	}{
		{Options{RefreshShare: 1}, "RefreshShare"},
		{Options{RefreshShare: -0.1}, "RefreshShare"},
		{Options{RefreshFloor: -1}, "RefreshFloor"},
		{Options{Jitter: 2}, "Jitter"},
		{Options{Jitter: math.NaN()}, "Jitter"},
		{Options{FetchTimeout: -time.Second}, "FetchTimeout"},
		{Options{BackoffMin: time.Minute, BackoffMax: time.Second}, "BackoffMax"},
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
	for _, tt := range tests {
		o := tt.o
		var oe *OptionError
		if err := o.Validate(); !errors.As(err, &oe) || oe.Option != tt.name {
			t.Errorf("Validate(%+v) = %v, want an *OptionError for %s", o, err, tt.name)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", o)
				}
			}()
			New(o)
		}()
	}
}

func TestKeyOf(t *testing.T) {
	t.Parallel()
	scope := identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
	a := identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "secret-one"}
	b := a
	b.Password = "secret-two"
	if KeyOf(a, scope) != KeyOf(a, scope) {
		t.Error("KeyOf is not deterministic")
	}
	if KeyOf(a, scope) == KeyOf(b, scope) {
		t.Error("two passwords share a key")
	}
	if KeyOf(a, scope) == KeyOf(a, identity.Scope{}) {
		t.Error("two scopes share a key")
	}
	if KeyOfLocation(a, scope, "JP") == KeyOfLocation(a, scope, "SG") {
		t.Error("two locations share a key")
	}
	for _, k := range []Key{KeyOf(a, scope), KeyOfLocation(a, scope, "JP")} {
		if strings.Contains(string(k), a.Password) {
			t.Errorf("key %q holds the secret", k)
		}
	}
}

// TestEvents follows one token through its life with the OnEvent hook.
func TestEvents(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		record := func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			s := ev.Kind.String()
			if ev.Failures > 0 {
				s += fmt.Sprint("#", ev.Failures)
			}
			got = append(got, s)
		}
		_, h, f, clock := setup(t, Options{OnEvent: record})
		mustToken(t, h)                 // issued
		clock.Advance(45 * time.Minute) // stale
		f.set(errors.New("down"), nil)
		mustToken(t, h) // fetch-failed#1
		synctest.Wait()
		f.set(nil, nil)
		clock.Advance(time.Second) // the backoff ends
		mustToken(t, h)            // issued, recovered#1
		synctest.Wait()
		h.Invalidate("tok-3")           // invalidated
		clock.Advance(59 * time.Minute) // nothing: no token
		mustToken(t, h)                 // issued
		clock.Advance(59*time.Minute + 30*time.Second)
		// stale, expired
		want := []string{"issued", "stale", "fetch-failed#1", "issued", "recovered#1", "invalidated", "issued", "stale", "expired"}
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// TestUnrenewableTokenRefreshedOnce: a credential whose new tokens keep the
// old expiry (a token credential's do) is refreshed once in the window and
// then served to its end, not refreshed ever more often as the window
// shrinks.
func TestUnrenewableTokenRefreshedOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		c := New(Options{Clock: clock, Jitter: -1})
		t.Cleanup(func() { c.Close() })
		end := clock.Now().Add(time.Hour)
		var calls int
		h := c.Handle("key", func(ctx context.Context) (*identity.Token, error) {
			calls++
			now := clock.Now()
			return &identity.Token{ID: fmt.Sprintf("tok-%d", calls), IssuedAt: now, ExpiresAt: end, Expiry: end}, nil
		})
		mustToken(t, h)
		clock.Advance(44 * time.Minute)
		for m := 45; m < 60; m++ {
			clock.Advance(time.Minute)
			if _, err := h.Token(t.Context()); err != nil && m < 59 {
				t.Fatalf("at %dm: %v", m, err)
			}
			synctest.Wait()
		}
		if calls < 2 || calls > 3 {
			t.Errorf("%d fetches for one unrenewable token, want the first, one refresh and at most one after expiry", calls)
		}
	})
}
