package geostack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
)

// ExampleLoadConfig_backend runs a SaaS backend of the gnc product from
// the configuration file its clients read: the same locations, domains
// and failover tuning. The backend takes its domain's entry from the
// registry and validates at its admin_auth_url in its home location.
func ExampleLoadConfig_backend() {
	cloud, err := geostacktest.Start(geostacktest.Options{}) // a fake of JP, US and SG
	if err != nil {
		panic(err)
	}
	defer cloud.Close()
	path, cleanup := writeConfigFile(cloud)
	defer cleanup()

	cfg, err := geostack.LoadConfig(path)
	if err != nil {
		panic(err)
	}
	gnc, ok := cfg.Domains.ByName(cfg.Domain)
	if !ok {
		panic("no domain " + cfg.Domain)
	}
	svc, svcScope := cloud.ServiceCredential() // nova, project service of Default
	v, err := authtoken.New(authtoken.Config{
		Domains:          []domain.Domain{gnc},
		Home:             cfg.Home,
		Primary:          cfg.Primary,
		FailureThreshold: cfg.FailureThreshold,
		CoolDown:         cfg.CoolDown,
		AttemptTimeout:   cfg.AttemptTimeout,
		// The service's own identity: in code here, or from clouds.yaml
		// with cfg.ApplyCloud and then cfg.Credential and cfg.Scope.
		ServiceCredential: svc,
		ServiceScope:      svcScope,
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	mail := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := authtoken.FromContext(r.Context())
		fmt.Fprint(w, "inbox of ", id.Token.User.Name)
	}), authtoken.HandlerOptions{})

	var client identity.Client
	for _, dom := range []string{"gnc", "zjp"} {
		cred, scope := cloud.User(dom, 1) // gncu00000001, zjpu00000001
		user := cred.(identity.Password).UserName
		tok, err := client.Issue(context.Background(), cloud.AuthURL("SG"), cred, scope)
		if err != nil {
			panic(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/inbox", nil)
		req.Header.Set("X-Auth-Token", tok.ID)
		rec := httptest.NewRecorder()
		mail.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(user, rec.Code, rec.Body)
		} else {
			fmt.Println(user, rec.Code)
		}
	}
	fmt.Println("validations at SG:", cloud.Validations("SG"))
	// Output:
	// gncu00000001 200 inbox of gncu00000001
	// zjpu00000001 401
	// validations at SG: 2
}

// writeConfigFile writes the deployment's geostack.json for cloud (the
// shape of examples/geostack.json) and returns its path and a cleanup.
func writeConfigFile(cloud *geostacktest.Server) (string, func()) {
	type endpoints struct {
		User  string `json:"user_auth_url"`
		Admin string `json:"admin_auth_url"`
	}
	regions := map[string][]string{"JP": {"TYO1", "OSA1"}, "US": {"SJC1"}, "SG": {"SIN1"}}
	var locations []map[string]any
	domains := map[string]map[string]endpoints{"gnc": {}, "zjp": {}}
	for _, loc := range []string{"JP", "US", "SG"} {
		locations = append(locations, map[string]any{"name": loc, "auth_urls": []string{cloud.AuthURL(loc)}, "regions": regions[loc]})
		for name, eps := range domains {
			e := cloud.Domain(name).Endpoints[loc]
			eps[loc] = endpoints{User: e.UserAuthURL, Admin: e.AdminAuthURL}
		}
	}
	var doms []map[string]any
	for _, name := range []string{"gnc", "zjp"} {
		doms = append(doms, map[string]any{"name": name, "id": cloud.Domain(name).ID, "prefix": name, "endpoints": domains[name]})
	}
	data, err := json.MarshalIndent(map[string]any{
		"home": "SG", "primary": "JP", "locations": locations, "domain": "gnc", "domains": doms,
		"failure_threshold": 3, "cool_down": "30s", "attempt_timeout": "5s",
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "geostack-example")
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "geostack.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		panic(err)
	}
	return path, func() { os.RemoveAll(dir) }
}
