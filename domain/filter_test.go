package domain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Who sees a fixture item.
var (
	all  = []string{"gnc", "zjp", "zsg"}
	none = []string{}
	gnc  = []string{"gnc"}
	zjp  = []string{"zjp"}
	zsg  = []string{"zsg"}
)

type fixture struct {
	obj    item     // as the service returns it
	seenBy []string // domains whose users see it under the zero Policy
	shared bool     // seen by all only because shared items are allowed
	// operator marks an image of the operator's project that is not
	// public: seen by seenBy only when Policy.OperatorProjects names it.
	operator bool
}

// The projects of the viewers (one per domain) and of the operator.
const operatorProject = "p-admin"

var viewer = map[string]string{"gnc": "p-gnc", "zjp": "p-zjp", "zsg": "p-zsg"}

func absent() any { return nil }

// image is an image the operator published (owner: its project).
func image(name, vis string, domainID any, seenBy []string) fixture {
	obj := item{"name": name, "visibility": vis, "status": "active", "owner": operatorProject}
	if domainID != nil {
		obj["domain_id"] = domainID
	}
	return fixture{obj: obj, seenBy: seenBy}
}

// ownedBy makes f an image of dom's viewer project.
func ownedBy(dom string, f fixture) fixture { f.obj["owner"] = viewer[dom]; return f }

// ofOperator marks f as a non-public image of the operator's project.
func ofOperator(f fixture) fixture { f.operator = true; return f }

func named(name string, seenBy []string) fixture {
	return fixture{obj: item{"name": name}, seenBy: seenBy}
}

func shared(f fixture) fixture { f.shared = true; return f }

// imageFixtures is ordered so that small pages hold only other domains'
// images, mixes, and a page filtered down to nothing for every domain. The
// customers' images (private, shared, community, no visibility) are seen by
// their owner's domain only, whatever their name or domain-id property
// claims: a customer sets those at will.
func imageFixtures() []fixture {
	withMeta := image("meta-only", "public", absent(), zsg)
	withMeta.obj["metadata"] = map[string]string{"domain_id": zsgID}
	return []fixture{
		shared(image("centos-9", "public", absent(), all)),
		shared(image("ubuntu-24.04", "public", "default", all)),
		image("gnc_centos", "public", gncID, gnc),
		image("gnc_windows", "public", absent(), gnc), // name fallback
		image("zjp_centos", "public", zjpID, zjp),
		image("zsg_centos", "public", absent(), zsg),
		image("zjp_moved", "public", gncID, gnc),   // metadata wins over the name
		image("gnc_moved", "public", zsgID, zsg),   // metadata wins over the name
		image("plain", "public", "id-other", none), // an unregistered domain's
		image("gnc", "public", absent(), none),     // prefix alone
		image("gnccentos", "public", absent(), none),
		image("gnc_", "public", absent(), none),
		image("gnc_default", "public", "default", gnc), // Default id never widens a prefixed name
		shared(image("GNC_centos", "public", absent(), all)),
		image("gnc_日本", "public", absent(), gnc),
		image("gnc‐hyphen", "public", absent(), none), // U+2010, not the separator
		image("zsg_by_number", "public", 42.0, none),  // ownership not a string
		ownedBy("gnc", image("my-snapshot", "private", absent(), gnc)),
		ownedBy("zjp", image("zjp_shared_with_me", "shared", zjpID, zjp)),
		ownedBy("zsg", image("community", "community", absent(), zsg)),
		ownedBy("zsg", image("zsg_community", "community", absent(), zsg)),
		ownedBy("zjp", image("gnc_community_of_zjp", "community", zjpID, zjp)),
		ownedBy("zjp", image("gnc_centos_planted", "community", gncID, zjp)), // a zjp customer's bait for gnc
		ownedBy("zjp", image("ubuntu-24.04", "community", "default", zjp)),   // a customer's look-alike of a shared image
		ownedBy("gnc", image("zsg_private_forged", "private", zsgID, gnc)),
		ownedBy("zjp", image("zjp_no_visibility", "", absent(), zjp)),
		ofOperator(image("ops-community", "community", absent(), all)),
		ofOperator(image("gnc_ops_shared", "shared", absent(), gnc)),
		image("zsg_empty_id", "public", "", zsg),
		withMeta,
		shared(image("ｇｎｃ_fullwidth", "public", absent(), all)), // no registered prefix: unprefixed
	}
}

