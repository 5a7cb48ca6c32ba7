package region_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
)

// These tests run the resolver with the real identity.Client against the
// fake three-location cloud: JP (primary), US, SG.

// cloud is one test server and a resolver configured for it.
type cloud struct {
	srv *testserver.Server
	clk *clock.Manual
	r   *region.Resolver
	id  *identity.Client
}

const (
	threshold = 2
	coolDown  = 30 * time.Second
	attempt   = 5 * time.Second
)

func newCloud(t *testing.T, opts testserver.Options) *cloud {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	opts.Clock = clk
	srv := testserver.New(t, opts)
	cfg := region.Config{
		Primary:          srv.Primary(),
		FailureThreshold: threshold,
		CoolDown:         coolDown,
		AttemptTimeout:   attempt,
		Clock:            clk,
	}
	for _, name := range srv.Locations() {
		loc := region.Location{Name: name, AuthURLs: []string{srv.AuthURL(name)}}
		for _, reg := range srv.Regions() {
			if srv.LocationOf(reg) == name {
				loc.Regions = append(loc.Regions, reg)
			}
		}
		cfg.Locations = append(cfg.Locations, loc)
	}
	r, err := region.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{srv: srv, clk: clk, r: r, id: &identity.Client{Clock: clk}}
}

// A seeded domain user and its project.
var (
	user  = identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: testserver.UserPassword}
	scope = identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
	admin = identity.Password{UserName: testserver.AdminUser, DomainName: testserver.DefaultDomainName, Password: testserver.AdminPassword}
	nova  = identity.Password{UserName: "nova", DomainName: testserver.DefaultDomainName, Password: testserver.ServicePassword}
	svc   = identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainName: testserver.DefaultDomainName}
)

// issuedAt returns, per location, how many tokens were issued to name.
func (c *cloud) issuedAt(name string) map[string]int64 {
	m := map[string]int64{}
	for _, loc := range c.srv.Locations() {
		if n := c.srv.TokensIssued(name, loc); n > 0 {
			m[loc] = n
		}
	}
	return m
}

func (c *cloud) keystoneRequests() map[string]int64 {
	m := map[string]int64{}
	for _, loc := range c.srv.Locations() {
		m[loc] = c.srv.Requests(testserver.Keystone(loc))
	}
	return m
}

func (c *cloud) state(loc string) region.CircuitState {
	for _, s := range c.r.Stats().AuthURLs {
		if s.Location == loc {
			return s.State
		}
	}
	return -1
}

// Home down: SG's listener is closed. A cold fetch from SG is issued by JP,
// the next location in order, well within one attempt timeout.
func TestCloudHomeDown(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{})
	c.srv.SetFault(testserver.AtLocation("SG"), testserver.Fault{Down: true})

	home, err := c.r.LocationOf("SIN1")
	if err != nil || home != "SG" {
		t.Fatalf("LocationOf(SIN1) = %q, %v", home, err)
	}
	// The caller allows one attempt timeout in all: a refused connection
	// must move on at once, not use up the attempt's time.
	ctx, cancel := context.WithTimeout(t.Context(), attempt)
	defer cancel()
	tok, err := c.r.Issue(ctx, home, c.id, user, scope)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"JP": 1}, c.issuedAt("gncu00000001")); diff != "" {
		t.Errorf("tokens issued per location (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(tok.AuthURL, c.srv.URL("JP")) || tok.Project == nil || tok.Project.Name != "gnct00000001" {
		t.Errorf("token from %s for %+v; want from JP for gnct00000001", tok.AuthURL, tok.Project)
	}
	if s := c.r.Stats(); s.Failovers != 1 || s.Failures != 1 {
		t.Errorf("stats %+v: want 1 failure, 1 failover", s)
	}
}

