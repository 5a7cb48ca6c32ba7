package authtoken

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/testserver"
)

// BenchmarkValidateCached is the hot path: a request whose token is in the
// cache, end to end through ServeHTTP.
func BenchmarkValidateCached(b *testing.B) {
	e := setup(b, setupOpts{})
	tok := e.issue(b, "gncu00000001")
	h := e.v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := FromContext(r.Context()); !ok || !id.Confirmed() {
			w.WriteHeader(http.StatusTeapot)
		}
	}), HandlerOptions{})
	req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/mail/inbox", nil)
	req.Header.Set("X-Auth-Token", tok.ID)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req) // warm
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	before := e.srv.Validations("")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(e.srv.Validations("")-before)/float64(b.N), "validations/op")
}

// BenchmarkValidateCachedParallel is the same hit from every core at once:
// cache reads must not queue on a lock.
func BenchmarkValidateCachedParallel(b *testing.B) {
	e := setup(b, setupOpts{})
	tok := e.issue(b, "gncu00000001")
	if _, err := e.v.Validate(b.Context(), tok.ID); err != nil {
		b.Fatal(err)
	}
	before := e.srv.Validations("")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.v.Validate(b.Context(), tok.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(e.srv.Validations("")-before)/float64(b.N), "validations/op")
}

// BenchmarkValidateMiss validates a new token per op, asked by 16 requests
// at once against the fake cloud: validations/op stays 1.
func BenchmarkValidateMiss(b *testing.B) {
	const callers = 16
	e := setup(b, setupOpts{})
	e.serviceToken(b)
	cred := identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: testserver.UserPassword}
	scope := identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"}
	before := e.srv.Validations("")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		tok := e.issueScoped(b, cred, scope)
		b.StartTimer()
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if _, err := e.v.Validate(b.Context(), tok.ID); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(e.srv.Validations("")-before)/float64(b.N), "validations/op")
	b.ReportMetric(callers, "callers/op")
}

// BenchmarkKey is the HMAC of a Fernet-sized token.
func BenchmarkKey(b *testing.B) {
	k := newKeyer()
	tok := "gAAAAABn" + string(make([]byte, 180))
	b.ReportAllocs()
	for b.Loop() {
		_ = k.key(tok)
	}
}
