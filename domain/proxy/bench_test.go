package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/identity/authtoken"
)

// smallDocument is what the pass-through benchmarks' upstream answers: a
// small Nova server document.
var smallDocument = []byte(`{"server": {"id": "0c6e6f3a-1d1b-4c1e-9d55-3b1f0d7b2e11", "name": "web-1", "status": "ACTIVE", "tenant_id": "p1"}}`)

// stubTransport answers every request with smallDocument, without a
// network: the in-process benchmark measures the proxy's own work.
type stubTransport struct{}

func (stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Request: r, ContentLength: int64(len(smallDocument)),
		Header: http.Header{"Content-Type": {"application/json"}, "X-Openstack-Request-Id": {"req-bench"}},
		Body:   io.NopCloser(bytes.NewReader(smallDocument)),
	}, nil
}

// BenchmarkPassThrough is the proxy's overhead on a small GET passed
// through with a cached token.
//
//   - validator: the Validator's handler alone in front of a handler that
//     writes the document, as identity/authtoken's BenchmarkValidateCached;
//   - proxy-inprocess: the proxy's ServeHTTP, upstream answered by a stub
//     transport: the proxy's own CPU per request, and its ratio to the
//     validator alone (x-validator);
//   - direct and proxy: an HTTP client against a real upstream over
//     loopback, directly and through the proxy, with the process's CPU
//     time per request (cpu-ns/op; client, proxy and upstream together).
func BenchmarkPassThrough(b *testing.B) {
	e := setup(b)
	tok := e.token(b, "gncu00000001")
	v := e.validator(b, "gnc")
	if _, err := v.Validate(b.Context(), tok.ID); err != nil {
		b.Fatal(err)
	}
	f := e.filter(b, "gnc", domain.Policy{})
	const path = "/v2.1/servers/0c6e6f3a-1d1b-4c1e-9d55-3b1f0d7b2e11"
	var validatorNs float64

	b.Run("validator", func(b *testing.B) {
		h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(smallDocument)
		}), authtoken.HandlerOptions{})
		validatorNs = serveLoop(b, h, "/gnc/compute"+path, tok.ID)
	})
	var stubNs float64
	b.Run("stub", func(b *testing.B) {
		// What any caller pays for the stub upstream: its round trip and
		// the copy of its answer.
		stub := stubTransport{}
		req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "http://upstream.invalid/compute"+path, nil)
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			resp, _ := stub.RoundTrip(req)
			rec := discardRecorder{h: http.Header{}}
			for k, v := range resp.Header {
				rec.h[k] = v
			}
			rec.WriteHeader(resp.StatusCode)
			io.Copy(&rec, resp.Body)
			resp.Body.Close()
		}
		stubNs = float64(time.Since(start).Nanoseconds()) / float64(b.N)
	})
	b.Run("proxy-inprocess", func(b *testing.B) {
		p, err := proxy.New(proxy.Config{Service: proxy.Compute, Filter: f, Validator: v, Upstream: "http://upstream.invalid/compute",
			Prefix: "/gnc/compute", Transport: stubTransport{}})
		if err != nil {
			b.Fatal(err)
		}
		ns := serveLoop(b, p, "/gnc/compute"+path, tok.ID)
		if validatorNs > 0 {
			// The proxy's own cost, the stub's aside, beside the validator's.
			b.ReportMetric(ns-stubNs, "own-ns/op")
			b.ReportMetric((ns-stubNs)/validatorNs, "x-validator")
		}
	})

	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(smallDocument)
	}))
	b.Cleanup(up.Close)
	root := e.start(b, "gnc", proxy.Config{Service: proxy.Compute, Upstream: up.URL + "/compute"})
	for _, c := range []struct{ name, url string }{{"direct", up.URL + "/compute" + path}, {"proxy", root + path}} {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, c.url, nil)
			req.Header.Set("X-Auth-Token", tok.ID)
			before := e.srv.Validations("")
			b.ReportAllocs()
			cpu := processCPUTime()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(processCPUTime()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(e.srv.Validations("")-before)/float64(b.N), "validations/op")
		})
	}
}

