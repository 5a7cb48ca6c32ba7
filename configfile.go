package geostack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/internal/configerr"
	"github.com/geostack/geostack/region"
)

// maxConfigBytes caps the size of a configuration file.
const maxConfigBytes = 1 << 20

// fileConfig is the JSON configuration file: the multi-location part of a
// Config, which clouds.yaml cannot express. examples/geostack.json is a
// complete example.
type fileConfig struct {
	Home              string                         `json:"home"`
	Primary           string                         `json:"primary"`
	Locations         []fileLocation                 `json:"locations"`
	Domain            string                         `json:"domain"`
	Domains           json.RawMessage                `json:"domains"`
	Interfaces        map[string][]catalog.Interface `json:"interfaces"`
	DefaultInterfaces []catalog.Interface            `json:"default_interfaces"`
	TokenPerLocation  bool                           `json:"token_per_location"`
	FailureThreshold  int                            `json:"failure_threshold"`
	CoolDown          string                         `json:"cool_down"`
	AttemptTimeout    string                         `json:"attempt_timeout"`
}

type fileLocation struct {
	Name     string   `json:"name"`
	AuthURLs []string `json:"auth_urls"`
	Regions  []string `json:"regions"`
}

// LoadConfig reads the geostack configuration file at path: locations,
// home, primary, the domain registry and the client's domain, interface
// preferences and failover tuning. The credential and scope are not in it:
// take them from clouds.yaml (Config.ApplyCloud) or the environment
// (CredentialsFromEnv), or set them in code.
//
// Errors are a *ConfigError naming the file and, for each problem, its
// key, line and column and what is wrong. The configuration is checked as
// a whole again by New.
func LoadConfig(path string) (Config, error) {
	data, err := readLimited(path)
	if err == nil {
		var cfg Config
		cfg, err = parseConfig(data)
		if err == nil {
			cfg.source = path
			return cfg, nil
		}
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		ce = &ConfigError{Problems: []*ConfigProblem{{Reason: "cannot read the configuration", Err: err}}}
	}
	ce.Source = path
	return Config{}, ce
}

// readLimited reads the file at path, refusing one over maxConfigBytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigBytes {
		return nil, &ConfigError{Problems: []*ConfigProblem{{Reason: fmt.Sprintf("the file is over %d bytes", maxConfigBytes)}}}
	}
	return data, nil
}

// parseConfig parses a geostack configuration document.
func parseConfig(data []byte) (Config, error) {
	fail := func(p *ConfigProblem) (Config, error) {
		return Config{}, &ConfigError{Problems: []*ConfigProblem{p}}
	}
	// Syntax first, with offsets from the start of the document.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fail(jsonProblem(data, 0, err))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil {
		// The decoder's offsets start where the value does.
		return fail(jsonProblem(data, len(data)-len(bytes.TrimLeft(data, " \t\r\n")), err))
	}

	cfg := Config{
		Home:              fc.Home,
		Primary:           fc.Primary,
		Domain:            fc.Domain,
		Interfaces:        fc.Interfaces,
		DefaultInterfaces: fc.DefaultInterfaces,
		TokenPerLocation:  fc.TokenPerLocation,
		FailureThreshold:  fc.FailureThreshold,
	}
	var l configerr.List
	parseDuration := func(key, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			l.Add(key, "%q is not a non-negative duration such as \"30s\"", v)
		}
		return d
	}
	cfg.CoolDown = parseDuration("cool_down", fc.CoolDown)
	cfg.AttemptTimeout = parseDuration("attempt_timeout", fc.AttemptTimeout)
	for _, loc := range fc.Locations {
		cfg.Locations = append(cfg.Locations, region.Location{Name: loc.Name, AuthURLs: loc.AuthURLs, Regions: loc.Regions})
	}
	if len(fc.Domains) > 0 && !bytes.Equal(bytes.TrimSpace(fc.Domains), []byte("null")) {
		reg, err := domain.Load(bytes.NewReader(domainsDocument(data)))
		l.Wrap("", err)
		cfg.Domains = reg
	}
	if fc.FailureThreshold < 0 {
		l.Add("failure_threshold", "%d is negative", fc.FailureThreshold)
	}
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// domainsDocument returns the document domain.Load reads, {"domains": ...},
// laid over data so that every byte of the domains value keeps its line
// and column: the rest of the file is blanked, newlines kept, and only the
// object's opening brace, the "domains" key and its colon stay where they
// are. data is valid JSON with a "domains" key.
func domainsDocument(data []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(data))
	open, _ := dec.Token() // '{'
	_ = open
	brace := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
	keyStart, keyEnd := -1, -1
	for dec.More() {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		after := int(dec.InputOffset())
		if k, _ := tok.(string); k == "domains" {
			keyStart = before + bytes.IndexByte(data[before:after], '"')
			keyEnd = after
			break
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	if keyStart < 0 {
		return nil
	}
	colon := keyEnd + bytes.IndexByte(data[keyEnd:], ':')
	var skip json.RawMessage
	if err := dec.Decode(&skip); err != nil {
		return nil
	}
	end := int(dec.InputOffset())
	doc := make([]byte, 0, end+1)
	for i, b := range data[:colon+1] {
		switch {
		case i == brace || i >= keyStart && i < keyEnd || i == colon || b == '\n':
			doc = append(doc, b)
		default:
			doc = append(doc, ' ')
		}
	}
	doc = append(doc, data[colon+1:end]...)
	return append(doc, '}')
}

// jsonProblem turns a decoding error into a problem with the key, the line
// and the column; base is the offset of the decoded value in data.
func jsonProblem(data []byte, base int, err error) *ConfigProblem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte itself.
		line, col := position(data, base+int(syn.Offset)-1)
		return &ConfigProblem{Line: line, Column: col, Reason: "malformed JSON: " + syn.Error()}
	case errors.As(err, &typ):
		line, col := position(data, base+int(typ.Offset))
		return &ConfigProblem{Key: typ.Field, Line: line, Column: col,
			Reason: fmt.Sprintf("want %s, got JSON %s", typ.Type, typ.Value)}
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		key, _ = strconv.Unquote(key)
		p := &ConfigProblem{Key: key, Reason: "unknown key"}
		if i := bytes.Index(data, []byte(strconv.Quote(key))); i >= 0 {
			p.Line, p.Column = position(data, i)
		}
		if near := nearestKey(key); near != "" {
			p.Reason += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return p
	}
	return &ConfigProblem{Reason: "cannot decode the configuration", Err: err}
}

// fileKeys are the keys of the configuration file, for "did you mean".
var fileKeys = [...]string{"home", "primary", "locations", "name", "auth_urls", "regions", "domain", "domains",
	"interfaces", "default_interfaces", "token_per_location", "failure_threshold", "cool_down", "attempt_timeout"}

// nearestKey returns the file key within two edits of key, if any.
func nearestKey(key string) string {
	best, bestD := "", 3
	for _, k := range fileKeys {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// position returns the 1-based line and column of offset in data.
func position(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	line = bytes.Count(data[:offset], []byte("\n")) + 1
	col = offset - bytes.LastIndexByte(data[:offset], '\n')
	return line, col
}
