package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
)

// TestImageWrites creates, uploads, downloads, renames and deletes images
// through gnc's image proxy with gophercloud, under a policy that asks for
// prefixed names.
func TestImageWrites(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()
	tok := e.token(t, "gncu00000001")
	gncID := e.world.Domain("gnc").ID
	root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Filter: e.filter(t, "gnc", domain.Policy{PrefixedImageNames: true})})
	c := serviceClient(root, "v2/", tok.ID)
	direct := serviceClient(e.upstream(proxy.Image), "v2/", tok.ID)

	// Refused: a name outside the namespace, another domain's id.
	refusals := []struct {
		name string
		opts images.CreateOpts
		want string // in the 400's page
	}{
		{"unprefixed name", images.CreateOpts{Name: "centos", DiskFormat: "raw", ContainerFormat: "bare"},
			`image name "centos" is outside the namespace of domain "gnc": names must start with "gnc_"`},
		{"another domain's name", images.CreateOpts{Name: "zjp_centos"}, `image name "zjp_centos" is outside`},
		{"another domain's id", images.CreateOpts{Name: "gnc_x", Properties: map[string]string{"domain_id": e.world.Domain("zjp").ID}},
			`their domain_id property must be "` + gncID + `"`},
	}
	for _, tt := range refusals {
		_, err := images.Create(ctx, c, tt.opts).Extract()
		var ge gophercloud.ErrUnexpectedResponseCode
		if !errors.As(err, &ge) || ge.Actual != http.StatusBadRequest || !strings.Contains(string(ge.Body), tt.want) {
			t.Errorf("%s: %v, want 400 with %q", tt.name, err, tt.want)
		}
	}

	// gophercloud needs a name; Glance does not.
	if status, _, body := do(t, http.MethodPost, root+"/v2/images", tok.ID, map[string]string{"Content-Type": "application/json"}, []byte(`{"disk_format": "raw"}`)); status != http.StatusBadRequest ||
		!strings.Contains(string(body), `image name "" is outside`) {
		t.Errorf("create without a name: %d %s, want 400", status, body)
	}

	img, err := images.Create(ctx, c, images.CreateOpts{Name: "gnc_upload", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if got := img.Properties["domain_id"]; got != gncID {
		t.Errorf("created image's domain_id %v, want gnc's %s", got, gncID)
	}
	same, err := images.Create(ctx, c, images.CreateOpts{Name: "gnc_with_id", Properties: map[string]string{"domain_id": gncID}}).Extract()
	if err != nil || same.Properties["domain_id"] != gncID {
		t.Errorf("create with gnc's own id: %v, %v", same, err)
	}

	data := make([]byte, 3<<20)
	rand.Read(data)
	if err := imagedata.Upload(ctx, c, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("upload through the proxy: %v", err)
	}
	rc, err := imagedata.Download(ctx, c, img.ID).Extract()
	if err != nil {
		t.Fatalf("download through the proxy: %v", err)
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(back), err, len(data))
	}

	// Renames stay in the namespace; the domain's id stays.
	patches := []struct {
		name string
		opts images.UpdateOpts
		want int
	}{
		{"rename out of the namespace", images.UpdateOpts{images.ReplaceImageName{NewName: "mine"}}, 400},
		{"remove the domain id", images.UpdateOpts{images.UpdateImageProperty{Op: images.RemoveOp, Name: "domain_id"}}, 400},
		{"another domain's id", images.UpdateOpts{images.UpdateImageProperty{Op: images.ReplaceOp, Name: "domain_id", Value: "x"}}, 400},
		{"rename in the namespace", images.UpdateOpts{images.ReplaceImageName{NewName: "gnc_renamed"}}, 200},
	}
	for _, tt := range patches {
		_, err := images.Update(ctx, c, img.ID, tt.opts).Extract()
		if tt.want == 200 && err != nil || tt.want != 200 && !gophercloud.ResponseCodeIs(err, tt.want) {
			t.Errorf("%s: %v, want %d", tt.name, err, tt.want)
		}
	}
	got, err := images.Get(ctx, direct, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "gnc_renamed" || got.Properties["domain_id"] != gncID || got.Status != images.ImageStatusActive {
		t.Errorf("upstream has %q, domain_id %v, %s", got.Name, got.Properties["domain_id"], got.Status)
	}
	for _, id := range []string{img.ID, same.ID} {
		if err := images.Delete(ctx, c, id).ExtractErr(); err != nil {
			t.Errorf("delete through the proxy: %v", err)
		}
	}
	// Without the policy, any name goes; the domain id is still set.
	free := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Prefix: "/free"})
	fc := serviceClient(free, "v2/", tok.ID)
	any, err := images.Create(ctx, fc, images.CreateOpts{Name: "my-snapshot"}).Extract()
	if err != nil || any.Properties["domain_id"] != gncID {
		t.Fatalf("create without the policy: %v, %v", any, err)
	}
	images.Delete(ctx, fc, any.ID)
}

