package testserver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// glance is every region's image service: the images each region's Glance
// holds, with their data, and the imports in flight. Each region has its
// own images, as each real Glance has its own database and store; a seeded
// image without a Region is seeded in every region with the same id.
type glance struct {
	mu      sync.RWMutex
	regions map[string]map[string]*glanceImage // region → image id → image
	seq     int                                // the seq of the next image created

	algos   map[string]string   // region → hashing algorithm, where not sha512
	methods map[string][]string // region → import methods offered, where set
	discard bool                // Options.DiscardImageData

	// Imports run in goroutines the Server owns: ctx ends them on Close,
	// which waits for them.
	ctx     context.Context
	cancel  context.CancelFunc
	imports tasks
	fetch   *http.Client
}

// tasks counts the goroutines in flight. Unlike a sync.WaitGroup, it may be
// waited on while tasks start, and it refuses new ones once closed.
type tasks struct {
	mu     sync.Mutex
	idle   *sync.Cond
	n      int
	closed bool
}

// start counts a new task; it reports false once closed.
func (t *tasks) start() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tasks) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n--; t.n == 0 && t.idle != nil {
		t.idle.Broadcast()
	}
}

// wait blocks until no task is in flight; with close, it refuses new ones
// first.
func (t *tasks) wait(close bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = t.closed || close
	if t.idle == nil {
		t.idle = sync.NewCond(&t.mu)
	}
	for t.n > 0 {
		t.idle.Wait()
	}
}

// glanceImage is one image of one region. Its fields are guarded by
// glance.mu; its data is immutable once set.
type glanceImage struct {
	id         string
	seq        int     // creation order: the World's for seeded images, then the API's
	name       *string // nil: null
	owner      string
	visibility string
	status     string // queued, saving, importing, active, deactivated
	diskFormat string // "": null
	contFormat string // "": null
	minDisk    int
	minRAM     int
	protected  bool
	hidden     bool
	tags       []string
	props      map[string]string
	members    map[string]string

	// What an upload or import computed, and the data kept.
	hasData   bool
	size      int64
	checksum  string
	hashAlgo  string
	hashValue string
	data      func() io.Reader // nil: none kept (no data, or discarded)

	created, updated time.Time
}

// defaultImportMethods are the import methods the real Glance instances of
// CI offer (enabled_import_methods); only web-download is carried out here.
var defaultImportMethods = []string{"glance-direct", "web-download", "copy-image"}

// knownImportMethods are the methods Glance knows at all.
var knownImportMethods = []string{"glance-direct", "web-download", "copy-image", "glance-download"}

// Glance's enums of image formats (its image schema).
var (
	diskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	containerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
)

// glanceReadOnly are the image attributes only Glance sets.
var glanceReadOnly = []string{
	"id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
	"created_at", "updated_at", "self", "file", "schema", "direct_url", "locations",
}

// seededAt is the creation time of the i-th seeded image: one second
// apart, in World order, so that Glance's default order (newest first) is
// the reverse of the World's.
func seededAt(i int) time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
}

