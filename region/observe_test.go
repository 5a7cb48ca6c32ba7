package region_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/observe"
	"github.com/geostack/geostack/region"
)

// attemptLog is an Observer keeping a line per attempt: where it went,
// what it was, and how it ended.
type attemptLog struct {
	mu    sync.Mutex
	lines []string
	cloud *geostacktest.Server
}

func (l *attemptLog) Start(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
	return ctx, func(r observe.Result) {
		loc := op.Location
		if u, err := url.Parse(op.AuthURL); err != nil || u.Host != hostOf(l.cloud.URL(loc)) {
			loc = "auth_url of another location: " + op.AuthURL
		}
		s := op.Kind.String() + " " + op.Op + " " + loc + " from " + op.Home
		if op.Failover {
			s += " failover"
		}
		if op.LagRetry {
			s += " lag-retry"
		}
		s += " resends=" + strconv.Itoa(op.Resends)
		switch {
		case r.Fault:
			s += ": fault"
		case errors.Is(r.Err, identity.ErrUnauthorized):
			s += ": answer 401"
		case r.Err != nil:
			s += ": " + r.Err.Error()
		default:
			s += ": ok"
		}
		l.mu.Lock()
		l.lines = append(l.lines, s)
		l.mu.Unlock()
	}
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

// TestObserverSeesAttempts checks the attempts an Observer is told of: a
// failover from SG's failing Keystone to JP, and a replication-lag retry
// at the primary for a user SG does not know yet.
func TestObserverSeesAttempts(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	cloud := geostacktest.NewServer(t, geostacktest.Options{Clock: clk, ReplicationLag: time.Minute})
	log := &attemptLog{cloud: cloud}
	r, err := region.New(region.Config{Locations: cloud.Config("gnc", 1).Locations, Primary: cloud.Primary(), Clock: clk, Observer: log})
	if err != nil {
		t.Fatal(err)
	}
	ks := &identity.Client{Clock: clk}

	cloud.SetKeystoneFault("SG", geostacktest.Fault{Status: 503})
	cred, scope := cloud.User("gnc", 1)
	if _, err := r.Issue(t.Context(), "SG", ks, cred, scope); err != nil {
		t.Fatal(err)
	}
	cloud.ClearFaults()
	newCred, newScope, err := cloud.CreateUser("gnc", "gncu72074485", "new-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Issue(t.Context(), "SG", ks, newCred, newScope); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Issue(t.Context(), "SG", ks, cred, identity.Scope{ProjectName: "nope", ProjectDomainName: "gnc"}); !errors.Is(err, identity.ErrUnauthorized) {
		t.Fatalf("unknown project: %v", err)
	}
	want := []string{
		"attempt issue SG from SG resends=0: fault",
		"attempt issue JP from SG failover resends=1: ok",
		"attempt issue SG from SG resends=0: answer 401",
		"attempt issue JP from SG lag-retry resends=1: ok",
		"attempt issue SG from SG resends=0: answer 401",
		"attempt issue JP from SG lag-retry resends=1: answer 401",
	}
	if diff := cmp.Diff(want, log.lines); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}
