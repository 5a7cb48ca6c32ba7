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
// Glance also takes writes: POST /v2/images creates a queued image owned
// by the caller's project (custom properties as given, string values only;
// "public" for admins only), PUT and GET /v2/images/{id}/file upload and
// download its data (kept in memory, up to 64 MiB), PATCH renames it or
// changes its properties, DELETE removes it. Only the owner or an admin
// may change an image; one the caller cannot see is 404, with Glance's
// HTML error page. Nova answers a flavor's (empty) extra specs, and
// Keystone looks domains up by id and by name (GET /v3/domains), as the
// openstack CLI does.
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
// # Faults
//
// SetFault injects a Fault at a Target: a whole location (AtLocation), one
// location's Keystone (Keystone) or one service in one region (Service).
// Faults can be set and cleared at any time from any goroutine.
//
// # Counters
//
// TokensIssued, Validations and Requests count what the Server saw, so
// tests can assert how many tokens a client fetched; ResetCounters zeroes
// them.
package testserver
