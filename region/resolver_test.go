package region

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/internal/configerr"
)

// problem is one config problem as a test compares it.
type problem struct{ Key, Reason string }

// configProblems checks that New's error is one *configerr.Error matching
// configerr.ErrInvalid and returns its problems.
func configProblems(t *testing.T, err error) []problem {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, configerr.ErrInvalid) {
		t.Errorf("error %v does not match configerr.ErrInvalid", err)
	}
	var ce *configerr.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v is not a *configerr.Error", err, err)
	}
	var out []problem
	for _, p := range ce.Problems {
		out = append(out, problem{p.Key, p.Reason})
	}
	return out
}

func TestNewReportsEveryConfigProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
		want []problem
	}{
		{name: "valid", edit: func(*Config) {}},
		{
			name: "nothing",
			edit: func(c *Config) { *c = Config{} },
			want: []problem{{"locations", "no location configured"}, {"primary", "no primary location"}},
		},
		{
			name: "primary unknown",
			edit: func(c *Config) { c.Primary = "EU" },
			want: []problem{{"primary", `primary "EU" is not a configured location`}},
		},
		{
			name: "names",
			edit: func(c *Config) {
				c.Locations[1].Name = ""
				c.Locations[2].Name = "JP"
			},
			want: []problem{
				{"locations[1].name", "empty location name"},
				{"locations[2].name", `duplicate location name "JP" (also locations[0])`},
			},
		},
		{
			name: "auth_urls",
			edit: func(c *Config) {
				c.Locations[0].AuthURLs = []string{"keystone.jp:5000", "ftp://jp.example/v3", "https://", "https://admin:pw@jp.example/v3", "https://jp1.example.test/identity/"}
				c.Locations[1].AuthURLs = nil
				c.Locations[2].AuthURLs = []string{"http://sg.example/v3?x=1", "::", "", "jp.example/v3"}
			},
			want: []problem{
				{"locations[0].auth_urls[0]", `auth_url has the scheme "keystone.jp", not http or https`},
				{"locations[0].auth_urls[1]", `auth_url has the scheme "ftp", not http or https`},
				{"locations[0].auth_urls[2]", "auth_url has no host"},
				{"locations[0].auth_urls[3]", "auth_url must not hold user information"},
				{"locations[1].auth_urls", "location has no auth_url"},
				{"locations[2].auth_urls[0]", "auth_url must not hold a query or a fragment"},
				{"locations[2].auth_urls[1]", "auth_url does not parse as a URL"},
				{"locations[2].auth_urls[2]", "auth_url is empty"},
				{"locations[2].auth_urls[3]", "auth_url is not an absolute http or https URL"},
			},
		},
		{
			name: "duplicate auth_url across locations, spelled differently",
			edit: func(c *Config) { c.Locations[2].AuthURLs = []string{"HTTPS://JP2.example.test/identity/"} },
			want: []problem{{"locations[2].auth_urls[0]", `duplicate auth_url "HTTPS://JP2.example.test/identity/" (also locations[0].auth_urls[1])`}},
		},
		{
			name: "regions",
			edit: func(c *Config) {
				c.Locations[0].Regions = []string{"TYO1", "TYO1", ""}
				c.Locations[2].Regions = []string{"SIN1", "SJC1", "US"}
			},
			want: []problem{
				{"locations[0].regions[1]", `region "TYO1" listed twice in location JP`},
				{"locations[0].regions[2]", `empty region name or leading/trailing space: ""`},
				{"locations[2].regions[1]", `region "SJC1" is in two locations: US and SG`},
				{"locations[2].regions[2]", `region "US" has the name of another location (locations[1])`},
			},
		},
		{
			name: "negative tunables",
			edit: func(c *Config) {
				c.FailureThreshold, c.CoolDown, c.AttemptTimeout = -1, -1, -1
			},
			want: []problem{
				{"failure_threshold", "-1 is negative"},
				{"cool_down", "-1ns is negative"},
				{"attempt_timeout", "-1ns is negative"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			tt.edit(&cfg)
			r, err := New(cfg)
			if diff := cmp.Diff(tt.want, configProblems(t, err)); diff != "" {
				t.Errorf("New errors (-want +got):\n%s", diff)
			}
			if (err == nil) != (r != nil) {
				t.Errorf("New returned resolver %v with error %v", r, err)
			}
		})
	}
}

