package keystonetest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keystone.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	t.Parallel()
	env, err := Parse(readTestdata(t))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Primary, AuthUS, Memcached  string
		Regions                     map[string][]string
		ServiceUsers, DomainNames   []string
		GncMember, GncAdmin         User
		AppCredUser, AppCredProject string
		PIDJP                       int
	}
	gnc, ok := env.Domain("gnc")
	if !ok {
		t.Fatal("no domain gnc")
	}
	got := summary{
		Primary:        env.Primary,
		AuthUS:         env.AuthURL("US"),
		Memcached:      env.Memcached,
		Regions:        env.Regions,
		GncMember:      env.MustUser(t, "gncu00000001"),
		GncAdmin:       env.MustUser(t, "gncu00000002"),
		AppCredUser:    env.AppCredential.UserName,
		AppCredProject: env.AppCredential.ProjectID,
		PIDJP:          env.PIDs["JP"],
	}
	for _, u := range env.ServiceUsers {
		got.ServiceUsers = append(got.ServiceUsers, u.Name)
	}
	for _, d := range env.Domains {
		got.DomainNames = append(got.DomainNames, d.Name)
	}
	want := summary{
		Primary:   "JP",
		AuthUS:    "http://127.0.0.1:5002/v3",
		Memcached: "127.0.0.1:11311",
		Regions:   map[string][]string{"JP": {"TYO1", "OSA1"}, "US": {"SJC1"}, "SG": {"SIN1"}},
		GncMember: User{
			ID: gnc.Users[0].ID, Name: "gncu00000001", Password: "test-password",
			DomainID: gnc.ID, DomainName: "gnc",
			ProjectID: gnc.Projects[0].ID, ProjectName: "gnct00000001", Roles: []string{"member"},
		},
		GncAdmin: User{
			ID: gnc.Users[1].ID, Name: "gncu00000002", Password: "test-password",
			DomainID: gnc.ID, DomainName: "gnc", DomainRoles: []string{"admin"},
		},
		ServiceUsers:   []string{"nova", "glance", "cinder", "neutron"},
		DomainNames:    []string{"gnc", "zjp"},
		AppCredUser:    "gncu00000001",
		AppCredProject: gnc.Projects[0].ID,
		PIDJP:          101,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(testdata) (-want +got):\n%s", diff)
	}
	if _, ok := env.User("nobody"); ok {
		t.Error(`User("nobody") found a user`)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	valid := string(readTestdata(t))
	tests := []struct {
		name, json, wantErr string
	}{
		{"not JSON", `{"admin": {"password": hunter2}}`, "keystonetest: description is not JSON (offset"},
		{"truncated", `{"admin": {"password": "hunter2"`, "keystonetest: description is truncated"},
		{"empty", ``, "keystonetest: description cannot be decoded"},
		{"wrong type", `{"schema": "one", "service_password": "hunter2"}`, `keystonetest: description field "schema": want int, got JSON string`},
		{"unknown field", `{"schema": 1, "colour": "hunter2"}`, `keystonetest: description has unknown field "colour"`},
		{"old schema", strings.Replace(valid, `"schema": 1`, `"schema": 0`, 1), "keystonetest: description schema 0, want 1"},
		{"no primary", strings.Replace(valid, `"primary": "JP"`, `"primary": ""`, 1), "keystonetest: description has no primary location"},
		{"primary without URL", strings.Replace(valid, `"primary": "JP"`, `"primary": "EU"`, 1), `keystonetest: description has no auth URL for the primary location "EU"`},
		{"region without URL", strings.Replace(valid, `"SG": [`, `"EU": [`, 1), `keystonetest: description has regions but no auth URL for location "EU"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.json))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %q, want prefix %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Parse error %q leaks a secret", err)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	if _, err := ReadFile(""); err != ErrNotConfigured {
		t.Errorf("ReadFile(\"\") = %v, want ErrNotConfigured", err)
	}
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.HasPrefix(err.Error(), "keystonetest: read description") {
		t.Errorf("ReadFile(missing) = %v, want a read error", err)
	}
}

func TestSecretsNotFormatted(t *testing.T) {
	t.Parallel()
	env, err := Parse(readTestdata(t))
	if err != nil {
		t.Fatal(err)
	}
	u := env.MustUser(t, "gncu00000001")
	for _, s := range []string{
		fmt.Sprint(u), fmt.Sprintf("%v %+v %#v %s", u, u, u, u),
		fmt.Sprintf("%v %+v %#v", env.AppCredential, env.AppCredential, env.AppCredential),
	} {
		if strings.Contains(s, "test-") {
			t.Errorf("formatted value leaks a secret: %s", s)
		}
	}
}

// recorder is a testing.TB whose Skipf and Fatalf record and stop the goroutine.
type recorder struct {
	testing.TB
	outcome, msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.outcome, r.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.outcome, r.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.outcome, r.msg = "fatal", fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls f with r on its own goroutine, so that Goexit ends only f.
func (r *recorder) run(f func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
		r.outcome = "ok"
	}()
	<-done
}

func TestSkipRule(t *testing.T) {
	t.Parallel()
	testdata, err := filepath.Abs(filepath.Join("testdata", "keystone.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		env         map[string]string
		wantKS      string // outcome of load
		wantMC      string // outcome of memcached
		wantMessage string // in load's message
	}{
		{"developer without Keystone", nil, "skip", "skip", "GEOSTACK_KEYSTONE is not set"},
		{"CI", map[string]string{"CI": "true"}, "fatal", "fatal", "integration environment required in CI"},
		{"CI=false", map[string]string{"CI": "false"}, "skip", "skip", "skipping"},
		{"required", map[string]string{EnvRequire: "1"}, "fatal", "fatal", "integration environment required in CI"},
		{"configured", map[string]string{EnvKeystone: testdata, EnvMemcached: "127.0.0.1:1", "CI": "true"}, "ok", "ok", ""},
		{"unreadable, even outside CI", map[string]string{EnvKeystone: testdata + ".missing", EnvMemcached: "127.0.0.1:1"}, "fatal", "ok", "read description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			var ks, mc recorder
			ks.run(func(tb testing.TB) { load(tb, getenv) })
			mc.run(func(tb testing.TB) { memcached(tb, getenv) })
			if diff := cmp.Diff([]string{tt.wantKS, tt.wantMC}, []string{ks.outcome, mc.outcome}); diff != "" {
				t.Errorf("outcomes of load, memcached (-want +got):\n%s", diff)
			}
			if !strings.Contains(ks.msg, tt.wantMessage) {
				t.Errorf("load message %q does not contain %q", ks.msg, tt.wantMessage)
			}
		})
	}
}

// TestLoad checks the live description, when there is one, against this package.
func TestLoad(t *testing.T) {
	t.Parallel()
	if os.Getenv(EnvKeystone) == "" && !Required() {
		t.Skip("GEOSTACK_KEYSTONE is not set")
	}
	env := Load(t)
	for _, loc := range []string{"JP", "US", "SG"} {
		if env.AuthURL(loc) == "" {
			t.Errorf("no auth URL for %s", loc)
		}
	}
	if env.AppCredential.Secret == "" {
		t.Error("no application credential secret")
	}
}

// TestStartInstance starts and stops a disposable instance of the live Keystone.
func TestStartInstance(t *testing.T) {
	t.Parallel()
	if os.Getenv(EnvKeystone) == "" && !Required() {
		t.Skip("GEOSTACK_KEYSTONE is not set")
	}
	env := Load(t)
	in := env.StartInstance(t, fmt.Sprintf("keystonetest-%d", os.Getpid()))
	get := func() (int, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, in.AuthURL, nil)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != http.StatusOK {
		t.Fatalf("GET %s = %d, %v; want 200", in.AuthURL, code, err)
	}
	if err := in.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	if _, err := get(); err == nil {
		t.Errorf("GET %s after Stop succeeded", in.AuthURL)
	}
}
