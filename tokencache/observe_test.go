package tokencache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/observe"
)

// observed is one operation an Observer saw, start and end together.
type observed struct {
	Op     observe.Operation
	Result observe.Result
}

// observeRecorder is an Observer that sends each ended operation on a channel.
func observeRecorder() (observe.Observer, chan observed) {
	ch := make(chan observed, 16)
	return observe.Func(func(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
		return ctx, func(r observe.Result) { ch <- observed{op, r} }
	}), ch
}

func nextObserved(t *testing.T, ch chan observed) observed {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-t.Context().Done():
		t.Fatal("no operation observed")
	}
	return observed{}
}

// TestObserverSeesFetches checks what the Observer is told of a cold
// fetch, shared by three Handles, a background refresh and a failed fetch,
// on the cache's clock.
func TestObserverSeesFetches(t *testing.T) {
	t.Parallel()
	obs, ch := observeRecorder()
	c, h, f, clk := setup(t, Options{Observer: obs})
	h2, h3 := mustHandle(t, c, testKey("u1"), f), mustHandle(t, c, testKey("u1"), f)
	for _, hh := range []*Handle{h, h2, h3} {
		mustToken(t, hh)
	}
	desc := testKey("u1").describe()
	got := nextObserved(t, ch)
	want := observed{
		Op:     observe.Operation{Kind: observe.Fetch, Start: t0, Identity: desc},
		Result: observe.Result{End: t0, Source: observe.SourceKeystone},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cold fetch (-want +got):\n%s", diff)
	}

	clk.Advance(46 * time.Minute) // into the refresh window
	mustToken(t, h)
	got = nextObserved(t, ch)
	at := t0.Add(46 * time.Minute)
	want = observed{
		Op:     observe.Operation{Kind: observe.Fetch, Start: at, Identity: desc, Refresh: true},
		Result: observe.Result{End: at, Source: observe.SourceKeystone},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refresh (-want +got):\n%s", diff)
	}

	boom := errors.New("keystone down")
	f.set(boom, nil)
	if _, err := h.Refresh(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("Refresh: %v", err)
	}
	if got := nextObserved(t, ch); !errors.Is(got.Result.Err, boom) || !got.Op.Refresh {
		t.Errorf("failed refresh observed as %+v", got)
	}
	select {
	case o := <-ch:
		t.Errorf("more operations than fetches: %+v", o)
	default:
	}
	if n := f.Calls(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}
