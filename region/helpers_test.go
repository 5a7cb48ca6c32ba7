package region

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/identity"
)

// Auth URLs of the unit-test cloud: JP (primary, two auth_urls), US, SG.
const (
	jp1 = "https://jp1.example.test/identity/v3"
	jp2 = "https://jp2.example.test/identity/v3"
	us1 = "https://us1.example.test/identity/v3"
	sg1 = "https://sg1.example.test/identity/v3"
)

// secret is the password used in tests; it must never show in an error or
// a log line.
const secret = "s3cr3t-Passw0rd"

var testCred = identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: secret}

func testConfig() Config {
	return Config{
		Locations: []Location{
			{Name: "JP", AuthURLs: []string{jp1, jp2}, Regions: []string{"TYO1", "OSA1"}},
			{Name: "US", AuthURLs: []string{us1}, Regions: []string{"SJC1"}},
			{Name: "SG", AuthURLs: []string{sg1}, Regions: []string{"SIN1"}},
		},
		Primary:          "JP",
		FailureThreshold: 2,
		CoolDown:         30 * time.Second,
		AttemptTimeout:   5 * time.Second,
	}
}

// newTestResolver builds a Resolver on testConfig with a manual clock;
// edit adjusts the config first.
func newTestResolver(t testing.TB, edit func(*Config)) (*Resolver, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg := testConfig()
	cfg.Clock = clk
	if edit != nil {
		edit(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r, clk
}

// fakeKeystone answers per auth_url with a scripted error (nil: a token)
// and records every call. It implements Keystone.
type fakeKeystone struct {
	mu      sync.Mutex
	answers map[string]error
	calls   []string
	// block, if set, is called at the start of every call (to hold it).
	block func(ctx context.Context, authURL string) error
}

func newFakeKeystone() *fakeKeystone { return &fakeKeystone{answers: map[string]error{}} }

func (f *fakeKeystone) set(authURL string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[authURL] = err
}

func (f *fakeKeystone) answer(ctx context.Context, authURL string) (*identity.Token, error) {
	f.mu.Lock()
	f.calls = append(f.calls, authURL)
	block := f.block
	err := f.answers[authURL]
	f.mu.Unlock()
	if block != nil {
		if berr := block(ctx, authURL); berr != nil {
			return nil, berr
		}
	}
	if err != nil {
		return nil, err
	}
	return &identity.Token{ID: "token-secret-id", AuthURL: authURL}, nil
}

func (f *fakeKeystone) Issue(ctx context.Context, authURL string, _ identity.Credential, _ identity.Scope) (*identity.Token, error) {
	return f.answer(ctx, authURL)
}

func (f *fakeKeystone) Validate(ctx context.Context, authURL, _, _ string, _ identity.ValidateOptions) (*identity.Token, error) {
	return f.answer(ctx, authURL)
}

// takeCalls returns the calls so far and forgets them.
func (f *fakeKeystone) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// Errors as identity.Client returns them.
func unavailable(u string) error {
	return &identity.Error{Op: "issue", URL: u, Kind: identity.ErrUnavailable, Err: errors.New("connection refused")}
}

func statusErr(u string, code int, kind error) error {
	return &identity.Error{Op: "issue", URL: u, Status: code, Kind: kind, Message: "keystone says no"}
}

// circuitStates returns auth_url -> state from r's stats.
func circuitStates(r *Resolver) map[string]CircuitState {
	m := map[string]CircuitState{}
	for _, s := range r.Stats().AuthURLs {
		m[s.AuthURL] = s.State
	}
	return m
}

// keystoneFuncs is a Keystone whose methods call its fields, for a test
// that needs one behaviour (or a bare no-op) rather than fakeKeystone's
// scripted answers. A nil field fails the call, so a test notices a request
// it did not expect.
type keystoneFuncs struct {
	issue    func(ctx context.Context, authURL string, c identity.Credential, s identity.Scope) (*identity.Token, error)
	validate func(ctx context.Context, authURL, serviceToken, subjectToken string, o identity.ValidateOptions) (*identity.Token, error)
}

var (
	_ Keystone = keystoneFuncs{}
	_ Keystone = (*fakeKeystone)(nil)
)

func (k keystoneFuncs) Issue(ctx context.Context, authURL string, c identity.Credential, s identity.Scope) (*identity.Token, error) {
	if k.issue == nil {
		return nil, errors.New("region test: unexpected Issue at " + authURL)
	}
	return k.issue(ctx, authURL, c, s)
}

func (k keystoneFuncs) Validate(ctx context.Context, authURL, serviceToken, subjectToken string, o identity.ValidateOptions) (*identity.Token, error) {
	if k.validate == nil {
		return nil, errors.New("region test: unexpected Validate at " + authURL)
	}
	return k.validate(ctx, authURL, serviceToken, subjectToken, o)
}

// errorIs returns a check that err matches target with errors.Is.
func errorIs(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// errorAs reports whether err holds an error of type T, with errors.As.
func errorAs[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
