package testserver_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/internal/testserver"
)

// shapeWorld is DefaultWorld with what the real services' seed has and
// DefaultWorld lacks: a shared image pending for gnc, another accepted by
// zjp, a private flavor and a private volume type with access for gnc's
// first project.
func shapeWorld() *testserver.World {
	w := testserver.DefaultWorld()
	gnc, zjp := w.Project("gnct00000001").ID, w.Project("zjpt00000001").ID
	w.Images = append(w.Images,
		testserver.Image{ID: "11111111-0000-0000-0000-000000000001", Name: "zjp_shared_with_gnc", Owner: zjp, Visibility: "shared",
			Members: map[string]string{gnc: "pending"}},
		testserver.Image{ID: "11111111-0000-0000-0000-000000000002", Name: "gnc_shared_with_zjp", Owner: gnc, Visibility: "shared",
			Members: map[string]string{zjp: "accepted"}},
	)
	w.Flavors = append(w.Flavors,
		testserver.Flavor{ID: "22222222-0000-0000-0000-000000000001", Name: "gnc_g-dedicated", VCPUs: 8, RAM: 16384, Disk: 100, Access: []string{gnc}})
	w.VolumeTypes = append(w.VolumeTypes,
		testserver.VolumeType{ID: "33333333-0000-0000-0000-000000000001", Name: "gnc_nvme", Access: []string{gnc}})
	return w
}

func sorted(s []string) []string { slices.Sort(s); return s }

