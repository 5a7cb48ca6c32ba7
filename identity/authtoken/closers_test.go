package authtoken

import (
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// closeRecorder records Close calls into a shared log.
type closeRecorder struct {
	name string
	err  error
	mu   *sync.Mutex
	log  *[]string
}

func (c closeRecorder) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.log = append(*c.log, c.name)
	return c.err
}

// TestClosers: Close closes Config.Closers once, in order, after the
// validations in flight, and returns their errors.
func TestClosers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var log []string
	errB := errors.New("b failed")
	e := setup(t, setupOpts{config: func(c *Config) {
		c.Closers = []io.Closer{closeRecorder{"a", nil, &mu, &log}, closeRecorder{"b", errB, &mu, &log}, closeRecorder{"c", nil, &mu, &log}}
	}})
	if _, err := e.v.Validate(t.Context(), e.issue(t, "gncu00000001").ID); err != nil {
		t.Fatal(err)
	}
	if err := e.v.Close(); !errors.Is(err, errB) {
		t.Errorf("Close = %v; want b's error", err)
	}
	if err := e.v.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"a", "b", "c"}, log); diff != "" {
		t.Errorf("closed (-want +got):\n%s", diff)
	}
}

// TestTLSConfig: the Validator's own client trusts Config.TLSConfig's CA
// at a Keystone behind TLS, and without it refuses the certificate.
func TestTLSConfig(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	// SG's Keystone behind TLS: a proxy with a certificate of httptest's
	// own CA.
	target, err := url.Parse(srv.URL("SG"))
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }})
	front.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes of "CA not trusted"
	front.StartTLS()
	t.Cleanup(front.Close)
	gncID := testserver.SeedID("domain", "gnc")
	gnc := domain.Domain{Name: "gnc", ID: gncID, Prefix: "gnc", Endpoints: map[string]domain.Endpoints{
		"SG": {UserAuthURL: front.URL + "/identity/v3", AdminAuthURL: front.URL + "/identity-admin/v3"},
	}}
	var client identity.Client
	tok, err := client.Issue(t.Context(), srv.AuthURL("SG"), identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: testserver.UserPassword},
		identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"})
	if err != nil {
		t.Fatal(err)
	}
	trusted := front.Client().Transport.(*http.Transport).TLSClientConfig
	tests := []struct {
		name    string
		tls     bool
		wantErr error
	}{
		{name: "CA trusted", tls: true},
		{name: "CA not trusted", wantErr: ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Domains: []domain.Domain{gnc}, Home: "SG", Primary: "SG", ServiceCredential: serviceCred, ServiceScope: serviceScope}
			if tt.tls {
				cfg.TLSConfig = trusted
			}
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { v.Close() })
			got, err := v.Validate(t.Context(), tok.ID)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Validate: err = %v, want %v", err, tt.wantErr)
			}
			if _, ok := errors.AsType[x509.UnknownAuthorityError](err); err != nil && !ok {
				t.Errorf("Validate: err = %v; want it to say the certificate's authority is unknown", err)
			}
			if err == nil && got.User.Name != "gncu00000001" {
				t.Errorf("user %q", got.User.Name)
			}
		})
	}
}
