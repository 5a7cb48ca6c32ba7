package catalog

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// Catalog is an immutable index of a service catalog. The zero value and a
// nil *Catalog are empty catalogs. A Catalog is safe for concurrent use.
type Catalog struct {
	// index maps a query type (as the catalog spells it, or official) and a
	// region ("" for any region) to the tiers to try, best first.
	index map[indexKey][]tier
	// all holds every indexed endpoint in catalog order, for error messages.
	all         []slot
	types       []string // official types, sorted
	regions     []string // regions, sorted
	skipped     []Skip
	noProjectID bool
}

type indexKey struct {
	typ    string
	region string
}

// tier is the endpoints of one catalog type, by interface.
type tier struct {
	byInterface [numInterfaces][]slot
}

// slot is an indexed endpoint.
type slot struct {
	Endpoint
	rank     int  // rank of CatalogType among its family's aliases
	template bool // URL still holds a placeholder
}

// New indexes the catalog of a token issued for projectID ("" for a token
// that is not project-scoped). The error is reserved: New currently never
// fails, because malformed parts of the catalog are skipped and reported by
// Skipped instead (see the package doc).
func New(entries []tokens.CatalogEntry, projectID string) (*Catalog, error) {
	c := &Catalog{index: map[indexKey][]tier{}, noProjectID: projectID == ""}
	for _, e := range entries {
		c.add(e, projectID)
	}
	c.build()
	return c, nil
}

// add validates and substitutes the endpoints of e, appending them to c.all.
func (c *Catalog) add(e tokens.CatalogEntry, projectID string) {
	typ := strings.ToLower(strings.TrimSpace(e.Type))
	if typ == "" {
		c.skipped = append(c.skipped, Skip{ServiceID: e.ID, Reason: "service entry has no type"})
		return
	}
	official, rank, ok := officialType(typ)
	if !ok {
		official = typ
	}
	for _, ep := range e.Endpoints {
		region := ep.RegionID
		if region == "" {
			region = ep.Region
		}
		skip := func(reason string) {
			c.skipped = append(c.skipped, Skip{
				ServiceType: e.Type, ServiceID: e.ID, EndpointID: ep.ID,
				Region: region, Interface: ep.Interface, Reason: reason,
			})
		}
		iface := Interface(strings.ToLower(ep.Interface))
		if iface.index() < 0 {
			skip("unknown interface " + quote(ep.Interface))
			continue
		}
		u, template := substitute(ep.URL, projectID)
		if reason := checkURL(u); reason != "" {
			skip(reason)
			continue
		}
		c.all = append(c.all, slot{
			Endpoint: Endpoint{
				ServiceType: official,
				CatalogType: typ,
				ServiceName: e.Name,
				ServiceID:   e.ID,
				ID:          ep.ID,
				Region:      region,
				Interface:   iface,
				URL:         u,
			},
			rank:     rank,
			template: template,
		})
	}
}

// build fills the index from c.all.
func (c *Catalog) build() {
	// The catalog types of each family, best first.
	families := map[string][]string{}
	// The regions of each family, "" (any region) included.
	familyRegions := map[string][]string{}
	regions := map[string]bool{}
	rank := map[string]int{}
	for _, s := range c.all {
		if !slices.Contains(families[s.ServiceType], s.CatalogType) {
			families[s.ServiceType] = append(families[s.ServiceType], s.CatalogType)
			rank[s.CatalogType] = s.rank
		}
		if rs := familyRegions[s.ServiceType]; len(rs) == 0 {
			familyRegions[s.ServiceType] = []string{""}
		}
		if s.Region != "" && !slices.Contains(familyRegions[s.ServiceType], s.Region) {
			familyRegions[s.ServiceType] = append(familyRegions[s.ServiceType], s.Region)
			regions[s.Region] = true
		}
	}
	for official, types := range families {
		// Authority order. A type the authority does not know is a family
		// of its own, so ties by name only guard determinism.
		slices.SortFunc(types, func(a, b string) int {
			return cmp.Or(cmp.Compare(rank[a], rank[b]), strings.Compare(a, b))
		})
		c.types = append(c.types, official)
		// Each key a query may use maps to the catalog types to try, best
		// first: the key itself if the catalog lists it, then the rest in
		// authority order. Aliases the catalog does not list share the
		// official type's order, so that Select needs one lookup.
		orders := map[string][]string{official: types}
		for _, a := range aliasesOf(official) {
			orders[a] = types
		}
		for _, t := range types {
			if t != official {
				orders[t] = append([]string{t}, slices.DeleteFunc(slices.Clone(types), func(s string) bool { return s == t })...)
			}
		}
		for _, region := range familyRegions[official] {
			shared := c.tiers(types, region)
			for key, order := range orders {
				tiers := shared
				if order[0] != types[0] {
					tiers = c.tiers(order, region)
				}
				if len(tiers) > 0 {
					c.index[indexKey{key, region}] = tiers
				}
			}
		}
	}
	slices.Sort(c.types)
	for r := range regions {
		c.regions = append(c.regions, r)
	}
	slices.Sort(c.regions)
}

// tiers returns, for each catalog type in order, its endpoints in region
// ("" for any), leaving out types with none.
func (c *Catalog) tiers(order []string, region string) []tier {
	var out []tier
	for _, t := range order {
		var tr tier
		n := 0
		for _, s := range c.all {
			if s.CatalogType == t && (region == "" || s.Region == region) {
				i := s.Interface.index()
				tr.byInterface[i] = append(tr.byInterface[i], s)
				n++
			}
		}
		if n > 0 {
			out = append(out, tr)
		}
	}
	return out
}

