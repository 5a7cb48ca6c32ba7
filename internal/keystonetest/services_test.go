package keystonetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readServicesTestdata(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "services.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseServices(t *testing.T) {
	t.Parallel()
	s, err := ParseServices(readServicesTestdata(t))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Instances         []string
		GlanceRegions     []string
		SJC1Glance        ServiceInstance
		CinderAdmin       string
		NoCompute         string
		Placeholders      map[string][]string
		Ubuntu            []string // kind/visibility/owner of each "ubuntu-22.04" in TYO1
		Planted           Image
		GncFlavor         Flavor
		DefaultType       VolumeType
		MissingFlavor     bool
		MissingInstance   bool
		ImagesPerRegion   map[string]int
		Workers           int
		GlanceVersionSeen bool
	}
	got := summary{
		GlanceRegions:   s.Regions("image"),
		CinderAdmin:     s.Endpoint("TYO1", "volumev3", "admin"),
		NoCompute:       s.Endpoint("SJC1", "compute", "public"),
		Placeholders:    s.Placeholders,
		ImagesPerRegion: map[string]int{},
		Workers:         s.Workers,
	}
	for _, in := range s.Instances {
		got.Instances = append(got.Instances, in.Name)
	}
	got.SJC1Glance, _ = s.Instance("glance-SJC1")
	_, ok := s.Instance("glance-OSA1")
	got.MissingInstance = !ok
	for _, im := range s.ImagesNamed("TYO1", "ubuntu-22.04") {
		got.Ubuntu = append(got.Ubuntu, im.Kind+"/"+im.Visibility+"/"+im.OwnerName)
	}
	if p := s.ImagesNamed("SJC1", "gnc_centos_planted"); len(p) == 1 {
		got.Planted = p[0]
	}
	got.GncFlavor, _ = s.Flavor("gnc_g1.large")
	_, ok = s.Flavor("m1.huge")
	got.MissingFlavor = !ok
	got.DefaultType, _ = s.VolumeType("__DEFAULT__")
	for r, ims := range s.Images {
		got.ImagesPerRegion[r] = len(ims)
	}
	got.GlanceVersionSeen = strings.HasPrefix(s.Versions["glance"], "25.")

	const (
		gncDomain  = "00000000000000000000000000000006"
		gncProject = "00000000000000000000000000000004"
		zjpProject = "00000000000000000000000000000009"
	)
	want := summary{
		Instances:     []string{"glance-TYO1", "glance-SJC1", "cinder-TYO1", "nova-TYO1"},
		GlanceRegions: []string{"TYO1", "SJC1"},
		SJC1Glance: ServiceInstance{
			Name: "glance-SJC1", Service: "glance", ServiceType: "image",
			Region: "SJC1", Location: "US", AuthURL: "http://127.0.0.1:5002/v3",
			Port: 9293,
			Endpoints: map[string]string{
				"public":   "http://127.0.0.1:9293/SJC1/public/image",
				"internal": "http://127.0.0.1:9293/SJC1/internal/image",
				"admin":    "http://127.0.0.1:9293/SJC1/admin/image",
			},
			VersionURL: "http://127.0.0.1:9293/SJC1/public/image/",
			PID:        203, WorkerPIDs: []int{204},
			Config: "/tmp/state/services/glance-SJC1/glance-api.conf",
			Log:    "/tmp/state/services/log/glance-SJC1.log",
		},
		CinderAdmin: "http://127.0.0.1:8776/TYO1/admin/volume/v3/$(project_id)s",
		Placeholders: map[string][]string{
			"OSA1": {"compute", "image", "network", "volumev3"},
			"SIN1": {"compute", "image", "network", "volumev3"},
			"SJC1": {"compute", "network", "volumev3"},
			"TYO1": {"network"},
		},
		Ubuntu: []string{"default-public/public/admin", "member-community-forged/community/zjpt00000001"},
		Planted: Image{
			ID: got.Planted.ID, Name: "gnc_centos_planted", Kind: "member-community-forged",
			Visibility: "community", Owner: zjpProject, OwnerName: "zjpt00000001", CreatedBy: "zjpu00000001",
			Status: "active", Size: 4096, Checksum: strings.Repeat("0", 32),
			OSHashAlgo: "sha512", OSHashValue: strings.Repeat("0", 128),
			Properties: map[string]string{"domain_id": gncDomain},
			Members:    []ImageMember{},
		},
		GncFlavor: Flavor{
			ID: got.GncFlavor.ID, Name: "gnc_g1.large", Kind: "private-domain",
			Access: []string{gncProject}, RAM: 8192, VCPUs: 4, Disk: 100,
		},
		DefaultType:       VolumeType{ID: got.DefaultType.ID, Name: "__DEFAULT__", Kind: "builtin", IsPublic: true, Access: []string{}},
		MissingFlavor:     true,
		MissingInstance:   true,
		ImagesPerRegion:   map[string]int{"TYO1": 9, "SJC1": 9},
		Workers:           1,
		GlanceVersionSeen: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseServices(testdata) (-want +got):\n%s", diff)
	}
	if s.Endpoint("TYO1", "compute", "internal") != "http://127.0.0.1:8774/TYO1/internal/compute/v2.1" {
		t.Errorf("Endpoint(TYO1, compute, internal) = %q", s.Endpoint("TYO1", "compute", "internal"))
	}
	var shared Image
	for _, im := range s.Images["TYO1"] {
		if im.Kind == "member-shared-accepted" {
			shared = im
		}
	}
	wantMembers := []ImageMember{{ProjectID: zjpProject, ProjectName: "zjpt00000001", Status: "accepted"}}
	if diff := cmp.Diff(wantMembers, shared.Members); diff != "" {
		t.Errorf("members of the accepted shared image (-want +got):\n%s", diff)
	}
}

