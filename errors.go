package geostack

import "github.com/geostack/geostack/internal/configerr"

// ErrInvalidConfig matches every configuration error of the library
// (errors.Is): those of New and LoadConfig, and those of region.New,
// domain.New and Load, tokencache.New and authtoken.New.
var ErrInvalidConfig = configerr.ErrInvalid

// ConfigError lists every problem found in one configuration: Source is
// the file it came from, if any, and each of Problems has the key of the
// offending setting in the configuration's own words
// ("locations[1].auth_urls[0]"), its line and column in the file when
// known, and what is wrong. Every configuration error of the library is a
// *ConfigError.
type ConfigError = configerr.Error

// ConfigProblem is one problem of a ConfigError.
type ConfigProblem = configerr.Problem
