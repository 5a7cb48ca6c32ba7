package authtoken

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geostack/geostack/identity"
)

// HandlerOptions tune Handler.
type HandlerOptions struct {
	// DelayAuthDecision passes requests whose token is missing or not
	// accepted (what would be a 401 or a 403) on to the next handler,
	// with X-Identity-Status: Invalid and an unconfirmed Identity in the
	// context, for backends that decide themselves
	// (keystonemiddleware's delay_auth_decision). A Keystone outage is
	// still answered 503.
	DelayAuthDecision bool
	// ForwardHeaders sets keystonemiddleware's identity headers on the
	// request passed on, for backends behind a proxy (WSGI applications
	// reading them through oslo.context included): X-Identity-Status,
	// X-User-Id, X-User-Name, X-User-Domain-Id, X-User-Domain-Name,
	// X-Project-Id, X-Project-Name, X-Project-Domain-Id,
	// X-Project-Domain-Name, X-Domain-Id, X-Domain-Name, X-Roles,
	// OpenStack-System-Scope, X-Is-Admin-Project, X-Service-Catalog (with
	// Config.IncludeCatalog), the X-Service-* counterparts for a service
	// token and the legacy X-Role, X-User, X-Tenant-Id, X-Tenant-Name and
	// X-Tenant. See Handler for how each is set.
	ForwardHeaders bool
}

// Handler returns an http.Handler that authenticates each request with v
// and passes it to next with its Identity in the context (FromContext).
//
// It first removes every identity header a client could spoof (the list of
// keystonemiddleware's auth_token, plus OpenStack-System-Scope and the
// former X-System-Scope and X-Service-System-Scope) in every spelling: case
// and '-' or '_' do not matter, as they do not to a WSGI server, which folds
// X-User-Id, X_User_Id and x_USER_id into one HTTP_X_USER_ID. It drops the
// identity headers a Connection header names (a reverse proxy behind would
// otherwise drop, as hop-by-hop, the ones the handler sets). Then it reads
// X-Auth-Token (or the legacy X-Storage-Token) and X-Service-Token, in
// their canonical spelling only; each is passed on with the value that was
// validated and no other spelling or value. A valid service token carrying
// a service role lets an expired user token through (Keystone's
// allow_expired), as keystonemiddleware does, so that a long operation
// started by a user can be finished by a service.
//
// With ForwardHeaders, the headers are set as keystonemiddleware sets
// them, except where geostack is deliberately stricter:
//
//   - X-Is-Admin-Project is always "False". keystonemiddleware forwards
//     Keystone's is_admin_project and, when the token has none (Keystone
//     has no [resource] admin_project_name, or the token is domain-scoped
//     or unscoped), says "True", which oslo.context also assumes for a
//     missing header. A backend of product domains serves no cloud
//     operator's admin project.
//   - OpenStack-System-Scope is "all" for a system-scoped user token, and
//     absent otherwise; keystonemiddleware also sets it from a
//     system-scoped service token. (The Validator refuses system-scoped
//     user tokens, so a backend never sees it set.)
//   - X-Service-Catalog is the catalog of the user token in
//     keystonemiddleware's layout (one entry per service: type, name and
//     endpoints grouped by region with publicURL, internalURL, adminURL),
//     when Config.IncludeCatalog fetched it.
//
// It answers 401 with WWW-Authenticate: Keystone uri="<user_auth_url>" for a
// missing, invalid, expired or other-domain token, for a token whose access
// rules do not permit the request and for a service token that is invalid
// or lacks a service role; 403 when the roles are not met; 503 when
// Keystone cannot be asked. Each rejection is logged with its reason and the
// token's fingerprint, never the token.
func (v *Validator) Handler(next http.Handler, o HandlerOptions) http.Handler {
	h := &handler{v: v, next: next, o: o, accessRulesOf: tokenAccessRules}
	if o.ForwardHeaders && v.cfg.IncludeCatalog {
		h.catalogs = newCatalogHeaders()
	}
	return h
}

type handler struct {
	v    *Validator
	next http.Handler
	o    HandlerOptions
	// accessRulesOf returns a token's access rules (tokenAccessRules).
	accessRulesOf func(*identity.Token) ([]accessRule, bool)
	// catalogs caches X-Service-Catalog values; nil when none is set.
	catalogs *catalogHeaders
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := r.Header
	userToken := firstValue(in, "X-Auth-Token")
	if userToken == "" {
		userToken = firstValue(in, "X-Storage-Token")
	}
	serviceToken := firstValue(in, "X-Service-Token")
	id := &Identity{}

	if serviceToken != "" {
		tok, err := h.v.validateService(ctx, serviceToken)
		if err != nil {
			h.v.rejected(err)
			if h.reject(w, r, err) {
				return
			}
			id.ServiceStatus, id.ServiceErr = StatusInvalid, err
		} else {
			id.ServiceStatus, id.Service = StatusConfirmed, tok
		}
	}
	tok, err := h.v.validateUser(ctx, userToken, id.ServiceStatus == StatusConfirmed)
	if err == nil {
		err = h.checkAccessRules(tok, userToken, r, id.ServiceStatus == StatusConfirmed)
	}
	if err != nil {
		h.v.rejected(err)
		if h.reject(w, r, err) {
			return
		}
		id.Status, id.Err = StatusInvalid, err
	} else {
		id.Status, id.Token = StatusConfirmed, tok
	}

	header := in
	if set := h.o.ForwardHeaders || h.o.DelayAuthDecision; set || needsRewrite(in) {
		// The server's request is not ours to change: a copy, in one go.
		extra := 0
		if set {
			extra = h.headerCount(id)
		}
		hw := newHeaderWriter(in, extra)
		if set {
			h.setHeaders(&hw, id)
		}
		header = hw.h
	}
	r2 := r.WithContext(NewContext(ctx, id))
	r2.Header = header
	h.next.ServeHTTP(w, r2)
}

