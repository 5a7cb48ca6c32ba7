package identity

import (
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// BenchmarkParseToken measures turning a decoded token response into a
// Token, catalog index included: the work of every Issue and Validate
// besides the round trip.
func BenchmarkParseToken(b *testing.B) {
	v, err := decodeBody([]byte(goodBody))
	if err != nil {
		b.Fatal(err)
	}
	in := parseInput{result: gophercloud.Result{Body: v, Header: http.Header{"X-Subject-Token": {"tok"}}}, sent: time.Now()}
	b.SetBytes(int64(len(goodBody)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseToken(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenFingerprint measures what logging a token costs.
func BenchmarkTokenFingerprint(b *testing.B) {
	id := "gAAAAABsO2khbA3QB3fT2Y_8mmkLr6k9Lent61jMImGkiFY1osZlx3BIEr64Mw-hhup0iIqryC4_mAxDn_Sk-mHPPcsUWxr11xuFSSoHC9vXtks4N3GX"
	b.ReportAllocs()
	for b.Loop() {
		_ = TokenFingerprint(id)
	}
}

// BenchmarkFingerprint is the cost of a cache key. It is one HMAC-SHA256
// now, a few microseconds (it was about 0.55 ms with the PBKDF2 digest of
// the secret): the secret is kept from guessing by the key, which whoever
// holds a fingerprint does not have, not by a slow hash.
func BenchmarkFingerprint(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name string
		cred Credential
	}{
		{"password", Password{UserName: "gncu00000001", DomainName: "gnc", Password: "correct horse"}},
		{"application credential", ApplicationCredential{ID: "3b5f0c1e9a7d4c2f8e6b1a0d9c8b7a6f", Secret: "correct horse battery staple"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			scope := Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
			b.ReportAllocs()
			for b.Loop() {
				_ = Fingerprint(key, tc.cred, scope)
			}
		})
	}
}
