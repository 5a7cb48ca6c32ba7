package wirelog_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/wirelog"
)

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"password auth",
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"gncu1","domain":{"name":"gnc"},"password":"hunter2"}}},"scope":{"project":{"name":"gnct1"}}}}`,
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"domain":{"name":"gnc"},"name":"gncu1","password":"REDACTED"}}},"scope":{"project":{"name":"gnct1"}}}}`},
		{"token auth",
			`{"auth":{"identity":{"methods":["token"],"token":{"id":"gAAAAAsecret"}}}}`,
			`{"auth":{"identity":{"methods":["token"],"token":{"id":"` + identity.TokenFingerprint("gAAAAAsecret") + `"}}}}`},
		{"application credential auth",
			`{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"ac1","secret":"s3cr3t"}}}}`,
			`{"auth":{"identity":{"application_credential":{"id":"ac1","secret":"REDACTED"},"methods":["application_credential"]}}}`},
		{"totp", `{"totp":{"user":{"id":"u","passcode":"123456"}}}`, `{"totp":{"user":{"id":"u","passcode":"REDACTED"}}}`},
		{"token response keeps its body", `{"token":{"user":{"name":"gncu1"},"expires_at":"2026"}}`, `{"token":{"expires_at":"2026","user":{"name":"gncu1"}}}`},
		{"nova admin password", `{"server":{"id":"s1","adminPass":"x9","user_data":"I2Nsb3VkLWNvbmZpZw=="}}`, `{"server":{"adminPass":"REDACTED","id":"s1","user_data":"REDACTED"}}`},
		{"ec2 credential", `{"credential":{"blob":"{\"access\":\"a\",\"secret\":\"b\"}","type":"ec2"}}`, `{"credential":{"blob":"REDACTED","type":"REDACTED"}}`},
		{"array of credentials", `{"credentials":[{"secret":"a"},{"secret":"b"}]}`, `{"credentials":[{"secret":"REDACTED"},{"secret":"REDACTED"}]}`},
		{"numbers and bools stay", `{"flavor":{"ram":2048,"public":true}}`, `{"flavor":{"public":true,"ram":2048}}`},
		{"malformed", `{"password":"hunter2"`, `(21 bytes of malformed JSON, not shown)`},
		{"two documents", `{} {"password":"hunter2"}`, `(25 bytes of malformed JSON, not shown)`},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, wirelog.RedactJSON([]byte(tt.in), 0)); diff != "" {
				t.Errorf("RedactJSON(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	if got := wirelog.RedactJSON([]byte(`{"a":"0123456789"}`), 5); !strings.Contains(got, "longer than 5 bytes") {
		t.Errorf("over the limit: %s", got)
	}
}

func TestRedactURLAndHeader(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"https://admin:pw@k.example/v3/auth/tokens?nocatalog", "https://k.example/v3/auth/tokens?nocatalog="},
		{"https://swift.example/v1/AUTH_p/c/o?temp_url_sig=abc&temp_url_expires=1", "https://swift.example/v1/AUTH_p/c/o?temp_url_expires=1&temp_url_sig=REDACTED"},
		{"https://glance.example/v2/images?limit=2&marker=x&sort_key=name", "https://glance.example/v2/images?limit=2&marker=x&sort_key=name"},
		{"https://x.example/?token=t&password=p&access_key=k", "https://x.example/?access_key=REDACTED&password=REDACTED&token=REDACTED"},
	} {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := wirelog.RedactURL(u); got != tt.want {
			t.Errorf("RedactURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	h := http.Header{
		"X-Auth-Token": {"tok-a"}, "X-Subject-Token": {"tok-b"}, "X-Service-Token": {"tok-c"},
		"Authorization": {"Bearer x"}, "Cookie": {"s=1"}, "X-Account-Meta-Temp-Url-Key": {"k"},
		"Content-Type": {"application/json"}, "X-Openstack-Request-Id": {"req-1"},
	}
	want := http.Header{
		"X-Auth-Token": {identity.TokenFingerprint("tok-a")}, "X-Subject-Token": {identity.TokenFingerprint("tok-b")},
		"X-Service-Token": {identity.TokenFingerprint("tok-c")}, "Authorization": {"REDACTED"}, "Cookie": {"REDACTED"},
		"X-Account-Meta-Temp-Url-Key": {"REDACTED"}, "Content-Type": {"application/json"}, "X-Openstack-Request-Id": {"req-1"},
	}
	if diff := cmp.Diff(want, wirelog.RedactHeader(h)); diff != "" {
		t.Errorf("RedactHeader (-want +got):\n%s", diff)
	}
	if h.Get("X-Auth-Token") != "tok-a" {
		t.Error("RedactHeader changed its argument")
	}
}

// TestTransport sends requests with and without a replayable body through
// the Transport: the server gets every byte, the caller gets the whole
// answer, and the log has each exchange without a secret.
func TestTransport(t *testing.T) {
	t.Parallel()
	var gotBodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBodies = append(gotBodies, string(b))
		w.Header().Set("X-Subject-Token", "gAAAAAissued-token")
		w.Header().Set("X-Openstack-Request-Id", "req-42")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"application_credential":{"id":"ac","secret":"fresh-secret"}}`)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		level  slog.Level
		body   func() io.Reader
		bodies bool
	}{
		{"replayable body", wirelog.LevelBody, func() io.Reader { return strings.NewReader(`{"password":"hunter2"}`) }, true},
		{"one-shot body", wirelog.LevelBody, func() io.Reader { return io.MultiReader(strings.NewReader(`{"password":"hunter2"}`)) }, true},
		{"debug level: no bodies", slog.LevelDebug, func() io.Reader { return strings.NewReader(`{"password":"hunter2"}`) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := wirelog.Wrap(srv.Client(), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: tt.level})))
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v3/users/u/application_credentials?token=q", tt.body())
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Auth-Token", "gAAAAAcaller-token")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != `{"application_credential":{"id":"ac","secret":"fresh-secret"}}` {
				t.Errorf("caller got %q", b)
			}
			if last := gotBodies[len(gotBodies)-1]; last != `{"password":"hunter2"}` {
				t.Errorf("server got %q", last)
			}
			out := logs.String()
			for _, want := range []string{`"method":"POST"`, `"status":201`, `"request_id":"req-42"`, `"duration"`, `token=REDACTED`, identity.TokenFingerprint("gAAAAAissued-token")} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %s:\n%s", want, out)
				}
			}
			if tt.bodies != strings.Contains(out, `\"secret\":\"REDACTED\"`) {
				t.Errorf("bodies logged = %t, want %t:\n%s", !tt.bodies, tt.bodies, out)
			}
			for _, secret := range []string{"hunter2", "fresh-secret", "gAAAAAissued-token", "gAAAAAcaller-token", "token=q"} {
				if strings.Contains(out, secret) {
					t.Errorf("log shows %s:\n%s", secret, out)
				}
			}
		})
	}
}

// A request that fails is logged with its error, the URL redacted in it.
func TestTransportError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	c := wirelog.Wrap(nil, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	_, err := c.Get(strings.Replace(u, "http://", "http://user:pw-secret@", 1) + "/?password=p-secret")
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	out := logs.String()
	if !strings.Contains(out, "http request failed") || strings.Contains(out, "pw-secret") || strings.Contains(out, "p-secret") {
		t.Errorf("log:\n%s", out)
	}
}

// With the logger not enabled for debug, the Transport only passes the
// request on.
func TestTransportQuiet(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c := wirelog.Wrap(srv.Client(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if logs.Len() != 0 {
		t.Errorf("logged at info level:\n%s", logs.String())
	}
}
