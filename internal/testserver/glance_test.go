package testserver_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/testserver"
)

// imageClient is gncu00000001's Glance client in region.
func imageClient(t *testing.T, srv *testserver.Server, region string) *gophercloud.ServiceClient {
	t.Helper()
	return imageClientOf(t, srv, "gncu00000001", region)
}

func imageClientOf(t *testing.T, srv *testserver.Server, user, region string) *gophercloud.ServiceClient {
	t.Helper()
	c, err := openstack.NewImageV2(provider(t, srv, "JP", user), gophercloud.EndpointOpts{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stream hides a reader's length, so that uploads go chunked, as a copy
// streams them.
type stream struct{ r io.Reader }

func (s stream) Read(p []byte) (int, error) { return s.r.Read(p) }

// sums is what Glance reports of data.
type sums struct {
	Size                int64
	Checksum, Algo, Sum string
}

func sumsOf(t *testing.T, r io.Reader, algo string) sums {
	t.Helper()
	h := map[string]func() hash.Hash{"sha512": sha512.New, "sha256": sha256.New}[algo]()
	m := md5.New()
	n, err := io.Copy(io.MultiWriter(h, m), r)
	if err != nil {
		t.Fatal(err)
	}
	return sums{n, hex.EncodeToString(m.Sum(nil)), algo, hex.EncodeToString(h.Sum(nil))}
}

func sumsOfImage(im *images.Image) sums {
	algo, _ := im.Properties["os_hash_algo"].(string)
	value, _ := im.Properties["os_hash_value"].(string)
	return sums{im.SizeBytes, im.Checksum, algo, value}
}

// newImage creates a raw, bare image in c's region and returns it.
func newImage(t *testing.T, c *gophercloud.ServiceClient, props map[string]string) *images.Image {
	t.Helper()
	im, err := images.Create(t.Context(), c, images.CreateOpts{Name: "test", DiskFormat: "raw", ContainerFormat: "bare", Properties: props}).Extract()
	if err != nil {
		t.Fatalf("images.Create: %v", err)
	}
	return im
}

func getImage(t *testing.T, c *gophercloud.ServiceClient, id string) *images.Image {
	t.Helper()
	im, err := images.Get(t.Context(), c, id).Extract()
	if err != nil {
		t.Fatalf("images.Get %s: %v", id, err)
	}
	return im
}

func download(t *testing.T, c *gophercloud.ServiceClient, id string) ([]byte, error) {
	t.Helper()
	rc, err := imagedata.Download(t.Context(), c, id).Extract()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestGlanceImageLifecycle creates an image, uploads and downloads its
// data (chunked, as a copy streams it, and with a length, as a file upload
// sends it), renames it and deletes it with gophercloud, and checks who
// else may see and change it.
func TestGlanceImageLifecycle(t *testing.T) {
	t.Parallel()
	data := testserver.ImageData{Size: 300 << 10, Seed: "lifecycle"}
	wantData, _ := io.ReadAll(data.Reader())
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"chunked", stream{data.Reader()}},
		{"with a length", bytes.NewReader(wantData)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, testserver.Options{})
			c := imageClient(t, srv, "TYO1")
			ctx := t.Context()
			w := testserver.DefaultWorld()

			res := images.Create(ctx, c, images.CreateOpts{
				Name: "lifecycle", DiskFormat: "qcow2", ContainerFormat: "bare", MinDisk: 3, MinRAM: 512,
				Tags: []string{"t1"}, Properties: map[string]string{"domain_id": w.Domain("gnc").ID, "hw_disk_bus": "virtio"},
			})
			im, err := res.Extract()
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if loc := res.Header.Get("Location"); !strings.HasSuffix(loc, "/TYO1/image/v2/images/"+im.ID) {
				t.Errorf("Location = %q", loc)
			}
			want := map[string]any{
				"status": images.ImageStatusQueued, "visibility": images.ImageVisibilityShared, "owner": w.Project("gnct00000001").ID,
				"size": int64(0), "disk": "qcow2", "container": "bare", "min_disk": 3, "min_ram": 512, "tags": []string{"t1"},
				"import": []string{"glance-direct", "web-download", "copy-image"},
				"props":  map[string]any{"domain_id": w.Domain("gnc").ID, "hw_disk_bus": "virtio", "os_hash_algo": nil, "os_hash_value": nil},
			}
			got := map[string]any{
				"status": im.Status, "visibility": im.Visibility, "owner": im.Owner, "size": im.SizeBytes, "disk": im.DiskFormat,
				"container": im.ContainerFormat, "min_disk": im.MinDiskGigabytes, "min_ram": im.MinRAMMegabytes, "tags": im.Tags,
				"import": im.OpenStackImageImportMethods, "props": im.Properties,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("created image (-want +got):\n%s", diff)
			}
			if _, err := download(t, c, im.ID); !gophercloud.ResponseCodeIs(err, http.StatusNoContent) {
				t.Errorf("download of a queued image: %v, want 204 (which gophercloud reports as an error)", err)
			}

			if err := imagedata.Upload(ctx, c, im.ID, tt.body).ExtractErr(); err != nil {
				t.Fatalf("Upload: %v", err)
			}
			after := getImage(t, c, im.ID)
			if diff := cmp.Diff(sumsOf(t, data.Reader(), "sha512"), sumsOfImage(after)); diff != "" {
				t.Errorf("sizes and hashes after upload (-computed +Glance's):\n%s", diff)
			}
			if after.Status != images.ImageStatusActive {
				t.Errorf("status after upload = %s, want active", after.Status)
			}
			b, err := download(t, c, im.ID)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if !bytes.Equal(b, wantData) {
				t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(b), len(wantData))
			}
			err = imagedata.Upload(ctx, c, im.ID, strings.NewReader("again")).ExtractErr()
			if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
				t.Errorf("second upload: %v, want 409", err)
			}

			// Another region's Glance has its own images.
			if err := images.Get(ctx, imageClient(t, srv, "SJC1"), im.ID).Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("Get in SJC1 of a TYO1 image: %v, want 404", err)
			}
			// Another project sees neither the shared image nor its data,
			// and may not delete it.
			other := imageClientOf(t, srv, "gncu00000002", "TYO1")
			if err := images.Get(ctx, other, im.ID).Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("Get by another project: %v, want 404", err)
			}
			if _, err := download(t, other, im.ID); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("download by another project: %v, want 404", err)
			}
			if err := images.Delete(ctx, other, im.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("Delete by another project: %v, want 404 (it cannot see a shared image it is no member of)", err)
			}

			renamed, err := images.Update(ctx, c, im.ID, images.UpdateOpts{
				images.ReplaceImageName{NewName: "gnc_renamed"},
				images.UpdateImageProperty{Op: images.AddOp, Name: "os_distro", Value: "debian"},
			}).Extract()
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if renamed.Name != "gnc_renamed" || renamed.Properties["os_distro"] != "debian" {
				t.Errorf("after Update: name %q, properties %v", renamed.Name, renamed.Properties)
			}

			if err := images.Delete(ctx, c, im.ID).ExtractErr(); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if err := images.Get(ctx, c, im.ID).Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("Get after Delete: %v, want 404", err)
			}
			if err := images.Delete(ctx, c, im.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("second Delete: %v, want 404", err)
			}
			// A seeded public image may be seen but not changed by a member.
			if err := images.Delete(ctx, c, w.Image("gnc_centos").ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
				t.Errorf("a member deletes a public image: %v, want 403", err)
			}
		})
	}
}

