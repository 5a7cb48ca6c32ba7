package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
)

// An image proxy for gnc in front of the fake cloud's Glance in TYO1: a
// gnc user listing images through it sees gnc's view; zjp's images, and
// the community image a zjp customer planted under gnc's name, are absent.
func Example() {
	fake, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	gnc := fake.Domain("gnc")
	gnc.Endpoints = map[string]domain.Endpoints{"JP": gnc.Endpoints["JP"]}
	reg, err := domain.New(gnc)
	if err != nil {
		panic(err)
	}
	filter, _ := reg.Filter("gnc", domain.Policy{})
	svcCred, svcScope := fake.ServiceCredential()
	validator, err := authtoken.New(authtoken.Config{Domains: []domain.Domain{gnc}, Home: "JP", Primary: "JP",
		ServiceCredential: svcCred, ServiceScope: svcScope})
	if err != nil {
		panic(err)
	}
	defer validator.Close()

	p, err := proxy.New(proxy.Config{Service: "image", Filter: filter, Validator: validator,
		Upstream: fake.URL("JP") + "/TYO1/image", Prefix: "/gnc/image"})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	fmt.Println(p)

	// A gnc user, with any client: here gophercloud, pointed at the proxy.
	ctx := context.Background()
	tok, err := (&identity.Client{}).Issue(ctx, fake.AuthURL("JP"),
		identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: geostacktest.UserPassword},
		identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"})
	if err != nil {
		panic(err)
	}
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{}}
	pc.SetToken(tok.ID)
	root := srv.URL + "/gnc/image/"
	client := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: root, ResourceBase: root + "v2/"}
	pages, err := images.List(client, images.ListOpts{Visibility: images.ImageVisibilityCommunity}).AllPages(ctx)
	if err != nil {
		panic(err)
	}
	community, _ := images.ExtractImages(pages)
	fmt.Println("community images:", len(community))
	pages, err = images.List(client, images.ListOpts{Limit: 2}).AllPages(ctx)
	if err != nil {
		panic(err)
	}
	all, _ := images.ExtractImages(pages)
	var names []string
	for _, im := range all {
		names = append(names, im.Name)
	}
	slices.Sort(names)
	fmt.Println(names)
	_, err = images.Get(ctx, client, fake.ImageID("zjp_centos")).Extract()
	fmt.Println("zjp_centos:", gophercloud.ResponseCodeIs(err, http.StatusNotFound))
	// Output:
	// proxy.Proxy{domain: gnc, service: image, prefix: "/gnc/image"}
	// community images: 0
	// [centos-stream-9 debian-12 gnc_centos gnc_ubuntu gnct00000001-backup ubuntu-24.04]
	// zjp_centos: true
}
