package testserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ErrConflict is returned (wrapped) by CreateUser and CreateProject when the
// name is taken in the domain.
var ErrConflict = errors.New("testserver: conflict")

// ErrNotFound is returned (wrapped) when a write refers to something that
// does not exist.
var ErrNotFound = errors.New("testserver: not found")

// CreateUser writes a user at the primary, as POST /v3/users there would;
// replicas see it after the replication lag. An empty ID is generated. It
// returns the stored user.
func (s *Server) CreateUser(u User) (User, error) {
	return s.st.createUser(u, s.clock.Now())
}

// CreateProject writes a project at the primary, as POST /v3/projects
// there would. An empty ID is generated.
func (s *Server) CreateProject(p Project) (Project, error) {
	return s.st.createProject(p, s.clock.Now())
}

// AssignRole writes a role assignment at the primary.
func (s *Server) AssignRole(a RoleAssignment) error {
	return s.st.assignRole(a, s.clock.Now())
}

// CreateApplicationCredential writes an application credential at the
// primary. An empty ID is generated.
func (s *Server) CreateApplicationCredential(a ApplicationCredential) (ApplicationCredential, error) {
	return s.st.createAppCred(a, s.clock.Now())
}

func (st *store) createUser(u User, now time.Time) (User, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if u.Name == "" {
		return User{}, fmt.Errorf("testserver: user has no name")
	}
	if _, ok := st.domains[u.DomainID]; !ok {
		return User{}, fmt.Errorf("%w: domain %q", ErrNotFound, u.DomainID)
	}
	for _, o := range st.users {
		if o.v.Name == u.Name && o.v.DomainID == u.DomainID {
			return User{}, fmt.Errorf("%w: user %q in domain %q", ErrConflict, u.Name, u.DomainID)
		}
	}
	if u.ID == "" {
		u.ID = newID()
	}
	if _, ok := st.users[u.ID]; ok {
		return User{}, fmt.Errorf("%w: user id %q", ErrConflict, u.ID)
	}
	st.users[u.ID] = &rec[User]{v: u, created: now}
	return u, nil
}

func (st *store) createProject(p Project, now time.Time) (Project, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if p.Name == "" {
		return Project{}, fmt.Errorf("testserver: project has no name")
	}
	if _, ok := st.domains[p.DomainID]; !ok {
		return Project{}, fmt.Errorf("%w: domain %q", ErrNotFound, p.DomainID)
	}
	for _, o := range st.projects {
		if o.v.Name == p.Name && o.v.DomainID == p.DomainID {
			return Project{}, fmt.Errorf("%w: project %q in domain %q", ErrConflict, p.Name, p.DomainID)
		}
	}
	if p.ID == "" {
		p.ID = newID()
	}
	if _, ok := st.projects[p.ID]; ok {
		return Project{}, fmt.Errorf("%w: project id %q", ErrConflict, p.ID)
	}
	st.projects[p.ID] = &rec[Project]{v: p, created: now}
	return p, nil
}

func (st *store) assignRole(a RoleAssignment, now time.Time) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.users[a.UserID]; !ok {
		return fmt.Errorf("%w: user %q", ErrNotFound, a.UserID)
	}
	if _, ok := st.roles[a.Role]; !ok {
		return fmt.Errorf("%w: role %q", ErrNotFound, a.Role)
	}
	if a.ProjectID != "" {
		if _, ok := st.projects[a.ProjectID]; !ok {
			return fmt.Errorf("%w: project %q", ErrNotFound, a.ProjectID)
		}
	} else if a.DomainID != "" {
		if _, ok := st.domains[a.DomainID]; !ok {
			return fmt.Errorf("%w: domain %q", ErrNotFound, a.DomainID)
		}
	} else if !a.System {
		return fmt.Errorf("testserver: role assignment has no target")
	}
	st.assignments = append(st.assignments, rec[RoleAssignment]{v: a, created: now})
	return nil
}

func (st *store) createAppCred(a ApplicationCredential, now time.Time) (ApplicationCredential, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.users[a.UserID]; !ok {
		return ApplicationCredential{}, fmt.Errorf("%w: user %q", ErrNotFound, a.UserID)
	}
	if _, ok := st.projects[a.ProjectID]; !ok {
		return ApplicationCredential{}, fmt.Errorf("%w: project %q", ErrNotFound, a.ProjectID)
	}
	if a.ID == "" {
		a.ID = newID()
	}
	a.Roles = append([]string(nil), a.Roles...)
	st.appcreds[a.ID] = &rec[ApplicationCredential]{v: a, created: now}
	return a, nil
}

// writer authenticates a write request: the caller needs the admin role,
// and the location must be the primary (others answer 403 as a read-only
// replica).
func (s *Server) writer(w http.ResponseWriter, r *http.Request, loc, baseURL string) bool {
	c, ok := s.caller(w, r, loc, baseURL)
	if !ok {
		return false
	}
	if !hasRole(c, RoleAdmin) {
		keystoneError(w, http.StatusForbidden, "You are not authorized to perform the requested action.")
		return false
	}
	if loc != s.primary {
		keystoneError(w, http.StatusForbidden, "This Keystone ("+loc+") is a read-only replica; writes are accepted only at the primary location ("+s.primary+").")
		return false
	}
	return true
}

func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrConflict):
		keystoneError(w, http.StatusConflict, "Conflict occurred attempting to store the resource - Duplicate entry.")
	case errors.Is(err, ErrNotFound):
		keystoneError(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), "testserver: "))
	default:
		keystoneError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "testserver: "))
	}
}