func newGlance(opts Options, regions []string, images []Image) (*glance, error) {
	ctx, cancel := context.WithCancel(context.Background())
	g := &glance{
		regions: make(map[string]map[string]*glanceImage, len(regions)),
		algos:   opts.ImageHashAlgos,
		seq:     len(images),
		methods: opts.ImportMethods,
		discard: opts.DiscardImageData,
		ctx:     ctx,
		cancel:  cancel,
		fetch:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	for r, algo := range opts.ImageHashAlgos {
		if !slices.Contains(regions, r) {
			cancel()
			return nil, fmt.Errorf("testserver: ImageHashAlgos names unknown region %q", r)
		}
		if newHash(algo) == nil {
			cancel()
			return nil, fmt.Errorf("testserver: unsupported image hashing algorithm %q for %s", algo, r)
		}
	}
	for _, r := range regions {
		g.regions[r] = make(map[string]*glanceImage)
	}
	for i, im := range images {
		in := regions
		if im.Region != "" {
			if !slices.Contains(regions, im.Region) {
				cancel()
				return nil, fmt.Errorf("testserver: image %q is in unknown region %q", im.Name, im.Region)
			}
			in = []string{im.Region}
		}
		data := ImageData{Size: 4 << 10, Seed: im.ID}
		if im.Data != nil {
			data = *im.Data
		}
		if data.Size < 0 {
			cancel()
			return nil, fmt.Errorf("testserver: image %q has a negative size", im.Name)
		}
		// One pass over the data per algorithm the regions use.
		sums := map[string]digest{}
		for _, r := range in {
			algo := g.algo(r)
			if _, ok := sums[algo]; !ok {
				d := newDigest(algo)
				if _, err := io.Copy(d, data.Reader()); err != nil {
					cancel()
					return nil, err
				}
				sums[algo] = *d
			}
		}
		for _, r := range in {
			d := sums[g.algo(r)]
			name := im.Name
			at := seededAt(i)
			gi := &glanceImage{
				id: im.ID, seq: i, name: &name, owner: im.Owner, visibility: im.Visibility, status: "active",
				diskFormat: cmp.Or(im.DiskFormat, "raw"), contFormat: cmp.Or(im.ContainerFormat, "bare"),
				minDisk: im.MinDisk, minRAM: im.MinRAM, tags: []string{},
				props: cloneMap(im.Properties), members: cloneMap(im.Members),
				hasData: true, size: d.n, checksum: d.md5Hex(), hashAlgo: d.algo, hashValue: d.hashHex(),
				data: data.Reader, created: at, updated: at,
			}
			if gi.props == nil {
				gi.props = map[string]string{}
			}
			g.regions[r][im.ID] = gi
		}
	}
	return g, nil
}

// close ends the imports in flight and waits for them.
func (g *glance) close() {
	g.cancel()
	g.imports.wait(true)
	g.fetch.CloseIdleConnections()
}

// algo is the hashing algorithm of region's Glance.
func (g *glance) algo(region string) string {
	return cmp.Or(g.algos[region], "sha512")
}

// importMethods are the import methods region's Glance offers.
func (g *glance) importMethods(region string) []string {
	if m, ok := g.methods[region]; ok {
		return m
	}
	return defaultImportMethods
}

// bootable reports whether project may boot a server from image id in
// region, as Nova asks Glance: the image is there, readable by the project
// and active.
func (g *glance) bootable(region, id, project string, admin bool) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	im, ok := g.regions[region][id]
	return ok && im.status == "active" && im.readable(project, admin)
}

// readable applies Glance's rule for reading one image (GET by id, its
// data, a change to it, booting it): public and community images are
// everyone's; a shared one is its members' whatever their status (pending
// included); a private one is its owner's only. Admins read everything.
// Listings have rules of their own (listed).
func (im *glanceImage) readable(project string, admin bool) bool {
	_, member := im.members[project]
	return admin || im.owner == project || im.visibility == "public" || im.visibility == "community" ||
		(im.visibility == "shared" && member)
}

// mayModify reports whether the request's project may change the image.
func (im *glanceImage) mayModify(sr *serviceReq) bool {
	return sr.admin || im.owner == sr.tok.projectID
}

// json is the image as Glance shows it, with the same keys: the custom
// properties at the top level, then the core attributes.
func (im *glanceImage) json() map[string]any {
	m := make(map[string]any, len(im.props)+24)
	for k, v := range im.props {
		m[k] = v
	}
	var size, virtual, checksum, algo, value any
	if im.hasData {
		size, checksum, algo, value = im.size, im.checksum, im.hashAlgo, im.hashValue
		if im.diskFormat == "raw" {
			virtual = im.size
		}
	}
	m["name"] = nullable(im.name)
	m["disk_format"], m["container_format"] = nullIfEmpty(im.diskFormat), nullIfEmpty(im.contFormat)
	m["visibility"], m["status"], m["owner"] = im.visibility, im.status, im.owner
	m["size"], m["virtual_size"], m["checksum"] = size, virtual, checksum
	m["os_hash_algo"], m["os_hash_value"] = algo, value
	m["protected"], m["os_hidden"] = im.protected, im.hidden
	m["min_ram"], m["min_disk"] = im.minRAM, im.minDisk
	m["id"], m["tags"] = im.id, slices.Clone(im.tags)
	m["created_at"], m["updated_at"] = im.created.Format(time.RFC3339), im.updated.Format(time.RFC3339)
	m["self"], m["file"], m["schema"] = "/v2/images/"+im.id, "/v2/images/"+im.id+"/file", "/v2/schemas/image"
	return m
}

