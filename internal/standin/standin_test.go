package standin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/standin"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
)

func testEnv(t *testing.T) *keystonetest.Env {
	t.Helper()
	env, err := keystonetest.ReadFile(filepath.Join("..", "keystonetest", "testdata", "keystone.json"))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestCloudsYAML: every cloud of the written clouds.yaml is a whole
// geostack configuration: locations with their auth_urls, home SG, the
// primary, the domains, the identity. Not parallel: LoadCloud reads
// OS_REGION_NAME, which the test clears.
func TestCloudsYAML(t *testing.T) {
	t.Setenv("OS_REGION_NAME", "")
	env := testEnv(t)
	instance := "http://127.0.0.1:1/v3"
	y, err := standin.CloudsYAML(env, map[string]string{"SG": instance})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
	wantLocs := []region.Location{
		{Name: "JP", AuthURLs: []string{env.AuthURL("JP")}, Regions: env.Regions["JP"]},
		{Name: "SG", AuthURLs: []string{instance}, Regions: env.Regions["SG"]},
		{Name: "US", AuthURLs: []string{env.AuthURL("US")}, Regions: env.Regions["US"]},
	}
	gnc, _ := env.Domain("gnc")
	zjp, _ := env.Domain("zjp")
	nova, _ := env.User("nova")
	tests := []struct {
		cloud    string
		domain   string
		userName string
		scope    identity.Scope
	}{
		{standin.CloudUser, "gnc", gnc.Users[0].Name, identity.Scope{ProjectName: gnc.Users[0].ProjectName, ProjectDomainName: "gnc"}},
		{standin.CloudDomainAdmin, "gnc", gnc.Users[1].Name, identity.Scope{DomainName: "gnc"}},
		{standin.CloudOtherDomain, "zjp", zjp.Users[0].Name, identity.Scope{ProjectName: zjp.Users[0].ProjectName, ProjectDomainName: "zjp"}},
		{standin.CloudService, "", nova.Name, identity.Scope{ProjectName: env.ServiceProject.Name, ProjectDomainID: env.ServiceProject.DomainID}},
	}
	for _, tc := range tests {
		t.Run(tc.cloud, func(t *testing.T) {
			cfg, err := geostack.LoadCloud(tc.cloud, path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantLocs, cfg.Locations); diff != "" {
				t.Errorf("locations (-want +got):\n%s", diff)
			}
			if cfg.Home != "SG" || cfg.Primary != env.Primary || cfg.Domain != tc.domain {
				t.Errorf("home %q primary %q domain %q; want SG, %s, %q", cfg.Home, cfg.Primary, cfg.Domain, env.Primary, tc.domain)
			}
			for _, d := range env.Domains {
				got, ok := cfg.Domains.ByName(d.Name)
				if !ok || got.ID != d.ID || got.Prefix != d.Prefix {
					t.Errorf("domain %s: %+v, want id %s prefix %s", d.Name, got, d.ID, d.Prefix)
				}
				for _, l := range wantLocs {
					if ep, _ := got.AuthURLs(l.Name); ep.UserAuthURL != l.AuthURLs[0] || ep.AdminAuthURL != l.AuthURLs[0] {
						t.Errorf("domain %s at %s: endpoints %+v, want the location's %s", d.Name, l.Name, ep, l.AuthURLs[0])
					}
				}
			}
			p, ok := cfg.Credential.(identity.Password)
			if !ok || p.UserName != tc.userName || p.Password == "" {
				t.Errorf("credential of %v, want the password of %s", p.UserName, tc.userName)
			}
			if diff := cmp.Diff(tc.scope, cfg.Scope); diff != "" {
				t.Errorf("scope (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorld: the stand-in's world has the real cloud's ids where the real
// cloud has the domain or project, so that ownership and domain_id mean
// the same on both.
func TestWorld(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	w := standin.World(env)
	fake := testserver.DefaultWorld()
	gnc, _ := env.Domain("gnc")
	tests := []struct {
		name, got, want string
	}{
		{"gnc domain", w.Domain("gnc").ID, gnc.ID},
		{"gnc's first project", w.Project("gnct00000001").ID, gnc.Projects[0].ID},
		{"its domain", w.Project("gnct00000001").DomainID, gnc.ID},
		{"gnc's second project, not in the real cloud", w.Project("gnct00000002").ID, fake.Project("gnct00000002").ID},
		{"zsg, not in the real cloud", w.Domain("zsg").ID, ""},
		{"nor its users", w.User("zsgu00000001").ID, ""},
		{"nor its images", w.Image("zsg_centos").ID, ""},
		{"nor its flavors", w.Flavor("zsg_g-1gb").ID, ""},
		{"an operator's image", w.Image("gnc_centos").Owner, env.Admin.ProjectID},
		{"its domain_id", w.Image("gnc_centos").Properties["domain_id"], gnc.ID},
		{"a customer's image", w.Image("gnct00000001-backup").Owner, gnc.Projects[0].ID},
		{"the planted image claims gnc", w.Image(testserver.PlantedImage).Properties["domain_id"], gnc.ID},
		{"a project's network", w.Network("net-gnct00000001").ProjectID, gnc.Projects[0].ID},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, vt := range w.VolumeTypes {
		if strings.HasPrefix(vt.Name, "zsg_") {
			t.Errorf("volume type %s of zsg is left", vt.Name)
		}
	}
	srv, err := testserver.Start(testserver.Options{World: w})
	if err != nil {
		t.Fatalf("the world does not start: %v", err)
	}
	srv.Close()
}
