// Package domain knows the product domains that sell from one OpenStack
// cloud, the name prefixes each of them owns, and which images, flavors and
// volume types a domain's users may see.
//
// Each Keystone domain (a product such as ConoHa, Z.com JP or an OEM
// partner) owns a name prefix. Its users and projects carry the bare prefix
// (gncu72074485), its resources carry the prefix and a separator
// (gnc_centos). A Registry holds the domains, checks at construction that no
// name can belong to two of them, and answers lookups without locks or
// allocations. A Filter applies a domain's visibility rules to gophercloud
// listings, page by page, so that a domain's users never see another
// domain's images, flavors or volume types.
//
// The three lines a service writes:
//
//	reg, err := domain.LoadFile("/etc/geostack/domains.json")
//	f, err := reg.Filter("gnc", domain.Policy{})
//	for img, err := range f.Images(ctx, imageClient, images.ListOpts{Limit: 100}) { ... }
//
// # Names
//
// All comparisons are byte-wise and case-sensitive; nothing is normalised.
// For a domain with prefix P and separator S (default "_"):
//
//   - A name is in P's namespace when it starts with P. Registry.Owner
//     reports that domain; because no registered prefix is a prefix of
//     another, there is at most one. "GNC_centos" is not in gnc's namespace.
//   - A user or project name of the domain is P followed by at least one
//     byte (Domain.OwnsAccount): gncu72074485.
//   - A resource name of the domain is P, then S, then at least one byte
//     (Domain.OwnsResource): gnc_centos, gnc_日本. Its display name is what
//     follows S.
//   - A name that is in P's namespace but is not a resource name of the
//     domain ("gnc", "gnc_", "gnccentos", "gnc‐x" with a unicode hyphen) is
//     malformed: the filters show it to nobody, not even to P's users,
//     because nobody can tell whose it was meant to be.
//   - A name in no registered namespace is unprefixed (shared): "default",
//     "m1.small", "GNC_x".
//
// # Visibility
//
// Flavors and volume types have no owner metadata, so their names decide: a
// domain's users see the domain's resource names, and the unprefixed ones
// unless the Policy hides shared items.
//
// A private or shared image is shown as Glance returned it: Glance has
// already scoped it to the caller's project. A community image is not
// scoped (Glance lists every project's community images to whoever asks for
// them), so it is judged like a public one. For every other image (public,
// community, or with an unknown or empty visibility),
// the domain-id property (Policy.DomainIDProperty, "domain_id"; taken from
// Image.Properties, else Image.Metadata; an empty value counts as absent)
// decides, and the name is the fallback:
//
//   - The property names the viewer's domain: shown, whatever the name says
//     (metadata wins over the name).
//   - The property names any other domain, registered or not, or is not a
//     string: hidden.
//   - The property is absent, or names the Default domain
//     (Policy.DefaultDomainID, "default"): the name decides as for flavors.
//     An unprefixed name makes a Default-domain public image, shared with
//     every domain; a resource name of domain X makes it X's only, so that a
//     Default-domain id never widens the audience of a prefixed image.
//
// # Listing
//
// Filter.Images, Filter.Flavors and Filter.VolumeTypes page through
// gophercloud pagers and yield the visible items one by one, holding one
// page in memory at a time; the caller's ListOpts (limit, sort, status, ...)
// go to the service unchanged, so Limit is the page size asked of the
// service, not the number of items yielded. A page that fails ends the
// sequence with a *ListError: a listing is never silently shorter. As with
// every gophercloud pager, an empty page ends the listing.
package domain
