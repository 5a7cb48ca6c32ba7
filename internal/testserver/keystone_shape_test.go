package testserver_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/internal/testserver"
)

// TestKeystoneShapeDetails pins the details in which the fake once differed
// from a real Keystone 22 (found by internal/conformance against one): the
// Content-Type of a HEAD validation, the links of GET /v3/auth/catalog and
// the enabled flag of regions.
func TestKeystoneShapeDetails(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	tok, _ := issue(t, srv.AuthURL("US"), userOpts("gncu00000001"))
	svc, _ := issue(t, srv.AuthURL("US"), serviceOpts("nova"))

	get := func(method, path, subject string) (*http.Response, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.AuthURL("US")+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", svc.ID)
		if subject != "" {
			req.Header.Set("X-Subject-Token", subject)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if method != http.MethodHead {
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp, body
	}

	resp, _ := get(http.MethodHead, "/auth/tokens", tok.ID)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Subject-Token") == "" {
		t.Errorf("HEAD /v3/auth/tokens: status %d, Content-Type %q, X-Subject-Token set %v; want 200, application/json, set",
			resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Subject-Token") != "")
	}

	_, body := get(http.MethodGet, "/auth/catalog", "")
	links, _ := body["links"].(map[string]any)
	if diff := cmp.Diff([]string{"self"}, slices.Sorted(maps.Keys(links))); diff != "" {
		t.Errorf("GET /v3/auth/catalog links keys (-want +got):\n%s", diff)
	}

	_, body = get(http.MethodGet, "/regions", "")
	regions, _ := body["regions"].([]any)
	if len(regions) == 0 {
		t.Fatal("GET /v3/regions: no regions")
	}
	for _, r := range regions {
		if rm, _ := r.(map[string]any); rm["enabled"] != true {
			t.Errorf("GET /v3/regions: region %v has enabled %v, want true", rm["id"], rm["enabled"])
		}
	}
}
