package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/geostack/geostack/internal/authurl"
)

// serveIdentity routes Keystone v3 at the domain's identity endpoint.
func (p *Proxy) serveIdentity(w http.ResponseWriter, r *http.Request, rel string) {
	ver, rest := cut(rel)
	if ver != "v3" {
		p.identityPass(w, r, rel)
		return
	}
	coll, rest := cut(rest)
	id, sub := cut(rest)
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case coll == "auth" && (id == "tokens" || id == "catalog") && sub == "" && r.Method == http.MethodGet:
		p.tokenDocument(w, r, rel, id)
	case (coll == "users" || coll == "projects") && id == "" && r.Method == http.MethodGet:
		// Only the domain's: the proxy sets the filter, whatever was asked.
		q := r.URL.Query()
		q.Set("domain_id", p.dom.ID)
		p.identityRead(w, r, rel, q.Encode())
	case (coll == "users" || coll == "projects") && id == "" && r.Method == http.MethodPost:
		p.createAccount(w, r, rel, strings.TrimSuffix(coll, "s"))
	case (coll == "users" || coll == "projects") && id != "":
		p.accountItem(w, r, rel, strings.TrimSuffix(coll, "s"), id, sub)
	case coll == "domains" && id != "" && id != p.dom.ID && !read:
		writeJSONError(w, nil, http.StatusNotFound, "Not Found", "Could not find domain: "+id+".")
	default:
		p.identityPass(w, r, rel)
	}
}

// identityPass reads at home or writes at the primary.
func (p *Proxy) identityPass(w http.ResponseWriter, r *http.Request, rel string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		p.identityRead(w, r, rel, r.URL.RawQuery)
		return
	}
	body, ok := readRequestDocument(w, r)
	if !ok {
		return
	}
	p.writePrimary(w, r, rel, body)
}

// identityRead relays a read from the home location's Keystone.
func (p *Proxy) identityRead(w http.ResponseWriter, r *http.Request, rel, query string) {
	resp, err := p.atHome(r, r.Method, rel, query, nil)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return
	}
	defer resp.Body.Close()
	relay(w, resp)
}

// atHome sends a request to the home location's Keystone: its auth_urls in
// the resolver's order, the next one when one cannot be reached.
func (p *Proxy) atHome(r *http.Request, method, rel, query string, body []byte) (*http.Response, error) {
	var lastErr error
	for _, u := range p.resolver.Order(p.home) {
		root, err := keystoneRoot(u)
		if err != nil {
			lastErr = err
			continue
		}
		resp, err := p.send(r.Context(), r, method, root, rel, query, body)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !notSent(err) || r.Context().Err() != nil {
			return nil, err
		}
	}
	return nil, lastErr
}

// atPrimaryToo is atHome for a read, retried once at the primary when the
// home location answers 404: what was just written there may not have
// replicated yet.
func (p *Proxy) atPrimaryToo(r *http.Request, rel string) (*http.Response, error) {
	resp, err := p.atHome(r, http.MethodGet, rel, "", nil)
	if err != nil || resp.StatusCode != http.StatusNotFound || p.home == p.resolver.Primary() {
		return resp, err
	}
	resp.Body.Close()
	root, err := keystoneRoot(p.resolver.Order(p.resolver.Primary())[0])
	if err != nil {
		return nil, err
	}
	return p.send(r.Context(), r, http.MethodGet, root, rel, "", nil)
}

func keystoneRoot(authURL string) (*url.URL, error) {
	root, err := authurl.Root(authURL)
	if err != nil {
		return nil, err
	}
	return url.Parse(root)
}

// notSent reports whether err says a request never reached the server.
func notSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// statusError is a 5xx answer of the primary, counted against its
// circuit.
type statusError int

func (e statusError) Error() string      { return "proxy: Keystone answered " + strconv.Itoa(int(e)) }
func (e statusError) GetStatusCode() int { return int(e) }

// writePrimary sends a write to the primary location's Keystone, through
// Resolver.Write (the next auth_url of the primary only when one could not
// be reached), and relays its answer.
func (p *Proxy) writePrimary(w http.ResponseWriter, r *http.Request, rel string, body []byte) {
	var (
		resp     *http.Response
		respBody []byte
	)
	err := p.resolver.Write(r.Context(), p.resolver.Primary(), func(ctx context.Context, authURL string) error {
		root, err := keystoneRoot(authURL)
		if err != nil {
			return err
		}
		res, err := p.send(ctx, r, r.Method, root, rel, r.URL.RawQuery, body)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, err := readDocument(res.Body)
		if err != nil {
			return err
		}
		resp, respBody = res, b
		if res.StatusCode >= 500 {
			return statusError(res.StatusCode)
		}
		return nil
	})
	if resp == nil {
		p.keystoneUnavailable(w, r, err)
		return
	}
	writeDocument(w, resp, respBody)
}

func (p *Proxy) keystoneUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	p.log.LogAttrs(r.Context(), slog.LevelError, "proxy: Keystone unreachable",
		slog.String("method", r.Method), slog.String("error", err.Error()))
	writeJSONError(w, nil, http.StatusServiceUnavailable, "Service Unavailable", "The identity service behind this endpoint could not be reached.")
}

