//go:build integration

package conformance_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/regions"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
)

// TestIntegrationRegionTree: the fake's region tree and catalog layout are
// the real Keystone's, as scripts/keystone-seed.py builds it: parent
// regions (the locations) holding only the identity endpoints of their
// Keystone, service endpoints in the child regions. The fake once listed
// identity endpoints in every service region and no parent region in the
// catalog, which hid a bug (Client.Regions listing the parents).
func TestIntegrationRegionTree(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	sides := []*side{realSide(t, env), fakeSide(t)}
	type tree struct {
		Regions []string // "ID<PARENT" pairs
		Catalog []string // "type region interface" triples
	}
	var got [2]tree
	for i, s := range sides {
		tok, err := (&identity.Client{}).Issue(t.Context(), s.authURL,
			identity.Password{UserID: s.member.id, Password: s.member.password}, identity.Scope{ProjectID: s.memberProj})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for _, typ := range tok.Catalog.Types() {
			for _, r := range tok.Catalog.Regions(typ) {
				for _, iface := range []string{"public", "internal", "admin"} {
					if _, err := tok.Catalog.Select(catalogQuery(typ, r, iface)); err == nil {
						got[i].Catalog = append(got[i].Catalog, fmt.Sprintf("%s %s %s", typ, r, iface))
					}
				}
			}
		}
		pc := &gophercloud.ProviderClient{}
		pc.SetToken(tok.ID)
		sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: s.authURL + "/"}
		pages, err := regions.List(sc, nil).AllPages(t.Context())
		if err != nil {
			t.Fatalf("%s: list regions: %v", s.name, err)
		}
		all, err := regions.ExtractRegions(pages)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			got[i].Regions = append(got[i].Regions, r.ID+"<"+r.ParentRegionID)
		}
		slices.Sort(got[i].Regions)
		slices.Sort(got[i].Catalog)
	}
	if diff := cmp.Diff(got[0], got[1]); diff != "" {
		t.Errorf("the fake's region tree or catalog drifted from the real Keystone's (-real +fake):\n%s", diff)
	}
	t.Logf("regions: %v", got[0].Regions)
}

func catalogQuery(typ, region, iface string) catalog.Query {
	return catalog.Query{Type: typ, Region: region, Interfaces: []catalog.Interface{catalog.Interface(iface)}}
}
