package region

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/authurl"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/observe"
)

// Defaults for the zero fields of Config.
const (
	// defaultFailureThreshold: three faults in a row is a pattern, not a
	// blip. One lost packet or one 503 from a restarting Keystone must not
	// send a whole location's clients abroad over a slow link.
	defaultFailureThreshold = 3
	// defaultCoolDown: long enough that a dead Keystone is not hammered by
	// every client (each probe is one request, and it may hang for an
	// AttemptTimeout), short enough that clients come home within a minute
	// of a recovery.
	defaultCoolDown = 30 * time.Second
	// defaultAttemptTimeout: a password token costs Keystone about 200 ms of
	// bcrypt, plus a round trip over a slow inter-site link and a large
	// catalog; 10 s covers a loaded Keystone and still leaves a typical 30 s
	// caller deadline room for two more locations.
	defaultAttemptTimeout = 10 * time.Second
	// defaultReplicationLag: asynchronous replication between locations
	// catches up in seconds when the links are up; five minutes covers a
	// congested link without sending every old unknown token (a flood of
	// garbage, a long-revoked token) to the primary a second time.
	defaultReplicationLag = 5 * time.Minute
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
	// "TYO1".
	Regions []string
}

// Config configures a Resolver. Zero numeric fields take the defaults.
type Config struct {
	// Locations are the cloud's locations. Their order is the failover
	// order after the home location.
	Locations []Location
	// Primary is the name of the location that accepts identity writes.
	Primary string
	// FailureThreshold is how many consecutive faults open an auth_url's
	// circuit. Zero means 3.
	FailureThreshold int
	// CoolDown is how long a circuit stays open before a probe. Zero
	// means 30 s.
	CoolDown time.Duration
	// AttemptTimeout bounds each attempt at one auth_url, inside the
	// caller's own deadline. Zero means 10 s.
	AttemptTimeout time.Duration
	// ReplicationLag is the longest a replica lags behind the primary.
	// A token validation that a replica answers 404 is retried at the
	// primary only if the token was issued within that long (Fernet and
	// JWS tokens show their creation time), or if its issue time cannot
	// be read; an older unknown token is unknown everywhere. Zero means 5
	// minutes.
	ReplicationLag time.Duration
	// Clock measures cool-downs. Nil means the wall clock. (Attempt
	// timeouts are context deadlines, on the runtime's clock.)
	Clock clock.Clock
	// Logger, if set, receives an event when a circuit opens or closes.
	Logger *slog.Logger
	// Observer, if set, sees every attempt at an auth_url
	// (observe.Attempt), failovers and replication-lag retries included,
	// with its timing and outcome.
	Observer observe.Observer
}

// validate reports every problem in c. Keys are those of the geostack
// configuration file ("locations[1].auth_urls[0]"), which a Config in code
// mirrors field by field.
func (c *Config) validate() error {
	var l configerr.List
	if len(c.Locations) == 0 {
		l.Add("locations", "no location configured")
	}
	names := map[string]int{}      // location name -> index
	urls := map[string]string{}    // normalised auth_url -> key
	regions := map[string]string{} // region -> location name
	for i, loc := range c.Locations {
		f := fmt.Sprintf("locations[%d]", i)
		switch {
		case strings.TrimSpace(loc.Name) == "":
			l.Add(f+".name", "empty location name")
		case loc.Name != strings.TrimSpace(loc.Name):
			l.Add(f+".name", "location name %q has leading or trailing space", loc.Name)
		default:
			if j, dup := names[loc.Name]; dup {
				l.Add(f+".name", "duplicate location name %q (also locations[%d])", loc.Name, j)
			} else {
				names[loc.Name] = i
			}
		}
		if len(loc.AuthURLs) == 0 {
			l.Add(f+".auth_urls", "location has no auth_url")
		}
		for j, raw := range loc.AuthURLs {
			uf := fmt.Sprintf("%s.auth_urls[%d]", f, j)
			key, reason := checkAuthURL(raw)
			if reason != "" {
				l.Add(uf, "%s", reason)
				continue
			}
			if other, dup := urls[key]; dup {
				l.Add(uf, "duplicate auth_url %q (also %s)", raw, other)
				continue
			}
			urls[key] = uf
		}
		for j, reg := range loc.Regions {
			rf := fmt.Sprintf("%s.regions[%d]", f, j)
			if strings.TrimSpace(reg) == "" || reg != strings.TrimSpace(reg) {
				l.Add(rf, "empty region name or leading/trailing space: %q", reg)
				continue
			}
			if other, dup := regions[reg]; dup {
				if other == loc.Name {
					l.Add(rf, "region %q listed twice in location %s", reg, loc.Name)
				} else {
					l.Add(rf, "region %q is in two locations: %s and %s", reg, other, loc.Name)
				}
				continue
			}
			regions[reg] = loc.Name
		}
	}
	// A region named like another location would make LocationOf ambiguous.
	for i, loc := range c.Locations {
		for j, reg := range loc.Regions {
			if k, ok := names[reg]; ok && reg != loc.Name {
				l.Add(fmt.Sprintf("locations[%d].regions[%d]", i, j),
					"region %q has the name of another location (locations[%d])", reg, k)
			}
		}
	}
	switch _, ok := names[c.Primary]; {
	case c.Primary == "":
		l.Add("primary", "no primary location")
	case !ok:
		l.Add("primary", "primary %q is not a configured location", c.Primary)
	}
	if c.FailureThreshold < 0 {
		l.Add("failure_threshold", "%d is negative", c.FailureThreshold)
	}
	if c.CoolDown < 0 {
		l.Add("cool_down", "%s is negative", c.CoolDown)
	}
	if c.AttemptTimeout < 0 {
		l.Add("attempt_timeout", "%s is negative", c.AttemptTimeout)
	}
	if c.ReplicationLag < 0 {
		l.Add("replication_lag", "%s is negative", c.ReplicationLag)
	}
	if c.Clock != nil && typednil.Is(c.Clock) {
		l.Add("clock", "a nil %T", c.Clock)
	}
	return l.Err()
}

// checkAuthURL returns the canonical root of an auth_url, so that
// equivalent spellings compare equal, or says what is wrong with it.
func checkAuthURL(raw string) (root, reason string) {
	root, err := authurl.Root(raw)
	if err != nil {
		return "", "auth_url " + err.Error()
	}
	return root, ""
}
