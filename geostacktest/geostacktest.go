// Package geostacktest runs a fake of the cloud geostack serves inside the
// process, for the tests of services that use geostack and for example
// programs: three locations sharing one replicated Keystone, with their
// regions, the product domains gnc, zjp and zsg with seeded users, and
// enough of nova, glance, cinder and neutron for listings and server
// creation. It speaks Keystone's and the services' JSON, so geostack and
// plain gophercloud work against it unchanged, and it injects the faults
// geostack must survive.
//
// A test writes:
//
//	cloud := geostacktest.NewServer(t, geostacktest.Options{})
//	client, err := geostack.New(ctx, cloud.Config("gnc", 1)) // gncu00000001, at home in SG
//	// … exercise the service …
//	if n := cloud.TokensIssued("", ""); n != 1 { t.Errorf("%d tokens issued, want 1", n) }
//
// # The cloud
//
// Locations JP (the primary, regions TYO1 and OSA1), US (SJC1) and SG
// (SIN1), each served by its own 127.0.0.1 listener (URL). Each product
// domain d of gnc, zjp and zsg has UsersPerDomain users du00000001… with
// password UserPassword, each a member of its own project dt00000001…, and
// its own identity endpoints at every location. Default-domain public
// images, flavors and volume types are shared; each domain has its own
// prefixed ones (gnc_centos, gnc_g-1gb, gnc_ssd, …). Each region's image
// service holds its own images, with data: they are created, uploaded,
// downloaded and imported by web-download as with Glance, so an image copy
// between regions (geostack.Client.CopyImage) runs against it whole.
//
// Like the real cloud, users and projects are written at the primary only
// and reach the other locations after Options.ReplicationLag, and a token
// is valid at every location (unless Options.SeparateKeys).
//
// Its answers are kept shaped like the real services' by geostack's own
// conformance tests against a real Keystone.
package geostacktest

import (
	"fmt"
	"testing"
	"time"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
)

// Secrets and sizes of the seeded world.
const (
	// UserPassword is the password of every seeded domain user.
	UserPassword = testserver.UserPassword
	// ServicePassword is the password of the service users nova, glance,
	// cinder and neutron (ServiceCredential).
	ServicePassword = testserver.ServicePassword
	// AdminPassword is the password of the cloud's administrator
	// (AdminCredential).
	AdminPassword = testserver.AdminPassword
	// UsersPerDomain is how many users, each with a project, every
	// product domain has.
	UsersPerDomain = testserver.UsersPerDomain
	// PlantedImage is the name of a hostile community image the world
	// holds: zjp's first project published it with gnc's prefix and gnc's
	// domain_id, as any Glance member may. gnc's users must never see it.
	PlantedImage = testserver.PlantedImage
)

// Options configure a Server. The zero value is the default cloud. They are
// read by NewServer and Start only: changing them afterwards has no
// effect.
type Options struct {
	// Clock is the cloud's time: token lifetimes and replication lag. The
	// Configs of Server.Config carry it too, so that a client and the
	// cloud agree on when tokens expire. Nil means the system clock.
	Clock clock.Clock
	// TokenLifetime is how long an issued token is valid. Zero means 1h,
	// Keystone's default.
	TokenLifetime time.Duration
	// ReplicationLag is how long a user or project written at the
	// primary (CreateUser) stays unknown at the other locations. Zero
	// means none.
	ReplicationLag time.Duration
	// SeparateKeys gives every location Fernet keys of its own: a token
	// is valid only at the location that issued it (see
	// geostack.Config.TokenPerLocation).
	SeparateKeys bool
}

// Server is a running fake cloud. Its methods are safe for concurrent use,
// faults and counters included.
type Server struct {
	ts    *testserver.Server
	clock clock.Clock
	world *testserver.World
}

