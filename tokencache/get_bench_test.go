package tokencache

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// stubTransport answers every request with a small JSON document, in
// memory: what is left of a GET is the client's own work.
type stubTransport struct{}

func (stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get(authHeader) == "" {
		return &http.Response{StatusCode: 401, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	}
	return &http.Response{
		StatusCode: 200, Request: req,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(`{"flavor":{"id":"1","name":"m1.small"}}`)),
	}, nil
}

// BenchmarkServiceClientGet is one GET through a gophercloud ServiceClient,
// on geostack's provider (the cached token added by the transport) and, in
// the same run, on gophercloud's own provider with its token lock, as
// openstack.AuthenticatedClient makes it. The transport is in memory, so
// the figures are the client side's cost alone.
func BenchmarkServiceClientGet(b *testing.B) {
	h := warmHandle(b)
	geostack := NewProviderClient(h, &http.Client{Transport: stubTransport{}})
	gc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: stubTransport{}}}
	gc.UseTokenLock()
	gc.SetToken("bench-token")
	for _, p := range []struct {
		name string
		pc   *gophercloud.ProviderClient
	}{{"geostack", geostack}, {"gophercloud", gc}} {
		sc := &gophercloud.ServiceClient{ProviderClient: p.pc, Endpoint: "http://compute.example/v2.1/"}
		url := sc.ServiceURL("flavors", "1")
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var out map[string]any
					if _, err := sc.Get(b.Context(), url, &out, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
