package testserver

import (
	"strings"
)

// catalogEntry and catalogEndpoint are the Keystone v3 catalog JSON shapes.
type catalogEntry struct {
	Endpoints []catalogEndpoint `json:"endpoints"`
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Name      string            `json:"name"`
}

type catalogEndpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

// projectTemplate is how Keystone stores a project id placeholder in an
// endpoint URL.
const projectTemplate = "$(project_id)s"

// buildCatalog lists every region's endpoints with templates unsubstituted.
func (s *Server) buildCatalog(w *World) []catalogEntry {
	type svc struct{ typ, name, path string }
	svcs := []svc{
		{"compute", "nova", "/compute/v2.1"},
		{"image", "glance", "/image"},
		{"volumev3", "cinderv3", "/volume/v3/" + projectTemplate},
		{"network", "neutron", "/network"},
	}
	if s.opts.BlockStorageAlias {
		svcs = append(svcs, svc{"block-storage", "cinder", "/volume/v3/" + projectTemplate})
	}
	var out []catalogEntry
	// As scripts/keystone-seed.py builds the real one: each location is a
	// parent region (JP above TYO1 and OSA1) holding only the identity
	// endpoints of its own Keystone; the service endpoints are in the
	// child regions.
	identity := catalogEntry{ID: SeedID("service", "identity"), Type: "identity", Name: "keystone"}
	for _, loc := range s.locOrder {
		for _, iface := range []string{"public", "internal", "admin"} {
			u := s.AuthURL(loc)
			if iface == "admin" {
				u = s.AdminAuthURL(loc)
			}
			identity.Endpoints = append(identity.Endpoints, catalogEndpoint{
				ID: SeedID("endpoint", "identity/"+loc+"/"+iface), Interface: iface,
				Region: loc, RegionID: loc, URL: u,
			})
		}
	}
	out = append(out, identity)
	for _, sv := range svcs {
		e := catalogEntry{ID: SeedID("service", sv.typ), Type: sv.typ, Name: sv.name}
		for _, region := range s.regionOrder {
			base := s.URL(s.regionLoc[region])
			for _, iface := range []string{"public", "internal", "admin"} {
				prefix := ""
				if iface != "public" {
					prefix = "/" + iface
				}
				e.Endpoints = append(e.Endpoints, catalogEndpoint{
					ID: SeedID("endpoint", sv.typ+"/"+region+"/"+iface), Interface: iface,
					Region: region, RegionID: region, URL: base + prefix + "/" + region + sv.path,
				})
			}
		}
		out = append(out, e)
	}
	return out
}

// catalogFor returns the catalog of a token scoped to projectID ("" for a
// domain- or system-scoped token). Like Keystone, it substitutes
// $(project_id)s for a project and drops endpoints it cannot substitute
// otherwise, unless Options.RawCatalogTemplates is set.
func (s *Server) catalogFor(projectID string) []catalogEntry {
	if s.opts.RawCatalogTemplates {
		return s.tmpl
	}
	if c, ok := s.catalogs.Load(projectID); ok {
		return c.([]catalogEntry)
	}
	out := make([]catalogEntry, 0, len(s.tmpl))
	for _, e := range s.tmpl {
		ne := e
		ne.Endpoints = nil
		for _, ep := range e.Endpoints {
			if strings.Contains(ep.URL, projectTemplate) {
				if projectID == "" {
					continue
				}
				ep.URL = strings.ReplaceAll(ep.URL, projectTemplate, projectID)
			}
			ne.Endpoints = append(ne.Endpoints, ep)
		}
		if len(ne.Endpoints) > 0 {
			out = append(out, ne)
		}
	}
	c, _ := s.catalogs.LoadOrStore(projectID, out)
	return c.([]catalogEntry)
}
