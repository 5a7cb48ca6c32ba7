package domain

import (
	"errors"
	"strconv"
)

// ErrOutsideNamespace matches every *NameError: a name that the domain's
// users may not give to what they create.
var ErrOutsideNamespace = errors.New("domain: name outside the domain's namespace")

// NameError is a name refused for something a domain's user creates or
// renames: a user or project without the domain's prefix, or, under
// Policy.PrefixedImageNames, an image without the domain's resource prefix.
// Names are not secret; the error quotes them.
type NameError struct {
	// Kind is "image", "user" or "project".
	Kind string
	// Name is the name refused.
	Name string
	// Domain is the name of the domain whose namespace it must be in.
	Domain string
	// Want says what a good name looks like, such as `start with "gnc_"
	// and have at least one more character`.
	Want string
}

// Error implements error.
func (e *NameError) Error() string {
	return "domain: " + e.Kind + " name " + strconv.Quote(e.Name) + " is outside the namespace of domain " +
		strconv.Quote(e.Domain) + ": names must " + e.Want
}

// Is makes a *NameError match ErrOutsideNamespace.
func (e *NameError) Is(target error) bool { return target == ErrOutsideNamespace }

// CheckImageName reports whether the domain's users may give an image the
// name name. Under Policy.PrefixedImageNames a name that is not a resource
// name of the domain (Domain.OwnsResource) is a *NameError; otherwise any
// name passes, since a customer's image is judged by its owner, never by
// its name.
func (f *Filter) CheckImageName(name string) error {
	if !f.prefixed || f.dom.OwnsResource(name) {
		return nil
	}
	return &NameError{Kind: "image", Name: name, Domain: f.dom.Name,
		Want: "start with " + strconv.Quote(f.dom.Prefix+f.dom.sep()) + " and have at least one more character"}
}

// CheckAccountName reports whether a user or project (kind "user" or
// "project") of the domain may be called name: it must be an account name
// of the domain (Domain.OwnsAccount), whatever the policy, or it is a
// *NameError.
func (f *Filter) CheckAccountName(kind, name string) error {
	if f.dom.OwnsAccount(name) {
		return nil
	}
	return &NameError{Kind: kind, Name: name, Domain: f.dom.Name,
		Want: "start with " + strconv.Quote(f.dom.Prefix) + " and have at least one more character"}
}

// DomainIDProperty returns the image property that names the domain of an
// operator's image (Policy.DomainIDProperty, "domain_id" by default).
func (f *Filter) DomainIDProperty() string { return f.property }
