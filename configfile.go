package geostack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/domain"
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
// Errors are *ConfigError values naming the file, the key and what is
// wrong. The configuration is checked as a whole again by New.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, &ConfigError{Source: path, Problems: []error{err}}
	}
	defer f.Close()
	cfg, err := ReadConfig(f)
	var ce *ConfigError
	if errors.As(err, &ce) {
		ce.Source = path
	}
	return cfg, err
}

// ReadConfig reads a geostack configuration document from r, as LoadConfig
// does from a file.
func ReadConfig(r io.Reader) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return Config{}, &ConfigError{Problems: []error{err}}
	}
	if len(data) > maxConfigBytes {
		return Config{}, &ConfigError{Problems: []error{fmt.Errorf("document is over %d bytes", maxConfigBytes)}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil {
		return Config{}, &ConfigError{Problems: []error{describeJSONError(data, err)}}
	}
	if dec.More() {
		return Config{}, &ConfigError{Problems: []error{errors.New("trailing data after the configuration object")}}
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
	var problems []error
	parseDuration := func(key, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			problems = append(problems, fmt.Errorf("%s: %q is not a non-negative duration such as \"30s\"", key, v))
		}
		return d
	}
	cfg.CoolDown = parseDuration("cool_down", fc.CoolDown)
	cfg.AttemptTimeout = parseDuration("attempt_timeout", fc.AttemptTimeout)
	for _, l := range fc.Locations {
		cfg.Locations = append(cfg.Locations, region.Location{Name: l.Name, AuthURLs: l.AuthURLs, Regions: l.Regions})
	}
	if len(fc.Domains) > 0 && !bytes.Equal(bytes.TrimSpace(fc.Domains), []byte("null")) {
		doc := append(append([]byte(`{"domains":`), fc.Domains...), '}')
		reg, err := domain.Load(bytes.NewReader(doc))
		if err != nil {
			problems = append(problems, fmt.Errorf("domains: %w", err))
		}
		cfg.Domains = reg
	}
	if fc.FailureThreshold < 0 {
		problems = append(problems, fmt.Errorf("failure_threshold: %d is negative", fc.FailureThreshold))
	}
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// describeJSONError turns a decoding error into one that names the key and
// the line.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: malformed JSON: %v", lineOf(data, syn.Offset), syn)
	case errors.As(err, &typ):
		return fmt.Errorf("line %d: key %q: want %s, got JSON %s", lineOf(data, typ.Offset), typ.Field, typ.Type, typ.Value)
	default:
		return err
	}
}

func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
