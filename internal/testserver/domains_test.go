package testserver_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"

	"github.com/geostack/geostack/internal/testserver"
)

// TestDomainLookup looks domains up by id and by name, as the openstack
// CLI does for --domain.
func TestDomainLookup(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	ctx := t.Context()
	c, err := openstack.NewIdentityV3(provider(t, srv, "SG", "gncu00000001"), gophercloud.EndpointOpts{Region: "SG"}) // a location (parent region) holds the identity endpoints
	if err != nil {
		t.Fatal(err)
	}
	w := testserver.DefaultWorld()
	d, err := domains.Get(ctx, c, w.Domain("zjp").ID).Extract()
	if err != nil || d.Name != "zjp" {
		t.Fatalf("get zjp by id: %+v, %v", d, err)
	}
	if _, err := domains.Get(ctx, c, "zjp").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get by name as id: %v, want 404", err)
	}
	for _, tt := range []struct {
		name string
		want []string
	}{{"gnc", []string{w.Domain("gnc").ID}}, {"nobody", nil}} {
		page, err := domains.List(c, domains.ListOpts{Name: tt.name}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := domains.ExtractDomains(page)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("list name=%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
