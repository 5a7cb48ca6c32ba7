package tokencache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
)

// releaseEnv is what a TestHandleRelease case works on: a cache on a
// manual clock (jitter off: a 1-hour token goes stale at 45m and expires
// at 59m30s) and three sources of one Key.
type releaseEnv struct {
	c       *Cache
	clk     *clock.Manual
	key     Key
	a, b, x *fetcher
}

func (e *releaseEnv) handle(t *testing.T, f *fetcher) *Handle {
	t.Helper()
	return mustHandle(t, e.c, e.key, f)
}

// calls returns the fetches of a, b and x.
func (e *releaseEnv) calls() []int { return []int{e.a.Calls(), e.b.Calls(), e.x.Calls()} }

func TestHandleRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		run       func(t *testing.T, e *releaseEnv)
		wantCalls []int // of a, b, x
		wantLen   int   // Cache.len() at the end
	}{
		{"a Handle per caller shares one token", func(t *testing.T, e *releaseEnv) {
			ha, hb, hx := e.handle(t, e.a), e.handle(t, e.b), e.handle(t, e.x)
			got := []string{mustToken(t, hb), mustToken(t, hx), mustToken(t, ha)}
			if diff := cmp.Diff([]string{"tok-1", "tok-1", "tok-1"}, got); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		}, []int{1, 0, 0}, 1},
		{"release of the oldest hands fetching to the next", func(t *testing.T, e *releaseEnv) {
			ha, hb := e.handle(t, e.a), e.handle(t, e.b)
			tok := mustToken(t, hb) // through a's source, the oldest
			ha.Release()
			if got := mustToken(t, hb); got != tok {
				t.Errorf("Token after the oldest's Release = %q, want %q without a fetch", got, tok)
			}
			hb.Invalidate(tok)
			mustToken(t, hb) // through b's source now
		}, []int{1, 1, 0}, 1},
		{"release of a later Handle keeps the oldest's source", func(t *testing.T, e *releaseEnv) {
			ha, hb := e.handle(t, e.a), e.handle(t, e.b)
			tok := mustToken(t, ha)
			hb.Release()
			ha.Invalidate(tok)
			mustToken(t, ha)
		}, []int{2, 0, 0}, 1},
		{"release is idempotent", func(t *testing.T, e *releaseEnv) {
			ha, hb, hx := e.handle(t, e.a), e.handle(t, e.b), e.handle(t, e.x)
			ha.Release()
			ha.Release() // must not release hb too
			if got := len(ha.s.handles); got != 2 {
				t.Errorf("%d Handles held after releasing one of three twice, want 2", got)
			}
			mustToken(t, hx) // through b's source, the oldest left
			hb.Release()
			hb.Release()
			e.clk.Advance(2 * time.Hour) // hx holds the entry past its token's expiry
		}, []int{0, 1, 0}, 1},
		{"entry without a Handle is dropped when its token expires", func(t *testing.T, e *releaseEnv) {
			ha := e.handle(t, e.a)
			tok := mustToken(t, ha)
			ha.Release()
			if got := e.c.len(); got != 1 {
				t.Errorf("len after Release with a valid token = %d, want 1", got)
			}
			e.clk.Advance(59*time.Minute + 29*time.Second)
			// A new Handle of the key picks the token up without a fetch.
			hb := e.handle(t, e.b)
			if got := mustToken(t, hb); got != tok {
				t.Errorf("new Handle got %q, want the kept token %q", got, tok)
			}
			hb.Release()
			e.clk.Advance(time.Second) // the token expires
			if n := e.clk.Pending(); n != 0 {
				t.Errorf("%d timers pending for a dropped entry", n)
			}
		}, []int{1, 0, 0}, 0},
		{"entry without a token is dropped at Release", func(t *testing.T, e *releaseEnv) {
			ha, hb := e.handle(t, e.a), e.handle(t, e.b)
			ha.Release()
			if got := e.c.len(); got != 1 {
				t.Errorf("len with one of two Handles released = %d, want 1", got)
			}
			hb.Release()
		}, []int{0, 0, 0}, 0},
		{"failed entry without a Handle is gone once its backoff is over", func(t *testing.T, e *releaseEnv) {
			e.a.set(errors.New("down"), nil)
			ha := e.handle(t, e.a)
			_, err := ha.Token(t.Context())
			var ferr *FetchError
			if !errors.As(err, &ferr) {
				t.Fatalf("Token = %v, want a *FetchError", err)
			}
			ha.Release()
			e.clk.Set(ferr.Retry)
			if n := e.clk.Pending(); n != 0 {
				t.Errorf("%d timers pending for a dropped failed entry", n)
			}
		}, []int{1, 0, 0}, 0},
		{"a Handle after the drop fetches anew", func(t *testing.T, e *releaseEnv) {
			ha := e.handle(t, e.a)
			mustToken(t, ha)
			ha.Release()
			e.clk.Advance(time.Hour)
			if got := e.c.len(); got != 0 {
				t.Errorf("len after expiry = %d, want 0", got)
			}
			mustToken(t, e.handle(t, e.b))
		}, []int{1, 1, 0}, 1},
		{"released Handle without a token: ErrClosed, no fetch", func(t *testing.T, e *releaseEnv) {
			ha := e.handle(t, e.a)
			e.handle(t, e.b) // keeps the entry
			ha.Release()
			if _, err := ha.Token(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Token after Release = %v, want ErrClosed", err)
			}
		}, []int{0, 0, 0}, 1},
		{"released Handle with an expired token: ErrClosed, no fetch", func(t *testing.T, e *releaseEnv) {
			ha, hb := e.handle(t, e.a), e.handle(t, e.b)
			mustToken(t, ha)
			ha.Release()
			e.clk.Advance(time.Hour)
			if _, err := ha.Token(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Token after Release = %v, want ErrClosed", err)
			}
			mustToken(t, hb) // b's source fetches
		}, []int{1, 1, 0}, 1},
		{"released Handle with a stale token: ErrClosed, no refresh", func(t *testing.T, e *releaseEnv) {
			ha := e.handle(t, e.a)
			e.handle(t, e.b)
			mustToken(t, ha)
			ha.Release()
			e.clk.Advance(45 * time.Minute)
			if _, err := ha.Token(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Token after Release = %v, want ErrClosed", err)
			}
			if got := e.c.Stats().Refreshes; got != 0 {
				t.Errorf("a released Handle started %d refreshes", got)
			}
		}, []int{1, 0, 0}, 1},
		{"released Handle with a failed entry: ErrClosed", func(t *testing.T, e *releaseEnv) {
			e.a.set(errors.New("down"), nil)
			ha := e.handle(t, e.a)
			e.handle(t, e.b)
			if _, err := ha.Token(t.Context()); err == nil {
				t.Fatal("Token did not fail")
			}
			ha.Release()
			if _, err := ha.Token(t.Context()); !errors.Is(err, ErrClosed) {
				t.Errorf("Token after Release = %v, want ErrClosed", err)
			}
		}, []int{1, 0, 0}, 1},
		// Handle.Token documents that a released Handle "may still serve a
		// fresh token it holds": the fresh read is one atomic load and
		// checks nothing else. It never fetches for the released Handle.
		{"released Handle with a fresh token: served, no fetch", func(t *testing.T, e *releaseEnv) {
			ha := e.handle(t, e.a)
			e.handle(t, e.b)
			tok := mustToken(t, ha)
			ha.Release()
			if got, err := ha.Token(t.Context()); err != nil || got.ID != tok {
				t.Errorf("Token after Release = %v, %v; want the fresh token it held", got, err)
			}
		}, []int{1, 0, 0}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			c, err := New(Options{Clock: clk, Jitter: -1})
			if err != nil {
				t.Fatal(err)
			}
			e := &releaseEnv{c: c, clk: clk, key: testKey("u1"),
				a: &fetcher{clock: clk, life: time.Hour}, b: &fetcher{clock: clk, life: time.Hour}, x: &fetcher{clock: clk, life: time.Hour}}
			tt.run(t, e)
			if diff := cmp.Diff(tt.wantCalls, e.calls()); diff != "" {
				t.Errorf("fetches of a, b, x (-want +got):\n%s", diff)
			}
			if got := c.len(); got != tt.wantLen {
				t.Errorf("Cache.len() = %d, want %d", got, tt.wantLen)
			}
			c.Close()
			if n := clk.Pending(); n != 0 {
				t.Errorf("%d timers pending after Close", n)
			}
		})
	}
}

