package geostacktest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
)

func newClient(t *testing.T, cfg geostack.Config) *geostack.Client {
	t.Helper()
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTopology(t *testing.T) {
	t.Parallel()
	cloud := geostacktest.NewServer(t, geostacktest.Options{})
	got := struct {
		Locations, Regions []string
		Primary            string
	}{cloud.Locations(), cloud.Regions(), cloud.Primary()}
	want := struct {
		Locations, Regions []string
		Primary            string
	}{[]string{"JP", "US", "SG"}, []string{"TYO1", "OSA1", "SJC1", "SIN1"}, "JP"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("topology (-want +got):\n%s", diff)
	}
	cfg := cloud.Config("zjp", 3)
	if cfg.Home != "SG" || cfg.Domain != "zjp" || cfg.Primary != "JP" || len(cfg.Locations) != 3 {
		t.Errorf("Config: home %s, domain %s, primary %s, %d locations", cfg.Home, cfg.Domain, cfg.Primary, len(cfg.Locations))
	}
	tok, err := newClient(t, cfg).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tok.User.Name != "zjpu00000003" || tok.Project == nil || tok.Project.Name != "zjpt00000003" {
		t.Errorf("token of %s, project %+v; want zjpu00000003 on zjpt00000003", tok.User.Name, tok.Project)
	}
	d := cloud.Domain("gnc")
	ep, ok := d.AuthURLs("SG")
	if !ok || len(ep.Users()) != 1 || ep.AdminAuthURL == "" {
		t.Errorf("gnc endpoints at SG: %+v", ep)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		set   func(*geostacktest.Server)
		wantJ int64 // tokens issued at JP to the user
		wantS int64 // at SG
	}{
		{"none", func(*geostacktest.Server) {}, 0, 1},
		{"keystone 503", func(s *geostacktest.Server) {
			s.SetKeystoneFault("SG", geostacktest.Fault{Status: http.StatusServiceUnavailable})
		}, 1, 0},
		{"location down", func(s *geostacktest.Server) { s.SetLocationFault("SG", geostacktest.Fault{Down: true}) }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cloud := geostacktest.NewServer(t, geostacktest.Options{})
			tt.set(cloud)
			if _, err := newClient(t, cloud.Config("gnc", 1)).Token(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := [2]int64{cloud.TokensIssued("gncu00000001", "JP"), cloud.TokensIssued("gncu00000001", "SG")}
			if diff := cmp.Diff([2]int64{tt.wantJ, tt.wantS}, got); diff != "" {
				t.Errorf("tokens issued at JP, SG (-want +got):\n%s", diff)
			}
			cloud.ClearFaults()
			if _, err := newClient(t, cloud.Config("gnc", 2)).Token(t.Context()); err != nil {
				t.Fatalf("after ClearFaults: %v", err)
			}
			if n := cloud.TokensIssued("gncu00000002", "SG"); n != 1 {
				t.Errorf("after ClearFaults, %d tokens issued at SG, want 1", n)
			}
		})
	}
}

func TestServiceFaultAndRequests(t *testing.T) {
	t.Parallel()
	cloud := geostacktest.NewServer(t, geostacktest.Options{})
	c := newClient(t, cloud.Config("gnc", 1))
	compute, err := c.ServiceClient(t.Context(), "compute", "SIN1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.ListDetail(compute, nil).AllPages(t.Context()); err != nil {
		t.Fatal(err)
	}
	cloud.SetServiceFault("compute", "SIN1", geostacktest.Fault{Status: http.StatusInternalServerError})
	if _, err := flavors.ListDetail(compute, nil).AllPages(t.Context()); err == nil {
		t.Error("listing with compute@SIN1 failing 500: no error")
	}
	if got := cloud.Requests("compute", "SIN1"); got != 2 {
		t.Errorf("compute@SIN1 requests = %d, want 2", got)
	}
	if got := cloud.KeystoneRequests("SG"); got != 1 {
		t.Errorf("Keystone requests at SG = %d, want 1", got)
	}
	cloud.ResetCounters()
	if got := cloud.Requests("compute", "SIN1") + cloud.TokensIssued("", ""); got != 0 {
		t.Errorf("after ResetCounters: %d", got)
	}
}

// A user registered at the primary is unknown to SG for the replication
// lag; the client's lag retry at the primary gets its token meanwhile.
func TestReplicationLag(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	cloud := geostacktest.NewServer(t, geostacktest.Options{Clock: clk, ReplicationLag: time.Minute})
	cred, scope, err := cloud.CreateUser("gnc", "gncu72074485", "new-user-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&identity.Client{Clock: clk}).Issue(t.Context(), cloud.AuthURL("SG"), cred, scope); !errors.Is(err, identity.ErrUnauthorized) {
		t.Fatalf("new user at SG within the lag: %v, want ErrUnauthorized", err)
	}
	cfg := cloud.Config("gnc", 1)
	cfg.Credential, cfg.Scope = cred, scope
	if _, err := newClient(t, cfg).Token(t.Context()); err != nil {
		t.Fatalf("client of the new user: %v", err)
	}
	if got := cloud.TokensIssued("gncu72074485", "JP"); got != 1 {
		t.Errorf("tokens issued at the primary = %d, want 1", got)
	}
	clk.Advance(2 * time.Minute)
	if _, err := (&identity.Client{Clock: clk}).Issue(t.Context(), cloud.AuthURL("SG"), cred, scope); err != nil {
		t.Errorf("new user at SG after the lag: %v", err)
	}
}

// A revoked token is rejected by a validating backend at once.
func TestRevoke(t *testing.T) {
	t.Parallel()
	cloud := geostacktest.NewServer(t, geostacktest.Options{})
	svcCred, svcScope := cloud.ServiceCredential()
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{cloud.Domain("gnc")}, Home: "SG", Primary: cloud.Primary(),
		ServiceCredential: svcCred, ServiceScope: svcScope,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	cred, scope := cloud.User("gnc", 1)
	tok, err := (&identity.Client{}).Issue(t.Context(), cloud.AuthURL("SG"), cred, scope)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if !cloud.Revoke(tok.ID) {
		t.Fatal("Revoke: token unknown")
	}
	if cloud.Revoke("gAAAAAunknown") {
		t.Error("Revoke of an unknown token reported true")
	}
	// The Validator trusts its cache for CacheTTL: a fresh one asks.
	v2, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{cloud.Domain("gnc")}, Home: "SG", Primary: cloud.Primary(),
		ServiceCredential: svcCred, ServiceScope: svcScope,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v2.Close() })
	if _, err := v2.Validate(t.Context(), tok.ID); !errors.Is(err, authtoken.ErrInvalidToken) {
		t.Errorf("Validate of a revoked token: %v, want ErrInvalidToken", err)
	}
	if got := cloud.Validations(""); got != 1 {
		t.Errorf("validations = %d, want 1", got)
	}
}

