// Package keystonetest gives integration tests the real Keystone that
// scripts/keystone-up.sh starts: three keystone-wsgi-public instances standing
// for the locations JP (primary), US and SG over one database and one Fernet
// key repository, seeded with the world geostack is written for.
//
// A test asks for the environment and is skipped when there is none:
//
//	env := keystonetest.Load(t)
//	user := env.MustUser(t, "gncu00000001")
//	tok, err := client.Issue(t.Context(), env.AuthURL("US"), ...)
//
// Load reads the JSON description named by $GEOSTACK_KEYSTONE and Memcached
// the address in $GEOSTACK_MEMCACHED (both written to STATE/keystone.env by the
// script). When the variable is unset the test is skipped, unless CI=true or
// GEOSTACK_REQUIRE_INTEGRATION=1, where it fails: CI must not pass by skipping.
//
// Env.Services does the same for the real Glance, Cinder and Nova APIs that
// scripts/services-up.sh starts next to that Keystone, and the images, flavors
// and volume types it seeded, described by $GEOSTACK_SERVICES (written to
// STATE/services.env):
//
//	svc := env.Services(t)
//	for _, im := range svc.Images["SJC1"] { ... }
//
// Keystone's description holds passwords and secrets (the services' holds
// none). They are test credentials of a throwaway Keystone, but tests still
// must not log them.
package keystonetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// Environment variables read by this package.
const (
	// EnvKeystone names the JSON description written by scripts/keystone-up.sh.
	EnvKeystone = "GEOSTACK_KEYSTONE"
	// EnvMemcached is the host:port of a memcached left empty for the
	// library's own shared-cache tests.
	EnvMemcached = "GEOSTACK_MEMCACHED"
	// EnvRequire, when "1", turns a missing environment into a test failure.
	EnvRequire = "GEOSTACK_REQUIRE_INTEGRATION"
)

// SchemaVersion is the version of the JSON description this package reads.
const SchemaVersion = 1

// Env describes a running Keystone set up by scripts/keystone-up.sh. It mirrors
// keystone.json; the field names are that file's keys.
type Env struct {
	// Schema is the description's format version (SchemaVersion).
	Schema int `json:"schema"`
	// KeystoneVersion is the installed package version, e.g. "22.0.2-0+deb12u6".
	KeystoneVersion string `json:"keystone_version"`
	// PasswordHashRounds is Keystone's bcrypt cost (4 in CI; Keystone's
	// default is 12), to be reported next to any latency measured.
	PasswordHashRounds int `json:"password_hash_rounds"`

	// Primary is the location where users and projects are written ("JP").
	Primary string `json:"primary"`
	// AuthURLs maps each location to its Keystone's auth URL, ending in /v3.
	AuthURLs map[string]string `json:"auth_urls"`
	// Regions maps each location to its OpenStack regions, which have the
	// location as their parent region in Keystone.
	Regions map[string][]string `json:"regions"`

	// Admin is the bootstrap admin: admin on project "admin" and on the system.
	Admin User `json:"admin"`
	// ServiceProject is the Default domain's "service" project.
	ServiceProject Project `json:"service_project"`
	// ServicePassword is the password of every service user.
	ServicePassword string `json:"service_password"`
	// ServiceUsers are nova, glance, cinder and neutron, each with the roles
	// service and admin on ServiceProject.
	ServiceUsers []User `json:"service_users"`
	// Domains are the product domains (gnc, zjp), with their users and projects.
	Domains []Domain `json:"domains"`
	// AppCredential is an application credential of gncu00000001.
	AppCredential AppCredential `json:"app_credential"`

	// Memcached is the host:port of the memcached for the library's tests
	// (the same address as $GEOSTACK_MEMCACHED).
	Memcached string `json:"memcached"`
	// KeystoneMemcached is Keystone's own cache. Tests leave it alone.
	KeystoneMemcached string `json:"keystone_memcached"`

	// PIDs are the process ids the script started: the uwsgi master of each
	// location (keys "JP", "US", "SG"; SIGTERM or SIGINT stops an instance),
	// and "memcached-keystone" and "memcached-tests".
	PIDs map[string]int `json:"pids"`
	// Logs maps each location to its uwsgi log: one line per request, so
	// tests can count the token requests Keystone served.
	Logs map[string]string `json:"logs"`
	// StateDir holds the configuration, database, keys, pid files and logs.
	StateDir string `json:"state_dir"`
	// ScriptsDir holds keystone-instance.sh and keystone-down.sh (StartInstance).
	ScriptsDir string `json:"scripts_dir"`
}

