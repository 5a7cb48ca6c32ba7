package domain

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func TestListPassesOptionsThrough(t *testing.T) {
	t.Parallel()
	f, _ := testRegistry(t).Filter("gnc", Policy{})
	cloud := newFakeCloud(t, objects(imageFixtures()), objects(flavorFixtures()), objects(volumeTypeFixtures()), nil)
	ctx := t.Context()
	if _, err := collect(f.Images(ctx, cloud.Image(), images.ListOpts{Limit: 50, Sort: "name:asc", Status: images.ImageStatusActive})); err != nil {
		t.Fatal(err)
	}
	if _, err := collect(f.Flavors(ctx, cloud.Compute(), flavors.ListOpts{Limit: 30, SortKey: "name", MinRAM: 512})); err != nil {
		t.Fatal(err)
	}
	if _, err := collect(f.VolumeTypes(ctx, cloud.Volume(), volumetypes.ListOpts{Limit: 30, IsPublic: volumetypes.VisibilityPublic})); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/image/v2/images?limit=50&sort=name%3Aasc&status=active&visibility=public", // no project, no operator: the public images
		"/compute/v2.1/flavors/detail?limit=30&minRam=512&sort_key=name",
		"/volume/v3/p1/types?is_public=true&limit=30",
	}
	if diff := cmp.Diff(want, cloud.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestListStopsOnBreak(t *testing.T) {
	t.Parallel()
	f, _ := testRegistry(t).Filter("zjp", Policy{})
	cloud := newFakeCloud(t, objects(imageFixtures()), nil, nil, nil)
	var got []string
	for img, err := range f.Images(t.Context(), cloud.Image(), images.ListOpts{Limit: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, img.Name)
		if len(got) == 2 {
			break
		}
	}
	if diff := cmp.Diff([]string{"centos-9", "ubuntu-24.04"}, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if n := len(cloud.Requests()); n != 1 {
		t.Errorf("%d requests after breaking out of the first page; want 1", n)
	}
}

func TestListErrorMidway(t *testing.T) {
	t.Parallel()
	imgs := objects(imageFixtures())
	tests := []struct {
		name     string
		fail     map[string]int
		wantSeen []string // yielded before the error, for gnc, with limit 3
		page     int
		check    func(error) bool
	}{
		{"first page 503", map[string]int{"": http.StatusServiceUnavailable}, nil, 1,
			func(err error) bool { return gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) }},
		{"third page 500", map[string]int{"id-005": http.StatusInternalServerError}, []string{"centos-9", "ubuntu-24.04", "gnc_centos", "gnc_windows"}, 3,
			func(err error) bool { return gophercloud.ResponseCodeIs(err, http.StatusInternalServerError) }},
		{"second page malformed", map[string]int{"id-002": -1}, []string{"centos-9", "ubuntu-24.04", "gnc_centos"}, 2,
			func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testRegistry(t).Filter("gnc", Policy{})
			cloud := newFakeCloud(t, imgs, nil, nil, tt.fail)
			var seen []string
			var errs []error
			for img, err := range f.Images(t.Context(), cloud.Image(), images.ListOpts{Limit: 3}) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if len(errs) > 0 {
					t.Fatalf("item %q after the error", img.Name)
				}
				seen = append(seen, img.Name)
			}
			if diff := cmp.Diff(tt.wantSeen, seen); diff != "" {
				t.Errorf("yielded before the error (-want +got):\n%s", diff)
			}
			if len(errs) != 1 {
				t.Fatalf("got %d errors; want 1", len(errs))
			}
			le, ok := errors.AsType[*ListError](errs[0])
			if !ok || le.Kind != "images" || le.Page != tt.page || !tt.check(errs[0]) || !strings.HasPrefix(errs[0].Error(), "domain: listing images (visibility=public): page ") {
				t.Errorf("error = %v (%#v); want a ListError for page %d", errs[0], le, tt.page)
			}
			all, err := collect(f.Images(t.Context(), cloud.Image(), images.ListOpts{Limit: 3}))
			if all != nil || err == nil || err.Error() != errs[0].Error() {
				t.Errorf("ListImages() = %d images, %v; want none and the same error", len(all), err)
			}
		})
	}
}

