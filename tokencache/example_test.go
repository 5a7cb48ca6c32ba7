package tokencache_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/tokencache"
)

// One token serves every service client in every region: here compute in
// Tokyo, San Jose and Singapore, all on the token issued once at JP.
func Example() {
	srv, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	cred := identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: geostacktest.UserPassword}
	scope := identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
	idc := &identity.Client{}
	fetch := identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
		return idc.Issue(ctx, srv.AuthURL("JP"), cred, scope)
	})

	cache, err := tokencache.New(tokencache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()
	h, err := cache.Handle(tokencache.Key{Credential: cred, Scope: scope}, fetch)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Release()
	provider := tokencache.NewProviderClient(h, &http.Client{})

	tok, err := h.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, region := range []string{"TYO1", "SJC1", "SIN1"} {
		ep, err := tok.Catalog.Select(catalog.Query{Type: "compute", Region: region})
		if err != nil {
			log.Fatal(err)
		}
		compute := &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: ep.URL + "/"}
		pages, err := flavors.ListDetail(compute, nil).AllPages(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fs, err := flavors.ExtractFlavors(pages)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: flavors listed: %t\n", region, len(fs) > 0)
	}
	fmt.Println("tokens issued:", srv.TokensIssued("gncu00000001", ""))
	// Output:
	// TYO1: flavors listed: true
	// SJC1: flavors listed: true
	// SIN1: flavors listed: true
	// tokens issued: 1
}
