package catalog_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/catalog"
)

// FuzzNew feeds the catalog part of a token body through New and Select and
// checks Select's promises. The seed corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, projectID, typ, name, region string, prefs uint8) {
		var sc tokens.ServiceCatalog
		if json.Unmarshal(body, &sc) != nil {
			return
		}
		c, err := catalog.New(sc.Entries, projectID)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		again, _ := catalog.New(sc.Entries, projectID)

		regions, types := c.Regions(), c.Types()
		for _, list := range [][]string{regions, types} {
			if !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) {
				t.Errorf("%q is not sorted and unique", list)
			}
		}
		queries := []catalog.Query{{Type: typ, Name: name, Region: region, Interfaces: interfacesFrom(prefs)}}
		for _, ty := range types {
			for _, r := range append(regions, "") {
				queries = append(queries, catalog.Query{Type: ty, Region: r, Interfaces: interfacesFrom(prefs)})
			}
		}
		for _, q := range queries {
			got, err := c.Select(q)
			checkSelect(t, q, got, err)
			got2, err2 := again.Select(q)
			if diff := cmp.Diff(got, got2); diff != "" || (err == nil) != (err2 == nil) {
				t.Errorf("Select(%+v) differs between two catalogs built alike: %s %v %v", q, diff, err, err2)
			}
		}
	})
}

// interfacesFrom decodes a preference list from two bits per entry.
func interfacesFrom(b uint8) []catalog.Interface {
	all := []catalog.Interface{catalog.Public, catalog.Internal, catalog.Admin, "publicURL"}
	var out []catalog.Interface
	for i := 0; i < int(b>>6); i++ {
		out = append(out, all[(b>>(2*i))&3])
	}
	return out
}

func checkSelect(t *testing.T, q catalog.Query, got catalog.Endpoint, err error) {
	t.Helper()
	if err != nil {
		if !strings.HasPrefix(err.Error(), "catalog: ") {
			t.Errorf("Select(%+v) error %q does not start with the package name", q, err)
		}
		var nf *catalog.NotFoundError
		var amb *catalog.AmbiguousError
		var tmpl *catalog.UnresolvedTemplateError
		switch {
		case errors.Is(err, catalog.ErrNotFound) && errors.As(err, &nf):
		case errors.Is(err, catalog.ErrAmbiguous) && errors.As(err, &amb):
			if len(amb.Candidates) < 2 {
				t.Errorf("Select(%+v): ambiguous with %d candidates", q, len(amb.Candidates))
			}
		case errors.Is(err, catalog.ErrUnresolvedTemplate) && errors.As(err, &tmpl):
		default:
			t.Errorf("Select(%+v): unexpected error %T %v", q, err, err)
		}
		return
	}
	prefs := q.Interfaces
	if len(prefs) == 0 {
		prefs = []catalog.Interface{catalog.Public}
	}
	switch {
	case got.ServiceType != catalog.CanonicalType(q.Type):
		t.Errorf("Select(%+v) = type %q", q, got.ServiceType)
	case q.Region != "" && got.Region != q.Region:
		t.Errorf("Select(%+v) = region %q", q, got.Region)
	case q.Name != "" && got.ServiceName != q.Name:
		t.Errorf("Select(%+v) = name %q", q, got.ServiceName)
	case !slices.Contains(prefs, got.Interface):
		t.Errorf("Select(%+v) = interface %q", q, got.Interface)
	case got.URL == "" || strings.Contains(got.URL, "$(") || strings.Contains(got.URL, "%("):
		t.Errorf("Select(%+v) = URL %q", q, got.URL)
	}
}
