// Command failover kills the home location's Keystone in the embedded fake
// cloud while traffic runs, and shows that no call fails and where the
// tokens came from.
//
// A gnc client at home location SG runs API traffic in every region. Then
// SG's Keystone goes down. The cached token keeps serving; when it is
// refreshed, and when a second user logs in, the token comes from the next
// location (JP), and SG's circuit opens so no request waits on it again.
// Then SG comes back.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

// tokenLifetime is short so that the token is refreshed while SG is down.
const tokenLifetime = 2 * time.Second

func run(ctx context.Context, out io.Writer) error {
	env, err := demo.Start(demo.Flags{}, geostacktest.Options{TokenLifetime: tokenLifetime})
	if err != nil {
		return err
	}
	defer env.Close()
	fake := env.Fake

	cfg := env.Base
	cfg.Credential, cfg.Scope = demo.User("gnc", 1)
	cfg.AttemptTimeout = time.Second
	client, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	regions, err := client.Regions(ctx)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "home location %s, failover order %v, tokens live %v\n", cfg.Home, orderOf(client, fake, cfg.Home), tokenLifetime)
	phase := func(name string, d time.Duration) error {
		calls, failed := traffic(ctx, client, regions, d)
		fmt.Fprintf(out, "%-34s %5d calls, %d failed; tokens issued so far: %s\n", name, calls, failed, issuedByLocation(fake))
		if failed > 0 {
			return fmt.Errorf("%s: %d calls failed", name, failed)
		}
		return nil
	}

	if err := phase("traffic, every location up:", 500*time.Millisecond); err != nil {
		return err
	}

	fake.SetKeystoneFault(cfg.Home, geostacktest.Fault{Down: true})
	fmt.Fprintf(out, "-- %s Keystone is down\n", cfg.Home)
	if err := phase("traffic across a token refresh:", 2*tokenLifetime); err != nil {
		return err
	}

	second := cfg
	second.Credential, second.Scope = demo.User("gnc", 2)
	c2, err := geostack.New(ctx, second)
	if err != nil {
		return err
	}
	defer c2.Close()
	tok, err := c2.Token(ctx)
	if err != nil {
		return fmt.Errorf("second user's login: %w", err)
	}
	fmt.Fprintf(out, "second user %s logged in; token issued at %s\n", tok.User.Name, locationOf(fake, tok.AuthURL))
	for _, a := range client.Stats().Region.AuthURLs {
		fmt.Fprintf(out, "  auth_url of %s: circuit %s, %d attempts, %d failures, %d skipped\n",
			a.Location, a.State, a.Attempts, a.Failures, a.Skipped)
	}

	fake.SetKeystoneFault(cfg.Home, geostacktest.Fault{})
	fmt.Fprintf(out, "-- %s Keystone is back\n", cfg.Home)
	st := client.Stats()
	fmt.Fprintf(out, "client: %d tokens fetched, %d failovers, 0 failed calls\n", st.Cache.Issued, st.Region.Failovers)
	return nil
}

// traffic lists flavors in every region from 4 workers for d, and counts
// calls and failures.
func traffic(ctx context.Context, client *geostack.Client, regions []string, d time.Duration) (calls, failed int64) {
	var nCalls, nFailed atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i++ {
				nCalls.Add(1)
				sc, err := client.ServiceClient(ctx, "compute", regions[i%len(regions)])
				if err == nil {
					_, err = flavors.ListDetail(sc, nil).AllPages(ctx)
				}
				if err != nil {
					nFailed.Add(1)
					fmt.Fprintln(os.Stderr, "call failed:", err)
				}
			}
		}()
	}
	wg.Wait()
	return nCalls.Load(), nFailed.Load()
}

func issuedByLocation(fake *geostacktest.Server) string {
	s := ""
	for i, l := range fake.Locations() {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", l, fake.TokensIssued("", l))
	}
	return s
}

// orderOf names the locations in the order the client tries them.
func orderOf(c *geostack.Client, fake *geostacktest.Server, home string) []string {
	var out []string
	for _, u := range c.Resolver().Order(home) {
		out = append(out, locationOf(fake, u))
	}
	return out
}

// locationOf names the fake cloud's location an auth_url belongs to.
func locationOf(fake *geostacktest.Server, authURL string) string {
	for _, l := range fake.Locations() {
		if strings.HasPrefix(authURL, fake.URL(l)+"/") {
			return l
		}
	}
	return authURL
}
