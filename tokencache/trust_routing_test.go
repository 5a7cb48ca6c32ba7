package tokencache

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is a server that records the X-Auth-Token of every request it
// gets, under its own name, and answers with what its handler says.
type recorder struct {
	name string
	mu   *sync.Mutex
	seen *[]string
	next func(w http.ResponseWriter, r *http.Request)
}

func (rc recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	*rc.seen = append(*rc.seen, rc.name+" "+r.URL.Path+" token="+r.Header.Get(authHeader)+" lower="+r.Header.Get("x-auth-token"))
	rc.mu.Unlock()
	if rc.next != nil {
		rc.next(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TestTokenRouting is the token-routing trust boundary: a redirect, of any
// kind the caller's http.Client follows, never carries the cached token to
// another origin. Each case is an attack and where the token may be seen.
func TestTokenRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// redirect builds the Location the service answers with, given
		// the other servers' URLs.
		redirect func(same, otherHost, otherPort, plainHTTP string) string
		tls      bool // the service is https
		want     []string
	}{
		{
			name:     "same origin: the token follows",
			redirect: func(same, _, _, _ string) string { return same + "/moved" },
			want:     []string{"svc /start token=tok-1 lower=tok-1", "svc /moved token=tok-1 lower=tok-1"},
		},
		{
			name:     "another host",
			redirect: func(_, otherHost, _, _ string) string { return otherHost + "/steal" },
			want:     []string{"svc /start token=tok-1 lower=tok-1", "evil /steal token= lower="},
		},
		{
			name:     "another port on the same host",
			redirect: func(_, _, otherPort, _ string) string { return otherPort + "/steal" },
			want:     []string{"svc /start token=tok-1 lower=tok-1", "port /steal token= lower="},
		},
		{
			name:     "https to http",
			tls:      true,
			redirect: func(_, _, _, plainHTTP string) string { return plainHTTP + "/steal" },
			want:     []string{"svc /start token=tok-1 lower=tok-1", "plain /steal token= lower="},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var seen []string
			evil := httptest.NewServer(recorder{name: "evil", mu: &mu, seen: &seen})
			t.Cleanup(evil.Close)
			plain := httptest.NewServer(recorder{name: "plain", mu: &mu, seen: &seen})
			t.Cleanup(plain.Close)
			port := httptest.NewServer(recorder{name: "port", mu: &mu, seen: &seen})
			t.Cleanup(port.Close)
			var svcURL string
			svc := httptest.NewUnstartedServer(recorder{name: "svc", mu: &mu, seen: &seen, next: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/start" {
					w.WriteHeader(http.StatusOK)
					return
				}
				// evil listens on 127.0.0.1 like svc: name it localhost so
				// that it is another host, not only another port.
				evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
				http.Redirect(w, r, tt.redirect(svcURL, evilURL, port.URL, plain.URL), http.StatusFound)
			}})
			if tt.tls {
				svc.StartTLS()
			} else {
				svc.Start()
			}
			t.Cleanup(svc.Close)
			svcURL = svc.URL

			_, h, _, _ := setup(t, Options{})
			base := http.DefaultTransport.(*http.Transport).Clone()
			base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test server
			client := &http.Client{Transport: h.Transport(base)}
			u, _ := url.JoinPath(svc.URL, "start")
			resp, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(tt.want, seen); diff != "" {
				t.Errorf("requests seen (-want +got):\n%s", diff)
			}
		})
	}
}
