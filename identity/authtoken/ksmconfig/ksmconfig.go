package ksmconfig

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/authurl"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/tokencache/memcache"
)

// sectionName is keystonemiddleware's section, which LoadFile reads.
const sectionName = "keystone_authtoken"

// minSecretLen is the shortest memcache_secret_key accepted: the shortest
// secret tokencache.SharedOptions accepts.
const minSecretLen = 16

// LoadFile reads the [keystone_authtoken] section of the oslo.config INI
// file at path (the service's own, such as mail.conf) and returns what it
// stands for, as FromMap does. Errors are one *geostack.ConfigError naming
// the file, with every problem's key and line; see the package doc for
// how the file is read.
func LoadFile(path string, domains ...domain.Domain) (authtoken.Config, authtoken.HandlerOptions, error) {
	s, problems, err := readSection(path, sectionName)
	if err != nil {
		return authtoken.Config{}, authtoken.HandlerOptions{}, err
	}
	cfg, ho, err := translate(s, domains, problems)
	return cfg, ho, withSource(path, err)
}

// FromMap returns the authtoken.Config and HandlerOptions that the
// settings of a [keystone_authtoken] section stand for (keys and values as
// written in the section, values not yet parsed), for a backend serving
// domains: domains[0] is its own, whose endpoints at region_name become
// auth_url (its admin_auth_url) and www_authenticate_uri (its
// user_auth_url). The package doc lists every key and what it becomes.
//
// Every key that has no meaning here or a value that is not valid is a
// problem of the one *geostack.ConfigError returned, with the key as the
// section spells it; no problem quotes a secret. On success, with
// memcached_servers, the Config holds a memcached Store in
// Config.Closers: make one Validator of it, whose Close closes the Store.
func FromMap(settings map[string]string, domains ...domain.Domain) (authtoken.Config, authtoken.HandlerOptions, error) {
	return translate(fromMap(settings), domains, nil)
}

// reader reads a section's settings, remembering which keys it used and
// every problem.
type reader struct {
	s        *section
	used     map[string]bool
	problems []*configerr.Problem
}

// bad records a problem with key; a key that was set gets its line. A
// key whose value was refused when it was read has its problem already.
func (r *reader) bad(key, format string, args ...any) {
	if r.s.values[key].invalid {
		return
	}
	r.problems = append(r.problems, &configerr.Problem{Key: key, Line: r.s.values[key].line, Reason: fmt.Sprintf(format, args...)})
}

// badErr records a problem with key caused by err.
func (r *reader) badErr(key, reason string, err error) {
	r.problems = append(r.problems, &configerr.Problem{Key: key, Line: r.s.values[key].line, Reason: reason, Err: err})
}

// raw returns the setting of key, or of the first of its deprecated names
// that is set, and the key it was found under. Giving both is a problem.
func (r *reader) raw(key string, old ...string) (v string, at string, ok bool) {
	for _, k := range append([]string{key}, old...) {
		r.used[k] = true
		s, set := r.s.values[k]
		if !set || s.invalid {
			continue
		}
		if ok {
			r.bad(k, "the old name of %s, which is also given: give one", at)
			continue
		}
		v, at, ok = s.value, k, true
	}
	return v, at, ok
}

// str returns a string setting; set but empty counts as not set, as an
// empty value does for keystonemiddleware's options.
func (r *reader) str(key string, old ...string) (string, string) {
	v, at, _ := r.raw(key, old...)
	return v, at
}

// boolean returns a boolean setting as oslo.config parses it, or def.
func (r *reader) boolean(key string, def bool) bool {
	v, at, ok := r.raw(key)
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "on", "yes":
		return true
	case "false", "0", "off", "no":
		return false
	}
	r.bad(at, "%q is not a boolean (true or false)", v)
	return def
}

// integer returns an integer setting, or def.
func (r *reader) integer(key string, def int) (int, bool) {
	v, at, ok := r.raw(key)
	if !ok {
		return def, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.bad(at, "%q is not an integer", v)
		return def, false
	}
	return n, true
}

