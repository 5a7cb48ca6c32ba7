package region

import (
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/observe"
)

// Resolver answers where a client's Keystone is and talks to it with
// failover. It is safe for concurrent use; reads of the region map and the
// orders are lock-free, and each auth_url's circuit has its own small lock.
type Resolver struct {
	primary        string
	names          []string             // locations, configured order
	byName         map[string]*location // immutable after New
	configured     map[string]string    // region -> location, immutable
	attemptTimeout time.Duration
	lagWindow      time.Duration
	lagBudget      bucket
	clock          clock.Clock
	observer       observe.Observer // nil: attempts are not observed

	attempts   atomic.Uint64
	faults     atomic.Uint64
	failovers  atomic.Uint64
	lagRetries atomic.Uint64
}

// location is a configured location with its circuits and its failover
// plan (its own auth_urls first, then the other locations').
type location struct {
	name     string
	circuits []*circuit // own auth_urls
	plan     []*circuit // own first, then the others in configured order
}

// New checks cfg and returns a Resolver. Every problem found is reported
// in one *geostack.ConfigError, matching geostack.ErrInvalidConfig, with
// the key of each problem. Nothing is half-built: on error the Resolver is
// nil.
func New(cfg Config) (*Resolver, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Resolver{
		primary:        cfg.Primary,
		byName:         make(map[string]*location, len(cfg.Locations)),
		configured:     map[string]string{},
		attemptTimeout: cfg.AttemptTimeout,
		clock:          cfg.Clock,
		observer:       cfg.Observer,
	}
	if r.attemptTimeout == 0 {
		r.attemptTimeout = defaultAttemptTimeout
	}
	if r.lagWindow = cfg.ReplicationLag; r.lagWindow == 0 {
		r.lagWindow = defaultReplicationLag
	}
	if r.clock == nil {
		r.clock = clock.System()
	}
	threshold, coolDown := cfg.FailureThreshold, cfg.CoolDown
	if threshold == 0 {
		threshold = defaultFailureThreshold
	}
	if coolDown == 0 {
		coolDown = defaultCoolDown
	}
	var all []*circuit
	for _, l := range cfg.Locations {
		loc := &location{name: l.Name}
		for _, u := range l.AuthURLs {
			loc.circuits = append(loc.circuits, &circuit{
				authURL:   u,
				location:  l.Name,
				primary:   l.Name == cfg.Primary,
				threshold: threshold,
				coolDown:  coolDown,
				logger:    cfg.Logger,
			})
		}
		all = append(all, loc.circuits...)
		for _, reg := range l.Regions {
			r.configured[reg] = l.Name
		}
		r.names = append(r.names, l.Name)
		r.byName[l.Name] = loc
	}
	for _, loc := range r.byName {
		loc.plan = append(slices.Clone(loc.circuits), slices.DeleteFunc(slices.Clone(all),
			func(c *circuit) bool { return c.location == loc.name })...)
	}
	return r, nil
}

// Primary returns the name of the primary location, the only one that
// accepts identity writes.
func (r *Resolver) Primary() string { return r.primary }

// Locations returns the configured location names, in configured order.
func (r *Resolver) Locations() []string { return slices.Clone(r.names) }

// LocationOf returns the location that holds region, as configured. An
// unknown region is a
// *UnknownRegionError. It does not allocate when
// the region is known.
func (r *Resolver) LocationOf(region string) (string, error) {
	if l, ok := r.configured[region]; ok {
		return l, nil
	}
	return "", &UnknownRegionError{Region: region, Known: r.knownRegions()}
}

// knownRegions lists every configured region, sorted.
func (r *Resolver) knownRegions() []string {
	var known []string
	for reg := range r.configured {
		known = append(known, reg)
	}
	sort.Strings(known)
	return known
}

// Order returns the auth_urls in the order a client at location home tries
// them: home's own first, then the other locations' in configured order,
// with the auth_urls whose circuit is open moved to the end (keeping their
// relative order). It returns nil when home is not a configured location;
// Issue, Validate and Write report that as *UnknownLocationError.
func (r *Resolver) Order(home string) []string {
	loc, ok := r.byName[home]
	if !ok {
		return nil
	}
	cs, _ := r.ordered(loc.plan)
	return urlsOf(cs)
}

// ordered returns plan with its unusable circuits moved to the end, and
// how many there are.
func (r *Resolver) ordered(plan []*circuit) ([]*circuit, int) {
	now := r.clock.Now()
	out := make([]*circuit, 0, len(plan))
	var down []*circuit
	for _, c := range plan {
		if c.usable(now) {
			out = append(out, c)
		} else {
			down = append(down, c)
		}
	}
	return append(out, down...), len(down)
}

// location returns the named location or an *UnknownLocationError.
func (r *Resolver) location(name string) (*location, error) {
	if loc, ok := r.byName[name]; ok {
		return loc, nil
	}
	return nil, &UnknownLocationError{Location: name, Known: r.Locations()}
}

func urlsOf(cs []*circuit) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.authURL
	}
	return out
}
