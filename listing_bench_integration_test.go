//go:build integration

package geostack_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/internal/keystonetest"
)

// benchProperty marks the images BenchmarkIntegrationImageListing
// publishes, so that it finds and deletes them, a crashed run's included.
const benchProperty = "geostack_bench"

// adminImageClient returns an image client in region for the real cloud's
// admin, on project admin.
func adminImageClient(b *testing.B, env *keystonetest.Env, region string) *gophercloud.ServiceClient {
	b.Helper()
	pc, err := openstack.AuthenticatedClient(b.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: env.AuthURL(env.Primary), UserID: env.Admin.ID, Password: env.Admin.Password, TenantID: env.Admin.ProjectID,
	})
	if err != nil {
		b.Fatalf("admin login: %v", err)
	}
	sc, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: region})
	if err != nil {
		b.Fatal(err)
	}
	return sc
}

// parallel runs do(i) for i in [0, n) on 8 workers and returns the first
// error.
func parallel(n int, do func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := do(i); err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// deleteBenchImages deletes every image carrying benchProperty.
func deleteBenchImages(ctx context.Context, sc *gophercloud.ServiceClient) (int, error) {
	pages, err := images.List(sc, narrowedOpts{images.ListOpts{Limit: 1000}, benchProperty + "=1"}).AllPages(ctx)
	if err != nil {
		return 0, err
	}
	imgs, err := images.ExtractImages(pages)
	if err != nil {
		return 0, err
	}
	return len(imgs), parallel(len(imgs), func(i int) error { return images.Delete(ctx, sc, imgs[i].ID).ExtractErr() })
}

// narrowedOpts adds a property filter to ListOpts, as Filter.Images does.
type narrowedOpts struct {
	images.ListOpts
	filter string
}

func (o narrowedOpts) ToImageListQuery() (string, error) {
	q, err := o.ListOpts.ToImageListQuery()
	if q == "" {
		return "?" + o.filter, err
	}
	return q + "&" + o.filter, err
}

// BenchmarkIntegrationImageListing is BenchmarkDomainImageListing on the
// real Glance (TYO1): the admin publishes the same 2,000 public images (4 KiB
// of data each, active, with domain_id and benchProperty), the benchmark
// measures a gnc and a zjp member's listings a hundred to a page, and the
// images are deleted at the end. While they exist the members' listings are
// not the seeded ones: run it alone, not next to the integration tests:
//
//	go test -tags integration -run '^$' -bench BenchmarkIntegrationImageListing -benchtime 5x .
func BenchmarkIntegrationImageListing(b *testing.B) {
	w := loadRealWorld(b)
	const region = "TYO1"
	admin := adminImageClient(b, w.env, region)
	if n, err := deleteBenchImages(b.Context(), admin); err != nil {
		b.Fatalf("delete a previous run's images: %v", err)
	} else if n > 0 {
		b.Logf("deleted %d images of a previous run", n)
	}
	published := false
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if n, err := deleteBenchImages(ctx, admin); err != nil {
			b.Errorf("delete the benchmark's images: %v", err)
		} else if published && n != benchImageCount {
			b.Errorf("deleted %d benchmark images, want %d", n, benchImageCount)
		}
	})
	domainIDs := map[string]string{"default": domain.KeystoneDefaultDomainID}
	for _, d := range w.env.Domains {
		domainIDs[d.Name] = d.ID
	}
	start := time.Now()
	public := images.ImageVisibilityPublic
	data := bytes.Repeat([]byte("g"), 4096)
	err := parallel(benchImageCount, func(i int) error {
		dom, name := benchImage(i)
		id, ok := domainIDs[dom]
		if !ok {
			id = "oem-" + dom
		}
		img, err := images.Create(b.Context(), admin, images.CreateOpts{Name: name, Visibility: &public, DiskFormat: "raw", ContainerFormat: "bare",
			Properties: map[string]string{"domain_id": id, "os_distro": "ubuntu", benchProperty: "1"}}).Extract()
		if err != nil {
			return err
		}
		return imagedata.Upload(b.Context(), admin, img.ID, bytes.NewReader(data)).ExtractErr()
	})
	if err != nil {
		b.Fatalf("publish the benchmark's images: %v", err)
	}
	published = true
	b.Logf("published %d images in %v", benchImageCount, time.Since(start).Round(time.Millisecond))

	for _, viewer := range w.viewers(b) {
		counter := &wireCounter{base: http.DefaultTransport, path: "/image/"}
		hc := &http.Client{Transport: counter}
		clients := map[string]*geostack.Client{
			"narrowed":                 w.clientVia(b, viewer, domain.Policy{}, hc),
			"narrowed+RequireDomainID": w.clientVia(b, viewer, domain.Policy{RequireDomainID: true}, hc),
		}
		sc, err := clients["narrowed"].ServiceClient(b.Context(), "image", region)
		if err != nil {
			b.Fatal(err)
		}
		f, err := w.reg.Filter(viewer.DomainName, domain.Policy{})
		if err != nil {
			b.Fatal(err)
		}
		f = f.ForProject(viewer.ProjectID)
		for _, v := range listingVariants(f, sc, clients, region, 100) {
			b.Run(viewer.DomainName+"/"+v.name, func(b *testing.B) {
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
