package tokencache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
)

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
				_, h, f, clk := setup(t, Options{})
				if got := mustToken(t, h); got != "tok-1" {
					t.Fatalf("first Token = %q, want tok-1", got)
				}
				start := clk.Now()
				for i, s := range tt.steps {
					clk.Set(start.Add(s.advance))
					if got := h.state(); got != s.wantState {
						t.Errorf("step %d: state = %v, want %v", i, got, s.wantState)
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
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
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
			hi := tt.want + time.Duration(float64(tt.want)*defaultJitter)
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
		clk := newClock()
		c := mustNew(t, Options{Clock: clk})
		const n = 50
		hs := make([]*Handle, n)
		for i := range hs {
			hs[i] = mustHandle(t, c, testKey(fmt.Sprint("u", i)), &fetcher{clock: clk, life: time.Hour})
			mustToken(t, hs[i])
		}
		start := clk.Now()
		firstStale, lastStale := time.Duration(-1), time.Duration(0)
		for clk.Now().Sub(start) < 46*time.Minute {
			clk.Advance(time.Second)
			stale := 0
			for _, h := range hs {
				if h.state() != stateFresh {
					stale++
				}
			}
			el := clk.Now().Sub(start)
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
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
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

// TestFailedRefreshKeepsServing fails every refresh in the window: reads
// keep getting the valid token, tries back off, the episode is logged
// once, and once the token expires the caller gets a *FetchError that
// wraps the cause; it is remembered until its Retry, when the next caller
// fetches again.
func TestFailedRefreshKeepsServing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &countingHandler{}
		c, h, f, clk := setup(t, Options{Logger: slog.New(logs)})
		mustToken(t, h)
		down := &identity.Error{Op: "issue", Kind: identity.ErrUnavailable, Status: 503}
		f.set(down, nil)

		clk.Advance(45 * time.Minute)
		for range 14 * 60 { // one read a second through the window
			if got := mustToken(t, h); got != "tok-1" {
				t.Fatalf("Token = %q during failing refreshes, want tok-1", got)
			}
			synctest.Wait()
			clk.Advance(time.Second)
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

		clk.Advance(time.Minute) // past expiry
		_, err := h.Token(t.Context())
		var ferr *FetchError
		if !errors.As(err, &ferr) || !errors.Is(err, identity.ErrUnavailable) {
			t.Fatalf("Token after expiry = %v, want a *FetchError matching identity.ErrUnavailable", err)
		}
		if !ferr.Retry.After(clk.Now()) {
			t.Fatalf("FetchError.Retry = %v, want after now %v", ferr.Retry, clk.Now())
		}

		f.set(nil, nil)
		calls := f.Calls()
		clk.Set(ferr.Retry.Add(-time.Nanosecond))
		if _, err := h.Token(t.Context()); err != ferr || f.Calls() != calls {
			t.Errorf("Token just before Retry = %v after %d new fetches, want the same FetchError without a fetch", err, f.Calls()-calls)
		}
		clk.Set(ferr.Retry)
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
		c, h, f, clk := setup(t, Options{})
		mustToken(t, h)
		gate := make(chan struct{})
		f.set(nil, gate)
		clk.Advance(50 * time.Minute)
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if got := mustToken(t, h); got != "tok-1" {
					t.Errorf("Token = %q while refreshing, want tok-1", got)
				}
			})
		}
		wg.Wait() // every read returned while the refresh was held
		close(gate)
		synctest.Wait()
		want := Stats{Issued: 2, Refreshes: 1} // no caller waited: Coalesced 0
		if diff := cmp.Diff(want, c.Stats()); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
		if got := f.Calls(); got != 2 {
			t.Errorf("%d fetches, want 2: the first and one refresh", got)
		}
		if got := mustToken(t, h); got != "tok-2" {
			t.Errorf("Token after refresh = %q, want tok-2", got)
		}
	})
}

