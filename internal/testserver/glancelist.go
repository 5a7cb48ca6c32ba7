package testserver

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GET /v2/images, as Glance 25 answers it: the listing rules of
// visibility and member_status, the field, property, tag, size, time,
// protected and os_hidden filters, the sort order, and paging by marker.
// internal/conformance checks it against the real Glance.

// listed applies Glance's listing rules for a project: vis is the
// visibility parameter ("" for the default listing), status the
// member_status parameter ("" meaning accepted).
//
// The default listing holds the public images, the project's own (community
// ones included) and the shared images whose membership has that status;
// other projects' community images only appear with visibility=community or
// all. An admin's default listing holds every image but other projects'
// community ones.
func (im *glanceImage) listed(project string, admin bool, vis, status string) bool {
	owned := im.owner == project
	if status == "" {
		status = "accepted"
	}
	st, isMember := im.members[project]
	member := im.visibility == "shared" && isMember && (status == "all" || st == status)
	switch vis {
	case "":
		if admin {
			return im.visibility != "community" || owned
		}
		return im.visibility == "public" || owned || member
	case "all":
		return admin || im.visibility == "public" || im.visibility == "community" || owned || member
	case "public", "community":
		return im.visibility == vis
	case "private":
		return im.visibility == "private" && (owned || admin)
	case "shared":
		return im.visibility == "shared" && (owned || member || admin)
	}
	return false
}

// glanceReserved are image list parameters that are not equality filters
// on a field or a custom property.
var glanceReserved = map[string]bool{
	"limit": true, "marker": true, "sort": true, "sort_key": true, "sort_dir": true, "visibility": true,
	"member_status": true, "os_hidden": true, "tag": true, "size_min": true, "size_max": true,
	"created_at": true, "updated_at": true, "protected": true,
}

// glanceInFilters are the image fields whose filters accept the
// "in:a,b,c" form; any other filter is an exact match only.
var glanceInFilters = map[string]bool{"name": true, "id": true, "status": true, "container_format": true, "disk_format": true}

