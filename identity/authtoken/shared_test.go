package authtoken

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/tokencache/memcache"
)

var sharedSecret = []byte("validation-secret-0123456789abcdef")

// wallTimers is the test's manual clock for time, with real timers for the
// polls of a process that lost the shared tier's lock (the manual clock's
// timers fire only when a test advances it). The loser's LockWait runs on
// the manual clock, which stands still while it waits, so a slow machine
// does not make it give up early; only memcached's own TTL of the lock
// (LockTTL, 5 s) is on the wall clock.
type wallTimers struct{ now func() time.Time }

var _ clock.Clock = wallTimers{}

func (c wallTimers) Now() time.Time { return c.now() }

func (c wallTimers) AfterFunc(d time.Duration, f func()) clock.Timer {
	return time.AfterFunc(d, f)
}

// newShared returns a Shared tier over its own client of the test
// memcached, in a key namespace of the test's own.
func newShared(t *testing.T, addr, prefix string, e *env) *tokencache.Shared {
	t.Helper()
	store := memcache.New(memcache.Options{Timeout: 2 * time.Second}, addr)
	t.Cleanup(func() { store.Close() })
	sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: store, Secrets: [][]byte{sharedSecret}, Prefix: prefix,
		Timeout: 2 * time.Second, Clock: wallTimers{now: e.clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func testPrefix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b) + ":"
}