func TestGlancePatch(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	c := imageClient(t, srv, "SJC1")
	tests := []struct {
		name       string
		patch      images.UpdateOpts
		wantStatus int // 0: 200
		wantProps  map[string]string
	}{
		{"add", images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: "new", Value: "v"}}, 0,
			map[string]string{"keep": "k", "gone": "g", "new": "v"}},
		{"replace", images.UpdateOpts{images.UpdateImageProperty{Op: images.ReplaceOp, Name: "keep", Value: "v"}}, 0,
			map[string]string{"keep": "v", "gone": "g"}},
		{"remove", images.UpdateOpts{images.UpdateImageProperty{Op: images.RemoveOp, Name: "gone"}}, 0,
			map[string]string{"keep": "k"}},
		{"replace a missing one", images.UpdateOpts{images.UpdateImageProperty{Op: images.ReplaceOp, Name: "nothere", Value: "v"}}, http.StatusConflict, nil},
		{"remove a missing one", images.UpdateOpts{images.UpdateImageProperty{Op: images.RemoveOp, Name: "nothere"}}, http.StatusConflict, nil},
		{"read-only", images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: "os_hash_value", Value: "v"}}, http.StatusForbidden, nil},
		{"reserved", images.UpdateOpts{images.UpdateImageProperty{Op: images.AddOp, Name: "os_glance_x", Value: "v"}}, http.StatusForbidden, nil},
		{"publicize", images.UpdateOpts{images.UpdateVisibility{Visibility: images.ImageVisibilityPublic}}, http.StatusForbidden, nil},
		{"all or nothing", images.UpdateOpts{
			images.UpdateImageProperty{Op: images.AddOp, Name: "new", Value: "v"},
			images.UpdateImageProperty{Op: images.RemoveOp, Name: "nothere"},
		}, http.StatusConflict, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			im := newImage(t, c, map[string]string{"keep": "k", "gone": "g"})
			_, err := images.Update(t.Context(), c, im.ID, tt.patch).Extract()
			if tt.wantStatus != 0 {
				if !gophercloud.ResponseCodeIs(err, tt.wantStatus) {
					t.Fatalf("Update: %v, want %d", err, tt.wantStatus)
				}
				tt.wantProps = map[string]string{"keep": "k", "gone": "g"} // unchanged
			} else if err != nil {
				t.Fatalf("Update: %v", err)
			}
			got := map[string]string{}
			for k, v := range getImage(t, c, im.ID).Properties {
				if s, ok := v.(string); ok {
					got[k] = s
				}
			}
			if diff := cmp.Diff(tt.wantProps, got); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGlanceCreateRefusals(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	c := imageClient(t, srv, "TYO1")
	public := images.ImageVisibilityPublic
	tests := []struct {
		name string
		opts images.CreateOpts
		want int
	}{
		{"public by a member", images.CreateOpts{Name: "x", Visibility: &public}, http.StatusForbidden},
		{"unknown disk format", images.CreateOpts{Name: "x", DiskFormat: "qcow3"}, http.StatusBadRequest},
		{"reserved property", images.CreateOpts{Name: "x", Properties: map[string]string{"os_glance_x": "1"}}, http.StatusForbidden},
		{"read-only attribute", images.CreateOpts{Name: "x", Properties: map[string]string{"checksum": "1"}}, http.StatusForbidden},
		{"another owner", images.CreateOpts{Name: "x", Properties: map[string]string{"owner": "someone"}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := images.Create(t.Context(), c, tt.opts).Extract(); !gophercloud.ResponseCodeIs(err, tt.want) {
				t.Errorf("Create: %v, want %d", err, tt.want)
			}
		})
	}
}

func TestGlanceSeededImagesHaveData(t *testing.T) {
	t.Parallel()
	big := testserver.ImageData{Size: 5 << 20, Seed: "big"}
	w := testserver.DefaultWorld()
	w.Images = append(w.Images, testserver.Image{
		ID: "00000000-0000-4000-8000-000000000001", Name: "big", Owner: w.Project("gnct00000001").ID,
		Visibility: "private", Region: "OSA1", Data: &big, DiskFormat: "qcow2",
	})
	srv := testserver.New(t, testserver.Options{World: w, ImageHashAlgos: map[string]string{"SIN1": "sha256"}})
	for _, tt := range []struct {
		region, image string
		data          testserver.ImageData
		algo          string
	}{
		{"TYO1", "gnc_centos", testserver.ImageData{Size: 4 << 10, Seed: w.Image("gnc_centos").ID}, "sha512"},
		{"SIN1", "gnc_centos", testserver.ImageData{Size: 4 << 10, Seed: w.Image("gnc_centos").ID}, "sha256"},
		{"OSA1", "big", big, "sha512"},
	} {
		t.Run(tt.region+"/"+tt.image, func(t *testing.T) {
			t.Parallel()
			c := imageClient(t, srv, tt.region)
			im := getImage(t, c, w.Image(tt.image).ID)
			if diff := cmp.Diff(sumsOf(t, tt.data.Reader(), tt.algo), sumsOfImage(im)); diff != "" {
				t.Errorf("sizes and hashes (-computed +Glance's):\n%s", diff)
			}
			b, err := download(t, c, im.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sumsOf(t, tt.data.Reader(), tt.algo), sumsOf(t, bytes.NewReader(b), tt.algo)); diff != "" {
				t.Errorf("downloaded data (-seeded +downloaded):\n%s", diff)
			}
		})
	}
	if err := images.Get(t.Context(), imageClient(t, srv, "TYO1"), "00000000-0000-4000-8000-000000000001").Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("an OSA1 image in TYO1: %v, want 404", err)
	}
}

