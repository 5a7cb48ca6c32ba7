package memcache_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/tokencache/memcache"
)

var (
	secret    = []byte("fleet-secret-0123456789abcdef0123456789")
	otherKey  = []byte("other-secret-0123456789abcdef0123456789")
	testUser  = "gncu00000001"
	testCred  = identity.Password{UserName: testUser, DomainName: "gnc", Password: testserver.UserPassword}
	testScope = identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
)

// testTimeout bounds Store operations in tests that assert exact counts:
// under -race on a loaded machine a loopback round trip can exceed the
// production default, and a timeout (correctly) costs an extra fetch.
const testTimeout = 2 * time.Second

// prefix returns a Store key prefix of its own for one test, so that
// parallel tests on the shared memcached never see each other's entries.
func prefix(t testing.TB) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b) + ":"
}

// newStore returns a Store on addr, closed when the test ends.
func newStore(t testing.TB, addr string) *memcache.Store {
	t.Helper()
	s := memcache.New(memcache.Options{Timeout: testTimeout}, addr)
	t.Cleanup(func() { s.Close() })
	return s
}

// process is one member of a fleet: nothing shared with the others but
// the memcached address and the secret.
type process struct {
	shared *tokencache.Shared
	cache  *tokencache.Cache
	h      *tokencache.Handle
	calls  *atomic.Int64
}

// testKey is the Key of testCred and testScope.
var testKey = tokencache.Key{Credential: testCred, Scope: testScope}

// newCache returns a Cache on sh, closed when the test ends.
func newCache(t testing.TB, sh *tokencache.Shared) *tokencache.Cache {
	t.Helper()
	c, err := tokencache.New(tokencache.Options{Shared: sh})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newHandle returns a new Handle of key on c.
func newHandle(t testing.TB, c *tokencache.Cache, key tokencache.Key, src identity.TokenSource) *tokencache.Handle {
	t.Helper()
	h, err := c.Handle(key, src)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newProcess(t testing.TB, addr, pfx string, src identity.TokenSource, secrets ...[]byte) *process {
	t.Helper()
	if len(secrets) == 0 {
		secrets = [][]byte{secret}
	}
	sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: newStore(t, addr), Secrets: secrets, Prefix: pfx, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, sh)
	var calls atomic.Int64
	h := newHandle(t, c, testKey, identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
		calls.Add(1)
		return src.Token(ctx)
	}))
	return &process{shared: sh, cache: c, h: h, calls: &calls}
}

// keystone returns a TokenSource issuing tokens at the fake cloud's JP.
func keystone(srv *testserver.Server) identity.TokenSource {
	idc := &identity.Client{}
	return identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
		return idc.Issue(ctx, srv.AuthURL("JP"), testCred, testScope)
	})
}

func TestStore(t *testing.T) {
	t.Parallel()
	s := newStore(t, keystonetest.Memcached(t))
	p := prefix(t)
	ctx := t.Context()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	type step struct {
		name string
		do   func() error
		want error
	}
	steps := []step{
		{"get missing", func() error { _, err := s.Get(ctx, p+"a"); return err }, tokencache.ErrCacheMiss},
		{"add new", func() error { return s.Add(ctx, p+"a", []byte("1"), time.Minute) }, nil},
		{"add present", func() error { return s.Add(ctx, p+"a", []byte("2"), time.Minute) }, tokencache.ErrNotStored},
		{"set", func() error { return s.Set(ctx, p+"a", []byte("3"), 10*time.Millisecond) }, nil},
		{"get", func() error {
			v, err := s.Get(ctx, p+"a")
			if err == nil && string(v) != "3" {
				return fmt.Errorf("value %q, want 3 (a sub-second TTL is rounded up)", v)
			}
			return err
		}, nil},
		{"delete", func() error { return s.Delete(ctx, p+"a") }, nil},
		{"delete missing", func() error { return s.Delete(ctx, p+"a") }, nil},
		{"get deleted", func() error { _, err := s.Get(ctx, p+"a"); return err }, tokencache.ErrCacheMiss},
		{"cancelled context", func() error { _, err := s.Get(cancelled, p+"a"); return err }, context.Canceled},
	}
	for _, st := range steps { // in order: each step depends on the one before
		if err := st.do(); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", st.name, err, st.want)
		}
	}
}

