// Package memcache is a tokencache.Store over memcached, with
// github.com/bradfitz/gomemcache as the client. It is a package of its own
// so that programs without memcached do not link a memcached client.
//
// A service writes:
//
//	store := memcache.New(memcache.Options{}, "10.1.0.5:11211", "10.1.0.6:11211")
//	shared, err := tokencache.NewShared(tokencache.SharedOptions{Store: store, Secrets: [][]byte{secret}})
//	cache := tokencache.New(tokencache.Options{Shared: shared})
//
// # TLS
//
// With Options.TLSConfig every connection to memcached is TLS: memcached's
// own (memcached -Z, with ssl_chain_cert and ssl_key; with ssl_ca_cert and
// ssl_verify_mode=2 it requires a client certificate) or a TLS-terminating
// proxy in front of it. The entries are sealed either way (see
// tokencache.Shared); TLS keeps the rest of the protocol, the keys and
// the sizes of entries, off the wire, and a client certificate keeps
// strangers from filling or flushing the tier.
//
//	pool := x509.NewCertPool()
//	pool.AppendCertsFromPEM(caPEM)
//	store := memcache.New(memcache.Options{TLSConfig: &tls.Config{RootCAs: pool}}, "cache.sg.example.net:11211")
//
// # Timeouts
//
// gomemcache takes no context. Each operation runs with the client's
// socket timeout (Options.Timeout) and, when the caller's context ends
// first, returns at once with the context's error; the abandoned operation
// ends in the background within the socket timeout. Close waits for those.
package memcache

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/geostack/geostack/tokencache"
)

// defaultTimeout is the socket timeout of a client made by New: the longest
// an operation abandoned by its caller's context keeps a connection. The
// caller's own bound (tokencache.SharedOptions.Timeout) is usually shorter.
const defaultTimeout = 100 * time.Millisecond

// defaultMaxIdleConns is the idle connections New keeps per server: enough
// for the concurrent cache misses of a busy process.
const defaultMaxIdleConns = 16

// Options configure a client made by New.
type Options struct {
	// Timeout is the socket read, write and connect timeout. Default
	// 100 ms.
	Timeout time.Duration
	// MaxIdleConns is the idle connections kept per server. Default
	// 16.
	MaxIdleConns int
	// TLSConfig, if set, makes every connection TLS with this
	// configuration: RootCAs to trust a CA of the deployment's own,
	// Certificates to present a client certificate. An empty ServerName
	// is the host of each server's address (so an address given as an IP
	// needs a certificate for that IP). The TLS handshake counts in the
	// connect timeout (Timeout). New keeps a copy. Nil: plain TCP.
	TLSConfig *tls.Config
}

// Store is a tokencache.Store over a gomemcache client. It is safe for
// concurrent use.
type Store struct {
	client *gomemcache.Client

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // operations running, abandoned ones included
}

var _ tokencache.Store = (*Store)(nil)

// ErrClosed is returned by the methods of a Store after Close.
var ErrClosed = errors.New("memcache: store closed")

// New returns a Store over a new client of the memcached servers at addrs
// (host:port), keys spread over them by gomemcache's hashing.
func New(o Options, addrs ...string) *Store {
	var c *gomemcache.Client
	if o.TLSConfig == nil {
		c = gomemcache.New(addrs...)
	} else {
		// gomemcache resolves host names once, when the list is set, and
		// dials the IP: the TLS dialer would then check the certificate
		// for the IP. Keep the names, resolved at each dial.
		c = gomemcache.NewFromSelector(newNamedServers(addrs))
	}
	c.Timeout = o.Timeout
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	c.MaxIdleConns = o.MaxIdleConns
	if c.MaxIdleConns <= 0 {
		c.MaxIdleConns = defaultMaxIdleConns
	}
	if o.TLSConfig != nil {
		// gomemcache bounds the dial's context by Timeout; the handshake
		// runs under the same context.
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: c.Timeout}, Config: o.TLSConfig.Clone()}
		c.DialContext = d.DialContext
	}
	return &Store{client: c}
}

// NewFromClient returns a Store over an existing client, configured by its
// owner. Its Timeout bounds abandoned operations. A nil client makes a
// Store whose every operation fails with ErrClosed.
func NewFromClient(c *gomemcache.Client) *Store { return &Store{client: c, closed: c == nil} }

