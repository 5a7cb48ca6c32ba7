package authtoken

import (
	"net/http"
	"strings"
)

// Header names, in every spelling.
//
// keystonemiddleware runs inside a WSGI application, where the server has
// already folded every spelling of a header name into one environ key:
// X-User-Id, X_User_Id and x_USER-id all arrive as HTTP_X_USER_ID (uwsgi
// joins their values with ", "). Removing that key removes them all. A Go
// handler sees each spelling as a header of its own, and a WSGI server
// behind a Go reverse proxy folds them again. So the handler treats a name
// the way WSGI does: case-insensitively, with '-' and '_' alike.

// headerKind is what the handler does with a header.
type headerKind uint8

const (
	// headerOther is passed on as it came.
	headerOther headerKind = iota
	// headerIdentity is an identity header: removed from every request in
	// every spelling, and set by the handler when it forwards identities.
	headerIdentity
	// headerToken is a token header (X-Auth-Token, X-Storage-Token,
	// X-Service-Token): only its canonical spelling is read, and only that
	// spelling's first value, the one validated, is passed on.
	headerToken
)

// maxManagedName is longer than every managed name ("x-service-project-
// domain-name" is the longest, 29 bytes).
const maxManagedName = 32

// managedNames maps the folded form (lower case, '-' for '_') of every
// managed name to its kind.
//
// The identity headers are keystonemiddleware's: every header its
// remove_auth_headers strips, plus OpenStack-System-Scope, which it sets
// (from the user token, and then from the service token) but does not strip,
// so that a client's value reaches the application whenever no token sets
// it; and geostack's former X-System-Scope and X-Service-System-Scope, which
// a Go backend built against an earlier geostack may still read.
var managedNames = func() map[string]headerKind {
	m := map[string]headerKind{
		"x-auth-token": headerToken, "x-storage-token": headerToken, "x-service-token": headerToken,
	}
	for _, n := range []string{
		"x-service-catalog", "x-identity-status", "x-service-identity-status", "x-is-admin-project",
		"x-role", "x-user", "x-tenant-id", "x-tenant-name", "x-tenant",
		"openstack-system-scope", "x-system-scope", "x-service-system-scope",
	} {
		m[n] = headerIdentity
	}
	for _, prefix := range []string{"x", "x-service"} {
		for _, f := range []string{
			"-domain-id", "-domain-name",
			"-project-id", "-project-name", "-project-domain-id", "-project-domain-name",
			"-user-id", "-user-name", "-user-domain-id", "-user-domain-name",
			"-roles",
		} {
			m[prefix+f] = headerIdentity
		}
	}
	return m
}()

// kindOf classifies the header name k, in any spelling. It does not
// allocate.
func kindOf(k string) headerKind {
	if len(k) < len("x-user") || len(k) > maxManagedName {
		return headerOther
	}
	switch k[0] {
	case 'x', 'X', 'o', 'O':
	default:
		return headerOther
	}
	var buf [maxManagedName]byte
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		buf[i] = c
	}
	return managedNames[string(buf[:len(k)])]
}

// isCanonicalToken reports whether k is the one spelling of a token header
// that is read: the canonical form, which net/http's server gives every
// header whose name has dashes and no underscores.
func isCanonicalToken(k string) bool {
	return k == "X-Auth-Token" || k == "X-Storage-Token" || k == "X-Service-Token"
}

// needsRewrite reports whether h must be rewritten before it is passed on:
// it holds an identity header, a token header in another spelling or with
// more than one value, or a Connection header naming an identity header.
func needsRewrite(h http.Header) bool {
	for k, vv := range h {
		switch kindOf(k) {
		case headerIdentity:
			return true
		case headerToken:
			if !isCanonicalToken(k) || len(vv) > 1 {
				return true
			}
		}
	}
	for _, v := range h["Connection"] {
		if namesIdentity(v) {
			return true
		}
	}
	return false
}

// namesIdentity reports whether the Connection header value v names an
// identity header.
func namesIdentity(v string) bool {
	for name := range strings.SplitSeq(v, ",") {
		if kindOf(strings.TrimSpace(name)) == headerIdentity {
			return true
		}
	}
	return false
}

// withoutIdentity is the Connection header value v without the identity
// headers it names. A client that lists X-Is-Admin-Project there would make
// a reverse proxy behind the handler drop, as hop-by-hop, the header the
// handler set; the client's own identity headers are gone already.
func withoutIdentity(v string) string {
	var kept []string
	for name := range strings.SplitSeq(v, ",") {
		if n := strings.TrimSpace(name); n != "" && kindOf(n) != headerIdentity {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, ", ")
}

// headerWriter builds the header passed on: one map, and one backing array
// for every value, as http.Header.Clone does.
type headerWriter struct {
	h    http.Header
	vals []string
}

// newHeaderWriter copies src without its identity headers, with only the
// canonical spelling and first value of each token header, and with its
// Connection values cleaned, leaving room for extra more values.
func newHeaderWriter(src http.Header, extra int) headerWriter {
	n := extra
	for _, vv := range src {
		n += len(vv) // room for all, though some are dropped: one pass of kindOf
	}
	w := headerWriter{h: make(http.Header, len(src)+extra), vals: make([]string, n)}
	for k, vv := range src {
		switch kindOf(k) {
		case headerIdentity:
			continue
		case headerToken:
			if !isCanonicalToken(k) || len(vv) == 0 {
				continue
			}
			vv = vv[:1]
		}
		m := 0
		for _, v := range vv {
			if k == "Connection" && namesIdentity(v) {
				if v = withoutIdentity(v); v == "" {
					continue
				}
			}
			w.vals[m] = v
			m++
		}
		if m > 0 {
			w.h[k] = w.vals[:m:m]
			w.vals = w.vals[m:]
		}
	}
	return w
}

// set sets the header k, a canonical name, to v. The writer must have room
// left.
func (w *headerWriter) set(k, v string) {
	w.vals[0] = v
	w.h[k] = w.vals[:1:1]
	w.vals = w.vals[1:]
}

// setIf sets k to v unless v is empty: keystonemiddleware sets a missing
// attribute to None, which a WSGI application cannot tell from an absent
// header.
func (w *headerWriter) setIf(k, v string) {
	if v != "" {
		w.set(k, v)
	}
}
