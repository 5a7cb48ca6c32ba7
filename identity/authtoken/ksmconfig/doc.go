// Package ksmconfig builds an authtoken.Config from the [keystone_authtoken]
// section that keystonemiddleware's auth_token read, for a service moving
// from Python to Go:
//
//	cfg, hopts, err := ksmconfig.LoadFile("/etc/mail/mail.conf", gnc) // gnc: the backend's own domain
//	v, err := authtoken.New(cfg)
//	defer v.Close()
//	http.Handle("/", v.Handler(app, hopts))
//
// keystonemiddleware has no product domains: the caller gives the domains
// the backend serves, its own first, as a domain.Registry (or the
// geostack configuration file, geostack.LoadConfig) has them. FromMap
// takes the same settings as a map. The result is an ordinary Config:
// set its Logger, Clock or Primary before calling authtoken.New.
//
// It is a package of its own so that a backend configured in Go does not
// link a memcached client.
//
// # The file
//
// LoadFile reads the file as oslo.config does: sections in [brackets]
// (names compared in lower case, DEFAULT apart), "key = value" or
// "key: value", whole-line comments starting with # or ;, values in
// matching quotes unquoted, and continuation lines (starting with a space
// or a tab) joined to the value above with a newline. It is stricter: a
// key set twice in the section, and a value that relies on oslo.config's
// substitution ($name, ${name}) are errors; $$ is a literal $. The other
// sections are read for their syntax only.
//
// # The settings
//
// Each key of the section becomes:
//
//	auth_type (auth_plugin)       password or v3password: a Password; v3applicationcredential: an ApplicationCredential
//	auth_url                      where the service user authenticates and tokens are validated: the admin_auth_url
//	                              of domains[0] at region_name
//	username (user_name), user_id, password, user_domain_id, user_domain_name
//	                              ServiceCredential
//	project_id (tenant_id), project_name (tenant_name), project_domain_id, project_domain_name,
//	domain_id, domain_name, system_scope = all
//	                              ServiceScope; the password plugin's default_domain_id and
//	                              default_domain_name stand in for the user's and the project's domain
//	application_credential_id, application_credential_name, application_credential_secret
//	                              ServiceCredential, with v3applicationcredential
//	region_name                   Home, and Primary (keystonemiddleware knows one Keystone; a backend
//	                              whose domain has other locations sets Primary)
//	www_authenticate_uri (auth_uri)
//	                              the user_auth_url of domains[0] at region_name, the WWW-Authenticate uri;
//	                              auth_url when left out, as in keystonemiddleware
//	interface                     checked (public, internal, admin); it chooses nothing: the Validator reads
//	                              no catalog to find Keystone, it validates at auth_url
//	auth_version                  v3, or left out
//	delay_auth_decision           HandlerOptions.DelayAuthDecision; ForwardHeaders is always on, since
//	                              keystonemiddleware always sets the identity headers
//	include_service_catalog       IncludeCatalog; on when left out, as in keystonemiddleware
//	token_cache_time              CacheTTL, 300 s when left out (-1, no cache, is refused)
//	service_token_roles           ServiceRoles
//	service_token_roles_required  true, or left out: the Validator always requires a service role
//	                              (false is refused)
//	service_type                  ServiceType (access rules)
//	http_connect_timeout          AttemptTimeout
//	cafile, certfile, keyfile     TLSConfig (insecure = true is refused)
//	enforce_token_bind            disabled or permissive: Keystone no longer issues bound tokens
//	memcached_servers (memcache_servers), memcache_security_strategy, memcache_secret_key
//	                              Shared over a tokencache/memcache Store (see below)
//	memcache_pool_socket_timeout  the Store's memcache.Options.Timeout
//	memcache_tls_enabled, memcache_tls_cafile, memcache_tls_certfile, memcache_tls_keyfile
//	                              the Store's memcache.Options.TLSConfig
//
// A name in parentheses is the old spelling, which keystonemiddleware
// still reads; giving both is an error. Every other key is an error that
// says why: the options with no equivalent here (http_request_max_retries,
// cache, memcache_pool_dead_retry, memcache_pool_maxsize,
// memcache_pool_unused_timeout, memcache_pool_conn_get_timeout,
// memcache_use_advanced_pool, memcache_tls_allowed_ciphers, auth_section,
// trust_id), an auth plugin's option that auth_type's plugin does not
// have, and any key that is no option at all (a typo, or an option
// keystonemiddleware removed), which oslo.config would silently ignore.
// Every problem is reported at once, in one *geostack.ConfigError, with
// the key as the section spells it and, for a file, its line. No problem
// quotes a password or a secret.
//
// # The shared tier
//
// With memcached_servers the Validators of a fleet share their
// validations through memcached, as keystonemiddleware's processes do:
// Config.Shared is a tokencache.Shared over a memcache.Store of those
// servers, and the Store is in Config.Closers, so that the Validator's
// Close closes it. The tier runs on the system clock and logs nothing: a
// backend that wants otherwise makes its own with tokencache.NewShared
// and replaces Shared. keystonemiddleware's entries and these never meet:
// their keys differ ("geostack:" starts these).
//
// tokencache.Shared always seals its entries (authenticated encryption,
// with the Store keys and the entry names derived from the token by HMAC).
// memcache_secret_key is its one secret, as is: the tier derives its keys
// from it with HKDF-SHA256, so a Go backend configured in code with
// SharedOptions{Secrets: [][]byte{[]byte(key)}} shares entries with one
// configured here. It must be at least 16 bytes. Both ENCRYPT and MAC
// become that sealed tier; keystonemiddleware's MAC alone (entries
// authenticated, but readable by anyone who can read memcached) has no
// equivalent, and the stronger one is chosen. None, or no strategy, with
// memcached_servers is refused, since the tier never stores a validation
// in the clear.
package ksmconfig
