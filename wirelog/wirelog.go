// Package wirelog is a debug http.RoundTripper that logs every request
// and response going to Keystone and the OpenStack services, with every
// secret taken out: what to turn on when something breaks and the question
// is what went over the wire.
//
// geostack turns it on for all its requests with one field:
//
//	cfg.DebugLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: wirelog.LevelBody}))
//
// and any other client wraps its transport:
//
//	httpClient.Transport = &wirelog.Transport{Base: httpClient.Transport, Logger: logger}
//
// Each request is logged at slog.LevelDebug as it goes out, and its answer
// (or error) when it comes back: method, URL, headers, status, duration and
// x-openstack-request-id. Bodies are logged too when the logger is enabled
// for LevelBody, below debug: JSON bodies only (anything else is described
// by its type and length, never shown), up to MaxBodyBytes.
//
// What is taken out:
//
//   - the URL's user information, and the values of query parameters named
//     like secrets (token, password, secret, signature, key, credential,
//     temp_url_sig, …);
//   - X-Auth-Token, X-Subject-Token and X-Service-Token, shown as their
//     fingerprint (identity.TokenFingerprint), so that log lines about the
//     same token can be matched; Authorization, cookies and every header
//     named like a secret, shown as REDACTED;
//   - in JSON bodies, the value of every member named like a secret
//     (password, secret, passcode, adminPass, user_data, blob, private_key,
//     …, at any depth: an application credential's secret, nova's admin
//     password), and the id of a token credential
//     ({"auth":{"identity":{"token":{"id":…}}}}), shown as its fingerprint.
//
// A body that cannot be parsed as JSON is not shown at all, since it
// cannot be redacted.
package wirelog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
)

// LevelBody is the level at which a Transport's logger must be enabled for
// bodies to be logged: below slog.LevelDebug, so that a debug logger shows
// the exchanges and a more verbose one their bodies too.
const LevelBody = slog.LevelDebug - 4

// DefaultMaxBodyBytes is the default Transport.MaxBodyBytes.
const DefaultMaxBodyBytes = 64 << 10

// Redacted stands in for a secret.
const Redacted = "REDACTED"

// Transport logs each round trip through Base. Its fields may be changed
// only while no request is in flight. A Transport is safe for concurrent
// use.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Logger receives the log records; nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes is the longest body logged (at LevelBody); a longer one
	// is described by its length. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int
	// Clock measures durations; nil means the system clock.
	Clock clock.Clock
}

// Wrap returns a copy of c (nil: a zero http.Client) whose Transport logs
// to logger through a Transport around c's own.
func Wrap(c *http.Client, logger *slog.Logger) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	out.Transport = &Transport{Base: out.Transport, Logger: logger}
	return out
}

// RoundTrip implements http.RoundTripper. The request is not modified: when
// its body is logged, it is read from a copy (GetBody) or replaced in a
// shallow copy of the request.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	logger := t.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ctx := req.Context()
	if !logger.Enabled(ctx, slog.LevelDebug) {
		return base.RoundTrip(req)
	}
	bodies := logger.Enabled(ctx, LevelBody)
	clk := t.Clock
	if clk == nil {
		clk = clock.System()
	}
	limit := t.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	u := RedactURL(req.URL)
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", u),
		slog.Any("headers", headerValue(req.Header)),
	}
	if bodies {
		var body slog.Attr
		req, body = t.requestBody(req, limit)
		attrs = append(attrs, body)
	}
	logger.LogAttrs(ctx, slog.LevelDebug, "geostack: http request", attrs...)

	start := clk.Now()
	resp, err := base.RoundTrip(req)
	d := clk.Now().Sub(start)
	if err != nil {
		logger.LogAttrs(ctx, slog.LevelDebug, "geostack: http request failed",
			slog.String("method", req.Method), slog.String("url", u), slog.Duration("duration", d),
			slog.String("error", redactError(err, req.URL, u)))
		return resp, err
	}
	attrs = []slog.Attr{
		slog.String("method", req.Method),
		slog.String("url", u),
		slog.Int("status", resp.StatusCode),
		slog.Duration("duration", d),
		slog.String("request_id", resp.Header.Get("X-Openstack-Request-Id")),
		slog.Any("headers", headerValue(resp.Header)),
	}
	if bodies {
		var body slog.Attr
		resp, body = responseBody(resp, limit)
		attrs = append(attrs, body)
	}
	logger.LogAttrs(ctx, slog.LevelDebug, "geostack: http response", attrs...)
	return resp, nil
}

// requestBody returns the request to send and its body's log attribute.
func (t *Transport) requestBody(req *http.Request, limit int) (*http.Request, slog.Attr) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, slog.String("body", "")
	}
	ct := req.Header.Get("Content-Type")
	if !isJSON(ct) {
		return req, slog.String("body", describe(ct, req.ContentLength))
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return req, slog.String("body", "(not readable: "+err.Error()+")")
		}
		defer rc.Close()
		b, _ := io.ReadAll(io.LimitReader(rc, int64(limit)+1))
		return req, slog.String("body", RedactJSON(b, limit))
	}
	// No copy to read: read the body and send what was read, then the rest.
	b, err := io.ReadAll(io.LimitReader(req.Body, int64(limit)+1))
	r := req.Clone(req.Context())
	r.Body = readCloser{io.MultiReader(bytes.NewReader(b), req.Body), req.Body}
	if err != nil {
		return r, slog.String("body", "(not readable)")
	}
	return r, slog.String("body", RedactJSON(b, limit))
}

