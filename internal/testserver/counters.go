package testserver

import "sync"

// counters count what the Server saw. One mutex is enough: increments are
// short and tests read rarely.
type counters struct {
	mu          sync.Mutex
	issued      map[issueKey]int64
	validations map[string]int64
	requests    map[Target]int64
}

type issueKey struct {
	userID, userName, location string
}

func (c *counters) init() {
	c.mu.Lock()
	c.issued = make(map[issueKey]int64)
	c.validations = make(map[string]int64)
	c.requests = make(map[Target]int64)
	c.mu.Unlock()
}

func (c *counters) request(t Target, loc string) {
	c.mu.Lock()
	c.requests[t]++
	if t.Service != "" {
		c.requests[AtLocation(loc)]++
	}
	c.mu.Unlock()
}

func (c *counters) issue(userID, userName, loc string) {
	c.mu.Lock()
	c.issued[issueKey{userID, userName, loc}]++
	c.mu.Unlock()
}

func (c *counters) validate(loc string) {
	c.mu.Lock()
	c.validations[loc]++
	c.mu.Unlock()
}

// TokensIssued returns how many tokens were issued (POST /v3/auth/tokens
// answered 201) to user (a user id or name; "" for every user) at location
// ("" for every location).
func (s *Server) TokensIssued(user, location string) int64 {
	s.ctr.mu.Lock()
	defer s.ctr.mu.Unlock()
	var n int64
	for k, v := range s.ctr.issued {
		if (user == "" || user == k.userID || user == k.userName) && (location == "" || location == k.location) {
			n += v
		}
	}
	return n
}

// Validations returns how many token validations (GET or HEAD
// /v3/auth/tokens that passed the caller check) a location's Keystone
// answered; location "" sums every location.
func (s *Server) Validations(location string) int64 {
	s.ctr.mu.Lock()
	defer s.ctr.mu.Unlock()
	if location != "" {
		return s.ctr.validations[location]
	}
	var n int64
	for _, v := range s.ctr.validations {
		n += v
	}
	return n
}

// Requests returns how many requests reached t, counted before any fault
// applied: for a location target, every request its listener received; for
// Keystone or a service, the requests for that endpoint.
func (s *Server) Requests(t Target) int64 {
	s.ctr.mu.Lock()
	defer s.ctr.mu.Unlock()
	return s.ctr.requests[t]
}

// ResetCounters zeroes every counter.
func (s *Server) ResetCounters() { s.ctr.init() }
