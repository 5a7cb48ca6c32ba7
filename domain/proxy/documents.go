package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// The error documents the proxy writes itself are shaped like those of the
// service behind it, so that a client reports them as it reports the
// service's own: Keystone's {"error": …}, Nova's and Cinder's
// {"itemNotFound": …}, Glance's HTML page.

// echoed are the headers of an upstream answer that an answer the proxy
// writes in its place carries too: microversions and request ids.
var echoed = []string{"Openstack-Api-Version", "X-Openstack-Nova-Api-Version", "Vary",
	"X-Openstack-Request-Id", "X-Compute-Request-Id"}

func echo(dst, src http.Header) {
	for _, k := range echoed {
		if vs, ok := src[k]; ok {
			dst[k] = append([]string(nil), vs...)
		}
	}
}

// writeJSONError writes Keystone's error document, with the echoed headers
// of from (nil for none).
func writeJSONError(w http.ResponseWriter, from http.Header, status int, title, message string) {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "title": title, "message": message}})
	writeError(w, from, status, "application/json", body)
}

// writeFault writes Nova's and Cinder's fault document, such as
// {"itemNotFound": {"code": 404, "message": "…"}}.
func writeFault(w http.ResponseWriter, from http.Header, status int, message, contentType string) {
	key := "computeFault"
	switch status {
	case http.StatusBadRequest:
		key = "badRequest"
	case http.StatusNotFound:
		key = "itemNotFound"
	case http.StatusForbidden:
		key = "forbidden"
	}
	body, _ := json.Marshal(map[string]any{key: map[string]any{"code": status, "message": message}})
	writeError(w, from, status, contentType, body)
}

// writeGlanceError writes Glance's HTML error page.
func writeGlanceError(w http.ResponseWriter, from http.Header, status int, message string) {
	title := strconv.Itoa(status) + " " + http.StatusText(status)
	body := "<html>\n <head>\n  <title>" + title + "</title>\n </head>\n <body>\n  <h1>" + title + "</h1>\n  " +
		textEscaper.Replace(message) + "<br /><br />\n\n\n\n </body>\n</html>"
	writeError(w, from, status, "text/html; charset=UTF-8", []byte(body))
}

// textEscaper escapes what would be markup in an HTML text node, and no
// more: the quotes of a message stay as they are, since clients print the
// page as text.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func writeError(w http.ResponseWriter, from http.Header, status int, contentType string, body []byte) {
	h := w.Header()
	echo(h, from)
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
