package geostack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
	"github.com/geostack/geostack/tokencache/memcache"
)

// TestConstructorsRefuseBadInput is the constructors' trust boundary:
// every nil, typed-nil, empty and oversized input to every constructor of
// the library gets a typed error that says what is wrong, never a panic.
func TestConstructorsRefuseBadInput(t *testing.T) {
	t.Parallel()
	locs := []region.Location{{Name: "JP", AuthURLs: []string{"http://127.0.0.1:1/v3"}, Regions: []string{"TYO1"}}}
	pw := identity.Password{UserID: "u1", Password: "pw"}
	good := geostack.Config{Locations: locs, Home: "JP", Primary: "JP", Credential: pw}
	with := func(f func(*geostack.Config)) geostack.Config { c := good; f(&c); return c }
	gnc := domain.Domain{Name: "gnc", ID: "d-gnc", Prefix: "gnc", Endpoints: map[string]domain.Endpoints{"JP": {UserAuthURL: "http://127.0.0.1:1/v3"}}}
	validator := authtoken.Config{Domains: []domain.Domain{gnc}, Home: "JP", Primary: "JP", ServiceCredential: pw}
	withV := func(f func(*authtoken.Config)) authtoken.Config { c := validator; f(&c); return c }
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := `{"home": "` + strings.Repeat("x", 2<<20) + `"}`

	configError := func(key string) func(error) error {
		return func(err error) error {
			var ce *geostack.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, geostack.ErrInvalidConfig) {
				return fmt.Errorf("want a *geostack.ConfigError, got %T %v", err, err)
			}
			for _, p := range ce.Problems {
				if p.Key == key {
					return nil
				}
			}
			return fmt.Errorf("no problem with key %q in %v", key, err)
		}
	}
	is := func(target error) func(error) error {
		return func(err error) error {
			if !errors.Is(err, target) {
				return fmt.Errorf("want an error matching %v, got %v", target, err)
			}
			return nil
		}
	}
	newClient := func(cfg geostack.Config) error {
		c, err := geostack.New(t.Context(), cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	newValidator := func(cfg authtoken.Config) error {
		v, err := authtoken.New(cfg)
		if err == nil {
			v.Close()
		}
		return err
	}
	cache, err := tokencache.New(tokencache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })
	src := identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) { return nil, errors.New("unused") })

	tests := []struct {
		name  string
		call  func() error
		check func(error) error
	}{
		{"geostack.New: zero Config", func() error { return newClient(geostack.Config{}) }, configError("credential")},
		{"geostack.New: nil credential", func() error { return newClient(with(func(c *geostack.Config) { c.Credential = nil })) }, configError("credential")},
		{"geostack.New: typed-nil password", func() error {
			return newClient(with(func(c *geostack.Config) { c.Credential = (*identity.Password)(nil) }))
		}, configError("credential")},
		{"geostack.New: typed-nil application credential", func() error {
			return newClient(with(func(c *geostack.Config) { c.Credential = (*identity.ApplicationCredential)(nil) }))
		}, configError("credential")},
		{"geostack.New: typed-nil clock", func() error { return newClient(with(func(c *geostack.Config) { c.Clock = (*clock.Manual)(nil) })) }, configError("clock")},
		{"geostack.New: empty auth_url", func() error {
			return newClient(with(func(c *geostack.Config) {
				c.Locations = []region.Location{{Name: "JP", AuthURLs: []string{""}}}
			}))
		}, configError("locations[0].auth_urls[0]")},
		{"geostack.LoadConfig: missing file", func() error { _, err := geostack.LoadConfig(filepath.Join(dir, "none.json")); return err }, is(os.ErrNotExist)},
		{"geostack.LoadConfig: empty file", func() error { _, err := geostack.LoadConfig(file("empty.json", "")); return err }, is(geostack.ErrInvalidConfig)},
		{"geostack.LoadConfig: oversized file", func() error { _, err := geostack.LoadConfig(file("huge.json", huge)); return err }, is(geostack.ErrInvalidConfig)},
		{"geostack.LoadConfig: not an object", func() error { _, err := geostack.LoadConfig(file("list.json", "[1]")); return err }, is(geostack.ErrInvalidConfig)},
		{"authtoken.New: zero Config", func() error { return newValidator(authtoken.Config{}) }, configError("domains")},
		{"authtoken.New: typed-nil credential", func() error {
			return newValidator(withV(func(c *authtoken.Config) { c.ServiceCredential = (*identity.Password)(nil) }))
		}, configError("service_credential")},
		{"authtoken.New: typed-nil service token", func() error {
			return newValidator(withV(func(c *authtoken.Config) {
				c.ServiceCredential = nil
				c.ServiceToken = (*tokencache.Handle)(nil)
			}))
		}, configError("service_token")},
		{"authtoken.New: nil func service token", func() error {
			return newValidator(withV(func(c *authtoken.Config) {
				c.ServiceCredential = nil
				c.ServiceToken = identity.TokenSourceFunc(nil)
			}))
		}, configError("service_token")},
		{"tokencache.New: NaN jitter", func() error { _, err := tokencache.New(tokencache.Options{Jitter: nan()}); return err }, configError("jitter")},
		{"tokencache.New: typed-nil clock", func() error {
			_, err := tokencache.New(tokencache.Options{Clock: (*clock.Manual)(nil)})
			return err
		}, configError("clock")},
		{"Cache.Handle: nil credential", func() error { _, err := cache.Handle(tokencache.Key{}, src); return err }, is(identity.ErrInvalidCredential)},
		{"Cache.Handle: typed-nil credential", func() error {
			_, err := cache.Handle(tokencache.Key{Credential: (*identity.TokenCredential)(nil)}, src)
			return err
		}, is(identity.ErrInvalidCredential)},
		{"Cache.Handle: nil source", func() error { _, err := cache.Handle(tokencache.Key{Credential: pw}, nil); return err }, is(identity.ErrInvalidCredential)},
		{"tokencache.NewShared: typed-nil store", func() error {
			_, err := tokencache.NewShared(tokencache.SharedOptions{Store: (*memcache.Store)(nil), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
			return err
		}, configError("store")},
		{"tokencache.NewShared: oversized prefix", func() error {
			_, err := tokencache.NewShared(tokencache.SharedOptions{Store: tokencache.NewMemoryStore(nil), Prefix: strings.Repeat("p", 65), Secrets: [][]byte{bytes.Repeat([]byte("k"), 32)}})
			return err
		}, configError("prefix")},
		{"memcache.NewFromClient: nil client", func() error {
			return memcache.NewFromClient(nil).Set(t.Context(), "k", []byte("v"), 0)
		}, is(memcache.ErrClosed)},
		{"region.New: zero Config", func() error { _, err := region.New(region.Config{}); return err }, configError("locations")},
		{"region.New: typed-nil clock", func() error {
			_, err := region.New(region.Config{Locations: locs, Primary: "JP", Clock: (*clock.Manual)(nil)})
			return err
		}, configError("clock")},
		{"domain.New: empty domain", func() error { _, err := domain.New(domain.Domain{}); return err }, is(geostack.ErrInvalidConfig)},
		{"domain.Load: oversized", func() error { _, err := domain.Load(strings.NewReader(huge)); return err }, is(geostack.ErrInvalidConfig)},
		{"domain.Load: empty", func() error { _, err := domain.Load(strings.NewReader("")); return err }, is(geostack.ErrInvalidConfig)},
		{"catalog.New: nil catalog", func() error {
			c, err := catalog.New(nil, "")
			if err != nil {
				return err
			}
			_, err = c.Select(catalog.Query{Type: "compute"})
			return err
		}, is(catalog.ErrNotFound)},
		{"identity.Client.Issue: typed-nil credential", func() error {
			_, err := (&identity.Client{}).Issue(t.Context(), "http://127.0.0.1:1/v3", (*identity.Password)(nil), identity.Scope{})
			return err
		}, is(identity.ErrInvalidCredential)},
		{"identity.Client.Validate: empty subject", func() error {
			_, err := (&identity.Client{HTTPClient: &http.Client{}}).Validate(t.Context(), "http://127.0.0.1:1/v3", "svc", "", identity.ValidateOptions{})
			return err
		}, is(identity.ErrInvalidCredential)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				err = tt.call()
			}()
			if err := tt.check(err); err != nil {
				t.Error(err)
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }
