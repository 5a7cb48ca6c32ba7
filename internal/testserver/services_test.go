package testserver_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/geostack/geostack/internal/testserver"
)

// provider authenticates user (a seeded domain user) at a location with
// gophercloud and returns the provider client.
func provider(t *testing.T, srv *testserver.Server, loc, user string) *gophercloud.ProviderClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: srv.AuthURL(loc), Username: user, DomainName: user[:3], Password: testserver.UserPassword,
		Scope: &gophercloud.AuthScope{ProjectName: user[:3] + "t" + user[4:], DomainName: user[:3]},
	})
	if err != nil {
		t.Fatalf("AuthenticatedClient: %v", err)
	}
	return pc
}

// walk collects names from every page of a pager and counts the pages.
func walk[T any](t *testing.T, p pagination.Pager, extract func(pagination.Page) ([]T, error), name func(T) string) (names []string, pages int) {
	t.Helper()
	err := p.EachPage(t.Context(), func(_ context.Context, page pagination.Page) (bool, error) {
		items, err := extract(page)
		pages++
		for _, it := range items {
			names = append(names, name(it))
		}
		return true, err
	})
	if err != nil {
		t.Fatalf("EachPage: %v", err)
	}
	slices.Sort(names)
	return names, pages
}

func TestServicePagers(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	pc := provider(t, srv, "JP", "gncu00000001")
	w := testserver.DefaultWorld()
	tests := []struct {
		name      string
		region    string
		list      func(t *testing.T, region string) ([]string, int)
		want      []string
		wantPages int
	}{
		{
			name: "flavors", region: "OSA1",
			list: func(t *testing.T, region string) ([]string, int) {
				c, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: region})
				if err != nil {
					t.Fatal(err)
				}
				return walk(t, flavors.ListDetail(c, flavors.ListOpts{Limit: 4}), flavors.ExtractFlavors, func(f flavors.Flavor) string { return f.Name })
			},
			want: []string{"gnc_g-1gb", "gnc_g-2gb", "gnc_g-4gb", "m1.large", "m1.medium", "m1.small",
				"zjp_g-1gb", "zjp_g-2gb", "zjp_g-4gb", "zsg_g-1gb", "zsg_g-2gb", "zsg_g-4gb"},
			wantPages: 3, // the empty fourth page nova links to is not handed to EachPage
		},
		{
			name: "images", region: "SIN1",
			list: func(t *testing.T, region string) ([]string, int) {
				c, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: region})
				if err != nil {
					t.Fatal(err)
				}
				return walk(t, images.List(c, images.ListOpts{Limit: 3}), images.ExtractImages, func(i images.Image) string { return i.Name })
			},
			want: []string{"centos-stream-9", "debian-12", "gnc_centos", "gnc_ubuntu", "gnct00000001-backup",
				"ubuntu-24.04", "zjp_centos", "zjp_ubuntu", "zsg_centos", "zsg_ubuntu"},
			wantPages: 4,
		},
		{
			name: "volume types", region: "SJC1",
			list: func(t *testing.T, region string) ([]string, int) {
				c, err := openstack.NewBlockStorageV3(pc, gophercloud.EndpointOpts{Region: region})
				if err != nil {
					t.Fatal(err)
				}
				return walk(t, volumetypes.List(c, volumetypes.ListOpts{Limit: 2}), volumetypes.ExtractVolumeTypes, func(v volumetypes.VolumeType) string { return v.Name })
			},
			want:      []string{"__DEFAULT__", "gnc_hdd", "gnc_ssd", "zjp_hdd", "zjp_ssd", "zsg_hdd", "zsg_ssd"},
			wantPages: 4,
		},
		{
			name: "networks", region: "TYO1",
			list: func(t *testing.T, region string) ([]string, int) {
				c, err := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{Region: region})
				if err != nil {
					t.Fatal(err)
				}
				return walk(t, networks.List(c, networks.ListOpts{Limit: 1}), networks.ExtractNetworks, func(n networks.Network) string { return n.Name })
			},
			want:      []string{"ext-net", "net-gnct00000001"},
			wantPages: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, pages := tc.list(t, tc.region)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if pages != tc.wantPages {
				t.Errorf("pages = %d, want %d", pages, tc.wantPages)
			}
			if n := srv.Requests(testserver.Service(map[string]string{"flavors": "compute", "images": "image",
				"volume types": "volumev3", "networks": "network"}[tc.name], tc.region)); n < int64(tc.wantPages) {
				t.Errorf("requests = %d, want at least %d", n, tc.wantPages)
			}
		})
	}
	_ = w
}

func TestServerCreateAndGet(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	w := testserver.DefaultWorld()
	pc := provider(t, srv, "SG", "zsgu00000001")
	c, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "SIN1"})
	if err != nil {
		t.Fatal(err)
	}
	created, err := servers.Create(t.Context(), c, servers.CreateOpts{
		Name: "vm1", FlavorRef: w.Flavor("zsg_g-1gb").ID, ImageRef: w.Image("zsg_centos").ID,
		Networks: []servers.Network{{UUID: w.Network("net-zsgt00000001").ID}},
	}, nil).Extract()
	if err != nil {
		t.Fatalf("servers.Create: %v", err)
	}
	got, err := servers.Get(t.Context(), c, created.ID).Extract()
	if err != nil {
		t.Fatalf("servers.Get: %v", err)
	}
	want := map[string]string{"name": "vm1", "status": "ACTIVE", "tenant": w.Project("zsgt00000001").ID,
		"flavor": w.Flavor("zsg_g-1gb").ID, "image": w.Image("zsg_centos").ID}
	gotm := map[string]string{"name": got.Name, "status": got.Status, "tenant": got.TenantID,
		"flavor": got.Flavor["id"].(string), "image": got.Image["id"].(string)}
	if diff := cmp.Diff(want, gotm); diff != "" {
		t.Errorf("server (-want +got):\n%s", diff)
	}

	// Another project cannot see it; a bad flavor is refused.
	other := provider(t, srv, "SG", "zsgu00000002")
	oc, _ := openstack.NewComputeV2(other, gophercloud.EndpointOpts{Region: "SIN1"})
	if err := servers.Get(t.Context(), oc, created.ID).Err; !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("Get by another project: %v, want 404", err)
	}
	_, err = servers.Create(t.Context(), c, servers.CreateOpts{Name: "vm2", FlavorRef: "nope", ImageRef: w.Image("zsg_centos").ID}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Errorf("Create with bad flavor: %v, want 400", err)
	}
}

func TestServiceRejectsBadToken(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	tests := []struct {
		name, token string
	}{
		{"missing", ""},
		{"unknown", "gAAAAABnot-a-token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL("JP")+"/TYO1/compute/v2.1/flavors", nil)
			if tc.token != "" {
				req.Header.Set("X-Auth-Token", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", resp.StatusCode)
			}
		})
	}
}