// TestColdCacheCoalesces makes 100 callers wait on a cold entry, through
// one Handle or a Handle each: one fetch serves them all.
func TestColdCacheCoalesces(t *testing.T) {
	t.Parallel()
	for _, perCaller := range []bool{false, true} {
		t.Run(fmt.Sprintf("handle per caller=%t", perCaller), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c, h, f, _ := setup(t, Options{})
				gate := make(chan struct{})
				f.set(nil, gate)
				var wg sync.WaitGroup
				for range 100 {
					hc := h
					if perCaller {
						hc = mustHandle(t, c, testKey("u1"), &fetcher{clock: f.clock, life: time.Hour})
					}
					wg.Go(func() {
						if got := mustToken(t, hc); got != "tok-1" {
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
				if got := f.Calls(); got != 1 {
					t.Errorf("%d fetches through the oldest Handle's source, want 1", got)
				}
			})
		})
	}
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
		if werr != nil && werr.Identity != testKey("u1").describe() {
			t.Errorf("WaitError.Identity = %q, want %q", werr.Identity, testKey("u1").describe())
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
		clk := newClock()
		c := mustNew(t, Options{Clock: clk, FetchTimeout: time.Second})
		f := &fetcher{clock: clk, life: time.Hour, gate: make(chan struct{})}
		h := mustHandle(t, c, testKey("u1"), f)
		_, err := h.Token(t.Context()) // synctest's clock runs the timeout
		var ferr *FetchError
		if !errors.As(err, &ferr) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Token with hung fetch = %v, want a *FetchError matching context.DeadlineExceeded", err)
		}
	})
}

// TestOldTokenRefreshes installs a token fetched with less than its
// refresh window left: it is served, and a refresh follows once the flight
// that installed it is over.
func TestOldTokenRefreshes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := newClock()
		c := mustNew(t, Options{Clock: clk})
		var calls atomic.Int64
		h := mustHandle(t, c, testKey("u1"), identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
			n := calls.Add(1)
			now := clk.Now()
			// Granted an hour, but only 10 minutes are left.
			return &identity.Token{ID: fmt.Sprint("tok-", n), IssuedAt: now.Add(-50 * time.Minute), ExpiresAt: now.Add(10 * time.Minute), Expiry: now.Add(10 * time.Minute)}, nil
		}))
		if got := mustToken(t, h); got != "tok-1" {
			t.Fatalf("Token = %q, want tok-1", got)
		}
		if got := mustToken(t, h); got != "tok-1" || calls.Load() != 1 {
			t.Fatalf("second Token = %q after %d fetches, want tok-1 without a fetch", got, calls.Load())
		}
		clk.Advance(defaultBackoffMin)
		mustToken(t, h)
		synctest.Wait()
		if got := calls.Load(); got != 2 {
			t.Errorf("%d fetches after the first backoff, want 2", got)
		}
	})
}

