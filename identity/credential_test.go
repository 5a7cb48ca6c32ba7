package identity_test

import (
	"strings"
	"testing"

	"github.com/geostack/geostack/identity"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	pw := identity.Password{UserName: "u", DomainName: "d", Password: "secret-one"}
	project := identity.Scope{ProjectName: "p", ProjectDomainName: "d"}
	base := identity.Fingerprint(pw, project)
	if strings.Contains(base, "secret-one") || len(base) != 64 {
		t.Fatalf("Fingerprint = %q", base)
	}
	same := []struct {
		name string
		c    identity.Credential
		s    identity.Scope
	}{
		{"again", pw, project},
		{"pointer", &pw, project},
	}
	for _, tt := range same {
		if got := identity.Fingerprint(tt.c, tt.s); got != base {
			t.Errorf("%s: Fingerprint = %s, want %s", tt.name, got, base)
		}
	}
	different := []struct {
		name string
		c    identity.Credential
		s    identity.Scope
	}{
		{"other password", identity.Password{UserName: "u", DomainName: "d", Password: "secret-two"}, project},
		{"domain id instead of name", identity.Password{UserName: "u", DomainID: "d", Password: "secret-one"}, project},
		{"shifted fields", identity.Password{UserName: "ud", Password: "secret-one"}, project},
		{"unscoped", pw, identity.Scope{}},
		{"system", pw, identity.Scope{System: true}},
		{"domain scope", pw, identity.Scope{DomainName: "d"}},
		{"project id", pw, identity.Scope{ProjectID: "p"}},
		{"app cred", identity.ApplicationCredential{Name: "u", UserDomainName: "d", Secret: "secret-one"}, project},
		{"app cred by id", identity.ApplicationCredential{ID: "u", Secret: "secret-one"}, project},
		{"token", identity.TokenCredential{ID: "secret-one"}, project},
	}
	seen := map[string]string{base: "base"}
	for _, tt := range different {
		got := identity.Fingerprint(tt.c, tt.s)
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: Fingerprint equals that of %s", tt.name, prev)
		}
		seen[got] = tt.name
	}
}
