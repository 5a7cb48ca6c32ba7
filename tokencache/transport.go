package tokencache

import (
	"io"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
)

// authHeader is the header that carries a Keystone token.
const authHeader = "X-Auth-Token"

// Transport returns an http.RoundTripper that sends every request through
// base (nil: http.DefaultTransport) with the token of h in X-Auth-Token,
// replacing any such header the request had. The request is cloned, never
// modified.
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
	ctx := req.Context()
	tok, err := t.h.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := t.base.RoundTrip(withToken(req, tok.ID))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}

	t.h.Invalidate(tok.ID)
	if !replayable {
		return resp, nil
	}
	next, err := t.h.Token(ctx)
	if err != nil || next.ID == tok.ID {
		// No new token to retry with: the caller gets the 401.
		return resp, nil
	}
	retry := withToken(req, next.ID)
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

// withToken returns a clone of req carrying token.
func withToken(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set(authHeader, token)
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
