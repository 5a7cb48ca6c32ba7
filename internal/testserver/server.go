package testserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geostack/geostack/clock"
)

// Options configure a Server. The zero value is a usable default.
type Options struct {
	// Clock measures token lifetimes and replication lag. Nil means the wall
	// clock.
	Clock clock.Clock
	// TokenLifetime is how long an issued token stays valid. Zero means 1h.
	TokenLifetime time.Duration
	// ReplicationLag is how long a write at the primary takes to become
	// visible at the other locations. Zero means at once.
	ReplicationLag time.Duration
	// AllowExpiredWindow is how long after expiry GET /v3/auth/tokens with
	// ?allow_expired=1 still returns a token. Zero means 48h, Keystone's
	// default.
	AllowExpiredWindow time.Duration
	// World is the content of the cloud. Nil means DefaultWorld(). It is
	// copied; later changes to it have no effect.
	World *World
	// RawCatalogTemplates leaves "$(project_id)s" templates in catalog URLs
	// unsubstituted, to test client-side substitution. Real Keystone
	// substitutes them in project-scoped tokens.
	RawCatalogTemplates bool
	// BlockStorageAlias adds a "block-storage" catalog entry next to
	// "volumev3", with the same endpoints.
	BlockStorageAlias bool

	// DiscardImageData makes Glance keep no uploaded or imported image
	// data: an upload is still read to the end, hashed and counted, and
	// the image becomes active with its size and hashes, but a download of
	// it answers 410 Gone. It lets tests and benchmarks move gigabytes
	// without holding them in memory. Seeded images keep their data.
	DiscardImageData bool
	// ImageHashAlgos maps a region to the hashing algorithm of its Glance
	// (hashing_algorithm: "sha256", "sha384", "sha512", "sha1", "md5",
	// "sha3_256", "sha3_512"); a region not listed uses sha512, Glance's
	// default.
	ImageHashAlgos map[string]string
	// ImportMethods maps a region to the import methods its Glance offers
	// (GET /v2/info/import); a region not listed offers glance-direct,
	// web-download and copy-image, as the real Glance instances of CI do,
	// and an empty list offers none. Only web-download is carried out.
	ImportMethods map[string][]string
	// SeparateKeys gives every location Fernet keys of its own: a token is
	// known only at the location that issued it, to its Keystone and to
	// the services of its regions, as in a deployment that does not share
	// keys between locations.
	SeparateKeys bool
	// ExternalKeystone, if set, makes the services validate tokens at a
	// Keystone outside the Server (a real one) instead of at its own.
	ExternalKeystone *ExternalKeystone
}

// Server is a running fake cloud. Its methods are safe for concurrent use.
type Server struct {
	clock    clock.Clock
	lifetime time.Duration
	lag      time.Duration
	expWin   time.Duration
	issues   atomic.Uint64 // tokens issued, for sweepTokens
	opts     Options

	primary     string
	locs        map[string]*location
	locOrder    []string
	regionLoc   map[string]string // region -> location
	regionOrder []string

	st       *store
	tokens   sync.Map // token id -> *token
	catalogs sync.Map // project id ("" for unsubstituted) -> []catalogEntry
	tmpl     []catalogEntry

	setMu   sync.Mutex // serializes SetFault
	faultMu sync.RWMutex
	faults  map[Target]Fault

	ctr counters
	ext *external // nil: the services trust the Server's own Keystone

	novaMu  sync.RWMutex
	servers map[string]*novaServer // server id -> server

	glance *glance

	closeOnce sync.Once
	done      chan struct{}
}

// location is one listener serving one location's Keystone and regions.
type location struct {
	name string
	addr string // 127.0.0.1:PORT, fixed for the Server's life
	srv  *http.Server

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	peak  int // the most connections open at once
}

