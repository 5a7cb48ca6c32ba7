package authtoken

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/geostack/geostack/identity"
)

// catalogHeaderCacheSize is how many X-Service-Catalog values are kept: one
// per validated token, computed on its first request. A value is a few KiB.
const catalogHeaderCacheSize = 1024

// catalogHeaders caches X-Service-Catalog values by token. The Validator
// hands out one *identity.Token per validated token, so the pointer is the
// key.
type catalogHeaders struct {
	c *lru.Cache[*identity.Token, string]
}

func newCatalogHeaders() *catalogHeaders {
	c, _ := lru.New[*identity.Token, string](catalogHeaderCacheSize) // fails only for a size <= 0
	return &catalogHeaders{c: c}
}

// value is the X-Service-Catalog value of t, "" if t has no catalog.
func (c *catalogHeaders) value(t *identity.Token) string {
	if v, ok := c.c.Get(t); ok {
		return v
	}
	entries, ok := rawCatalog(t)
	v := ""
	if ok {
		v = serviceCatalogHeader(entries)
	}
	c.c.Add(t, v)
	return v
}

// rawCatalog returns the catalog entries t was parsed from, and false if it
// has none. identity keeps them only for its codec, so they are read back
// from EncodeToken's record. That record holds the token id: it is cleared
// once read.
func rawCatalog(t *identity.Token) ([]tokens.CatalogEntry, bool) {
	b, err := identity.EncodeToken(t)
	if err != nil {
		return nil, false
	}
	defer clear(b)
	var rec struct {
		Catalog []tokens.CatalogEntry `json:"catalog"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Catalog == nil {
		return nil, false
	}
	return rec.Catalog, true
}

// v2Service is a catalog entry in the layout keystonemiddleware gives
// X-Service-Catalog, the Identity v2 one, for a v3 token too.
type v2Service struct {
	Type      string              `json:"type"`
	Name      string              `json:"name"`
	Endpoints []map[string]string `json:"endpoints"`
}

// serviceCatalogHeader lays out a v3 catalog as keystonemiddleware's
// X-Service-Catalog: per service its type, name and endpoints, the
// endpoints of one region (the v3 "region" field) merged into one object
// {"region": R, "publicURL": ..., "internalURL": ..., "adminURL": ...},
// regions in the order they first appear, without "region" for endpoints
// that have none.
func serviceCatalogHeader(entries []tokens.CatalogEntry) string {
	services := make([]v2Service, 0, len(entries))
	for _, e := range entries {
		s := v2Service{Type: e.Type, Name: e.Name, Endpoints: []map[string]string{}}
		byRegion := map[string]map[string]string{}
		for _, ep := range e.Endpoints {
			region, ok := byRegion[ep.Region]
			if !ok {
				region = map[string]string{}
				if ep.Region != "" {
					region["region"] = ep.Region
				}
				byRegion[ep.Region] = region
				s.Endpoints = append(s.Endpoints, region)
			}
			region[strings.ToLower(ep.Interface)+"URL"] = ep.URL
		}
		services = append(services, s)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(services) // a slice of structs of strings: cannot fail
	return strings.TrimSuffix(buf.String(), "\n")
}
