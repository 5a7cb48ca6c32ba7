package testserver_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/internal/testserver"
)

// TestGlanceImageLifecycle creates an image, uploads and downloads its
// data, renames it and deletes it with gophercloud, and checks who else
// may see and change it.
func TestGlanceImageLifecycle(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	ctx := t.Context()
	client := func(user string) *gophercloud.ServiceClient {
		c, err := openstack.NewImageV2(provider(t, srv, "JP", user), gophercloud.EndpointOpts{Region: "TYO1"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	owner, other := client("gncu00000001"), client("gncu00000002")
	w := testserver.DefaultWorld()

	img, err := images.Create(ctx, owner, images.CreateOpts{Name: "gnc_upload", DiskFormat: "raw", ContainerFormat: "bare",
		Properties: map[string]string{"domain_id": w.Domain("gnc").ID}}).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	type view struct {
		Name, Status, Visibility, Owner, DiskFormat, DomainID string
	}
	viewOf := func(im *images.Image) view {
		d, _ := im.Properties["domain_id"].(string)
		return view{im.Name, string(im.Status), string(im.Visibility), im.Owner, im.DiskFormat, d}
	}
	want := view{"gnc_upload", "queued", "shared", w.Project("gnct00000001").ID, "raw", w.Domain("gnc").ID}
	if diff := cmp.Diff(want, viewOf(img)); diff != "" {
		t.Errorf("created image (-want +got):\n%s", diff)
	}

	data := bytes.Repeat([]byte("geostack"), 40000)
	if err := imagedata.Upload(ctx, owner, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("upload: %v", err)
	}
	got, err := images.Get(ctx, owner, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if got.Status != images.ImageStatusActive || got.SizeBytes != int64(len(data)) || got.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("after upload: status %s, size %d, checksum %s; want active, %d, %x", got.Status, got.SizeBytes, got.Checksum, len(data), sum)
	}
	if err := imagedata.Upload(ctx, owner, img.ID, bytes.NewReader(data)).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("second upload: %v, want 409", err)
	}
	rc, err := imagedata.Download(ctx, owner, img.ID).Extract()
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(back), err, len(data))
	}

	// Another project sees neither the shared image nor its data.
	if _, err := images.Get(ctx, other, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("other project's GET: %v, want 404", err)
	}
	if _, err := imagedata.Download(ctx, other, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("other project's download: %v, want 404", err)
	}
	// Nor may it publish one.
	if _, err := images.Create(ctx, owner, images.CreateOpts{Name: "gnc_public", Visibility: new(images.ImageVisibilityPublic)}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("member publishes an image: %v, want 403", err)
	}

	renamed, err := images.Update(ctx, owner, img.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "gnc_renamed"},
		images.UpdateImageProperty{Op: images.AddOp, Name: "os_distro", Value: "debian"},
	}).Extract()
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if renamed.Name != "gnc_renamed" || renamed.Properties["os_distro"] != "debian" {
		t.Errorf("after update: name %q, properties %v", renamed.Name, renamed.Properties)
	}
	if err := images.Delete(ctx, other, img.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("other project's DELETE: %v, want 404", err)
	}
	if err := images.Delete(ctx, owner, img.ID).ExtractErr(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := images.Get(ctx, owner, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("GET after delete: %v, want 404", err)
	}
	// A seeded public image may be seen but not changed by a member.
	centos := w.Image("gnc_centos").ID
	if err := images.Delete(ctx, owner, centos).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("member deletes a public image: %v, want 403", err)
	}
}
