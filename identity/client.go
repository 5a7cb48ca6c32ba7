package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/clock"
)

// Operation names, as in Error.Op.
const (
	opIssue    = "issue"
	opValidate = "validate"
	opCheck    = "check"
	opRevoke   = "revoke"
)

// Client issues, validates and revokes Keystone tokens. The zero Client is
// ready to use. A Client holds no state between calls: it is safe for
// concurrent use, and its fields may be changed only while no call is in
// flight. Each call builds a gophercloud client for its auth URL without any
// version discovery request and without re-authentication.
type Client struct {
	// HTTPClient sends the requests; nil means http.DefaultClient. Its
	// Transport is wrapped to cap response bodies. Redirects are not
	// followed unless HTTPClient.CheckRedirect says otherwise.
	HTTPClient *http.Client

	// MaxBodyBytes caps the bytes read from each Keystone response; 0
	// means 4 MiB. A larger body fails with ErrBadResponse.
	MaxBodyBytes int64

	// Clock is the local clock; nil means the system clock. Token.Expiry
	// is its reading when the request was sent plus the remaining lifetime
	// Keystone granted.
	Clock clock.Clock

	// UserAgent, if set, is prepended to gophercloud's User-Agent.
	UserAgent string

	// NoCatalog asks Keystone to leave the service catalog out of issued
	// tokens (?nocatalog). Such a token's Catalog is empty; use it when
	// the token is only sent to Keystone, e.g. as a service token that
	// validates others.
	NoCatalog bool
}

// ValidateOptions are the options of Client.Validate and Client.Check.
type ValidateOptions struct {
	// NoCatalog asks Keystone to leave the catalog out (?nocatalog); the
	// Token's Catalog is then empty.
	NoCatalog bool
	// AllowExpired accepts a token that has expired (within Keystone's
	// allow_expired window), e.g. to finish a long operation started with
	// it (?allow_expired=1). The Token's Expiry may then be in the past.
	AllowExpired bool
	// AccessRules tells Keystone that the caller enforces the access
	// rules of application credentials (OpenStack-Identity-Access-Rules:
	// 1). Without it Keystone refuses (404) to validate a token whose
	// credential has access rules; with it, it returns them in
	// Token.ApplicationCredential, and the caller must enforce them.
	AccessRules bool
}

func (o ValidateOptions) query() string {
	switch {
	case o.NoCatalog && o.AllowExpired:
		return "?nocatalog&allow_expired=1"
	case o.NoCatalog:
		return "?nocatalog"
	case o.AllowExpired:
		return "?allow_expired=1"
	}
	return ""
}

func (c *Client) now() time.Time {
	if c.Clock != nil {
		return c.Clock.Now()
	}
	return time.Now()
}

