package identity

import (
	"crypto/pbkdf2"
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

	// writeIdentity writes the canonical identity of the credential, with
	// the secret hashed, to h. It is the basis of Fingerprint.
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

// Fingerprint is the canonical, secret-free identity of a credential and a
// scope, as a hex SHA-256: two requests with the same fingerprint get tokens
// that are interchangeable. The secret is included only as a hash inside
// the digest, so two different passwords never share a fingerprint and the
// fingerprint reveals neither.
func Fingerprint(c Credential, s Scope) string {
	h := sha256.New()
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

// secretIterations is the PBKDF2 work factor of secretDigest: about a
// millisecond per fingerprint, which is computed once per client, and as
// much for every guess of someone who holds a fingerprint (they reach
// logs and events in part) and tries passwords against it.
const secretIterations = 4096

// secretDigest derives a digest of a secret with PBKDF2-SHA256, salted with
// the identity it belongs to, so that a fingerprint is no fast oracle for
// guessing the secret and the same password of two users digests apart.
// The secret itself is never fed to anything that might retain it.
func secretDigest(secret string, identity ...string) string {
	salt := []byte("geostack fingerprint v1")
	for _, f := range identity {
		salt = append(salt, 0)
		salt = append(salt, f...)
	}
	d, err := pbkdf2.Key(sha256.New, secret, salt, secretIterations, sha256.Size)
	if err != nil {
		// Only a FIPS-mode key-length rule can refuse; fall back to a
		// plain salted digest rather than lose the fingerprint.
		sum := sha256.Sum256(append(salt, secret...))
		return string(sum[:])
	}
	return string(d)
}

func (p Password) writeIdentity(h hash.Hash) {
	writeField(h, "method", "password")
	writeField(h, "user.id", p.UserID)
	writeField(h, "user.name", p.UserName)
	writeField(h, "user.domain.id", p.DomainID)
	writeField(h, "user.domain.name", p.DomainName)
	writeField(h, "secret", secretDigest(p.Password, p.UserID, p.UserName, p.DomainID, p.DomainName))
}

func (a ApplicationCredential) writeIdentity(h hash.Hash) {
	writeField(h, "method", "application_credential")
	writeField(h, "appcred.id", a.ID)
	writeField(h, "appcred.name", a.Name)
	writeField(h, "user.id", a.UserID)
	writeField(h, "user.name", a.UserName)
	writeField(h, "user.domain.id", a.UserDomainID)
	writeField(h, "user.domain.name", a.UserDomainName)
	writeField(h, "secret", secretDigest(a.Secret, a.ID, a.Name, a.UserID, a.UserName, a.UserDomainID, a.UserDomainName))
}

func (t TokenCredential) writeIdentity(h hash.Hash) {
	writeField(h, "method", "token")
	writeField(h, "secret", secretDigest(t.ID))
}

// Method implements Credential.
func (Password) Method() string { return "password" }

// Method implements Credential.
func (ApplicationCredential) Method() string { return "application_credential" }

// Method implements Credential.
func (TokenCredential) Method() string { return "token" }
