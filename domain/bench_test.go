package domain

import (
	"strconv"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// benchPages returns 100,000 images in pages of 1,000, spread over the
// three domains, the Default domain, unowned names and private images.
func benchPages() [][]images.Image {
	ids := []string{gncID, zjpID, zsgID}
	prefixes := []string{"gnc_", "zjp_", "zsg_"}
	pages := make([][]images.Image, 100)
	for p := range pages {
		page := make([]images.Image, 1000)
		for i := range page {
			n := p*1000 + i
			img := images.Image{ID: "img-" + strconv.Itoa(n), Visibility: images.ImageVisibilityPublic, Status: images.ImageStatusActive}
			switch n % 10 {
			case 0, 1, 2: // a domain's image with its id in the metadata
				img.Name = prefixes[n%3] + "os-" + strconv.Itoa(n)
				img.Properties = map[string]any{"domain_id": ids[n%3], "os_distro": "centos"}
			case 3, 4: // a domain's image known by its name only
				img.Name = prefixes[n%3] + "app-" + strconv.Itoa(n)
				img.Properties = map[string]any{"os_distro": "ubuntu"}
			case 5: // a Default-domain public image
				img.Name = "ubuntu-" + strconv.Itoa(n)
				img.Properties = map[string]any{"domain_id": "default"}
			case 6: // unprefixed, no metadata: Default-domain public
				img.Name = "debian-" + strconv.Itoa(n)
			case 7: // private: Glance scoped it
				img.Name = "snapshot-" + strconv.Itoa(n)
				img.Visibility = images.ImageVisibilityPrivate
			case 8: // malformed: in gnc's namespace without the separator
				img.Name = "gnc" + strconv.Itoa(n)
			case 9: // an unregistered domain's
				img.Name = "oem_" + strconv.Itoa(n)
				img.Properties = map[string]any{"domain_id": "id-oem"}
			}
			page[i] = img
		}
		pages[p] = page
	}
	return pages
}

// BenchmarkFilterImages filters 100,000 decoded images, page by page, for
// one domain. "collect" appends the kept images to a new slice each pass
// (allocations grow with the kept items only); "reuse" keeps one slice
// across passes, so the filtering itself is seen to allocate nothing.
func BenchmarkFilterImages(b *testing.B) {
	f, err := testRegistry(b).Filter("gnc", Policy{})
	if err != nil {
		b.Fatal(err)
	}
	pages := benchPages()
	b.Run("collect", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPUTime()
		kept := 0
		for b.Loop() {
			var out []images.Image
			for _, page := range pages {
				out = appendVisible(out, page, f.VisibleImage)
			}
			kept = len(out)
		}
		b.ReportMetric(float64(kept), "kept/op")
		b.ReportMetric(100_000, "images/op")
		reportCPU(b, cpu0)
	})
	b.Run("reuse", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPUTime()
		var out []images.Image
		for b.Loop() {
			out = out[:0]
			for _, page := range pages {
				out = appendVisible(out, page, f.VisibleImage)
			}
		}
		b.ReportMetric(float64(len(out)), "kept/op")
		b.ReportMetric(100_000, "images/op")
		reportCPU(b, cpu0)
	})
	b.Run("count", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := processCPUTime()
		kept := 0
		for b.Loop() {
			kept = 0
			for _, page := range pages {
				for i := range page {
					if f.VisibleImage(&page[i]) {
						kept++
					}
				}
			}
		}
		b.ReportMetric(float64(kept), "kept/op")
		b.ReportMetric(100_000, "images/op")
		reportCPU(b, cpu0)
	})
}

// reportCPU reports the process CPU time per operation since cpu0: on a
// machine shared with other work, ns/op includes time spent waiting for a
// core and cpu-ns/op does not.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := processCPUTime(); cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	}
}
