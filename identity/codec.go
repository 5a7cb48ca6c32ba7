package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

// ErrTokenEncoding is matched by the errors of EncodeToken (a Token whose
// catalog cannot be carried: one not parsed by this package, whose raw
// catalog entries are unknown) and of DecodeToken (input that is not an
// encoding of a Token).
var ErrTokenEncoding = errors.New("identity: token encoding")

// codecVersion is the version of the encoding written by EncodeToken.
const codecVersion = 1

// tokenRecord is the encoded form of a Token. Its field names are short
// and fixed: they are a format, not a mirror of Token.
type tokenRecord struct {
	V         int                   `json:"v"`
	ID        string                `json:"id"`
	IssuedAt  int64                 `json:"iat,omitempty"`
	ExpiresAt int64                 `json:"exp,omitempty"`
	Expiry    int64                 `json:"lexp"`
	Methods   []string              `json:"methods,omitempty"`
	AuditIDs  []string              `json:"audit,omitempty"`
	User      userRecord            `json:"user"`
	Project   *projectRecord        `json:"project,omitempty"`
	Domain    *domainRecord         `json:"domain,omitempty"`
	System    bool                  `json:"system,omitempty"`
	Roles     []roleRecord          `json:"roles,omitempty"`
	AuthURL   string                `json:"auth_url,omitempty"`
	Catalog   []tokens.CatalogEntry `json:"catalog,omitempty"`
	CatalogOf string                `json:"catalog_project,omitempty"`
	AppCred   *appCredRecord        `json:"appcred,omitempty"`
}

type appCredRecord struct {
	ID          string       `json:"id"`
	Name        string       `json:"name,omitempty"`
	Restricted  bool         `json:"restricted,omitempty"`
	AccessRules []AccessRule `json:"rules,omitempty"`
}

type userRecord struct {
	ID     string       `json:"id"`
	Name   string       `json:"name,omitempty"`
	Domain domainRecord `json:"domain"`
}

type projectRecord struct {
	ID     string       `json:"id"`
	Name   string       `json:"name,omitempty"`
	Domain domainRecord `json:"domain"`
}

type domainRecord struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type roleRecord struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// EncodeToken encodes every field of t, its id and its catalog included,
// so that DecodeToken returns an equal Token in another process: it is
// what a shared cache (tokencache.Shared) stores, sealed. The encoding
// holds the secret token id in the clear; never store or log it unsealed.
//
// Token's own MarshalJSON stays redacted, and Token implements no
// encoding.BinaryMarshaler, so that no general-purpose encoder writes the
// secret by accident: this pair of functions is the only way in and out.
//
// Times keep their instant, not their monotonic reading or location.
// EncodeToken fails (matching ErrTokenEncoding) for a Token with a non-empty
// catalog that was not parsed by this package.
func EncodeToken(t *Token) ([]byte, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil token", ErrTokenEncoding)
	}
	if t.rawCatalog == nil && t.Catalog != nil && len(t.Catalog.Types()) > 0 {
		return nil, fmt.Errorf("%w: its catalog was not parsed by package identity", ErrTokenEncoding)
	}
	r := tokenRecord{
		V:         codecVersion,
		ID:        t.ID,
		IssuedAt:  unixNano(t.IssuedAt),
		ExpiresAt: unixNano(t.ExpiresAt),
		Expiry:    unixNano(t.Expiry),
		Methods:   t.Methods,
		AuditIDs:  t.AuditIDs,
		User:      userRecord{ID: t.User.ID, Name: t.User.Name, Domain: domainRecord(t.User.Domain)},
		System:    t.System,
		AuthURL:   t.AuthURL,
		Catalog:   t.rawCatalog,
		CatalogOf: t.catalogProject,
	}
	if t.Project != nil {
		r.Project = &projectRecord{ID: t.Project.ID, Name: t.Project.Name, Domain: domainRecord(t.Project.Domain)}
	}
	if t.Domain != nil {
		d := domainRecord(*t.Domain)
		r.Domain = &d
	}
	if a := t.ApplicationCredential; a != nil {
		r.AppCred = &appCredRecord{ID: a.ID, Name: a.Name, Restricted: a.Restricted, AccessRules: a.AccessRules}
	}
	if len(t.Roles) > 0 {
		r.Roles = make([]roleRecord, len(t.Roles))
		for i, role := range t.Roles {
			r.Roles[i] = roleRecord(role)
		}
	}
	return json.Marshal(&r)
}

// DecodeToken decodes what EncodeToken wrote and rebuilds the catalog
// index. Its errors match ErrTokenEncoding and name what was wrong, never
// a value: the input holds a token id.
func DecodeToken(b []byte) (*Token, error) {
	var r tokenRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: decode: not a token encoding", ErrTokenEncoding)
	}
	switch {
	case r.V != codecVersion:
		return nil, fmt.Errorf("%w: decode: encoding version %d, want %d", ErrTokenEncoding, r.V, codecVersion)
	case r.ID == "":
		return nil, fmt.Errorf("%w: decode: no token id", ErrTokenEncoding)
	case r.User.ID == "":
		return nil, fmt.Errorf("%w: decode: no user id", ErrTokenEncoding)
	case r.Expiry == 0:
		return nil, fmt.Errorf("%w: decode: no expiry", ErrTokenEncoding)
	}
	t := &Token{
		ID:             r.ID,
		IssuedAt:       fromUnixNano(r.IssuedAt),
		ExpiresAt:      fromUnixNano(r.ExpiresAt),
		Expiry:         fromUnixNano(r.Expiry),
		Methods:        r.Methods,
		AuditIDs:       r.AuditIDs,
		User:           User{ID: r.User.ID, Name: r.User.Name, Domain: DomainRef(r.User.Domain)},
		System:         r.System,
		AuthURL:        r.AuthURL,
		rawCatalog:     r.Catalog,
		catalogProject: r.CatalogOf,
	}
	if r.Project != nil {
		t.Project = &Project{ID: r.Project.ID, Name: r.Project.Name, Domain: DomainRef(r.Project.Domain)}
	}
	if r.Domain != nil {
		d := DomainRef(*r.Domain)
		t.Domain = &d
	}
	if a := r.AppCred; a != nil {
		t.ApplicationCredential = &TokenApplicationCredential{ID: a.ID, Name: a.Name, Restricted: a.Restricted, AccessRules: a.AccessRules}
	}
	if len(r.Roles) > 0 {
		t.Roles = make([]Role, len(r.Roles))
		for i, role := range r.Roles {
			t.Roles[i] = Role(role)
		}
	}
	var err error
	if t.Catalog, err = catalog.New(r.Catalog, r.CatalogOf); err != nil {
		return nil, fmt.Errorf("%w: decode: catalog: %w", ErrTokenEncoding, err)
	}
	return t, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
