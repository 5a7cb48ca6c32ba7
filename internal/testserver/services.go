package testserver

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxPageLimit is the largest page size honoured, as the services'
// max_limit (Glance's api_limit_max), and the page size Nova, Cinder and
// Neutron use when a list request gives no limit.
const maxPageLimit = 1000

// glanceDefaultLimit is the page size Glance uses when a list request gives
// no limit (its limit_param_default).
const glanceDefaultLimit = 25

// serviceReq is one authenticated service request.
type serviceReq struct {
	tok    *token
	admin  bool
	region string
	base   string // absolute URL of the service root, e.g. http://h/TYO1/compute
	rest   string // path after the API version prefix
	query  url.Values
	raw    string // the raw query, whose order the services keep in links
	limit  int
	marker string
	micro  microversion // the compute microversion asked for
}

func (s *Server) serveService(w http.ResponseWriter, r *http.Request, svcType, region, iface, base, rest string) {
	prefix := map[string]string{"compute": "/v2.1", "image": "/v2", "volumev3": "/v3", "network": "/v2.0"}[svcType]
	if rest == "" || rest == "/" || rest == prefix || rest == prefix+"/" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			serviceError(w, http.StatusMethodNotAllowed, "Method not allowed.")
			return
		}
		writeVersions(w, svcType, base, rest != "" && rest != "/")
		return
	}
	if !strings.HasPrefix(rest, prefix+"/") {
		serviceError(w, http.StatusNotFound, "The resource could not be found.")
		return
	}
	t, ok := s.serviceCaller(w, r, s.regionLoc[region])
	if !ok {
		return
	}
	if t.projectID == "" {
		serviceError(w, http.StatusForbidden, "A project-scoped token is required.")
		return
	}
	q := r.URL.Query()
	sr := &serviceReq{tok: t, admin: hasRole(t, RoleAdmin), region: region, base: base,
		rest: strings.TrimPrefix(rest, prefix), query: q, raw: r.URL.RawQuery, limit: maxPageLimit, marker: q.Get("marker")}
	if svcType == "image" {
		sr.limit = glanceDefaultLimit
		w = glanceWriter{w, acceptsJSON(r)}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		switch {
		case svcType == "image" && err != nil:
			glanceError(w, http.StatusBadRequest, "limit param must be an integer")
			return
		case svcType == "image" && n < 0:
			glanceError(w, http.StatusBadRequest, "limit param must be positive")
			return
		case err != nil || n < 0:
			serviceError(w, http.StatusBadRequest, "limit must be a non-negative integer.")
			return
		}
		sr.limit = min(n, maxPageLimit)
	}
	if svcType == "compute" {
		sr.micro = computeMicroversion(r.Header)
	}
	switch svcType {
	case "compute":
		s.serveNova(w, r, sr)
	case "image":
		s.serveGlance(w, r, sr)
	case "volumev3":
		s.serveCinder(w, r, sr)
	case "network":
		s.serveNeutron(w, r, sr)
	}
}

// writeVersions answers version discovery at a service root (all versions)
// or at its versioned root (that version).
func writeVersions(w http.ResponseWriter, svcType, base string, single bool) {
	type v struct {
		ID, Status, Version, MinVersion, Path string
	}
	ver := map[string]v{
		"compute":  {"v2.1", "CURRENT", "2.96", "2.1", "/v2.1/"},
		"image":    {"v2.17", "CURRENT", "", "", "/v2/"},
		"volumev3": {"v3.0", "CURRENT", "3.70", "3.0", "/v3/"},
		"network":  {"v2.0", "CURRENT", "", "", "/v2.0/"},
	}[svcType]
	doc := map[string]any{
		"id": ver.ID, "status": ver.Status, "version": ver.Version, "min_version": ver.MinVersion,
		"updated": "2024-01-01T00:00:00Z",
		"links":   []any{map[string]string{"rel": "self", "href": base + ver.Path}},
	}
	if single {
		writeJSON(w, http.StatusOK, map[string]any{"version": doc})
		return
	}
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{doc}})
}