func TestConfigErrorRedactsPassword(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, url string }{
		{"user and password", "https://admin:" + secret + "@jp.example/v3"},
		{"no scheme: parses with no user", "admin:" + secret + "@jp.example:5000/v3"},
		{"a token as the user name", "https://" + secret + "@jp.example/v3"},
		{"scheme-relative", "//admin:" + secret + "@jp.example/v3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Locations[0].AuthURLs = []string{tt.url}
			_, err := New(cfg)
			want := []problem{{"locations[0].auth_urls[0]", "auth_url must not hold user information"}}
			if diff := cmp.Diff(want, configProblems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				if got := fmt.Sprintf(verb, err); strings.Contains(got, secret) {
					t.Errorf("New error with %s shows the secret: %s", verb, got)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.FailureThreshold, cfg.CoolDown, cfg.AttemptTimeout = 0, 0, 0
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{r.attemptTimeout, r.byName["JP"].circuits[0].threshold, r.byName["JP"].circuits[0].coolDown}
	want := []any{defaultAttemptTimeout, defaultFailureThreshold, defaultCoolDown}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLocationOf(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, nil)
	known := []string{"OSA1", "SIN1", "SJC1", "TYO1"}
	tests := []struct {
		region, want string
		unknown      bool
	}{
		{region: "TYO1", want: "JP"},
		{region: "OSA1", want: "JP"},
		{region: "SJC1", want: "US"},
		{region: "SIN1", want: "SG"},
		// Only configured regions are known: a location's name is not a
		// region unless it is configured as one.
		{region: "JP", unknown: true},
		{region: "LON1", unknown: true},
		{region: "tyo1", unknown: true},
		{region: "", unknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			t.Parallel()
			got, err := r.LocationOf(tt.region)
			if !tt.unknown {
				if err != nil || got != tt.want {
					t.Errorf("LocationOf(%q) = %q, %v; want %q", tt.region, got, err, tt.want)
				}
				return
			}
			var ue *UnknownRegionError
			if !errors.As(err, &ue) || got != "" {
				t.Fatalf("LocationOf(%q) = %q, %v; want an *UnknownRegionError", tt.region, got, err)
			}
			if diff := cmp.Diff(UnknownRegionError{Region: tt.region, Known: known}, *ue); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		home string
		open []string // circuits forced open first
		want []string
	}{
		{home: "JP", want: []string{jp1, jp2, us1, sg1}},
		{home: "US", want: []string{us1, jp1, jp2, sg1}},
		{home: "SG", want: []string{sg1, jp1, jp2, us1}},
		{home: "SG", open: []string{sg1}, want: []string{jp1, jp2, us1, sg1}},
		{home: "SG", open: []string{sg1, jp1}, want: []string{jp2, us1, sg1, jp1}},
		{home: "JP", open: []string{jp1, jp2, us1, sg1}, want: []string{jp1, jp2, us1, sg1}},
		{home: "EU", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.home+"/"+strings.Join(tt.open, ","), func(t *testing.T) {
			t.Parallel()
			r, clk := newTestResolver(t, func(c *Config) { c.FailureThreshold = 1 })
			for _, c := range r.byName["JP"].plan {
				for _, u := range tt.open {
					if c.authURL == u {
						c.report(fault, false, clk.Now())
					}
				}
			}
			if diff := cmp.Diff(tt.want, r.Order(tt.home)); diff != "" {
				t.Errorf("Order(%q) (-want +got):\n%s", tt.home, diff)
			}
			// After the cool-down, the open ones are eligible for a probe
			// and take their place again.
			clk.Advance(30 * time.Second)
			if tt.want != nil {
				if diff := cmp.Diff(r.Order(tt.home), baseOrder(r, tt.home)); diff != "" {
					t.Errorf("Order(%q) after cool-down (-want +got):\n%s", tt.home, diff)
				}
			}
		})
	}
}

func baseOrder(r *Resolver, home string) []string { return urlsOf(r.byName[home].plan) }

func TestPrimaryAndLocations(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, nil)
	got := []any{r.Primary(), r.Locations()}
	want := []any{"JP", []string{"JP", "US", "SG"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
