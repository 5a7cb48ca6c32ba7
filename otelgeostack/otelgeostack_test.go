package otelgeostack_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/otelgeostack"
	"github.com/geostack/geostack/tokencache"
)

// step is how long every request takes on the test's clock: the transport
// below moves the clock by it, so that every duration is known exactly.
const step = 100 * time.Millisecond

// stepTransport advances a manual clock by step for each request.
type stepTransport struct{ clk *clock.Manual }

func (s stepTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.clk.Advance(step)
	return http.DefaultTransport.RoundTrip(req)
}

// world is the scripted workload's setting.
type world struct {
	clk    *clock.Manual
	cloud  *geostacktest.Server
	obs    *otelgeostack.Observer
	httpc  *http.Client
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{clk: clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))}
	w.cloud = geostacktest.NewServer(t, geostacktest.Options{Clock: w.clk})
	w.httpc = &http.Client{Transport: stepTransport{w.clk}}
	w.reader = sdkmetric.NewManualReader()
	w.spans = tracetest.NewSpanRecorder()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(w.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(w.spans))
	t.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
	obs, err := otelgeostack.New(otelgeostack.Options{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	w.obs = obs
	return w
}

func (w *world) client(t *testing.T, cfg geostack.Config) *geostack.Client {
	t.Helper()
	cfg.Observer, cfg.HTTPClient = w.obs, w.httpc
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// point is one data point of a histogram or a counter, by its attributes.
type point struct {
	Count uint64
	Sum   float64
}

// collect reads every metric: name → unit, and attribute set → point.
func collect(t *testing.T, r *sdkmetric.ManualReader) (units map[string]string, points map[string]map[string]point) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	units, points = map[string]string{}, map[string]map[string]point{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelgeostack.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelgeostack.ScopeName)
		}
		for _, m := range sm.Metrics {
			units[m.Name] = m.Unit
			ps := map[string]point{}
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					ps[attrs(dp.Attributes)] = point{dp.Count, math.Round(dp.Sum*1000) / 1000}
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					ps[attrs(dp.Attributes)] = point{Count: uint64(dp.Value)}
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
			points[m.Name] = ps
		}
	}
	return units, points
}

