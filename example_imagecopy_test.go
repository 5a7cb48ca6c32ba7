package geostack_test

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/geostacktest"
)

// ExampleClient_CopyImage copies a public image of the Tokyo region into
// San Jose: the copy is the client's own, private, with the source's data
// and metadata, and a second call finds it instead of copying again.
func ExampleClient_CopyImage() {
	ctx := context.Background()
	cloud, err := geostacktest.Start(geostacktest.Options{}) // a fake of JP, US and SG
	if err != nil {
		panic(err)
	}
	defer cloud.Close()
	cfg := cloud.Config("gnc", 1) // gncu00000001 of domain gnc, on project gnct00000001
	cfg.Home = "JP"               // the client's own location: TYO1 is local
	client, err := geostack.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer client.Close()

	src := geostack.ImageRef{Region: "TYO1", ID: cloud.ImageID("debian-12")}
	cp, err := client.CopyImage(ctx, src, "SJC1", geostack.CopyOptions{})
	if err != nil {
		panic(err)
	}
	orig, err := client.ServiceClient(ctx, "image", "TYO1")
	if err != nil {
		panic(err)
	}
	o, err := images.Get(ctx, orig, src.ID).Extract()
	if err != nil {
		panic(err)
	}
	fmt.Println(cp.Name, cp.Status, cp.Visibility, cp.SizeBytes, "bytes")
	fmt.Println("same data:", cp.Checksum == o.Checksum && cp.Properties["os_hash_value"] == o.Properties["os_hash_value"])
	fmt.Println("copied from:", cp.Properties[geostack.CopiedFromProperty] == src.String())

	again, err := client.CopyImage(ctx, src, "SJC1", geostack.CopyOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("second call returns the copy:", again.ID == cp.ID)
	// Output:
	// debian-12 active private 4096 bytes
	// same data: true
	// copied from: true
	// second call returns the copy: true
}
