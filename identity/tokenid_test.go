package identity

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"
)

func fernet(at time.Time, blocks int) string {
	b := make([]byte, fernetHeader+blocks*fernetBlock+fernetHMAC)
	rand.Read(b)
	b[0] = 0x80
	binary.BigEndian.PutUint64(b[1:9], uint64(at.Unix()))
	return base64.RawURLEncoding.EncodeToString(b)
}

func jws(header, payload string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(header)) + "." + e([]byte(payload)) + "." + e([]byte("signature"))
}

func TestTokenIssuedAt(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	padded := fernet(at, 4)
	for len(padded)%4 != 0 {
		padded += "="
	}
	tests := []struct {
		name string
		id   string
		want time.Time
		ok   bool
	}{
		{"fernet", fernet(at, 4), at, true},
		{"fernet with padding", padded, at, true},
		{"fernet, one block", fernet(at, 1), at, true},
		{"jws", jws(`{"typ":"JWT","alg":"ES256"}`, `{"sub":"u","iat":1796112000,"exp":1796115600}`), time.Unix(1796112000, 0), true},
		{"empty", "", time.Time{}, false},
		{"garbage", "not-a-token", time.Time{}, false},
		{"fernet prefix only", "gAAAAABnot-a-token", time.Time{}, false},
		{"wrong version", "gQ" + fernet(at, 4)[2:], time.Time{}, false},
		{"ragged ciphertext", fernet(at, 4)[:120], time.Time{}, false},
		{"uuid", "6f0d5c2e8b4a4e1f9c3d2b1a0e9f8d7c", time.Time{}, false},
		{"jws alg none", jws(`{"alg":"none"}`, `{"iat":1796112000}`), time.Time{}, false},
		{"jws without iat", jws(`{"alg":"ES256"}`, `{"sub":"u"}`), time.Time{}, false},
		{"jws, bad base64", "a.b!.c", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := TokenIssuedAt(tt.id)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: TokenIssuedAt = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzTokenIssuedAt(f *testing.F) {
	f.Add(fernet(time.Unix(1796112000, 0), 4))
	f.Add(jws(`{"alg":"ES256"}`, `{"iat":1}`))
	f.Add("gAAAAAB")
	f.Fuzz(func(t *testing.T, id string) {
		if at, ok := TokenIssuedAt(id); ok && (at.Before(time.Unix(0, 0)) || at.After(time.Unix(1<<40, 0))) {
			t.Errorf("implausible time %v for %q", at, id)
		}
	})
}
