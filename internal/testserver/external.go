package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ExternalKeystone makes the Server's services (nova, glance, cinder and
// neutron, in every region) validate each token at a Keystone outside the
// Server, as the real services do through keystonemiddleware, instead of
// looking it up in the Server's own Keystone. The Server can then stand in
// for services a real cloud lacks: registered in the real Keystone's
// catalog, it accepts exactly the tokens that Keystone accepts, with their
// users, projects and roles.
//
// The services validate with GET /v3/auth/tokens (X-Subject-Token) at
// their location's AuthURLs entry, authenticated by a service token they
// take from that Keystone with the service user below, and keep validated
// tokens in a small cache. A token Keystone does not know answers 401; a
// Keystone that cannot be asked, 503. The Server's own Keystone still
// answers, but its tokens are not accepted by the services in this mode.
type ExternalKeystone struct {
	// AuthURLs maps each location of the World to the Keystone v3
	// endpoint (ending in /v3) its regions' services validate at.
	AuthURLs map[string]string
	// UserName, UserDomainID and Password are the service user's (it
	// needs the service or admin role, as Keystone's
	// identity:validate_token rule asks); ProjectName and
	// ProjectDomainID the project its token is scoped to.
	UserName, UserDomainID, Password string
	ProjectName, ProjectDomainID     string
	// CacheTTL is the longest a validated token is trusted without asking
	// Keystone again, never past the token's expiry. Zero means 5 minutes
	// (keystonemiddleware's token_cache_time).
	CacheTTL time.Duration
	// NegativeTTL is how long a token Keystone did not know is remembered
	// as invalid. Zero means 10 s.
	NegativeTTL time.Duration
	// CacheSize bounds the cached validations. Zero means 1,000.
	CacheSize int
	// HTTPClient talks to the Keystone. Nil means a client with a 10 s
	// timeout per request.
	HTTPClient *http.Client
}

// external validates the services' tokens at an ExternalKeystone.
type external struct {
	cfg  ExternalKeystone
	http *http.Client
	now  func() time.Time

	validations atomic.Int64 // GET /v3/auth/tokens sent

	svcMu sync.Mutex // one service token fetch at a time

	mu       sync.Mutex
	service  map[string]serviceToken // location -> the services' own token
	cache    map[string]extEntry     // location + "\x00" + token -> validation
	inflight map[string]*extInflight // same key
}

type serviceToken struct {
	id      string
	expires time.Time
}

// extEntry is one cached validation: a token (nil when Keystone did not
// know it) trusted until until.
type extEntry struct {
	tok    *token
	images map[string]string // region -> public image endpoint, from the token's catalog
	until  time.Time
}

type extInflight struct {
	done  chan struct{}
	entry extEntry
	err   error
}

// errKeystoneUnavailable is a validation Keystone did not answer.
var errKeystoneUnavailable = errors.New("testserver: the external Keystone cannot validate tokens now")

func newExternal(cfg ExternalKeystone, now func() time.Time, locations []string) (*external, error) {
	for _, l := range locations {
		u, err := url.Parse(cfg.AuthURLs[l])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("testserver: ExternalKeystone.AuthURLs[%q]: want an http(s) Keystone v3 URL, got %q", l, cfg.AuthURLs[l])
		}
	}
	if cfg.UserName == "" || cfg.Password == "" || cfg.ProjectName == "" {
		return nil, errors.New("testserver: ExternalKeystone needs the service user's UserName, Password and ProjectName")
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = 10 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1000
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &external{cfg: cfg, http: hc, now: now,
		service: map[string]serviceToken{}, cache: map[string]extEntry{}, inflight: map[string]*extInflight{}}, nil
}

// ExternalValidations returns how many validation requests (GET
// /v3/auth/tokens) the services sent to the ExternalKeystone; 0 without
// one.
func (s *Server) ExternalValidations() int64 {
	if s.ext == nil {
		return 0
	}
	return s.ext.validations.Load()
}

