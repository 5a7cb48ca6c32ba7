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
	// region ("" for any region) to the tiers to try, best first. An alias
	// the catalog does not list has no key: Select looks its official type
	// up instead.
	index map[indexKey][]tier
	// all holds every indexed endpoint in catalog order; the tiers point
	// into it.
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

// tier is the endpoints of one catalog type in one region (or in any), by
// interface, in catalog order.
type tier struct {
	byInterface [numInterfaces][]*slot
}

// slot is an indexed endpoint.
type slot struct {
	Endpoint
	template bool // URL still holds a placeholder
}

// New indexes the catalog of a token issued for projectID ("" for a token
// that is not project-scoped). The error is reserved: New currently never
// fails, because malformed parts of the catalog are skipped and reported by
// Skipped instead (see the package doc).
func New(entries []tokens.CatalogEntry, projectID string) (*Catalog, error) {
	c := &Catalog{noProjectID: projectID == ""}
	n := 0
	for _, e := range entries {
		n += len(e.Endpoints)
	}
	c.all = make([]slot, 0, n)
	id := url.PathEscape(projectID)
	for _, e := range entries {
		c.add(e, id)
	}
	c.build()
	return c, nil
}

// add validates the endpoints of e and substitutes the (escaped) project ID
// into their URLs, appending them to c.all.
func (c *Catalog) add(e tokens.CatalogEntry, projectID string) {
	typ := strings.ToLower(strings.TrimSpace(e.Type))
	if typ == "" {
		c.skipped = append(c.skipped, Skip{ServiceID: e.ID, Reason: "service entry has no type"})
		return
	}
	official, _, ok := officialType(typ)
	if !ok {
		official = typ
	}
	for _, ep := range e.Endpoints {
		region := ep.RegionID
		if region == "" {
			region = ep.Region
		}
		iface := Interface(strings.ToLower(ep.Interface))
		var u, reason string
		var template bool
		if iface.index() < 0 {
			reason = "unknown interface " + quote(ep.Interface)
		} else {
			u, template = substitute(ep.URL, projectID)
			reason = checkURL(u)
		}
		if reason != "" {
			c.skipped = append(c.skipped, Skip{
				ServiceType: e.Type, ServiceID: e.ID, EndpointID: ep.ID,
				Region: region, Interface: ep.Interface, Reason: reason,
			})
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
			template: template,
		})
	}
}

// family is the catalog types of one official type, and its regions.
type family struct {
	official string
	types    []string // catalog types, best first once build sorts them
	regions  []string // regions with an endpoint, "" (any region) first
}

// build fills the index from c.all in time linear in the number of
// endpoints: it visits each endpoint twice (to count, then to place) and
// makes one index entry per (query key, family region). A family has at
// most a handful of catalog types (the authority's aliases), so an entry
// has few tiers.
func (c *Catalog) build() {
	// Pass 1: one tier per (catalog type, region) and per (catalog type,
	// any region); count each tier's endpoints by interface.
	tierOf := map[indexKey]int{}
	var counts [][numInterfaces]int
	var families []*family
	familyOf := map[string]*family{}
	regions := map[string]bool{}
	// place holds, per endpoint, its region's tier (-1 if it has no
	// region) and its any-region tier.
	place := make([][2]int, len(c.all))
	for i := range c.all {
		s := &c.all[i]
		f := familyOf[s.ServiceType]
		if f == nil {
			f = &family{official: s.ServiceType, regions: []string{""}}
			familyOf[s.ServiceType] = f
			families = append(families, f)
		}
		place[i] = [2]int{-1, -1}
		for k, region := range [2]string{s.Region, ""} {
			if k == 0 && region == "" {
				continue // an endpoint without a region is found only by any-region queries
			}
			key := indexKey{s.CatalogType, region}
			t, ok := tierOf[key]
			if !ok {
				t = len(counts)
				tierOf[key] = t
				counts = append(counts, [numInterfaces]int{})
				if region == "" {
					f.types = append(f.types, s.CatalogType)
				} else {
					// A family of several types may list a region twice;
					// pass 3 removes the duplicates.
					f.regions = append(f.regions, region)
					regions[region] = true
				}
			}
			counts[t][s.Interface.index()]++
			place[i][k] = t
		}
	}

	// Pass 2: carve every tier's lists out of one array, then place the
	// endpoints in catalog order.
	total := 0
	for _, n := range counts {
		total += n[0] + n[1] + n[2]
	}
	backing := make([]*slot, total)
	tiers := make([]tier, len(counts))
	off := 0
	for t, n := range counts {
		for i, m := range n {
			tiers[t].byInterface[i] = backing[off : off : off+m]
			off += m
		}
	}
	for i := range c.all {
		iface := c.all[i].Interface.index()
		for _, t := range place[i] {
			if t >= 0 {
				tiers[t].byInterface[iface] = append(tiers[t].byInterface[iface], &c.all[i])
			}
		}
	}

	// Pass 3: each family's entries.
	size := 0
	for _, f := range families {
		// Authority order. A type the authority does not know is a family
		// of its own, so ties by name only guard determinism.
		slices.SortFunc(f.types, func(a, b string) int {
			return cmp.Or(cmp.Compare(rankOf(a), rankOf(b)), strings.Compare(a, b))
		})
		if len(f.types) > 1 {
			seen := make(map[string]bool, len(f.regions))
			f.regions = slices.DeleteFunc(f.regions, func(r string) bool {
				dup := seen[r]
				seen[r] = true
				return dup
			})
		}
		size += (1 + len(f.types)) * len(f.regions)
		c.types = append(c.types, f.official)
	}
	c.index = make(map[indexKey][]tier, size)
	for _, f := range families {
		c.indexFamily(f, tierOf, tiers)
	}
	slices.Sort(c.types)
	for r := range regions {
		c.regions = append(c.regions, r)
	}
	slices.Sort(c.regions)
}