// novaError writes Nova's fault body, which Nova sends with a charset in
// its Content-Type, unlike its other answers and Cinder's faults.
func novaError(w http.ResponseWriter, status int, msg string) {
	b, err := json.Marshal(faultBody(status, msg))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

// serviceError writes a nova/cinder-style fault body, e.g.
// {"itemNotFound":{"code":404,"message":"…"}}.
func serviceError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, faultBody(status, msg))
}

func faultBody(status int, msg string) map[string]any {
	key := map[int]string{
		http.StatusBadRequest: "badRequest", http.StatusForbidden: "forbidden",
		http.StatusNotFound: "itemNotFound", http.StatusConflict: "conflictingRequest",
	}[status]
	if key == "" {
		key = "computeFault"
	}
	return map[string]any{key: map[string]any{"code": status, "message": msg}}
}

// paginate returns the page after marker of at most limit items, and
// whether a next link is due (the page is full, as the services do). It
// reports ok=false for an unknown marker.
func paginate[T any](items []T, id func(T) string, limit int, marker string) (page []T, next bool, ok bool) {
	start := 0
	if marker != "" {
		i := slices.IndexFunc(items, func(it T) bool { return id(it) == marker })
		if i < 0 {
			return nil, false, false
		}
		start = i + 1
	}
	return pageFrom(items, start, limit)
}

// pageFrom returns the page of at most limit items from start, and whether
// a next link is due: the page is full, so a listing whose last page is
// full ends with an empty one, as with every real service.
func pageFrom[T any](items []T, start, limit int) (page []T, next bool, ok bool) {
	end := min(start+limit, len(items))
	page = items[start:end]
	return page, limit > 0 && len(page) == limit, true
}

// nextLink returns Neutron's absolute URL of the page after marker: the
// request's parameters, sorted, with the marker set.
func nextLink(path string, q url.Values, marker string) string {
	nq := url.Values{}
	for k, v := range q {
		nq[k] = slices.Clone(v)
	}
	nq.Set("marker", marker)
	return path + "?" + nq.Encode()
}

// queryPair is one parameter of a raw query, decoded.
type queryPair struct{ k, v string }

// queryPairs decodes a raw query in its order, skipping what does not
// decode.
func queryPairs(raw string) []queryPair {
	var out []queryPair
	for kv := range strings.SplitSeq(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil {
			out = append(out, queryPair{k, v})
		}
	}
	return out
}

func encodePairs(ps []queryPair) string {
	var b strings.Builder
	for _, p := range ps {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k) + "=" + url.QueryEscape(p.v))
	}
	return b.String()
}

// glanceQuery re-encodes a raw query as Glance builds its links from it:
// in its order, one value per parameter (the last, at the place of the
// first), without the marker.
func glanceQuery(raw string) string {
	var out []queryPair
	for _, p := range queryPairs(raw) {
		if p.k == "marker" {
			continue
		}
		if i := slices.IndexFunc(out, func(o queryPair) bool { return o.k == p.k }); i >= 0 {
			out[i].v = p.v
			continue
		}
		out = append(out, p)
	}
	return encodePairs(out)
}

// cinderQuery re-encodes a raw query as Cinder builds its next links from
// it: in its order, without the marker.
func cinderQuery(raw string) string {
	ps := slices.DeleteFunc(queryPairs(raw), func(p queryPair) bool { return p.k == "marker" })
	return encodePairs(ps)
}

// withMarker appends marker to a re-encoded query.
func withMarker(q, marker string) string {
	if q != "" {
		q += "&"
	}
	return q + "marker=" + url.QueryEscape(marker)
}