// Select returns the one endpoint that best matches q; see the package doc
// for the order of preference. Its errors match ErrNotFound, ErrAmbiguous or
// ErrUnresolvedTemplate and carry details (*NotFoundError, *AmbiguousError,
// *UnresolvedTemplateError).
func (c *Catalog) Select(q Query) (Endpoint, error) {
	if c == nil || len(c.all) == 0 {
		return Endpoint{}, c.notFound(q)
	}
	typ := strings.ToLower(q.Type)
	tiers := c.index[indexKey{typ, q.Region}]
	n := max(len(q.Interfaces), 1)
	for ti := range tiers {
		for pi := range n {
			iface := Public
			if len(q.Interfaces) > 0 {
				iface = q.Interfaces[pi]
			}
			i := iface.index()
			if i < 0 {
				continue
			}
			cands := tiers[ti].byInterface[i]
			first := -1
			for j := range cands {
				if q.Name != "" && cands[j].ServiceName != q.Name {
					continue
				}
				if first < 0 {
					first = j
				} else if cands[j].URL != cands[first].URL {
					return Endpoint{}, ambiguous(q, cands)
				}
			}
			if first >= 0 {
				if cands[first].template {
					return Endpoint{}, c.unresolved(cands[first].Endpoint)
				}
				return cands[first].Endpoint, nil
			}
		}
	}
	return Endpoint{}, c.notFound(q)
}

// Regions returns the region ids of the catalog's endpoints, sorted.
func (c *Catalog) Regions() []string {
	if c == nil {
		return nil
	}
	return slices.Clone(c.regions)
}

// Types returns the official service types of the catalog's endpoints,
// sorted.
func (c *Catalog) Types() []string {
	if c == nil {
		return nil
	}
	return slices.Clone(c.types)
}

// Skipped returns what New left out of the index, in catalog order.
func (c *Catalog) Skipped() []Skip {
	if c == nil {
		return nil
	}
	return slices.Clone(c.skipped)
}

// ambiguous builds the error for candidates with different URLs, keeping the
// first endpoint of each URL.
func ambiguous(q Query, cands []slot) error {
	e := &AmbiguousError{Query: q}
	e.Query.Interfaces = q.interfacesOrDefault()
	seen := map[string]bool{}
	for _, s := range cands {
		if (q.Name != "" && s.ServiceName != q.Name) || seen[s.URL] {
			continue
		}
		seen[s.URL] = true
		e.Candidates = append(e.Candidates, s.Endpoint)
	}
	return e
}

// notFound describes what the catalog offers for q's type.
func (c *Catalog) notFound(q Query) error {
	e := &NotFoundError{Query: q}
	e.Query.Interfaces = q.interfacesOrDefault()
	if c == nil || len(c.all) == 0 {
		e.Empty = true
		if c != nil {
			e.Skipped = slices.Clone(c.skipped)
		}
		return e
	}
	official := CanonicalType(q.Type)
	e.Types = slices.Clone(c.types)
	var ifaces [numInterfaces]bool
	for _, s := range c.all {
		if s.ServiceType != official {
			continue
		}
		if s.Region != "" && !slices.Contains(e.Regions, s.Region) {
			e.Regions = append(e.Regions, s.Region)
		}
		if q.Region != "" && s.Region != q.Region {
			continue
		}
		if !slices.Contains(e.Names, s.ServiceName) {
			e.Names = append(e.Names, s.ServiceName)
		}
		if q.Name == "" || s.ServiceName == q.Name {
			ifaces[s.Interface.index()] = true
		}
	}
	slices.Sort(e.Regions)
	slices.Sort(e.Names)
	for i, ok := range ifaces {
		if ok {
			e.Interfaces = append(e.Interfaces, interfaceAt(i))
		}
	}
	for _, s := range c.skipped {
		if s.ServiceType != "" && CanonicalType(strings.TrimSpace(s.ServiceType)) == official {
			e.Skipped = append(e.Skipped, s)
		}
	}
	return e
}

// unresolved builds the error for an endpoint with a placeholder left.
func (c *Catalog) unresolved(ep Endpoint) error {
	noProject := false
	for _, p := range projectPlaceholders() {
		noProject = noProject || (c.noProjectID && strings.Contains(ep.URL, p))
	}
	return &UnresolvedTemplateError{Endpoint: ep, NoProjectID: noProject}
}

// projectPlaceholders returns the URL templates New substitutes.
func projectPlaceholders() [4]string {
	return [...]string{"$(project_id)s", "$(tenant_id)s", "%(project_id)s", "%(tenant_id)s"}
}

// substitute replaces the project placeholders of raw with projectID and
// reports whether a placeholder is left.
func substitute(raw, projectID string) (u string, template bool) {
	u = raw
	if projectID != "" && strings.Contains(u, "(") {
		id := url.PathEscape(projectID)
		for _, p := range projectPlaceholders() {
			u = strings.ReplaceAll(u, p, id)
		}
	}
	return u, strings.Contains(u, "$(") || strings.Contains(u, "%(")
}

// checkURL returns why u is not a usable endpoint URL, or "". The URL is not
// quoted in the reason: the reason ends up in error messages, and a URL may
// carry credentials.
func checkURL(u string) string {
	if strings.TrimSpace(u) == "" {
		return "empty URL"
	}
	// A placeholder left in is reported by Select; "%(" would not parse.
	p, err := url.Parse(strings.ReplaceAll(u, "%(", "_("))
	switch {
	case err != nil:
		return "URL does not parse"
	case p.User != nil:
		return "URL carries user credentials"
	case p.Scheme != "http" && p.Scheme != "https":
		return "URL scheme is not http or https"
	case p.Host == "":
		return "URL has no host"
	}
	return ""
}

// quote quotes s for a message, cut to a sane length.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return strconv.Quote(s)
}
