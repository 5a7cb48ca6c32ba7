package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
)

// maxDocument bounds an upstream document the proxy reads whole: a single
// item, a version document, a token with its catalog, an identity answer.
const maxDocument = 16 << 20

// maxRequestDocument bounds a request body the proxy reads to check it: an
// image create or patch, an identity write.
const maxRequestDocument = 1 << 20

// rewrite routes a request through the ReverseProxy to the upstream.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	out := pr.Out.URL
	out.Scheme, out.Host = p.upstream.Scheme, p.upstream.Host
	rel, _ := p.rel(pr.In.URL.Path)
	out.Path = p.upPath + rel
	if pr.In.URL.RawPath != "" {
		relEscaped, _ := p.rel(pr.In.URL.EscapedPath())
		out.RawPath = p.upEscaped + relEscaped
	} else {
		out.RawPath = ""
	}
	pr.Out.Host = ""
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		pr.Out.Header["X-Forwarded-For"] = []string{ip}
	}
}

// modifyResponse points a Location header at the proxy.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	if loc := resp.Header.Get("Location"); loc != "" {
		public := p.public
		if public == "" {
			public = p.prefix // a path under the proxy's prefix, on the client's own host
		}
		if u, ok := p.toPublic(loc, public); ok {
			resp.Header.Set("Location", u)
		}
	}
	return nil
}

// toPublic maps an absolute URL under one of the upstream roots to the
// same path under public.
func (p *Proxy) toPublic(u, public string) (string, bool) {
	for _, root := range p.roots {
		if rest, ok := underRoot(u, root); ok {
			return public + rest, true
		}
	}
	return u, false
}

// underRoot returns what follows root in u, when u is root or a URL under
// it (at a path boundary).
func underRoot(u, root string) (string, bool) {
	if len(u) < len(root) || !strings.EqualFold(u[:len(root)], root) {
		return "", false
	}
	rest := u[len(root):]
	if rest != "" && rest[0] != '/' && rest[0] != '?' {
		return "", false
	}
	return rest, true
}

// upstreamError answers a request the upstream did not answer.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	p.log.LogAttrs(r.Context(), slog.LevelError, "proxy: upstream unreachable",
		slog.String("service", p.svc), slog.String("method", r.Method), slog.String("error", err.Error()))
	writeJSONError(w, nil, http.StatusBadGateway, "Bad Gateway", "The "+p.svc+" service behind this endpoint could not be reached.")
}

// forward passes r to the upstream unchanged, streaming both ways. A
// request without a body, the hot path (GET, HEAD, DELETE), is sent
// without the ReverseProxy's per-request machinery, which costs more than
// the token validation; a request with a body (an upload) or a protocol
// upgrade goes through the ReverseProxy.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	if (r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0) || r.Header["Upgrade"] != nil || r.Header["Te"] != nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	out := r.WithContext(r.Context())
	rel, _ := p.rel(r.URL.Path)
	u := &url.URL{Scheme: p.upstream.Scheme, Host: p.upstream.Host, Path: p.upPath + rel, RawQuery: r.URL.RawQuery}
	if r.URL.RawPath != "" {
		relEscaped, _ := p.rel(r.URL.EscapedPath())
		u.RawPath = p.upEscaped + relEscaped
	}
	out.URL, out.Host, out.RequestURI, out.Body, out.ContentLength, out.Close = u, "", "", nil, 0, false
	out.Header = make(http.Header, len(r.Header)+1)
	for k, vs := range r.Header {
		if !isHop(k) && !isForwarding(k) {
			out.Header[k] = vs
		}
	}
	dropListed(out.Header, r.Header)
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		out.Header["X-Forwarded-For"] = []string{ip}
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = noUserAgent // not Go's
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		p.upstreamError(w, r, err)
		return
	}
	defer resp.Body.Close()
	p.modifyResponse(resp)
	h := w.Header()
	for k, vs := range resp.Header {
		if !isHop(k) {
			h[k] = vs
		}
	}
	dropListed(h, resp.Header)
	w.WriteHeader(resp.StatusCode)
	copyBody(w, resp.Body)
}

var noUserAgent = []string{""}

// isHop reports whether a canonical header key is one of a connection's.
func isHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// isForwarding reports whether a canonical header key is one a client
// could send to pass for a proxy: the proxy sets X-Forwarded-For itself,
// as the first hop the upstream trusts, and the others not at all.
func isForwarding(k string) bool {
	switch k {
	case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}

// dropListed removes from dst the headers that src's Connection header
// names as the connection's.
func dropListed(dst, src http.Header) {
	for _, c := range src["Connection"] {
		for _, f := range strings.Split(c, ",") {
			if f = strings.TrimSpace(f); f != "" {
				dst.Del(f)
			}
		}
	}
}

// copyBody streams an upstream body to the client, flushing whenever the
// upstream has no more to give at once, so that a slow stream reaches the
// client as it comes. An upstream failure mid-body aborts the answer, so
// that the client sees it cut rather than complete.
func copyBody(w http.ResponseWriter, body io.Reader) {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	flusher, _ := w.(http.Flusher)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away
			}
			if n < len(buf) && err == nil && flusher != nil {
				flusher.Flush()
			}
		}
		switch {
		case err == io.EOF:
			return
		case err != nil:
			panic(http.ErrAbortHandler)
		}
	}
}

