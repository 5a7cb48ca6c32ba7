// Command devcloud works the project's own real cloud: the Keystone of
// scripts/keystone-up.sh and the services of scripts/services-up.sh,
// described by keystone.json ($GEOSTACK_KEYSTONE, or -keystone).
//
//	go run ./internal/devcloud clouds-yaml [-o FILE] [-auth-url LOC=URL]  # a clouds.yaml for the examples
//	go run ./internal/devcloud standin                 # stand-in services until interrupted
//	go run ./internal/devcloud restore                 # undo a stand-in that died
//
// clouds-yaml writes a clouds.yaml whose clouds (gnc, gnc-admin, zjp,
// service) each configure a geostack client on their own. standin
// registers internal/testserver's services, validating at the real
// Keystone, for every catalog endpoint that is still a closed-port
// placeholder (see internal/standin), prints them, and puts the
// placeholders back on SIGINT or SIGTERM. It changes the catalog that
// every user of that Keystone sees: run it on a Keystone of your own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/standin"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devcloud:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: devcloud clouds-yaml|standin|restore [-keystone keystone.json]")
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	keystone := fs.String("keystone", os.Getenv(keystonetest.EnvKeystone), "keystone.json of scripts/keystone-up.sh (default $"+keystonetest.EnvKeystone+")")
	output := fs.String("o", "", "clouds-yaml: write to this file (mode 0600) instead of stdout")
	authURLs := authURLFlag{}
	fs.Var(authURLs, "auth-url", "clouds-yaml: LOCATION=URL, a location's auth_url instead of keystone.json's (repeatable), e.g. a disposable instance for failover")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *keystone == "" {
		return fmt.Errorf("no keystone.json: pass -keystone or set %s (. STATE/keystone.env)", keystonetest.EnvKeystone)
	}
	env, err := keystonetest.ReadFile(*keystone)
	if err != nil {
		return err
	}
	switch cmd {
	case "clouds-yaml":
		for loc := range authURLs {
			if _, ok := env.AuthURLs[loc]; !ok {
				return fmt.Errorf("-auth-url: %s is not a location of %s", loc, *keystone)
			}
		}
		y, err := standin.CloudsYAML(env, authURLs)
		if err != nil {
			return err
		}
		if *output == "" {
			_, err = out.Write(y)
			return err
		}
		return os.WriteFile(*output, y, 0o600)
	case "standin":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		start, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		s, err := standin.Start(start, env)
		if err != nil {
			return err
		}
		for _, ep := range s.Endpoints {
			fmt.Fprintf(out, "%-5s %-8s %-8s %s\n", ep.Region, ep.Type, ep.Interface, ep.StandIn)
		}
		fmt.Fprintf(out, "stand-in for %d endpoints; interrupt to put the placeholders back\n", len(s.Endpoints))
		<-ctx.Done()
		done, cancel2 := context.WithTimeout(context.Background(), time.Minute)
		defer cancel2()
		if err := s.Close(done); err != nil {
			return err
		}
		fmt.Fprintln(out, "placeholders restored")
		return nil
	case "restore":
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return standin.Restore(ctx, env)
	}
	return fmt.Errorf("unknown command %q: want clouds-yaml, standin or restore", cmd)
}

// authURLFlag is -auth-url LOCATION=URL, repeatable.
type authURLFlag map[string]string

func (f authURLFlag) String() string { return "" }

func (f authURLFlag) Set(v string) error {
	loc, u, ok := strings.Cut(v, "=")
	if !ok || loc == "" || u == "" {
		return fmt.Errorf("want LOCATION=URL, got %q", v)
	}
	f[loc] = u
	return nil
}