// serviceCaller authenticates the X-Auth-Token of a service request at loc,
// answering 401 (or 503, when an external Keystone cannot be asked) itself.
func (s *Server) serviceCaller(w http.ResponseWriter, r *http.Request, loc string) (*token, bool) {
	id := r.Header.Get("X-Auth-Token")
	uri := s.AuthURL(loc)
	if s.ext != nil {
		uri = s.ext.cfg.AuthURLs[loc]
	}
	deny := func() (*token, bool) {
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+uri+`"`)
		keystoneError(w, http.StatusUnauthorized, msgAuthRequired)
		return nil, false
	}
	if id == "" {
		return deny()
	}
	if s.ext == nil {
		t, ok := s.lookupToken(id, loc, false)
		if !ok {
			return deny()
		}
		return t, true
	}
	e, err := s.ext.validate(r.Context(), loc, id)
	if err != nil {
		serviceError(w, http.StatusServiceUnavailable, "The service cannot validate tokens at the moment.")
		return nil, false
	}
	if e.tok == nil {
		return deny()
	}
	return e.tok, true
}

// validate returns the cached validation of tok at loc, or asks Keystone
// once however many requests wait for it.
func (x *external) validate(ctx context.Context, loc, tok string) (extEntry, error) {
	key := loc + "\x00" + tok
	x.mu.Lock()
	if e, ok := x.cache[key]; ok && x.now().Before(e.until) {
		x.mu.Unlock()
		return e, nil
	}
	f, flying := x.inflight[key]
	if !flying {
		f = &extInflight{done: make(chan struct{})}
		x.inflight[key] = f
	}
	x.mu.Unlock()
	if flying {
		select {
		case <-f.done:
			return f.entry, f.err
		case <-ctx.Done():
			return extEntry{}, ctx.Err()
		}
	}
	// The request's own context is not used: the result serves every
	// waiter, and a validation is bounded by the HTTP client's timeout.
	f.entry, f.err = x.fetch(context.WithoutCancel(ctx), loc, tok)
	x.mu.Lock()
	delete(x.inflight, key)
	if f.err == nil {
		x.store(key, f.entry)
	}
	x.mu.Unlock()
	close(f.done)
	return f.entry, f.err
}

// store caches e under key; x.mu is held. When the cache is full, expired
// entries go first, then arbitrary ones.
func (x *external) store(key string, e extEntry) {
	if _, ok := x.cache[key]; !ok && len(x.cache) >= x.cfg.CacheSize {
		now := x.now()
		for k, old := range x.cache {
			if !now.Before(old.until) {
				delete(x.cache, k)
			}
		}
		for k := range x.cache {
			if len(x.cache) < x.cfg.CacheSize {
				break
			}
			delete(x.cache, k)
		}
	}
	x.cache[key] = e
}