// seconds returns a positive number of seconds, or 0 when not set.
func (r *reader) seconds(key string) time.Duration {
	n, ok := r.integer(key, 0)
	if ok && n <= 0 {
		r.bad(key, "%d is not a positive number of seconds", n)
		return 0
	}
	return time.Duration(n) * time.Second
}

// list returns a list setting as oslo.config parses one: items separated
// by commas, each trimmed, a trailing comma ignored.
func (r *reader) list(key string, old ...string) ([]string, string, bool) {
	v, at, ok := r.raw(key, old...)
	if !ok {
		return nil, at, false
	}
	v = strings.TrimRight(strings.TrimSpace(v), ",")
	if v == "" {
		return []string{}, at, true
	}
	items := strings.Split(v, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return items, at, true
}

// translate maps the settings of s, for domains, to a Config and
// HandlerOptions. problems are those found reading s.
func translate(s *section, domains []domain.Domain, problems []*configerr.Problem) (authtoken.Config, authtoken.HandlerOptions, error) {
	r := &reader{s: s, used: map[string]bool{}, problems: problems}
	var cfg authtoken.Config
	var ho authtoken.HandlerOptions
	// keystonemiddleware sets the identity headers on every request.
	ho.ForwardHeaders = true
	ho.DelayAuthDecision = r.boolean("delay_auth_decision", false)

	authType, _ := r.str("auth_type", "auth_plugin")
	authURL := r.authURL()
	home, _ := r.str("region_name")
	if home == "" {
		r.bad("region_name", "required: it names the location the backend runs in and validates at (Config.Home), "+
			"a location of the served domain's endpoints")
	}
	cfg.Home, cfg.Primary = home, home
	cfg.ServiceCredential, cfg.ServiceScope = r.credential(authType)
	cfg.Domains = r.domains(domains, home, authURL)

	r.interfaceAndVersion()
	cfg.ServiceRoles = r.serviceRoles()
	cfg.ServiceType, _ = r.str("service_type")
	cfg.IncludeCatalog = r.boolean("include_service_catalog", true)
	switch n, ok := r.integer("token_cache_time", 300); {
	case !ok:
		cfg.CacheTTL = 300 * time.Second
	case n == -1:
		r.bad("token_cache_time", "-1 turns keystonemiddleware's cache off; the Validator always caches: give the seconds a token is trusted")
	case n <= 0:
		r.bad("token_cache_time", "%d is not a positive number of seconds", n)
	default:
		cfg.CacheTTL = time.Duration(n) * time.Second
	}
	cfg.AttemptTimeout = r.seconds("http_connect_timeout")
	cfg.TLSConfig = r.keystoneTLS()
	r.tokenBind()
	store := r.shared(&cfg)

	r.unused(authType)
	if len(r.problems) > 0 {
		if store != nil {
			store.Close()
		}
		slices.SortStableFunc(r.problems, func(a, b *configerr.Problem) int { return a.Line - b.Line })
		var l configerr.List
		for _, p := range r.problems {
			l.AddProblem(p)
		}
		return authtoken.Config{}, authtoken.HandlerOptions{}, l.Err()
	}
	return cfg, ho, nil
}

// authURL returns auth_url, checked, or "".
func (r *reader) authURL() string {
	u, _ := r.str("auth_url")
	if u == "" {
		r.bad("auth_url", "required: the Keystone the service user authenticates at and tokens are validated at")
		return ""
	}
	if _, err := authurl.Root(u); err != nil {
		r.badErr("auth_url", "", err)
		return ""
	}
	return u
}

// credential returns the service's credential and scope from the auth
// plugin's options.
func (r *reader) credential(authType string) (identity.Credential, identity.Scope) {
	switch authType {
	case "password", "v3password":
		return r.password(authType), r.scope(authType)
	case "v3applicationcredential":
		return r.applicationCredential(), identity.Scope{}
	case "":
		r.bad("auth_type", "required: password, v3password or v3applicationcredential")
	default:
		r.bad("auth_type", "%q is not supported: give password, v3password or v3applicationcredential", authType)
	}
	return nil, identity.Scope{}
}

// defaultDomain returns the generic password plugin's default_domain_id
// and default_domain_name, which stand in for the user's and the
// project's domain.
func (r *reader) defaultDomain(authType string) (id, name string) {
	if authType != "password" {
		return "", ""
	}
	id, _ = r.str("default_domain_id")
	name, _ = r.str("default_domain_name")
	return id, name
}

func (r *reader) password(authType string) identity.Credential {
	p := identity.Password{}
	p.UserID, _ = r.str("user_id")
	p.UserName, _ = r.str("username", "user_name")
	p.DomainID, _ = r.str("user_domain_id")
	p.DomainName, _ = r.str("user_domain_name")
	p.Password, _ = r.str("password")
	defID, defName := r.defaultDomain(authType)
	if p.DomainID == "" && p.DomainName == "" {
		p.DomainID, p.DomainName = defID, defName
	}
	switch {
	case p.UserID == "" && p.UserName == "":
		r.bad("username", "required (or user_id): the service user")
	case p.UserID != "" && p.UserName != "":
		r.bad("user_id", "give user_id or username, not both")
	case p.UserName != "" && p.DomainID == "" && p.DomainName == "":
		r.bad("username", "needs the user's domain: user_domain_id or user_domain_name")
	}
	if p.DomainID != "" && p.DomainName != "" {
		r.bad("user_domain_name", "give user_domain_id or user_domain_name, not both")
	}
	if p.Password == "" {
		r.bad("password", "required: the service user's password")
	}
	return p
}

func (r *reader) scope(authType string) identity.Scope {
	var sc identity.Scope
	sc.ProjectID, _ = r.str("project_id", "tenant_id")
	sc.ProjectName, _ = r.str("project_name", "tenant_name")
	sc.ProjectDomainID, _ = r.str("project_domain_id")
	sc.ProjectDomainName, _ = r.str("project_domain_name")
	sc.DomainID, _ = r.str("domain_id")
	sc.DomainName, _ = r.str("domain_name")
	system, _ := r.str("system_scope")
	if trust, _ := r.str("trust_id"); trust != "" {
		r.bad("trust_id", "trust-scoped service tokens are not supported: scope the service user to a project")
	}
	defID, defName := r.defaultDomain(authType)
	if sc.ProjectName != "" && sc.ProjectDomainID == "" && sc.ProjectDomainName == "" {
		sc.ProjectDomainID, sc.ProjectDomainName = defID, defName
	}
	switch system {
	case "":
	case "all":
		sc.System = true
	default:
		r.bad("system_scope", "%q is not a system scope: the only one is \"all\"", system)
	}
	kinds := 0
	for _, set := range []bool{sc.ProjectID != "" || sc.ProjectName != "", sc.DomainID != "" || sc.DomainName != "", sc.System} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		r.bad("project_name", "give one scope: a project (project_id or project_name), a domain (domain_id or domain_name) or system_scope")
	case sc.ProjectID != "" && sc.ProjectName != "":
		r.bad("project_id", "give project_id or project_name, not both")
	case sc.ProjectName != "" && sc.ProjectDomainID == "" && sc.ProjectDomainName == "":
		r.bad("project_name", "needs the project's domain: project_domain_id or project_domain_name")
	case sc.ProjectDomainID != "" && sc.ProjectDomainName != "":
		r.bad("project_domain_name", "give project_domain_id or project_domain_name, not both")
	case sc.DomainID != "" && sc.DomainName != "":
		r.bad("domain_name", "give domain_id or domain_name, not both")
	}
	return sc
}

