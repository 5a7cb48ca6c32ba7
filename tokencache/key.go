package tokencache

import (
	"strings"

	"github.com/geostack/geostack/identity"
)

// Key names a cache entry: an identity, the scope of its tokens and, where
// tokens of one identity and scope may not stand in for each other, a
// kind. Every Handle of one Key shares one token.
type Key struct {
	Credential identity.Credential
	Scope      identity.Scope
	// Kind tells apart tokens of one identity and scope that are not
	// interchangeable: "" for ordinary tokens; for instance "nocatalog"
	// for tokens issued without a catalog, or "location=JP" for a
	// location that does not share Fernet keys with the others.
	Kind string
}

// describe returns a description of k for logs and errors: the method,
// the user and the scope by name or id, never a secret nor anything
// derived from one.
func (k Key) describe() string {
	var b strings.Builder
	b.WriteString(describeCredential(k.Credential))
	s := k.Scope
	switch {
	case s.ProjectID != "":
		b.WriteString(", project " + s.ProjectID)
	case s.ProjectName != "":
		b.WriteString(", project " + s.ProjectName + " in domain " + s.ProjectDomainID + s.ProjectDomainName)
	case s.DomainID != "" || s.DomainName != "":
		b.WriteString(", domain " + s.DomainID + s.DomainName)
	case s.System:
		b.WriteString(", system")
	default:
		b.WriteString(", default scope")
	}
	if k.Kind != "" {
		b.WriteString(" (" + k.Kind + ")")
	}
	return b.String()
}

func describeCredential(c identity.Credential) string {
	user := func(id, name, domID, domName string) string {
		if id != "" {
			return id
		}
		return name + " in domain " + domID + domName
	}
	switch c := c.(type) {
	case identity.Password:
		return "password of user " + user(c.UserID, c.UserName, c.DomainID, c.DomainName)
	case *identity.Password:
		if c != nil {
			return describeCredential(*c)
		}
	case identity.ApplicationCredential:
		if c.ID != "" {
			return "application credential " + c.ID
		}
		return "application credential " + c.Name + " of user " + user(c.UserID, c.UserName, c.UserDomainID, c.UserDomainName)
	case *identity.ApplicationCredential:
		if c != nil {
			return describeCredential(*c)
		}
	case identity.TokenCredential, *identity.TokenCredential:
		return "token credential"
	}
	return "credential"
}