func TestParseServicesErrors(t *testing.T) {
	t.Parallel()
	valid := string(readServicesTestdata(t))
	tests := []struct {
		name, json, wantErr string
	}{
		{"not JSON", `{"schema": one}`, "keystonetest: services description is not JSON (offset"},
		{"truncated", `{"schema": 1`, "keystonetest: services description is truncated"},
		{"empty", ``, "keystonetest: services description cannot be decoded"},
		{"wrong type", `{"schema": "one"}`, `keystonetest: services description field "schema": want int, got JSON string`},
		{"unknown field", `{"schema": 1, "colour": "blue"}`, `keystonetest: services description has unknown field "colour"`},
		{"old schema", strings.Replace(valid, `"schema": 1`, `"schema": 0`, 1), "keystonetest: services description schema 0, want 1"},
		{"no Keystone", strings.Replace(valid, `"keystone_admin_id": "00000000000000000000000000000001"`, `"keystone_admin_id": ""`, 1), "keystonetest: services description does not name its Keystone"},
		{"no instances", `{"schema": 1, "keystone_admin_id": "x", "instances": []}`, "keystonetest: services description has no instances"},
		{"incomplete instance", strings.Replace(valid, `"pid": 201`, `"pid": 0`, 1), `keystonetest: services description has an incomplete instance "glance-TYO1"`},
		{"endpoint mismatch", strings.Replace(valid, `"admin": "http://127.0.0.1:8774/TYO1/admin/compute/v2.1"`, `"admin": "http://127.0.0.1:9/TYO1/admin/compute/v2.1"`, 1), "keystonetest: instance nova-TYO1's admin endpoint differs from endpoints[TYO1][compute]"},
		{"no images", strings.Replace(valid, `"SJC1": [`+"\n      {", `"OSA1": [`+"\n      {", 1), "keystonetest: services description has no images for glance-SJC1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseServices([]byte(tt.json))
			if err == nil {
				t.Fatal("ParseServices succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("ParseServices error = %q, want prefix %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadServicesFile(t *testing.T) {
	t.Parallel()
	if _, err := ReadServicesFile(""); err != ErrServicesNotConfigured {
		t.Errorf("ReadServicesFile(\"\") = %v, want ErrServicesNotConfigured", err)
	}
	_, err := ReadServicesFile(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.HasPrefix(err.Error(), "keystonetest: read services description") {
		t.Errorf("ReadServicesFile(missing) = %v, want a read error", err)
	}
}

func TestServicesSkipRule(t *testing.T) {
	t.Parallel()
	testdata, err := filepath.Abs(filepath.Join("testdata", "services.json"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := Parse(readTestdata(t))
	if err != nil {
		t.Fatal(err)
	}
	other := *env
	other.Admin.ID = "ffffffffffffffffffffffffffffffff"
	tests := []struct {
		name        string
		env         *Env
		vars        map[string]string
		want        string
		wantMessage string
	}{
		{"developer without services", env, nil, "skip", "GEOSTACK_SERVICES is not set"},
		{"CI", env, map[string]string{"CI": "true"}, "fatal", "integration environment required in CI: GEOSTACK_SERVICES"},
		{"required", env, map[string]string{EnvRequire: "1"}, "fatal", "integration environment required in CI"},
		{"configured", env, map[string]string{EnvServices: testdata, EnvRequire: "1"}, "ok", ""},
		{"unreadable, even outside CI", env, map[string]string{EnvServices: testdata + ".missing"}, "fatal", "read services description"},
		{"another Keystone", &other, map[string]string{EnvServices: testdata}, "fatal", "belongs to another Keystone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r recorder
			r.run(func(tb testing.TB) { tt.env.services(tb, func(k string) string { return tt.vars[k] }) })
			if r.outcome != tt.want {
				t.Errorf("outcome %q (%s), want %q", r.outcome, r.msg, tt.want)
			}
			if !strings.Contains(r.msg, tt.wantMessage) {
				t.Errorf("message %q does not contain %q", r.msg, tt.wantMessage)
			}
		})
	}
}

// TestServicesLive checks the live services description, when there is one,
// against this package and the live Keystone description.
func TestServicesLive(t *testing.T) {
	t.Parallel()
	if os.Getenv(EnvServices) == "" && !Required() {
		t.Skip("GEOSTACK_SERVICES is not set")
	}
	env := Load(t)
	s := env.Services(t)
	if diff := cmp.Diff([]string{"TYO1", "SJC1"}, s.Regions("image")); diff != "" {
		t.Errorf("Glance regions (-want +got):\n%s", diff)
	}
	for _, in := range s.Instances {
		loc := ""
		for l, regions := range env.Regions {
			for _, r := range regions {
				if r == in.Region {
					loc = l
				}
			}
		}
		if in.Location != loc || in.AuthURL != env.AuthURL(loc) {
			t.Errorf("instance %s: location %s, auth URL %s; want %s, %s", in.Name, in.Location, in.AuthURL, loc, env.AuthURL(loc))
		}
	}
}
