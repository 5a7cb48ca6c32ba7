package identity

import (
	"errors"
	"strings"

	"github.com/geostack/geostack/internal/authurl"
)

// invalid returns the error of a credential, scope or argument rejected
// before any request. what names the thing ("password credential", "scope"),
// why says what is wrong; neither ever holds a secret.
func invalid(what, why string) *Error {
	return &Error{Op: "validate", Kind: ErrInvalidCredential, Err: errors.New(what + ": " + why)}
}

// set reports which of the named string fields are non-empty, as their names.
func set(fields ...[2]string) []string {
	var names []string
	for _, f := range fields {
		if f[1] != "" {
			names = append(names, f[0])
		}
	}
	return names
}

// Validate implements Credential. A Password needs a non-empty Password and
// either UserID alone, or UserName with exactly one of DomainID and
// DomainName.
func (p Password) Validate() error {
	const what = "password credential"
	switch {
	case p.Password == "":
		return invalid(what, "Password is empty")
	case p.UserID != "":
		if others := set([2]string{"UserName", p.UserName}, [2]string{"DomainID", p.DomainID}, [2]string{"DomainName", p.DomainName}); others != nil {
			return invalid(what, "UserID excludes "+strings.Join(others, " and ")+" (a domain qualifies a user name, not an id)")
		}
	case p.UserName == "":
		return invalid(what, "needs UserID, or UserName with DomainID or DomainName")
	case p.DomainID == "" && p.DomainName == "":
		return invalid(what, "UserName needs the user's domain: DomainID or DomainName")
	case p.DomainID != "" && p.DomainName != "":
		return invalid(what, "DomainID and DomainName are both set; give one")
	}
	return nil
}

// Validate implements Credential. An ApplicationCredential needs a
// non-empty Secret and either ID alone, or Name with its user: UserID, or
// UserName with exactly one of UserDomainID and UserDomainName.
func (a ApplicationCredential) Validate() error {
	const what = "application credential"
	user := set([2]string{"UserID", a.UserID}, [2]string{"UserName", a.UserName},
		[2]string{"UserDomainID", a.UserDomainID}, [2]string{"UserDomainName", a.UserDomainName})
	switch {
	case a.Secret == "":
		return invalid(what, "Secret is empty")
	case a.ID != "":
		if a.Name != "" {
			return invalid(what, "ID and Name are both set; give one")
		}
		if user != nil {
			return invalid(what, "ID excludes "+strings.Join(user, " and ")+" (the user qualifies a Name, not an ID)")
		}
	case a.Name == "":
		return invalid(what, "needs ID, or Name with its user")
	case a.UserID != "":
		if len(user) > 1 {
			return invalid(what, "UserID excludes "+strings.Join(user[1:], " and "))
		}
	case a.UserName == "":
		return invalid(what, "Name needs its user: UserID, or UserName with UserDomainID or UserDomainName")
	case a.UserDomainID == "" && a.UserDomainName == "":
		return invalid(what, "UserName needs the user's domain: UserDomainID or UserDomainName")
	case a.UserDomainID != "" && a.UserDomainName != "":
		return invalid(what, "UserDomainID and UserDomainName are both set; give one")
	}
	return nil
}

// Validate implements Credential. A TokenCredential needs a non-empty ID.
func (t TokenCredential) Validate() error {
	if t.ID == "" {
		return invalid("token credential", "ID is empty")
	}
	return nil
}

// Validate reports what is wrong with the scope, if anything: at most one of
// project, domain and system; a project by ProjectID alone, or by
// ProjectName with exactly one of ProjectDomainID and ProjectDomainName; a
// domain by exactly one of DomainID and DomainName. The error matches
// ErrInvalidCredential.
func (s Scope) Validate() error {
	const what = "scope"
	project := set([2]string{"ProjectID", s.ProjectID}, [2]string{"ProjectName", s.ProjectName},
		[2]string{"ProjectDomainID", s.ProjectDomainID}, [2]string{"ProjectDomainName", s.ProjectDomainName})
	domain := set([2]string{"DomainID", s.DomainID}, [2]string{"DomainName", s.DomainName})
	var kinds []string
	if project != nil {
		kinds = append(kinds, "project ("+strings.Join(project, ", ")+")")
	}
	if domain != nil {
		kinds = append(kinds, "domain ("+strings.Join(domain, ", ")+")")
	}
	if s.System {
		kinds = append(kinds, "system")
	}
	if len(kinds) > 1 {
		return invalid(what, "give at most one of project, domain and system; got "+strings.Join(kinds, " and "))
	}
	switch {
	case s.ProjectID != "":
		if len(project) > 1 {
			return invalid(what, "ProjectID excludes "+strings.Join(project[1:], " and ")+" (a domain qualifies a project name, not an id)")
		}
	case s.ProjectName != "":
		if s.ProjectDomainID == "" && s.ProjectDomainName == "" {
			return invalid(what, "ProjectName needs the project's domain: ProjectDomainID or ProjectDomainName")
		}
		if s.ProjectDomainID != "" && s.ProjectDomainName != "" {
			return invalid(what, "ProjectDomainID and ProjectDomainName are both set; give one")
		}
	case project != nil:
		return invalid(what, strings.Join(project, " and ")+" without ProjectName")
	case s.DomainID != "" && s.DomainName != "":
		return invalid(what, "DomainID and DomainName are both set; give one")
	}
	return nil
}

// IsZero reports whether the scope is empty: an unscoped token.
func (s Scope) IsZero() bool { return s == Scope{} }

// validateIssue checks a credential and a scope together.
func validateIssue(c Credential, s Scope) error {
	if c == nil || isNilCredential(c) {
		return invalid("credential", "none given")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if _, ok := deref(c).(ApplicationCredential); ok && !s.IsZero() {
		// Keystone fixes an application credential's scope when it is
		// created and rejects a token request that asks for one.
		return invalid("application credential", "takes no Scope: its token is scoped to the project it was created in")
	}
	return nil
}

// isNilCredential reports a typed nil pointer in the interface.
func isNilCredential(c Credential) bool {
	switch p := c.(type) {
	case *Password:
		return p == nil
	case *ApplicationCredential:
		return p == nil
	case *TokenCredential:
		return p == nil
	}
	return false
}

// deref returns the credential as a value, whether it was given as a value
// or a pointer.
func deref(c Credential) Credential {
	switch p := c.(type) {
	case *Password:
		return *p
	case *ApplicationCredential:
		return *p
	case *TokenCredential:
		return *p
	}
	return c
}

// normalizeAuthURL checks authURL and returns its identity root, as
// gophercloud expects it (see authurl.Root). A refused auth URL is an
// *Error matching ErrInvalidCredential whose message never repeats it.
func normalizeAuthURL(authURL string) (string, error) {
	root, err := authurl.Root(authURL)
	if err != nil {
		return "", invalid("auth URL", err.Error())
	}
	return root, nil
}
