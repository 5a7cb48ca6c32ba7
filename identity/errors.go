package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Sentinel errors. Every error this package returns is an *Error that
// matches one of them with errors.Is.
var (
	// ErrInvalidCredential: the credential, the scope or an argument (the
	// auth URL, an empty token) is malformed or a bad combination; it was
	// rejected before any request was made. Keystone answering 400 Bad
	// Request matches it too.
	ErrInvalidCredential = errors.New("identity: invalid credential or scope")
	// ErrUnauthorized: Keystone answered 401 (wrong password, unknown
	// user, expired or invalid caller token).
	ErrUnauthorized = errors.New("identity: unauthorized")
	// ErrForbidden: Keystone answered 403.
	ErrForbidden = errors.New("identity: forbidden")
	// ErrNotFound: the subject token of a validation is unknown, expired or
	// revoked (Keystone answered 404).
	ErrNotFound = errors.New("identity: token not found")
	// ErrUnavailable: Keystone could not be reached or failed: connection
	// refused, timeout, or a 5xx answer.
	ErrUnavailable = errors.New("identity: keystone unavailable")
	// ErrBadResponse: Keystone answered, but the answer could not be used:
	// malformed JSON, a missing field, or a body over the size limit.
	ErrBadResponse = errors.New("identity: bad response")
	// ErrRateLimited: Keystone (or a rate limiter in front of it) answered
	// 429 Too Many Requests. It is back pressure, not a fault: Error's
	// RetryAfter says how long to wait, and nobody should fail over to
	// another location for it.
	ErrRateLimited = errors.New("identity: rate limited")
)

// Error is the error of a Keystone operation. It never contains a token, a
// password or a secret: Message is only Keystone's {"error":{"message"}},
// bounded and with the request's secrets replaced, and Err is a transport
// or decoding cause, never a response body.
type Error struct {
	// Op is the operation: "issue", "validate", "check" or "revoke"; or
	// "validate" for the error of Credential.Validate or Scope.Validate
	// called directly.
	Op string
	// URL is the auth_url the operation went to (it holds no secret).
	URL string
	// Status is the HTTP status Keystone answered, or 0 if none.
	Status int
	// Message is Keystone's own error message, if it gave one.
	Message string
	// Kind is the sentinel the error matches (ErrUnauthorized, ...).
	Kind error
	// RetryAfter is how long Keystone asked to be left alone (its
	// Retry-After header on a 429 or a 503), zero if it did not say.
	RetryAfter time.Duration
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("identity: ")
	b.WriteString(e.Op)
	if e.URL != "" {
		b.WriteString(" at ")
		b.WriteString(e.URL)
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "identity: "))
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel kind and the cause, so that errors.Is matches
// both.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range [2]error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// maxMessage bounds the Keystone message kept in an *Error.
const maxMessage = 512

// classify turns what gophercloud returned for operation op at authURL
// into an *Error. secrets are the secrets the request carried: they are
// scrubbed from Keystone's message in case a server or proxy echoes them.
func classify(op, authURL string, err error, secrets ...string) *Error {
	e := &Error{Op: op, URL: authURL}
	var tooLarge *bodyTooLargeError
	var code gophercloud.ErrUnexpectedResponseCode
	var codePtr *gophercloud.ErrUnexpectedResponseCode
	var uerr *url.Error
	var nerr net.Error
	switch {
	case errors.As(err, &tooLarge):
		e.Kind, e.Err = ErrBadResponse, tooLarge
	case errors.As(err, &code) || errors.As(err, &codePtr):
		if codePtr != nil {
			code = *codePtr
		}
		e.Status = code.Actual
		e.Message = keystoneMessage(code.Body, secrets)
		e.Kind = statusKind(op, code.Actual, e.Message != "")
		if code.Actual == http.StatusTooManyRequests || code.Actual == http.StatusServiceUnavailable {
			e.RetryAfter = retryAfter(code.ResponseHeader.Get("Retry-After"), time.Now())
		}
	case errors.As(err, &uerr):
		// The request did not get an answer: refused, reset, timed out,
		// or the caller's context ended. Keep the cause (not the
		// url.Error, whose text repeats method and URL) so that
		// errors.Is(err, context.Canceled) holds.
		e.Kind, e.Err = ErrUnavailable, uerr.Err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr):
		// Failed while reading the body.
		e.Kind, e.Err = ErrUnavailable, err
	default:
		// The answer came but did not decode: gophercloud's JSON
		// decoding errors name a type or a character, never a value.
		e.Kind, e.Err = ErrBadResponse, err
	}
	return e
}

// statusKind maps an unexpected HTTP status to a sentinel. keystoneBody
// says whether the answer carried Keystone's own error document.
func statusKind(op string, status int, keystoneBody bool) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusNotFound && op == opIssue && keystoneBody:
		// Keystone answers an authentication with an unknown, expired or
		// revoked token (the token method) with 404 "Failed to validate
		// token": the credential is refused, as with a 401.
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound && keystoneBody:
		// Keystone's own "could not find token" on validate or revoke.
		// (A 404 without Keystone's error document is a wrong URL or a
		// proxy's answer, not a verdict on the token: ErrBadResponse.)
		return ErrNotFound
	case status == http.StatusBadRequest:
		// Keystone judged the request malformed: a credential or scope
		// it does not accept.
		return ErrInvalidCredential
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrUnavailable
	default:
		// 404 on issue (no Keystone tokens API at this URL), 3xx, other
		// 4xx: an answer this package cannot use.
		return ErrBadResponse
	}
}

// maxRetryAfter bounds a Retry-After: a server asking for more is not
// taken at its word.
const maxRetryAfter = 10 * time.Minute

// retryAfter parses a Retry-After header (delay seconds or an HTTP date,
// taken against now), bounded by maxRetryAfter; zero if absent or
// unparsable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// keystoneMessage extracts Keystone's {"error":{"message":...}} from an
// error body, bounded, on one line, and with any secret of the request
// replaced. Anything else in the body is dropped.
func keystoneMessage(body []byte, secrets []string) string {
	var b struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	m := b.Error.Message
	for _, s := range secrets {
		if s != "" {
			m = strings.ReplaceAll(m, s, "[REDACTED]")
		}
	}
	m = strings.Join(strings.Fields(m), " ")
	m = strings.ToValidUTF8(m, "?")
	if len(m) > maxMessage {
		m = strings.ToValidUTF8(m[:maxMessage], "") + "…"
	}
	return m
}