// User is a seeded Keystone user.
type User struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Password   string `json:"password"`
	DomainID   string `json:"domain_id"`
	DomainName string `json:"domain_name"`
	// ProjectID and ProjectName name the project the user has Roles on,
	// empty for a user with domain roles only.
	ProjectID   string   `json:"project_id,omitempty"`
	ProjectName string   `json:"project_name,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	// DomainRoles are the user's roles on its own domain.
	DomainRoles []string `json:"domain_roles,omitempty"`
}

// String identifies the user without its password.
func (u User) String() string { return fmt.Sprintf("%s (%s)", u.Name, u.ID) }

// GoString is String, so that %#v does not print the password either.
func (u User) GoString() string { return "keystonetest.User{" + u.String() + "}" }

// Project is a seeded Keystone project.
type Project struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	DomainID string `json:"domain_id"`
}

// Domain is a seeded product domain: its users and projects carry its Prefix.
type Domain struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Prefix   string    `json:"prefix"`
	Projects []Project `json:"projects"`
	// Users[0] is <prefix>u00000001, member of <prefix>t00000001; Users[1]
	// is <prefix>u00000002, admin on the domain; Users[2] is
	// <prefix>u00000003, member of <prefix>t00000001, for wrong-password
	// tests alone (a wrong password makes the user's next successful
	// logins write to the database, and concurrent writes on sqlite fail).
	Users []User `json:"users"`
}

// AppCredential is a seeded application credential, scoped to its owner's project.
type AppCredential struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	UserID    string `json:"user_id"`
	UserName  string `json:"user_name"`
	ProjectID string `json:"project_id"`
}

// String identifies the credential without its secret.
func (a AppCredential) String() string { return fmt.Sprintf("%s (%s)", a.Name, a.ID) }

// GoString is String, so that %#v does not print the secret either.
func (a AppCredential) GoString() string { return "keystonetest.AppCredential{" + a.String() + "}" }

// ErrNotConfigured is returned by Parse for an empty path: no environment.
var ErrNotConfigured = errors.New("keystonetest: " + EnvKeystone + " is not set")

// Load returns the environment described by $GEOSTACK_KEYSTONE. Without it the
// test is skipped, or fails when integration is required (see Required). A
// description that cannot be read or is invalid always fails the test.
func Load(t testing.TB) *Env {
	t.Helper()
	return load(t, os.Getenv)
}

func load(t testing.TB, getenv func(string) string) *Env {
	t.Helper()
	path := getenv(EnvKeystone)
	if path == "" {
		skipOrFail(t, getenv, EnvKeystone, "a real Keystone (run scripts/keystone-up.sh, then . .ci/state/keystone.env)")
	}
	env, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// Memcached returns the host:port in $GEOSTACK_MEMCACHED, a memcached reserved
// for the library's tests. Without it the test is skipped, or fails when
// integration is required (see Required).
func Memcached(t testing.TB) string {
	t.Helper()
	return memcached(t, os.Getenv)
}

func memcached(t testing.TB, getenv func(string) string) string {
	t.Helper()
	addr := getenv(EnvMemcached)
	if addr == "" {
		skipOrFail(t, getenv, EnvMemcached, "a memcached (run scripts/keystone-up.sh, then . .ci/state/keystone.env)")
	}
	return addr
}

// Required reports whether a missing integration environment is a failure
// rather than a skip: when CI is "true" or GEOSTACK_REQUIRE_INTEGRATION is "1".
func Required() bool { return required(os.Getenv) }

func required(getenv func(string) string) bool {
	return getenv("CI") == "true" || getenv(EnvRequire) == "1"
}

func skipOrFail(t testing.TB, getenv func(string) string, name, what string) {
	t.Helper()
	if required(getenv) {
		t.Fatalf("keystonetest: integration environment required in CI: %s is not set; the test needs %s", name, what)
	}
	t.Skipf("keystonetest: %s is not set; skipping a test that needs %s", name, what)
}

// ReadFile reads and checks a description written by scripts/keystone-up.sh.
func ReadFile(path string) (*Env, error) {
	if path == "" {
		return nil, ErrNotConfigured
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keystonetest: read description: %w", err)
	}
	env, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return env, nil
}

// Parse decodes and checks a description. It rejects unknown fields, so that
// Env keeps mirroring what the script writes. Its errors never quote the
// description's values, which include passwords.
func Parse(b []byte) (*Env, error) {
	var env Env
	if err := decodeStrict(b, "description", &env); err != nil {
		return nil, err
	}
	if err := env.validate(); err != nil {
		return nil, err
	}
	return &env, nil
}

// decodeStrict decodes the JSON description b, called what in errors,
// into v, refusing unknown fields. Its errors never quote the input:
// json's own messages may, and descriptions hold passwords.
func decodeStrict(b []byte, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("keystonetest: %s is truncated", what)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("keystonetest: %s is not JSON (offset %d)", what, syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("keystonetest: %s field %q: want %s, got JSON %s", what, typ.Field, typ.Type, typ.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("keystonetest: %s has unknown field %s", what, field)
	}
	return fmt.Errorf("keystonetest: %s cannot be decoded", what)
}

func (e *Env) validate() error {
	switch {
	case e.Schema != SchemaVersion:
		return fmt.Errorf("keystonetest: description schema %d, want %d", e.Schema, SchemaVersion)
	case e.Primary == "":
		return errors.New("keystonetest: description has no primary location")
	case e.AuthURLs[e.Primary] == "":
		return fmt.Errorf("keystonetest: description has no auth URL for the primary location %q", e.Primary)
	case e.Admin.Name == "" || e.Admin.Password == "":
		return errors.New("keystonetest: description has no admin credentials")
	}
	for loc := range e.Regions {
		if e.AuthURLs[loc] == "" {
			return fmt.Errorf("keystonetest: description has regions but no auth URL for location %q", loc)
		}
	}
	return nil
}

// AuthURL returns the auth URL of location loc ("JP", "US", "SG"), or "" if
// there is none.
func (e *Env) AuthURL(loc string) string { return e.AuthURLs[loc] }

// User returns the seeded user called name in any domain: a product-domain
// user, a service user or "admin".
func (e *Env) User(name string) (User, bool) {
	if e.Admin.Name == name {
		return e.Admin, true
	}
	for _, u := range e.ServiceUsers {
		if u.Name == name {
			return u, true
		}
	}
	for _, d := range e.Domains {
		for _, u := range d.Users {
			if u.Name == name {
				return u, true
			}
		}
	}
	return User{}, false
}

// MustUser is User that fails the test when there is no such user.
func (e *Env) MustUser(t testing.TB, name string) User {
	t.Helper()
	u, ok := e.User(name)
	if !ok {
		t.Fatalf("keystonetest: no seeded user %q", name)
	}
	return u
}

// Domain returns the product domain called name.
func (e *Env) Domain(name string) (Domain, bool) {
	for _, d := range e.Domains {
		if d.Name == name {
			return d, true
		}
	}
	return Domain{}, false
}
