//go:build integration

package geostack_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/internal/keystonetest"
)

// TestIntegrationOpenrc: a Horizon-style v3 openrc for the real Keystone,
// as Horizon writes it for download, configures a Client with no
// geostack.json. Not parallel: it sets the environment.
func TestIntegrationOpenrc(t *testing.T) {
	env := keystonetest.Load(t)
	gnc := env.MustUser(t, "gncu00000001")
	d, _ := env.Domain("gnc")
	openrc := map[string]string{
		"OS_AUTH_URL":             env.AuthURL("JP"),
		"OS_PROJECT_ID":           gnc.ProjectID,
		"OS_PROJECT_NAME":         gnc.ProjectName,
		"OS_USER_DOMAIN_NAME":     gnc.DomainName,
		"OS_PROJECT_DOMAIN_ID":    d.ID,
		"OS_USERNAME":             gnc.Name,
		"OS_PASSWORD":             gnc.Password,
		"OS_REGION_NAME":          "TYO1",
		"OS_INTERFACE":            "public",
		"OS_IDENTITY_API_VERSION": "3",
	}
	for _, v := range []string{"OS_CLOUD", "OS_TENANT_ID", "OS_TENANT_NAME", "OS_USER_ID", "OS_USER_DOMAIN_ID", "OS_DOMAIN_ID",
		"OS_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_AUTH_TYPE", "OS_TOKEN", "OS_APPLICATION_CREDENTIAL_ID",
		"OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_SECRET", "OS_SYSTEM_SCOPE", "OS_CACERT", "OS_CERT", "OS_KEY", "OS_INSECURE"} {
		t.Setenv(v, "")
	}
	for k, v := range openrc {
		t.Setenv(k, v)
	}
	var cfg geostack.Config
	if err := cfg.ApplyEnv(); err != nil {
		t.Fatal(err)
	}
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tok, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tok.User.Name != gnc.Name || tok.Project == nil || tok.Project.ID != gnc.ProjectID {
		t.Errorf("token of %s on %v; want %s on %s", tok.User.Name, tok.Project, gnc.Name, gnc.ProjectID)
	}
	if _, err := c.ServiceClient(t.Context(), "compute", "TYO1"); err != nil {
		t.Error(err)
	}
}

// TestIntegrationCloudsYAML: a clouds.yaml with per-region auth_urls and
// the geostack key is the one file: the client authenticates at its home
// location's own Keystone (SIN1's: SG), and every region is reachable.
// Not parallel: it sets OS_REGION_NAME.
func TestIntegrationCloudsYAML(t *testing.T) {
	env := keystonetest.Load(t)
	t.Setenv("OS_REGION_NAME", "")
	gnc := env.MustUser(t, "gncu00000001")
	var regions, locations strings.Builder
	for _, loc := range []string{"JP", "US", "SG"} {
		for _, r := range env.Regions[loc] {
			fmt.Fprintf(&regions, "      - {name: %s, values: {auth: {auth_url: %q}}}\n", r, env.AuthURL(loc))
		}
		fmt.Fprintf(&locations, "        - {name: %s, regions: [%s]}\n", loc, strings.Join(env.Regions[loc], ", "))
	}
	yaml := fmt.Sprintf(`clouds:
  gnc:
    auth:
      auth_url: %q
      username: %s
      password: %q
      user_domain_name: %s
      project_name: %s
      project_domain_name: %s
    region_name: SIN1
    regions:
%s    geostack:
      primary: %s
      locations:
%s`, env.AuthURL("JP"), gnc.Name, gnc.Password, gnc.DomainName, gnc.ProjectName, gnc.DomainName, regions.String(), env.Primary, locations.String())
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := geostack.LoadCloud("gnc", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Home != "SG" || len(cfg.Locations) != 3 {
		t.Fatalf("home %q with %d locations; want SG of 3", cfg.Home, len(cfg.Locations))
	}
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tok, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AuthURL, strings.TrimSuffix(env.AuthURL("SG"), "/v3")) {
		t.Errorf("issued at %s; want SG's Keystone %s", tok.AuthURL, env.AuthURL("SG"))
	}
	got, err := c.Regions(t.Context(), "compute")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"OSA1", "SIN1", "SJC1", "TYO1"}, got); diff != "" {
		t.Errorf("compute regions (-want +got):\n%s", diff)
	}
}
