package geostack_test

import (
	"testing"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/tokencache"
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

// BenchmarkNewClient is a client made per tenant or per call on a shared,
// warm cache: New, the first ServiceClient and Close. Its cost used to be a
// PBKDF2 of the password (0.55 ms); the target is 20 µs.
func BenchmarkNewClient(b *testing.B) {
	srv, cfg := setup(b, testserver.Options{}, "gnc", 1)
	cfg.Cache = newCache(b, tokencache.Options{})
	warm := newClient(b, cfg)
	if _, err := warm.Token(b.Context()); err != nil {
		b.Fatal(err)
	}
	issued := srv.TokensIssued("", "")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := geostack.New(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.ServiceClient(b.Context(), "compute", "SIN1"); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.TokensIssued("", "")-issued)/float64(b.N), "tokens/op")
}