func (r *reader) applicationCredential() identity.Credential {
	a := identity.ApplicationCredential{}
	a.ID, _ = r.str("application_credential_id")
	a.Name, _ = r.str("application_credential_name")
	a.Secret, _ = r.str("application_credential_secret")
	a.UserID, _ = r.str("user_id")
	a.UserName, _ = r.str("username", "user_name")
	a.UserDomainID, _ = r.str("user_domain_id")
	a.UserDomainName, _ = r.str("user_domain_name")
	switch {
	case a.ID == "" && a.Name == "":
		r.bad("application_credential_id", "required (or application_credential_name with its user)")
	case a.ID == "" && a.UserID == "" && a.UserName == "":
		r.bad("application_credential_name", "needs its user: user_id, or username with user_domain_id or user_domain_name")
	case a.ID == "" && a.UserID == "" && a.UserDomainID == "" && a.UserDomainName == "":
		r.bad("username", "needs the user's domain: user_domain_id or user_domain_name")
	}
	if a.Secret == "" {
		r.bad("application_credential_secret", "required")
	}
	return a
}

// domains returns domains with the first one's endpoints at home set from
// auth_url and www_authenticate_uri, on a copy of its Endpoints. An
// endpoint the domain already has must be the same Keystone: a domain file
// and a section that disagree are refused, not merged.
func (r *reader) domains(domains []domain.Domain, home, authURL string) []domain.Domain {
	www, wwwKey := r.str("www_authenticate_uri", "auth_uri")
	if wwwKey == "" {
		wwwKey = "www_authenticate_uri"
	}
	if www != "" {
		if _, err := authurl.Root(www); err != nil {
			r.badErr(wwwKey, "", err)
			www = ""
		}
	}
	if len(domains) == 0 {
		r.problems = append(r.problems, &configerr.Problem{Key: "domains",
			Reason: "no served domain given: keystonemiddleware has no product domains; pass the backend's own first"})
		return nil
	}
	if home == "" || authURL == "" {
		return domains
	}
	own := domains[0]
	own.Endpoints = maps.Clone(own.Endpoints)
	if own.Endpoints == nil {
		own.Endpoints = map[string]domain.Endpoints{}
	}
	ep := own.Endpoints[home]
	set := func(key string, have *string, which, u string) {
		switch {
		case *have == "":
			*have = u
		case !sameKeystone(*have, u):
			r.bad(key, "%s is not domain %s's %s at %s (%s): give one, or the same", authurl.Redact(u), own.Name, which, home, authurl.Redact(*have))
		}
	}
	set("auth_url", &ep.AdminAuthURL, "admin_auth_url", authURL)
	switch {
	case www != "":
		set(wwwKey, &ep.UserAuthURL, "user_auth_url", www)
	case ep.UserAuthURL == "":
		// keystonemiddleware sends clients to auth_url when it has no
		// www_authenticate_uri.
		ep.UserAuthURL = authURL
	}
	own.Endpoints[home] = ep
	return append([]domain.Domain{own}, domains[1:]...)
}