// TestImageDataFaults: the image data faults and the web share reach the
// fake's Glance.
func TestImageDataFaults(t *testing.T) {
	t.Parallel()
	cloud := geostacktest.NewServer(t, geostacktest.Options{})
	c := newClient(t, cloud.Config("gnc", 1))
	sc, err := c.ServiceClient(t.Context(), "image", "TYO1")
	if err != nil {
		t.Fatal(err)
	}
	id := cloud.ImageID("gnc_centos")
	read := func(t *testing.T, r io.Reader) []byte {
		t.Helper()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rc, err := imagedata.Download(t.Context(), sc, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	clean := read(t, rc)
	rc.Close()
	resp, err := http.Get(cloud.ImageShareURL("TYO1") + "/" + id)
	if err != nil {
		t.Fatal(err)
	}
	shared := read(t, resp.Body)
	resp.Body.Close()
	if !bytes.Equal(clean, shared) || len(clean) == 0 {
		t.Errorf("the web share served %d bytes, the download %d: want the same, non-empty", len(shared), len(clean))
	}

	cloud.SetServiceFault("image", "TYO1", geostacktest.Fault{CorruptDownloadAfter: 10})
	rc, err = imagedata.Download(t.Context(), sc, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	corrupted := read(t, rc)
	rc.Close()
	var at []int
	for i := range clean {
		if i < len(corrupted) && corrupted[i] != clean[i] {
			at = append(at, i)
		}
	}
	if diff := cmp.Diff([]int{10}, at); diff != "" {
		t.Errorf("corrupted bytes (-want +got):\n%s", diff)
	}
}
