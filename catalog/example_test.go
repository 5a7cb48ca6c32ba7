package catalog_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

func Example() {
	// The "catalog" part of a Keystone token response.
	body := `{"catalog": [
	  {"id": "c1", "name": "cinderv3", "type": "volumev3", "endpoints": [
	    {"id": "e1", "region_id": "SIN1", "interface": "public",   "url": "https://volume.sin1.example.com/v3/$(project_id)s"},
	    {"id": "e2", "region_id": "SIN1", "interface": "internal", "url": "http://10.0.0.5:8776/v3/$(project_id)s"},
	    {"id": "e3", "region_id": "TYO1", "interface": "public",   "url": "https://volume.tyo1.example.com/v3/$(project_id)s"}]},
	  {"id": "c2", "name": "nova", "type": "compute", "endpoints": [
	    {"id": "e4", "region_id": "TYO1", "interface": "public", "url": "https://compute.tyo1.example.com/v2.1"}]}
	]}`
	var sc tokens.ServiceCatalog
	if err := json.Unmarshal([]byte(body), &sc); err != nil {
		panic(err)
	}

	cat, err := catalog.New(sc.Entries, "8f3a")
	if err != nil {
		panic(err)
	}
	ep, err := cat.Select(catalog.Query{
		Type:       "block-storage",
		Region:     "SIN1",
		Interfaces: []catalog.Interface{catalog.Internal, catalog.Public},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(ep.ServiceType, ep.CatalogType, ep.Interface, ep.URL)
	fmt.Println(cat.Regions(), cat.Types())

	_, err = cat.Select(catalog.Query{Type: "compute", Region: "SIN1"})
	fmt.Println(errors.Is(err, catalog.ErrNotFound), err)

	_, err = cat.Select(catalog.Query{Type: "volumev3"})
	fmt.Println(errors.Is(err, catalog.ErrAmbiguous))
	// Output:
	// block-storage volumev3 internal http://10.0.0.5:8776/v3/8f3a
	// [SIN1 TYO1] [block-storage compute]
	// true catalog: no endpoint of type "compute" in region "SIN1" with interface [public]: "compute" is in regions [TYO1]
	// true
}