// sameKeystone reports whether two auth URLs name the same identity root.
func sameKeystone(a, b string) bool {
	ra, errA := authurl.Root(a)
	rb, errB := authurl.Root(b)
	return errA == nil && errB == nil && ra == rb
}

// interfaceAndVersion checks interface and auth_version, which choose
// nothing here: the Validator validates at auth_url with Identity v3.
func (r *reader) interfaceAndVersion() {
	if v, at, ok := r.raw("interface"); ok {
		switch v {
		case "public", "internal", "admin", "publicURL", "internalURL", "adminURL":
		default:
			r.bad(at, "%q is not an interface: public, internal or admin", v)
		}
	}
	if v, at, ok := r.raw("auth_version"); ok {
		switch strings.ToLower(v) {
		case "v3", "3", "v3.0", "3.0":
		default:
			r.bad(at, "%q: geostack speaks Identity v3 only", v)
		}
	}
}

// serviceRoles returns service_token_roles and checks
// service_token_roles_required, which the Validator always is.
func (r *reader) serviceRoles() []string {
	if !r.boolean("service_token_roles_required", true) {
		r.bad("service_token_roles_required", "the Validator always requires a service role of a service token; "+
			"false, which lets any valid service token through, has no equivalent")
	}
	roles, at, ok := r.list("service_token_roles")
	if !ok {
		return []string{"service"}
	}
	if len(roles) == 0 || slices.Contains(roles, "") {
		r.bad(at, "an empty role: no service token would carry it")
	}
	return roles
}

