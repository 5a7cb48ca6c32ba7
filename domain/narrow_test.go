package domain_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/internal/testserver"
)

// narrowWorld is the fake cloud's default world with an image of every
// kind the narrowed listings treat apart: public images tagged with the
// Default domain's id, untagged with a prefix, and another domain's; the
// operator project's community, shared and private images; customers'
// shared images accepted and pending, community images, and images
// without a visibility.
func narrowWorld() *testserver.World {
	w := testserver.DefaultWorld()
	admin := w.Project(testserver.AdminProject).ID
	gncP, zjpP := w.Project("gnct00000001").ID, w.Project("zjpt00000001").ID
	gncID, zjpID := w.Domain("gnc").ID, w.Domain("zjp").ID
	n := 0
	add := func(name, owner, vis string, props map[string]string, members map[string]string) {
		n++
		w.Images = append(w.Images, testserver.Image{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", n), Name: name, Owner: owner,
			Visibility: vis, Properties: props, Members: members})
	}
	add("shared-tagged", admin, "public", map[string]string{"domain_id": testserver.DefaultDomainID}, nil)
	add("gnc_tagged_default", admin, "public", map[string]string{"domain_id": testserver.DefaultDomainID}, nil)
	add("gnc_debian", admin, "public", nil, nil)
	add("legacy-image", admin, "public", map[string]string{"domain_id": zjpID}, nil)
	add("ops-community", admin, "community", nil, nil)
	add("gnc_ops_community", admin, "community", map[string]string{"domain_id": gncID}, nil)
	add("gnc_ops_shared", admin, "shared", map[string]string{"domain_id": gncID}, map[string]string{gncP: "accepted"})
	add("ops-private", admin, "private", nil, nil)
	add("zjp_share_accepted", zjpP, "shared", map[string]string{"domain_id": gncID}, map[string]string{gncP: "accepted"})
	add("zjp_share_pending", zjpP, "shared", nil, map[string]string{gncP: "pending"})
	add("gnc_own_shared", gncP, "shared", nil, map[string]string{zjpP: "accepted"})
	add("gnc_own_community", gncP, "community", map[string]string{"domain_id": zjpID}, nil)
	add("zjp_community", zjpP, "community", map[string]string{"domain_id": zjpID}, nil)
	for i := range 6 { // enough public images of each kind to page
		add(fmt.Sprintf("gnc_more_%02d", i), admin, "public", map[string]string{"domain_id": gncID}, nil)
		add(fmt.Sprintf("zjp_more_%02d", i), admin, "public", map[string]string{"domain_id": zjpID}, nil)
		add(fmt.Sprintf("more-%02d", i), admin, "public", map[string]string{"domain_id": testserver.DefaultDomainID}, nil)
	}
	return w
}

// worldRegistry is the registry of the fake world's product domains.
func worldRegistry(t testing.TB, w *testserver.World) *domain.Registry {
	t.Helper()
	var doms []domain.Domain
	for _, name := range testserver.ProductDomains() {
		d := w.Domain(name)
		doms = append(doms, domain.Domain{Name: d.Name, ID: d.ID, Prefix: d.Prefix})
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// imageClient returns an image service client in TYO1 for user, a
// member of its domain's first project.
func imageClient(t testing.TB, srv *testserver.Server, user string) *gophercloud.ServiceClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: srv.AuthURL("JP"), Username: user, DomainName: user[:3], Password: testserver.UserPassword,
		Scope: &gophercloud.AuthScope{ProjectName: user[:3] + "t" + user[4:], DomainName: user[:3]},
	})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: "TYO1"})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// unnarrowed is what Filter.Images did before it narrowed: one listing of
// opts as given, every image judged here.
func unnarrowed(t *testing.T, f *domain.Filter, sc *gophercloud.ServiceClient, opts images.ListOpts) []string {
	t.Helper()
	var out []string
	err := images.List(sc, opts).EachPage(t.Context(), func(_ context.Context, page pagination.Page) (bool, error) {
		imgs, err := images.ExtractImages(page)
		for i := range imgs {
			if f.VisibleImage(&imgs[i]) {
				out = append(out, imgs[i].Name)
			}
		}
		return true, err
	})
	if err != nil {
		t.Fatalf("unnarrowed listing %+v: %v", opts, err)
	}
	return out
}

// TestImagesNarrowedAsUnnarrowed holds narrowed listings to what one
// listing filtered here gives, against the fake cloud's Glance (whose
// listing rules, filters and order internal/conformance keeps like the real
// one's): the same images in the same order, for viewers of two domains,
// every policy knob that changes the plan, every visibility, page sizes
// that cross pages, and a sort of the caller's. With RequireDomainID the
// verdicts hide every untagged operator image, so the reference is the
// same listing under the same policy.
func TestImagesNarrowedAsUnnarrowed(t *testing.T) {
	t.Parallel()
	world := narrowWorld()
	srv := testserver.New(t, testserver.Options{World: world})
	reg := worldRegistry(t, world)
	admin := world.Project(testserver.AdminProject).ID
	policies := []struct {
		name string
		p    domain.Policy
	}{
		{"zero", domain.Policy{}},
		{"operator project", domain.Policy{OperatorProjects: []string{admin}}},
		{"foreign", domain.Policy{ShowForeignImages: true}},
		{"require domain_id", domain.Policy{RequireDomainID: true}},
		{"all knobs", domain.Policy{RequireDomainID: true, OperatorProjects: []string{admin}, ShowForeignImages: true}},
		{"hide shared", domain.Policy{HideSharedImages: true, RequireDomainID: true}},
	}
	listings := []images.ListOpts{{Limit: 5}, {Limit: 4, Sort: "name:asc"}, {SortKey: "name", SortDir: "desc", Limit: 1000}}
	for _, user := range []string{"gncu00000001", "zjpu00000001"} {
		sc := imageClient(t, srv, user)
		project := world.Project(user[:3] + "t" + user[4:]).ID
		for _, pol := range policies {
			f, err := reg.Filter(user[:3], pol.p)
			if err != nil {
				t.Fatal(err)
			}
			f = f.ForProject(project)
			t.Run(user+"/"+pol.name, func(t *testing.T) {
				t.Parallel()
				for _, vis := range []images.ImageVisibility{"", images.ImageVisibilityPublic, images.ImageVisibilityCommunity,
					images.ImageVisibilityShared, images.ImageVisibilityPrivate} {
					for _, base := range listings {
						opts := base
						opts.Visibility = vis
						want := unnarrowed(t, f, sc, opts)
						var got []string
						for img, err := range f.Images(t.Context(), sc, opts) {
							if err != nil {
								t.Fatalf("%+v: %v", opts, err)
							}
							got = append(got, img.Name)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("%+v: narrowed listing (-unnarrowed +narrowed):\n%s", opts, diff)
						}
					}
				}
			})
		}
	}
}