func TestImageDataIsDeterministic(t *testing.T) {
	t.Parallel()
	read := func(d testserver.ImageData, chunk int) []byte {
		var out []byte
		r := d.Reader()
		buf := make([]byte, chunk)
		for {
			n, err := r.Read(buf)
			out = append(out, buf[:n]...)
			if err == io.EOF {
				return out
			}
		}
	}
	d := testserver.ImageData{Size: 1<<20 + 7, Seed: "s"}
	a, b := read(d, 1000), read(d, 64<<10)
	if len(a) != int(d.Size) || !bytes.Equal(a, b) {
		t.Fatalf("two reads of %d bytes: %d and %d bytes, equal %v", d.Size, len(a), len(b), bytes.Equal(a, b))
	}
	if bytes.Equal(a[:4096], a[4096:8192]) {
		t.Error("consecutive blocks are equal")
	}
	if bytes.Equal(a, read(testserver.ImageData{Size: d.Size, Seed: "t"}, 4096)) {
		t.Error("another seed gives the same bytes")
	}
}

func TestGlanceDataFaults(t *testing.T) {
	t.Parallel()
	data := testserver.ImageData{Size: 1 << 20, Seed: "faults"}
	tests := []struct {
		name  string
		fault testserver.Fault
		check func(t *testing.T, c *gophercloud.ServiceClient, id string)
	}{
		{
			name: "download dropped", fault: testserver.Fault{DropDownloadAfter: 100 << 10},
			check: func(t *testing.T, c *gophercloud.ServiceClient, id string) {
				b, err := download(t, c, id)
				if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 100<<10 {
					t.Errorf("download: %d bytes, %v; want %d and an unexpected EOF", len(b), err, 100<<10)
				}
			},
		},
		{
			name: "download corrupted", fault: testserver.Fault{CorruptDownloadAfter: 12345},
			check: func(t *testing.T, c *gophercloud.ServiceClient, id string) {
				b, err := download(t, c, id)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := io.ReadAll(data.Reader())
				var diffs []int
				for i := range want {
					if b[i] != want[i] {
						diffs = append(diffs, i)
					}
				}
				if diff := cmp.Diff([]int{12345}, diffs); diff != "" {
					t.Errorf("offsets of changed bytes (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "upload answered 503", fault: testserver.Fault{UploadStatus: http.StatusServiceUnavailable, UploadStatusAfter: 200 << 10},
			check: func(t *testing.T, c *gophercloud.ServiceClient, _ string) {
				im := newImage(t, c, nil)
				err := imagedata.Upload(t.Context(), c, im.ID, stream{data.Reader()}).ExtractErr()
				if !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
					t.Errorf("upload: %v, want 503", err)
				}
				if got := getImage(t, c, im.ID); got.Status != images.ImageStatusQueued || got.SizeBytes != 0 {
					t.Errorf("after the failed upload: %s with %d bytes, want queued without data", got.Status, got.SizeBytes)
				}
			},
		},
		{
			name: "upload corrupted", fault: testserver.Fault{CorruptUploadAfter: 4321},
			check: func(t *testing.T, c *gophercloud.ServiceClient, _ string) {
				im := newImage(t, c, nil)
				if err := imagedata.Upload(t.Context(), c, im.ID, stream{data.Reader()}).ExtractErr(); err != nil {
					t.Fatalf("upload: %v", err)
				}
				sent, got := sumsOf(t, data.Reader(), "sha512"), sumsOfImage(getImage(t, c, im.ID))
				if got.Size != sent.Size || got.Checksum == sent.Checksum || got.Sum == sent.Sum {
					t.Errorf("after a corrupted upload Glance reports %+v; want the size sent, %d, with other hashes than %+v", got, sent.Size, sent)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, testserver.Options{})
			c := imageClient(t, srv, "TYO1")
			im := newImage(t, c, nil)
			if err := imagedata.Upload(t.Context(), c, im.ID, stream{data.Reader()}).ExtractErr(); err != nil {
				t.Fatal(err)
			}
			srv.SetFault(testserver.Service("image", "TYO1"), tt.fault)
			tt.check(t, c, im.ID)
		})
	}
}

func TestGlanceWebDownload(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{ImportMethods: map[string][]string{"SIN1": {}}})
	src := imageClient(t, srv, "TYO1")
	data := testserver.ImageData{Size: 2 << 20, Seed: "import"}
	from := newImage(t, src, nil)
	if err := imagedata.Upload(t.Context(), src, from.ID, stream{data.Reader()}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	share := srv.ImageShareURL("TYO1") + "/" + from.ID

	tests := []struct {
		name       string
		region     string
		uri        string
		fault      testserver.Fault // at the share
		wantStatus int              // of the import call; 0 for 202
		want       images.ImageStatus
	}{
		{"from the share", "SJC1", share, testserver.Fault{}, 0, images.ImageStatusActive},
		{"missing at the share", "SJC1", srv.ImageShareURL("TYO1") + "/nothere", testserver.Fault{}, 0, images.ImageStatusQueued},
		{"share drops", "SJC1", share, testserver.Fault{DropDownloadAfter: 1 << 20}, 0, images.ImageStatusQueued},
		{"filtered URI", "SJC1", "ftp://127.0.0.1/x", testserver.Fault{}, http.StatusBadRequest, images.ImageStatusQueued},
		{"not offered", "SIN1", share, testserver.Fault{}, http.StatusBadRequest, images.ImageStatusQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the share's fault is the source region's.
			srv.SetFault(testserver.Service("image", "TYO1"), tt.fault)
			defer srv.ClearFaults()
			c := imageClient(t, srv, tt.region)
			im := newImage(t, c, nil)
			err := imageimport.Create(t.Context(), c, im.ID, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: tt.uri}).ExtractErr()
			if tt.wantStatus != 0 {
				if !gophercloud.ResponseCodeIs(err, tt.wantStatus) {
					t.Fatalf("import: %v, want %d", err, tt.wantStatus)
				}
			} else if err != nil {
				t.Fatalf("import: %v", err)
			}
			srv.WaitImports()
			got := getImage(t, c, im.ID)
			if got.Status != tt.want {
				t.Errorf("status after the import = %s, want %s", got.Status, tt.want)
			}
			if _, busy := got.Properties["os_glance_import_task"]; busy {
				t.Error("os_glance_import_task is still set after the import ended")
			}
			if tt.want == images.ImageStatusActive {
				if diff := cmp.Diff(sumsOfImage(getImage(t, src, from.ID)), sumsOfImage(got)); diff != "" {
					t.Errorf("imported sizes and hashes (-source +imported):\n%s", diff)
				}
				err := imageimport.Create(t.Context(), c, im.ID, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: tt.uri}).ExtractErr()
				if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
					t.Errorf("import into an active image: %v, want 409", err)
				}
			}
		})
	}

	info, err := imageimport.Get(t.Context(), imageClient(t, srv, "SJC1")).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"glance-direct", "web-download", "copy-image"}, info.ImportMethods.Value); diff != "" {
		t.Errorf("import methods (-want +got):\n%s", diff)
	}
}

