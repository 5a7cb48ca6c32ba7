package identity

import (
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

// Token is a Keystone token as issued or validated, parsed. A Token is
// immutable once returned: it is shared by every client that uses it, so
// callers must not modify it.
//
// The ID is the secret bearer credential. A Token formats redacted with every
// fmt verb and with slog; only the ID field itself holds the secret.
type Token struct {
	// ID is the token id sent as X-Auth-Token. It is a secret.
	ID string

	// IssuedAt and ExpiresAt are the times Keystone reported, on
	// Keystone's clock.
	IssuedAt  time.Time
	ExpiresAt time.Time

	// Expiry is when the token expires on the local clock: the local time
	// the request was sent plus the lifetime Keystone granted
	// (ExpiresAt - IssuedAt). A Keystone whose clock is skewed against ours
	// therefore makes a token look neither fresher nor older than it is.
	// For a validated token, which was issued earlier, the time left is
	// ExpiresAt minus Keystone's clock as its Date header tells (capped by
	// the lifetime), or ExpiresAt against the local clock when Keystone
	// sends no plausible Date.
	Expiry time.Time

	// Methods are the authentication methods, e.g. "password".
	Methods []string
	// AuditIDs identify the token (and its parent chain) in Keystone's
	// audit trail. They are not secret.
	AuditIDs []string

	// User is the token's user.
	User User
	// Project is set for a project-scoped token.
	Project *Project
	// Domain is set for a domain-scoped token.
	Domain *DomainRef
	// System is true for a system-scoped token.
	System bool
	// Roles are the roles granted on the scope.
	Roles []Role

	// Catalog is the service catalog, indexed. It is never nil: a token
	// issued without a catalog (nocatalog, or an unscoped token) carries an
	// empty catalog whose selections fail with catalog.ErrNotFound.
	Catalog *catalog.Catalog

	// AuthURL is the Keystone endpoint that issued or validated the token.
	AuthURL string

	// ApplicationCredential is set for a token issued for an application
	// credential.
	ApplicationCredential *TokenApplicationCredential

	// rawCatalog and catalogProject are what Catalog was built from, kept
	// so that EncodeToken can carry the catalog and DecodeToken rebuild
	// the index with catalog.New.
	rawCatalog     []tokens.CatalogEntry
	catalogProject string
}

// User is the user a token was issued to.
type User struct {
	ID     string
	Name   string
	Domain DomainRef
}

// Project is a Keystone project.
type Project struct {
	ID     string
	Name   string
	Domain DomainRef
}

// TokenApplicationCredential is the application credential a token was
// issued for.
type TokenApplicationCredential struct {
	ID         string
	Name       string
	Restricted bool
	// AccessRules are the credential's access rules, which Keystone sends
	// only to a validator that announced it enforces them
	// (ValidateOptions.AccessRules). None: no restriction.
	AccessRules []AccessRule
}

// AccessRule is an access rule of an application credential: the service
// type, method and path (with {param} and ** wildcards) it permits.
type AccessRule struct {
	ID      string `json:"id,omitempty"`
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// DomainRef names a Keystone domain as a token does: by id and name. (A
// product domain, with its prefix and endpoints, is a domain.Domain.)
type DomainRef struct {
	ID   string
	Name string
}

// Role is a role granted on a token's scope.
type Role struct {
	ID   string
	Name string
}

// HasRole reports whether the token carries the named role
// (case-insensitively, as Keystone role names are).
func (t *Token) HasRole(name string) bool {
	for i := range t.Roles {
		if strings.EqualFold(t.Roles[i].Name, name) {
			return true
		}
	}
	return false
}

// ValidAt reports whether the token is still valid at local time now.
func (t *Token) ValidAt(now time.Time) bool {
	return t != nil && now.Before(t.Expiry)
}
