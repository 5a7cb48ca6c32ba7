package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	writeIdentity(w *fields)
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
	w := fields{b: make([]byte, 0, 256)}
	w.add("geostack", "fingerprint v2")
	c.writeIdentity(&w)
	w.add("scope.project.id", s.ProjectID)
	w.add("scope.project.name", s.ProjectName)
	w.add("scope.project.domain.id", s.ProjectDomainID)
	w.add("scope.project.domain.name", s.ProjectDomainName)
	w.add("scope.domain.id", s.DomainID)
	w.add("scope.domain.name", s.DomainName)
	if s.System {
		w.add("scope.system", "all")
	}
	h := hmac.New(sha256.New, key)
	h.Write(w.b)
	clear(w.b) // it held the secret
	return hex.EncodeToString(h.Sum(nil))
}

// fields is the canonical encoding of a credential and a scope: each
// non-empty field as a length-prefixed name and value, so that no two
// different field sequences encode alike.
type fields struct{ b []byte }

// add appends a field.
func (w *fields) add(name, value string) {
	if value == "" {
		return
	}
	w.b = binary.LittleEndian.AppendUint64(w.b, uint64(len(name)))
	w.b = append(w.b, name...)
	w.b = binary.LittleEndian.AppendUint64(w.b, uint64(len(value)))
	w.b = append(w.b, value...)
}

func (p Password) writeIdentity(w *fields) {
	w.add("method", "password")
	w.add("user.id", p.UserID)
	w.add("user.name", p.UserName)
	w.add("user.domain.id", p.DomainID)
	w.add("user.domain.name", p.DomainName)
	w.add("secret", p.Password)
}

func (a ApplicationCredential) writeIdentity(w *fields) {
	w.add("method", "application_credential")
	w.add("appcred.id", a.ID)
	w.add("appcred.name", a.Name)
	w.add("user.id", a.UserID)
	w.add("user.name", a.UserName)
	w.add("user.domain.id", a.UserDomainID)
	w.add("user.domain.name", a.UserDomainName)
	w.add("secret", a.Secret)
}

func (t TokenCredential) writeIdentity(w *fields) {
	w.add("method", "token")
	w.add("secret", t.ID)
}

// Method implements Credential.
func (Password) Method() string { return "password" }

// Method implements Credential.
func (ApplicationCredential) Method() string { return "application_credential" }

// Method implements Credential.
func (TokenCredential) Method() string { return "token" }
