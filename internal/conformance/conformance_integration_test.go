//go:build integration

package conformance_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/testserver"
)

// cred is a password user.
type cred struct{ id, password string }

// side is one Keystone under comparison, the fake or the real one, with the
// identities each request needs. The two worlds are seeded differently, so
// each side names its own users for the same role in a request.
type side struct {
	name    string
	authURL string // ends in /v3

	member      cred   // member of project memberProj, which has the block-storage endpoints
	memberProj  string // project id
	unscoped    cred   // a user without a default project
	badLogin    cred   // a user only this wrong-password request names (identity's tests take gnc's; see keystonetest.Domain.Users)
	domainUser  cred   // has a role on domainScope
	domainScope string // domain id
	admin       cred   // admin on adminProj and on the system
	adminProj   string
	appCredID   string
	appCredSec  string
	productDom  string // a product domain's id, where users and projects are created
	prefix      string // its name prefix

	client *http.Client
}

func fakeSide(t *testing.T) *side {
	srv := testserver.New(t, testserver.Options{})
	w := testserver.DefaultWorld()
	id := func(name string) string { return w.User(name).ID }
	return &side{
		name:        "fake",
		authURL:     srv.AuthURL("JP"),
		member:      cred{id("gncu00000001"), testserver.UserPassword},
		memberProj:  w.Project("gnct00000001").ID,
		unscoped:    cred{id("gncu00000002"), testserver.UserPassword},
		badLogin:    cred{id("zjpu00000003"), testserver.UserPassword},
		domainUser:  cred{id(testserver.AdminUser), testserver.AdminPassword},
		domainScope: testserver.DefaultDomainID,
		admin:       cred{id(testserver.AdminUser), testserver.AdminPassword},
		adminProj:   w.Project(testserver.AdminProject).ID,
		appCredID:   testserver.SeedID("appcred", testserver.AppCredName),
		appCredSec:  testserver.AppCredSecret,
		productDom:  w.Domain("gnc").ID,
		prefix:      "gnc",
		client:      &http.Client{},
	}
}

func realSide(t *testing.T, env *keystonetest.Env) *side {
	gnc, gncAdmin, badLogin := env.MustUser(t, "gncu00000001"), env.MustUser(t, "gncu00000002"), env.MustUser(t, "zjpu00000003")
	d, _ := env.Domain("gnc")
	return &side{
		name:        "real",
		authURL:     env.AuthURL(env.Primary),
		member:      cred{gnc.ID, gnc.Password},
		memberProj:  gnc.ProjectID,
		unscoped:    cred{gncAdmin.ID, gncAdmin.Password},
		badLogin:    cred{badLogin.ID, badLogin.Password},
		domainUser:  cred{gncAdmin.ID, gncAdmin.Password},
		domainScope: gncAdmin.DomainID,
		admin:       cred{env.Admin.ID, env.Admin.Password},
		adminProj:   env.Admin.ProjectID,
		appCredID:   env.AppCredential.ID,
		appCredSec:  env.AppCredential.Secret,
		productDom:  d.ID,
		prefix:      d.Prefix,
		client:      &http.Client{},
	}
}

// answer is what is compared of a response.
type answer struct {
	Status int
	// Headers holds, for each header clients rely on, its value (for
	// Content-Type) or "present".
	Headers map[string]string
	// Body is the shape of the JSON body; nil for none.
	Body any
}

// comparedHeaders are the response headers the library and gophercloud read.
var comparedHeaders = []string{"Content-Type", "X-Subject-Token", "WWW-Authenticate"}

type request struct {
	method, path   string // path relative to the auth URL, which ends in /v3
	token, subject string
	body           any
}

func (s *side) do(t *testing.T, r request) (answer, *http.Response) {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, s.authURL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("X-Auth-Token", r.token)
	}
	if r.subject != "" {
		req.Header.Set("X-Subject-Token", r.subject)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", s.name, r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s %s: read body: %v", s.name, r.method, r.path, err)
	}
	a := answer{Status: resp.StatusCode, Headers: map[string]string{}}
	for _, h := range comparedHeaders {
		switch v := resp.Header.Get(h); {
		case v == "":
		case h == "Content-Type":
			a.Headers[h] = v
		default:
			a.Headers[h] = "present"
		}
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s %s: body is not JSON (%d bytes): %v", s.name, r.method, r.path, len(raw), err)
		}
		a.Body = shape(v)
	}
	return a, resp
}

// issue returns a token id for the auth request body.
func (s *side) issue(t *testing.T, auth any) string {
	t.Helper()
	a, resp := s.do(t, request{method: http.MethodPost, path: "/auth/tokens", body: auth})
	if a.Status != http.StatusCreated {
		t.Fatalf("%s: issue a token: status %d", s.name, a.Status)
	}
	return resp.Header.Get("X-Subject-Token")
}

