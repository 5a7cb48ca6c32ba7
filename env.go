package geostack

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strconv"
	"strings"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/region"
)

// ApplyEnv sets the credential, the scope, the TLS settings, the interface
// and the home location of c from the OS_* environment variables, read as
// openstackclient reads them, so that a standard openrc (the one Horizon
// offers for download) works as it is:
//
//   - OS_CLOUD set: the cloud of clouds.yaml, as LoadCloud reads it, for
//     everything it holds.
//   - The user: OS_USER_ID, or OS_USERNAME with OS_USER_DOMAIN_ID or
//     OS_USER_DOMAIN_NAME (else OS_DOMAIN_ID or OS_DOMAIN_NAME), and
//     OS_PASSWORD; or OS_APPLICATION_CREDENTIAL_ID (or _NAME with the user)
//     and OS_APPLICATION_CREDENTIAL_SECRET; or OS_TOKEN.
//   - The scope: OS_PROJECT_ID, or OS_PROJECT_NAME (OS_TENANT_NAME) with
//     OS_PROJECT_DOMAIN_ID or OS_PROJECT_DOMAIN_NAME (else the user's
//     domain); or, with no project, OS_DOMAIN_ID or OS_DOMAIN_NAME; or
//     OS_SYSTEM_SCOPE=all.
//   - OS_AUTH_TYPE, if set, must be password, v3password,
//     v3applicationcredential, token or v3token.
//   - OS_REGION_NAME chooses the home location: the location holding that
//     region (c.Locations must be set first, from LoadConfig or code).
//   - OS_INTERFACE: the default interface. OS_CACERT, OS_CERT and OS_KEY,
//     OS_INSECURE: the TLS settings.
//
// OS_AUTH_URL is used only when c has no locations yet: an openrc knows
// one Keystone, so the client then has one location, OS_AUTH_URL's, named
// after OS_REGION_NAME (or "default"), which is home and primary. Give the
// locations first (LoadConfig) for failover between them. Errors are one *ConfigError naming each variable; on error c is
// left unchanged.
func (c *Config) ApplyEnv() error {
	if name := os.Getenv("OS_CLOUD"); name != "" {
		cloud, err := LoadCloud(name, "")
		if err != nil {
			return err
		}
		merged := *c
		merged.Credential, merged.Scope, merged.TLSConfig = cloud.Credential, cloud.Scope, cloud.TLSConfig
		if len(merged.DefaultInterfaces) == 0 {
			merged.DefaultInterfaces = cloud.DefaultInterfaces
		}
		if len(merged.Locations) == 0 {
			merged.Locations, merged.Primary, merged.Domains, merged.Domain = cloud.Locations, cloud.Primary, cloud.Domains, cloud.Domain
		}
		if merged.Home == "" {
			merged.Home = cloud.Home
		}
		*c = merged
		return nil
	}
	env := os.Getenv
	first := func(names ...string) (string, string) {
		for _, n := range names {
			if v := env(n); v != "" {
				return n, v
			}
		}
		return "", ""
	}
	var l configerr.List
	switch t := env("OS_AUTH_TYPE"); t {
	case "", "password", "v3password", "v3applicationcredential", "token", "v3token":
	default:
		l.Add("OS_AUTH_TYPE", "%q is not one geostack authenticates with (password, v3applicationcredential, token)", t)
	}
	_, userDomainID := first("OS_USER_DOMAIN_ID", "OS_DOMAIN_ID")
	_, userDomainName := first("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")
	if userDomainID != "" {
		userDomainName = ""
	}
	var cred identity.Credential
	switch {
	case env("OS_TOKEN") != "" || env("OS_AUTH_TYPE") == "token" || env("OS_AUTH_TYPE") == "v3token":
		cred = identity.TokenCredential{ID: env("OS_TOKEN")}
	case env("OS_APPLICATION_CREDENTIAL_ID") != "" || env("OS_APPLICATION_CREDENTIAL_NAME") != "" || env("OS_AUTH_TYPE") == "v3applicationcredential":
		a := identity.ApplicationCredential{
			ID: env("OS_APPLICATION_CREDENTIAL_ID"), Name: env("OS_APPLICATION_CREDENTIAL_NAME"),
			Secret: env("OS_APPLICATION_CREDENTIAL_SECRET"),
		}
		if a.ID == "" {
			a.UserID, a.UserName, a.UserDomainID, a.UserDomainName = env("OS_USER_ID"), env("OS_USERNAME"), userDomainID, userDomainName
			if a.UserID != "" {
				a.UserName, a.UserDomainID, a.UserDomainName = "", "", ""
			}
		}
		cred = a
	default:
		p := identity.Password{UserID: env("OS_USER_ID"), UserName: env("OS_USERNAME"), Password: env("OS_PASSWORD")}
		if p.UserID == "" {
			p.DomainID, p.DomainName = userDomainID, userDomainName
		} else {
			p.UserName = ""
		}
		cred = p
	}
	if err := cred.Validate(); err != nil {
		l.Add("credential", "%s", inEnvWords(err.Error()))
	}

	var scope identity.Scope
	_, project := first("OS_PROJECT_ID", "OS_TENANT_ID")
	_, projectName := first("OS_PROJECT_NAME", "OS_TENANT_NAME")
	_, isAppCred := cred.(identity.ApplicationCredential)
	switch {
	case isAppCred:
		// An application credential carries its own scope.
	case env("OS_SYSTEM_SCOPE") != "":
		if env("OS_SYSTEM_SCOPE") != "all" {
			l.Add("OS_SYSTEM_SCOPE", "%q: the only system scope is all", env("OS_SYSTEM_SCOPE"))
		}
		scope.System = true
	case project != "":
		scope.ProjectID = project
	case projectName != "":
		scope.ProjectName = projectName
		_, scope.ProjectDomainID = first("OS_PROJECT_DOMAIN_ID")
		_, scope.ProjectDomainName = first("OS_PROJECT_DOMAIN_NAME")
		if scope.ProjectDomainID == "" && scope.ProjectDomainName == "" {
			scope.ProjectDomainID, scope.ProjectDomainName = userDomainID, userDomainName
		}
		if scope.ProjectDomainID != "" {
			scope.ProjectDomainName = ""
		}
	case env("OS_DOMAIN_ID") != "":
		scope.DomainID = env("OS_DOMAIN_ID")
	case env("OS_DOMAIN_NAME") != "":
		scope.DomainName = env("OS_DOMAIN_NAME")
	}
	if err := scope.Validate(); err != nil {
		l.Add("scope", "%s", inEnvWords(err.Error()))
	}

	// An openrc knows one Keystone: without locations of its own, the
	// client has one, OS_AUTH_URL's, named after OS_REGION_NAME.
	locs, primary, home := c.Locations, c.Primary, c.Home
	if len(locs) == 0 && env("OS_AUTH_URL") != "" {
		loc := region.Location{Name: "default", AuthURLs: []string{env("OS_AUTH_URL")}}
		if r := env("OS_REGION_NAME"); r != "" {
			loc.Name, loc.Regions = r, []string{r}
		}
		locs, primary, home = []region.Location{loc}, loc.Name, loc.Name
	}
	if r := env("OS_REGION_NAME"); r != "" && len(c.Locations) > 0 {
		if loc := locationOf(locs, r); loc != "" {
			home = loc
		} else {
			l.Add("OS_REGION_NAME", "region %q is in none of the configured locations", r)
		}
	}
	ifs := c.DefaultInterfaces
	if i := strings.TrimSuffix(strings.ToLower(env("OS_INTERFACE")), "url"); i != "" {
		if !validInterface(i) {
			l.Add("OS_INTERFACE", "%q is not public, internal or admin", env("OS_INTERFACE"))
		}
		ifs = []catalog.Interface{catalog.Interface(i)}
	}
	tlsConfig, tlsErr := envTLS(env)
	for _, p := range tlsErr {
		l.AddProblem(p)
	}
	if err := l.Err(); err != nil {
		return err
	}
	c.Credential, c.Scope, c.Home, c.DefaultInterfaces = cred, scope, home, ifs
	c.Locations, c.Primary = locs, primary
	if tlsConfig != nil {
		c.TLSConfig = tlsConfig
	}
	return nil
}

