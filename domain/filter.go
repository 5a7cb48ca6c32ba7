package domain

import (
	"fmt"
	"slices"
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
	// HideSharedVolumeTypes hides unprefixed volume types, such as Cinder's
	// own __DEFAULT__.
	HideSharedVolumeTypes bool

	// OperatorProjects are the projects (ids) whose community and shared
	// images the operator publishes, such as the Default domain's admin
	// project: their names and domain-id property are trusted, as a public
	// image's are.
	OperatorProjects []string
	// ShowForeignImages shows other customers' community and shared images
	// (VerdictForeign) instead of hiding them. They are never taken for the
	// domain's own, whatever their name or properties say.
	ShowForeignImages bool

	// RequireDomainID says that every image the operator publishes names
	// its domain in the domain-id property: a domain's id, or
	// DefaultDomainID for an image shared with every domain. An operator's
	// image without the property is then shown to nobody, as a malformed
	// name is, and image listings ask Glance for the viewer's domain's and
	// the Default domain's public images only (domain_id=<id>), instead of
	// every public image: Glance can select a property's value but not its
	// absence. Leave it off (the default) unless every operator image is
	// tagged; see "Listing" in the package documentation.
	RequireDomainID bool
	// PrefixedImageNames requires the images the domain's users create or
	// rename through the domain's endpoints to carry a resource name of the
	// domain (gnc_…): Filter.CheckImageName refuses any other name.
	PrefixedImageNames bool
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
	operators  []string
	foreign    bool
	requireID  bool
	prefixed   bool   // image names must be the domain's resource names
	project    string // the viewer's project, "" if unknown
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
		operators:  slices.Clone(p.OperatorProjects),
		foreign:    p.ShowForeignImages,
		requireID:  p.RequireDomainID,
		prefixed:   p.PrefixedImageNames,
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

// ForProject returns the filter for the users of one project of the
// domain: the owner of the images they publish. Without it, no image is
// anyone's own.
func (f *Filter) ForProject(projectID string) *Filter {
	g := *f
	g.project = projectID
	return &g
}

// Domain returns the domain whose users f filters for.
func (f *Filter) Domain() Domain { return f.dom }

// Verdict says whether a domain's user may see an item, and by which rule.
type Verdict uint8

// The verdicts.
const (
	// VerdictHidden: the domain's users may not see the item.
	VerdictHidden Verdict = iota
	// VerdictOwn: an image the viewer's own project published (private,
	// shared or community).
	VerdictOwn
	// VerdictDomain: the operator published the item for the viewer's
	// domain: a public image whose domain-id property or resource name is
	// the domain's, a flavor or volume type with the domain's prefix.
	VerdictDomain
	// VerdictShared: the operator published the item for every domain: a
	// Default-domain public image, an unprefixed flavor or volume type.
	VerdictShared
	// VerdictForeign: another customer's community or shared image, shown
	// only because Policy.ShowForeignImages opts in. Never the domain's.
	VerdictForeign
)

func (v Verdict) String() string {
	switch v {
	case VerdictOwn:
		return "own"
	case VerdictDomain:
		return "domain"
	case VerdictShared:
		return "shared"
	case VerdictForeign:
		return "foreign"
	}
	return "hidden"
}

// name judges an item whose name alone decides: a resource name of the
// filter's domain is the domain's, an unprefixed name is shared when shared
// is set, anything else is hidden.
func (f *Filter) name(name string, shared bool) Verdict {
	switch f.reg.namespace(name) {
	case -1:
		if shared {
			return VerdictShared
		}
		return VerdictHidden
	case f.self:
		if f.dom.OwnsResource(name) {
			return VerdictDomain
		}
	}
	return VerdictHidden
}

// VisibleImage reports whether the filter's domain may see img.
func (f *Filter) VisibleImage(img *images.Image) bool { return f.ImageVerdict(img) != VerdictHidden }

// ImageVerdict says whether, and why, the filter's domain may see img. Who
// controls a field decides whether it counts: only the operator publishes
// public images (Glance's publicize_image is admin-only), so a public
// image's name and domain-id property decide; any project member publishes
// community and shared images and sets their name and properties at will,
// another domain's id included, so for those only the owner decides.
func (f *Filter) ImageVerdict(img *images.Image) Verdict {
	if img.Visibility != images.ImageVisibilityPublic && !slices.Contains(f.operators, img.Owner) {
		switch {
		case f.project != "" && img.Owner == f.project:
			return VerdictOwn
		case f.foreign && (img.Visibility == images.ImageVisibilityCommunity || img.Visibility == images.ImageVisibilityShared):
			return VerdictForeign
		}
		return VerdictHidden
	}
	id, ok := f.idProperty(img)
	switch {
	case !ok:
		return VerdictHidden // malformed ownership: show to nobody
	case id == "" && f.requireID:
		return VerdictHidden // the operator promised every image names its domain
	case id == "" || id == f.defaultID:
		return f.name(img.Name, f.images)
	case id == f.dom.ID:
		return VerdictDomain
	}
	return VerdictHidden
}

// idProperty returns img's domain-id property ("" when absent or empty),
// taken from its properties, else its metadata; ok is false for a value
// that is not a string.
func (f *Filter) idProperty(img *images.Image) (id string, ok bool) {
	if v, found := img.Properties[f.property]; found {
		if id, ok = v.(string); !ok {
			return "", false
		}
	}
	if id == "" {
		id = img.Metadata[f.property]
	}
	return id, true
}

// domainID returns img's domain-id property, "" when absent or malformed.
func (f *Filter) domainID(img *images.Image) string {
	id, _ := f.idProperty(img)
	return id
}

// FlavorVerdict says whether, and why, the filter's domain may see fl.
// Flavors are the operator's (Nova's flavor create is admin-only), so their
// names decide.
func (f *Filter) FlavorVerdict(fl *flavors.Flavor) Verdict { return f.name(fl.Name, f.flavors) }

// VolumeTypeVerdict says whether, and why, the filter's domain may see vt.
// Volume types are the operator's (Cinder's type create is admin-only), so
// their names decide.
func (f *Filter) VolumeTypeVerdict(vt *volumetypes.VolumeType) Verdict {
	return f.name(vt.Name, f.volumeType)
}

// VisibleFlavor reports whether the filter's domain may see fl.
func (f *Filter) VisibleFlavor(fl *flavors.Flavor) bool { return f.FlavorVerdict(fl) != VerdictHidden }

// VisibleVolumeType reports whether the filter's domain may see vt.
func (f *Filter) VisibleVolumeType(vt *volumetypes.VolumeType) bool {
	return f.VolumeTypeVerdict(vt) != VerdictHidden
}