func TestStoreDeadlineBoundsAHungServer(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: a hung memcached.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	s := memcache.New(memcache.Options{Timeout: 200 * time.Millisecond}, ln.Addr().String())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	// The caller's deadline, not the client's 200 ms socket timeout (an
	// os.ErrDeadlineExceeded, which does not match), ends the call.
	_, err = s.Get(ctx, "k")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get on a hung server: %v, want context.DeadlineExceeded", err)
	}
	s.Close() // waits for the abandoned operation's socket timeout
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, memcache.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}

// TestFleetOneToken: processes sharing nothing but memcached, 1,000
// concurrent calls each on a cold start, make Keystone issue one token.
func TestFleetOneToken(t *testing.T) {
	t.Parallel()
	addr := keystonetest.Memcached(t)
	srv := testserver.New(t, testserver.Options{})
	pfx := prefix(t)
	const processes, calls = 3, 1000
	fleet := make([]*process, processes)
	for i := range fleet {
		fleet[i] = newProcess(t, addr, pfx, keystone(srv))
	}
	ids := make([][]string, processes)
	var wg sync.WaitGroup
	for i, p := range fleet {
		ids[i] = make([]string, calls)
		for j := range calls {
			wg.Go(func() {
				tok, err := p.h.Token(t.Context())
				if err != nil {
					t.Errorf("process %d: Token: %v", i, err)
					return
				}
				ids[i][j] = tok.ID
			})
		}
	}
	wg.Wait()
	if got := srv.TokensIssued(testUser, ""); got != 1 {
		t.Errorf("Keystone issued %d tokens to a fleet of %d processes, want 1", got, processes)
	}
	var fetches int64
	for _, p := range fleet {
		fetches += p.calls.Load()
	}
	if fetches != 1 {
		t.Errorf("TokenSource called %d times across the fleet, want 1", fetches)
	}
	for i := range ids {
		for _, id := range ids[i] {
			if id != ids[0][0] {
				t.Fatal("processes were served different tokens")
			}
		}
	}
}

// recorder is a Store that remembers the last key each Set wrote.
type recorder struct {
	tokencache.Store
	mu   sync.Mutex
	last string
}

func (r *recorder) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	r.mu.Lock()
	r.last = key
	r.mu.Unlock()
	return r.Store.Set(ctx, key, value, ttl)
}

