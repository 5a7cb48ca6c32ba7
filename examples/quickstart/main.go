// Command quickstart shows geostack's common case: one user, one cached
// token, every service in every region.
//
// With no flags it starts the embedded fake cloud (three locations: JP, the
// primary, with TYO1 and OSA1; US with SJC1; SG with SIN1; and the product
// domains gnc, zjp and zsg), authenticates a gnc user at its home location
// SG, lists the regions, lists the images, flavors and volume types the
// domain may see in each region, creates a server in each region, deletes
// them, and prints how many tokens Keystone issued for all of that: one.
//
// On a real cloud it does the same with the cloud's user, and creates one
// server per region (no network; in 5 regions at most without
// -create-many), which it deletes before it exits:
//
//	go run ./examples/quickstart -cloud NAME -config clouds.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
)

func main() {
	var flags demo.Flags
	flags.Register(flag.CommandLine)
	createMany := flag.Bool("create-many", false, fmt.Sprintf("on a real cloud of more than %d regions, create a server in every one", realServerLimit))
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, flags, *createMany); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// realServerLimit is how many servers quickstart creates on a real cloud
// without -create-many: one in each of the first regions.
const realServerLimit = 5

func run(ctx context.Context, out io.Writer, flags demo.Flags, createMany bool) error {
	env, err := demo.Start(flags, geostacktest.Options{})
	if err != nil {
		return err
	}
	defer env.Close()

	cfg := env.Base
	if env.Fake != nil {
		cfg.Credential, cfg.Scope = demo.User("gnc", 1)
		fmt.Fprintf(out, "fake cloud: locations %s, primary %s\n", strings.Join(env.Fake.Locations(), ", "), env.Fake.Primary())
	}

	client, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()

	tok, err := client.Token(ctx)
	if err != nil {
		return err
	}
	scope := "unscoped"
	switch {
	case tok.Project != nil:
		scope = "project " + tok.Project.Name
	case tok.Domain != nil:
		scope = "domain scope " + tok.Domain.Name
	case tok.System:
		scope = "system scope"
	}
	fmt.Fprintf(out, "authenticated %s (domain %s, %s) at home location %s\n",
		tok.User.Name, cfg.Domain, scope, cfg.Home)

	regions, err := client.Regions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "regions in the catalog: %s\n", strings.Join(regions, ", "))

	// Whatever happens below, the servers made are deleted before return.
	var made []server
	defer func() {
		if len(made) > 0 {
			cctx, cancel := demo.Cleanup(ctx)
			defer cancel()
			if err := deleteAll(cctx, out, made); err != nil {
				fmt.Fprintln(os.Stderr, "quickstart: cleanup:", err)
			}
		}
	}()

	for _, r := range regions {
		imgs, err := demo.Collect(client.Images(ctx, r, nil))
		if err != nil {
			return err
		}
		flvs, err := demo.Collect(client.Flavors(ctx, r, nil))
		if err != nil {
			return err
		}
		vts, err := demo.Collect(client.VolumeTypes(ctx, r, nil))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n%s\n  images:       %s\n  flavors:      %s\n  volume types: %s\n", r,
			names(imgs, func(i images.Image) string { return i.Name }),
			names(flvs, func(f flavors.Flavor) string { return f.Name }),
			names(vts, func(v volumetypes.VolumeType) string { return v.Name }))

		if env.Real() && !createMany && len(made) == realServerLimit {
			fmt.Fprintf(out, "  server:       not created: %d are enough without -create-many\n", realServerLimit)
			continue
		}
		compute, err := demo.NewComputeClient(ctx, client, r)
		if err != nil {
			return err
		}
		img, flv, err := firstUsable(imgs, flvs)
		if err != nil {
			return fmt.Errorf("region %s: %w", r, err)
		}
		name := "quickstart-" + strings.ToLower(r)
		created, err := servers.Create(ctx, compute, demo.ServerOpts(name, img.ID, flv.ID), nil).Extract()
		if err != nil {
			return fmt.Errorf("create a server in %s: %w", r, err)
		}
		made = append(made, server{compute, r, created.ID})
		srv, err := servers.Get(ctx, compute, created.ID).Extract()
		if err != nil {
			return fmt.Errorf("get server %s in %s: %w", created.ID, r, err)
		}
		fmt.Fprintf(out, "  server:       %s %s (%s on %s)\n", srv.Name, srv.Status, img.Name, flv.Name)
	}
	if err := deleteAll(ctx, out, made); err != nil {
		return err
	}
	made = nil

	st := client.Stats()
	fmt.Fprintf(out, "\ncache: %d token fetched, %d refreshes, %d invalidated\n",
		st.Cache.Issued, st.Cache.Refreshes, st.Cache.Invalidations)
	if env.Fake != nil {
		var at []string
		for _, l := range env.Fake.Locations() {
			at = append(at, fmt.Sprintf("%s %d", l, env.Fake.TokensIssued("", l)))
		}
		fmt.Fprintf(out, "tokens issued by Keystone: %d (%s)\n", env.Fake.TokensIssued("", ""), strings.Join(at, ", "))
	}
	return nil
}

// names lists the names of items, sorted.
func names[T any](items []T, name func(T) string) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = name(it)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// server is a server the example made, and where.
type server struct {
	compute *gophercloud.ServiceClient
	region  string
	id      string
}

// deleteAll deletes the servers and waits until they are gone.
func deleteAll(ctx context.Context, out io.Writer, made []server) error {
	var regions []string
	for _, s := range made {
		if _, err := demo.DeleteServers(ctx, s.compute, []string{s.id}); err != nil {
			return fmt.Errorf("delete the server of %s: %w", s.region, err)
		}
		regions = append(regions, s.region)
	}
	fmt.Fprintf(out, "\ndeleted %d servers (%s); none left\n", len(made), strings.Join(regions, ", "))
	return nil
}

// firstUsable returns the first image and flavor by name: any the domain
// may see will do.
func firstUsable(imgs []images.Image, flvs []flavors.Flavor) (images.Image, flavors.Flavor, error) {
	if len(imgs) == 0 || len(flvs) == 0 {
		return images.Image{}, flavors.Flavor{}, fmt.Errorf("no image or flavor to create a server from")
	}
	slices.SortFunc(imgs, func(a, b images.Image) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(flvs, func(a, b flavors.Flavor) int { return strings.Compare(a.Name, b.Name) })
	return imgs[0], flvs[0], nil
}
