package testserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// keystoneTimeFormat is how Keystone writes issued_at and expires_at.
const keystoneTimeFormat = "2006-01-02T15:04:05.000000Z"

// token is an issued token. It is immutable except for revoked.
type token struct {
	id        string
	userID    string
	methods   []string
	projectID string
	domainID  string // domain-scoped tokens only
	system    bool
	roles     []string
	issuedAt  time.Time
	expiresAt time.Time
	auditIDs  []string
	appCredID string
	location  string // where it was issued
	revoked   atomic.Bool
}

func (t *token) scoped() bool { return t.projectID != "" || t.domainID != "" || t.system }

// newTokenID returns an id shaped like a Keystone Fernet token issued at
// at: base64url, padding stripped, of the version byte 0x80, the Unix time
// in seconds (big-endian), a 16-byte IV, four 16-byte blocks standing for
// the ciphertext and a 32-byte HMAC, all but the first two random. Like a
// real one, it shows its creation time to anyone who decodes it.
func newTokenID(at time.Time) string {
	var b [1 + 8 + 16 + 4*16 + 32]byte
	rand.Read(b[:])
	b[0] = 0x80
	binary.BigEndian.PutUint64(b[1:9], uint64(at.Unix()))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newAuditID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:22]
}

// visibility returns what a location's replica sees now.
func (s *Server) visibility(loc string) visibility {
	if loc == s.primary || s.lag <= 0 {
		return visibility{all: true}
	}
	return visibility{cutoff: s.clock.Now().Add(-s.lag)}
}

// keystoneNow is the time as a location's Keystone sees it, skew included.
func (s *Server) keystoneNow(loc string) time.Time {
	return s.clock.Now().Add(s.effectiveFault(Keystone(loc), loc).ClockSkew)
}

func (s *Server) serveKeystone(w http.ResponseWriter, r *http.Request, loc, base, rest string, admin bool) {
	baseURL := "http://" + r.Host + base
	// The Date header is the location's Keystone clock, skew included, as a
	// real server's would be.
	w.Header().Set("Date", s.keystoneNow(loc).UTC().Format(http.TimeFormat))
	switch {
	case rest == "" || rest == "/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w)
			return
		}
		writeJSON(w, http.StatusMultipleChoices, map[string]any{
			"versions": map[string]any{"values": []any{versionDoc(baseURL + "/v3/")}},
		})
	case rest == "/v3" || rest == "/v3/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"version": versionDoc(baseURL + "/v3/")})
	case rest == "/v3/auth/tokens":
		switch r.Method {
		case http.MethodPost:
			s.issueToken(w, r, loc, baseURL)
		case http.MethodGet, http.MethodHead:
			s.validateToken(w, r, loc, baseURL)
		case http.MethodDelete:
			s.revokeToken(w, r, loc, baseURL)
		default:
			methodNotAllowed(w)
		}
	case rest == "/v3/auth/catalog":
		s.getCatalog(w, r, loc, baseURL)
	case rest == "/v3/regions" || strings.HasPrefix(rest, "/v3/regions/"):
		s.getRegions(w, r, loc, baseURL, strings.TrimPrefix(strings.TrimPrefix(rest, "/v3/regions"), "/"))
	case rest == "/v3/domains" || strings.HasPrefix(rest, "/v3/domains/"):
		s.serveDomains(w, r, loc, baseURL, strings.TrimPrefix(strings.TrimPrefix(rest, "/v3/domains"), "/"))
	case rest == "/v3/users" || strings.HasPrefix(rest, "/v3/users/"):
		s.serveUsers(w, r, loc, baseURL, strings.TrimPrefix(strings.TrimPrefix(rest, "/v3/users"), "/"))
	case rest == "/v3/projects" || strings.HasPrefix(rest, "/v3/projects/"):
		s.serveProjects(w, r, loc, baseURL, strings.TrimPrefix(strings.TrimPrefix(rest, "/v3/projects"), "/"))
	default:
		keystoneError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

func versionDoc(self string) map[string]any {
	return map[string]any{
		"id":      "v3.14",
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
		"links":   []any{map[string]string{"rel": "self", "href": self}},
		"media-types": []any{map[string]string{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json",
		}},
	}
}

// Request shapes of POST /v3/auth/tokens.
type authRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type authUser struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Password string   `json:"password"`
	Domain   *authRef `json:"domain"`
}

