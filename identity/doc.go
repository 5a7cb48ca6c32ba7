// Package identity talks to Keystone v3, with gophercloud as the wire layer:
// it issues tokens from credentials, validates tokens with a service token,
// and returns them parsed into a Token whose catalog is indexed and whose
// expiry is on the local clock.
//
// A service writes:
//
//	var c identity.Client
//	tok, err := c.Issue(ctx, authURL, identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: pw}, identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"})
//	ep, err := tok.Catalog.Select(catalog.Query{Type: "compute", Region: "TYO1"})
//
// # Credentials and scopes
//
// A Credential is a Password, an ApplicationCredential or a TokenCredential;
// a Scope names a project, a domain, the system, or nothing (unscoped).
// Credential.Validate and Scope.Validate reject bad combinations before any
// request is made; Client.Issue calls them itself.
//
// # Errors
//
// Every error is an *Error that matches one sentinel with errors.Is:
// ErrInvalidCredential (rejected before any request), ErrUnauthorized (401),
// ErrForbidden (403), ErrNotFound (404 on validate, check or revoke),
// ErrUnavailable (connection refused, timeout, 5xx, or the caller's context
// ending, which stays matchable as context.Canceled or
// context.DeadlineExceeded) and ErrBadResponse (malformed JSON, a missing
// field, a body over Client.MaxBodyBytes). An *Error carries the HTTP status
// and Keystone's own message.
//
// # Secrets
//
// A password, an application credential secret or a token id never reaches
// an error string, a log line or fmt output: Token, Password,
// ApplicationCredential and TokenCredential implement fmt.Formatter (every
// verb, %#v and %+v included), fmt.Stringer, slog.LogValuer and
// json.Marshaler, and show a token only by its TokenFingerprint.
package identity
