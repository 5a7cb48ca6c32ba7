package geostack

import (
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/geostack/geostack/catalog"
)

// apiVersion is the path gophercloud's service packages expect under an
// unversioned endpoint, by official service type. Services whose catalog
// URL is the versioned API root already (compute, block-storage,
// object-store, ...) are not listed.
var apiVersion = map[string]string{
	"image":         "v2/",
	"network":       "v2.0/",
	"dns":           "v2/",
	"load-balancer": "v2.0/",
	"key-manager":   "v1/",
	"baremetal":     "v1/",
	"identity":      "v3/",
}

// clientType is the ServiceClient.Type gophercloud uses for microversion
// headers, where it differs from the official service type.
var clientType = map[string]string{
	"shared-file-system":                  "sharev2",
	"container-infrastructure-management": "container-infra",
}

// versioned matches an endpoint whose last path segment is an API version,
// such as ".../v2", ".../v2.0" or ".../v3/".
var versioned = regexp.MustCompile(`/v\d+(\.\d+)?/?$`)

// newServiceClient builds the gophercloud ServiceClient for a selected
// endpoint, the way gophercloud's openstack.New* constructors do, but from
// our own deterministic selection and without a version-discovery request:
// the versioned resource base is derived once, here.
func newServiceClient(pc *gophercloud.ProviderClient, ep catalog.Endpoint) *gophercloud.ServiceClient {
	typ := ep.ServiceType
	sc := &gophercloud.ServiceClient{
		ProviderClient: pc,
		Endpoint:       gophercloud.NormalizeURL(ep.URL),
		Type:           typ,
	}
	if t, ok := clientType[typ]; ok {
		sc.Type = t
	}
	if v, ok := apiVersion[typ]; ok && !versioned.MatchString(strings.TrimSuffix(ep.URL, "/")+"/") {
		sc.ResourceBase = sc.Endpoint + v
	}
	return sc
}
