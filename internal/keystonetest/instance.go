package keystonetest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Instance is a disposable Keystone instance started by StartInstance. It
// serves the same database, keys and cache as the locations do, so tokens
// issued anywhere validate at it and the other way round.
type Instance struct {
	// AuthURL is the instance's auth URL, ending in /v3.
	AuthURL string
	// PID is the uwsgi master's process id.
	PID int

	env  *Env
	name string
	once sync.Once
	err  error
}

// StartInstance starts one more Keystone instance, named name (letters, digits,
// '-' and '_'; unique among running instances), and returns once it answers.
// Tests that take a Keystone down (failover) use their own instance rather
// than a location's, which other packages' tests may be using concurrently.
// The instance is stopped when the test ends, if Stop has not been called.
// Starting one costs a few seconds of CPU.
func (e *Env) StartInstance(t testing.TB, name string) *Instance {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), filepath.Join(e.ScriptsDir, "keystone-instance.sh"), e.StateDir, name).Output()
	if err != nil {
		t.Fatalf("keystonetest: start instance %s: %v%s", name, err, stderr(err))
	}
	url, pid, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	n, perr := strconv.Atoi(pid)
	if !ok || perr != nil {
		t.Fatalf("keystonetest: start instance %s: unexpected output %q", name, out)
	}
	in := &Instance{AuthURL: url, PID: n, env: e, name: name}
	t.Cleanup(func() {
		if err := in.Stop(context.WithoutCancel(t.Context())); err != nil {
			t.Error(err)
		}
	})
	return in
}

// Stop stops the instance's processes (the uwsgi master, its workers and its
// HTTP router) and waits for them to exit. Later calls return the first
// call's result.
func (in *Instance) Stop(ctx context.Context) error {
	in.once.Do(func() {
		cmd := exec.CommandContext(ctx, filepath.Join(in.env.ScriptsDir, "keystone-down.sh"), in.env.StateDir, in.name)
		if _, err := cmd.Output(); err != nil {
			in.err = fmt.Errorf("keystonetest: stop instance %s: %w%s", in.name, err, stderr(err))
		}
	})
	return in.err
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
