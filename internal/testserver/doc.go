// Package testserver is an in-process fake of the whole multi-location
// OpenStack cloud geostack talks to: one Keystone per location over one
// replicated identity store, a service catalog listing every region, and
// enough of nova, glance, cinder and neutron for domain filtering and the
// VM-create flow. It speaks the real Keystone v3 JSON, headers and status
// codes, so gophercloud v2 works against it unchanged, and it can inject the
// faults geostack must survive.
//
// A test writes:
//
//	srv := testserver.New(t, testserver.Options{})
//	authURL := srv.AuthURL("SG") // http://127.0.0.1:PORT/identity/v3
//	// … point gophercloud or geostack at authURL …
//
// # Topology
//
// DefaultWorld has three locations, each served by its own 127.0.0.1
// listener: JP (regions TYO1 and OSA1, the primary), US (SJC1) and SG
// (SIN1). Keystone regions JP, US and SG exist too and are the parents of
// the regions they hold. On each listener:
//
//	/identity/v3                 Keystone (the location's auth_url)
//	/identity-admin/v3           the same Keystone as the admin endpoint
//	/d/{domain}/identity/v3      the domain's user_auth_url (same Keystone)
//	/d/{domain}/identity-admin/v3  the domain's admin_auth_url (same Keystone)
//	/{REGION}/compute/v2.1       nova    (public interface)
//	/{REGION}/image              glance
//	/{REGION}/volume/v3/{project_id}  cinder
//	/{REGION}/network            neutron
//	/internal/{REGION}/…, /admin/{REGION}/…  the internal and admin interfaces
//
// The services answer under /{REGION}/{interface}/… too (/TYO1/internal/compute/v2.1),
// the layout of the real services of scripts/services-up.sh.
//
// # Standing in for a real cloud's services
//
// With Options.ExternalKeystone the services validate every token at a
// real Keystone instead of the Server's own, so that they can be
// registered in that Keystone's catalog where the real cloud has no
// service (internal/standin does).
//
// For the openstack CLI, Nova answers a flavor's (empty) extra specs, and
// Keystone looks domains up by id and by name (GET /v3/domains).
//
// # Replication
//
// Every object has a creation time on the Server's Clock. The primary sees
// everything; a replica location ignores objects created less than
// Options.ReplicationLag ago, both when authenticating and when validating a
// token (a token whose user or project a replica cannot see yet answers 404
// there). Writes (POST /v3/users, POST /v3/projects, PUT role assignments)
// are accepted only at the primary; a replica answers 403 Forbidden with a
// Keystone error body saying it is a read-only replica. Tokens are shared by
// every location, as with shared Fernet keys, and a revocation is seen
// everywhere at once.
//
// # Glance
//
// Each region's Glance has its own images, as each real one has its own
// database and store: a seeded image without a Region is in every region
// with the same id, an image created through the API only in its region.
// Images carry data: seeded ones 4 KiB generated from their id (or their
// ImageData, generated as it is read, so that gigabytes cost no memory);
// uploads (PUT /v2/images/{id}/file, chunked or not) go queued → saving →
// active with size, checksum (MD5) and os_hash_algo / os_hash_value
// (sha512 unless Options.ImageHashAlgos says otherwise) computed as the
// data streams in, and back to queued when the upload fails, as Glance
// restores them. The data of an image written through the API is kept in
// memory, 64 MiB at the most (413 beyond), unless Options.DiscardImageData.
// Downloads, PATCH (JSON patch), DELETE and the interoperable import's
// web-download (the fake fetches the URL itself) answer as Glance 25 does.
// POST /v2/images creates a queued image owned by the caller's project
// ("public" for admins only, custom properties string values only); only
// its owner or an admin may change it.
//
// Reading one image (by id, its data, a change, a boot) follows Glance's
// rule: public and community images are everyone's, a shared one its
// members' whatever their status, a private one its owner's. Listings
// follow Glance's own rules: the default listing leaves out other
// projects' community images (an admin's too) and the shared images whose
// membership is not member_status (accepted by default); they take the
// visibility, member_status, field (name, id, status, formats with
// "in:"; owner, sizes, checksums, min_disk, min_ram exact), custom
// property, tag, protected, os_hidden, size_min/size_max and
// created_at/updated_at ("gte:TIME") filters, the sort and
// sort_key/sort_dir orders (newest first by default; seeded images were
// created a second apart in World order), and pages of 25 by default with
// Glance's links and marker placement. Errors are Glance's: JSON to a
// client that accepts it, an HTML page to any other. internal/conformance
// checks all of this against the real Glance.
//
// ImageShareURL is an operator's web share of a region's store: the data
// of its active images without a token, for web-download.
//
// # Faults
//
// SetFault injects a Fault at a Target: a whole location (AtLocation), one
// location's Keystone (Keystone) or one service in one region (Service).
// Faults can be set and cleared at any time from any goroutine. Image
// data faults strike in the middle of a stream: a download dropped or
// corrupted after N bytes, an upload answered 5xx after N bytes.
//
// # Counters
//
// TokensIssued, Validations and Requests count what the Server saw, so
// tests can assert how many tokens a client fetched; ResetCounters zeroes
// them.
package testserver
