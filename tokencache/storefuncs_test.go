package tokencache

import (
	"context"
	"time"
)

// storeFuncs adapts functions to the Store interface, for tests that
// inject faults or count calls. A nil function behaves as a store that
// keeps nothing: Get misses, Set, Add and Delete succeed. The functions
// are called concurrently and must be safe for it.
type storeFuncs struct {
	GetFunc    func(ctx context.Context, key string) ([]byte, error)
	SetFunc    func(ctx context.Context, key string, value []byte, ttl time.Duration) error
	AddFunc    func(ctx context.Context, key string, value []byte, ttl time.Duration) error
	DeleteFunc func(ctx context.Context, key string) error
}

var _ Store = storeFuncs{}

// Get calls GetFunc.
func (f storeFuncs) Get(ctx context.Context, key string) ([]byte, error) {
	if f.GetFunc == nil {
		return nil, ErrCacheMiss
	}
	return f.GetFunc(ctx, key)
}

// Set calls SetFunc.
func (f storeFuncs) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if f.SetFunc == nil {
		return nil
	}
	return f.SetFunc(ctx, key, value, ttl)
}

// Add calls AddFunc.
func (f storeFuncs) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if f.AddFunc == nil {
		return nil
	}
	return f.AddFunc(ctx, key, value, ttl)
}

// Delete calls DeleteFunc.
func (f storeFuncs) Delete(ctx context.Context, key string) error {
	if f.DeleteFunc == nil {
		return nil
	}
	return f.DeleteFunc(ctx, key)
}
