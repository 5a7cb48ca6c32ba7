package testserver_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/internal/testserver"
)

func TestCatalogTemplates(t *testing.T) {
	t.Parallel()
	w := testserver.DefaultWorld()
	project := w.Project("gnct00000001").ID
	tests := []struct {
		name      string
		opts      testserver.Options
		scope     tokens.Scope
		wantTypes []string
		wantURL   string // suffix of the SIN1 public volumev3 URL; "" if absent
	}{
		{"project scope substitutes", testserver.Options{}, tokens.Scope{ProjectID: project},
			[]string{"identity", "compute", "image", "volumev3", "network"}, "/SIN1/volume/v3/" + project},
		{"raw templates", testserver.Options{RawCatalogTemplates: true}, tokens.Scope{ProjectID: project},
			[]string{"identity", "compute", "image", "volumev3", "network"}, "/SIN1/volume/v3/$(project_id)s"},
		{"block-storage alias", testserver.Options{BlockStorageAlias: true}, tokens.Scope{ProjectID: project},
			[]string{"identity", "compute", "image", "volumev3", "network", "block-storage"}, "/SIN1/volume/v3/" + project},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, tc.opts)
			_, res := issue(t, srv.AuthURL("SG"), tokens.AuthOptions{UserID: w.User("gncu00000001").ID,
				Password: testserver.UserPassword, Scope: tc.scope})
			cat, err := res.ExtractServiceCatalog()
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			gotURL := ""
			for _, e := range cat.Entries {
				types = append(types, e.Type)
				for _, ep := range e.Endpoints {
					if e.Type == "volumev3" && ep.Region == "SIN1" && ep.Interface == "public" {
						gotURL = strings.TrimPrefix(ep.URL, srv.URL("SG"))
					}
				}
			}
			if diff := cmp.Diff(tc.wantTypes, types); diff != "" {
				t.Errorf("types (-want +got):\n%s", diff)
			}
			if gotURL != tc.wantURL {
				t.Errorf("volumev3 URL = %q, want %q", gotURL, tc.wantURL)
			}
		})
	}
}

func TestDomainAuthURLs(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	tests := []struct {
		name, url string
		want      int
	}{
		{"user auth url", srv.DomainAuthURL("zjp", "US"), http.StatusOK},
		{"admin auth url", srv.DomainAdminAuthURL("zjp", "JP"), http.StatusOK},
		{"unknown domain", srv.DomainAuthURL("nope", "JP"), http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := userOpts("zjpu00000001")
			res := tokens.Create(t.Context(), identityClient(t, tc.url, ""), &opts)
			if tc.want == http.StatusOK && res.Err != nil {
				t.Errorf("err = %v", res.Err)
			}
			if tc.want != http.StatusOK && !gophercloud.ResponseCodeIs(res.Err, tc.want) {
				t.Errorf("err = %v, want %d", res.Err, tc.want)
			}
		})
	}
}

// TestConcurrentFaults toggles faults while clients issue tokens; run with
// -race it checks that faults can be changed at run time.
func TestConcurrentFaults(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				opts := userOpts("gncu00000001")
				tokens.Create(t.Context(), identityClient(t, srv.AuthURL("JP"), ""), &opts)
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			srv.SetFault(testserver.Keystone("JP"), testserver.Fault{Status: 500 + i%4})
			srv.SetFault(testserver.AtLocation("JP"), testserver.Fault{Down: i%2 == 0})
		}
		srv.ClearFaults()
	})
	wg.Wait()
	issue(t, srv.AuthURL("JP"), userOpts("gncu00000001"))
}
