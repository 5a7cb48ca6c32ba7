package geostack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
)

// copyEnv is the fake cloud and a client of gncu00000001 (project
// gnct00000001, home SG) on it, logging to log.
type copyEnv struct {
	srv    *testserver.Server
	client *geostack.Client
	log    *recorder
}

func newCopyEnv(t testing.TB, opts testserver.Options) *copyEnv {
	t.Helper()
	srv, cfg := setup(t, opts, "gnc", 1)
	rec := &recorder{}
	cfg.Logger = slog.New(rec)
	return &copyEnv{srv: srv, client: newClient(t, cfg), log: rec}
}

// images returns the client's Glance client in region.
func (e *copyEnv) images(t testing.TB, in string) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := e.client.ServiceClient(t.Context(), "image", in)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// source creates an image in region with opts and data, as the client.
func (e *copyEnv) source(t testing.TB, in string, opts images.CreateOpts, data testserver.ImageData) *images.Image {
	t.Helper()
	sc := e.images(t, in)
	if opts.Name == "" {
		opts.Name = "source"
	}
	if opts.DiskFormat == "" {
		opts.DiskFormat, opts.ContainerFormat = "qcow2", "bare"
	}
	im, err := images.Create(t.Context(), sc, opts).Extract()
	if err != nil {
		t.Fatalf("create the source: %v", err)
	}
	if err := imagedata.Upload(t.Context(), sc, im.ID, struct{ io.Reader }{data.Reader()}).ExtractErr(); err != nil {
		t.Fatalf("upload the source: %v", err)
	}
	im, err = images.Get(t.Context(), sc, im.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// imagesIn lists every image of region, as the operator sees them.
func imagesIn(t testing.TB, srv *testserver.Server, in string) []images.Image {
	t.Helper()
	sc := adminImages(t, srv, in)
	var all []images.Image
	for _, hidden := range []bool{false, true} {
		pages, err := images.List(sc, images.ListOpts{Hidden: hidden}).AllPages(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ims, err := images.ExtractImages(pages)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ims...)
	}
	return all
}

// copiesIn returns the ids of the images in region marked as copies of src.
func copiesIn(t testing.TB, srv *testserver.Server, in string, src geostack.ImageRef) []string {
	t.Helper()
	var ids []string
	for _, im := range imagesIn(t, srv, in) {
		if im.Properties[geostack.CopiedFromProperty] == src.String() {
			ids = append(ids, im.ID)
		}
	}
	return ids
}

// adminImages is the operator's Glance client in region: the admin on
// project admin, without a domain, sees every image.
func adminImages(t testing.TB, srv *testserver.Server, in string) *gophercloud.ServiceClient {
	t.Helper()
	w := testserver.DefaultWorld()
	var locs []region.Location
	for _, l := range w.Locations {
		locs = append(locs, region.Location{Name: l.Name, AuthURLs: []string{srv.AuthURL(l.Name)}, Regions: l.Regions})
	}
	c := newClient(t, geostack.Config{
		Locations: locs, Home: "JP", Primary: srv.Primary(),
		Credential: identity.Password{UserID: w.User(testserver.AdminUser).ID, Password: testserver.AdminPassword},
		Scope:      identity.Scope{ProjectID: w.Project(testserver.AdminProject).ID},
	})
	sc, err := c.ServiceClient(t.Context(), "image", in)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func dataOf(t testing.TB, sc *gophercloud.ServiceClient, id string) []byte {
	t.Helper()
	rc, err := imagedata.Download(t.Context(), sc, id).Extract()
	if err != nil {
		t.Fatalf("download %s: %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("download %s: %v", id, err)
	}
	return b
}

// recorder is a slog.Handler that keeps the records' messages and
// attributes.
type recorder struct {
	mu      sync.Mutex
	records []map[string]string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message, "level": rec.Level.String()}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.records = append(r.records, m)
	r.mu.Unlock()
	return nil
}

// find returns the records with message msg.
func (r *recorder) find(msg string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, m := range r.records {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestCopyImage(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t, testserver.Options{})
	data := testserver.ImageData{Size: 5<<20 + 123, Seed: "copy"}
	src := e.source(t, "TYO1", images.CreateOpts{Properties: map[string]string{"hw_disk_bus": "virtio"}}, data)
	ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}

	var progress [][2]int64
	cp, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{
		Progress: func(n, total int64) { progress = append(progress, [2]int64{n, total}) },
	})
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	if cp.Status != images.ImageStatusActive || cp.SizeBytes != data.Size || cp.Checksum != src.Checksum ||
		cp.Properties["os_hash_value"] != src.Properties["os_hash_value"] {
		t.Errorf("copy: %s, %d bytes, checksum %s; want active, the source's %d bytes and hashes", cp.Status, cp.SizeBytes, cp.Checksum, data.Size)
	}
	want, _ := io.ReadAll(data.Reader())
	if got := dataOf(t, e.images(t, "SJC1"), cp.ID); !bytes.Equal(got, want) {
		t.Errorf("the copy's data differ from the source's (%d bytes, want %d)", len(got), len(want))
	}

	// Progress rises by about a MiB at a time to the size, reported last.
	if len(progress) < 5 || progress[len(progress)-1] != [2]int64{data.Size, data.Size} {
		t.Errorf("progress = %v, want about one call per MiB, ending at the size", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i][0] < progress[i-1][0] || progress[i][1] != data.Size {
			t.Errorf("progress goes back or changes total: %v", progress)
			break
		}
	}
	if logged := e.log.find("geostack: image copy progress"); len(logged) == 0 || logged[0]["level"] != "DEBUG" {
		t.Errorf("progress log records = %v, want debug records", logged)
	}
	if done := e.log.find("geostack: image copy done"); len(done) != 1 || done[0]["method"] != "stream" {
		t.Errorf("done log records = %v, want one, method stream", done)
	}

	// A second try finds the copy instead of making another.
	uploads := e.srv.Requests(testserver.Service("image", "SJC1"))
	again, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{})
	if err != nil {
		t.Fatalf("second CopyImage: %v", err)
	}
	if again.ID != cp.ID {
		t.Errorf("second CopyImage made %s, want the first copy %s", again.ID, cp.ID)
	}
	if n := e.srv.Requests(testserver.Service("image", "SJC1")) - uploads; n != 2 {
		t.Errorf("second CopyImage sent %d requests to SJC1's Glance, want the two lookups only", n)
	}
	if diff := cmp.Diff([]string{cp.ID}, copiesIn(t, e.srv, "SJC1", ref)); diff != "" {
		t.Errorf("copies in SJC1 (-want +got):\n%s", diff)
	}
}

// metadata is what TestCopyImageMetadata compares of an image.
type metadata struct {
	Name, Owner, Visibility string
	DiskFormat, Container   string
	MinDisk, MinRAM         int
	Tags                    []string
	Hidden, Protected       bool
	Properties              map[string]string // custom ones: strings, without Glance's os_hash_*
}

func metadataOf(im *images.Image) metadata {
	props := map[string]string{}
	for k, v := range im.Properties {
		if s, ok := v.(string); ok && k != "os_hash_algo" && k != "os_hash_value" {
			props[k] = s
		}
	}
	return metadata{
		Name: im.Name, Owner: im.Owner, Visibility: string(im.Visibility),
		DiskFormat: im.DiskFormat, Container: im.ContainerFormat, MinDisk: im.MinDiskGigabytes, MinRAM: im.MinRAMMegabytes,
		Tags: im.Tags, Hidden: im.Hidden, Protected: im.Protected, Properties: props,
	}
}

func TestCopyImageMetadata(t *testing.T) {
	t.Parallel()
	w := testserver.DefaultWorld()
	project := w.Project("gnct00000001").ID
	gnc := w.Domain("gnc").ID
	yes := true
	community := images.ImageVisibilityCommunity
	data := testserver.ImageData{Size: 64 << 10, Seed: "metadata"}
	tests := []struct {
		name string
		// source makes the source in TYO1 and returns its id.
		source func(t *testing.T, e *copyEnv) string
		opts   geostack.CopyOptions
		want   func(srcID string) metadata
	}{
		{
			name: "carried over",
			source: func(t *testing.T, e *copyEnv) string {
				return e.source(t, "TYO1", images.CreateOpts{
					Name: "gnc_app", DiskFormat: "qcow2", ContainerFormat: "ovf", MinDisk: 20, MinRAM: 1024,
					Tags: []string{"web", "v2"}, Visibility: &community, Protected: &yes,
					Properties: map[string]string{"domain_id": gnc, "hw_disk_bus": "scsi", "os_distro": "centos"},
				}, data).ID
			},
			want: func(srcID string) metadata {
				return metadata{Name: "gnc_app", Owner: project, Visibility: "private", DiskFormat: "qcow2", Container: "ovf",
					MinDisk: 20, MinRAM: 1024, Tags: []string{"web", "v2"},
					Properties: map[string]string{"domain_id": gnc, "hw_disk_bus": "scsi", "os_distro": "centos",
						geostack.CopiedFromProperty: "TYO1/" + srcID}}
			},
		},
		{
			name: "options",
			source: func(t *testing.T, e *copyEnv) string {
				return e.source(t, "TYO1", images.CreateOpts{Name: "base", DiskFormat: "raw", ContainerFormat: "bare",
					Properties: map[string]string{"keep": "k", "drop": "d", "over": "o"}}, data).ID
			},
			opts: geostack.CopyOptions{
				Name: "renamed", Visibility: images.ImageVisibilityShared,
				Properties: map[string]string{"over": "new", "added": "a"}, DropProperties: []string{"drop"},
			},
			want: func(srcID string) metadata {
				return metadata{Name: "renamed", Owner: project, Visibility: "shared", DiskFormat: "raw", Container: "bare",
					Tags:       []string{},
					Properties: map[string]string{"keep": "k", "over": "new", "added": "a", geostack.CopiedFromProperty: "TYO1/" + srcID}}
			},
		},
		{
			name: "hidden",
			source: func(t *testing.T, e *copyEnv) string {
				return e.source(t, "TYO1", images.CreateOpts{Name: "h", Hidden: &yes}, data).ID
			},
			want: func(srcID string) metadata {
				return metadata{Name: "h", Owner: project, Visibility: "private", DiskFormat: "qcow2", Container: "bare",
					Tags: []string{}, Hidden: true, Properties: map[string]string{geostack.CopiedFromProperty: "TYO1/" + srcID}}
			},
		},
		{
			// An operator's public image of the domain: the copy is the
			// customer's own, private, and keeps the domain's domain_id.
			name:   "the domain's public image",
			source: func(t *testing.T, e *copyEnv) string { return w.Image("gnc_centos").ID },
			want: func(srcID string) metadata {
				return metadata{Name: "gnc_centos", Owner: project, Visibility: "private", DiskFormat: "raw", Container: "bare",
					Tags: []string{}, Properties: map[string]string{"domain_id": gnc, geostack.CopiedFromProperty: "TYO1/" + srcID}}
			},
		},
		{
			// Glance's own properties of an imported image are not carried.
			name: "imported source",
			source: func(t *testing.T, e *copyEnv) string {
				shared := e.source(t, "OSA1", images.CreateOpts{Name: "elsewhere"}, data)
				sc := e.images(t, "TYO1")
				im, err := images.Create(t.Context(), sc, images.CreateOpts{Name: "imported", DiskFormat: "qcow2", ContainerFormat: "bare",
					Properties: map[string]string{"custom": "c"}}).Extract()
				if err != nil {
					t.Fatal(err)
				}
				if err := imageimport.Create(t.Context(), sc, im.ID, imageimport.CreateOpts{
					Name: imageimport.WebDownloadMethod, URI: e.srv.ImageShareURL("OSA1") + "/" + shared.ID,
				}).ExtractErr(); err != nil {
					t.Fatal(err)
				}
				e.srv.WaitImports()
				got, err := images.Get(t.Context(), sc, im.ID).Extract()
				if err != nil || got.Status != images.ImageStatusActive || got.Properties["os_glance_failed_import"] == nil {
					t.Fatalf("the imported source: %v, %v; want active with os_glance_* properties", got, err)
				}
				return im.ID
			},
			want: func(srcID string) metadata {
				return metadata{Name: "imported", Owner: project, Visibility: "private", DiskFormat: "qcow2", Container: "bare",
					Tags: []string{}, Properties: map[string]string{"custom": "c", geostack.CopiedFromProperty: "TYO1/" + srcID}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newCopyEnv(t, testserver.Options{})
			id := tt.source(t, e)
			cp, err := e.client.CopyImage(t.Context(), geostack.ImageRef{Region: "TYO1", ID: id}, "SJC1", tt.opts)
			if err != nil {
				t.Fatalf("CopyImage: %v", err)
			}
			got, err := images.Get(t.Context(), e.images(t, "SJC1"), cp.ID).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want(id), metadataOf(got)); diff != "" {
				t.Errorf("the copy's metadata (-want +got):\n%s", diff)
			}
			// The domain rules hold for the copy: it is the client's own.
			if _, err := e.client.Image(t.Context(), "SJC1", cp.ID); err != nil {
				t.Errorf("the client's domain cannot see its copy: %v", err)
			}
		})
	}
}

func TestCopyImageFailuresLeaveNothing(t *testing.T) {
	t.Parallel()
	data := testserver.ImageData{Size: 3 << 20, Seed: "faults"}
	tests := []struct {
		name   string
		fault  testserver.Fault
		at     testserver.Target
		opts   func(cancel context.CancelFunc, srv *testserver.Server) geostack.CopyOptions
		wantOp string
		want   error // errors.Is, or nil for any
		made   bool  // a half-made image was created, and deleted
	}{
		{name: "source drops the download", at: testserver.Service("image", "TYO1"),
			fault: testserver.Fault{DropDownloadAfter: 1 << 20}, wantOp: "stream", want: io.ErrUnexpectedEOF, made: true},
		{name: "source corrupts a byte", at: testserver.Service("image", "TYO1"),
			fault: testserver.Fault{CorruptDownloadAfter: 2 << 20}, wantOp: "stream", want: geostack.ErrImageHashMismatch, made: true},
		{name: "destination answers 503 to the upload", at: testserver.Service("image", "SJC1"),
			fault: testserver.Fault{UploadStatus: http.StatusServiceUnavailable, UploadStatusAfter: 1 << 20}, wantOp: "stream", made: true},
		{name: "destination stores other data", at: testserver.Service("image", "SJC1"),
			fault: testserver.Fault{CorruptUploadAfter: 100}, wantOp: "verify", want: geostack.ErrImageHashMismatch, made: true},
		{name: "canceled mid-stream", wantOp: "stream", want: context.Canceled, made: true,
			opts: func(cancel context.CancelFunc, _ *testserver.Server) geostack.CopyOptions {
				return geostack.CopyOptions{Progress: func(n, _ int64) {
					if n >= 1<<20 {
						cancel()
					}
				}}
			}},
		{name: "source region down", at: testserver.Service("image", "TYO1"),
			fault: testserver.Fault{Status: http.StatusServiceUnavailable}, wantOp: "source"},
		{name: "destination region down", at: testserver.AtLocation("US"),
			fault: testserver.Fault{Down: true}, wantOp: "find"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newCopyEnv(t, testserver.Options{})
			src := e.source(t, "TYO1", images.CreateOpts{}, data)
			ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
			before := len(imagesIn(t, e.srv, "SJC1"))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var opts geostack.CopyOptions
			if tt.opts != nil {
				opts = tt.opts(cancel, e.srv)
			}
			if tt.fault != (testserver.Fault{}) {
				e.srv.SetFault(tt.at, tt.fault)
			}
			_, err := e.client.CopyImage(ctx, ref, "SJC1", opts)
			e.srv.ClearFaults()

			var ce *geostack.CopyError
			if !errors.As(err, &ce) {
				t.Fatalf("CopyImage: %v, want a *CopyError", err)
			}
			if ce.Op != tt.wantOp || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("CopyImage: %v (op %s); want op %s and %v", err, ce.Op, tt.wantOp, tt.want)
			}
			if (ce.Image != "") != tt.made || ce.CleanupErr != nil {
				t.Errorf("half-made image %q, cleanup error %v; want one made: %v, and deleted", ce.Image, ce.CleanupErr, tt.made)
			}
			if got := len(imagesIn(t, e.srv, "SJC1")); got != before {
				t.Errorf("SJC1 holds %d images after the failed copy, %d before", got, before)
			}
			// The next try, with nothing wrong, copies.
			if _, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{}); err != nil {
				t.Errorf("CopyImage after the fault cleared: %v", err)
			}
		})
	}
}

