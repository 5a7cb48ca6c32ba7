package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/testserver"
)

// collect lists every page of a pager through gophercloud and returns the
// names.
func collect[T any](t testing.TB, pager pagination.Pager, extract func(pagination.Page) ([]T, error), name func(T) string) []string {
	t.Helper()
	var out []string
	err := pager.EachPage(t.Context(), func(_ context.Context, p pagination.Page) (bool, error) {
		items, err := extract(p)
		for _, it := range items {
			out = append(out, name(it))
		}
		return true, err
	})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return sorted(out)
}

// names2 collects the names of a domain.Filter listing.
func names2[T any](t testing.TB, seq iter.Seq2[T, error], name func(T) string) []string {
	t.Helper()
	var out []string
	for it, err := range seq {
		if err != nil {
			t.Fatalf("client-side listing: %v", err)
		}
		out = append(out, name(it))
	}
	return sorted(out)
}

// TestViews lists images, flavors and volume types through each domain's
// proxies with gophercloud, in small pages, and checks that each domain's
// user gets exactly its view: what the client-side filter gives on the
// same cloud, and the names the fake cloud seeds for it.
func TestViews(t *testing.T) {
	t.Parallel()
	e := setup(t)
	want := map[string]map[string][]string{
		"gnc": {
			"images":       {"centos-stream-9", "debian-12", "gnc_centos", "gnc_ubuntu", "gnct00000001-backup", "ubuntu-24.04"},
			"flavors":      {"gnc_g-1gb", "gnc_g-2gb", "gnc_g-4gb", "m1.large", "m1.medium", "m1.small"},
			"volume types": {"__DEFAULT__", "gnc_hdd", "gnc_ssd"},
		},
		"zjp": {
			// gnc_centos_planted is zjpt00000001's own community image.
			"images":       {"centos-stream-9", "debian-12", "gnc_centos_planted", "ubuntu-24.04", "zjp_centos", "zjp_ubuntu", "zjpt00000001-backup"},
			"flavors":      {"m1.large", "m1.medium", "m1.small", "zjp_g-1gb", "zjp_g-2gb", "zjp_g-4gb"},
			"volume types": {"__DEFAULT__", "zjp_hdd", "zjp_ssd"},
		},
	}
	for dom, views := range want {
		t.Run(dom, func(t *testing.T) {
			t.Parallel()
			tok := e.token(t, dom+"u00000001")
			project := tok.Project.ID
			f := e.filter(t, dom, domain.Policy{}).ForProject(project)
			imageRoot := e.start(t, dom, proxy.Config{Service: proxy.Image})
			computeRoot := e.start(t, dom, proxy.Config{Service: proxy.Compute})
			volumeRoot := e.start(t, dom, proxy.Config{Service: proxy.BlockStorage})
			got := map[string][]string{
				"images": collect(t, images.List(serviceClient(imageRoot, "v2/", tok.ID), images.ListOpts{Limit: 2}),
					images.ExtractImages, func(i images.Image) string { return i.Name }),
				"flavors": collect(t, flavors.ListDetail(serviceClient(computeRoot, "v2.1/", tok.ID), flavors.ListOpts{Limit: 2}),
					flavors.ExtractFlavors, func(f flavors.Flavor) string { return f.Name }),
				"volume types": collect(t, volumetypes.List(serviceClient(volumeRoot, "v3/"+project+"/", tok.ID), volumetypes.ListOpts{Limit: 2}),
					volumetypes.ExtractVolumeTypes, func(v volumetypes.VolumeType) string { return v.Name }),
			}
			if diff := cmp.Diff(views, got); diff != "" {
				t.Errorf("views through the proxies (-want +got):\n%s", diff)
			}
			client := map[string][]string{
				"images": names2(t, f.Images(t.Context(), serviceClient(e.upstream(proxy.Image), "v2/", tok.ID), images.ListOpts{Limit: 2}),
					func(i images.Image) string { return i.Name }),
				"flavors": names2(t, f.Flavors(t.Context(), serviceClient(e.upstream(proxy.Compute), "v2.1/", tok.ID), flavors.ListOpts{Limit: 2}),
					func(f flavors.Flavor) string { return f.Name }),
				"volume types": names2(t, f.VolumeTypes(t.Context(), serviceClient(e.upstream(proxy.BlockStorage), "v3/"+project+"/", tok.ID), volumetypes.ListOpts{Limit: 2}),
					func(v volumetypes.VolumeType) string { return v.Name }),
			}
			if diff := cmp.Diff(client, got); diff != "" {
				t.Errorf("proxy against the client-side filter (-client +proxy):\n%s", diff)
			}
		})
	}
}

