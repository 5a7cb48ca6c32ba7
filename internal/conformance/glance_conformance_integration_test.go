//go:build integration

package conformance_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/testserver"
)

// glanceSide is one Glance under comparison, in TYO1. Its images are the
// admin's in project admin, private, so that the members' listings, which
// other tests check, stay the seeded ones; a member's token is for
// refusals only.
type glanceSide struct {
	name   string
	base   string // the image endpoint, without /v2
	token  string // the admin's
	member string
	// wait returns once the imports accepted so far have ended.
	wait func()
}

// glanceHeaders are the response headers gophercloud and CopyImage read:
// their value, or "present" for those whose value differs by nature.
var glanceHeaders = map[string]bool{
	"Content-Type": true, "Openstack-Image-Import-Methods": true,
	"Location": false, "Content-Md5": false,
}

type glanceRequest struct {
	method, path string // path after the endpoint, e.g. "/v2/images"
	contentType  string
	body         any  // JSON, or []byte sent as is (chunked)
	asMember     bool // with the member's token; such a request must create nothing
}

// glanceAnswer is what is compared of a response. Body is the JSON shape,
// or for data the number of bytes.
type glanceAnswer struct {
	Status  int
	Headers map[string]string
	Body    any
}

func (s *glanceSide) do(t *testing.T, r glanceRequest) (glanceAnswer, []byte) {
	t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = struct{ io.Reader }{bytes.NewReader(b)} // no length: chunked, as copies upload
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, s.base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Auth-Token", s.token)
	if r.asMember {
		req.Header.Set("X-Auth-Token", s.member)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", s.name, r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s %s: read body: %v", s.name, r.method, r.path, err)
	}
	a := glanceAnswer{Status: resp.StatusCode, Headers: map[string]string{}}
	for h, value := range glanceHeaders {
		switch v := resp.Header.Get(h); {
		case v == "":
		case value:
			a.Headers[h] = v
		default:
			a.Headers[h] = "present"
		}
	}
	switch {
	case len(raw) == 0:
	case strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s %s: body is not JSON: %v", s.name, r.method, r.path, err)
		}
		a.Body = shape(v)
	default:
		a.Body = len(raw)
	}
	return a, raw
}

// issue returns a token of c on project.
func issue(t *testing.T, authURL string, c cred, project string) string {
	t.Helper()
	s := &side{name: "token", authURL: authURL, client: &http.Client{}}
	return s.issue(t, passwordAuth(c, projectScope(project)))
}