// TestCopyImageCleanupFails cuts the destination off in the middle of the
// stream: the cleanup cannot reach it either, and the error says what was
// left behind (the next try deletes it: TestCopyImageAfterACrash).
func TestCopyImageCleanupFails(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t, testserver.Options{})
	src := e.source(t, "TYO1", images.CreateOpts{}, testserver.ImageData{Size: 3 << 20, Seed: "cleanup"})
	ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
	var once sync.Once
	_, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{
		CleanupTimeout: 5 * time.Second,
		Progress: func(n, _ int64) {
			if n >= 1<<20 {
				once.Do(func() { e.srv.SetFault(testserver.AtLocation("US"), testserver.Fault{Down: true}) })
			}
		},
	})
	e.srv.ClearFaults()
	var ce *geostack.CopyError
	if !errors.As(err, &ce) || ce.Image == "" || ce.CleanupErr == nil || !strings.Contains(err.Error(), "could not be deleted") {
		t.Fatalf("CopyImage: %v; want a *CopyError naming the image it could not delete", err)
	}
	if ids := copiesIn(t, e.srv, "SJC1", ref); !slices.Contains(ids, ce.Image) {
		t.Fatalf("copies in SJC1 = %v, want the leftover %s", ids, ce.Image)
	}
}

// TestCopyImageAfterACrash finds what a crashed try leaves, a queued image
// marked as the copy, deletes it and copies afresh; a copy under way
// elsewhere is left alone.
func TestCopyImageAfterACrash(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t, testserver.Options{})
	src := e.source(t, "TYO1", images.CreateOpts{}, testserver.ImageData{Size: 1 << 20, Seed: "crash"})
	ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
	dst := e.images(t, "SJC1")
	leftover, err := images.Create(t.Context(), dst, images.CreateOpts{Name: "source", DiskFormat: "qcow2", ContainerFormat: "bare",
		Properties: map[string]string{geostack.CopiedFromProperty: ref.String()}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{})
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	if diff := cmp.Diff([]string{cp.ID}, copiesIn(t, e.srv, "SJC1", ref)); diff != "" || cp.ID == leftover.ID {
		t.Errorf("copies in SJC1 (-want +got):\n%s (the leftover was %s)", diff, leftover.ID)
	}

	// Another copy into SIN1 is importing (from a share that hangs).
	sin := e.images(t, "SIN1")
	busy, err := images.Create(t.Context(), sin, images.CreateOpts{Name: "source", DiskFormat: "qcow2", ContainerFormat: "bare",
		Properties: map[string]string{geostack.CopiedFromProperty: ref.String()}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.srv.SetFault(testserver.Service("image", "OSA1"), testserver.Fault{Hang: true})
	if err := imageimport.Create(t.Context(), sin, busy.ID, imageimport.CreateOpts{
		Name: imageimport.WebDownloadMethod, URI: e.srv.ImageShareURL("OSA1") + "/anything",
	}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.CopyImage(t.Context(), ref, "SIN1", geostack.CopyOptions{})
	if !errors.Is(err, geostack.ErrCopyInProgress) || !strings.Contains(err.Error(), busy.ID) {
		t.Errorf("CopyImage while another copy imports: %v, want ErrCopyInProgress naming %s", err, busy.ID)
	}
	if diff := cmp.Diff([]string{busy.ID}, copiesIn(t, e.srv, "SIN1", ref)); diff != "" {
		t.Errorf("copies in SIN1 (-want +got):\n%s", diff)
	}
}

// TestCopyImageIgnoresAForgedCopy: an active image marked as a copy whose
// data are not the source's is not taken for the copy.
func TestCopyImageIgnoresAForgedCopy(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t, testserver.Options{})
	src := e.source(t, "TYO1", images.CreateOpts{}, testserver.ImageData{Size: 1 << 20, Seed: "real"})
	ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
	forged := e.source(t, "SJC1", images.CreateOpts{Properties: map[string]string{geostack.CopiedFromProperty: ref.String()}},
		testserver.ImageData{Size: 1 << 20, Seed: "forged"})
	cp, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{})
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	if cp.ID == forged.ID || cp.Checksum != src.Checksum {
		t.Errorf("CopyImage returned %s with checksum %s; want a new copy with the source's %s", cp.ID, cp.Checksum, src.Checksum)
	}
	if n := len(e.log.find("geostack: ignoring an image marked as a copy that does not match its source")); n != 1 {
		t.Errorf("%d warnings about the forged copy, want 1", n)
	}
}

func TestCopyImageWebDownload(t *testing.T) {
	t.Parallel()
	data := testserver.ImageData{Size: 2 << 20, Seed: "web"}
	tests := []struct {
		name       string
		opts       testserver.Options
		template   func(srv *testserver.Server) string
		fault      testserver.Fault // at TYO1's image service, the share's
		wantMethod string
		wantErr    error
	}{
		{name: "the destination fetches", wantMethod: "web-download",
			template: func(srv *testserver.Server) string { return srv.URL("JP") + "/{region}/image-share/{id}" }},
		{name: "not offered: streams", wantMethod: "stream",
			opts:     testserver.Options{ImportMethods: map[string][]string{"SJC1": {"glance-direct"}}},
			template: func(srv *testserver.Server) string { return srv.ImageShareURL("TYO1") + "/{id}" }},
		{name: "the fetch fails: streams", wantMethod: "stream",
			template: func(srv *testserver.Server) string { return srv.ImageShareURL("TYO1") + "/missing-{id}" }},
		{name: "the share serves other data", wantErr: geostack.ErrImageHashMismatch,
			fault:    testserver.Fault{CorruptDownloadAfter: 1000},
			template: func(srv *testserver.Server) string { return srv.ImageShareURL("TYO1") + "/{id}" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newCopyEnv(t, tt.opts)
			src := e.source(t, "TYO1", images.CreateOpts{}, data)
			ref := geostack.ImageRef{Region: "TYO1", ID: src.ID}
			template := tt.template(e.srv)
			e.srv.SetFault(testserver.Service("image", "TYO1"), tt.fault)
			cp, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{WebDownloadURL: template, PollInterval: time.Millisecond})
			if tt.wantErr != nil {
				var ce *geostack.CopyError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &ce) || ce.Op != "import" || ce.CleanupErr != nil {
					t.Fatalf("CopyImage: %v, want %v at import, cleaned up", err, tt.wantErr)
				}
				if ids := copiesIn(t, e.srv, "SJC1", ref); len(ids) != 0 {
					t.Errorf("copies left in SJC1: %v", ids)
				}
				return
			}
			if err != nil {
				t.Fatalf("CopyImage: %v", err)
			}
			if cp.Checksum != src.Checksum || cp.Properties["os_hash_value"] != src.Properties["os_hash_value"] {
				t.Errorf("copy checksum %s, want the source's %s", cp.Checksum, src.Checksum)
			}
			if done := e.log.find("geostack: image copy done"); len(done) != 1 || done[0]["method"] != tt.wantMethod {
				t.Errorf("done log records = %v, want method %s", done, tt.wantMethod)
			}
		})
	}
}