func flavorFixtures() []fixture {
	return []fixture{
		shared(named("m1.small", all)),
		named("gnc_g-1gb", gnc),
		named("zjp_1gb", zjp),
		named("zsg_1gb", zsg),
		named("zjp_2gb", zjp),
		named("zsg_2gb", zsg),
		named("zjp_4gb", zjp),
		named("gnc", none),
		named("gnc1gb", none),
		shared(named("GNC_1gb", all)),
		named("gnc_日本", gnc),
		named("gnc‐1gb", none),
		named("zsg_", none),
	}
}

func volumeTypeFixtures() []fixture {
	return []fixture{
		shared(named("default", all)),
		named("gnc_ssd", gnc),
		named("zjp_ssd", zjp),
		named("zsg_ssd", zsg),
		named("zjpssd", none),
		shared(named("Zjp_ssd", all)),
		named("zsg_hdd", zsg),
		named("gnc_日本", gnc),
	}
}

// objects gives each fixture an id (its position) and returns the objects.
func objects(fs []fixture) []item {
	out := make([]item, len(fs))
	for i, f := range fs {
		f.obj["id"] = fmt.Sprintf("id-%03d", i)
		out[i] = f.obj
	}
	return out
}

// want returns the ids that dom sees, in listing order.
func want(fs []fixture, dom string, p Policy) []string {
	ids := []string{}
	for i, f := range fs {
		if f.shared && (p.HideSharedImages || p.HideSharedFlavors || p.HideSharedVolumeTypes) {
			continue
		}
		if f.operator && !slices.Contains(p.OperatorProjects, operatorProject) {
			continue
		}
		if slices.Contains(f.seenBy, dom) {
			ids = append(ids, fmt.Sprintf("id-%03d", i))
		}
	}
	return ids
}

func ids[T any](items []T, id func(*T) string) []string {
	out := []string{}
	for i := range items {
		out = append(out, id(&items[i]))
	}
	return out
}

