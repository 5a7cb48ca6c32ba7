package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// Credential is what Keystone accepts to issue a token: a Password, an
// ApplicationCredential or a TokenCredential. The set is closed.
//
// Every Credential formats redacted: its secret never reaches fmt, slog or an
// error string.
type Credential interface {
	// Method is the Keystone authentication method name:
	// "password", "application_credential" or "token".
	Method() string
	// Validate reports, before any request is made, what is wrong with the
	// credential. The error matches ErrInvalidCredential.
	Validate() error

	// writeIdentity writes the canonical identity of the credential and
	// its secret to h, a keyed MAC. It is the basis of Fingerprint.
	writeIdentity(h hash.Hash)
}

// Password authenticates a user with a password: by UserID, or by UserName
// together with the user's domain (DomainID or DomainName).
type Password struct {
	UserID     string
	UserName   string
	DomainID   string
	DomainName string
	// Password is the secret.
	Password string
}

// ApplicationCredential authenticates with an application credential: by
// ID, or by Name together with its user (UserID, or UserName and the user's
// domain).
type ApplicationCredential struct {
	ID             string
	Name           string
	UserID         string
	UserName       string
	UserDomainID   string
	UserDomainName string
	// Secret is the secret.
	Secret string
}

// TokenCredential authenticates with an existing token, to rescope it or to
// get a fresh one of the same identity.
type TokenCredential struct {
	// ID is the existing token. It is a secret.
	ID string
}

// Scope is what a token is scoped to. At most one of the project fields,
// the domain fields and System may be set. The zero Scope asks for no
// scope: Keystone then issues an unscoped token, unless the user has a
// default project, in which case the token is scoped to that project (as
// Keystone does for every client that sends no scope).
type Scope struct {
	// ProjectID, or ProjectName with ProjectDomainID or ProjectDomainName.
	ProjectID         string
	ProjectName       string
	ProjectDomainID   string
	ProjectDomainName string

	// DomainID or DomainName scopes the token to a domain.
	DomainID   string
	DomainName string

	// System scopes the token to the whole system ({"system":{"all":true}}).
	System bool
}

// Fingerprint returns a key for c and s, as hex: two requests with the
// same fingerprint get tokens that are interchangeable, and two different
// secrets never share one. It is an HMAC-SHA256 under key of the
// credential's canonical identity, its secret and the scope, so without
// key it is no oracle for guessing the secret: a cache that keys its
// entries by it keeps key to itself (random per process, or derived from a
// secret its fleet shares). Fingerprints are for lookups, never for logs.
func Fingerprint(key []byte, c Credential, s Scope) string {
	h := hmac.New(sha256.New, key)
	writeField(h, "geostack", "fingerprint v2")
	c.writeIdentity(h)
	writeField(h, "scope.project.id", s.ProjectID)
	writeField(h, "scope.project.name", s.ProjectName)
	writeField(h, "scope.project.domain.id", s.ProjectDomainID)
	writeField(h, "scope.project.domain.name", s.ProjectDomainName)
	writeField(h, "scope.domain.id", s.DomainID)
	writeField(h, "scope.domain.name", s.DomainName)
	if s.System {
		writeField(h, "scope.system", "all")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes a length-prefixed name and value, so that no two
// different field sequences produce the same byte stream.
func writeField(h hash.Hash, name, value string) {
	if value == "" {
		return
	}
	var n [8]byte
	for _, s := range [2]string{name, value} {
		l := uint64(len(s))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(s))
	}
}

func (p Password) writeIdentity(h hash.Hash) {
	writeField(h, "method", "password")
	writeField(h, "user.id", p.UserID)
	writeField(h, "user.name", p.UserName)
	writeField(h, "user.domain.id", p.DomainID)
	writeField(h, "user.domain.name", p.DomainName)
	writeField(h, "secret", p.Password)
}

func (a ApplicationCredential) writeIdentity(h hash.Hash) {
	writeField(h, "method", "application_credential")
	writeField(h, "appcred.id", a.ID)
	writeField(h, "appcred.name", a.Name)
	writeField(h, "user.id", a.UserID)
	writeField(h, "user.name", a.UserName)
	writeField(h, "user.domain.id", a.UserDomainID)
	writeField(h, "user.domain.name", a.UserDomainName)
	writeField(h, "secret", a.Secret)
}

func (t TokenCredential) writeIdentity(h hash.Hash) {
	writeField(h, "method", "token")
	writeField(h, "secret", t.ID)
}

// Method implements Credential.
func (Password) Method() string { return "password" }

// Method implements Credential.
func (ApplicationCredential) Method() string { return "application_credential" }

// Method implements Credential.
func (TokenCredential) Method() string { return "token" }