type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *authUser `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			ApplicationCredential *struct {
				ID     string    `json:"id"`
				Name   string    `json:"name"`
				Secret string    `json:"secret"`
				User   *authUser `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type authScope struct {
	Project *struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		Domain *authRef `json:"domain"`
	} `json:"project"`
	Domain *authRef `json:"domain"`
	System *struct {
		All bool `json:"all"`
	} `json:"system"`
	Trust *authRef `json:"OS-TRUST:trust"`
}

const msgAuthRequired = "The request you have made requires authentication."

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, loc, baseURL string) {
	var req authRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		keystoneError(w, http.StatusBadRequest, "Malformed request body.")
		return
	}
	if req.Auth == nil || req.Auth.Identity == nil || len(req.Auth.Identity.Methods) == 0 {
		keystoneError(w, http.StatusBadRequest, "Expecting to find identity in auth.")
		return
	}
	vis := s.visibility(loc)
	now := s.keystoneNow(loc)
	id := req.Auth.Identity
	t := &token{issuedAt: now.UTC().Truncate(time.Microsecond), auditIDs: []string{newAuditID()}}
	t.expiresAt = t.issuedAt.Add(s.lifetime)
	var user User
	switch m := id.Methods[0]; m {
	case "password":
		if id.Password == nil || id.Password.User == nil {
			keystoneError(w, http.StatusBadRequest, "Expecting to find user in password.")
			return
		}
		u, ok := s.findUser(id.Password.User, vis)
		if !ok || u.Disabled || subtle.ConstantTimeCompare([]byte(u.Password), []byte(id.Password.User.Password)) != 1 {
			unauthorized(w, baseURL, msgAuthRequired)
			return
		}
		user = u
		t.methods = []string{"password"}
	case "token":
		if id.Token == nil || id.Token.ID == "" {
			keystoneError(w, http.StatusBadRequest, "Expecting to find id in token.")
			return
		}
		parent, ok := s.lookupToken(id.Token.ID, loc, false)
		if !ok {
			// As Keystone: an unknown, expired or revoked token is not
			// found rather than unauthorized.
			keystoneError(w, http.StatusNotFound, "Failed to validate token")
			return
		}
		if parent.appCredID != "" {
			unauthorized(w, baseURL, "A token created with an application credential cannot be used to create another token.")
			return
		}
		u, _ := s.st.userByID(parent.userID, vis)
		user = u
		// Keystone lists the new method first, then the parent's.
		t.methods = []string{"token"}
		for _, m := range parent.methods {
			if !slices.Contains(t.methods, m) {
				t.methods = append(t.methods, m)
			}
		}
		t.expiresAt = parent.expiresAt // a rescoped token keeps its parent's expiry
		t.auditIDs = append(t.auditIDs, parent.auditIDs[0])
	case "application_credential":
		ac := id.ApplicationCredential
		if ac == nil || ac.Secret == "" {
			keystoneError(w, http.StatusBadRequest, "Expecting to find secret in application_credential.")
			return
		}
		var cred ApplicationCredential
		var ok bool
		if ac.ID != "" {
			cred, ok = s.st.appCredByID(ac.ID, vis)
		} else if ac.Name != "" && ac.User != nil {
			var u User
			if u, ok = s.findUser(ac.User, vis); ok {
				cred, ok = s.st.appCredByName(ac.Name, u.ID, vis)
			}
		}
		if !ok || subtle.ConstantTimeCompare([]byte(cred.Secret), []byte(ac.Secret)) != 1 {
			unauthorized(w, baseURL, msgAuthRequired)
			return
		}
		if len(req.Auth.Scope) > 0 && string(req.Auth.Scope) != "null" {
			unauthorized(w, baseURL, "Application credentials cannot request a scope.")
			return
		}
		u, ok := s.st.userByID(cred.UserID, vis)
		if !ok || u.Disabled {
			unauthorized(w, baseURL, msgAuthRequired)
			return
		}
		if _, ok := s.st.projectByID(cred.ProjectID, vis); !ok {
			unauthorized(w, baseURL, msgAuthRequired)
			return
		}
		user = u
		t.methods = []string{"application_credential"}
		t.appCredID = cred.ID
		t.projectID = cred.ProjectID
		t.roles = withImplied(cred.Roles)
	default:
		unauthorized(w, baseURL, "Attempted to authenticate with an unsupported method.")
		return
	}
	t.userID = user.ID
	if t.appCredID == "" {
		if !s.applyScope(w, req.Auth.Scope, t, vis, baseURL) {
			return
		}
	}
	t.id = newTokenID(s.keystoneNow(loc))
	t.location = loc
	s.tokens.Store(t.id, t)
	s.sweepTokens(t.issuedAt)
	s.ctr.issue(user.ID, user.Name, loc)
	noCatalog := r.URL.Query().Has("nocatalog") || s.effectiveFault(Keystone(loc), loc).NoCatalog
	w.Header().Set("X-Subject-Token", t.id)
	writeJSON(w, http.StatusCreated, s.tokenBody(t, vis, !noCatalog))
}

