package proxy

import (
	"net/http"
	"strings"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
)

// cut splits the first segment off a path: "/v2/images/x" gives "v2" and
// "/images/x".
func cut(path string) (seg, rest string) {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i], path[i:]
	}
	return path, ""
}

// filterFor returns the filter for the caller's project.
func (p *Proxy) filterFor(tok *identity.Token) *domain.Filter {
	if tok.Project != nil {
		return p.filter.ForProject(tok.Project.ID)
	}
	return p.filter.ForProject("")
}

// serveImage routes Glance v2: /v2/images, /v2/images/{id}[/…].
func (p *Proxy) serveImage(w http.ResponseWriter, r *http.Request, rel string, tok *identity.Token) {
	ver, rest := cut(rel)
	coll, rest := cut(rest)
	if ver != "v2" || coll != "images" {
		p.forward(w, r)
		return
	}
	const base = "/v2/images"
	id, sub := cut(rest)
	switch {
	case id == "" && r.Method == http.MethodGet:
		p.serveList(w, r, rel, base, imageKind, p.filterFor(tok))
	case id == "" && r.Method == http.MethodPost:
		p.createImage(w, r, p.filterFor(tok))
	case id == "":
		p.forward(w, r)
	case (sub == "" || sub == "/") && r.Method == http.MethodPatch:
		p.patchImage(w, r, base+"/"+id, id, p.filterFor(tok))
	default:
		p.serveItem(w, r, imageKind, p.filterFor(tok), base+"/"+id, id, sub, p.forward)
	}
}

// serveCompute routes Nova's flavors: /v2.1/flavors, /v2.1/flavors/detail,
// /v2.1/flavors/{id}[/…], also with a project id after the version.
func (p *Proxy) serveCompute(w http.ResponseWriter, r *http.Request, rel string, tok *identity.Token) {
	ver, rest := cut(rel)
	if ver != "v2.1" && ver != "v2" {
		p.forward(w, r)
		return
	}
	base := "/" + ver
	seg, rest := cut(rest)
	if seg != "flavors" {
		project := seg
		if seg, rest = cut(rest); seg != "flavors" || project == "" {
			p.forward(w, r)
			return
		}
		base += "/" + project
	}
	base += "/flavors"
	id, sub := cut(rest)
	switch {
	case (id == "" || (id == "detail" && sub == "")) && r.Method == http.MethodGet:
		p.serveList(w, r, rel, base, flavorKind, p.filterFor(tok))
	case id == "" || id == "detail":
		p.forward(w, r)
	default:
		p.serveItem(w, r, flavorKind, p.filterFor(tok), base+"/"+id, id, sub, p.forward)
	}
}

// serveVolume routes Cinder's volume types: /v3/{project}/types,
// /v3/{project}/types/{id}[/…].
func (p *Proxy) serveVolume(w http.ResponseWriter, r *http.Request, rel string, tok *identity.Token) {
	ver, rest := cut(rel)
	project, rest := cut(rest)
	coll, rest := cut(rest)
	if (ver != "v3" && ver != "v2") || project == "" || coll != "types" {
		p.forward(w, r)
		return
	}
	base := "/" + ver + "/" + project + "/types"
	id, sub := cut(rest)
	switch {
	case id == "" && r.Method == http.MethodGet:
		p.serveList(w, r, rel, base, volumeTypeKind, p.filterFor(tok))
	case id == "":
		p.forward(w, r)
	default:
		p.serveItem(w, r, volumeTypeKind, p.filterFor(tok), base+"/"+id, id, sub, p.forward)
	}
}

// serveItem serves a request for the item id at itemRel, or for sub under
// it: an item the domain may not see is answered as absent; otherwise a
// GET of the item is answered with the document the proxy judged, and
// anything else goes on to next.
func (p *Proxy) serveItem(w http.ResponseWriter, r *http.Request, k *kind, f *domain.Filter, itemRel, id, sub string, next http.HandlerFunc) {
	get := r.Method == http.MethodGet && (sub == "" || sub == "/") // the GET of the item itself
	query := ""
	if get {
		query = r.URL.RawQuery
	}
	resp, err := p.roundTrip(r, http.MethodGet, itemRel, query, nil)
	if err != nil {
		p.upstreamError(w, r, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		relay(w, resp) // absent, or not the caller's to see: the service's word
		return
	}
	doc, err := readDocument(resp.Body)
	if err != nil {
		p.upstreamError(w, r, err)
		return
	}
	visible, err := k.judgeDocument(f, doc)
	if err != nil || !visible {
		k.notFound(w, resp.Header, id)
		return
	}
	if get {
		writeDocument(w, resp, doc)
		return
	}
	next(w, r)
}