func TestListErrorKinds(t *testing.T) {
	t.Parallel()
	f, _ := testRegistry(t).Filter("zsg", Policy{})
	cloud := newFakeCloud(t, nil, objects(flavorFixtures()), objects(volumeTypeFixtures()), map[string]int{"id-002": http.StatusBadGateway})
	ctx := t.Context()
	_, ferr := collect(f.Flavors(ctx, cloud.Compute(), flavors.ListOpts{Limit: 3}))
	_, verr := collect(f.VolumeTypes(ctx, cloud.Volume(), volumetypes.ListOpts{Limit: 3}))
	for kind, err := range map[string]error{"flavors": ferr, "volume types": verr} {
		le, ok := errors.AsType[*ListError](err)
		if !ok || le.Kind != kind || le.Page != 2 || !gophercloud.ResponseCodeIs(err, http.StatusBadGateway) {
			t.Errorf("%s: err = %v; want a ListError for page 2 with status 502", kind, err)
		}
	}
}

func TestListCanceled(t *testing.T) {
	t.Parallel()
	f, _ := testRegistry(t).Filter("gnc", Policy{})
	cloud := newFakeCloud(t, objects(imageFixtures()), nil, nil, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := collect(f.Images(ctx, cloud.Image(), nil))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v; want context.Canceled", err)
	}
}

func TestListEmpty(t *testing.T) {
	t.Parallel()
	f, _ := testRegistry(t).Filter("gnc", Policy{})
	cloud := newFakeCloud(t, nil, nil, nil, nil)
	got, err := collect(f.Images(t.Context(), cloud.Image(), nil))
	if err != nil || len(got) != 0 {
		t.Errorf("ListImages() = %v, %v; want nothing", got, err)
	}
}

// customBuilder is an images.ListOptsBuilder of the caller's own type.
type customBuilder string

func (c customBuilder) ToImageListQuery() (string, error) { return string(c), nil }

