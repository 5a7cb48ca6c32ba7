//go:build integration

package proxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/region"
)

// realProxies are gnc's and zjp's proxies in front of the real Keystone,
// Glance, Cinder and Nova, all on one server: /<dom>/TYO1/image,
// /<dom>/TYO1/compute, /<dom>/TYO1/volume and /<dom>/identity (at SG, so
// that writes visibly go elsewhere, to JP). Each identity proxy rewrites
// the catalog: TYO1's image, compute and volumev3 endpoints (every
// interface) and every location's Keystone point at the domain's proxies.
type realProxies struct {
	env  *keystonetest.Env
	svc  *keystonetest.Services
	reg  *domain.Registry
	url  string // the server's
	logs *logBuffer
}

func startRealProxies(t *testing.T) *realProxies {
	t.Helper()
	env := keystonetest.Load(t)
	svc := env.Services(t)
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
		t.Fatal(err)
	}
	var locs []region.Location
	for loc, u := range env.AuthURLs {
		locs = append(locs, region.Location{Name: loc, AuthURLs: []string{u}, Regions: env.Regions[loc]})
	}
	slices.SortFunc(locs, func(a, b region.Location) int { return strings.Compare(a.Name, b.Name) })
	res, err := region.New(region.Config{Locations: locs, Primary: env.Primary})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rp := &realProxies{env: env, svc: svc, reg: reg, url: srv.URL, logs: &logBuffer{}}
	logger := slog.New(slog.NewTextHandler(rp.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	nova := env.ServiceUsers[0]
	for _, d := range doms {
		v, err := authtoken.New(authtoken.Config{
			Domains: []domain.Domain{d}, Home: "JP", Primary: env.Primary, Logger: logger,
			ServiceCredential: identity.Password{UserID: nova.ID, Password: env.ServicePassword},
			ServiceScope:      identity.Scope{ProjectID: env.ServiceProject.ID},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		f, err := reg.Filter(d.Name, domain.Policy{PrefixedImageNames: true, OperatorProjects: []string{env.Admin.ProjectID}})
		if err != nil {
			t.Fatal(err)
		}
		var rewrites []proxy.Rewrite
		for _, s := range []struct{ name, typ string }{{proxy.Image, "image"}, {proxy.Compute, "compute"}, {"volume", "volumev3"}} {
			prefix := "/" + d.Name + "/TYO1/" + s.name
			upstream, err := proxy.Root(svc.Endpoint("TYO1", s.typ, "public"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := proxy.New(proxy.Config{Service: s.typ, Filter: f, Validator: v, Upstream: upstream, Prefix: prefix, Home: "JP", Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			mux.Handle(prefix+"/", p)
			mux.Handle(prefix, p)
			for _, iface := range []string{"public", "internal", "admin"} {
				from, _ := proxy.Root(svc.Endpoint("TYO1", s.typ, iface))
				rewrites = append(rewrites, proxy.Rewrite{From: from, To: srv.URL + prefix})
			}
		}
		prefix := "/" + d.Name + "/identity"
		for _, u := range env.AuthURLs {
			rewrites = append(rewrites, proxy.Rewrite{From: strings.TrimSuffix(u, "/v3"), To: srv.URL + prefix})
		}
		p, err := proxy.New(proxy.Config{Service: proxy.Identity, Filter: f, Validator: v, Resolver: res, Home: "SG",
			Prefix: prefix, Catalog: rewrites, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(prefix+"/", p)
		mux.Handle(prefix, p)
	}
	return rp
}

// authURL is dom's identity proxy, the OS_AUTH_URL of its users.
func (rp *realProxies) authURL(dom string) string { return rp.url + "/" + dom + "/identity/v3" }

// user returns a seeded user: n = 0 is the member of <dom>t00000001, n = 1
// the domain's admin.
func (rp *realProxies) user(t *testing.T, dom string, n int) keystonetest.User {
	t.Helper()
	d, ok := rp.env.Domain(dom)
	if !ok || len(d.Users) <= n {
		t.Fatalf("no seeded user %d in %s", n, dom)
	}
	return d.Users[n]
}

// direct authenticates a seeded member on its project at the primary
// Keystone, for the client-side view and for checks behind the proxy's
// back.
func (rp *realProxies) direct(t *testing.T, u keystonetest.User) *gophercloud.ProviderClient {
	t.Helper()
	return rp.env.Login(t, u)
}

// view is what a domain's member may see in TYO1, by the client-side
// filter over the real services: ids by kind, sorted.
type view struct {
	Images, Flavors, VolumeTypes []string
}

func (rp *realProxies) clientView(t *testing.T, dom string, flavorOpts flavors.ListOptsBuilder) view {
	t.Helper()
	u := rp.user(t, dom, 0)
	pc := rp.direct(t, u)
	eo := gophercloud.EndpointOpts{Region: "TYO1"}
	ic, _ := openstack.NewImageV2(pc, eo)
	cc, _ := openstack.NewComputeV2(pc, eo)
	bc, _ := openstack.NewBlockStorageV3(pc, eo)
	f, err := rp.reg.Filter(dom, domain.Policy{OperatorProjects: []string{rp.env.Admin.ProjectID}})
	if err != nil {
		t.Fatal(err)
	}
	f = f.ForProject(u.ProjectID)
	var v view
	for im, err := range f.Images(t.Context(), ic, nil) {
		if err != nil {
			t.Fatal(err)
		}
		v.Images = append(v.Images, im.ID)
	}
	for fl, err := range f.Flavors(t.Context(), cc, flavorOpts) {
		if err != nil {
			t.Fatal(err)
		}
		v.Flavors = append(v.Flavors, fl.ID)
	}
	for vt, err := range f.VolumeTypes(t.Context(), bc, nil) {
		if err != nil {
			t.Fatal(err)
		}
		v.VolumeTypes = append(v.VolumeTypes, vt.ID)
	}
	slices.Sort(v.Images)
	slices.Sort(v.Flavors)
	slices.Sort(v.VolumeTypes)
	return v
}

// cli runs the openstack CLI as user at dom's identity proxy (domain
// scoped when domainScope is set, else on the user's project), in region
// TYO1, with no clouds.yaml and no other OS_* variable.
type cli struct {
	t    *testing.T
	exe  string
	home string
	env  []string
}

func (rp *realProxies) cli(t *testing.T, authURL string, u keystonetest.User, domainScope bool) *cli {
	t.Helper()
	exe, err := exec.LookPath("openstack")
	if err != nil {
		if keystonetest.Required() {
			t.Fatalf("the openstack CLI (python3-openstackclient, installed by scripts/keystone-up.sh) is needed: %v", err)
		}
		t.Skipf("no openstack CLI: %v", err)
	}
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8",
		"OS_AUTH_URL=" + authURL, "OS_IDENTITY_API_VERSION=3", "OS_INTERFACE=public", "OS_REGION_NAME=TYO1",
		"OS_USERNAME=" + u.Name, "OS_PASSWORD=" + u.Password, "OS_USER_DOMAIN_NAME=" + u.DomainName}
	if domainScope {
		env = append(env, "OS_DOMAIN_NAME="+u.DomainName)
	} else {
		env = append(env, "OS_PROJECT_NAME="+u.ProjectName, "OS_PROJECT_DOMAIN_NAME="+u.DomainName)
	}
	return &cli{t: t, exe: exe, home: home, env: env}
}

// run runs the CLI and returns its output, and its error output when it
// failed.
func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.exe, args...)
	cmd.Env = c.env
	cmd.Dir = c.home
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	c.t.Logf("openstack %s: %v", strings.Join(args, " "), time.Since(start))
	return out.String(), errOut.String(), err
}

// ok runs the CLI and fails the test unless it succeeds.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("openstack %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs the CLI and fails the test unless it fails with a message
// holding each of want.
func (c *cli) fails(args []string, want ...string) {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err == nil {
		c.t.Errorf("openstack %s succeeded, want it to fail:\n%s", strings.Join(args, " "), out)
		return
	}
	for _, w := range want {
		if !strings.Contains(errOut+out, w) {
			c.t.Errorf("openstack %s: output lacks %q:\n%s%s", strings.Join(args, " "), w, out, errOut)
		}
	}
}

// ids returns the sorted ids of a "-f json" listing.
func ids(t *testing.T, out string) []string {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("listing: %v\n%s", err, out)
	}
	var got []string
	for _, r := range rows {
		id, _ := r["ID"].(string)
		got = append(got, id)
	}
	slices.Sort(got)
	return got
}

// seeded returns the ids of the images seeded in TYO1 under name.
func (rp *realProxies) seeded(name string) []string {
	var out []string
	for _, im := range rp.svc.ImagesNamed("TYO1", name) {
		out = append(out, im.ID)
	}
	return out
}

// TestIntegrationProxyCLI points the real openstack CLI, a client nobody
// here wrote, at gnc's and zjp's identity proxies, and nothing else: the
// rewritten catalog leads it to the domain's image, compute and volume
// proxies. Each member gets exactly the domain's view (the client-side
// filter's over the same services), 404 for what another domain owns, 400
// for an image name outside the namespace; each domain's admin creates
// users and projects only with the domain's prefix, at the primary, and the
// new user's image goes in and comes out whole.
func TestIntegrationProxyCLI(t *testing.T) {
	rp := startRealProxies(t)
	for _, dom := range []string{"gnc", "zjp"} {
		other := map[string]string{"gnc": "zjp", "zjp": "gnc"}[dom]
		t.Run(dom, func(t *testing.T) {
			t.Parallel() // the CLI mostly waits: starting Python, and the services
			member := rp.user(t, dom, 0)
			c := rp.cli(t, rp.authURL(dom), member, false)
			want := rp.clientView(t, dom, nil)

			// Listings: exactly the domain's view.
			if diff := cmp.Diff(want.Images, ids(t, c.ok("image", "list", "-f", "json"))); diff != "" {
				t.Errorf("image list (-client-side +CLI through the proxy):\n%s", diff)
			}
			if diff := cmp.Diff(want.Flavors, ids(t, c.ok("flavor", "list", "-f", "json"))); diff != "" {
				t.Errorf("flavor list (-client-side +CLI through the proxy):\n%s", diff)
			}
			all := rp.clientView(t, dom, flavors.ListOpts{AccessType: flavors.AllAccess})
			if diff := cmp.Diff(all.Flavors, ids(t, c.ok("flavor", "list", "--all", "-f", "json"))); diff != "" {
				t.Errorf("flavor list --all (-client-side +CLI through the proxy):\n%s", diff)
			}
			if diff := cmp.Diff(want.VolumeTypes, ids(t, c.ok("volume", "type", "list", "-f", "json"))); diff != "" {
				t.Errorf("volume type list (-client-side +CLI through the proxy):\n%s", diff)
			}
			// The hostile images: another customer's community images
			// claiming this domain's name or id, asked for by name.
			community := ids(t, c.ok("image", "list", "--community", "-f", "json"))
			for _, planted := range append(rp.seeded(dom+"_centos_planted"), rp.seeded(dom+"_ubuntu_planted")...) {
				mine := owner(rp, planted) == member.ProjectName
				if slices.Contains(community, planted) != mine {
					t.Errorf("image list --community: planted image %s of %s listed %v, want %v", planted, owner(rp, planted), !mine, mine)
				}
			}

			// Single items: another domain's image and flavor are absent:
			// the CLI says what it says of an id that does not exist.
			hidden := rp.seeded(map[string]string{"gnc": "zjp_ubuntu", "zjp": "gnc_centos"}[dom])[0]
			planted := rp.seeded(dom + "_centos_planted")
			absent := "00000000-0000-4000-8000-" + randomHex(6)
			for i, args := range [][]string{{"image", "show"}, {"image", "save", "--file", filepath.Join(c.home, "absent")}} {
				_, wantErr, err := c.run(append(args, absent)...)
				if err == nil {
					t.Fatalf("openstack %v on an absent image succeeded", args)
				}
				try := append([]string{hidden}, planted...)
				if i > 0 {
					try = try[:1] // the data of one is enough
				}
				for _, id := range try {
					if owner(rp, id) == member.ProjectName {
						continue // its own
					}
					_, gotErr, err := c.run(append(args, id)...)
					if err == nil || strings.ReplaceAll(gotErr, id, absent) != wantErr {
						t.Errorf("openstack %v %s (%s): %v %q; want the failure of an absent id: %q", args, id, owner(rp, id), err, gotErr, wantErr)
					}
				}
			}
			c.fails([]string{"image", "show", hidden}, "No Image found") // what the CLI says of an absent one
			own := map[string]string{"gnc": "gnc_centos", "zjp": "zjp_ubuntu"}[dom]
			var shown map[string]any
			if err := json.Unmarshal([]byte(c.ok("image", "show", own, "-f", "json")), &shown); err != nil || shown["name"] != own {
				t.Errorf("image show %s: %v %v", own, shown["name"], err)
			}
			otherFlavor := map[string]string{"gnc": "zjp_z1.small", "zjp": "gnc_g1.small"}[dom]
			if f, ok := rp.svc.Flavor(otherFlavor); ok {
				c.fails([]string{"flavor", "show", f.ID}, "No Flavor found")
				c.fails([]string{"flavor", "show", otherFlavor}, "No Flavor found")
			}

			// Another domain's user gets no token at this endpoint.
			stranger := rp.cli(t, rp.authURL(dom), rp.user(t, other, 0), false)
			stranger.fails([]string{"image", "list"}, "401")

			// The domain's admin makes a project and a user, in the
			// namespace only, at the primary: a tenant of the test's own,
			// so that what it writes stays out of the seeded members'
			// listings, which other tests check.
			admin := rp.cli(t, rp.authURL(dom), rp.user(t, dom, 1), true)
			admin.env = append(admin.env, "OS_REGION_NAME=SG") // Keystone's endpoints are the locations'; the last setting wins
			d, _ := rp.reg.ByName(dom)
			tenant := keystonetest.User{Name: dom + "u9" + randomDigits(7), Password: "pw-" + randomHex(8), DomainName: dom,
				ProjectName: dom + "t9" + randomDigits(7)}
			var proj, u map[string]any
			if err := json.Unmarshal([]byte(admin.ok("project", "create", "--domain", dom, tenant.ProjectName, "-f", "json")), &proj); err != nil {
				t.Fatal(err)
			}
			tenant.ProjectID, _ = proj["id"].(string)
			t.Cleanup(func() { rp.cleanUp(t, "projects", tenant.ProjectID) })
			if err := json.Unmarshal([]byte(admin.ok("user", "create", "--domain", dom, "--password", tenant.Password, tenant.Name, "-f", "json")), &u); err != nil {
				t.Fatal(err)
			}
			tenant.ID, _ = u["id"].(string)
			t.Cleanup(func() { rp.cleanUp(t, "users", tenant.ID) })
			if u["domain_id"] != d.ID || proj["domain_id"] != d.ID {
				t.Errorf("user create: %v, project create: %v; want both in domain %s", u, proj, d.ID)
			}
			admin.ok("role", "add", "--project", tenant.ProjectID, "--user", tenant.ID, "member")
			admin.fails([]string{"user", "create", "--domain", dom, other + "u9" + randomDigits(7)}, "outside the namespace of domain", "400")
			admin.fails([]string{"user", "create", "--domain", other, dom + "u9" + randomDigits(7)}, "domain_id must be", "403")
			admin.fails([]string{"project", "create", "--domain", dom, "tenant-" + randomDigits(4)}, "outside the namespace of domain", "400")
			admin.fails([]string{"user", "show", rp.user(t, other, 0).ID}, "No user with a name or ID")

			// Writes, as the new user: a few MB in, the same bytes out,
			// the domain's id set; a name outside the namespace refused.
			w := rp.cli(t, rp.authURL(dom), tenant, false)
			data := make([]byte, 3<<20+12345)
			rand.Read(data)
			file := filepath.Join(w.home, "upload.img")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			var created map[string]any
			name := dom + "_proxy_cli_" + randomHex(4)
			if err := json.Unmarshal([]byte(w.ok("image", "create", "--file", file, "--disk-format", "raw", "--container-format", "bare", name, "-f", "json")), &created); err != nil {
				t.Fatal(err)
			}
			id, _ := created["id"].(string)
			t.Cleanup(func() { rp.cleanUp(t, "images", id) })
			img, err := images.Get(t.Context(), rp.adminClient(t, "image"), id).Extract()
			if err != nil || img.Properties["domain_id"] != d.ID || img.Status != images.ImageStatusActive ||
				img.SizeBytes != int64(len(data)) || img.Owner != tenant.ProjectID {
				t.Errorf("created image upstream: %+v, %v; want active, %d bytes, domain_id %s, owner %s", img, err, len(data), d.ID, tenant.ProjectID)
			}
			saved := filepath.Join(w.home, "saved.img")
			w.ok("image", "save", "--file", saved, id)
			if back, err := os.ReadFile(saved); err != nil || !bytes.Equal(back, data) {
				t.Errorf("image save: %d bytes (%v), want the %d uploaded", len(back), err, len(data))
			}
			w.fails([]string{"image", "create", "--disk-format", "raw", "--container-format", "bare", "proxy-cli-" + randomHex(4)},
				"outside the namespace of domain", "400")
			w.ok("image", "delete", id)
			admin.ok("user", "delete", tenant.ID)
			admin.ok("project", "delete", tenant.ProjectID)
		})
	}
	t.Cleanup(func() {
		if !strings.Contains(rp.logs.String(), "token of another domain not handed out") {
			t.Errorf("the refused tokens were not logged")
		}
	})
}

// owner returns the name of the project that owns a seeded TYO1 image.
func owner(rp *realProxies, id string) string {
	for _, im := range rp.svc.Images["TYO1"] {
		if im.ID == id {
			return im.OwnerName
		}
	}
	return ""
}

// adminClient is the cloud admin's client of a service ("image",
// "identity") in TYO1 or at the primary, behind the proxy's back.
func (rp *realProxies) adminClient(t *testing.T, service string) *gophercloud.ServiceClient {
	t.Helper()
	a := rp.env.Admin
	pc := keystonetest.Authenticate(t, gophercloud.AuthOptions{IdentityEndpoint: rp.env.AuthURL(rp.env.Primary), UserID: a.ID,
		Password: a.Password, TenantID: a.ProjectID})
	var sc *gophercloud.ServiceClient
	var err error
	if service == "image" {
		sc, err = openstack.NewImageV2(pc, gophercloud.EndpointOpts{Region: "TYO1"})
	} else {
		sc, err = openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{Region: rp.env.Primary})
	}
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// cleanUp deletes, as the cloud admin, an image, user or project a test
// made, if the test did not get as far as deleting it through the proxy.
func (rp *realProxies) cleanUp(t *testing.T, kind, id string) {
	if id == "" {
		return
	}
	ctx := context.Background()
	var err error
	switch kind {
	case "images":
		err = images.Delete(ctx, rp.adminClient(t, "image"), id).ExtractErr()
	case "users":
		err = users.Delete(ctx, rp.adminClient(t, "identity"), id).ExtractErr()
	case "projects":
		err = projects.Delete(ctx, rp.adminClient(t, "identity"), id).ExtractErr()
	}
	if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("clean up %s %s: %v", kind, id, err)
	}
}

// TestIntegrationProxyGophercloud does the same with gophercloud: its own
// list, create, upload and download calls, in small pages so that whole
// pages of another domain's images are hidden, authenticated at the
// identity proxy and led by the catalog.
func TestIntegrationProxyGophercloud(t *testing.T) {
	rp := startRealProxies(t)
	ctx := t.Context()
	for _, dom := range []string{"gnc", "zjp"} {
		t.Run(dom, func(t *testing.T) {
			member := rp.user(t, dom, 0)
			want := rp.clientView(t, dom, nil)
			pc := keystonetest.Authenticate(t, gophercloud.AuthOptions{IdentityEndpoint: rp.authURL(dom), UserID: member.ID,
				Password: member.Password, TenantID: member.ProjectID})
			eo := gophercloud.EndpointOpts{Region: "TYO1"}
			ic, _ := openstack.NewImageV2(pc, eo)
			cc, _ := openstack.NewComputeV2(pc, eo)
			bc, _ := openstack.NewBlockStorageV3(pc, eo)
			for _, sc := range []*gophercloud.ServiceClient{ic, cc, bc} {
				if !strings.HasPrefix(sc.Endpoint, rp.url+"/"+dom+"/") {
					t.Fatalf("endpoint %s from the catalog is not the proxy's", sc.Endpoint)
				}
			}
			var got view
			for _, limit := range []int{2, 5, 0} {
				got.Images = collect(t, images.List(ic, images.ListOpts{Limit: limit}), images.ExtractImages, func(i images.Image) string { return i.ID })
				if diff := cmp.Diff(want.Images, got.Images); diff != "" {
					t.Errorf("images in pages of %d (-client-side +proxy):\n%s", limit, diff)
				}
			}
			got.Flavors = collect(t, flavors.ListDetail(cc, flavors.ListOpts{Limit: 2}), flavors.ExtractFlavors, func(f flavors.Flavor) string { return f.ID })
			got.VolumeTypes = collect(t, volumetypes.List(bc, volumetypes.ListOpts{Limit: 2}), volumetypes.ExtractVolumeTypes, func(v volumetypes.VolumeType) string { return v.ID })
			if diff := cmp.Diff(want.Flavors, got.Flavors); diff != "" {
				t.Errorf("flavors (-client-side +proxy):\n%s", diff)
			}
			if diff := cmp.Diff(want.VolumeTypes, got.VolumeTypes); diff != "" {
				t.Errorf("volume types (-client-side +proxy):\n%s", diff)
			}

			// The domain's admin makes a tenant at the identity proxy (at
			// the primary), for the writes.
			d, _ := rp.reg.ByName(dom)
			admin := rp.user(t, dom, 1)
			apc := keystonetest.Authenticate(t, gophercloud.AuthOptions{IdentityEndpoint: rp.authURL(dom), UserID: admin.ID,
				Password: admin.Password, Scope: &gophercloud.AuthScope{DomainID: d.ID}})
			idc, err := openstack.NewIdentityV3(apc, gophercloud.EndpointOpts{Region: "SG"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(idc.Endpoint, rp.url+"/"+dom+"/identity") {
				t.Errorf("identity endpoint %s from the catalog is not the proxy's", idc.Endpoint)
			}
			proj, err := projects.Create(ctx, idc, projects.CreateOpts{Name: dom + "t9" + randomDigits(7)}).Extract()
			if err != nil || proj.DomainID != d.ID {
				t.Fatalf("project create through the proxy: %+v, %v", proj, err)
			}
			t.Cleanup(func() { rp.cleanUp(t, "projects", proj.ID) })
			password := "pw-" + randomHex(8)
			u, err := users.Create(ctx, idc, users.CreateOpts{Name: dom + "u9" + randomDigits(7), Password: password}).Extract()
			if err != nil || u.DomainID != d.ID {
				t.Fatalf("user create through the proxy: %+v, %v", u, err)
			}
			t.Cleanup(func() { rp.cleanUp(t, "users", u.ID) })
			if _, err := users.Create(ctx, idc, users.CreateOpts{Name: "stranger" + randomDigits(4)}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
				t.Errorf("unprefixed user name: %v, want 400", err)
			}
			rpages, err := roles.List(idc, roles.ListOpts{Name: "member"}).AllPages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := roles.ExtractRoles(rpages)
			if err != nil || len(rs) != 1 {
				t.Fatalf("role member: %v, %v", rs, err)
			}
			if err := roles.Assign(ctx, idc, rs[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: proj.ID}).ExtractErr(); err != nil {
				t.Fatalf("role assignment through the proxy: %v", err)
			}

			tpc := keystonetest.Authenticate(t, gophercloud.AuthOptions{IdentityEndpoint: rp.authURL(dom), UserID: u.ID, Password: password, TenantID: proj.ID})
			tic, _ := openstack.NewImageV2(tpc, eo)
			img, err := images.Create(ctx, tic, images.CreateOpts{Name: dom + "_proxy_gc_" + randomHex(4), DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
			if err != nil {
				t.Fatalf("create through the proxy: %v", err)
			}
			t.Cleanup(func() { rp.cleanUp(t, "images", img.ID) })
			if img.Properties["domain_id"] != d.ID {
				t.Errorf("created image's domain_id %v, want %s", img.Properties["domain_id"], d.ID)
			}
			data := make([]byte, 1<<20)
			rand.Read(data)
			if err := imagedata.Upload(ctx, tic, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
				t.Fatalf("upload through the proxy: %v", err)
			}
			rc, err := imagedata.Download(ctx, tic, img.ID).Extract()
			if err != nil {
				t.Fatalf("download through the proxy: %v", err)
			}
			back, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(back, data) {
				t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(back), err, len(data))
			}
			if _, err := images.Create(ctx, tic, images.CreateOpts{Name: "unprefixed-" + randomHex(4)}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
				t.Errorf("unprefixed image name: %v, want 400", err)
			}
			// Another project of the domain does not see it.
			if _, err := images.Get(ctx, ic, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("the tenant's private image as %s: %v, want 404", member.Name, err)
			}
			if err := images.Delete(ctx, tic, img.ID).ExtractErr(); err != nil {
				t.Errorf("delete through the proxy: %v", err)
			}
			if err := users.Delete(ctx, idc, u.ID).ExtractErr(); err != nil {
				t.Errorf("user delete through the proxy: %v", err)
			}
			if err := projects.Delete(ctx, idc, proj.ID).ExtractErr(); err != nil {
				t.Errorf("project delete through the proxy: %v", err)
			}
		})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