// attrs renders an attribute set as "k=v k=v", sorted.
func attrs(s attribute.Set) string {
	var out []string
	for _, kv := range s.ToSlice() {
		out = append(out, string(kv.Key)+"="+kv.Value.Emit())
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestMetrics runs a scripted workload on the fake cloud, every request
// taking 100 ms on the test's clock, and checks every metric's name, unit,
// attributes, count and sum. Two clients share one token: its fetch is
// counted once, as Keystone issued it once.
func TestMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cache, err := tokencache.New(tokencache.Options{Clock: w.clk, Observer: w.obs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })

	// Two clients of gncu00000001 share one token: one fetch, one attempt.
	cfgA := w.cloud.Config("gnc", 1)
	cfgA.Cache = cache
	a1, a2 := w.client(t, cfgA), w.client(t, cfgA)
	tokA, err := a1.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a2.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	// SG's Keystone fails: gncu00000002's fetch fails over to JP.
	w.cloud.SetKeystoneFault("SG", geostacktest.Fault{Status: http.StatusServiceUnavailable})
	if _, err := w.client(t, w.cloud.Config("gnc", 2)).Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.cloud.ClearFaults()

	// A gnc backend validates: a miss (with its service token's fetch), a
	// hit, a token of another domain, and garbage.
	svcCred, svcScope := w.cloud.ServiceCredential()
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{w.cloud.Domain("gnc")}, Home: "SG", Primary: w.cloud.Primary(),
		ServiceCredential: svcCred, ServiceScope: svcScope, Clock: w.clk, Observer: w.obs,
		Client: &identity.Client{HTTPClient: w.httpc},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	zjpCred, zjpScope := w.cloud.User("zjp", 1)
	zjpTok, err := (&identity.Client{Clock: w.clk}).Issue(t.Context(), w.cloud.AuthURL("SG"), zjpCred, zjpScope) // not observed
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tokA.ID, tokA.ID, zjpTok.ID, "not-a-token"} {
		v.Validate(t.Context(), tok)
	}

	units, points := collect(t, w.reader)
	wantUnits := map[string]string{
		otelgeostack.MetricFetchDuration:      "s",
		otelgeostack.MetricValidationDuration: "s",
		otelgeostack.MetricRequestDuration:    "s",
		otelgeostack.MetricFailovers:          "{failover}",
	}
	if diff := cmp.Diff(wantUnits, units); diff != "" {
		t.Errorf("metrics and units (-want +got):\n%s", diff)
	}
	addr := func(loc string) string {
		u, _ := url.Parse(w.cloud.URL(loc))
		return "server.address=" + u.Hostname() + " server.port=" + u.Port()
	}
	req := func(method, op, loc string, status int, errType string) string {
		s := "geostack.location=" + loc + " geostack.operation=" + op + " http.request.method=" + method
		if status != 0 {
			s += " http.response.status_code=" + strconv.Itoa(status)
		}
		s += " " + addr(loc) + " url.scheme=http"
		if errType != "" {
			s = "error.type=" + errType + " " + s
		}
		return s
	}
	want := map[string]map[string]point{
		otelgeostack.MetricFetchDuration: {
			// gncu00000001 (0.1 s), gncu00000002 (0.2 s: SG, then JP),
			// nova's service token (0.1 s).
			"geostack.token.refresh=false geostack.token.source=keystone": {3, 0.4},
		},
		otelgeostack.MetricValidationDuration: {
			// The miss fetches the service token, then validates: 0.2 s.
			"geostack.token.service=false geostack.validation.source=keystone":                         {1, 0.2},
			"geostack.token.service=false geostack.validation.source=cache":                            {1, 0},
			"error.type=wrong_domain geostack.token.service=false geostack.validation.source=keystone": {1, 0.1},
			"error.type=invalid_token geostack.token.service=false geostack.validation.source=none":    {1, 0},
		},
		otelgeostack.MetricRequestDuration: {
			req("POST", "issue", "SG", 201, ""):    {2, 0.2}, // gncu00000001, nova
			req("POST", "issue", "SG", 503, "503"): {1, 0.1},
			req("POST", "issue", "JP", 201, ""):    {1, 0.1},
			req("GET", "validate", "SG", 200, ""):  {2, 0.2},
		},
		otelgeostack.MetricFailovers: {
			"geostack.location.home=SG geostack.location=JP geostack.operation=issue": {Count: 1},
		},
	}
	if diff := cmp.Diff(want, points); diff != "" {
		t.Errorf("metric points (-want +got):\n%s", diff)
	}

	// The counts add up to what Keystone saw; the clients' Stats, which
	// are their shared entry's, count gncu00000001's one token twice.
	var fetched uint64
	for _, p := range points[otelgeostack.MetricFetchDuration] {
		fetched += p.Count
	}
	if issued := w.cloud.TokensIssued("", ""); int64(fetched) != issued-1 { // zjp's was not observed
		t.Errorf("fetches observed = %d, Keystone issued %d (one unobserved)", fetched, issued)
	}
	if sum := a1.Stats().Cache.Issued + a2.Stats().Cache.Issued; sum != 2 {
		t.Errorf("two clients' Stats sum to %d issued, want 2 (one shared token, counted by each)", sum)
	}
}