func TestBadFetch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tok  *identity.Token
		want error
	}{
		{"no token", nil, errNoToken},
		{"expired", &identity.Token{ID: "x", Expiry: t0}, errExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, Options{Clock: newClock()})
			h := mustHandle(t, c, testKey("u1"), identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) { return tt.tok, nil }))
			_, err := h.Token(t.Context())
			var ferr *FetchError
			if !errors.As(err, &ferr) || !errors.Is(err, tt.want) {
				t.Errorf("Token = %v, want a *FetchError matching %v", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "tokencache: ") {
				t.Errorf("error %q does not start with the package name", err)
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
		perCaller bool // a Handle per caller instead of one shared Handle
		wantDrops int
		wantID    string
	}{
		{"current token", "tok-1", 1, false, 1, "tok-2"},
		{"an older token", "tok-0", 1, false, 0, "tok-1"},
		{"many reports of one token", "tok-1", 100, false, 1, "tok-2"},
		{"many reports from a Handle each", "tok-1", 100, true, 1, "tok-2"},
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
					hc := h
					if tt.perCaller {
						hc = mustHandle(t, c, testKey("u1"), f)
					}
					wg.Go(func() {
						if hc.Invalidate(tt.rejected) {
							drops.Add(1)
						}
						if got := mustToken(t, hc); got != tt.wantID {
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
}

// TestInvalidateWithoutToken: a Handle whose entry holds no token has
// nothing to drop.
func TestInvalidateWithoutToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := mustNew(t, Options{Clock: clk})
	f := &fetcher{clock: clk, life: time.Hour}
	h := mustHandle(t, c, testKey("u1"), f)
	if h.Invalidate("x") {
		t.Error("Invalidate of an entry without a token reported a drop")
	}
	if got := f.Calls(); got != 0 {
		t.Errorf("Invalidate fetched %d times", got)
	}
}

// TestClose closes a cache with a token on its timers and a fetch in
// flight: Close cancels the fetch, stops the timers and returns once
// everything ended (synctest fails the test on a goroutine left blocked);
// afterwards Token returns ErrClosed and Handle fails.
func TestClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := newClock()
		c, err := New(Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		f1 := &fetcher{clock: clk, life: time.Hour}
		h1 := mustHandle(t, c, testKey("ready"), f1)
		mustToken(t, h1)
		f2 := &fetcher{clock: clk, life: time.Hour, gate: make(chan struct{})}
		h2 := mustHandle(t, c, testKey("hung"), f2)
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
		if n := clk.Pending(); n != 0 {
			t.Errorf("%d timers pending after Close", n)
		}
		for _, h := range []*Handle{h1, h2} {
			if _, err := h.Token(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Token(%v) after Close = %v, want ErrClosed", h, err)
			}
		}
		if h, err := c.Handle(testKey("new"), f1); !errors.Is(err, ErrClosed) || h != nil {
			t.Errorf("Handle after Close = %v, %v; want nil, ErrClosed", h, err)
		}
		clk.Advance(2 * time.Hour) // nothing fires
		if got := f1.Calls() + f2.Calls(); got != 2 {
			t.Errorf("%d fetches, want 2: none after Close", got)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// TestHandleIsShared: every Handle call returns a new Handle, and Handles
// of one Key share one entry and one token; other Keys have their own.
func TestHandleIsShared(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := mustNew(t, Options{Clock: clk})
	f := &fetcher{clock: clk, life: time.Hour}
	a1, a2 := mustHandle(t, c, testKey("a"), f), mustHandle(t, c, testKey("a"), f)
	b := mustHandle(t, c, testKey("b"), f)
	if a1 == a2 {
		t.Error("two Handle calls with one key returned the same Handle")
	}
	if a1.s != a2.s {
		t.Error("two Handles of one key do not share the entry")
	}
	if a1.s == b.s {
		t.Error("two keys share an entry")
	}
	got := []string{mustToken(t, a1), mustToken(t, a2), mustToken(t, b)}
	if diff := cmp.Diff([]string{"tok-1", "tok-1", "tok-2"}, got); diff != "" {
		t.Errorf("tokens of a1, a2, b (-want +got):\n%s", diff)
	}
	if got := c.len(); got != 2 {
		t.Errorf("Cache.len() = %d, want 2", got)
	}
}

func TestOptionsOutOfRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Options
		want []string // problem keys; nil: valid
	}{
		{"zero", Options{}, nil},
		{"jitter and margin disabled", Options{Jitter: -1, ExpiryMargin: -1}, nil},
		{"refresh share 1", Options{RefreshShare: 1}, []string{"refresh_share"}},
		{"negative refresh share", Options{RefreshShare: -0.1}, []string{"refresh_share"}},
		{"NaN refresh share", Options{RefreshShare: math.NaN()}, []string{"refresh_share"}},
		{"negative refresh floor", Options{RefreshFloor: -1}, []string{"refresh_floor"}},
		{"jitter over 1", Options{Jitter: 2}, []string{"jitter"}},
		{"NaN jitter", Options{Jitter: math.NaN()}, []string{"jitter"}},
		{"negative fetch timeout", Options{FetchTimeout: -time.Second}, []string{"fetch_timeout"}},
		{"negative backoff min", Options{BackoffMin: -time.Second}, []string{"backoff_min"}},
		{"backoff max below min", Options{BackoffMin: time.Minute, BackoffMax: time.Second}, []string{"backoff_max"}},
		{"every problem at once",
			Options{RefreshShare: 2, RefreshFloor: -1, Jitter: 2, FetchTimeout: -1, BackoffMin: time.Minute, BackoffMax: time.Second},
			[]string{"refresh_share", "refresh_floor", "jitter", "fetch_timeout", "backoff_max"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.o)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("New(%+v): %v", tt.o, err)
				}
				c.Close()
				return
			}
			var ce *configerr.Error
			if c != nil || !errors.Is(err, configerr.ErrInvalid) || !errors.As(err, &ce) {
				t.Fatalf("New(%+v) = %v, %v; want nil and a *configerr.Error", tt.o, c, err)
			}
			var keys []string
			for _, p := range ce.Problems {
				keys = append(keys, p.Key)
			}
			if diff := cmp.Diff(tt.want, keys); diff != "" {
				t.Errorf("problem keys (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEntryIdentity checks which Keys share an entry: the same identity,
// scope and kind do; another password, scope or kind does not. The entry's
// name and description hold no secret.
func TestEntryIdentity(t *testing.T) {
	t.Parallel()
	base := testKey("gncu00000001")
	otherPassword := base
	otherPassword.Credential = identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "another-SECRET"}
	otherScope := base
	otherScope.Scope = identity.Scope{ProjectName: "gnct00000002", ProjectDomainName: "gnc"}
	withKind := func(k Key, kind string) Key { k.Kind = kind; return k }
	tests := []struct {
		name   string
		a, b   Key
		shared bool
	}{
		{"same identity and scope", base, testKey("gncu00000001"), true},
		{"two passwords", base, otherPassword, false},
		{"two scopes", base, otherScope, false},
		{"two locations", withKind(base, "location=JP"), withKind(base, "location=SG"), false},
		{"with and without catalog", base, withKind(base, "nocatalog"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			c := mustNew(t, Options{Clock: clk})
			fa, fb := &fetcher{clock: clk, life: time.Hour}, &fetcher{clock: clk, life: time.Hour}
			ha, hb := mustHandle(t, c, tt.a, fa), mustHandle(t, c, tt.b, fb)
			ta, err := ha.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			tb, err := hb.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := ha.s == hb.s; got != tt.shared {
				t.Errorf("shared entry = %t, want %t", got, tt.shared)
			}
			wantCalls := []int{1, 1}
			if tt.shared {
				wantCalls = []int{1, 0}
			}
			if diff := cmp.Diff(wantCalls, []int{fa.Calls(), fb.Calls()}); diff != "" {
				t.Errorf("fetches of a, b (-want +got):\n%s", diff)
			}
			if (ta == tb) != tt.shared {
				t.Errorf("one *Token served to both: %t, want %t", ta == tb, tt.shared)
			}
			for _, h := range []*Handle{ha, hb} {
				for _, s := range []string{h.s.id, h.s.key.describe()} {
					if strings.Contains(s, "SECRET") {
						t.Errorf("entry name or description %q holds the password", s)
					}
				}
			}
		})
	}
}

// TestLifecycle follows one token through its life: issued, stale, a
// failed refresh, recovered, invalidated, issued again, stale and expired,
// checking the entry's state, its counters and the log at each step.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &countingHandler{}
		c, h, f, clk := setup(t, Options{Logger: slog.New(logs)})
		steps := []struct {
			name      string
			do        func()
			wantState state
			wantStats Stats
			wantLogs  map[slog.Level]int
		}{
			{"issued", func() { mustToken(t, h) },
				stateFresh, Stats{Issued: 1}, nil},
			{"stale", func() { clk.Advance(45 * time.Minute) },
				stateStale, Stats{Issued: 1}, nil},
			{"refresh failed: served, retried after a backoff", func() {
				f.set(errors.New("down"), nil)
				if got := mustToken(t, h); got != "tok-1" {
					t.Errorf("Token = %q, want tok-1", got)
				}
			}, stateRefreshing, Stats{Issued: 1, Refreshes: 1, Failures: 1}, map[slog.Level]int{slog.LevelWarn: 1}},
			{"backoff over: stale again", func() { f.set(nil, nil); clk.Advance(time.Second) },
				stateStale, Stats{Issued: 1, Refreshes: 1, Failures: 1}, map[slog.Level]int{slog.LevelWarn: 1}},
			{"recovered", func() { mustToken(t, h) },
				stateFresh, Stats{Issued: 2, Refreshes: 2, Failures: 1}, map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}},
			{"invalidated", func() {
				if !h.Invalidate("tok-3") {
					t.Error("Invalidate(tok-3) dropped nothing")
				}
			}, stateExpired, Stats{Issued: 2, Refreshes: 2, Failures: 1, Invalidations: 1}, map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}},
			{"nothing happens without a token", func() {
				if n := clk.Pending(); n != 0 {
					t.Errorf("%d timers pending without a token", n)
				}
				clk.Advance(59 * time.Minute)
			}, stateExpired, Stats{Issued: 2, Refreshes: 2, Failures: 1, Invalidations: 1}, map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}},
			{"issued again", func() { mustToken(t, h) },
				stateFresh, Stats{Issued: 3, Refreshes: 2, Failures: 1, Invalidations: 1}, map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}},
			{"stale again", func() { clk.Advance(45 * time.Minute) },
				stateStale, Stats{Issued: 3, Refreshes: 2, Failures: 1, Invalidations: 1}, map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}},
			{"expired unread", func() { clk.Advance(14*time.Minute + 30*time.Second) },
				stateExpired, Stats{Issued: 3, Refreshes: 2, Failures: 1, Invalidations: 1}, map[slog.Level]int{slog.LevelWarn: 1, slog.LevelInfo: 1}},
		}
		for _, s := range steps {
			s.do()
			synctest.Wait()
			if got := h.state(); got != s.wantState {
				t.Errorf("%s: state %v, want %v", s.name, got, s.wantState)
			}
			if diff := cmp.Diff(s.wantStats, c.Stats()); diff != "" {
				t.Errorf("%s: Stats (-want +got):\n%s", s.name, diff)
			}
			if diff := cmp.Diff(s.wantLogs, logs.counts()); diff != "" {
				t.Errorf("%s: logs (-want +got):\n%s", s.name, diff)
			}
		}
		if got := f.Calls(); got != 4 {
			t.Errorf("%d fetches, want 4", got)
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
		clk := newClock()
		c := mustNew(t, Options{Clock: clk, Jitter: -1})
		end := clk.Now().Add(time.Hour)
		var calls atomic.Int64
		h := mustHandle(t, c, testKey("u1"), identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
			n := calls.Add(1)
			now := clk.Now()
			return &identity.Token{ID: fmt.Sprintf("tok-%d", n), IssuedAt: now, ExpiresAt: end, Expiry: end}, nil
		}))
		mustToken(t, h)
		clk.Advance(44 * time.Minute)
		for m := 45; m < 60; m++ {
			clk.Advance(time.Minute)
			if _, err := h.Token(t.Context()); err != nil && m < 59 {
				t.Fatalf("at %dm: %v", m, err)
			}
			synctest.Wait()
		}
		if n := calls.Load(); n < 2 || n > 3 {
			t.Errorf("%d fetches for one unrenewable token, want the first, one refresh and at most one after expiry", n)
		}
	})
}
