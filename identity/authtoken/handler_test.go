package authtoken

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	type want struct {
		code          int
		called        bool
		status        Status // of the Identity the next handler saw
		serviceStatus Status
		user          string
	}
	tests := []struct {
		name    string
		opts    HandlerOptions
		headers func(t *testing.T, e *env) map[string]string
		want    want
	}{
		{
			name: "valid",
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"X-Auth-Token": e.issue(t, "gncu00000001").ID}
			},
			want: want{code: 200, called: true, status: StatusConfirmed, user: "gncu00000001"},
		},
		{
			name: "legacy X-Storage-Token",
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"X-Storage-Token": e.issue(t, "gncu00000001").ID}
			},
			want: want{code: 200, called: true, status: StatusConfirmed, user: "gncu00000001"},
		},
		{
			name:    "missing",
			headers: func(*testing.T, *env) map[string]string { return nil },
			want:    want{code: 401},
		},
		{
			name:    "garbage",
			headers: func(*testing.T, *env) map[string]string { return map[string]string{"X-Auth-Token": "garbage"} },
			want:    want{code: 401},
		},
		{
			name: "expired",
			headers: func(t *testing.T, e *env) map[string]string {
				tok := e.issue(t, "gncu00000001")
				e.clock.Advance(time.Hour)
				return map[string]string{"X-Auth-Token": tok.ID}
			},
			want: want{code: 401},
		},
		{
			name: "other domain",
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"X-Auth-Token": e.issue(t, "zsgu00000001").ID}
			},
			want: want{code: 401},
		},
		{
			name:    "delayed decision, missing",
			opts:    HandlerOptions{DelayAuthDecision: true},
			headers: func(*testing.T, *env) map[string]string { return nil },
			want:    want{code: 200, called: true, status: StatusInvalid},
		},
		{
			name: "delayed decision, other domain",
			opts: HandlerOptions{DelayAuthDecision: true},
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"X-Auth-Token": e.issue(t, "zsgu00000001").ID}
			},
			want: want{code: 200, called: true, status: StatusInvalid},
		},
		{
			name: "with a valid service token",
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{
					"X-Auth-Token":    e.issue(t, "gncu00000001").ID,
					"X-Service-Token": e.issueScoped(t, identity.Password{UserName: "cinder", DomainName: "Default", Password: testserver.ServicePassword}, serviceScope).ID,
				}
			},
			want: want{code: 200, called: true, status: StatusConfirmed, serviceStatus: StatusConfirmed, user: "gncu00000001"},
		},
		{
			name: "service token lets an expired user token through",
			headers: func(t *testing.T, e *env) map[string]string {
				user := e.issue(t, "gncu00000001")
				e.clock.Advance(61 * time.Minute)
				return map[string]string{
					"X-Auth-Token":    user.ID,
					"X-Service-Token": e.issueScoped(t, identity.Password{UserName: "cinder", DomainName: "Default", Password: testserver.ServicePassword}, serviceScope).ID,
				}
			},
			want: want{code: 200, called: true, status: StatusConfirmed, serviceStatus: StatusConfirmed, user: "gncu00000001"},
		},
		{
			name: "service token without a service role",
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"X-Auth-Token": e.issue(t, "gncu00000001").ID, "X-Service-Token": e.issue(t, "gncu00000002").ID}
			},
			want: want{code: 401},
		},
		{
			name: "invalid service token, delayed decision",
			opts: HandlerOptions{DelayAuthDecision: true},
			headers: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"X-Auth-Token": e.issue(t, "gncu00000001").ID, "X-Service-Token": "garbage"}
			},
			want: want{code: 200, called: true, status: StatusConfirmed, serviceStatus: StatusInvalid, user: "gncu00000001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{})
			rec, s := e.serve(t, tt.opts, tt.headers(t, e))
			got := want{code: rec.Code, called: s.called}
			if s.id != nil {
				got.status, got.serviceStatus = s.id.Status, s.id.ServiceStatus
				if s.id.Token != nil {
					got.user = s.id.Token.User.Name
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if rec.Code == 401 {
				wantAuth := `Keystone uri="` + e.srv.DomainAuthURL("gnc", "SG") + `"`
				if diff := cmp.Diff(wantAuth, rec.Header().Get("WWW-Authenticate")); diff != "" {
					t.Errorf("WWW-Authenticate (-want +got):\n%s", diff)
				}
			}
			if tt.opts.DelayAuthDecision && s.called {
				if diff := cmp.Diff(tt.want.status.String(), s.headers.Get("X-Identity-Status")); diff != "" {
					t.Errorf("X-Identity-Status (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// spoof is a header of every name keystonemiddleware removes, some in
// non-canonical case as a hand-built request may have them.
var spoof = map[string]string{
	"X-Identity-Status": "Confirmed", "X-Service-Identity-Status": "Confirmed",
	"X-Domain-Id": "evil", "X-Domain-Name": "evil",
	"X-Project-Id": "evil", "X-Project-Name": "evil", "X-Project-Domain-Id": "evil", "X-Project-Domain-Name": "evil",
	"X-User-Id": "evil", "X-User-Name": "admin", "X-User-Domain-Id": "evil", "X-User-Domain-Name": "evil",
	"X-Roles": "admin", "X-Service-Catalog": "[]", "X-Is-Admin-Project": "True", "X-System-Scope": "all",
	"X-Service-Domain-Id": "evil", "X-Service-Domain-Name": "evil",
	"X-Service-Project-Id": "evil", "X-Service-Project-Name": "evil", "X-Service-Project-Domain-Id": "evil", "X-Service-Project-Domain-Name": "evil",
	"X-Service-User-Id": "evil", "X-Service-User-Name": "evil", "X-Service-User-Domain-Id": "evil", "X-Service-User-Domain-Name": "evil",
	"X-Service-Roles": "service", "X-Service-System-Scope": "all",
	"X-Role": "admin", "X-User": "admin", "X-Tenant-Id": "evil", "X-Tenant-Name": "evil", "X-Tenant": "evil",
	"x-roles": "admin", "X-USER-ID": "evil",
}

func TestSpoofedHeadersStripped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  HandlerOptions
		token bool
		// want are the identity headers the next handler sees.
		want map[string]string
	}{
		{name: "valid token", token: true, want: map[string]string{}},
		{name: "delayed, no token", opts: HandlerOptions{DelayAuthDecision: true}, want: map[string]string{"X-Identity-Status": "Invalid"}},
		{name: "forwarded headers", opts: HandlerOptions{ForwardHeaders: true}, token: true, want: map[string]string{
			"X-Identity-Status": "Confirmed",
			"X-User-Id":         testserver.SeedID("user", "gncu00000001"), "X-User-Name": "gncu00000001",
			"X-User-Domain-Id": testserver.SeedID("domain", "gnc"), "X-User-Domain-Name": "gnc",
			"X-Project-Id": testserver.SeedID("project", "gnct00000001"), "X-Project-Name": "gnct00000001",
			"X-Project-Domain-Id": testserver.SeedID("domain", "gnc"), "X-Project-Domain-Name": "gnc",
			"X-Roles": "member,reader", "X-Role": "member,reader", "X-User": "gncu00000001",
			"X-Tenant-Id": testserver.SeedID("project", "gnct00000001"), "X-Tenant-Name": "gnct00000001", "X-Tenant": "gnct00000001",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{})
			var tok string
			if tt.token {
				tok = e.issue(t, "gncu00000001").ID
			}
			var got http.Header
			h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header }), tt.opts)
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
			for k, v := range spoof {
				req.Header[k] = []string{v}
			}
			if tok != "" {
				req.Header.Set("X-Auth-Token", tok)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got == nil {
				t.Fatal("next handler not called")
			}
			seen := map[string]string{}
			for k := range got {
				if isStripped(k) {
					seen[k] = got.Get(k)
				}
			}
			if diff := cmp.Diff(tt.want, seen); diff != "" {
				t.Errorf("identity headers (-want +got):\n%s", diff)
			}
			if len(req.Header) < len(spoof) {
				t.Error("the server's request was modified")
			}
		})
	}
}

// TestNoSecretsInLogs drives every logged path and checks that no token,
// token prefix or password reaches the log.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	valid := e.issue(t, "gncu00000001")
	other := e.issue(t, "zjpu00000001")
	revoked := e.issue(t, "gncu00000002")
	e.revoke(t, revoked.ID)
	secrets := []string{valid.ID, other.ID, revoked.ID, "gAAAAABgarbage-token-value", testserver.ServicePassword, testserver.UserPassword}

	for _, tok := range []string{valid.ID, other.ID, revoked.ID, "gAAAAABgarbage-token-value", ""} {
		e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": tok})
		e.serve(t, HandlerOptions{DelayAuthDecision: true}, map[string]string{"X-Auth-Token": tok, "X-Service-Token": tok})
	}
	svc := e.serviceToken(t)
	secrets = append(secrets, svc.ID)
	e.revoke(t, svc.ID) // next miss: service token refresh, logged
	e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": e.issue(t, "gncu00000003").ID})
	fresh := e.issue(t, "gncu00000001")
	secrets = append(secrets, fresh.ID)
	for _, loc := range e.srv.Locations() {
		e.srv.SetFault(testserver.Keystone(loc), testserver.Fault{Status: 500})
	}
	if rec, _ := e.serve(t, HandlerOptions{}, map[string]string{"X-Auth-Token": fresh.ID}); rec.Code != 503 {
		t.Fatalf("outage status = %d", rec.Code)
	}

	// The validator itself, printed any way, shows no secret either.
	var printed strings.Builder
	slog.New(slog.NewTextHandler(&printed, nil)).Info("validator", "v", e.v)
	slog.New(slog.NewJSONHandler(&printed, nil)).Info("validator", "v", e.v)
	logs := e.logs.String() + printed.String()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		logs += fmt.Sprintf(verb, e.v) + fmt.Sprintf(verb, []any{e.v})
	}
	for _, s := range secrets {
		for _, part := range []string{s, s[:min(len(s), 16)]} {
			if part != "" && strings.Contains(logs, part) {
				t.Errorf("log contains a secret or its prefix %q", part[:min(len(part), 4)]+"…")
			}
		}
	}
	for _, want := range []string{identity.TokenFingerprint(other.ID), "which this backend does not serve", "refreshing it once", "status=503"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