// last returns the last value of a parameter, the one Glance reads.
func last(q url.Values, k string) string {
	vs := q[k]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// listFilter is what a list request keeps of the images, besides the
// listing rules.
type listFilter struct {
	hidden           bool
	protected        *bool
	tags             []string // every one of them
	sizeMin, sizeMax *int64
	times            []timeFilter
	fields           url.Values // field and property filters
}

// timeFilter is a created_at or updated_at filter, "gte:2024-01-01T00:00:00Z".
type timeFilter struct {
	updated bool
	op      string
	at      time.Time
}

// holds reports whether a time that compares c to the filter's passes.
func (t timeFilter) holds(c int) bool {
	switch t.op {
	case "lt":
		return c < 0
	case "lte":
		return c <= 0
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "eq":
		return c == 0
	}
	return c != 0 // neq
}

// glanceTimeOps are the operators of Glance's time filters.
var glanceTimeOps = []string{"lt", "lte", "gt", "gte", "eq", "neq"}

// parseListFilter reads a list request's filters; on a bad one it returns
// Glance's message.
func parseListFilter(q url.Values) (listFilter, string) {
	f := listFilter{tags: q["tag"], fields: url.Values{}}
	for _, k := range []string{"os_hidden", "protected"} {
		if !q.Has(k) {
			continue
		}
		v := last(q, k)
		var b bool
		switch strings.ToLower(v) {
		case "true":
			b = true
		case "false":
		default:
			return f, "Invalid value '" + v + "' for '" + k + "' filter. Valid values are 'true' or 'false'."
		}
		if k == "os_hidden" {
			f.hidden = b
		} else {
			f.protected = &b
		}
	}
	for _, k := range []string{"size_min", "size_max"} {
		if !q.Has(k) {
			continue
		}
		n, err := strconv.ParseInt(last(q, k), 10, 64)
		if err != nil {
			return f, "Unable to filter on a range with a non-numeric value."
		}
		if k == "size_min" {
			f.sizeMin = &n
		} else {
			f.sizeMax = &n
		}
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if !q.Has(k) {
			continue
		}
		// A bare time is "eq:" that time; otherwise the operator is
		// what comes before the first colon.
		expr := last(q, k)
		op, threshold := "eq", expr
		if _, ok := isoTime(expr); !ok {
			if o, rest, cut := strings.Cut(expr, ":"); cut {
				op, threshold = o, rest
			}
		}
		if !slices.Contains(glanceTimeOps, op) {
			return f, "Unable to filter on a unknown operator."
		}
		at, ok := isoTime(threshold)
		if !ok {
			return f, `Bad "` + k + `" query filter format. Use ISO 8601 DateTime notation.`
		}
		f.times = append(f.times, timeFilter{updated: k == "updated_at", op: op, at: at})
	}
	for k := range q {
		if !glanceReserved[k] {
			f.fields.Set(k, last(q, k))
		}
	}
	return f, ""
}

// isoTime parses an ISO 8601 date or date and time; one without a zone
// is UTC.
func isoTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// field returns the value of an image field or custom property as a
// filter compares it; false for null or absent.
func (im *glanceImage) field(k string) (string, bool) {
	switch k {
	case "name":
		if im.name == nil {
			return "", false
		}
		return *im.name, true
	case "owner":
		return im.owner, true
	case "id":
		return im.id, true
	case "status":
		return im.status, true
	case "container_format":
		return im.contFormat, im.contFormat != ""
	case "disk_format":
		return im.diskFormat, im.diskFormat != ""
	case "min_disk":
		return strconv.Itoa(im.minDisk), true
	case "min_ram":
		return strconv.Itoa(im.minRAM), true
	case "size":
		return strconv.FormatInt(im.size, 10), im.hasData
	case "virtual_size":
		return strconv.FormatInt(im.size, 10), im.hasData && im.diskFormat == "raw"
	case "checksum":
		return im.checksum, im.hasData
	case "os_hash_algo":
		return im.hashAlgo, im.hasData
	case "os_hash_value":
		return im.hashValue, im.hasData
	}
	v, ok := im.props[k]
	return v, ok
}

// keeps reports whether the image passes the filters.
func (f *listFilter) keeps(im *glanceImage) bool {
	if im.hidden != f.hidden || (f.protected != nil && im.protected != *f.protected) {
		return false
	}
	for _, t := range f.tags {
		if !slices.Contains(im.tags, t) {
			return false
		}
	}
	if (f.sizeMin != nil || f.sizeMax != nil) && !im.hasData {
		return false
	}
	if (f.sizeMin != nil && im.size < *f.sizeMin) || (f.sizeMax != nil && im.size > *f.sizeMax) {
		return false
	}
	for _, t := range f.times {
		at := im.created
		if t.updated {
			at = im.updated
		}
		if !t.holds(at.Compare(t.at)) {
			return false
		}
	}
	for k, vs := range f.fields {
		have, ok := im.field(k)
		want := vs[0]
		if list, in := strings.CutPrefix(want, "in:"); in && glanceInFilters[k] {
			if !ok || !slices.Contains(strings.Split(list, ","), have) {
				return false
			}
			continue
		}
		if !ok || have != want {
			return false
		}
	}
	return true
}

// sortKey is one key of an image listing's order.
type sortKey struct {
	key  string
	desc bool
}

// glanceSortKeys are the keys Glance sorts images by.
var glanceSortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

// glanceOrder reads the order a list request asks for (sort=k:dir,... or
// sort_key and sort_dir) and completes it as Glance does, with created_at
// and id, newest first.
func glanceOrder(q url.Values) ([]sortKey, string) {
	var keys []sortKey
	add := func(k, dir string) string {
		if !slices.Contains(glanceSortKeys, k) {
			return "Invalid sort key: " + k + ". It must be one of the following: " + strings.Join(glanceSortKeys, ", ") + "."
		}
		switch dir {
		case "", "desc":
			keys = append(keys, sortKey{k, true})
		case "asc":
			keys = append(keys, sortKey{k, false})
		default:
			return "Invalid sort direction: " + dir
		}
		return ""
	}
	if q.Has("sort") && (q.Has("sort_key") || q.Has("sort_dir")) {
		return nil, "Old and new sorting syntax cannot be combined"
	}
	if v := q.Get("sort"); v != "" {
		for part := range strings.SplitSeq(v, ",") {
			k, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			if msg := add(k, dir); msg != "" {
				return nil, msg
			}
		}
	} else {
		dirs := q["sort_dir"]
		for i, k := range q["sort_key"] {
			dir := ""
			if i < len(dirs) {
				dir = dirs[i]
			} else if len(dirs) > 0 {
				dir = dirs[len(dirs)-1]
			}
			if msg := add(k, dir); msg != "" {
				return nil, msg
			}
		}
		if len(q["sort_key"]) == 0 && len(dirs) > 0 && dirs[0] != "asc" && dirs[0] != "desc" {
			return nil, "Invalid sort direction: " + dirs[0]
		}
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(keys, func(s sortKey) bool { return s.key == k }) {
			keys = append(keys, sortKey{k, true})
		}
	}
	return keys, ""
}

// compareImages orders two images by keys. A null (a name, a format, the
// size of an image without data) sorts before any value; images created
// in the same second keep their creation order.
func compareImages(a, b *glanceImage, keys []sortKey) int {
	for _, k := range keys {
		var c int
		switch k.key {
		case "name":
			c = cmp.Compare(nullLow(a.name), nullLow(b.name))
		case "status":
			c = cmp.Compare(a.status, b.status)
		case "container_format":
			c = cmp.Compare(a.contFormat, b.contFormat)
		case "disk_format":
			c = cmp.Compare(a.diskFormat, b.diskFormat)
		case "size":
			c = cmp.Compare(sizeOrNull(a), sizeOrNull(b))
		case "id":
			c = cmp.Compare(a.id, b.id)
		case "created_at":
			c = cmp.Or(a.created.Compare(b.created), cmp.Compare(a.seq, b.seq))
		case "updated_at":
			c = cmp.Or(a.updated.Compare(b.updated), cmp.Compare(a.seq, b.seq))
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// nullLow maps a nullable name to a value that sorts a null first.
func nullLow(s *string) string {
	if s == nil {
		return ""
	}
	return "\x00" + *s
}

func sizeOrNull(im *glanceImage) int64 {
	if !im.hasData {
		return -1
	}
	return im.size
}

func (s *Server) listImages(w http.ResponseWriter, sr *serviceReq) {
	vis := last(sr.query, "visibility")
	switch vis {
	case "", "all", "public", "private", "shared", "community":
	default:
		glanceError(w, http.StatusBadRequest, "Invalid visibility value: "+vis)
		return
	}
	status := last(sr.query, "member_status")
	switch status {
	case "", "accepted", "pending", "rejected", "all":
	default:
		glanceError(w, http.StatusBadRequest, "Invalid status: "+status)
		return
	}
	keys, msg := glanceOrder(sr.query)
	if msg != "" {
		glanceError(w, http.StatusBadRequest, msg)
		return
	}
	filter, msg := parseListFilter(sr.query)
	if msg != "" {
		glanceError(w, http.StatusBadRequest, msg)
		return
	}
	g := s.glance
	g.mu.RLock()
	var rows []*glanceImage
	for _, im := range g.regions[sr.region] {
		if im.listed(sr.tok.projectID, sr.admin, vis, status) && filter.keeps(im) {
			rows = append(rows, im)
		}
	}
	slices.SortFunc(rows, func(a, b *glanceImage) int { return compareImages(a, b, keys) })
	start := 0
	if sr.marker != "" {
		// Glance places the marker by its sort values: it need not be in
		// the filtered listing, but the caller must be able to read it.
		marker, ok := g.regions[sr.region][sr.marker]
		if !ok || !marker.readable(sr.tok.projectID, sr.admin) {
			g.mu.RUnlock()
			glanceError(w, http.StatusBadRequest, "No image found with ID "+sr.marker)
			return
		}
		start = len(rows)
		if i := slices.IndexFunc(rows, func(r *glanceImage) bool { return compareImages(r, marker, keys) > 0 }); i >= 0 {
			start = i
		}
	}
	page, next, _ := pageFrom(rows, start, sr.limit)
	list := make([]any, 0, len(page))
	for _, im := range page {
		list = append(list, im.json())
	}
	var lastID string
	if len(page) > 0 {
		lastID = page[len(page)-1].id
	}
	g.mu.RUnlock()
	// Glance's links are relative to its root and keep the request's
	// parameters in their order, the marker last.
	q := glanceQuery(sr.raw)
	first := "/v2/images"
	if q != "" {
		first += "?" + q
	}
	out := map[string]any{"images": list, "schema": "/v2/schemas/images", "first": first}
	if next {
		out["next"] = "/v2/images?" + withMarker(q, lastID)
	}
	writeJSON(w, http.StatusOK, out)
}
