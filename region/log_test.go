package region

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/identity"
)

func TestCircuitEventsAreLogged(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	r, clk := newTestResolver(t, func(c *Config) { c.Logger = logger; c.FailureThreshold = 1 })
	ks := newFakeKeystone()
	ks.set(sg1, unavailable(sg1))
	issue := func() {
		if _, err := r.Issue(t.Context(), "SG", ks, testCred, identity.Scope{}); err != nil {
			t.Fatal(err)
		}
	}
	issue() // opens
	clk.Advance(30 * time.Second)
	issue() // probe fails: reopens
	ks.set(sg1, nil)
	clk.Advance(30 * time.Second)
	issue() // probe succeeds: closes

	want := []string{
		`level=WARN msg="region: circuit opened" auth_url=` + sg1 + ` location=SG consecutive_failures=1 cool_down=30s`,
		`level=WARN msg="region: circuit reopened" auth_url=` + sg1 + ` location=SG consecutive_failures=1 cool_down=30s`,
		`level=INFO msg="region: circuit closed" auth_url=` + sg1 + ` location=SG`,
	}
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if strings.Contains(buf.String(), secret) || strings.Contains(buf.String(), "token-secret-id") {
		t.Error("log leaks a secret")
	}
}
