package tokencache

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/geostack/geostack/identity"
)

// warmHandle returns a Handle holding a fresh 1-hour token on the system
// clock.
func warmHandle(b *testing.B) *Handle {
	b.Helper()
	c := mustNew(b, Options{})
	h := mustHandle(b, c, testKey("bench"), identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
		now := time.Now()
		return &identity.Token{ID: "bench-token", IssuedAt: now, ExpiresAt: now.Add(time.Hour), Expiry: now.Add(time.Hour)}, nil
	}))
	if _, err := h.Token(b.Context()); err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkTokenRead is the hot path: Handle.Token on a fresh token from
// parallel goroutines.
func BenchmarkTokenRead(b *testing.B) {
	h := warmHandle(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		tok := &identity.Token{}
		for pb.Next() {
			tok, _ = h.Token(ctx)
		}
		if tok == nil {
			b.Error("no token")
		}
	})
}

// BenchmarkAtomicBaseline is the limit of BenchmarkTokenRead: a bare
// atomic load of the same entry.
func BenchmarkAtomicBaseline(b *testing.B) {
	h := warmHandle(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		e := &entry{}
		for pb.Next() {
			e = h.s.cur.Load()
		}
		if e == nil {
			b.Error("no entry")
		}
	})
}

// BenchmarkGophercloudHeaders is the peer: gophercloud's own token read,
// AuthenticatedHeaders on a ProviderClient with its token lock in use.
func BenchmarkGophercloudHeaders(b *testing.B) {
	pc := &gophercloud.ProviderClient{}
	pc.UseTokenLock()
	pc.SetToken("bench-token")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		hdr := map[string]string{"X-Auth-Token": "-"}
		for pb.Next() {
			hdr = pc.AuthenticatedHeaders()
		}
		if hdr["X-Auth-Token"] == "" {
			b.Error("no token header")
		}
	})
}
