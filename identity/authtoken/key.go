package authtoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"sync"
)

// key is the cache key of a token: its HMAC-SHA256 under a random secret
// drawn when the Validator is made. The raw token is never a key, so a dump
// of the cache (or of a process's memory past the token's use) does not hold
// bearer tokens, and keys cannot be precomputed by anyone.
type key [sha256.Size]byte

// keyer computes keys without allocating: each hasher keeps its MAC state
// and a buffer for the token bytes.
type keyer struct {
	pool sync.Pool // of *hasher
}

type hasher struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newKeyer() *keyer {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand crashes the program instead)
	k := &keyer{}
	k.pool.New = func() any { return &hasher{mac: hmac.New(sha256.New, secret)} }
	return k
}

func (k *keyer) key(token string) key {
	h := k.pool.Get().(*hasher)
	h.mac.Reset()
	h.buf = append(h.buf[:0], token...)
	h.mac.Write(h.buf)
	h.mac.Sum(h.sum[:0])
	out := key(h.sum)
	clear(h.buf)
	if cap(h.buf) > 1<<10 {
		h.buf = nil // don't pin a rare large buffer
	}
	k.pool.Put(h)
	return out
}

// wellFormed reports whether token may be sent to Keystone: not too long,
// and only visible ASCII (what Fernet, JWS and UUID tokens are made of), so
// that a header with control bytes cannot reach the HTTP client and be taken
// for a Keystone fault.
func wellFormed(token string, max int) bool {
	if len(token) > max {
		return false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
