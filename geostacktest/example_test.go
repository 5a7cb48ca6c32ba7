package geostacktest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/geostacktest"
)

// Example lists the flavors of every region with one client of a gnc user
// at home in Singapore, then takes Singapore's Keystone down: the client
// keeps its token, and a new client gets one from the next location.
func Example() {
	cloud, err := geostacktest.Start(geostacktest.Options{}) // a test calls NewServer(t, …)
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()

	client, err := geostack.New(ctx, cloud.Config("gnc", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for _, region := range cloud.Regions() {
		compute, err := client.ServiceClient(ctx, "compute", region)
		if err != nil {
			log.Fatal(err)
		}
		pages, err := flavors.ListDetail(compute, nil).AllPages(ctx)
		if err != nil {
			log.Fatal(err)
		}
		all, err := flavors.ExtractFlavors(pages)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d flavors\n", region, len(all))
	}
	fmt.Println("tokens issued at SG:", cloud.TokensIssued("gncu00000001", "SG"))

	cloud.SetKeystoneFault("SG", geostacktest.Fault{Status: 503})
	second, err := geostack.New(ctx, cloud.Config("gnc", 2))
	if err != nil {
		log.Fatal(err)
	}
	defer second.Close()
	if _, err := second.Token(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("second user's token issued at JP:", cloud.TokensIssued("gncu00000002", "JP"))
	// Output:
	// TYO1: 12 flavors
	// OSA1: 12 flavors
	// SJC1: 12 flavors
	// SIN1: 12 flavors
	// tokens issued at SG: 1
	// second user's token issued at JP: 1
}
