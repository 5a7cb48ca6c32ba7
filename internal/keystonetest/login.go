package keystonetest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
)

// Authenticate logs in through gophercloud with opts, for tests that need a
// plain gophercloud client of the real cloud (a client-side view, checks
// behind a proxy's back, a token to send raw).
//
// It tries up to three times when Keystone drops the connection, times out
// or answers 5xx. Keystone on sqlite does that when two of its writes
// collide ("database is locked"): uwsgi then closes the connection without
// an answer, at once or after its HTTP timeout (60 s), which the client's
// 20 s timeout cuts. The most common such write, resetting a user's
// failed_auth_count after a wrong password, does not happen to the users
// tests log in as: wrong-password tests name <prefix>u00000003 alone.
//
// It uses context.Background, not t.Context, so that cleanups can call it.
func Authenticate(t testing.TB, opts gophercloud.AuthOptions) *gophercloud.ProviderClient {
	t.Helper()
	who := opts.Username + opts.UserID
	for attempt := 1; ; attempt++ {
		pc, err := openstack.NewClient(opts.IdentityEndpoint)
		if err != nil {
			t.Fatal(err)
		}
		pc.HTTPClient = http.Client{Timeout: 20 * time.Second}
		err = openstack.Authenticate(context.Background(), pc, opts)
		if err == nil {
			return pc
		}
		if attempt == 3 || !dropped(err) {
			t.Fatalf("keystonetest: authenticate %s (attempt %d): %v", who, attempt, err)
		}
		t.Logf("keystonetest: authenticate %s (attempt %d): %v; trying again", who, attempt, err)
	}
}

// Login authenticates u on its project at the primary Keystone
// (Authenticate).
func (e *Env) Login(t testing.TB, u User) *gophercloud.ProviderClient {
	t.Helper()
	return Authenticate(t, gophercloud.AuthOptions{IdentityEndpoint: e.AuthURL(e.Primary), UserID: u.ID,
		Password: u.Password, TenantID: u.ProjectID})
}

// dropped reports whether err is Keystone dropping a login rather than
// answering it: a closed or reset connection, a timeout, or a 5xx.
func dropped(err error) bool {
	var code gophercloud.ErrUnexpectedResponseCode
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		(errors.As(err, &netErr) && netErr.Timeout()) || (errors.As(err, &code) && code.Actual >= 500)
}
