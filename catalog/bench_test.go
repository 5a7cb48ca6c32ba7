package catalog_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

// benchCatalog has 4 regions x 10 services x 3 interfaces.
func benchCatalog() []tokens.CatalogEntry {
	services := []struct{ typ, name string }{
		{"compute", "nova"}, {"image", "glance"}, {"network", "neutron"}, {"volumev3", "cinderv3"},
		{"object-store", "swift"}, {"dns", "designate"}, {"load-balancer", "octavia"},
		{"key-manager", "barbican"}, {"orchestration", "heat"}, {"placement", "placement"},
	}
	var entries []tokens.CatalogEntry
	for _, s := range services {
		e := tokens.CatalogEntry{ID: "svc-" + s.name, Name: s.name, Type: s.typ}
		for _, r := range []string{"TYO1", "OSA1", "SIN1", "SJC1"} {
			for _, i := range []string{"public", "internal", "admin"} {
				e.Endpoints = append(e.Endpoints, tokens.Endpoint{
					ID: fmt.Sprintf("%s-%s-%s", s.name, r, i), RegionID: r, Interface: i,
					URL: fmt.Sprintf("https://%s.%s.%s.example.com/v1/$(project_id)s", s.typ, i, r),
				})
			}
		}
		entries = append(entries, e)
	}
	return entries
}

func BenchmarkSelect(b *testing.B) {
	entries := benchCatalog()
	c, err := catalog.New(entries, project)
	if err != nil {
		b.Fatal(err)
	}
	pref := []catalog.Interface{catalog.Internal, catalog.Public}
	queries := []struct {
		name string
		q    catalog.Query
	}{
		{"alias", catalog.Query{Type: "volumev3", Region: "SIN1", Interfaces: pref}},
		{"official-of-alias", catalog.Query{Type: "block-storage", Region: "SIN1", Interfaces: pref}},
		{"alias-not-in-catalog", catalog.Query{Type: "volume", Region: "SIN1", Interfaces: pref}},
		{"fallback-interface", catalog.Query{Type: "compute", Region: "TYO1", Interfaces: []catalog.Interface{"internalURL", catalog.Admin}}},
		{"name", catalog.Query{Type: "compute", Name: "nova", Region: "SJC1"}},
	}
	for _, bq := range queries {
		b.Run(bq.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(entries)*4*3), "endpoints")
			for b.Loop() {
				if _, err := c.Select(bq.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// scaledCatalog returns a catalog of exactly n endpoints: k services in k
// regions with 3 interfaces each (k*k*3 >= n), so that both the number of
// service families and the number of regions grow with n. The first services
// are benchCatalog's, with two block-storage generations listed side by
// side; the rest have types the service-types authority does not know. A
// region-less object store is listed too, so every index path is exercised.
func scaledCatalog(n int) []tokens.CatalogEntry {
	known := []struct{ typ, name string }{
		{"compute", "nova"}, {"image", "glance"}, {"network", "neutron"}, {"volumev3", "cinderv3"},
		{"volumev2", "cinderv2"}, {"dns", "designate"}, {"load-balancer", "octavia"},
		{"key-manager", "barbican"}, {"orchestration", "heat"}, {"placement", "placement"},
	}
	k := 1
	for k*k*3 < n-1 {
		k++
	}
	entries := make([]tokens.CatalogEntry, k, k+1)
	for i := range entries {
		typ, name := fmt.Sprintf("custom-%03d", i), fmt.Sprintf("custom%03d", i)
		if i < len(known) {
			typ, name = known[i].typ, known[i].name
		}
		entries[i] = tokens.CatalogEntry{ID: "svc-" + name, Name: name, Type: typ}
	}
	entries = append(entries, tokens.CatalogEntry{ID: "svc-swift", Name: "swift", Type: "object-store",
		Endpoints: []tokens.Endpoint{{ID: "swift-global", Interface: "public", URL: "https://object.example.com/v1/AUTH_$(project_id)s"}}})
	left := n - 1
	for r := 0; left > 0; r++ {
		region := fmt.Sprintf("R%03d", r)
		for si := range k {
			for _, iface := range []string{"public", "internal", "admin"} {
				if left == 0 {
					break
				}
				left--
				e := &entries[si]
				e.Endpoints = append(e.Endpoints, tokens.Endpoint{
					ID: fmt.Sprintf("%s-%s-%s", e.Name, region, iface), RegionID: region, Interface: iface,
					URL: fmt.Sprintf("https://%s.%s.%s.example.com/v1/$(project_id)s", e.Type, iface, region),
				})
			}
		}
	}
	return entries
}

// BenchmarkNew shows that building the index grows linearly with the
// catalog: ns/endpoint stays flat from 100 to 30,000 endpoints.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{100, 1_000, 30_000} {
		entries := scaledCatalog(n)
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			checkScaled(b, entries, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := catalog.New(entries, project); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/endpoint")
		})
	}
}

// checkScaled fails b unless entries hold n endpoints that New indexes
// whole and selects from.
func checkScaled(b *testing.B, entries []tokens.CatalogEntry, n int) {
	b.Helper()
	got := 0
	for _, e := range entries {
		got += len(e.Endpoints)
	}
	c, err := catalog.New(entries, project)
	if err != nil {
		b.Fatal(err)
	}
	if got != n || len(c.Skipped()) != 0 {
		b.Fatalf("catalog of %d endpoints, %d skipped; want %d, none skipped", got, len(c.Skipped()), n)
	}
	q := catalog.Query{Type: "block-storage", Region: c.Regions()[0], Interfaces: []catalog.Interface{catalog.Internal}}
	if ep, err := c.Select(q); err != nil || ep.CatalogType != "volumev3" {
		b.Fatalf("Select(%+v) = %+v, %v", q, ep, err)
	}
}

// BenchmarkNewAllAliases is the index's worst case: one service under each
// of the five block-storage spellings in 2,000 regions (30,000 endpoints),
// so that every region has five orders of five types to index.
func BenchmarkNewAllAliases(b *testing.B) {
	var entries []tokens.CatalogEntry
	n := 0
	for _, t := range []string{"block-storage", "volumev3", "volumev2", "volume", "block-store"} {
		e := tokens.CatalogEntry{ID: "svc-" + t, Name: t, Type: t}
		for r := range 2000 {
			for _, i := range []string{"public", "internal", "admin"} {
				e.Endpoints = append(e.Endpoints, tokens.Endpoint{
					ID: fmt.Sprintf("%s-%d-%s", t, r, i), RegionID: fmt.Sprintf("R%04d", r), Interface: i,
					URL: fmt.Sprintf("https://%s.%s.r%d.example.com/v3/$(project_id)s", t, i, r),
				})
				n++
			}
		}
		entries = append(entries, e)
	}
	c, err := catalog.New(entries, project)
	if err != nil {
		b.Fatal(err)
	}
	if ep, err := c.Select(catalog.Query{Type: "volume", Region: "R0007"}); err != nil || ep.CatalogType != "volume" {
		b.Fatalf("Select volume in R0007 = %+v, %v", ep, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.New(entries, project); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/endpoint")
}
