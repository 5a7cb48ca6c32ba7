package region_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/region"
)

// A service in Singapore authenticates at home; when SG's Keystone is
// down it gets its token from the next location instead. Writes go to the
// primary only.
func Example() {
	srv, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	r, err := region.New(region.Config{
		Locations: []region.Location{
			{Name: "JP", AuthURLs: []string{srv.AuthURL("JP")}, Regions: []string{"TYO1", "OSA1"}},
			{Name: "US", AuthURLs: []string{srv.AuthURL("US")}, Regions: []string{"SJC1"}},
			{Name: "SG", AuthURLs: []string{srv.AuthURL("SG")}, Regions: []string{"SIN1"}},
		},
		Primary: "JP",
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	cred := identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: geostacktest.UserPassword}
	scope := identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}

	home, _ := r.LocationOf("SIN1")
	fmt.Println("SIN1 is in", home)

	srv.SetLocationFault("SG", geostacktest.Fault{Down: true})
	tok, err := r.Issue(ctx, home, &identity.Client{}, cred, scope)
	if err != nil {
		panic(err)
	}
	fmt.Println("issued by JP:", strings.HasPrefix(tok.AuthURL, srv.URL("JP")), "after", r.Stats().Failovers, "failover")

	err = r.Write(ctx, home, func(context.Context, string) error { return nil })
	fmt.Println(err)
	// Output:
	// SIN1 is in SG
	// issued by JP: true after 1 failover
	// region: write refused at SG: writes (users, projects, application credentials) go to the primary location JP; SG is a read-only replica
}

// Order lists the auth_urls a client tries: its own location's first,
// then the others in configured order.
func ExampleResolver_Order() {
	r, err := region.New(region.Config{
		Locations: []region.Location{
			{Name: "JP", AuthURLs: []string{"https://jp-a.example.com/v3", "https://jp-b.example.com/v3"}},
			{Name: "US", AuthURLs: []string{"https://us.example.com/v3"}},
			{Name: "SG", AuthURLs: []string{"https://sg.example.com/v3"}},
		},
		Primary: "JP",
	})
	if err != nil {
		panic(err)
	}
	for _, u := range r.Order("SG") {
		fmt.Println(u)
	}
	// Output:
	// https://sg.example.com/v3
	// https://jp-a.example.com/v3
	// https://jp-b.example.com/v3
	// https://us.example.com/v3
}

// New reports every problem of a configuration at once, each with the key
// of the offending setting.
func ExampleNew_errors() {
	_, err := region.New(region.Config{
		Locations: []region.Location{
			{Name: "JP", AuthURLs: []string{"keystone.jp:5000"}, Regions: []string{"TYO1"}},
			{Name: "SG", AuthURLs: []string{"https://sg.example.com/v3"}, Regions: []string{"TYO1"}},
		},
	})
	fmt.Println(errors.Is(err, geostack.ErrInvalidConfig))
	var ce *geostack.ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Printf("%s: %s\n", p.Key, p.Reason)
		}
	}
	// Output:
	// true
	// locations[0].auth_urls[0]: auth_url has the scheme "keystone.jp", not http or https
	// locations[1].regions[0]: region "TYO1" is in two locations: JP and SG
	// primary: no primary location
}
