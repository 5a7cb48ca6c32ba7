// Package demo is what the example programs share: it starts the embedded
// fake cloud, or reads a real cloud's configuration, and returns the
// geostack.Config for one user.
package demo

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"

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
	// Config is the geostack configuration file for a real cloud.
	Config string
	// Debug logs every request and answer, secrets redacted, to DebugOut.
	Debug bool
	// DebugOut receives the debug log; nil means standard error.
	DebugOut io.Writer
}

// Register adds -cloud and -config to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Cloud, "cloud", "", "cloud name in clouds.yaml; empty runs on the embedded fake cloud")
	fs.StringVar(&f.Config, "config", "", "geostack configuration file (see examples/geostack.json); needed with -cloud")
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
}

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
		cfg.DebugLogger = f.debugLogger()
		return &Env{Base: cfg}, nil
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
