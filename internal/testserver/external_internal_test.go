package testserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// keystoneStub answers the two requests the services send: a service token
// (POST) and a validation (GET), which waits for release when it is set.
type keystoneStub struct {
	validations atomic.Int64
	release     chan struct{}
}

func (k *keystoneStub) RoundTrip(r *http.Request) (*http.Response, error) {
	resp := &http.Response{Header: http.Header{}, Request: r}
	exp := time.Now().Add(time.Hour).UTC().Format(keystoneTimeFormat)
	switch r.Method {
	case http.MethodPost:
		resp.StatusCode = http.StatusCreated
		resp.Header.Set("X-Subject-Token", "service-token")
		resp.Body = io.NopCloser(strings.NewReader(`{"token":{"expires_at":"` + exp + `","user":{"id":"svc"}}}`))
	default:
		k.validations.Add(1)
		if k.release != nil {
			<-k.release
		}
		resp.StatusCode = http.StatusOK
		resp.Body = io.NopCloser(strings.NewReader(`{"token":{"expires_at":"` + exp + `","user":{"id":"u-` +
			r.Header.Get("X-Subject-Token") + `"},"project":{"id":"p"},"roles":[{"name":"member"}]}}`))
	}
	return resp, nil
}

func newTestExternal(t *testing.T, k *keystoneStub, size int) *external {
	t.Helper()
	x, err := newExternal(ExternalKeystone{
		AuthURLs: map[string]string{"JP": "http://keystone.invalid/v3"}, UserName: "neutron", Password: "p", ProjectName: "service",
		CacheSize: size, HTTPClient: &http.Client{Transport: k},
	}, time.Now, []string{"JP"})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestExternalCoalesces: requests waiting for one token's validation make
// one Keystone request between them.
func TestExternalCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := &keystoneStub{release: make(chan struct{})}
		x := newTestExternal(t, k, 10)
		var wg sync.WaitGroup
		users := make([]string, 8)
		for i := range users {
			wg.Go(func() {
				e, err := x.validate(context.Background(), "JP", "tok")
				if err != nil || e.tok == nil {
					t.Errorf("validate: %+v, %v", e, err)
					return
				}
				users[i] = e.tok.userID
			})
		}
		synctest.Wait() // one in the validation, seven waiting for it
		close(k.release)
		wg.Wait()
		if got := k.validations.Load(); got != 1 {
			t.Errorf("%d validations for 8 concurrent requests, want 1", got)
		}
		for _, u := range users {
			if u != "u-tok" {
				t.Errorf("user %q, want u-tok", u)
			}
		}
	})
}

// TestExternalCacheBound: the cache holds at most CacheSize validations.
func TestExternalCacheBound(t *testing.T) {
	t.Parallel()
	tests := []struct{ size, tokens int }{{1, 5}, {3, 10}, {10, 3}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d of %d", tc.size, tc.tokens), func(t *testing.T) {
			t.Parallel()
			k := &keystoneStub{}
			x := newTestExternal(t, k, tc.size)
			for i := range tc.tokens {
				if _, err := x.validate(t.Context(), "JP", fmt.Sprint("tok", i)); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := len(x.cache), min(tc.size, tc.tokens); got != want {
				t.Errorf("%d cached, want %d", got, want)
			}
			// The last token is cached: asking again costs nothing.
			before := k.validations.Load()
			if _, err := x.validate(t.Context(), "JP", fmt.Sprint("tok", tc.tokens-1)); err != nil {
				t.Fatal(err)
			}
			if k.validations.Load() != before {
				t.Errorf("the last token was validated again")
			}
		})
	}
}

// TestNewExternalRejects: a configuration the services could not validate
// with is an error that says what is missing.
func TestNewExternalRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  ExternalKeystone
		want string
	}{
		{"no auth_url", ExternalKeystone{UserName: "u", Password: "p", ProjectName: "s"}, `AuthURLs["JP"]`},
		{"not a URL", ExternalKeystone{AuthURLs: map[string]string{"JP": "keystone:5000"}, UserName: "u", Password: "p", ProjectName: "s"}, `AuthURLs["JP"]`},
		{"no user", ExternalKeystone{AuthURLs: map[string]string{"JP": "http://k/v3"}, Password: "p", ProjectName: "s"}, "UserName"},
	}
	for _, tc := range tests {
		if _, err := newExternal(tc.cfg, time.Now, []string{"JP"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}
