package identity

import "context"

// TokenSource hands out Keystone tokens: a token cache, a Client of the
// geostack package, or a fake in a test.
//
// Token must be safe for concurrent use by many goroutines. It returns a
// token usable now, or an error saying why there is none; it never returns
// a nil token with a nil error. It may return the same *Token to every
// caller until the token is replaced, so callers must not modify it. A
// TokenSource that does I/O stops waiting when ctx ends.
//
// Wrapping a TokenSource (to count, to log, to cache) is harmless: every
// geostack TokenSource either hands out what it holds or fetches once for
// all of its callers.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (*Token, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (*Token, error) { return f(ctx) }