func userResponse(u User, baseURL string) map[string]any {
	return map[string]any{"user": map[string]any{
		"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": !u.Disabled,
		"password_expires_at": nil, "options": map[string]any{},
		"links": map[string]string{"self": baseURL + "/v3/users/" + u.ID},
	}}
}

func projectResponse(p Project, baseURL string) map[string]any {
	return map[string]any{"project": map[string]any{
		"id": p.ID, "name": p.Name, "domain_id": p.DomainID, "description": "", "enabled": true,
		"is_domain": false, "parent_id": p.DomainID, "tags": []string{}, "options": map[string]any{},
		"links": map[string]string{"self": baseURL + "/v3/projects/" + p.ID},
	}}
}

func (s *Server) serveUsers(w http.ResponseWriter, r *http.Request, loc, baseURL, id string) {
	switch {
	case id == "" && r.Method == http.MethodPost:
		if !s.writer(w, r, loc, baseURL) {
			return
		}
		var body struct {
			User *struct {
				Name     string `json:"name"`
				DomainID string `json:"domain_id"`
				Password string `json:"password"`
				Enabled  *bool  `json:"enabled"`
			} `json:"user"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.User == nil {
			keystoneError(w, http.StatusBadRequest, "Expecting to find user in request body.")
			return
		}
		if body.User.DomainID == "" {
			body.User.DomainID = DefaultDomainID
		}
		u, err := s.CreateUser(User{Name: body.User.Name, DomainID: body.User.DomainID, Password: body.User.Password,
			Disabled: body.User.Enabled != nil && !*body.User.Enabled})
		if err != nil {
			writeStoreError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, userResponse(u, baseURL))
	case id != "" && !strings.Contains(id, "/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		if _, ok := s.caller(w, r, loc, baseURL); !ok {
			return
		}
		u, ok := s.st.userByID(id, s.visibility(loc))
		if !ok {
			keystoneError(w, http.StatusNotFound, "Could not find user: "+id+".")
			return
		}
		writeJSON(w, http.StatusOK, userResponse(u, baseURL))
	default:
		methodNotAllowed(w)
	}
}

func (s *Server) serveProjects(w http.ResponseWriter, r *http.Request, loc, baseURL, rest string) {
	parts := strings.Split(rest, "/")
	switch {
	case rest == "" && r.Method == http.MethodPost:
		if !s.writer(w, r, loc, baseURL) {
			return
		}
		var body struct {
			Project *struct {
				Name     string `json:"name"`
				DomainID string `json:"domain_id"`
			} `json:"project"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Project == nil {
			keystoneError(w, http.StatusBadRequest, "Expecting to find project in request body.")
			return
		}
		if body.Project.DomainID == "" {
			body.Project.DomainID = DefaultDomainID
		}
		p, err := s.CreateProject(Project{Name: body.Project.Name, DomainID: body.Project.DomainID})
		if err != nil {
			writeStoreError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, projectResponse(p, baseURL))
	case len(parts) == 1 && rest != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		if _, ok := s.caller(w, r, loc, baseURL); !ok {
			return
		}
		p, ok := s.st.projectByID(rest, s.visibility(loc))
		if !ok {
			keystoneError(w, http.StatusNotFound, "Could not find project: "+rest+".")
			return
		}
		writeJSON(w, http.StatusOK, projectResponse(p, baseURL))
	case len(parts) == 5 && parts[1] == "users" && parts[3] == "roles" && r.Method == http.MethodPut:
		if !s.writer(w, r, loc, baseURL) {
			return
		}
		role, ok := s.st.roleByID(parts[4])
		if !ok {
			keystoneError(w, http.StatusNotFound, "Could not find role: "+parts[4]+".")
			return
		}
		if err := s.AssignRole(RoleAssignment{UserID: parts[2], Role: role, ProjectID: parts[0]}); err != nil {
			writeStoreError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w)
	}
}

func domainJSON(d Domain, baseURL string) map[string]any {
	return map[string]any{
		"id": d.ID, "name": d.Name, "description": "", "enabled": true, "tags": []string{}, "options": map[string]any{},
		"links": map[string]string{"self": baseURL + "/v3/domains/" + d.ID},
	}
}

// serveDomains is GET /v3/domains/{id} and GET /v3/domains?name=…, for
// any valid token: enough for clients that look a domain up by name.
func (s *Server) serveDomains(w http.ResponseWriter, r *http.Request, loc, baseURL, id string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	if _, ok := s.caller(w, r, loc, baseURL); !ok {
		return
	}
	vis := s.visibility(loc)
	if id != "" {
		d, ok := s.st.domain(id, false, vis)
		if !ok || strings.Contains(id, "/") {
			keystoneError(w, http.StatusNotFound, "Could not find domain: "+id+".")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"domain": domainJSON(d, baseURL)})
		return
	}
	list := []any{}
	if name := r.URL.Query().Get("name"); name != "" {
		if d, ok := s.st.domain(name, true, vis); ok {
			list = append(list, domainJSON(d, baseURL))
		}
	} else {
		s.st.mu.RLock()
		for _, d := range s.st.domains {
			if vis.sees(d.created) {
				list = append(list, domainJSON(d.v, baseURL))
			}
		}
		s.st.mu.RUnlock()
	}
	writeJSON(w, http.StatusOK, map[string]any{"domains": list,
		"links": map[string]any{"self": baseURL + "/v3/domains", "previous": nil, "next": nil}})
}