// findUser resolves a user reference by id, or by name and domain.
func (s *Server) findUser(u *authUser, vis visibility) (User, bool) {
	if u.ID != "" {
		return s.st.userByID(u.ID, vis)
	}
	if u.Name == "" || u.Domain == nil {
		return User{}, false
	}
	d, ok := s.resolveDomain(u.Domain, vis)
	if !ok {
		return User{}, false
	}
	return s.st.userByName(u.Name, d.ID, vis)
}

func (s *Server) resolveDomain(ref *authRef, vis visibility) (Domain, bool) {
	if ref.ID != "" {
		return s.st.domain(ref.ID, false, vis)
	}
	return s.st.domain(ref.Name, true, vis)
}

// applyScope fills t's scope and roles from the request, answering 400 or
// 401 itself when the scope is bad.
func (s *Server) applyScope(w http.ResponseWriter, raw json.RawMessage, t *token, vis visibility, baseURL string) bool {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `"unscoped"` {
		return true
	}
	var sc authScope
	if err := json.Unmarshal(raw, &sc); err != nil {
		keystoneError(w, http.StatusBadRequest, "Malformed scope.")
		return false
	}
	switch {
	case sc.Project != nil:
		var p Project
		var ok bool
		if sc.Project.ID != "" {
			p, ok = s.st.projectByID(sc.Project.ID, vis)
		} else if sc.Project.Name != "" && sc.Project.Domain != nil {
			var d Domain
			if d, ok = s.resolveDomain(sc.Project.Domain, vis); ok {
				p, ok = s.st.projectByName(sc.Project.Name, d.ID, vis)
			}
		} else {
			keystoneError(w, http.StatusBadRequest, "Expecting to find domain in project.")
			return false
		}
		if !ok {
			unauthorized(w, baseURL, msgAuthRequired)
			return false
		}
		t.projectID = p.ID
		t.roles = s.st.rolesOn(t.userID, p.ID, "", false, vis)
		if len(t.roles) == 0 {
			unauthorized(w, baseURL, "User "+t.userID+" has no access to project "+p.ID+".")
			return false
		}
	case sc.Domain != nil:
		d, ok := s.resolveDomain(sc.Domain, vis)
		if !ok {
			unauthorized(w, baseURL, msgAuthRequired)
			return false
		}
		t.domainID = d.ID
		t.roles = s.st.rolesOn(t.userID, "", d.ID, false, vis)
		if len(t.roles) == 0 {
			unauthorized(w, baseURL, "User "+t.userID+" has no access to domain "+d.ID+".")
			return false
		}
	case sc.System != nil && sc.System.All:
		t.system = true
		t.roles = s.st.rolesOn(t.userID, "", "", true, vis)
		if len(t.roles) == 0 {
			unauthorized(w, baseURL, "User "+t.userID+" has no access to the system.")
			return false
		}
	case sc.Trust != nil:
		keystoneError(w, http.StatusForbidden, "Trusts are not supported by this server.")
		return false
	default:
		keystoneError(w, http.StatusBadRequest, "Malformed scope.")
		return false
	}
	return true
}

// lookupToken finds a token valid at loc: known, not revoked, not expired
// (unless allowExpired, within the window) and whose user and project the
// location can see.
func (s *Server) lookupToken(id, loc string, allowExpired bool) (*token, bool) {
	v, ok := s.tokens.Load(id)
	if !ok {
		return nil, false
	}
	t := v.(*token)
	if t.revoked.Load() || s.opts.SeparateKeys && t.location != loc {
		return nil, false
	}
	now := s.keystoneNow(loc)
	if !now.Before(t.expiresAt) && (!allowExpired || !now.Before(t.expiresAt.Add(s.expWin))) {
		return nil, false
	}
	vis := s.visibility(loc)
	u, ok := s.st.userByID(t.userID, vis)
	if !ok || u.Disabled {
		return nil, false
	}
	if t.projectID != "" {
		if _, ok := s.st.projectByID(t.projectID, vis); !ok {
			return nil, false
		}
	}
	return t, true
}

