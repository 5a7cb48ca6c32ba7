package geostack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/region"
)

var envLocations = []region.Location{
	{Name: "JP", AuthURLs: []string{"https://identity.jp.example.net/v3"}, Regions: []string{"TYO1", "OSA1"}},
	{Name: "SG", AuthURLs: []string{"https://identity.sg.example.net/v3"}, Regions: []string{"SIN1"}},
}

// osVars are every OS_* variable ApplyEnv reads, so that a test sets them
// all (empty where the case does not give them).
var osVars = []string{"OS_CLOUD", "OS_AUTH_TYPE", "OS_AUTH_URL", "OS_USER_ID", "OS_USERNAME", "OS_PASSWORD",
	"OS_USER_DOMAIN_ID", "OS_USER_DOMAIN_NAME", "OS_DOMAIN_ID", "OS_DOMAIN_NAME", "OS_PROJECT_ID", "OS_PROJECT_NAME",
	"OS_TENANT_ID", "OS_TENANT_NAME", "OS_PROJECT_DOMAIN_ID", "OS_PROJECT_DOMAIN_NAME", "OS_SYSTEM_SCOPE",
	"OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_SECRET", "OS_TOKEN",
	"OS_REGION_NAME", "OS_INTERFACE", "OS_CACERT", "OS_CERT", "OS_KEY", "OS_INSECURE", "OS_IDENTITY_API_VERSION"}

// TestApplyEnv reads openrc files as Horizon and operators write them.
// Not parallel: it sets the process environment.
func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantCred  identity.Credential
		wantScope identity.Scope
		wantHome  string
		wantIfs   []catalog.Interface
		wantErr   []string // problem keys
	}{
		{
			name: "Horizon v3 openrc",
			env: map[string]string{"OS_AUTH_URL": "https://identity.jp.example.net/v3", "OS_PROJECT_ID": "p123", "OS_PROJECT_NAME": "gnct1",
				"OS_USER_DOMAIN_NAME": "gnc", "OS_PROJECT_DOMAIN_ID": "d-gnc", "OS_USERNAME": "gncu1", "OS_PASSWORD": "pw",
				"OS_REGION_NAME": "SIN1", "OS_INTERFACE": "public", "OS_IDENTITY_API_VERSION": "3"},
			wantCred:  identity.Password{UserName: "gncu1", DomainName: "gnc", Password: "pw"},
			wantScope: identity.Scope{ProjectID: "p123"},
			wantHome:  "SG", wantIfs: []catalog.Interface{catalog.Public},
		},
		{
			name: "project by name, its domain from the user's",
			env: map[string]string{"OS_USERNAME": "gncu1", "OS_PASSWORD": "pw", "OS_USER_DOMAIN_ID": "d-gnc",
				"OS_PROJECT_NAME": "gnct1", "OS_REGION_NAME": "TYO1", "OS_INTERFACE": "internalURL"},
			wantCred:  identity.Password{UserName: "gncu1", DomainID: "d-gnc", Password: "pw"},
			wantScope: identity.Scope{ProjectName: "gnct1", ProjectDomainID: "d-gnc"},
			wantHome:  "JP", wantIfs: []catalog.Interface{catalog.Internal},
		},
		{
			name:      "legacy tenant name and OS_DOMAIN_NAME for both",
			env:       map[string]string{"OS_USERNAME": "gncu1", "OS_PASSWORD": "pw", "OS_DOMAIN_NAME": "gnc", "OS_TENANT_NAME": "gnct1"},
			wantCred:  identity.Password{UserName: "gncu1", DomainName: "gnc", Password: "pw"},
			wantScope: identity.Scope{ProjectName: "gnct1", ProjectDomainName: "gnc"},
		},
		{
			name:     "application credential",
			env:      map[string]string{"OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID": "ac1", "OS_APPLICATION_CREDENTIAL_SECRET": "s"},
			wantCred: identity.ApplicationCredential{ID: "ac1", Secret: "s"},
		},
		{
			name:      "system scope",
			env:       map[string]string{"OS_USER_ID": "u1", "OS_PASSWORD": "pw", "OS_SYSTEM_SCOPE": "all"},
			wantCred:  identity.Password{UserID: "u1", Password: "pw"},
			wantScope: identity.Scope{System: true},
		},
		{
			name:      "domain scope",
			env:       map[string]string{"OS_USER_ID": "u1", "OS_PASSWORD": "pw", "OS_DOMAIN_ID": "d-gnc"},
			wantCred:  identity.Password{UserID: "u1", Password: "pw"},
			wantScope: identity.Scope{DomainID: "d-gnc"},
		},
		{
			name:    "unknown auth type, unknown region, bad interface, no password domain",
			env:     map[string]string{"OS_AUTH_TYPE": "v3oidcpassword", "OS_USERNAME": "u", "OS_PASSWORD": "pw", "OS_REGION_NAME": "FRA1", "OS_INTERFACE": "private"},
			wantErr: []string{"OS_AUTH_TYPE", "credential", "OS_REGION_NAME", "OS_INTERFACE"},
		},
		{
			name:    "TLS files that are not there",
			env:     map[string]string{"OS_USER_ID": "u1", "OS_PASSWORD": "pw", "OS_CACERT": "/nonexistent/ca.pem", "OS_CERT": "/nonexistent/c.pem", "OS_INSECURE": "perhaps"},
			wantErr: []string{"OS_CACERT", "OS_CERT", "OS_INSECURE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range osVars {
				t.Setenv(v, tt.env[v])
			}
			c := Config{Locations: envLocations, Home: "JP"}
			err := c.ApplyEnv()
			if tt.wantErr != nil {
				ce, ok := err.(*ConfigError)
				if !ok {
					t.Fatalf("got %v, want a *ConfigError", err)
				}
				var keys []string
				for _, p := range ce.Problems {
					keys = append(keys, p.Key)
				}
				if diff := cmp.Diff(tt.wantErr, keys); diff != "" {
					t.Errorf("problem keys (-want +got):\n%s\n%v", diff, err)
				}
				if strings.Contains(err.Error(), "UserName") || strings.Contains(err.Error(), "DomainID") {
					t.Errorf("the error speaks Go, not OS_* variables: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantCred, c.Credential); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantScope, c.Scope); diff != "" {
				t.Errorf("scope (-want +got):\n%s", diff)
			}
			wantHome := tt.wantHome
			if wantHome == "" {
				wantHome = "JP"
			}
			if c.Home != wantHome || !cmp.Equal(tt.wantIfs, c.DefaultInterfaces, cmpopts.EquateEmpty()) {
				t.Errorf("home %q interfaces %v; want %q %v", c.Home, c.DefaultInterfaces, wantHome, tt.wantIfs)
			}
		})
	}
}

