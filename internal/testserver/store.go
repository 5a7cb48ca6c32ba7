package testserver

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// store is the one identity store all locations share. Every record carries
// its creation time; a replica sees a record only once it is older than the
// replication lag.
type store struct {
	primary string

	mu          sync.RWMutex
	domains     map[string]*rec[Domain] // by id
	users       map[string]*rec[User]   // by id
	projects    map[string]*rec[Project]
	roles       map[string]string // name -> id
	assignments []rec[RoleAssignment]
	appcreds    map[string]*rec[ApplicationCredential] // by id

	// Service resources are read-only after Start; images live in the
	// Server's glance, each region's own.
	flavors     []Flavor
	volumeTypes []VolumeType
	networks    []Network
	regions     []regionRec
}

type rec[T any] struct {
	v       T
	created time.Time // zero for seeded records: visible everywhere
}

type regionRec struct {
	ID, Parent string
}

// visibility is the cut-off a location applies: records created after it
// are not visible yet. The zero time means "see everything" (primary).
type visibility struct {
	all    bool
	cutoff time.Time
}

func (v visibility) sees(created time.Time) bool {
	return v.all || created.IsZero() || !created.After(v.cutoff)
}

func newStore(w *World, primary string) *store {
	st := &store{
		primary:  primary,
		domains:  make(map[string]*rec[Domain]),
		users:    make(map[string]*rec[User]),
		projects: make(map[string]*rec[Project]),
		roles:    make(map[string]string),
		appcreds: make(map[string]*rec[ApplicationCredential]),
	}
	for _, d := range w.Domains {
		st.domains[d.ID] = &rec[Domain]{v: d}
	}
	for _, u := range w.Users {
		st.users[u.ID] = &rec[User]{v: u}
	}
	for _, p := range w.Projects {
		st.projects[p.ID] = &rec[Project]{v: p}
	}
	for _, r := range []string{RoleAdmin, RoleMember, RoleReader, RoleService} {
		st.roles[r] = SeedID("role", r)
	}
	for _, a := range w.Assignments {
		if _, ok := st.roles[a.Role]; !ok {
			st.roles[a.Role] = SeedID("role", a.Role)
		}
		st.assignments = append(st.assignments, rec[RoleAssignment]{v: a})
	}
	for _, a := range w.AppCreds {
		st.appcreds[a.ID] = &rec[ApplicationCredential]{v: a}
	}
	st.flavors = w.Flavors
	st.volumeTypes = w.VolumeTypes
	st.networks = w.Networks
	for _, l := range w.Locations {
		st.regions = append(st.regions, regionRec{ID: l.Name})
		for _, r := range l.Regions {
			st.regions = append(st.regions, regionRec{ID: r, Parent: l.Name})
		}
	}
	return st
}

func (st *store) regionOrder() []string {
	var out []string
	for _, r := range st.regions {
		if r.Parent != "" {
			out = append(out, r.ID)
		}
	}
	return out
}

func (st *store) domain(idOrName string, byName bool, vis visibility) (Domain, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if !byName {
		d, ok := st.domains[idOrName]
		if !ok || !vis.sees(d.created) {
			return Domain{}, false
		}
		return d.v, true
	}
	for _, d := range st.domains {
		if d.v.Name == idOrName && vis.sees(d.created) {
			return d.v, true
		}
	}
	return Domain{}, false
}

func (st *store) domainNameExists(name string, vis visibility) bool {
	_, ok := st.domain(name, true, vis)
	return ok
}

func (st *store) userByID(id string, vis visibility) (User, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	u, ok := st.users[id]
	if !ok || !vis.sees(u.created) {
		return User{}, false
	}
	return u.v, true
}

func (st *store) userByName(name, domainID string, vis visibility) (User, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, u := range st.users {
		if u.v.Name == name && u.v.DomainID == domainID && vis.sees(u.created) {
			return u.v, true
		}
	}
	return User{}, false
}

func (st *store) projectByID(id string, vis visibility) (Project, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	p, ok := st.projects[id]
	if !ok || !vis.sees(p.created) {
		return Project{}, false
	}
	return p.v, true
}

func (st *store) projectByName(name, domainID string, vis visibility) (Project, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, p := range st.projects {
		if p.v.Name == name && p.v.DomainID == domainID && vis.sees(p.created) {
			return p.v, true
		}
	}
	return Project{}, false
}

func (st *store) appCredByID(id string, vis visibility) (ApplicationCredential, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	a, ok := st.appcreds[id]
	if !ok || !vis.sees(a.created) {
		return ApplicationCredential{}, false
	}
	return a.v, true
}

func (st *store) appCredByName(name, userID string, vis visibility) (ApplicationCredential, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, a := range st.appcreds {
		if a.v.Name == name && a.v.UserID == userID && vis.sees(a.created) {
			return a.v, true
		}
	}
	return ApplicationCredential{}, false
}

// rolesOn returns the names of the roles userID holds on the scope, sorted.
func (st *store) rolesOn(userID, projectID, domainID string, system bool, vis visibility) []string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []string
	for _, a := range st.assignments {
		if a.v.UserID != userID || !vis.sees(a.created) {
			continue
		}
		if (projectID != "" && a.v.ProjectID == projectID) ||
			(domainID != "" && a.v.DomainID == domainID && a.v.ProjectID == "") ||
			(system && a.v.System) {
			out = append(out, a.v.Role)
		}
	}
	// The assigned roles and the roles they imply, as Keystone's bootstrap
	// sets them up: admin → member → reader.
	return withImplied(out)
}

// withImplied returns roles and the roles they imply, sorted.
func withImplied(roles []string) []string {
	var out []string
	for _, r := range roles {
		for ; r != ""; r = impliedRole[r] {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

// impliedRole is Keystone's default role inference: a token of a user
// with the key role also carries the value role.
var impliedRole = map[string]string{RoleAdmin: RoleMember, RoleMember: RoleReader}

func (st *store) roleID(name string) string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if id, ok := st.roles[name]; ok {
		return id
	}
	return SeedID("role", name)
}

func (st *store) roleByID(id string) (string, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for n, rid := range st.roles {
		if rid == id || n == id {
			return n, true
		}
	}
	return "", false
}

// newID returns a random 32-hex-digit id, as Keystone generates.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