// forwardBody passes r to the upstream with body in place of its own.
func (p *Proxy) forwardBody(w http.ResponseWriter, r *http.Request, body []byte) {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header.Del("Content-Length")
	r2.Header.Del("Transfer-Encoding")
	p.rp.ServeHTTP(w, r2)
}

// hopHeaders are the headers of one connection, never forwarded.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// outboundHeader is the header of a request the proxy makes itself on the
// caller's behalf: the caller's (identity headers already stripped), less
// what belongs to its connection, and without Accept-Encoding, so that the
// transport decompresses what the proxy reads.
func outboundHeader(in http.Header) http.Header {
	h := in.Clone()
	for _, c := range in["Connection"] {
		for _, f := range strings.Split(c, ",") {
			h.Del(strings.TrimSpace(f))
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	for _, k := range []string{"Accept-Encoding", "Content-Length", "Expect", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		h.Del(k)
	}
	return h
}

// roundTrip makes a request for rel?query on the caller's behalf, at the
// upstream (the identity proxy's: its home Keystone, see atHome), with the
// caller's headers.
func (p *Proxy) roundTrip(r *http.Request, method, rel, query string, body []byte) (*http.Response, error) {
	if p.svc == Identity {
		return p.atHome(r, method, rel, query, body)
	}
	return p.send(r.Context(), r, method, p.upstream, rel, query, body)
}

// send makes a request for rel?query under root on behalf of the caller
// of r, with its headers.
func (p *Proxy) send(ctx context.Context, r *http.Request, method string, root *url.URL, rel, query string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u := *root
	u.Path = strings.TrimRight(root.Path, "/") + rel
	u.RawPath = ""
	u.RawQuery = query
	out, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	out.Header = outboundHeader(r.Header)
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		out.Header["X-Forwarded-For"] = []string{ip}
	}
	return p.transport.RoundTrip(out)
}

// readDocument reads a whole upstream body, up to maxDocument.
func readDocument(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxDocument+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDocument {
		return nil, errors.New("proxy: upstream document larger than 16 MiB")
	}
	return b, nil
}

// readRequestDocument reads a request body the proxy must check, up to
// maxRequestDocument. It answers the request itself when it cannot.
func readRequestDocument(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestDocument+1))
	switch {
	case err != nil:
		writeJSONError(w, nil, http.StatusBadRequest, "Bad Request", "The request body could not be read.")
		return nil, false
	case len(b) > maxRequestDocument:
		writeJSONError(w, nil, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "The request body is larger than 1 MiB.")
		return nil, false
	}
	return b, true
}

// copyHeader copies an upstream response's header to w, less the headers
// of its connection and those in drop.
func copyHeader(dst, src http.Header, drop ...string) {
	for k, vs := range src {
		dst[k] = append(dst[k][:0:0], vs...)
	}
	for _, c := range src["Connection"] {
		for _, f := range strings.Split(c, ",") {
			dst.Del(strings.TrimSpace(f))
		}
	}
	for _, k := range hopHeaders {
		dst.Del(k)
	}
	for _, k := range drop {
		dst.Del(k)
	}
}

// relay writes an upstream response as it is, streaming its body.
func relay(w http.ResponseWriter, resp *http.Response) {
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	copyBody(w, resp.Body)
}

// writeDocument writes an upstream response's status and header with body,
// a document the proxy read or changed.
func writeDocument(w http.ResponseWriter, resp *http.Response, body []byte) {
	copyHeader(w.Header(), resp.Header, "Content-Length", "Etag", "Content-Md5")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// serveVersions answers a version document with its links pointing at the
// proxy instead of the upstream, which keystoneauth would otherwise follow
// around it.
func (p *Proxy) serveVersions(w http.ResponseWriter, r *http.Request, rel string) {
	resp, err := p.roundTrip(r, r.Method, rel, r.URL.RawQuery, nil)
	if err != nil {
		p.upstreamError(w, r, err)
		return
	}
	defer resp.Body.Close()
	if r.Method == http.MethodHead || !isJSON(resp.Header) {
		relay(w, resp)
		return
	}
	body, err := readDocument(resp.Body)
	if err != nil {
		p.upstreamError(w, r, err)
		return
	}
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		writeDocument(w, resp, body)
		return
	}
	public := p.publicBase(r)
	doc = walkStrings(doc, func(s string) string {
		if u, ok := p.toPublic(s, public); ok {
			return u
		}
		return s
	})
	out, err := json.Marshal(doc)
	if err != nil {
		writeDocument(w, resp, body)
		return
	}
	writeDocument(w, resp, out)
}

// walkStrings returns doc with every string value replaced by f's answer.
func walkStrings(doc any, f func(string) string) any {
	switch v := doc.(type) {
	case string:
		return f(v)
	case []any:
		for i := range v {
			v[i] = walkStrings(v[i], f)
		}
	case map[string]any:
		for k := range v {
			v[k] = walkStrings(v[k], f)
		}
	}
	return doc
}

// isJSON reports whether a header announces a JSON body.
func isJSON(h http.Header) bool {
	ct := h.Get("Content-Type")
	return strings.HasPrefix(ct, "application/json") || strings.Contains(ct, "+json")
}