// serviceClient returns a gophercloud identity v3 client for the
// normalized auth URL root, carrying token (if any) as X-Auth-Token.
//
// It is built directly rather than with openstack.NewClient and
// NewIdentityV3: those cut the path at the first "v<digits>" anywhere in
// it, so that an auth URL such as https://gw/srv1/v3 would become
// https://gw/sr/v3/.
func (c *Client) serviceClient(root, token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{IdentityBase: root + "/", IdentityEndpoint: root + "/v3/"}
	base := c.HTTPClient
	if base == nil {
		base = http.DefaultClient
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	maxBytes := c.MaxBodyBytes
	if maxBytes <= 0 {
		maxBytes = defaultMaxBodyBytes
	}
	redirect := base.CheckRedirect
	if redirect == nil {
		redirect = noRedirect
	}
	pc.HTTPClient = http.Client{
		Transport:     &limitTransport{base: rt, max: maxBytes},
		CheckRedirect: redirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
	if c.UserAgent != "" {
		pc.UserAgent.Prepend(c.UserAgent)
	}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: root + "/v3/", Type: "identity"}
}

// noRedirect stops at a redirect: Keystone's tokens API never redirects,
// and following one would resend X-Auth-Token, X-Subject-Token and a
// password body to wherever it points. The 3xx answer fails with
// ErrBadResponse.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Issue authenticates with cred at authURL and returns the token scoped to
// scope (the zero Scope: unscoped). authURL is the Keystone endpoint, with
// or without a trailing "/v3". The credential and scope are validated first;
// a bad one fails with ErrInvalidCredential and no request is made.
func (c *Client) Issue(ctx context.Context, authURL string, cred Credential, scope Scope) (*Token, error) {
	root, err := normalizeAuthURL(authURL)
	if err != nil {
		return nil, withOp(err, opIssue, "")
	}
	url := root + "/v3"
	if err := validateIssue(cred, scope); err != nil {
		return nil, withOp(err, opIssue, url)
	}
	cred = deref(cred)
	sc := c.serviceClient(root, "")
	opts := authOptions(cred, scope)
	sent := c.now()
	var r tokens.CreateResult
	if c.NoCatalog {
		// tokens.Create has no query parameters: build its body with
		// gophercloud and post it with ?nocatalog.
		r = createNoCatalog(ctx, sc, opts)
	} else {
		r = tokens.Create(ctx, sc, opts)
	}
	if r.Err != nil {
		return nil, classify(opIssue, url, r.Err, secretOf(cred))
	}
	t, err := parseToken(parseInput{result: r.Result, sent: sent})
	if err != nil {
		return nil, &Error{Op: opIssue, URL: url, Kind: ErrBadResponse, Err: err}
	}
	t.AuthURL = url
	return t, nil
}

// createNoCatalog is tokens.Create with ?nocatalog.
func createNoCatalog(ctx context.Context, sc *gophercloud.ServiceClient, opts tokens.AuthOptionsBuilder) (r tokens.CreateResult) {
	scope, err := opts.ToTokenV3ScopeMap()
	if err != nil {
		r.Err = err
		return r
	}
	body, err := opts.ToTokenV3CreateMap(scope)
	if err != nil {
		r.Err = err
		return r
	}
	resp, err := sc.Post(ctx, sc.ServiceURL("auth", "tokens")+"?nocatalog", body, &r.Body, &gophercloud.RequestOpts{
		OmitHeaders: []string{"X-Auth-Token"},
	})
	_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	return r
}

// authOptions translates a validated credential and scope.
func authOptions(cred Credential, s Scope) *tokens.AuthOptions {
	o := &tokens.AuthOptions{}
	switch c := cred.(type) {
	case Password:
		o.UserID, o.Username, o.DomainID, o.DomainName, o.Password = c.UserID, c.UserName, c.DomainID, c.DomainName, c.Password
	case ApplicationCredential:
		o.ApplicationCredentialID, o.ApplicationCredentialName, o.ApplicationCredentialSecret = c.ID, c.Name, c.Secret
		o.UserID, o.Username, o.DomainID, o.DomainName = c.UserID, c.UserName, c.UserDomainID, c.UserDomainName
	case TokenCredential:
		o.TokenID = c.ID
	}
	switch {
	case s.System:
		o.Scope.System = true
	case s.ProjectID != "":
		o.Scope.ProjectID = s.ProjectID
	case s.ProjectName != "":
		o.Scope.ProjectName, o.Scope.DomainID, o.Scope.DomainName = s.ProjectName, s.ProjectDomainID, s.ProjectDomainName
	default:
		o.Scope.DomainID, o.Scope.DomainName = s.DomainID, s.DomainName
	}
	return o
}

// secretOf returns the secret a credential carries.
func secretOf(cred Credential) string {
	switch c := cred.(type) {
	case Password:
		return c.Password
	case ApplicationCredential:
		return c.Secret
	case TokenCredential:
		return c.ID
	}
	return ""
}

// Validate asks Keystone at authURL, authenticated by serviceToken, whether
// subjectToken is valid, and returns it parsed (GET /v3/auth/tokens). An
// unknown, expired or revoked subject fails with ErrNotFound; a rejected
// service token with ErrUnauthorized; a service token without the right to
// validate with ErrForbidden.
func (c *Client) Validate(ctx context.Context, authURL, serviceToken, subjectToken string, o ValidateOptions) (*Token, error) {
	sc, url, err := c.validationClient(opValidate, authURL, serviceToken, subjectToken)
	if err != nil {
		return nil, err
	}
	sent := c.now()
	var r tokens.GetResult
	if q := o.query(); q == "" && !o.AccessRules {
		r = tokens.Get(ctx, sc, subjectToken)
	} else {
		// tokens.Get has no query parameters nor other headers: the same
		// request with them.
		h := map[string]string{"X-Subject-Token": subjectToken}
		if o.AccessRules {
			h["OpenStack-Identity-Access-Rules"] = "1"
		}
		resp, err := sc.Get(ctx, sc.ServiceURL("auth", "tokens")+q, &r.Body, &gophercloud.RequestOpts{
			MoreHeaders: h,
			OkCodes:     []int{200, 203},
		})
		_, r.Header, r.Err = gophercloud.ParseResponse(resp, err)
	}
	if r.Err != nil {
		return nil, classify(opValidate, url, r.Err, serviceToken, subjectToken)
	}
	t, err := parseToken(parseInput{result: r.Result, sent: sent, subject: subjectToken})
	if err != nil {
		return nil, &Error{Op: opValidate, URL: url, Kind: ErrBadResponse, Err: err}
	}
	t.AuthURL = url
	return t, nil
}

// Check is Validate without the body (HEAD /v3/auth/tokens): nil if
// subjectToken is valid, or the same errors as Validate. o.NoCatalog has
// no effect. A 404, which a HEAD answer cannot explain, is confirmed with
// a GET (nocatalog) before it is reported, so that a proxy's 404 does not
// make every token look revoked.
func (c *Client) Check(ctx context.Context, authURL, serviceToken, subjectToken string, o ValidateOptions) error {
	sc, url, err := c.validationClient(opCheck, authURL, serviceToken, subjectToken)
	if err != nil {
		return err
	}
	var ok bool
	if o.AllowExpired {
		// tokens.Validate has no query parameters: the same request with
		// allow_expired.
		var resp *http.Response
		resp, err = sc.Head(ctx, sc.ServiceURL("auth", "tokens")+"?allow_expired=1", &gophercloud.RequestOpts{
			MoreHeaders: map[string]string{"X-Subject-Token": subjectToken},
			OkCodes:     []int{200, 204, 404},
		})
		ok = err == nil && (resp.StatusCode == 200 || resp.StatusCode == 204)
	} else {
		ok, err = tokens.Validate(ctx, sc, subjectToken)
	}
	switch {
	case err != nil:
		return classify(opCheck, url, err, serviceToken, subjectToken)
	case !ok:
		// A HEAD answer has no body, so a 404 does not say whether
		// Keystone rejected the token or a proxy knows no such path: a
		// GET's error document decides, as Validate's rules do.
		_, err := c.Validate(ctx, authURL, serviceToken, subjectToken,
			ValidateOptions{NoCatalog: true, AllowExpired: o.AllowExpired})
		var ie *Error
		if errors.As(err, &ie) {
			e := *ie
			e.Op = opCheck
			return &e
		}
		return err
	}
	return nil
}

// Revoke revokes subjectToken at authURL, authenticated by serviceToken
// (which may be subjectToken itself). An unknown or already revoked token
// fails with ErrNotFound.
func (c *Client) Revoke(ctx context.Context, authURL, serviceToken, subjectToken string) error {
	sc, url, err := c.validationClient(opRevoke, authURL, serviceToken, subjectToken)
	if err != nil {
		return err
	}
	if r := tokens.Revoke(ctx, sc, subjectToken); r.Err != nil {
		return classify(opRevoke, url, r.Err, serviceToken, subjectToken)
	}
	return nil
}

// validationClient checks the arguments of Validate, Check and Revoke and
// returns the client to send them with and the normalized auth URL.
func (c *Client) validationClient(op, authURL, serviceToken, subjectToken string) (*gophercloud.ServiceClient, string, error) {
	root, err := normalizeAuthURL(authURL)
	if err != nil {
		return nil, "", withOp(err, op, "")
	}
	url := root + "/v3"
	switch {
	case serviceToken == "":
		return nil, "", withOp(invalid("service token", "empty"), op, url)
	case subjectToken == "":
		return nil, "", withOp(invalid("subject token", "empty"), op, url)
	}
	return c.serviceClient(root, serviceToken), url, nil
}

// withOp sets the operation and URL of a validation *Error.
func withOp(err error, op, url string) error {
	var e *Error
	if errors.As(err, &e) {
		e.Op, e.URL = op, url
	}
	return err
}