// foreign reports an item that belongs to a domain other than dom: its
// ownership property, or else its name, says so.
func foreign(r *Registry, dom, name string, domainID any) bool {
	if s, ok := domainID.(string); ok && s != "" && s != KeystoneDefaultDomainID {
		d, ok := r.ByID(s)
		return !ok || d.Name != dom
	}
	if domainID != nil && domainID != "" && domainID != KeystoneDefaultDomainID {
		return true
	}
	o, ok := r.Owner(name)
	return ok && o.Name != dom
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	reg := testRegistry(t)
	imgFix, flvFix, vtFix := imageFixtures(), flavorFixtures(), volumeTypeFixtures()
	cloud := newFakeCloud(t, objects(imgFix), objects(flvFix), objects(vtFix), nil)
	policies := []struct {
		name string
		p    Policy
	}{
		{"default policy", Policy{}},
		{"hide shared", Policy{HideSharedImages: true, HideSharedFlavors: true, HideSharedVolumeTypes: true}},
		{"operator project", Policy{OperatorProjects: []string{operatorProject}}},
	}
	// Page sizes: one item a page (many pages with nothing visible), small
	// mixed pages, a last page filled exactly (followed by an empty page),
	// and everything in one page.
	limits := []int{1, 2, 3, 4, len(imgFix), len(imgFix) + 1}
	for _, pol := range policies {
		for _, dom := range all {
			f, err := reg.Filter(dom, pol.p)
			if err != nil {
				t.Fatal(err)
			}
			f = f.ForProject(viewer[dom])
			for _, limit := range limits {
				t.Run(pol.name+"/"+dom+"/limit="+strconv.Itoa(limit), func(t *testing.T) {
					t.Parallel()
					ctx := t.Context()
					// visibility=all goes to the service as one listing,
					// which this fake answers with every fixture: each
					// one reaches the verdicts. Narrowed listings are
					// tested against a Glance-like fake in narrow_test.go.
					imgs, err := collect(f.Images(ctx, cloud.Image(), images.ListOpts{Limit: limit, Visibility: "all"}))
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want(imgFix, dom, pol.p), ids(imgs, func(i *images.Image) string { return i.ID })); diff != "" {
						t.Errorf("images (-want +got):\n%s", diff)
					}
					for _, img := range imgs {
						switch {
						case img.Visibility == images.ImageVisibilityPublic || img.Owner == operatorProject:
							if foreign(reg, dom, img.Name, img.Properties["domain_id"]) {
								t.Errorf("%s sees another domain's image %q", dom, img.Name)
							}
						case img.Owner != viewer[dom]:
							t.Errorf("%s sees image %q of another customer's project %s", dom, img.Name, img.Owner)
						}
					}
					flvs, err := collect(f.Flavors(ctx, cloud.Compute(), flavors.ListOpts{Limit: limit}))
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want(flvFix, dom, pol.p), ids(flvs, func(f *flavors.Flavor) string { return f.ID })); diff != "" {
						t.Errorf("flavors (-want +got):\n%s", diff)
					}
					vts, err := collect(f.VolumeTypes(ctx, cloud.Volume(), volumetypes.ListOpts{Limit: limit}))
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want(vtFix, dom, pol.p), ids(vts, func(v *volumetypes.VolumeType) string { return v.ID })); diff != "" {
						t.Errorf("volume types (-want +got):\n%s", diff)
					}
					for _, name := range append(ids(flvs, func(f *flavors.Flavor) string { return f.Name }),
						ids(vts, func(v *volumetypes.VolumeType) string { return v.Name })...) {
						if foreign(reg, dom, name, nil) {
							t.Errorf("%s sees another domain's item %q", dom, name)
						}
					}
				})
			}
		}
	}
}

