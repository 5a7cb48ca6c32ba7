// Package demo is what the example programs share: it starts the embedded
// fake cloud, or reads a real cloud's configuration, and returns the
// geostack.Config for one user.
package demo

import (
	"errors"
	"flag"
	"fmt"
	"iter"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
)

// Flags are the command-line flags every example takes.
type Flags struct {
	// Cloud names a cloud in clouds.yaml; empty runs on the fake cloud.
	Cloud string
	// Config is the geostack configuration file for a real cloud.
	Config string
}

// Register adds -cloud and -config to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Cloud, "cloud", "", "cloud name in clouds.yaml; empty runs on the embedded fake cloud")
	fs.StringVar(&f.Config, "config", "", "geostack configuration file (see examples/geostack.json); needed with -cloud")
}

// Env is the world an example runs in.
type Env struct {
	// Fake is the embedded fake cloud, or nil on a real cloud.
	Fake *testserver.Server
	// Base is the configuration; on the fake cloud it has no credential
	// yet (see User).
	Base geostack.Config
}

// Close stops the fake cloud, if one was started.
func (e *Env) Close() {
	if e.Fake != nil {
		e.Fake.Close()
	}
}

// Start returns the environment the flags ask for: the fake cloud when no
// -cloud is given, else the real cloud described by -config.
func Start(f Flags, opts testserver.Options) (*Env, error) {
	if f.Cloud != "" {
		if f.Config == "" {
			return nil, errors.New("-cloud needs -config, the geostack configuration file")
		}
		cfg, err := geostack.LoadConfig(f.Config)
		if err != nil {
			return nil, err
		}
		if err := cfg.ApplyCloud(clouds.WithCloudName(f.Cloud)); err != nil {
			return nil, err
		}
		return &Env{Base: cfg}, nil
	}
	srv, err := testserver.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("start the fake cloud: %w", err)
	}
	cfg, err := FakeConfig(srv, "gnc", "SG")
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Env{Fake: srv, Base: cfg}, nil
}

// FakeConfig is the configuration of a client of domain dom at location
// home on the fake cloud: its three locations, JP the primary, and the
// product domains with their per-location identity endpoints.
func FakeConfig(srv *testserver.Server, dom, home string) (geostack.Config, error) {
	world := testserver.DefaultWorld()
	var locs []region.Location
	for _, l := range world.Locations {
		locs = append(locs, region.Location{Name: l.Name, AuthURLs: []string{srv.AuthURL(l.Name)}, Regions: l.Regions})
	}
	var doms []domain.Domain
	for _, name := range testserver.ProductDomains() {
		wd := world.Domain(name)
		d := domain.Domain{Name: wd.Name, ID: wd.ID, Prefix: wd.Prefix, Endpoints: map[string]domain.Endpoints{}}
		for _, l := range world.Locations {
			d.Endpoints[l.Name] = domain.Endpoints{
				UserAuthURL:  srv.DomainAuthURL(name, l.Name),
				AdminAuthURL: srv.DomainAdminAuthURL(name, l.Name),
			}
		}
		doms = append(doms, d)
	}
	reg, err := domain.New(doms...)
	if err != nil {
		return geostack.Config{}, err
	}
	return geostack.Config{
		Locations: locs,
		Home:      home,
		Primary:   srv.Primary(),
		Domains:   reg,
		Domain:    dom,
	}, nil
}

// User returns the credential and project scope of the n-th seeded user of
// a domain on the fake cloud (n from 1).
func User(dom string, n int) (identity.Credential, identity.Scope) {
	world := testserver.DefaultWorld()
	name := fmt.Sprintf("%su%08d", dom, n)
	proj := fmt.Sprintf("%st%08d", dom, n)
	return identity.Password{UserName: name, DomainID: world.Domain(dom).ID, Password: testserver.UserPassword},
		identity.Scope{ProjectName: proj, ProjectDomainID: world.Domain(dom).ID}
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
