package proxy

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/geostack/geostack/domain"
)

// createImage checks POST /v2/images: the name must be in the namespace
// when the domain's policy asks for it, and the image carries the domain's
// id in its domain-id property, set by the proxy when the request leaves it
// out. A body that is not a JSON object is Glance's to refuse.
func (p *Proxy) createImage(w http.ResponseWriter, r *http.Request, f *domain.Filter) {
	body, ok := readRequestDocument(w, r)
	if !ok {
		return
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil || doc == nil {
		p.forwardBody(w, r, body)
		return
	}
	var name string
	if raw, ok := doc["name"]; ok && json.Unmarshal(raw, &name) != nil {
		p.forwardBody(w, r, body) // a name that is no string: Glance's to refuse
		return
	}
	if err := f.CheckImageName(name); err != nil {
		p.refuseWrite(w, r, http.StatusBadRequest, err.Error())
		return
	}
	prop := f.DomainIDProperty()
	if raw, ok := doc[prop]; ok {
		if msg := p.badDomainID(prop, raw); msg != "" {
			p.refuseWrite(w, r, http.StatusBadRequest, msg)
			return
		}
	} else {
		doc[prop], _ = json.Marshal(p.dom.ID)
		body, _ = json.Marshal(doc)
	}
	p.forwardBody(w, r, body)
}

// patchImage checks PATCH /v2/images/{id} (a JSON patch): a new name must
// be in the namespace when the domain's policy asks for it, and the
// domain-id property may only be set to the domain's own id. Then, if the
// domain may see the image, the patch goes to Glance.
func (p *Proxy) patchImage(w http.ResponseWriter, r *http.Request, itemRel, id string, f *domain.Filter) {
	body, ok := readRequestDocument(w, r)
	if !ok {
		return
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(body, &ops) == nil {
		prop := "/" + f.DomainIDProperty()
		for _, op := range ops {
			switch {
			case op.Path == "/name" && (op.Op == "add" || op.Op == "replace" || op.Op == "remove"):
				var name string
				if op.Op != "remove" && json.Unmarshal(op.Value, &name) != nil {
					continue // Glance's to refuse
				}
				if err := f.CheckImageName(name); err != nil {
					p.refuseWrite(w, r, http.StatusBadRequest, err.Error())
					return
				}
			case op.Path == prop && op.Op == "remove":
				p.refuseWrite(w, r, http.StatusBadRequest, "Images at the endpoint of domain "+p.dom.Name+
					" keep their "+f.DomainIDProperty()+" property.")
				return
			case op.Path == prop && (op.Op == "add" || op.Op == "replace"):
				if msg := p.badDomainID(f.DomainIDProperty(), op.Value); msg != "" {
					p.refuseWrite(w, r, http.StatusBadRequest, msg)
					return
				}
			}
		}
	}
	p.serveItem(w, r, imageKind, f, itemRel, id, "", func(w http.ResponseWriter, r *http.Request) {
		p.forwardBody(w, r, body)
	})
}

// badDomainID says why raw may not be the domain-id property of an image
// created at the domain's endpoint, or returns "".
func (p *Proxy) badDomainID(prop string, raw json.RawMessage) string {
	var v string
	if json.Unmarshal(raw, &v) == nil && v == p.dom.ID {
		return ""
	}
	return "Images created at the endpoint of domain " + p.dom.Name + " belong to it: their " + prop +
		" property must be " + strconv.Quote(p.dom.ID) + ", not " + short(raw) + "."
}

// refuseWrite answers a write the domain's rules refuse, in the service's
// own error format, and logs it.
func (p *Proxy) refuseWrite(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p.log.LogAttrs(r.Context(), slog.LevelInfo, "proxy: write refused",
		slog.String("service", p.svc), slog.String("method", r.Method), slog.String("domain", p.dom.Name),
		slog.Int("status", status), slog.String("reason", msg))
	msg = strings.TrimPrefix(msg, "domain: ")
	switch p.svc {
	case Image:
		writeGlanceError(w, nil, status, msg)
	case Identity:
		writeJSONError(w, nil, status, http.StatusText(status), msg)
	default:
		writeFault(w, nil, status, msg, "application/json")
	}
}
