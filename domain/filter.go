package domain

import (
	"fmt"
	"strconv"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Policy tunes the visibility rules. The zero Policy reproduces the rules
// the domains have always had; see the package documentation.
type Policy struct {
	// DefaultDomainID is the id of the domain whose public images are
	// shared with every domain; empty means KeystoneDefaultDomainID.
	DefaultDomainID string
	// DomainIDProperty is the image property that names the domain owning
	// a public image; empty means "domain_id".
	DomainIDProperty string
	// HideSharedImages hides Default-domain public images.
	HideSharedImages bool
	// HideSharedFlavors hides unprefixed flavors.
	HideSharedFlavors bool
	// HideSharedVolumeTypes hides unprefixed volume types, such as "default".
	HideSharedVolumeTypes bool
}

// Filter decides what one domain's users see. It is immutable and safe for
// concurrent use; its predicates allocate nothing.
type Filter struct {
	reg        *Registry
	self       int
	dom        Domain
	defaultID  string
	property   string
	images     bool // show shared images
	flavors    bool
	volumeType bool
}

// Filter returns the filter for the domain named name under policy p. It
// fails with ErrUnknownDomain for a name that is not registered, and with a
// *geostack.ConfigError when p's DefaultDomainID is a registered domain's id.
func (r *Registry) Filter(name string, p Policy) (*Filter, error) {
	i, ok := r.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %s", ErrUnknownDomain, strconv.Quote(name))
	}
	f := &Filter{
		reg:        r,
		self:       i,
		dom:        r.domains[i],
		defaultID:  p.DefaultDomainID,
		property:   p.DomainIDProperty,
		images:     !p.HideSharedImages,
		flavors:    !p.HideSharedFlavors,
		volumeType: !p.HideSharedVolumeTypes,
	}
	if f.defaultID == "" {
		f.defaultID = KeystoneDefaultDomainID
	}
	if f.property == "" {
		f.property = "domain_id"
	}
	if j, ok := r.byID[f.defaultID]; ok {
		return nil, (&configError{Key: "default_domain_id", Domains: []string{r.domains[j].Name}, index: -1,
			Reason: "default domain id " + strconv.Quote(f.defaultID) + " is the id of registered domain " + strconv.Quote(r.domains[j].Name)}).err()
	}
	return f, nil
}

// Domain returns the domain whose users f filters for.
func (f *Filter) Domain() Domain { return f.dom }

// name reports whether an item called name is visible when its name alone
// decides: a resource name of the filter's domain is, an unprefixed name is
// when shared is true, anything else is not.
func (f *Filter) name(name string, shared bool) bool {
	switch f.reg.namespace(name) {
	case -1:
		return shared
	case f.self:
		return f.dom.OwnsResource(name)
	default:
		return false
	}
}

// VisibleImage reports whether the filter's domain may see img.
func (f *Filter) VisibleImage(img *images.Image) bool {
	switch img.Visibility {
	// Glance has scoped private and shared images to the caller's project.
	// Community images are not scoped (Glance lists every project's to
	// whoever asks for visibility=community): they take the domain rules
	// below, as public ones do.
	case images.ImageVisibilityPrivate, images.ImageVisibilityShared:
		return true
	}
	var id string
	if v, ok := img.Properties[f.property]; ok {
		s, ok := v.(string)
		if !ok {
			return false // malformed ownership: show to nobody
		}
		id = s
	}
	if id == "" {
		id = img.Metadata[f.property]
	}
	switch id {
	case "", f.defaultID:
		return f.name(img.Name, f.images)
	case f.dom.ID:
		return true
	default:
		return false
	}
}

// VisibleFlavor reports whether the filter's domain may see fl.
func (f *Filter) VisibleFlavor(fl *flavors.Flavor) bool { return f.name(fl.Name, f.flavors) }

// VisibleVolumeType reports whether the filter's domain may see vt.
func (f *Filter) VisibleVolumeType(vt *volumetypes.VolumeType) bool {
	return f.name(vt.Name, f.volumeType)
}