const cloudsYAML = `
clouds:
  gnc:
    auth:
      auth_url: https://identity.jp.example.net/v3
      username: gncu1
      password: s3cret
      user_domain_name: gnc
      project_name: gnct1
      project_domain_name: gnc
    region_name: SIN1
    interface: internal
    regions:
      - name: TYO1
        values: {auth: {auth_url: "https://identity.jp.example.net/v3"}}
      - name: OSA1
        values: {auth: {auth_url: "https://identity.jp.example.net/v3"}}
      - name: SIN1
        values: {auth: {auth_url: "https://identity.sg.example.net/v3"}}
    geostack:
      primary: JP
      locations:
        - {name: JP, regions: [TYO1, OSA1]}
        - {name: SG, regions: [SIN1]}
  sso:
    auth_type: v3oidcpassword
    auth: {auth_url: "https://k.example/v3"}
  typo:
    auth: {username: u, password: p, user_domain_name: d}
    geostack:
      primray: JP
  nodomain:
    auth: {username: u, password: p}
    geostack:
      primary: JP
      locations: [{name: JP, auth_urls: ["https://k.example/v3"], regions: [TYO1]}]
`

// TestLoadCloud: clouds.yaml as the one file, per-region auth_urls and all.
// Not parallel: it clears OS_REGION_NAME.
func TestLoadCloud(t *testing.T) {
	t.Setenv("OS_REGION_NAME", "")
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(cloudsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadCloud("gnc", path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Locations:         envLocations,
		Home:              "SG",
		Primary:           "JP",
		Credential:        identity.Password{UserName: "gncu1", DomainName: "gnc", Password: "s3cret"},
		Scope:             identity.Scope{ProjectName: "gnct1", ProjectDomainName: "gnc"},
		DefaultInterfaces: []catalog.Interface{catalog.Internal},
		source:            path,
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreFields(Config{}, "TLSConfig"), cmp.AllowUnexported(Config{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	t.Setenv("OS_REGION_NAME", "TYO1")
	if cfg, err := LoadCloud("gnc", path); err != nil || cfg.Home != "JP" {
		t.Errorf("OS_REGION_NAME=TYO1: home %q, %v; want JP", cfg.Home, err)
	}

	tests := []struct {
		cloud, key, says string
	}{
		{"sso", "clouds.sso.auth_type", "v3oidcpassword"},
		{"typo", "clouds.typo.geostack.primray", `did you mean "primary"`},
		{"nodomain", "clouds.nodomain.auth", "user_domain_id or user_domain_name"},
		{"absent", "clouds", `no cloud "absent"`},
	}
	for _, tt := range tests {
		_, err := LoadCloud(tt.cloud, path)
		ce, ok := err.(*ConfigError)
		if !ok || ce.Source != path {
			t.Errorf("%s: got %v, want a *ConfigError naming the file", tt.cloud, err)
			continue
		}
		if p := ce.Problems[0]; p.Key != tt.key || !strings.Contains(p.Error(), tt.says) {
			t.Errorf("%s: problem %q %q; want %q saying %q", tt.cloud, p.Key, p.Error(), tt.key, tt.says)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error holds the password", tt.cloud)
		}
	}
	_, err = LoadCloud("typo", path)
	if p := err.(*ConfigError).Problems[0]; p.Line != 31 {
		t.Errorf("typo at line %d, want 31", p.Line)
	}
}