// caller authenticates the X-Auth-Token of a request, answering 401 itself.
func (s *Server) caller(w http.ResponseWriter, r *http.Request, loc, baseURL string) (*token, bool) {
	id := r.Header.Get("X-Auth-Token")
	if id == "" {
		unauthorized(w, baseURL, msgAuthRequired)
		return nil, false
	}
	t, ok := s.lookupToken(id, loc, false)
	if !ok {
		unauthorized(w, baseURL, msgAuthRequired)
		return nil, false
	}
	return t, true
}

func hasRole(t *token, names ...string) bool {
	for _, r := range t.roles {
		for _, n := range names {
			if r == n {
				return true
			}
		}
	}
	return false
}

// subject checks the caller and finds the X-Subject-Token for GET, HEAD and
// DELETE /v3/auth/tokens. The caller needs the admin or service role, or
// must be the subject's own user (Keystone's token_subject rule).
func (s *Server) subject(w http.ResponseWriter, r *http.Request, loc, baseURL string, allowExpired bool) (*token, bool) {
	c, ok := s.caller(w, r, loc, baseURL)
	if !ok {
		return nil, false
	}
	sid := r.Header.Get("X-Subject-Token")
	if sid == "" {
		keystoneError(w, http.StatusBadRequest, "Expecting to find X-Subject-Token in the request headers.")
		return nil, false
	}
	st, found := s.lookupToken(sid, loc, allowExpired)
	if !hasRole(c, RoleAdmin, RoleService) && (!found || st.userID != c.userID) {
		keystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action: identity:validate_token.")
		return nil, false
	}
	if !found {
		keystoneError(w, http.StatusNotFound, "Failed to validate token")
		return nil, false
	}
	return st, true
}

