package tokencache

import (
	"context"
	"sync"

	"github.com/geostack/geostack/identity"
)

// FetchFunc issues a new token. It is called by at most one goroutine at a
// time per Handle, under a context that carries the values of the caller
// that triggered it but not its cancellation, bounded by
// Options.FetchTimeout and cancelled by Close. It must honour that context.
// region.Resolver.Fetcher returns one.
type FetchFunc func(ctx context.Context) (*identity.Token, error)

// Cache holds one Handle per Key. It is safe for concurrent use. The zero
// Cache is not usable; call New.
type Cache struct {
	opts Options

	// closing is cancelled by Close; it cancels fetches in flight.
	closing context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	handles map[Key]*Handle
	closed  bool
	// wg counts fetches and timer callbacks running; Add happens only
	// under mu while !closed, so Close's Wait sees every one.
	wg sync.WaitGroup
}

// New returns a Cache configured by opts. It panics if an option is out of
// range (the message names it): options are code, not input.
func New(opts Options) *Cache {
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{
		opts:    opts.withDefaults(),
		closing: ctx,
		cancel:  cancel,
		handles: make(map[Key]*Handle),
	}
}

// Handle returns the Handle of key, creating it with fetch if it does not
// exist yet. Every call with the same key returns the same *Handle, and
// fetch is used only by the call that created it: all callers of a key
// must pass equivalent functions. A Handle created after Close returns
// ErrClosed. Handle panics if fetch is nil.
func (c *Cache) Handle(key Key, fetch FetchFunc) *Handle {
	if fetch == nil {
		panic("tokencache: Handle called with a nil FetchFunc")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.handles[key]; ok {
		return h
	}
	h := &Handle{c: c, key: key, fetch: fetch, countReads: c.opts.CountReads}
	h.cur.Store(expiredEntry)
	if c.closed {
		h.cur.Store(closedEntry)
	}
	c.handles[key] = h
	return h
}

// Invalidate drops the token of key if it is still rejectedID, and reports
// whether it did. See Handle.Invalidate.
func (c *Cache) Invalidate(key Key, rejectedID string) bool {
	c.mu.Lock()
	h := c.handles[key]
	c.mu.Unlock()
	return h != nil && h.Invalidate(rejectedID)
}

// Stats returns the sum of the counters of every Handle.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	hs := make([]*Handle, 0, len(c.handles))
	for _, h := range c.handles {
		hs = append(hs, h)
	}
	c.mu.Unlock()
	var s Stats
	for _, h := range hs {
		s.add(h.Stats())
	}
	return s
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
	hs := make([]*Handle, 0, len(c.handles))
	for _, h := range c.handles {
		hs = append(hs, h)
	}
	c.mu.Unlock()
	for _, h := range hs {
		h.close()
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

// emit passes ev to the OnEvent hook, if any.
func (c *Cache) emit(ev Event) {
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(ev)
	}
}
