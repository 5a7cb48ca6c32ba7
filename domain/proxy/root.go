package proxy

import (
	"errors"
	"net/url"
	"strings"

	"github.com/geostack/geostack/catalog"
)

// Root returns the root of a service from one of its endpoint URLs: the URL
// without its API version and whatever follows it, and without a trailing
// slash. "https://h/compute/v2.1" gives "https://h/compute",
// "https://h/volume/v3/$(project_id)s" gives "https://h/volume"; a URL
// without a version segment ("https://h/image") is its own root. The URL
// must be absolute http or https, without user information, query or
// fragment; the error says what is wrong without repeating it.
func Root(endpoint string) (string, error) {
	if strings.Contains(endpoint, "@") {
		return "", errors.New("proxy: URL must not hold user information")
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return "", errors.New("proxy: URL does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("proxy: URL is not an absolute http or https URL")
	case u.Host == "":
		return "", errors.New("proxy: URL has no host")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", errors.New("proxy: URL must not hold a query or a fragment")
	}
	segs := strings.Split(u.Path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if isVersion(segs[i]) {
			segs = segs[:i]
			break
		}
	}
	u.Path = strings.TrimRight(strings.Join(segs, "/"), "/")
	u.RawPath = ""
	return u.String(), nil
}

// FromCatalog returns the root (see Root) of the endpoint q selects in
// cat: the upstream of a proxy for that service and region. The
// endpoint's project, or its project template, is cut with the version.
func FromCatalog(cat *catalog.Catalog, q catalog.Query) (string, error) {
	ep, err := cat.Select(q)
	if te, ok := errors.AsType[*catalog.UnresolvedTemplateError](err); ok {
		ep, err = te.Endpoint, nil // the template follows the version, which is cut
	}
	if err != nil {
		return "", err
	}
	return Root(ep.URL)
}