// indexFamily adds f's entries to c.index. The official type and each type
// the catalog lists map, in each of f's regions, to the tiers of the catalog
// types to try, best first: the key itself if the catalog lists it, then the
// rest in authority order. The official type (and so every alias the
// catalog does not list) goes by the authority's order.
func (c *Catalog) indexFamily(f *family, tierOf map[indexKey]int, tiers []tier) {
	keys := map[string]int{f.official: 0}
	for j, t := range f.types {
		keys[t] = j
	}
	// present[j] is the tier of f.types[j] in the region at hand, if any.
	present := make([]*tier, len(f.types))
	// byOrder[j] is the tiers to try for key f.types[j]: its own, then the
	// others in authority order. byOrder[0] is the authority's order.
	byOrder := make([][]tier, len(f.types))
	// Each order lists a type at most once, so this is enough for all
	// regions.
	backing := make([]tier, 0, len(f.types)*len(f.types)*len(f.regions))
	for _, region := range f.regions {
		for j, t := range f.types {
			present[j] = nil
			if i, ok := tierOf[indexKey{t, region}]; ok {
				present[j] = &tiers[i]
			}
		}
		for j := range f.types {
			start := len(backing)
			if present[j] != nil {
				backing = append(backing, *present[j])
			}
			for k, p := range present {
				if k != j && p != nil {
					backing = append(backing, *p)
				}
			}
			byOrder[j] = backing[start:len(backing):len(backing)]
		}
		for key, j := range keys {
			c.index[indexKey{key, region}] = byOrder[j]
		}
	}
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
	tiers, ok := c.index[indexKey{typ, q.Region}]
	if !ok {
		if official, _, known := officialType(typ); known && official != typ {
			tiers = c.index[indexKey{official, q.Region}]
		}
	}
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
//
// With serviceTypes (official or alias), it lists only the regions that
// have an endpoint of one of them: Regions("compute") is where servers can
// be made, which leaves out the identity-only parent regions of a region
// tree (JP, holding TYO1 and OSA1).
func (c *Catalog) Regions(serviceTypes ...string) []string {
	if c == nil {
		return nil
	}
	if len(serviceTypes) == 0 {
		return slices.Clone(c.regions)
	}
	want := make([]string, len(serviceTypes))
	for i, t := range serviceTypes {
		want[i] = CanonicalType(t)
	}
	var out []string
	for i := range c.all {
		ep := &c.all[i].Endpoint
		if ep.Region != "" && slices.Contains(want, ep.ServiceType) && !slices.Contains(out, ep.Region) {
			out = append(out, ep.Region)
		}
	}
	slices.Sort(out)
	return out
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
func ambiguous(q Query, cands []*slot) error {
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

// substitute replaces the project placeholders of raw with id, in one pass,
// and reports whether a placeholder is left.
func substitute(raw, id string) (u string, template bool) {
	u = raw
	if id != "" && strings.Contains(raw, "(") {
		var b strings.Builder
		done := 0 // raw[:done] is in b
		for i := 1; i < len(raw); i++ {
			if raw[i] != '(' || (raw[i-1] != '$' && raw[i-1] != '%') {
				continue
			}
			for _, p := range projectPlaceholders() {
				if strings.HasPrefix(raw[i-1:], p) {
					if done == 0 {
						b.Grow(len(raw) + len(id))
					}
					b.WriteString(raw[done : i-1])
					b.WriteString(id)
					done = i - 1 + len(p)
					i = done - 1
					break
				}
			}
		}
		if done > 0 {
			b.WriteString(raw[done:])
			u = b.String()
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
	if plainURL(u) {
		return ""
	}
	return parsedURLProblem(u)
}

// parsedURLProblem is checkURL's judgement by url.Parse.
func parsedURLProblem(u string) string {
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

// plainURL reports whether u is an http or https URL of the plainest form,
// scheme://host[:port][/path], with a host of letters, digits, dots and
// hyphens and a path of printable ASCII without '%' (except in "%(" of a
// placeholder). url.Parse accepts every such URL, with that host and no
// user, so checkURL need not call it: most catalogs hold nothing else, and
// url.Parse is the better part of New's cost. plainURL never rejects a URL;
// whatever it does not accept goes through url.Parse.
func plainURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
		}
	}
	host, path, _ := strings.Cut(rest, "/")
	name, port, _ := strings.Cut(host, ":")
	if name == "" {
		return false
	}
	for i := range len(name) {
		if c := name[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for i := range len(port) {
		if c := port[i]; c < '0' || c > '9' {
			return false
		}
	}
	for i := range len(path) {
		c := path[i]
		if c <= ' ' || c >= 0x7f || (c == '%' && (i+1 == len(path) || path[i+1] != '(')) {
			return false
		}
	}
	return true
}

// quote quotes s for a message, cut to a sane length.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return strconv.Quote(s)
}
