package tokencache

import (
	"context"
	"time"

	"github.com/geostack/geostack/observe"
)

// observeFetch reports the start of a fetch to the cache's Observer and
// returns the context the fetch runs in and the function that reports its
// end. Without an Observer it returns ctx and a function that does
// nothing, without reading the clock.
func (s *slot) observeFetch(ctx context.Context, refresh bool) (context.Context, func(end time.Time, fromStore bool, err error)) {
	o := s.c.opts.Observer
	if o == nil {
		return ctx, noFetchEnd
	}
	ctx, end := o.Start(ctx, observe.Operation{
		Kind:     observe.Fetch,
		Start:    s.c.opts.Clock.Now(),
		Identity: s.key.describe(),
		Refresh:  refresh,
	})
	return ctx, func(at time.Time, fromStore bool, err error) {
		src := observe.SourceKeystone
		if fromStore {
			src = observe.SourceShared
		}
		end(observe.Result{End: at, Err: err, Source: src})
	}
}

func noFetchEnd(time.Time, bool, error) {}
