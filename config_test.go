package geostack

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

func TestLoadConfigExample(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig("examples/geostack.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []region.Location{
		{Name: "JP", AuthURLs: []string{"https://identity.jp.example.net/v3", "https://identity2.jp.example.net/v3"}, Regions: []string{"TYO1", "OSA1"}},
		{Name: "US", AuthURLs: []string{"https://identity.us.example.net/v3"}, Regions: []string{"SJC1"}},
		{Name: "SG", AuthURLs: []string{"https://identity.sg.example.net/v3"}, Regions: []string{"SIN1"}},
	}
	if diff := cmp.Diff(want, cfg.Locations); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}
	got := []any{cfg.Home, cfg.Primary, cfg.Domain, cfg.FailureThreshold, cfg.CoolDown, cfg.AttemptTimeout, cfg.Interfaces["compute"]}
	wantScalars := []any{"SG", "JP", "gnc", 3, 30 * time.Second, 5 * time.Second, []catalog.Interface{catalog.Internal, catalog.Public}}
	if diff := cmp.Diff(wantScalars, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if cfg.Domains == nil || len(cfg.Domains.Domains()) != 2 {
		t.Fatalf("domains: got %v, want a registry of 2", cfg.Domains)
	}
	d, ok := cfg.Domains.ByName("gnc")
	if !ok || d.Prefix != "gnc" {
		t.Errorf("gnc domain: got %+v, %v", d, ok)
	}
	if _, err := LoadConfig("does-not-exist.json"); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "does-not-exist.json") {
		t.Errorf("missing file: got %v, want an ErrInvalidConfig naming the file", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		{"syntax after whitespace", "{\n\"home\": \"SG\"," + strings.Repeat(" ", 5000) + "\n\n\"primary\" }", []string{"line 4 column 11", "malformed JSON"}},
		{"unknown key, did you mean", "{\n  \"home\": \"SG\",\n  \"primray\": \"JP\"}", []string{"line 3 column 3", "primray", `did you mean "primary"`}},
		{"domain problem at its place in the file", "{\n  \"home\": \"SG\",\n  \"domains\": [\n    {\"name\": \"gnc\", \"id\": \"1\", \"prefix\": \"gnc\"},\n    {\"name\": \"b\", \"id\": \"2\", \"prefix\": \"gncx\"}\n  ]\n}",
			[]string{"line 5 column 5", "domains[1].prefix", "is a prefix of"}},
		{"malformed", "{\n\"home\": \"SG\",\n\"primary\": }", []string{"line 3", "malformed JSON"}},
		{"unknown key", `{"home": "SG", "homme": "JP"}`, []string{"homme"}},
		{"wrong type", "{\n\"failure_threshold\": \"three\"}", []string{"line 2", "failure_threshold", "int"}},
		{"bad duration", `{"cool_down": "soon"}`, []string{"cool_down", `"soon"`}},
		{"negative duration", `{"attempt_timeout": "-1s"}`, []string{"attempt_timeout"}},
		{"negative threshold", `{"failure_threshold": -2}`, []string{"failure_threshold", "negative"}},
		{"bad interface", `{"interfaces": {"compute": [7]}}`, []string{"interfaces"}},
		{"bad domain", `{"domains": [{"name": "gnc", "id": "x", "prefix": ""}]}`, []string{"domains", "prefix"}},
		{"trailing", `{"home": "SG"} {"home": "JP"}`, []string{"line 1 column 16", "after top-level value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig([]byte(tt.doc))
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want an error matching ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := New(t.Context(), Config{
		Locations:    []region.Location{{Name: "JP", AuthURLs: []string{"http://127.0.0.1:1/v3"}, Regions: []string{"TYO1"}}},
		Home:         "SG",
		Credential:   identity.Password{UserName: "gncu1", Password: "hunter2-secret"},
		Domain:       "gnc",
		Interfaces:   map[string][]catalog.Interface{"compute": {"internl"}},
		CacheOptions: tokencache.Options{RefreshShare: 2},
	})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	var keys []string
	for _, p := range ce.Problems {
		keys = append(keys, strings.SplitN(p.Error(), ":", 2)[0])
	}
	want := []string{"primary", "home", "credential", "domain", "interfaces.compute", "cache_options.refresh_share"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("problem keys (-want +got):\n%s\nerror: %v", diff, err)
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Errorf("the error reveals the password: %v", err)
	}
	if _, err := New(canceledContext(t), Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: got %v", err)
	}
}

func canceledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func TestCredentialsFromAuthOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        gophercloud.AuthOptions
		wantCred  identity.Credential
		wantScope identity.Scope
		wantErr   string
	}{
		{
			name:      "password, project by name in the user's domain",
			in:        gophercloud.AuthOptions{Username: "gncu1", DomainName: "gnc", Password: "pw", TenantName: "gnct1"},
			wantCred:  identity.Password{UserName: "gncu1", DomainName: "gnc", Password: "pw"},
			wantScope: identity.Scope{ProjectName: "gnct1", ProjectDomainName: "gnc"},
		},
		{
			name:      "password by user id, project id scope",
			in:        gophercloud.AuthOptions{UserID: "u1", Password: "pw", Scope: &gophercloud.AuthScope{ProjectID: "p1"}},
			wantCred:  identity.Password{UserID: "u1", Password: "pw"},
			wantScope: identity.Scope{ProjectID: "p1"},
		},
		{
			name:      "domain scope",
			in:        gophercloud.AuthOptions{UserID: "u1", Password: "pw", Scope: &gophercloud.AuthScope{DomainName: "gnc"}},
			wantCred:  identity.Password{UserID: "u1", Password: "pw"},
			wantScope: identity.Scope{DomainName: "gnc"},
		},
		{
			name:      "system scope",
			in:        gophercloud.AuthOptions{UserID: "u1", Password: "pw", Scope: &gophercloud.AuthScope{System: true}},
			wantCred:  identity.Password{UserID: "u1", Password: "pw"},
			wantScope: identity.Scope{System: true},
		},
		{
			name:     "application credential carries its own scope",
			in:       gophercloud.AuthOptions{ApplicationCredentialID: "ac1", ApplicationCredentialSecret: "s", TenantID: "p1"},
			wantCred: identity.ApplicationCredential{ID: "ac1", Secret: "s"},
		},
		{
			name:     "token",
			in:       gophercloud.AuthOptions{TokenID: "tok"},
			wantCred: identity.TokenCredential{ID: "tok"},
		},
		{name: "trust", in: gophercloud.AuthOptions{UserID: "u1", Password: "pw", Scope: &gophercloud.AuthScope{TrustID: "t"}}, wantErr: "trust"},
		{name: "passcode", in: gophercloud.AuthOptions{UserID: "u1", Passcode: "123456"}, wantErr: "TOTP"},
		{name: "no password", in: gophercloud.AuthOptions{Username: "u1", DomainName: "d"}, wantErr: "auth options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred, scope, err := CredentialsFromAuthOptions(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantCred, cred); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantScope, scope); diff != "" {
				t.Errorf("scope (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyCloud(t *testing.T) {
	t.Parallel()
	const yaml = `
clouds:
  gnc:
    auth:
      auth_url: https://ignored.example.net/v3
      username: gncu00000001
      password: s3cret-pw
      user_domain_name: gnc
      project_name: gnct00000001
      project_domain_name: gnc
    interface: internal
  broken:
    auth:
      username: nobody
`
	var cfg Config
	if err := cfg.ApplyCloud(clouds.WithCloudName("gnc"), clouds.WithCloudsYAML(strings.NewReader(yaml))); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Credential:        identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "s3cret-pw"},
		Scope:             identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"},
		DefaultInterfaces: []catalog.Interface{catalog.Internal},
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreFields(Config{}, "TLSConfig"), cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}

	before := cfg
	err := cfg.ApplyCloud(clouds.WithCloudName("broken"), clouds.WithCloudsYAML(strings.NewReader(yaml)))
	if err == nil {
		t.Fatal("a cloud without a password was accepted")
	}
	if diff := cmp.Diff(before, cfg, cmpopts.IgnoreFields(Config{}, "TLSConfig"), cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("a failed ApplyCloud changed the config (-before +after):\n%s", diff)
	}
	err = cfg.ApplyCloud(clouds.WithCloudName("missing"), clouds.WithCloudsYAML(strings.NewReader(yaml)))
	if err == nil || !strings.Contains(err.Error(), "clouds.yaml") {
		t.Errorf("missing cloud: got %v", err)
	}
}

// TestNewRefusesWhatItWouldIgnore: options that would silently lose to
// another are a config error naming the key, as is a typed-nil credential.
func TestNewRefusesWhatItWouldIgnore(t *testing.T) {
	t.Parallel()
	cache, err := tokencache.New(tokencache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	base := Config{
		Locations:  []region.Location{{Name: "JP", AuthURLs: []string{"http://127.0.0.1:1/v3"}, Regions: []string{"TYO1"}}},
		Home:       "JP",
		Primary:    "JP",
		Credential: identity.Password{UserID: "u1", Password: "pw"},
	}
	tests := []struct {
		name   string
		modify func(*Config)
		key    string
	}{
		{"cache and cache options", func(c *Config) { c.Cache = cache; c.CacheOptions.Jitter = 0.2 }, "cache_options"},
		{"http client and tls config", func(c *Config) { c.HTTPClient = &http.Client{}; c.TLSConfig = &tls.Config{} }, "tls"},
		{"typed nil credential", func(c *Config) { c.Credential = (*identity.Password)(nil) }, "credential"},
		{"nil credential", func(c *Config) { c.Credential = nil }, "credential"},
		{"bad scope", func(c *Config) { c.Scope = identity.Scope{ProjectName: "p"} }, "scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			tt.modify(&cfg)
			c, err := New(t.Context(), cfg)
			if err == nil {
				c.Close()
				t.Fatal("New accepted the config")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			var keys []string
			for _, p := range ce.Problems {
				keys = append(keys, p.Key)
			}
			if diff := cmp.Diff([]string{tt.key}, keys); diff != "" {
				t.Errorf("problem keys (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
	// Both alone are fine.
	for _, modify := range []func(*Config){
		func(c *Config) { c.Cache = cache },
		func(c *Config) { c.TLSConfig = &tls.Config{} },
	} {
		cfg := base
		modify(&cfg)
		c, err := New(t.Context(), cfg)
		if err != nil {
			t.Errorf("New: %v", err)
			continue
		}
		c.Close()
	}
}
