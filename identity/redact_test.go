package identity_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// verbs are every formatting a value can meet.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v", "%-+#v"}

// formatAll renders v with every verb, inside containers, with String and
// GoString where present, and through slog's text and JSON handlers.
func formatAll(v any) string {
	var b strings.Builder
	for _, verb := range verbs {
		for _, x := range []any{v, []any{v}, map[string]any{"k": v}, struct{ F any }{v}, &struct{ F any }{v}} {
			fmt.Fprintf(&b, verb+"\n", x)
		}
	}
	if s, ok := v.(fmt.Stringer); ok {
		b.WriteString(s.String())
	}
	if s, ok := v.(fmt.GoStringer); ok {
		b.WriteString(s.GoString())
	}
	if e, ok := v.(error); ok {
		b.WriteString(e.Error())
	}
	if j, err := json.Marshal([]any{v, map[string]any{"k": v}}); err == nil {
		b.Write(j)
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("msg", "v", v)
		l.Info("msg", slog.Any("v", v), slog.Group("g", "v", v))
		if e, ok := v.(error); ok {
			l.Error("failed", "err", e)
		}
	}
	b.Write(logs.Bytes())
	return b.String()
}

func TestNothingPrintsASecret(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	authURL := srv.AuthURL("JP")
	var c identity.Client
	ctx := t.Context()
	service := issue(t, &c, authURL, novaPassword, serviceScope)
	subject := issue(t, &c, authURL, userPassword, userScope)
	other := issue(t, &c, authURL, identity.Password{UserName: "gncu00000002", DomainID: gncID, Password: testserver.UserPassword},
		identity.Scope{ProjectName: "gnct00000002", ProjectDomainID: gncID})
	appTok := issue(t, &c, authURL, identity.ApplicationCredential{ID: appCredID, Secret: testserver.AppCredSecret}, identity.Scope{})
	validated, err := c.Validate(ctx, authURL, service.ID, subject.ID, identity.ValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	const wrong = "wrong-password-for-redaction"
	secrets := []string{
		testserver.AdminPassword, testserver.ServicePassword, testserver.UserPassword, testserver.AppCredSecret, wrong,
		service.ID, subject.ID, other.ID, appTok.ID,
	}

	values := map[string]any{
		"issued token":    subject,
		"token value":     *subject,
		"validated token": validated,
		"app cred token":  appTok,
		"password":        userPassword,
		"password ptr":    &novaPassword,
		"password by id":  identity.Password{UserID: userID, Password: wrong},
		"app cred":        identity.ApplicationCredential{ID: appCredID, Secret: testserver.AppCredSecret},
		"app cred by name": identity.ApplicationCredential{Name: testserver.AppCredName, UserName: userName,
			UserDomainName: "gnc", Secret: testserver.AppCredSecret},
		"token credential":     identity.TokenCredential{ID: subject.ID},
		"token credential ptr": &identity.TokenCredential{ID: service.ID},
		"credential interface": []identity.Credential{userPassword, identity.TokenCredential{ID: other.ID}},
		"scope":                userScope,
		"user":                 subject.User,
		"project":              subject.Project,
		"domain":               subject.User.Domain,
		"roles":                subject.Roles,
		"client":               identity.Client{UserAgent: "test"},
		"options":              identity.ValidateOptions{NoCatalog: true},
	}

	// Every kind of error, from real requests carrying the secrets.
	errs := map[string]error{}
	_, errs["invalid credential"] = c.Issue(ctx, authURL, identity.Password{UserName: userName, Password: wrong}, identity.Scope{})
	_, errs["invalid app cred scope"] = c.Issue(ctx, authURL, identity.ApplicationCredential{ID: appCredID, Secret: testserver.AppCredSecret}, userScope)
	_, errs["unauthorized"] = c.Issue(ctx, authURL, identity.Password{UserID: userID, Password: wrong}, identity.Scope{})
	_, errs["unauthorized token"] = c.Issue(ctx, authURL, identity.TokenCredential{ID: wrong}, identity.Scope{})
	_, errs["unauthorized service"] = c.Validate(ctx, authURL, wrong, subject.ID, identity.ValidateOptions{})
	_, errs["forbidden"] = c.Validate(ctx, authURL, other.ID, subject.ID, identity.ValidateOptions{})
	errs["forbidden check"] = c.Check(ctx, authURL, other.ID, subject.ID, identity.ValidateOptions{})
	_, errs["not found"] = c.Validate(ctx, authURL, service.ID, wrong, identity.ValidateOptions{})
	errs["not found check"] = c.Check(ctx, authURL, service.ID, wrong, identity.ValidateOptions{})
	errs["not found revoke"] = c.Revoke(ctx, authURL, service.ID, wrong)
	_, errs["bad auth URL"] = c.Issue(ctx, "http://admin:"+wrong+"@127.0.0.1/v3", userPassword, identity.Scope{})
	srv.SetFault(testserver.Keystone("US"), testserver.Fault{Status: 503})
	_, errs["unavailable 503"] = c.Issue(ctx, srv.AuthURL("US"), userPassword, userScope)
	srv.SetFault(testserver.Keystone("US"), testserver.Fault{MalformedJSON: true})
	_, errs["bad response"] = c.Validate(ctx, srv.AuthURL("US"), service.ID, subject.ID, identity.ValidateOptions{})
	srv.SetFault(testserver.Keystone("US"), testserver.Fault{OversizedBody: 1 << 10})
	_, errs["oversized"] = (&identity.Client{MaxBodyBytes: 100}).Issue(ctx, srv.AuthURL("US"), userPassword, userScope)
	srv.SetFault(testserver.AtLocation("SG"), testserver.Fault{Down: true})
	_, errs["down"] = c.Validate(ctx, srv.AuthURL("SG"), service.ID, subject.ID, identity.ValidateOptions{})
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, errs["canceled"] = c.Issue(canceled, authURL, userPassword, userScope)
	for name, err := range errs {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		var e *identity.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %T is not an *identity.Error", name, err)
		}
		values["error "+name] = err
		values["*Error value "+name] = *e
		values["wrapped error "+name] = fmt.Errorf("outer: %w", err)
	}

	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := formatAll(v)
			for _, s := range secrets {
				for _, form := range []string{s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s)))} {
					if strings.Contains(out, form) {
						t.Errorf("output holds a secret (%s…):\n%s", s[:4], out)
					}
				}
			}
		})
	}
}

func TestTokenFormat(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	var c identity.Client
	tok := issue(t, &c, srv.AuthURL("JP"), userPassword, userScope)
	fp := identity.TokenFingerprint(tok.ID)
	if len(fp) != len("sha256:")+8 || !strings.HasPrefix(fp, "sha256:") {
		t.Fatalf("TokenFingerprint = %q", fp)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, tok)
		for _, want := range []string{fp, userName, testserver.AppCredProject, "member"} {
			if !strings.Contains(out, want) {
				t.Errorf("Sprintf(%q) = %q, want it to show %q", verb, out, want)
			}
		}
	}
	if got, want := fmt.Sprintf("%q", tok), fmt.Sprintf("%q", tok.String()); got != want {
		t.Errorf("%%q = %s, want %s", got, want)
	}
	if got := fmt.Sprintf("%v", (*identity.Token)(nil)); got != "<nil>" {
		t.Errorf("nil token formats as %q", got)
	}
	p := identity.Password{UserName: "u", DomainName: "d", Password: "x"}
	if got, want := p.String(), `identity.Password{UserName:"u", DomainName:"d", Password:REDACTED}`; got != want {
		t.Errorf("Password.String() = %s, want %s", got, want)
	}
}
