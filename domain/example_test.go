package domain_test

import (
	"fmt"
	"log"

	"github.com/geostack/geostack/domain"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func registry() *domain.Registry {
	reg, err := domain.LoadFile("testdata/domains.json")
	if err != nil {
		log.Fatal(err)
	}
	return reg
}

func ExampleRegistry_Owner() {
	reg := registry()
	for _, name := range []string{"gncu72074485", "zjp_centos", "GNC_centos", "m1.small"} {
		if d, ok := reg.Owner(name); ok {
			fmt.Printf("%s: %s (account %v, resource %v, display %q)\n",
				name, d.Name, d.OwnsAccount(name), d.OwnsResource(name), d.DisplayName(name))
		} else {
			fmt.Printf("%s: no domain\n", name)
		}
	}
	// Output:
	// gncu72074485: gnc (account true, resource false, display "gncu72074485")
	// zjp_centos: zjp (account true, resource true, display "centos")
	// GNC_centos: no domain
	// m1.small: no domain
}

func ExampleFilter_VisibleImage() {
	f, err := registry().Filter("gnc", domain.Policy{})
	if err != nil {
		log.Fatal(err)
	}
	f = f.ForProject("p-gnc1") // the viewer's project
	gnc, _ := registry().ByName("gnc")
	zjp, _ := registry().ByName("zjp")
	page := []images.Image{
		{Name: "ubuntu-24.04", Visibility: "public"},                                                // Default domain: shared
		{Name: "gnc_centos", Visibility: "public"},                                                  // gnc's by name
		{Name: "zjp_centos", Visibility: "public"},                                                  // zjp's by name
		{Name: "centos-zjp", Visibility: "public", Properties: map[string]any{"domain_id": zjp.ID}}, // zjp's by metadata
		{Name: "my-backup", Visibility: "private", Owner: "p-gnc1"},                                 // the viewer's own
		{Name: "gnc_centos_planted", Visibility: "community", Owner: "p-zjp7", // a zjp customer's,
			Properties: map[string]any{"domain_id": gnc.ID}}, //                                        whatever it claims
	}
	for _, img := range page {
		if v := f.ImageVerdict(&img); v != domain.VerdictHidden {
			fmt.Println(img.Name, v)
		}
	}
	// Output:
	// ubuntu-24.04 shared
	// gnc_centos domain
	// my-backup own
}

func ExampleFilter_VisibleFlavor() {
	f, err := registry().Filter("zsg", domain.Policy{})
	if err != nil {
		log.Fatal(err)
	}
	page := []flavors.Flavor{{Name: "m1.small"}, {Name: "zsg_1gb"}, {Name: "gnc_1gb"}, {Name: "zsg1gb"}}
	for _, fl := range page {
		if !f.VisibleFlavor(&fl) {
			continue
		}
		fmt.Println(fl.Name, "shown as", f.Domain().DisplayName(fl.Name))
	}
	// Output:
	// m1.small shown as m1.small
	// zsg_1gb shown as 1gb
}

func ExampleFilter_VisibleVolumeType() {
	f, err := registry().Filter("zjp", domain.Policy{HideSharedVolumeTypes: true})
	if err != nil {
		log.Fatal(err)
	}
	page := []volumetypes.VolumeType{{Name: "default"}, {Name: "zjp_ssd"}, {Name: "zsg_ssd"}}
	for _, vt := range page {
		if !f.VisibleVolumeType(&vt) {
			continue
		}
		fmt.Println(vt.Name)
	}
	// Output:
	// zjp_ssd
}
