package testserver_test

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/geostack/geostack/internal/testserver"
)

// BenchmarkIssueToken measures a password token issue through gophercloud,
// the operation other packages' tests repeat most.
func BenchmarkIssueToken(b *testing.B) {
	srv, err := testserver.Start(testserver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	opts := userOpts("gncu00000001")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := opts
			res := tokens.Create(b.Context(), benchIdentityClient(b, srv.AuthURL("JP")), &o)
			if res.Err != nil {
				b.Error(res.Err)
				return
			}
		}
	})
	b.ReportMetric(float64(srv.TokensIssued("", ""))/float64(b.N), "tokens/op")
}