// Auth request bodies.
func passwordAuth(c cred, scope any) any {
	a := map[string]any{"identity": map[string]any{
		"methods":  []string{"password"},
		"password": map[string]any{"user": map[string]any{"id": c.id, "password": c.password}},
	}}
	if scope != nil {
		a["scope"] = scope
	}
	return map[string]any{"auth": a}
}

func projectScope(id string) any { return map[string]any{"project": map[string]any{"id": id}} }
func domainScope(id string) any  { return map[string]any{"domain": map[string]any{"id": id}} }

var systemScope = map[string]any{"system": map[string]any{"all": true}}

// The value shapes: what is left of a JSON value once every value is
// dropped.
const (
	tString = "string"
	tNumber = "number"
	tBool   = "bool"
	tNull   = "null"
)

// shape reduces a decoded JSON value to its shape: objects keep their keys
// with the shapes of their values, arrays become the union shape of their
// elements (an empty array has no element shape), scalars become their type.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = shape(x)
		}
		return m
	case []any:
		var el any
		for _, x := range v {
			el = union(el, shape(x))
		}
		if el == nil {
			return []any{}
		}
		return []any{el}
	case string:
		return tString
	case float64:
		return tNumber
	case bool:
		return tBool
	case nil:
		return tNull
	}
	panic(fmt.Sprintf("conformance: unexpected JSON value %T", v))
}

// union merges two shapes: the keys of both objects, the union of array
// elements, and "a|b" for different scalar types.
func union(a, b any) any {
	if a == nil {
		return b
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		out := make(map[string]any, len(am))
		for k, v := range am {
			out[k] = v
		}
		for k, v := range bm {
			out[k] = union(out[k], v)
		}
		return out
	}
	aa, aok := a.([]any)
	ba, bok := b.([]any)
	if aok && bok {
		switch {
		case len(aa) == 0:
			return b
		case len(ba) == 0:
			return a
		}
		return []any{union(aa[0], ba[0])}
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		set := strings.Split(as, "|")
		for _, x := range strings.Split(bs, "|") {
			if !slices.Contains(set, x) {
				set = append(set, x)
			}
		}
		slices.Sort(set)
		return strings.Join(set, "|")
	}
	return "mixed"
}

// pathString renders a cmp.Path as the JSON path of the shapes it walks:
// object keys joined by ".", "[]" for an array element.
func pathString(p cmp.Path) string {
	var b strings.Builder
	for _, st := range p {
		switch st := st.(type) {
		case cmp.MapIndex:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(fmt.Sprint(st.Key()))
		case cmp.SliceIndex:
			b.WriteString("[]")
		}
	}
	return b.String()
}

// compareOptions normalise the shapes before comparing: ids, times and
// other values are already gone; an empty array matches an array of any
// element shape, since it has none; and the allowed extra keys are ignored.
func compareOptions(allowed map[string]string) cmp.Options {
	return cmp.Options{
		cmp.FilterValues(func(a, b []any) bool { return len(a) == 0 || len(b) == 0 }, cmp.Comparer(func(a, b []any) bool { return true })),
		cmp.FilterPath(func(p cmp.Path) bool {
			_, ok := allowed[pathString(p)]
			return ok
		}, cmp.Ignore()),
	}
}