// TestCommunityListing checks a listing that asks Glance for every
// community image: gnc's user does not get another customer's planted one.
func TestCommunityListing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001")
	root := e.start(t, "gnc", proxy.Config{Service: proxy.Image})
	status, _, body := do(t, http.MethodGet, root+"/v2/images?visibility=community", tok.ID, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	if diff := cmp.Diff([]string{}, names(t, "images", body)); diff != "" {
		t.Errorf("community images for gnc (-want +got):\n%s", diff)
	}
	// Directly, Glance lists it.
	_, _, body = do(t, http.MethodGet, e.upstream(proxy.Image)+"/v2/images?visibility=community", tok.ID, nil, nil)
	if diff := cmp.Diff([]string{"gnc_centos_planted"}, names(t, "images", body)); diff != "" {
		t.Errorf("community images upstream (-want +got):\n%s", diff)
	}
}

// TestStreaming checks that uploads and downloads go through the proxy as
// they stream: the upstream gets the first part of an upload before the
// client has written the rest, and the client gets the first part of a
// download before the upstream has written the rest. A proxy that
// buffered a body would deadlock here, so the test bounds its wait.
func TestStreaming(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const chunk = 256 << 10
	got := make(chan int, 4)       // bytes the upstream received of the upload
	proceed := make(chan struct{}) // the client received the first part of the download
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/image/v2/images/img-1":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "img-1", "name": "gnc_stream", "visibility": "private", "owner": "`+tok.Project.ID+`", "status": "queued"}`)
		case r.Method == http.MethodPut && r.URL.Path == "/image/v2/images/img-1/file":
			buf := make([]byte, chunk)
			n, err := io.ReadFull(r.Body, buf)
			got <- n
			if err != nil {
				return
			}
			rest, _ := io.Copy(io.Discard, r.Body)
			got <- int(rest)
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodGet && r.URL.Path == "/image/v2/images/img-1/file":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", "524288")
			w.Write(make([]byte, chunk))
			w.(http.Flusher).Flush()
			select {
			case <-proceed:
			case <-r.Context().Done():
				return
			}
			w.Write(make([]byte, chunk))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(up.Close)
	root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: up.URL + "/image"})

	// Upload: the second half is written only once the upstream has the first.
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, chunk))
		select {
		case <-got:
		case <-ctx.Done():
			pw.CloseWithError(ctx.Err())
			return
		}
		pw.Write(make([]byte, chunk))
		pw.Close()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, root+"/v2/images/img-1/file", pr)
	req.Header.Set("X-Auth-Token", tok.ID)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	select {
	case rest := <-got:
		if rest != chunk {
			t.Errorf("upstream got %d bytes after the first part, want %d", rest, chunk)
		}
	case <-ctx.Done():
		t.Fatal("upload never completed")
	}

	// Download: the upstream writes its second half only once the client
	// has read the first.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, root+"/v2/images/img-1/file", nil)
	req.Header.Set("X-Auth-Token", tok.ID)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != 2*chunk {
		t.Fatalf("download: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	first := make([]byte, chunk)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("first part: %v", err)
	}
	close(proceed)
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil || rest != chunk {
		t.Errorf("second part: %d bytes, %v", rest, err)
	}
}