// TestImagesPlan pins the Glance listings Filter.Images makes of a caller's
// options under each policy: which it narrows (and how), and which it passes
// through as they are.
func TestImagesPlan(t *testing.T) {
	t.Parallel()
	const list = "/image/v2/images?"
	ops := []string{operatorProject}
	tests := []struct {
		name    string
		p       Policy
		project string
		opts    images.ListOptsBuilder
		want    []string
	}{
		{"no viewer: the public images", Policy{}, "", nil, []string{list + "visibility=public"}},
		{"viewer: and its own", Policy{}, "p-gnc", images.ListOpts{Limit: 10},
			[]string{list + "limit=10&visibility=public", list + "limit=10&owner=p-gnc"}},
		{"operator projects: and the shared ones", Policy{OperatorProjects: ops}, "p-gnc", &images.ListOpts{},
			[]string{list + "visibility=public", list + "owner=p-gnc", list + "visibility=shared"}},
		{"require domain_id: the domain's and the Default domain's public images", Policy{RequireDomainID: true}, "p-gnc", images.ListOpts{Limit: 10, Name: "x"},
			[]string{list + "limit=10&name=x&visibility=public&domain_id=id-gnc", list + "limit=10&name=x&visibility=public&domain_id=default",
				list + "limit=10&name=x&owner=p-gnc"}},
		{"a domain-id property Glance reads itself is not filtered on", Policy{RequireDomainID: true, DomainIDProperty: "name"}, "p-gnc", nil,
			[]string{list + "visibility=public", list + "owner=p-gnc"}},
		{"another Default domain id", Policy{RequireDomainID: true, DefaultDomainID: "d-0"}, "", images.ListOpts{Visibility: images.ImageVisibilityPublic},
			[]string{list + "visibility=public&domain_id=id-gnc", list + "visibility=public&domain_id=d-0"}},
		{"community: its own and the operator's", Policy{OperatorProjects: ops}, "p-gnc", images.ListOpts{Visibility: images.ImageVisibilityCommunity},
			[]string{list + "owner=p-gnc&visibility=community", list + "owner=p-admin&visibility=community"}},
		{"community, foreign shown: every one", Policy{ShowForeignImages: true, OperatorProjects: ops}, "p-gnc", images.ListOpts{Visibility: images.ImageVisibilityCommunity},
			[]string{list + "owner=p-gnc&visibility=community", list + "visibility=community"}},
		{"community, nobody's to see: no request", Policy{}, "", images.ListOpts{Visibility: images.ImageVisibilityCommunity}, nil},
		{"shared: its own", Policy{}, "p-gnc", images.ListOpts{Visibility: images.ImageVisibilityShared},
			[]string{list + "owner=p-gnc&visibility=shared"}},
		{"shared, foreign shown: every one", Policy{ShowForeignImages: true}, "p-gnc", images.ListOpts{Visibility: images.ImageVisibilityShared},
			[]string{list + "visibility=shared"}},
		{"private: its own and the operator's", Policy{OperatorProjects: ops}, "p-gnc", images.ListOpts{Visibility: images.ImageVisibilityPrivate},
			[]string{list + "owner=p-gnc&visibility=private", list + "owner=p-admin&visibility=private"}},
		{"the viewer is an operator project: listed once", Policy{OperatorProjects: ops}, operatorProject, images.ListOpts{Visibility: images.ImageVisibilityPrivate},
			[]string{list + "owner=p-admin&visibility=private"}},
		{"the caller's owner: passed through", Policy{RequireDomainID: true}, "p-gnc", images.ListOpts{Owner: "p-x"}, []string{list + "owner=p-x"}},
		{"the caller's marker: passed through", Policy{}, "p-gnc", images.ListOpts{Marker: "id-001"}, []string{list + "marker=id-001"}},
		{"visibility=all: passed through", Policy{}, "p-gnc", images.ListOpts{Visibility: "all"}, []string{list + "visibility=all"}},
		{"a visibility Glance rejects: passed through", Policy{}, "p-gnc", images.ListOpts{Visibility: "bogus"}, []string{list + "visibility=bogus"}},
		{"an unknown sort key: passed through", Policy{}, "p-gnc", images.ListOpts{Sort: "owner:asc"}, []string{list + "sort=owner%3Aasc"}},
		{"both sort syntaxes: passed through", Policy{}, "p-gnc", images.ListOpts{Sort: "name", SortKey: "name"}, []string{list + "sort=name&sort_key=name"}},
		{"a builder of the caller's own: passed through", Policy{RequireDomainID: true}, "p-gnc", customBuilder("?tag=x"), []string{list + "tag=x"}},
		{"a nil *ListOpts: no filter", Policy{}, "", (*images.ListOpts)(nil), []string{list + "visibility=public"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := testRegistry(t).Filter("gnc", tt.p)
			if err != nil {
				t.Fatal(err)
			}
			// Two images, fewer than the fake's page size: one request per
			// listing.
			cloud := newFakeCloud(t, objects(imageFixtures()[:2]), nil, nil, nil)
			if _, err := collect(f.ForProject(tt.project).Images(t.Context(), cloud.Image(), tt.opts)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cloud.Requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImagesNarrowedStopsAndFails: breaking out of a narrowed listing stops
// every one of its listings, and a listing that fails ends the whole with a
// *ListError naming it.
func TestImagesNarrowedStopsAndFails(t *testing.T) {
	t.Parallel()
	f, _ := testRegistry(t).Filter("gnc", Policy{OperatorProjects: []string{operatorProject}})
	f = f.ForProject("p-gnc")

	cloud := newFakeCloud(t, objects(imageFixtures()), nil, nil, nil)
	asked := 0
	for _, err := range f.Images(t.Context(), cloud.Image(), images.ListOpts{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		asked = len(cloud.Requests())
		break
	}
	// Each listing's first page was asked for, to merge, and nothing after.
	if got := cloud.Requests(); asked < 3 || len(got) != asked {
		t.Errorf("%d requests when the first image came, %d after the break; want at least 3 (a page of each listing), and no more: %v", asked, len(got), got)
	}

	failing := newFakeCloud(t, objects(imageFixtures()), nil, nil, map[string]int{"id-001": http.StatusServiceUnavailable})
	_, err := collect(f.Images(t.Context(), failing.Image(), images.ListOpts{Limit: 2}))
	le, ok := errors.AsType[*ListError](err)
	if !ok || le.Page != 2 || le.Query == "" || !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) ||
		!strings.HasPrefix(err.Error(), "domain: listing images ("+le.Query+"): page 2: ") {
		t.Errorf("err = %v (%#v); want a ListError for page 2 of a narrowed listing, status 503", err, le)
	}
}
