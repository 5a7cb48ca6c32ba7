// Package standin fills the gaps of the project's own real cloud (the
// Keystone of scripts/keystone-up.sh and the services of
// scripts/services-up.sh) with internal/testserver's services, so that a
// program can run against that cloud in every region.
//
// keystone-seed.py registers compute, image, volumev3 and network
// endpoints in every region at http://127.0.0.1:9/<region>/<interface>/…,
// a closed port; services-up.sh points some of them at real Glance, Cinder
// and Nova APIs and leaves the others there. Start runs a testserver whose
// services validate every token at the real Keystone
// (testserver.ExternalKeystone, as the neutron service user), and points
// each endpoint still on port 9 at it, with the same path, so that an
// endpoint still tells its region and interface. Endpoints of real
// services are left alone: when a real service comes, it is used. Close
// points the endpoints back at port 9.
//
// The endpoints' former URLs are saved under the state directory before
// they change, so that a run that died is undone by the next Start, or
// by Restore. One stand-in at a time may be registered in a Keystone: a
// lock under the state directory says so; Start waits for it. It changes the catalog every
// user of that Keystone sees; run it on a Keystone of your own, not on
// one shared with other people's tests.
package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"

	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/testserver"
)

// Placeholder is the base URL of keystone-seed.py's endpoints that nothing
// serves.
const Placeholder = "http://127.0.0.1:9/"

// serviceUser is the Keystone user the stand-in's services validate
// tokens as: the seeded world's network service user, as Neutron would.
const serviceUser = "neutron"

// Endpoint is one catalog endpoint the stand-in took over.
type Endpoint struct {
	ID        string `json:"id"`
	Region    string `json:"region"`
	Interface string `json:"interface"`
	// Type is the service type (compute, image, volumev3, network).
	Type string `json:"type"`
	// URL is the placeholder URL it had and gets back.
	URL string `json:"url"`
	// StandIn is the URL it has while the stand-in runs.
	StandIn string `json:"stand_in"`
}

// StandIn is a running stand-in registered in a Keystone's catalog.
type StandIn struct {
	// Server is the testserver serving the endpoints.
	Server *testserver.Server
	// Endpoints are the endpoints that point at Server, sorted by region,
	// type and interface.
	Endpoints []Endpoint

	env    *keystonetest.Env
	dir    string
	unlock func()
}

// Dir returns the stand-in's state directory of env: STATE/standin.
func Dir(env *keystonetest.Env) string { return filepath.Join(env.StateDir, "standin") }

// savedFile holds the endpoints a stand-in took over, while it runs.
func savedFile(dir string) string { return filepath.Join(dir, "endpoints.json") }

