package geostack

import (
	"reflect"

	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// check returns every problem of the configuration that can be seen without
// building anything, the region package's checks of the locations
// included.
func (c *Config) check() error {
	var l configerr.List
	add := l.Add
	// The locations, the primary and the failover tuning are region's to
	// judge.
	_, err := region.New(region.Config{Locations: c.Locations, Primary: c.Primary,
		FailureThreshold: c.FailureThreshold, CoolDown: c.CoolDown, AttemptTimeout: c.AttemptTimeout})
	l.Wrap("", err)
	names := make(map[string]bool, len(c.Locations))
	for _, l := range c.Locations {
		names[l.Name] = true
	}
	switch {
	case c.Home == "":
		add("home", "the home location is required")
	case len(c.Locations) > 0 && !names[c.Home]:
		add("home", "%q is not one of the locations", c.Home)
	}
	switch {
	case c.Credential == nil:
		add("credential", "a credential is required")
	case typednil.Is(c.Credential):
		add("credential", "a nil %T", c.Credential)
	default:
		if err := c.Credential.Validate(); err != nil {
			l.Wrap("credential", err)
		}
	}
	if err := c.Scope.Validate(); err != nil {
		l.Wrap("scope", err)
	}
	if c.Domain != "" {
		if c.Domains == nil {
			add("domain", "domain %q is set but no domain registry is configured", c.Domain)
		} else if _, ok := c.Domains.ByName(c.Domain); !ok {
			add("domain", "%q is not in the domain registry", c.Domain)
		}
	}
	for t, ifs := range c.Interfaces {
		for _, i := range ifs {
			if !validInterface(string(i)) {
				add("interfaces."+t, "unknown interface %q (want public, internal or admin)", i)
			}
		}
	}
	if c.Cache == nil {
		// New checks the options as a whole; the cache is not kept.
		if tc, err := tokencache.New(c.CacheOptions); err != nil {
			l.Wrap("cache_options", err)
		} else {
			tc.Close()
		}
	}
	if c.Cache != nil && !reflect.DeepEqual(c.CacheOptions, tokencache.Options{}) {
		add("cache_options", "CacheOptions are ignored by a shared Cache: give Cache or CacheOptions, not both")
	}
	if c.Clock != nil && typednil.Is(c.Clock) {
		add("clock", "a nil %T", c.Clock)
	}
	if c.HTTPClient != nil && c.TLSConfig != nil {
		add("tls", "TLSConfig is ignored by a caller's HTTPClient: give HTTPClient or TLSConfig, not both")
	}
	for _, i := range c.DefaultInterfaces {
		if !validInterface(string(i)) {
			add("default_interfaces", "unknown interface %q (want public, internal or admin)", i)
		}
	}
	return l.Err()
}

func validInterface(s string) bool {
	return s == "public" || s == "internal" || s == "admin"
}
