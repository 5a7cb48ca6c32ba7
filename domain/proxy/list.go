package proxy

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/geostack/geostack/domain"
)

// maxUpstreamLimit is the largest page the proxy asks for while filling a
// page: the services' default maximum (Glance's api_limit_max, Nova's
// max_limit, Cinder's osapi_max_limit).
const maxUpstreamLimit = 1000

// maxExtras bounds the keys of a list document other than the list and
// its links (Glance's "first" and "schema"), which the proxy keeps from
// the first page to write after the list.
const maxExtras = 64 << 10

// serveList answers GET of a list of k at rel, whose items are at itemBase
// + "/" + id, with the items f lets the caller see. See the package doc.
func (p *Proxy) serveList(w http.ResponseWriter, r *http.Request, rel, itemBase string, k *kind, f *domain.Filter) {
	query := r.URL.Query()
	raw := r.URL.RawQuery
	if marker := query.Get("marker"); marker != "" {
		hidden, answered := p.hiddenMarker(w, r, k, f, itemBase+"/"+marker)
		if answered {
			return
		}
		if hidden {
			if k.badMarker != nil {
				k.badMarker(w, nil, marker)
				return
			}
			query.Del("marker")
			raw = query.Encode()
		}
	}
	l := lister{p: p, w: w, r: r, k: k, f: f, rel: rel, query: query}
	l.run(raw)
}

// hiddenMarker reports whether the item a marker names is one the domain
// may not see. A marker that names nothing the caller can get is the
// upstream's to judge. answered is set when the proxy had to answer the
// request itself.
func (p *Proxy) hiddenMarker(w http.ResponseWriter, r *http.Request, k *kind, f *domain.Filter, itemRel string) (hidden, answered bool) {
	resp, err := p.roundTrip(r, http.MethodGet, itemRel, "", nil)
	if err != nil {
		p.upstreamError(w, r, err)
		return false, true
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, false
	}
	doc, err := readDocument(resp.Body)
	if err != nil {
		p.upstreamError(w, r, err)
		return false, true
	}
	visible, err := k.judgeDocument(f, doc)
	return !visible || err != nil, false
}

// lister writes one filtered page.
type lister struct {
	p     *Proxy
	w     http.ResponseWriter
	r     *http.Request
	k     *kind
	f     *domain.Filter
	rel   string
	query url.Values // the caller's, with a hidden marker dropped

	header  http.Header // the first upstream page's
	out     *bufio.Writer
	emitted int
	last    string // id of the last item written
	extras  []extra
	size    int // bytes of extras
}

type extra struct {
	key string
	raw json.RawMessage
}

// upstreamPage is what reading one upstream page found.
type upstreamPage struct {
	count   int    // items read
	lastID  string // id of the last item read, visible or not
	hasNext bool   // the page links to a next one
	stopped bool   // the proxy's page filled with items of this page left unread
}

// errUpstreamDocument is a list document the proxy cannot read.
var errUpstreamDocument = errors.New("proxy: malformed list document from upstream")

func (l *lister) run(firstQuery string) {
	p := l.p
	n := 0     // the proxy's page size, from the first upstream page
	limit := 0 // the limit of the next upstream request
	marker := ""
	more := false
	for pages := 1; ; pages++ {
		q := firstQuery
		if pages > 1 {
			uq := cloneValues(l.query)
			uq.Set("marker", marker)
			uq.Set("limit", strconv.Itoa(limit))
			q = uq.Encode()
		}
		resp, err := p.roundTrip(l.r, http.MethodGet, l.rel, q, nil)
		if err != nil {
			if l.out == nil {
				p.upstreamError(l.w, l.r, err)
				return
			}
			more = true
			break
		}
		if resp.StatusCode != http.StatusOK || !isJSON(resp.Header) {
			if l.out == nil {
				relay(l.w, resp)
				resp.Body.Close()
				return
			}
			resp.Body.Close()
			more = true
			break
		}
		if pages == 1 {
			l.header = resp.Header
		}
		pg, err := l.read(resp.Body, pages == 1, n)
		resp.Body.Close()
		if err != nil {
			p.log.LogAttrs(l.r.Context(), slog.LevelError, "proxy: upstream list page unreadable",
				slog.String("kind", l.k.name), slog.Int("page", pages), slog.String("error", err.Error()))
			if l.out == nil {
				writeJSONError(l.w, l.header, http.StatusBadGateway, "Bad Gateway",
					"The "+p.svc+" service answered a "+l.k.name+" list the proxy cannot read.")
				return
			}
			more = true
			break
		}
		if pg.count == 0 {
			break // an empty page ends a listing, as for every pager
		}
		if pages == 1 {
			if !pg.hasNext {
				break
			}
			n = max(pg.count, 1)
			limit = n
		}
		if pg.stopped {
			more = true
			break
		}
		if l.emitted >= n {
			more = pg.hasNext
			break
		}
		if !pg.hasNext {
			break
		}
		if pages >= p.maxPages {
			if l.emitted > 0 {
				more = true
				break
			}
			p.log.LogAttrs(l.r.Context(), slog.LevelWarn, "proxy: no visible item within the page bound",
				slog.String("kind", l.k.name), slog.String("domain", p.dom.Name), slog.Int("pages", pages))
			writeJSONError(l.w, l.header, http.StatusServiceUnavailable, "Service Unavailable",
				fmt.Sprintf("No %s of domain %s within %d upstream pages; narrow the listing with filters.", l.k.name, p.dom.Name, pages))
			return
		}
		marker = pg.lastID
		limit = min(max(limit*2, n), max(n, maxUpstreamLimit))
	}
	l.finish(more)
}

