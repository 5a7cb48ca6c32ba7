// Package configerr is the one shape of a configuration error in geostack.
// Every package that checks a configuration (the root package's Config,
// region.Config, domain lists, tokencache.Options, authtoken.Config)
// reports through it, so that a user matches any of them with
// errors.Is(err, geostack.ErrInvalidConfig) and reads every problem, with
// its path, from one *geostack.ConfigError. The root package re-exports
// the names; nothing here is meant to be imported by users.
package configerr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is matched by every *Error.
var ErrInvalid = errors.New("geostack: invalid config")

// Error lists every problem found in one configuration. It matches
// ErrInvalid, and, through its problems, each problem's cause.
type Error struct {
	// Source is the file the configuration came from, if any.
	Source string
	// Problems are the individual problems, in the order they were found.
	Problems []*Problem
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Key is the path of the offending setting in the configuration's own
	// words, such as "locations[1].auth_urls[0]" or "cache_options.jitter".
	Key string
	// Line and Column locate the offending value in Source, 1-based; zero
	// when the configuration did not come from a file or the place is not
	// known.
	Line, Column int
	// Reason says what is wrong. It never holds a secret.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
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

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the problems, so that errors.As finds a *Problem and
// errors.Is finds a problem's cause.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Error returns "line L column C: key: reason: cause", leaving out what is
// not known.
func (p *Problem) Error() string {
	var b strings.Builder
	if p.Line > 0 {
		b.WriteString("line " + strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(" column " + strconv.Itoa(p.Column))
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	if p.Err != nil {
		if p.Reason != "" {
			b.WriteString(": ")
		}
		b.WriteString(p.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.Err }

// List gathers problems. The zero List is empty and ready to use.
type List struct {
	problems []*Problem
}

// Add records a problem with key.
func (l *List) Add(key, format string, args ...any) {
	l.problems = append(l.problems, &Problem{Key: key, Reason: fmt.Sprintf(format, args...)})
}

// Wrap records err as a problem with key. An *Error's problems are added
// with key prefixed to theirs, so that a nested configuration keeps its
// paths; any other error becomes the cause of one problem.
func (l *List) Wrap(key string, err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) {
		for _, p := range e.Problems {
			q := *p
			q.Key = Join(key, p.Key)
			l.problems = append(l.problems, &q)
		}
		return
	}
	l.problems = append(l.problems, &Problem{Key: key, Err: err})
}

// AddProblem records p as it is.
func (l *List) AddProblem(p *Problem) { l.problems = append(l.problems, p) }

// Len reports how many problems were recorded.
func (l *List) Len() int { return len(l.problems) }

// Err returns an *Error of the recorded problems, or nil if there are none.
func (l *List) Err() error {
	if len(l.problems) == 0 {
		return nil
	}
	return &Error{Problems: l.problems}
}

// Join joins two key paths: Join("domains", "[0].prefix") is
// "domains[0].prefix", Join("cache_options", "jitter") is
// "cache_options.jitter".
func Join(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "":
		return prefix
	case strings.HasPrefix(key, "["):
		return prefix + key
	}
	return prefix + "." + key
}
