package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors. Select's errors match one of them with errors.Is; the
// detail types below carry what was asked and what the catalog offers.
var (
	// ErrNotFound: no endpoint matches the query.
	ErrNotFound = errors.New("catalog: no matching endpoint")
	// ErrAmbiguous: several endpoints with different URLs match equally.
	ErrAmbiguous = errors.New("catalog: ambiguous endpoint")
	// ErrUnresolvedTemplate: the matching endpoint's URL still holds a
	// placeholder such as $(project_id)s.
	ErrUnresolvedTemplate = errors.New("catalog: unresolved URL template")
)

// NotFoundError says that no endpoint matches Query, and what the catalog
// offers instead. It matches ErrNotFound.
type NotFoundError struct {
	// Query is what was asked, with Interfaces defaulted.
	Query Query
	// Types are the official service types the catalog has, sorted.
	Types []string
	// Regions are the regions where the asked type has endpoints, sorted.
	Regions []string
	// Interfaces are the interfaces the asked type offers in the asked region
	// (in any region when none was asked).
	Interfaces []Interface
	// Names are the service names of the asked type in the asked region,
	// sorted.
	Names []string
	// Skipped are the malformed endpoints of the asked type that New left
	// out of the index.
	Skipped []Skip
}

// Error names what was asked for and the first thing the catalog lacks.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("catalog: no endpoint of type ")
	fmt.Fprintf(&b, "%q", e.Query.Type)
	if e.Query.Name != "" {
		fmt.Fprintf(&b, " named %q", e.Query.Name)
	}
	if e.Query.Region != "" {
		fmt.Fprintf(&b, " in region %q", e.Query.Region)
	} else {
		b.WriteString(" in any region")
	}
	fmt.Fprintf(&b, " with interface %s: ", joinInterfaces(e.Query.Interfaces))
	official := CanonicalType(e.Query.Type)
	switch {
	case len(e.Types) == 0:
		b.WriteString("the catalog is empty")
	case !slices.Contains(e.Types, official):
		fmt.Fprintf(&b, "the catalog has no %q; it has types [%s]", official, strings.Join(e.Types, " "))
	case e.Query.Region != "" && len(e.Regions) == 0:
		fmt.Fprintf(&b, "%q has endpoints only without a region; ask with no Region", official)
	case e.Query.Region != "" && !slices.Contains(e.Regions, e.Query.Region):
		fmt.Fprintf(&b, "%q is in regions [%s]", official, strings.Join(e.Regions, " "))
	case e.Query.Name != "" && !slices.Contains(e.Names, e.Query.Name):
		fmt.Fprintf(&b, "%q is named [%s] there", official, strings.Join(e.Names, " "))
	default:
		fmt.Fprintf(&b, "%q offers interfaces %s there", official, joinInterfaces(e.Interfaces))
	}
	if n := len(e.Skipped); n > 0 {
		fmt.Fprintf(&b, " (%d malformed endpoint(s) of this type were skipped: %s)", n, e.Skipped[0].Reason)
	}
	return b.String()
}

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AmbiguousError says that several endpoints with different URLs match a
// query equally. It matches ErrAmbiguous.
type AmbiguousError struct {
	// Query is what was asked, with Interfaces defaulted.
	Query Query
	// Candidates are the matching endpoints, one per distinct URL, in
	// catalog order.
	Candidates []Endpoint
}

// Error lists the candidates and says which Query field would tell them
// apart.
func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "catalog: %d endpoints of type %q match equally:", len(e.Candidates), e.Query.Type)
	regions, names := map[string]bool{}, map[string]bool{}
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, " [%s %q region %q %s %s]", c.CatalogType, c.ServiceName, c.Region, c.Interface, c.URL)
		regions[c.Region] = true
		names[c.ServiceName] = true
	}
	switch {
	case len(regions) > 1:
		b.WriteString("; set Query.Region to choose")
	case len(names) > 1:
		b.WriteString("; set Query.Name to choose")
	default:
		b.WriteString("; the catalog lists them as equals")
	}
	return b.String()
}

// Is reports whether target is ErrAmbiguous.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// UnresolvedTemplateError says that the selected endpoint's URL still holds
// a placeholder. It matches ErrUnresolvedTemplate.
type UnresolvedTemplateError struct {
	// Endpoint is the selected endpoint, its URL as the catalog gave it.
	Endpoint Endpoint
	// NoProjectID is true when New was given no project ID to substitute.
	NoProjectID bool
}

// Error names the endpoint and why its URL could not be completed.
func (e *UnresolvedTemplateError) Error() string {
	why := "it is not a placeholder this package knows"
	if e.NoProjectID {
		why = "the catalog was built without a project ID (is the token project-scoped?)"
	}
	return fmt.Sprintf("catalog: %s endpoint %s in region %q has a placeholder left in URL %q: %s",
		e.Endpoint.ServiceType, e.Endpoint.ID, e.Endpoint.Region, e.Endpoint.URL, why)
}

// Is reports whether target is ErrUnresolvedTemplate.
func (e *UnresolvedTemplateError) Is(target error) bool { return target == ErrUnresolvedTemplate }

// Skip records a part of the catalog that New left out of the index, and why.
type Skip struct {
	ServiceType string // as the catalog gives it
	ServiceID   string
	EndpointID  string // "" when the whole service entry was skipped
	Region      string
	Interface   string // as the catalog gives it
	Reason      string
}

func joinInterfaces(is []Interface) string {
	s := make([]string, len(is))
	for i, v := range is {
		s[i] = string(v)
	}
	return "[" + strings.Join(s, " ") + "]"
}