func (r *recorder) lastKey() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// TestSealingOnMemcached spoils the entry a process shared, in memcached
// itself, and checks that the next process treats it as a miss.
func TestSealingOnMemcached(t *testing.T) {
	t.Parallel()
	addr := keystonetest.Memcached(t)
	srv := testserver.New(t, testserver.Options{})
	raw := newStore(t, addr)
	tests := []struct {
		name         string
		spoil        func(t *testing.T, key string, pfx string)
		readerSecret []byte
		wantRejected uint64
	}{
		{"byte flipped", func(t *testing.T, key, _ string) {
			v, err := raw.Get(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			v[len(v)/2] ^= 0x20
			if err := raw.Set(t.Context(), key, v, time.Minute); err != nil {
				t.Fatal(err)
			}
		}, secret, 2},
		{"entry of another key copied here", func(t *testing.T, key, pfx string) {
			// Another identity's entry, shared by another process.
			rec := &recorder{Store: newStore(t, addr)}
			sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: rec, Secrets: [][]byte{secret}, Prefix: pfx, Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			c := newCache(t, sh)
			admin := identity.Password{UserName: testserver.AdminUser, DomainName: testserver.DefaultDomainName, Password: testserver.AdminPassword}
			scope := identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainName: testserver.DefaultDomainName}
			idc := &identity.Client{}
			h := newHandle(t, c, tokencache.Key{Credential: admin, Scope: scope}, identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
				return idc.Issue(ctx, srv.AuthURL("JP"), admin, scope)
			}))
			defer h.Release()
			if _, err := h.Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			v, err := raw.Get(t.Context(), rec.lastKey())
			if err != nil {
				t.Fatal(err)
			}
			if err := raw.Set(t.Context(), key, v, time.Minute); err != nil {
				t.Fatal(err)
			}
		}, secret, 2},
		{"read with a wrong secret", func(*testing.T, string, string) {}, otherKey, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pfx := prefix(t)
			rec := &recorder{Store: newStore(t, addr)}
			sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: rec, Secrets: [][]byte{secret}, Prefix: pfx, Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			writer := newCache(t, sh)
			shared, err := newHandle(t, writer, testKey, keystone(srv)).Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			tt.spoil(t, rec.lastKey(), pfx)

			reader := newProcess(t, addr, pfx, keystone(srv), tt.readerSecret)
			tok, err := reader.h.Token(t.Context())
			if err != nil {
				t.Fatalf("reader: %v", err)
			}
			if tok.ID == shared.ID || reader.calls.Load() != 1 {
				t.Errorf("reader took the spoiled entry (fetches %d), want a fetch of its own", reader.calls.Load())
			}
			if tok.User.Name != testUser || tok.Project == nil || tok.Project.Name != testScope.ProjectName {
				t.Errorf("reader got a token of %s / %v", tok.User.Name, tok.Project)
			}
			st := reader.shared.Stats()
			if diff := cmp.Diff(tt.wantRejected, st.Rejected); diff != "" || st.Hits != 0 {
				t.Errorf("reader stats %+v, want Rejected %d and no hit", st, tt.wantRejected)
			}
		})
	}
}

// memcached is a memcached process of a test's own, which the test may
// kill and restart; never the shared one.
type memcached struct {
	t     *testing.T
	port  int
	cmd   *exec.Cmd
	extra []string // more arguments, such as -Z for TLS
}

// startMemcached starts a memcached of the test's own on a free loopback
// port, with the extra arguments, and kills it when the test ends.
func startMemcached(t *testing.T, extra ...string) *memcached {
	t.Helper()
	path, err := exec.LookPath("memcached")
	if err != nil {
		path = "/usr/bin/memcached"
	}
	if _, err := exec.LookPath(path); err != nil {
		if keystonetest.Required() {
			t.Fatalf("memcached binary not found: %v", err)
		}
		t.Skipf("memcached binary not found (%v); skipping a test that kills and restarts its own", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	m := &memcached{t: t, port: port, extra: extra}
	m.start(path)
	t.Cleanup(m.kill)
	return m
}

func (m *memcached) addr() string { return "127.0.0.1:" + strconv.Itoa(m.port) }

func (m *memcached) start(path string) {
	m.t.Helper()
	if path == "" {
		path = m.cmd.Path
	}
	args := append([]string{"-l", "127.0.0.1", "-p", strconv.Itoa(m.port), "-U", "0", "-m", "16"}, m.extra...)
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses root without it
	}
	var stderr bytes.Buffer
	m.cmd = exec.Command(path, args...)
	m.cmd.Stderr = &stderr
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start memcached: %v", err)
	}
	// Ready when it accepts a connection: a refused dial on loopback
	// returns at once, so this loop yields rather than sleeps.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", m.addr())
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.kill()
			m.t.Fatalf("memcached on port %d not up: %v; its stderr: %s", m.port, err, stderr.String())
		}
		runtime.Gosched()
	}
}

