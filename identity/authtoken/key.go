package authtoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"runtime"
	"sync"
	"sync/atomic"
)

// key is the cache key of a token: its HMAC-SHA256 under a random secret
// drawn when the Validator is made. The raw token is never a key, so a dump
// of the cache (or of a process's memory past the token's use) does not hold
// bearer tokens, and keys cannot be precomputed by anyone.
type key [sha256.Size]byte

// keyer computes keys without allocating: each hasher keeps its MAC state
// and a buffer for the token bytes.
//
// It also hands out the stripe that counts the caller's cache hit. A
// sync.Pool keeps a hasher per P, so that the hashers, and the stripes
// dealt to them in turn as they are made, are spread over the Ps: callers
// on different cores count on different cache lines, where one shared
// counter would bounce between every core on every hit. A hasher the pool
// drops takes nothing with it: the counts are in stripes, which stay.
type keyer struct {
	pool    sync.Pool // of *hasher
	stripes []hitStripe
	dealt   atomic.Uint32 // hashers made, to deal stripes in turn
}

type hasher struct {
	mac    hash.Hash
	buf    []byte
	sum    [sha256.Size]byte
	stripe *hitStripe
}

// maxStripes bounds the hit stripes of a keyer (256 bytes each).
const maxStripes = 64

func newKeyer() *keyer {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand crashes the program instead)
	k := &keyer{stripes: make([]hitStripe, min(max(runtime.GOMAXPROCS(0), 1), maxStripes))}
	k.pool.New = func() any {
		n := k.dealt.Add(1) - 1
		return &hasher{mac: hmac.New(sha256.New, secret), stripe: &k.stripes[n%uint32(len(k.stripes))]}
	}
	return k
}

// keyAndStripe returns token's key and the stripe to count a hit on.
func (k *keyer) keyAndStripe(token string) (key, *hitStripe) {
	h := k.pool.Get().(*hasher)
	h.mac.Reset()
	h.buf = append(h.buf[:0], token...)
	h.mac.Write(h.buf)
	h.mac.Sum(h.sum[:0])
	out, stripe := key(h.sum), h.stripe
	clear(h.buf)
	if cap(h.buf) > 1<<10 {
		h.buf = nil // don't pin a rare large buffer
	}
	k.pool.Put(h)
	return out, stripe
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
