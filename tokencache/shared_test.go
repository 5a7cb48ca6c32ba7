package tokencache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/testserver"
)

var (
	secretA = []byte("secret-A-0123456789abcdef0123456789")
	secretB = []byte("secret-B-0123456789abcdef0123456789")
)

// issuer is a TokenSource for shared-tier tests: it issues tokens
// "<name>-1", "<name>-2", … of one hour on clock, so that tests can tell
// which cache of a fleet fetched a token.
type issuer struct {
	name  string
	clock clock.Clock
	calls atomic.Int64
}

func (f *issuer) Token(ctx context.Context) (*identity.Token, error) {
	n := f.calls.Add(1)
	now := f.clock.Now()
	return &identity.Token{ID: fmt.Sprintf("%s-%d", f.name, n), IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		Expiry: now.Add(time.Hour), User: identity.User{ID: "user-" + f.name}}, nil
}

// member is one process of a fleet: a Cache, its Shared tier and the
// Handle of the key every member shares.
type member struct {
	cache  *Cache
	shared *Shared
	h      *Handle
	f      *issuer
}

// fleetKey is the Key every member of a fleet shares.
var fleetKey = Key{
	Credential: identity.Password{UserName: "fleet-user", DomainName: "gnc", Password: "fleet-SECRET"},
	Scope:      identity.Scope{ProjectName: "fleet-project", ProjectDomainName: "gnc"},
}

// storeTimeout bounds the Store operations of tests that count fetches
// exactly: on a loaded machine the 25 ms default can pass between a
// context's creation and the MemoryStore call, and a timeout (correctly)
// costs a fetch.
const storeTimeout = time.Minute

func newMember(t *testing.T, name string, store Store, clk clock.Clock, secrets ...[]byte) *member {
	t.Helper()
	sh, err := NewShared(SharedOptions{Store: store, Secrets: secrets, Clock: clk, Timeout: storeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, Options{Clock: clk, Shared: sh, Jitter: -1})
	f := &issuer{name: name, clock: clk}
	return &member{cache: c, shared: sh, h: mustHandle(t, c, fleetKey, f), f: f}
}

func (m *member) token(t *testing.T) string {
	t.Helper()
	tok, err := m.h.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.ID
}

// storeKeyOf returns the Store key of the fleet key's token entry under
// the secret of sh at index i.
func storeKeyOf(sh *Shared, i int) string {
	k := sh.sealer.keys[i]
	return sh.sealer.storeKey(k, tokenLogical(fleetKey)(k))
}

func TestSharedFleetMemoryStore(t *testing.T) {
	t.Parallel()
	clk := newClock()
	store := NewMemoryStore(clk)
	a := newMember(t, "a", store, clk, secretA)
	b := newMember(t, "b", store, clk, secretA)
	if got := a.token(t); got != "a-1" {
		t.Fatalf("a: %q, want a-1", got)
	}
	if got := b.token(t); got != "a-1" {
		t.Fatalf("b: %q, want a's token a-1 from the shared tier", got)
	}
	if diff := cmp.Diff(Stats{FromShared: 1}, b.cache.Stats()); diff != "" {
		t.Errorf("b stats (-want +got):\n%s", diff)
	}
	if got := b.f.calls.Load(); got != 0 {
		t.Errorf("b fetched %d times", got)
	}
	for _, k := range store.keys() {
		if strings.Contains(k, "fleet-") || strings.Contains(k, "token/") || strings.Contains(k, "a-1") {
			t.Errorf("Store key %q shows the identity, the logical key or the token", k)
		}
	}
}

func TestSharedRejectsBadEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// spoil changes the Store after member a shared its token; ka is
		// a's Store key, other a key of another logical entry.
		spoil func(t *testing.T, store *MemoryStore, a *member, ka string)
	}{
		{"version byte flipped", flipAt(0)},
		{"key id flipped", flipAt(2)},
		{"nonce flipped", flipAt(headerSize - 1)},
		{"ciphertext flipped", flipAt(headerSize + 3)},
		{"tag flipped", flipAt(-1)},
		{"truncated", func(t *testing.T, s *MemoryStore, _ *member, ka string) {
			v := get(t, s, ka)
			set(t, s, ka, v[:len(v)-1])
		}},
		{"truncated to the header", func(t *testing.T, s *MemoryStore, _ *member, ka string) {
			set(t, s, ka, get(t, s, ka)[:headerSize])
		}},
		{"garbage", func(t *testing.T, s *MemoryStore, _ *member, ka string) {
			set(t, s, ka, bytes.Repeat([]byte{0x01}, 200))
		}},
		{"entry of another key copied here", func(t *testing.T, s *MemoryStore, a *member, ka string) {
			other := a.shared.sealer
			k := other.keys[0]
			lk := tokenLogical(testKey("other-user"))(k)
			payload, _ := identity.EncodeToken(&identity.Token{ID: "forged", User: identity.User{ID: "u"}, Expiry: time.Now().Add(time.Hour)})
			set(t, s, other.storeKey(k, lk), other.seal(lk, time.Now().Add(time.Hour), payload))
			set(t, s, ka, get(t, s, other.storeKey(k, lk)))
		}},
		{"sealed with a foreign secret", func(t *testing.T, s *MemoryStore, _ *member, ka string) {
			foreign, err := newSealer([][]byte{secretB}, defaultSharedPrefix)
			if err != nil {
				t.Fatal(err)
			}
			lk := tokenLogical(fleetKey)(foreign.keys[0])
			payload, _ := identity.EncodeToken(&identity.Token{ID: "forged", User: identity.User{ID: "u"}, Expiry: time.Now().Add(time.Hour)})
			set(t, s, ka, foreign.seal(lk, time.Now().Add(time.Hour), payload))
		}},
		{"sealed but not a token", func(t *testing.T, s *MemoryStore, a *member, ka string) {
			k := a.shared.sealer.keys[0]
			set(t, s, ka, a.shared.sealer.seal(tokenLogical(fleetKey)(k), time.Now().Add(time.Hour), []byte("{not a token")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			store := NewMemoryStore(clk)
			a := newMember(t, "a", store, clk, secretA)
			a.token(t)
			tt.spoil(t, store, a, storeKeyOf(a.shared, 0))
			b := newMember(t, "b", store, clk, secretA)
			if got := b.token(t); got != "b-1" {
				t.Errorf("b got %q from a spoiled entry, want its own fetch b-1", got)
			}
			st := b.shared.Stats()
			if st.Rejected != 2 { // the read before the lock, the read after it
				t.Errorf("Rejected = %d, want 2; stats %+v", st.Rejected, st)
			}
			if st.Hits != 0 || st.Errors != 0 {
				t.Errorf("stats %+v, want no hit and no error", st)
			}
		})
	}
}

func flipAt(i int) func(t *testing.T, s *MemoryStore, _ *member, ka string) {
	return func(t *testing.T, s *MemoryStore, _ *member, ka string) {
		v := get(t, s, ka)
		j := i
		if j < 0 {
			j += len(v)
		}
		v[j] ^= 0x40
		set(t, s, ka, v)
	}
}

func get(t *testing.T, s Store, key string) []byte {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Store.Get: %v", err)
	}
	return v
}