// tokenBind checks enforce_token_bind: Keystone no longer issues bound
// tokens, so only the settings that accept unbound tokens mean anything.
func (r *reader) tokenBind() {
	if v, at, ok := r.raw("enforce_token_bind"); ok && v != "disabled" && v != "permissive" {
		r.bad(at, "%q: the Validator does not check token binding (Keystone no longer issues bound tokens); give disabled or permissive", v)
	}
}

// keystoneTLS returns the TLS configuration for Keystone from cafile,
// certfile, keyfile and insecure, or nil.
func (r *reader) keystoneTLS() *tls.Config {
	if r.boolean("insecure", false) {
		r.bad("insecure", "geostack never skips verifying Keystone's certificate: give the CA in cafile")
	}
	return r.tlsFiles("cafile", "certfile", "keyfile")
}

// tlsFiles reads a CA bundle and a client certificate and key named by
// the given keys, or returns nil when none is set.
func (r *reader) tlsFiles(caKey, certKey, keyKey string) *tls.Config {
	ca, _ := r.str(caKey)
	cert, _ := r.str(certKey)
	key, _ := r.str(keyKey)
	if ca == "" && cert == "" && key == "" {
		return nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			r.badErr(caKey, "cannot read the CA bundle", err)
		case !pool.AppendCertsFromPEM(pem):
			r.bad(caKey, "%s holds no PEM certificate", ca)
		default:
			c.RootCAs = pool
		}
	}
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			r.badErr(certKey, "cannot load the client certificate and key", err)
		} else {
			c.Certificates = []tls.Certificate{pair}
		}
	case cert != "":
		r.bad(certKey, "needs %s, the client certificate's private key", keyKey)
	case key != "":
		r.bad(keyKey, "needs %s, the client certificate", certKey)
	}
	return c
}