// secondValidator returns a Validator on e's cloud sharing nothing with e.v
// but memcached: its own token cache, resolver, client and Shared tier.
func secondValidator(t *testing.T, e *env, cfg Config, sh *tokencache.Shared) *Validator {
	t.Helper()
	cache := newTokenCache(t)
	client := *cfg.Client
	cfg.Client = &client
	cfg.TokenCache = cache
	cfg.Resolver = nil
	cfg.Primary = e.srv.Primary()
	cfg.Shared = sh
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestFleetOneValidation: two Validators sharing nothing but memcached,
// 1,000 concurrent validations each of one incoming token, make Keystone
// validate it once.
func TestFleetOneValidation(t *testing.T) {
	t.Parallel()
	addr := keystonetest.Memcached(t)
	prefix := testPrefix()
	var cfg Config
	var shA *tokencache.Shared
	e := setup(t, setupOpts{config: func(c *Config) { cfg = *c }})
	// setup made e.v without a Shared tier; make the fleet's first member
	// the same way as the second.
	shA = newShared(t, addr, prefix, e)
	a := secondValidator(t, e, cfg, shA)
	shB := newShared(t, addr, prefix, e)
	b := secondValidator(t, e, cfg, shB)
	tok := e.issue(t, "gncu00000001")
	// The service tokens are fetched before the count starts.
	for _, v := range []*Validator{a, b} {
		if _, err := v.ServiceToken().Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.ResetCounters()

	const calls = 1000
	var wg sync.WaitGroup
	for _, v := range []*Validator{a, b} {
		for range calls {
			wg.Go(func() {
				got, err := v.Validate(t.Context(), tok.ID)
				if err != nil {
					t.Errorf("Validate: %v", err)
					return
				}
				if got.User.Name != "gncu00000001" {
					t.Errorf("validated user %q", got.User.Name)
				}
			})
		}
	}
	wg.Wait()
	if got := e.srv.Validations(""); got != 1 {
		t.Errorf("Keystone validated the token %d times for a fleet of 2, want 1", got)
	}
	if st := shA.Stats(); st.Hits+shB.Stats().Hits != 1 {
		t.Errorf("shared hits %d + %d, want 1 (the process that did not validate)", st.Hits, shB.Stats().Hits)
	}
	if sa, sb := a.Stats(), b.Stats(); sa.SharedHits+sb.SharedHits != 1 || sa.KeystoneValidations+sb.KeystoneValidations != 1 {
		t.Errorf("Validator stats %+v and %+v; want one Keystone validation and one shared hit between them", sa, sb)
	}
}

// TestSharedValidationRules: what is shared, and for how long.
func TestSharedValidationRules(t *testing.T) {
	t.Parallel()
	addr := keystonetest.Memcached(t)
	tests := []struct {
		name string
		// run validates with a, then with b; it returns how many
		// validations Keystone made in all (or how many Validators
		// asked it).
		run  func(t *testing.T, e *env, a, b *Validator) int64
		want int64
	}{
		{"valid token shared", func(t *testing.T, e *env, a, b *Validator) int64 {
			tok := e.issue(t, "gncu00000001")
			mustValidate(t, a, tok.ID)
			mustValidate(t, b, tok.ID)
			return e.srv.Validations("")
		}, 1},
		{"trusted no longer than CacheTTL after the first validation", func(t *testing.T, e *env, a, b *Validator) int64 {
			tok := e.issue(t, "gncu00000001")
			mustValidate(t, a, tok.ID)
			e.clock.Advance(defaultCacheTTL)
			mustValidate(t, b, tok.ID)
			return e.srv.Validations("")
		}, 2},
		{"invalid token not shared", func(t *testing.T, e *env, a, b *Validator) int64 {
			tok := e.issue(t, "gncu00000001")
			e.revoke(t, tok.ID)
			// Keystone counts only successful validations: count the
			// requests each Validator makes instead.
			var asked int64
			for _, v := range []*Validator{a, b} {
				if _, err := v.ServiceToken().Token(t.Context()); err != nil {
					t.Fatal(err)
				}
				before := e.keystoneRequests()
				if _, err := v.Validate(t.Context(), tok.ID); err == nil {
					t.Fatal("revoked token validated")
				}
				if e.keystoneRequests() > before {
					asked++
				}
			}
			return asked
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := testPrefix()
			var cfg Config
			e := setup(t, setupOpts{config: func(c *Config) { cfg = *c }})
			a := secondValidator(t, e, cfg, newShared(t, addr, prefix, e))
			b := secondValidator(t, e, cfg, newShared(t, addr, prefix, e))
			if got := tt.run(t, e, a, b); got != tt.want {
				t.Errorf("Keystone validations = %d, want %d", got, tt.want)
			}
		})
	}
}

func mustValidate(t *testing.T, v *Validator, token string) {
	t.Helper()
	if _, err := v.Validate(context.WithoutCancel(t.Context()), token); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

// TestSharedEntryCappedByOwnTTL: a validator with a short CacheTTL (so that
// revocations take effect quickly) does not take the shared results of a
// fleet-mate that trusts them longer; validators of the same TTL share.
func TestSharedEntryCappedByOwnTTL(t *testing.T) {
	t.Parallel()
	addr := keystonetest.Memcached(t)
	prefix := testPrefix()
	var cfg Config
	e := setup(t, setupOpts{config: func(c *Config) { cfg = *c }})
	long := secondValidator(t, e, cfg, newShared(t, addr, prefix, e))
	cfg.CacheTTL = time.Minute
	short := secondValidator(t, e, cfg, newShared(t, addr, prefix, e))

	short2 := secondValidator(t, e, cfg, newShared(t, addr, prefix, e))

	tok := e.issue(t, "gncu00000001")
	mustValidate(t, long, tok.ID)   // Keystone validates; shared for 5 minutes
	mustValidate(t, short, tok.ID)  // not from long's entry: Keystone again
	mustValidate(t, short2, tok.ID) // from short's entry
	if got := e.srv.Validations(""); got != 2 {
		t.Fatalf("Keystone validations = %d, want 2", got)
	}
	e.clock.Advance(2 * time.Minute)
	mustValidate(t, short2, tok.ID) // past the short TTL: asks again
	if got := e.srv.Validations(""); got != 3 {
		t.Errorf("Keystone validations = %d, want 3: a shared entry was trusted past its TTL", got)
	}
}
