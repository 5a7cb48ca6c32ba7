package domain

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// fakeCloud serves glance, nova and cinder list calls over a fixed set of
// items, with marker/limit paging and next links shaped as each service
// shapes them. Each service lives under a base path, so a client that gets
// a next link wrong fails.
type fakeCloud struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []string // "path?query" of every list request
	fail     map[string]int
}

// item is one listed object as the service returns it; "id" is required.
type item = map[string]any

// newFakeCloud starts a fake cloud. fail maps a marker to the status code
// the request carrying it gets ("" is the first page); a status of -1
// returns malformed JSON with 200.
func newFakeCloud(t testing.TB, imgs, flvs, vts []item, fail map[string]int) *fakeCloud {
	t.Helper()
	c := &fakeCloud{fail: fail}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /image/v2/images", func(w http.ResponseWriter, r *http.Request) {
		c.page(w, r, imgs, func(page []item, next string) any {
			body := map[string]any{"images": page, "first": "/v2/images", "schema": "/v2/schemas/images"}
			if next != "" {
				body["next"] = "/v2/images?" + next
			}
			return body
		})
	})
	mux.HandleFunc("GET /compute/v2.1/flavors/detail", func(w http.ResponseWriter, r *http.Request) {
		c.page(w, r, flvs, func(page []item, next string) any {
			body := map[string]any{"flavors": page}
			if next != "" {
				body["flavors_links"] = []any{map[string]any{"rel": "next", "href": c.srv.URL + "/compute/v2.1/flavors/detail?" + next}}
			}
			return body
		})
	})
	mux.HandleFunc("GET /volume/v3/p1/types", func(w http.ResponseWriter, r *http.Request) {
		c.page(w, r, vts, func(page []item, next string) any {
			body := map[string]any{"volume_types": page}
			if next != "" {
				body["volume_type_links"] = []any{map[string]any{"rel": "next", "href": c.srv.URL + "/volume/v3/p1/types?" + next}}
			}
			return body
		})
	})
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	return c
}

// page serves the page of all after the request's marker. Like the real
// services, it gives a next link whenever the page is full, so a list that
// fills its last page ends with an empty one.
func (c *fakeCloud) page(w http.ResponseWriter, r *http.Request, all []item, shape func([]item, string) any) {
	q := r.URL.Query()
	c.mu.Lock()
	c.requests = append(c.requests, r.URL.Path+"?"+r.URL.RawQuery)
	status, failing := c.fail[q.Get("marker")]
	c.mu.Unlock()
	switch {
	case failing && status < 0:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"images": [`))
		return
	case failing:
		http.Error(w, `{"message": "boom"}`, status)
		return
	}
	limit := 3
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
		limit = n
	}
	start := 0
	if m := q.Get("marker"); m != "" {
		i := slices.IndexFunc(all, func(it item) bool { return it["id"] == m })
		if i < 0 {
			http.Error(w, "marker not found", http.StatusBadRequest)
			return
		}
		start = i + 1
	}
	page := all[start:min(start+limit, len(all))]
	next := ""
	if len(page) == limit {
		q.Set("marker", page[len(page)-1]["id"].(string))
		q.Set("limit", strconv.Itoa(limit))
		next = q.Encode()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(shape(page, next))
}

// Requests returns the list requests served so far.
func (c *fakeCloud) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

func (c *fakeCloud) client(base, resource string) *gophercloud.ServiceClient {
	sc := &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{HTTPClient: *c.srv.Client()},
		Endpoint:       c.srv.URL + base,
	}
	if resource != "" {
		sc.ResourceBase = c.srv.URL + resource
	}
	return sc
}

func (c *fakeCloud) Image() *gophercloud.ServiceClient   { return c.client("/image/", "/image/v2/") }
func (c *fakeCloud) Compute() *gophercloud.ServiceClient { return c.client("/compute/v2.1/", "") }
func (c *fakeCloud) Volume() *gophercloud.ServiceClient  { return c.client("/volume/v3/p1/", "") }
