package testserver_test

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack/internal/testserver"
)

// Example authenticates at the Singapore location of the fake cloud with
// gophercloud and lists the flavors of the Osaka region.
func Example() {
	srv, err := testserver.Start(testserver.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()

	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: srv.AuthURL("SG"),
		Username:         "gncu00000001",
		DomainName:       "gnc",
		Password:         testserver.UserPassword,
		Scope:            &gophercloud.AuthScope{ProjectName: "gnct00000001", DomainName: "gnc"},
	})
	if err != nil {
		panic(err)
	}
	compute, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "OSA1"})
	if err != nil {
		panic(err)
	}
	pages, err := flavors.ListDetail(compute, nil).AllPages(ctx)
	if err != nil {
		panic(err)
	}
	all, _ := flavors.ExtractFlavors(pages)
	fmt.Println("locations:", srv.Locations(), "primary:", srv.Primary())
	fmt.Println("flavors:", len(all))
	fmt.Println("tokens issued at SG:", srv.TokensIssued("gncu00000001", "SG"))
	// Output:
	// locations: [JP US SG] primary: JP
	// flavors: 12
	// tokens issued at SG: 1
}
