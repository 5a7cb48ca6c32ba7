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
//   - With Policy.RequireDomainID the operator has promised that every
//     image of theirs names its domain: one without the property is
//     hidden, as a malformed name is (see Listing for why one would).
//
// ImageVerdict, FlavorVerdict and VolumeTypeVerdict say which rule applied;
// the Visible predicates say only whether the item is shown.
//
// # Listing
//
// Filter.Images, Filter.Flavors and Filter.VolumeTypes page through
// gophercloud pagers and yield the visible items one by one. The caller's
// ListOpts (limit, sort, status, ...) go to the service, so Limit is the page
// size asked of the service, not the number of items yielded. A page that
// fails ends the sequence with a *ListError: a listing is never silently
// shorter. As with every gophercloud pager, an empty page ends a listing.
//
// Nova and Cinder cannot filter flavors or volume types by name, so those
// listings are the service's own (the public items and the private ones the
// viewer's project has access to), one page in memory at a time, filtered
// here; there are few of them.
//
// Images are narrowed server-side, since a cloud can hold thousands and the
// links between locations are slow. Glance can select by visibility=, by
// owner= and by a custom property's exact value (domain_id=<id>), combined
// with each other and with the caller's filters; it cannot select a
// property's absence, a name prefix or a list of property values. So for
// the viewer's domain Filter.Images asks Glance for a few listings and
// merges them in Glance's order (its default, newest first, or the caller's
// sort), holding one page of each in memory:
//
//   - the public images: all of them, since an operator's image without the
//     domain-id property may be anyone's by its name; with
//     Policy.RequireDomainID only domain_id=<the domain's id> and
//     domain_id=<the Default domain's id>;
//   - the viewer's project's own images (owner=<project>);
//   - the shared images (visibility=shared), when operator projects or
//     foreign images count, and for visibility=community or private the
//     operator projects' (or, with ShowForeignImages, every project's
//     community images).
//
// Names compare byte-wise in the merge: under a case-insensitive database
// collation (MySQL's usual one), a listing sorted by name may interleave
// names that differ only in case otherwise than Glance would; nothing is
// lost or repeated.
//
// Every listed image still gets its verdict here, and each listing checks
// that its images match what it asked for, so a service that ignores a
// filter costs bytes, never a leak or a duplicate. An Owner or Marker of the
// caller's, visibility=all, a sort key Glance does not document and a
// ListOptsBuilder other than ListOpts go to Glance unchanged, as one
// listing. The listings are those of a project member: for a cloud admin,
// Glance's default listing also holds other projects' private images, which
// the narrowed listings leave out.
//
// What it saves: BenchmarkIntegrationImageListing (in the geostack package)
// published 2,000 public images in a real Glance, a tenth of them for gnc,
// and listed them for a gnc member a hundred to a page. Before narrowing the
// listing took 21 requests and 1.76 MB; under the zero Policy it still takes
// every public image (22 requests, 1.76 MB); with RequireDomainID 5 requests
// and 189 kB, and Glance sent only the 217 images gnc may see. The bytes fall
// by the share of the images the domain sees: 9.3 times for gnc (a tenth),
// 12.2 times for zjp (7.5 %).
//
// # Operators: protecting domain_id in Glance
//
// Glance lets any project member set any custom property on the images it
// creates, so without property protections a customer may give its
// community, shared or private image another domain's domain_id. This
// package does not depend on that being impossible: it trusts domain_id and
// names only on images that an operator project published (public images,
// which only admins publish under Glance's default publicize_image policy,
// and the images of Policy.OperatorProjects); for every other image the
// owner decides. A forged domain_id on a customer's image therefore shows it
// to nobody but its own project, whatever the property says.
//
// Protecting the property still keeps the metadata honest for every other
// client of Glance (the dashboard, the CLI, other tools), and it is what
// makes Policy.RequireDomainID's promise hold: only the operator can then
// tag an image. In glance-api.conf:
//
//	[DEFAULT]
//	property_protection_file = /etc/glance/property-protections.conf
//	property_protection_rule_format = roles
//
// and in /etc/glance/property-protections.conf:
//
//	# The first section a property matches decides: domain_id first.
//	[^domain_id$]
//	create = admin
//	read = @
//	update = admin
//	delete = admin
//
//	# The catch-all: without it no other custom property can be set at all.
//	[.*]
//	create = @
//	read = @
//	update = @
//	delete = @
//
// The values are role names ("@" is every role, "!" none); with
// property_protection_rule_format = policies they name policy rules
// instead. Glance reads the file at start. Checked on Glance 25 (Debian 12):
// a member's create or update carrying domain_id gets 403 "Attribute
// 'domain_id' is reserved", its other properties are accepted, and the
// admin sets and changes domain_id as before. Two mistakes to avoid, also
// checked there: leaving out the catch-all makes every other property
// reserved (os_distro included); and read = admin hides domain_id from the
// members' listings (Glance still filters on it), so the library, reading
// with the member's token, would see no domain_id on any image: every
// public image would be judged by its name alone, and with RequireDomainID
// none would be shown. Keep read open to every role the library's users
// have.
package domain
