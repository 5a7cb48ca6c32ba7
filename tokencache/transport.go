package tokencache

import (
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// authHeader is the header that carries a Keystone token.
const authHeader = "X-Auth-Token"

// Transport returns an http.RoundTripper that sends every request through
// base (nil: http.DefaultTransport) with the token of h in X-Auth-Token,
// replacing any such header the request had. The request is copied, never
// modified.
//
// The token goes only where the request was meant to go: a request that
// follows a redirect (http.Client sets its Response) to another host, port
// or scheme than the first request of its chain is sent without it, and any
// X-Auth-Token the http.Client copied onto it is removed. A redirect can
// therefore not carry the token to another host, whatever the caller's
// CheckRedirect allows.
//
// On a 401 answer it invalidates exactly the token it sent, waits for the
// one coalesced refetch and retries the request once, if its body can be
// replayed (no body, or req.GetBody set, as http.NewRequest does for
// in-memory bodies). It never retries twice. A request whose body cannot be
// replayed gets the 401 response; the next request carries the new token.
// Wrapping a Transport of the same Handle again returns it unchanged.
func (h *Handle) Transport(base http.RoundTripper) http.RoundTripper {
	if t, ok := base.(*transport); ok && t.h == h {
		return t
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{h: h, base: base}
}

type transport struct {
	h    *Handle
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameOrigin(req) {
		if req.Header.Get(authHeader) == "" {
			return t.base.RoundTrip(req)
		}
		return t.base.RoundTrip(withHeader(req, nil))
	}
	ctx := req.Context()
	tok, hdr, err := t.h.header(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := t.base.RoundTrip(withHeader(req, hdr))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}

	t.h.Invalidate(tok.ID)
	if !replayable {
		return resp, nil
	}
	next, err := t.h.Token(ctx)
	if err != nil {
		// No new token to retry with: the caller gets the 401.
		return resp, nil
	}
	if next.ID == tok.ID {
		// The token stays (it was just replaced for another rejection):
		// the endpoint rejects tokens that are good elsewhere.
		drain(resp)
		return nil, &RejectedError{URL: endpointOf(req.URL), Identity: t.h.s.key.describe()}
	}
	retry := withHeader(req, []string{next.ID})
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		retry.Body = body
	}
	drain(resp)
	return t.base.RoundTrip(retry)
}

// sameOrigin reports whether req goes where the first request of its
// redirect chain went: the same scheme, host and port.
func sameOrigin(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first == req || origin(first.URL) == origin(req.URL)
}

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// withHeader returns a shallow copy of req whose headers are req's with
// X-Auth-Token set to token (its one value), or removed if token is nil.
// Only the header map is new, cloned whole: the values of the other
// headers are shared, as RoundTrip may do since it does not change them.
// (Headers set through http.Header are canonical: X-Auth-Token is the one
// spelling to replace.)
func withHeader(req *http.Request, token []string) *http.Request {
	r := new(http.Request)
	*r = *req
	r.Header = maps.Clone(req.Header)
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	if token == nil {
		delete(r.Header, authHeader)
	} else {
		r.Header[authHeader] = token
	}
	return r
}

// drain reads a little of resp's body and closes it, so that the
// connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// closeBody closes the body of a request that is not sent, as a
// RoundTripper must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// NewProviderClient returns a gophercloud ProviderClient whose requests
// carry the token of h: its HTTPClient is a copy of base (nil: a zero
// http.Client) whose Transport is wrapped by h.Transport. Its TokenID is
// empty and its ReauthFunc nil, so gophercloud's own locked token header
// and its reauthentication are never involved; a 401 is handled once by
// the transport. Build ServiceClients on it directly with an endpoint from
// the token's catalog:
//
//	sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: ep.URL}
//
// It has no EndpointLocator, so openstack.NewComputeV2 and its siblings,
// which look endpoints up through one, do not apply. Do not call SetToken
// or UseTokenLock on it.
func NewProviderClient(h *Handle, base *http.Client) *gophercloud.ProviderClient {
	pc := &gophercloud.ProviderClient{}
	if base != nil {
		pc.HTTPClient = *base
	}
	pc.HTTPClient.Transport = h.Transport(pc.HTTPClient.Transport)
	return pc
}

// RejectedError is returned by a Transport for a request that a service
// answered 401 with a token that was fetched anew for another 401 less
// than 30 s before: rather than churn the token that every service and
// region shares, the request fails, naming the endpoint that rejects what
// Keystone issued.
type RejectedError struct {
	// URL is the endpoint, scheme, host and path, without the query.
	URL string
	// Identity describes the token's entry, as FetchError.Identity does.
	Identity string
}

func (e *RejectedError) Error() string {
	return "tokencache: " + e.URL + " rejected a token just issued for " + e.Identity + " (401): not fetching another within 30 s"
}

// endpointOf returns u without its query, fragment and user information.
func endpointOf(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment, c.ForceQuery = nil, "", "", false
	return c.String()
}
