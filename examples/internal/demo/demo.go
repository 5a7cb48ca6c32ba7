// Package demo is what the example programs share: it starts the embedded
// fake cloud, or reads a real cloud's configuration, and returns the
// geostack.Config for one user.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/wirelog"
)

// Flags are the command-line flags every example takes.
type Flags struct {
	// Cloud names a cloud in clouds.yaml; empty runs on the fake cloud.
	Cloud string
	// Config is the configuration file of a real cloud: a clouds.yaml
	// whose cloud entry holds the geostack key (the one file), or a
	// geostack.json, the credentials then coming from clouds.yaml's usual
	// places. Empty means the clouds.yaml openstack would read.
	Config string
	// Debug logs every request and answer, secrets redacted, to DebugOut.
	Debug bool
	// DebugOut receives the debug log; nil means standard error.
	DebugOut io.Writer
}

// Register adds -cloud and -config to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Cloud, "cloud", "", "cloud name in clouds.yaml; empty runs on the embedded fake cloud")
	fs.StringVar(&f.Config, "config", "", "with -cloud: clouds.yaml, or a geostack.json (see examples/geostack.json); "+
		"default: the clouds.yaml openstack reads ($OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/)")
	fs.BoolVar(&f.Debug, "debug", false, "log every request and answer, bodies included, secrets redacted, to stderr")
}

// debugLogger is the logger of -debug, or nil.
func (f Flags) debugLogger() *slog.Logger {
	if !f.Debug {
		return nil
	}
	out := f.DebugOut
	if out == nil {
		out = os.Stderr
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: wirelog.LevelBody}))
}

// Env is the world an example runs in.
type Env struct {
	// Fake is the embedded fake cloud, or nil on a real cloud.
	Fake *geostacktest.Server
	// Base is the configuration; on the fake cloud it has no credential
	// yet (see User).
	Base geostack.Config

	flags Flags
}

// Real reports whether the example runs on a real cloud.
func (e *Env) Real() bool { return e.Fake == nil }

// Close stops the fake cloud, if one was started.
func (e *Env) Close() {
	if e.Fake != nil {
		e.Fake.Close()
	}
}

// Start returns the environment the flags ask for: the fake cloud when no
// -cloud is given, else the real cloud described by -config.
func Start(f Flags, opts geostacktest.Options) (*Env, error) {
	if f.Cloud != "" {
		cfg, err := load(f, f.Cloud)
		if err != nil {
			return nil, err
		}
		cfg.DebugLogger = f.debugLogger()
		return &Env{Base: cfg, flags: f}, nil
	}
	srv, err := geostacktest.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("start the fake cloud: %w", err)
	}
	cfg, err := FakeConfig(srv, "gnc", "SG")
	if err != nil {
		srv.Close()
		return nil, err
	}
	cfg.DebugLogger = f.debugLogger()
	return &Env{Fake: srv, Base: cfg}, nil
}

// Cloud returns the configuration of another cloud of the same
// configuration (a second user, a service's own identity) on a real
// cloud.
func (e *Env) Cloud(name string) (geostack.Config, error) {
	if e.Fake != nil {
		return geostack.Config{}, errors.New("demo: Cloud is for a real cloud")
	}
	return load(e.flags, name)
}

// load reads cloud's configuration: from a geostack.json and clouds.yaml,
// or from clouds.yaml alone.
func load(f Flags, cloud string) (geostack.Config, error) {
	if strings.HasSuffix(f.Config, ".json") {
		cfg, err := geostack.LoadConfig(f.Config)
		if err != nil {
			return geostack.Config{}, err
		}
		if err := cfg.ApplyCloud(clouds.WithCloudName(cloud)); err != nil {
			return geostack.Config{}, err
		}
		return cfg, nil
	}
	return geostack.LoadCloud(cloud, f.Config)
}

// FakeConfig is the configuration of a client of domain dom at location
// home on the fake cloud: its three locations, JP the primary, and the
// product domains with their per-location identity endpoints.
func FakeConfig(srv *geostacktest.Server, dom, home string) (geostack.Config, error) {
	cfg := srv.Config(dom, 1)
	cfg.Home = home
	cfg.Credential, cfg.Scope = nil, identity.Scope{} // see User
	return cfg, nil
}

// User returns the credential and project scope of the n-th seeded user of
// a domain on the fake cloud (n from 1).
func User(dom string, n int) (identity.Credential, identity.Scope) {
	name := fmt.Sprintf("%su%08d", dom, n)
	proj := fmt.Sprintf("%st%08d", dom, n)
	return identity.Password{UserName: name, DomainName: dom, Password: geostacktest.UserPassword},
		identity.Scope{ProjectName: proj, ProjectDomainName: dom}
}

// Collect drains a listing into a slice; a listing that fails part way
// returns the error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// NewComputeClient returns the compute client of region with the
// microversion the examples' server creates need (2.37, for "networks":
// "none"): a ServiceClient is the caller's own copy, free to change.
func NewComputeClient(ctx context.Context, client *geostack.Client, region string) (*gophercloud.ServiceClient, error) {
	sc, err := client.ServiceClient(ctx, "compute", region)
	if err != nil {
		return nil, err
	}
	sc.Microversion = ComputeMicroversion
	return sc, nil
}

// ComputeMicroversion is the compute API microversion of the examples'
// server creates: 2.37 lets a server have no network ("networks": "none"),
// which a cloud without a network service can create.
const ComputeMicroversion = "2.37"

// ServerOpts are the create options of the examples' servers: no network,
// so that nothing else is allocated for them.
func ServerOpts(name, imageID, flavorID string) servers.CreateOpts {
	return servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: flavorID, Networks: "none"}
}

// DeleteServers deletes the servers ids of compute's region and waits
// until each is gone (its GET answers 404), as deletes on a real cloud
// take a moment. A server that is gone counts as deleted whatever its
// DELETE answered: a Nova without a placement service deletes a server
// that was never scheduled, then answers 500 for the allocations it
// cannot remove. It returns how many are gone and the first problem.
func DeleteServers(ctx context.Context, compute *gophercloud.ServiceClient, ids []string) (int, error) {
	gone := 0
	var first error
	for _, id := range ids {
		derr := servers.Delete(ctx, compute, id).ExtractErr()
		if derr != nil && gophercloud.ResponseCodeIs(derr, http.StatusNotFound) {
			derr = nil
		}
		err := waitGone(ctx, compute, id)
		if err == nil {
			gone++
			continue
		}
		if derr != nil {
			err = fmt.Errorf("delete server %s: %w (and it is still there: %v)", id, derr, err)
		}
		if first == nil {
			first = err
		}
	}
	return gone, first
}

// waitGone polls a server until it answers 404, for up to 30 s.
func waitGone(ctx context.Context, compute *gophercloud.ServiceClient, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err := servers.Get(ctx, compute, id).Err
		switch {
		case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return nil
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("server %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server %s is still there: %w", id, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Cleanup is a context for deleting what an example made, even after
// its own context was canceled or timed out.
func Cleanup(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
}
