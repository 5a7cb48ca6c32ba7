package ksmconfig_test

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/identity/authtoken/ksmconfig"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/tokencache/memcache"
)

const (
	sgURL      = "https://identity.sg.example.net/v3"
	testPass   = "pass-0123456789"
	testSecret = "memcache-secret-0123456789abcdef"
)

var gnc = domain.Domain{Name: "gnc", ID: "7c1b0e4a2f8d4b5e9c3a6d1f0e2b4a68", Prefix: "gnc"}

// base is a minimal valid section.
func base() map[string]string {
	return map[string]string{
		"auth_type": "password", "auth_url": sgURL, "username": "nova", "password": testPass,
		"user_domain_name": "Default", "project_name": "service", "project_domain_name": "Default", "region_name": "SG",
	}
}

// with returns base with the changes: "" deletes a key.
func with(changes map[string]string) map[string]string {
	m := base()
	for k, v := range changes {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// atSG is gnc with the endpoints at SG.
func atSG(user, admin string) domain.Domain {
	d := gnc
	d.Endpoints = map[string]domain.Endpoints{"SG": {UserAuthURL: user, AdminAuthURL: admin}}
	return d
}

// wantConfig is the Config of base.
func wantConfig() authtoken.Config {
	return authtoken.Config{
		Domains:           []domain.Domain{atSG(sgURL, sgURL)},
		Home:              "SG",
		Primary:           "SG",
		ServiceCredential: identity.Password{UserName: "nova", DomainName: "Default", Password: testPass},
		ServiceScope:      identity.Scope{ProjectName: "service", ProjectDomainName: "Default"},
		ServiceRoles:      []string{"service"},
		IncludeCatalog:    true,
		CacheTTL:          300 * time.Second,
	}
}

// compareConfig ignores what is compared apart: the TLS configurations,
// the shared tier and what the Validator closes.
var compareConfig = cmpopts.IgnoreFields(authtoken.Config{}, "TLSConfig", "Shared", "Closers")

func TestFromMap(t *testing.T) {
	t.Parallel()
	zjp := domain.Domain{Name: "zjp", ID: "2d9e51c07b6a4f1e8a3c5b7d9f0e1a24", Prefix: "zjp",
		Endpoints: map[string]domain.Endpoints{"JP": {UserAuthURL: "https://identity.jp.zjp.example.net/v3"}}}
	tests := []struct {
		name     string
		settings map[string]string
		domains  []domain.Domain
		want     func(*authtoken.Config)
		wantOpts authtoken.HandlerOptions
	}{
		{name: "minimal", settings: base(), want: func(*authtoken.Config) {}},
		{
			name: "every mapped setting",
			settings: with(map[string]string{
				"www_authenticate_uri": "https://id.sg.example.net/v3", "interface": "admin", "auth_version": "v3",
				"delay_auth_decision": "True", "include_service_catalog": "false", "token_cache_time": "60",
				"service_token_roles": "service, admin,", "service_token_roles_required": "yes", "service_type": "mail",
				"http_connect_timeout": "5", "enforce_token_bind": "permissive", "insecure": "False",
			}),
			want: func(c *authtoken.Config) {
				c.Domains = []domain.Domain{atSG("https://id.sg.example.net/v3", sgURL)}
				c.IncludeCatalog, c.CacheTTL, c.ServiceRoles, c.ServiceType = false, time.Minute, []string{"service", "admin"}, "mail"
				c.AttemptTimeout = 5 * time.Second
			},
			wantOpts: authtoken.HandlerOptions{DelayAuthDecision: true},
		},
		{
			name: "old names",
			settings: with(map[string]string{"auth_type": "", "auth_plugin": "password", "username": "", "user_name": "nova",
				"project_name": "", "tenant_name": "service", "auth_uri": "https://id.sg.example.net/v3"}),
			want: func(c *authtoken.Config) { c.Domains = []domain.Domain{atSG("https://id.sg.example.net/v3", sgURL)} },
		},
		{
			name:     "ids",
			settings: with(map[string]string{"username": "", "user_domain_name": "", "user_id": "u1", "project_name": "", "project_domain_name": "", "project_id": "p1"}),
			want: func(c *authtoken.Config) {
				c.ServiceCredential = identity.Password{UserID: "u1", Password: testPass}
				c.ServiceScope = identity.Scope{ProjectID: "p1"}
			},
		},
		{
			name:     "default domain of the password plugin",
			settings: with(map[string]string{"user_domain_name": "", "project_domain_name": "", "default_domain_id": "default"}),
			want: func(c *authtoken.Config) {
				c.ServiceCredential = identity.Password{UserName: "nova", DomainID: "default", Password: testPass}
				c.ServiceScope = identity.Scope{ProjectName: "service", ProjectDomainID: "default"}
			},
		},
		{
			name:     "v3password, domain scope",
			settings: with(map[string]string{"auth_type": "v3password", "project_name": "", "project_domain_name": "", "domain_name": "gnc"}),
			want:     func(c *authtoken.Config) { c.ServiceScope = identity.Scope{DomainName: "gnc"} },
		},
		{
			name:     "system scope",
			settings: with(map[string]string{"project_name": "", "project_domain_name": "", "system_scope": "all"}),
			want:     func(c *authtoken.Config) { c.ServiceScope = identity.Scope{System: true} },
		},
		{
			name: "application credential",
			settings: map[string]string{"auth_type": "v3applicationcredential", "auth_url": sgURL, "region_name": "SG",
				"application_credential_id": "ac1", "application_credential_secret": testPass},
			want: func(c *authtoken.Config) {
				c.ServiceCredential = identity.ApplicationCredential{ID: "ac1", Secret: testPass}
				c.ServiceScope = identity.Scope{}
			},
		},
		{
			name:     "the domain's own endpoints, spelt otherwise, and its other locations",
			settings: base(),
			domains: []domain.Domain{{Name: "gnc", ID: gnc.ID, Prefix: "gnc", Endpoints: map[string]domain.Endpoints{
				"SG": {UserAuthURL: "https://ID.sg.example.net/v3/", AdminAuthURL: "https://identity.sg.example.net"},
				"JP": {UserAuthURL: "https://identity.jp.example.net/v3"},
			}}, zjp},
			want: func(c *authtoken.Config) {
				c.Domains = []domain.Domain{{Name: "gnc", ID: gnc.ID, Prefix: "gnc", Endpoints: map[string]domain.Endpoints{
					"SG": {UserAuthURL: "https://ID.sg.example.net/v3/", AdminAuthURL: "https://identity.sg.example.net"},
					"JP": {UserAuthURL: "https://identity.jp.example.net/v3"},
				}}, zjp}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			domains := tt.domains
			if domains == nil {
				domains = []domain.Domain{gnc}
			}
			var before []map[string]domain.Endpoints
			for _, d := range domains {
				before = append(before, maps.Clone(d.Endpoints))
			}
			cfg, opts, err := ksmconfig.FromMap(tt.settings, domains...)
			if err != nil {
				t.Fatal(err)
			}
			want := wantConfig()
			tt.want(&want)
			if diff := cmp.Diff(want, cfg, compareConfig); diff != "" {
				t.Errorf("Config (-want +got):\n%s", diff)
			}
			tt.wantOpts.ForwardHeaders = true
			if diff := cmp.Diff(tt.wantOpts, opts); diff != "" {
				t.Errorf("HandlerOptions (-want +got):\n%s", diff)
			}
			if cfg.TLSConfig != nil || cfg.Shared != nil || cfg.Closers != nil {
				t.Errorf("TLSConfig %v, Shared %v, Closers %v; want none", cfg.TLSConfig, cfg.Shared, cfg.Closers)
			}
			for i, d := range domains {
				if diff := cmp.Diff(before[i], d.Endpoints); diff != "" {
					t.Errorf("the caller's domain %s changed (-before +after):\n%s", d.Name, diff)
				}
			}
		})
	}
}

// problem is a problem as the tests compare it: its key, its line and a
// part of its reason.
type problem struct {
	Key  string
	Line int
	Has  string
}

func problemsOf(t *testing.T, err error, want []problem) []problem {
	t.Helper()
	var ce *configerr.Error
	if !errors.As(err, &ce) || !errors.Is(err, configerr.ErrInvalid) {
		t.Fatalf("error %T %v is not a configuration error", err, err)
	}
	var got []problem
	for i, p := range ce.Problems {
		g := problem{Key: p.Key, Line: p.Line, Has: p.Error()}
		if i < len(want) && strings.Contains(p.Error(), want[i].Has) {
			g.Has = want[i].Has
		}
		got = append(got, g)
	}
	return got
}

func TestFromMapErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]string
		domains  []domain.Domain
		want     []problem
	}{
		{name: "empty", settings: map[string]string{},
			want: []problem{{"auth_url", 0, "required"}, {"region_name", 0, "required"}, {"auth_type", 0, "required"}}},
		{name: "no domain", settings: base(), domains: []domain.Domain{},
			want: []problem{{"domains", 0, "no served domain given"}}},
		{name: "bad values", settings: with(map[string]string{
			"delay_auth_decision": "maybe", "token_cache_time": "-1", "http_connect_timeout": "0", "interface": "private",
			"auth_version": "2.0", "enforce_token_bind": "strict", "insecure": "true", "include_service_catalog": "2",
		}), want: []problem{
			{"delay_auth_decision", 0, `"maybe" is not a boolean`}, {"interface", 0, `"private" is not an interface`},
			{"auth_version", 0, "v3 only"}, {"include_service_catalog", 0, "is not a boolean"},
			{"token_cache_time", 0, "-1 turns keystonemiddleware's cache off"}, {"http_connect_timeout", 0, "0 is not a positive number"},
			{"insecure", 0, "never skips verifying"}, {"enforce_token_bind", 0, "does not check token binding"},
		}},
		{name: "token_cache_time not a number", settings: with(map[string]string{"token_cache_time": "5m"}),
			want: []problem{{"token_cache_time", 0, `"5m" is not an integer`}}},
		{name: "service tokens without roles", settings: with(map[string]string{"service_token_roles_required": "false", "service_token_roles": ""}),
			want: []problem{{"service_token_roles_required", 0, "always requires a service role"}}},
		{name: "an empty role", settings: with(map[string]string{"service_token_roles": "service,,admin"}),
			want: []problem{{"service_token_roles", 0, "an empty role"}}},
		{name: "no meaning here", settings: with(map[string]string{
			"http_request_max_retries": "3", "cache": "swift.cache", "memcache_pool_maxsize": "10", "memcache_use_advanced_pool": "true",
			"auth_section": "service_user", "trust_id": "t1",
		}), want: []problem{
			{"trust_id", 0, "trust-scoped"}, {"auth_section", 0, "move them here"}, {"cache", 0, "Swift"},
			{"http_request_max_retries", 0, "fails over"}, {"memcache_pool_maxsize", 0, "no equivalent"},
			{"memcache_use_advanced_pool", 0, "eventlet"},
		}},
		{name: "a typo", settings: with(map[string]string{"password": "", "pasword": testPass}),
			want: []problem{{"password", 0, "required"}, {"pasword", 0, "unknown key"}}},
		{name: "another plugin's options", settings: with(map[string]string{"application_credential_secret": testPass}),
			want: []problem{{"application_credential_secret", 0, "not an option of the password auth plugin"}}},
		{name: "default domain with v3password", settings: with(map[string]string{"auth_type": "v3password", "default_domain_id": "default"}),
			want: []problem{{"default_domain_id", 0, "only the password plugin"}}},
		{name: "an unsupported auth plugin", settings: with(map[string]string{"auth_type": "token"}),
			want: []problem{{"auth_type", 0, `"token" is not supported`}, {"password", 0, "not an option of the token auth plugin"},
				{"project_domain_name", 0, "not an option"}, {"project_name", 0, "not an option"},
				{"user_domain_name", 0, "not an option"}, {"username", 0, "not an option"}}},
		{name: "new and old names", settings: with(map[string]string{"www_authenticate_uri": sgURL, "auth_uri": sgURL}),
			want: []problem{{"auth_uri", 0, "the old name of www_authenticate_uri"}}},
		{name: "credential incomplete", settings: with(map[string]string{"user_domain_name": "", "project_domain_name": "", "user_id": "u1"}),
			want: []problem{{"user_id", 0, "give user_id or username"}, {"project_name", 0, "needs the project's domain"}}},
		{name: "two scopes", settings: with(map[string]string{"domain_id": "d1"}),
			want: []problem{{"project_name", 0, "give one scope"}}},
		{name: "system scope other than all", settings: with(map[string]string{"project_name": "", "project_domain_name": "", "system_scope": "some"}),
			want: []problem{{"system_scope", 0, `"some" is not a system scope`}}},
		{name: "application credential without its secret", settings: map[string]string{"auth_type": "v3applicationcredential",
			"auth_url": sgURL, "region_name": "SG", "application_credential_name": "ac"},
			want: []problem{{"application_credential_name", 0, "needs its user"}, {"application_credential_secret", 0, "required"}}},
		{name: "auth_url not a URL", settings: with(map[string]string{"auth_url": "identity.sg.example.net/v3"}),
			want: []problem{{"auth_url", 0, "auth_url"}}},
		{name: "auth_url with a password in it", settings: with(map[string]string{"auth_url": "https://admin:" + testPass + "@identity.sg.example.net/v3"}),
			want: []problem{{"auth_url", 0, "auth_url"}}},
		{name: "the domain's own admin endpoint disagrees", settings: base(),
			domains: []domain.Domain{atSG("", "https://identity-admin.sg.example.net/v3")},
			want:    []problem{{"auth_url", 0, "is not domain gnc's admin_auth_url at SG (https://identity-admin.sg.example.net/v3)"}}},
		{name: "the domain's own user endpoint disagrees", settings: with(map[string]string{"www_authenticate_uri": "https://id.sg.example.net/v3"}),
			domains: []domain.Domain{atSG("https://other.sg.example.net/v3", "")},
			want:    []problem{{"www_authenticate_uri", 0, "is not domain gnc's user_auth_url at SG"}}},
		{name: "memcached without a strategy", settings: with(map[string]string{"memcached_servers": "127.0.0.1:11211"}),
			want: []problem{{"memcached_servers", 0, "geostack shares validations only sealed"}}},
		{name: "memcached in the clear", settings: with(map[string]string{"memcached_servers": "127.0.0.1:11211", "memcache_security_strategy": "none"}),
			want: []problem{{"memcache_security_strategy", 0, "None would share validations in the clear"}}},
		{name: "a strategy of no kind", settings: with(map[string]string{"memcached_servers": "127.0.0.1:11211", "memcache_security_strategy": "AES",
			"memcache_secret_key": testSecret}),
			want: []problem{{"memcache_security_strategy", 0, `"AES" is not None, MAC or ENCRYPT`}}},
		{name: "no secret", settings: with(map[string]string{"memcached_servers": "127.0.0.1:11211", "memcache_security_strategy": "ENCRYPT"}),
			want: []problem{{"memcache_secret_key", 0, "required with memcache_security_strategy"}}},
		{name: "a short secret", settings: with(map[string]string{"memcached_servers": "127.0.0.1:11211", "memcache_security_strategy": "MAC",
			"memcache_secret_key": "short-key"}),
			want: []problem{{"memcache_secret_key", 0, "is 9 bytes; the sealed tier takes at least 16"}}},
		{name: "an empty server", settings: with(map[string]string{"memcached_servers": "a:11211,,b:11211", "memcache_security_strategy": "ENCRYPT",
			"memcache_secret_key": testSecret}),
			want: []problem{{"memcached_servers", 0, "an empty server"}}},
		{name: "memcache settings without servers", settings: with(map[string]string{"memcache_security_strategy": "ENCRYPT",
			"memcache_secret_key": testSecret, "memcache_tls_enabled": "true"}),
			want: []problem{{"memcache_security_strategy", 0, "without memcached_servers"}, {"memcache_secret_key", 0, "without memcached_servers"},
				{"memcache_tls_enabled", 0, "without memcached_servers"}}},
		{name: "TLS files without TLS", settings: with(map[string]string{"memcached_servers": "127.0.0.1:11211", "memcache_security_strategy": "ENCRYPT",
			"memcache_secret_key": testSecret, "memcache_tls_cafile": "/nonexistent/ca.pem"}),
			want: []problem{{"memcache_tls_cafile", 0, "cannot read the CA bundle"}, {"memcache_tls_cafile", 0, "without memcache_tls_enabled = true"}}},
		{name: "a Keystone CA file missing, a client key without its certificate", settings: with(map[string]string{
			"cafile": "/nonexistent/ca.pem", "keyfile": "/nonexistent/key.pem"}),
			want: []problem{{"cafile", 0, "cannot read the CA bundle"}, {"keyfile", 0, "needs certfile"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			domains := tt.domains
			if domains == nil {
				domains = []domain.Domain{gnc}
			}
			cfg, _, err := ksmconfig.FromMap(tt.settings, domains...)
			if err == nil {
				t.Fatalf("FromMap = %+v; want an error", cfg)
			}
			if diff := cmp.Diff(tt.want, problemsOf(t, err, tt.want)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, secret := range []string{testPass, testSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
}

// TestFromMapShared: memcached_servers with a strategy and a secret make a
// sealed shared tier over a Store the Validator's Close closes.
func TestFromMapShared(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{"ENCRYPT", "mac"} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := ksmconfig.FromMap(with(map[string]string{
				"memcached_servers": "127.0.0.1:1, 127.0.0.1:2", "memcache_security_strategy": strategy,
				"memcache_secret_key": testSecret, "memcache_pool_socket_timeout": "1",
			}), gnc)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Shared == nil || len(cfg.Closers) != 1 {
				t.Fatalf("Shared %v, Closers %v; want a tier and its Store", cfg.Shared, cfg.Closers)
			}
			store, ok := cfg.Closers[0].(*memcache.Store)
			if !ok {
				t.Fatalf("Closers[0] is a %T, want a *memcache.Store", cfg.Closers[0])
			}
			if s := cfg.Shared.String(); strings.Contains(s, testSecret) {
				t.Errorf("Shared.String() = %q holds the secret", s)
			}
			v, err := authtoken.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := store.Get(t.Context(), "k"); !errors.Is(err, memcache.ErrClosed) {
				t.Errorf("Store after the Validator's Close: %v; want ErrClosed", err)
			}
		})
	}
}

// TestLoadFile: the file form gives the same Config as the map, and its
// problems carry the file and their lines.
func TestLoadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, doc string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.conf", `[DEFAULT]
debug = true

[keystone_authtoken]
auth_type = password
auth_url = `+sgURL+`
username = nova
password = "`+testPass+`"
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = SG
service_token_roles = service,
   admin
`)
	cfg, opts, err := ksmconfig.LoadFile(good, gnc)
	if err != nil {
		t.Fatal(err)
	}
	want := wantConfig()
	want.ServiceRoles = []string{"service", "admin"}
	if diff := cmp.Diff(want, cfg, compareConfig); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(authtoken.HandlerOptions{ForwardHeaders: true}, opts); diff != "" {
		t.Errorf("HandlerOptions (-want +got):\n%s", diff)
	}

	bad := write("bad.conf", `[keystone_authtoken]
auth_type = password
auth_url = `+sgURL+`
username = nova
password = `+testPass+`
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = SG
delay_auth_decision = ture
memcache_pool_dead_retry = 300
region_name = JP
`)
	_, _, err = ksmconfig.LoadFile(bad, gnc)
	wantProblems := []problem{{"delay_auth_decision", 10, `"ture" is not a boolean`}, {"memcache_pool_dead_retry", 11, "no equivalent"},
		{"region_name", 12, "given twice (line 9 and line 12)"}}
	if diff := cmp.Diff(wantProblems, problemsOf(t, err, wantProblems)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	var ce *configerr.Error
	if errors.As(err, &ce) && ce.Source != bad {
		t.Errorf("Source = %q; want %q", ce.Source, bad)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Errorf("error %q holds the password", err)
	}

	_, _, err = ksmconfig.LoadFile(filepath.Join(dir, "missing.conf"), gnc)
	if !errors.Is(err, os.ErrNotExist) || !errors.Is(err, configerr.ErrInvalid) {
		t.Errorf("missing file: %v; want a configuration error wrapping os.ErrNotExist", err)
	}
}

// fakeCloud returns a fake cloud and a section for a backend of gnc at SG
// validating there as nova, as a keystonemiddleware in front of it would
// have it.
func fakeCloud(t *testing.T) (*testserver.Server, map[string]string, domain.Domain) {
	t.Helper()
	srv := testserver.New(t, testserver.Options{})
	return srv, map[string]string{
		"auth_type": "password", "auth_url": srv.DomainAdminAuthURL("gnc", "SG"), "www_authenticate_uri": srv.DomainAuthURL("gnc", "SG"),
		"username": "nova", "password": testserver.ServicePassword, "user_domain_name": "Default",
		"project_name": "service", "project_domain_name": "Default", "region_name": "SG", "interface": "admin",
		"service_token_roles_required": "true",
	}, domain.Domain{Name: "gnc", ID: testserver.SeedID("domain", "gnc"), Prefix: "gnc"}
}

// issue returns a token of user, scoped to its project.
func issue(t *testing.T, srv *testserver.Server, user string) string {
	t.Helper()
	var c identity.Client
	tok, err := c.Issue(t.Context(), srv.AuthURL("SG"), identity.Password{UserName: user, DomainName: user[:3], Password: testserver.UserPassword},
		identity.Scope{ProjectName: user[:3] + "t" + user[4:], ProjectDomainName: user[:3]})
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// TestValidatorFromSection: a Validator made of a section protects a
// backend as keystonemiddleware did: a served user's token passes with the
// identity headers set, another product's does not, and clients are sent
// to www_authenticate_uri.
func TestValidatorFromSection(t *testing.T) {
	t.Parallel()
	srv, section, d := fakeCloud(t)
	cfg, opts, err := ksmconfig.FromMap(section, d)
	if err != nil {
		t.Fatal(err)
	}
	v, err := authtoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-User", r.Header.Get("X-User-Name"))
		w.Header().Set("X-Seen-Catalog", strconv.FormatBool(r.Header.Get("X-Service-Catalog") != ""))
	}), opts)
	tests := []struct {
		user             string
		wantCode         int
		wantSeen         string
		wantCatalog      string
		wantAuthenticate string
	}{
		{user: "gncu00000001", wantCode: http.StatusOK, wantSeen: "gncu00000001", wantCatalog: "true"},
		{user: "zjpu00000001", wantCode: http.StatusUnauthorized, wantAuthenticate: `Keystone uri="` + srv.DomainAuthURL("gnc", "SG") + `"`},
	}
	for _, tt := range tests {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/inbox", nil)
		req.Header.Set("X-Auth-Token", issue(t, srv, tt.user))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := []string{strconv.Itoa(rec.Code), rec.Header().Get("X-Seen-User"), rec.Header().Get("X-Seen-Catalog"), rec.Header().Get("WWW-Authenticate")}
		want := []string{strconv.Itoa(tt.wantCode), tt.wantSeen, tt.wantCatalog, tt.wantAuthenticate}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: code, user, catalog, WWW-Authenticate (-want +got):\n%s", tt.user, diff)
		}
	}
	if st := v.Stats(); st.KeystoneValidations != 2 {
		t.Errorf("Keystone validations = %d; want 2", st.KeystoneValidations)
	}
}

// TestSharedSecretIsTheTiersSecret: on a real memcached, what a Validator
// made of a section shares is read by one configured in code with
// memcache_secret_key as its tier's secret, without asking Keystone.
func TestSharedSecretIsTheTiersSecret(t *testing.T) {
	t.Parallel()
	addr := keystonetest.Memcached(t)
	srv, section, d := fakeCloud(t)
	section["memcached_servers"] = addr
	section["memcache_security_strategy"] = "ENCRYPT"
	section["memcache_secret_key"] = testSecret
	section["memcache_pool_socket_timeout"] = "2"
	cfg, _, err := ksmconfig.FromMap(section, d)
	if err != nil {
		t.Fatal(err)
	}
	a, err := authtoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	store := memcache.New(memcache.Options{Timeout: 2 * time.Second}, addr)
	sh, err := tokencache.NewShared(tokencache.SharedOptions{Store: store, Secrets: [][]byte{[]byte(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	code := cfg // the same settings, the tier made in code
	code.Shared, code.Closers = sh, []io.Closer{store}
	b, err := authtoken.New(code)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	tok := issue(t, srv, "gncu00000001")
	for _, v := range []*authtoken.Validator{a, b} {
		if _, err := v.Validate(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.KeystoneValidations != 1 || sb.KeystoneValidations != 0 || sb.SharedHits != 1 {
		t.Errorf("stats %+v and %+v; want one Keystone validation by the first, a shared hit for the second", sa, sb)
	}
}
