package authtoken

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// TestAccessRulePath checks the path patterns against keystonemiddleware's
// answers (its _path_matches, run on the same inputs), which ksm records
// where geostack deliberately differs: keystonemiddleware leaves the
// pattern's other characters as regular-expression syntax.
func TestAccessRulePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, path string
		want          bool
		ksm           *bool // keystonemiddleware's answer, where it differs
	}{
		{"/v2.1/servers", "/v2.1/servers", true, nil},
		{"/v2.1/servers", "/v2.1/servers/", false, nil},
		{"/v2.1/servers", "/v2x1/servers", false, ptr(true)},   // "." is any character there
		{"/v2.1/servers", "/v2.1/servers\n", false, ptr(true)}, // "$" matches before a final newline there
		{"/v2.1/servers/*", "/v2.1/servers/1234", true, nil},
		{"/v2.1/servers/*", "/v2.1/servers/", false, nil},
		{"/v2.1/servers/*", "/v2.1/servers/1/2", false, nil},
		{"/v2.1/servers/{id}", "/v2.1/servers/1234", true, nil},
		{"/v2.1/servers/{id}/action", "/v2.1/servers/1234/action", true, nil},
		{"/v2.1/servers/{id}/action", "/v2.1/servers//action", false, nil},
		{"/v2.1/os-keypairs/**", "/v2.1/os-keypairs/a/b", true, nil},
		{"/v2.1/os-keypairs/**", "/v2.1/os-keypairs/", true, nil},
		{"/v2.1/os-keypairs/**", "/v2.1/os-keypairs", false, nil},
		{"/a/**/b", "/a/b", false, nil},
		{"/a/**/b", "/a//b", true, nil},
		{"/a/**/b", "/a/x/y/b", true, nil},
		{"/a/***", "/a/xy", true, nil},
		{"/a/***", "/a/x", true, nil},
		{"/a/*x", "/a/yx", true, nil},
		{"/a/{b", "/a/", false, nil},
		{"/a/{b", "/a/b", true, nil},
		{"/a/b}", "/a/b", true, nil},
		{"/a/{}", "/a/x", true, nil},
		{"**", "/anything/at/all", true, nil},
		{"*", "/x", false, nil},
		{"/a+b", "/a+b", true, ptr(false)}, // "+" repeats there
		{"/a+b", "/aab", false, ptr(true)},
		{"/a(b", "/a(b", true, nil}, // an error (500) there
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			r := accessRule{Service: "compute", Method: http.MethodGet, Path: tt.pattern}
			if got := r.permits("compute", http.MethodGet, tt.path); got != tt.want {
				t.Errorf("pattern %q, path %q: %v, want %v", tt.pattern, tt.path, got, tt.want)
			}
			if tt.ksm != nil && *tt.ksm == tt.want {
				t.Errorf("the case is marked as a difference from keystonemiddleware, but both answer %v", tt.want)
			}
		})
	}
}

func TestAccessRuleServiceAndMethod(t *testing.T) {
	t.Parallel()
	r := accessRule{Service: "compute", Method: http.MethodGet, Path: "/v2.1/servers"}
	tests := []struct {
		service, method string
		want            bool
	}{
		{"compute", http.MethodGet, true},
		{"image", http.MethodGet, false},
		{"compute", http.MethodPost, false},
		{"compute", "get", false}, // methods compare exactly
	}
	for _, tt := range tests {
		if got := r.permits(tt.service, tt.method, "/v2.1/servers"); got != tt.want {
			t.Errorf("%s %s: %v, want %v", tt.service, tt.method, got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestHandlerAccessRules drives the handler's rule check with a token that
// is given access rules (identity does not carry them yet: see
// tokenAccessRules).
func TestHandlerAccessRules(t *testing.T) {
	t.Parallel()
	rules := []accessRule{
		{Service: "compute", Method: http.MethodGet, Path: "/v2.1/servers"},
		{Service: "compute", Method: http.MethodPost, Path: "/v2.1/servers/{id}/action"},
		{Service: "mail", Method: http.MethodGet, Path: "/inbox/**"},
	}
	svc := identity.Password{UserName: "cinder", DomainName: "Default", Password: testserver.ServicePassword}
	type want struct {
		Code   int
		Status Status
		Denied bool // the Identity's error is ErrAccessRules
	}
	tests := []struct {
		name           string
		serviceType    string // Config.ServiceType
		opts           HandlerOptions
		includeCatalog bool
		method, path   string
		service        string // "valid", "garbage" or none
		want           want
	}{
		{name: "no service type", method: "GET", path: "/v2.1/servers", want: want{Code: 401}},
		{name: "permitted", serviceType: "compute", method: "GET", path: "/v2.1/servers",
			want: want{Code: 200, Status: StatusConfirmed}},
		{name: "permitted with a parameter", serviceType: "compute", method: "POST", path: "/v2.1/servers/42/action",
			want: want{Code: 200, Status: StatusConfirmed}},
		{name: "wrong method", serviceType: "compute", method: "DELETE", path: "/v2.1/servers",
			want: want{Code: 401}},
		{name: "wrong path, delayed", serviceType: "compute", opts: HandlerOptions{DelayAuthDecision: true}, method: "GET", path: "/v2.1/flavors",
			want: want{Code: 200, Status: StatusInvalid, Denied: true}},
		{name: "rule of another service", serviceType: "image", method: "GET", path: "/v2.1/servers",
			want: want{Code: 401}},
		{name: "identity may always validate tokens", serviceType: "identity", method: "GET", path: "/identity/v3/auth/tokens",
			want: want{Code: 200, Status: StatusConfirmed}},
		{name: "service type in the catalog", serviceType: "compute", includeCatalog: true, method: "GET", path: "/v2.1/servers",
			want: want{Code: 200, Status: StatusConfirmed}},
		{name: "service type not in the catalog", serviceType: "mail", includeCatalog: true, method: "GET", path: "/inbox/1",
			want: want{Code: 401}},
		{name: "catalog not fetched: not checked", serviceType: "mail", method: "GET", path: "/inbox/1",
			want: want{Code: 200, Status: StatusConfirmed}},
		{name: "a valid service token lifts the rules", serviceType: "compute", method: "DELETE", path: "/v2.1/servers/42",
			service: "valid", want: want{Code: 200, Status: StatusConfirmed}},
		{name: "an invalid one does not", serviceType: "compute", opts: HandlerOptions{DelayAuthDecision: true}, method: "DELETE", path: "/v2.1/servers/42",
			service: "garbage", want: want{Code: 200, Status: StatusInvalid, Denied: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, setupOpts{config: func(c *Config) { c.IncludeCatalog, c.ServiceType = tt.includeCatalog, tt.serviceType }})
			var got want
			h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := FromContext(r.Context())
				got.Status, got.Denied = id.Status, errors.Is(id.Err, ErrAccessRules)
			}), tt.opts).(*handler)
			tok := e.issue(t, "gncu00000001")
			h.accessRulesOf = func(t *identity.Token) ([]accessRule, bool) { return rules, t.ID == tok.ID }
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.path, nil)
			req.Header.Set("X-Auth-Token", tok.ID)
			switch tt.service {
			case "valid":
				req.Header.Set("X-Service-Token", e.issueScoped(t, svc, serviceScope).ID)
			case "garbage":
				req.Header.Set("X-Service-Token", "gAAAAABgarbage")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got.Code = rec.Code
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
