package tokencache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Sealing. Every entry the shared tier writes is sealed with keys derived
// from a configured secret; nothing in the Store is readable or forgeable
// without it.
//
// For each secret, HKDF-SHA256 (no salt; the secret is high-entropy key
// material) derives four independent values, told apart by their info
// strings:
//
//   - a 4-byte key id, written in each sealed value so that a reader knows
//     which secret sealed it;
//   - an HMAC-SHA256 key for Store keys: a Store key is Prefix followed by
//     the unpadded base64url HMAC of the entry's logical key, so no token,
//     user name or project appears in it;
//   - an AES-256-GCM key for values;
//   - an HMAC-SHA256 key for incoming tokens, so that a validation entry's
//     logical key is derived from the token without holding it.
//
// A sealed value is
//
//	version (1 byte) | key id (4) | nonce (12, random) | GCM(until (8) | payload)
//
// with version, key id and the logical key as GCM's additional data: an
// entry copied to another key, or its header changed, fails to open. until
// (Unix nanoseconds) is when the entry stops being served; an entry opened
// at or after it is a miss.
const (
	sealVersion  = 1
	keyIDSize    = 4
	nonceSize    = 12
	headerSize   = 1 + keyIDSize + nonceSize
	untilSize    = 8
	minSealedLen = headerSize + untilSize + 16 // 16: the GCM tag

	// minSecretLen is the shortest secret SharedOptions accepts. Use 32
	// random bytes.
	minSecretLen = 16

	infoKeyID    = "geostack tokencache v1 key id"
	infoStoreKey = "geostack tokencache v1 store key"
	infoSeal     = "geostack tokencache v1 seal"
	infoTokenKey = "geostack tokencache v1 token key"
)

// sealKey is what one secret derives.
type sealKey struct {
	id       [keyIDSize]byte
	storeMAC []byte // HMAC key of Store keys
	tokenMAC []byte // HMAC key of incoming tokens
	aead     cipher.AEAD
}

// sealer seals and opens entries. keys[0] seals; every key opens.
type sealer struct {
	prefix string
	keys   []*sealKey
}

// Reasons an entry is rejected: counted, never returned to a caller.
var (
	errTruncated  = errors.New("sealed entry truncated")
	errVersion    = errors.New("sealed entry of an unknown version")
	errForeignKey = errors.New("sealed entry written under an unknown secret")
	errOpen       = errors.New("sealed entry fails authentication")
)

func newSealer(secrets [][]byte, prefix string) (*sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("at least one is needed")
	}
	s := &sealer{prefix: prefix}
	for i, secret := range secrets {
		if len(secret) < minSecretLen {
			return nil, fmt.Errorf("secret %d is %d bytes, want at least %d", i, len(secret), minSecretLen)
		}
		k, err := deriveKey(secret)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i, err)
		}
		for j, o := range s.keys {
			if o.id == k.id {
				return nil, fmt.Errorf("secrets %d and %d are the same (or share a key id)", j, i)
			}
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

func deriveKey(secret []byte) (*sealKey, error) {
	id, err := hkdf.Key(sha256.New, secret, nil, infoKeyID, keyIDSize)
	if err != nil {
		return nil, err
	}
	k := &sealKey{}
	copy(k.id[:], id)
	if k.storeMAC, err = hkdf.Key(sha256.New, secret, nil, infoStoreKey, 32); err != nil {
		return nil, err
	}
	if k.tokenMAC, err = hkdf.Key(sha256.New, secret, nil, infoTokenKey, 32); err != nil {
		return nil, err
	}
	enc, err := hkdf.Key(sha256.New, secret, nil, infoSeal, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// storeKey returns the Store key of a logical key under k.
func (s *sealer) storeKey(k *sealKey, logical string) string {
	m := hmac.New(sha256.New, k.storeMAC)
	m.Write([]byte(logical))
	var sum [sha256.Size]byte
	return s.prefix + base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// tokenDigest returns the base64url HMAC of an incoming token under k: the
// part of a validation entry's logical key that names the token.
func tokenDigest(k *sealKey, token string) string {
	m := hmac.New(sha256.New, k.tokenMAC)
	m.Write([]byte(token))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// additionalData binds a sealed value's header and logical key.
func additionalData(header []byte, logical string) []byte {
	ad := make([]byte, 0, 1+keyIDSize+len(logical))
	ad = append(ad, header[:1+keyIDSize]...)
	return append(ad, logical...)
}

// seal seals payload, served until until, for logical key logical under
// keys[0].
func (s *sealer) seal(logical string, until time.Time, payload []byte) []byte {
	k := s.keys[0]
	out := make([]byte, headerSize, headerSize+untilSize+len(payload)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	rand.Read(out[1+keyIDSize : headerSize]) // never fails (crypto/rand crashes the program instead)
	plain := make([]byte, untilSize, untilSize+len(payload))
	binary.BigEndian.PutUint64(plain, uint64(until.UnixNano()))
	plain = append(plain, payload...)
	sealed := k.aead.Seal(out, out[1+keyIDSize:headerSize], plain, additionalData(out, logical))
	clear(plain)
	return sealed
}

// open opens value, read under logical key logical with k's Store key. It
// returns the entry's until and payload, or why the entry is rejected.
func (s *sealer) open(k *sealKey, logical string, value []byte) (time.Time, []byte, error) {
	if len(value) < minSealedLen {
		return time.Time{}, nil, errTruncated
	}
	if value[0] != sealVersion {
		return time.Time{}, nil, errVersion
	}
	if [keyIDSize]byte(value[1:1+keyIDSize]) != k.id {
		// A Store key derived from k holding another secret's entry is
		// a copy, or a forgery.
		return time.Time{}, nil, errForeignKey
	}
	plain, err := k.aead.Open(nil, value[1+keyIDSize:headerSize], value[headerSize:], additionalData(value, logical))
	if err != nil {
		return time.Time{}, nil, errOpen
	}
	until := time.Unix(0, int64(binary.BigEndian.Uint64(plain)))
	return until, plain[untilSize:], nil
}