func TestGlanceDiscardImageData(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{DiscardImageData: true})
	c := imageClient(t, srv, "TYO1")
	im := newImage(t, c, nil)
	data := testserver.ImageData{Size: 3 << 20, Seed: "discard"}
	if err := imagedata.Upload(t.Context(), c, im.ID, stream{data.Reader()}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sumsOf(t, data.Reader(), "sha512"), sumsOfImage(getImage(t, c, im.ID))); diff != "" {
		t.Errorf("sizes and hashes (-computed +Glance's):\n%s", diff)
	}
	if _, err := download(t, c, im.ID); !gophercloud.ResponseCodeIs(err, http.StatusGone) {
		t.Errorf("download of discarded data: %v, want 410", err)
	}
	// Seeded images keep their data.
	if b, err := download(t, c, testserver.DefaultWorld().Image("gnc_centos").ID); err != nil || len(b) != 4<<10 {
		t.Errorf("download of a seeded image: %d bytes, %v", len(b), err)
	}
}

// TestGlanceKeptDataIsBounded: the fake keeps an uploaded image's data in
// memory, 64 MiB of it at the most; a larger upload is refused with 413
// and the image stays queued (Options.DiscardImageData lifts the bound).
func TestGlanceKeptDataIsBounded(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	c := imageClient(t, srv, "TYO1")
	im := newImage(t, c, nil)
	data := testserver.ImageData{Size: 64<<20 + 1, Seed: "too large"}
	err := imagedata.Upload(t.Context(), c, im.ID, stream{data.Reader()}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusRequestEntityTooLarge) {
		t.Errorf("upload of 64 MiB + 1: %v, want 413", err)
	}
	if got := getImage(t, c, im.ID); got.Status != images.ImageStatusQueued || got.SizeBytes != 0 {
		t.Errorf("after the refused upload: %s with %d bytes, want queued without data", got.Status, got.SizeBytes)
	}
}

