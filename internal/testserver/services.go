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

// maxPageLimit is the page size used when a list request gives no limit,
// and the largest one honoured, as the services' max_limit.
const maxPageLimit = 1000

// serviceReq is one authenticated service request.
type serviceReq struct {
	tok     *token
	admin   bool
	region  string
	base    string // absolute URL of the service root, e.g. http://h/TYO1/compute
	rest    string // path after the API version prefix
	query   url.Values
	limit   int
	marker  string
	badPage bool
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
	loc := s.regionLoc[region]
	id := r.Header.Get("X-Auth-Token")
	t, ok := s.lookupToken(id, loc, false)
	if id == "" || !ok {
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.AuthURL(loc)+`"`)
		keystoneError(w, http.StatusUnauthorized, msgAuthRequired)
		return
	}
	if t.projectID == "" {
		serviceError(w, http.StatusForbidden, "A project-scoped token is required.")
		return
	}
	q := r.URL.Query()
	sr := &serviceReq{tok: t, admin: hasRole(t, RoleAdmin), region: region, base: base,
		rest: strings.TrimPrefix(rest, prefix), query: q, limit: maxPageLimit, marker: q.Get("marker")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			serviceError(w, http.StatusBadRequest, "limit must be a non-negative integer.")
			return
		}
		sr.limit = min(n, maxPageLimit)
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

// serviceError writes a nova/cinder-style fault body, e.g.
// {"itemNotFound":{"code":404,"message":"…"}}.
func serviceError(w http.ResponseWriter, status int, msg string) {
	key := map[int]string{
		http.StatusBadRequest: "badRequest", http.StatusForbidden: "forbidden",
		http.StatusNotFound: "itemNotFound", http.StatusConflict: "conflictingRequest",
	}[status]
	if key == "" {
		key = "computeFault"
	}
	writeJSON(w, status, map[string]any{key: map[string]any{"code": status, "message": msg}})
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
	end := min(start+limit, len(items))
	page = items[start:end]
	return page, limit > 0 && len(page) == limit, true
}

// nextLink returns the absolute URL of the page after marker.
func nextLink(path string, q url.Values, limit int, marker string) string {
	nq := url.Values{}
	for k, v := range q {
		nq[k] = slices.Clone(v)
	}
	nq.Set("limit", strconv.Itoa(limit))
	nq.Set("marker", marker)
	return path + "?" + nq.Encode()
}

