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
		"/image/v2/images?limit=50&sort=name%3Aasc&status=active",
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
			if !ok || le.Kind != "images" || le.Page != tt.page || !tt.check(errs[0]) || !strings.HasPrefix(errs[0].Error(), "domain: listing images: page ") {
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