// firstValue is the first value of h's canonical key k, or "".
func firstValue(h http.Header, k string) string {
	if vv := h[k]; len(vv) > 0 {
		return vv[0]
	}
	return ""
}

// reject logs err and, unless the decision is delayed, answers it. It
// reports whether the request was answered.
func (h *handler) reject(w http.ResponseWriter, r *http.Request, err error) bool {
	code := status(err)
	level := slog.LevelInfo
	var e *Error
	if errors.As(err, &e) && e.Kind == ErrWrongDomain {
		level = slog.LevelWarn // Keystone said valid: someone crossed products
	}
	if code == http.StatusServiceUnavailable {
		level = slog.LevelError
	}
	answered := code == http.StatusServiceUnavailable || !h.o.DelayAuthDecision
	h.v.log.LogAttrs(r.Context(), level, "authtoken: request not authenticated",
		slog.Int("status", code), slog.Bool("delayed", !answered),
		slog.String("method", r.Method), slog.String("error", err.Error()))
	if !answered {
		return false
	}
	wh := w.Header()
	wh.Set("Content-Type", "application/json")
	switch code {
	case http.StatusUnauthorized:
		wh.Set("WWW-Authenticate", h.v.wwwAuth)
		w.WriteHeader(code)
		w.Write([]byte(`{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}` + "\n"))
	case http.StatusForbidden:
		w.WriteHeader(code)
		w.Write([]byte(`{"error":{"code":403,"title":"Forbidden","message":"You are not authorized to perform the requested action."}}` + "\n"))
	default:
		if e != nil && e.RetryAfter > 0 {
			wh.Set("Retry-After", strconv.Itoa(int(max(e.RetryAfter/time.Second, 1))))
		}
		w.WriteHeader(code)
		w.Write([]byte(`{"error":{"code":503,"title":"Service Unavailable","message":"The authentication service is unavailable."}}` + "\n"))
	}
	return true
}

// headerCount is at most how many headers setHeaders sets for id.
func (h *handler) headerCount(id *Identity) int {
	n := 3 // X-Identity-Status, X-Service-Identity-Status, X-Is-Admin-Project
	if h.o.ForwardHeaders {
		if id.Token != nil {
			n += 18
		}
		if id.Service != nil {
			n += 11
		}
	}
	return n
}

// setHeaders sets the identity headers of id on w.
func (h *handler) setHeaders(w *headerWriter, id *Identity) {
	w.set("X-Identity-Status", id.Status.String())
	if id.ServiceStatus != StatusNone {
		w.set("X-Service-Identity-Status", id.ServiceStatus.String())
	}
	// Never "True": see Handler. It is set on every request, the
	// unauthenticated ones included, since oslo.context takes a missing
	// header for "True".
	w.set("X-Is-Admin-Project", "False")
	if !h.o.ForwardHeaders {
		return
	}
	if t := id.Token; t != nil {
		roles := roleNames(t)
		w.setIf("X-User-Id", t.User.ID)
		w.setIf("X-User-Name", t.User.Name)
		w.setIf("X-User-Domain-Id", t.User.Domain.ID)
		w.setIf("X-User-Domain-Name", t.User.Domain.Name)
		if p := t.Project; p != nil {
			w.setIf("X-Project-Id", p.ID)
			w.setIf("X-Project-Name", p.Name)
			w.setIf("X-Project-Domain-Id", p.Domain.ID)
			w.setIf("X-Project-Domain-Name", p.Domain.Name)
			// The legacy aliases, as keystonemiddleware still sends them.
			w.setIf("X-Tenant-Id", p.ID)
			w.setIf("X-Tenant-Name", p.Name)
			w.setIf("X-Tenant", p.Name)
		}
		if d := t.Domain; d != nil {
			w.setIf("X-Domain-Id", d.ID)
			w.setIf("X-Domain-Name", d.Name)
		}
		if t.System {
			w.set("OpenStack-System-Scope", "all")
		}
		w.set("X-Roles", roles)
		w.set("X-Role", roles)
		w.setIf("X-User", t.User.Name)
		if h.catalogs != nil {
			w.setIf("X-Service-Catalog", h.catalogs.value(t))
		}
	}
	if t := id.Service; t != nil {
		w.setIf("X-Service-User-Id", t.User.ID)
		w.setIf("X-Service-User-Name", t.User.Name)
		w.setIf("X-Service-User-Domain-Id", t.User.Domain.ID)
		w.setIf("X-Service-User-Domain-Name", t.User.Domain.Name)
		if p := t.Project; p != nil {
			w.setIf("X-Service-Project-Id", p.ID)
			w.setIf("X-Service-Project-Name", p.Name)
			w.setIf("X-Service-Project-Domain-Id", p.Domain.ID)
			w.setIf("X-Service-Project-Domain-Name", p.Domain.Name)
		}
		if d := t.Domain; d != nil {
			w.setIf("X-Service-Domain-Id", d.ID)
			w.setIf("X-Service-Domain-Name", d.Name)
		}
		w.set("X-Service-Roles", roleNames(t))
	}
}

// roleNames is keystonemiddleware's X-Roles value: the role names joined
// with ",".
func roleNames(t *identity.Token) string {
	switch len(t.Roles) {
	case 0:
		return ""
	case 1:
		return t.Roles[0].Name
	}
	n := len(t.Roles) - 1
	for _, r := range t.Roles {
		n += len(r.Name)
	}
	var b strings.Builder
	b.Grow(n)
	for i, r := range t.Roles {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.Name)
	}
	return b.String()
}