// Start starts a stand-in for env's Keystone and registers it for every
// placeholder endpoint. It first undoes what a stand-in that died left in
// the catalog. The caller must Close it.
func Start(ctx context.Context, env *keystonetest.Env) (*StandIn, error) {
	dir := Dir(env)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("standin: %w", err)
	}
	unlock, err := lock(ctx, filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	s := &StandIn{env: env, dir: dir, unlock: unlock}
	ok := false
	defer func() {
		if !ok {
			s.closeLocal()
		}
	}()
	id, err := adminIdentity(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := restoreSaved(ctx, id, dir); err != nil {
		return nil, err
	}
	srv, err := testserver.Start(testserver.Options{World: World(env), ExternalKeystone: External(env)})
	if err != nil {
		return nil, fmt.Errorf("standin: %w", err)
	}
	s.Server = srv
	eps, err := placeholders(ctx, id)
	if err != nil {
		return nil, err
	}
	for i, ep := range eps {
		loc := srv.LocationOf(ep.Region)
		if loc == "" {
			return nil, fmt.Errorf("standin: endpoint %s is in region %q, which the stand-in does not serve", ep.ID, ep.Region)
		}
		eps[i].StandIn = srv.URL(loc) + "/" + strings.TrimPrefix(ep.URL, Placeholder)
	}
	// Saved before anything changes: a run that dies half-way is undone
	// from this file.
	if err := writeJSON(savedFile(dir), eps); err != nil {
		return nil, err
	}
	s.Endpoints = eps
	for _, ep := range eps {
		if err := endpoints.Update(ctx, id, ep.ID, endpoints.UpdateOpts{URL: ep.StandIn}).Err; err != nil {
			err = fmt.Errorf("standin: point endpoint %s (%s %s %s) at the stand-in: %w", ep.ID, ep.Type, ep.Region, ep.Interface, err)
			if rerr := restoreSaved(ctx, id, dir); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return nil, err
		}
	}
	ok = true
	return s, nil
}

// Close points the endpoints back at the placeholder and stops the
// stand-in.
func (s *StandIn) Close(ctx context.Context) error {
	defer s.closeLocal()
	id, err := adminIdentity(ctx, s.env)
	if err != nil {
		return err
	}
	return restoreSaved(ctx, id, s.dir)
}

func (s *StandIn) closeLocal() {
	if s.Server != nil {
		s.Server.Close()
	}
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
}

// Restore points back at the placeholder the endpoints a stand-in that
// died left pointing at it, if any. It fails while a stand-in runs.
func Restore(ctx context.Context, env *keystonetest.Env) error {
	dir := Dir(env)
	if _, err := os.Stat(savedFile(dir)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := lock(ctx, filepath.Join(dir, "lock"))
	if err != nil {
		return err
	}
	defer unlock()
	id, err := adminIdentity(ctx, env)
	if err != nil {
		return err
	}
	return restoreSaved(ctx, id, dir)
}

// restoreSaved puts back the URLs saved in dir and removes the file.
func restoreSaved(ctx context.Context, id *gophercloud.ServiceClient, dir string) error {
	b, err := os.ReadFile(savedFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("standin: %w", err)
	}
	var eps []Endpoint
	if err := json.Unmarshal(b, &eps); err != nil {
		return fmt.Errorf("standin: %s: %w", savedFile(dir), err)
	}
	var errs []error
	for _, ep := range eps {
		if err := endpoints.Update(ctx, id, ep.ID, endpoints.UpdateOpts{URL: ep.URL}).Err; err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			errs = append(errs, fmt.Errorf("standin: restore endpoint %s (%s %s %s) to %s: %w", ep.ID, ep.Type, ep.Region, ep.Interface, ep.URL, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := os.Remove(savedFile(dir)); err != nil {
		return fmt.Errorf("standin: %w", err)
	}
	return nil
}

// placeholders lists the catalog's endpoints on the placeholder port.
func placeholders(ctx context.Context, id *gophercloud.ServiceClient) ([]Endpoint, error) {
	pages, err := endpoints.List(id, nil).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("standin: list endpoints: %w", err)
	}
	all, err := endpoints.ExtractEndpoints(pages)
	if err != nil {
		return nil, fmt.Errorf("standin: list endpoints: %w", err)
	}
	types, err := serviceTypes(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, ep := range all {
		if strings.HasPrefix(ep.URL, Placeholder) {
			out = append(out, Endpoint{ID: ep.ID, Region: ep.Region, Interface: string(ep.Availability), Type: types[ep.ServiceID], URL: ep.URL})
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int {
		return strings.Compare(a.Region+" "+a.Type+" "+a.Interface, b.Region+" "+b.Type+" "+b.Interface)
	})
	return out, nil
}

// serviceTypes maps service ids to their types.
func serviceTypes(ctx context.Context, id *gophercloud.ServiceClient) (map[string]string, error) {
	pages, err := services.List(id, nil).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("standin: list services: %w", err)
	}
	all, err := services.ExtractServices(pages)
	if err != nil {
		return nil, fmt.Errorf("standin: list services: %w", err)
	}
	m := map[string]string{}
	for _, s := range all {
		m[s.ID] = s.Type
	}
	return m, nil
}

// adminIdentity is an identity v3 client of env's admin at the primary,
// where catalog writes go.
func adminIdentity(ctx context.Context, env *keystonetest.Env) (*gophercloud.ServiceClient, error) {
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: env.AuthURL(env.Primary), UserID: env.Admin.ID, Password: env.Admin.Password,
		Scope: &gophercloud.AuthScope{ProjectID: env.Admin.ProjectID},
	})
	if err != nil {
		return nil, fmt.Errorf("standin: authenticate as the admin at %s: %w", env.Primary, err)
	}
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: strings.TrimSuffix(env.AuthURL(env.Primary), "/") + "/", Type: "identity"}, nil
}

// External is the ExternalKeystone configuration of a stand-in for env:
// each location's services validate at that location's Keystone, as the
// neutron service user.
func External(env *keystonetest.Env) *testserver.ExternalKeystone {
	return &testserver.ExternalKeystone{
		AuthURLs: env.AuthURLs, UserName: serviceUser, UserDomainID: env.ServiceProject.DomainID, Password: env.ServicePassword,
		ProjectName: env.ServiceProject.Name, ProjectDomainID: env.ServiceProject.DomainID,
	}
}

// World is testserver's DefaultWorld with the ids of env's domains and
// projects (gnc and zjp, their first projects, admin and service), so that
// images owned by a project, or published for a domain, are that real
// project's or domain's. Projects env does not have (the second and third
// of each domain) keep the fake ids: nobody of the real cloud can see what
// they own. A product domain env does not have (zsg) is left out with
// everything in its namespace, which the real cloud's clients would take
// for unprefixed, shared names.
func World(env *keystonetest.Env) *testserver.World {
	w := testserver.DefaultWorld()
	for _, name := range testserver.ProductDomains() {
		if _, ok := env.Domain(name); !ok {
			dropDomain(w, w.Domain(name))
		}
	}
	ids := map[string]string{
		testserver.SeedID("project", testserver.AdminProject):   env.Admin.ProjectID,
		testserver.SeedID("project", testserver.ServiceProject): env.ServiceProject.ID,
	}
	for _, d := range env.Domains {
		ids[w.Domain(d.Name).ID] = d.ID
		for _, p := range d.Projects {
			if fp := w.Project(p.Name); fp.ID != "" {
				ids[fp.ID] = p.ID
			}
		}
		for _, u := range d.Users {
			if fu := w.User(u.Name); fu.ID != "" {
				ids[fu.ID] = u.ID
			}
		}
	}
	m := func(s string) string {
		if r, ok := ids[s]; ok {
			return r
		}
		return s
	}
	for i := range w.Domains {
		w.Domains[i].ID = m(w.Domains[i].ID)
	}
	for i := range w.Projects {
		w.Projects[i].ID, w.Projects[i].DomainID = m(w.Projects[i].ID), m(w.Projects[i].DomainID)
	}
	for i := range w.Users {
		w.Users[i].ID, w.Users[i].DomainID = m(w.Users[i].ID), m(w.Users[i].DomainID)
	}
	for i := range w.Assignments {
		a := &w.Assignments[i]
		a.UserID, a.ProjectID, a.DomainID = m(a.UserID), m(a.ProjectID), m(a.DomainID)
	}
	for i := range w.AppCreds {
		a := &w.AppCreds[i]
		a.UserID, a.ProjectID = m(a.UserID), m(a.ProjectID)
	}
	for i := range w.Images {
		im := &w.Images[i]
		im.Owner = m(im.Owner)
		for k, v := range im.Properties {
			im.Properties[k] = m(v)
		}
		if len(im.Members) > 0 {
			members := map[string]string{}
			for p, st := range im.Members {
				members[m(p)] = st
			}
			im.Members = members
		}
	}
	for i := range w.Networks {
		w.Networks[i].ProjectID = m(w.Networks[i].ProjectID)
	}
	return w
}

// dropDomain removes d from w: the domain, its users and projects, what
// they own, and the operator's resources in d's namespace.
func dropDomain(w *testserver.World, d testserver.Domain) {
	ns := func(name string) bool { return strings.HasPrefix(name, d.Prefix+"_") }
	projects := map[string]bool{}
	for _, p := range w.Projects {
		if p.DomainID == d.ID {
			projects[p.ID] = true
		}
	}
	users := map[string]bool{}
	for _, u := range w.Users {
		if u.DomainID == d.ID {
			users[u.ID] = true
		}
	}
	w.Domains = slices.DeleteFunc(w.Domains, func(x testserver.Domain) bool { return x.ID == d.ID })
	w.Projects = slices.DeleteFunc(w.Projects, func(p testserver.Project) bool { return projects[p.ID] })
	w.Users = slices.DeleteFunc(w.Users, func(u testserver.User) bool { return users[u.ID] })
	w.Assignments = slices.DeleteFunc(w.Assignments, func(a testserver.RoleAssignment) bool {
		return users[a.UserID] || projects[a.ProjectID] || a.DomainID == d.ID
	})
	w.AppCreds = slices.DeleteFunc(w.AppCreds, func(a testserver.ApplicationCredential) bool { return users[a.UserID] })
	w.Images = slices.DeleteFunc(w.Images, func(im testserver.Image) bool {
		return projects[im.Owner] || ns(im.Name) || im.Properties["domain_id"] == d.ID
	})
	w.Flavors = slices.DeleteFunc(w.Flavors, func(f testserver.Flavor) bool { return ns(f.Name) })
	w.VolumeTypes = slices.DeleteFunc(w.VolumeTypes, func(v testserver.VolumeType) bool { return ns(v.Name) })
	w.Networks = slices.DeleteFunc(w.Networks, func(n testserver.Network) bool { return projects[n.ProjectID] })
}

// writeJSON writes v to path, mode 0600, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("standin: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("standin: %w", err)
	}
	return nil
}
