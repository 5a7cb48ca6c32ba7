package testserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/testserver"
)

func TestKeystoneFaults(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 13, 36, 37, 0, time.UTC)
	tests := []struct {
		name    string
		fault   testserver.Fault
		target  func(loc string) testserver.Target
		timeout time.Duration
		check   func(t *testing.T, res tokens.CreateResult)
	}{
		{
			name: "down", fault: testserver.Fault{Down: true}, target: testserver.AtLocation,
			check: func(t *testing.T, res tokens.CreateResult) {
				if !errors.Is(res.Err, syscall.ECONNREFUSED) {
					t.Errorf("err = %v, want connection refused", res.Err)
				}
			},
		},
		{
			name: "503", fault: testserver.Fault{Status: http.StatusServiceUnavailable}, target: testserver.Keystone,
			check: func(t *testing.T, res tokens.CreateResult) {
				if !gophercloud.ResponseCodeIs(res.Err, http.StatusServiceUnavailable) {
					t.Errorf("err = %v, want 503", res.Err)
				}
			},
		},
		{
			name: "latency beyond timeout", fault: testserver.Fault{Latency: time.Minute}, target: testserver.Keystone,
			timeout: 50 * time.Millisecond,
			check: func(t *testing.T, res tokens.CreateResult) {
				if !errors.Is(res.Err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want deadline exceeded", res.Err)
				}
			},
		},
		{
			name: "hang", fault: testserver.Fault{Hang: true}, target: testserver.AtLocation,
			timeout: 50 * time.Millisecond,
			check: func(t *testing.T, res tokens.CreateResult) {
				if !errors.Is(res.Err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want deadline exceeded", res.Err)
				}
			},
		},
		{
			name: "malformed JSON", fault: testserver.Fault{MalformedJSON: true}, target: testserver.Keystone,
			check: func(t *testing.T, res tokens.CreateResult) {
				var se *json.SyntaxError
				if res.Err == nil || (!errors.As(res.Err, &se) && !errors.Is(res.Err, io.ErrUnexpectedEOF)) {
					t.Errorf("err = %v, want a JSON syntax error", res.Err)
				}
			},
		},
		{
			name: "no catalog", fault: testserver.Fault{NoCatalog: true}, target: testserver.Keystone,
			check: func(t *testing.T, res tokens.CreateResult) {
				cat, err := res.ExtractServiceCatalog()
				if err != nil || len(cat.Entries) != 0 {
					t.Errorf("catalog = %v, %v; want none", cat, err)
				}
			},
		},
		{
			name: "clock skew", fault: testserver.Fault{ClockSkew: -5 * time.Minute}, target: testserver.Keystone,
			check: func(t *testing.T, res tokens.CreateResult) {
				tok, err := res.ExtractToken()
				if err != nil {
					t.Fatal(err)
				}
				if want := t0.Add(-5 * time.Minute).Add(time.Hour); !tok.ExpiresAt.Equal(want) {
					t.Errorf("expires_at = %v, want %v", tok.ExpiresAt, want)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, testserver.Options{Clock: clock.NewManual(t0)})
			srv.SetFault(tc.target("SG"), tc.fault)
			ctx := t.Context()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			opts := userOpts("zsgu00000001")
			res := tokens.Create(ctx, identityClient(t, srv.AuthURL("SG"), ""), &opts)
			tc.check(t, res)

			// Other locations are unaffected, and clearing the fault heals SG.
			issue(t, srv.AuthURL("JP"), userOpts("zsgu00000001"))
			srv.ClearFaults()
			issue(t, srv.AuthURL("SG"), userOpts("zsgu00000001"))
		})
	}
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	const pad = 8 << 20
	srv.SetFault(testserver.Keystone("US"), testserver.Fault{OversizedBody: pad})
	resp, err := http.Get(srv.AuthURL("US"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if n < pad {
		t.Errorf("body is %d bytes, want more than %d", n, pad)
	}
}

func TestServiceEndpointFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault testserver.Fault
		want  func(error) bool
	}{
		{"down", testserver.Fault{Down: true}, func(err error) bool { return err != nil && !gophercloud.ResponseCodeIs(err, 0) }},
		{"500", testserver.Fault{Status: 500}, func(err error) bool { return gophercloud.ResponseCodeIs(err, 500) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, testserver.Options{})
			pc := provider(t, srv, "JP", "gncu00000002")
			osa, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "OSA1"})
			if err != nil {
				t.Fatal(err)
			}
			tyo, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: "TYO1"})
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFault(testserver.Service("compute", "OSA1"), tc.fault)
			if _, err := flavors.ListDetail(osa, nil).AllPages(t.Context()); !tc.want(err) {
				t.Errorf("OSA1 err = %v", err)
			}
			if _, err := flavors.ListDetail(tyo, nil).AllPages(t.Context()); err != nil {
				t.Errorf("TYO1 (no fault) err = %v", err)
			}
			srv.ClearFault(testserver.Service("compute", "OSA1"))
			if _, err := flavors.ListDetail(osa, nil).AllPages(t.Context()); err != nil {
				t.Errorf("OSA1 after clearing err = %v", err)
			}
		})
	}
}

// TestHangEndsWhenTheClientGivesUp: a request held by a Hang fault is let
// go as soon as its client gives up, with or without a body: a request
// left waiting until Close holds a goroutine and a connection, which a
// test counting either (a soak) would take for a leak of the client's.
// Not parallel: it counts goroutines.
func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	srv.SetFault(testserver.Keystone("SG"), testserver.Fault{Hang: true})
	tests := []struct {
		name, method, body string
	}{
		{"POST with a body", http.MethodPost, `{"auth": {}}`},
		{"GET", http.MethodGet, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tt.method, srv.AuthURL("SG")+"/auth/tokens", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the client's deadline", err)
			}
			// The client's connection is closed; the server's handler and
			// connection end once it notices. Yield until they have.
			n := runtime.NumGoroutine()
			for i := 0; i < 5000 && n > before; i++ {
				if i%50 == 0 {
					runtime.GC()
				}
				runtime.Gosched()
				n = runtime.NumGoroutine()
			}
			if n > before {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines after the client gave up, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}