// envTLS builds the TLS settings of OS_CACERT, OS_CERT, OS_KEY and
// OS_INSECURE; nil when none is set.
func envTLS(env func(string) string) (*tls.Config, []*ConfigProblem) {
	cacert, cert, key, insecure := env("OS_CACERT"), env("OS_CERT"), env("OS_KEY"), env("OS_INSECURE")
	if cacert == "" && cert == "" && key == "" && insecure == "" {
		return nil, nil
	}
	var probs []*ConfigProblem
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			probs = append(probs, &ConfigProblem{Key: "OS_CACERT", Reason: "cannot read the CA bundle", Err: err})
		case !pool.AppendCertsFromPEM(pem):
			probs = append(probs, &ConfigProblem{Key: "OS_CACERT", Reason: "no PEM certificate in " + cacert})
		default:
			t.RootCAs = pool
		}
	}
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			probs = append(probs, &ConfigProblem{Key: "OS_CERT", Reason: "cannot load the client certificate and key", Err: err})
		} else {
			t.Certificates = []tls.Certificate{pair}
		}
	case cert != "" || key != "":
		probs = append(probs, &ConfigProblem{Key: "OS_CERT", Reason: "OS_CERT and OS_KEY go together"})
	}
	if insecure != "" {
		b, err := strconv.ParseBool(insecure)
		if err != nil {
			probs = append(probs, &ConfigProblem{Key: "OS_INSECURE", Reason: strconv.Quote(insecure) + " is not true or false"})
		}
		t.InsecureSkipVerify = b //nolint:gosec // the user asked for it
	}
	return t, probs
}
