package tokencache

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/geostack/geostack/identity"
)

// BenchmarkHandleChurn is a process whose clients come and go: each round
// creates 10,000 Handles of distinct identities on one Cache, fetches their
// tokens and releases them, then moves the manual clock past the tokens'
// expiry. Every entry, timer and goroutine must then be gone. It reports,
// after the last round, the heap in use and the goroutines above what they
// were before the first, and the entries left (which must be 0).
func BenchmarkHandleChurn(b *testing.B) {
	const handles = 10_000
	clk := newClock()
	c := mustNew(b, Options{Clock: clk})
	keys := make([]Key, handles)
	for i := range keys {
		keys[i] = testKey(fmt.Sprint("churn-", i))
	}
	src := identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
		now := clk.Now()
		return &identity.Token{ID: "churn-token", IssuedAt: now, ExpiresAt: now.Add(time.Hour), Expiry: now.Add(time.Hour)}, nil
	})
	ctx := b.Context()
	baseHeap, baseG := heapInUse(), runtime.NumGoroutine()

	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			h, err := c.Handle(k, src)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.Token(ctx); err != nil {
				b.Fatal(err)
			}
			h.Release()
		}
		clk.Advance(time.Hour) // every token expires; its entry is dropped
	}
	b.StopTimer()

	entries, pending := c.len(), clk.Pending()
	// The goroutine of the last fetch may still be returning after
	// handing over its token.
	for i := 0; i < 1000 && runtime.NumGoroutine() > baseG; i++ {
		runtime.Gosched()
	}
	goroutines := runtime.NumGoroutine() - baseG
	heap := heapInUse() - baseHeap
	runtime.KeepAlive(keys) // the caller's Keys were live at the baseline too
	b.ReportMetric(float64(heap), "heap-bytes")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64(entries), "entries-left")
	if entries != 0 || pending != 0 || goroutines > 0 {
		b.Errorf("after %d rounds of %d Handles: %d entries, %d timers and %d goroutines left, want none",
			b.N, handles, entries, pending, goroutines)
	}
}

// heapInUse returns the bytes of heap spans in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
