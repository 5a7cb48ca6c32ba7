package authtoken

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

func TestServiceCatalogHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []tokens.CatalogEntry
		want    string
	}{
		{name: "empty", entries: []tokens.CatalogEntry{}, want: `[]`},
		{
			name: "regions merged, in order of appearance",
			entries: []tokens.CatalogEntry{{ID: "s1", Type: "compute", Name: "nova", Endpoints: []tokens.Endpoint{
				{Region: "TYO1", RegionID: "TYO1", Interface: "public", URL: "https://tyo1/compute"},
				{Region: "SIN1", RegionID: "SIN1", Interface: "public", URL: "https://sin1/compute"},
				{Region: "TYO1", RegionID: "TYO1", Interface: "internal", URL: "http://tyo1.internal/compute"},
				{Region: "TYO1", RegionID: "TYO1", Interface: "ADMIN", URL: "http://tyo1.admin/compute?a=1&b=2"},
			}}},
			want: `[{"type":"compute","name":"nova","endpoints":[` +
				`{"adminURL":"http://tyo1.admin/compute?a=1&b=2","internalURL":"http://tyo1.internal/compute","publicURL":"https://tyo1/compute","region":"TYO1"},` +
				`{"publicURL":"https://sin1/compute","region":"SIN1"}]}]`,
		},
		{
			name: "no region, no endpoints",
			entries: []tokens.CatalogEntry{
				{Type: "mail", Name: "", Endpoints: []tokens.Endpoint{{Interface: "public", URL: "https://mail"}}},
				{Type: "dns", Name: "designate"},
			},
			want: `[{"type":"mail","name":"","endpoints":[{"publicURL":"https://mail"}]},{"type":"dns","name":"designate","endpoints":[]}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, serviceCatalogHeader(tt.entries)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestServiceCatalogForwarded: with IncludeCatalog, X-Service-Catalog
// carries the token's catalog, one entry per service; without, none.
func TestServiceCatalogForwarded(t *testing.T) {
	t.Parallel()
	for _, include := range []bool{false, true} {
		t.Run("IncludeCatalog="+map[bool]string{false: "false", true: "true"}[include], func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) { c.IncludeCatalog = include }})
			var header []string
			h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				header = r.Header["X-Service-Catalog"]
			}), HandlerOptions{ForwardHeaders: true})
			tok := e.issue(t, "gncu00000001")
			for range 2 { // the second answer comes from the cache
				req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
				req.Header.Set("X-Auth-Token", tok.ID)
				req.Header.Set("X-Service-Catalog", `[{"type":"evil"}]`)
				h.ServeHTTP(httptest.NewRecorder(), req)
				if !include {
					if header != nil {
						t.Fatalf("X-Service-Catalog = %q, want none", header)
					}
					continue
				}
				if len(header) != 1 {
					t.Fatalf("X-Service-Catalog = %q, want one value", header)
				}
				var services []v2Service
				if err := json.Unmarshal([]byte(header[0]), &services); err != nil {
					t.Fatal(err)
				}
				entries, _ := rawCatalog(tok)
				var want, got []string
				for _, s := range entries {
					want = append(want, s.Type)
				}
				for _, s := range services {
					got = append(got, s.Type)
					if len(s.Endpoints) == 0 {
						t.Errorf("service %s: no endpoints", s.Type)
					}
				}
				sort.Strings(want)
				sort.Strings(got)
				if len(want) == 0 {
					t.Fatal("the fake cloud's token has no catalog")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("service types (-want +got):\n%s", diff)
				}
			}
		})
	}
}