func set(t *testing.T, s Store, key string, v []byte) {
	t.Helper()
	if err := s.Set(t.Context(), key, v, time.Hour); err != nil {
		t.Fatalf("Store.Set: %v", err)
	}
}

func TestSharedWrongSecretMisses(t *testing.T) {
	t.Parallel()
	clk := newClock()
	store := NewMemoryStore(clk)
	newMember(t, "a", store, clk, secretA).token(t)
	b := newMember(t, "b", store, clk, secretB)
	if got := b.token(t); got != "b-1" {
		t.Errorf("b with another secret got %q, want its own b-1", got)
	}
	if st := b.shared.Stats(); st.Hits != 0 || st.Misses == 0 {
		t.Errorf("stats %+v, want misses and no hit", st)
	}
}

func TestSharedExpiredEntryIsAMiss(t *testing.T) {
	t.Parallel()
	clk := newClock()
	store := NewMemoryStore(nil) // the Store keeps it; the sealed until must not
	a := newMember(t, "a", store, clk, secretA)
	a.token(t)
	// Jitter off: a 1-hour token's window opens at 45m, and the entry is
	// served until then.
	clk.Advance(45 * time.Minute)
	b := newMember(t, "b", store, clk, secretA)
	if got := b.token(t); got != "b-1" {
		t.Errorf("b got %q after the entry's until, want b-1", got)
	}
}