// TestIntegrationGlanceConformance sends the Glance requests an image copy
// makes, and their refusals, to the fake's TYO1 Glance and to the real one,
// and compares status, headers and the JSON shape of the
// answers. Each side's image is created, filled, changed and deleted by
// the requests themselves.
func TestIntegrationGlanceConformance(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	gnc := env.MustUser(t, "gncu00000001")
	srv := testserver.New(t, testserver.Options{})
	w := testserver.DefaultWorld()
	realAuth, fakeAuth := env.AuthURL(env.Primary), srv.AuthURL("JP")
	sides := []*glanceSide{
		{name: "real", base: svc.Endpoint("TYO1", "image", "public"),
			token:  issue(t, realAuth, cred{env.Admin.ID, env.Admin.Password}, env.Admin.ProjectID),
			member: issue(t, realAuth, cred{gnc.ID, gnc.Password}, gnc.ProjectID), wait: func() {}},
		{name: "fake", base: srv.URL("JP") + "/TYO1/image",
			token:  issue(t, fakeAuth, cred{w.User(testserver.AdminUser).ID, testserver.AdminPassword}, w.Project(testserver.AdminProject).ID),
			member: issue(t, fakeAuth, cred{w.User("gncu00000001").ID, testserver.UserPassword}, w.Project("gnct00000001").ID),
			wait:   srv.WaitImports},
	}
	data := make([]byte, 300<<10)
	rand.Read(data)
	share := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(share.Close)
	marker := "geostack_conformance_" + strings.ToLower(rand.Text()[:8])
	const patchType = "application/openstack-images-v2.1-json-patch"

	// ids holds each side's image ids by role, as the steps create them.
	ids := map[string]map[string]string{"real": {}, "fake": {}}
	create := func(role string) func(s *glanceSide) glanceRequest {
		return func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: "/v2/images", body: map[string]any{
				"name": "conformance-" + role, "visibility": "private", "disk_format": "raw", "container_format": "bare", marker: role,
			}}
		}
	}
	image := func(role, suffix string) func(s *glanceSide) string {
		return func(s *glanceSide) string { return "/v2/images/" + ids[s.name][role] + suffix }
	}
	steps := []struct {
		name string
		req  func(s *glanceSide) glanceRequest
		role string // the role of the image a create makes
		// after runs on each side once the step was compared.
		after func(s *glanceSide)
	}{
		{name: "create", req: create("upload"), role: "upload"},
		{name: "get queued", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: image("upload", "")(s)}
		}},
		{name: "download queued (204)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: image("upload", "/file")(s)}
		}},
		{name: "upload, chunked", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPut, path: image("upload", "/file")(s), contentType: "application/octet-stream", body: data}
		}},
		{name: "get active", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: image("upload", "")(s)}
		}},
		{name: "download active", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: image("upload", "/file")(s)}
		}},
		{name: "upload again (409)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPut, path: image("upload", "/file")(s), contentType: "application/octet-stream", body: []byte("x")}
		}},
		{name: "list by property", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: "/v2/images?" + marker + "=upload"}
		}},
		{name: "patch add", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPatch, path: image("upload", "")(s), contentType: patchType,
				body: []any{map[string]any{"op": "add", "path": "/added", "value": "v"}}}
		}},
		{name: "patch remove a missing property (409)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPatch, path: image("upload", "")(s), contentType: patchType,
				body: []any{map[string]any{"op": "remove", "path": "/nothere"}}}
		}},
		{name: "patch a read-only attribute (403)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPatch, path: image("upload", "")(s), contentType: patchType,
				body: []any{map[string]any{"op": "add", "path": "/os_hash_value", "value": "v"}}}
		}},
		{name: "patch as JSON (415)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPatch, path: image("upload", "")(s), contentType: "application/json",
				body: []any{map[string]any{"op": "add", "path": "/x", "value": "v"}}}
		}},
		{name: "create a reserved property (403)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: "/v2/images", body: map[string]any{"name": "x", "os_glance_x": "1"}, asMember: true}
		}},
		{name: "create public as a member (403)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: "/v2/images", body: map[string]any{"name": "x", "visibility": "public"}, asMember: true}
		}},
		{name: "import into an active image (409)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: image("upload", "/import")(s),
				body: map[string]any{"method": map[string]any{"name": "web-download", "uri": share.URL}}}
		}},
		{name: "import methods", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: "/v2/info/import"}
		}},
		{name: "create for import", req: create("import"), role: "import"},
		{name: "import a filtered URI (400)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: image("import", "/import")(s),
				body: map[string]any{"method": map[string]any{"name": "web-download", "uri": "ftp://127.0.0.1/x"}}}
		}},
		{name: "import an unknown method (400)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: image("import", "/import")(s),
				body: map[string]any{"method": map[string]any{"name": "bogus"}}}
		}},
		{name: "import web-download", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodPost, path: image("import", "/import")(s),
				body: map[string]any{"method": map[string]any{"name": "web-download", "uri": share.URL}}}
		}, after: func(s *glanceSide) { s.wait() }},
		{name: "delete", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodDelete, path: image("upload", "")(s)}
		}},
		{name: "get deleted (404)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodGet, path: image("upload", "")(s)}
		}},
		{name: "delete again (404)", req: func(s *glanceSide) glanceRequest {
			return glanceRequest{method: http.MethodDelete, path: image("upload", "")(s)}
		}},
	}
	t.Cleanup(func() { // whatever a failed step left
		for _, s := range sides {
			for _, id := range ids[s.name] {
				req, _ := http.NewRequest(http.MethodDelete, s.base+"/v2/images/"+id, nil)
				req.Header.Set("X-Auth-Token", s.token)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}
	})
	for _, st := range steps { // in order: each builds on the last
		var got [2]glanceAnswer
		for i, s := range sides {
			a, raw := s.do(t, st.req(s))
			got[i] = a
			if st.role != "" && a.Status == http.StatusCreated {
				var im struct{ ID string }
				if err := json.Unmarshal(raw, &im); err != nil || im.ID == "" {
					t.Fatalf("%s: %s: no image id in %s", s.name, st.name, raw)
				}
				ids[s.name][st.role] = im.ID
			}
		}
		if diff := cmp.Diff(got[0], got[1], compareOptions(nil)); diff != "" {
			t.Errorf("%s: the fake drifted from the real Glance (-real +fake):\n%s", st.name, diff)
		}
		if st.after != nil {
			for _, s := range sides {
				st.after(s)
			}
		}
	}
}