func TestCopyImageRefusals(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t, testserver.Options{})
	w := testserver.DefaultWorld()
	queued, err := images.Create(t.Context(), e.images(t, "TYO1"), images.CreateOpts{Name: "empty", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	bdm := e.source(t, "TYO1", images.CreateOpts{Properties: map[string]string{"block_device_mapping": `[{"snapshot_id": "x"}]`}},
		testserver.ImageData{Size: 0, Seed: "bdm"})
	tyo := func(id string) geostack.ImageRef { return geostack.ImageRef{Region: "TYO1", ID: id} }
	good := tyo(w.Image("gnc_centos").ID)
	tests := []struct {
		name   string
		src    geostack.ImageRef
		dst    string
		opts   geostack.CopyOptions
		want   error
		wantOp string
	}{
		{"no source region", geostack.ImageRef{ID: good.ID}, "SJC1", geostack.CopyOptions{}, geostack.ErrInvalidCopy, "check"},
		{"no source id", geostack.ImageRef{Region: "TYO1"}, "SJC1", geostack.CopyOptions{}, geostack.ErrInvalidCopy, "check"},
		{"no destination", good, "", geostack.CopyOptions{}, geostack.ErrInvalidCopy, "check"},
		{"same region", good, "TYO1", geostack.CopyOptions{}, geostack.ErrInvalidCopy, "check"},
		{"unknown visibility", good, "SJC1", geostack.CopyOptions{Visibility: "everyone"}, geostack.ErrInvalidCopy, "check"},
		{"Glance's property", good, "SJC1", geostack.CopyOptions{Properties: map[string]string{"os_hash_value": "x"}}, geostack.ErrInvalidCopy, "check"},
		{"the marker", good, "SJC1", geostack.CopyOptions{Properties: map[string]string{geostack.CopiedFromProperty: "x"}}, geostack.ErrInvalidCopy, "check"},
		{"template without {id}", good, "SJC1", geostack.CopyOptions{WebDownloadURL: "http://share/x"}, geostack.ErrInvalidCopy, "check"},
		{"template not http", good, "SJC1", geostack.CopyOptions{WebDownloadURL: "file:///srv/{id}"}, geostack.ErrInvalidCopy, "check"},
		{"negative timeout", good, "SJC1", geostack.CopyOptions{CleanupTimeout: -1}, geostack.ErrInvalidCopy, "check"},
		{"unknown region", tyo(good.ID), "XXX1", geostack.CopyOptions{}, nil, "check"},
		{"source without data", tyo(queued.ID), "SJC1", geostack.CopyOptions{}, geostack.ErrImageNotCopyable, "source"},
		{"volume-backed snapshot", tyo(bdm.ID), "SJC1", geostack.CopyOptions{}, geostack.ErrImageNotCopyable, "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.client.CopyImage(t.Context(), tt.src, tt.dst, tt.opts)
			var ce *geostack.CopyError
			if !errors.As(err, &ce) || ce.Op != tt.wantOp || (tt.want != nil && !errors.Is(err, tt.want)) || ce.Image != "" {
				t.Errorf("CopyImage: %v; want a *CopyError at %s wrapping %v, nothing created", err, tt.wantOp, tt.want)
			}
		})
	}

	// A customer's image planted with the domain's name and id is another
	// domain's: the client's domain may not copy what it may not see.
	planted := geostack.ImageRef{Region: "TYO1", ID: w.Image(testserver.PlantedImage).ID}
	_, err = e.client.CopyImage(t.Context(), planted, "SJC1", geostack.CopyOptions{})
	var nf *geostack.NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("CopyImage of the planted image: %v, want a *NotFoundError", err)
	}
}

