package domain_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/geostack/geostack/domain"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func ExampleFilter_Images() {
	// A stand-in for Glance with two pages of images.
	glance := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("marker") == "" {
			fmt.Fprint(w, `{"images": [{"id": "1", "name": "gnc_centos", "visibility": "public"},
				{"id": "2", "name": "zjp_centos", "visibility": "public"}], "next": "/v2/images?limit=2&marker=2"}`)
			return
		}
		fmt.Fprint(w, `{"images": [{"id": "3", "name": "ubuntu", "visibility": "public", "domain_id": "default"}]}`)
	}))
	defer glance.Close()
	client := &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{HTTPClient: *glance.Client()},
		Endpoint:       glance.URL + "/",
		ResourceBase:   glance.URL + "/v2/",
	}

	f, err := registry().Filter("gnc", domain.Policy{})
	if err != nil {
		log.Fatal(err)
	}
	for img, err := range f.Images(context.Background(), client, images.ListOpts{Limit: 2, Sort: "name:asc"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(img.ID, img.Name)
	}
	// Output:
	// 1 gnc_centos
	// 3 ubuntu
}
