//go:build integration

package keystonetest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/geostack/geostack/internal/keystonetest"
)

// These tests smoke-test scripts/services-up.sh: the services answer through
// the real catalog with a plain gophercloud client, and what they list is what
// services.json says was seeded. They check Glance's, Nova's and Cinder's own
// visibility rules, not geostack's domain rules.

// checkEndpoint fails the test unless the catalog gave sc the URL services.json
// registered (with the project id in place of the template).
func checkEndpoint(t *testing.T, svc *keystonetest.Services, sc *gophercloud.ServiceClient, region, typ, projectID string) {
	t.Helper()
	want := strings.ReplaceAll(svc.Endpoint(region, typ, "public"), "$(project_id)s", projectID) + "/"
	if sc.Endpoint != want {
		t.Errorf("%s endpoint in %s from the catalog = %q, want %q", typ, region, sc.Endpoint, want)
	}
}

// label names a seeded item in diffs.
func label(name, kind string) string { return name + " (" + kind + ")" }

// seededIn returns the labels of the seeded images among ids, sorted; ids of
// images other tests created meanwhile are left out.
func seededIn(seeded []keystonetest.Image, ids map[string]bool) []string {
	var out []string
	for _, im := range seeded {
		if ids[im.ID] {
			out = append(out, label(im.Name, im.Kind))
		}
	}
	slices.Sort(out)
	return out
}