// tokenRef is what decides whose a token is.
type tokenRef struct {
	User struct {
		Name   string `json:"name"`
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	} `json:"user"`
	Project *struct {
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	} `json:"project"`
	Domain *struct {
		ID string `json:"id"`
	} `json:"domain"`
	System json.RawMessage `json:"system"`
}

func (t *tokenRef) ours(domainID string) bool {
	switch {
	case t.User.Domain.ID != domainID, len(t.System) > 0 && string(t.System) != "null":
		return false
	case t.Project != nil:
		return t.Project.Domain.ID == domainID
	case t.Domain != nil:
		return t.Domain.ID == domainID
	}
	return true
}

// issueToken relays POST /v3/auth/tokens to the home location's Keystone.
// A token issued to a user or scope of another domain is not handed out
// (401); the catalog of the domain's tokens points at its proxies.
func (p *Proxy) issueToken(w http.ResponseWriter, r *http.Request, rel string) {
	body, ok := readRequestDocument(w, r)
	if !ok {
		return
	}
	resp, err := p.atHome(r, http.MethodPost, rel, r.URL.RawQuery, body)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		relay(w, resp)
		return
	}
	doc, err := readDocument(resp.Body)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return
	}
	out, ours := p.tokenBody(doc, "token")
	if !ours {
		var t struct {
			Token tokenRef `json:"token"`
		}
		json.Unmarshal(doc, &t)
		p.log.LogAttrs(r.Context(), slog.LevelWarn, "proxy: token of another domain not handed out",
			slog.String("domain", p.dom.Name), slog.String("user", t.Token.User.Name), slog.String("user_domain", t.Token.User.Domain.ID))
		if p.wwwAuth != "" {
			w.Header().Set("WWW-Authenticate", p.wwwAuth)
		}
		writeJSONError(w, nil, http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
		return
	}
	writeDocument(w, resp, out)
}

// tokenDocument relays GET /v3/auth/tokens (a token validation) or
// /v3/auth/catalog with the catalog pointing at the domain's proxies.
func (p *Proxy) tokenDocument(w http.ResponseWriter, r *http.Request, rel, what string) {
	resp, err := p.atHome(r, http.MethodGet, rel, r.URL.RawQuery, nil)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !isJSON(resp.Header) {
		relay(w, resp)
		return
	}
	doc, err := readDocument(resp.Body)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return
	}
	if what == "catalog" {
		writeDocument(w, resp, p.catalogBody(doc))
		return
	}
	out, _ := p.tokenBody(doc, "token")
	writeDocument(w, resp, out)
}

// tokenBody returns a token document with its catalog rewritten, and
// whether the token is the domain's.
func (p *Proxy) tokenBody(doc []byte, key string) ([]byte, bool) {
	var d map[string]json.RawMessage
	if json.Unmarshal(doc, &d) != nil {
		return doc, false
	}
	var ref tokenRef
	if json.Unmarshal(d[key], &ref) != nil {
		return doc, false
	}
	ours := ref.ours(p.dom.ID)
	if len(p.catalog) == 0 {
		return doc, ours
	}
	var tok map[string]json.RawMessage
	if json.Unmarshal(d[key], &tok) != nil {
		return doc, ours
	}
	cat, ok := tok["catalog"]
	if !ok {
		return doc, ours
	}
	tok["catalog"] = p.rewriteCatalog(cat)
	d[key], _ = json.Marshal(tok)
	out, err := json.Marshal(d)
	if err != nil {
		return doc, ours
	}
	return out, ours
}

// catalogBody is GET /v3/auth/catalog's document with its catalog
// rewritten.
func (p *Proxy) catalogBody(doc []byte) []byte {
	var d map[string]json.RawMessage
	if len(p.catalog) == 0 || json.Unmarshal(doc, &d) != nil || d["catalog"] == nil {
		return doc
	}
	d["catalog"] = p.rewriteCatalog(d["catalog"])
	out, err := json.Marshal(d)
	if err != nil {
		return doc
	}
	return out
}

// rewriteCatalog moves the endpoint URLs of a Keystone catalog by
// Config.Catalog; anything it cannot read is left as it is.
func (p *Proxy) rewriteCatalog(raw json.RawMessage) json.RawMessage {
	var entries []map[string]json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		return raw
	}
	for _, e := range entries {
		var eps []map[string]json.RawMessage
		if json.Unmarshal(e["endpoints"], &eps) != nil {
			continue
		}
		for _, ep := range eps {
			var u string
			if json.Unmarshal(ep["url"], &u) != nil {
				continue
			}
			for _, rw := range p.catalog {
				if rest, ok := underRoot(u, strings.TrimRight(rw.From, "/")); ok {
					ep["url"], _ = json.Marshal(strings.TrimRight(rw.To, "/") + rest)
					break
				}
			}
		}
		e["endpoints"], _ = json.Marshal(eps)
	}
	out, err := json.Marshal(entries)
	if err != nil {
		return raw
	}
	return out
}

