package geostack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"gopkg.in/yaml.v2"

	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/region"
)

// cloudsFile is what geostack reads of clouds.yaml itself, besides what
// gophercloud's clouds package reads: the cloud's auth_type, its home
// region, its regions with their auth_urls, and geostack's own key.
type cloudsFile struct {
	Clouds map[string]struct {
		AuthType   string          `yaml:"auth_type"`
		RegionName string          `yaml:"region_name"`
		Regions    []clouds.Region `yaml:"regions"`
		Geostack   yaml.MapSlice   `yaml:"geostack"`
	} `yaml:"clouds"`
}

// authTypes are the auth_type values geostack can authenticate with.
var authTypes = []string{"", "password", "v3password", "v3applicationcredential", "token", "v3token"}

// LoadCloud reads a cloud of clouds.yaml as the one configuration file. The
// credential, the scope, the TLS settings and the interface come from
// gophercloud's clouds package, as with Config.ApplyCloud; the
// multi-location part comes from the same cloud entry:
//
//	clouds:
//	  gnc:
//	    auth: {username: gncu72074485, password: ..., user_domain_name: gnc, project_name: gnct72074485, project_domain_name: gnc}
//	    region_name: SIN1                # the home location is SIN1's
//	    regions:                         # openstacksdk's per-region values
//	      - {name: TYO1, values: {auth: {auth_url: https://identity.jp.example.net/v3}}}
//	      - {name: SIN1, values: {auth: {auth_url: https://identity.sg.example.net/v3}}}
//	    geostack:                        # the keys of geostack.json
//	      primary: JP
//	      locations: [{name: JP, regions: [TYO1]}, {name: SG, regions: [SIN1]}]
//	      domain: gnc
//
// A location listed without auth_urls takes those of its regions' values.
// The home is geostack's home key, else the location of region_name (or
// of OS_REGION_NAME, which overrides it, as for every OpenStack client).
// cloud "" means OS_CLOUD; path "" searches where openstackclient does:
// OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml
// and /etc/openstack/clouds.yaml.
//
// Errors are one *ConfigError naming the file, with each problem's key in
// the file's own words (clouds.gnc.auth_type, clouds.gnc.geostack.primary,
// user_domain_name).
func LoadCloud(cloud, path string) (Config, error) {
	fail := func(key, format string, args ...any) (Config, error) {
		var l configerr.List
		l.Add(key, format, args...)
		err := l.Err().(*ConfigError)
		err.Source = path
		return Config{}, err
	}
	if cloud == "" {
		cloud = os.Getenv("OS_CLOUD")
	}
	if cloud == "" {
		return fail("OS_CLOUD", "no cloud named: pass one, or set OS_CLOUD")
	}
	if path == "" {
		path = findCloudsYAML()
	}
	if path == "" {
		return fail("clouds.yaml", "not found: set OS_CLIENT_CONFIG_FILE, or put it in ./, ~/.config/openstack/ or /etc/openstack/")
	}
	data, err := readLimited(path)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Source = path
			return Config{}, ce
		}
		return fail("", "cannot read the file: %v", err)
	}
	var f cloudsFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return fail("", "malformed YAML: %v", err)
	}
	entry, ok := f.Clouds[cloud]
	if !ok {
		return fail("clouds", "no cloud %q in the file", cloud)
	}
	key := "clouds." + cloud
	if !slices.Contains(authTypes, entry.AuthType) {
		return fail(key+".auth_type", "%q is not one geostack authenticates with (password, v3applicationcredential, token)", entry.AuthType)
	}

	// geostack's key: the keys of geostack.json, checked by its parser.
	cfg, gerr := Config{}, error(nil)
	if len(entry.Geostack) > 0 {
		doc, err := json.Marshal(jsonValue(entry.Geostack))
		if err != nil {
			return fail(key+".geostack", "cannot read: %v", err)
		}
		cfg, gerr = parseConfig(doc)
	}
	var l configerr.List
	if gerr != nil {
		var ce *ConfigError
		errors.As(gerr, &ce)
		for _, p := range ce.Problems {
			q := *p
			q.Key = configerr.Join(key+".geostack", p.Key)
			q.Line, q.Column = yamlLine(data, lastKey(p.Key)), 0 // JSON positions mean nothing here
			l.AddProblem(&q)
		}
	}
	// Locations listed without auth_urls take their regions' auth_urls.
	regionURL := map[string]string{}
	for _, r := range entry.Regions {
		if r.Values.AuthInfo != nil && r.Values.AuthInfo.AuthURL != "" {
			regionURL[r.Name] = r.Values.AuthInfo.AuthURL
		}
	}
	for i, loc := range cfg.Locations {
		if len(loc.AuthURLs) > 0 {
			continue
		}
		for _, r := range loc.Regions {
			if u := regionURL[r]; u != "" && !slices.Contains(loc.AuthURLs, u) {
				loc.AuthURLs = append(loc.AuthURLs, u)
			}
		}
		if len(loc.AuthURLs) == 0 {
			l.Add(fmt.Sprintf("%s.geostack.locations[%d]", key, i),
				"location %s has no auth_urls, and none of its regions has values.auth.auth_url in %s.regions", loc.Name, key)
		}
		cfg.Locations[i] = loc
	}
	if cfg.Home == "" {
		home := entry.RegionName
		if env := os.Getenv("OS_REGION_NAME"); env != "" {
			home = env
		}
		if home != "" {
			if loc := locationOf(cfg.Locations, home); loc != "" {
				cfg.Home = loc
			} else {
				l.Add(key+".region_name", "region %q is in none of the locations", home)
			}
		}
	}
	if err := cfg.ApplyCloud(clouds.WithCloudName(cloud), clouds.WithLocations(path)); err != nil {
		l.AddProblem(&ConfigProblem{Key: key + ".auth", Reason: inCloudsWords(err.Error())})
	}
	if err := l.Err(); err != nil {
		err.(*ConfigError).Source = path
		return Config{}, err
	}
	cfg.source = path
	return cfg, nil
}

