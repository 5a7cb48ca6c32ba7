// Command vmcreate replays the flow that multiplied tokens in the seed's
// cloud: many concurrent VM creates across regions, each touching compute,
// network, image and volume. It runs the flows twice, once the naive way
// (a new authenticated gophercloud client per component call, as each
// OpenStack component used to do) and once through geostack, counts the
// tokens Keystone issued each way (its 201 answers to POST
// /v3/auth/tokens, seen by the client), prints them side by side, and
// deletes the servers it created.
//
// With no flags it runs on the embedded fake cloud, 200 flows each way.
// On a real cloud it runs 4 flows each way unless told otherwise, and
// more than 10 need -create-many, since each flow creates a server:
//
//	go run ./examples/vmcreate -cloud NAME -config clouds.yaml [-flows N -create-many]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
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

// Flow counts: the fake cloud's default, a real cloud's default, and the
// most a real cloud gets without -create-many.
const (
	fakeFlows     = 200
	realFlows     = 4
	realFlowLimit = 10
)

// options are vmcreate's own flags.
type options struct {
	flows      int // 0: the default for the cloud
	workers    int
	createMany bool
}

func main() {
	var flags demo.Flags
	flags.Register(flag.CommandLine)
	var o options
	flag.IntVar(&o.flows, "flows", 0, fmt.Sprintf("VM-create flows per way (default %d on the fake cloud, %d on a real one)", fakeFlows, realFlows))
	flag.IntVar(&o.workers, "workers", 20, "concurrent workers")
	flag.BoolVar(&o.createMany, "create-many", false, fmt.Sprintf("allow more than %d flows on a real cloud: each creates a server", realFlowLimit))
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, flags, o); err != nil {
		fmt.Fprintln(os.Stderr, "vmcreate:", err)
		os.Exit(1)
	}
}

// component is one call a VM create makes, to one service.
type component struct {
	service string
	call    func(ctx context.Context, sc *gophercloud.ServiceClient) error
}

// flow is what one VM create touches before the create itself: the
// flavors (compute), the images (image), the networks (network) and the
// volume types (volume).
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

// getter returns the ServiceClient of a service in a region.
type getter func(ctx context.Context, service, region string) (*gophercloud.ServiceClient, error)

