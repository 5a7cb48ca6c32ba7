package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	const password = "pa55-w0rd-echoed"
	tests := []struct {
		status int
		body   string
		issue  error
		other  error
		msg    string
		vmsg   string // Message for validate and revoke, if not msg
	}{
		{400, `{"error":{"code":400,"message":"Application credentials cannot request a scope.","title":"Bad Request"}}`, ErrInvalidCredential, ErrInvalidCredential, "Application credentials cannot request a scope.", ""},
		{401, `{"error":{"message":"echo ` + password + ` svc-token-value"}}`, ErrUnauthorized, ErrUnauthorized,
			"echo [REDACTED] svc-token-value", "echo " + password + " [REDACTED]"},
		{403, `{"error":{"message":"no"}}`, ErrForbidden, ErrForbidden, "no", ""},
		{404, `not json at all ` + password, ErrBadResponse, ErrBadResponse, "", ""},
		{404, `{"error":{"code":404,"message":"Failed to validate token","title":"Not Found"}}`, ErrUnauthorized, ErrNotFound, "Failed to validate token", ""},
		{409, `{"error":{"message":"conflict\n\twith  spaces"}}`, ErrBadResponse, ErrBadResponse, "conflict with spaces", ""},
		{429, `{}`, ErrRateLimited, ErrRateLimited, "", ""},
		{500, `{"error":{"message":"` + strings.Repeat("x", 2000) + `"}}`, ErrUnavailable, ErrUnavailable, strings.Repeat("x", maxMessage) + "…", ""},
		{502, ``, ErrUnavailable, ErrUnavailable, "", ""},
		{504, `{"error":"flat"}`, ErrUnavailable, ErrUnavailable, "", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				if r.Method != http.MethodHead {
					io.WriteString(w, tt.body)
				}
			}))
			t.Cleanup(srv.Close)
			var c Client
			_, ierr := c.Issue(t.Context(), srv.URL, Password{UserID: "u", Password: password}, Scope{})
			_, verr := c.Validate(t.Context(), srv.URL, "svc-token-value", "subject-token-value", ValidateOptions{})
			rerr := c.Revoke(t.Context(), srv.URL, "svc-token-value", "subject-token-value")
			for op, r := range map[string]struct {
				err  error
				kind error
			}{"issue": {ierr, tt.issue}, "validate": {verr, tt.other}, "revoke": {rerr, tt.other}} {
				var e *Error
				if !errors.As(r.err, &e) || e.Kind != r.kind || e.Status != tt.status || e.Op != op {
					t.Errorf("%s: %#v, want Kind %v, Status %d", op, r.err, r.kind, tt.status)
					continue
				}
				want, secrets := tt.msg, []string{password}
				if op != "issue" {
					secrets = []string{"svc-token-value", "subject-token-value"}
					if tt.vmsg != "" {
						want = tt.vmsg
					}
				}
				if e.Message != want {
					t.Errorf("%s: Message = %q, want %q", op, e.Message, want)
				}
				for _, s := range secrets {
					if strings.Contains(e.Error(), s) {
						t.Errorf("%s: %q holds a secret", op, e.Error())
					}
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		max       int64
		chunked   bool
		wantErr   bool
		wantBytes string
	}{
		{name: "under", body: "hello", max: 10, wantBytes: "hello"},
		{name: "exact", body: "hello", max: 5, wantBytes: "hello"},
		{name: "exact chunked", body: "hello", max: 5, chunked: true, wantBytes: "hello"},
		{name: "over by one chunked", body: "hello!", max: 5, chunked: true, wantErr: true},
		{name: "over by content length", body: "hello!", max: 5, wantErr: true},
		{name: "empty", body: "", max: 1, wantBytes: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tt.chunked {
					w.Header().Set("Content-Length", fmt.Sprint(len(tt.body)))
				}
				io.WriteString(w, tt.body)
				if tt.chunked {
					w.(http.Flusher).Flush()
				}
			}))
			t.Cleanup(srv.Close)
			hc := &http.Client{Transport: &limitTransport{base: http.DefaultTransport, max: tt.max}}
			resp, err := hc.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			var tooLarge *bodyTooLargeError
			if tt.wantErr {
				if !errors.As(err, &tooLarge) || err.Error() != fmt.Sprintf("body over %d bytes", tt.max) {
					t.Errorf("ReadAll error = %v, want body over %d bytes", err, tt.max)
				}
				return
			}
			if err != nil || string(got) != tt.wantBytes {
				t.Errorf("ReadAll = %q, %v; want %q", got, err, tt.wantBytes)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var c Client
	_, err := c.Issue(t.Context(), url, TokenCredential{ID: "t"}, Scope{})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrUnavailable || e.Status != 0 || e.Err == nil {
		t.Fatalf("Issue at a closed port = %#v, want ErrUnavailable with a cause", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("%v matches context.Canceled", err)
	}
}

func TestUserAgentAndHeaders(t *testing.T) {
	t.Parallel()
	var got http.Header
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, query = r.Header.Clone(), r.URL.RawQuery
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	c := Client{UserAgent: "geostack-test/1"}
	if err := c.Check(t.Context(), srv.URL+"/v3/", "svc", "subj", ValidateOptions{AllowExpired: true}); err != nil {
		t.Fatal(err)
	}
	if ua := got.Get("User-Agent"); !strings.HasPrefix(ua, "geostack-test/1 ") {
		t.Errorf("User-Agent = %q", ua)
	}
	if got.Get("X-Auth-Token") != "svc" || got.Get("X-Subject-Token") != "subj" || query != "allow_expired=1" {
		t.Errorf("headers %v, query %q", got, query)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Store(true) }))
	t.Cleanup(elsewhere.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	var c Client
	_, err := c.Issue(t.Context(), srv.URL, Password{UserID: "u", Password: "p"}, Scope{})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrBadResponse || e.Status != http.StatusTemporaryRedirect {
		t.Errorf("Issue = %v, want ErrBadResponse with status 307", err)
	}
	if _, err := c.Validate(t.Context(), srv.URL, "svc", "subj", ValidateOptions{}); !errors.Is(err, ErrBadResponse) {
		t.Errorf("Validate = %v, want ErrBadResponse", err)
	}
	if leaked.Load() {
		t.Error("a redirect was followed")
	}
}