func TestSharedRotation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	store := NewMemoryStore(clk)
	old := newMember(t, "old", store, clk, secretA)
	old.token(t)

	rotated := newMember(t, "rotated", store, clk, secretB, secretA)
	if got := rotated.token(t); got != "old-1" {
		t.Fatalf("after rotation, the old secret's entry was not read: got %q", got)
	}
	// A new entry (after an invalidation) is sealed with the new secret.
	rotated.h.Invalidate("old-1")
	if got := rotated.token(t); got != "rotated-1" {
		t.Fatalf("after invalidation: %q, want rotated-1", got)
	}
	v := get(t, store, storeKeyOf(rotated.shared, 0))
	if !bytes.Equal(v[1:1+keyIDSize], rotated.shared.sealer.keys[0].id[:]) {
		t.Error("new entry is not sealed with the first secret")
	}
	if got := newMember(t, "new-only", store, clk, secretB).token(t); got != "rotated-1" {
		t.Errorf("a process with only the new secret got %q, want rotated-1", got)
	}
	if got := newMember(t, "old-only", store, clk, secretA).token(t); got != "old-1" {
		t.Errorf("a process with only the old secret got %q, want the old entry old-1", got)
	}
}

func TestSharedInvalidatedTokenNotTakenBack(t *testing.T) {
	t.Parallel()
	clk := newClock()
	store := NewMemoryStore(clk)
	a := newMember(t, "a", store, clk, secretA)
	b := newMember(t, "b", store, clk, secretA)
	a.token(t)
	if got := b.token(t); got != "a-1" {
		t.Fatalf("b: %q", got)
	}
	if !b.h.Invalidate("a-1") {
		t.Fatal("Invalidate did not drop a-1")
	}
	if got := b.token(t); got != "b-1" {
		t.Errorf("after a 401 for a-1, b got %q, want a fresh b-1 (not the rejected token from the Store)", got)
	}
	if got := newMember(t, "c", store, clk, secretA).token(t); got != "b-1" {
		t.Errorf("a new process got %q, want b's replacement b-1", got)
	}
}

func TestSharedRefreshConsultsStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := newClock()
		store := NewMemoryStore(clk)
		a := newMember(t, "a", store, clk, secretA)
		b := newMember(t, "b", store, clk, secretA)
		a.token(t)
		b.token(t)
		clk.Advance(45 * time.Minute) // both windows open (jitter off)
		synctest.Wait()
		if got := a.token(t); got != "a-1" {
			t.Fatalf("a stale read: %q", got)
		}
		synctest.Wait() // a's refresh fetches a-2 and shares it
		if got := b.token(t); got != "a-1" {
			t.Fatalf("b stale read: %q", got)
		}
		synctest.Wait() // b's refresh takes a-2 from the Store
		want := map[string]string{"a": "a-2", "b": "a-2"}
		got := map[string]string{"a": a.token(t), "b": b.token(t)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tokens after the refreshes (-want +got):\n%s", diff)
		}
		if n := b.f.calls.Load(); n != 0 {
			t.Errorf("b fetched %d times, want 0", n)
		}
	})
}

func TestSharedLockLoserWaits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		winnerDue time.Duration // when the lock holder shares its token; 0: never
		want      string
		wantCalls int64
	}{
		{"winner shares within the wait", 300 * time.Millisecond, "winner-1", 0},
		{"holder died: fetch after LockWait", 0, "loser-1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				clk := clock.System() // the bubble's fake time
				store := NewMemoryStore(nil)
				winner := newMember(t, "winner", store, clk, secretA)
				loser := newMember(t, "loser", store, clk, secretA)
				if winner.shared.lock(t.Context(), tokenLogical(fleetKey)) != lockWon {
					t.Fatal("lock not won on an empty Store")
				}
				start := time.Now()
				if tt.winnerDue > 0 {
					time.AfterFunc(tt.winnerDue, func() {
						tok, _ := winner.f.Token(context.Background())
						winner.shared.save(context.Background(), tokenLogical(fleetKey), tok, tok.Expiry.Add(-15*time.Minute))
					})
				}
				if got := loser.token(t); got != tt.want {
					t.Errorf("loser got %q, want %q", got, tt.want)
				}
				if got := loser.f.calls.Load(); got != tt.wantCalls {
					t.Errorf("loser fetched %d times, want %d", got, tt.wantCalls)
				}
				waited := time.Since(start)
				if tt.winnerDue > 0 && (waited < tt.winnerDue || waited > tt.winnerDue+pollMax) {
					t.Errorf("loser waited %v for an entry shared after %v", waited, tt.winnerDue)
				}
				if tt.winnerDue == 0 && waited != defaultLockWait {
					t.Errorf("loser waited %v for a dead holder, want LockWait %v", waited, defaultLockWait)
				}
				if st := loser.shared.Stats(); st.LockWaits != 1 {
					t.Errorf("LockWaits = %d, want 1", st.LockWaits)
				}
			})
		})
	}
}