// Circuit: SG's Keystone answers 503. After threshold faults its circuit
// opens and SG gets no request; after the cool-down exactly one probe goes
// out; once SG is back the probe closes the circuit and SG issues again.
func TestCloudCircuit(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{})
	c.srv.SetFault(testserver.Keystone("SG"), testserver.Fault{Status: 503})
	steps := []struct {
		name       string
		advance    time.Duration
		heal       bool
		wantSG     int64 // requests SG's Keystone has seen so far
		wantIssuer string
		wantState  region.CircuitState
	}{
		{name: "fault 1", wantSG: 1, wantIssuer: "JP", wantState: region.CircuitClosed},
		{name: "fault 2 opens", wantSG: 2, wantIssuer: "JP", wantState: region.CircuitOpen},
		{name: "open: no traffic", wantSG: 2, wantIssuer: "JP", wantState: region.CircuitOpen},
		{name: "open: still no traffic", advance: coolDown - time.Second, wantSG: 2, wantIssuer: "JP", wantState: region.CircuitOpen},
		{name: "one probe, fails", advance: time.Second, wantSG: 3, wantIssuer: "JP", wantState: region.CircuitOpen},
		{name: "reopened: no traffic", heal: true, wantSG: 3, wantIssuer: "JP", wantState: region.CircuitOpen},
		{name: "one probe, succeeds", advance: coolDown, wantSG: 4, wantIssuer: "SG", wantState: region.CircuitClosed},
		{name: "closed: home again", wantSG: 5, wantIssuer: "SG", wantState: region.CircuitClosed},
	}
	for _, st := range steps {
		c.clk.Advance(st.advance)
		if st.heal {
			c.srv.ClearFault(testserver.Keystone("SG"))
		}
		before := c.issuedAt("gncu00000001")
		if _, err := c.r.Issue(t.Context(), "SG", c.id, user, scope); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		after := c.issuedAt("gncu00000001")
		if after[st.wantIssuer] != before[st.wantIssuer]+1 {
			t.Errorf("%s: issued %v -> %v, want one more at %s", st.name, before, after, st.wantIssuer)
		}
		if got := c.srv.Requests(testserver.Keystone("SG")); got != st.wantSG {
			t.Errorf("%s: SG Keystone requests %d, want %d", st.name, got, st.wantSG)
		}
		if got := c.state("SG"); got != st.wantState {
			t.Errorf("%s: SG circuit %v, want %v", st.name, got, st.wantState)
		}
	}
}