func TestErrorWithoutKind(t *testing.T) {
	t.Parallel()
	e := &Error{Op: "issue"}
	if got := e.Error(); got != "identity: issue" || len(e.Unwrap()) != 0 {
		t.Errorf("zero Error = %q, %v", got, e.Unwrap())
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 12 ", 12 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"86400", maxRetryAfter},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestRateLimitedCarriesRetryAfter: a 429 is ErrRateLimited, not
// ErrUnavailable (no failover for back pressure), with its Retry-After.
func TestRateLimitedCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	var c Client
	_, err := c.Issue(t.Context(), srv.URL, Password{UserID: "u", Password: "pw"}, Scope{})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable) || e.RetryAfter != 30*time.Second {
		t.Fatalf("got %#v, want ErrRateLimited with RetryAfter 30s", err)
	}
	if !strings.Contains(err.Error(), "retry after 30s") {
		t.Errorf("error %q does not say when to retry", err)
	}
}

// TestCheckConfirmsA404: HEAD cannot tell a revoked token from a proxy that
// knows no such path, so a 404 is confirmed with a GET: only Keystone's
// own error document makes it ErrNotFound.
func TestCheckConfirmsA404(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		getBody string
		want    error
	}{
		{"keystone's 404", `{"error":{"code":404,"message":"Could not find token: x","title":"Not Found"}}`, ErrNotFound},
		{"a proxy's 404", `<html>not found</html>`, ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gets int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				if r.Method == http.MethodGet {
					gets++
					io.WriteString(w, tt.getBody)
				}
			}))
			t.Cleanup(srv.Close)
			err := (&Client{}).Check(t.Context(), srv.URL, "svc", "subject", ValidateOptions{})
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.want || e.Op != "check" {
				t.Errorf("Check: %#v, want Kind %v, Op check", err, tt.want)
			}
			if gets != 1 {
				t.Errorf("%d GETs, want 1 to confirm", gets)
			}
		})
	}
}