// downStore fails or hangs every operation, counting them.
func downStore(hang bool, ops *atomic.Int64) storeFuncs {
	fail := func(ctx context.Context) error {
		ops.Add(1)
		if hang {
			<-ctx.Done()
			return ctx.Err()
		}
		return errors.New("dial tcp 127.0.0.1:11211: connection refused")
	}
	return storeFuncs{
		GetFunc:    func(ctx context.Context, _ string) ([]byte, error) { return nil, fail(ctx) },
		SetFunc:    func(ctx context.Context, _ string, _ []byte, _ time.Duration) error { return fail(ctx) },
		AddFunc:    func(ctx context.Context, _ string, _ []byte, _ time.Duration) error { return fail(ctx) },
		DeleteFunc: func(ctx context.Context, _ string) error { return fail(ctx) },
	}
}

func TestSharedStoreDown(t *testing.T) {
	t.Parallel()
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("hang=%t", hang), func(t *testing.T) {
			t.Parallel()
			var ops atomic.Int64
			var logs bytes.Buffer
			var mu sync.Mutex
			clk := newClock()
			sh, err := NewShared(SharedOptions{Store: downStore(hang, &ops), Secrets: [][]byte{secretA}, Clock: clk,
				Timeout: time.Millisecond,
				Logger:  slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
			if err != nil {
				t.Fatal(err)
			}
			c := mustNew(t, Options{Clock: clk, Shared: sh})
			f := &issuer{name: "k", clock: clk}
			for i := range 3 {
				h := mustHandle(t, c, testKey(fmt.Sprint("user-", i)), f)
				if _, err := h.Token(t.Context()); err != nil {
					t.Fatalf("Token with the Store down: %v", err)
				}
			}
			if got := f.calls.Load(); got != 3 {
				t.Errorf("fetches = %d, want 3", got)
			}
			// One failed Get per miss; no lock or write is tried after it.
			if got, st := ops.Load(), sh.Stats(); got != 3 || st.Errors != 3 {
				t.Errorf("Store ops = %d, stats %+v; want 3 failed Gets", got, st)
			}
			mu.Lock()
			n := strings.Count(logs.String(), "shared tier unavailable")
			mu.Unlock()
			if n != 1 {
				t.Errorf("failure logged %d times, want once per episode:\n%s", n, logs.String())
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestSharedRecoveryLogged(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	var ops atomic.Int64
	mem := NewMemoryStore(nil)
	failing := downStore(false, &ops)
	store := storeFuncs{
		GetFunc: func(ctx context.Context, k string) ([]byte, error) {
			if down.Load() {
				return failing.Get(ctx, k)
			}
			return mem.Get(ctx, k)
		},
		SetFunc: mem.Set, AddFunc: mem.Add, DeleteFunc: mem.Delete,
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	sh, err := NewShared(SharedOptions{Store: store, Secrets: [][]byte{secretA}, Timeout: storeTimeout,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	steps := []bool{true, true, false, false, true, false}
	for _, d := range steps {
		down.Store(d)
		sh.load(t.Context(), tokenLogical(testKey("k")), nil)
	}
	mu.Lock()
	defer mu.Unlock()
	got := []int{strings.Count(logs.String(), "shared tier unavailable"), strings.Count(logs.String(), "answers again")}
	if diff := cmp.Diff([]int{2, 2}, got); diff != "" {
		t.Errorf("[failures, recoveries] logged (-want +got):\n%s\n%s", diff, logs.String())
	}
}

func TestNewSharedErrors(t *testing.T) {
	t.Parallel()
	store := NewMemoryStore(nil)
	var nilStore *MemoryStore
	tests := []struct {
		name string
		o    SharedOptions
		key  string
		want string
	}{
		{"no store", SharedOptions{Secrets: [][]byte{secretA}}, "store", "no Store"},
		{"typed nil store", SharedOptions{Store: nilStore, Secrets: [][]byte{secretA}}, "store", "no Store"},
		{"no secret", SharedOptions{Store: store}, "secrets", "at least one is needed"},
		{"short secret", SharedOptions{Store: store, Secrets: [][]byte{secretA, []byte("short")}}, "secrets", "secret 1 is 5 bytes"},
		{"same secret twice", SharedOptions{Store: store, Secrets: [][]byte{secretA, secretB, secretA}}, "secrets", "secrets 0 and 2 are the same"},
		{"prefix with a space", SharedOptions{Store: store, Secrets: [][]byte{secretA}, Prefix: "my app:"}, "prefix", "visible ASCII"},
		{"negative timeout", SharedOptions{Store: store, Secrets: [][]byte{secretA}, Timeout: -1}, "timeout", "negative"},
		{"negative lock ttl", SharedOptions{Store: store, Secrets: [][]byte{secretA}, LockTTL: -1}, "lock_ttl", "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewShared(tt.o)
			var ce *configerr.Error
			if !errors.As(err, &ce) || !errors.Is(err, configerr.ErrInvalid) || len(ce.Problems) != 1 {
				t.Fatalf("NewShared: %v, want one config problem", err)
			}
			if p := ce.Problems[0]; p.Key != tt.key || !strings.Contains(p.Reason, tt.want) {
				t.Errorf("problem %q: %q, want %q saying %q", p.Key, p.Reason, tt.key, tt.want)
			}
			if strings.Contains(err.Error(), string(secretA)) {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
}

func TestSharedSecretsRedacted(t *testing.T) {
	t.Parallel()
	o := SharedOptions{Store: NewMemoryStore(nil), Secrets: [][]byte{secretA, secretB}}
	sh, err := NewShared(o)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "opts", o, "shared", sh)
	outputs := map[string]string{"slog": logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs[verb] = fmt.Sprintf(verb, o) + fmt.Sprintf(verb, sh) + fmt.Sprintf(verb, &o) + fmt.Sprintf(verb, []any{o})
	}
	for name, out := range outputs {
		for _, s := range [][]byte{secretA, secretB} {
			if strings.Contains(out, string(s)) || strings.Contains(out, fmt.Sprintf("%x", s)) || strings.Contains(out, fmt.Sprint(s)) {
				t.Errorf("%s output holds a secret: %s", name, out)
			}
		}
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	s, err := newSealer([][]byte{secretA}, "p:")
	if err != nil {
		t.Fatal(err)
	}
	k := s.keys[0]
	until := time.Unix(1_800_000_000, 123)
	sealed := s.seal("token/k", until, []byte("payload"))
	if s.seal("token/k", until, []byte("payload"))[5] == sealed[5] && bytes.Equal(s.seal("token/k", until, []byte("payload")), sealed) {
		t.Error("two seals of one entry are equal: the nonce is not random")
	}
	gotUntil, payload, err := s.open(k, "token/k", sealed)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if !gotUntil.Equal(until) || string(payload) != "payload" {
		t.Errorf("open = %v, %q", gotUntil, payload)
	}
	if bytes.Contains(sealed, []byte("payload")) {
		t.Error("sealed value holds the plaintext")
	}
	tests := []struct {
		name    string
		logical string
		value   []byte
		want    error
	}{
		{"other logical key", "token/other", sealed, errOpen},
		{"empty", "token/k", nil, errTruncated},
		{"short", "token/k", sealed[:minSealedLen-1], errTruncated},
		{"version", "token/k", flip(sealed, 0), errVersion},
		{"key id", "token/k", flip(sealed, 1), errForeignKey},
		{"nonce", "token/k", flip(sealed, headerSize-1), errOpen},
		{"body", "token/k", flip(sealed, headerSize), errOpen},
		{"tag", "token/k", flip(sealed, len(sealed)-1), errOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := s.open(k, tt.logical, tt.value); !errors.Is(err, tt.want) {
				t.Errorf("open = %v, want %v", err, tt.want)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// BenchmarkSealOpen seals and opens one token entry: a project-scoped
// token with the full catalog of the fake cloud, encoded, sealed, opened
// and decoded (catalog index rebuilt).
func BenchmarkSealOpen(b *testing.B) {
	srv := testserver.New(b, testserver.Options{})
	tok, err := (&identity.Client{}).Issue(b.Context(), srv.AuthURL("JP"), testCred, testScope)
	if err != nil {
		b.Fatal(err)
	}
	s, err := newSealer([][]byte{secretA}, defaultSharedPrefix)
	if err != nil {
		b.Fatal(err)
	}
	k := s.keys[0]
	lk := tokenLogical(Key{Credential: testCred, Scope: testScope})(k)
	until := tok.Expiry
	var size int
	b.ReportAllocs()
	for b.Loop() {
		payload, err := identity.EncodeToken(tok)
		if err != nil {
			b.Fatal(err)
		}
		v := s.seal(lk, until, payload)
		size = len(v)
		_, p, err := s.open(k, lk, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := identity.DecodeToken(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "bytes/entry")
}
