//go:build integration

package geostack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// These tests hold every domain-filtered accessor of the Client (Images with
// each visibility, Image by id and by name, Flavors, Flavor, VolumeTypes,
// VolumeType) against the real Glance (TYO1, SJC1), Nova and Cinder (TYO1)
// that scripts/services-up.sh seeded (scripts/README.md, "The seeded
// services"), for gncu00000001 and zjpu00000001. The tables below say, for
// every seeded item and each viewer, what the viewer gets and by which rule;
// the tests derive each accessor's exact expected answer from them.

// realWorld is what every domain integration test needs: the real Keystone
// and services, the registry of their product domains, and one token cache
// shared by the tests' clients, so that each seeded user logs in once.
type realWorld struct {
	env   *keystonetest.Env
	svc   *keystonetest.Services
	reg   *domain.Registry
	locs  []region.Location
	cache *tokencache.Cache
}

var (
	realWorldOnce sync.Once
	realWorldVal  *realWorld
	realWorldErr  error
)

// loadRealWorld returns the shared realWorld, or skips (fails in CI) without
// the real services.
func loadRealWorld(t testing.TB) *realWorld {
	t.Helper()
	env := keystonetest.Load(t)
	svc := env.Services(t)
	realWorldOnce.Do(func() {
		w := &realWorld{env: env, svc: svc}
		for _, loc := range []string{"JP", "US", "SG"} {
			w.locs = append(w.locs, region.Location{Name: loc, AuthURLs: []string{env.AuthURL(loc)}, Regions: env.Regions[loc]})
		}
		var doms []domain.Domain
		for _, d := range env.Domains {
			eps := map[string]domain.Endpoints{}
			for loc, u := range env.AuthURLs {
				eps[loc] = domain.Endpoints{UserAuthURL: u, AdminAuthURL: u}
			}
			doms = append(doms, domain.Domain{Name: d.Name, ID: d.ID, Prefix: d.Prefix, Endpoints: eps})
		}
		if w.reg, realWorldErr = domain.New(doms...); realWorldErr != nil {
			return
		}
		// The cache outlives the tests: the process ends with them.
		w.cache, realWorldErr = tokencache.New(tokencache.Options{})
		realWorldVal = w
	})
	if realWorldErr != nil {
		t.Fatal(realWorldErr)
	}
	return realWorldVal
}

// client returns a Client for user (a member of its domain's first project)
// at the primary location, under policy p.
func (w *realWorld) client(t testing.TB, user keystonetest.User, p domain.Policy) *geostack.Client {
	t.Helper()
	return w.clientVia(t, user, p, nil)
}

// clientVia is client sending its requests with hc (nil: the library's own
// HTTP client).
func (w *realWorld) clientVia(t testing.TB, user keystonetest.User, p domain.Policy, hc *http.Client) *geostack.Client {
	t.Helper()
	return newClient(t, geostack.Config{
		Locations:    w.locs,
		Home:         w.env.Primary,
		Primary:      w.env.Primary,
		Domains:      w.reg,
		Domain:       user.DomainName,
		DomainPolicy: p,
		Credential:   identity.Password{UserID: user.ID, Password: user.Password},
		Scope:        identity.Scope{ProjectID: user.ProjectID},
		Cache:        w.cache,
		HTTPClient:   hc,
	})
}

// viewers are the users the tests look through: users[0] of each domain.
func (w *realWorld) viewers(t testing.TB) []keystonetest.User {
	return []keystonetest.User{w.env.MustUser(t, "gncu00000001"), w.env.MustUser(t, "zjpu00000001")}
}

// rule is what one viewer gets of one item, and why.
type rule struct {
	v   domain.Verdict
	why string
}

func shown(v domain.Verdict, why string) rule { return rule{v, why} }
func hidden(why string) rule                  { return rule{domain.VerdictHidden, why} }

// seededRule is one seeded item (by name and seed kind: names are not unique)
// and what each domain's viewer gets of it.
type seededRule struct {
	name, kind string
	gnc, zjp   rule
}

func (r seededRule) label() string { return r.name + " (" + r.kind + ")" }

func (r seededRule) of(dom string) rule {
	if dom == "gnc" {
		return r.gnc
	}
	return r.zjp
}

