package domain

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	gncID = "id-gnc"
	zjpID = "id-zjp"
	zsgID = "id-zsg"
)

func testDomains() []Domain {
	return []Domain{
		{Name: "gnc", ID: gncID, Prefix: "gnc", Endpoints: map[string]Endpoints{
			"JP": {UserAuthURL: "https://id.jp.example/v3", AdminAuthURL: "https://admin.jp.example/v3"},
			"SG": {UserAuthURL: "https://id.sg.example/v3"},
		}},
		{Name: "zjp", ID: zjpID, Prefix: "zjp", Separator: "_"},
		{Name: "zsg", ID: zsgID, Prefix: "zsg"},
	}
}

func testRegistry(t testing.TB) *Registry {
	t.Helper()
	r, err := New(testDomains()...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	ok := func(name, id, prefix string) Domain { return Domain{Name: name, ID: id, Prefix: prefix} }
	withURL := func(user, admin string) Domain {
		d := ok("gnc", "1", "gnc")
		d.Endpoints = map[string]Endpoints{"JP": {UserAuthURL: user, AdminAuthURL: admin}}
		return d
	}
	tests := []struct {
		name     string
		domains  []Domain
		key      string
		domainsW []string
		reason   string // substring
	}{
		{"empty name", []Domain{ok("", "1", "a")}, "domains[0].name", nil, "empty name"},
		{"empty id", []Domain{ok("a", "", "a")}, "domains[0].id", []string{"a"}, "empty id"},
		{"default id", []Domain{ok("a", "default", "a")}, "domains[0].id", []string{"a"}, "Default domain"},
		{"empty prefix", []Domain{ok("a", "1", "")}, "domains[0].prefix", []string{"a"}, "empty prefix"},
		{"space in prefix", []Domain{ok("a", "1", "g c")}, "domains[0].prefix", []string{"a"}, "space"},
		{"bad utf8 prefix", []Domain{ok("a", "1", "g\xff")}, "domains[0].prefix", []string{"a"}, "UTF-8"},
		{"space separator", []Domain{{Name: "a", ID: "1", Prefix: "a", Separator: " "}}, "domains[0].separator", []string{"a"}, "space"},
		{"duplicate name", []Domain{ok("a", "1", "a"), ok("b", "2", "b"), ok("a", "3", "c")}, "domains[2].name", []string{"a", "a"}, `same name "a"`},
		{"duplicate id", []Domain{ok("a", "1", "a"), ok("b", "1", "b")}, "domains[1].id", []string{"a", "b"}, `same id "1"`},
		{"duplicate prefix", []Domain{ok("a", "1", "gnc"), ok("b", "2", "gnc")}, "domains[1].prefix", []string{"a", "b"}, `same prefix "gnc"`},
		{"prefix of another", []Domain{ok("long", "1", "gncx"), ok("x", "3", "zzz"), ok("short", "2", "gnc")}, "domains[2].prefix",
			[]string{"long", "short"}, `prefix "gnc" of domain "short" is a prefix of "gncx" of domain "long"`},
		{"prefix with separator of another", []Domain{ok("a", "1", "gnc"), ok("b", "2", "gnc_x")}, "domains[1].prefix", []string{"a", "b"}, "is a prefix of"},
		{"missing user url", []Domain{withURL("", "https://a.example/v3")}, "domains[0].endpoints.JP.user_auth_url", []string{"gnc"}, "missing user_auth_url"},
		{"relative url", []Domain{withURL("/v3", "")}, "domains[0].endpoints.JP.user_auth_url", []string{"gnc"}, "absolute"},
		{"ftp url", []Domain{withURL("ftp://a.example/v3", "")}, "domains[0].endpoints.JP.user_auth_url", []string{"gnc"}, "not http or https"},
		{"no host", []Domain{withURL("https:///v3", "")}, "domains[0].endpoints.JP.user_auth_url", []string{"gnc"}, "no host"},
		{"bad admin url", []Domain{withURL("https://a.example/v3", "https://a.example/v3?x=1")}, "domains[0].endpoints.JP.admin_auth_url", []string{"gnc"}, "query"},
		{"empty location", []Domain{{Name: "a", ID: "1", Prefix: "a", Endpoints: map[string]Endpoints{"": {UserAuthURL: "https://a.example"}}}},
			"domains[0].endpoints", []string{"a"}, "location name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := New(tt.domains...)
			if r != nil {
				t.Fatalf("New() = %v, %v; want no registry", r, err)
			}
			ce := problemOf(t, err)
			if ce.Key != tt.key || !strings.Contains(ce.Error(), tt.reason) {
				t.Errorf("error = %q (key %q); want key %q and %q", ce.Error(), ce.Key, tt.key, tt.reason)
			}
			for _, d := range tt.domainsW {
				if !strings.Contains(ce.Reason, strconv.Quote(d)) && !strings.Contains(ce.Reason, " "+d+" ") {
					t.Errorf("reason %q does not name domain %q", ce.Reason, d)
				}
			}
		})
	}
}

func TestNewNeverEchoesCredentials(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://admin:hunter2@id.example/v3",
		"admin:hunter2@id.example:5000/v3", // no scheme: parses with no user
		"https://hunter2@id.example/v3",    // a token as the user name
	} {
		_, err := New(Domain{Name: "a", ID: "1", Prefix: "a", Endpoints: map[string]Endpoints{
			"JP": {UserAuthURL: u}}})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("err = %v; want an error without the secret", err)
		}
		doc := `{"domains": [{"name": "a", "id": "1", "prefix": "a", "endpoints": {"JP": {"user_auth_url": "` + u + `"}}}]}`
		if _, err := Load(strings.NewReader(doc)); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Load err = %v; want an error without the secret", err)
		}
	}
}

