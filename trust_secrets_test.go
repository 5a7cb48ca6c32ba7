package geostack_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/wirelog"
)

// TestSecretsNeverShow is the secrets trust boundary: for a password, an
// application credential and a token credential, every error the library
// returns in the unhappy paths, every log line at debug level (the debug
// transport's, bodies included) and every
// fmt verb of every public type that holds a secret are collected, then
// scanned for each secret (as is, hex-encoded and JSON-escaped) and for
// every token id Keystone issued.
func TestSecretsNeverShow(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	srv, base := setup(t, testserver.Options{Clock: clk}, "gnc", 1)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: wirelog.LevelBody}))
	base.Logger = logger
	base.DebugLogger = logger // every request and answer, with bodies

	world := testserver.DefaultWorld()
	user := world.User("gncu00000001")
	appCred := world.AppCreds[0]
	creds := []struct {
		name   string
		cred   identity.Credential
		scope  identity.Scope
		secret string
	}{
		{"password", identity.Password{UserID: user.ID, Password: testserver.UserPassword}, base.Scope, testserver.UserPassword},
		{"application credential", identity.ApplicationCredential{ID: appCred.ID, Secret: testserver.AppCredSecret}, identity.Scope{}, testserver.AppCredSecret},
	}
	var out []string // everything a user or an operator could read
	record := func(vs ...any) {
		for _, v := range vs {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				out = append(out, fmt.Sprintf(verb, v))
			}
			if b, err := json.Marshal(v); err == nil {
				out = append(out, string(b))
			}
			logger.Debug("value", "v", v)
		}
	}
	var secrets []string
	for _, tc := range creds {
		secrets = append(secrets, tc.secret)
		cfg := base
		cfg.Credential, cfg.Scope = tc.cred, tc.scope
		c := newClient(t, cfg)
		tok, err := c.Token(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		secrets = append(secrets, tok.ID)
		sc, err := c.ServiceClient(t.Context(), "compute", "SIN1")
		if err != nil {
			t.Fatal(err)
		}
		record(c, cfg, &cfg, tok, *tok, tc.cred, c.Stats())

		// A token credential made from the token.
		tcfg := base
		tcfg.Credential, tcfg.Scope = identity.TokenCredential{ID: tok.ID}, tc.scope
		tc2, err := geostack.New(t.Context(), tcfg)
		if err != nil {
			t.Fatal(err)
		}
		record(tc2, tcfg)
		tc2.Close()

		// A service that rejects every token: the 401 path.
		srv.SetFault(testserver.Service("compute", "SIN1"), testserver.Fault{Status: http.StatusUnauthorized})
		_, err = flavors.ListDetail(sc, nil).AllPages(t.Context())
		record(err)
		srv.ClearFaults()

		// Keystone down everywhere, after expiry.
		for _, l := range srv.Locations() {
			srv.SetFault(testserver.Keystone(l), testserver.Fault{Status: http.StatusServiceUnavailable})
		}
		clk.Advance(2 * time.Hour)
		_, err = c.Token(t.Context())
		record(err)
		srv.ClearFaults()
	}

	// A wrong secret of each kind.
	for _, cred := range []identity.Credential{
		identity.Password{UserID: user.ID, Password: "wrong-" + testserver.UserPassword},
		identity.ApplicationCredential{ID: appCred.ID, Secret: "wrong-" + testserver.AppCredSecret},
		identity.TokenCredential{ID: "gAAAAAwrong-token-secret"},
	} {
		cfg := base
		cfg.Credential, cfg.Scope = cred, identity.Scope{}
		c := newClient(t, cfg)
		_, err := c.Token(t.Context())
		record(err, c, cred)
	}
	secrets = append(secrets, "wrong-"+testserver.UserPassword, "wrong-"+testserver.AppCredSecret, "gAAAAAwrong-token-secret")

	// Config errors with secrets where they do not belong.
	_, err := geostack.New(t.Context(), geostack.Config{
		Locations:  []region.Location{{Name: "JP", AuthURLs: []string{"https://admin:" + testserver.UserPassword + "@k.example/v3"}}},
		Home:       "JP",
		Primary:    "JP",
		Credential: identity.Password{UserName: "u", Password: testserver.UserPassword},
	})
	record(err)

	// The validator: its own service password, and incoming tokens it
	// rejects.
	gnc, _ := base.Domains.ByName("gnc")
	for l := range gnc.Endpoints {
		gnc.Endpoints[l] = domain.Endpoints{UserAuthURL: srv.DomainAuthURL("gnc", l), AdminAuthURL: srv.DomainAdminAuthURL("gnc", l)}
	}
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{gnc}, Home: "SG", Primary: "JP", Clock: clk, Logger: logger,
		ServiceCredential: identity.Password{UserName: "nova", DomainID: testserver.DefaultDomainID, Password: testserver.ServicePassword},
		ServiceScope:      identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainID: testserver.DefaultDomainID},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	secrets = append(secrets, testserver.ServicePassword, "gAAAAAbogus-incoming-token")
	_, err = v.Validate(t.Context(), "gAAAAAbogus-incoming-token")
	record(v, err)
	zjpTok, err := (&identity.Client{Clock: clk}).Issue(t.Context(), srv.AuthURL("SG"),
		identity.Password{UserName: "zjpu00000001", DomainID: world.Domain("zjp").ID, Password: testserver.UserPassword},
		identity.Scope{ProjectName: "zjpt00000001", ProjectDomainID: world.Domain("zjp").ID})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, zjpTok.ID)
	id, err := v.Validate(t.Context(), zjpTok.ID)
	record(id, err)
	backend := httptest.NewServer(v.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), authtoken.HandlerOptions{}))
	t.Cleanup(backend.Close)
	req, _ := http.NewRequest(http.MethodGet, backend.URL, nil)
	req.Header.Set("X-Auth-Token", zjpTok.ID)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		out = append(out, body.String(), fmt.Sprint(resp.Header))
	}

	// The shared tier's options.
	record(tokencache.SharedOptions{Secrets: [][]byte{[]byte("shared-tier-secret-0123456789")}})
	secrets = append(secrets, "shared-tier-secret-0123456789")

	out = append(out, logs.String())
	all := strings.Join(out, "\n")
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the scan would prove nothing")
	}
	if !strings.Contains(logs.String(), `"msg":"geostack: http response"`) || !strings.Contains(logs.String(), `"password":"REDACTED"`) {
		t.Fatal("the debug transport logged no exchange or no body: the scan would not cover it")
	}
	for _, s := range secrets {
		for _, form := range []string{s, hex.EncodeToString([]byte(s)), strings.Trim(fmt.Sprintf("%q", s), `"`)} {
			if i := strings.Index(all, form); i >= 0 {
				lo, hi := max(i-120, 0), min(i+len(form)+40, len(all))
				t.Errorf("a secret shows: …%s…", all[lo:hi])
			}
		}
	}
}