// fetch validates tok at loc's Keystone. A service token Keystone rejects
// is taken anew, once.
func (x *external) fetch(ctx context.Context, loc, tok string) (extEntry, error) {
	for attempt := 0; ; attempt++ {
		svc, err := x.serviceToken(ctx, loc)
		if err != nil {
			return extEntry{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.cfg.AuthURLs[loc]+"/auth/tokens", nil)
		if err != nil {
			return extEntry{}, err
		}
		req.Header.Set("X-Auth-Token", svc)
		req.Header.Set("X-Subject-Token", tok)
		req.Header.Set("Accept", "application/json")
		x.validations.Add(1)
		resp, err := x.http.Do(req)
		if err != nil {
			return extEntry{}, fmt.Errorf("%w: %v", errKeystoneUnavailable, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return extEntry{}, fmt.Errorf("%w: %v", errKeystoneUnavailable, err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			return x.parse(loc, tok, body)
		case resp.StatusCode == http.StatusNotFound:
			return extEntry{until: x.now().Add(x.cfg.NegativeTTL)}, nil
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			x.mu.Lock()
			if x.service[loc].id == svc {
				delete(x.service, loc)
			}
			x.mu.Unlock()
			continue
		}
		return extEntry{}, fmt.Errorf("%w: validation answered %d", errKeystoneUnavailable, resp.StatusCode)
	}
}

// keystoneToken is what the services read of a Keystone token body.
type keystoneToken struct {
	Token struct {
		ExpiresAt time.Time `json:"expires_at"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		Project *struct {
			ID string `json:"id"`
		} `json:"project"`
		Domain *struct {
			ID string `json:"id"`
		} `json:"domain"`
		System map[string]any `json:"system"`
		Roles  []struct {
			Name string `json:"name"`
		} `json:"roles"`
		Catalog []catalogEntry `json:"catalog"`
	} `json:"token"`
}

func (x *external) parse(loc, id string, body []byte) (extEntry, error) {
	var kt keystoneToken
	if err := json.Unmarshal(body, &kt); err != nil || kt.Token.User.ID == "" || kt.Token.ExpiresAt.IsZero() {
		return extEntry{}, fmt.Errorf("%w: malformed validation answer", errKeystoneUnavailable)
	}
	t := &token{id: id, userID: kt.Token.User.ID, expiresAt: kt.Token.ExpiresAt, location: loc, system: kt.Token.System != nil}
	if kt.Token.Project != nil {
		t.projectID = kt.Token.Project.ID
	}
	if kt.Token.Domain != nil {
		t.domainID = kt.Token.Domain.ID
	}
	for _, r := range kt.Token.Roles {
		t.roles = append(t.roles, r.Name)
	}
	images := map[string]string{}
	for _, e := range kt.Token.Catalog {
		if e.Type != "image" {
			continue
		}
		for _, ep := range e.Endpoints {
			if ep.Interface == "public" {
				images[cmpOr(ep.RegionID, ep.Region)] = strings.TrimSuffix(ep.URL, "/")
			}
		}
	}
	until := x.now().Add(x.cfg.CacheTTL)
	if t.expiresAt.Before(until) {
		until = t.expiresAt
	}
	return extEntry{tok: t, images: images, until: until}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// serviceToken returns the services' token at loc, taking one from its
// Keystone when there is none or it expires within a minute.
func (x *external) serviceToken(ctx context.Context, loc string) (string, error) {
	x.svcMu.Lock()
	defer x.svcMu.Unlock()
	x.mu.Lock()
	st, ok := x.service[loc]
	x.mu.Unlock()
	if ok && x.now().Add(time.Minute).Before(st.expires) {
		return st.id, nil
	}
	var body struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						Name     string            `json:"name"`
						Domain   map[string]string `json:"domain"`
						Password string            `json:"password"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project struct {
					Name   string            `json:"name"`
					Domain map[string]string `json:"domain"`
				} `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	id := &body.Auth.Identity
	id.Methods = []string{"password"}
	id.Password.User.Name = x.cfg.UserName
	id.Password.User.Domain = map[string]string{"id": cmpOr(x.cfg.UserDomainID, "default")}
	id.Password.User.Password = x.cfg.Password
	body.Auth.Scope.Project.Name = x.cfg.ProjectName
	body.Auth.Scope.Project.Domain = map[string]string{"id": cmpOr(x.cfg.ProjectDomainID, "default")}
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.cfg.AuthURLs[loc]+"/auth/tokens?nocatalog", strings.NewReader(string(b)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := x.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: service token: %v", errKeystoneUnavailable, err)
	}
	defer resp.Body.Close()
	var kt keystoneToken
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&kt)
	tokID := resp.Header.Get("X-Subject-Token")
	if resp.StatusCode != http.StatusCreated || err != nil || tokID == "" {
		// The body of an error names no secret; the status is enough.
		return "", fmt.Errorf("%w: the service user %s got %d for its token", errKeystoneUnavailable, x.cfg.UserName, resp.StatusCode)
	}
	x.mu.Lock()
	x.service[loc] = serviceToken{id: tokID, expires: kt.Token.ExpiresAt}
	x.mu.Unlock()
	return tokID, nil
}

// imageUsable reports whether a server may be created from image ref in
// the request's region, as Nova asks Glance with the caller's token: the
// image must be readable by the caller and active. On its own, the Server
// looks in its own Glance of that region; with an ExternalKeystone, it
// asks the region's image service in the token's catalog (which may be a
// real Glance).
func (s *Server) imageUsable(ctx context.Context, sr *serviceReq, ref string) (bool, error) {
	if s.ext == nil {
		return s.glance.bootable(sr.region, ref, sr.tok.projectID, sr.admin), nil
	}
	e, err := s.ext.validate(ctx, sr.tok.location, sr.tok.id)
	if err != nil {
		return false, err
	}
	base := e.images[sr.region]
	if base == "" || ref == "" {
		return false, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v2/images/"+url.PathEscape(ref), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("X-Auth-Token", sr.tok.id)
	req.Header.Set("Accept", "application/json")
	resp, err := s.ext.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("testserver: the image service of %s: %w", sr.region, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		var im struct {
			Status string `json:"status"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&im); err != nil {
			return false, fmt.Errorf("testserver: the image service of %s: %w", sr.region, err)
		}
		return im.Status == "active", nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("testserver: the image service of %s answered %d", sr.region, resp.StatusCode)
}
