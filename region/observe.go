package region

import (
	"context"
	"time"

	"github.com/geostack/geostack/observe"
)

// observeAttempt reports the start of an attempt at c to the resolver's
// Observer and returns the context the attempt runs in and the function
// that reports its end. moved says an earlier auth_url of the request
// faulted or was skipped; tried lists what the request tried so far.
// Without an Observer it returns ctx and a function that does nothing,
// without reading the clock.
func (r *Resolver) observeAttempt(ctx context.Context, req request, c *circuit, probe, moved bool, tried []Attempt) (context.Context, func(time.Time, error)) {
	o := r.observer
	if o == nil {
		return ctx, noAttemptEnd
	}
	resends := 0
	for _, a := range tried {
		if !a.Skipped {
			resends++
		}
	}
	if req.lagRetry {
		resends++ // the replica's answer came first
	}
	ctx, end := o.Start(ctx, observe.Operation{
		Kind:     observe.Attempt,
		Start:    r.clock.Now(),
		Op:       req.op,
		AuthURL:  c.authURL,
		Location: c.location,
		Home:     req.home,
		Resends:  resends,
		Failover: moved,
		LagRetry: req.lagRetry,
		Probe:    probe,
	})
	return ctx, func(at time.Time, err error) {
		end(observe.Result{End: at, Err: err, Fault: err != nil && isFault(err)})
	}
}

func noAttemptEnd(time.Time, error) {}
