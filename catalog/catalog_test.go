package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

const project = "0123456789abcdef0123456789abcdef"

// ep builds a catalog endpoint; id is derived from its fields.
func ep(region string, iface, url string) tokens.Endpoint {
	return tokens.Endpoint{ID: region + "-" + iface, RegionID: region, Region: region, Interface: iface, URL: url}
}

// world is a catalog in the shape of the multi-location cloud, with the
// quirks real catalogs have.
func world() []tokens.CatalogEntry {
	var compute []tokens.Endpoint
	for _, r := range []string{"TYO1", "OSA1", "SIN1", "SJC1"} {
		lr := strings.ToLower(r)
		compute = append(compute,
			ep(r, "public", "https://compute."+lr+".example.com/v2.1"),
			ep(r, "internal", "http://compute.internal."+lr+":8774/v2.1"),
			ep(r, "admin", "http://compute.admin."+lr+":8774/v2.1"))
	}
	return []tokens.CatalogEntry{
		{ID: "svc-nova", Name: "nova", Type: "compute", Endpoints: compute},
		{ID: "svc-cinderv3", Name: "cinderv3", Type: "volumev3", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", "https://volume.tyo1.example.com/v3/$(project_id)s"),
			ep("TYO1", "internal", "http://volume.internal.tyo1:8776/v3/%(tenant_id)s"),
			ep("SIN1", "public", "https://volume.sin1.example.com/v3/%(project_id)s"),
		}},
		{ID: "svc-cinderv2", Name: "cinderv2", Type: "volumev2", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", "https://volume.tyo1.example.com/v2/$(tenant_id)s"),
			ep("OSA1", "public", "https://volume.osa1.example.com/v2/$(tenant_id)s"),
		}},
		{ID: "svc-keystone", Name: "keystone", Type: "identity", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", "https://identity.jp.example.com/v3"),
			ep("OSA1", "public", "https://identity.jp.example.com/v3"),
			ep("SIN1", "public", "https://identity.sg.example.com/v3"),
		}},
		{ID: "svc-glance", Name: "glance", Type: "Image", Endpoints: []tokens.Endpoint{
			{ID: "glance-sjc1", Region: "SJC1", Interface: "PUBLIC", URL: "https://image.sjc1.example.com"},
		}},
		{ID: "svc-neutron", Name: "neutron", Type: "network", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", "https://network.tyo1.example.com"),
		}},
		{ID: "svc-neutron-old", Name: "neutron-old", Type: "network", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", "https://network-old.tyo1.example.com"),
		}},
		{ID: "svc-swift", Name: "swift", Type: "object-store", Endpoints: []tokens.Endpoint{
			{ID: "swift-global", Interface: "public", URL: "https://object.example.com/v1/AUTH_$(project_id)s"},
		}},
		{ID: "svc-designate", Name: "designate", Type: "dns", Endpoints: []tokens.Endpoint{
			{ID: "dns-a", RegionID: "TYO1", Interface: "public", URL: "https://dns.example.com"},
			{ID: "dns-b", RegionID: "TYO1", Interface: "public", URL: "https://dns.example.com"},
		}},
		{ID: "svc-manila", Name: "manila", Type: "sharev2", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", "https://share.tyo1.example.com/v2/$(project_id)s/$(user_id)s"),
		}},
		// Malformed parts, all skipped.
		{ID: "svc-untyped", Name: "mystery", Endpoints: []tokens.Endpoint{ep("TYO1", "public", "https://x.example.com")}},
		{ID: "svc-heat", Name: "heat", Type: "orchestration", Endpoints: []tokens.Endpoint{
			ep("TYO1", "public", ""),
			ep("TYO1", "publicURL", "https://heat.example.com"),
			ep("TYO1", "internal", "/relative/path"),
			ep("TYO1", "admin", "https://user:hunter2@heat.example.com"),
			ep("OSA1", "public", "ftp://heat.example.com"),
			ep("OSA1", "internal", "http://[::1"),
		}},
	}
}

