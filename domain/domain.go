package domain

import "slices"

// DefaultSeparator separates a domain's prefix from the rest of a resource
// name when Domain.Separator is empty.
const DefaultSeparator = "_"

// Domain is one product domain: a Keystone domain that owns a name prefix.
//
// A Domain obtained from a Registry shares its Endpoints map with the
// registry; treat it as read-only.
type Domain struct {
	// Name is the Keystone domain name, such as "gnc".
	Name string `json:"name"`
	// ID is the Keystone domain id; image metadata names a domain by it.
	ID string `json:"id"`
	// Prefix starts every user, project and resource name of the domain.
	// It is compared byte-wise and case-sensitively.
	Prefix string `json:"prefix"`
	// Separator follows Prefix in resource names (images, flavors, volume
	// types); empty means DefaultSeparator.
	Separator string `json:"separator,omitempty"`
	// Endpoints holds the domain's identity endpoints by location name,
	// such as "JP", "US" or "SG".
	Endpoints map[string]Endpoints `json:"endpoints,omitempty"`
}

// Endpoints are a domain's identity endpoints at one location.
type Endpoints struct {
	// UserAuthURL is the public Keystone URL the domain's users
	// authenticate at. Required, unless UserAuthURLs is given.
	UserAuthURL string `json:"user_auth_url,omitempty"`
	// UserAuthURLs are more of them, tried after UserAuthURL in order:
	// a client fails over between them before it leaves the location.
	UserAuthURLs []string `json:"user_auth_urls,omitempty"`
	// AdminAuthURL is the Keystone URL services validate the domain's
	// tokens against. Optional.
	AdminAuthURL string `json:"admin_auth_url,omitempty"`
	// AdminAuthURLs are more of them, tried after AdminAuthURL in order.
	AdminAuthURLs []string `json:"admin_auth_urls,omitempty"`
}

// Users returns every user auth URL of e, in the order to try them.
func (e Endpoints) Users() []string { return joinURLs(e.UserAuthURL, e.UserAuthURLs) }

// Admins returns every admin auth URL of e, in the order to try them.
func (e Endpoints) Admins() []string { return joinURLs(e.AdminAuthURL, e.AdminAuthURLs) }

func joinURLs(first string, more []string) []string {
	out := make([]string, 0, 1+len(more))
	if first != "" {
		out = append(out, first)
	}
	for _, u := range more {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func (d *Domain) sep() string {
	if d.Separator == "" {
		return DefaultSeparator
	}
	return d.Separator
}

// OwnsAccount reports whether name is a user or project name of d: the
// bare prefix followed by at least one byte, as in gncu72074485.
func (d Domain) OwnsAccount(name string) bool {
	return d.Prefix != "" && len(name) > len(d.Prefix) && name[:len(d.Prefix)] == d.Prefix
}

// OwnsResource reports whether name is a resource name of d (an image,
// flavor or volume type): prefix, separator and at least one more byte, as
// in gnc_centos.
func (d Domain) OwnsResource(name string) bool {
	s := d.sep()
	n := len(d.Prefix) + len(s)
	return d.Prefix != "" && len(name) > n && name[:len(d.Prefix)] == d.Prefix && name[len(d.Prefix):n] == s
}

// DisplayName returns a resource name of d without its prefix and
// separator: "gnc_centos" gives "centos". Any other name is returned
// unchanged.
func (d Domain) DisplayName(name string) string {
	if !d.OwnsResource(name) {
		return name
	}
	return name[len(d.Prefix)+len(d.sep()):]
}

// FullName returns the resource name of d whose display name is display:
// "centos" gives "gnc_centos".
func (d Domain) FullName(display string) string {
	return d.Prefix + d.sep() + display
}

// AuthURLs returns d's identity endpoints at location.
func (d Domain) AuthURLs(location string) (Endpoints, bool) {
	e, ok := d.Endpoints[location]
	return e, ok
}
