package identity_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
)

// A user takes a project token at Singapore's Keystone, picks an endpoint
// from its catalog, and a service validates the token.
func Example() {
	srv, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	var c identity.Client
	tok, err := c.Issue(ctx, srv.AuthURL("SG"),
		identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: geostacktest.UserPassword},
		identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.User.Name, tok.Project.Name, tok.HasRole("member"))
	fmt.Println(tok.Catalog.Regions("compute")) // the parent regions JP, US, SG hold only identity
	ep, err := tok.Catalog.Select(catalog.Query{Type: "compute", Region: "SIN1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ep.ServiceType, ep.Region, ep.Interface)

	// nova validates the user's token at its own location.
	svc, err := c.Issue(ctx, srv.AdminAuthURL("JP"),
		identity.Password{UserName: "nova", DomainID: "default", Password: geostacktest.ServicePassword},
		identity.Scope{ProjectName: "service", ProjectDomainID: "default"})
	if err != nil {
		log.Fatal(err)
	}
	v, err := c.Validate(ctx, srv.AdminAuthURL("JP"), svc.ID, tok.ID, identity.ValidateOptions{NoCatalog: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.User.Name, v.ID == tok.ID)

	// A wrong password is a typed error carrying Keystone's status.
	_, err = c.Issue(ctx, srv.AuthURL("SG"),
		identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "wrong"}, identity.Scope{})
	var e *identity.Error
	fmt.Println(errors.Is(err, identity.ErrUnauthorized), errors.As(err, &e) && e.Status == 401)
	// Output:
	// gncu00000001 gnct00000001 true
	// [OSA1 SIN1 SJC1 TYO1]
	// compute SIN1 public
	// gncu00000001 true
	// true true
}

// Credentials and tokens never print their secrets.
func ExampleTokenFingerprint() {
	p := identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "hunter2"}
	fmt.Printf("%v\n", p)
	fmt.Printf("%+v\n", identity.TokenCredential{ID: "gAAAAABexampletoken"})
	fmt.Println(identity.TokenFingerprint("gAAAAABexampletoken"))
	// Output:
	// identity.Password{UserName:"gncu00000001", DomainName:"gnc", Password:REDACTED}
	// identity.TokenCredential{ID:sha256:6e28e1f5}
	// sha256:6e28e1f5
}