// listImages lists with opts, page by page, and returns the ids and the number
// of non-empty pages.
func listImages(t *testing.T, sc *gophercloud.ServiceClient, opts images.ListOpts) (map[string]bool, int) {
	t.Helper()
	ids := map[string]bool{}
	pages := 0
	err := images.List(sc, opts).EachPage(t.Context(), func(_ context.Context, page pagination.Page) (bool, error) {
		ims, err := images.ExtractImages(page)
		if err != nil {
			return false, err
		}
		if len(ims) > 0 {
			pages++
		}
		for _, im := range ims {
			if ids[im.ID] {
				return false, fmt.Errorf("image %s listed twice", im.ID)
			}
			ids[im.ID] = true
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("list images %+v: %v", opts, err)
	}
	return ids, pages
}

// TestIntegrationServicesImages lists the images of both Glance regions as
// gncu00000001, five to a page: the default listing holds the public images,
// the project's own (community ones included) and the shared ones the project
// accepted; ?visibility=community holds every community image.
func TestIntegrationServicesImages(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	gnc := env.MustUser(t, "gncu00000001")
	pc := env.Login(t, gnc)

	regions := svc.Regions("image")
	if diff := cmp.Diff([]string{"TYO1", "SJC1"}, regions); diff != "" {
		t.Fatalf("Glance regions (-want +got):\n%s", diff)
	}
	for _, region := range regions {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			sc, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: region})
			if err != nil {
				t.Fatal(err)
			}
			checkEndpoint(t, svc, sc, region, "image", gnc.ProjectID)
			seeded := svc.Images[region]

			var wantDefault, wantCommunity []string
			for _, im := range seeded {
				accepted := slices.ContainsFunc(im.Members, func(m keystonetest.ImageMember) bool {
					return m.ProjectID == gnc.ProjectID && m.Status == "accepted"
				})
				if im.Visibility == "public" || im.Owner == gnc.ProjectID || accepted {
					wantDefault = append(wantDefault, label(im.Name, im.Kind))
				}
				if im.Visibility == "community" {
					wantCommunity = append(wantCommunity, label(im.Name, im.Kind))
				}
			}
			slices.Sort(wantDefault)
			slices.Sort(wantCommunity)

			const pageSize = 5
			ids, pages := listImages(t, sc, images.ListOpts{Limit: pageSize})
			if diff := cmp.Diff(wantDefault, seededIn(seeded, ids)); diff != "" {
				t.Errorf("default listing as %s (-want +got):\n%s", gnc.Name, diff)
			}
			if min := (len(wantDefault) + pageSize - 1) / pageSize; pages < min || min < 2 {
				t.Errorf("default listing took %d pages of %d for %d images, want at least %d (and at least 2)", pages, pageSize, len(wantDefault), min)
			}

			ids, _ = listImages(t, sc, images.ListOpts{Limit: pageSize, Visibility: images.ImageVisibilityCommunity})
			if diff := cmp.Diff(wantCommunity, seededIn(seeded, ids)); diff != "" {
				t.Errorf("?visibility=community as %s (-want +got):\n%s", gnc.Name, diff)
			}

			// Glance filters by a custom property server-side.
			planted := svc.ImagesNamed(region, "gnc_centos_planted")
			if len(planted) != 1 {
				t.Fatalf("%d seeded images named gnc_centos_planted, want 1", len(planted))
			}
			im, err := images.Get(t.Context(), sc, planted[0].ID).Extract()
			if err != nil {
				t.Fatalf("get gnc_centos_planted: %v", err)
			}
			got := []string{im.Name, im.Owner, string(im.Visibility), fmt.Sprint(im.Properties["domain_id"]), fmt.Sprint(im.SizeBytes), im.Checksum}
			want := []string{"gnc_centos_planted", planted[0].Owner, "community", planted[0].Properties["domain_id"], fmt.Sprint(planted[0].Size), planted[0].Checksum}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("gnc_centos_planted (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntegrationServicesFlavors lists Nova's flavors as gncu00000001, three
// to a page: the public ones and the private ones gnc's project has access to.
func TestIntegrationServicesFlavors(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	gnc := env.MustUser(t, "gncu00000001")
	sc, err := openstack.NewComputeV2(env.Login(t, gnc), gophercloud.EndpointOpts{Region: "TYO1"})
	if err != nil {
		t.Fatal(err)
	}
	checkEndpoint(t, svc, sc, "TYO1", "compute", gnc.ProjectID)

	var want []string
	byID := map[string]keystonetest.Flavor{}
	for _, f := range svc.Flavors {
		byID[f.ID] = f
		if f.IsPublic || slices.Contains(f.Access, gnc.ProjectID) {
			want = append(want, label(f.Name, f.Kind))
		}
	}
	slices.Sort(want)
	var got []string
	pages := 0
	err = flavors.ListDetail(sc, flavors.ListOpts{Limit: 3}).EachPage(t.Context(), func(_ context.Context, page pagination.Page) (bool, error) {
		fs, err := flavors.ExtractFlavors(page)
		if err != nil {
			return false, err
		}
		if len(fs) > 0 {
			pages++
		}
		for _, f := range fs {
			if s, ok := byID[f.ID]; ok {
				got = append(got, label(f.Name, s.Kind))
				if f.IsPublic != s.IsPublic || f.RAM != s.RAM || f.VCPUs != s.VCPUs {
					t.Errorf("flavor %s: public %v, %d MiB, %d vCPUs; want %v, %d, %d", f.Name, f.IsPublic, f.RAM, f.VCPUs, s.IsPublic, s.RAM, s.VCPUs)
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("list flavors: %v", err)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flavors as %s (-want +got):\n%s", gnc.Name, diff)
	}
	if pages < 2 {
		t.Errorf("flavors took %d page(s) of 3, want several", pages)
	}
}

// TestIntegrationServicesVolumeTypes lists Cinder's volume types as
// gncu00000001, two to a page: the public ones and the private ones gnc's
// project has access to.
func TestIntegrationServicesVolumeTypes(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	gnc := env.MustUser(t, "gncu00000001")
	sc, err := openstack.NewBlockStorageV3(env.Login(t, gnc), gophercloud.EndpointOpts{Region: "TYO1"})
	if err != nil {
		t.Fatal(err)
	}
	checkEndpoint(t, svc, sc, "TYO1", "volumev3", gnc.ProjectID)

	var want []string
	byID := map[string]keystonetest.VolumeType{}
	for _, v := range svc.VolumeTypes {
		byID[v.ID] = v
		if v.IsPublic || slices.Contains(v.Access, gnc.ProjectID) {
			want = append(want, label(v.Name, v.Kind))
		}
	}
	slices.Sort(want)
	var got []string
	pages := 0
	err = volumetypes.List(sc, volumetypes.ListOpts{Limit: 2}).EachPage(t.Context(), func(_ context.Context, page pagination.Page) (bool, error) {
		vs, err := volumetypes.ExtractVolumeTypes(page)
		if err != nil {
			return false, err
		}
		if len(vs) > 0 {
			pages++
		}
		for _, v := range vs {
			if s, ok := byID[v.ID]; ok {
				got = append(got, label(v.Name, s.Kind))
				if v.IsPublic != s.IsPublic {
					t.Errorf("volume type %s: public %v, want %v", v.Name, v.IsPublic, s.IsPublic)
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("list volume types: %v", err)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("volume types as %s (-want +got):\n%s", gnc.Name, diff)
	}
	if pages < 2 {
		t.Errorf("volume types took %d page(s) of 2, want several", pages)
	}
}

// chunked hides its reader's length, so that the upload goes out with
// Transfer-Encoding: chunked, as a streamed copy does.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestIntegrationServicesImageData uploads 1 MiB, chunked, to each Glance
// region and downloads it back. The admin uploads into its own project,
// privately, so that the members' listings stay exactly the seeded ones; the
// image is deleted at the end.
func TestIntegrationServicesImageData(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	pc := env.Login(t, env.Admin)
	data := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{'g', 'e', 'o'})
	if _, err := rng.Read(data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	for _, region := range svc.Regions("image") {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			sc, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: region})
			if err != nil {
				t.Fatal(err)
			}
			private := images.ImageVisibilityPrivate
			im, err := images.Create(ctx, sc, images.CreateOpts{
				Name: "keystonetest-upload-" + region, Visibility: &private,
				DiskFormat: "raw", ContainerFormat: "bare",
			}).Extract()
			if err != nil {
				t.Fatalf("create image: %v", err)
			}
			t.Cleanup(func() {
				if err := images.Delete(context.WithoutCancel(ctx), sc, im.ID).ExtractErr(); err != nil {
					t.Errorf("delete image %s: %v", im.ID, err)
				}
			})
			if err := imagedata.Upload(ctx, sc, im.ID, chunked{bytes.NewReader(data)}).ExtractErr(); err != nil {
				t.Fatalf("upload 1 MiB: %v", err)
			}
			got, err := images.Get(ctx, sc, im.ID).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != images.ImageStatusActive || got.SizeBytes != int64(len(data)) {
				t.Errorf("after upload: status %s, size %d; want active, %d", got.Status, got.SizeBytes, len(data))
			}
			rc, err := imagedata.Download(ctx, sc, im.ID).Extract()
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			defer rc.Close()
			h := sha256.New()
			n, err := io.Copy(h, rc)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if n != int64(len(data)) || !bytes.Equal(h.Sum(nil), sum[:]) {
				t.Errorf("downloaded %d bytes with another hash, want the %d uploaded", n, len(data))
			}
		})
	}
}