// findCloudsYAML returns the clouds.yaml openstackclient would read, or "".
func findCloudsYAML() string {
	if p := os.Getenv("OS_CLIENT_CONFIG_FILE"); p != "" {
		return p
	}
	candidates := []string{"clouds.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		candidates = append(candidates, filepath.Join(dir, "openstack", "clouds.yaml"))
	}
	candidates = append(candidates, "/etc/openstack/clouds.yaml")
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// locationOf returns the location holding region (or named region), or "".
func locationOf(locs []region.Location, name string) string {
	for _, l := range locs {
		if l.Name == name || slices.Contains(l.Regions, name) {
			return l.Name
		}
	}
	return ""
}

// jsonValue turns what yaml.v2 decodes (MapSlice, map[any]any) into
// values encoding/json can write, keeping the order of keys.
func jsonValue(v any) any {
	switch v := v.(type) {
	case yaml.MapSlice:
		var b bytes.Buffer
		b.WriteByte('{')
		for i, item := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(fmt.Sprint(item.Key))
			val, _ := json.Marshal(jsonValue(item.Value))
			b.Write(k)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteByte('}')
		return json.RawMessage(b.Bytes())
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, val := range v {
			m[fmt.Sprint(k)] = jsonValue(val)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, val := range v {
			out[i] = jsonValue(val)
		}
		return out
	}
	return v
}

// lastKey returns the last name of a key path: "primary" of
// "locations[1].primary", "regions" of "locations[0].regions[2]".
func lastKey(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		key = key[i+1:]
	}
	if i := strings.IndexByte(key, '['); i >= 0 {
		key = key[:i]
	}
	return key
}

// yamlLine returns the line of the first "key:" in a YAML document, or 0.
func yamlLine(data []byte, key string) int {
	if key == "" {
		return 0
	}
	re := regexp.MustCompile(`(?m)^[\s-]*` + regexp.QuoteMeta(key) + `\s*:`)
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return bytes.Count(data[:loc[0]], []byte("\n")) + 1
}

// userWords names each Go field the credential and scope checks speak of,
// in clouds.yaml's auth section and as an OS_* variable. Longer names come
// first, so that ProjectDomainID is not read as Project and DomainID.
var userWords = [][3]string{
	{"UserDomainID", "user_domain_id", "OS_USER_DOMAIN_ID"},
	{"UserDomainName", "user_domain_name", "OS_USER_DOMAIN_NAME"},
	{"ProjectDomainID", "project_domain_id", "OS_PROJECT_DOMAIN_ID"},
	{"ProjectDomainName", "project_domain_name", "OS_PROJECT_DOMAIN_NAME"},
	{"ProjectID", "project_id", "OS_PROJECT_ID"},
	{"ProjectName", "project_name", "OS_PROJECT_NAME"},
	{"DomainID", "user_domain_id", "OS_USER_DOMAIN_ID"},
	{"DomainName", "user_domain_name", "OS_USER_DOMAIN_NAME"},
	{"UserID", "user_id", "OS_USER_ID"},
	{"UserName", "username", "OS_USERNAME"},
	{"Password", "password", "OS_PASSWORD"},
	{"Secret", "application_credential_secret", "OS_APPLICATION_CREDENTIAL_SECRET"},
}

// wordsReplacer rewrites the Go names of userWords into column col.
func wordsReplacer(col int) *strings.Replacer {
	var pairs []string
	for _, w := range userWords {
		pairs = append(pairs, w[0], w[col])
	}
	return strings.NewReplacer(pairs...)
}

var cloudsWords, envWords = wordsReplacer(1), wordsReplacer(2)

// inCloudsWords rewrites an error of the credential checks in clouds.yaml's
// words.
func inCloudsWords(msg string) string { return cloudsWords.Replace(msg) }

// inEnvWords rewrites an error of the credential checks in OS_* variables.
func inEnvWords(msg string) string { return envWords.Replace(msg) }
