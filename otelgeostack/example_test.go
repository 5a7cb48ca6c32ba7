package otelgeostack_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/otelgeostack"
)

// A client reports its token fetch and its attempts at the auth_urls; here
// SG's Keystone is down, so the fetch fails over to JP.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader() // a service uses its exporter's reader
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)
	obs, err := otelgeostack.New(otelgeostack.Options{MeterProvider: mp})
	if err != nil {
		log.Fatal(err)
	}

	cloud, err := geostacktest.Start(geostacktest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	cloud.SetKeystoneFault("SG", geostacktest.Fault{Status: 503})
	cfg := cloud.Config("gnc", 1)
	cfg.Observer = obs
	client, err := geostack.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Token(ctx); err != nil {
		log.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				var n uint64
				for _, dp := range d.DataPoints {
					n += dp.Count
				}
				fmt.Printf("%s (%s): %d\n", m.Name, m.Unit, n)
			case metricdata.Sum[int64]:
				fmt.Printf("%s (%s): %d\n", m.Name, m.Unit, d.DataPoints[0].Value)
			}
		}
	}
	// Unordered output:
	// geostack.token.fetch.duration (s): 1
	// http.client.request.duration (s): 2
	// geostack.failovers ({failover}): 1
}
