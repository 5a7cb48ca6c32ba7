package geostack

import (
	"errors"
	"strings"
)

// ErrInvalidConfig matches every configuration error (errors.Is).
var ErrInvalidConfig = errors.New("geostack: invalid config")

// ConfigError lists every problem found in a configuration.
type ConfigError struct {
	// Source is the file the configuration came from, if any.
	Source string
	// Problems are the individual problems, each saying which key and what
	// is wrong.
	Problems []error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("geostack: invalid config")
	if e.Source != "" {
		b.WriteString(" in ")
		b.WriteString(e.Source)
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Unwrap returns the individual problems.
func (e *ConfigError) Unwrap() []error { return e.Problems }