func (s *Server) validateToken(w http.ResponseWriter, r *http.Request, loc, baseURL string) {
	q := r.URL.Query()
	allowExpired := q.Get("allow_expired") == "1" || strings.EqualFold(q.Get("allow_expired"), "true")
	t, ok := s.subject(w, r, loc, baseURL, allowExpired)
	if !ok {
		return
	}
	s.ctr.validate(loc)
	noCatalog := q.Has("nocatalog") || s.effectiveFault(Keystone(loc), loc).NoCatalog
	w.Header().Set("X-Subject-Token", t.id)
	if r.Method == http.MethodHead {
		// Keystone answers HEAD with the headers of the GET, body aside.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, s.tokenBody(t, s.visibility(loc), !noCatalog))
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, loc, baseURL string) {
	t, ok := s.subject(w, r, loc, baseURL, false)
	if !ok {
		return
	}
	t.revoked.Store(true)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getCatalog(w http.ResponseWriter, r *http.Request, loc, baseURL string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	t, ok := s.caller(w, r, loc, baseURL)
	if !ok {
		return
	}
	if !t.scoped() {
		keystoneError(w, http.StatusForbidden, "The service catalog is not available for unscoped tokens.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"catalog": s.catalogFor(t.projectID),
		// Keystone's catalog is not paged: its links have only self.
		"links": map[string]any{"self": baseURL + "/v3/auth/catalog"},
	})
}

func (s *Server) getRegions(w http.ResponseWriter, r *http.Request, loc, baseURL, id string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	if _, ok := s.caller(w, r, loc, baseURL); !ok {
		return
	}
	regionJSON := func(rg regionRec) map[string]any {
		var parent any
		if rg.Parent != "" {
			parent = rg.Parent
		}
		return map[string]any{
			"id": rg.ID, "description": "", "parent_region_id": parent, "enabled": true,
			"links": map[string]string{"self": baseURL + "/v3/regions/" + rg.ID},
		}
	}
	if id != "" {
		for _, rg := range s.st.regions {
			if rg.ID == id {
				writeJSON(w, http.StatusOK, map[string]any{"region": regionJSON(rg)})
				return
			}
		}
		keystoneError(w, http.StatusNotFound, "Could not find region: "+id+".")
		return
	}
	parent := r.URL.Query().Get("parent_region_id")
	list := []any{}
	for _, rg := range s.st.regions {
		if parent == "" || rg.Parent == parent {
			list = append(list, regionJSON(rg))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"regions": list,
		"links":   map[string]any{"self": baseURL + "/v3/regions", "previous": nil, "next": nil},
	})
}

// Response shapes of a token.
type refJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type userJSON struct {
	Domain            refJSON `json:"domain"`
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	PasswordExpiresAt *string `json:"password_expires_at"`
}

type projectJSON struct {
	Domain refJSON `json:"domain"`
	ID     string  `json:"id"`
	Name   string  `json:"name"`
}

type tokenJSON struct {
	Methods               []string       `json:"methods"`
	User                  userJSON       `json:"user"`
	AuditIDs              []string       `json:"audit_ids"`
	ExpiresAt             string         `json:"expires_at"`
	IssuedAt              string         `json:"issued_at"`
	Project               *projectJSON   `json:"project,omitempty"`
	Domain                *refJSON       `json:"domain,omitempty"`
	System                map[string]any `json:"system,omitempty"`
	IsDomain              *bool          `json:"is_domain,omitempty"`
	Roles                 []refJSON      `json:"roles,omitempty"`
	Catalog               []catalogEntry `json:"catalog,omitempty"`
	ApplicationCredential map[string]any `json:"application_credential,omitempty"`
}

func (s *Server) tokenBody(t *token, vis visibility, withCatalog bool) map[string]any {
	u, _ := s.st.userByID(t.userID, visibility{all: true})
	ud, _ := s.st.domain(u.DomainID, false, visibility{all: true})
	tj := tokenJSON{
		Methods:   t.methods,
		User:      userJSON{Domain: refJSON{ud.ID, ud.Name}, ID: u.ID, Name: u.Name},
		AuditIDs:  t.auditIDs,
		ExpiresAt: t.expiresAt.UTC().Format(keystoneTimeFormat),
		IssuedAt:  t.issuedAt.UTC().Format(keystoneTimeFormat),
	}
	if t.scoped() {
		tj.Roles = []refJSON{}
		for _, r := range t.roles {
			tj.Roles = append(tj.Roles, refJSON{s.st.roleID(r), r})
		}
	}
	switch {
	case t.projectID != "":
		p, _ := s.st.projectByID(t.projectID, visibility{all: true})
		pd, _ := s.st.domain(p.DomainID, false, visibility{all: true})
		tj.Project = &projectJSON{Domain: refJSON{pd.ID, pd.Name}, ID: p.ID, Name: p.Name}
		f := false
		tj.IsDomain = &f
	case t.domainID != "":
		d, _ := s.st.domain(t.domainID, false, visibility{all: true})
		tj.Domain = &refJSON{d.ID, d.Name}
	case t.system:
		tj.System = map[string]any{"all": true}
	}
	if t.appCredID != "" {
		ac, _ := s.st.appCredByID(t.appCredID, visibility{all: true})
		tj.ApplicationCredential = map[string]any{"id": ac.ID, "name": ac.Name, "restricted": true}
	}
	if withCatalog && t.scoped() {
		tj.Catalog = s.catalogFor(t.projectID)
		if tj.Catalog == nil {
			tj.Catalog = []catalogEntry{}
		}
	}
	return map[string]any{"token": tj}
}

// writeJSON writes v as the JSON body of a response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Vary", "X-Auth-Token")
	w.WriteHeader(status)
	w.Write(b)
}

// keystoneError writes Keystone's error body:
// {"error":{"code":401,"message":"…","title":"Unauthorized"}}.
func keystoneError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": msg, "title": http.StatusText(status),
	}})
}

// unauthorized writes a 401 with Keystone's WWW-Authenticate header.
func unauthorized(w http.ResponseWriter, baseURL, msg string) {
	w.Header().Set("WWW-Authenticate", `Keystone uri="`+baseURL+`"`)
	keystoneError(w, http.StatusUnauthorized, msg)
}

func methodNotAllowed(w http.ResponseWriter) {
	keystoneError(w, http.StatusMethodNotAllowed, "The method specified is not allowed for the requested URL.")
}

// sweepTokens forgets, every thousandth issue, the tokens that expired
// beyond the allow_expired window before now: a real Keystone stores no
// Fernet token at all, and a long test must not grow the fake's memory
// with every token it ever issued.
func (s *Server) sweepTokens(now time.Time) {
	if s.issues.Add(1)%1000 != 0 {
		return
	}
	s.tokens.Range(func(k, v any) bool {
		if t := v.(*token); !now.Before(t.expiresAt.Add(s.expWin)) {
			s.tokens.Delete(k)
		}
		return true
	})
}