// serveLoop serves GET target with token through h per op, checks the
// status and returns the time per op.
func serveLoop(b *testing.B, h http.Handler, target, token string) float64 {
	b.Helper()
	req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, target, nil)
	req.Header.Set("X-Auth-Token", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req) // warm
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		rec := discardRecorder{h: http.Header{}}
		h.ServeHTTP(&rec, req)
		if rec.code != http.StatusOK {
			b.Fatalf("status %d", rec.code)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(b.N)
}

// discardRecorder is a ResponseWriter that keeps only the status.
type discardRecorder struct {
	h    http.Header
	code int
}

func (d *discardRecorder) Header() http.Header { return d.h }
func (d *discardRecorder) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}

func (d *discardRecorder) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	return len(p), nil
}

// imageUpstream serves a listing of n Glance images in pages, generating
// each page as it writes it, so that its own memory does not grow with n.
// A third of the images are gnc's, a third zjp's, a third the Default
// domain's; each is about as long as a real Glance image document.
func imageUpstream(b *testing.B, n int, gncID, zjpID string) *httptest.Server {
	b.Helper()
	ids := map[int]string{0: gncID, 1: zjpID}
	prefixes := map[int]string{0: "gnc", 1: "zjp"}
	image := func(w io.Writer, i int) {
		name, prop := "shared-"+strconv.Itoa(i), ""
		if id, ok := ids[i%3]; ok {
			name = prefixes[i%3] + "_image-" + strconv.Itoa(i)
			prop = `"domain_id": "` + id + `", `
		}
		fmt.Fprintf(w, `{%s"name": %q, "disk_format": "qcow2", "container_format": "bare", "visibility": "public", `+
			`"size": 1073741824, "virtual_size": null, "status": "active", "checksum": "26c4b28f127bf5e644e78f92c0a44393", `+
			`"protected": false, "min_ram": 0, "min_disk": 0, "owner": "operator", "os_hidden": false, "os_hash_algo": "sha512", `+
			`"os_hash_value": "db76ca724b0bcd30072ed606317f8938a094f11215b2bcc851edec6bb549d15201c88051975f0c191cc40f6b53f43b6c24e0ed86fe811db554dde67a3b09b64c", `+
			`"id": "img-%d", "created_at": "2026-12-01T09:32:04Z", "updated_at": "2026-12-01T09:32:04Z", "tags": [], `+
			`"self": "/v2/images/img-%d", "file": "/v2/images/img-%d/file", "schema": "/v2/schemas/image"}`, prop, name, i, i, i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if id, ok := strings.CutPrefix(r.URL.Path, "/image/v2/images/img-"); ok {
			i, err := strconv.Atoi(id)
			if err != nil || i < 0 || i >= n {
				http.NotFound(w, r)
				return
			}
			image(w, i)
			return
		}
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 || limit > 1000 {
			limit = 1000
		}
		start := 0
		if m := q.Get("marker"); m != "" {
			i, _ := strconv.Atoi(strings.TrimPrefix(m, "img-"))
			start = i + 1
		}
		end := min(start+limit, n)
		bw := bufio.NewWriterSize(w, 32<<10)
		bw.WriteString(`{"images": [`)
		for i := start; i < end; i++ {
			if i > start {
				bw.WriteString(", ")
			}
			image(bw, i)
		}
		bw.WriteString(`], "schema": "/v2/schemas/images", "first": "/v2/images"`)
		if end-start == limit {
			fmt.Fprintf(bw, `, "next": "/v2/images?limit=%d&marker=img-%d"`, limit, end-1)
		}
		bw.WriteString("}")
		bw.Flush()
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkFilterListing lists a listing of 1,000 and of 10,000 images in
// pages of 1,000 as gnc's user sees it: through the proxy, read by a client
// that streams each page (so that the figure is the proxy's), and with the
// client-side filter (domain.Filter over gophercloud) on the same upstream.
// peak-heap-B is the most heap the process (upstream, proxy and client)
// held during the listings, above what it held before: through the proxy
// it must not grow with the listing. gophercloud holds a decoded page at a
// time, which is most of the client-side figure; proxy-gophercloud is a
// gophercloud client through the proxy.
func BenchmarkFilterListing(b *testing.B) {
	e := setup(b)
	tok := e.token(b, "gncu00000001")
	f := e.filter(b, "gnc", domain.Policy{}).ForProject(tok.Project.ID)
	for _, n := range []int{1000, 10000} {
		up := imageUpstream(b, n, e.world.Domain("gnc").ID, e.world.Domain("zjp").ID)
		root := e.start(b, "gnc", proxy.Config{Service: proxy.Image, Upstream: up.URL + "/image", Prefix: "/gnc/image/" + strconv.Itoa(n)})
		want := (n+2)/3 + n/3 // gnc's third and the shared third
		b.Run(fmt.Sprintf("proxy/images=%d", n), func(b *testing.B) {
			measureListing(b, want, func() int {
				count, next := 0, "/v2/images?limit=1000"
				for next != "" {
					c, nx := streamPage(b, root+next, tok.ID)
					if c == 0 {
						break
					}
					count, next = count+c, nx
				}
				return count
			})
		})
		b.Run(fmt.Sprintf("proxy-gophercloud/images=%d", n), func(b *testing.B) {
			// The same, read by gophercloud: what a Go client pays in all.
			c := serviceClient(root, "v2/", tok.ID)
			measureListing(b, want, func() int {
				count := 0
				err := images.List(c, images.ListOpts{Limit: 1000}).EachPage(b.Context(), func(_ context.Context, p pagination.Page) (bool, error) {
					items, err := images.ExtractImages(p)
					count += len(items)
					return true, err
				})
				if err != nil {
					b.Fatal(err)
				}
				return count
			})
		})
		b.Run(fmt.Sprintf("client-side/images=%d", n), func(b *testing.B) {
			c := serviceClient(up.URL+"/image", "v2/", tok.ID)
			measureListing(b, want, func() int {
				count := 0
				for _, err := range f.Images(b.Context(), c, images.ListOpts{Limit: 1000}) {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				return count
			})
		})
	}
}

// streamPage reads one Glance list page item by item and returns how many
// items it had and its next link.
func streamPage(b *testing.B, u, token string) (count int, next string) {
	b.Helper()
	req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, u, nil)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	dec := json.NewDecoder(resp.Body)
	dec.Token() // {
	for dec.More() {
		t, _ := dec.Token()
		switch t {
		case "images":
			dec.Token() // [
			for dec.More() {
				var item struct {
					ID string `json:"id"`
				}
				if err := dec.Decode(&item); err != nil {
					b.Fatal(err)
				}
				count++
			}
			dec.Token() // ]
		case "next":
			dec.Decode(&next)
		default:
			var skip json.RawMessage
			dec.Decode(&skip)
		}
	}
	return count, next
}

// measureListing runs list per op, checks it found want items, and
// reports the peak heap above the starting point and the items per op.
func measureListing(b *testing.B, want int, list func() int) {
	b.Helper()
	runtime.GC()
	base := heapObjects()
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
				top = max(top, heapObjects())
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if got := list(); got != want {
			b.Fatalf("listed %d images, want %d", got, want)
		}
	}
	close(stop)
	top := <-peak
	b.ReportMetric(float64(max(top, base)-base), "peak-heap-B")
	b.ReportMetric(float64(want), "items/op")
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// heapObjects returns the bytes of heap objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{heapSample[0]}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkJudgePage is the proxy's filtering of one 1,000-image page in
// process (stub upstream): the cost per item of reading, judging with
// gophercloud's decoding and domain.Filter, and writing.
func BenchmarkJudgePage(b *testing.B) {
	e := setup(b)
	tok := e.token(b, "gncu00000001")
	up := imageUpstream(b, 1000, e.world.Domain("gnc").ID, e.world.Domain("zjp").ID)
	resp, err := http.Get(up.URL + "/image/v2/images?limit=1000")
	if err != nil {
		b.Fatal(err)
	}
	full, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// One page, the last: the proxy asks for no other.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(full, &doc); err != nil {
		b.Fatal(err)
	}
	delete(doc, "next")
	page, _ := json.Marshal(doc)
	p, err := proxy.New(proxy.Config{Service: proxy.Image, Filter: e.filter(b, "gnc", domain.Policy{}), Validator: e.validator(b, "gnc"),
		Upstream: "http://upstream.invalid/image", Prefix: "/gnc/image", Transport: pageTransport(page)})
	if err != nil {
		b.Fatal(err)
	}
	serveLoop(b, p, "/gnc/image/v2/images?limit=1000", tok.ID)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/item")
}

// pageTransport answers every request with one list document.
type pageTransport []byte

func (t pageTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Request: r, ContentLength: int64(len(t)),
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(t)),
	}, nil
}