// read reads one upstream list document from body, writing the items the
// domain may see, up to n of them in all (n = 0: no bound, the first page).
// The first page's other keys are kept to be written after the list.
func (l *lister) read(body io.Reader, first bool, n int) (upstreamPage, error) {
	var pg upstreamPage
	dec := json.NewDecoder(body)
	if !delim(dec, '{') {
		return pg, errUpstreamDocument
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return pg, errUpstreamDocument
		}
		switch {
		case key == l.k.list:
			if err := l.items(dec, &pg, n); err != nil || pg.stopped {
				return pg, err
			}
		case (l.k.links == "" && key == "next") || (l.k.links != "" && key == l.k.links):
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return pg, errUpstreamDocument
			}
			pg.hasNext = l.hasNext(raw)
		default:
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return pg, errUpstreamDocument
			}
			if first && l.size+len(raw) <= maxExtras {
				l.extras = append(l.extras, extra{key, raw})
				l.size += len(raw)
			}
		}
	}
	if !delim(dec, '}') {
		return pg, errUpstreamDocument
	}
	return pg, nil
}

// items reads the list of one page.
func (l *lister) items(dec *json.Decoder, pg *upstreamPage, n int) error {
	t, err := dec.Token()
	if err != nil {
		return errUpstreamDocument
	}
	if t == nil { // null: no items
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return errUpstreamDocument
	}
	for dec.More() {
		if n > 0 && l.emitted >= n {
			pg.stopped = true // the page is full; the rest is for the next request
			return nil
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errUpstreamDocument
		}
		pg.count++
		id, visible, err := l.k.judge(l.f, raw)
		if err != nil {
			// Fail closed: an item that cannot be judged is not shown.
			var ref struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &ref) != nil || ref.ID == "" {
				return errUpstreamDocument
			}
			id, visible = ref.ID, false
			l.p.log.LogAttrs(l.r.Context(), slog.LevelWarn, "proxy: list item not judged, not shown",
				slog.String("kind", l.k.name), slog.String("id", id), slog.String("error", err.Error()))
		}
		pg.lastID = id
		if visible {
			l.write(raw)
			l.last = id
		}
	}
	if !delim(dec, ']') {
		return errUpstreamDocument
	}
	return nil
}

// hasNext reports whether a next value (Glance's path, or a links list)
// links to a next page.
func (l *lister) hasNext(raw json.RawMessage) bool {
	if l.k.links == "" {
		var next string
		return json.Unmarshal(raw, &next) == nil && next != ""
	}
	var links []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	}
	if json.Unmarshal(raw, &links) != nil {
		return false
	}
	for _, lk := range links {
		if lk.Rel == "next" && lk.Href != "" {
			return true
		}
	}
	return false
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// start writes the status, the first upstream page's header less what the
// filtering changes, and the opening of the document.
func (l *lister) start() {
	copyHeader(l.w.Header(), l.header, "Content-Length", "Etag", "Content-Md5")
	l.w.WriteHeader(http.StatusOK)
	l.out = writers.Get().(*bufio.Writer)
	l.out.Reset(l.w)
	l.out.WriteString(`{"`)
	l.out.WriteString(l.k.list) // a fixed key, nothing to escape
	l.out.WriteString(`": [`)
}

// write writes one item as the upstream wrote it.
func (l *lister) write(raw json.RawMessage) {
	if l.out == nil {
		l.start()
	}
	if l.emitted > 0 {
		l.out.WriteString(", ")
	}
	l.out.Write(raw)
	l.emitted++
}

// finish closes the list, writes the kept keys and, when there may be
// more, a next link whose marker is the last item written.
func (l *lister) finish(more bool) {
	if l.out == nil {
		l.start()
	}
	out := l.out
	out.WriteString("]")
	for _, e := range l.extras {
		key, _ := json.Marshal(e.key)
		out.WriteString(", ")
		out.Write(key)
		out.WriteString(": ")
		out.Write(e.raw)
	}
	if more && l.last != "" {
		q := cloneValues(l.query)
		q.Set("marker", l.last)
		href := l.rel + "?" + q.Encode()
		if l.k.links == "" {
			v, _ := json.Marshal(href)
			out.WriteString(`, "next": `)
			out.Write(v)
		} else {
			v, _ := json.Marshal(l.p.publicBase(l.r) + href)
			out.WriteString(`, "`)
			out.WriteString(l.k.links)
			out.WriteString(`": [{"rel": "next", "href": `)
			out.Write(v)
			out.WriteString(`}]`)
		}
	}
	out.WriteString("}")
	out.Flush()
	out.Reset(nil)
	writers.Put(out)
	l.out = nil
}

// delim reads the next token and reports whether it is want.
func delim(dec *json.Decoder, want json.Delim) bool {
	t, err := dec.Token()
	d, ok := t.(json.Delim)
	return err == nil && ok && d == want
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+2)
	for k, vs := range v {
		c[k] = vs
	}
	return c
}