func TestFilterPolicy(t *testing.T) {
	t.Parallel()
	reg := testRegistry(t)
	tests := []struct {
		name   string
		p      Policy
		img    images.Image
		seenBy []string
	}{
		{"custom property", Policy{DomainIDProperty: "owner_domain"},
			images.Image{Name: "x", Visibility: "public", Properties: map[string]any{"owner_domain": zjpID, "domain_id": gncID}}, zjp},
		{"custom default id", Policy{DefaultDomainID: "dflt"},
			images.Image{Name: "x", Visibility: "public", Properties: map[string]any{"domain_id": "dflt"}}, all},
		{"default id is foreign under a custom default", Policy{DefaultDomainID: "dflt"},
			images.Image{Name: "x", Visibility: "public", Properties: map[string]any{"domain_id": "default"}}, none},
		{"hidden shared still shows own", Policy{HideSharedImages: true},
			images.Image{Name: "gnc_x", Visibility: "public"}, gnc},
		{"property wins over metadata", Policy{},
			images.Image{Name: "x", Visibility: "public", Properties: map[string]any{"domain_id": zjpID}, Metadata: map[string]string{"domain_id": gncID}}, zjp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := []string{}
			for _, dom := range all {
				f, err := reg.Filter(dom, tt.p)
				if err != nil {
					t.Fatal(err)
				}
				if f.VisibleImage(&tt.img) {
					got = append(got, dom)
				}
			}
			if diff := cmp.Diff(tt.seenBy, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("seen by (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	reg := testRegistry(t)
	if _, err := reg.Filter("GNC", Policy{}); !errors.Is(err, ErrUnknownDomain) {
		t.Errorf("Filter(GNC) err = %v; want ErrUnknownDomain", err)
	}
	_, err := reg.Filter("gnc", Policy{DefaultDomainID: zjpID})
	if p := problemOf(t, err); p.Key != "default_domain_id" || !strings.Contains(p.Reason, strconv.Quote(zjp[0])) {
		t.Errorf("Filter with a registered default id: err = %v; want a ConfigError naming zjp", err)
	}
	f, err := reg.Filter("zsg", Policy{})
	if err != nil || f.Domain().Name != "zsg" {
		t.Fatalf("Filter(zsg) = %v, %v", f, err)
	}
}

// TestPredicatesDoNotAllocate is not parallel: AllocsPerRun needs the whole
// process.
func TestPredicatesDoNotAllocate(t *testing.T) {
	f, err := testRegistry(t).Filter("gnc", Policy{})
	if err != nil {
		t.Fatal(err)
	}
	img := images.Image{Name: "zjp_x", Visibility: "public", Properties: map[string]any{"domain_id": gncID}}
	fl := flavors.Flavor{Name: "gnc_1gb"}
	vt := volumetypes.VolumeType{Name: "default"}
	src := []images.Image{img, {Name: "zsg_y", Visibility: "public"}}
	dst := make([]images.Image, 0, 2)
	allocs := testing.AllocsPerRun(100, func() {
		if !f.VisibleImage(&img) || !f.VisibleFlavor(&fl) || !f.VisibleVolumeType(&vt) {
			panic("not visible")
		}
		dst = appendVisible(dst[:0], src, f.VisibleImage)
	})
	if allocs != 0 || len(dst) != 1 {
		t.Errorf("%v allocs per run, kept %d; want 0 allocs, 1 kept", allocs, len(dst))
	}
}

// TestImageVerdict: who published an image decides which of its fields
// count. Each case is an attack or a rule, seen by a gnc user of project
// p-gnc.
func TestImageVerdict(t *testing.T) {
	t.Parallel()
	reg := testRegistry(t)
	tests := []struct {
		name string
		p    Policy
		img  images.Image
		want Verdict
	}{
		{"operator's public image for gnc, by id", Policy{}, images.Image{Name: "centos", Visibility: "public", Properties: map[string]any{"domain_id": gncID}}, VerdictDomain},
		{"operator's public image for gnc, by name", Policy{}, images.Image{Name: "gnc_centos", Visibility: "public"}, VerdictDomain},
		{"operator's public Default image", Policy{}, images.Image{Name: "centos", Visibility: "public"}, VerdictShared},
		{"operator's public image for zjp", Policy{}, images.Image{Name: "zjp_centos", Visibility: "public"}, VerdictHidden},
		{"own private image", Policy{}, images.Image{Name: "backup", Visibility: "private", Owner: "p-gnc"}, VerdictOwn},
		{"own community image with zjp's id", Policy{}, images.Image{Name: "x", Visibility: "community", Owner: "p-gnc", Properties: map[string]any{"domain_id": zjpID}}, VerdictOwn},
		{"zjp customer's community image forging gnc's id", Policy{}, images.Image{Name: "centos", Visibility: "community", Owner: "p-zjp", Properties: map[string]any{"domain_id": gncID}}, VerdictHidden},
		{"zjp customer's community image forging gnc's prefix", Policy{}, images.Image{Name: "gnc_centos", Visibility: "community", Owner: "p-zjp"}, VerdictHidden},
		{"a customer's unprefixed community image is not shared", Policy{}, images.Image{Name: "ubuntu-24.04", Visibility: "community", Owner: "p-zjp"}, VerdictHidden},
		{"another project's image shared with mine", Policy{}, images.Image{Name: "gnc_tools", Visibility: "shared", Owner: "p-zjp"}, VerdictHidden},
		{"another project's private image (an admin's listing)", Policy{}, images.Image{Name: "gnc_x", Visibility: "private", Owner: "p-zjp"}, VerdictHidden},
		{"no visibility: a customer's", Policy{}, images.Image{Name: "gnc_x", Owner: "p-zjp"}, VerdictHidden},
		{"no owner, not public", Policy{}, images.Image{Name: "gnc_x", Visibility: "community"}, VerdictHidden},
		{"foreign community image, opted in: never the domain's", Policy{ShowForeignImages: true}, images.Image{Name: "gnc_centos", Visibility: "community", Owner: "p-zjp", Properties: map[string]any{"domain_id": gncID}}, VerdictForeign},
		{"foreign shared image, opted in", Policy{ShowForeignImages: true}, images.Image{Name: "tools", Visibility: "shared", Owner: "p-zjp"}, VerdictForeign},
		{"foreign private image, opted in: still hidden", Policy{ShowForeignImages: true}, images.Image{Name: "tools", Visibility: "private", Owner: "p-zjp"}, VerdictHidden},
		{"operator project's community image, trusted", Policy{OperatorProjects: []string{"p-admin"}}, images.Image{Name: "tools", Visibility: "community", Owner: "p-admin"}, VerdictShared},
		{"operator project's community image for zjp", Policy{OperatorProjects: []string{"p-admin"}}, images.Image{Name: "tools", Visibility: "community", Owner: "p-admin", Properties: map[string]any{"domain_id": zjpID}}, VerdictHidden},
		{"operator project's image, not configured", Policy{}, images.Image{Name: "tools", Visibility: "community", Owner: "p-admin"}, VerdictHidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := reg.Filter("gnc", tt.p)
			if err != nil {
				t.Fatal(err)
			}
			f = f.ForProject("p-gnc")
			if got := f.ImageVerdict(&tt.img); got != tt.want {
				t.Errorf("ImageVerdict = %v, want %v", got, tt.want)
			}
			if got := f.VisibleImage(&tt.img); got != (tt.want != VerdictHidden) {
				t.Errorf("VisibleImage = %v, want %v", got, tt.want != VerdictHidden)
			}
		})
	}
	// Without a viewer project, no customer image is anyone's own.
	f, _ := reg.Filter("gnc", Policy{})
	if got := f.ImageVerdict(&images.Image{Name: "x", Visibility: "private"}); got != VerdictHidden {
		t.Errorf("an ownerless private image without a viewer: %v, want hidden", got)
	}
}

// TestRequireDomainIDVerdicts: under Policy.RequireDomainID an operator's
// image without the domain-id property is nobody's; one with it is judged
// as before, and customers' images are untouched.
func TestRequireDomainIDVerdicts(t *testing.T) {
	t.Parallel()
	f, err := testRegistry(t).Filter("gnc", Policy{RequireDomainID: true, OperatorProjects: []string{operatorProject}})
	if err != nil {
		t.Fatal(err)
	}
	f = f.ForProject(viewer["gnc"])
	img := func(name string, vis images.ImageVisibility, owner string, props map[string]any) *images.Image {
		return &images.Image{Name: name, Visibility: vis, Owner: owner, Properties: props}
	}
	tests := []struct {
		name string
		img  *images.Image
		want Verdict
	}{
		{"untagged, unprefixed public", img("ubuntu", "public", operatorProject, nil), VerdictHidden},
		{"untagged, prefixed public", img("gnc_debian", "public", operatorProject, nil), VerdictHidden},
		{"empty domain_id", img("gnc_debian", "public", operatorProject, map[string]any{"domain_id": ""}), VerdictHidden},
		{"untagged, in metadata only", &images.Image{Name: "x", Visibility: "public", Metadata: map[string]string{"domain_id": gncID}}, VerdictDomain},
		{"Default domain's, unprefixed", img("ubuntu", "public", operatorProject, map[string]any{"domain_id": "default"}), VerdictShared},
		{"Default domain's, prefixed", img("gnc_debian", "public", operatorProject, map[string]any{"domain_id": "default"}), VerdictDomain},
		{"the domain's", img("centos", "public", operatorProject, map[string]any{"domain_id": gncID}), VerdictDomain},
		{"another domain's", img("gnc_x", "public", operatorProject, map[string]any{"domain_id": zjpID}), VerdictHidden},
		{"operator project's untagged community image", img("tools", "community", operatorProject, nil), VerdictHidden},
		{"operator project's tagged community image", img("tools", "community", operatorProject, map[string]any{"domain_id": gncID}), VerdictDomain},
		{"the viewer's own, untagged", img("snap", "private", viewer["gnc"], nil), VerdictOwn},
		{"another customer's, tagged gnc", img("gnc_x", "community", viewer["zjp"], map[string]any{"domain_id": gncID}), VerdictHidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := f.ImageVerdict(tt.img); got != tt.want {
				t.Errorf("verdict %v, want %v", got, tt.want)
			}
		})
	}
}