func TestCopyImageBetweenUnlikeHashes(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t, testserver.Options{ImageHashAlgos: map[string]string{"SJC1": "sha256"}})
	src := e.source(t, "TYO1", images.CreateOpts{}, testserver.ImageData{Size: 1 << 20, Seed: "algos"})
	cp, err := e.client.CopyImage(t.Context(), geostack.ImageRef{Region: "TYO1", ID: src.ID}, "SJC1", geostack.CopyOptions{})
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	if cp.Checksum != src.Checksum || cp.Properties["os_hash_algo"] != "sha256" {
		t.Errorf("copy: checksum %s, os_hash_algo %v; want the source's checksum %s, sha256", cp.Checksum, cp.Properties["os_hash_algo"], src.Checksum)
	}
}

// TestCopyImageConstantMemory copies 1 GiB (256 MiB under the race
// detector: see constantMemorySize) and measures the heap while the
// data stream, every MiB (by the progress callback, not a timer), and what
// the copy allocated in all (MemStats.TotalAlloc, exact). A copy that held
// the data, or any fraction of them, would show either. The test is not
// parallel, so that the heap is this copy's and the fake cloud's alone,
// and both Glance regions hash with sha256 so that the fake's own hashing
// (of the seeded source and of the upload) keeps it to seconds. The peak
// heap is a target of BenchmarkCopyImage; the bounds here catch a
// regression by a wide margin.
func TestCopyImageConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("copies 1 GiB")
	}
	const size = constantMemorySize
	w := testserver.DefaultWorld()
	data := testserver.ImageData{Size: size, Seed: "constant-memory"}
	const id = "00000000-0000-4000-8000-0000000c0257"
	w.Images = append(w.Images, testserver.Image{ID: id, Name: "big", Owner: w.Project("gnct00000001").ID,
		Visibility: "private", Region: "TYO1", Data: &data})
	e := newCopyEnv(t, testserver.Options{World: w, DiscardImageData: true,
		ImageHashAlgos: map[string]string{"TYO1": "sha256", "SJC1": "sha256"}})
	ref := geostack.ImageRef{Region: "TYO1", ID: id}

	peak := newHeapPeak()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak.sample()
	baseline := peak.peak
	cp, err := e.client.CopyImage(t.Context(), ref, "SJC1", geostack.CopyOptions{Progress: func(int64, int64) { peak.sample() }})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("CopyImage: %v", err)
	}
	if cp.SizeBytes != size {
		t.Fatalf("copied %d bytes, want %d", cp.SizeBytes, size)
	}
	grew := float64(peak.peak-baseline) / (1 << 20)
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
	t.Logf("%d MiB copied: heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB); %.1f MiB allocated in all",
		size>>20, float64(baseline)/(1<<20), float64(peak.peak)/(1<<20), grew, allocated)
	if grew > 16 || allocated > 64 {
		t.Errorf("the heap grew by %.1f MiB and %.1f MiB were allocated copying %d MiB; want under 16 and 64", grew, allocated, size>>20)
	}
}