func mustNew(t testing.TB, entries []tokens.CatalogEntry, projectID string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.New(entries, projectID)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestSelect(t *testing.T) {
	t.Parallel()
	c := mustNew(t, world(), project)
	pref := []catalog.Interface{catalog.Internal, catalog.Public}
	tests := []struct {
		name string
		q    catalog.Query
		want catalog.Endpoint
	}{
		{
			name: "official type, default interface public",
			q:    catalog.Query{Type: "compute", Region: "SIN1"},
			want: catalog.Endpoint{ServiceType: "compute", CatalogType: "compute", ServiceName: "nova", ServiceID: "svc-nova",
				ID: "SIN1-public", Region: "SIN1", Interface: catalog.Public, URL: "https://compute.sin1.example.com/v2.1"},
		},
		{
			name: "interface preference takes the first offered",
			q:    catalog.Query{Type: "compute", Region: "OSA1", Interfaces: pref},
			want: catalog.Endpoint{ServiceType: "compute", CatalogType: "compute", ServiceName: "nova", ServiceID: "svc-nova",
				ID: "OSA1-internal", Region: "OSA1", Interface: catalog.Internal, URL: "http://compute.internal.osa1:8774/v2.1"},
		},
		{
			name: "admin",
			q:    catalog.Query{Type: "compute", Region: "TYO1", Interfaces: []catalog.Interface{catalog.Admin}},
			want: catalog.Endpoint{ServiceType: "compute", CatalogType: "compute", ServiceName: "nova", ServiceID: "svc-nova",
				ID: "TYO1-admin", Region: "TYO1", Interface: catalog.Admin, URL: "http://compute.admin.tyo1:8774/v2.1"},
		},
		{
			name: "alias volumev3, percent template substituted",
			q:    catalog.Query{Type: "volumev3", Region: "TYO1", Interfaces: pref},
			want: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev3", ServiceName: "cinderv3", ServiceID: "svc-cinderv3",
				ID: "TYO1-internal", Region: "TYO1", Interface: catalog.Internal, URL: "http://volume.internal.tyo1:8776/v3/" + project},
		},
		{
			name: "official block-storage prefers volumev3 over volumev2",
			q:    catalog.Query{Type: "block-storage", Region: "TYO1"},
			want: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev3", ServiceName: "cinderv3", ServiceID: "svc-cinderv3",
				ID: "TYO1-public", Region: "TYO1", Interface: catalog.Public, URL: "https://volume.tyo1.example.com/v3/" + project},
		},
		{
			name: "alias absent from catalog goes by authority order",
			q:    catalog.Query{Type: "volume", Region: "TYO1"},
			want: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev3", ServiceName: "cinderv3", ServiceID: "svc-cinderv3",
				ID: "TYO1-public", Region: "TYO1", Interface: catalog.Public, URL: "https://volume.tyo1.example.com/v3/" + project},
		},
		{
			name: "exact catalog type first: volumev2 asked, volumev2 given",
			q:    catalog.Query{Type: "volumev2", Region: "TYO1"},
			want: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev2", ServiceName: "cinderv2", ServiceID: "svc-cinderv2",
				ID: "TYO1-public", Region: "TYO1", Interface: catalog.Public, URL: "https://volume.tyo1.example.com/v2/" + project},
		},
		{
			name: "older alias serves a region the newer one lacks",
			q:    catalog.Query{Type: "volumev3", Region: "OSA1"},
			want: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev2", ServiceName: "cinderv2", ServiceID: "svc-cinderv2",
				ID: "OSA1-public", Region: "OSA1", Interface: catalog.Public, URL: "https://volume.osa1.example.com/v2/" + project},
		},
		{
			name: "type rank beats interface preference",
			q:    catalog.Query{Type: "block-storage", Region: "SIN1", Interfaces: pref},
			want: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev3", ServiceName: "cinderv3", ServiceID: "svc-cinderv3",
				ID: "SIN1-public", Region: "SIN1", Interface: catalog.Public, URL: "https://volume.sin1.example.com/v3/" + project},
		},
		{
			name: "any region is fine when one URL serves them all",
			q:    catalog.Query{Type: "image"},
			want: catalog.Endpoint{ServiceType: "image", CatalogType: "image", ServiceName: "glance", ServiceID: "svc-glance",
				ID: "glance-sjc1", Region: "SJC1", Interface: catalog.Public, URL: "https://image.sjc1.example.com"},
		},
		{
			name: "type is case-insensitive",
			q:    catalog.Query{Type: "IMAGE", Region: "SJC1"},
			want: catalog.Endpoint{ServiceType: "image", CatalogType: "image", ServiceName: "glance", ServiceID: "svc-glance",
				ID: "glance-sjc1", Region: "SJC1", Interface: catalog.Public, URL: "https://image.sjc1.example.com"},
		},
		{
			name: "name disambiguates",
			q:    catalog.Query{Type: "network", Name: "neutron", Region: "TYO1"},
			want: catalog.Endpoint{ServiceType: "network", CatalogType: "network", ServiceName: "neutron", ServiceID: "svc-neutron",
				ID: "TYO1-public", Region: "TYO1", Interface: catalog.Public, URL: "https://network.tyo1.example.com"},
		},
		{
			name: "identical URLs are one endpoint: the first is kept",
			q:    catalog.Query{Type: "dns", Region: "TYO1"},
			want: catalog.Endpoint{ServiceType: "dns", CatalogType: "dns", ServiceName: "designate", ServiceID: "svc-designate",
				ID: "dns-a", Region: "TYO1", Interface: catalog.Public, URL: "https://dns.example.com"},
		},
		{
			name: "identical URLs across regions are one endpoint",
			q:    catalog.Query{Type: "identity", Region: "OSA1"},
			want: catalog.Endpoint{ServiceType: "identity", CatalogType: "identity", ServiceName: "keystone", ServiceID: "svc-keystone",
				ID: "OSA1-public", Region: "OSA1", Interface: catalog.Public, URL: "https://identity.jp.example.com/v3"},
		},
		{
			name: "region-less endpoint is found with no region asked",
			q:    catalog.Query{Type: "object-store"},
			want: catalog.Endpoint{ServiceType: "object-store", CatalogType: "object-store", ServiceName: "swift", ServiceID: "svc-swift",
				ID: "swift-global", Interface: catalog.Public, URL: "https://object.example.com/v1/AUTH_" + project},
		},
		{
			name: "unknown interface in the preference list is passed over",
			q:    catalog.Query{Type: "compute", Region: "SJC1", Interfaces: []catalog.Interface{"publicURL", catalog.Public}},
			want: catalog.Endpoint{ServiceType: "compute", CatalogType: "compute", ServiceName: "nova", ServiceID: "svc-nova",
				ID: "SJC1-public", Region: "SJC1", Interface: catalog.Public, URL: "https://compute.sjc1.example.com/v2.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Select(tt.q)
			if err != nil {
				t.Fatalf("Select(%+v): %v", tt.q, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Select(%+v) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	t.Parallel()
	full := mustNew(t, world(), project)
	unscoped := mustNew(t, world(), "")
	empty := mustNew(t, nil, project)
	tests := []struct {
		name    string
		c       *catalog.Catalog
		q       catalog.Query
		is      error
		detail  any    // the *NotFoundError / *AmbiguousError / *UnresolvedTemplateError expected
		message string // exact Error()
	}{
		{
			name: "empty catalog",
			c:    empty,
			q:    catalog.Query{Type: "compute", Region: "TYO1"},
			is:   catalog.ErrNotFound,
			detail: &catalog.NotFoundError{
				Query: catalog.Query{Type: "compute", Region: "TYO1", Interfaces: []catalog.Interface{catalog.Public}},
			},
			message: `catalog: no endpoint of type "compute" in region "TYO1" with interface [public]: the catalog is empty`,
		},
		{
			name: "nil catalog",
			c:    nil,
			q:    catalog.Query{Type: "compute"},
			is:   catalog.ErrNotFound,
			detail: &catalog.NotFoundError{
				Query: catalog.Query{Type: "compute", Interfaces: []catalog.Interface{catalog.Public}},
			},
			message: `catalog: no endpoint of type "compute" in any region with interface [public]: the catalog is empty`,
		},
		{
			name: "unknown type lists the types present",
			c:    full,
			q:    catalog.Query{Type: "key-manager", Region: "TYO1"},
			is:   catalog.ErrNotFound,
			detail: &catalog.NotFoundError{
				Query: catalog.Query{Type: "key-manager", Region: "TYO1", Interfaces: []catalog.Interface{catalog.Public}},
				Types: []string{"block-storage", "compute", "dns", "identity", "image", "network", "object-store", "shared-file-system"},
			},
			message: `catalog: no endpoint of type "key-manager" in region "TYO1" with interface [public]: the catalog has no "key-manager"; ` +
				`it has types [block-storage compute dns identity image network object-store shared-file-system]`,
		},
		{
			name: "unknown region lists the type's regions",
			c:    full,
			q:    catalog.Query{Type: "volumev3", Region: "FRA1"},
			is:   catalog.ErrNotFound,
			message: `catalog: no endpoint of type "volumev3" in region "FRA1" with interface [public]: ` +
				`"block-storage" is in regions [OSA1 SIN1 TYO1]`,
		},
		{
			name: "missing interface lists the offered ones",
			c:    full,
			q:    catalog.Query{Type: "image", Region: "SJC1", Interfaces: []catalog.Interface{catalog.Internal, catalog.Admin}},
			is:   catalog.ErrNotFound,
			detail: &catalog.NotFoundError{
				Query:      catalog.Query{Type: "image", Region: "SJC1", Interfaces: []catalog.Interface{catalog.Internal, catalog.Admin}},
				Types:      []string{"block-storage", "compute", "dns", "identity", "image", "network", "object-store", "shared-file-system"},
				Regions:    []string{"SJC1"},
				Interfaces: []catalog.Interface{catalog.Public},
				Names:      []string{"glance"},
			},
			message: `catalog: no endpoint of type "image" in region "SJC1" with interface [internal admin]: "image" offers interfaces [public] there`,
		},
		{
			name: "unknown name lists the names",
			c:    full,
			q:    catalog.Query{Type: "network", Name: "octavia", Region: "TYO1"},
			is:   catalog.ErrNotFound,
			message: `catalog: no endpoint of type "network" named "octavia" in region "TYO1" with interface [public]: ` +
				`"network" is named [neutron neutron-old] there`,
		},
		{
			name: "region-less endpoint is not found by region",
			c:    full,
			q:    catalog.Query{Type: "object-store", Region: "TYO1"},
			is:   catalog.ErrNotFound,
			message: `catalog: no endpoint of type "object-store" in region "TYO1" with interface [public]: ` +
				`"object-store" has endpoints only without a region; ask with no Region`,
		},
		{
			name: "skipped endpoints are mentioned",
			c:    full,
			q:    catalog.Query{Type: "orchestration", Region: "TYO1"},
			is:   catalog.ErrNotFound,
			message: `catalog: no endpoint of type "orchestration" in region "TYO1" with interface [public]: the catalog has no "orchestration"; ` +
				`it has types [block-storage compute dns identity image network object-store shared-file-system] ` +
				`(6 malformed endpoint(s) of this type were skipped: empty URL)`,
		},
		{
			name: "two services, one region, no name",
			c:    full,
			q:    catalog.Query{Type: "network", Region: "TYO1"},
			is:   catalog.ErrAmbiguous,
			detail: &catalog.AmbiguousError{
				Query: catalog.Query{Type: "network", Region: "TYO1", Interfaces: []catalog.Interface{catalog.Public}},
				Candidates: []catalog.Endpoint{
					{ServiceType: "network", CatalogType: "network", ServiceName: "neutron", ServiceID: "svc-neutron",
						ID: "TYO1-public", Region: "TYO1", Interface: catalog.Public, URL: "https://network.tyo1.example.com"},
					{ServiceType: "network", CatalogType: "network", ServiceName: "neutron-old", ServiceID: "svc-neutron-old",
						ID: "TYO1-public", Region: "TYO1", Interface: catalog.Public, URL: "https://network-old.tyo1.example.com"},
				},
			},
			message: `catalog: 2 endpoints of type "network" match equally: ` +
				`[network "neutron" region "TYO1" public https://network.tyo1.example.com] ` +
				`[network "neutron-old" region "TYO1" public https://network-old.tyo1.example.com]; set Query.Name to choose`,
		},
		{
			name: "no region given, several regions",
			c:    full,
			q:    catalog.Query{Type: "identity"},
			is:   catalog.ErrAmbiguous,
			message: `catalog: 2 endpoints of type "identity" match equally: ` +
				`[identity "keystone" region "TYO1" public https://identity.jp.example.com/v3] ` +
				`[identity "keystone" region "SIN1" public https://identity.sg.example.com/v3]; set Query.Region to choose`,
		},
		{
			name: "template left: no project ID",
			c:    unscoped,
			q:    catalog.Query{Type: "block-storage", Region: "SIN1"},
			is:   catalog.ErrUnresolvedTemplate,
			detail: &catalog.UnresolvedTemplateError{
				Endpoint: catalog.Endpoint{ServiceType: "block-storage", CatalogType: "volumev3", ServiceName: "cinderv3", ServiceID: "svc-cinderv3",
					ID: "SIN1-public", Region: "SIN1", Interface: catalog.Public, URL: "https://volume.sin1.example.com/v3/%(project_id)s"},
				NoProjectID: true,
			},
			message: `catalog: block-storage endpoint SIN1-public in region "SIN1" has a placeholder left in URL ` +
				`"https://volume.sin1.example.com/v3/%(project_id)s": the catalog was built without a project ID (is the token project-scoped?)`,
		},
		{
			name: "template left: unknown placeholder",
			c:    full,
			q:    catalog.Query{Type: "share", Region: "TYO1"},
			is:   catalog.ErrUnresolvedTemplate,
			message: `catalog: shared-file-system endpoint TYO1-public in region "TYO1" has a placeholder left in URL ` +
				`"https://share.tyo1.example.com/v2/` + project + `/$(user_id)s": it is not a placeholder this package knows`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.c.Select(tt.q)
			if err == nil {
				t.Fatalf("Select(%+v) = %+v, want error", tt.q, got)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, other := range []error{catalog.ErrNotFound, catalog.ErrAmbiguous, catalog.ErrUnresolvedTemplate} {
				if other != tt.is && errors.Is(err, other) {
					t.Errorf("errors.Is(%v, %v) = true", err, other)
				}
			}
			if diff := cmp.Diff(catalog.Endpoint{}, got); diff != "" {
				t.Errorf("endpoint returned with an error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.message, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if tt.detail != nil {
				if diff := cmp.Diff(tt.detail, asDetail(t, err)); diff != "" {
					t.Errorf("detail (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// asDetail extracts the detail error with errors.As.
func asDetail(t *testing.T, err error) any {
	t.Helper()
	var nf *catalog.NotFoundError
	var amb *catalog.AmbiguousError
	var tmpl *catalog.UnresolvedTemplateError
	switch {
	case errors.As(err, &nf):
		return nf
	case errors.As(err, &amb):
		return amb
	case errors.As(err, &tmpl):
		return tmpl
	}
	t.Fatalf("%T is no detail error", err)
	return nil
}

func TestErrorsWrapped(t *testing.T) {
	t.Parallel()
	_, err := mustNew(t, nil, "").Select(catalog.Query{Type: "compute"})
	wrapped := fmt.Errorf("geostack: compute client: %w", err)
	var nf *catalog.NotFoundError
	if !errors.Is(wrapped, catalog.ErrNotFound) || !errors.As(wrapped, &nf) || len(nf.Types) != 0 {
		t.Errorf("wrapped error %v does not match ErrNotFound / *NotFoundError", wrapped)
	}
}

func TestSkipped(t *testing.T) {
	t.Parallel()
	c := mustNew(t, world(), project)
	want := []catalog.Skip{
		{ServiceID: "svc-untyped", Reason: "service entry has no type"},
		{ServiceType: "orchestration", ServiceID: "svc-heat", EndpointID: "TYO1-public", Region: "TYO1", Interface: "public", Reason: "empty URL"},
		{ServiceType: "orchestration", ServiceID: "svc-heat", EndpointID: "TYO1-publicURL", Region: "TYO1", Interface: "publicURL", Reason: `unknown interface "publicURL"`},
		{ServiceType: "orchestration", ServiceID: "svc-heat", EndpointID: "TYO1-internal", Region: "TYO1", Interface: "internal", Reason: "URL scheme is not http or https"},
		{ServiceType: "orchestration", ServiceID: "svc-heat", EndpointID: "TYO1-admin", Region: "TYO1", Interface: "admin", Reason: "URL carries user credentials"},
		{ServiceType: "orchestration", ServiceID: "svc-heat", EndpointID: "OSA1-public", Region: "OSA1", Interface: "public", Reason: "URL scheme is not http or https"},
		{ServiceType: "orchestration", ServiceID: "svc-heat", EndpointID: "OSA1-internal", Region: "OSA1", Interface: "internal", Reason: "URL does not parse"},
	}
	if diff := cmp.Diff(want, c.Skipped()); diff != "" {
		t.Errorf("Skipped() (-want +got):\n%s", diff)
	}
	for _, s := range c.Skipped() {
		if strings.Contains(s.Reason, "hunter2") {
			t.Errorf("skip reason %q leaks a URL password", s.Reason)
		}
	}
	_, err := c.Select(catalog.Query{Type: "orchestration", Region: "TYO1", Interfaces: []catalog.Interface{catalog.Admin}})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Select error %v: want an error without the URL password", err)
	}
}

func TestRegionsAndTypes(t *testing.T) {
	t.Parallel()
	newRegion := append(world(), tokens.CatalogEntry{ID: "svc-nova-fra", Name: "nova", Type: "compute",
		Endpoints: []tokens.Endpoint{ep("FRA1", "public", "https://compute.fra1.example.com/v2.1")}})
	tests := []struct {
		name        string
		entries     []tokens.CatalogEntry
		wantRegions []string
		wantTypes   []string
	}{
		{"nil", nil, nil, nil},
		{"empty", []tokens.CatalogEntry{}, nil, nil},
		{"only malformed", []tokens.CatalogEntry{{Type: "compute", Endpoints: []tokens.Endpoint{ep("TYO1", "public", "")}}}, nil, nil},
		{
			"world", world(),
			[]string{"OSA1", "SIN1", "SJC1", "TYO1"},
			[]string{"block-storage", "compute", "dns", "identity", "image", "network", "object-store", "shared-file-system"},
		},
		{
			"a new region needs no code change", newRegion,
			[]string{"FRA1", "OSA1", "SIN1", "SJC1", "TYO1"},
			[]string{"block-storage", "compute", "dns", "identity", "image", "network", "object-store", "shared-file-system"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustNew(t, tt.entries, project)
			if diff := cmp.Diff(tt.wantRegions, c.Regions()); diff != "" {
				t.Errorf("Regions() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTypes, c.Types()); diff != "" {
				t.Errorf("Types() (-want +got):\n%s", diff)
			}
			for _, r := range c.Regions() {
				if _, err := c.Select(catalog.Query{Type: "compute", Region: r}); err != nil && r != "SJC1" && !errors.Is(err, catalog.ErrNotFound) {
					t.Errorf("Select compute in %s: %v", r, err)
				}
			}
		})
	}
	c := mustNew(t, newRegion, project)
	got, err := c.Select(catalog.Query{Type: "compute", Region: "FRA1"})
	if err != nil || got.URL != "https://compute.fra1.example.com/v2.1" {
		t.Errorf("Select compute in FRA1 = %+v, %v", got, err)
	}
}

func TestImmutable(t *testing.T) {
	t.Parallel()
	entries := world()
	c := mustNew(t, entries, project)
	entries[0].Endpoints[0].URL = "https://changed.example.com"
	entries[0].Type = "changed"
	c.Regions()[0] = "changed"
	c.Types()[0] = "changed"
	c.Skipped()[0].Reason = "changed"
	q := catalog.Query{Type: "compute", Region: "TYO1"}
	got, err := c.Select(q)
	if err != nil || got.URL != "https://compute.tyo1.example.com/v2.1" {
		t.Errorf("Select(%+v) after changing the input = %+v, %v", q, got, err)
	}
	if c.Regions()[0] != "OSA1" || c.Types()[0] != "block-storage" || c.Skipped()[0].Reason == "changed" {
		t.Errorf("accessors return the catalog's own slices")
	}
}

func TestCanonicalType(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"block-storage", "block-storage"},
		{"volumev3", "block-storage"},
		{"volumev2", "block-storage"},
		{"volume", "block-storage"},
		{"block-store", "block-storage"},
		{"VolumeV3", "block-storage"},
		{"compute", "compute"},
		{"image", "image"},
		{"network", "network"},
		{"identity", "identity"},
		{"object-store", "object-store"},
		{"dns", "dns"},
		{"load-balancer", "load-balancer"},
		{"key-manager", "key-manager"},
		{"orchestration", "orchestration"},
		{"placement", "placement"},
		{"sharev2", "shared-file-system"},
		{"share", "shared-file-system"},
		{"bare-metal", "baremetal"},
		{"container-infra", "container-infrastructure-management"},
		{"container-infrastructure", "container-infrastructure-management"},
		{"workflowv2", "workflow"},
		{"metering", "meter"},
		{"messaging", "message"},
		{"ha", "instance-ha"},
		{"custom-thing", "custom-thing"},
		{"Custom-Thing", "custom-thing"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := catalog.CanonicalType(tt.in); got != tt.want {
				t.Errorf("CanonicalType(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalTypeDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = catalog.CanonicalType("volumev3") }); n != 0 {
		t.Errorf("CanonicalType allocates %v times", n)
	}
}

func TestConcurrentSelect(t *testing.T) {
	t.Parallel()
	c := mustNew(t, world(), project)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 1000 {
				if _, err := c.Select(catalog.Query{Type: "volumev3", Region: "TYO1"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
