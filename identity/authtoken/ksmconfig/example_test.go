package ksmconfig_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/identity/authtoken/ksmconfig"
)

// Example moves a mail backend of the gnc product from Python to Go with
// its configuration file as it is: the [keystone_authtoken] section its
// keystonemiddleware read, here against the fake cloud's Keystone in SG.
func Example() {
	cloud, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		panic(err)
	}
	defer cloud.Close()
	dir, err := os.MkdirTemp("", "ksmconfig-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mail.conf")
	gncAt := cloud.Domain("gnc").Endpoints["SG"]
	conf := `[DEFAULT]
debug = false

[keystone_authtoken]
auth_type = password
auth_url = ` + gncAt.AdminAuthURL + `
www_authenticate_uri = ` + gncAt.UserAuthURL + `
username = nova
password = ` + geostacktest.ServicePassword + `
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = SG
interface = admin
service_token_roles_required = true
include_service_catalog = false
`
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		panic(err)
	}

	// keystonemiddleware has no product domains: the backend names its own.
	gnc := domain.Domain{Name: "gnc", ID: cloud.Domain("gnc").ID, Prefix: "gnc"}
	cfg, hopts, err := ksmconfig.LoadFile(path, gnc)
	if err != nil {
		panic(err)
	}
	v, err := authtoken.New(cfg)
	if err != nil {
		panic(err)
	}
	defer v.Close()
	mail := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The identity headers keystonemiddleware set, for the Python code
		// behind a proxy; Go code reads authtoken.FromContext.
		fmt.Fprint(w, "inbox of ", r.Header.Get("X-User-Name"))
	}), hopts)

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
			fmt.Println(user, rec.Code, rec.Header().Get("WWW-Authenticate") == `Keystone uri="`+gncAt.UserAuthURL+`"`)
		}
	}
	fmt.Println("Keystone validations:", v.Stats().KeystoneValidations)
	// Output:
	// gncu00000001 200 inbox of gncu00000001
	// zjpu00000001 401 true
	// Keystone validations: 2
}

// ExampleFromMap shows the problems of a section, each with its key: a
// typo, a setting with no equivalent here, and a bad value.
func ExampleFromMap() {
	_, _, err := ksmconfig.FromMap(map[string]string{
		"auth_type": "password", "auth_url": "https://identity.sg.example.net/v3",
		"username": "nova", "password": "secret", "user_domain_name": "Default",
		"project_name": "service", "project_domain_name": "Default", "region_name": "SG",
		"delay_auth_decision": "ture", "http_request_max_retries": "3", "memcache_servers_": "10.0.0.5:11211",
	}, domain.Domain{Name: "gnc", ID: "7c1b0e4a2f8d4b5e9c3a6d1f0e2b4a68", Prefix: "gnc"})
	fmt.Println(err)
	// Output:
	// geostack: invalid config: delay_auth_decision: "ture" is not a boolean (true or false); http_request_max_retries: no equivalent: the Validator fails over between the domain's locations, and asks the primary again after a 404 at a replica; memcache_servers_: unknown key: not an option of keystonemiddleware's auth_token, nor of the auth plugin
}