func run(ctx context.Context, out io.Writer, flags demo.Flags, o options) error {
	env, err := demo.Start(flags, geostacktest.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	nflows := o.flows
	switch {
	case nflows < 0 || o.workers < 1:
		return errors.New("-flows must be positive and -workers at least 1")
	case nflows == 0 && env.Real():
		nflows = realFlows
	case nflows == 0:
		nflows = fakeFlows
	case env.Real() && nflows > realFlowLimit && !o.createMany:
		return fmt.Errorf("-flows %d would create %d servers on a real cloud: add -create-many to mean it", nflows, 2*nflows)
	}
	cfg := env.Base
	if env.Fake != nil {
		cfg.Credential, cfg.Scope = demo.User("gnc", 1)
	}

	client, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	regions, err := client.Regions(ctx, "compute")
	if err != nil {
		return err
	}
	picks := map[string]pick{}
	for _, r := range regions {
		if picks[r], err = choose(ctx, client, r); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "%d VM-create flows per way over %d workers in %v; each touches compute, image, network and volume\n\n",
		nflows, o.workers, regions)

	// Keystone's token answers, as the client sees them.
	// The configuration's TLS settings (clouds.yaml's cacert, cert, key,
	// verify) go to that client's transport.
	var issued atomic.Int64
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = cfg.TLSConfig
	defer base.CloseIdleConnections()
	counted := &http.Client{Transport: tokenCounter{base: base, issued: &issued}}

	// The naive way: every component call authenticates anew.
	ao, err := authOptions(naiveAuthURL(cfg), cfg.Credential, cfg.Scope)
	if err != nil {
		return err
	}
	naive := func(ctx context.Context, service, r string) (*gophercloud.ServiceClient, error) {
		pc, err := openstack.NewClient(ao.IdentityEndpoint)
		if err != nil {
			return nil, err
		}
		pc.HTTPClient = *counted
		if err := openstack.Authenticate(ctx, pc, ao); err != nil {
			return nil, err
		}
		eo := gophercloud.EndpointOpts{Region: r}
		switch service {
		case "compute":
			sc, err := openstack.NewComputeV2(pc, eo)
			if err == nil {
				sc.Microversion = demo.ComputeMicroversion
			}
			return sc, err
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
	freshCfg := cfg
	freshCfg.HTTPClient, freshCfg.TLSConfig = counted, nil
	fresh, err := geostack.New(ctx, freshCfg)
	if err != nil {
		return err
	}
	defer fresh.Close()
	shared := func(ctx context.Context, service, r string) (*gophercloud.ServiceClient, error) {
		if service == "compute" {
			return demo.NewComputeClient(ctx, fresh, r)
		}
		return fresh.ServiceClient(ctx, service, r)
	}

	fmt.Fprintf(out, "%-10s %8s %10s %10s %10s\n", "way", "flows", "tokens", "elapsed", "deleted")
	for _, way := range []struct {
		name string
		get  getter
	}{{"naive", naive}, {"geostack", shared}} {
		before := issued.Load()
		start := time.Now()
		made, failed, runErr := runFlows(ctx, way.get, regions, nflows, o.workers, picks)
		elapsed := time.Since(start)
		tokens := issued.Load() - before
		// The servers go whatever happened, through the long-lived client.
		cctx, cancel := demo.Cleanup(ctx)
		deleted, delErr := deleteAll(cctx, client, made)
		cancel()
		if runErr != nil {
			return errors.Join(fmt.Errorf("%s: %d flows failed, the first: %w", way.name, failed, runErr), delErr)
		}
		if delErr != nil {
			return fmt.Errorf("%s: %w", way.name, delErr)
		}
		fmt.Fprintf(out, "%-10s %8d %10d %10v %10d\n", way.name, nflows, tokens, elapsed.Round(time.Millisecond), deleted)
	}
	st := fresh.Stats().Cache
	fmt.Fprintf(out, "\ngeostack cache: %d token fetched, %d callers coalesced; every server deleted\n", st.Issued, st.Coalesced)
	return nil
}

// pick is the image and flavor a region's servers are made of.
type pick struct{ imageID, flavorID string }

// created is a server a flow made.
type created struct{ region, id string }

// runFlows runs n VM-create flows over workers goroutines, round-robin over
// regions, and returns the servers made, how many flows failed and the
// first failure.
func runFlows(ctx context.Context, get getter, regions []string, n, workers int, picks map[string]pick) ([]created, int64, error) {
	var failed atomic.Int64
	var firstErr error
	var once sync.Once
	var mu sync.Mutex
	var made []created
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				r := regions[i%len(regions)]
				id, err := oneFlow(ctx, get, r, i, picks[r])
				if id != "" {
					mu.Lock()
					made = append(made, created{r, id})
					mu.Unlock()
				}
				if err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return made, failed.Load(), firstErr
}

// oneFlow makes the calls of one VM create and the create; it returns the
// server's id when one was made.
func oneFlow(ctx context.Context, get getter, r string, i int, p pick) (string, error) {
	for _, c := range flow {
		sc, err := get(ctx, c.service, r)
		if err != nil {
			return "", err
		}
		if err := c.call(ctx, sc); err != nil {
			return "", fmt.Errorf("%s in %s: %w", c.service, r, err)
		}
	}
	sc, err := get(ctx, "compute", r)
	if err != nil {
		return "", err
	}
	s, err := servers.Create(ctx, sc, demo.ServerOpts(fmt.Sprintf("vm-%d", i), p.imageID, p.flavorID), nil).Extract()
	if err != nil {
		return "", fmt.Errorf("create in %s: %w", r, err)
	}
	return s.ID, nil
}

// deleteAll deletes the servers made, region by region, and waits until
// they are gone.
func deleteAll(ctx context.Context, client *geostack.Client, made []created) (int, error) {
	byRegion := map[string][]string{}
	for _, c := range made {
		byRegion[c.region] = append(byRegion[c.region], c.id)
	}
	deleted := 0
	var errs []error
	for r, ids := range byRegion {
		sc, err := client.ServiceClient(ctx, "compute", r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n, err := demo.DeleteServers(ctx, sc, ids)
		deleted += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %d of %d servers not deleted: %w", r, len(ids)-n, len(ids), err))
		}
	}
	return deleted, errors.Join(errs...)
}

// choose picks an image and a flavor the domain may use in a region: the
// first of each by name.
func choose(ctx context.Context, client *geostack.Client, r string) (pick, error) {
	imgs, err := demo.Collect(client.Images(ctx, r, nil))
	if err != nil {
		return pick{}, err
	}
	flvs, err := demo.Collect(client.Flavors(ctx, r, nil))
	if err != nil {
		return pick{}, err
	}
	if len(imgs) == 0 || len(flvs) == 0 {
		return pick{}, fmt.Errorf("region %s offers no image or flavor", r)
	}
	slices.SortFunc(imgs, func(a, b images.Image) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(flvs, func(a, b flavors.Flavor) int { return strings.Compare(a.Name, b.Name) })
	return pick{imgs[0].ID, flvs[0].ID}, nil
}

// naiveAuthURL is where the naive way authenticates: the home location's
// first auth_url, or the domain's own there.
func naiveAuthURL(cfg geostack.Config) string {
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
	return authURL
}

// tokenCounter counts the tokens Keystone issued through it.
type tokenCounter struct {
	base   http.RoundTripper
	issued *atomic.Int64
}

func (t tokenCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/auth/tokens") && resp.StatusCode == http.StatusCreated {
		t.issued.Add(1)
	}
	return resp, err
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
