package geostack

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/authurl"
	"github.com/geostack/geostack/tokencache"
)

// constructors are gophercloud's own ServiceClient constructors by official
// service type: each knows its service's resource base and client type, so
// a ServiceClient made here is the one openstack.NewXxx would make.
var constructors = map[string]func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error){
	"compute":                             openstack.NewComputeV2,
	"network":                             openstack.NewNetworkV2,
	"image":                               openstack.NewImageV2,
	"block-storage":                       openstack.NewBlockStorageV3,
	"identity":                            openstack.NewIdentityV3,
	"object-store":                        openstack.NewObjectStorageV1,
	"dns":                                 openstack.NewDNSV2,
	"load-balancer":                       openstack.NewLoadBalancerV2,
	"key-manager":                         openstack.NewKeyManagerV1,
	"baremetal":                           openstack.NewBareMetalV1,
	"baremetal-introspection":             openstack.NewBareMetalIntrospectionV1,
	"orchestration":                       openstack.NewOrchestrationV1,
	"shared-file-system":                  openstack.NewSharedFileSystemV2,
	"placement":                           openstack.NewPlacementV1,
	"container-infrastructure-management": openstack.NewContainerInfraV1,
	"container":                           openstack.NewContainerV1,
	"workflowv2":                          openstack.NewWorkflowV2,
	"reservation":                         openstack.NewReservationV1,
	"database":                            openstack.NewDBV1,
	"metric":                              openstack.NewMetricV1,
}

// binding is one token and the gophercloud provider that carries it: the
// client's only one, or, with Config.TokenPerLocation, one per location.
type binding struct {
	location string // "" when the token serves every location
	handle   *tokencache.Handle
	provider *gophercloud.ProviderClient
}

// newBinding builds the provider of h: its requests carry h's token, and
// its EndpointLocator selects from the token's catalog with the client's
// interface preferences, so that gophercloud's own constructors
// (openstack.NewComputeV2 and the rest) work on it.
func (c *Client) newBinding(location string, h *tokencache.Handle, httpClient *http.Client) *binding {
	b := &binding{location: location, handle: h, provider: tokencache.NewProviderClient(h, httpClient)}
	b.provider.EndpointLocator = func(eo gophercloud.EndpointOpts) (string, error) {
		ep, err := c.selectEndpoint(context.Background(), b, eo)
		if err != nil {
			return "", err
		}
		return gophercloud.NormalizeURL(ep.URL), nil
	}
	return b
}

// selectEndpoint picks eo's endpoint from the catalog of b's token. An
// Availability of internal or admin is honoured; public, which gophercloud
// fills in when the caller gives none, means the configured preference.
func (c *Client) selectEndpoint(ctx context.Context, b *binding, eo gophercloud.EndpointOpts) (catalog.Endpoint, error) {
	tok, err := b.handle.Token(ctx)
	if err != nil {
		return catalog.Endpoint{}, err
	}
	canon := catalog.CanonicalType(eo.Type)
	ifs := c.interfaces(canon)
	switch eo.Availability {
	case gophercloud.AvailabilityInternal, gophercloud.AvailabilityAdmin:
		ifs = []catalog.Interface{catalog.Interface(eo.Availability)}
	}
	ep, err := tok.Catalog.Select(catalog.Query{Type: canon, Name: eo.Name, Region: eo.Region, Interfaces: ifs})
	if err != nil {
		return catalog.Endpoint{}, fmt.Errorf("geostack: endpoint of %s in %s: %w", eo.Type, eo.Region, err)
	}
	return ep, nil
}

// bindingFor returns the binding whose token serves region: the client's
// one, or the one of region's location.
func (c *Client) bindingFor(region string) (*binding, error) {
	if c.byLocation == nil {
		return c.home, nil
	}
	loc, err := c.resolver.LocationOf(region)
	if err != nil {
		return nil, fmt.Errorf("geostack: token for region %s: %w", region, err)
	}
	return c.byLocation[loc], nil
}

