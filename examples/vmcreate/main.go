// Command vmcreate replays the flow that multiplied tokens in the seed's
// cloud: many concurrent VM creates across regions, each touching compute,
// network, image and volume. It runs the flows twice, once the naive way
// (a new authenticated gophercloud client per component call, as each
// OpenStack component used to do) and once through geostack, and prints
// the tokens each way cost side by side.
//
// With no flags it runs on the embedded fake cloud.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
)

func main() {
	var flags demo.Flags
	flags.Register(flag.CommandLine)
	flows := flag.Int("flows", 200, "VM creates per run")
	workers := flag.Int("workers", 20, "concurrent workers")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, flags, *flows, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "vmcreate:", err)
		os.Exit(1)
	}
}

// component is one call a VM create makes, to one service.
type component struct {
	service string
	call    func(ctx context.Context, sc *gophercloud.ServiceClient) error
}

// flow is what one VM create touches: the flavor (compute), the image
// (image), the network (network), the volume type (volume), then the
// server create itself (compute).
var flow = []component{
	{"compute", func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		_, err := flavors.ListDetail(sc, nil).AllPages(ctx)
		return err
	}},
	{"image", func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		_, err := images.List(sc, images.ListOpts{Limit: 5}).AllPages(ctx)
		return err
	}},
	{"network", func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		_, err := networks.List(sc, nil).AllPages(ctx)
		return err
	}},
	{"block-storage", func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		_, err := volumetypes.List(sc, nil).AllPages(ctx)
		return err
	}},
}

func run(ctx context.Context, out io.Writer, flags demo.Flags, nflows, workers int) error {
	env, err := demo.Start(flags, geostacktest.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Base
	if env.Fake != nil {
		cfg.Credential, cfg.Scope = demo.User("gnc", 1)
	}

	client, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	regions, err := client.Regions(ctx)
	if err != nil {
		return err
	}
	if len(regions) > 3 {
		regions = regions[:3]
	}
	imageID, flavorID, err := pick(ctx, client, regions[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d VM-create flows over %d workers in %v; each touches compute, image, network and volume\n\n",
		nflows, workers, regions)

	// The naive way: every component call authenticates anew.
	authURL := cfg.Locations[0].AuthURLs[0]
	for _, l := range cfg.Locations {
		if l.Name == cfg.Home {
			authURL = l.AuthURLs[0]
		}
	}
	if cfg.Domains != nil {
		if d, ok := cfg.Domains.ByName(cfg.Domain); ok {
			if ep, ok := d.AuthURLs(cfg.Home); ok && len(ep.Users()) > 0 {
				authURL = ep.Users()[0]
			}
		}
	}
	ao, err := authOptions(authURL, cfg.Credential, cfg.Scope)
	if err != nil {
		return err
	}
	naive := func(ctx context.Context, service, r string) (*gophercloud.ServiceClient, error) {
		pc, err := openstack.AuthenticatedClient(ctx, ao)
		if err != nil {
			return nil, err
		}
		eo := gophercloud.EndpointOpts{Region: r}
		switch service {
		case "compute":
			return openstack.NewComputeV2(pc, eo)
		case "image":
			return openstack.NewImageV2(pc, eo)
		case "network":
			return openstack.NewNetworkV2(pc, eo)
		default:
			return openstack.NewBlockStorageV3(pc, eo)
		}
	}
	// The geostack way: a new client with a cold cache of its own, so that
	// its one token is counted.
	fresh, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer fresh.Close()
	shared := func(ctx context.Context, service, r string) (*gophercloud.ServiceClient, error) {
		return fresh.ServiceClient(ctx, service, r)
	}

	tokens := func() int64 {
		if env.Fake == nil {
			return -1
		}
		return env.Fake.TokensIssued("", "")
	}
	fmt.Fprintf(out, "%-10s %8s %10s %10s\n", "way", "flows", "tokens", "elapsed")
	for _, way := range []struct {
		name string
		get  func(context.Context, string, string) (*gophercloud.ServiceClient, error)
	}{{"naive", naive}, {"geostack", shared}} {
		before := tokens()
		start := time.Now()
		failed, err := runFlows(ctx, way.get, regions, nflows, workers, imageID, flavorID)
		if err != nil {
			return fmt.Errorf("%s: %w", way.name, err)
		}
		if failed > 0 {
			return fmt.Errorf("%s: %d flows failed", way.name, failed)
		}
		issued := "n/a"
		if before >= 0 {
			issued = fmt.Sprint(tokens() - before)
		}
		fmt.Fprintf(out, "%-10s %8d %10s %10v\n", way.name, nflows, issued, time.Since(start).Round(time.Millisecond))
	}
	st := fresh.Stats().Cache
	fmt.Fprintf(out, "\ngeostack cache: %d token fetched, %d callers coalesced\n", st.Issued, st.Coalesced)
	return nil
}

// runFlows runs n VM-create flows over workers goroutines, round-robin over
// regions, and returns how many failed.
func runFlows(ctx context.Context, get func(context.Context, string, string) (*gophercloud.ServiceClient, error),
	regions []string, n, workers int, imageID, flavorID string) (int64, error) {
	var failed atomic.Int64
	var firstErr error
	var once sync.Once
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := oneFlow(ctx, get, regions[i%len(regions)], i, imageID, flavorID); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return failed.Load(), firstErr
}

func oneFlow(ctx context.Context, get func(context.Context, string, string) (*gophercloud.ServiceClient, error),
	r string, i int, imageID, flavorID string) error {
	for _, c := range flow {
		sc, err := get(ctx, c.service, r)
		if err != nil {
			return err
		}
		if err := c.call(ctx, sc); err != nil {
			return fmt.Errorf("%s in %s: %w", c.service, r, err)
		}
	}
	sc, err := get(ctx, "compute", r)
	if err != nil {
		return err
	}
	return servers.Create(ctx, sc, servers.CreateOpts{
		Name: fmt.Sprintf("vm-%d", i), ImageRef: imageID, FlavorRef: flavorID, Networks: "auto",
	}, nil).Err
}

// pick chooses an image and a flavor the domain may use.
func pick(ctx context.Context, client *geostack.Client, r string) (string, string, error) {
	imgs, err := demo.Collect(client.Images(ctx, r, nil))
	if err != nil {
		return "", "", err
	}
	flvs, err := demo.Collect(client.Flavors(ctx, r, nil))
	if err != nil {
		return "", "", err
	}
	if len(imgs) == 0 || len(flvs) == 0 {
		return "", "", fmt.Errorf("region %s offers no image or flavor", r)
	}
	return imgs[0].ID, flvs[0].ID, nil
}

// authOptions is the same identity, spelled as gophercloud's AuthOptions for
// the naive way.
func authOptions(authURL string, cred identity.Credential, scope identity.Scope) (gophercloud.AuthOptions, error) {
	p, ok := cred.(identity.Password)
	if !ok {
		return gophercloud.AuthOptions{}, fmt.Errorf("the naive way is shown for password credentials only")
	}
	return gophercloud.AuthOptions{
		IdentityEndpoint: authURL,
		UserID:           p.UserID,
		Username:         p.UserName,
		DomainID:         p.DomainID,
		DomainName:       p.DomainName,
		Password:         p.Password,
		Scope: &gophercloud.AuthScope{
			ProjectID:   scope.ProjectID,
			ProjectName: scope.ProjectName,
			DomainID:    scope.ProjectDomainID,
			DomainName:  scope.ProjectDomainName,
		},
	}, nil
}
