// Command saas is a small mail-hosting backend of the gnc product, running
// in Singapore and protected by identity/authtoken, and a demo that sends
// it requests with a valid token, an expired one, a revoked one, another
// product's token, spoofed identity headers and no token at all, and
// prints the status of each.
//
// With no flags it runs on the embedded fake cloud.
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
	"time"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
)

func main() {
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "saas:", err)
		os.Exit(1)
	}
}

// tokenLifetime is the users' token lifetime on the fake cloud's clock,
// which the demo moves forward to expire a token.
const tokenLifetime = time.Hour

func run(ctx context.Context, out io.Writer) error {
	clk := clock.NewManual(time.Now())
	env, err := demo.Start(demo.Flags{}, geostacktest.Options{Clock: clk, TokenLifetime: tokenLifetime})
	if err != nil {
		return err
	}
	defer env.Close()
	fake := env.Fake
	gnc, _ := env.Base.Domains.ByName("gnc")

	// The backend: the validator keeps the service's own token in a token
	// cache of its own; incoming tokens are validated at gnc's admin
	// endpoint in SG, cached, and must belong to gnc.
	svcCred, svcScope := fake.ServiceCredential()
	validator, err := authtoken.New(authtoken.Config{
		Domains:           []domain.Domain{gnc},
		Home:              "SG",
		Primary:           env.Base.Primary,
		Clock:             clk,
		ServiceCredential: svcCred,
		ServiceScope:      svcScope,
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

	// The users' side.
	issue := func(dom string, n int) (*identity.Token, error) {
		cred, scope := demo.User(dom, n)
		ic := &identity.Client{Clock: clk}
		return ic.Issue(ctx, fake.Domain(dom).Endpoints["SG"].UserAuthURL, cred, scope)
	}
	gncTok, err := issue("gnc", 1)
	if err != nil {
		return err
	}
	zjpTok, err := issue("zjp", 1)
	if err != nil {
		return err
	}
	revoked, err := issue("gnc", 2)
	if err != nil {
		return err
	}
	if err := revoke(ctx, fake, clk, revoked.ID); err != nil {
		return err
	}

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

	fmt.Fprintln(out, "mail backend of gnc in SG; requests:")
	steps := []struct {
		label, token string
		spoof        bool
	}{
		{"gnc user's token", gncTok.ID, false},
		{"same token again (cached)", gncTok.ID, false},
		{"gnc token + spoofed headers", gncTok.ID, true},
		{"zjp user's token (valid)", zjpTok.ID, false},
		{"revoked token", revoked.ID, false},
		{"garbage token", "not-a-token", false},
		{"no token", "", false},
	}
	for _, s := range steps {
		if err := send(s.label, s.token, s.spoof); err != nil {
			return err
		}
	}
	clk.Advance(tokenLifetime + time.Minute)
	if err := send("gnc token after it expired", gncTok.ID, false); err != nil {
		return err
	}
	fmt.Fprintf(out, "Keystone validations: %d for %d requests\n", fake.Validations(""), len(steps)+1)
	return nil
}

func roleNames(t *identity.Token) string {
	var s []string
	for _, r := range t.Roles {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

// revoke revokes a token as the cloud's admin would.
func revoke(ctx context.Context, fake *geostacktest.Server, clk *clock.Manual, id string) error {
	ic := &identity.Client{Clock: clk}
	adminCred, adminScope := fake.AdminCredential()
	admin, err := ic.Issue(ctx, fake.AuthURL("JP"), adminCred, adminScope)
	if err != nil {
		return err
	}
	return ic.Revoke(ctx, fake.AuthURL("JP"), admin.ID, id)
}