// New starts a Server for a test and stops it when the test ends. It fails
// the test if the Server cannot start.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server; the caller must Close it. It is for example
// programs that have no testing.TB.
func Start(opts Options) (*Server, error) {
	w := opts.World
	if w == nil {
		w = DefaultWorld()
	}
	w = w.clone()
	if len(w.Locations) == 0 {
		return nil, errors.New("testserver: world has no locations")
	}
	s := &Server{
		clock:     opts.Clock,
		lifetime:  opts.TokenLifetime,
		lag:       opts.ReplicationLag,
		expWin:    opts.AllowExpiredWindow,
		opts:      opts,
		primary:   w.Primary,
		locs:      make(map[string]*location),
		regionLoc: make(map[string]string),
		faults:    make(map[Target]Fault),
		servers:   make(map[string]*novaServer),
		done:      make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = clock.System()
	}
	if s.lifetime <= 0 {
		s.lifetime = time.Hour
	}
	if s.expWin <= 0 {
		s.expWin = 48 * time.Hour
	}
	if s.primary == "" {
		s.primary = w.Locations[0].Name
	}
	s.ctr.init()
	for _, l := range w.Locations {
		if _, dup := s.locs[l.Name]; dup {
			s.Close()
			return nil, fmt.Errorf("testserver: duplicate location %q", l.Name)
		}
		for _, r := range l.Regions {
			s.regionLoc[r] = l.Name
			s.regionOrder = append(s.regionOrder, r)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("testserver: listen for %s: %w", l.Name, err)
		}
		loc := &location{name: l.Name, addr: ln.Addr().String(), ln: ln, conns: make(map[net.Conn]struct{})}
		loc.srv = &http.Server{
			Handler:           s.handler(l.Name),
			ReadHeaderTimeout: 10 * time.Second,
			ConnState:         loc.track,
		}
		s.locs[l.Name] = loc
		s.locOrder = append(s.locOrder, l.Name)
	}
	if _, ok := s.locs[s.primary]; !ok {
		s.Close()
		return nil, fmt.Errorf("testserver: primary %q is not a location", s.primary)
	}
	if opts.ExternalKeystone != nil {
		ext, err := newExternal(*opts.ExternalKeystone, s.clock.Now, s.locOrder)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.ext = ext
	}
	s.st = newStore(w, s.primary)
	g, err := newGlance(opts, s.regionOrder, w.Images)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.glance = g
	s.tmpl = s.buildCatalog(w)
	for _, name := range s.locOrder {
		loc := s.locs[name]
		go loc.srv.Serve(loc.ln)
	}
	return s, nil
}

// track records open connections so that a location taken down drops them.
func (l *location) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateNew:
		if l.ln == nil {
			c.Close()
			return
		}
		l.conns[c] = struct{}{}
		l.peak = max(l.peak, len(l.conns))
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	}
}

// setDown closes (down) or reopens (up) the location's listener on the same
// port, so that clients see connection refused while it is down.
func (l *location) setDown(down bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if down {
		if l.ln == nil {
			return nil
		}
		l.ln.Close()
		l.ln = nil
		for c := range l.conns {
			c.Close()
			delete(l.conns, c)
		}
		return nil
	}
	if l.ln != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago; retry briefly if the kernel lags
		ln, err = net.Listen("tcp", l.addr)
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("testserver: reopen %s on %s: %w", l.name, l.addr, err)
	}
	l.ln = ln
	go l.srv.Serve(ln)
	return nil
}

// Close stops every listener and unblocks hanging requests. It may be
// called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		for _, name := range s.locOrder {
			loc := s.locs[name]
			loc.srv.Close()
			loc.mu.Lock()
			if loc.ln != nil {
				loc.ln.Close()
				loc.ln = nil
			}
			loc.mu.Unlock()
		}
		if s.glance != nil {
			s.glance.close()
		}
	})
}

// Locations returns the location names, primary first then in World order.
func (s *Server) Locations() []string {
	out := []string{s.primary}
	for _, l := range s.locOrder {
		if l != s.primary {
			out = append(out, l)
		}
	}
	return out
}

// Primary returns the name of the location that accepts writes.
func (s *Server) Primary() string { return s.primary }

// Clock returns the Clock the Server measures time on.
func (s *Server) Clock() clock.Clock { return s.clock }

// Regions returns every region, in World order.
func (s *Server) Regions() []string { return slices.Clone(s.regionOrder) }

// LocationOf returns the location holding region, or "" if there is none.
func (s *Server) LocationOf(region string) string { return s.regionLoc[region] }

// URL returns the base URL of a location's listener, such as
// "http://127.0.0.1:PORT". It panics for an unknown location.
func (s *Server) URL(location string) string {
	return "http://" + s.loc(location).addr
}

// AuthURL returns the Keystone v3 endpoint of a location, such as
// "http://127.0.0.1:PORT/identity/v3".
func (s *Server) AuthURL(location string) string {
	return s.URL(location) + "/identity/v3"
}

// AdminAuthURL returns the admin Keystone v3 endpoint of a location, such as
// "http://127.0.0.1:PORT/identity-admin/v3". It serves the same Keystone as
// AuthURL.
func (s *Server) AdminAuthURL(location string) string {
	return s.URL(location) + "/identity-admin/v3"
}

// DomainAuthURL returns the user_auth_url of a domain (by name) at a
// location: "http://127.0.0.1:PORT/d/{domain}/identity/v3". It serves the
// same Keystone as AuthURL; requests for an unknown domain answer 404.
func (s *Server) DomainAuthURL(domain, location string) string {
	return s.URL(location) + "/d/" + domain + "/identity/v3"
}