func link(rel, href string) map[string]string { return map[string]string{"rel": rel, "href": href} }

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
		for _, f := range s.st.flavors {
			if f.ID == parts[1] {
				writeJSON(w, http.StatusOK, map[string]any{"flavor": flavorJSON(f, sr.base, true)})
				return
			}
		}
		serviceError(w, http.StatusNotFound, "Flavor "+parts[1]+" could not be found.")
	case parts[0] == "flavors" && len(parts) == 3 && parts[2] == "os-extra_specs" && get:
		for _, f := range s.st.flavors {
			if f.ID == parts[1] {
				writeJSON(w, http.StatusOK, map[string]any{"extra_specs": map[string]string{}})
				return
			}
		}
		serviceError(w, http.StatusNotFound, "Flavor "+parts[1]+" could not be found.")
	case parts[0] == "servers" && len(parts) == 1 && r.Method == http.MethodPost:
		s.createServer(w, r, sr)
	case parts[0] == "servers" && len(parts) == 2 && get:
		s.novaMu.RLock()
		sv, ok := s.servers[parts[1]]
		s.novaMu.RUnlock()
		if !ok || sv.region != sr.region || (sv.projectID != sr.tok.projectID && !sr.admin) {
			serviceError(w, http.StatusNotFound, "Instance "+parts[1]+" could not be found.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"server": s.serverJSON(sv, sr.base)})
	default:
		serviceError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func flavorJSON(f Flavor, base string, detail bool) map[string]any {
	self := base + "/v2.1/flavors/" + f.ID
	m := map[string]any{
		"id": f.ID, "name": f.Name, "description": nil,
		"links": []any{link("self", self), link("bookmark", strings.Replace(self, "/v2.1/", "/", 1))},
	}
	if detail {
		m["ram"], m["vcpus"], m["disk"], m["swap"] = f.RAM, f.VCPUs, f.Disk, ""
		m["OS-FLV-EXT-DATA:ephemeral"], m["OS-FLV-DISABLED:disabled"] = 0, false
		m["os-flavor-access:is_public"], m["rxtx_factor"] = f.IsPublic, 1.0
		m["extra_specs"] = map[string]string{}
	}
	return m
}

func (s *Server) listFlavors(w http.ResponseWriter, sr *serviceReq, detail bool) {
	isPublic := sr.query.Get("is_public")
	var items []Flavor
	for _, f := range s.st.flavors {
		switch {
		case isPublic == "" || strings.EqualFold(isPublic, "true"):
			if !f.IsPublic {
				continue
			}
		case strings.EqualFold(isPublic, "false"):
			if f.IsPublic || !sr.admin {
				continue
			}
		default: // "None": all, for admins
			if !f.IsPublic && !sr.admin {
				continue
			}
		}
		if n, err := strconv.Atoi(sr.query.Get("minRam")); err == nil && f.RAM < n {
			continue
		}
		if n, err := strconv.Atoi(sr.query.Get("minDisk")); err == nil && f.Disk < n {
			continue
		}
		items = append(items, f)
	}
	slices.SortFunc(items, func(a, b Flavor) int { return cmp.Compare(a.ID, b.ID) })
	page, next, ok := paginate(items, func(f Flavor) string { return f.ID }, sr.limit, sr.marker)
	if !ok {
		serviceError(w, http.StatusBadRequest, "marker ["+sr.marker+"] not found")
		return
	}
	out := map[string]any{}
	list := []any{}
	for _, f := range page {
		list = append(list, flavorJSON(f, sr.base, detail))
	}
	out["flavors"] = list
	if next {
		p := sr.base + "/v2.1/flavors"
		if detail {
			p += "/detail"
		}
		out["flavors_links"] = []any{link("next", nextLink(p, sr.query, sr.limit, page[len(page)-1].ID))}
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
		serviceError(w, http.StatusBadRequest, "Malformed request body.")
		return
	}
	b := body.Server
	if b.Name == "" {
		serviceError(w, http.StatusBadRequest, "Invalid input for field/attribute server. 'name' is a required property")
		return
	}
	if !slices.ContainsFunc(s.st.flavors, func(f Flavor) bool { return f.ID == b.FlavorRef }) {
		serviceError(w, http.StatusBadRequest, "Flavor "+b.FlavorRef+" could not be found.")
		return
	}
	if !slices.ContainsFunc(s.st.imageList(), func(im Image) bool {
		return im.ID == b.ImageRef && imageVisible(im, sr.tok.projectID, sr.admin, "")
	}) {
		serviceError(w, http.StatusBadRequest, "Image "+b.ImageRef+" could not be found.")
		return
	}
	var nets []struct {
		UUID string `json:"uuid"`
	}
	if len(b.Networks) > 0 && b.Networks[0] == '[' {
		if err := json.Unmarshal(b.Networks, &nets); err != nil {
			serviceError(w, http.StatusBadRequest, "Invalid networks.")
			return
		}
	}
	for _, n := range nets {
		if !slices.ContainsFunc(s.st.networks, func(nw Network) bool {
			return nw.ID == n.UUID && (nw.Shared || nw.ProjectID == sr.tok.projectID || sr.admin)
		}) {
			serviceError(w, http.StatusBadRequest, "Network "+n.UUID+" could not be found.")
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

// Glance.

// imageVisible applies glance's visibility rules for a project; filter is
// the visibility query parameter ("" for the default listing).
func imageVisible(im Image, project string, admin bool, filter string) bool {
	owned := im.Owner == project
	member := im.Members[project] == "accepted"
	switch filter {
	case "":
		if admin {
			return true
		}
		return im.Visibility == "public" || owned || (im.Visibility == "shared" && member)
	case "all":
		return admin || im.Visibility == "public" || im.Visibility == "community" || owned ||
			(im.Visibility == "shared" && member)
	case "public", "community":
		return im.Visibility == filter
	case "private":
		return im.Visibility == "private" && (owned || admin)
	case "shared":
		return im.Visibility == "shared" && (member || owned || admin)
	}
	return false
}

// glanceReserved are image list parameters that are not property filters.
var glanceReserved = map[string]bool{
	"limit": true, "marker": true, "sort": true, "sort_key": true, "sort_dir": true, "visibility": true,
	"member_status": true, "os_hidden": true, "tag": true, "size_min": true, "size_max": true,
	"created_at": true, "updated_at": true, "protected": true,
}

func (s *Server) serveGlance(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	parts := strings.Split(strings.Trim(sr.rest, "/"), "/")
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case parts[0] == "images" && len(parts) == 1 && get:
		s.listImages(w, sr)
	case parts[0] == "images" && len(parts) == 1 && r.Method == http.MethodPost:
		s.createImage(w, r, sr)
	case parts[0] == "images" && len(parts) == 2 && get:
		im, ok := s.visibleImage(sr, parts[1])
		if !ok {
			glanceNotFound(w, parts[1])
			return
		}
		writeJSON(w, http.StatusOK, s.imageJSON(im))
	case parts[0] == "images" && len(parts) == 2 && r.Method == http.MethodPatch:
		s.patchImage(w, r, sr, parts[1])
	case parts[0] == "images" && len(parts) == 2 && r.Method == http.MethodDelete:
		s.deleteImage(w, sr, parts[1])
	case parts[0] == "images" && len(parts) == 3 && parts[2] == "file" && r.Method == http.MethodPut:
		s.uploadImage(w, r, sr, parts[1])
	case parts[0] == "images" && len(parts) == 3 && parts[2] == "file" && get:
		s.downloadImage(w, r, sr, parts[1])
	default:
		serviceError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func (s *Server) imageJSON(im Image) map[string]any {
	status, size, checksum := "active", any(1<<30), any(nil)
	if d, ok := s.st.imageData(im.ID); ok {
		status, size, checksum = d.status, d.size, d.checksum
		if d.status == "queued" {
			size = nil
		}
	}
	diskFormat, containerFormat := cmp.Or(im.DiskFormat, "qcow2"), cmp.Or(im.ContainerFormat, "bare")
	m := map[string]any{
		"id": im.ID, "name": im.Name, "status": status, "visibility": im.Visibility, "owner": im.Owner,
		"protected": false, "os_hidden": false, "checksum": checksum, "size": size, "virtual_size": nil,
		"min_disk": 0, "min_ram": 0, "disk_format": diskFormat, "container_format": containerFormat, "tags": []string{},
		"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
		"self": "/v2/images/" + im.ID, "file": "/v2/images/" + im.ID + "/file", "schema": "/v2/schemas/image",
	}
	if d, ok := s.st.imageData(im.ID); ok && d.status == "active" {
		m["os_hash_algo"], m["os_hash_value"] = "sha512", d.hash
	}
	for k, v := range im.Properties {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return m
}

func (s *Server) listImages(w http.ResponseWriter, sr *serviceReq) {
	vis := sr.query.Get("visibility")
	switch vis {
	case "", "all", "public", "private", "shared", "community":
	default:
		serviceError(w, http.StatusBadRequest, "Invalid visibility value: "+vis)
		return
	}
	var items []Image
	for _, im := range s.st.imageList() {
		if !imageVisible(im, sr.tok.projectID, sr.admin, vis) {
			continue
		}
		match := true
		for k, vs := range sr.query {
			if glanceReserved[k] {
				continue
			}
			var have string
			switch k {
			case "name":
				have = im.Name
			case "owner":
				have = im.Owner
			case "id":
				have = im.ID
			case "status":
				have = "active"
			default:
				have = im.Properties[k]
			}
			if have != vs[0] {
				match = false
			}
		}
		if match {
			items = append(items, im)
		}
	}
	slices.SortFunc(items, func(a, b Image) int { return cmp.Compare(a.ID, b.ID) })
	page, next, ok := paginate(items, func(im Image) string { return im.ID }, sr.limit, sr.marker)
	if !ok {
		serviceError(w, http.StatusBadRequest, "marker not found")
		return
	}
	list := []any{}
	for _, im := range page {
		list = append(list, s.imageJSON(im))
	}
	out := map[string]any{"images": list, "schema": "/v2/schemas/images", "first": "/v2/images"}
	if next {
		out["next"] = nextLink("/v2/images", sr.query, sr.limit, page[len(page)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// Cinder.

func (s *Server) serveCinder(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	parts := strings.Split(strings.Trim(sr.rest, "/"), "/")
	if parts[0] != sr.tok.projectID && !sr.admin {
		serviceError(w, http.StatusForbidden, "Project ID in the URL does not match the token's project.")
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case len(parts) == 2 && parts[1] == "types" && get:
		var items []VolumeType
		for _, vt := range s.st.volumeTypes {
			if vt.IsPublic || sr.admin {
				items = append(items, vt)
			}
		}
		slices.SortFunc(items, func(a, b VolumeType) int { return cmp.Compare(a.ID, b.ID) })
		page, next, ok := paginate(items, func(v VolumeType) string { return v.ID }, sr.limit, sr.marker)
		if !ok {
			serviceError(w, http.StatusBadRequest, "Marker "+sr.marker+" could not be found.")
			return
		}
		list := []any{}
		for _, vt := range page {
			list = append(list, volumeTypeJSON(vt))
		}
		out := map[string]any{"volume_types": list}
		if next {
			out["volume_type_links"] = []any{link("next",
				nextLink(sr.base+"/v3/"+parts[0]+"/types", sr.query, sr.limit, page[len(page)-1].ID))}
		}
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 3 && parts[1] == "types" && get:
		for _, vt := range s.st.volumeTypes {
			if vt.ID == parts[2] && (vt.IsPublic || sr.admin) {
				writeJSON(w, http.StatusOK, map[string]any{"volume_type": volumeTypeJSON(vt)})
				return
			}
		}
		serviceError(w, http.StatusNotFound, "Volume type "+parts[2]+" could not be found.")
	default:
		serviceError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func volumeTypeJSON(vt VolumeType) map[string]any {
	return map[string]any{
		"id": vt.ID, "name": vt.Name, "description": vt.Description, "is_public": vt.IsPublic,
		"os-volume-type-access:is_public": vt.IsPublic, "extra_specs": map[string]string{}, "qos_specs_id": nil,
	}
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
				nextLink(sr.base+"/v2.0/networks", sr.query, sr.limit, page[len(page)-1].ID))}
		}
		writeJSON(w, http.StatusOK, out)
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
