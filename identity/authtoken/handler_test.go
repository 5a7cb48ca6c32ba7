package authtoken

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

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

// spoofNames are the canonical spellings of every identity header a
// client must not pass: keystonemiddleware's remove_auth_headers list,
// OpenStack-System-Scope and geostack's former X-System-Scope names. The
// list is written out here rather than taken from the handler's, so that
// the tests check the handler against it.
func spoofNames() []string {
	names := []string{
		"X-Identity-Status", "X-Service-Identity-Status", "X-Service-Catalog", "X-Is-Admin-Project",
		"X-Role", "X-User", "X-Tenant-Id", "X-Tenant-Name", "X-Tenant",
		"Openstack-System-Scope", "X-System-Scope", "X-Service-System-Scope",
	}
	for _, p := range []string{"X", "X-Service"} {
		for _, f := range []string{"-Domain-Id", "-Domain-Name", "-Project-Id", "-Project-Name", "-Project-Domain-Id",
			"-Project-Domain-Name", "-User-Id", "-User-Name", "-User-Domain-Id", "-User-Domain-Name", "-Roles"} {
			names = append(names, p+f)
		}
	}
	return names
}

// isSpoofName reports whether k is a spelling of a spoofNames name, as a
// WSGI server folds names: case and '-' or '_' do not matter.
func isSpoofName(k string) bool {
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	for _, n := range spoofNames() {
		if fold(n) == fold(k) {
			return true
		}
	}
	return false
}

// spellings turn a canonical header name into the spellings a client may
// send it in. A WSGI server folds them all into one HTTP_* key.
var spellings = []struct {
	name  string
	spell func(string) string
}{
	{"canonical", func(k string) string { return k }},
	{"lower", strings.ToLower},
	{"upper", strings.ToUpper},
	{"underscore", func(k string) string { return strings.ReplaceAll(k, "-", "_") }},
	// What net/http's server makes of X_User_Id.
	{"underscore, as net/http canonicalises it", func(k string) string {
		return textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(k, "-", "_"))
	}},
	{"mixed", func(k string) string {
		b := []byte(k)
		for i, c := range b {
			switch {
			case c == '-' && i%2 == 0:
				b[i] = '_'
			case i%3 == 0:
				b[i] = byte(unicode.ToUpper(rune(c)))
			default:
				b[i] = byte(unicode.ToLower(rune(c)))
			}
		}
		return string(b)
	}},
}

// forwardedGNC are the identity headers forwarded for gncu00000001's
// project token.
func forwardedGNC() map[string]string {
	return map[string]string{
		"X-Identity-Status": "Confirmed", "X-Is-Admin-Project": "False",
		"X-User-Id": testserver.SeedID("user", "gncu00000001"), "X-User-Name": "gncu00000001",
		"X-User-Domain-Id": testserver.SeedID("domain", "gnc"), "X-User-Domain-Name": "gnc",
		"X-Project-Id": testserver.SeedID("project", "gnct00000001"), "X-Project-Name": "gnct00000001",
		"X-Project-Domain-Id": testserver.SeedID("domain", "gnc"), "X-Project-Domain-Name": "gnc",
		"X-Roles": "member,reader", "X-Role": "member,reader", "X-User": "gncu00000001",
		"X-Tenant-Id": testserver.SeedID("project", "gnct00000001"), "X-Tenant-Name": "gnct00000001", "X-Tenant": "gnct00000001",
	}
}

// spoofCases are the handler settings the spoofing tests run with, and
// the identity headers the next handler must see.
func spoofCases() []struct {
	name  string
	opts  HandlerOptions
	token bool
	want  map[string]string
} {
	return []struct {
		name  string
		opts  HandlerOptions
		token bool
		want  map[string]string
	}{
		{name: "valid token", token: true, want: map[string]string{}},
		{name: "delayed, no token", opts: HandlerOptions{DelayAuthDecision: true},
			want: map[string]string{"X-Identity-Status": "Invalid", "X-Is-Admin-Project": "False"}},
		{name: "forwarded, delayed, no token", opts: HandlerOptions{DelayAuthDecision: true, ForwardHeaders: true},
			want: map[string]string{"X-Identity-Status": "Invalid", "X-Is-Admin-Project": "False"}},
		{name: "forwarded headers", opts: HandlerOptions{ForwardHeaders: true}, token: true, want: forwardedGNC()},
	}
}

// identityHeaders are the headers of h the handler manages as identity
// headers, in any spelling, by their spelling.
func identityHeaders(h http.Header) map[string]string {
	seen := map[string]string{}
	for k, vv := range h {
		if isSpoofName(k) {
			seen[k] = strings.Join(vv, " | ")
		}
	}
	return seen
}