// imageRules is the image table under the zero Policy, the same in both
// Glance regions. Glance's own rules come first: a member's default listing
// holds the public images, its project's own (community ones included) and
// the shared images it accepted; a lookup by id also finds another
// project's community image and a shared image whose membership is pending.
// The domain's rules decide what of that the viewer gets.
func imageRules() []seededRule {
	const (
		opShared = "the operator's public image (publicize_image is admin-only), no domain_id, unprefixed name: the Default domain's, shared with every domain"
	)
	rules := []seededRule{
		{"ubuntu-22.04", "default-public", shown(domain.VerdictShared, opShared), shown(domain.VerdictShared, opShared)},
		{"centos-stream-9", "default-public", shown(domain.VerdictShared, opShared), shown(domain.VerdictShared, opShared)},
		{"gnc_centos", "domain-public",
			shown(domain.VerdictDomain, "the operator's public image with gnc's domain_id: gnc's"),
			hidden("the operator's public image with gnc's domain_id: another domain's")},
		{"gnc_windows", "domain-public",
			shown(domain.VerdictDomain, "the operator's public image with gnc's domain_id: gnc's"),
			hidden("the operator's public image with gnc's domain_id: another domain's")},
		{"zjp_ubuntu", "domain-public",
			hidden("the operator's public image with zjp's domain_id: another domain's"),
			shown(domain.VerdictDomain, "the operator's public image with zjp's domain_id: zjp's")},
		{"zjp_alma", "domain-public",
			hidden("the operator's public image with zjp's domain_id: another domain's"),
			shown(domain.VerdictDomain, "the operator's public image with zjp's domain_id: zjp's")},
		{"gnc_debian", "prefix-only-public",
			shown(domain.VerdictDomain, "the operator's public image without domain_id: its gnc_ name decides, gnc's"),
			hidden("the operator's public image without domain_id: its gnc_ name makes it another domain's")},
		{"legacy-image", "domain-id-only-public",
			hidden("the operator's public image with zjp's domain_id: another domain's, though its name is unprefixed"),
			shown(domain.VerdictDomain, "the operator's public image with zjp's domain_id: zjp's, whatever its name")},
		{"gnc_app_snapshot", "member-private",
			shown(domain.VerdictOwn, "its own project's private image"),
			hidden("a gnc customer's private image (Glance does not show it either)")},
		{"zjp_db_snapshot", "member-private",
			hidden("a zjp customer's private image (Glance does not show it either)"),
			shown(domain.VerdictOwn, "its own project's private image")},
		{"zjp_ubuntu_copy", "member-private-forged",
			shown(domain.VerdictOwn, "its own project's private image; the zjp name and domain_id it was given are its publisher's word and count for nothing"),
			hidden("a gnc customer's private image dressed as zjp's (Glance does not show it either)")},
		{"gnc_shared_with_zjp", "member-shared-accepted",
			shown(domain.VerdictOwn, "its own project's shared image"),
			hidden("a gnc customer's image shared with zjpt00000001, accepted: Glance lists it, but a customer is not the operator")},
		{"zjp_shared_with_gnc", "member-shared-pending",
			hidden("a zjp customer's image shared with gnct00000001, pending: Glance finds it by id, but a customer is not the operator"),
			shown(domain.VerdictOwn, "its own project's shared image")},
		{"gnc_tools", "member-community",
			shown(domain.VerdictOwn, "its own project's community image"),
			hidden("a gnc customer's community image: its gnc domain_id is its publisher's word, not the operator's")},
		{"gnc_centos_planted", "member-community-forged",
			hidden("a zjp customer's community image: its gnc_ name and gnc domain_id are not the operator's word"),
			shown(domain.VerdictOwn, "its own project's community image, whatever it claims to be")},
		{"zjp_ubuntu_planted", "member-community-forged",
			shown(domain.VerdictOwn, "its own project's community image, whatever it claims to be"),
			hidden("a gnc customer's community image: its zjp_ name and zjp domain_id are not the operator's word")},
		{"ubuntu-22.04", "member-community-forged",
			hidden("a zjp customer's community image named like the Default domain's ubuntu-22.04: not the operator's"),
			shown(domain.VerdictOwn, "its own project's community image")},
	}
	for i := 0; i < 30; i++ {
		switch i % 3 {
		case 0:
			rules = append(rules, seededRule{fmt.Sprintf("filler-%02d", i), "filler", shown(domain.VerdictShared, opShared), shown(domain.VerdictShared, opShared)})
		case 1:
			rules = append(rules, seededRule{fmt.Sprintf("gnc_filler_%02d", i), "filler",
				shown(domain.VerdictDomain, "the operator's public image with gnc's domain_id: gnc's"),
				hidden("the operator's public image with gnc's domain_id: another domain's")})
		case 2:
			rules = append(rules, seededRule{fmt.Sprintf("zjp_filler_%02d", i), "filler",
				hidden("the operator's public image with zjp's domain_id: another domain's"),
				shown(domain.VerdictDomain, "the operator's public image with zjp's domain_id: zjp's")})
		}
	}
	return rules
}

