// Command saas is a small mail-hosting backend of the gnc product, running
// in Singapore and protected by identity/authtoken, and a demo that sends
// it requests with a valid token, an expired one, a revoked one, another
// product's token, spoofed identity headers and no token at all, and
// prints the status of each.
//
// With no flags it runs on the embedded fake cloud. On a real cloud the
// backend serves the domain of -cloud at its home location and validates
// as the service user of -service-cloud; the other product's user is
// -other-cloud's; the revoked token is one the user revokes itself. It
// creates nothing. Tokens of a real cloud live for hours, so the expired
// token is left out there:
//
//	go run ./examples/saas -cloud gnc -config clouds.yaml [-service-cloud service -other-cloud zjp]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
)

func main() {
	var flags demo.Flags
	flags.Register(flag.CommandLine)
	var o options
	flag.StringVar(&o.serviceCloud, "service-cloud", "service", "with -cloud: the cloud of the backend's own service user, which validates tokens")
	flag.StringVar(&o.otherCloud, "other-cloud", "zjp", "with -cloud: the cloud of a user of another domain")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, flags, o); err != nil {
		fmt.Fprintln(os.Stderr, "saas:", err)
		os.Exit(1)
	}
}

// options are saas's own flags.
type options struct{ serviceCloud, otherCloud string }

// tokenLifetime is the users' token lifetime on the fake cloud's clock,
// which the demo moves forward to expire a token.
const tokenLifetime = time.Hour

// ident is a user's or a service's credential and scope.
type ident struct {
	cred  identity.Credential
	scope identity.Scope
}

func run(ctx context.Context, out io.Writer, flags demo.Flags, o options) error {
	clk := clock.NewManual(time.Now())
	env, err := demo.Start(flags, geostacktest.Options{Clock: clk, TokenLifetime: tokenLifetime})
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Base

	// Who is who: on the fake cloud, its seeded users and its nova service
	// user; on a real cloud, the clouds of the configuration.
	var user, other, service ident
	var clk2 clock.Clock = clk
	if env.Real() {
		clk2 = nil // the real Keystone's tokens expire on the wall clock
		user = ident{cfg.Credential, cfg.Scope}
		oc, err := env.Cloud(o.otherCloud)
		if err != nil {
			return fmt.Errorf("-other-cloud: %w", err)
		}
		sc, err := env.Cloud(o.serviceCloud)
		if err != nil {
			return fmt.Errorf("-service-cloud: %w", err)
		}
		other, service = ident{oc.Credential, oc.Scope}, ident{sc.Credential, sc.Scope}
	} else {
		user.cred, user.scope = demo.User("gnc", 1)
		other.cred, other.scope = demo.User("zjp", 1)
		svcCred, svcScope := env.Fake.ServiceCredential()
		service = ident{svcCred, svcScope}
	}
	dom, ok := cfg.Domains.ByName(cfg.Domain)
	if !ok {
		return fmt.Errorf("the configuration names no domain for the backend (domain %q)", cfg.Domain)
	}
	ep, ok := dom.AuthURLs(cfg.Home)
	if !ok || ep.UserAuthURL == "" {
		return fmt.Errorf("domain %s has no user_auth_url at the home location %s", dom.Name, cfg.Home)
	}

	// The backend: the validator keeps the service's own token in a token
	// cache of its own; incoming tokens are validated at the domain's
	// admin endpoint at home, cached, and must belong to the domain. Its
	// Keystone requests are counted.
	var validations atomic.Int64
	keystone := &identity.Client{Clock: clk2, HTTPClient: &http.Client{Transport: validationCounter{http.DefaultTransport, &validations}}}
	validator, err := authtoken.New(authtoken.Config{
		Domains:           []domain.Domain{dom},
		Home:              cfg.Home,
		Primary:           cfg.Primary,
		Clock:             clk2,
		Client:            keystone,
		ServiceCredential: service.cred,
		ServiceScope:      service.scope,
	})
	if err != nil {
		return err
	}
	defer validator.Close()
	mail := validator.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := authtoken.FromContext(r.Context())
		fmt.Fprintf(w, "inbox of %s (roles %s, spoofable X-User-Id: %q)",
			id.Token.User.Name, roleNames(id.Token), r.Header.Get("X-User-Id"))
	}), authtoken.HandlerOptions{})
	backend := httptest.NewServer(mail)
	defer backend.Close()

	// The users' side: tokens issued at their domain's user_auth_url at
	// home; the other domain's user at its own.
	ic := &identity.Client{Clock: clk2}
	issue := func(who ident, authURL string) (*identity.Token, error) {
		return ic.Issue(ctx, authURL, who.cred, who.scope)
	}
	userTok, err := issue(user, ep.UserAuthURL)
	if err != nil {
		return err
	}
	otherURL := ep.UserAuthURL
	if env.Fake != nil {
		otherURL = env.Fake.Domain("zjp").Endpoints[cfg.Home].UserAuthURL
	}
	otherTok, err := issue(other, otherURL)
	if err != nil {
		return err
	}
	// A second token of the same user, which the user revokes (Keystone
	// lets a token's own user revoke it).
	revoked, err := issue(user, ep.UserAuthURL)
	if err != nil {
		return err
	}
	if err := ic.Revoke(ctx, ep.UserAuthURL, revoked.ID, revoked.ID); err != nil {
		return fmt.Errorf("revoke a token: %w", err)
	}
	validations.Store(0) // the backend's own start-up aside

	send := func(label, token string, spoof bool) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL+"/inbox", nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		if spoof {
			req.Header.Set("X-User-Id", "admin")
			req.Header.Set("X-Roles", "admin")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		line := fmt.Sprintf("%-32s %d", label, resp.StatusCode)
		if resp.StatusCode == http.StatusOK {
			line += " " + string(body)
		} else if wa := resp.Header.Get("WWW-Authenticate"); wa != "" {
			line += " (WWW-Authenticate: Keystone)"
		}
		fmt.Fprintln(out, line)
		return nil
	}

	fmt.Fprintf(out, "mail backend of %s in %s; requests:\n", dom.Name, cfg.Home)
	steps := []struct {
		label, token string
		spoof        bool
	}{
		{dom.Name + " user's token", userTok.ID, false},
		{"same token again (cached)", userTok.ID, false},
		{dom.Name + " token + spoofed headers", userTok.ID, true},
		{otherDomain(otherTok) + " user's token (valid)", otherTok.ID, false},
		{"revoked token", revoked.ID, false},
		{"garbage token", "not-a-token", false},
		{"no token", "", false},
	}
	for _, s := range steps {
		if err := send(s.label, s.token, s.spoof); err != nil {
			return err
		}
	}
	n := len(steps)
	if env.Fake != nil {
		clk.Advance(tokenLifetime + time.Minute)
		if err := send(dom.Name+" token after it expired", userTok.ID, false); err != nil {
			return err
		}
		n++
	} else {
		fmt.Fprintf(out, "%-32s (not shown on a real cloud: its tokens live for hours, the fake cloud's clock jumps)\n", dom.Name+" token after it expired")
	}
	fmt.Fprintf(out, "Keystone validations: %d for %d requests\n", validations.Load(), n)
	return nil
}

func roleNames(t *identity.Token) string {
	var s []string
	for _, r := range t.Roles {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

// otherDomain names the domain of a token's user.
func otherDomain(t *identity.Token) string {
	if t.User.Domain.Name != "" {
		return t.User.Domain.Name
	}
	return "another domain's"
}

// validationCounter counts the token validations sent through it.
type validationCounter struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c validationCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasSuffix(r.URL.Path, "/auth/tokens") {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}
