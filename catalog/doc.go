// Package catalog turns a Keystone v3 service catalog into an immutable index
// and selects endpoints from it deterministically.
//
// A user builds the index once per token and selects from it as often as
// needed:
//
//	cat, err := catalog.New(token.Catalog.Entries, projectID)
//	ep, err := cat.Select(catalog.Query{Type: "volumev3", Region: "SIN1", Interfaces: []catalog.Interface{catalog.Internal, catalog.Public}})
//	client := &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: ep.URL}
//
// # Selection
//
// Service types are matched through the aliases of the OpenStack service-types
// authority: "volumev3", "volumev2", "volume" and "block-storage" all name the
// block-storage service, and Endpoint.ServiceType is always the official type.
// When the catalog lists a family under several types (a cloud that still
// registers "volumev2" next to "volumev3"), the type spelled exactly as in
// Query.Type comes first, then the official type, then the aliases in the
// authority's order. Within that order, interfaces are tried in the order of
// Query.Interfaces. The first (type, interface) pair with any endpoint that
// also matches Query.Region and Query.Name decides: it must hold exactly one
// distinct URL, or Select returns an *AmbiguousError listing the candidates.
// Select never picks the first of several silently. Endpoints whose URLs are
// identical are the same endpoint; the first in catalog order is returned.
//
// Query.Region "" means any region, so it succeeds only when the service has a
// single URL across all regions. An endpoint listed without a region is found
// only by such a query. Endpoint.Region is the endpoint's region_id, or its
// legacy region field when region_id is empty.
//
// # URL templates
//
// New replaces $(project_id)s, $(tenant_id)s, %(project_id)s and
// %(tenant_id)s in endpoint URLs with the (path-escaped) project ID. An
// endpoint whose URL still holds a placeholder afterwards (New was given no
// project ID, or the placeholder is one we do not know) stays in the index so
// that it is reported rather than hidden: selecting it returns an
// *UnresolvedTemplateError matching ErrUnresolvedTemplate.
//
// # Malformed input
//
// New never fails because of the catalog's content and never panics. It skips,
// and records in Skipped, every service entry without a type and every endpoint
// with an empty, unparsable, relative or credential-bearing URL, or with an
// interface other than public, internal or admin. A nil or empty catalog is
// valid (a token issued without one): every Select on it returns ErrNotFound
// saying that the catalog is empty.
//
// # Cost
//
// A Catalog is safe for concurrent use. New builds the index in time linear
// in the number of endpoints (see BenchmarkNew). Select does one map lookup
// in that index (two for an alias the catalog does not list) and does not
// allocate when it succeeds.
package catalog
