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
	"errors"
	"fmt"
	"math"
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
	c := gomemcache.New(addrs...)
	c.Timeout = o.Timeout
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	c.MaxIdleConns = o.MaxIdleConns
	if c.MaxIdleConns <= 0 {
		c.MaxIdleConns = defaultMaxIdleConns
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
