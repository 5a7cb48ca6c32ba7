//go:build integration

package domain_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/internal/keystonetest"
)

// TestIntegrationRealNames builds a registry from the seeded description and
// checks it against what Keystone itself lists: every user and project of a
// product domain is owned by that domain (by name prefix) and its domain id
// resolves to it; Default-domain names are nobody's.
func TestIntegrationRealNames(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	ctx := t.Context()

	var doms []domain.Domain
	for _, d := range env.Domains {
		eps := map[string]domain.Endpoints{}
		for loc, u := range env.AuthURLs {
			eps[loc] = domain.Endpoints{UserAuthURL: u, AdminAuthURL: u}
		}
		doms = append(doms, domain.Domain{Name: d.Name, ID: d.ID, Prefix: d.Prefix, Endpoints: eps})
	}
	reg, err := domain.New(doms...)
	if err != nil {
		t.Fatalf("domain.New from the seeded domains: %v", err)
	}

	// An admin's view of Keystone, through gophercloud.
	pc, err := openstack.NewClient(env.AuthURL("US"))
	if err != nil {
		t.Fatal(err)
	}
	ic := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: env.AuthURL("US") + "/"}
	r := tokens.Create(ctx, ic, &tokens.AuthOptions{UserID: env.Admin.ID, Password: env.Admin.Password, Scope: tokens.Scope{System: true}})
	tok, err := r.ExtractToken()
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	pc.SetToken(tok.ID)

	page, err := domains.List(ic, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list domains: %v", err)
	}
	kdoms, err := domains.ExtractDomains(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, kd := range kdoms {
		got, ok := reg.ByName(kd.Name)
		if kd.ID == domain.KeystoneDefaultDomainID {
			if ok {
				t.Errorf("ByName(%q) found %+v; the Default domain is no product", kd.Name, got)
			}
			continue
		}
		if !ok || got.ID != kd.ID {
			t.Errorf("Keystone domain %s (%s): ByName = %+v, %v", kd.Name, kd.ID, got, ok)
		}
	}

	type owned struct{ Kind, Name, DomainID string }
	var all []owned
	page, err = users.List(ic, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	us, err := users.ExtractUsers(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		all = append(all, owned{"user", u.Name, u.DomainID})
	}
	page, err = projects.List(ic, nil).AllPages(ctx)
	if err != nil {
		t.Fatalf("list projects: %v", err)
	}
	ps, err := projects.ExtractProjects(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		all = append(all, owned{"project", p.Name, p.DomainID})
	}

	var products int
	for _, o := range all {
		byName, nameOK := reg.Owner(o.Name)
		byID, idOK := reg.ByID(o.DomainID)
		if o.DomainID == domain.KeystoneDefaultDomainID {
			if nameOK || idOK {
				t.Errorf("Default-domain %s %q: Owner = %v, ByID = %v; want nobody's", o.Kind, o.Name, nameOK, idOK)
			}
			continue
		}
		products++
		if !nameOK || !idOK {
			t.Errorf("%s %q of domain %s: Owner found %v, ByID found %v", o.Kind, o.Name, o.DomainID, nameOK, idOK)
			continue
		}
		if diff := cmp.Diff(byID.Name, byName.Name); diff != "" || !byName.OwnsAccount(o.Name) {
			t.Errorf("%s %q: owner by name %s, by Keystone's domain id %s, OwnsAccount %v", o.Kind, o.Name, byName.Name, byID.Name, byName.OwnsAccount(o.Name))
		}
	}
	// Two users and one project in each of gnc and zjp, at least.
	if products < 6 {
		t.Errorf("%d product-domain users and projects in Keystone, want at least 6", products)
	}

	// The seeded users resolve the same way.
	for _, kd := range env.Domains {
		for _, u := range kd.Users {
			d, ok := reg.Owner(u.Name)
			if !ok || d.ID != u.DomainID || !d.OwnsAccount(u.Name) {
				t.Errorf("Owner(%q) = %+v, %v; want domain %s", u.Name, d, ok, u.DomainID)
			}
		}
	}
}
