package region

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/geostack/geostack/identity"
)

// Defaults for the zero fields of Config.
const (
	// DefaultFailureThreshold: three faults in a row is a pattern, not a
	// blip. One lost packet or one 503 from a restarting Keystone must not
	// send a whole location's clients abroad over a slow link.
	DefaultFailureThreshold = 3
	// DefaultCoolDown: long enough that a dead Keystone is not hammered by
	// every client (each probe is one request, and it may hang for an
	// AttemptTimeout), short enough that clients come home within a minute
	// of a recovery.
	DefaultCoolDown = 30 * time.Second
	// DefaultAttemptTimeout: a password token costs Keystone about 200 ms of
	// bcrypt, plus a round trip over a slow inter-site link and a large
	// catalog; 10 s covers a loaded Keystone and still leaves a typical 30 s
	// caller deadline room for two more locations.
	DefaultAttemptTimeout = 10 * time.Second
)

// Location is one place running its own Keystone API over the shared,
// replicated identity store.
type Location struct {
	// Name identifies the location, such as "JP". It is also the id of the
	// Keystone region that is the parent of the location's regions, when
	// the cloud models locations that way.
	Name string
	// AuthURLs are the location's Keystone v3 endpoints, tried in this
	// order. Each is an absolute http or https URL, with or without the
	// trailing "/v3".
	AuthURLs []string
	// Regions are the OpenStack regions the location holds, such as
	// "TYO1". More can be learned from Keystone later (Resolver.Learn).
	Regions []string
}

// Clock tells the resolver the time, for circuit cool-downs. It must be
// safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// Config configures a Resolver. Zero numeric fields take the defaults.
type Config struct {
	// Locations are the cloud's locations. Their order is the failover
	// order after the home location.
	Locations []Location
	// Primary is the name of the location that accepts identity writes.
	Primary string
	// FailureThreshold is how many consecutive faults open an auth_url's
	// circuit. Zero means DefaultFailureThreshold.
	FailureThreshold int
	// CoolDown is how long a circuit stays open before a probe. Zero
	// means DefaultCoolDown.
	CoolDown time.Duration
	// AttemptTimeout bounds each attempt at one auth_url, inside the
	// caller's own deadline. Zero means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Clock measures cool-downs. Nil means the wall clock. (Attempt
	// timeouts are context deadlines, on the runtime's clock.)
	Clock Clock
	// Logger, if set, receives an event when a circuit opens or closes.
	Logger *slog.Logger
}

// validate reports every problem in c as a *ConfigError.
func (c *Config) validate() []error {
	var errs []error
	bad := func(field, value, reason string) {
		errs = append(errs, &ConfigError{Field: field, Value: value, Reason: reason})
	}
	if len(c.Locations) == 0 {
		bad("Locations", "", "no location configured")
	}
	names := map[string]int{}      // location name -> index
	urls := map[string]string{}    // normalised auth_url -> field
	regions := map[string]string{} // region -> location name
	for i, loc := range c.Locations {
		f := fmt.Sprintf("Locations[%d]", i)
		switch {
		case strings.TrimSpace(loc.Name) == "":
			bad(f+".Name", loc.Name, "empty location name")
		case loc.Name != strings.TrimSpace(loc.Name):
			bad(f+".Name", loc.Name, "location name has leading or trailing space")
		default:
			if j, dup := names[loc.Name]; dup {
				bad(f+".Name", loc.Name, fmt.Sprintf("duplicate location name (also Locations[%d])", j))
			} else {
				names[loc.Name] = i
			}
		}
		if len(loc.AuthURLs) == 0 {
			bad(f+".AuthURLs", "", "location has no auth_url")
		}
		for j, raw := range loc.AuthURLs {
			uf := fmt.Sprintf("%s.AuthURLs[%d]", f, j)
			key, reason := checkAuthURL(raw)
			if reason != "" {
				bad(uf, redactURL(raw), reason)
				continue
			}
			if other, dup := urls[key]; dup {
				bad(uf, raw, "duplicate auth_url (also "+other+")")
				continue
			}
			urls[key] = uf
		}
		for j, reg := range loc.Regions {
			rf := fmt.Sprintf("%s.Regions[%d]", f, j)
			if strings.TrimSpace(reg) == "" || reg != strings.TrimSpace(reg) {
				bad(rf, reg, "empty region name or leading/trailing space")
				continue
			}
			if other, dup := regions[reg]; dup {
				if other == loc.Name {
					bad(rf, reg, "region listed twice in location "+loc.Name)
				} else {
					bad(rf, reg, "region is in two locations: "+other+" and "+loc.Name)
				}
				continue
			}
			regions[reg] = loc.Name
		}
	}
	// A region named like another location would make LocationOf and the
	// parent_region_id walk of Learn disagree.
	for i, loc := range c.Locations {
		for j, reg := range loc.Regions {
			if k, ok := names[reg]; ok && reg != loc.Name {
				bad(fmt.Sprintf("Locations[%d].Regions[%d]", i, j), reg,
					fmt.Sprintf("region has the name of another location (Locations[%d])", k))
			}
		}
	}
	switch _, ok := names[c.Primary]; {
	case c.Primary == "":
		bad("Primary", "", "no primary location")
	case !ok:
		bad("Primary", c.Primary, "primary is not a configured location")
	}
	if c.FailureThreshold < 0 {
		bad("FailureThreshold", fmt.Sprint(c.FailureThreshold), "negative")
	}
	if c.CoolDown < 0 {
		bad("CoolDown", c.CoolDown.String(), "negative")
	}
	if c.AttemptTimeout < 0 {
		bad("AttemptTimeout", c.AttemptTimeout.String(), "negative")
	}
	return errs
}

// checkAuthURL returns the canonical root of an auth_url (identity's, so
// that equivalent spellings compare equal), or says what is wrong with it.
func checkAuthURL(raw string) (root, reason string) {
	if raw == "" {
		return "", "empty auth_url"
	}
	root, err := identity.AuthURLRoot(raw)
	var e *identity.Error
	switch {
	case errors.As(err, &e) && e.Err != nil:
		return "", e.Err.Error()
	case err != nil:
		return "", "not a usable auth_url"
	}
	return root, ""
}

// redactURL returns raw for an error message, or a placeholder when it
// contains "@": whatever precedes it may be a password or a token, and a
// URL without a scheme ("admin:pw@host/v3") parses with no user at all, so
// url.URL.Redacted would not hide it.
func redactURL(raw string) string {
	if strings.Contains(raw, "@") {
		return "(URL with user information, not shown)"
	}
	return raw
}
