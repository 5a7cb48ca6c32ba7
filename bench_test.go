package geostack_test

import (
	"testing"

	"github.com/geostack/geostack/internal/testserver"
)

// BenchmarkServiceClient is the lookup a service makes before each call when
// it does not keep the ServiceClient itself: a cached one, no request.
func BenchmarkServiceClient(b *testing.B) {
	srv, cfg := setup(b, testserver.Options{}, "gnc", 1)
	c := newClient(b, cfg)
	regions := []string{"TYO1", "OSA1", "SJC1", "SIN1"}
	for _, r := range regions {
		if _, err := c.ServiceClient(b.Context(), "compute", r); err != nil {
			b.Fatal(err)
		}
	}
	before := srv.Requests(testserver.Keystone("SG"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.ServiceClient(b.Context(), "compute", regions[i%len(regions)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(srv.Requests(testserver.Keystone("SG"))-before)/float64(b.N), "keystone-requests/op")
}
