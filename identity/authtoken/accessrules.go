package authtoken

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/identity"
)

// accessRule is one access rule of an application credential: the token
// may be used for requests with Method to Path at the service of type
// Service.
//
// Path is a pattern: "*" and "{name}" stand for one path segment (one or
// more characters other than '/'), "**" for any run of characters ('/'
// included, possibly none), and every other character for itself. The
// pattern must match the whole request path (URL-decoded, as
// http.Request.URL.Path has it). A '{' without its '}', and a lone '}', are
// ignored, as keystonemiddleware ignores them.
type accessRule struct {
	Service string
	Method  string
	Path    string
}

// permits reports whether the rule lets a request with method to path
// through a backend of serviceType.
func (a accessRule) permits(serviceType, method, path string) bool {
	if a.Service != serviceType || a.Method != method {
		return false
	}
	re, err := regexp.Compile(pathPattern(a.Path))
	return err == nil && re.MatchString(path)
}

// pathPattern translates an access rule path into an anchored regular
// expression.
//
// keystonemiddleware puts the other characters of the pattern into its
// regular expression as they are, so that "." in "/v2.1/servers" matches
// any character ("/v2x1/servers" passes) and some patterns fail to compile.
// Here they are quoted: every character other than the wildcards stands
// for itself.
func pathPattern(p string) string {
	var b strings.Builder
	b.WriteString(`\A`)
	for i := 0; i < len(p); {
		switch {
		case p[i] == '{':
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				i++ // an unclosed '{' stands for nothing
				continue
			}
			b.WriteString(`[^/]+`)
			i += end + 1
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(`.*`)
			i += 2
		case p[i] == '*':
			b.WriteString(`[^/]+`)
			i++
		case p[i] == '}':
			i++ // a lone '}' stands for nothing
		default:
			j := i + 1
			for j < len(p) && !strings.ContainsRune("{}*", rune(p[j])) {
				j++
			}
			b.WriteString(regexp.QuoteMeta(p[i:j]))
			i = j
		}
	}
	b.WriteString(`\z`)
	return b.String()
}

// checkAccessRules applies the access rules of tok, if it has any, to r,
// as keystonemiddleware does:
//
//  1. a token with access rules is refused if the handler has no
//     ServiceType;
//  2. a GET of .../v3/auth/tokens is always permitted to the identity
//     service, so that a token can be validated whatever its rules;
//  3. the ServiceType must be a service type of the token's catalog, when
//     the catalog was fetched (Config.IncludeCatalog; keystonemiddleware
//     always needs it);
//  4. a request that came with a valid service token is permitted: it is
//     part of a chain of requests between services, not one a user made;
//  5. otherwise one rule must permit the request's method and path for the
//     ServiceType.
//
// keystonemiddleware lifts the rules (step 4) for any X-Service-Token, even
// one it found invalid, which matters when the decision is delayed. Here
// only a confirmed one does.
func (h *handler) checkAccessRules(tok *identity.Token, token string, r *http.Request, serviceConfirmed bool) error {
	rules, restricted := h.accessRulesOf(tok)
	if !restricted {
		return nil
	}
	deny := func(reason string) error {
		return &Error{Kind: ErrAccessRules, Token: identity.TokenFingerprint(token), Reason: reason}
	}
	st := h.v.cfg.ServiceType
	switch {
	case st == "":
		return deny("the token has access rules and the handler has no ServiceType to check them against")
	case st == "identity" && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/v3/auth/tokens"):
		return nil
	}
	if h.v.cfg.IncludeCatalog {
		entries, _ := rawCatalog(tok)
		if !slices.ContainsFunc(entries, func(e tokens.CatalogEntry) bool { return e.Type == st }) {
			return deny(fmt.Sprintf("service type %q is not in the token's catalog", st))
		}
	}
	if serviceConfirmed {
		return nil
	}
	for _, rule := range rules {
		if rule.permits(st, r.Method, r.URL.Path) {
			return nil
		}
	}
	return deny(fmt.Sprintf("no access rule permits %s %s at service type %s", r.Method, r.URL.Path, st))
}

// tokenAccessRules returns the access rules of the application credential
// tok was issued for, and whether it has any. Keystone sends them only to a
// Validator that announced it enforces them (Config.ServiceType set); to
// any other it refuses such tokens (404), so they never get this far.
func tokenAccessRules(tok *identity.Token) ([]accessRule, bool) {
	a := tok.ApplicationCredential
	if a == nil || len(a.AccessRules) == 0 {
		return nil, false
	}
	rules := make([]accessRule, len(a.AccessRules))
	for i, r := range a.AccessRules {
		rules[i] = accessRule{Service: r.Service, Method: r.Method, Path: r.Path}
	}
	return rules, true
}
