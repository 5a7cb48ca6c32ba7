package tokencache

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// Shape of BenchmarkWorkloadTokens: each run creates this many VMs, spread
// over the regions, with this many concurrent workers.
const (
	workloadFlows   = 1000
	workloadWorkers = 50
)

var workloadRegions = []string{"TYO1", "SJC1", "SIN1"}

// services are the four service clients of one region a VM-create flow
// touches.
type services struct {
	compute, network, image, volume *gophercloud.ServiceClient
}

// clientsFunc returns the service clients for one component call of a
// flow in region. Strategies differ in what they build per call.
type clientsFunc func(ctx context.Context, region string) (*services, error)

// createVM is one VM-create flow: look up an image, a flavor, a network
// and the volume types, then create the server. Each step asks for its
// clients anew, as a component of the seed's cloud did.
func createVM(ctx context.Context, clients clientsFunc, region string, n int) error {
	c, err := clients(ctx, region)
	if err != nil {
		return err
	}
	pages, err := images.List(c.image, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	imgs, err := images.ExtractImages(pages)
	if err != nil || len(imgs) == 0 {
		return fmt.Errorf("images: %d, %v", len(imgs), err)
	}

	if c, err = clients(ctx, region); err != nil {
		return err
	}
	pages, err = flavors.ListDetail(c.compute, nil).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("flavors: %w", err)
	}
	fls, err := flavors.ExtractFlavors(pages)
	if err != nil || len(fls) == 0 {
		return fmt.Errorf("flavors: %d, %v", len(fls), err)
	}

	if c, err = clients(ctx, region); err != nil {
		return err
	}
	pages, err = networks.List(c.network, networks.ListOpts{}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("networks: %w", err)
	}
	nets, err := networks.ExtractNetworks(pages)
	if err != nil || len(nets) == 0 {
		return fmt.Errorf("networks: %d, %v", len(nets), err)
	}

	if c, err = clients(ctx, region); err != nil {
		return err
	}
	if _, err := volumetypes.List(c.volume, nil).AllPages(ctx); err != nil {
		return fmt.Errorf("volume types: %w", err)
	}

	if c, err = clients(ctx, region); err != nil {
		return err
	}
	_, err = servers.Create(ctx, c.compute, servers.CreateOpts{
		Name:      fmt.Sprintf("bench-%d", n),
		ImageRef:  imgs[0].ID,
		FlavorRef: fls[0].ID,
		Networks:  []servers.Network{{UUID: nets[0].ID}},
	}, nil).Extract()
	if err != nil {
		return fmt.Errorf("create server: %w", err)
	}
	return nil
}

// runWorkload runs workloadFlows flows on workloadWorkers workers.
func runWorkload(b *testing.B, clients clientsFunc) {
	b.Helper()
	ctx := b.Context()
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workloadWorkers {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= workloadFlows || failed.Load() {
					return
				}
				if err := createVM(ctx, clients, workloadRegions[n%len(workloadRegions)], n); err != nil {
					if failed.CompareAndSwap(false, true) {
						b.Errorf("flow %d: %v", n, err)
					}
					return
				}
			}
		})
	}
	wg.Wait()
}

func authOptions(srv *testserver.Server, region string) gophercloud.AuthOptions {
	return gophercloud.AuthOptions{
		IdentityEndpoint: srv.AuthURL(srv.LocationOf(region)),
		Username:         testCred.UserName,
		DomainName:       testCred.DomainName,
		Password:         testCred.Password,
		Scope:            &gophercloud.AuthScope{ProjectName: testScope.ProjectName, DomainName: testScope.ProjectDomainName},
	}
}