// shared sets cfg.Shared, over a memcached Store it puts in cfg.Closers,
// from memcached_servers and the memcache_* settings, and returns the
// Store (nil without servers).
//
// keystonemiddleware's ENCRYPT and MAC both become the sealed tier of
// tokencache.Shared (authenticated encryption, keys derived from
// memcache_secret_key as the tier's one secret); MAC alone, entries
// authenticated but readable, has no equivalent. None is refused: the tier
// never stores an entry in the clear.
func (r *reader) shared(cfg *authtoken.Config) io.Closer {
	servers, serversAt, haveServers := r.list("memcached_servers", "memcache_servers")
	strategy, strategyAt, haveStrategy := r.raw("memcache_security_strategy")
	secret, _, haveSecret := r.raw("memcache_secret_key")
	timeout := r.seconds("memcache_pool_socket_timeout")
	tlsOn := r.boolean("memcache_tls_enabled", false)
	tlsConfig := r.tlsFiles("memcache_tls_cafile", "memcache_tls_certfile", "memcache_tls_keyfile")
	if !haveServers || len(servers) == 0 {
		if haveServers {
			r.bad(serversAt, "an empty list: leave the key out for an in-process cache only")
		}
		for _, k := range []string{"memcache_security_strategy", "memcache_secret_key", "memcache_pool_socket_timeout",
			"memcache_tls_enabled", "memcache_tls_cafile", "memcache_tls_certfile", "memcache_tls_keyfile"} {
			if _, set := r.s.values[k]; set {
				r.bad(k, "has no meaning without memcached_servers")
			}
		}
		return nil
	}
	for _, s := range servers {
		if s == "" {
			r.bad(serversAt, "an empty server in the list")
		}
	}
	switch strings.ToUpper(strategy) {
	case "MAC", "ENCRYPT":
	case "NONE":
		r.bad(strategyAt, "None would share validations in the clear, which geostack never does: give ENCRYPT (MAC is taken as ENCRYPT) and memcache_secret_key")
	default:
		if !haveStrategy {
			r.bad(serversAt, "needs memcache_security_strategy = ENCRYPT and memcache_secret_key: geostack shares validations only sealed")
		} else {
			r.bad(strategyAt, "%q is not None, MAC or ENCRYPT", strategy)
		}
	}
	switch {
	case !haveSecret || secret == "":
		if haveStrategy && strings.ToUpper(strategy) != "NONE" {
			r.bad("memcache_secret_key", "required with memcache_security_strategy: the secret the shared entries are sealed with")
		}
	case len(secret) < minSecretLen:
		r.bad("memcache_secret_key", "is %d bytes; the sealed tier takes at least %d (32 random bytes are best)", len(secret), minSecretLen)
	}
	switch {
	case tlsOn && tlsConfig == nil:
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12} // the system's CAs
	case !tlsOn && tlsConfig != nil:
		for _, k := range []string{"memcache_tls_cafile", "memcache_tls_certfile", "memcache_tls_keyfile"} {
			if _, set := r.s.values[k]; set {
				r.bad(k, "has no meaning without memcache_tls_enabled = true")
			}
		}
		tlsConfig = nil
	}
	if len(r.problems) > 0 {
		return nil
	}
	store := memcache.New(memcache.Options{Timeout: timeout, TLSConfig: tlsConfig}, servers...)
	sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: store, Secrets: [][]byte{[]byte(secret)}})
	if err != nil {
		store.Close()
		r.badErr("memcache_secret_key", "", err)
		return nil
	}
	cfg.Shared = sh
	cfg.Closers = append(cfg.Closers, store)
	return store
}

// unused reports every key of the section no setting read: an option of
// keystonemiddleware or of the auth plugin that has no meaning here, or
// no option at all.
func (r *reader) unused(authType string) {
	for _, k := range r.s.keys {
		if r.used[k] {
			continue
		}
		r.bad(k, "%s", noMeaning(k, authType))
	}
}

// noMeaning says why key is not used.
func noMeaning(key, authType string) string {
	switch key {
	case "auth_section":
		return "geostack reads the auth plugin's options from [" + sectionName + "] itself: move them here"
	case "http_request_max_retries":
		return "no equivalent: the Validator fails over between the domain's locations, and asks the primary again after a 404 at a replica"
	case "cache":
		return "no equivalent: the Swift cache is Python's; use memcached_servers"
	case "memcache_pool_dead_retry", "memcache_pool_maxsize", "memcache_pool_unused_timeout", "memcache_pool_conn_get_timeout":
		return "no equivalent in geostack's memcached client: a failing server costs at most memcache_pool_socket_timeout per operation, and the shared tier is skipped while it fails"
	case "memcache_use_advanced_pool":
		return "no meaning in Go: the pool is eventlet's"
	case "memcache_tls_allowed_ciphers":
		return "no equivalent: Go's TLS chooses the cipher suites"
	case "default_domain_id", "default_domain_name":
		return "no meaning with auth_type " + authType + " (only the password plugin has default domains)"
	case "user_id", "username", "user_name", "user_domain_id", "user_domain_name", "password",
		"project_id", "project_name", "tenant_id", "tenant_name", "project_domain_id", "project_domain_name",
		"domain_id", "domain_name", "system_scope", "trust_id",
		"application_credential_id", "application_credential_name", "application_credential_secret":
		if authType == "" {
			return "an option of an auth plugin, and auth_type names none"
		}
		return "not an option of the " + authType + " auth plugin"
	}
	return "unknown key: not an option of keystonemiddleware's auth_token, nor of the auth plugin"
}