func TestHandleErrors(t *testing.T) {
	t.Parallel()
	clk := newClock()
	open := mustNew(t, Options{Clock: clk})
	closed := mustNew(t, Options{Clock: clk})
	closed.Close()
	src := &fetcher{clock: clk, life: time.Hour}
	scope := testKey("u1").Scope
	tests := []struct {
		name    string
		c       *Cache
		key     Key
		src     identity.TokenSource
		want    error
		wantMsg string // in the error's text
	}{
		{"nil credential", open, Key{Scope: scope}, src, identity.ErrInvalidCredential, "tokencache: Key has no credential"},
		{"typed-nil password", open, Key{Credential: (*identity.Password)(nil), Scope: scope}, src, identity.ErrInvalidCredential, "tokencache: Key has no credential"},
		{"typed-nil application credential", open, Key{Credential: (*identity.ApplicationCredential)(nil), Scope: scope}, src, identity.ErrInvalidCredential, "tokencache: Key has no credential"},
		{"nil source", open, testKey("u1"), nil, identity.ErrInvalidCredential, "tokencache: Handle needs a TokenSource"},
		{"typed-nil source", open, testKey("u1"), (*fetcher)(nil), identity.ErrInvalidCredential, "tokencache: Handle needs a TokenSource"},
		{"nil source func", open, testKey("u1"), identity.TokenSourceFunc(nil), identity.ErrInvalidCredential, "tokencache: Handle needs a TokenSource"},
		{"after Close", closed, testKey("u1"), src, ErrClosed, "tokencache: cache closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := tt.c.Handle(tt.key, tt.src)
			if h != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Handle = %v, %v; want nil and an error matching %v", h, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if tt.want == identity.ErrInvalidCredential {
				var ie *identity.Error
				if !errors.As(err, &ie) {
					t.Errorf("error %v is not an *identity.Error", err)
				}
			}
		})
	}
	if got := open.len(); got != 0 {
		t.Errorf("rejected Handle calls left %d entries", got)
	}
}

