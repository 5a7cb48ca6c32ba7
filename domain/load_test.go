package domain

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/geostack/geostack/internal/configerr"
	"github.com/google/go-cmp/cmp"
)

func TestLoadFile(t *testing.T) {
	t.Parallel()
	r, err := LoadFile("testdata/domains.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range r.Domains() {
		names = append(names, d.Name+"/"+d.Prefix+d.Separator)
	}
	if diff := cmp.Diff([]string{"gnc/gnc_", "zjp/zjp_", "zsg/zsg_"}, names); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}
	zsg, _ := r.ByID("b40f6a2e9c1d4e7f8b2a3c5d6e7f8091")
	want := Endpoints{UserAuthURL: "https://identity.sin1.zcom-sg.example.net/v3", AdminAuthURL: "https://identity-admin.sin1.zcom-sg.example.net/v3"}
	if got, ok := zsg.AuthURLs("SG"); !ok || !cmp.Equal(got, want) {
		t.Errorf("zsg AuthURLs(SG) = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := zsg.AuthURLs("US"); ok {
		t.Error("zsg has endpoints in US; want none")
	}
}

// TestLoadConfigurationFile: the configuration file of the clients, with
// keys Load skips around the domains, gives the registry of its domains,
// and errors in the domains keep their place in that file.
func TestLoadConfigurationFile(t *testing.T) {
	t.Parallel()
	r, err := LoadFile("../examples/geostack.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range r.Domains() {
		names = append(names, d.Name+"/"+d.Prefix+d.Separator)
	}
	if diff := cmp.Diff([]string{"gnc/gnc_", "zjp/zjp_"}, names); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}
	gnc, _ := r.ByName("gnc")
	want := Endpoints{UserAuthURL: "https://identity.sg.gnc.example.net/v3", AdminAuthURL: "https://identity-admin.sg.gnc.example.net/v3"}
	if got, ok := gnc.AuthURLs("SG"); !ok || !cmp.Equal(got, want) {
		t.Errorf("gnc AuthURLs(SG) = %+v, %v; want %+v", got, ok, want)
	}

	doc := `{
  "home": "SG",
  "primary": "JP",
  "locations": [{"name": "JP", "auth_urls": ["https://identity.jp.example.net/v3"], "regions": ["TYO1"]}],
  "domain": "gnc",
  "interfaces": {"compute": ["internal", "public"]},
  "default_interfaces": ["public"],
  "token_per_location": false,
  "failure_threshold": 3,
  "cool_down": "30s",
  "attempt_timeout": "5s",
  "domains": [
    {"name": "gnc", "id": "1", "prefix": "gnc"},
    {"name": "gncx", "id": "2", "prefix": "gncx"}
  ]
}`
	_, err = Load(strings.NewReader(doc))
	ce := problemOf(t, err)
	if ce.Key != "domains[1].prefix" || ce.Line != 14 || ce.Column != 5 {
		t.Errorf("error %q at %d:%d key %q; want 14:5 key domains[1].prefix", ce.Error(), ce.Line, ce.Column, ce.Key)
	}
}

func TestLoadFileMissing(t *testing.T) {
	t.Parallel()
	_, err := LoadFile("testdata/nope.json")
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, configerr.ErrInvalid) || !strings.Contains(err.Error(), "testdata/nope.json") {
		t.Errorf("err = %v; want a ConfigError naming the file and wrapping fs.ErrNotExist", err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		doc       string
		key       string
		line, col int
		reason    string // substring of the message
	}{
		{"not an object", `[]`, "", 1, 1, "want an object"},
		{"empty", ``, "", 1, 1, "unexpected end"},
		{"missing domains", `{}`, "domains", 1, 1, "missing key"},
		{"unknown top key", "{\n  \"domian\": []\n}", "domian", 2, 3, "unknown key"},
		{"typo of a configuration file key", "{\"domains\": [],\n \"prmary\": \"JP\"}", "prmary", 2, 2, `unknown key; the keys are "domains" and those of a geostack configuration file`},
		{"configuration file key in another case", `{"domains": [], "Home": "SG"}`, "Home", 1, 17, "unknown key"},
		{"duplicate configuration file key", "{\"home\": \"SG\",\n \"home\": \"JP\", \"domains\": []}", "home", 2, 2, "duplicate key"},
		{"malformed configuration file value", "{\"home\": ,\n \"domains\": []}", "home", 1, 0, "malformed JSON"},
		{"truncated configuration file value", `{"locations": [{"name": "JP"`, "locations", 1, 0, "unexpected end"},
		{"configuration file without domains", `{"home": "SG", "primary": "JP"}`, "domains", 1, 1, "missing key"},
		{"duplicate top key", `{"domains": [], "domains": []}`, "domains", 1, 17, "duplicate key"},
		{"domains not a list", `{"domains": {}}`, "domains", 1, 13, "want a list"},
		{"unknown field", "{\"domains\": [\n  {\"name\": \"a\", \"id\": \"1\", \"prefx\": \"a\"}\n]}", "domains[0]", 2, 3, `unknown field "prefx"`},
		{"wrong type", "{\"domains\": [\n {\"name\": \"a\",\n  \"id\": 7}]}", "domains[0].id", 3, 0, "want string, have number"},
		{"wrong endpoint type", `{"domains": [{"name": "a", "id": "1", "prefix": "a", "endpoints": {"JP": {"user_auth_url": true}}}]}`,
			"domains[0].endpoints.user_auth_url", 1, 96, "want string, have bool"},
		{"syntax", "{\"domains\": [\n  {\"name\": \"a\",, }]}", "domains[0]", 2, 0, "malformed JSON"},
		{"truncated", `{"domains": [{"name": "a"`, "domains[0]", 1, 0, "unexpected end"},
		{"trailing", `{"domains": []} {}`, "", 1, 17, "data after the document"},
		{"invalid domain", "{\"domains\": [\n  {\"name\": \"a\", \"id\": \"1\", \"prefix\": \"gnc\"},\n  {\"name\": \"b\", \"id\": \"2\", \"prefix\": \"gncx\"}\n]}",
			"domains[1].prefix", 3, 3, `prefix "gnc" of domain "a" is a prefix of "gncx" of domain "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Load(strings.NewReader(tt.doc))
			if r != nil {
				t.Fatalf("Load() = %v, %v; want no registry", r, err)
			}
			ce := problemOf(t, err)
			msg := ce.Error()
			if ce.Key != tt.key || ce.Line != tt.line || (tt.col != 0 && ce.Column != tt.col) ||
				!strings.Contains(msg, tt.reason) {
				t.Errorf("error %q at %d:%d key %q; want %d:%d key %q containing %q", msg, ce.Line, ce.Column, ce.Key, tt.line, tt.col, tt.key, tt.reason)
			}
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	t.Parallel()
	doc := `{"domains": []}` + strings.Repeat(" ", maxFileSize)
	if _, err := Load(strings.NewReader(doc)); !errors.Is(err, configerr.ErrInvalid) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v; want a too-large error", err)
	}
}
