package catalog

// Interface is the network interface an endpoint is published on.
type Interface string

// The interfaces Keystone v3 knows.
const (
	Public   Interface = "public"
	Internal Interface = "internal"
	Admin    Interface = "admin"
)

const numInterfaces = 3

// index returns the position of i in interfaces, or -1 if i is unknown.
func (i Interface) index() int {
	switch i {
	case Public:
		return 0
	case Internal:
		return 1
	case Admin:
		return 2
	}
	return -1
}

// interfaceAt is the inverse of Interface.index.
func interfaceAt(i int) Interface {
	switch i {
	case 0:
		return Public
	case 1:
		return Internal
	}
	return Admin
}

// Endpoint is one selected endpoint of the catalog.
type Endpoint struct {
	// ServiceType is the official service type, such as "block-storage".
	ServiceType string
	// CatalogType is the type as the catalog lists it, such as "volumev3";
	// it tells which API generation the URL serves.
	CatalogType string
	// ServiceName is the service's name in the catalog, such as "cinderv3".
	ServiceName string
	// ServiceID is the Keystone id of the service.
	ServiceID string
	// ID is the Keystone id of the endpoint.
	ID string
	// Region is the region id, such as "SIN1"; "" when the catalog gives none.
	Region string
	// Interface is public, internal or admin.
	Interface Interface
	// URL is the endpoint URL with project templates substituted.
	URL string
}

// Query says which endpoint to Select.
type Query struct {
	// Type is the service type, official or alias ("block-storage",
	// "volumev3"). Matching is case-insensitive.
	Type string
	// Name, if set, keeps only the services with this exact name.
	Name string
	// Region, if set, keeps only the endpoints of this region id. Empty means
	// any region, and succeeds only if that leaves one URL.
	Region string
	// Interfaces is the preference list; the first interface with a match
	// wins. Empty means []Interface{Public}.
	Interfaces []Interface
}

// interfacesOrDefault returns q.Interfaces, or the default preference list.
// It allocates, so only error paths call it.
func (q Query) interfacesOrDefault() []Interface {
	if len(q.Interfaces) == 0 {
		return []Interface{Public}
	}
	return append([]Interface(nil), q.Interfaces...)
}
