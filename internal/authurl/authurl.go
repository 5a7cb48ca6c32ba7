// Package authurl is the one judge of Keystone auth URLs: identity, region
// and domain all accept or refuse an auth_url by its rules, and all show a
// refused one in their errors through Redact.
package authurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Root checks raw and returns the identity root gophercloud expects: no
// trailing slash, no trailing "/v3", scheme and host in lower case, so that
// equivalent spellings compare equal. The path is otherwise kept as given
// ("https://host/identity/v3" has the root "https://host/identity").
//
// An auth URL that is empty, does not parse, is not absolute http or https,
// has no host, or holds a query, a fragment or user information is refused.
// The error says which, and never repeats raw: user information, even in a
// URL without a scheme ("admin:pw@host/v3", which parses with no user), is
// a password or a token.
func Root(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("is empty")
	}
	if strings.Contains(raw, "@") {
		return "", errors.New("must not hold user information")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("does not parse as a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return "", errors.New("is not an absolute http or https URL")
		}
		return "", fmt.Errorf("has the scheme %q, not http or https", u.Scheme)
	case u.Host == "":
		return "", errors.New("has no host")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", errors.New("must not hold a query or a fragment")
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/v3")
	u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String(), nil
}

// Redact returns raw for an error message, or a placeholder when it may
// hold a secret: whatever precedes an "@" may be a password or a token.
func Redact(raw string) string {
	if strings.Contains(raw, "@") {
		return "(URL with user information, not shown)"
	}
	return raw
}