// TestSpoofedHeadersStripped sends every identity header in every spelling
// straight to the handler, as a Go server embedding it would: the next
// handler sees only the headers the handler set.
func TestSpoofedHeadersStripped(t *testing.T) {
	t.Parallel()
	for _, sp := range spellings {
		for _, tt := range spoofCases() {
			t.Run(sp.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				e := setup(t, setupOpts{})
				var got http.Header
				h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header }), tt.opts)
				req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
				for _, n := range spoofNames() {
					req.Header[sp.spell(n)] = []string{"evil"}
				}
				sent := len(req.Header)
				if tt.token {
					req.Header.Set("X-Auth-Token", e.issue(t, "gncu00000001").ID)
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
				if got == nil {
					t.Fatal("next handler not called")
				}
				if diff := cmp.Diff(tt.want, identityHeaders(got)); diff != "" {
					t.Errorf("identity headers (-want +got):\n%s", diff)
				}
				if len(req.Header) < sent {
					t.Error("the server's request was modified")
				}
			})
		}
	}
}

// TestSpoofedHeadersThroughProxy puts the handler in a real server, in
// front of httputil.ReverseProxy and a Go backend, and sends every
// identity header in every spelling over HTTP: the backend sees only the
// headers the handler set, none a client sent, and none is lost to a
// Connection header naming it.
func TestSpoofedHeadersThroughProxy(t *testing.T) {
	t.Parallel()
	type seen struct {
		Status   int
		Identity map[string]string
		Token    []string
		Other    string // X-Other, named hop-by-hop by the client
	}
	valid := func(e *env) string { return e.issue(t, "gncu00000001").ID }
	for _, sp := range spellings {
		for _, tt := range spoofCases() {
			t.Run(sp.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				e := setup(t, setupOpts{})
				var got seen
				backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got.Identity = identityHeaders(r.Header)
					got.Token = r.Header["X-Auth-Token"]
					got.Other = r.Header.Get("X-Other")
				}))
				t.Cleanup(backend.Close)
				target, _ := url.Parse(backend.URL)
				proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
				front := httptest.NewServer(e.v.Handler(proxy, tt.opts))
				t.Cleanup(front.Close)

				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, front.URL+"/mail", nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range spoofNames() {
					req.Header[sp.spell(n)] = []string{"evil"}
				}
				// A Connection header naming identity headers (and one
				// other, which the proxy must still drop).
				req.Header["Connection"] = []string{sp.spell("X-Is-Admin-Project") + ", " + sp.spell("X-Identity-Status") +
					", " + sp.spell("X-Roles") + ", X-Other"}
				req.Header.Set("X-Other", "hop")
				var tok string
				if tt.token {
					tok = valid(e)
					req.Header.Set("X-Auth-Token", tok)
					req.Header["X_Auth_Token"] = []string{"gAAAAABanother-token"}
				}
				resp, err := front.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got.Status = resp.StatusCode
				want := seen{Status: http.StatusOK, Identity: tt.want}
				if tok != "" {
					want.Token = []string{tok}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("backend saw (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestTokenHeaders: a token is read from its canonical spelling only, and
// passed on with the value validated alone.
func TestTokenHeaders(t *testing.T) {
	t.Parallel()
	type result struct {
		Code    int
		User    string
		Forward map[string][]string // the token headers the next handler saw
	}
	tests := []struct {
		name    string
		headers func(tok string) http.Header
		want    func(tok string) result
	}{
		{
			name:    "canonical",
			headers: func(tok string) http.Header { return http.Header{"X-Auth-Token": {tok}} },
			want: func(tok string) result {
				return result{200, "gncu00000001", map[string][]string{"X-Auth-Token": {tok}}}
			},
		},
		{
			name:    "second value dropped",
			headers: func(tok string) http.Header { return http.Header{"X-Auth-Token": {tok, "gAAAAABother"}} },
			want: func(tok string) result {
				return result{200, "gncu00000001", map[string][]string{"X-Auth-Token": {tok}}}
			},
		},
		{
			name: "other spellings dropped",
			headers: func(tok string) http.Header {
				return http.Header{"X-Auth-Token": {tok}, "X_auth_token": {"gAAAAABother"}, "x-service-token": {"gAAAAABother"}}
			},
			want: func(tok string) result {
				return result{200, "gncu00000001", map[string][]string{"X-Auth-Token": {tok}}}
			},
		},
		{
			name:    "underscore spelling is not read",
			headers: func(tok string) http.Header { return http.Header{"X_auth_token": {tok}} },
			want:    func(string) result { return result{Code: 401} },
		},
		{
			name:    "legacy X-Storage-Token",
			headers: func(tok string) http.Header { return http.Header{"X-Storage-Token": {tok}} },
			want: func(tok string) result {
				return result{200, "gncu00000001", map[string][]string{"X-Storage-Token": {tok}}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{})
			tok := e.issue(t, "gncu00000001").ID
			var got result
			h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if id, ok := FromContext(r.Context()); ok && id.Confirmed() {
					got.User = id.Token.User.Name
				}
				got.Forward = map[string][]string{}
				for k, vv := range r.Header {
					if f := strings.ReplaceAll(strings.ToLower(k), "_", "-"); strings.HasSuffix(f, "-token") {
						got.Forward[k] = vv
					}
				}
			}), HandlerOptions{ForwardHeaders: true})
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
			req.Header = tt.headers(tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got.Code = rec.Code
			if diff := cmp.Diff(tt.want(tok), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetHeaders sets the forwarded headers of each kind of identity.
func TestSetHeaders(t *testing.T) {
	t.Parallel()
	gnc := identity.DomainRef{ID: "d-gnc", Name: "gnc"}
	user := identity.User{ID: "u1", Name: "gncu00000001", Domain: gnc}
	service := &identity.Token{User: identity.User{ID: "u-nova", Name: "nova", Domain: identity.DomainRef{ID: "default", Name: "Default"}},
		Project: &identity.Project{ID: "p-svc", Name: "service", Domain: identity.DomainRef{ID: "default", Name: "Default"}},
		Roles:   []identity.Role{{Name: "service"}, {Name: "admin"}}}
	tests := []struct {
		name string
		id   Identity
		want map[string]string
	}{
		{
			name: "project",
			id: Identity{Status: StatusConfirmed, Token: &identity.Token{User: user,
				Project: &identity.Project{ID: "p1", Name: "gnct00000001", Domain: gnc}, Roles: []identity.Role{{Name: "member"}}}},
			want: map[string]string{
				"X-Identity-Status": "Confirmed", "X-Is-Admin-Project": "False",
				"X-User-Id": "u1", "X-User-Name": "gncu00000001", "X-User-Domain-Id": "d-gnc", "X-User-Domain-Name": "gnc",
				"X-Project-Id": "p1", "X-Project-Name": "gnct00000001", "X-Project-Domain-Id": "d-gnc", "X-Project-Domain-Name": "gnc",
				"X-Roles": "member", "X-Role": "member", "X-User": "gncu00000001",
				"X-Tenant-Id": "p1", "X-Tenant-Name": "gnct00000001", "X-Tenant": "gnct00000001",
			},
		},
		{
			name: "domain",
			id: Identity{Status: StatusConfirmed, Token: &identity.Token{User: user, Domain: &gnc,
				Roles: []identity.Role{{Name: "admin"}, {Name: "member"}, {Name: "reader"}}}},
			want: map[string]string{
				"X-Identity-Status": "Confirmed", "X-Is-Admin-Project": "False",
				"X-User-Id": "u1", "X-User-Name": "gncu00000001", "X-User-Domain-Id": "d-gnc", "X-User-Domain-Name": "gnc",
				"X-Domain-Id": "d-gnc", "X-Domain-Name": "gnc",
				"X-Roles": "admin,member,reader", "X-Role": "admin,member,reader", "X-User": "gncu00000001",
			},
		},
		{
			name: "unscoped: empty roles, as keystonemiddleware sends them",
			id:   Identity{Status: StatusConfirmed, Token: &identity.Token{User: user}},
			want: map[string]string{
				"X-Identity-Status": "Confirmed", "X-Is-Admin-Project": "False",
				"X-User-Id": "u1", "X-User-Name": "gncu00000001", "X-User-Domain-Id": "d-gnc", "X-User-Domain-Name": "gnc",
				"X-Roles": "", "X-Role": "", "X-User": "gncu00000001",
			},
		},
		{
			name: "system",
			id:   Identity{Status: StatusConfirmed, Token: &identity.Token{User: user, System: true, Roles: []identity.Role{{Name: "admin"}}}},
			want: map[string]string{
				"X-Identity-Status": "Confirmed", "X-Is-Admin-Project": "False", "OpenStack-System-Scope": "all",
				"X-User-Id": "u1", "X-User-Name": "gncu00000001", "X-User-Domain-Id": "d-gnc", "X-User-Domain-Name": "gnc",
				"X-Roles": "admin", "X-Role": "admin", "X-User": "gncu00000001",
			},
		},
		{
			name: "service token, no user token",
			id:   Identity{Status: StatusInvalid, ServiceStatus: StatusConfirmed, Service: service},
			want: map[string]string{
				"X-Identity-Status": "Invalid", "X-Service-Identity-Status": "Confirmed", "X-Is-Admin-Project": "False",
				"X-Service-User-Id": "u-nova", "X-Service-User-Name": "nova",
				"X-Service-User-Domain-Id": "default", "X-Service-User-Domain-Name": "Default",
				"X-Service-Project-Id": "p-svc", "X-Service-Project-Name": "service",
				"X-Service-Project-Domain-Id": "default", "X-Service-Project-Domain-Name": "Default",
				"X-Service-Roles": "service,admin",
			},
		},
		{
			name: "invalid service token",
			id:   Identity{Status: StatusInvalid, ServiceStatus: StatusInvalid},
			want: map[string]string{"X-Identity-Status": "Invalid", "X-Service-Identity-Status": "Invalid", "X-Is-Admin-Project": "False"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &handler{o: HandlerOptions{ForwardHeaders: true}}
			w := newHeaderWriter(http.Header{}, h.headerCount(&tt.id))
			h.setHeaders(&w, &tt.id)
			got := map[string]string{}
			for k, vv := range w.h {
				got[k] = strings.Join(vv, " | ")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
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
