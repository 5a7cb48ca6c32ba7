package authtoken

import (
	"errors"
	"log/slog"
	"net/http"
	"net/textproto"
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
	// request passed on (X-Identity-Status, X-User-Id, X-User-Name,
	// X-User-Domain-Id, X-Project-Id, X-Roles, their X-Service-*
	// counterparts and the legacy X-Tenant-Id, X-Tenant-Name, X-Tenant,
	// X-User and X-Role), for backends behind a proxy. X-Is-Admin-Project
	// and X-Service-Catalog are never set.
	ForwardHeaders bool
}

// Handler returns an http.Handler that authenticates each request with v
// and passes it to next with its Identity in the context (FromContext).
//
// It first removes every identity header a client could spoof (the list of
// keystonemiddleware's auth_token), then reads X-Auth-Token (or the legacy
// X-Storage-Token) and X-Service-Token. The tokens themselves are left in
// place for the backend to use. A valid service token carrying a service
// role lets an expired user token through (Keystone's allow_expired), as
// keystonemiddleware does, so that a long operation started by a user can
// be finished by a service.
//
// It answers 401 with WWW-Authenticate: Keystone uri="<user_auth_url>" for a
// missing, invalid, expired or other-domain token and for a service token
// that is invalid or lacks a service role; 403 when the roles are not met;
// 503 when Keystone cannot be asked. Each rejection is logged with its
// reason and the token's fingerprint, never the token.
func (v *Validator) Handler(next http.Handler, o HandlerOptions) http.Handler {
	return &handler{v: v, next: next, o: o}
}

type handler struct {
	v    *Validator
	next http.Handler
	o    HandlerOptions
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	header := r.Header
	if h.o.ForwardHeaders || h.o.DelayAuthDecision || spoofed(header) {
		// The server's request is not ours to change: work on a copy.
		header = header.Clone()
		strip(header)
	}
	userToken := header.Get("X-Auth-Token")
	if userToken == "" {
		userToken = header.Get("X-Storage-Token")
	}
	id := &Identity{}

	if svc := header.Get("X-Service-Token"); svc != "" {
		tok, err := h.v.ValidateService(ctx, svc)
		if err != nil {
			if h.reject(w, r, err) {
				return
			}
			id.ServiceStatus, id.ServiceErr = StatusInvalid, err
		} else {
			id.ServiceStatus, id.Service = StatusConfirmed, tok
		}
	}
	tok, err := h.v.validateUser(ctx, userToken, id.ServiceStatus == StatusConfirmed)
	if err != nil {
		if h.reject(w, r, err) {
			return
		}
		id.Status, id.Err = StatusInvalid, err
	} else {
		id.Status, id.Token = StatusConfirmed, tok
	}

	if h.o.ForwardHeaders || h.o.DelayAuthDecision {
		header.Set("X-Identity-Status", id.Status.String())
		if id.ServiceStatus != StatusNone {
			header.Set("X-Service-Identity-Status", id.ServiceStatus.String())
		}
	}
	if h.o.ForwardHeaders {
		setHeaders(header, "", id.Token)
		setHeaders(header, "-Service", id.Service)
		if t := id.Token; t != nil {
			setLegacy(header, t)
		}
	}
	r2 := r.WithContext(NewContext(ctx, id))
	r2.Header = header
	h.next.ServeHTTP(w, r2)
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

// identityFields are keystonemiddleware's per-token headers, without
// their "X" and optional "-Service" prefix.
var identityFields = []string{
	"-Domain-Id", "-Domain-Name",
	"-Project-Id", "-Project-Name", "-Project-Domain-Id", "-Project-Domain-Name",
	"-User-Id", "-User-Name", "-User-Domain-Id", "-User-Domain-Name",
	"-Roles", "-System-Scope",
}

// stripped is every header a client could spoof: keystonemiddleware's
// remove_auth_headers list, canonicalised.
var stripped = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, h := range []string{
		"X-Identity-Status", "X-Service-Identity-Status", "X-Service-Catalog", "X-Is-Admin-Project",
		"X-Role", "X-User", "X-Tenant-Id", "X-Tenant-Name", "X-Tenant",
	} {
		m[textproto.CanonicalMIMEHeaderKey(h)] = struct{}{}
	}
	for _, p := range []string{"X", "X-Service"} {
		for _, f := range identityFields {
			m[textproto.CanonicalMIMEHeaderKey(p+f)] = struct{}{}
		}
	}
	return m
}()

// isStripped reports whether k names a header to strip, whatever its case.
func isStripped(k string) bool {
	if _, ok := stripped[k]; ok {
		return true
	}
	if len(k) < 2 || (k[0] != 'x' && k[0] != 'X') {
		return false
	}
	_, ok := stripped[textproto.CanonicalMIMEHeaderKey(k)]
	return ok
}

// spoofed reports whether h holds a header to strip.
func spoofed(h http.Header) bool {
	for k := range h {
		if isStripped(k) {
			return true
		}
	}
	return false
}

func strip(h http.Header) {
	for k := range h {
		if isStripped(k) {
			delete(h, k)
		}
	}
}

// setHeaders sets the identity headers of t with prefix "" or "-Service".
func setHeaders(h http.Header, prefix string, t *identity.Token) {
	if t == nil {
		return
	}
	set := func(name, v string) {
		if v != "" {
			h["X"+prefix+name] = []string{v}
		}
	}
	set("-User-Id", t.User.ID)
	set("-User-Name", t.User.Name)
	set("-User-Domain-Id", t.User.Domain.ID)
	set("-User-Domain-Name", t.User.Domain.Name)
	if p := t.Project; p != nil {
		set("-Project-Id", p.ID)
		set("-Project-Name", p.Name)
		set("-Project-Domain-Id", p.Domain.ID)
		set("-Project-Domain-Name", p.Domain.Name)
	}
	if d := t.Domain; d != nil {
		set("-Domain-Id", d.ID)
		set("-Domain-Name", d.Name)
	}
	if t.System {
		set("-System-Scope", "all")
	}
	h["X"+prefix+"-Roles"] = []string{roleNames(t)}
}

// setLegacy sets the deprecated aliases keystonemiddleware still sends.
func setLegacy(h http.Header, t *identity.Token) {
	h["X-User"] = []string{t.User.Name}
	h["X-Role"] = []string{roleNames(t)}
	if p := t.Project; p != nil {
		h["X-Tenant-Id"] = []string{p.ID}
		h["X-Tenant-Name"] = []string{p.Name}
		h["X-Tenant"] = []string{p.Name}
	}
}

func roleNames(t *identity.Token) string {
	names := make([]string, len(t.Roles))
	for i, r := range t.Roles {
		names[i] = r.Name
	}
	return strings.Join(names, ",")
}