func TestGlanceListFilters(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	c := imageClient(t, srv, "OSA1")
	mark := newImage(t, c, map[string]string{"geostack_test": "a"})
	hidden := newImage(t, c, map[string]string{"geostack_test": "a"})
	yes := true
	if _, err := images.Update(t.Context(), c, hidden.ID, images.UpdateOpts{images.ReplaceImageHidden{NewHidden: yes}}).Extract(); err != nil {
		t.Fatal(err)
	}
	newImage(t, c, map[string]string{"geostack_test": "b"})
	tests := []struct {
		name string
		opts listWithProperty
		want []string
	}{
		{"property", listWithProperty{images.ListOpts{}, "geostack_test", "a"}, []string{mark.ID}},
		{"property, hidden", listWithProperty{images.ListOpts{Hidden: true}, "geostack_test", "a"}, []string{hidden.ID}},
		{"property and status", listWithProperty{images.ListOpts{Status: images.ImageStatusActive}, "geostack_test", "a"}, nil},
		{"property and owner", listWithProperty{images.ListOpts{Status: images.ImageStatusQueued, Owner: mark.Owner}, "geostack_test", "a"}, []string{mark.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ids, _ := walk(t, images.List(c, tt.opts), images.ExtractImages, func(i images.Image) string { return i.ID })
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("listed (-want +got):\n%s", diff)
			}
		})
	}
}