func TestNewCopies(t *testing.T) {
	t.Parallel()
	ds := testDomains()
	r, err := New(ds...)
	if err != nil {
		t.Fatal(err)
	}
	ds[0].Prefix = "changed"
	ds[0].Endpoints["JP"] = Endpoints{UserAuthURL: "https://evil.example"}
	got, _ := r.ByName("gnc")
	if got.Prefix != "gnc" || got.Endpoints["JP"].UserAuthURL != "https://id.jp.example/v3" {
		t.Errorf("registry changed with its input: %+v", got)
	}
	if got.Separator != "_" {
		t.Errorf("Separator = %q; want the default %q", got.Separator, "_")
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	r := testRegistry(t)
	tests := []struct {
		name   string
		lookup func(string) (Domain, bool)
		key    string
		want   string // domain name, "" for none
	}{
		{"by name", r.ByName, "zjp", "zjp"},
		{"by name case", r.ByName, "ZJP", ""},
		{"by id", r.ByID, zsgID, "zsg"},
		{"by id unknown", r.ByID, "default", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := tt.lookup(tt.key)
			if ok != (tt.want != "") || d.Name != tt.want {
				t.Errorf("lookup(%q) = %q, %v; want %q", tt.key, d.Name, ok, tt.want)
			}
		})
	}
	if got := len(r.Domains()); got != 3 {
		t.Errorf("Domains() has %d; want 3", got)
	}
}

func TestOwner(t *testing.T) {
	t.Parallel()
	r := testRegistry(t)
	tests := []struct {
		name     string
		want     string // owner, "" for none
		account  bool   // well-formed user/project name of the owner
		resource bool   // well-formed resource name of the owner
		display  string
	}{
		{"gncu72074485", "gnc", true, false, "gncu72074485"},
		{"gnct00000001", "gnc", true, false, "gnct00000001"},
		{"gnc_centos", "gnc", true, true, "centos"},
		{"gnc_日本", "gnc", true, true, "日本"},
		{"gnc_", "gnc", true, false, "gnc_"},
		{"gnc", "gnc", false, false, "gnc"},
		{"gnccentos", "gnc", true, false, "gnccentos"},
		{"gnc‐x", "gnc", true, false, "gnc‐x"},
		{"GNC_centos", "", false, false, "GNC_centos"},
		{"Gnc_centos", "", false, false, "Gnc_centos"},
		{"ｇｎｃ_x", "", false, false, "ｇｎｃ_x"},
		{"zjp_ubuntu", "zjp", true, true, "ubuntu"},
		{"zsgu1", "zsg", true, false, "zsgu1"},
		{"default", "", false, false, "default"},
		{"", "", false, false, ""},
		{"g", "", false, false, "g"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, ok := r.Owner(tt.name)
			if ok != (tt.want != "") || d.Name != tt.want {
				t.Fatalf("Owner(%q) = %q, %v; want %q", tt.name, d.Name, ok, tt.want)
			}
			if !ok {
				for _, d := range r.Domains() {
					if d.OwnsAccount(tt.name) || d.OwnsResource(tt.name) || d.DisplayName(tt.name) != tt.name {
						t.Errorf("%s claims %q, which is in no namespace", d.Name, tt.name)
					}
				}
				return
			}
			if got := d.OwnsAccount(tt.name); got != tt.account {
				t.Errorf("OwnsAccount(%q) = %v; want %v", tt.name, got, tt.account)
			}
			if got := d.OwnsResource(tt.name); got != tt.resource {
				t.Errorf("OwnsResource(%q) = %v; want %v", tt.name, got, tt.resource)
			}
			if got := d.DisplayName(tt.name); got != tt.display {
				t.Errorf("DisplayName(%q) = %q; want %q", tt.name, got, tt.display)
			}
			if tt.resource {
				if got := d.FullName(tt.display); got != tt.name {
					t.Errorf("FullName(%q) = %q; want %q", tt.display, got, tt.name)
				}
			}
		})
	}
}

func TestSeparator(t *testing.T) {
	t.Parallel()
	d := Domain{Name: "oem", ID: "1", Prefix: "oem", Separator: "-"}
	r, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	d, _ = r.ByName("oem")
	got := []any{d.OwnsResource("oem-x"), d.OwnsResource("oem_x"), d.DisplayName("oem-x"), d.FullName("x")}
	if diff := cmp.Diff([]any{true, false, "x", "oem-x"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestLookupsDoNotAllocate is not parallel: AllocsPerRun needs the whole
// process.
func TestLookupsDoNotAllocate(t *testing.T) {
	r := testRegistry(t)
	var sink bool
	allocs := testing.AllocsPerRun(100, func() {
		_, a := r.ByName("gnc")
		_, b := r.ByID(zjpID)
		_, c := r.Owner("zsg_x")
		_, d := r.Owner("gncu72074485")
		_, e := r.Owner("GNC_x")
		sink = a && b && c && d && !e
	})
	if allocs != 0 || !sink {
		t.Errorf("lookups: %v allocs per run (ok=%v); want 0", allocs, sink)
	}
}
