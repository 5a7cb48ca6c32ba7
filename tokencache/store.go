package tokencache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/geostack/geostack/clock"
)

// Store is the shared second tier behind a Cache: a memcached-like key-value
// store that a fleet of processes reaches over the network. Package
// tokencache/memcache implements it over memcached; MemoryStore serves
// tests.
//
// A Store must be safe for concurrent use by many goroutines. Every method
// must honour ctx (the caller bounds each operation with a timeout of a few
// milliseconds) and must not retain value after it returns, nor modify it.
// Keys are at most 250 bytes of visible ASCII. TTLs are whole seconds in
// memcached; a Store may round them up, never down to zero.
//
// The values a Store holds are sealed by Shared: a Store sees only opaque
// bytes and hashed keys.
type Store interface {
	// Get returns the value of key, or an error matching ErrCacheMiss when
	// there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl, replacing any value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Add stores value under key for ttl only if key holds nothing, and
	// otherwise returns an error matching ErrNotStored.
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Errors a Store returns for the expected outcomes, which are not failures.
var (
	// ErrCacheMiss is returned by Store.Get for a key with no value.
	ErrCacheMiss = errors.New("tokencache: cache miss")
	// ErrNotStored is returned by Store.Add for a key that holds a value.
	ErrNotStored = errors.New("tokencache: not stored")
)

// MemoryStore is a Store in memory, for tests and examples: a stand-in for
// memcached shared by several Caches of one process. It is safe for
// concurrent use; each operation takes one mutex. Entries expire on the
// clock given to NewMemoryStore, so a test's fake clock expires them. It
// never evicts otherwise: don't use it as a production cache.
type MemoryStore struct {
	clock clock.Clock

	mu      sync.Mutex
	entries map[string]memoryEntry
}

type memoryEntry struct {
	value   []byte
	expires time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore whose TTLs run on clk (nil:
// the system clock).
func NewMemoryStore(clk clock.Clock) *MemoryStore {
	if clk == nil {
		clk = clock.System()
	}
	return &MemoryStore{clock: clk, entries: make(map[string]memoryEntry)}
}

// get returns the live entry of key. s.mu must be held.
func (s *MemoryStore) get(key string) (memoryEntry, bool) {
	e, ok := s.entries[key]
	if ok && !s.clock.Now().Before(e.expires) {
		delete(s.entries, key)
		return memoryEntry{}, false
	}
	return e, ok
}

// Get returns a copy of the value of key, or ErrCacheMiss.
func (s *MemoryStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.get(key)
	if !ok {
		return nil, ErrCacheMiss
	}
	return append([]byte(nil), e.value...), nil
}

// Set stores a copy of value under key for ttl.
func (s *MemoryStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[key] = memoryEntry{value: append([]byte(nil), value...), expires: s.clock.Now().Add(ttl)}
	return nil
}

// Add stores a copy of value under key for ttl if key holds nothing, and
// otherwise returns ErrNotStored.
func (s *MemoryStore) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.get(key); ok {
		return ErrNotStored
	}
	s.entries[key] = memoryEntry{value: append([]byte(nil), value...), expires: s.clock.Now().Add(ttl)}
	return nil
}

// Delete removes key.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, key)
	return nil
}

// keys returns the keys of the live entries, in no order: what an operator
// listing memcached would see.
func (s *MemoryStore) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.entries))
	for k := range s.entries {
		if _, ok := s.get(k); ok {
			keys = append(keys, k)
		}
	}
	return keys
}
