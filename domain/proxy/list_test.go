package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/domain/proxy"
)

// page is what one list request through the proxy answered.
type page struct {
	Names []string
	Next  string // the next link as written, "" for none
}

// nextOf returns a list document's next link, in the style of the service.
func nextOf(t testing.TB, style string, body []byte) string {
	t.Helper()
	var doc struct {
		Next   string `json:"next"`
		Flavor []struct {
			Rel, Href string
		} `json:"flavors_links"`
		Types []struct {
			Rel, Href string
		} `json:"volume_type_links"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("list document: %v", err)
	}
	for _, l := range append(doc.Flavor, doc.Types...) {
		if l.Rel == "next" {
			return l.Href
		}
	}
	return doc.Next
}

// walkList follows the proxy's next links from the first page, as
// gophercloud does (Glance's next is a path under the root), to an empty
// page or a page without a next link.
func walkList(t testing.TB, u *listUpstream, root, query, token string) []page {
	t.Helper()
	target := root + u.listPath()
	if query != "" {
		target += "?" + query
	}
	var pages []page
	for range 20 {
		status, _, body := do(t, http.MethodGet, target, token, nil, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, status, body)
		}
		pg := page{Names: names(t, u.key(), body), Next: nextOf(t, u.style, body)}
		pages = append(pages, pg)
		if pg.Next == "" || len(pg.Names) == 0 {
			return pages
		}
		if u.style == "glance" {
			target = root + pg.Next
		} else {
			target = pg.Next
		}
	}
	t.Fatalf("more than 20 pages: %+v", pages)
	return nil
}

// TestListPaging pages through listings whose hidden items fall in every
// place a page boundary can be, in each service's link style, and checks
// each page, its next link and what the upstream was asked.
func TestListPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001").ID
	tests := []struct {
		name         string
		style        string
		names        []string
		defaultLimit int
		query        string
		want         []page // Next "" for none, "…" for any link
		wantQueries  []string
	}{
		{
			name: "all visible", style: "glance",
			names: []string{"gnc_0", "gnc_1", "gnc_2", "gnc_3", "gnc_4"}, query: "limit=2",
			want: []page{
				{[]string{"gnc_0", "gnc_1"}, "/v2/images?limit=2&marker=id-1"},
				{[]string{"gnc_2", "gnc_3"}, "/v2/images?limit=2&marker=id-3"},
				{[]string{"gnc_4"}, ""},
			},
			wantQueries: []string{"limit=2", "limit=2&marker=id-1", "limit=2&marker=id-3"},
		},
		{
			name: "a whole page hidden", style: "glance",
			names: []string{"gnc_0", "gnc_1", "zjp_2", "zjp_3", "gnc_4", "gnc_5", "gnc_6"}, query: "limit=2",
			want: []page{
				{[]string{"gnc_0", "gnc_1"}, "/v2/images?limit=2&marker=id-1"},
				{[]string{"gnc_4", "gnc_5"}, "/v2/images?limit=2&marker=id-5"},
				{[]string{"gnc_6"}, ""},
			},
			// The hidden page is followed by a larger one, from the last
			// item read; the next link starts after the last item shown.
			wantQueries: []string{"limit=2", "limit=2&marker=id-1", "limit=4&marker=id-3", "limit=2&marker=id-5"},
		},
		{
			name: "full last page followed by an empty page", style: "glance",
			names: []string{"gnc_0", "gnc_1", "gnc_2", "gnc_3"}, query: "limit=2",
			want: []page{
				{[]string{"gnc_0", "gnc_1"}, "/v2/images?limit=2&marker=id-1"},
				{[]string{"gnc_2", "gnc_3"}, "/v2/images?limit=2&marker=id-3"},
				{[]string{}, ""},
			},
			wantQueries: []string{"limit=2", "limit=2&marker=id-1", "limit=2&marker=id-3"},
		},
		{
			name: "hidden items end the listing", style: "glance",
			names: []string{"gnc_0", "gnc_1", "zjp_2", "zjp_3"}, query: "limit=2",
			want: []page{
				{[]string{"gnc_0", "gnc_1"}, "/v2/images?limit=2&marker=id-1"},
				{[]string{}, ""},
			},
			wantQueries: []string{"limit=2", "limit=2&marker=id-1", "limit=4&marker=id-3"},
		},
		{
			name: "a partly hidden page is filled from the next", style: "glance",
			names: []string{"gnc_0", "zjp_1", "gnc_2", "zjp_3", "gnc_4"}, query: "limit=2",
			want: []page{
				{[]string{"gnc_0", "gnc_2"}, "/v2/images?limit=2&marker=id-2"},
				{[]string{"gnc_4"}, ""},
			},
			wantQueries: []string{"limit=2", "limit=4&marker=id-1", "limit=2&marker=id-2", "limit=4&marker=id-4"},
		},
		{
			name: "no limit: pages as long as the service's", style: "glance", defaultLimit: 3,
			names: []string{"gnc_0", "gnc_1", "gnc_2", "gnc_3", "zjp_4", "gnc_5", "gnc_6"},
			want: []page{
				{[]string{"gnc_0", "gnc_1", "gnc_2"}, "/v2/images?marker=id-2"},
				{[]string{"gnc_3", "gnc_5", "gnc_6"}, ""},
			},
			wantQueries: []string{"", "marker=id-2", "limit=6&marker=id-5"},
		},
		{
			name: "the user's filters are kept", style: "glance",
			names: []string{"gnc_0", "zjp_1", "zjp_2", "gnc_3"}, query: "limit=2&sort=name%3Aasc&status=active",
			want: []page{
				{[]string{"gnc_0", "gnc_3"}, ""},
			},
			wantQueries: []string{"limit=2&sort=name%3Aasc&status=active", "limit=4&marker=id-1&sort=name%3Aasc&status=active"},
		},
		{
			name: "nova: absolute links at the proxy", style: "nova",
			names: []string{"m1.small", "zjp_z1", "zjp_z2", "gnc_g1", "gnc_g2"}, query: "limit=2",
			want: []page{
				{[]string{"m1.small", "gnc_g1"}, "…/v2.1/flavors/detail?limit=2&marker=id-3"},
				{[]string{"gnc_g2"}, ""},
			},
			wantQueries: []string{"limit=2", "limit=4&marker=id-1", "limit=2&marker=id-3"},
		},
		{
			name: "cinder: absolute links at the proxy", style: "cinder",
			names: []string{"zjp_ssd", "zjp_hdd", "default", "gnc_ssd", "zsg_ssd"}, query: "limit=2",
			want: []page{
				{[]string{"default", "gnc_ssd"}, "…/v3/p1/types?limit=2&marker=id-3"},
				{[]string{}, ""},
			},
			wantQueries: []string{"limit=2", "limit=4&marker=id-1", "limit=2&marker=id-3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := startListUpstream(t, &listUpstream{style: tt.style, names: tt.names, defaultLimit: tt.defaultLimit})
			svc := map[string]string{"glance": proxy.Image, "nova": proxy.Compute, "cinder": proxy.BlockStorage}[tt.style]
			root := e.start(t, "gnc", proxy.Config{Service: svc, Upstream: u.srv.URL})
			got := walkList(t, u, root, tt.query, tok)
			for i := range got {
				if strings.HasPrefix(got[i].Next, root) {
					got[i].Next = "…" + strings.TrimPrefix(got[i].Next, root)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantQueries, u.seen()); diff != "" {
				t.Errorf("upstream list queries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListBound checks the bound on upstream pages per request: a page is
// answered with what was found, and a stretch of hidden items longer than
// the bound, with nothing to show, is an error rather than an empty page
// (which clients take for the end).
func TestListBound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001").ID

	t.Run("progress across requests", func(t *testing.T) {
		t.Parallel()
		u := startListUpstream(t, &listUpstream{style: "glance",
			names: []string{"gnc_0", "zjp_1", "zjp_2", "zjp_3", "zjp_4", "zjp_5", "gnc_6"}})
		root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: u.srv.URL, MaxUpstreamPages: 2})
		want := []page{
			{[]string{"gnc_0"}, "/v2/images?limit=2&marker=id-0"},
			{[]string{"gnc_6"}, "/v2/images?limit=2&marker=id-6"},
			{[]string{}, ""},
		}
		if diff := cmp.Diff(want, walkList(t, u, root, "limit=2", tok)); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
	t.Run("nothing within the bound", func(t *testing.T) {
		t.Parallel()
		var all []string
		for range 20 {
			all = append(all, "zjp_x")
		}
		u := startListUpstream(t, &listUpstream{style: "glance", names: append(all, "gnc_late")})
		root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: u.srv.URL, MaxUpstreamPages: 3})
		status, _, body := do(t, http.MethodGet, root+"/v2/images?limit=1", tok, nil, nil)
		if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "within 3 upstream pages") {
			t.Errorf("got %d %s, want 503 naming the bound", status, body)
		}
		if diff := cmp.Diff([]string{"limit=1", "limit=2&marker=id-0", "limit=4&marker=id-2"}, u.seen()); diff != "" {
			t.Errorf("upstream list queries (-want +got):\n%s", diff)
		}
	})
}

// TestListMarkers checks a marker that names an item the domain may not
// see: each service's answer for an unknown marker.
func TestListMarkers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001").ID
	tests := []struct {
		style      string
		wantStatus int
		wantBody   string // a substring
		wantNames  []string
	}{
		{style: "glance", wantStatus: http.StatusBadRequest, wantBody: "No image found with ID id-1<br />"},
		{style: "nova", wantStatus: http.StatusBadRequest, wantBody: `{"badRequest":{"code":400,"message":"marker [id-1] not found"}}`},
		// Cinder lists from the start when it does not know a marker.
		{style: "cinder", wantStatus: http.StatusOK, wantNames: []string{"gnc_0", "gnc_2"}},
	}
	for _, tt := range tests {
		t.Run(tt.style, func(t *testing.T) {
			t.Parallel()
			u := startListUpstream(t, &listUpstream{style: tt.style, names: []string{"gnc_0", "zjp_1", "gnc_2"}, defaultLimit: 10})
			svc := map[string]string{"glance": proxy.Image, "nova": proxy.Compute, "cinder": proxy.BlockStorage}[tt.style]
			root := e.start(t, "gnc", proxy.Config{Service: svc, Upstream: u.srv.URL})
			status, _, body := do(t, http.MethodGet, root+u.listPath()+"?marker=id-1", tok, nil, nil)
			if status != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("got %d %s, want %d with %q", status, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantNames != nil {
				if diff := cmp.Diff(tt.wantNames, names(t, u.key(), body)); diff != "" {
					t.Errorf("names (-want +got):\n%s", diff)
				}
			}
			// A visible marker pages on.
			status, _, body = do(t, http.MethodGet, root+u.listPath()+"?marker=id-0", tok, nil, nil)
			if status != http.StatusOK {
				t.Fatalf("visible marker: %d %s", status, body)
			}
			if diff := cmp.Diff([]string{"gnc_2"}, names(t, u.key(), body)); diff != "" {
				t.Errorf("after a visible marker (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListUpstreamFaults checks that an upstream error is relayed as it
// is, that a document cut short before anything was shown is a 502, and
// that one cut short after items were shown ends the page with a next
// link from the last item shown, so that the listing is never silently
// shorter.
func TestListUpstreamFaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001").ID

	t.Run("error relayed", func(t *testing.T) {
		t.Parallel()
		u := startListUpstream(t, &listUpstream{style: "glance", names: []string{"gnc_0"}})
		root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: u.srv.URL})
		status, h, body := do(t, http.MethodGet, root+"/v2/images?marker=id-9", tok, nil, nil)
		if status != http.StatusBadRequest || string(body) != `{"badRequest": {"code": 400, "message": "marker not found"}}` ||
			h.Get("X-Openstack-Request-Id") != "req-upstream" {
			t.Errorf("got %d %v %s, want the upstream's 400 as it is", status, h, body)
		}
	})
	t.Run("cut short at once", func(t *testing.T) {
		t.Parallel()
		u := startListUpstream(t, &listUpstream{style: "glance", names: []string{"zjp_0", "gnc_1"}, failPage: 1})
		root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: u.srv.URL})
		status, _, body := do(t, http.MethodGet, root+"/v2/images", tok, nil, nil)
		if status != http.StatusBadGateway {
			t.Errorf("got %d %s, want 502", status, body)
		}
	})
	t.Run("cut short after items", func(t *testing.T) {
		t.Parallel()
		u := startListUpstream(t, &listUpstream{style: "glance", names: []string{"gnc_0", "zjp_1", "gnc_2", "gnc_3", "gnc_4"}, failPage: 2})
		root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: u.srv.URL})
		want := []page{
			{[]string{"gnc_0", "gnc_2"}, "/v2/images?limit=2&marker=id-2"},
			{[]string{"gnc_3", "gnc_4"}, "/v2/images?limit=2&marker=id-4"},
			{[]string{}, ""},
		}
		if diff := cmp.Diff(want, walkList(t, u, root, "limit=2", tok)); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
}

// TestListDocument checks what a filtered page keeps of the upstream's:
// the items as they were written, the other keys of the document, the
// request id; and what it drops: the length of a document it changed.
func TestListDocument(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tok := e.token(t, "gncu00000001").ID
	u := startListUpstream(t, &listUpstream{style: "glance", names: []string{"gnc_0", "zjp_1"}, defaultLimit: 10})
	root := e.start(t, "gnc", proxy.Config{Service: proxy.Image, Upstream: u.srv.URL})
	status, h, body := do(t, http.MethodGet, root+"/v2/images", tok, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"images": []any{map[string]any{"id": "id-0", "name": "gnc_0", "owner": "operator", "status": "active", "visibility": "public"}},
		"first":  "/v2/images", "schema": "/v2/schemas/images",
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
	if h.Get("X-Openstack-Request-Id") != "req-upstream" || h.Get("Content-Type") != "application/json" {
		t.Errorf("header %v: want the upstream's request id and content type", h)
	}
	if q, _ := url.ParseQuery(strings.Join(u.seen(), "&")); len(q) != 0 {
		t.Errorf("upstream asked %v, want the request as it was", u.seen())
	}
}
