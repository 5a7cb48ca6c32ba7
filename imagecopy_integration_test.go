//go:build integration

package geostack_test

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
)

// These tests copy between the two real Glance regions, TYO1 and SJC1, as
// the admin in project admin and privately, as tests that write do there;
// they delete what they make.

// realCopyClient is a client of the admin on project admin, home JP, on the
// real cloud, logging to the returned recorder.
func realCopyClient(t *testing.T, env *keystonetest.Env) (*geostack.Client, *recorder) {
	t.Helper()
	var locs []region.Location
	for _, loc := range []string{"JP", "US", "SG"} {
		locs = append(locs, region.Location{Name: loc, AuthURLs: []string{env.AuthURL(loc)}, Regions: env.Regions[loc]})
	}
	rec := &recorder{}
	c := newClient(t, geostack.Config{
		Locations: locs, Home: "JP", Primary: env.Primary,
		Credential: identity.Password{UserID: env.Admin.ID, Password: env.Admin.Password},
		Scope:      identity.Scope{ProjectID: env.Admin.ProjectID},
		Logger:     slog.New(rec),
	})
	return c, rec
}

// realSource uploads data into a new private image in region, deleted at
// the end of the test with every copy of it in the other Glance regions.
func realSource(t *testing.T, c *geostack.Client, in string, data testserver.ImageData, props map[string]string) *images.Image {
	t.Helper()
	ctx := t.Context()
	sc, err := c.ServiceClient(ctx, "image", in)
	if err != nil {
		t.Fatal(err)
	}
	private := images.ImageVisibilityPrivate
	im, err := images.Create(ctx, sc, images.CreateOpts{
		Name: "geostack-imagecopy-" + t.Name(), Visibility: &private, DiskFormat: "raw", ContainerFormat: "bare",
		MinDisk: 1, MinRAM: 64, Tags: []string{"geostack-test"}, Properties: props,
	}).Extract()
	if err != nil {
		t.Fatalf("create the source: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		for _, r := range []string{"TYO1", "SJC1"} {
			dst, err := c.ServiceClient(ctx, "image", r)
			if err != nil {
				t.Error(err)
				continue
			}
			for _, id := range realCopies(t, ctx, dst, geostack.ImageRef{Region: in, ID: im.ID}) {
				if err := images.Delete(ctx, dst, id).ExtractErr(); err != nil {
					t.Errorf("delete the copy %s in %s: %v", id, r, err)
				}
			}
		}
		if err := images.Delete(ctx, sc, im.ID).ExtractErr(); err != nil {
			t.Errorf("delete the source %s: %v", im.ID, err)
		}
	})
	if err := imagedata.Upload(ctx, sc, im.ID, struct{ io.Reader }{data.Reader()}).ExtractErr(); err != nil {
		t.Fatalf("upload the source: %v", err)
	}
	im, err = images.Get(ctx, sc, im.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// realCopies lists the ids of the images in sc's region marked as copies of
// src, hidden or not.
func realCopies(t *testing.T, ctx context.Context, sc *gophercloud.ServiceClient, src geostack.ImageRef) []string {
	t.Helper()
	var ids []string
	for _, hidden := range []bool{false, true} {
		pages, err := images.List(sc, images.ListOpts{Hidden: hidden}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ims, err := images.ExtractImages(pages)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ims {
			if im.Properties[geostack.CopiedFromProperty] == src.String() {
				ids = append(ids, im.ID)
			}
		}
	}
	return ids
}

func sha512Of(t *testing.T, r io.Reader) string {
	t.Helper()
	h := sha512.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestIntegrationCopyImage copies 20 MiB from TYO1 to SJC1 by streaming,
// checks the copy's data and metadata, tries again and gets the same copy,
// then copies another image by web-download from a web share of TYO1's
// file store, as an operator's share would serve it.
func TestIntegrationCopyImage(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	c, rec := realCopyClient(t, env)
	ctx := t.Context()
	data := testserver.ImageData{Size: 20 << 20, Seed: "integration"}
	src := realSource(t, c, "TYO1", data, map[string]string{"hw_disk_bus": "scsi", "os_distro": "geostack"})
	ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
	if src.Properties["os_hash_value"] != sha512Of(t, data.Reader()) {
		t.Fatalf("TYO1 hashed the source as %v", src.Properties["os_hash_value"])
	}

	cp, err := c.CopyImage(ctx, ref, "SJC1", geostack.CopyOptions{})
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	sjc, err := c.ServiceClient(ctx, "image", "SJC1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := images.Get(ctx, sjc, cp.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	want := metadataOf(src)
	want.Visibility = "private"
	want.Properties[geostack.CopiedFromProperty] = ref.String()
	if diff := cmp.Diff(want, metadataOf(got)); diff != "" {
		t.Errorf("the copy's metadata (-want +got):\n%s", diff)
	}
	if got.SizeBytes != data.Size || got.Checksum != src.Checksum || got.Properties["os_hash_value"] != src.Properties["os_hash_value"] {
		t.Errorf("the copy: %d bytes, checksum %s; want the source's %d and %s", got.SizeBytes, got.Checksum, data.Size, src.Checksum)
	}
	body, err := imagedata.Download(ctx, sjc, cp.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha512Of(t, body); sum != src.Properties["os_hash_value"] {
		t.Errorf("the copy's data hash to %s, want the source's", sum)
	}
	body.Close()

	again, err := c.CopyImage(ctx, ref, "SJC1", geostack.CopyOptions{})
	if err != nil || again.ID != cp.ID {
		t.Errorf("second CopyImage: %v, %v; want the first copy %s", again, err, cp.ID)
	}
	if diff := cmp.Diff([]string{cp.ID}, realCopies(t, ctx, sjc, ref)); diff != "" {
		t.Errorf("copies in SJC1 (-want +got):\n%s", diff)
	}

	t.Run("web-download", func(t *testing.T) {
		store := filepath.Join(svc.StateDir, "services", "glance-TYO1", "images")
		share := httptest.NewServer(http.FileServer(http.Dir(store)))
		t.Cleanup(share.Close)
		small := realSource(t, c, "TYO1", testserver.ImageData{Size: 5 << 20, Seed: "web"}, nil)
		cp, err := c.CopyImage(ctx, geostack.ImageRef{Region: "TYO1", ID: small.ID}, "SJC1",
			geostack.CopyOptions{WebDownloadURL: share.URL + "/{id}", PollInterval: 200 * time.Millisecond})
		if err != nil {
			t.Fatalf("CopyImage by web-download: %v", err)
		}
		if cp.Checksum != small.Checksum || cp.Properties["os_hash_value"] != small.Properties["os_hash_value"] {
			t.Errorf("the copy's checksum %s, want the source's %s", cp.Checksum, small.Checksum)
		}
		var method string
		for _, r := range rec.find("geostack: image copy done") {
			if r["source"] == "TYO1/"+small.ID {
				method = r["method"]
			}
		}
		if method != "web-download" {
			t.Errorf("copied by %q, want web-download", method)
		}
	})
}

// TestIntegrationCopyImageInterrupted cancels a 20 MiB copy from TYO1 to
// SJC1 in the middle of the stream: nothing is left behind in SJC1.
func TestIntegrationCopyImageInterrupted(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	env.Services(t)
	c, _ := realCopyClient(t, env)
	src := realSource(t, c, "TYO1", testserver.ImageData{Size: 20 << 20, Seed: "interrupted"}, nil)
	ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := c.CopyImage(ctx, ref, "SJC1", geostack.CopyOptions{Progress: func(n, _ int64) {
		if n >= 5<<20 {
			cancel()
		}
	}})
	var ce *geostack.CopyError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) || ce.Op != "stream" || ce.Image == "" || ce.CleanupErr != nil {
		t.Fatalf("CopyImage: %v; want it canceled mid-stream, its image deleted", err)
	}
	sjc, err := c.ServiceClient(t.Context(), "image", "SJC1")
	if err != nil {
		t.Fatal(err)
	}
	if err := images.Get(t.Context(), sjc, ce.Image).Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("the half-made image %s in SJC1: %v, want 404", ce.Image, err)
	}
	if ids := realCopies(t, t.Context(), sjc, ref); len(ids) != 0 {
		t.Errorf("copies left in SJC1: %v", ids)
	}
}