// createAccount checks POST /v3/users and /v3/projects: the name must be
// an account name of the domain, and the user or project the domain's (the
// proxy sets domain_id when the request leaves it out); a project may not
// be a domain. Then the write goes to the primary.
func (p *Proxy) createAccount(w http.ResponseWriter, r *http.Request, rel, kind string) {
	body, ok := readRequestDocument(w, r)
	if !ok {
		return
	}
	var doc map[string]json.RawMessage
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil || json.Unmarshal(doc[kind], &obj) != nil || obj == nil {
		p.writePrimary(w, r, rel, body) // Keystone's to refuse
		return
	}
	out, status, msg := p.checkAccount(kind, obj, true)
	if status != 0 {
		p.refuseWrite(w, r, status, msg)
		return
	}
	if out {
		doc[kind], _ = json.Marshal(obj)
		body, _ = json.Marshal(doc)
	}
	p.writePrimary(w, r, rel, body)
}

// checkAccount applies the domain's rules to a user or project document
// being created or updated; it reports whether it set domain_id, or the
// status and message of a refusal.
func (p *Proxy) checkAccount(kind string, obj map[string]json.RawMessage, create bool) (changed bool, status int, msg string) {
	if raw, ok := obj["name"]; ok || create {
		var name string
		if ok && json.Unmarshal(raw, &name) != nil {
			return false, http.StatusBadRequest, "Invalid input for field 'name': a string is required."
		}
		if err := p.filter.CheckAccountName(kind, name); err != nil {
			return false, http.StatusBadRequest, err.Error()
		}
	}
	if raw, ok := obj["domain_id"]; ok {
		var id string
		if json.Unmarshal(raw, &id) != nil || id != p.dom.ID {
			return false, http.StatusForbidden, "A " + kind + " at the endpoint of domain " + p.dom.Name +
				" belongs to it: domain_id must be " + strconv.Quote(p.dom.ID) + ", not " + short(raw) + "."
		}
	} else if create {
		obj["domain_id"], _ = json.Marshal(p.dom.ID)
		changed = true
	}
	if raw, ok := obj["is_domain"]; ok && kind == "project" && string(raw) == "true" {
		return false, http.StatusForbidden, "Domains are not created at the endpoint of domain " + p.dom.Name + "."
	}
	return changed, 0, ""
}

// accountItem serves /v3/users/{id}[/…] and /v3/projects/{id}[/…]: a
// user or project of another domain is absent; a rename must keep the
// domain's prefix; writes go to the primary. A role grant on a project to
// a user (/v3/projects/{p}/users/{u}/roles/{r}) needs both to be the
// domain's.
func (p *Proxy) accountItem(w http.ResponseWriter, r *http.Request, rel, kind, id, sub string) {
	doc, resp, answered := p.ownAccount(w, r, kind, id)
	if answered {
		return
	}
	if kind == "project" {
		if seg, rest := cut(sub); seg == "users" {
			if uid, _ := cut(rest); uid != "" {
				if _, _, answered := p.ownAccount(w, r, "user", uid); answered {
					return
				}
			}
		}
	}
	switch {
	case (sub == "" || sub == "/") && r.Method == http.MethodGet && r.URL.RawQuery == "":
		writeDocument(w, resp, doc)
	case (sub == "" || sub == "/") && r.Method == http.MethodPatch:
		body, ok := readRequestDocument(w, r)
		if !ok {
			return
		}
		var d, obj map[string]json.RawMessage
		if json.Unmarshal(body, &d) == nil && json.Unmarshal(d[kind], &obj) == nil && obj != nil {
			if _, status, msg := p.checkAccount(kind, obj, false); status != 0 {
				p.refuseWrite(w, r, status, msg)
				return
			}
		}
		p.writePrimary(w, r, rel, body)
	default:
		p.identityPass(w, r, rel)
	}
}

// ownAccount fetches the user or project id and answers the request
// itself unless it is the domain's: Keystone's own answer when it gives
// none, 404 when it is another domain's.
func (p *Proxy) ownAccount(w http.ResponseWriter, r *http.Request, kind, id string) (doc []byte, resp *http.Response, answered bool) {
	resp, err := p.atPrimaryToo(r, "/v3/"+kind+"s/"+id)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return nil, nil, true
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		relay(w, resp)
		return nil, nil, true
	}
	doc, err = readDocument(resp.Body)
	if err != nil {
		p.keystoneUnavailable(w, r, err)
		return nil, nil, true
	}
	var d map[string]struct {
		DomainID string `json:"domain_id"`
	}
	if json.Unmarshal(doc, &d) != nil || d[kind].DomainID != p.dom.ID {
		writeJSONError(w, resp.Header, http.StatusNotFound, "Not Found", "Could not find "+kind+": "+id+".")
		return nil, nil, true
	}
	return doc, resp, false
}

// short quotes a JSON value for a message, cut to a readable length.
func short(raw json.RawMessage) string {
	const maxLen = 80
	if len(raw) > maxLen {
		return string(raw[:maxLen]) + "…"
	}
	return string(raw)
}
