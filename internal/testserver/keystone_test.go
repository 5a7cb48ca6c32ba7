package testserver_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/internal/testserver"
)

// identityClient returns a gophercloud identity v3 client for authURL,
// optionally carrying a token.
func identityClient(t testing.TB, authURL, tok string) *gophercloud.ServiceClient {
	t.Helper()
	pc, err := openstack.NewClient(authURL)
	if err != nil {
		t.Fatal(err)
	}
	pc.HTTPClient = http.Client{}
	if tok != "" {
		pc.SetToken(tok)
	}
	sc, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// issue issues a token with gophercloud and fails the test on error.
func issue(t *testing.T, authURL string, opts tokens.AuthOptions) (*tokens.Token, tokens.CreateResult) {
	t.Helper()
	res := tokens.Create(t.Context(), identityClient(t, authURL, ""), &opts)
	tok, err := res.ExtractToken()
	if err != nil {
		t.Fatalf("tokens.Create: %v", err)
	}
	return tok, res
}

func userOpts(name string) tokens.AuthOptions {
	return tokens.AuthOptions{
		Username: name, DomainName: name[:3], Password: testserver.UserPassword,
		Scope: tokens.Scope{ProjectName: name[:3] + "t" + name[4:], DomainName: name[:3]},
	}
}

func serviceOpts(name string) tokens.AuthOptions {
	return tokens.AuthOptions{
		Username: name, DomainID: testserver.DefaultDomainID, Password: testserver.ServicePassword,
		Scope: tokens.Scope{ProjectName: testserver.ServiceProject, DomainID: testserver.DefaultDomainID},
	}
}

func TestIssueAndValidateAcrossLocations(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	w := testserver.DefaultWorld()
	for _, issueAt := range srv.Locations() {
		for _, validateAt := range srv.Locations() {
			t.Run(issueAt+"->"+validateAt, func(t *testing.T) {
				t.Parallel()
				tok, res := issue(t, srv.AuthURL(issueAt), userOpts("gncu00000001"))
				if len(tok.ID) < 150 {
					t.Errorf("token id length %d, want Fernet-like length", len(tok.ID))
				}
				svc, _ := issue(t, srv.AuthURL(validateAt), serviceOpts("nova"))
				got := tokens.Get(t.Context(), identityClient(t, srv.AdminAuthURL(validateAt), svc.ID), tok.ID)
				if got.Err != nil {
					t.Fatalf("tokens.Get: %v", got.Err)
				}
				p, err := got.ExtractProject()
				if err != nil {
					t.Fatal(err)
				}
				want := &tokens.Project{ID: w.Project("gnct00000001").ID, Name: "gnct00000001",
					Domain: tokens.Domain{ID: w.Domain("gnc").ID, Name: "gnc"}}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("project (-want +got):\n%s", diff)
				}
				cat, err := res.ExtractServiceCatalog()
				if err != nil || len(cat.Entries) == 0 {
					t.Errorf("catalog: %v, %d entries", err, len(cat.Entries))
				}
			})
		}
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	opts := userOpts("zsgu00000002")
	opts.Password = "wrong"
	res := tokens.Create(t.Context(), identityClient(t, srv.AuthURL("SG"), ""), &opts)
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(res.Err, &e) || e.Actual != http.StatusUnauthorized {
		t.Fatalf("err = %v, want 401", res.Err)
	}
	want := `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`
	if diff := cmp.Diff(want, string(e.Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func benchIdentityClient(b *testing.B, authURL string) *gophercloud.ServiceClient {
	return identityClient(b, authURL, "")
}
