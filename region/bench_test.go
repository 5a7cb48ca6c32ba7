package region

import (
	"context"
	"testing"

	"github.com/geostack/geostack/identity"
)

// BenchmarkLocationOf is the lookup every client does per region: a map
// read, with no allocation.
func BenchmarkLocationOf(b *testing.B) {
	r, _ := newTestResolver(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.LocationOf("SIN1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOrder(b *testing.B) {
	r, _ := newTestResolver(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Order("SG")
	}
}

// BenchmarkIssue measures the resolver's own cost around one issue (the
// Keystone call is a no-op), healthy home and home down.
func BenchmarkIssue(b *testing.B) {
	for _, tc := range []struct {
		name string
		down bool
	}{{"home up", false}, {"home down", true}} {
		b.Run(tc.name, func(b *testing.B) {
			r, _ := newTestResolver(b, nil)
			tok := &identity.Token{ID: "x"}
			var sent int
			ks := keystoneFuncs{issue: func(_ context.Context, u string, _ identity.Credential, _ identity.Scope) (*identity.Token, error) {
				sent++
				if tc.down && u == sg1 {
					return nil, unavailable(u)
				}
				return tok, nil
			}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Issue(ctx, "SG", ks, testCred, identity.Scope{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sent)/float64(b.N), "keystone-calls/op")
		})
	}
}