// foreignRule is an image that Policy.ShowForeignImages adds for a viewer:
// another customer's community or shared image, labelled foreign. listed
// names the listings Glance puts it in for that viewer ("" is the default
// listing); a lookup by id finds each of them.
type foreignRule struct {
	viewer, name, kind string
	listed             []images.ImageVisibility
	why                string
}

func foreignRules() []foreignRule {
	return []foreignRule{
		{"gnc", "gnc_centos_planted", "member-community-forged", []images.ImageVisibility{images.ImageVisibilityCommunity},
			"a zjp customer's community image: foreign, never gnc's, whatever its name and domain_id say; Glance lists it only with visibility=community"},
		{"gnc", "ubuntu-22.04", "member-community-forged", []images.ImageVisibility{images.ImageVisibilityCommunity},
			"a zjp customer's community image: foreign, never the Default domain's shared image it is named like"},
		{"gnc", "zjp_shared_with_gnc", "member-shared-pending", nil,
			"a zjp customer's image shared with gnct00000001: foreign; the membership is pending, so Glance lists it nowhere but finds it by id"},
		{"zjp", "gnc_shared_with_zjp", "member-shared-accepted", []images.ImageVisibility{"", images.ImageVisibilityShared},
			"a gnc customer's image shared with zjpt00000001 and accepted: foreign; Glance lists it by default and with visibility=shared"},
		{"zjp", "gnc_tools", "member-community", []images.ImageVisibility{images.ImageVisibilityCommunity},
			"a gnc customer's community image: foreign, though its domain_id says gnc"},
		{"zjp", "zjp_ubuntu_planted", "member-community-forged", []images.ImageVisibility{images.ImageVisibilityCommunity},
			"a gnc customer's community image: foreign, never zjp's, whatever its name and domain_id say"},
	}
}

// listedVisibilities are the visibilities a caller may ask Images for, ""
// for Glance's default listing.
var listedVisibilities = []images.ImageVisibility{"", images.ImageVisibilityPublic, images.ImageVisibilityCommunity,
	images.ImageVisibilityShared, images.ImageVisibilityPrivate}

// seededImages indexes the images seeded in one region by id and by label.
type seededImages struct {
	byID    map[string]keystonetest.Image
	byLabel map[string]keystonetest.Image
}

func indexImages(t *testing.T, seeded []keystonetest.Image) seededImages {
	t.Helper()
	s := seededImages{byID: map[string]keystonetest.Image{}, byLabel: map[string]keystonetest.Image{}}
	for _, im := range seeded {
		l := im.Name + " (" + im.Kind + ")"
		if _, dup := s.byLabel[l]; dup {
			t.Fatalf("two seeded images are %s", l)
		}
		s.byID[im.ID], s.byLabel[l] = im, im
	}
	return s
}

// label names a listed image: its seed label, or what it is if the seed
// did not make it.
func (s seededImages) label(img images.Image) string {
	if im, ok := s.byID[img.ID]; ok {
		return im.Name + " (" + im.Kind + ")"
	}
	return img.Name + " (not seeded: " + string(img.Visibility) + ", owner " + img.Owner + ")"
}

// checkImageRules fails unless the tables name every seeded image exactly
// once: a seed that grows must grow the tables.
func checkImageRules(t *testing.T, s seededImages, rules []seededRule) {
	t.Helper()
	var want, got []string
	for l := range s.byLabel {
		want = append(want, l)
	}
	for _, r := range rules {
		got = append(got, r.label())
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the image table does not match the seeded images (-seeded +table):\n%s", diff)
	}
}

