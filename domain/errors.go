package domain

import (
	"errors"
	"strconv"

	"github.com/geostack/geostack/internal/configerr"
)

// ErrUnknownDomain is returned by Registry.Filter for a domain that is not
// registered.
var ErrUnknownDomain = errors.New("domain: unknown domain")

// configError says what is wrong with a domain list, where, and which
// domains are involved. The exported functions hand it over as a
// *geostack.ConfigError (err).
type configError struct {
	// File is the file the list came from; empty for New and Load.
	File string
	// Line and Column locate the offending JSON value (1-based); zero
	// when the list did not come from JSON or the place is unknown.
	Line, Column int
	// Key is the JSON path of the offending value, such as
	// "domains[1].prefix" or "domains[0].endpoints.JP.user_auth_url". For
	// a value of the wrong type encoding/json leaves the location name out
	// ("domains[0].endpoints.user_auth_url"); Line and Column still point
	// at the value.
	Key string
	// Domains names the domains involved, in the order they were given.
	Domains []string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, if any.
	Err error

	index int // element of the list the error is about, -1 if none
}

// err returns e as the library's one configuration error.
func (e *configError) err() error {
	return &configerr.Error{Source: e.File, Problems: []*configerr.Problem{{
		Key: e.Key, Line: e.Line, Column: e.Column, Reason: e.Reason, Err: e.Err,
	}}}
}

// ListError is a listing that failed part way: Page pages had been
// received, and the items of those pages may already have been yielded.
type ListError struct {
	// Kind is what was being listed: "images", "flavors" or "volume types".
	Kind string
	// Page is the 1-based number of the page that failed, in the listing
	// that failed.
	Page int
	// Query is, for an image listing made of several narrowed listings
	// (see Filter.Images), the narrowing of the one that failed, such as
	// "visibility=public&domain_id=<id>" or "owner=<project>"; empty for a
	// listing of the caller's options as they were.
	Query string
	// Err is the error from gophercloud or the service; use
	// gophercloud.ResponseCodeIs to test its status code.
	Err error
}

// Error implements error.
func (e *ListError) Error() string {
	what := e.Kind
	if e.Query != "" {
		what += " (" + e.Query + ")"
	}
	return "domain: listing " + what + ": page " + strconv.Itoa(e.Page) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ListError) Unwrap() error { return e.Err }
