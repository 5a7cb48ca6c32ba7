package authtoken

import (
	"context"

	"github.com/geostack/geostack/observe"
)

// validation is what the Observer is told of one validation as it runs:
// where its answer came from, "" while the token was turned away before
// the cache was asked (missing, malformed).
type validation struct{ source observe.Source }

type validationKey struct{}

// observe reports the start of a validation to Config.Observer and returns
// the context it runs in, which carries a *validation for lookup to mark,
// and the function that reports its end. Callers check Config.Observer
// first: without one, a validation costs nothing more.
func (v *Validator) observe(ctx context.Context, service bool) (context.Context, func(error)) {
	ctx, end := v.cfg.Observer.Start(ctx, observe.Operation{Kind: observe.Validation, Start: v.now(), Service: service})
	st := &validation{}
	ctx = context.WithValue(ctx, validationKey{}, st)
	return ctx, func(err error) {
		end(observe.Result{End: v.now(), Err: err, Source: st.source})
	}
}

// source marks the validation observed in ctx as answered by src. Without
// an Observer it returns at once.
func (v *Validator) source(ctx context.Context, src observe.Source) {
	if v.cfg.Observer == nil {
		return
	}
	if st, ok := ctx.Value(validationKey{}).(*validation); ok {
		st.source = src
	}
}
