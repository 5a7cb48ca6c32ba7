package testserver_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

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

func get(t *testing.T, c *gophercloud.ServiceClient, id string) *images.Image {
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

func TestGlanceImageLifecycle(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	c := imageClient(t, srv, "TYO1")
	ctx := t.Context()

	res := images.Create(ctx, c, images.CreateOpts{
		Name: "lifecycle", DiskFormat: "qcow2", ContainerFormat: "bare", MinDisk: 3, MinRAM: 512,
		Tags: []string{"t1"}, Properties: map[string]string{"domain_id": "x", "hw_disk_bus": "virtio"},
	})
	im, err := res.Extract()
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if loc := res.Header.Get("Location"); !strings.HasSuffix(loc, "/TYO1/image/v2/images/"+im.ID) {
		t.Errorf("Location = %q", loc)
	}
	want := map[string]any{
		"status": images.ImageStatusQueued, "visibility": images.ImageVisibilityShared, "size": int64(0),
		"disk": "qcow2", "container": "bare", "min_disk": 3, "min_ram": 512, "tags": []string{"t1"},
		"import": []string{"glance-direct", "web-download", "copy-image"},
		"props":  map[string]any{"domain_id": "x", "hw_disk_bus": "virtio", "os_hash_algo": nil, "os_hash_value": nil},
	}
	got := map[string]any{
		"status": im.Status, "visibility": im.Visibility, "size": im.SizeBytes, "disk": im.DiskFormat,
		"container": im.ContainerFormat, "min_disk": im.MinDiskGigabytes, "min_ram": im.MinRAMMegabytes, "tags": im.Tags,
		"import": im.OpenStackImageImportMethods, "props": im.Properties,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created image (-want +got):\n%s", diff)
	}
	if _, err := download(t, c, im.ID); !gophercloud.ResponseCodeIs(err, http.StatusNoContent) {
		t.Errorf("download of a queued image: %v, want 204 (which gophercloud reports as an error)", err)
	}

	data := testserver.ImageData{Size: 300 << 10, Seed: "lifecycle"}
	if err := imagedata.Upload(ctx, c, im.ID, stream{data.Reader()}).ExtractErr(); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	after := get(t, c, im.ID)
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
	wantData, _ := io.ReadAll(data.Reader())
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
	// Another project may not delete it.
	other := imageClientOf(t, srv, "gncu00000002", "TYO1")
	if err := images.Delete(ctx, other, im.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("Delete by another project: %v, want 404 (it cannot see a shared image it is no member of)", err)
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
			for k, v := range get(t, c, im.ID).Properties {
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
			im := get(t, c, w.Image(tt.image).ID)
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
				if got := get(t, c, im.ID); got.Status != images.ImageStatusQueued || got.SizeBytes != 0 {
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
				sent, got := sumsOf(t, data.Reader(), "sha512"), sumsOfImage(get(t, c, im.ID))
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
			got := get(t, c, im.ID)
			if got.Status != tt.want {
				t.Errorf("status after the import = %s, want %s", got.Status, tt.want)
			}
			if _, busy := got.Properties["os_glance_import_task"]; busy {
				t.Error("os_glance_import_task is still set after the import ended")
			}
			if tt.want == images.ImageStatusActive {
				if diff := cmp.Diff(sumsOfImage(get(t, src, from.ID)), sumsOfImage(got)); diff != "" {
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
	if diff := cmp.Diff(sumsOf(t, data.Reader(), "sha512"), sumsOfImage(get(t, c, im.ID))); diff != "" {
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