// TestHandleFormat prints Handles of every kind of credential, in every
// state, with every verb and through slog: the output describes the
// identity and the state and never holds the secret or the token.
func TestHandleFormat(t *testing.T) {
	t.Parallel()
	const tokenID = "gAAAAAtoken-SECRET-id"
	scope := identity.Scope{ProjectName: "gnct1", ProjectDomainName: "gnc"}
	creds := []struct {
		name string
		cred identity.Credential
		desc string
	}{
		{"password", identity.Password{UserName: "gncu1", DomainName: "gnc", Password: "pw-SECRET"}, "password of user gncu1 in domain gnc"},
		{"password pointer", &identity.Password{UserID: "uid1", Password: "pw-SECRET"}, "password of user uid1"},
		{"application credential", identity.ApplicationCredential{ID: "ac1", Secret: "ac-SECRET"}, "application credential ac1"},
		{"token credential", identity.TokenCredential{ID: "parent-SECRET"}, "token credential"},
	}
	states := []struct {
		name  string
		setup func(t *testing.T, c *Cache, h *Handle, src *flakySource, clk *clock.Manual)
		want  string
	}{
		{"no token", func(*testing.T, *Cache, *Handle, *flakySource, *clock.Manual) {}, "no token"},
		{"fresh", func(t *testing.T, _ *Cache, h *Handle, _ *flakySource, _ *clock.Manual) { mustToken(t, h) }, "fresh"},
		{"stale", func(t *testing.T, _ *Cache, h *Handle, _ *flakySource, clk *clock.Manual) {
			mustToken(t, h)
			clk.Advance(50 * time.Minute)
		}, "stale"},
		{"failed", func(t *testing.T, _ *Cache, h *Handle, src *flakySource, _ *clock.Manual) {
			src.fail = true
			if _, err := h.Token(t.Context()); err == nil {
				t.Fatal("Token did not fail")
			}
		}, "failed"},
		{"closed", func(_ *testing.T, c *Cache, _ *Handle, _ *flakySource, _ *clock.Manual) { c.Close() }, "closed"},
	}
	for _, cr := range creds {
		for _, st := range states {
			t.Run(cr.name+"/"+st.name, func(t *testing.T) {
				t.Parallel()
				clk := newClock()
				var logs bytes.Buffer
				c := mustNew(t, Options{Clock: clk, Jitter: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				src := &flakySource{clk: clk, id: tokenID}
				h := mustHandle(t, c, Key{Credential: cr.cred, Scope: scope}, src)
				st.setup(t, c, h, src, clk)

				want := "tokencache.Handle{" + cr.desc + ", project gnct1 in domain gnc, " + st.want + "}"
				if diff := cmp.Diff(want, fmt.Sprintf("%v", h)); diff != "" {
					t.Errorf("%%v (-want +got):\n%s", diff)
				}
				outputs := map[string]string{}
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3v"} {
					outputs[verb] = fmt.Sprintf(verb, h) + fmt.Sprintf(verb, []any{h}) + fmt.Sprintf(verb, struct{ H *Handle }{h})
				}
				slog.New(slog.NewTextHandler(&logs, nil)).Info("handle", "h", h)
				slog.New(slog.NewJSONHandler(&logs, nil)).Info("handle", "h", h)
				outputs["slog and the cache's log"] = logs.String()
				for name, out := range outputs {
					if strings.Contains(out, "SECRET") || strings.Contains(out, tokenID) {
						t.Errorf("%s output holds a secret or the token: %s", name, out)
					}
				}
				for _, verb := range []string{"%v", "%+v", "%#v"} {
					if !strings.Contains(outputs[verb], cr.desc) {
						t.Errorf("%s output %q does not describe the identity", verb, outputs[verb])
					}
				}
			})
		}
	}
	if got := fmt.Sprintf("%v", (*Handle)(nil)); got != "tokencache.Handle(nil)" {
		t.Errorf("nil Handle prints %q", got)
	}
}

// flakySource issues 1-hour tokens with a fixed id, or fails once fail is
// set (before the Handle is used concurrently).
type flakySource struct {
	clk  clock.Clock
	id   string
	fail bool
}

func (s *flakySource) Token(context.Context) (*identity.Token, error) {
	if s.fail {
		return nil, errors.New("keystone unavailable")
	}
	now := s.clk.Now()
	return &identity.Token{ID: s.id, IssuedAt: now, ExpiresAt: now.Add(time.Hour), Expiry: now.Add(time.Hour)}, nil
}