// imageVerdicts returns, for viewer dom under the zero Policy or with
// foreign images shown, each seeded label's rule.
func imageVerdicts(dom string, foreign bool) map[string]rule {
	out := map[string]rule{}
	for _, r := range imageRules() {
		out[r.label()] = r.of(dom)
	}
	if foreign {
		for _, f := range foreignRules() {
			if f.viewer == dom {
				out[f.name+" ("+f.kind+")"] = shown(domain.VerdictForeign, f.why)
			}
		}
	}
	return out
}

// wantListing returns the exact labels Images must yield for viewer dom with
// visibility vis: every shown item that Glance's listing holds. Under the
// zero Policy every shown image is public (Glance lists it everywhere but
// in the community, shared and private listings) or the viewer's own
// (Glance lists it by default and under its visibility); a foreign one is
// where its foreignRule says.
func wantListing(s seededImages, dom string, foreign bool, vis images.ImageVisibility) []string {
	listed := map[string][]images.ImageVisibility{}
	for _, f := range foreignRules() {
		if f.viewer == dom {
			listed[f.name+" ("+f.kind+")"] = f.listed
		}
	}
	var out []string
	for l, r := range imageVerdicts(dom, foreign) {
		im := s.byLabel[l]
		switch r.v {
		case domain.VerdictHidden:
			continue
		case domain.VerdictForeign:
			if !slices.Contains(listed[l], vis) {
				continue
			}
		default:
			if vis != "" && images.ImageVisibility(im.Visibility) != vis {
				continue
			}
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// TestIntegrationDomainImages lists the images of both Glance regions
// through Client.Images, five to a page, with every visibility, for a gnc
// and a zjp member, under the zero Policy and with ShowForeignImages: the
// result is exactly what imageRules (and foreignRules) say, and each image
// carries the verdict the table gives it.
func TestIntegrationDomainImages(t *testing.T) {
	t.Parallel()
	w := loadRealWorld(t)
	for _, rg := range w.svc.Regions("image") {
		s := indexImages(t, w.svc.Images[rg])
		checkImageRules(t, s, imageRules())
		for _, viewer := range w.viewers(t) {
			for _, foreign := range []bool{false, true} {
				name := rg + "/" + viewer.DomainName
				if foreign {
					name += "/foreign"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					p := domain.Policy{ShowForeignImages: foreign}
					c := w.client(t, viewer, p)
					f, err := w.reg.Filter(viewer.DomainName, p)
					if err != nil {
						t.Fatal(err)
					}
					f = f.ForProject(viewer.ProjectID)
					verdicts := imageVerdicts(viewer.DomainName, foreign)
					for _, vis := range listedVisibilities {
						imgs, err := collect(c.Images(t.Context(), rg, images.ListOpts{Limit: 5, Visibility: vis}))
						if err != nil {
							t.Fatalf("Images(visibility=%q): %v", vis, err)
						}
						var got []string
						for _, img := range imgs {
							l := s.label(img)
							got = append(got, l)
							if want, v := verdicts[l].v, f.ImageVerdict(&img); v != want {
								t.Errorf("visibility=%q: %s has verdict %v, the table says %v (%s)", vis, l, v, want, verdicts[l].why)
							}
						}
						slices.Sort(got)
						if diff := cmp.Diff(wantListing(s, viewer.DomainName, foreign, vis), got); diff != "" {
							t.Errorf("Images(visibility=%q) as %s (-want +got):\n%s", vis, viewer.Name, diff)
						}
					}
				})
			}
		}
	}
}

// imageCounter counts the images Glance sends in its listings' answers.
type imageCounter struct {
	base   http.RoundTripper
	mu     sync.Mutex
	images int
	paths  []string // path and query of every listing request
}

func (c *imageCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/v2/images") {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var page struct{ Images []json.RawMessage }
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.images += len(page.Images)
	c.paths = append(c.paths, r.URL.RawQuery)
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, nil
}

// TestIntegrationDomainImagesRequireDomainID lists the images of both Glance
// regions under Policy.RequireDomainID, five to a page, by default and with
// visibility=public: the operator's untagged public images are hidden
// (listed nowhere, the verdicts agree), everything else is as imageRules
// says, and Glance sends not one image the domain may not see: the listing
// asks for domain_id=<the domain's id>, domain_id=default and
// owner=<the viewer's project> only.
func TestIntegrationDomainImagesRequireDomainID(t *testing.T) {
	t.Parallel()
	w := loadRealWorld(t)
	for _, rg := range w.svc.Regions("image") {
		s := indexImages(t, w.svc.Images[rg])
		for _, viewer := range w.viewers(t) {
			t.Run(rg+"/"+viewer.DomainName, func(t *testing.T) {
				t.Parallel()
				counter := &imageCounter{base: http.DefaultTransport}
				p := domain.Policy{RequireDomainID: true}
				c := w.clientVia(t, viewer, p, &http.Client{Transport: counter})
				f, err := w.reg.Filter(viewer.DomainName, p)
				if err != nil {
					t.Fatal(err)
				}
				f = f.ForProject(viewer.ProjectID)
				verdicts := imageVerdicts(viewer.DomainName, false)
				for l, r := range verdicts {
					if im := s.byLabel[l]; im.Visibility == "public" && im.Properties["domain_id"] == "" && r.v != domain.VerdictHidden {
						verdicts[l] = hidden("the operator's public image without domain_id: under RequireDomainID every operator image names its domain, so this one is nobody's")
					}
				}
				for _, vis := range []images.ImageVisibility{"", images.ImageVisibilityPublic} {
					counter.mu.Lock()
					counter.images, counter.paths = 0, nil
					counter.mu.Unlock()
					imgs, err := collect(c.Images(t.Context(), rg, images.ListOpts{Limit: 5, Visibility: vis}))
					if err != nil {
						t.Fatalf("Images(visibility=%q): %v", vis, err)
					}
					var got, want []string
					for _, img := range imgs {
						l := s.label(img)
						got = append(got, l)
						if v := f.ImageVerdict(&img); v != verdicts[l].v {
							t.Errorf("visibility=%q: %s has verdict %v, want %v (%s)", vis, l, v, verdicts[l].v, verdicts[l].why)
						}
					}
					for l, r := range verdicts {
						if r.v != domain.VerdictHidden && (vis == "" || images.ImageVisibility(s.byLabel[l].Visibility) == vis) {
							want = append(want, l)
						}
					}
					slices.Sort(got)
					slices.Sort(want)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("Images(visibility=%q) as %s (-want +got):\n%s", vis, viewer.Name, diff)
					}
					counter.mu.Lock()
					if counter.images != len(imgs) {
						t.Errorf("Images(visibility=%q): Glance sent %d images for %d shown; want none the domain may not see (requests %q)",
							vis, counter.images, len(imgs), counter.paths)
					}
					for _, q := range counter.paths {
						if !strings.Contains(q, "domain_id=") && !strings.Contains(q, "owner="+viewer.ProjectID) {
							t.Errorf("Images(visibility=%q) asked Glance for %q: neither a domain_id nor the viewer's own", vis, q)
						}
					}
					counter.mu.Unlock()
				}
			})
		}
	}
}

// TestIntegrationDomainImageLookups looks every seeded image up through
// Client.Image by id and every seeded name by name, in both Glance regions,
// for a gnc and a zjp member under the zero Policy. By id: what the table
// shows is returned, everything else is a *geostack.NotFoundError, whether
// Glance hid it (another project's private image) or the domain rules did
// (a planted community image Glance does hand out). By name: the lookup
// searches Glance's default listing, so it answers the one shown image of
// that name there, a *geostack.AmbiguousNameError for two (zjp's own
// community "ubuntu-22.04" next to the Default domain's), and not found for
// none.
func TestIntegrationDomainImageLookups(t *testing.T) {
	t.Parallel()
	w := loadRealWorld(t)
	for _, rg := range w.svc.Regions("image") {
		s := indexImages(t, w.svc.Images[rg])
		for _, viewer := range w.viewers(t) {
			t.Run(rg+"/"+viewer.DomainName, func(t *testing.T) {
				t.Parallel()
				c := w.client(t, viewer, domain.Policy{})
				verdicts := imageVerdicts(viewer.DomainName, false)
				shownByName := map[string][]string{} // name → ids of the shown images
				for _, r := range imageRules() {
					im := s.byLabel[r.label()]
					rl := verdicts[r.label()]
					got, err := c.Image(t.Context(), rg, im.ID)
					if rl.v == domain.VerdictHidden {
						wantNotFound(t, "image", im.ID, rg, got, err, r.label()+": "+rl.why)
					} else {
						shownByName[im.Name] = append(shownByName[im.Name], im.ID)
						if err != nil || got.ID != im.ID {
							t.Errorf("Image(id of %s) = %v, %v; want it (%s)", r.label(), imageName(got), err, rl.why)
						}
					}
					if _, ok := shownByName[im.Name]; !ok {
						shownByName[im.Name] = nil
					}
				}
				names := slices.Sorted(func(yield func(string) bool) {
					for n := range shownByName {
						if !yield(n) {
							return
						}
					}
				})
				for _, name := range names {
					ids := shownByName[name]
					got, err := c.Image(t.Context(), rg, name)
					switch len(ids) {
					case 0:
						wantNotFound(t, "image", name, rg, got, err, "no image of that name is shown")
					case 1:
						if err != nil || got.ID != ids[0] {
							t.Errorf("Image(%q) = %v, %v; want the image %s", name, imageName(got), err, ids[0])
						}
					default:
						var amb *geostack.AmbiguousNameError
						if !errors.As(err, &amb) || amb.Count != len(ids) || got != nil {
							t.Errorf("Image(%q) = %v, %v; want a *geostack.AmbiguousNameError for %d images", name, imageName(got), err, len(ids))
						}
					}
				}
				if viewer.DomainName == "zjp" && len(shownByName["ubuntu-22.04"]) != 2 {
					t.Errorf("zjp is shown %d images named ubuntu-22.04, want 2 (the Default domain's and its own community one)", len(shownByName["ubuntu-22.04"]))
				}
			})
		}
	}
}

func imageName(img *images.Image) string {
	if img == nil {
		return "nil"
	}
	return img.Name + " (" + img.ID + ")"
}

// wantNotFound fails unless a lookup of ref answered a *geostack.NotFoundError
// naming it.
func wantNotFound[T any](t *testing.T, kind, ref, rg string, got *T, err error, why string) {
	t.Helper()
	var nf *geostack.NotFoundError
	if !errors.As(err, &nf) || got != nil {
		t.Errorf("%s lookup of %q: got %v, %v; want a *geostack.NotFoundError (%s)", kind, ref, got != nil, err, why)
		return
	}
	if want := (geostack.NotFoundError{Kind: kind, Ref: ref, Region: rg}); *nf != want {
		t.Errorf("%s lookup of %q: %+v, want %+v", kind, ref, *nf, want)
	}
}

// flavorRules is the flavor table (Nova, TYO1). Nova lists to a member the
// public flavors and the private ones its project has flavor access to, and
// finds no other by id; flavors are the operator's (flavor create is
// admin-only), so their names decide.
func flavorRules() []seededRule {
	const shared = "the operator's public flavor, unprefixed: shared"
	return []seededRule{
		{"m1.tiny", "public-shared", shown(domain.VerdictShared, shared), shown(domain.VerdictShared, shared)},
		{"m1.small", "public-shared", shown(domain.VerdictShared, shared), shown(domain.VerdictShared, shared)},
		{"gnc_g1.small", "public-prefixed",
			shown(domain.VerdictDomain, "a public flavor with the gnc_ prefix: gnc's"),
			hidden("a public flavor with the gnc_ prefix: Nova lists it, but it is another domain's")},
		{"zjp_z1.small", "public-prefixed",
			hidden("a public flavor with the zjp_ prefix: Nova lists it, but it is another domain's"),
			shown(domain.VerdictDomain, "a public flavor with the zjp_ prefix: zjp's")},
		{"gnc_g1.large", "private-domain",
			shown(domain.VerdictDomain, "a private flavor gnct00000001 has access to, with the gnc_ prefix: gnc's"),
			hidden("a private flavor zjpt00000001 has no access to: Nova hides it (and its gnc_ prefix would)")},
		{"zjp_z1.large", "private-domain",
			hidden("a private flavor gnct00000001 has no access to: Nova hides it (and its zjp_ prefix would)"),
			shown(domain.VerdictDomain, "a private flavor zjpt00000001 has access to, with the zjp_ prefix: zjp's")},
		{"m1.dedicated", "private-unprefixed",
			shown(domain.VerdictShared, "a private flavor gnct00000001 has access to, unprefixed: shared"),
			hidden("a private flavor zjpt00000001 has no access to: Nova hides it, though its unprefixed name would be shared")},
		{"ops.reserved", "private-unshared",
			hidden("a private flavor no project has access to: Nova hides it"),
			hidden("a private flavor no project has access to: Nova hides it")},
	}
}

// volumeTypeRules is the volume type table (Cinder, TYO1), on the same rules
// as flavors: type access for private ones, names for the rest.
func volumeTypeRules() []seededRule {
	return []seededRule{
		{"__DEFAULT__", "builtin",
			shown(domain.VerdictShared, "Cinder's own default type, public and unprefixed: shared"),
			shown(domain.VerdictShared, "Cinder's own default type, public and unprefixed: shared")},
		{"standard", "public-shared",
			shown(domain.VerdictShared, "the operator's public type, unprefixed: shared"),
			shown(domain.VerdictShared, "the operator's public type, unprefixed: shared")},
		{"gnc_ssd", "public-prefixed",
			shown(domain.VerdictDomain, "a public type with the gnc_ prefix: gnc's"),
			hidden("a public type with the gnc_ prefix: Cinder lists it, but it is another domain's")},
		{"zjp_ssd", "public-prefixed",
			hidden("a public type with the zjp_ prefix: Cinder lists it, but it is another domain's"),
			shown(domain.VerdictDomain, "a public type with the zjp_ prefix: zjp's")},
		{"gnc_nvme", "private-domain",
			shown(domain.VerdictDomain, "a private type gnct00000001 has access to, with the gnc_ prefix: gnc's"),
			hidden("a private type zjpt00000001 has no access to: Cinder hides it (and its gnc_ prefix would)")},
		{"zjp_nvme", "private-domain",
			hidden("a private type gnct00000001 has no access to: Cinder hides it (and its zjp_ prefix would)"),
			shown(domain.VerdictDomain, "a private type zjpt00000001 has access to, with the zjp_ prefix: zjp's")},
		{"dedicated", "private-unprefixed",
			shown(domain.VerdictShared, "a private type gnct00000001 has access to, unprefixed: shared"),
			hidden("a private type zjpt00000001 has no access to: Cinder hides it, though its unprefixed name would be shared")},
		{"ops_reserved", "private-unshared",
			hidden("a private type no project has access to: Cinder hides it"),
			hidden("a private type no project has access to: Cinder hides it")},
	}
}

// namedItem is what the flavor and volume type tests know of an item.
type namedItem struct{ id, name, kind string }

// accessorCase runs one kind's listing and lookups for one viewer against a
// table, generic over flavors and volume types.
type accessorCase[T any] struct {
	kind    string // "flavor", "volume type"
	seeded  []namedItem
	rules   []seededRule
	list    func(ctx context.Context, c *geostack.Client) ([]T, error)
	get     func(ctx context.Context, c *geostack.Client, ref string) (*T, error)
	idName  func(*T) (string, string)
	verdict func(*domain.Filter, *T) domain.Verdict
}

func (a accessorCase[T]) run(t *testing.T, w *realWorld, viewer keystonetest.User, rg string) {
	t.Helper()
	byLabel := map[string]namedItem{}
	byID := map[string]namedItem{}
	var seededLabels []string
	for _, it := range a.seeded {
		l := it.name + " (" + it.kind + ")"
		byLabel[l], byID[it.id] = it, it
		seededLabels = append(seededLabels, l)
	}
	var tableLabels []string
	for _, r := range a.rules {
		tableLabels = append(tableLabels, r.label())
	}
	slices.Sort(seededLabels)
	slices.Sort(tableLabels)
	if diff := cmp.Diff(seededLabels, tableLabels); diff != "" {
		t.Fatalf("the %s table does not match the seed (-seeded +table):\n%s", a.kind, diff)
	}
	c := w.client(t, viewer, domain.Policy{})
	f, err := w.reg.Filter(viewer.DomainName, domain.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range a.rules {
		if r.of(viewer.DomainName).v != domain.VerdictHidden {
			want = append(want, r.label())
		}
	}
	slices.Sort(want)

	items, err := a.list(t.Context(), c)
	if err != nil {
		t.Fatalf("list %ss: %v", a.kind, err)
	}
	var got []string
	for i := range items {
		id, name := a.idName(&items[i])
		l := name + " (not seeded)"
		if it, ok := byID[id]; ok {
			l = it.name + " (" + it.kind + ")"
		}
		got = append(got, l)
		for _, r := range a.rules {
			if r.label() == l {
				if v := a.verdict(f, &items[i]); v != r.of(viewer.DomainName).v {
					t.Errorf("%s %s has verdict %v, the table says %v (%s)", a.kind, l, v, r.of(viewer.DomainName).v, r.of(viewer.DomainName).why)
				}
			}
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%ss as %s (-want +got):\n%s", a.kind, viewer.Name, diff)
	}

	for _, r := range a.rules {
		it := byLabel[r.label()]
		rl := r.of(viewer.DomainName)
		for _, ref := range []string{it.id, it.name} {
			got, err := a.get(t.Context(), c, ref)
			if rl.v == domain.VerdictHidden {
				wantNotFound(t, a.kind, ref, rg, got, err, r.label()+": "+rl.why)
				continue
			}
			if err != nil {
				t.Errorf("%s lookup of %q: %v; want %s (%s)", a.kind, ref, err, r.label(), rl.why)
				continue
			}
			if id, _ := a.idName(got); id != it.id {
				t.Errorf("%s lookup of %q = %s; want %s", a.kind, ref, id, it.id)
			}
		}
	}
}

// TestIntegrationDomainFlavors lists Nova's flavors through Client.Flavors,
// three to a page, and looks each up by id and by name through
// Client.Flavor, for a gnc and a zjp member: exactly what flavorRules says.
func TestIntegrationDomainFlavors(t *testing.T) {
	t.Parallel()
	w := loadRealWorld(t)
	var seeded []namedItem
	for _, f := range w.svc.Flavors {
		seeded = append(seeded, namedItem{f.ID, f.Name, f.Kind})
	}
	const rg = "TYO1"
	a := accessorCase[flavors.Flavor]{
		kind: "flavor", seeded: seeded, rules: flavorRules(),
		list: func(ctx context.Context, c *geostack.Client) ([]flavors.Flavor, error) {
			return collect(c.Flavors(ctx, rg, flavors.ListOpts{Limit: 3}))
		},
		get: func(ctx context.Context, c *geostack.Client, ref string) (*flavors.Flavor, error) {
			return c.Flavor(ctx, rg, ref)
		},
		idName:  func(f *flavors.Flavor) (string, string) { return f.ID, f.Name },
		verdict: (*domain.Filter).FlavorVerdict,
	}
	for _, viewer := range w.viewers(t) {
		t.Run(viewer.DomainName, func(t *testing.T) {
			t.Parallel()
			a.run(t, w, viewer, rg)
		})
	}
}

// TestIntegrationDomainVolumeTypes lists Cinder's volume types through
// Client.VolumeTypes, two to a page, and looks each up by id and by name
// through Client.VolumeType, for a gnc and a zjp member: exactly what
// volumeTypeRules says. Cinder also answers the id "default" with its
// default type, which the lookup then judges by its real name.
func TestIntegrationDomainVolumeTypes(t *testing.T) {
	t.Parallel()
	w := loadRealWorld(t)
	var seeded []namedItem
	var defaultID string
	for _, v := range w.svc.VolumeTypes {
		seeded = append(seeded, namedItem{v.ID, v.Name, v.Kind})
		if v.Kind == "builtin" {
			defaultID = v.ID
		}
	}
	const rg = "TYO1"
	a := accessorCase[volumetypes.VolumeType]{
		kind: "volume type", seeded: seeded, rules: volumeTypeRules(),
		list: func(ctx context.Context, c *geostack.Client) ([]volumetypes.VolumeType, error) {
			return collect(c.VolumeTypes(ctx, rg, volumetypes.ListOpts{Limit: 2}))
		},
		get: func(ctx context.Context, c *geostack.Client, ref string) (*volumetypes.VolumeType, error) {
			return c.VolumeType(ctx, rg, ref)
		},
		idName:  func(v *volumetypes.VolumeType) (string, string) { return v.ID, v.Name },
		verdict: (*domain.Filter).VolumeTypeVerdict,
	}
	for _, viewer := range w.viewers(t) {
		t.Run(viewer.DomainName, func(t *testing.T) {
			t.Parallel()
			a.run(t, w, viewer, rg)
			c := w.client(t, viewer, domain.Policy{})
			vt, err := c.VolumeType(t.Context(), rg, "default")
			if err != nil || vt.ID != defaultID || vt.Name != "__DEFAULT__" {
				t.Errorf(`VolumeType("default") = %v, %v; want Cinder's __DEFAULT__ (%s), shared`, vt, err, defaultID)
			}
		})
	}
}