func nullable(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// glanceWriter answers a Glance request, remembering whether the request
// accepts JSON: Glance writes its errors as JSON then, as an HTML page
// otherwise.
type glanceWriter struct {
	http.ResponseWriter
	json bool
}

// Unwrap lets http.ResponseController reach the connection (to flush).
func (gw glanceWriter) Unwrap() http.ResponseWriter { return gw.ResponseWriter }

// acceptsJSON reports whether r's Accept names application/json.
func acceptsJSON(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "application/json")
}

// glanceError writes Glance's error body, as webob renders it: for a
// request that accepts JSON {"message": "…<br /><br />\n\n\n", "code":
// "404 Not Found", "title": "Not Found"}, for any other an HTML page whose
// body is the message.
func glanceError(w http.ResponseWriter, status int, msg string) {
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	if gw, ok := w.(glanceWriter); ok && !gw.json {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(status)
		io.WriteString(w, "<html>\n <head>\n  <title>"+title+"</title>\n </head>\n <body>\n  <h1>"+title+"</h1>\n  "+msg+"<br /><br />\n\n\n\n </body>\n</html>")
		return
	}
	writeJSON(w, status, map[string]any{"message": msg + "<br /><br />\n\n\n", "code": title, "title": http.StatusText(status)})
}

// mediaType is a Content-Type without its parameters, as webob compares
// it.
func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(t))
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
		s.glance.mu.RLock()
		im, ok := s.glance.regions[sr.region][parts[1]]
		var body map[string]any
		if ok && im.readable(sr.tok.projectID, sr.admin) {
			body = im.json()
		}
		s.glance.mu.RUnlock()
		if body == nil {
			glanceError(w, http.StatusNotFound, "No image found with ID "+parts[1])
			return
		}
		writeJSON(w, http.StatusOK, body)
	case parts[0] == "images" && len(parts) == 2 && r.Method == http.MethodPatch:
		s.patchImage(w, r, sr, parts[1])
	case parts[0] == "images" && len(parts) == 2 && r.Method == http.MethodDelete:
		s.deleteImage(w, sr, parts[1])
	case parts[0] == "images" && len(parts) == 3 && parts[2] == "file" && r.Method == http.MethodPut:
		s.uploadImage(w, r, sr, parts[1])
	case parts[0] == "images" && len(parts) == 3 && parts[2] == "file" && get:
		s.downloadImage(w, r, sr, parts[1])
	case parts[0] == "images" && len(parts) == 3 && parts[2] == "import" && r.Method == http.MethodPost:
		s.importImage(w, r, sr, parts[1])
	case parts[0] == "info" && len(parts) == 2 && parts[1] == "import" && get:
		writeJSON(w, http.StatusOK, map[string]any{"import-methods": map[string]any{
			"description": "Import methods available.", "type": "array",
			"value": slices.Clone(s.glance.importMethods(sr.region)),
		}})
	case parts[0] == "info" && len(parts) == 2 && parts[1] == "stores" && get:
		glanceError(w, http.StatusNotFound, "Multi backend is not supported at this site.")
	default:
		glanceError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

