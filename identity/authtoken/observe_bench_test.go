package authtoken

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/geostack/geostack/observe"
)

// BenchmarkValidateCachedObserved is BenchmarkValidateCached with an
// Observer that only counts: the cost of the hook itself on the hot path
// (two clock reads, a context value and the Observer's closure), against
// the nil check alone without one.
func BenchmarkValidateCachedObserved(b *testing.B) {
	var started, ended atomic.Int64
	obs := observe.Func(func(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
		started.Add(1)
		return ctx, func(observe.Result) { ended.Add(1) }
	})
	e := setup(b, setupOpts{config: func(c *Config) { c.Observer = obs }})
	tok := e.issue(b, "gncu00000001")
	h := e.v.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), HandlerOptions{})
	req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/mail/inbox", nil)
	req.Header.Set("X-Auth-Token", tok.ID)
	h.ServeHTTP(httptest.NewRecorder(), req) // warm
	before := started.Load()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(started.Load()-before)/float64(b.N), "observed/op")
	if started.Load() != ended.Load() {
		b.Fatalf("%d operations started, %d ended", started.Load(), ended.Load())
	}
}
