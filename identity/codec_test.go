package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// endpoints is what a catalog selects for every service type and region a
// test looks at, errors as their kind.
func endpoints(c *catalog.Catalog) map[string]string {
	out := map[string]string{}
	for _, typ := range c.Types() {
		for _, region := range c.Regions() {
			ep, err := c.Select(catalog.Query{Type: typ, Region: region})
			if err != nil {
				out[typ+"@"+region] = "error"
				continue
			}
			out[typ+"@"+region] = ep.URL
		}
	}
	return out
}

func TestEncodeTokenRoundTrip(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	c := &identity.Client{}
	noCatalog := &identity.Client{NoCatalog: true}
	validated, err := c.Validate(t.Context(), srv.AuthURL("JP"),
		issue(t, c, srv.AuthURL("JP"), novaPassword, serviceScope).ID,
		issue(t, c, srv.AuthURL("JP"), userPassword, userScope).ID, identity.ValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tok  *identity.Token
	}{
		{"project scoped with catalog", issue(t, c, srv.AuthURL("JP"), userPassword, userScope)},
		{"without catalog", issue(t, noCatalog, srv.AuthURL("SG"), userPassword, userScope)},
		{"domain scoped", issue(t, c, srv.AuthURL("US"), adminPassword, identity.Scope{DomainID: testserver.DefaultDomainID})},
		{"system scoped", issue(t, c, srv.AuthURL("JP"), adminPassword, identity.Scope{System: true})},
		{"unscoped", issue(t, c, srv.AuthURL("JP"), userPassword, identity.Scope{})},
		{"validated", validated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := identity.EncodeToken(tt.tok)
			if err != nil {
				t.Fatalf("EncodeToken: %v", err)
			}
			got, err := identity.DecodeToken(b)
			if err != nil {
				t.Fatalf("DecodeToken: %v", err)
			}
			if diff := cmp.Diff(tt.tok, got, cmpopts.IgnoreUnexported(identity.Token{}), cmpopts.IgnoreFields(identity.Token{}, "Catalog")); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if got.ID != tt.tok.ID {
				t.Error("round trip lost the token id")
			}
			if diff := cmp.Diff(endpoints(tt.tok.Catalog), endpoints(got.Catalog)); diff != "" {
				t.Errorf("catalog selections after round trip (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.tok.Catalog.Regions(), got.Catalog.Regions()); diff != "" {
				t.Errorf("catalog regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeTokenCatalogSurvives(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	tok := issue(t, &identity.Client{}, srv.AuthURL("JP"), userPassword, userScope)
	b, err := identity.EncodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	got, err := identity.DecodeToken(b)
	if err != nil {
		t.Fatal(err)
	}
	// The volume endpoint's URL has the project id substituted: the index
	// was rebuilt with the project, not just copied.
	ep, err := got.Catalog.Select(catalog.Query{Type: "volumev3", Region: "SIN1"})
	if err != nil {
		t.Fatalf("Select volumev3 in SIN1 after round trip: %v", err)
	}
	if !strings.Contains(ep.URL, userProjectID) {
		t.Errorf("volume endpoint %q lacks the project id %q", ep.URL, userProjectID)
	}
	if len(got.Catalog.Regions()) == 0 {
		t.Error("catalog lost its regions")
	}
}

func TestEncodeTokenErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testserver.Options{})
	tok := issue(t, &identity.Client{}, srv.AuthURL("JP"), userPassword, userScope)
	foreign := *tok // a copy keeps the raw entries: still encodable
	literal := &identity.Token{ID: "secret-token-id", User: identity.User{ID: "u"}, Catalog: tok.Catalog}
	if _, err := identity.EncodeToken(&foreign); err != nil {
		t.Errorf("EncodeToken(copy of a parsed token): %v", err)
	}
	if _, err := identity.EncodeToken(literal); !errors.Is(err, identity.ErrTokenEncoding) {
		t.Errorf("EncodeToken(literal with a foreign catalog) = %v, want ErrTokenEncoding", err)
	}
	if _, err := identity.EncodeToken(nil); !errors.Is(err, identity.ErrTokenEncoding) {
		t.Errorf("EncodeToken(nil) = %v, want ErrTokenEncoding", err)
	}
	good, err := identity.EncodeToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not json", "\x01\x02garbage"},
		{"truncated", string(good[:len(good)/2])},
		{"other version", `{"v":2,"id":"x","user":{"id":"u"},"lexp":1}`},
		{"no id", `{"v":1,"user":{"id":"u"},"lexp":1}`},
		{"no user", `{"v":1,"id":"secret-token-id","user":{},"lexp":1}`},
		{"no expiry", `{"v":1,"id":"secret-token-id","user":{"id":"u"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := identity.DecodeToken([]byte(tt.in))
			if !errors.Is(err, identity.ErrTokenEncoding) {
				t.Fatalf("DecodeToken = %v, want ErrTokenEncoding", err)
			}
			if strings.Contains(err.Error(), "secret-token-id") || strings.Contains(err.Error(), tok.ID) {
				t.Errorf("error %q quotes a token id", err)
			}
		})
	}
}
