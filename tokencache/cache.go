package tokencache

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/typednil"
)

// Cache holds the tokens of many identities, one entry per Key, each shared
// by every Handle of its Key. It is safe for concurrent use. The zero Cache
// is not usable; call New.
type Cache struct {
	opts Options
	// idKey keys the fingerprints that name entries in slots: random, so
	// that no fingerprint is an oracle for a secret outside this process.
	idKey []byte

	// closing is cancelled by Close; it cancels fetches in flight.
	closing context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	slots  map[string]*slot
	closed bool
	// dropped sums the counters of entries dropped from slots, so that
	// Stats never goes down.
	dropped Stats
	// wg counts fetches and timer callbacks running; Add happens only
	// under mu while !closed, so Close's Wait sees every one.
	wg sync.WaitGroup
}

// New returns a Cache configured by opts. Options out of range are a
// *geostack.ConfigError listing each, matching geostack.ErrInvalidConfig.
func New(opts Options) (*Cache, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{
		opts:    o,
		idKey:   key,
		closing: ctx,
		cancel:  cancel,
		slots:   make(map[string]*slot),
	}, nil
}

// errNoSource is the cause of Handle's error for a nil TokenSource.
var errNoSource = errors.New("tokencache: Handle needs a TokenSource")

// Handle returns a new Handle on the entry of key, whose token src fetches.
// Every Handle of one Key shares one token, so a thousand clients of one
// identity and scope take one token between them.
//
// The entry fetches through the source of its oldest Handle not yet
// released; when that one is released, the next one's source takes over.
// So the sources of one Key must be interchangeable: each must issue tokens
// for key's identity and scope, whatever else tells them apart (an HTTP
// client, TLS settings, the order of the auth_urls they try). Tokens that
// may not stand in for each other need Keys of different Kind.
//
// Release the Handle when done with it. An entry no Handle holds any more
// is dropped once its token expires; until then a new Handle of its Key
// picks the token up without a fetch.
//
// Handle fails with ErrClosed after Close, and with an error matching
// identity.ErrInvalidCredential for a nil credential or a nil src.
func (c *Cache) Handle(key Key, src identity.TokenSource) (*Handle, error) {
	if key.Credential == nil || typednil.Is(key.Credential) {
		return nil, &identity.Error{Op: "handle", Kind: identity.ErrInvalidCredential, Err: errors.New("tokencache: Key has no credential")}
	}
	if src == nil || typednil.Is(src) {
		return nil, &identity.Error{Op: "handle", Kind: identity.ErrInvalidCredential, Err: errNoSource}
	}
	id := identity.Fingerprint(c.idKey, key.Credential, key.Scope) + "/" + key.Kind
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	s, ok := c.slots[id]
	if !ok {
		s = newSlot(c, id, key)
		c.slots[id] = s
	}
	h := &Handle{s: s, src: src}
	s.mu.Lock()
	s.handles = append(s.handles, h)
	s.mu.Unlock()
	return h, nil
}

// Stats returns the sum of the counters of every entry.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	ss := make([]*slot, 0, len(c.slots))
	for _, s := range c.slots {
		ss = append(ss, s)
	}
	c.mu.Unlock()
	c.mu.Lock()
	st := c.dropped
	c.mu.Unlock()
	for _, s := range ss {
		st.add(s.stats())
	}
	return st
}

// len reports how many entries the cache holds: one per Key that a live
// Handle holds or whose token has not expired yet.
func (c *Cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.slots)
}

// Close stops every timer, cancels every fetch in flight and waits until
// every goroutine the cache started has returned. Afterwards Token returns
// ErrClosed. Close is idempotent and always returns nil.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.wg.Wait()
		return nil
	}
	c.closed = true
	ss := make([]*slot, 0, len(c.slots))
	for _, s := range c.slots {
		ss = append(ss, s)
	}
	c.mu.Unlock()
	for _, s := range ss {
		s.close()
	}
	c.cancel()
	c.wg.Wait()
	return nil
}

// enter registers a goroutine or timer callback about to do work, and
// reports false if the cache is closed (the caller must then return). The
// caller calls c.wg.Done when it finishes.
func (c *Cache) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// drop removes s from the cache if it is still there and idle: no Handle
// holds it, no fetch runs for it, and it holds neither a usable token nor a
// failure still in its backoff (which a new Handle of the key must get, so
// that clients that come and go do not each try a wrong password again).
// c.mu is taken; s.mu must not be held.
func (c *Cache) drop(s *slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots[s.id] != s {
		return
	}
	s.mu.Lock()
	e := s.cur.Load()
	idle := len(s.handles) == 0 && s.fetching == 0 && !e.usable() && e.state != stateFailed
	if idle {
		s.stopTimers()
	}
	s.mu.Unlock()
	if idle {
		delete(c.slots, s.id)
		c.dropped.add(s.stats())
	}
}
