//go:build integration

package ksmconfig_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/identity/authtoken/ksmconfig"
	"github.com/geostack/geostack/internal/keystonetest"
)

// ksmDescription is the part of STATE/ksm.json (scripts/ksm-up.sh) this
// test reads: the files keystonemiddleware runs with, and their settings.
type ksmDescription struct {
	Schema int `json:"schema"`
	URLs   struct {
		Strict string `json:"strict"`
	} `json:"urls"`
	Config struct {
		AuthURL                   string   `json:"auth_url"`
		WWWAuthenticateURI        string   `json:"www_authenticate_uri"`
		RegionName                string   `json:"region_name"`
		Username                  string   `json:"username"`
		UserDomainID              string   `json:"user_domain_id"`
		ProjectName               string   `json:"project_name"`
		ProjectDomainID           string   `json:"project_domain_id"`
		ServiceTokenRoles         []string `json:"service_token_roles"`
		ServiceTokenRolesRequired bool     `json:"service_token_roles_required"`
		IncludeServiceCatalog     bool     `json:"include_service_catalog"`
		ServiceType               string   `json:"service_type"`
		TokenCacheTime            int      `json:"token_cache_time"`
		DelayAuthDecision         struct {
			Strict bool `json:"strict"`
			Delay  bool `json:"delay"`
		} `json:"delay_auth_decision"`
	} `json:"config"`
	ConfigFiles struct {
		Strict string `json:"strict"`
		Delay  string `json:"delay"`
	} `json:"config_files"`
}

// loadKSM reads $GEOSTACK_KSM; without it the test is skipped, or fails
// where integration is required.
func loadKSM(t *testing.T) *ksmDescription {
	t.Helper()
	path := os.Getenv("GEOSTACK_KSM")
	if path == "" {
		const what = "keystonemiddleware's configuration (run scripts/ksm-up.sh after scripts/keystone-up.sh, then . STATE/ksm.env)"
		if keystonetest.Required() {
			t.Fatalf("GEOSTACK_KSM is not set; the test needs %s", what)
		}
		t.Skipf("GEOSTACK_KSM is not set; skipping a test that needs %s", what)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var k ksmDescription
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if k.Schema != 1 {
		t.Fatalf("%s: schema %d, want 1", path, k.Schema)
	}
	return &k
}

// TestIntegrationKeystonemiddlewareFile reads the very files the real
// keystonemiddleware runs with (scripts/ksm-up.sh) and checks the Config
// against the settings they were written with; then a Validator made of
// the strict one accepts, at the real Keystone, the token the real
// keystonemiddleware accepts.
func TestIntegrationKeystonemiddlewareFile(t *testing.T) {
	env := keystonetest.Load(t)
	ksm := loadKSM(t)
	c := ksm.Config
	kd, ok := env.Domain("gnc")
	if !ok {
		t.Fatal("no domain gnc in the Keystone description")
	}
	// gnc as a domain file has it: its endpoints at every location.
	gnc := domain.Domain{Name: kd.Name, ID: kd.ID, Prefix: kd.Prefix, Endpoints: map[string]domain.Endpoints{}}
	for loc := range env.AuthURLs {
		gnc.Endpoints[loc] = domain.Endpoints{UserAuthURL: env.AuthURL(loc), AdminAuthURL: env.AuthURL(loc)}
	}
	svc := env.MustUser(t, c.Username)
	want := authtoken.Config{
		Domains:           []domain.Domain{gnc},
		Home:              c.RegionName,
		Primary:           c.RegionName,
		ServiceCredential: identity.Password{UserName: c.Username, DomainID: c.UserDomainID, Password: svc.Password},
		ServiceScope:      identity.Scope{ProjectName: c.ProjectName, ProjectDomainID: c.ProjectDomainID},
		ServiceRoles:      c.ServiceTokenRoles,
		ServiceType:       c.ServiceType,
		IncludeCatalog:    c.IncludeServiceCatalog,
		CacheTTL:          time.Duration(c.TokenCacheTime) * time.Second,
	}
	if !c.ServiceTokenRolesRequired {
		t.Fatal("ksm.json: service_token_roles_required is off; the Validator always requires the roles")
	}
	if got := gnc.Endpoints[c.RegionName]; got.AdminAuthURL != c.AuthURL || got.UserAuthURL != c.WWWAuthenticateURI {
		t.Fatalf("the files' auth_url %s and www_authenticate_uri %s are not %s's Keystone %s", c.AuthURL, c.WWWAuthenticateURI, c.RegionName, got.AdminAuthURL)
	}

	var strict authtoken.Config
	for _, f := range []struct {
		name, path string
		delay      bool
	}{
		{"strict", ksm.ConfigFiles.Strict, c.DelayAuthDecision.Strict},
		{"delay", ksm.ConfigFiles.Delay, c.DelayAuthDecision.Delay},
	} {
		cfg, opts, err := ksmconfig.LoadFile(f.path, gnc)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if diff := cmp.Diff(want, cfg, compareConfig); diff != "" {
			t.Errorf("%s: Config (-want +got):\n%s", f.name, diff)
		}
		if diff := cmp.Diff(authtoken.HandlerOptions{ForwardHeaders: true, DelayAuthDecision: f.delay}, opts); diff != "" {
			t.Errorf("%s: HandlerOptions (-want +got):\n%s", f.name, diff)
		}
		if cfg.TLSConfig != nil || cfg.Shared != nil || cfg.Closers != nil {
			t.Errorf("%s: TLSConfig %v, Shared %v, Closers %v; want none", f.name, cfg.TLSConfig, cfg.Shared, cfg.Closers)
		}
		if f.name == "strict" {
			strict = cfg
		}
	}

	// The strict file's Validator, failing over as the domain's locations
	// allow, with the deployment's primary.
	strict.Primary = env.Primary
	v, err := authtoken.New(strict)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	u := env.MustUser(t, "gncu00000001")
	var client identity.Client
	tok, err := client.Issue(t.Context(), env.AuthURL(c.RegionName), identity.Password{UserName: u.Name, DomainID: u.DomainID, Password: u.Password},
		identity.Scope{ProjectID: u.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Validate(t.Context(), tok.ID)
	if err != nil {
		t.Fatalf("Validate with the strict file's Validator: %v", err)
	}
	if got.User.Name != u.Name {
		t.Errorf("validated user %q, want %q", got.User.Name, u.Name)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ksm.URLs.Strict+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tok.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("keystonemiddleware with the same file answered %d for the token; want 200", resp.StatusCode)
	}
}
