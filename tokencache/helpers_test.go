package tokencache

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
)

// t0 is when every test's manual clock starts.
var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

// newClock returns a manual clock reading t0.
func newClock() *clock.Manual { return clock.NewManual(t0) }

// testKey returns the Key of a password identity of user in its own
// project. The password holds "SECRET" so that tests can check it never
// shows.
func testKey(user string) Key {
	return Key{
		Credential: identity.Password{UserName: user, DomainName: "gnc", Password: "pw-" + user + "-SECRET"},
		Scope:      identity.Scope{ProjectName: "prj-" + user, ProjectDomainName: "gnc"},
	}
}

// fetcher is a TokenSource for tests: it issues tokens "tok-1", "tok-2", …
// (numbered by call, failed calls included) of a fixed lifetime on clock,
// or fails with err, optionally holding each call until gate is closed.
type fetcher struct {
	clock clock.Clock
	life  time.Duration

	mu    sync.Mutex
	calls int
	at    []time.Time // the clock's reading at each call
	err   error
	gate  chan struct{}
}

var _ identity.TokenSource = (*fetcher)(nil)

func (f *fetcher) Token(ctx context.Context) (*identity.Token, error) {
	now := f.clock.Now()
	f.mu.Lock()
	f.calls++
	f.at = append(f.at, now)
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
	now = f.clock.Now()
	return &identity.Token{ID: fmt.Sprintf("tok-%d", n), IssuedAt: now, ExpiresAt: now.Add(f.life), Expiry: now.Add(f.life)}, nil
}

func (f *fetcher) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// callTimes returns the clock's reading at each call.
func (f *fetcher) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.at...)
}

func (f *fetcher) set(err error, gate chan struct{}) {
	f.mu.Lock()
	f.err, f.gate = err, gate
	f.mu.Unlock()
}

// mustNew returns a Cache of opts, closed when the test ends.
func mustNew(t testing.TB, opts Options) *Cache {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustHandle returns a new Handle of key on c.
func mustHandle(t testing.TB, c *Cache, key Key, src identity.TokenSource) *Handle {
	t.Helper()
	h, err := c.Handle(key, src)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return h
}

// setup returns a cache on a manual clock with jitter off, so that a
// 1-hour token goes stale at 45m and expires at 59m30s, and a Handle of
// testKey("u1") on a fetcher of such tokens. The cache is closed when the
// test ends, and the clock must then have no timer left.
func setup(t *testing.T, opts Options) (*Cache, *Handle, *fetcher, *clock.Manual) {
	t.Helper()
	clk := newClock()
	opts.Clock = clk
	if opts.Jitter == 0 {
		opts.Jitter = -1
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f := &fetcher{clock: clk, life: time.Hour}
	h := mustHandle(t, c, testKey("u1"), f)
	t.Cleanup(func() {
		c.Close()
		if n := clk.Pending(); n != 0 {
			t.Errorf("%d timers pending after Close", n)
		}
	})
	return c, h, f, clk
}

func mustToken(t testing.TB, h *Handle) string {
	t.Helper()
	tok, err := h.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.ID
}

// state returns the state of the entry h holds.
func (h *Handle) state() state { return h.s.cur.Load().state }

// countingHandler counts log records by level and keeps their text.
type countingHandler struct {
	mu     sync.Mutex
	levels map[slog.Level]int
	text   []string
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.levels == nil {
		h.levels = map[slog.Level]int{}
	}
	h.levels[r.Level]++
	s := r.Message
	r.Attrs(func(a slog.Attr) bool {
		s += " " + a.String()
		return true
	})
	h.text = append(h.text, s)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) counts() map[slog.Level]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.levels)
}
func (h *countingHandler) records() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.text...)
}
