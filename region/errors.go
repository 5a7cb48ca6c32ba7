package region

import (
	"fmt"
	"strings"
)

// UnknownRegionError says that no location holds Region, in the configuration.
type UnknownRegionError struct {
	Region string
	// Known are the regions the resolver knows, sorted.
	Known []string
}

func (e *UnknownRegionError) Error() string {
	return fmt.Sprintf("region: unknown region %q (known: %s)", e.Region, strings.Join(e.Known, ", "))
}

// UnknownLocationError says that Location is not a configured location.
type UnknownLocationError struct {
	Location string
	// Known are the configured locations, in configured order.
	Known []string
}

func (e *UnknownLocationError) Error() string {
	return fmt.Sprintf("region: unknown location %q (known: %s)", e.Location, strings.Join(e.Known, ", "))
}

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
// down, timed out, failed with a 5xx, or had its circuit open. errors.Is
// matches every error of its attempts (such as identity.ErrUnavailable).
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
