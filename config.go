package geostack

import "fmt"

// check returns every problem of the configuration that can be seen without
// building anything. The region package checks the locations themselves.
func (c *Config) check() []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Locations) == 0 {
		add("locations", "at least one location is required")
	}
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
	case c.Primary == "":
		add("primary", "the primary location is required")
	case len(c.Locations) > 0 && !names[c.Primary]:
		add("primary", "%q is not one of the locations", c.Primary)
	}
	if c.Credential == nil {
		add("credential", "a credential is required")
	} else if err := c.Credential.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("credential: %w", err))
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
		if err := c.CacheOptions.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("cache_options: %w", err))
		}
	}
	for _, i := range c.DefaultInterfaces {
		if !validInterface(string(i)) {
			add("default_interfaces", "unknown interface %q (want public, internal or admin)", i)
		}
	}
	return errs
}

func validInterface(s string) bool {
	return s == "public" || s == "internal" || s == "admin"
}
