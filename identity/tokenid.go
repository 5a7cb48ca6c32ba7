package identity

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
)

// TokenIssuedAt reads the creation time that a Keystone token id carries
// in the clear, and reports whether id has the shape of a token that
// Keystone's token providers issue:
//
//   - Fernet: base64url (padding stripped, as Keystone sends it) of a
//     version byte 0x80, a 64-bit big-endian Unix time in seconds, a
//     16-byte IV, a ciphertext of whole 16-byte blocks and a 32-byte
//     HMAC;
//   - JWS: three base64url parts, a header naming an algorithm and a
//     payload whose "iat" is the issue time.
//
// Neither check needs a key: they read what the token shows anyone. A
// false answer means no Keystone provider made id, so asking Keystone
// about it is pointless; a true answer proves nothing about validity.
func TokenIssuedAt(id string) (time.Time, bool) {
	if strings.Count(id, ".") == 2 {
		return jwsIssuedAt(id)
	}
	return fernetIssuedAt(id)
}

// Fernet layout sizes, in bytes.
const (
	fernetHeader = 1 + 8 + 16 // version, timestamp, IV
	fernetHMAC   = 32
	fernetBlock  = 16
)

func fernetIssuedAt(id string) (time.Time, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil || len(b) < fernetHeader+fernetBlock+fernetHMAC || b[0] != 0x80 ||
		(len(b)-fernetHeader-fernetHMAC)%fernetBlock != 0 {
		return time.Time{}, false
	}
	secs := binary.BigEndian.Uint64(b[1:9])
	if secs > 1<<40 { // far beyond any plausible clock: not a Fernet token
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}

func jwsIssuedAt(id string) (time.Time, bool) {
	parts := strings.Split(id, ".")
	header, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	payload, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	_, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || parts[2] == "" {
		return time.Time{}, false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	var p struct {
		IAT *float64 `json:"iat"`
	}
	if json.Unmarshal(header, &h) != nil || h.Alg == "" || strings.EqualFold(h.Alg, "none") ||
		json.Unmarshal(payload, &p) != nil || p.IAT == nil || *p.IAT < 0 || *p.IAT > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(*p.IAT), 0), true
}
