package identity

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

// tokenBody is the part of Keystone's {"token": {...}} body that Token
// holds. Times are strings so that a bad one is reported by field name.
type tokenBody struct {
	IssuedAt  string   `json:"issued_at"`
	ExpiresAt string   `json:"expires_at"`
	Methods   []string `json:"methods"`
	AuditIDs  []string `json:"audit_ids"`
	User      *struct {
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		Domain DomainRef `json:"domain"`
	} `json:"user"`
	Project *struct {
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		Domain DomainRef `json:"domain"`
	} `json:"project"`
	Domain  *DomainRef            `json:"domain"`
	System  map[string]any        `json:"system"`
	Roles   []Role                `json:"roles"`
	Catalog []tokens.CatalogEntry `json:"catalog"`
	AppCred *struct {
		ID          string       `json:"id"`
		Name        string       `json:"name"`
		Restricted  bool         `json:"restricted"`
		AccessRules []AccessRule `json:"access_rules"`
	} `json:"application_credential"`
}

// parseInput is what a token response consists of.
type parseInput struct {
	// result is the decoded body (gophercloud's Result.Body) and the
	// response headers.
	result gophercloud.Result
	// sent is the local time the request was sent.
	sent time.Time
	// subject is the token that was validated; "" for an issue. An issued
	// token's id must come in X-Subject-Token; a validated one's is known.
	subject string
}

// parseToken turns a token response into a Token. Its errors say which field
// was wrong and never hold the token id.
func parseToken(in parseInput) (*Token, error) {
	var b tokenBody
	if err := in.result.ExtractIntoStructPtr(&b, "token"); err != nil {
		return nil, fmt.Errorf("token body: %w", err)
	}
	id := in.result.Header.Get("X-Subject-Token")
	if in.subject != "" {
		if id != "" && id != in.subject {
			return nil, errors.New("X-Subject-Token is not the token validated")
		}
		id = in.subject
	}
	if id == "" {
		return nil, errors.New("missing X-Subject-Token header")
	}
	issued, err := parseTime("issued_at", b.IssuedAt)
	if err != nil {
		return nil, err
	}
	expires, err := parseTime("expires_at", b.ExpiresAt)
	if err != nil {
		return nil, err
	}
	lifetime := expires.Sub(issued)
	if lifetime <= 0 {
		return nil, fmt.Errorf("expires_at %s is not after issued_at %s", b.ExpiresAt, b.IssuedAt)
	}
	if b.User == nil || b.User.ID == "" {
		return nil, errors.New("missing token.user.id")
	}
	t := &Token{
		ID:        id,
		IssuedAt:  issued,
		ExpiresAt: expires,
		Expiry:    in.sent.Add(remaining(in, issued, expires)),
		Methods:   b.Methods,
		AuditIDs:  b.AuditIDs,
		User:      User{ID: b.User.ID, Name: b.User.Name, Domain: b.User.Domain},
		Roles:     b.Roles,
	}
	projectID := ""
	if b.Project != nil {
		if b.Project.ID == "" {
			return nil, errors.New("missing token.project.id")
		}
		projectID = b.Project.ID
		t.Project = &Project{ID: b.Project.ID, Name: b.Project.Name, Domain: b.Project.Domain}
	}
	if b.Domain != nil {
		if b.Domain.ID == "" {
			return nil, errors.New("missing token.domain.id")
		}
		d := *b.Domain
		t.Domain = &d
	}
	if all, ok := b.System["all"].(bool); ok && all {
		t.System = true
	}
	if n := btoi(t.Project != nil) + btoi(t.Domain != nil) + btoi(t.System); n > 1 {
		return nil, errors.New("token is scoped to more than one of project, domain and system")
	}
	if a := b.AppCred; a != nil {
		t.ApplicationCredential = &TokenApplicationCredential{ID: a.ID, Name: a.Name, Restricted: a.Restricted, AccessRules: a.AccessRules}
	}
	t.rawCatalog, t.catalogProject = b.Catalog, projectID
	t.Catalog, err = catalog.New(b.Catalog, projectID)
	if err != nil {
		return nil, fmt.Errorf("token.catalog: %w", err)
	}
	return t, nil
}

// remaining is how long the token has left, as of the moment the request
// was sent.
//
// For an issued token that is its whole lifetime, expires_at − issued_at,
// both on Keystone's clock, so a skewed Keystone clock cancels out.
//
// A validated token was issued earlier, so its lifetime overstates what is
// left. Keystone's own "now" is its Date header (second resolution): what is
// left is expires_at − Date, capped by the lifetime. A Date that cannot be
// Keystone's clock at validation time (before issued_at, or after
// expires_at, which Keystone would not have validated) is not used; nor is
// a missing one. Then expires_at is compared with the local send time, which
// is right when the clocks agree.
func remaining(in parseInput, issued, expires time.Time) time.Duration {
	lifetime := expires.Sub(issued)
	if in.subject == "" {
		return lifetime
	}
	if d := in.result.Header.Get("Date"); d != "" {
		if now, err := http.ParseTime(d); err == nil &&
			!now.Before(issued.Truncate(time.Second)) && !now.After(expires) {
			return min(expires.Sub(now), lifetime)
		}
	}
	return min(expires.Sub(in.sent), lifetime)
}

// Keystone writes times as 2026-11-25T14:46:34.000000Z; some deployments
// leave the zone out, meaning UTC.
var timeLayouts = [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("missing token.%s", field)
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("token.%s %q is not a time", field, truncate(s, 64))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