// ServiceClient returns a gophercloud ServiceClient for serviceType (an
// official type such as "compute" or "block-storage", or an alias such as
// "volumev3") in region. It is the ServiceClient gophercloud's own
// constructor for the type would make (openstack.NewComputeV2 for compute,
// and so on), on the client's provider: every request it makes carries the
// client's one cached token.
//
// The endpoint is chosen once per (type, region), from the catalog, with
// the configured interface preference; no version-discovery request is
// made. Each call returns a copy the caller owns: setting its Microversion
// changes no other caller's requests.
func (c *Client) ServiceClient(ctx context.Context, serviceType, region string) (*gophercloud.ServiceClient, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	canon := catalog.CanonicalType(serviceType)
	k := serviceKey{canon, region}
	if sc, ok := c.services.Load(k); ok {
		cp := *sc.(*gophercloud.ServiceClient)
		return &cp, nil
	}
	b, err := c.bindingFor(region)
	if err != nil {
		return nil, err
	}
	// Select first, with the caller's context: the locator gophercloud
	// calls has none, and then finds the token cached.
	ep, err := c.selectEndpoint(ctx, b, gophercloud.EndpointOpts{Type: canon, Region: region})
	if err != nil {
		return nil, fmt.Errorf("geostack: service client for %s in %s: %w", serviceType, region, err)
	}
	var sc *gophercloud.ServiceClient
	if newSC, ok := constructors[canon]; ok {
		if sc, err = newSC(b.provider, gophercloud.EndpointOpts{Region: region}); err != nil {
			return nil, fmt.Errorf("geostack: service client for %s in %s: %w", serviceType, region, err)
		}
	} else {
		sc = &gophercloud.ServiceClient{ProviderClient: b.provider, Endpoint: gophercloud.NormalizeURL(ep.URL), Type: canon}
	}
	stored, _ := c.services.LoadOrStore(k, sc)
	cp := *stored.(*gophercloud.ServiceClient)
	return &cp, nil
}

// Provider returns the gophercloud ProviderClient whose requests carry the
// client's token (its home location's, with Config.TokenPerLocation). Its
// EndpointLocator selects from the token's catalog with the configured
// interface preferences, so that gophercloud's constructors work on it as
// they do on a provider of openstack.AuthenticatedClient:
//
//	compute, err := openstack.NewComputeV2(client.Provider(), gophercloud.EndpointOpts{Region: "SIN1"})
//
// The locator has no context: when no token is cached it waits for the
// fetch (bounded by the cache's FetchTimeout). Don't call SetToken,
// UseTokenLock or Reauthenticate on it: the token is the cache's.
func (c *Client) Provider() *gophercloud.ProviderClient { return c.home.provider }

// Regions lists the regions of the token's catalog that offer one of
// serviceTypes (official types or aliases), sorted; with none, the regions
// that offer any service but identity, which leaves out the identity-only
// parent regions of a region tree (JP above TYO1 and OSA1). A region added
// to the cloud appears here without any change to the client.
func (c *Client) Regions(ctx context.Context, serviceTypes ...string) ([]string, error) {
	tok, err := c.home.handle.Token(ctx)
	if err != nil {
		return nil, err
	}
	if len(serviceTypes) == 0 {
		serviceTypes = slices.DeleteFunc(tok.Catalog.Types(), func(t string) bool { return t == "identity" })
		if len(serviceTypes) == 0 {
			return nil, nil
		}
	}
	return tok.Catalog.Regions(serviceTypes...), nil
}

// PrimaryIdentity returns an identity v3 ServiceClient bound to the primary
// location, the only one that accepts identity writes (users, projects,
// application credentials):
//
//	user, err := users.Create(ctx, id, users.CreateOpts{Name: "gncu72074486", ...}).Extract()
//
// Its endpoint is the primary's first healthy auth_url (the domain's own
// there, when the client has a domain), not the catalog's, so a write
// never lands at a replica that would refuse it or lose it to lag.
func (c *Client) PrimaryIdentity(ctx context.Context) (*gophercloud.ServiceClient, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	b := c.home
	if c.byLocation != nil {
		b = c.byLocation[c.resolver.Primary()]
	}
	if _, err := b.handle.Token(ctx); err != nil {
		return nil, err
	}
	urls := c.resolver.Order(c.resolver.Primary())
	var primaryURL string
	for _, u := range urls {
		if loc := c.authURLLocation[u]; loc == c.resolver.Primary() {
			primaryURL = u
			break
		}
	}
	if primaryURL == "" {
		return nil, fmt.Errorf("geostack: the primary %s has no auth_url", c.resolver.Primary())
	}
	root, err := authurl.Root(primaryURL)
	if err != nil {
		return nil, fmt.Errorf("geostack: the primary's auth_url %s", err)
	}
	return &gophercloud.ServiceClient{ProviderClient: b.provider, Endpoint: root + "/v3/", Type: "identity"}, nil
}

// Refresh replaces the client's token now and returns the new one; the
// current token keeps serving until then. Use it when the token must
// change (the user's roles were just changed); a token a service rejected
// is replaced on its own.
func (c *Client) Refresh(ctx context.Context) (*identity.Token, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	tok, err := c.home.handle.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range c.byLocation {
		if b != c.home {
			if _, err := b.handle.Refresh(ctx); err != nil {
				return nil, err
			}
		}
	}
	return tok, nil
}