// NewServer starts a Server for a test and closes it when the test ends.
// It fails the test if the Server cannot start.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("geostacktest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server for a program that has no testing.TB; the caller
// must Close it.
func Start(opts Options) (*Server, error) {
	ts, err := testserver.Start(testserver.Options{
		Clock:          opts.Clock,
		TokenLifetime:  opts.TokenLifetime,
		ReplicationLag: opts.ReplicationLag,
		SeparateKeys:   opts.SeparateKeys,
	})
	if err != nil {
		return nil, err
	}
	return &Server{ts: ts, clock: opts.Clock, world: testserver.DefaultWorld()}, nil
}

// Close stops every listener and unblocks requests in flight. It may be
// called more than once.
func (s *Server) Close() { s.ts.Close() }

// Locations returns the location names, the primary first: JP, US, SG.
func (s *Server) Locations() []string { return s.ts.Locations() }

// Primary returns the location that accepts identity writes: JP.
func (s *Server) Primary() string { return s.ts.Primary() }

// Regions returns every region: TYO1, OSA1, SJC1, SIN1.
func (s *Server) Regions() []string { return s.ts.Regions() }

// URL returns the base URL of a location's listener,
// "http://127.0.0.1:PORT". It panics for an unknown location.
func (s *Server) URL(location string) string { return s.ts.URL(location) }

// AuthURL returns a location's Keystone v3 endpoint, its auth_url:
// "http://127.0.0.1:PORT/identity/v3".
func (s *Server) AuthURL(location string) string { return s.ts.AuthURL(location) }

// AdminAuthURL returns a location's admin Keystone v3 endpoint (the same
// Keystone as AuthURL).
func (s *Server) AdminAuthURL(location string) string { return s.ts.AdminAuthURL(location) }

// Domain returns a product domain ("gnc", "zjp", "zsg") as geostack's
// domain registry holds it, with its user_auth_url and admin_auth_url at
// every location. It panics for an unknown domain.
func (s *Server) Domain(name string) domain.Domain {
	wd := s.world.Domain(name)
	if wd.ID == "" || wd.Prefix == "" {
		panic(fmt.Sprintf("geostacktest: unknown product domain %q", name))
	}
	d := domain.Domain{Name: wd.Name, ID: wd.ID, Prefix: wd.Prefix, Endpoints: map[string]domain.Endpoints{}}
	for _, l := range s.ts.Locations() {
		d.Endpoints[l] = domain.Endpoints{UserAuthURL: s.ts.DomainAuthURL(name, l), AdminAuthURL: s.ts.DomainAdminAuthURL(name, l)}
	}
	return d
}

// Config returns a ready geostack.Config for the n-th seeded user (n from
// 1 to UsersPerDomain) of a product domain: every location with its
// auth_url and regions, JP the primary, the domain registry of gnc, zjp
// and zsg with dom the client's own, home location SG, the cloud's Clock,
// and the user's password credential scoped to its project. Change Home,
// Credential or anything else before calling geostack.New. It panics for
// an unknown domain or n out of range.
func (s *Server) Config(dom string, n int) geostack.Config {
	cred, scope := s.User(dom, n)
	var locs []region.Location
	for _, l := range s.world.Locations {
		locs = append(locs, region.Location{Name: l.Name, AuthURLs: []string{s.ts.AuthURL(l.Name)}, Regions: l.Regions})
	}
	var doms []domain.Domain
	for _, name := range testserver.ProductDomains() {
		doms = append(doms, s.Domain(name))
	}
	reg, err := domain.New(doms...)
	if err != nil {
		panic("geostacktest: the seeded domains: " + err.Error())
	}
	return geostack.Config{
		Locations:  locs,
		Home:       "SG",
		Primary:    s.ts.Primary(),
		Domains:    reg,
		Domain:     dom,
		Credential: cred,
		Scope:      scope,
		Clock:      s.clock,
	}
}

