package region

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is. Each is the kind of a typed error
// that carries the details.
var (
	// ErrInvalidConfig: Config is wrong; see *ConfigError.
	ErrInvalidConfig = errors.New("region: invalid config")
	// ErrUnknownRegion: no location holds the region; see *UnknownRegionError.
	ErrUnknownRegion = errors.New("region: unknown region")
	// ErrUnknownLocation: the location is not configured; see
	// *UnknownLocationError.
	ErrUnknownLocation = errors.New("region: unknown location")
	// ErrNotPrimary: an identity write was aimed at a location that is not
	// the primary; see *NotPrimaryError.
	ErrNotPrimary = errors.New("region: not the primary location")
	// ErrAllFailed: no auth_url could answer; see *AllFailedError.
	ErrAllFailed = errors.New("region: every auth_url failed")
)

// ConfigError is one problem in a Config. New reports every problem it
// finds, joined with errors.Join; each matches ErrInvalidConfig.
type ConfigError struct {
	// Field is the path of the offending field, such as
	// "Locations[1].AuthURLs[0]".
	Field string
	// Value is the offending value, with any user information of a URL
	// redacted.
	Value string
	// Reason says what is wrong.
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("region: config %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("region: config %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// UnknownRegionError says that no location holds Region, neither by
// configuration nor as learned from Keystone.
type UnknownRegionError struct {
	Region string
	// Known are the regions the resolver knows, sorted.
	Known []string
}

func (e *UnknownRegionError) Error() string {
	return fmt.Sprintf("region: unknown region %q (known: %s)", e.Region, strings.Join(e.Known, ", "))
}

// Is reports whether target is ErrUnknownRegion.
func (e *UnknownRegionError) Is(target error) bool { return target == ErrUnknownRegion }

// UnknownLocationError says that Location is not a configured location.
type UnknownLocationError struct {
	Location string
	// Known are the configured locations, in configured order.
	Known []string
}

func (e *UnknownLocationError) Error() string {
	return fmt.Sprintf("region: unknown location %q (known: %s)", e.Location, strings.Join(e.Known, ", "))
}

// Is reports whether target is ErrUnknownLocation.
func (e *UnknownLocationError) Is(target error) bool { return target == ErrUnknownLocation }

// NotPrimaryError refuses an identity write aimed at a replica location.
type NotPrimaryError struct {
	// Location is where the write was aimed.
	Location string
	// Primary is the only location that accepts writes.
	Primary string
}

func (e *NotPrimaryError) Error() string {
	return fmt.Sprintf("region: write refused at %s: writes (users, projects, application credentials) go to the primary location %s; %s is a read-only replica",
		e.Location, e.Primary, e.Location)
}

// Is reports whether target is ErrNotPrimary.
func (e *NotPrimaryError) Is(target error) bool { return target == ErrNotPrimary }

// Attempt is one auth_url considered by a request, and why it did not
// answer.
type Attempt struct {
	// AuthURL is the auth_url.
	AuthURL string
	// Location is the location it belongs to.
	Location string
	// Skipped is true when no request was sent because the auth_url's
	// circuit was open (or its one half-open probe was already in flight).
	Skipped bool
	// Err is the error of the request; nil when Skipped.
	Err error
}

func (a Attempt) String() string {
	if a.Skipped {
		return a.AuthURL + " (" + a.Location + "): circuit open, not tried"
	}
	return a.AuthURL + " (" + a.Location + "): " + a.Err.Error()
}

// AllFailedError is returned when no auth_url answered a request: each was
// down, timed out, failed with a 5xx, or had its circuit open. It matches
// ErrAllFailed, and with errors.Is every error of its attempts (such as
// identity.ErrUnavailable).
type AllFailedError struct {
	// Op is "issue", "validate" or "write".
	Op string
	// Home is the location the request started from.
	Home string
	// Attempts lists every auth_url considered, in the order tried.
	Attempts []Attempt
}

func (e *AllFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "region: %s from %s: every auth_url failed", e.Op, e.Home)
	for i, a := range e.Attempts {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// Is reports whether target is ErrAllFailed.
func (e *AllFailedError) Is(target error) bool { return target == ErrAllFailed }

// Unwrap returns the errors of the attempts that were made.
func (e *AllFailedError) Unwrap() []error {
	errs := make([]error, 0, len(e.Attempts))
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}