// novaNextLink returns Nova's absolute URL of the page after marker: the
// request's parameters sorted by name, the marker in its place among them
// if the request had one, else last.
func novaNextLink(path, raw, marker string) string {
	ps := queryPairs(raw)
	slices.SortStableFunc(ps, func(a, b queryPair) int { return cmp.Compare(a.k, b.k) })
	if i := slices.IndexFunc(ps, func(p queryPair) bool { return p.k == "marker" }); i >= 0 {
		ps[i].v = marker
	} else {
		ps = append(ps, queryPair{"marker", marker})
	}
	return path + "?" + encodePairs(ps)
}

func link(rel, href string) map[string]string { return map[string]string{"rel": rel, "href": href} }

// microversion is a compute API microversion, 2.x.
type microversion int

// computeMicroversion reads the microversion a compute request asks for;
// without one, Nova serves 2.1.
func computeMicroversion(h http.Header) microversion {
	v := h.Get("X-OpenStack-Nova-API-Version")
	if s, ok := strings.CutPrefix(h.Get("OpenStack-API-Version"), "compute "); ok {
		v = s
	}
	if minor, ok := strings.CutPrefix(strings.TrimSpace(v), "2."); ok {
		if n, err := strconv.Atoi(minor); err == nil {
			return microversion(n)
		}
	}
	return 1
}

// hasAccess reports whether project may use a private flavor or volume
// type whose access list is access.
func hasAccess(access []string, project string) bool { return slices.Contains(access, project) }

// publicFilter applies Nova's and Cinder's is_public rule: members always
// get the public items and the private ones their project has access to;
// admins get those by default, only the private ones for "false" and every
// item for "none".
func publicFilter(isPublic bool, access []string, project string, admin bool, param string) bool {
	if admin {
		switch strings.ToLower(param) {
		case "false":
			return !isPublic
		case "none":
			return true
		}
	}
	return isPublic || hasAccess(access, project)
}

// Nova.

// novaServer is a server created through POST /servers.
type novaServer struct {
	id, name, projectID, userID, flavorID, imageID, region string
	metadata                                               map[string]string
	created                                                time.Time
}

