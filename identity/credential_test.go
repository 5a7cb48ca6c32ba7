package identity_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
)

// TestFingerprint computes the fingerprint of every case: cases of one
// group must share a fingerprint, cases of different groups must not, and
// no fingerprint may reveal the case's secret.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	key := []byte("fingerprint test key number one!")
	otherKey := []byte("fingerprint test key number two!")
	pw := identity.Password{UserName: "u", DomainName: "d", Password: "secret-one"}
	project := identity.Scope{ProjectName: "p", ProjectDomainName: "d"}
	withPassword := func(p string) identity.Password {
		c := pw
		c.Password = p
		return c
	}
	type tc struct {
		name   string
		group  string // "" means a group of its own
		key    []byte
		c      identity.Credential
		s      identity.Scope
		secret string
	}
	tests := []tc{
		{name: "base", group: "base", key: key, c: pw, s: project, secret: pw.Password},
		{name: "again", group: "base", key: key, c: pw, s: project, secret: pw.Password},
		{name: "pointer", group: "base", key: key, c: &pw, s: project, secret: pw.Password},
		{name: "a copy of the key", group: "base", key: []byte(string(key)), c: pw, s: project, secret: pw.Password},

		// The key changes every fingerprint.
		{name: "other key", key: otherKey, c: pw, s: project, secret: pw.Password},
		{name: "nil key", key: nil, c: pw, s: project, secret: pw.Password},
		{name: "other key, other password", key: otherKey, c: withPassword("secret-two"), s: project, secret: "secret-two"},

		// Different passwords never share one, however close they are.
		{name: "other password", key: key, c: withPassword("secret-two"), s: project, secret: "secret-two"},
		{name: "trailing space", key: key, c: withPassword("secret-one "), s: project, secret: "secret-one "},
		{name: "upper case", key: key, c: withPassword("Secret-one"), s: project, secret: "Secret-one"},
		{name: "prefix", key: key, c: withPassword("secret-on"), s: project, secret: "secret-on"},
		{name: "trailing NUL", key: key, c: withPassword("secret-one\x00"), s: project, secret: "secret-one\x00"},
		{name: "composed é", key: key, c: withPassword("caf\u00e9"), s: project, secret: "caf\u00e9"},
		{name: "decomposed é", key: key, c: withPassword("cafe\u0301"), s: project, secret: "cafe\u0301"},
		{name: "empty password", key: key, c: withPassword(""), s: project},
		{name: "hex password", key: key, c: withPassword("c0ffee00deadbeef"), s: project, secret: "c0ffee00deadbeef"},

		// The identity and the scope are part of it.
		{name: "same password, other user", key: key, c: identity.Password{UserName: "v", DomainName: "d", Password: "secret-one"}, s: project, secret: "secret-one"},
		{name: "domain id instead of name", key: key, c: identity.Password{UserName: "u", DomainID: "d", Password: "secret-one"}, s: project, secret: "secret-one"},
		{name: "shifted fields", key: key, c: identity.Password{UserName: "ud", Password: "secret-one"}, s: project, secret: "secret-one"},
		{name: "password shifted into the domain", key: key, c: identity.Password{UserName: "u", DomainName: "dsecret-one"}, s: project},
		{name: "unscoped", key: key, c: pw, s: identity.Scope{}, secret: pw.Password},
		{name: "system", key: key, c: pw, s: identity.Scope{System: true}, secret: pw.Password},
		{name: "domain scope", key: key, c: pw, s: identity.Scope{DomainName: "d"}, secret: pw.Password},
		{name: "project id", key: key, c: pw, s: identity.Scope{ProjectID: "p"}, secret: pw.Password},
		{name: "app cred", key: key, c: identity.ApplicationCredential{Name: "u", UserDomainName: "d", Secret: "secret-one"}, s: project, secret: "secret-one"},
		{name: "app cred by id", key: key, c: identity.ApplicationCredential{ID: "u", Secret: "secret-one"}, s: project, secret: "secret-one"},
		{name: "token", key: key, c: identity.TokenCredential{ID: "secret-one"}, s: project, secret: "secret-one"},
	}
	// And a thousand passwords one counter apart.
	for i := range 1000 {
		p := fmt.Sprintf("password-%03d", i)
		tests = append(tests, tc{name: "password " + p, key: key, c: withPassword(p), s: project, secret: p})
	}

	byFingerprint := map[string]string{} // fingerprint -> group
	byGroup := map[string]string{}       // group -> fingerprint
	for _, tt := range tests {
		group := tt.group
		if group == "" {
			group = tt.name
		}
		got := identity.Fingerprint(tt.key, tt.c, tt.s)
		if _, err := hex.DecodeString(got); err != nil || len(got) != 64 {
			t.Errorf("%s: Fingerprint = %q, want 64 hex digits", tt.name, got)
		}
		if tt.secret != "" {
			digest := sha256.Sum256([]byte(tt.secret))
			if strings.Contains(got, tt.secret) || strings.Contains(got, hex.EncodeToString([]byte(tt.secret))) ||
				got == hex.EncodeToString(digest[:]) {
				t.Errorf("%s: Fingerprint %s reveals the secret %q", tt.name, got, tt.secret)
			}
		}
		if other, ok := byFingerprint[got]; ok && other != group {
			t.Errorf("%s: Fingerprint equals that of %s", tt.name, other)
		}
		byFingerprint[got] = group
		if want, ok := byGroup[group]; ok && want != got {
			t.Errorf("%s: Fingerprint %s, want %s as the rest of %s", tt.name, got, want, group)
		}
		byGroup[group] = got
	}
	if diff := cmp.Diff(len(byGroup), len(byFingerprint)); diff != "" {
		t.Errorf("distinct fingerprints (-groups +fingerprints):\n%s", diff)
	}
}