// listWithProperty adds a property filter to a list, as Glance accepts.
type listWithProperty struct {
	images.ListOpts
	key, value string
}

func (l listWithProperty) ToImageListQuery() (string, error) {
	q, err := l.ListOpts.ToImageListQuery()
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(q, "?") {
		sep = "&"
	}
	return q + sep + l.key + "=" + l.value, nil
}

// TestGlanceListQueries pins the list filters and orders Glance 25 has
// besides the field and property filters (as probed on the real one): every
// tag named, protected and os_hidden as booleans, size ranges that leave
// out images without data, created_at and updated_at with an operator, the
// core fields that filter by equality only, and Glance's 400s for values
// it cannot read.
func TestGlanceListQueries(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewManual(t0)
	srv := testserver.New(t, testserver.Options{Clock: clk})
	pc := provider(t, srv, "JP", "gncu00000001")
	c, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: "OSA1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	protected := true
	a, err := images.Create(ctx, c, images.CreateOpts{Name: "a", DiskFormat: "raw", ContainerFormat: "bare", Tags: []string{"x", "y"},
		Protected: &protected, MinDisk: 3, Properties: map[string]string{"geostack_q": "1"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("q"), 1000)
	if err := imagedata.Upload(ctx, c, a.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	b := newImage(t, c, map[string]string{"geostack_q": "1"})
	if _, err := images.Update(ctx, c, b.ID, images.UpdateOpts{images.ReplaceImageTags{NewTags: []string{"x"}}}).Extract(); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	names := map[string]string{a.ID: "a", b.ID: "b"}
	tests := []struct {
		query      string
		wantStatus int
		want       []string // in the order listed
	}{
		{"", 200, []string{"b", "a"}},
		{"sort=created_at:asc", 200, []string{"a", "b"}},
		{"sort=size:asc", 200, []string{"b", "a"}}, // no data sorts first
		{"tag=x", 200, []string{"b", "a"}},
		{"tag=x&tag=y", 200, []string{"a"}},
		{"tag=z", 200, nil},
		{"tag=", 200, nil},
		{"protected=true", 200, []string{"a"}},
		{"protected=FALSE", 200, []string{"b"}},
		{"protected=maybe", 400, nil},
		{"os_hidden=maybe", 400, nil},
		{"size_min=1000", 200, []string{"a"}},
		{"size_min=1001", 200, nil},
		{"size_max=999", 200, nil},
		{"size_min=-1", 200, []string{"a"}},
		{"size_min=1.5", 400, nil},
		{"size=1000", 200, []string{"a"}},
		{"min_disk=3", 200, []string{"a"}},
		{"min_disk=abc", 200, nil},
		{"checksum=" + hex.EncodeToString(sum[:]), 200, []string{"a"}},
		{"owner=in:" + a.Owner + ",x", 200, nil}, // owner has no in: form
		{"status=in:active,queued", 200, []string{"b", "a"}},
		{"created_at=2025-06-01T00:00:00Z", 200, []string{"a"}},
		{"created_at=lt:2025-06-01T00:05:00Z", 200, []string{"a"}},
		{"created_at=gte:2025-06-01T00:05:00", 200, []string{"b"}},
		{"created_at=neq:2025-06-01T00:00:00Z", 200, []string{"b"}},
		{"updated_at=gt:2025-06-01", 200, []string{"b"}},
		{"created_at=foo:2025-06-01T00:00:00Z", 400, nil},
		{"created_at=bogus", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			u := c.ServiceURL("images") + "?geostack_q=1"
			if tt.query != "" {
				u += "&" + tt.query
			}
			var body struct{ Images []struct{ ID string } }
			resp, err := c.Get(t.Context(), u, &body, &gophercloud.RequestOpts{OkCodes: []int{200, 400}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, im := range body.Images {
				got = append(got, names[im.ID])
			}
			if diff := cmp.Diff(tt.want, got); resp.StatusCode != tt.wantStatus || diff != "" {
				t.Errorf("status %d, want %d; listed (-want +got):\n%s", resp.StatusCode, tt.wantStatus, diff)
			}
		})
	}
}

// TestGlanceErrorPages: Glance writes its errors as JSON to a client that
// accepts JSON, as an HTML page to any other.
func TestGlanceErrorPages(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	pc := provider(t, srv, "JP", "gncu00000001")
	missing := srv.URL("JP") + "/TYO1/image/v2/images/00000000-0000-0000-0000-000000000000"
	tests := []struct {
		accept, wantType string
		wantBody         any // decoded, for JSON
	}{
		{"application/json", "application/json", map[string]any{
			"code": "404 Not Found", "title": "Not Found",
			"message": "No image found with ID 00000000-0000-0000-0000-000000000000<br /><br />\n\n\n",
		}},
		{"", "text/html; charset=UTF-8",
			"<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID 00000000-0000-0000-0000-000000000000<br /><br />\n\n\n\n </body>\n</html>"},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, missing, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Auth-Token", pc.Token())
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var body any = string(b)
			if tt.accept != "" {
				if err := json.Unmarshal(b, &body); err != nil {
					t.Fatalf("body %q: %v", b, err)
				}
			}
			got := []any{resp.StatusCode, resp.Header.Get("Content-Type"), body}
			if diff := cmp.Diff([]any{404, tt.wantType, tt.wantBody}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
