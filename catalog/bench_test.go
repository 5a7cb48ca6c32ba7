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

func BenchmarkNew(b *testing.B) {
	entries := benchCatalog()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := catalog.New(entries, project); err != nil {
			b.Fatal(err)
		}
	}
}