// do runs op, returning early when ctx ends first.
func (s *Store) do(ctx context.Context, op func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()
	if ctx.Done() == nil {
		defer s.wg.Done()
		return op()
	}
	done := make(chan error, 1)
	go func() {
		defer s.wg.Done()
		done <- op()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("memcache: %w", ctx.Err())
	}
}

// Get returns the value of key, or an error matching
// tokencache.ErrCacheMiss.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.do(ctx, func() error {
		it, err := s.client.Get(key)
		if err != nil {
			return wrap(err)
		}
		v = it.Value
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Set stores value under key for ttl (rounded up to whole seconds). It
// keeps a copy of value: an operation abandoned when ctx ends finishes in
// the background, after Set has returned.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	it := &gomemcache.Item{Key: key, Value: bytes.Clone(value), Expiration: expiration(ttl)}
	return s.do(ctx, func() error { return wrap(s.client.Set(it)) })
}

// Add stores value under key for ttl if key holds nothing, and otherwise
// returns an error matching tokencache.ErrNotStored.
func (s *Store) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	it := &gomemcache.Item{Key: key, Value: bytes.Clone(value), Expiration: expiration(ttl)}
	return s.do(ctx, func() error { return wrap(s.client.Add(it)) })
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.do(ctx, func() error {
		if err := s.client.Delete(key); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
			return wrap(err)
		}
		return nil
	})
}

// Close waits for the operations in flight, abandoned ones included, and
// closes the client's idle connections. Afterwards every method returns
// ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	return s.client.Close()
}

// maxRelative is memcached's longest relative expiration: a larger number
// of seconds is taken for a Unix time.
const maxRelative = 30 * 24 * 60 * 60

// expiration converts ttl to memcached's seconds, rounded up (0 would mean
// never), at most 30 days.
func expiration(ttl time.Duration) int32 {
	s := math.Ceil(ttl.Seconds())
	return int32(min(max(s, 1), maxRelative))
}

// storeError is a gomemcache error that matches the tokencache sentinel for
// the same outcome.
type storeError struct {
	err    error
	target error
}

func (e *storeError) Error() string   { return e.err.Error() } // gomemcache's, "memcache: ..."
func (e *storeError) Unwrap() []error { return []error{e.err, e.target} }

// wrap maps gomemcache's misses and refusals to tokencache's sentinels and
// prefixes every error with the package name.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gomemcache.ErrCacheMiss):
		return &storeError{err: err, target: tokencache.ErrCacheMiss}
	case errors.Is(err, gomemcache.ErrNotStored):
		return &storeError{err: err, target: tokencache.ErrNotStored}
	}
	return fmt.Errorf("memcache: %w", err)
}

// namedServers is a gomemcache.ServerSelector that keeps the servers'
// addresses as they were given, host names unresolved, so that a TLS
// dial checks the certificate for the name and connects to whatever the
// name resolves to at the time. Keys are spread as gomemcache's
// ServerList spreads them: the CRC-32 of the key, modulo the number of
// servers. An address with a '/' is a Unix socket, as in ServerList.
type namedServers []net.Addr

// namedAddr is an address that String returns as given.
type namedAddr struct{ network, addr string }

func (a namedAddr) Network() string { return a.network }
func (a namedAddr) String() string  { return a.addr }

func newNamedServers(addrs []string) namedServers {
	s := make(namedServers, len(addrs))
	for i, a := range addrs {
		network := "tcp"
		if strings.Contains(a, "/") {
			network = "unix"
		}
		s[i] = namedAddr{network: network, addr: a}
	}
	return s
}

// PickServer implements gomemcache.ServerSelector.
func (s namedServers) PickServer(key string) (net.Addr, error) {
	switch len(s) {
	case 0:
		return nil, gomemcache.ErrNoServers
	case 1:
		return s[0], nil
	}
	return s[crc32.ChecksumIEEE([]byte(key))%uint32(len(s))], nil
}

// Each implements gomemcache.ServerSelector.
func (s namedServers) Each(f func(net.Addr) error) error {
	for _, a := range s {
		if err := f(a); err != nil {
			return err
		}
	}
	return nil
}