// TestHiddenItems asks for single items, and what is under them, through
// gnc's proxies: an item gnc may not see is absent, with the service's own
// not-found document; one it may see is the service's answer, unchanged.
func TestHiddenItems(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001")
	project := tok.Project.ID
	imageRoot := e.start(t, "gnc", proxy.Config{Service: proxy.Image})
	computeRoot := e.start(t, "gnc", proxy.Config{Service: proxy.Compute})
	volumeRoot := e.start(t, "gnc", proxy.Config{Service: proxy.BlockStorage})
	w := e.world
	glance404 := func(id string) string {
		return "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID " + id + "<br /><br />\n\n\n\n </body>\n</html>"
	}
	zjpImage, planted, own := w.Image("zjp_centos").ID, w.Image("gnc_centos_planted").ID, w.Image("gnct00000001-backup").ID
	zjpFlavor, zjpType := w.Flavor("zjp_g-1gb").ID, ""
	for _, vt := range w.VolumeTypes {
		if vt.Name == "zjp_ssd" {
			zjpType = vt.ID
		}
	}
	tests := []struct {
		name, method, url string
		body              string
		header            map[string]string
		wantStatus        int
		wantBody          string // exact, when set
		wantType          string
	}{
		{name: "another domain's image", method: http.MethodGet, url: imageRoot + "/v2/images/" + zjpImage,
			wantStatus: 404, wantBody: glance404(zjpImage), wantType: "text/html; charset=UTF-8"},
		{name: "a planted community image", method: http.MethodGet, url: imageRoot + "/v2/images/" + planted,
			wantStatus: 404, wantBody: glance404(planted)},
		{name: "its data", method: http.MethodGet, url: imageRoot + "/v2/images/" + zjpImage + "/file", wantStatus: 404, wantBody: glance404(zjpImage)},
		{name: "its deletion", method: http.MethodDelete, url: imageRoot + "/v2/images/" + zjpImage, wantStatus: 404, wantBody: glance404(zjpImage)},
		{name: "its patch", method: http.MethodPatch, url: imageRoot + "/v2/images/" + zjpImage, body: `[{"op": "add", "path": "/os_distro", "value": "x"}]`,
			header: map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"}, wantStatus: 404, wantBody: glance404(zjpImage)},
		{name: "its upload", method: http.MethodPut, url: imageRoot + "/v2/images/" + zjpImage + "/file", body: "data",
			header: map[string]string{"Content-Type": "application/octet-stream"}, wantStatus: 404, wantBody: glance404(zjpImage)},
		{name: "an image that does not exist", method: http.MethodGet, url: imageRoot + "/v2/images/nonexistent",
			wantStatus: 404, wantBody: glance404("nonexistent")},
		{name: "own private image", method: http.MethodGet, url: imageRoot + "/v2/images/" + own, wantStatus: 200},
		{name: "another domain's flavor", method: http.MethodGet, url: computeRoot + "/v2.1/flavors/" + zjpFlavor,
			wantStatus: 404, wantBody: `{"itemNotFound":{"code":404,"message":"Flavor ` + zjpFlavor + ` could not be found."}}`,
			wantType: "application/json; charset=UTF-8"},
		{name: "its extra specs", method: http.MethodGet, url: computeRoot + "/v2.1/flavors/" + zjpFlavor + "/os-extra_specs", wantStatus: 404},
		{name: "a shared flavor", method: http.MethodGet, url: computeRoot + "/v2.1/flavors/" + w.Flavor("m1.small").ID, wantStatus: 200},
		{name: "another domain's volume type", method: http.MethodGet, url: volumeRoot + "/v3/" + project + "/types/" + zjpType,
			wantStatus: 404, wantBody: `{"itemNotFound":{"code":404,"message":"Volume type ` + zjpType + ` could not be found."}}`,
			wantType: "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			status, h, got := do(t, tt.method, tt.url, tok.ID, tt.header, body)
			if status != tt.wantStatus {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.url, status, got, tt.wantStatus)
			}
			if tt.wantBody != "" {
				if diff := cmp.Diff(tt.wantBody, string(got)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
			if tt.wantType != "" && h.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), tt.wantType)
			}
		})
	}
	// A visible item is the upstream's document, byte for byte.
	_, _, direct := do(t, http.MethodGet, e.upstream(proxy.Image)+"/v2/images/"+own, tok.ID, nil, nil)
	_, _, proxied := do(t, http.MethodGet, imageRoot+"/v2/images/"+own, tok.ID, nil, nil)
	if diff := cmp.Diff(string(direct), string(proxied)); diff != "" {
		t.Errorf("visible image through the proxy (-direct +proxied):\n%s", diff)
	}
}