func (m *memcached) kill() {
	if m.cmd != nil && m.cmd.Process != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

// TestMemcachedKilledAndRestarted: killing memcached while a fleet works
// fails no call; once it is back on the same port, processes share again.
func TestMemcachedKilledAndRestarted(t *testing.T) {
	t.Parallel()
	mc := startMemcached(t)
	srv := testserver.New(t, testserver.Options{})
	pfx := prefix(t)
	idc := &identity.Client{}
	newFleetProcess := func() (*tokencache.Cache, *tokencache.Shared) {
		sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: newStore(t, mc.addr()), Secrets: [][]byte{secret}, Prefix: pfx, Timeout: testTimeout})
		if err != nil {
			t.Fatal(err)
		}
		return newCache(t, sh), sh
	}
	a, shA := newFleetProcess()
	b, shB := newFleetProcess()
	// Each key is an entry of its own (a Kind per key): 200 keys are as
	// many entries, each an L1 miss that goes through memcached.
	src := identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
		return idc.Issue(ctx, srv.AuthURL("JP"), testCred, testScope)
	})
	token := func(c *tokencache.Cache, i int) (*identity.Token, error) {
		key := testKey
		key.Kind = fmt.Sprintf("key-%d", i)
		h, err := c.Handle(key, src) // called from goroutines: no t.Fatal
		if err != nil {
			return nil, err
		}
		defer h.Release()
		return h.Token(t.Context())
	}

	const keys = 200
	var failed atomic.Int64
	half := make(chan struct{})
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range []*tokencache.Cache{a, b} {
		wg.Go(func() {
			for i := range keys {
				if i == keys/2 {
					if c == a {
						close(half)
					}
					<-killed
				}
				if _, err := token(c, i); err != nil {
					failed.Add(1)
					t.Errorf("key %d: %v", i, err)
				}
			}
		})
	}
	<-half
	mc.kill()
	close(killed)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d calls failed with memcached killed mid-run, want 0", n)
	}
	if shA.Stats().Errors+shB.Stats().Errors == 0 {
		t.Error("no Store error counted after memcached was killed")
	}

	mc.start("")
	before := b.Stats().FromShared
	if _, err := token(a, keys); err != nil {
		t.Fatalf("after restart, a: %v", err)
	}
	tok, err := token(b, keys)
	if err != nil {
		t.Fatalf("after restart, b: %v", err)
	}
	if got := b.Stats().FromShared - before; got != 1 {
		t.Errorf("after memcached restarted, b took %d tokens from it, want 1 (sharing resumed)", got)
	}
	if tok.User.Name != testUser {
		t.Errorf("b got a token of %q", tok.User.Name)
	}
}

// BenchmarkL2Hit is a read that misses the in-process cache (a new Cache
// each time: a process's first request) and hits the real memcached: one
// Get, open, decode with catalog index rebuilt, install.
func BenchmarkL2Hit(b *testing.B) {
	addr := keystonetest.Memcached(b)
	srv := testserver.New(b, testserver.Options{})
	pfx := prefix(b)
	seed := newProcess(b, addr, pfx, keystone(srv))
	if _, err := seed.h.Token(b.Context()); err != nil {
		b.Fatal(err)
	}
	sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: newStore(b, addr), Secrets: [][]byte{secret}, Prefix: pfx})
	if err != nil {
		b.Fatal(err)
	}
	fetch := identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
		return nil, errors.New("fetch: the benchmark must hit memcached")
	})
	b.ReportAllocs()
	for b.Loop() {
		c, err := tokencache.New(tokencache.Options{Shared: sh})
		if err != nil {
			b.Fatal(err)
		}
		h, err := c.Handle(testKey, fetch)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Token(b.Context()); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	st := sh.Stats()
	b.ReportMetric(float64(st.Hits)/float64(b.N), "l2hits/op")
	b.ReportMetric(float64(srv.TokensIssued(testUser, "")), "tokens-issued")
}