// responseBody returns resp, with a body that still yields every byte, and
// its body's log attribute.
func responseBody(resp *http.Response, limit int) (*http.Response, slog.Attr) {
	ct := resp.Header.Get("Content-Type")
	if resp.Body == nil || resp.Body == http.NoBody {
		return resp, slog.String("body", "")
	}
	if !isJSON(ct) {
		return resp, slog.String("body", describe(ct, resp.ContentLength))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	if err != nil {
		return resp, slog.String("body", "(not readable)")
	}
	return resp, slog.String("body", RedactJSON(b, limit))
}

type readCloser struct {
	io.Reader
	io.Closer
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.Contains(mt, "json")
}

func describe(contentType string, n int64) string {
	if contentType == "" {
		contentType = "no content type"
	}
	if n < 0 {
		return "(" + contentType + ", not shown)"
	}
	return fmt.Sprintf("(%s, %d bytes, not shown)", contentType, n)
}

// RedactURL returns u as a string without its user information and with
// the values of query parameters named like secrets replaced by REDACTED.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = Redacted
		} else {
			for k, vs := range q {
				if secretName(k) {
					for i := range vs {
						vs[i] = Redacted
					}
				}
			}
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}

// redactError returns err's message with the request's URL, which
// net/http's errors quote, in its redacted form.
func redactError(err error, raw *url.URL, redactedURL string) string {
	s := err.Error()
	if ue, ok := errors.AsType[*url.Error](err); ok {
		s = strings.ReplaceAll(s, ue.URL, redactedURL)
	}
	if raw != nil {
		s = strings.ReplaceAll(s, raw.String(), redactedURL)
	}
	return s
}

// tokenHeaders carry a Keystone token: logged as its fingerprint.
var tokenHeaders = map[string]bool{"X-Auth-Token": true, "X-Subject-Token": true, "X-Service-Token": true}

// RedactHeader returns a copy of h with every secret header's values
// replaced: a token header's by its fingerprint, any other's by REDACTED.
func RedactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		vs = append([]string(nil), vs...)
		switch {
		case tokenHeaders[ck]:
			for i := range vs {
				vs[i] = identity.TokenFingerprint(vs[i])
			}
		case secretHeader(ck):
			for i := range vs {
				vs[i] = Redacted
			}
		}
		out[ck] = vs
	}
	return out
}

// headerValue is a header map as a log value: one attribute per header.
type headerValue http.Header

func (h headerValue) LogValue() slog.Value {
	r := RedactHeader(http.Header(h))
	attrs := make([]slog.Attr, 0, len(r))
	for k, vs := range r {
		attrs = append(attrs, slog.String(k, strings.Join(vs, ", ")))
	}
	return slog.GroupValue(attrs...)
}

func secretHeader(k string) bool {
	l := strings.ToLower(k)
	switch l {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	return secretName(l) || strings.Contains(l, "key") || strings.Contains(l, "auth-")
}

// secretName reports whether a query parameter, header or JSON member
// named name holds a secret.
func secretName(name string) bool {
	l := strings.ToLower(name)
	l = strings.ReplaceAll(l, "-", "_")
	switch l {
	case "key", "sig", "signature", "temp_url_sig", "blob", "user_data", "adminpass", "admin_pass", "private_key", "access_key", "api_key", "apikey", "credential", "credentials":
		return true
	}
	for _, s := range []string{"password", "passwd", "passcode", "secret", "token", "signature", "_sig", "private_key"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// RedactJSON returns body, a JSON document, re-encoded with every secret
// replaced, or a description of it when it is longer than limit bytes or
// not JSON (which cannot be redacted, and so is not shown).
func RedactJSON(body []byte, limit int) string {
	if len(body) == 0 {
		return ""
	}
	if limit > 0 && len(body) > limit {
		return fmt.Sprintf("(JSON longer than %d bytes, not shown)", limit)
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "(" + strconv.Itoa(len(body)) + " bytes of malformed JSON, not shown)"
	}
	if d.More() {
		return "(" + strconv.Itoa(len(body)) + " bytes of malformed JSON, not shown)"
	}
	b, err := json.Marshal(redactValue(v, ""))
	if err != nil {
		return "(JSON not shown)"
	}
	return string(b)
}

// redactValue redacts v, the value of the member named parent.
func redactValue(v any, parent string) any {
	switch x := v.(type) {
	case map[string]any:
		tokenObject := strings.EqualFold(parent, "token")
		for k, e := range x {
			switch {
			case tokenObject && strings.EqualFold(k, "id"):
				// A token credential: {"token": {"id": "gAAAA…"}}.
				if s, ok := e.(string); ok {
					x[k] = identity.TokenFingerprint(s)
				} else {
					x[k] = Redacted
				}
			case secretName(k) && isContainer(e) && (strings.EqualFold(k, "token") || strings.EqualFold(k, "password")):
				// Keystone's token body ({"token": {"user": …}}, whose id
				// travels in X-Subject-Token) and the password method
				// ({"password": {"user": {"name", "password"}}}): their
				// members follow the rules, a token credential's id
				// included.
				x[k] = redactValue(e, k)
			case secretName(k):
				x[k] = redactSecret(e)
			default:
				x[k] = redactValue(e, k)
			}
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e, parent)
		}
		return x
	}
	return v
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// redactSecret replaces a secret member's value: a string or a number is
// REDACTED; an object or an array (a "credentials" list) keeps its shape
// with every string and number in it REDACTED.
func redactSecret(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = redactSecret(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactSecret(e)
		}
		return x
	case bool, nil:
		return v
	}
	return Redacted
}

var _ http.RoundTripper = (*Transport)(nil)
