package standin

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/geostack/geostack/internal/keystonetest"
)

// Clouds of the clouds.yaml that CloudsYAML writes.
const (
	// CloudUser is gncu00000001 on its project gnct00000001.
	CloudUser = "gnc"
	// CloudDomainAdmin is gncu00000002, domain-scoped to gnc.
	CloudDomainAdmin = "gnc-admin"
	// CloudOtherDomain is zjpu00000001 on zjpt00000001.
	CloudOtherDomain = "zjp"
	// CloudService is the nova service user on project service: a
	// backend's own identity, which validates its users' tokens.
	CloudService = "service"
)

// HomeRegion is the region_name of every cloud CloudsYAML writes: SIN1,
// so the home location is SG, as on the fake cloud.
const HomeRegion = "SIN1"

// CloudsYAML returns a clouds.yaml for env's Keystone that is the one
// configuration file of a geostack client: per-region auth_urls, the home
// region and the geostack key with the locations, the primary and the
// domains. authURLs, if not nil, replaces some locations' auth_urls (a
// disposable instance for a failover run). It holds env's test passwords.
func CloudsYAML(env *keystonetest.Env, authURLs map[string]string) ([]byte, error) {
	urlOf := func(loc string) string {
		if u, ok := authURLs[loc]; ok {
			return u
		}
		return env.AuthURL(loc)
	}
	locs := make([]string, 0, len(env.Regions))
	for l := range env.Regions {
		locs = append(locs, l)
	}
	// The primary first, then by name: the failover order after home.
	slices.SortFunc(locs, func(a, b string) int {
		switch {
		case a == env.Primary:
			return -1
		case b == env.Primary:
			return 1
		}
		return strings.Compare(a, b)
	})
	q := strconv.Quote // a Go quoted ASCII string is a YAML double-quoted one

	var regions, geo bytes.Buffer
	for _, l := range locs {
		for _, r := range env.Regions[l] {
			fmt.Fprintf(&regions, "      - {name: %s, values: {auth: {auth_url: %s}}}\n", r, q(urlOf(l)))
		}
	}
	fmt.Fprintf(&geo, "      primary: %s\n      locations:\n", env.Primary)
	for _, l := range locs {
		fmt.Fprintf(&geo, "        - {name: %s, regions: [%s]}\n", l, strings.Join(env.Regions[l], ", "))
	}
	// Each domain's identity endpoints: this Keystone has no domain-specific
	// ones, so the domains' are the locations' own.
	fmt.Fprintf(&geo, "      domains:\n")
	for _, d := range env.Domains {
		fmt.Fprintf(&geo, "        - name: %s\n          id: %s\n          prefix: %s\n          endpoints:\n", d.Name, q(d.ID), d.Prefix)
		for _, l := range locs {
			fmt.Fprintf(&geo, "            %s: {user_auth_url: %s, admin_auth_url: %s}\n", l, q(urlOf(l)), q(urlOf(l)))
		}
	}

	gnc, ok := env.Domain("gnc")
	zjp, ok2 := env.Domain("zjp")
	svc, ok3 := env.User("nova")
	if !ok || !ok2 || !ok3 || len(gnc.Users) < 2 || len(zjp.Users) < 1 {
		return nil, fmt.Errorf("standin: %s lacks the seeded gnc and zjp users or the nova service user", env.StateDir)
	}
	var b bytes.Buffer
	b.WriteString(`# clouds.yaml for the project's own Keystone (scripts/keystone-up.sh, state ` + env.StateDir + `),
# written by: go run ./internal/devcloud clouds-yaml
# It holds that throwaway Keystone's test passwords. Every cloud is the one
# configuration file of a geostack client (geostack.LoadCloud): per-region
# auth_urls, region_name for the home location (SG) and the geostack key.
clouds:
`)
	entry := func(name, comment string, auth []string, domain string) {
		fmt.Fprintf(&b, "  %s: # %s\n    auth_type: password\n    auth:\n      auth_url: %s\n", name, comment, q(urlOf(env.Primary)))
		for _, a := range auth {
			fmt.Fprintf(&b, "      %s\n", a)
		}
		fmt.Fprintf(&b, "    region_name: %s\n    interface: public\n    regions:\n%s    geostack:\n%s", HomeRegion, regions.Bytes(), geo.Bytes())
		if domain != "" {
			fmt.Fprintf(&b, "      domain: %s\n", domain)
		}
	}
	user := func(u keystonetest.User) []string {
		return []string{"username: " + u.Name, "password: " + q(u.Password), "user_domain_name: " + u.DomainName}
	}
	project := func(u keystonetest.User) []string {
		return []string{"project_name: " + u.ProjectName, "project_domain_name: " + u.DomainName}
	}
	entry(CloudUser, "a gnc customer on its project", append(user(gnc.Users[0]), project(gnc.Users[0])...), "gnc")
	entry(CloudDomainAdmin, "gnc's domain administrator, domain-scoped", append(user(gnc.Users[1]), "domain_name: gnc"), "gnc")
	entry(CloudOtherDomain, "a customer of another product, zjp", append(user(zjp.Users[0]), project(zjp.Users[0])...), "zjp")
	entry(CloudService, "a backend's service user (roles service and admin)", append(user(svc),
		"project_name: "+env.ServiceProject.Name, "project_domain_id: "+env.ServiceProject.DomainID), "")
	return b.Bytes(), nil
}
