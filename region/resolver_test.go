package region

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// configErrors flattens New's joined error into "Field: Reason" lines.
func configErrors(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error %v does not match ErrInvalidConfig", err)
	}
	var out []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("error %T %v is not a *ConfigError", e, e)
		}
		if !strings.HasPrefix(e.Error(), "region: ") {
			t.Errorf("message %q does not start with the package name", e)
		}
		out = append(out, ce.Field+": "+ce.Reason)
	}
	return out
}

func TestNewReportsEveryConfigProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{name: "valid", edit: func(*Config) {}},
		{
			name: "nothing",
			edit: func(c *Config) { *c = Config{} },
			want: []string{"Locations: no location configured", "Primary: no primary location"},
		},
		{
			name: "primary unknown",
			edit: func(c *Config) { c.Primary = "EU" },
			want: []string{"Primary: primary is not a configured location"},
		},
		{
			name: "names",
			edit: func(c *Config) {
				c.Locations[1].Name = ""
				c.Locations[2].Name = "JP"
			},
			want: []string{
				"Locations[1].Name: empty location name",
				"Locations[2].Name: duplicate location name (also Locations[0])",
			},
		},
		{
			name: "auth_urls",
			edit: func(c *Config) {
				c.Locations[0].AuthURLs = []string{"keystone.jp:5000", "ftp://jp.example/v3", "https://", "https://admin:pw@jp.example/v3", "https://jp1.example.test/identity/"}
				c.Locations[1].AuthURLs = nil
				c.Locations[2].AuthURLs = []string{"http://sg.example/v3?x=1", "::"}
			},
			want: []string{
				`Locations[0].AuthURLs[0]: auth URL: scheme "keystone.jp" is not http or https`,
				`Locations[0].AuthURLs[1]: auth URL: scheme "ftp" is not http or https`,
				"Locations[0].AuthURLs[2]: auth URL: has no host",
				"Locations[0].AuthURLs[3]: auth URL: must not hold user information",
				"Locations[1].AuthURLs: location has no auth_url",
				"Locations[2].AuthURLs[0]: auth URL: must not hold a query or a fragment",
				"Locations[2].AuthURLs[1]: auth URL: does not parse",
			},
		},
		{
			name: "duplicate auth_url across locations, spelled differently",
			edit: func(c *Config) { c.Locations[2].AuthURLs = []string{"HTTPS://JP2.example.test/identity/"} },
			want: []string{"Locations[2].AuthURLs[0]: duplicate auth_url (also Locations[0].AuthURLs[1])"},
		},
		{
			name: "regions",
			edit: func(c *Config) {
				c.Locations[0].Regions = []string{"TYO1", "TYO1", ""}
				c.Locations[2].Regions = []string{"SIN1", "SJC1", "US"}
			},
			want: []string{
				"Locations[0].Regions[1]: region listed twice in location JP",
				"Locations[0].Regions[2]: empty region name or leading/trailing space",
				"Locations[2].Regions[1]: region is in two locations: US and SG",
				"Locations[2].Regions[2]: region has the name of another location (Locations[1])",
			},
		},
		{
			name: "negative tunables",
			edit: func(c *Config) {
				c.FailureThreshold, c.CoolDown, c.AttemptTimeout = -1, -1, -1
			},
			want: []string{"FailureThreshold: negative", "CoolDown: negative", "AttemptTimeout: negative"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			tt.edit(&cfg)
			r, err := New(cfg)
			if diff := cmp.Diff(tt.want, configErrors(t, err)); diff != "" {
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
	for _, u := range []string{
		"https://admin:" + secret + "@jp.example/v3",
		"admin:" + secret + "@jp.example:5000/v3", // no scheme: parses with no user
		"https://" + secret + "@jp.example/v3",    // a token as the user name
		"//admin:" + secret + "@jp.example/v3",
	} {
		cfg := testConfig()
		cfg.Locations[0].AuthURLs = []string{u}
		_, err := New(cfg)
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
			t.Errorf("New error %q: want an error without the secret", err)
		}
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
	want := []any{DefaultAttemptTimeout, DefaultFailureThreshold, DefaultCoolDown}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLocationOf(t *testing.T) {
	t.Parallel()
	r, _ := newTestResolver(t, nil)
	if err := r.Learn([]RegionInfo{{ID: "JP"}, {ID: "KIX2", ParentID: "OSA1"}, {ID: "SG"}, {ID: "SIN2", ParentID: "SG"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		region, want string
		err          error
	}{
		{region: "TYO1", want: "JP"},
		{region: "SIN1", want: "SG"},
		{region: "SIN2", want: "SG"}, // learned: parent is the location
		{region: "KIX2", want: "JP"}, // learned: parent is a configured region
		{region: "JP", want: "JP"},   // the location's own Keystone region
		{region: "LON1", err: ErrUnknownRegion},
		{region: "", err: ErrUnknownRegion},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			t.Parallel()
			got, err := r.LocationOf(tt.region)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("LocationOf(%q) = %q, %v; want %q, %v", tt.region, got, err, tt.want, tt.err)
			}
		})
	}
	_, err := r.LocationOf("LON1")
	var ue *UnknownRegionError
	if !errors.As(err, &ue) {
		t.Fatalf("error %T, want *UnknownRegionError", err)
	}
	if diff := cmp.Diff([]string{"JP", "KIX2", "OSA1", "SG", "SIN1", "SIN2", "SJC1", "TYO1"}, ue.Known); diff != "" {
		t.Errorf("known regions (-want +got):\n%s", diff)
	}
}

func TestLearn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		regions []RegionInfo
		want    map[string]string
		errs    int
	}{
		{
			name: "tree of the test server",
			regions: []RegionInfo{
				{ID: "JP"}, {ID: "US"}, {ID: "SG"},
				{ID: "TYO1", ParentID: "JP"}, {ID: "OSA1", ParentID: "JP"},
				{ID: "SJC1", ParentID: "US"}, {ID: "SIN1", ParentID: "SG"},
				{ID: "TYO2", ParentID: "JP"},
			},
			want: map[string]string{"JP": "JP", "US": "US", "SG": "SG", "TYO2": "JP"},
		},
		{
			name:    "grandchildren and strangers",
			regions: []RegionInfo{{ID: "AZ-A", ParentID: "TYO3"}, {ID: "TYO3", ParentID: "JP"}, {ID: "RegionOne"}, {ID: "Orphan", ParentID: "Nowhere"}},
			want:    map[string]string{"AZ-A": "JP", "TYO3": "JP"},
		},
		{
			name:    "configured region placed elsewhere by Keystone",
			regions: []RegionInfo{{ID: "SIN1", ParentID: "JP"}, {ID: "NEW1", ParentID: "US"}},
			errs:    1,
		},
		{
			name:    "cycle",
			regions: []RegionInfo{{ID: "A", ParentID: "B"}, {ID: "B", ParentID: "A"}},
			errs:    2,
		},
		{
			name:    "listed twice",
			regions: []RegionInfo{{ID: "X1", ParentID: "JP"}, {ID: "X1", ParentID: "US"}, {ID: ""}},
			errs:    2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newTestResolver(t, nil)
			if err := r.Learn([]RegionInfo{{ID: "BEFORE", ParentID: "US"}}); err != nil {
				t.Fatal(err)
			}
			err := r.Learn(tt.regions)
			if tt.errs > 0 {
				if !errors.Is(err, ErrRegionTree) || len(err.(interface{ Unwrap() []error }).Unwrap()) != tt.errs {
					t.Fatalf("Learn error %v, want %d errors matching ErrRegionTree", err, tt.errs)
				}
				// Nothing is half-applied.
				tt.want = map[string]string{"BEFORE": "US"}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.learnedRegions()); diff != "" {
				t.Errorf("learned (-want +got):\n%s", diff)
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
	got := []any{r.Primary(), r.PrimaryAuthURLs(), r.Locations()}
	want := []any{"JP", []string{jp1, jp2}, []string{"JP", "US", "SG"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
