// Command failover takes the home location's Keystone down while traffic
// runs, and shows that no call fails and where the tokens came from.
//
// A gnc client at home location SG runs API traffic in every region. Then
// SG's Keystone goes down. The cached token keeps serving; when it is
// refreshed, and when a second user logs in, the token comes from the next
// location (JP), and SG's circuit opens so no request waits on it again.
// Then SG comes back.
//
// With no flags it runs on the embedded fake cloud, whose SG Keystone it
// takes down and whose tokens live 2 s, so that one is refreshed while SG
// is down. On a real cloud the home Keystone is taken down and brought
// back by commands of yours, and the token is refreshed on purpose
// (Client.Refresh, until the home auth_url's circuit opens) while it is
// down; the second user is -second-cloud's.
// It creates nothing:
//
//	go run ./examples/failover -cloud gnc -config clouds.yaml \
//	    -down-cmd 'scripts/keystone-down.sh STATE my-sg' -up-cmd 'scripts/keystone-instance.sh STATE my-sg PORT'
//
// Point the cloud's home location at a Keystone you may stop (a
// disposable instance of scripts/keystone-instance.sh), never at one that
// others use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	var flags demo.Flags
	flags.Register(flag.CommandLine)
	var o options
	flag.StringVar(&o.secondCloud, "second-cloud", "gnc-admin", "with -cloud: the cloud of the second user, who logs in while the home Keystone is down")
	flag.StringVar(&o.downCmd, "down-cmd", "", "with -cloud: shell command that takes the home location's Keystone down")
	flag.StringVar(&o.upCmd, "up-cmd", "", "with -cloud: shell command that brings it back (optional)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, flags, o); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

// options are failover's own flags.
type options struct{ secondCloud, downCmd, upCmd string }

// refreshes is how often the token is refreshed on a real cloud while the
// home Keystone is down: one more than the faults that open a circuit
// (region.Config's default FailureThreshold, 3).
const refreshes = 4

// tokenLifetime is short on the fake cloud so that the token is refreshed
// while SG is down.
const tokenLifetime = 2 * time.Second

func run(ctx context.Context, out io.Writer, flags demo.Flags, o options) error {
	env, err := demo.Start(flags, geostacktest.Options{TokenLifetime: tokenLifetime})
	if err != nil {
		return err
	}
	defer env.Close()
	fake := env.Fake
	if env.Real() && o.downCmd == "" {
		return errors.New("on a real cloud, -down-cmd is the command that takes the home location's Keystone down")
	}

	cfg := env.Base
	second := cfg
	if fake != nil {
		cfg.Credential, cfg.Scope = demo.User("gnc", 1)
		second.Credential, second.Scope = demo.User("gnc", 2)
	} else if second, err = env.Cloud(o.secondCloud); err != nil {
		return fmt.Errorf("-second-cloud: %w", err)
	}
	cfg.AttemptTimeout, second.AttemptTimeout = time.Second, time.Second
	client, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	regions, err := client.Regions(ctx, "compute")
	if err != nil {
		return err
	}
	where := locator(cfg)

	var order []string
	for _, u := range client.Resolver().Order(cfg.Home) {
		order = append(order, where(u))
	}
	if fake != nil {
		fmt.Fprintf(out, "home location %s, failover order %v, tokens live %v\n", cfg.Home, order, tokenLifetime)
	} else {
		fmt.Fprintf(out, "home location %s, failover order %v\n", cfg.Home, order)
	}
	// issued says where the tokens came from: every location's count on
	// the fake cloud, the current token's location on a real one.
	issued := func() string {
		if fake != nil {
			var at []string
			for _, l := range fake.Locations() {
				at = append(at, fmt.Sprintf("%s %d", l, fake.TokensIssued("", l)))
			}
			return "tokens issued so far: " + strings.Join(at, ", ")
		}
		tok, err := client.Token(ctx)
		if err != nil {
			return "no token: " + err.Error()
		}
		return "token in use issued at " + where(tok.AuthURL)
	}
	phase := func(name string, d time.Duration) error {
		calls, failed := traffic(ctx, client, regions, d)
		fmt.Fprintf(out, "%-34s %5d calls, %d failed; %s\n", name, calls, failed, issued())
		if failed > 0 {
			return fmt.Errorf("%s: %d calls failed", name, failed)
		}
		return nil
	}

	if err := phase("traffic, every location up:", 500*time.Millisecond); err != nil {
		return err
	}

	if fake != nil {
		fake.SetKeystoneFault(cfg.Home, geostacktest.Fault{Down: true})
	} else if err := shell(ctx, o.downCmd); err != nil {
		return fmt.Errorf("-down-cmd: %w", err)
	}
	fmt.Fprintf(out, "-- %s Keystone is down\n", cfg.Home)
	if fake != nil {
		if err := phase("traffic across a token refresh:", 2*tokenLifetime); err != nil {
			return err
		}
	} else {
		// A real cloud's token lives for hours: refresh it now, as if it
		// were about to expire, with traffic on either side.
		if err := phase("traffic, home Keystone down:", time.Second); err != nil {
			return err
		}
		// Once for each fault it takes to open the home auth_url's
		// circuit, and once more, which skips it.
		var at []string
		for range refreshes {
			tok, err := client.Refresh(ctx)
			if err != nil {
				return fmt.Errorf("refresh while %s is down: %w", cfg.Home, err)
			}
			at = append(at, where(tok.AuthURL))
		}
		fmt.Fprintf(out, "token refreshed %d times; issued at %s\n", refreshes, strings.Join(at, ", "))
		if err := phase("traffic across a token refresh:", time.Second); err != nil {
			return err
		}
	}

	c2, err := geostack.New(ctx, second)
	if err != nil {
		return err
	}
	defer c2.Close()
	tok, err := c2.Token(ctx)
	if err != nil {
		return fmt.Errorf("second user's login: %w", err)
	}
	fmt.Fprintf(out, "second user %s logged in; token issued at %s\n", tok.User.Name, where(tok.AuthURL))
	for _, a := range client.Stats().Region.AuthURLs {
		fmt.Fprintf(out, "  auth_url of %s: circuit %s, %d attempts, %d failures, %d skipped\n",
			a.Location, a.State, a.Attempts, a.Failures, a.Skipped)
	}

	switch {
	case fake != nil:
		fake.ClearFaults()
		fmt.Fprintf(out, "-- %s Keystone is back\n", cfg.Home)
	case o.upCmd != "":
		if err := shell(ctx, o.upCmd); err != nil {
			return fmt.Errorf("-up-cmd: %w", err)
		}
		fmt.Fprintf(out, "-- %s Keystone is back\n", cfg.Home)
	}
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
		wg.Go(func() {
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
		})
	}
	wg.Wait()
	return nCalls.Load(), nFailed.Load()
}

// locator returns a function naming the location of an auth_url of cfg:
// one of a location's own, or one of its domain's there.
func locator(cfg geostack.Config) func(authURL string) string {
	roots := map[string]string{} // auth_url without /v3 -> location
	add := func(u, loc string) {
		if u != "" {
			roots[strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/v3")] = loc
		}
	}
	for _, l := range cfg.Locations {
		for _, u := range l.AuthURLs {
			add(u, l.Name)
		}
		if cfg.Domains != nil {
			if d, ok := cfg.Domains.ByName(cfg.Domain); ok {
				if ep, ok := d.AuthURLs(l.Name); ok {
					add(ep.UserAuthURL, l.Name)
				}
			}
		}
	}
	return func(authURL string) string {
		u := strings.TrimSuffix(authURL, "/")
		for root, loc := range roots {
			if u == root || strings.HasPrefix(u, root+"/") {
				return loc
			}
		}
		return authURL
	}
}

// shell runs a command of the user's, its output going to stderr.
func shell(ctx context.Context, command string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}
