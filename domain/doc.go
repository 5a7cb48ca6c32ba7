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
// domain's images, flavors or volume types, nor another customer's images
// dressed up as their domain's.
//
// The three lines a service writes:
//
//	reg, err := domain.LoadFile("/etc/geostack/domains.json")
//	f, err := reg.Filter("gnc", domain.Policy{})
//	f = f.ForProject(token.Project.ID) // the viewer: the owner of their own images
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
// What a domain's users create is named inside the namespace:
// Filter.CheckAccountName refuses a user or project name that is not an
// account name of the domain, and, under Policy.PrefixedImageNames,
// Filter.CheckImageName refuses an image name that is not a resource name
// of the domain; both with a *NameError (ErrOutsideNamespace). The domain
// proxy (domain/proxy) applies them at the domain's endpoints.
//
// # Visibility, and who controls each field
//
// Which fields of an item may decide its domain depends on who can set
// them. Under Glance's, Nova's and Cinder's default policies:
//
//   - Flavors and volume types are created by the operator only (admin
//     APIs). Their names decide: a domain's users see the domain's
//     resource names, and the unprefixed ones unless the Policy hides
//     shared items.
//   - Public images are published by the operator only: Glance's
//     publicize_image is admin-only. Their domain-id property and their
//     name are the operator's word, so they decide, as described below.
//   - Private, shared and community images are published by customers:
//     any project member creates them and sets their name and any
//     property, another domain's domain_id included (Glance accepts it
//     unless property protections reserve it). Glance lists community
//     images to everyone who asks for visibility=community, and shared
//     images to the members an owner picked. For these only the owner
//     (Image.Owner, the project that created it, which Glance sets)
//     decides:
//   - the viewer's own project: the viewer's own (VerdictOwn), whatever
//     its name or properties claim;
//   - one of Policy.OperatorProjects: the operator's, judged as a public
//     image;
//   - any other project: hidden, unless Policy.ShowForeignImages opts in
//     for community and shared images, and then VerdictForeign, never the
//     domain's own. A customer's image named "gnc_centos" or carrying gnc's
//     domain_id is never shown to gnc users as a gnc image.
//
// The viewer's project comes from Filter.ForProject (the geostack Client
// and the proxy take it from the caller's token); without it, no image is
// anyone's own.
//
// For an operator's image, the domain-id property (Policy.DomainIDProperty,
// "domain_id"; taken from Image.Properties, else Image.Metadata; an empty
// value counts as absent) decides, and the name is the fallback:
//
//   - The property names the viewer's domain: the domain's (VerdictDomain),
//     whatever the name says (metadata wins over the name).
//   - The property names any other domain, registered or not, or is not a
//     string: hidden.
//   - The property is absent, or names the Default domain
//     (Policy.DefaultDomainID, "default"): the name decides as for flavors.
//     An unprefixed name makes a Default-domain public image, shared with
//     every domain (VerdictShared); a resource name of domain X makes it
//     X's only, so that a Default-domain id never widens the audience of a
//     prefixed image.
//
// ImageVerdict, FlavorVerdict and VolumeTypeVerdict say which rule applied;
// the Visible predicates say only whether the item is shown.
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