func (s *Server) serveNova(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	parts := strings.Split(strings.Trim(sr.rest, "/"), "/")
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case parts[0] == "flavors" && len(parts) == 1 && get:
		s.listFlavors(w, sr, false)
	case parts[0] == "flavors" && len(parts) == 2 && parts[1] == "detail" && get:
		s.listFlavors(w, sr, true)
	case parts[0] == "flavors" && len(parts) == 2 && get:
		// Nova finds a private flavor only for the projects with access.
		for _, f := range s.st.flavors {
			if f.ID == parts[1] && (f.IsPublic || sr.admin || hasAccess(f.Access, sr.tok.projectID)) {
				writeJSON(w, http.StatusOK, map[string]any{"flavor": flavorJSON(f, sr.base, true, sr.micro)})
				return
			}
		}
		novaError(w, http.StatusNotFound, "Flavor "+parts[1]+" could not be found.")
	case parts[0] == "flavors" && len(parts) == 3 && parts[2] == "os-extra_specs" && get:
		for _, f := range s.st.flavors {
			if f.ID == parts[1] {
				writeJSON(w, http.StatusOK, map[string]any{"extra_specs": map[string]string{}})
				return
			}
		}
		novaError(w, http.StatusNotFound, "Flavor "+parts[1]+" could not be found.")
	case parts[0] == "servers" && len(parts) == 1 && r.Method == http.MethodPost:
		s.createServer(w, r, sr)
	case parts[0] == "servers" && (len(parts) == 1 || len(parts) == 2 && parts[1] == "detail") && get:
		s.listServers(w, sr)
	case parts[0] == "servers" && len(parts) == 2 && r.Method == http.MethodDelete:
		s.deleteServer(w, sr, parts[1])
	case parts[0] == "servers" && len(parts) == 2 && get:
		s.novaMu.RLock()
		sv, ok := s.servers[parts[1]]
		s.novaMu.RUnlock()
		if !ok || sv.region != sr.region || (sv.projectID != sr.tok.projectID && !sr.admin) {
			novaError(w, http.StatusNotFound, "Instance "+parts[1]+" could not be found.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"server": s.serverJSON(sv, sr.base)})
	default:
		novaError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

// flavorJSON renders a flavor as Nova does at microversion mv: description
// from 2.55, extra_specs (in detail) from 2.61.
func flavorJSON(f Flavor, base string, detail bool, mv microversion) map[string]any {
	self := base + "/v2.1/flavors/" + f.ID
	m := map[string]any{
		"id": f.ID, "name": f.Name,
		"links": []any{link("self", self), link("bookmark", strings.Replace(self, "/v2.1/", "/", 1))},
	}
	if mv >= 55 {
		m["description"] = nil
	}
	if detail {
		m["ram"], m["vcpus"], m["disk"], m["swap"] = f.RAM, f.VCPUs, f.Disk, ""
		m["OS-FLV-EXT-DATA:ephemeral"], m["OS-FLV-DISABLED:disabled"] = 0, false
		m["os-flavor-access:is_public"], m["rxtx_factor"] = f.IsPublic, 1.0
		if mv >= 61 {
			m["extra_specs"] = map[string]string{}
		}
	}
	return m
}

func (s *Server) listFlavors(w http.ResponseWriter, sr *serviceReq, detail bool) {
	var items []Flavor
	for _, f := range s.st.flavors {
		if !publicFilter(f.IsPublic, f.Access, sr.tok.projectID, sr.admin, sr.query.Get("is_public")) {
			continue
		}
		if n, err := strconv.Atoi(sr.query.Get("minRam")); err == nil && f.RAM < n {
			continue
		}
		if n, err := strconv.Atoi(sr.query.Get("minDisk")); err == nil && f.Disk < n {
			continue
		}
		items = append(items, f)
	}
	slices.SortFunc(items, func(a, b Flavor) int { return cmp.Compare(a.ID, b.ID) }) // Nova: flavorid ascending
	page, next, ok := paginate(items, func(f Flavor) string { return f.ID }, sr.limit, sr.marker)
	if !ok {
		novaError(w, http.StatusBadRequest, "marker ["+sr.marker+"] not found")
		return
	}
	out := map[string]any{}
	list := []any{}
	for _, f := range page {
		list = append(list, flavorJSON(f, sr.base, detail, sr.micro))
	}
	out["flavors"] = list
	if next {
		p := sr.base + "/v2.1/flavors"
		if detail {
			p += "/detail"
		}
		out["flavors_links"] = []any{link("next", novaNextLink(p, sr.raw, page[len(page)-1].ID))}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createServer(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	var body struct {
		Server *struct {
			Name      string            `json:"name"`
			ImageRef  string            `json:"imageRef"`
			FlavorRef string            `json:"flavorRef"`
			Networks  json.RawMessage   `json:"networks"`
			Metadata  map[string]string `json:"metadata"`
		} `json:"server"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Server == nil {
		novaError(w, http.StatusBadRequest, "Malformed request body.")
		return
	}
	b := body.Server
	if b.Name == "" {
		novaError(w, http.StatusBadRequest, "Invalid input for field/attribute server. 'name' is a required property")
		return
	}
	if !slices.ContainsFunc(s.st.flavors, func(f Flavor) bool { return f.ID == b.FlavorRef }) {
		novaError(w, http.StatusBadRequest, "Flavor "+b.FlavorRef+" could not be found.")
		return
	}
	if ok, err := s.imageUsable(r.Context(), sr, b.ImageRef); err != nil {
		serviceError(w, http.StatusServiceUnavailable, "The image service cannot be reached.")
		return
	} else if !ok {
		novaError(w, http.StatusBadRequest, "Image "+b.ImageRef+" could not be found.")
		return
	}
	var nets []struct {
		UUID string `json:"uuid"`
	}
	if len(b.Networks) > 0 && b.Networks[0] == '[' {
		if err := json.Unmarshal(b.Networks, &nets); err != nil {
			novaError(w, http.StatusBadRequest, "Invalid networks.")
			return
		}
	}
	for _, n := range nets {
		if !slices.ContainsFunc(s.st.networks, func(nw Network) bool {
			return nw.ID == n.UUID && (nw.Shared || nw.ProjectID == sr.tok.projectID || sr.admin)
		}) {
			novaError(w, http.StatusBadRequest, "Network "+n.UUID+" could not be found.")
			return
		}
	}
	sv := &novaServer{id: seedUUID("server", newID()), name: b.Name, projectID: sr.tok.projectID,
		userID: sr.tok.userID, flavorID: b.FlavorRef, imageID: b.ImageRef, region: sr.region,
		metadata: b.Metadata, created: s.clock.Now().UTC().Truncate(time.Second)}
	s.novaMu.Lock()
	s.servers[sv.id] = sv
	s.novaMu.Unlock()
	self := sr.base + "/v2.1/servers/" + sv.id
	w.Header().Set("Location", self)
	writeJSON(w, http.StatusAccepted, map[string]any{"server": map[string]any{
		"id": sv.id, "OS-DCF:diskConfig": "MANUAL", "adminPass": newAuditID(),
		"security_groups": []any{map[string]string{"name": "default"}},
		"links":           []any{link("self", self), link("bookmark", strings.Replace(self, "/v2.1/", "/", 1))},
	}})
}

func (s *Server) serverJSON(sv *novaServer, base string) map[string]any {
	self := base + "/v2.1/servers/" + sv.id
	md := sv.metadata
	if md == nil {
		md = map[string]string{}
	}
	ts := sv.created.Format(time.RFC3339)
	return map[string]any{
		"id": sv.id, "name": sv.name, "status": "ACTIVE", "tenant_id": sv.projectID, "user_id": sv.userID,
		"created": ts, "updated": ts, "hostId": "", "progress": 0, "accessIPv4": "", "accessIPv6": "",
		"image":     map[string]any{"id": sv.imageID, "links": []any{link("bookmark", base+"/images/"+sv.imageID)}},
		"flavor":    map[string]any{"id": sv.flavorID, "links": []any{link("bookmark", base+"/flavors/"+sv.flavorID)}},
		"addresses": map[string]any{}, "metadata": md, "key_name": nil,
		"OS-EXT-AZ:availability_zone": "nova", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:power_state": 1,
		"security_groups": []any{map[string]string{"name": "default"}},
		"links":           []any{link("self", self), link("bookmark", strings.Replace(self, "/v2.1/", "/", 1))},
	}
}

// Cinder.

// cinderDefaultType is the name of Cinder's own default volume type.
const cinderDefaultType = "__DEFAULT__"

func (s *Server) serveCinder(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	parts := strings.Split(strings.Trim(sr.rest, "/"), "/")
	if parts[0] != sr.tok.projectID && !sr.admin {
		serviceError(w, http.StatusForbidden, "Project ID in the URL does not match the token's project.")
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case len(parts) == 2 && parts[1] == "types" && get:
		// Newest first, as Cinder's default created_at descending.
		var items []VolumeType
		for i := len(s.st.volumeTypes) - 1; i >= 0; i-- {
			vt := s.st.volumeTypes[i]
			if publicFilter(vt.IsPublic, vt.Access, sr.tok.projectID, sr.admin, sr.query.Get("is_public")) {
				items = append(items, vt)
			}
		}
		// Cinder starts over from the first page for a marker it does not
		// know.
		page, next, ok := paginate(items, func(v VolumeType) string { return v.ID }, sr.limit, sr.marker)
		if !ok {
			page, next, _ = pageFrom(items, 0, sr.limit)
		}
		list := []any{}
		for _, vt := range page {
			list = append(list, volumeTypeJSON(vt, sr.admin, true))
		}
		out := map[string]any{"volume_types": list}
		if next {
			out["volume_type_links"] = []any{link("next",
				sr.base+"/v3/"+parts[0]+"/types?"+withMarker(cinderQuery(sr.raw), page[len(page)-1].ID))}
		}
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 3 && parts[1] == "types" && get:
		for _, vt := range s.st.volumeTypes {
			if parts[2] == "default" && vt.Name == cinderDefaultType {
				// Cinder's alias for its default type, rendered without
				// the type-access attribute.
				writeJSON(w, http.StatusOK, map[string]any{"volume_type": volumeTypeJSON(vt, sr.admin, false)})
				return
			}
			if vt.ID == parts[2] && (vt.IsPublic || sr.admin || hasAccess(vt.Access, sr.tok.projectID)) {
				writeJSON(w, http.StatusOK, map[string]any{"volume_type": volumeTypeJSON(vt, sr.admin, true)})
				return
			}
		}
		serviceError(w, http.StatusNotFound, "Volume type "+parts[2]+" could not be found.")
	default:
		serviceError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

// volumeTypeJSON renders a volume type as Cinder does: a null description
// when it has none, qos_specs_id for admins only.
func volumeTypeJSON(vt VolumeType, admin, access bool) map[string]any {
	m := map[string]any{"id": vt.ID, "name": vt.Name, "description": nil, "is_public": vt.IsPublic, "extra_specs": map[string]string{}}
	if vt.Description != "" {
		m["description"] = vt.Description
	}
	if access {
		m["os-volume-type-access:is_public"] = vt.IsPublic
	}
	if admin {
		m["qos_specs_id"] = nil
	}
	return m
}

// Neutron.

func (s *Server) serveNeutron(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	parts := strings.Split(strings.Trim(sr.rest, "/"), "/")
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	visible := func(n Network) bool { return n.Shared || n.External || n.ProjectID == sr.tok.projectID || sr.admin }
	switch {
	case parts[0] == "networks" && len(parts) == 1 && get:
		var items []Network
		for _, n := range s.st.networks {
			if !visible(n) {
				continue
			}
			if v := sr.query.Get("name"); v != "" && v != n.Name {
				continue
			}
			if v := sr.query.Get("project_id"); v != "" && v != n.ProjectID {
				continue
			}
			items = append(items, n)
		}
		slices.SortFunc(items, func(a, b Network) int { return cmp.Compare(a.ID, b.ID) })
		page, next, ok := paginate(items, func(n Network) string { return n.ID }, sr.limit, sr.marker)
		if !ok {
			serviceError(w, http.StatusNotFound, "Network "+sr.marker+" could not be found.")
			return
		}
		list := []any{}
		for _, n := range page {
			list = append(list, networkJSON(n))
		}
		out := map[string]any{"networks": list}
		if next {
			out["networks_links"] = []any{link("next",
				nextLink(sr.base+"/v2.0/networks", sr.query, page[len(page)-1].ID))}
		}
		writeJSON(w, http.StatusOK, out)
	case parts[0] == "ports" && len(parts) == 1 && get:
		listPorts(w)
	case parts[0] == "networks" && len(parts) == 2 && get:
		for _, n := range s.st.networks {
			if n.ID == parts[1] && visible(n) {
				writeJSON(w, http.StatusOK, map[string]any{"network": networkJSON(n)})
				return
			}
		}
		serviceError(w, http.StatusNotFound, "Network "+parts[1]+" could not be found.")
	default:
		serviceError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func networkJSON(n Network) map[string]any {
	return map[string]any{
		"id": n.ID, "name": n.Name, "tenant_id": n.ProjectID, "project_id": n.ProjectID,
		"shared": n.Shared, "router:external": n.External, "admin_state_up": true, "status": "ACTIVE",
		"subnets": []string{}, "availability_zones": []string{"nova"}, "mtu": 1450,
	}
}
