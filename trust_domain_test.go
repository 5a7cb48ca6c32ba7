package geostack_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/internal/testserver"
)

// TestDomainIsolation is the domain trust boundary, through every accessor
// of the Client that hands out a domain-scoped item: the listings (with
// every Glance visibility a caller may ask for) and the lookups by id and
// by name. The fake cloud holds, besides each domain's operator images, a
// community image that zjp's first project published with gnc's prefix and
// gnc's domain_id (testserver.PlantedImage): Glance lets any member set
// both. Each row is a viewer and exactly what it must see, with the rule.
func TestDomainIsolation(t *testing.T) {
	t.Parallel()
	shared := []string{"centos-stream-9", "debian-12", "ubuntu-24.04"} // Default domain, public: shared
	tests := []struct {
		viewer     string // domain; user 1
		visibility images.ImageVisibility
		want       []string
	}{
		// gnc: the shared images, gnc's public images (domain_id), its
		// project's backup (own); never the planted image.
		{"gnc", "", append([]string{"gnc_centos", "gnc_ubuntu", "gnct00000001-backup"}, shared...)},
		{"gnc", images.ImageVisibilityCommunity, nil},
		{"gnc", images.ImageVisibilityPublic, append([]string{"gnc_centos", "gnc_ubuntu"}, shared...)},
		{"gnc", images.ImageVisibilityPrivate, []string{"gnct00000001-backup"}},
		// zjp's first project published the planted image: its own, and
		// listed as such, whatever it claims.
		{"zjp", "", append([]string{"gnc_centos_planted", "zjp_centos", "zjp_ubuntu", "zjpt00000001-backup"}, shared...)},
		{"zjp", images.ImageVisibilityCommunity, []string{"gnc_centos_planted"}},
		// zsg sees neither gnc's nor zjp's.
		{"zsg", images.ImageVisibilityCommunity, nil},
		{"zsg", "", append([]string{"zsg_centos", "zsg_ubuntu", "zsgt00000001-backup"}, shared...)},
	}
	for _, tt := range tests {
		t.Run(tt.viewer+"/"+string(tt.visibility), func(t *testing.T) {
			t.Parallel()
			_, cfg := setup(t, testserver.Options{}, tt.viewer, 1)
			c := newClient(t, cfg)
			imgs, err := collect(c.Images(t.Context(), "SIN1", images.ListOpts{Visibility: tt.visibility, Limit: 2}))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, img := range imgs {
				got = append(got, img.Name)
			}
			if diff := cmp.Diff(tt.want, got, cmpSorted); diff != "" {
				t.Errorf("images (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLookupsHideWhatListingsHide: a lookup by id or by name of an item
// the domain may not see is a *geostack.NotFoundError, exactly as for an
// item that does not exist, so a lookup is no oracle.
func TestLookupsHideWhatListingsHide(t *testing.T) {
	t.Parallel()
	world := testserver.DefaultWorld()
	imageID := func(name string) string {
		for _, im := range world.Images {
			if im.Name == name {
				return im.ID
			}
		}
		t.Fatalf("no image %s in the world", name)
		return ""
	}
	flavorID := func(name string) string {
		for _, f := range world.Flavors {
			if f.Name == name {
				return f.ID
			}
		}
		t.Fatalf("no flavor %s in the world", name)
		return ""
	}
	vtID := func(name string) string {
		for _, v := range world.VolumeTypes {
			if v.Name == name {
				return v.ID
			}
		}
		t.Fatalf("no volume type %s in the world", name)
		return ""
	}
	type lookup func(c *geostack.Client, ref string) (string, error)
	image := func(c *geostack.Client, ref string) (string, error) {
		img, err := c.Image(t.Context(), "SIN1", ref)
		if err != nil {
			return "", err
		}
		return img.Name, nil
	}
	flavor := func(c *geostack.Client, ref string) (string, error) {
		f, err := c.Flavor(t.Context(), "SIN1", ref)
		if err != nil {
			return "", err
		}
		return f.Name, nil
	}
	volumeType := func(c *geostack.Client, ref string) (string, error) {
		v, err := c.VolumeType(t.Context(), "TYO1", ref)
		if err != nil {
			return "", err
		}
		return v.Name, nil
	}
	tests := []struct {
		name   string
		viewer string
		lookup lookup
		ref    string
		want   string // "" for not found
	}{
		{"own domain's image by id", "gnc", image, imageID("gnc_centos"), "gnc_centos"},
		{"own domain's image by name", "gnc", image, "gnc_centos", "gnc_centos"},
		{"shared image by name", "gnc", image, "debian-12", "debian-12"},
		{"own project's backup by id", "gnc", image, imageID("gnct00000001-backup"), "gnct00000001-backup"},
		{"planted image by id", "gnc", image, imageID(testserver.PlantedImage), ""},
		{"planted image by name", "gnc", image, testserver.PlantedImage, ""},
		{"planted image, its owner", "zjp", image, imageID(testserver.PlantedImage), testserver.PlantedImage},
		{"another domain's image by id", "gnc", image, imageID("zjp_centos"), ""},
		{"another domain's image by name", "gnc", image, "zjp_centos", ""},
		{"another project's backup by id", "gnc", image, imageID("gnct00000002-backup"), ""},
		{"no such image", "gnc", image, "00000000-0000-0000-0000-000000000000", ""},
		{"own flavor by id", "gnc", flavor, flavorID("gnc_g-1gb"), "gnc_g-1gb"},
		{"own flavor by name", "gnc", flavor, "gnc_g-2gb", "gnc_g-2gb"},
		{"shared flavor by name", "gnc", flavor, "m1.small", "m1.small"},
		{"another domain's flavor by id", "gnc", flavor, flavorID("zjp_g-1gb"), ""},
		{"another domain's flavor by name", "gnc", flavor, "zsg_g-4gb", ""},
		{"own volume type by id", "zjp", volumeType, vtID("zjp_ssd"), "zjp_ssd"},
		{"shared volume type by name", "zjp", volumeType, "__DEFAULT__", "__DEFAULT__"},
		{"Cinder's alias of its default type", "zjp", volumeType, "default", "__DEFAULT__"},
		{"another domain's volume type by id", "zjp", volumeType, vtID("gnc_ssd"), ""},
		{"another domain's volume type by name", "zjp", volumeType, "gnc_hdd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, cfg := setup(t, testserver.Options{}, tt.viewer, 1)
			c := newClient(t, cfg)
			got, err := tt.lookup(c, tt.ref)
			if tt.want == "" {
				var nf *geostack.NotFoundError
				if !errors.As(err, &nf) || got != "" {
					t.Fatalf("got %q, %v; want a *geostack.NotFoundError", got, err)
				}
				if nf.Ref != tt.ref || !slices.Contains([]string{"image", "flavor", "volume type"}, nf.Kind) {
					t.Errorf("NotFoundError %+v does not name the lookup", nf)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
