//go:build integration

package standin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/standin"
)

// TestIntegrationStandIn registers the stand-in in the real Keystone: the
// placeholders of the catalog point at it, its services accept the real
// Keystone's tokens (and only those), the real services' endpoints stay
// as they are, and Close puts the placeholders back. It changes the
// catalog while it runs: .ci/run runs it after the other integration tests.
func TestIntegrationStandIn(t *testing.T) {
	env := keystonetest.Load(t)
	svc := env.Services(t)
	ctx := t.Context()
	gnc := env.MustUser(t, "gncu00000001")
	login := func() *gophercloud.ProviderClient {
		t.Helper()
		pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
			IdentityEndpoint: env.AuthURL("SG"), UserID: gnc.ID, Password: gnc.Password,
			Scope: &gophercloud.AuthScope{ProjectID: gnc.ProjectID},
		})
		if err != nil {
			t.Fatal(err)
		}
		return pc
	}
	compute := func(pc *gophercloud.ProviderClient, region string) string {
		t.Helper()
		sc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: region})
		if err != nil {
			t.Fatal(err)
		}
		return sc.Endpoint
	}

	s, err := standin.Start(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close(t.Context())
		}
	})
	want := 0
	for _, types := range svc.Placeholders {
		want += 3 * len(types) // public, internal, admin
	}
	if len(s.Endpoints) != want {
		t.Errorf("took over %d endpoints, want the %d placeholders of services.json", len(s.Endpoints), want)
	}

	pc := login()
	sin1 := compute(pc, "SIN1")
	if !strings.HasPrefix(sin1, s.Server.URL("SG")+"/SIN1/public/") {
		t.Errorf("SIN1 compute at %s, want the stand-in's SG listener", sin1)
	}
	if got, want := strings.TrimSuffix(compute(pc, "TYO1"), "/"), strings.TrimSuffix(svc.Endpoint("TYO1", "compute", "public"), "/"); got != want {
		t.Errorf("TYO1 compute at %s, want the real Nova's %s", got, want)
	}
	sc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "SIN1"})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := flavors.ListDetail(sc, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list flavors at the stand-in with a real token: %v", err)
	}
	fl, _ := flavors.ExtractFlavors(pages)
	if len(fl) == 0 {
		t.Error("the stand-in listed no flavor")
	}
	if s.Server.ExternalValidations() == 0 {
		t.Error("the stand-in accepted a token without asking the real Keystone")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sin1+"flavors", nil)
	req.Header.Set("X-Auth-Token", "gAAAAAB-not-a-real-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unknown token: %d, want 401", resp.StatusCode)
	}

	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	closed = true
	after := compute(login(), "SIN1")
	if diff := cmp.Diff(standin.Placeholder+"SIN1/public/compute/v2.1/", after); diff != "" {
		t.Errorf("SIN1 compute after Close (-want +got):\n%s", diff)
	}
}