// User returns the password credential of the n-th seeded user of a
// product domain (n from 1 to UsersPerDomain), such as gncu00000001, and
// the scope of its project, gnct00000001. It panics for an unknown domain
// or n out of range.
func (s *Server) User(dom string, n int) (identity.Credential, identity.Scope) {
	d := s.world.Domain(dom)
	if d.Prefix == "" || n < 1 || n > UsersPerDomain {
		panic(fmt.Sprintf("geostacktest: no seeded user %d of domain %q", n, dom))
	}
	return identity.Password{UserName: fmt.Sprintf("%su%08d", dom, n), DomainID: d.ID, Password: UserPassword},
		identity.Scope{ProjectName: fmt.Sprintf("%st%08d", dom, n), ProjectDomainID: d.ID}
}

// ServiceCredential returns the credential and scope of the nova service
// user (project service of the Default domain, roles service and admin),
// as a SaaS backend's authtoken.Config.ServiceCredential takes them.
func (s *Server) ServiceCredential() (identity.Credential, identity.Scope) {
	return identity.Password{UserName: "nova", DomainID: testserver.DefaultDomainID, Password: ServicePassword},
		identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainID: testserver.DefaultDomainID}
}

// AdminCredential returns the credential and scope of the cloud's
// administrator: user admin of the Default domain, with the admin role on
// project admin (the scope returned), on the Default domain and on the
// system. Keystone's admin-only calls (revoking another's token, creating
// users at the primary) take its token.
func (s *Server) AdminCredential() (identity.Credential, identity.Scope) {
	return identity.Password{UserName: testserver.AdminUser, DomainID: testserver.DefaultDomainID, Password: testserver.AdminPassword},
		identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainID: testserver.DefaultDomainID}
}

// CreateUser registers a user named name, with password, in a product
// domain, with a project of the same name but the domain's project prefix
// ("gncu…" gets "gnct…") on which it is a member, all at the primary, as a
// signup would: the other locations know them only after
// Options.ReplicationLag. It returns the user's credential and scope.
func (s *Server) CreateUser(dom, name, password string) (identity.Credential, identity.Scope, error) {
	d := s.world.Domain(dom)
	if d.Prefix == "" {
		return nil, identity.Scope{}, fmt.Errorf("geostacktest: unknown product domain %q", dom)
	}
	u, err := s.ts.CreateUser(testserver.User{Name: name, DomainID: d.ID, Password: password})
	if err != nil {
		return nil, identity.Scope{}, err
	}
	pname := name
	if len(name) > len(d.Prefix) && name[len(d.Prefix)] == 'u' {
		pname = name[:len(d.Prefix)] + "t" + name[len(d.Prefix)+1:]
	}
	p, err := s.ts.CreateProject(testserver.Project{Name: pname, DomainID: d.ID})
	if err != nil {
		return nil, identity.Scope{}, err
	}
	if err := s.ts.AssignRole(testserver.RoleAssignment{UserID: u.ID, Role: testserver.RoleMember, ProjectID: p.ID}); err != nil {
		return nil, identity.Scope{}, err
	}
	return identity.Password{UserName: name, DomainID: d.ID, Password: password},
		identity.Scope{ProjectName: pname, ProjectDomainID: d.ID}, nil
}

// Fault is what goes wrong at a target (see SetLocationFault,
// SetKeystoneFault and SetServiceFault). The zero Fault is no fault.
// Faults may be set and cleared at any time, from any goroutine; they
// apply to requests that arrive afterwards.
type Fault struct {
	// Down makes the target unreachable: for a location its listener is
	// closed (connection refused) and reopened on the same port when the
	// fault is cleared; for Keystone or a service the connection is
	// dropped without an answer.
	Down bool
	// Status, if not zero, answers every request with this HTTP status
	// (such as 503) and an OpenStack-style error body.
	Status int
	// RetryAfter, with Status, sends Retry-After with this many whole
	// seconds, as a rate limiter's 429 does.
	RetryAfter time.Duration
	// Latency delays each answer by this much real time (not Clock time,
	// so that client timeouts are exercised).
	Latency time.Duration

	// The image data faults strike an image service (SetServiceFault
	// "image") in the middle of a stream, and its web share too
	// (ImageShareURL).

	// DropDownloadAfter, if positive, closes the connection of each image
	// data download after this many bytes of the body.
	DropDownloadAfter int64
	// CorruptDownloadAfter, if positive, flips the bits of the byte that
	// follows the first CorruptDownloadAfter bytes of each download.
	CorruptDownloadAfter int64
	// UploadStatus, if not zero, answers each image data upload with this
	// status once UploadStatusAfter bytes of it arrived; the image stays
	// queued, as Glance leaves it after a failed upload.
	UploadStatus      int
	UploadStatusAfter int64
	// CorruptUploadAfter, if positive, flips the bits of the byte that
	// follows the first CorruptUploadAfter bytes of each upload as it is
	// received: the image becomes active with the hashes of other data
	// than was sent.
	CorruptUploadAfter int64
}

