package geostack

import (
	"reflect"

	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/internal/typednil"
	"github.com/geostack/geostack/tokencache"
)

// check returns every problem of the configuration: those region.New found
// in the locations, the primary and the failover tuning (regionErr) first,
// and those tokencache.New found in CacheOptions (cacheErr) among them.
func (c *Config) check(regionErr, cacheErr error) error {
	var l configerr.List
	add := l.Add
	l.Wrap("", regionErr)
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
	l.Wrap("cache_options", cacheErr)
	if c.Cache != nil && !reflect.DeepEqual(c.CacheOptions, tokencache.Options{}) {
		add("cache_options", "CacheOptions are ignored by a shared Cache: give Cache or CacheOptions, not both")
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