// TestServiceShapeDetails pins the details in which the fake's Glance, Nova
// and Cinder once differed from the real ones (found by internal/conformance
// against Glance 25, Nova 26 and Cinder 21).
func TestServiceShapeDetails(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{World: shapeWorld()})
	w := shapeWorld()
	tokenOf := func(opts tokens.AuthOptions) string {
		tok, _ := issue(t, srv.AuthURL("JP"), opts)
		return tok.ID
	}
	viewers := map[string]string{
		"gnc": tokenOf(userOpts("gncu00000001")),
		"zjp": tokenOf(userOpts("zjpu00000001")),
		"admin": tokenOf(tokens.AuthOptions{Username: testserver.AdminUser, DomainID: testserver.DefaultDomainID, Password: testserver.AdminPassword,
			Scope: tokens.Scope{ProjectName: testserver.AdminProject, DomainID: testserver.DefaultDomainID}}),
	}
	projects := map[string]string{"gnc": w.Project("gnct00000001").ID, "zjp": w.Project("zjpt00000001").ID, "admin": w.Project(testserver.AdminProject).ID}
	base := srv.URL("JP") + "/TYO1"

	type result struct {
		Status      int
		ContentType string
		Names       []string // the listed or returned items' names, sorted
		Links       []string // first and next links, with the base cut off
	}
	get := func(t *testing.T, viewer, path string, header map[string]string) result {
		t.Helper()
		path = strings.ReplaceAll(path, "{project}", projects[viewer])
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", viewers[viewer])
		req.Header.Set("Accept", "application/json") // as gophercloud and the clients send it
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		r := result{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
		var items []any
		for _, k := range []string{"images", "flavors", "volume_types"} {
			if v, ok := body[k].([]any); ok {
				items = v
			}
		}
		for _, k := range []string{"flavor", "volume_type"} {
			if v, ok := body[k]; ok {
				items = []any{v}
			}
		}
		if body["id"] != nil {
			items = []any{body}
		}
		for _, it := range items {
			r.Names = append(r.Names, it.(map[string]any)["name"].(string))
		}
		slices.Sort(r.Names)
		for _, k := range []string{"first", "next"} {
			if v, ok := body[k].(string); ok {
				r.Links = append(r.Links, k+" "+v)
			}
		}
		for _, k := range []string{"flavors_links", "volume_type_links"} {
			ls, _ := body[k].([]any)
			for _, l := range ls {
				l := l.(map[string]any)
				r.Links = append(r.Links, l["rel"].(string)+" "+strings.TrimPrefix(l["href"].(string), base))
			}
		}
		return r
	}
	img := func(name string) string { return w.Image(name).ID }
	publicImages := []string{"centos-stream-9", "debian-12", "gnc_centos", "gnc_ubuntu", "ubuntu-24.04", "zjp_centos", "zjp_ubuntu", "zsg_centos", "zsg_ubuntu"}
	ct := "application/json"
	var big []testserver.Flavor // what gnc lists with minRam=4096, in Nova's order
	for _, f := range w.Flavors {
		if f.RAM >= 4096 && (f.IsPublic || slices.Contains(f.Access, projects["gnc"])) {
			big = append(big, f)
		}
	}
	slices.SortFunc(big, func(a, b testserver.Flavor) int { return strings.Compare(a.ID, b.ID) })
	firstTwo := []string{big[0].Name, big[1].Name}
	slices.Sort(firstTwo)
	tests := []struct {
		name, viewer, path string
		header             map[string]string
		want               result
	}{
		{"a member's default listing: public, own, accepted shared", "zjp", "/image/v2/images", nil, result{200, ct,
			sorted(append(slices.Clone(publicImages), "gnc_centos_planted", "gnc_shared_with_zjp", "zjp_shared_with_gnc", "zjpt00000001-backup")),
			[]string{"first /v2/images"}}},
		{"limit=0 lists nothing and links nowhere", "admin", "/image/v2/images?visibility=public&limit=0", nil, result{200, ct, nil,
			[]string{"first /v2/images?visibility=public&limit=0"}}},
		{"a pending shared image is listed only with member_status", "gnc", "/image/v2/images?visibility=shared&member_status=pending", nil,
			result{200, ct, []string{"gnc_shared_with_zjp", "zjp_shared_with_gnc"}, []string{"first /v2/images?visibility=shared&member_status=pending"}}},
		{"a pending shared image is found by id", "gnc", "/image/v2/images/" + img("zjp_shared_with_gnc"), nil,
			result{200, ct, []string{"zjp_shared_with_gnc"}, nil}},
		{"another project's private image is not found", "gnc", "/image/v2/images/" + img("zjpt00000001-backup"), nil,
			result{404, ct, nil, nil}},
		{"an admin's default listing leaves out others' community images", "admin", "/image/v2/images?name=" + testserver.PlantedImage, nil,
			result{200, ct, nil, []string{"first /v2/images?name=" + testserver.PlantedImage}}},
		{"an empty property filter matches nothing", "gnc", "/image/v2/images?domain_id=", nil,
			result{200, ct, nil, []string{"first /v2/images?domain_id="}}},
		{"a property filter has no in: form", "gnc", "/image/v2/images?domain_id=in:" + w.Domain("gnc").ID, nil,
			result{200, ct, nil, []string{"first /v2/images?domain_id=in%3A" + w.Domain("gnc").ID}}},
		{"name has an in: form", "gnc", "/image/v2/images?name=in:gnc_centos,debian-12", nil,
			result{200, ct, []string{"debian-12", "gnc_centos"}, []string{"first /v2/images?name=in%3Agnc_centos%2Cdebian-12"}}},
		{"links keep the parameters' order, the marker last", "gnc", "/image/v2/images?visibility=public&limit=2&sort=name:asc", nil,
			result{200, ct, []string{"centos-stream-9", "debian-12"}, []string{"first /v2/images?visibility=public&limit=2&sort=name%3Aasc",
				"next /v2/images?visibility=public&limit=2&sort=name%3Aasc&marker=" + img("debian-12")}}},
		{"a marker is placed by its sort values", "gnc", "/image/v2/images?visibility=public&sort=name:asc&limit=3&marker=" + img("gnct00000001-backup"), nil,
			result{200, ct, []string{"ubuntu-24.04", "zjp_centos", "zjp_ubuntu"}, []string{"first /v2/images?visibility=public&sort=name%3Aasc&limit=3",
				"next /v2/images?visibility=public&sort=name%3Aasc&limit=3&marker=" + img("zjp_ubuntu")}}},
		{"an unknown marker is a Glance error", "gnc", "/image/v2/images?marker=nope", nil, result{400, ct, nil, nil}},
		{"a member lists the private flavors it has access to", "gnc", "/compute/v2.1/flavors?minRam=16384", nil,
			result{200, ct, []string{"gnc_g-dedicated"}, nil}},
		{"and not the others'", "zjp", "/compute/v2.1/flavors?minRam=16384", nil, result{200, ct, nil, nil}},
		{"is_public=false from a member changes nothing", "gnc", "/compute/v2.1/flavors?is_public=false&minRam=16384", nil,
			result{200, ct, []string{"gnc_g-dedicated"}, nil}},
		{"a private flavor is found by id with access", "gnc", "/compute/v2.1/flavors/22222222-0000-0000-0000-000000000001", nil,
			result{200, ct, []string{"gnc_g-dedicated"}, nil}},
		{"and is a Nova 404 without", "zjp", "/compute/v2.1/flavors/22222222-0000-0000-0000-000000000001", nil,
			result{404, "application/json; charset=UTF-8", nil, nil}},
		{"Nova's next link sorts the parameters", "gnc", "/compute/v2.1/flavors?minRam=4096&limit=2", nil,
			result{200, ct, firstTwo, []string{"next /compute/v2.1/flavors?limit=2&minRam=4096&marker=" + big[1].ID}}},
		{"a member lists the private volume types it has access to", "gnc", "/volume/v3/{project}/types", nil,
			result{200, ct, []string{"__DEFAULT__", "gnc_hdd", "gnc_nvme", "gnc_ssd", "zjp_hdd", "zjp_ssd", "zsg_hdd", "zsg_ssd"}, nil}},
		{"an admin lists the public ones by default", "admin", "/volume/v3/{project}/types?limit=100", nil,
			result{200, ct, []string{"__DEFAULT__", "gnc_hdd", "gnc_ssd", "zjp_hdd", "zjp_ssd", "zsg_hdd", "zsg_ssd"}, nil}},
		{"a private volume type is not found without access", "zjp", "/volume/v3/{project}/types/33333333-0000-0000-0000-000000000001", nil,
			result{404, ct, nil, nil}},
		{"default names Cinder's default type", "zjp", "/volume/v3/{project}/types/default", nil, result{200, ct, []string{"__DEFAULT__"}, nil}},
		{"Cinder starts over at an unknown marker, newest first", "gnc", "/volume/v3/{project}/types?marker=nope&limit=2", nil,
			result{200, ct, []string{"gnc_nvme", "zsg_hdd"}, []string{"next /volume/v3/" + projects["gnc"] + "/types?limit=2&marker=" + w.VolumeTypes[len(w.VolumeTypes)-2].ID}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := get(t, tt.viewer, tt.path, tt.header)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET %s as %s (-want +got):\n%s", tt.path, tt.viewer, diff)
			}
		})
	}

	t.Run("Nova's fields follow the microversion", func(t *testing.T) {
		t.Parallel()
		keys := func(mv string) []string {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/compute/v2.1/flavors/"+w.Flavor("m1.small").ID, nil)
			req.Header.Set("X-Auth-Token", viewers["gnc"])
			if mv != "" {
				req.Header.Set("OpenStack-API-Version", "compute "+mv)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Flavor map[string]any }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range []string{"description", "extra_specs"} {
				if _, ok := body.Flavor[k]; ok {
					out = append(out, k)
				}
			}
			return out
		}
		for mv, want := range map[string][]string{"": nil, "2.55": {"description"}, "2.61": {"description", "extra_specs"}} {
			if diff := cmp.Diff(want, keys(mv)); diff != "" {
				t.Errorf("microversion %q: optional keys (-want +got):\n%s", mv, diff)
			}
		}
	})
}