// TestSpans checks the trace of a failover: the fetch span holds two
// client spans, SG's 503 and JP's answer marked as a failover, and an
// event on the fetch; and of a validation: the service token's fetch and
// the validation request under the validation span.
func TestSpans(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.cloud.SetKeystoneFault("SG", geostacktest.Fault{Status: http.StatusServiceUnavailable})
	tok, err := w.client(t, w.cloud.Config("gnc", 1)).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w.cloud.ClearFaults()
	svcCred, svcScope := w.cloud.ServiceCredential()
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{w.cloud.Domain("gnc")}, Home: "SG", Primary: w.cloud.Primary(),
		ServiceCredential: svcCred, ServiceScope: svcScope, Clock: w.clk, Observer: w.obs,
		Client: &identity.Client{HTTPClient: w.httpc},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if _, err := v.Validate(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}

	ended := w.spans.Ended()
	children := map[string][]sdktrace.ReadOnlySpan{}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range ended {
		if s.Parent().IsValid() {
			children[s.Parent().SpanID().String()] = append(children[s.Parent().SpanID().String()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var render func(s sdktrace.ReadOnlySpan) string
	render = func(s sdktrace.ReadOnlySpan) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s", s.Name(), s.SpanKind(), s.EndTime().Sub(s.StartTime()))
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "http.response.status_code", "error.type", "http.request.resend_count", "geostack.failover", "geostack.validation.source":
				fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.Emit())
			}
		}
		for _, e := range s.Events() {
			fmt.Fprintf(&b, " event:%s", e.Name)
		}
		if kids := children[s.SpanContext().SpanID().String()]; len(kids) > 0 {
			slices.SortFunc(kids, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
			var ks []string
			for _, k := range kids {
				ks = append(ks, render(k))
			}
			b.WriteString(" [" + strings.Join(ks, "; ") + "]")
		}
		return b.String()
	}
	var got []string
	slices.SortFunc(roots, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	for _, r := range roots {
		got = append(got, render(r))
	}
	want := []string{
		"geostack.token.fetch internal 200ms event:geostack.failover [" +
			"POST client 100ms http.response.status_code=503 error.type=503; " +
			"POST client 100ms http.request.resend_count=1 geostack.failover=true http.response.status_code=201]",
		"geostack.token.validate internal 200ms geostack.validation.source=keystone [" +
			"geostack.token.fetch internal 100ms [POST client 100ms http.response.status_code=201]; " +
			"GET client 100ms http.response.status_code=200]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	for _, s := range ended {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.Emit(), tok.ID) || strings.Contains(kv.Value.Emit(), geostacktest.UserPassword) {
				t.Errorf("span %s attribute %s holds a secret", s.Name(), kv.Key)
			}
		}
	}
}

// TestPrometheus exports the metrics through OpenTelemetry's Prometheus
// exporter, as a Prometheus user would scrape them.
func TestPrometheus(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	obs, err := otelgeostack.New(otelgeostack.Options{MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	cloud := geostacktest.NewServer(t, geostacktest.Options{})
	cloud.SetLocationFault("SG", geostacktest.Fault{Down: true})
	cfg := cloud.Config("gnc", 1)
	cfg.Observer = obs
	c, err := geostack.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range families {
		var n float64
		for _, m := range f.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				n += float64(h.GetSampleCount())
			} else if c := m.GetCounter(); c != nil {
				n += c.GetValue()
			}
		}
		got[f.GetName()] = fmt.Sprintf("%s %v", f.GetType(), n)
	}
	want := map[string]string{
		"geostack_token_fetch_duration_seconds": "HISTOGRAM 1",
		"http_client_request_duration_seconds":  "HISTOGRAM 2", // SG refused, JP answered
		"geostack_failovers_total":              "COUNTER 1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Prometheus families (-want +got):\n%s", diff)
	}
}

// TestCoreImportsNoOpenTelemetry keeps the core's dependency set small:
// no package of the module but this one (and its tests) imports
// OpenTelemetry or Prometheus.
func TestCoreImportsNoOpenTelemetry(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{.ImportPath}}", "github.com/geostack/geostack/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	own := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/geostack/geostack") {
			own[p] = true
		}
	}
	for p := range own {
		if strings.HasPrefix(p, "github.com/geostack/geostack/otelgeostack") {
			continue
		}
		deps, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{.ImportPath}}", p).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", p, err)
		}
		for _, d := range strings.Fields(string(deps)) {
			if strings.HasPrefix(d, "go.opentelemetry.io/") || strings.HasPrefix(d, "github.com/prometheus/") {
				t.Errorf("%s imports %s", p, d)
				break
			}
		}
	}
	if len(own) < 10 {
		t.Fatalf("only %d packages of the module listed: %v", len(own), own)
	}
}

func TestErrorType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&identity.Error{Op: "issue", Status: 401, Kind: identity.ErrUnauthorized}, "401"},
		{&tokencache.FetchError{Err: &identity.Error{Status: 503, Kind: identity.ErrUnavailable}}, "503"},
		{&authtoken.Error{Kind: authtoken.ErrExpired}, "expired"},
		{&authtoken.Error{Kind: authtoken.ErrUnavailable, Err: &identity.Error{Status: 503}}, "unavailable"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "timeout"},
		{&identity.Error{Kind: identity.ErrBadResponse}, "bad_response"},
		{tokencache.ErrClosed, "closed"},
		{fmt.Errorf("something else"), "_OTHER"},
	}
	for _, tt := range tests {
		if got := otelgeostack.ErrorType(tt.err); got != tt.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