// DomainAdminAuthURL returns the admin_auth_url of a domain (by name) at a
// location: "http://127.0.0.1:PORT/d/{domain}/identity-admin/v3".
func (s *Server) DomainAdminAuthURL(domain, location string) string {
	return s.URL(location) + "/d/" + domain + "/identity-admin/v3"
}

// ImageShareURL returns the base URL of a region's image web share, such
// as "http://127.0.0.1:PORT/TYO1/image-share": the data of the region's
// active image ID is at ImageShareURL(region)+"/"+ID, without a token, as
// an operator's web share of the Glance store serves it for the other
// regions' web-download imports. The region's image faults apply to it.
// It panics for an unknown region.
func (s *Server) ImageShareURL(region string) string {
	loc, ok := s.regionLoc[region]
	if !ok {
		panic(fmt.Sprintf("testserver: unknown region %q", region))
	}
	return s.URL(loc) + "/" + region + "/image-share"
}

// WaitImports blocks until every image import accepted so far (a 202 to
// POST /v2/images/{id}/import) has finished, so that a test can look at
// the result without polling.
func (s *Server) WaitImports() { s.glance.imports.wait(false) }

func (s *Server) loc(name string) *location {
	l, ok := s.locs[name]
	if !ok {
		panic(fmt.Sprintf("testserver: unknown location %q", name))
	}
	return l
}

// handler routes one location's requests.
func (s *Server) handler(locName string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Openstack-Request-Id", "req-"+seedUUID("req", newID()))
		p := r.URL.Path
		// Keystone, plain or per domain.
		if rest, admin, domain, ok := splitIdentity(p); ok {
			t := Keystone(locName)
			s.ctr.request(t, locName)
			if domain != "" && !s.st.domainNameExists(domain, s.visibility(locName)) {
				s.withFaults(w, r, t, locName, func(w http.ResponseWriter, r *http.Request) {
					keystoneError(w, http.StatusNotFound, "Could not find domain: "+domain+".")
				})
				return
			}
			base := strings.TrimSuffix(p, rest)
			s.withFaults(w, r, t, locName, func(w http.ResponseWriter, r *http.Request) {
				s.serveKeystone(w, r, locName, base, rest, admin)
			})
			return
		}
		iface := "public"
		switch {
		case strings.HasPrefix(p, "/internal/"):
			iface, p = "internal", strings.TrimPrefix(p, "/internal")
		case strings.HasPrefix(p, "/admin/"):
			iface, p = "admin", strings.TrimPrefix(p, "/admin")
		default:
			iface, p = regionInterfacePath(p)
		}
		parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
		if len(parts) >= 2 && s.regionLoc[parts[0]] == locName {
			region, svc := parts[0], parts[1]
			rest := ""
			if len(parts) == 3 {
				rest = "/" + parts[2]
			}
			if svc == "image-share" && iface == "public" && len(parts) == 3 && !strings.Contains(parts[2], "/") {
				t := Service("image", region)
				s.ctr.request(t, locName)
				s.withFaults(w, r, t, locName, func(w http.ResponseWriter, r *http.Request) {
					s.serveImageShare(w, r, region, parts[2])
				})
				return
			}
			if st, ok := serviceTypes[svc]; ok {
				t := Service(st, region)
				s.ctr.request(t, locName)
				base := "http://" + r.Host + strings.TrimSuffix(r.URL.Path, rest)
				s.withFaults(w, r, t, locName, func(w http.ResponseWriter, r *http.Request) {
					s.serveService(w, r, st, region, iface, base, rest)
				})
				return
			}
		}
		s.ctr.request(Target{Location: locName}, locName)
		s.withFaults(w, r, AtLocation(locName), locName, func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		})
	})
}

// serviceTypes maps the path segment of a service to its catalog type.
var serviceTypes = map[string]string{
	"compute": "compute",
	"image":   "image",
	"volume":  "volumev3",
	"network": "network",
}

// splitIdentity recognizes a Keystone path and returns the part after the
// base (e.g. "/v3/auth/tokens"), whether it is an admin endpoint and the
// domain name of a per-domain endpoint.
func splitIdentity(p string) (rest string, admin bool, domain string, ok bool) {
	q := p
	if strings.HasPrefix(q, "/d/") {
		q = q[len("/d/"):]
		i := strings.IndexByte(q, '/')
		if i <= 0 {
			return "", false, "", false
		}
		domain, q = q[:i], q[i:]
	}
	for _, b := range []struct {
		prefix string
		admin  bool
	}{{"/identity-admin", true}, {"/identity", false}} {
		if q == b.prefix || strings.HasPrefix(q, b.prefix+"/") {
			return q[len(b.prefix):], b.admin, domain, true
		}
	}
	return "", false, "", false
}

// PeakConnections returns the most client connections that were open at
// once to location's listener (its Keystone and its regions' services).
func (s *Server) PeakConnections(location string) int {
	l, ok := s.locs[location]
	if !ok {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}
