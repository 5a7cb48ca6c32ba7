package geostack_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/internal/testserver"
)

// wireCounter counts the requests to one service and the bytes of their
// answers' bodies, as they come over the wire.
type wireCounter struct {
	base     http.RoundTripper
	path     string // a request counts if its URL path contains it
	requests atomic.Int64
	bytes    atomic.Int64
}

func (c *wireCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err == nil && strings.Contains(r.URL.Path, c.path) {
		c.requests.Add(1)
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// listingCost is what one listing took.
type listingCost struct{ requests, bytes, images int64 }

// measure runs list and returns what it cost on the wire.
func (c *wireCounter) measure(list func() (int, error)) (listingCost, error) {
	r0, b0 := c.requests.Load(), c.bytes.Load()
	n, err := list()
	return listingCost{c.requests.Load() - r0, c.bytes.Load() - b0, int64(n)}, err
}

// listingVariants are the ways to list a domain's images whose costs the
// benchmarks compare: what Filter.Images did before it narrowed (one
// listing of every image the viewer may list, filtered here), and
// Client.Images under the default policy and with RequireDomainID.
func listingVariants(f *domain.Filter, sc *gophercloud.ServiceClient, clients map[string]*geostack.Client, region string, limit int) []struct {
	name string
	list func(ctx context.Context) (int, error)
} {
	through := func(c *geostack.Client) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			n := 0
			for _, err := range c.Images(ctx, region, images.ListOpts{Limit: limit}) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		}
	}
	return []struct {
		name string
		list func(ctx context.Context) (int, error)
	}{
		{"unnarrowed", func(ctx context.Context) (int, error) {
			n := 0
			err := images.List(sc, images.ListOpts{Limit: limit}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
				imgs, err := images.ExtractImages(page)
				for i := range imgs {
					if f.VisibleImage(&imgs[i]) {
						n++
					}
				}
				return true, err
			})
			return n, err
		}},
		{"narrowed", through(clients["narrowed"])},
		{"narrowed+RequireDomainID", through(clients["narrowed+RequireDomainID"])},
	}
}

// benchImageCount is how many public images the listing benchmarks add.
const benchImageCount = 2000

// benchImage says whose the i-th benchmark image is and names it: a tenth
// are gnc's view (one in 20 with gnc's domain_id, one in 20 with the
// Default domain's), one in 40 is zjp's (so zjp sees 7.5 %), the rest
// belong to 16 other domains. dom is "gnc", "zjp", "default" or
// "other<NN>".
func benchImage(i int) (dom, name string) {
	switch {
	case i%20 == 0:
		dom = "gnc"
	case i%20 == 1:
		dom = "default"
	case i%40 == 2:
		dom = "zjp"
	default:
		dom = fmt.Sprintf("other%02d", i%16)
	}
	if dom == "gnc" || dom == "zjp" {
		return dom, fmt.Sprintf("%s_bench_%04d", dom, i)
	}
	return dom, fmt.Sprintf("bench-%s-%04d", dom, i)
}

// benchImages adds the benchmark's public images of the operator to w.
func benchImages(w *testserver.World) {
	admin := w.Project(testserver.AdminProject).ID
	for i := range benchImageCount {
		dom, name := benchImage(i)
		id := "oem-" + dom
		switch dom {
		case "gnc", "zjp":
			id = w.Domain(dom).ID
		case "default":
			id = testserver.DefaultDomainID
		}
		w.Images = append(w.Images, testserver.Image{ID: fmt.Sprintf("bench000-0000-0000-0000-%012d", i), Name: name,
			Owner: admin, Visibility: "public", Properties: map[string]string{"domain_id": id, "os_distro": "ubuntu"}})
	}
}

// BenchmarkDomainImageListing lists the images of a gnc and a zjp member
// on the fake cloud, a hundred to a page, with the 2,000 public images of
// benchImages besides the default world's: gnc may see a tenth of them,
// zjp 7.5 %. It reports the bytes Glance sends and the requests it gets per
// listing before server-side narrowing (unnarrowed), with it under the
// default policy (every public image is still listed, since an untagged
// one may be anyone's) and with RequireDomainID.
// BenchmarkIntegrationImageListing measures the same on the real Glance.
func BenchmarkDomainImageListing(b *testing.B) {
	w := testserver.DefaultWorld()
	benchImages(w)
	for _, dom := range []string{"gnc", "zjp"} {
		_, cfg := setup(b, testserver.Options{World: w}, dom, 1)
		counter := &wireCounter{base: http.DefaultTransport, path: "/image/"}
		cfg.HTTPClient = &http.Client{Transport: counter}
		clients := map[string]*geostack.Client{}
		for name, p := range map[string]domain.Policy{"narrowed": {}, "narrowed+RequireDomainID": {RequireDomainID: true}} {
			c := cfg
			c.DomainPolicy = p
			clients[name] = newClient(b, c)
		}
		sc, err := clients["narrowed"].ServiceClient(b.Context(), "image", "TYO1")
		if err != nil {
			b.Fatal(err)
		}
		f, err := cfg.Domains.Filter(dom, domain.Policy{})
		if err != nil {
			b.Fatal(err)
		}
		f = f.ForProject(w.Project(dom + "t00000001").ID)
		for _, v := range listingVariants(f, sc, clients, "TYO1", 100) {
			b.Run(dom+"/"+v.name, func(b *testing.B) {
				b.ReportAllocs()
				var cost listingCost
				for b.Loop() {
					cost, err = counter.measure(func() (int, error) { return v.list(b.Context()) })
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cost.bytes), "bytes/op")
				b.ReportMetric(float64(cost.requests), "requests/op")
				b.ReportMetric(float64(cost.images), "images/op")
			})
		}
	}
}
