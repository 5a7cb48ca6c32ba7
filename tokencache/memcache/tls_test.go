package memcache_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/tokencache/memcache"
)

// testPKI is a CA of a test's own, a server certificate it signed for the
// name "localhost" only (no IP), and a client certificate.
type testPKI struct {
	roots                 *x509.CertPool
	client                tls.Certificate
	caFile, certFile, key string // PEM files for memcached
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	sign := func(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, priv *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, der
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caKey := newKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "geostack test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ca, caDER := sign(tmpl, tmpl, &caKey.PublicKey, caKey)

	srvKey := newKey()
	_, srvDER := sign(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &srvKey.PublicKey, caKey)
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}

	cliKey := newKey()
	_, cliDER := sign(&x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "geostack test client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, &cliKey.PublicKey, caKey)

	p := &testPKI{roots: x509.NewCertPool(), client: tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}}
	p.roots.AddCert(ca)
	p.caFile = write("ca.pem", "CERTIFICATE", caDER)
	p.certFile = write("server.pem", "CERTIFICATE", srvDER)
	p.key = write("server-key.pem", "EC PRIVATE KEY", srvKeyDER)
	return p
}

// TestStoreTLS runs the Store against memcached's own TLS (memcached -Z),
// with and without a client certificate required, and checks that each
// wrong setting fails rather than falling back to plain TCP.
func TestStoreTLS(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	tlsArgs := func(verify int) []string {
		o := "ssl_chain_cert=" + pki.certFile + ",ssl_key=" + pki.key
		if verify > 0 {
			o += ",ssl_ca_cert=" + pki.caFile + ",ssl_verify_mode=" + strconv.Itoa(verify)
		}
		return []string{"-Z", "-o", o}
	}
	servers := map[string]*memcached{
		"tls":         startMemcached(t, tlsArgs(0)...),
		"tls+clients": startMemcached(t, tlsArgs(2)...), // 2: a client certificate is required
		"plain":       startMemcached(t),
	}
	tests := []struct {
		name   string
		server string
		host   string // the address's host; default "localhost"
		tls    *tls.Config
		// wantErr is how the Set fails; nil: it works.
		wantErr func(error) bool
	}{
		{name: "trusted CA", server: "tls", tls: &tls.Config{RootCAs: pki.roots}},
		{name: "client certificate required and given", server: "tls+clients",
			tls: &tls.Config{RootCAs: pki.roots, Certificates: []tls.Certificate{pki.client}}},
		{name: "given though not asked for", server: "tls", tls: &tls.Config{RootCAs: pki.roots, Certificates: []tls.Certificate{pki.client}}},
		{name: "client certificate required, none given", server: "tls+clients", tls: &tls.Config{RootCAs: pki.roots},
			wantErr: func(err error) bool { return err != nil }},
		{name: "CA not trusted", server: "tls", tls: &tls.Config{},
			wantErr: func(err error) bool { _, ok := errors.AsType[x509.UnknownAuthorityError](err); return ok }},
		{name: "the certificate is for the name, not the IP", server: "tls", host: "127.0.0.1", tls: &tls.Config{RootCAs: pki.roots},
			wantErr: func(err error) bool { _, ok := errors.AsType[x509.HostnameError](err); return ok }},
		{name: "another ServerName", server: "tls", tls: &tls.Config{RootCAs: pki.roots, ServerName: "cache.example.net"},
			wantErr: func(err error) bool { _, ok := errors.AsType[x509.HostnameError](err); return ok }},
		{name: "TLS to a plain memcached", server: "plain", tls: &tls.Config{RootCAs: pki.roots},
			wantErr: func(err error) bool { return err != nil }},
		{name: "plain to a TLS memcached", server: "tls", wantErr: func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host := tt.host
			if host == "" {
				host = "localhost"
			}
			addr := host + ":" + strconv.Itoa(servers[tt.server].port)
			s := memcache.New(memcache.Options{Timeout: testTimeout, TLSConfig: tt.tls}, addr)
			t.Cleanup(func() { s.Close() })
			key := prefix(t) + "tls"
			err := s.Set(t.Context(), key, []byte("sealed entry"), time.Minute)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("Set = %v; want it to fail as the case says", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := s.Get(t.Context(), key)
			if err != nil || string(got) != "sealed entry" {
				t.Fatalf("Get = %q, %v; want the value set", got, err)
			}
			if err := s.Add(t.Context(), key, []byte("other"), time.Minute); !errors.Is(err, tokencache.ErrNotStored) {
				t.Errorf("Add over an entry = %v; want ErrNotStored", err)
			}
			if err := s.Delete(t.Context(), key); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if _, err := s.Get(t.Context(), key); !errors.Is(err, tokencache.ErrCacheMiss) {
				t.Errorf("Get after Delete = %v; want ErrCacheMiss", err)
			}
		})
	}
}

// TestStoreTLSConfigCopied: New keeps a copy, so a change the caller makes
// to its tls.Config afterwards does not reach the Store.
func TestStoreTLSConfigCopied(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	mc := startMemcached(t, "-Z", "-o", "ssl_chain_cert="+pki.certFile+",ssl_key="+pki.key)
	cfg := &tls.Config{RootCAs: pki.roots}
	s := memcache.New(memcache.Options{Timeout: testTimeout, TLSConfig: cfg}, "localhost:"+strconv.Itoa(mc.port))
	t.Cleanup(func() { s.Close() })
	cfg.RootCAs = x509.NewCertPool()
	if err := s.Set(t.Context(), prefix(t)+"copy", []byte("v"), time.Minute); err != nil {
		t.Errorf("Set after the caller emptied its RootCAs: %v; want the Store's copy to trust the CA", err)
	}
}
