// Package otelgeostack reports what geostack does against Keystone as
// OpenTelemetry metrics and spans: an observe.Observer to set in
// geostack.Config (or tokencache.Options, region.Config,
// authtoken.Config). It is the one package of the module that imports
// OpenTelemetry, so a service that does not use it does not build it.
//
//	obs, err := otelgeostack.New(otelgeostack.Options{}) // the global providers
//	if err != nil { return err }
//	cfg.Observer = obs
//	client, err := geostack.New(ctx, cfg)
//
// # Metrics
//
// Durations are histograms in seconds, measured on the component's clock,
// with the bucket boundaries OpenTelemetry advises for HTTP durations:
//
//	geostack.token.fetch.duration       one coalesced token fetch, failover included
//	    geostack.token.source  "keystone" or "shared" (the shared tier)
//	    geostack.token.refresh whether a token was still served
//	    error.type             on failure
//	geostack.token.validation.duration  one validation of an incoming token
//	    geostack.validation.source "cache", "keystone" or "none" (turned away unasked)
//	    geostack.token.service whether it was an X-Service-Token
//	    error.type             on failure: "invalid_token", "expired", "wrong_domain", ...
//	http.client.request.duration        one attempt at one auth_url (HTTP client conventions)
//	    http.request.method    POST (issue), GET (validate), _OTHER (write)
//	    server.address, server.port, url.scheme  of the auth_url
//	    http.response.status_code  Keystone's status, when it answered
//	    error.type             on failure: the status ("503"), "timeout", "connection", ...
//	    geostack.operation     "issue", "validate" or "write"
//	    geostack.location      the auth_url's location
//	geostack.failovers                  a counter ({failover}): attempts that follow
//	    geostack.operation, geostack.location (where the request went on to), geostack.location.home
//
// Every operation is counted once, by the component that did it, so the
// histograms' counts add up across clients that share a token cache.
//
// # Spans
//
// A fetch is a span "geostack.token.fetch" and a validation a span
// "geostack.token.validate" (both internal), each with a client span per
// attempt at an auth_url under it, named after its method ("POST", "GET",
// "HTTP" for a write) with the HTTP client attributes above and
// http.request.resend_count. A failover is the next attempt span under the
// same parent, marked geostack.failover, and an event "geostack.failover"
// on the parent naming the auth_url it went on to. No attribute holds a
// secret.
package otelgeostack

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/observe"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/geostack/geostack/otelgeostack"

// Metric names.
const (
	MetricFetchDuration      = "geostack.token.fetch.duration"
	MetricValidationDuration = "geostack.token.validation.duration"
	MetricRequestDuration    = "http.client.request.duration"
	MetricFailovers          = "geostack.failovers"
)

// Span names of fetches and validations; an attempt's span is named after
// its HTTP method.
const (
	SpanFetch      = "geostack.token.fetch"
	SpanValidation = "geostack.token.validate"
	EventFailover  = "geostack.failover"
)

// Attribute keys of geostack's own; the others are OpenTelemetry's.
const (
	AttrTokenSource      = attribute.Key("geostack.token.source")
	AttrTokenRefresh     = attribute.Key("geostack.token.refresh")
	AttrTokenService     = attribute.Key("geostack.token.service")
	AttrValidationSource = attribute.Key("geostack.validation.source")
	AttrOperation        = attribute.Key("geostack.operation")
	AttrLocation         = attribute.Key("geostack.location")
	AttrHome             = attribute.Key("geostack.location.home")
	AttrIdentity         = attribute.Key("geostack.identity")
	AttrFailover         = attribute.Key("geostack.failover")
	AttrLagRetry         = attribute.Key("geostack.lag_retry")
	AttrProbe            = attribute.Key("geostack.probe")
)

// OpenTelemetry's semantic-convention keys used here.
const (
	keyErrorType   = attribute.Key("error.type")
	keyMethod      = attribute.Key("http.request.method")
	keyStatus      = attribute.Key("http.response.status_code")
	keyResendCount = attribute.Key("http.request.resend_count")
	keyAddress     = attribute.Key("server.address")
	keyPort        = attribute.Key("server.port")
	keyScheme      = attribute.Key("url.scheme")
	keyURL         = attribute.Key("url.full")
)