// All down: JP's listener is closed, US answers 503, SG hangs. The error
// lists each auth_url and why it failed.
func TestCloudAllDown(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{})
	c.srv.SetFault(testserver.AtLocation("JP"), testserver.Fault{Down: true})
	c.srv.SetFault(testserver.Keystone("US"), testserver.Fault{Status: 503})
	c.srv.SetFault(testserver.Keystone("SG"), testserver.Fault{Hang: true})
	// A resolver whose short attempt timeout bounds SG's hang.
	r, err := region.New(region.Config{
		Locations: []region.Location{
			{Name: "SG", AuthURLs: []string{c.srv.AuthURL("SG")}},
			{Name: "JP", AuthURLs: []string{c.srv.AuthURL("JP")}},
			{Name: "US", AuthURLs: []string{c.srv.AuthURL("US")}},
		},
		Primary:        "JP",
		AttemptTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Issue(t.Context(), "SG", c.id, user, scope)
	var all *region.AllFailedError
	if !errors.As(err, &all) {
		t.Fatalf("error %T %v, want *AllFailedError", err, err)
	}
	type attempt struct {
		Location, AuthURL string
		Unavailable       bool
	}
	var got []attempt
	for _, a := range all.Attempts {
		got = append(got, attempt{a.Location, a.AuthURL, errors.Is(a.Err, identity.ErrUnavailable)})
	}
	want := []attempt{
		{"SG", c.srv.AuthURL("SG"), true},
		{"JP", c.srv.AuthURL("JP"), true},
		{"US", c.srv.AuthURL("US"), true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	msg := err.Error()
	for _, why := range []string{"deadline exceeded", "connection refused", "HTTP 503"} {
		if !strings.Contains(msg, why) {
			t.Errorf("message %q does not say %q", msg, why)
		}
	}
	if strings.Contains(msg, testserver.UserPassword) {
		t.Errorf("message %q leaks the password", msg)
	}
	t.Log(msg)
}

// Replication lag: a user created (through Write, at the primary) a moment
// ago is unknown at SG. An SG client still authenticates at once, through
// one retry at JP; the same holds for validating the new user's token at
// SG. Once the lag has passed, SG answers by itself.
func TestCloudReplicationLag(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{ReplicationLag: time.Minute})
	ctx := t.Context()
	adminTok, err := c.r.Issue(ctx, "JP", c.id, admin,
		identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainName: testserver.DefaultDomainName})
	if err != nil {
		t.Fatal(err)
	}
	gnc := testserver.DefaultWorld().Domain("gnc").ID
	err = c.r.Write(ctx, "JP", func(ctx context.Context, authURL string) error {
		_, err := users.Create(ctx, identityClient(t, authURL, adminTok.ID),
			users.CreateOpts{Name: "gncu99999999", DomainID: gnc, Password: "new-user-password"}).Extract()
		return err
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	fresh := identity.Password{UserName: "gncu99999999", DomainName: "gnc", Password: "new-user-password"}

	tok, err := c.r.Issue(ctx, "SG", c.id, fresh, identity.Scope{})
	if err != nil {
		t.Fatalf("fresh user from SG: %v", err)
	}
	if diff := cmp.Diff(map[string]int64{"JP": 1}, c.issuedAt("gncu99999999")); diff != "" {
		t.Errorf("tokens issued (-want +got):\n%s", diff)
	}

	service, err := c.r.Issue(ctx, "SG", c.id, nova, svc) // nova is old: SG knows it
	if err != nil {
		t.Fatal(err)
	}
	valJP := c.srv.Validations("JP")
	got, err := c.r.Validate(ctx, "SG", c.id, service.ID, tok.ID, identity.ValidateOptions{NoCatalog: true})
	if err != nil || got.User.Name != "gncu99999999" {
		t.Fatalf("validate at SG: %+v, %v", got, err)
	}
	if n := c.srv.Validations("JP") - valJP; n != 1 {
		t.Errorf("validations at JP: %d, want 1 (the lag retry)", n)
	}
	if s := c.r.Stats(); s.LagRetries != 2 {
		t.Errorf("lag retries %d, want 2", s.LagRetries)
	}

	// A wrong password at SG is retried once at JP too, and reported.
	_, err = c.r.Issue(ctx, "SG", c.id, identity.Password{UserName: "gncu99999999", DomainName: "gnc", Password: "wrong"}, identity.Scope{})
	if !errors.Is(err, identity.ErrUnauthorized) {
		t.Errorf("wrong password: %v, want ErrUnauthorized", err)
	}
	if s := c.r.Stats(); s.LagRetries != 3 || s.Failovers != 0 {
		t.Errorf("stats %+v: want 3 lag retries and no failover", s)
	}

	// After the lag, SG knows the user.
	c.clk.Advance(2 * time.Minute)
	if _, err := c.r.Issue(ctx, "SG", c.id, fresh, identity.Scope{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"JP": 1, "SG": 1}, c.issuedAt("gncu99999999")); diff != "" {
		t.Errorf("tokens issued after the lag (-want +got):\n%s", diff)
	}
	if s := c.r.Stats(); s.LagRetries != 3 {
		t.Errorf("lag retries %d, want still 3", s.LagRetries)
	}
}

// Replication lag with an application credential created at the primary.
func TestCloudReplicationLagAppCred(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{ReplicationLag: time.Minute})
	w := testserver.DefaultWorld()
	ac, err := c.srv.CreateApplicationCredential(testserver.ApplicationCredential{
		Name: "fresh", UserID: w.User("gncu00000002").ID, ProjectID: w.Project("gnct00000002").ID,
		Secret: "fresh-secret", Roles: []string{testserver.RoleMember},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.r.Issue(t.Context(), "SG", c.id, identity.ApplicationCredential{ID: ac.ID, Secret: "fresh-secret"}, identity.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AuthURL, c.srv.URL("JP")) || c.r.Stats().LagRetries != 1 {
		t.Errorf("token from %s, stats %+v; want from JP after one lag retry", tok.AuthURL, c.r.Stats())
	}
}

// Writes: aimed at a replica, a write is refused before any request; at
// the primary it goes through. The replica itself would have refused too.
func TestCloudWrites(t *testing.T) {
	t.Parallel()
	c := newCloud(t, testserver.Options{})
	ctx := t.Context()
	adminTok, err := c.r.Issue(ctx, "SG", c.id, admin,
		identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainName: testserver.DefaultDomainName})
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string) func(ctx context.Context, authURL string) error {
		return func(ctx context.Context, authURL string) error {
			_, err := users.Create(ctx, identityClient(t, authURL, adminTok.ID),
				users.CreateOpts{Name: name, DomainID: testserver.DefaultDomainID, Password: "pw"}).Extract()
			return err
		}
	}
	before := c.keystoneRequests()
	err = c.r.Write(ctx, "SG", create("svc-from-sg"))
	var np *region.NotPrimaryError
	if !errors.As(err, &np) {
		t.Errorf("Write at SG: %v, want a *region.NotPrimaryError", err)
	} else if diff := cmp.Diff(region.NotPrimaryError{Location: "SG", Primary: "JP"}, *np); diff != "" {
		t.Errorf("Write at SG (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, c.keystoneRequests()); diff != "" {
		t.Errorf("requests sent for a refused write (-before +after):\n%s", diff)
	}
	if err := c.r.Write(ctx, "JP", create("svc-from-jp")); err != nil {
		t.Errorf("Write at JP: %v", err)
	}
	// What the region check saves: SG's Keystone refuses writes itself.
	err = create("svc-direct")(ctx, c.srv.AuthURL("SG"))
	if !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("direct write at SG: %v, want 403", err)
	}
}

// identityClient is a gophercloud identity v3 client at authURL carrying
// token.
func identityClient(t *testing.T, authURL, token string) *gophercloud.ServiceClient {
	t.Helper()
	root := strings.TrimSuffix(strings.TrimSuffix(authURL, "/"), "/v3")
	pc, err := openstack.NewClient(root + "/v3/")
	if err != nil {
		t.Fatal(err)
	}
	pc.SetToken(token)
	sc, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
