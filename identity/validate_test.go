package identity

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestValidateRejectsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)

	const secret = "s3cr3t-value"
	tests := []struct {
		name  string
		cred  Credential
		scope Scope
		want  string // substring of the error
	}{
		{"nil credential", nil, Scope{}, "credential: none given"},
		{"nil password pointer", (*Password)(nil), Scope{}, "credential: none given"},
		{"password empty", Password{UserID: "u"}, Scope{}, "Password is empty"},
		{"password no user", Password{Password: secret}, Scope{}, "needs UserID, or UserName"},
		{"password name without domain", Password{UserName: "u", Password: secret}, Scope{}, "UserName needs the user's domain"},
		{"password both domains", Password{UserName: "u", DomainID: "d", DomainName: "d", Password: secret}, Scope{}, "DomainID and DomainName are both set"},
		{"password id with name", Password{UserID: "u", UserName: "u", Password: secret}, Scope{}, "UserID excludes UserName"},
		{"password id with domain", Password{UserID: "u", DomainName: "d", Password: secret}, Scope{}, "UserID excludes DomainName"},
		{"appcred no secret", ApplicationCredential{ID: "a"}, Scope{}, "Secret is empty"},
		{"appcred nothing", ApplicationCredential{Secret: secret}, Scope{}, "needs ID, or Name"},
		{"appcred id and name", ApplicationCredential{ID: "a", Name: "n", Secret: secret}, Scope{}, "ID and Name are both set"},
		{"appcred id with user", ApplicationCredential{ID: "a", UserID: "u", Secret: secret}, Scope{}, "ID excludes UserID"},
		{"appcred name without user", ApplicationCredential{Name: "n", Secret: secret}, Scope{}, "Name needs its user"},
		{"appcred name user without domain", ApplicationCredential{Name: "n", UserName: "u", Secret: secret}, Scope{}, "UserName needs the user's domain"},
		{"appcred user both domains", ApplicationCredential{Name: "n", UserName: "u", UserDomainID: "d", UserDomainName: "d", Secret: secret}, Scope{}, "UserDomainID and UserDomainName are both set"},
		{"appcred user id and name", ApplicationCredential{Name: "n", UserID: "u", UserName: "u", Secret: secret}, Scope{}, "UserID excludes UserName"},
		{"appcred with scope", ApplicationCredential{ID: "a", Secret: secret}, Scope{ProjectID: "p"}, "takes no Scope"},
		{"token empty", TokenCredential{}, Scope{}, "token credential: ID is empty"},
		{"scope project and domain", Password{UserID: "u", Password: secret}, Scope{ProjectID: "p", DomainID: "d"}, "at most one of project, domain and system"},
		{"scope project and system", TokenCredential{ID: secret}, Scope{ProjectName: "p", ProjectDomainID: "d", System: true}, "at most one"},
		{"scope domain and system", TokenCredential{ID: secret}, Scope{DomainName: "d", System: true}, "at most one"},
		{"scope project id with name", TokenCredential{ID: secret}, Scope{ProjectID: "p", ProjectName: "p"}, "ProjectID excludes ProjectName"},
		{"scope project id with domain", TokenCredential{ID: secret}, Scope{ProjectID: "p", ProjectDomainID: "d"}, "ProjectID excludes ProjectDomainID"},
		{"scope project name without domain", TokenCredential{ID: secret}, Scope{ProjectName: "p"}, "ProjectName needs the project's domain"},
		{"scope project name both domains", TokenCredential{ID: secret}, Scope{ProjectName: "p", ProjectDomainID: "d", ProjectDomainName: "d"}, "ProjectDomainID and ProjectDomainName are both set"},
		{"scope project domain alone", TokenCredential{ID: secret}, Scope{ProjectDomainName: "d"}, "ProjectDomainName without ProjectName"},
		{"scope domain both", TokenCredential{ID: secret}, Scope{DomainID: "d", DomainName: "d"}, "DomainID and DomainName are both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c Client
			_, err := c.Issue(t.Context(), srv.URL+"/v3", tt.cred, tt.scope)
			if !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("Issue error = %v, want ErrInvalidCredential", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "issue" || e.URL != srv.URL+"/v3" {
				t.Errorf("Issue error = %#v, want *Error with Op issue and the URL", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("Issue error = %q, want it to say %q", msg, tt.want)
			}
			if !strings.HasPrefix(msg, "identity: ") {
				t.Errorf("Issue error = %q, want the package prefix", msg)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("Issue error %q holds the secret", msg)
			}
		})
	}
	t.Cleanup(func() {
		if n := requests.Load(); n != 0 {
			t.Errorf("%d requests reached the server; want none", n)
		}
	})
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	creds := []Credential{
		Password{UserID: "u", Password: "p"},
		Password{UserName: "u", DomainID: "d", Password: "p"},
		&Password{UserName: "u", DomainName: "d", Password: "p"},
		ApplicationCredential{ID: "a", Secret: "s"},
		ApplicationCredential{Name: "a", UserID: "u", Secret: "s"},
		ApplicationCredential{Name: "a", UserName: "u", UserDomainID: "d", Secret: "s"},
		ApplicationCredential{Name: "a", UserName: "u", UserDomainName: "d", Secret: "s"},
		TokenCredential{ID: "t"},
	}
	for _, c := range creds {
		if err := c.Validate(); err != nil {
			t.Errorf("%v.Validate() = %v", c, err)
		}
	}
	scopes := []Scope{
		{},
		{ProjectID: "p"},
		{ProjectName: "p", ProjectDomainID: "d"},
		{ProjectName: "p", ProjectDomainName: "d"},
		{DomainID: "d"},
		{DomainName: "d"},
		{System: true},
	}
	for _, s := range scopes {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", s, err)
		}
	}
}

func TestAuthURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "http://k:5000/v3", want: "http://k:5000"},
		{in: "http://k:5000/v3/", want: "http://k:5000"},
		{in: "http://k:5000/", want: "http://k:5000"},
		{in: "http://k:5000", want: "http://k:5000"},
		{in: "https://k/identity/v3", want: "https://k/identity"},
		{in: "https://k/identity", want: "https://k/identity"},
		{in: "https://k/identity//", want: "https://k/identity"},
		{in: "ftp://k/v3", bad: true},
		{in: "k:5000/v3", bad: true},
		{in: "http:///v3", bad: true},
		{in: "http://user:hunter2@k/v3", bad: true},
		{in: "http://k/v3?x=1", bad: true},
		{in: "%zz", bad: true},
		{in: "HTTPS://K.Example/Identity/v3", want: "https://k.example/Identity"},
		{in: "admin:hunter2@k:5000/v3", bad: true}, // no scheme: parses with no user
		{in: "https://hunter2@k/v3", bad: true},
	}
	for _, tt := range tests {
		got, err := normalizeAuthURL(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrInvalidCredential) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("normalizeAuthURL(%q) = %q, %v; want a secret-free ErrInvalidCredential", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeAuthURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestAuthURLPathKept: an auth URL whose path holds "v<digits>" elsewhere
// than its last segment reaches Keystone unchanged (gophercloud's own
// constructors would cut such a path at the first match).
func TestAuthURLPathKept(t *testing.T) {
	t.Parallel()
	paths := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":401,"message":"no","title":"Unauthorized"}}`)
	}))
	t.Cleanup(srv.Close)
	var c Client
	for _, tt := range []struct{ authURL, want string }{
		{srv.URL + "/srv1/v3", "/srv1/v3/auth/tokens"},
		{srv.URL + "/identity-v3/v3/", "/identity-v3/v3/auth/tokens"},
		{srv.URL + "/keystone", "/keystone/v3/auth/tokens"},
	} {
		_, err := c.Issue(t.Context(), tt.authURL, Password{UserID: "u", Password: "p"}, Scope{})
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("%s: %v", tt.authURL, err)
		}
		if got := <-paths; got != tt.want {
			t.Errorf("%s: request path %q, want %q", tt.authURL, got, tt.want)
		}
	}
}
