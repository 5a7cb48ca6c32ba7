package geostack_test

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/region"
)

// Example lists flavors in every region of a three-location cloud with one
// client: every ServiceClient carries the one cached token.
func Example() {
	ctx := context.Background()
	cloud, err := geostacktest.Start(geostacktest.Options{}) // a fake of JP, US and SG
	if err != nil {
		panic(err)
	}
	defer cloud.Close()

	client, err := geostack.New(ctx, geostack.Config{
		Locations: []region.Location{
			{Name: "JP", AuthURLs: []string{cloud.AuthURL("JP")}, Regions: []string{"TYO1", "OSA1"}},
			{Name: "US", AuthURLs: []string{cloud.AuthURL("US")}, Regions: []string{"SJC1"}},
			{Name: "SG", AuthURLs: []string{cloud.AuthURL("SG")}, Regions: []string{"SIN1"}},
		},
		Home:       "SG",
		Primary:    "JP",
		Credential: identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: geostacktest.UserPassword},
		Scope:      identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"},
	})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	regions, err := client.Regions(ctx)
	if err != nil {
		panic(err)
	}
	for _, r := range regions {
		compute, err := client.ServiceClient(ctx, "compute", r)
		if err != nil {
			panic(err)
		}
		pages, err := flavors.ListDetail(compute, nil).AllPages(ctx)
		if err != nil {
			panic(err)
		}
		all, _ := flavors.ExtractFlavors(pages)
		fmt.Printf("%s: %d flavors\n", r, len(all))
	}
	fmt.Println("tokens issued:", cloud.TokensIssued("", ""))
	// Output:
	// OSA1: 12 flavors
	// SIN1: 12 flavors
	// SJC1: 12 flavors
	// TYO1: 12 flavors
	// tokens issued: 1
}