// createImage answers POST /v2/images: a queued image without data, owned
// by the token's project, with Glance's checks of the body.
func (s *Server) createImage(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body == nil {
		glanceError(w, http.StatusBadRequest, "Body is not a JSON object.")
		return
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	im := &glanceImage{
		id: seedUUID("image", newID()), owner: sr.tok.projectID, visibility: "shared", status: "queued",
		tags: []string{}, props: map[string]string{}, created: now, updated: now,
	}
	for k, raw := range body {
		if status, msg := im.set(k, raw, sr, true); status != 0 {
			glanceError(w, status, msg)
			return
		}
	}
	s.glance.mu.Lock()
	if _, taken := s.glance.regions[sr.region][im.id]; taken {
		s.glance.mu.Unlock()
		glanceError(w, http.StatusConflict, "Image with identifier "+im.id+" already exists!")
		return
	}
	im.seq = s.glance.seq
	s.glance.seq++
	s.glance.regions[sr.region][im.id] = im
	out := im.json()
	s.glance.mu.Unlock()
	w.Header().Set("Location", sr.base+"/v2/images/"+im.id)
	w.Header().Set("OpenStack-image-import-methods", strings.Join(s.glance.importMethods(sr.region), ","))
	writeJSON(w, http.StatusCreated, out)
}

// set sets attribute k from a create body (creating) or a patch's value,
// with Glance's checks; it returns a status and message on refusal.
func (im *glanceImage) set(k string, raw json.RawMessage, sr *serviceReq, creating bool) (int, string) {
	str := func() (string, bool) {
		var v string
		return v, json.Unmarshal(raw, &v) == nil
	}
	schemaErr := func(want string) (int, string) {
		return http.StatusBadRequest, fmt.Sprintf("Provided object does not match schema 'image': %s is not of type '%s'", string(raw), want)
	}
	switch {
	case slices.Contains(glanceReadOnly, k) && !(creating && k == "id"):
		return http.StatusForbidden, "Attribute '" + k + "' is read-only."
	case strings.HasPrefix(k, "os_glance"):
		return http.StatusForbidden, "Attribute '" + k + "' is reserved."
	}
	switch k {
	case "id":
		v, ok := str()
		if !ok || len(v) != 36 || strings.Count(v, "-") != 4 {
			return http.StatusBadRequest, "Provided object does not match schema 'image': " + string(raw) + " is not a 'uuid'"
		}
		im.id = v
	case "name":
		if string(raw) == "null" {
			im.name = nil
			break
		}
		v, ok := str()
		if !ok {
			return schemaErr("string")
		}
		if len(v) > 255 {
			return http.StatusBadRequest, "Provided object does not match schema 'image': name is too long"
		}
		im.name = &v
	case "visibility":
		v, _ := str()
		switch v {
		case "public":
			if !sr.admin {
				return http.StatusForbidden, "You are not authorized to complete publicize_image action."
			}
		case "private", "shared", "community":
		default:
			return http.StatusBadRequest, "Provided object does not match schema 'image': " + string(raw) + " is not one of ['community', 'public', 'private', 'shared']"
		}
		im.visibility = v
	case "protected", "os_hidden":
		var v bool
		if json.Unmarshal(raw, &v) != nil {
			return schemaErr("boolean")
		}
		if k == "protected" {
			im.protected = v
		} else {
			im.hidden = v
		}
	case "tags":
		var v []string
		if json.Unmarshal(raw, &v) != nil {
			return schemaErr("array")
		}
		if v == nil {
			v = []string{}
		}
		im.tags = v
	case "min_disk", "min_ram":
		var v int
		if json.Unmarshal(raw, &v) != nil || v < 0 {
			return schemaErr("integer")
		}
		if k == "min_disk" {
			im.minDisk = v
		} else {
			im.minRAM = v
		}
	case "disk_format", "container_format":
		if !creating && im.status != "queued" {
			return http.StatusForbidden, "Attribute " + k + " can be only replaced for a queued image."
		}
		enum := diskFormats
		if k == "container_format" {
			enum = containerFormats
		}
		v := ""
		if string(raw) != "null" {
			var ok bool
			if v, ok = str(); !ok || !slices.Contains(enum, v) {
				return http.StatusBadRequest, "Provided object does not match schema 'image': " + string(raw) + " is not one of " + strings.Join(enum, ", ")
			}
		}
		if k == "disk_format" {
			im.diskFormat = v
		} else {
			im.contFormat = v
		}
	case "owner":
		v, ok := str()
		if !ok {
			return schemaErr("string")
		}
		if !sr.admin && v != sr.tok.projectID {
			return http.StatusForbidden, "You are not permitted to create images owned by '" + v + "'."
		}
		im.owner = v
	default:
		v, ok := str()
		if !ok {
			return schemaErr("string")
		}
		im.props[k] = v
	}
	return 0, ""
}

// patchImage answers PATCH /v2/images/{id} with a JSON patch (add, replace,
// remove), applied all or nothing.
func (s *Server) patchImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	if ct := r.Header.Get("Content-Type"); mediaType(ct) != "application/openstack-images-v2.1-json-patch" {
		glanceError(w, http.StatusUnsupportedMediaType, "The request media type "+ct+" is not supported by this server.")
		return
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ops); err != nil {
		glanceError(w, http.StatusBadRequest, "Request body must be a JSON array of operation objects.")
		return
	}
	g := s.glance
	g.mu.Lock()
	defer g.mu.Unlock()
	im, ok := g.regions[sr.region][id]
	if !ok || !im.readable(sr.tok.projectID, sr.admin) {
		glanceError(w, http.StatusNotFound, "No image found with ID "+id)
		return
	}
	if !im.mayModify(sr) {
		glanceError(w, http.StatusForbidden, "You are not permitted to modify image "+id+".")
		return
	}
	// Apply to a copy; commit only if every operation passes.
	next := *im
	next.props = cloneMap(im.props)
	for _, op := range ops {
		k, ok := strings.CutPrefix(op.Path, "/")
		if !ok || k == "" {
			glanceError(w, http.StatusBadRequest, "Invalid JSON pointer for this resource: '"+op.Path+"'")
			return
		}
		core := slices.Contains(glanceReadOnly, k) || strings.HasPrefix(k, "os_glance") || isCoreAttr(k)
		switch op.Op {
		case "add", "replace":
			if _, exists := next.props[k]; op.Op == "replace" && !core && !exists {
				glanceError(w, http.StatusConflict, "Property "+k+" does not exist.")
				return
			}
			if op.Value == nil {
				glanceError(w, http.StatusBadRequest, "Operation objects must contain a \"value\" member.")
				return
			}
			if status, msg := next.set(k, op.Value, sr, false); status != 0 {
				glanceError(w, status, msg)
				return
			}
		case "remove":
			if core {
				glanceError(w, http.StatusForbidden, "Attribute '"+k+"' is read-only.")
				return
			}
			if _, exists := next.props[k]; !exists {
				glanceError(w, http.StatusConflict, "Property "+k+" does not exist.")
				return
			}
			delete(next.props, k)
		default:
			glanceError(w, http.StatusBadRequest, "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
			return
		}
	}
	next.updated = s.clock.Now().UTC().Truncate(time.Second)
	*im = next
	writeJSON(w, http.StatusOK, im.json())
}

// isCoreAttr reports whether k is an image attribute rather than a custom
// property.
func isCoreAttr(k string) bool {
	switch k {
	case "name", "visibility", "protected", "os_hidden", "tags", "min_disk", "min_ram",
		"disk_format", "container_format", "owner":
		return true
	}
	return false
}

// deleteImage answers DELETE /v2/images/{id}. A delete in the middle of an
// upload or an import is allowed, as in Glance: the upload then answers
// 410 and the import is dropped.
func (s *Server) deleteImage(w http.ResponseWriter, sr *serviceReq, id string) {
	g := s.glance
	g.mu.Lock()
	im, ok := g.regions[sr.region][id]
	switch {
	case !ok || !im.readable(sr.tok.projectID, sr.admin):
		g.mu.Unlock()
		glanceError(w, http.StatusNotFound, "Failed to find image "+id+" to delete")
	case !im.mayModify(sr):
		g.mu.Unlock()
		glanceError(w, http.StatusForbidden, "You are not permitted to delete this image.")
	case im.protected:
		g.mu.Unlock()
		glanceError(w, http.StatusForbidden, "Image "+id+" is protected and cannot be deleted.")
	default:
		delete(g.regions[sr.region], id)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNoContent)
	}
}