// TestIntegrationConformance sends every Keystone request the fake serves to
// the fake and to the real Keystone and compares status, headers and the
// JSON shape of the answers.
func TestIntegrationConformance(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	sides := []*side{realSide(t, env), fakeSide(t)}

	// Tokens each side's requests use.
	type tokens struct{ admin, member, revoked string }
	toks := map[string]tokens{}
	for _, s := range sides {
		tk := tokens{
			admin:  s.issue(t, passwordAuth(s.admin, projectScope(s.adminProj))),
			member: s.issue(t, passwordAuth(s.member, projectScope(s.memberProj))),
		}
		tk.revoked = s.issue(t, passwordAuth(s.member, projectScope(s.memberProj)))
		if a, _ := s.do(t, request{method: http.MethodDelete, path: "/auth/tokens", token: tk.admin, subject: tk.revoked}); a.Status != http.StatusNoContent {
			t.Fatalf("%s: revoke: status %d", s.name, a.Status)
		}
		toks[s.name] = tk
	}
	suffix := strings.ToLower(rand.Text()[:10])

	tests := []struct {
		name string
		req  func(s *side, tk tokens) request
		// allowed maps JSON paths where the real Keystone may have keys
		// the fake lacks to why the fake legitimately can't have them.
		// (None are needed today.)
		allowed map[string]string
	}{
		{"GET /v3", func(s *side, tk tokens) request {
			return request{method: http.MethodGet}
		}, nil},
		{"POST /v3/auth/tokens password, project scope", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: passwordAuth(s.member, projectScope(s.memberProj))}
		}, nil},
		{"POST /v3/auth/tokens?nocatalog password, project scope", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens?nocatalog", body: passwordAuth(s.member, projectScope(s.memberProj))}
		}, nil},
		{"POST /v3/auth/tokens password, domain scope", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: passwordAuth(s.domainUser, domainScope(s.domainScope))}
		}, nil},
		{"POST /v3/auth/tokens password, system scope", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: passwordAuth(s.admin, systemScope)}
		}, nil},
		{"POST /v3/auth/tokens password, unscoped", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: passwordAuth(s.unscoped, nil)}
		}, nil},
		{"POST /v3/auth/tokens application credential", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: map[string]any{"auth": map[string]any{"identity": map[string]any{
				"methods":                []string{"application_credential"},
				"application_credential": map[string]any{"id": s.appCredID, "secret": s.appCredSec},
			}}}}
		}, nil},
		{"POST /v3/auth/tokens token, project scope", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: map[string]any{"auth": map[string]any{
				"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": tk.member}},
				"scope":    projectScope(s.memberProj),
			}}}
		}, nil},
		{"POST /v3/auth/tokens wrong password (401)", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: passwordAuth(cred{s.badLogin.id, "wrong-password"}, nil)}
		}, nil},
		{"POST /v3/auth/tokens revoked parent token (404)", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/auth/tokens", body: map[string]any{"auth": map[string]any{
				"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": tk.revoked}},
			}}}
		}, nil},
		{"GET /v3/auth/tokens", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/auth/tokens", token: tk.admin, subject: tk.member}
		}, nil},
		{"GET /v3/auth/tokens?nocatalog", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/auth/tokens?nocatalog", token: tk.admin, subject: tk.member}
		}, nil},
		{"HEAD /v3/auth/tokens", func(s *side, tk tokens) request {
			return request{method: http.MethodHead, path: "/auth/tokens", token: tk.admin, subject: tk.member}
		}, nil},
		{"GET /v3/auth/tokens revoked subject (404)", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/auth/tokens", token: tk.admin, subject: tk.revoked}
		}, nil},
		{"HEAD /v3/auth/tokens revoked subject (404)", func(s *side, tk tokens) request {
			return request{method: http.MethodHead, path: "/auth/tokens", token: tk.admin, subject: tk.revoked}
		}, nil},
		{"GET /v3/auth/tokens revoked caller (401)", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/auth/tokens", token: tk.revoked, subject: tk.member}
		}, nil},
		{"GET /v3/auth/tokens no caller token (401)", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/auth/tokens", subject: tk.member}
		}, nil},
		{"GET /v3/regions", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/regions", token: tk.member}
		}, nil},
		{"GET /v3/auth/catalog", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/auth/catalog", token: tk.member}
		}, nil},
		{"GET /v3/domains?name=", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/domains?name=" + s.prefix, token: tk.admin}
		}, nil},
		{"GET /v3/domains/{id}", func(s *side, tk tokens) request {
			return request{method: http.MethodGet, path: "/domains/" + s.productDom, token: tk.admin}
		}, nil},
		{"POST /v3/users", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/users", token: tk.admin, body: map[string]any{"user": map[string]any{
				"name": s.prefix + "uconf" + suffix, "domain_id": s.productDom, "password": "conformance-" + suffix,
			}}}
		}, nil},
		{"POST /v3/projects", func(s *side, tk tokens) request {
			return request{method: http.MethodPost, path: "/projects", token: tk.admin, body: map[string]any{"project": map[string]any{
				"name": s.prefix + "tconf" + suffix, "domain_id": s.productDom,
			}}}
		}, nil},
		{"DELETE /v3/auth/tokens", func(s *side, tk tokens) request {
			fresh := s.issue(t, passwordAuth(s.member, projectScope(s.memberProj)))
			return request{method: http.MethodDelete, path: "/auth/tokens", token: tk.admin, subject: fresh}
		}, nil},
		{"DELETE /v3/auth/tokens revoked subject (404)", func(s *side, tk tokens) request {
			return request{method: http.MethodDelete, path: "/auth/tokens", token: tk.admin, subject: tk.revoked}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got [2]answer
			for i, s := range sides {
				got[i], _ = s.do(t, tt.req(s, toks[s.name]))
			}
			if diff := cmp.Diff(got[0], got[1], compareOptions(tt.allowed)); diff != "" {
				t.Errorf("the fake drifted from the real Keystone (-real +fake):\n%s", diff)
			}
		})
	}
}