// echoUpstream answers every request with what it received: method, path,
// query, headers and body length.
func echoUpstream(t testing.TB) (*httptest.Server, func() *http.Request) {
	t.Helper()
	var mu sync.Mutex
	var last *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		last = r.Clone(r.Context())
		mu.Unlock()
		w.Header().Set("X-Openstack-Request-Id", "req-echo")
		w.Header().Set("Openstack-Api-Version", r.Header.Get("Openstack-Api-Version"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, `{"conflictingRequest": {"code": 418, "message": "as the upstream wrote it"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() *http.Request {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// TestAuthentication checks who gets through: only valid tokens of the
// proxy's own domain, with the identity headers a client could spoof
// stripped; version documents need no token.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := setup(t)
	up, last := echoUpstream(t)
	gnc, zjp := e.token(t, "gncu00000001"), e.token(t, "zjpu00000001")
	root := e.start(t, "gnc", proxy.Config{Service: proxy.Compute, Upstream: up.URL + "/compute"})

	// A Validator that serves both gnc and zjp, in front of gnc's proxy.
	gncDom, _ := e.reg.ByName("gnc")
	zjpDom, _ := e.reg.ByName("zjp")
	both, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{gncDom, zjpDom}, Home: "SG", Primary: e.srv.Primary(), Clock: e.clock,
		ServiceToken: e.validator(t, "gnc").ServiceToken(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { both.Close() })
	shared := e.start(t, "gnc", proxy.Config{Service: proxy.Compute, Upstream: up.URL + "/compute", Validator: both, Prefix: "/shared"})

	tests := []struct {
		name       string
		url, token string
		header     map[string]string
		wantStatus int
	}{
		{name: "no token", url: root + "/v2.1/servers", wantStatus: 401},
		{name: "garbage token", url: root + "/v2.1/servers", token: "gAAAAAgarbage", wantStatus: 401},
		{name: "another domain's token", url: root + "/v2.1/servers", token: zjp.ID, wantStatus: 401},
		{name: "another domain's token, validator serving both", url: shared + "/v2.1/servers", token: zjp.ID, wantStatus: 401},
		{name: "own token, validator serving both", url: shared + "/v2.1/servers", token: gnc.ID, wantStatus: 418},
		{name: "own token", url: root + "/v2.1/servers/detail?all_tenants=1", token: gnc.ID, wantStatus: 418,
			header: map[string]string{
				"X-User-Id": "spoofed", "X-Roles": "admin", "X-Identity-Status": "Confirmed", "X-Service-Catalog": "[]",
				"X-Project-Id": "spoofed", "X-Tenant-Id": "spoofed", "x-is-admin-project": "True",
				"Openstack-Api-Version": "compute 2.79", "X-Openstack-Request-Id": "req-client",
				"X-Forwarded-Host": "attacker.example", "X-Forwarded-For": "10.9.9.9",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, http.MethodGet, tt.url, tt.token, tt.header, nil)
			if status != tt.wantStatus {
				t.Fatalf("%d %s, want %d", status, body, tt.wantStatus)
			}
			if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Keystone uri=") {
				t.Errorf("401 without WWW-Authenticate: %v", h)
			}
			if status != 418 {
				return
			}
			// Passed through unchanged, both ways.
			if string(body) != `{"conflictingRequest": {"code": 418, "message": "as the upstream wrote it"}}` || h.Get("X-Openstack-Request-Id") != "req-echo" {
				t.Errorf("answer %v %s, want the upstream's as it is", h, body)
			}
			got := last()
			if tt.header == nil {
				return
			}
			if got.URL.Path != "/compute/v2.1/servers/detail" || got.URL.RawQuery != "all_tenants=1" {
				t.Errorf("upstream got %s?%s", got.URL.Path, got.URL.RawQuery)
			}
			if xff := got.Header.Get("X-Forwarded-For"); xff != "127.0.0.1" {
				t.Errorf("X-Forwarded-For %q, want the client's address alone", xff)
			}
			for _, k := range []string{"X-User-Id", "X-Roles", "X-Identity-Status", "X-Service-Catalog", "X-Project-Id", "X-Tenant-Id", "X-Is-Admin-Project", "X-Forwarded-Host"} {
				if v, ok := got.Header[k]; ok {
					t.Errorf("spoofed %s: %v reached the upstream", k, v)
				}
			}
			for k, want := range map[string]string{"X-Auth-Token": gnc.ID, "Openstack-Api-Version": "compute 2.79", "X-Openstack-Request-Id": "req-client"} {
				if got.Header.Get(k) != want {
					t.Errorf("%s did not reach the upstream as sent", k)
				}
			}
			if h.Get("Openstack-Api-Version") != "compute 2.79" {
				t.Errorf("microversion header of the answer: %q", h.Get("Openstack-Api-Version"))
			}
		})
	}
}

// TestVersionDocuments checks that version documents need no token and
// point at the proxy, where keystoneauth goes next.
func TestVersionDocuments(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, svc := range []string{proxy.Image, proxy.Compute, proxy.BlockStorage, proxy.Identity} {
		t.Run(svc, func(t *testing.T) {
			t.Parallel()
			root := e.start(t, "gnc", proxy.Config{Service: svc})
			for _, path := range []string{"/", map[string]string{proxy.Image: "/v2/", proxy.Compute: "/v2.1/", proxy.BlockStorage: "/v3/", proxy.Identity: "/v3"}[svc]} {
				status, _, body := do(t, http.MethodGet, root+path, "", nil, nil)
				if status != http.StatusOK && status != http.StatusMultipleChoices {
					t.Fatalf("GET %s: %d %s", path, status, body)
				}
				if !strings.Contains(string(body), `"href":"`+root+"/v") {
					t.Errorf("GET %s: no link to the proxy in %s", path, body)
				}
				if strings.Contains(string(body), e.srv.URL("JP")) || strings.Contains(string(body), e.srv.URL("SG")) {
					t.Errorf("GET %s: a link to the upstream in %s", path, body)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	f, v := e.filter(t, "gnc", domain.Policy{}), e.validator(t, "gnc")
	tests := []struct {
		name string
		cfg  proxy.Config
		want []string // the keys of the problems
	}{
		{name: "empty", cfg: proxy.Config{}, want: []string{"service", "filter", "validator", "upstream"}},
		{name: "unknown service", cfg: proxy.Config{Service: "network", Filter: f, Validator: v, Upstream: "http://h/"}, want: []string{"service"}},
		{name: "relative upstream", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "/image"}, want: []string{"upstream"}},
		{name: "upstream with credentials", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "http://u:p@h/image"}, want: []string{"upstream"}},
		{name: "identity without resolver", cfg: proxy.Config{Service: "identity", Filter: f, Validator: v}, want: []string{"resolver"}},
		{name: "identity with upstream", cfg: proxy.Config{Service: "identity", Filter: f, Validator: v, Upstream: "http://h/"}, want: []string{"upstream"}},
		{name: "identity at an unknown home", cfg: proxy.Config{Service: "identity", Filter: f, Validator: v, Resolver: e.res, Home: "EU"}, want: []string{"home"}},
		{name: "catalog for a service", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "http://h/", Catalog: []proxy.Rewrite{{From: "http://a", To: "http://b"}}},
			want: []string{"catalog"}},
		{name: "bad rewrite", cfg: proxy.Config{Service: "identity", Filter: f, Validator: v, Resolver: e.res, Home: "SG", Catalog: []proxy.Rewrite{{From: "a", To: "http://b?x"}}},
			want: []string{"catalog[0].from", "catalog[0].to"}},
		{name: "relative prefix", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "http://h/", Prefix: "gnc"}, want: []string{"prefix"}},
		{name: "bad public URL", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "http://h/", PublicURL: "ftp://x"}, want: []string{"public_url"}},
		{name: "typed nil transport", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "http://h/", Transport: (*http.Transport)(nil)}, want: []string{"transport"}},
		{name: "negative bound", cfg: proxy.Config{Service: "image", Filter: f, Validator: v, Upstream: "http://h/", MaxUpstreamPages: -1}, want: []string{"max_upstream_pages"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := proxy.New(tt.cfg)
			var ce *configerr.Error
			if p != nil || !errors.As(err, &ce) || !errors.Is(err, configerr.ErrInvalid) {
				t.Fatalf("New = %v, %v; want a config error", p, err)
			}
			var keys []string
			for _, pr := range ce.Problems {
				keys = append(keys, pr.Key)
			}
			if diff := cmp.Diff(tt.want, keys); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{in: "https://h/compute/v2.1", want: "https://h/compute"},
		{in: "https://h/compute/v2.1/", want: "https://h/compute"},
		{in: "http://h:8776/volume/v3/$(project_id)s", want: "http://h:8776/volume"},
		{in: "http://h:8776/v3/0123456789abcdef", want: "http://h:8776"},
		{in: "http://127.0.0.1:9292/TYO1/public/image", want: "http://127.0.0.1:9292/TYO1/public/image"},
		{in: "http://h/identity/v3/", want: "http://h/identity"},
		{in: "http://h/video/v2x", want: "http://h/video/v2x"},
		{in: "h/image", err: "absolute"},
		{in: "http://u:secret@h/image", err: "user information"},
		{in: "http://h/image?x=1", err: "query"},
		{in: "http:///image", err: "no host"},
	}
	for _, tt := range tests {
		got, err := proxy.Root(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Root(%q) = %q, %v; want an error about %s", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Root(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestFormat checks that printing a Proxy, with any verb, shows what it
// serves and nothing of its Validator's credential.
func TestFormat(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p, err := proxy.New(proxy.Config{Service: "volumev3", Filter: e.filter(t, "gnc", domain.Policy{}), Validator: e.validator(t, "gnc"),
		Upstream: "http://h/volume/v3/$(project_id)s", Prefix: "/gnc/volume"})
	if err != nil {
		t.Fatal(err)
	}
	want := `proxy.Proxy{domain: gnc, service: block-storage, prefix: "/gnc/volume"}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(verb, p)
		if got != want || strings.Contains(got, testserver.ServicePassword) {
			t.Errorf("%s: %s, want %s", verb, got, want)
		}
	}
	if got := fmt.Sprint((*proxy.Proxy)(nil)); got != "proxy.Proxy(nil)" {
		t.Errorf("nil: %s", got)
	}
}

// TestFromCatalog takes each proxy's upstream from a token's catalog: the
// service's root, without the version and the project.
func TestFromCatalog(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001")
	for _, tt := range []struct {
		typ  string
		want string
	}{
		{"image", e.upstream(proxy.Image)},
		{"compute", e.upstream(proxy.Compute)},
		{"volumev3", e.upstream(proxy.BlockStorage)},
		{"block-storage", e.upstream(proxy.BlockStorage)},
	} {
		got, err := proxy.FromCatalog(tok.Catalog, catalog.Query{Type: tt.typ, Region: "TYO1"})
		if err != nil || got != tt.want {
			t.Errorf("FromCatalog(%s) = %q, %v; want %q", tt.typ, got, err, tt.want)
		}
	}
	if _, err := proxy.FromCatalog(tok.Catalog, catalog.Query{Type: "image", Region: "EU1"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("FromCatalog in an unknown region: %v, want catalog.ErrNotFound", err)
	}
}
