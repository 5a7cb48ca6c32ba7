//go:build integration

package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/internal/keystonetest"
)

// identityClient returns a gophercloud identity v3 client for authURL
// (ending in /v3) carrying tokenID, or none.
func identityClient(t *testing.T, authURL, tokenID string) *gophercloud.ServiceClient {
	t.Helper()
	pc, err := openstack.NewClient(authURL)
	if err != nil {
		t.Fatal(err)
	}
	pc.SetToken(tokenID)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: strings.TrimSuffix(authURL, "/") + "/"}
}

// issue authenticates with gophercloud and returns the raw catalog and the
// token's project id.
func issue(t *testing.T, ctx context.Context, authURL string, ao *tokens.AuthOptions) (string, []tokens.CatalogEntry, string) {
	t.Helper()
	r := tokens.Create(ctx, identityClient(t, authURL, ""), ao)
	tok, err := r.ExtractToken()
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	sc, err := r.ExtractServiceCatalog()
	if err != nil {
		t.Fatalf("extract catalog: %v", err)
	}
	projectID := ""
	if p, err := r.ExtractProject(); err == nil && p != nil {
		projectID = p.ID
	}
	return tok.ID, sc.Entries, projectID
}

// TestIntegrationRealCatalog indexes the catalog of a project-scoped token
// from the real Keystone and selects from it: every region, every service by
// official type and alias, every interface, and the project id in the
// block-storage URL.
func TestIntegrationRealCatalog(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	gnc := env.MustUser(t, "gncu00000001")
	_, entries, projectID := issue(t, t.Context(), env.AuthURL("SG"), &tokens.AuthOptions{
		UserID: gnc.ID, Password: gnc.Password, Scope: tokens.Scope{ProjectID: gnc.ProjectID},
	})
	if projectID != gnc.ProjectID {
		t.Fatalf("token project %q, want %q", projectID, gnc.ProjectID)
	}
	cat, err := catalog.New(entries, projectID)
	if err != nil {
		t.Fatalf("catalog.New: %v", err)
	}
	if s := cat.Skipped(); len(s) != 0 {
		t.Errorf("Skipped() = %+v, want nothing skipped from the real catalog", s)
	}
	// The identity endpoints are registered in the location regions; the
	// services in the OpenStack regions.
	wantRegions := []string{"JP", "OSA1", "SG", "SIN1", "SJC1", "TYO1", "US"}
	if diff := cmp.Diff(wantRegions, cat.Regions()); diff != "" {
		t.Errorf("Regions() (-want +got):\n%s", diff)
	}
	wantTypes := []string{"block-storage", "compute", "identity", "image", "network"}
	if diff := cmp.Diff(wantTypes, cat.Types()); diff != "" {
		t.Errorf("Types() (-want +got):\n%s", diff)
	}

	for loc, regions := range env.Regions {
		for _, region := range regions {
			for _, iface := range []catalog.Interface{catalog.Public, catalog.Internal, catalog.Admin} {
				for _, typ := range []string{"compute", "image", "network", "volumev3", "block-storage", "volume"} {
					ep, err := cat.Select(catalog.Query{Type: typ, Region: region, Interfaces: []catalog.Interface{iface}})
					if err != nil {
						t.Errorf("Select(%s, %s, %s): %v", typ, region, iface, err)
						continue
					}
					if ep.Region != region || ep.Interface != iface || ep.ServiceType != catalog.CanonicalType(typ) {
						t.Errorf("Select(%s, %s, %s) = %+v", typ, region, iface, ep)
					}
					// The seeded URLs are http://127.0.0.1:9/<region>/<interface>/...
					if !strings.Contains(ep.URL, "/"+region+"/"+string(iface)+"/") {
						t.Errorf("Select(%s, %s, %s).URL = %q, want the seeded region and interface in it", typ, region, iface, ep.URL)
					}
					if catalog.CanonicalType(typ) == "block-storage" {
						if ep.CatalogType != "volumev3" || !strings.HasSuffix(ep.URL, "/v3/"+projectID) || strings.Contains(ep.URL, "$(") {
							t.Errorf("Select(%s, %s, %s) = %+v, want volumev3 ending in the project id", typ, region, iface, ep)
						}
					}
				}
			}
			// Keystone itself is found by the location the region belongs to.
			ep, err := cat.Select(catalog.Query{Type: "identity", Region: loc})
			if err != nil || strings.TrimSuffix(ep.URL, "/") != strings.TrimSuffix(env.AuthURL(loc), "/") {
				t.Errorf("Select(identity, %s) = %+v, %v; want %s", loc, ep, err, env.AuthURL(loc))
			}
		}
	}

	// Without a region every service is ambiguous: it has one URL per region.
	if _, err := cat.Select(catalog.Query{Type: "compute"}); !errors.Is(err, catalog.ErrAmbiguous) {
		t.Errorf("Select(compute, any region): %v, want ErrAmbiguous", err)
	}
	if _, err := cat.Select(catalog.Query{Type: "object-store", Region: "TYO1"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Select(object-store): %v, want ErrNotFound", err)
	}
}

// TestIntegrationTemplates builds a catalog from the raw endpoint templates
// Keystone stores (GET /v3/endpoints, as an admin sees them, with
// $(project_id)s unsubstituted) and checks that catalog.New substitutes them
// exactly as Keystone does in a project-scoped token.
func TestIntegrationTemplates(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	ctx := t.Context()
	gnc := env.MustUser(t, "gncu00000001")
	_, tokenEntries, projectID := issue(t, ctx, env.AuthURL("JP"), &tokens.AuthOptions{
		UserID: gnc.ID, Password: gnc.Password, Scope: tokens.Scope{ProjectID: gnc.ProjectID},
	})
	adminToken, _, _ := issue(t, ctx, env.AuthURL("JP"), &tokens.AuthOptions{
		UserID: env.Admin.ID, Password: env.Admin.Password, Scope: tokens.Scope{System: true},
	})
	ic := identityClient(t, env.AuthURL("JP"), adminToken)

	page, err := services.List(ic, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list services: %v", err)
	}
	svcs, err := services.ExtractServices(page)
	if err != nil {
		t.Fatal(err)
	}
	page, err = endpoints.List(ic, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list endpoints: %v", err)
	}
	eps, err := endpoints.ExtractEndpoints(page)
	if err != nil {
		t.Fatal(err)
	}
	var raw []tokens.CatalogEntry
	templated := 0
	for _, s := range svcs {
		e := tokens.CatalogEntry{ID: s.ID, Name: s.Name, Type: s.Type}
		for _, ep := range eps {
			if ep.ServiceID == s.ID {
				if strings.Contains(ep.URL, "$(project_id)s") {
					templated++
				}
				e.Endpoints = append(e.Endpoints, tokens.Endpoint{ID: ep.ID, Region: ep.Region, RegionID: ep.RegionID,
					Interface: string(ep.Availability), URL: ep.URL})
			}
		}
		raw = append(raw, e)
	}
	// volumev3 in four regions with three interfaces.
	if templated != 12 {
		t.Errorf("%d templated endpoints in Keystone, want 12", templated)
	}

	fromTemplates, err := catalog.New(raw, projectID)
	if err != nil {
		t.Fatal(err)
	}
	fromToken, err := catalog.New(tokenEntries, projectID)
	if err != nil {
		t.Fatal(err)
	}
	unresolved, err := catalog.New(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"TYO1", "OSA1", "SJC1", "SIN1"} {
		for _, iface := range []catalog.Interface{catalog.Public, catalog.Internal, catalog.Admin} {
			q := catalog.Query{Type: "block-storage", Region: region, Interfaces: []catalog.Interface{iface}}
			want, err := fromToken.Select(q)
			if err != nil {
				t.Fatalf("Select %+v from the token's catalog: %v", q, err)
			}
			got, err := fromTemplates.Select(q)
			if err != nil {
				t.Fatalf("Select %+v from the templates: %v", q, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Select %+v: substituted by Keystone (-) and by catalog.New (+):\n%s", q, diff)
			}
			if _, err := unresolved.Select(q); !errors.Is(err, catalog.ErrUnresolvedTemplate) {
				t.Errorf("Select %+v without a project id: %v, want ErrUnresolvedTemplate", q, err)
			}
		}
	}
}
