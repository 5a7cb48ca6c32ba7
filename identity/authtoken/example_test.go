package authtoken_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
)

// Example protects a mail backend of the gnc product running in Singapore.
// A gnc user's token gets in; a token of another product, valid as it is,
// does not.
func Example() {
	srv, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// The gnc domain with its endpoints, as a domain file would give it.
	gnc := srv.Domain("gnc")
	// Without a TokenCache, the Validator keeps its service token in a
	// cache of its own, which Close closes.
	v, err := authtoken.New(authtoken.Config{
		Domains:           []domain.Domain{gnc},
		Home:              "SG",
		Primary:           "JP",
		ServiceCredential: identity.Password{UserName: "nova", DomainName: "Default", Password: geostacktest.ServicePassword},
		ServiceScope:      identity.Scope{ProjectName: "service", ProjectDomainName: "Default"},
	})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	mail := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := authtoken.FromContext(r.Context())
		fmt.Fprintf(w, "inbox of %s", id.Token.User.Name)
	}), authtoken.HandlerOptions{})

	var client identity.Client
	for _, user := range []string{"gncu00000001", "zjpu00000001", ""} {
		req := httptest.NewRequest(http.MethodGet, "/inbox", nil)
		if user != "" {
			tok, err := client.Issue(context.Background(), srv.AuthURL("SG"),
				identity.Password{UserName: user, DomainName: user[:3], Password: geostacktest.UserPassword},
				identity.Scope{ProjectName: user[:3] + "t" + user[4:], ProjectDomainName: user[:3]})
			if err != nil {
				panic(err)
			}
			req.Header.Set("X-Auth-Token", tok.ID)
		}
		rec := httptest.NewRecorder()
		mail.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Printf("%q: %d %s\n", user, rec.Code, rec.Body)
		} else {
			fmt.Printf("%q: %d\n", user, rec.Code)
		}
	}
	fmt.Println("Keystone validations:", srv.Validations(""))
	// Output:
	// "gncu00000001": 200 inbox of gncu00000001
	// "zjpu00000001": 401
	// "": 401
	// Keystone validations: 2
}