// gophercloudServices builds the four service clients of region from a
// gophercloud ProviderClient's catalog.
func gophercloudServices(pc *gophercloud.ProviderClient, region string) (*services, error) {
	eo := gophercloud.EndpointOpts{Region: region}
	var s services
	var errs [4]error
	s.compute, errs[0] = openstack.NewComputeV2(pc, eo)
	s.network, errs[1] = openstack.NewNetworkV2(pc, eo)
	s.image, errs[2] = openstack.NewImageV2(pc, eo)
	s.volume, errs[3] = openstack.NewBlockStorageV3(pc, eo)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// geostackServices builds the four service clients of region on one
// tokencache Handle, with endpoints from the cached token's catalog.
func geostackServices(ctx context.Context, h *Handle, pc *gophercloud.ProviderClient, region string) (*services, error) {
	tok, err := h.Token(ctx)
	if err != nil {
		return nil, err
	}
	sc := func(typ string, version string) (*gophercloud.ServiceClient, error) {
		ep, err := tok.Catalog.Select(catalog.Query{Type: typ, Region: region})
		if err != nil {
			return nil, err
		}
		c := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: ep.URL + "/", Type: typ}
		if version != "" {
			c.ResourceBase = c.Endpoint + version + "/"
		}
		return c, nil
	}
	var s services
	var errs [4]error
	s.compute, errs[0] = sc("compute", "")
	s.network, errs[1] = sc("network", "v2.0")
	s.image, errs[2] = sc("image", "v2")
	s.volume, errs[3] = sc("block-storage", "")
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// BenchmarkWorkloadTokens runs 1,000 VM-create flows over three regions
// with 50 workers, and reports the token POSTs Keystone answered per run
// for three ways of holding tokens:
//
//   - naive: a new authenticated gophercloud client per component call;
//   - shared: one gophercloud ProviderClient per auth_url, AllowReauth;
//   - geostack: one tokencache Handle for the identity and scope.
//
// Every run starts cold: the shared clients and the cache are built anew.
func BenchmarkWorkloadTokens(b *testing.B) {
	b.Run("naive", func(b *testing.B) {
		srv := testserver.New(b, testserver.Options{})
		b.ReportAllocs()
		b.ResetTimer()
		srv.ResetCounters()
		for b.Loop() {
			runWorkload(b, func(ctx context.Context, region string) (*services, error) {
				pc, err := openstack.AuthenticatedClient(ctx, authOptions(srv, region))
				if err != nil {
					return nil, err
				}
				return gophercloudServices(pc, region)
			})
		}
		reportTokens(b, srv)
	})

	b.Run("shared", func(b *testing.B) {
		srv := testserver.New(b, testserver.Options{})
		b.ReportAllocs()
		b.ResetTimer()
		srv.ResetCounters()
		for b.Loop() {
			// One ProviderClient per auth_url, authenticated once, reused
			// by every flow in every region of that location.
			regions := map[string]*services{}
			for _, region := range workloadRegions {
				opts := authOptions(srv, region)
				opts.AllowReauth = true
				pc, err := openstack.AuthenticatedClient(b.Context(), opts)
				if err != nil {
					b.Fatal(err)
				}
				if regions[region], err = gophercloudServices(pc, region); err != nil {
					b.Fatal(err)
				}
			}
			runWorkload(b, func(_ context.Context, region string) (*services, error) {
				return regions[region], nil
			})
		}
		reportTokens(b, srv)
	})

	b.Run("geostack", func(b *testing.B) {
		srv := testserver.New(b, testserver.Options{})
		idc := &identity.Client{}
		b.ReportAllocs()
		b.ResetTimer()
		srv.ResetCounters()
		for b.Loop() {
			cache, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			h, err := cache.Handle(Key{Credential: testCred, Scope: testScope}, identity.TokenSourceFunc(func(ctx context.Context) (*identity.Token, error) {
				return idc.Issue(ctx, srv.AuthURL(srv.Primary()), testCred, testScope)
			}))
			if err != nil {
				b.Fatal(err)
			}
			pc := NewProviderClient(h, &http.Client{})
			runWorkload(b, func(ctx context.Context, region string) (*services, error) {
				return geostackServices(ctx, h, pc, region)
			})
			cache.Close()
		}
		reportTokens(b, srv)
	})
}

func reportTokens(b *testing.B, srv *testserver.Server) {
	b.ReportMetric(float64(srv.TokensIssued(testUser, ""))/float64(b.N), "tokens/run")
	b.ReportMetric(workloadFlows, "flows/run")
}