func (f Fault) internal() testserver.Fault {
	return testserver.Fault{Down: f.Down, Status: f.Status, RetryAfter: f.RetryAfter, Latency: f.Latency,
		DropDownloadAfter: f.DropDownloadAfter, CorruptDownloadAfter: f.CorruptDownloadAfter,
		UploadStatus: f.UploadStatus, UploadStatusAfter: f.UploadStatusAfter, CorruptUploadAfter: f.CorruptUploadAfter}
}

// SetLocationFault sets the Fault of everything a location serves: its
// Keystone and its regions' services. It panics for an unknown location.
func (s *Server) SetLocationFault(location string, f Fault) {
	s.ts.SetFault(testserver.AtLocation(location), f.internal())
}

// SetKeystoneFault sets the Fault of a location's Keystone (all its
// endpoints, the domains' too). A location-wide fault adds to it.
func (s *Server) SetKeystoneFault(location string, f Fault) {
	s.ts.SetFault(testserver.Keystone(location), f.internal())
}

// SetServiceFault sets the Fault of one service ("compute", "image",
// "volumev3", "network") in one region.
func (s *Server) SetServiceFault(serviceType, region string, f Fault) {
	s.ts.SetFault(testserver.Service(serviceType, region), f.internal())
}

// ImageShareURL returns the base URL of a region's image web share: the
// data of the region's active image ID is at ImageShareURL(region)+"/"+ID,
// without a token, as an operator's web share of a Glance store serves it
// to the other regions' web-download imports
// (geostack.CopyOptions.WebDownloadURL). The region's image faults apply to
// it. It panics for an unknown region.
func (s *Server) ImageShareURL(region string) string { return s.ts.ImageShareURL(region) }

// ClearFaults removes every Fault.
func (s *Server) ClearFaults() { s.ts.ClearFaults() }

// Revoke revokes a token, as DELETE /v3/auth/tokens would: every location
// rejects it from then on. It reports whether the token was known.
func (s *Server) Revoke(tokenID string) bool { return s.ts.RevokeToken(tokenID) }

// TokensIssued returns how many tokens Keystone issued to user (a user
// name or id; "" for every user) at location ("" for every location).
func (s *Server) TokensIssued(user, location string) int64 { return s.ts.TokensIssued(user, location) }

// Validations returns how many token validations (GET or HEAD
// /v3/auth/tokens) a location's Keystone answered with a valid token; ""
// sums every location. KeystoneRequests counts the others too.
func (s *Server) Validations(location string) int64 { return s.ts.Validations(location) }

// KeystoneRequests returns how many requests a location's Keystone
// received, faulted ones included.
func (s *Server) KeystoneRequests(location string) int64 {
	return s.ts.Requests(testserver.Keystone(location))
}

// Requests returns how many requests one service ("compute", "image",
// "volumev3", "network") received in one region, faulted ones included.
func (s *Server) Requests(serviceType, region string) int64 {
	return s.ts.Requests(testserver.Service(serviceType, region))
}

// ResetCounters zeroes every counter.
func (s *Server) ResetCounters() { s.ts.ResetCounters() }

// ImageID returns the id of the seeded image called name, or "" if the
// world has none.
func (s *Server) ImageID(name string) string { return testserver.DefaultWorld().Image(name).ID }