// durationBuckets are OpenTelemetry's advised boundaries for
// http.client.request.duration, used for every duration here.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Options configure New. They are read by New only.
type Options struct {
	// MeterProvider makes the meter; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider makes the tracer; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}

// Observer records geostack's operations as metrics and spans. It is safe
// for concurrent use.
type Observer struct {
	tracer     trace.Tracer
	fetch      metric.Float64Histogram
	validation metric.Float64Histogram
	request    metric.Float64Histogram
	failovers  metric.Int64Counter
}

var _ observe.Observer = (*Observer)(nil)

// New returns an Observer recording through the providers of opts. It
// fails only if an instrument cannot be made.
func New(opts Options) (*Observer, error) {
	mp, tp := opts.MeterProvider, opts.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(ScopeName)
	o := &Observer{tracer: tp.Tracer(ScopeName)}
	var errs []error
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		errs = append(errs, err)
		return h
	}
	o.fetch = hist(MetricFetchDuration, "Duration of token fetches: one coalesced fetch of a token cache entry, failover included.")
	o.validation = hist(MetricValidationDuration, "Duration of validations of incoming tokens, from the cache or Keystone.")
	o.request = hist(MetricRequestDuration, "Duration of HTTP client requests: one attempt at one Keystone auth_url.")
	var err error
	o.failovers, err = m.Int64Counter(MetricFailovers, metric.WithUnit("{failover}"),
		metric.WithDescription("Attempts at an auth_url after an earlier one of the same request faulted or had its circuit open."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// Start implements observe.Observer.
func (o *Observer) Start(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
	switch op.Kind {
	case observe.Fetch:
		return o.startFetch(ctx, op)
	case observe.Validation:
		return o.startValidation(ctx, op)
	case observe.Attempt:
		return o.startAttempt(ctx, op)
	}
	return ctx, func(observe.Result) {}
}

func (o *Observer) startFetch(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
	ctx, span := o.tracer.Start(ctx, SpanFetch, trace.WithSpanKind(trace.SpanKindInternal), trace.WithTimestamp(op.Start),
		trace.WithAttributes(AttrIdentity.String(op.Identity), AttrTokenRefresh.Bool(op.Refresh)))
	return ctx, func(r observe.Result) {
		attrs := []attribute.KeyValue{AttrTokenSource.String(string(r.Source)), AttrTokenRefresh.Bool(op.Refresh)}
		attrs = withError(attrs, r.Err)
		o.fetch.Record(ctx, seconds(op, r), metric.WithAttributes(attrs...))
		end(span, r, attrs)
	}
}

func (o *Observer) startValidation(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
	ctx, span := o.tracer.Start(ctx, SpanValidation, trace.WithSpanKind(trace.SpanKindInternal), trace.WithTimestamp(op.Start),
		trace.WithAttributes(AttrTokenService.Bool(op.Service)))
	return ctx, func(r observe.Result) {
		src := string(r.Source)
		if src == "" {
			src = "none"
		}
		attrs := []attribute.KeyValue{AttrValidationSource.String(src), AttrTokenService.Bool(op.Service)}
		attrs = withError(attrs, r.Err)
		o.validation.Record(ctx, seconds(op, r), metric.WithAttributes(attrs...))
		end(span, r, attrs)
	}
}

func (o *Observer) startAttempt(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
	method, name := "_OTHER", "HTTP"
	switch op.Op {
	case "issue":
		method, name = "POST", "POST"
	case "validate":
		method, name = "GET", "GET"
	}
	base := []attribute.KeyValue{keyMethod.String(method), AttrOperation.String(op.Op), AttrLocation.String(op.Location)}
	spanAttrs := []attribute.KeyValue{AttrHome.String(op.Home)}
	if u, err := url.Parse(op.AuthURL); err == nil {
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		p, _ := strconv.Atoi(port)
		base = append(base, keyAddress.String(u.Hostname()), keyPort.Int(p), keyScheme.String(u.Scheme))
		u.User = nil
		spanAttrs = append(spanAttrs, keyURL.String(u.String()))
	}
	if op.Resends > 0 {
		spanAttrs = append(spanAttrs, keyResendCount.Int(op.Resends))
	}
	if op.Failover {
		spanAttrs = append(spanAttrs, AttrFailover.Bool(true))
		trace.SpanFromContext(ctx).AddEvent(EventFailover, trace.WithTimestamp(op.Start), trace.WithAttributes(
			keyURL.String(spanURL(spanAttrs)), AttrLocation.String(op.Location)))
		o.failovers.Add(ctx, 1, metric.WithAttributes(AttrOperation.String(op.Op), AttrLocation.String(op.Location), AttrHome.String(op.Home)))
	}
	if op.LagRetry {
		spanAttrs = append(spanAttrs, AttrLagRetry.Bool(true))
	}
	if op.Probe {
		spanAttrs = append(spanAttrs, AttrProbe.Bool(true))
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(op.Start),
		trace.WithAttributes(base...), trace.WithAttributes(spanAttrs...))
	return ctx, func(r observe.Result) {
		attrs := base
		if st := status(op.Op, r.Err); st != 0 {
			attrs = append(attrs, keyStatus.Int(st))
		}
		attrs = withError(attrs, r.Err)
		o.request.Record(ctx, seconds(op, r), metric.WithAttributes(attrs...))
		end(span, r, attrs)
	}
}

// spanURL returns the url.full of attrs, "" if none.
func spanURL(attrs []attribute.KeyValue) string {
	for _, a := range attrs {
		if a.Key == keyURL {
			return a.Value.AsString()
		}
	}
	return ""
}

// end closes span at r.End with attrs and, on failure, an error status
// whose description is the error's message (geostack's errors never hold a
// secret).
func end(span trace.Span, r observe.Result, attrs []attribute.KeyValue) {
	span.SetAttributes(attrs...)
	if r.Err != nil {
		span.SetStatus(codes.Error, r.Err.Error())
	}
	span.End(trace.WithTimestamp(r.End))
}

func seconds(op observe.Operation, r observe.Result) float64 {
	return max(r.End.Sub(op.Start).Seconds(), 0)
}

func withError(attrs []attribute.KeyValue, err error) []attribute.KeyValue {
	if err == nil {
		return attrs
	}
	return append(attrs, keyErrorType.String(ErrorType(err)))
}

// status is the HTTP status of an attempt's answer: Keystone's, from the
// error, or on success the one Keystone always answers (201 to an issue,
// 200 to a validation); 0 when there was none or it is unknown (a write,
// which may be several requests).
func status(op string, err error) int {
	if err == nil {
		switch op {
		case "issue":
			return 201
		case "validate":
			return 200
		}
		return 0
	}
	if ie, ok := errors.AsType[*identity.Error](err); ok {
		return ie.Status
	}
	if sc, ok := errors.AsType[interface {
		error
		GetStatusCode() int
	}](err); ok {
		return sc.GetStatusCode()
	}
	return 0
}

// ErrorType is the error.type of err: a short, stable name of what went
// wrong, never its message. An HTTP status Keystone answered is its
// number ("401", "503"); a Validator's verdict is its kind
// ("invalid_token", "expired", "wrong_domain", "forbidden",
// "access_rules", "missing", "unavailable", "closed"); otherwise "timeout",
// "canceled", "all_failed" (every auth_url faulted), "connection",
// "bad_response", "invalid_credential", "closed" or "_OTHER".
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	if ae, ok := errors.AsType[*authtoken.Error](err); ok {
		for _, k := range []struct {
			err  error
			name string
		}{
			{authtoken.ErrMissing, "missing"}, {authtoken.ErrInvalidToken, "invalid_token"},
			{authtoken.ErrExpired, "expired"}, {authtoken.ErrWrongDomain, "wrong_domain"},
			{authtoken.ErrForbidden, "forbidden"}, {authtoken.ErrAccessRules, "access_rules"},
			{authtoken.ErrUnavailable, "unavailable"}, {authtoken.ErrClosed, "closed"},
		} {
			if ae.Kind == k.err {
				return k.name
			}
		}
	}
	if _, ok := errors.AsType[*region.AllFailedError](err); ok {
		return "all_failed"
	}
	if st := status("", err); st >= 400 {
		return strconv.Itoa(st)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, tokencache.ErrClosed):
		return "closed"
	case errors.Is(err, identity.ErrInvalidCredential):
		return "invalid_credential"
	case errors.Is(err, identity.ErrBadResponse):
		return "bad_response"
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return "connection"
	}
	if errors.Is(err, identity.ErrUnavailable) {
		return "unavailable"
	}
	return "_OTHER"
}
