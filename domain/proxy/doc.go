// Package proxy is the domain API wrapper: an http.Handler that an operator
// mounts at one product domain's endpoint of one OpenStack service (nova,
// glance, cinder or keystone), in front of the shared upstream service, so
// that clients nobody here wrote (the openstack CLI, Horizon, Terraform)
// get the domain's view of the cloud that geostack's own Client gives.
//
// An operator writes, for each domain and service:
//
//	f, _ := registry.Filter("gnc", domain.Policy{PrefixedImageNames: true})
//	images, err := proxy.New(proxy.Config{Service: "image", Filter: f, Validator: v,
//		Upstream: "https://glance.tyo1.internal/image", Prefix: "/gnc/TYO1/image"})
//	mux.Handle("/gnc/TYO1/image/", images)
//
// # Authentication
//
// Every request goes through the Validator's Handler (identity/authtoken),
// which strips the identity headers a client could spoof, as
// keystonemiddleware does, and validates X-Auth-Token (from its cache when
// it can). A token must be the proxy's domain's: its user, and its project
// or domain scope, must belong to Filter.Domain(), whatever else the
// Validator serves; any other token is answered 401, as is a missing one.
// Version documents, and Keystone's token issue, need no token.
//
// # Lists
//
// GET of the image list (/v2/images), the flavor lists (/flavors and
// /flavors/detail) and the volume type list (/types) is filtered by the
// same rules as the Client's listings, domain.Filter's, for the token's
// project (Filter.ForProject): a domain's users see the Default domain's
// public items, the domain's own, and their own images. The user's query
// (filters, sort, limit) goes upstream unchanged.
//
// The answer streams: items are read from the upstream page one at a time,
// judged, and written on, so a listing's memory is one item, never a page
// or the listing. A page of the proxy is as long as the first upstream page
// it reads (the user's limit, or the service's default): when the domain
// may not see some of its items, the proxy reads further upstream pages,
// with a doubling limit up to 1,000, until the page is full or the listing
// ends, reading at most Config.MaxUpstreamPages pages. So the proxy never
// answers an empty page while there is more to see (gophercloud and
// openstacksdk take an empty page for the end), and never a short page
// before the end (Horizon takes one for it). When the bound is reached with
// nothing to show, the answer is 503: a listing is never silently shorter.
//
// A next link is written when there may be more: its marker is the id of
// the last item written, never of an item the domain may not see, and it
// points at the proxy (Glance's next is a path under the endpoint, as
// Glance writes it; Nova's and Cinder's *_links hold absolute URLs under
// Config.PublicURL). A marker naming an item the domain may not see is
// answered as the service answers an unknown one.
//
// # Single items
//
// A GET, HEAD, PUT, PATCH or DELETE of an image, flavor or volume type the
// domain may not see, or of anything under it (an image's /file, /members,
// /tags, a flavor's extra specs, a volume type's access list), answers 404
// with the service's own not-found document, as if the item did not exist.
// The proxy asks the upstream for the item first, with the caller's token.
//
// # Writes
//
// An image created through the proxy gets the domain's domain_id property
// (Filter.DomainIDProperty); a create or a patch naming another domain's id
// is refused with 400, and so is a name outside the domain's namespace when
// the domain's policy asks for it (domain.Policy.PrefixedImageNames). At the
// identity endpoint, a user or project created or renamed must carry the
// domain's prefix and belong to the domain (400 and 403 otherwise), and
// every write (anything but GET and HEAD, and token issue) is sent to the
// primary location through region.Resolver.Write; reads and token issue go
// to the proxy's home location. Lists of users and projects are limited to
// the domain, and a user or project of another domain is 404.
//
// # Everything else
//
// Everything else passes through httputil.ReverseProxy unchanged: request
// and response bodies stream (image uploads and downloads are never
// buffered), and microversion headers, request ids and error documents
// travel both ways as they are. Links that would send a client around the
// proxy are rewritten: Location headers, and the absolute links of version
// documents, which keystoneauth follows. A filtered list is a new document,
// so its upstream Content-Length and ETag are dropped.
//
// # How clients find the proxy
//
// The identity proxy rewrites the service catalog of the tokens it relays
// (Config.Catalog): an upstream endpoint becomes the domain's proxy
// endpoint. A client pointed at the domain's identity proxy (its
// user_auth_url, OS_AUTH_URL) therefore reaches the domain's compute, image
// and volume proxies through the catalog, with no setting per service, as
// every OpenStack client finds a service. Per-service overrides
// (openstacksdk's <service>_endpoint_override) also work but must be set
// by every user for every service, and Keystone endpoint filtering would
// need an association per project.
package proxy
