//go:build integration

package examples_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/internal/standin"
)

// TestIntegrationExamples runs every example against the project's real
// cloud: the real Keystone (three locations), the real Glance (TYO1,
// SJC1), Cinder and Nova (TYO1), and internal/testserver's services,
// validating at the real Keystone, for every region and service that has
// no real one (internal/standin). Each example is configured by a
// clouds.yaml alone, exits 0 and prints what it did on that cloud; the
// servers quickstart and vmcreate create are gone afterwards. failover
// stops and restarts a Keystone instance of its own, never a location's.
//
// The stand-in changes the catalog while it runs: .ci/run runs this test
// after the other integration tests, not beside them.
func TestIntegrationExamples(t *testing.T) {
	env := keystonetest.Load(t)
	svc := env.Services(t)
	if len(svc.Instances) == 0 {
		t.Fatal("no real service runs")
	}
	ctx := t.Context()
	start := time.Now()
	s, err := standin.Start(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stand-in registered for %d endpoints in %v", len(s.Endpoints), time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := s.Close(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("put the placeholders back: %v", err)
		}
	})

	dir := t.TempDir()
	cloudsYAML := writeClouds(t, env, filepath.Join(dir, "clouds.yaml"), nil)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the examples: %v", err)
	}
	start = time.Now()
	build := exec.CommandContext(ctx, goTool, "build", "-o", dir+"/", "./quickstart", "./vmcreate", "./saas", "./failover", "./imagecopy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the examples in %v", time.Since(start).Round(time.Millisecond))
	cloud := []string{"-cloud", standin.CloudUser, "-config", cloudsYAML}

	tests := []struct {
		name string
		args []string
		want []string // regular expressions, each matching a line of the output
	}{
		{
			name: "quickstart",
			args: cloud,
			want: []string{
				`^authenticated gncu00000001 \(domain gnc, project gnct00000001\) at home location SG$`,
				`^regions in the catalog: OSA1, SIN1, SJC1, TYO1$`,
				// TYO1's flavors are the real Nova's, seeded by services-seed.py.
				`^TYO1\n  images: .*\bgnc_windows\b.*\n  flavors: +gnc_g1\.large, gnc_g1\.small, m1\.dedicated, m1\.small, m1\.tiny\n  volume types: .*\bgnc_nvme\b`,
				// SIN1's are the stand-in's.
				`^SIN1\n  images: .*\bgnc_ubuntu\b.*\n  flavors: .*\bgnc_g-1gb\b`,
				// The real Nova accepts the server and never schedules it.
				`^  server: +quickstart-tyo1 (BUILD|ACTIVE) `,
				`^  server: +quickstart-sin1 ACTIVE `,
				`^deleted 4 servers \(OSA1, SIN1, SJC1, TYO1\); none left$`,
				`^cache: 1 token fetched, 0 refreshes, 0 invalidated$`,
			},
		},
		{
			name: "vmcreate",
			args: cloud,
			want: []string{
				`^4 VM-create flows per way over 20 workers in \[OSA1 SIN1 SJC1 TYO1\]`,
				`^naive +4 +20 +\S+ +4$`,
				`^geostack +4 +1 +\S+ +4$`,
			},
		},
		{
			name: "saas",
			args: cloud,
			want: []string{
				`^mail backend of gnc in SG; requests:$`,
				`^gnc user's token +200 inbox of gncu00000001 \(roles (member,reader|reader,member)`,
				`^same token again \(cached\) +200 `,
				`^gnc token \+ spoofed headers +200 .*spoofable X-User-Id: ""`,
				`^zjp user's token \(valid\) +401 \(WWW-Authenticate: Keystone\)$`,
				`^revoked token +401 `,
				`^garbage token +401 `,
				`^no token +401 `,
				`^Keystone validations: 4 for 7 requests$`,
			},
		},
		{
			// Between the real Glance instances: a scratch image of 8 MiB,
			// a copy interrupted, completed and found again; everything it
			// made is deleted at the end.
			name: "imagecopy",
			args: append([]string{"-from", "TYO1", "-to", "SJC1", "-size-mib", "8"}, cloud...),
			want: []string{
				`^source: gnc_app in TYO1, 8388608 bytes, sha512 [0-9a-f]{12}…$`,
				`^interrupted at \d+ MiB of 8 MiB: context canceled; copies left in SJC1: 0$`,
				`^copy: [0-9a-f-]{36} in SJC1, active, 8388608 bytes, sha512 matches the source \(by stream\)$`,
				`^second try: the same copy, found complete, nothing copied$`,
			},
		},
	}
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				runExample(t, filepath.Join(dir, tt.name), tt.args, tt.want)
			})
		}
	})
	noServersLeft(t, env)

	t.Run("failover", func(t *testing.T) {
		start := time.Now()
		in := env.StartInstance(t, "examples-failover")
		t.Logf("Keystone instance examples-failover started in %v", time.Since(start).Round(time.Millisecond))
		fo := writeClouds(t, env, filepath.Join(dir, "clouds-failover.yaml"), map[string]string{"SG": in.AuthURL})
		scripts := env.ScriptsDir
		args := []string{"-cloud", standin.CloudUser, "-config", fo, "-second-cloud", standin.CloudDomainAdmin,
			// No -up-cmd: a restart costs seconds and shows nothing more.
			"-down-cmd", shellQuote(filepath.Join(scripts, "keystone-down.sh"), env.StateDir, "examples-failover") + " >&2"}
		runExample(t, filepath.Join(dir, "failover"), args, []string{
			`^home location SG, failover order \[SG JP US\]$`,
			`^traffic, every location up: +\d+ calls, 0 failed; token in use issued at SG$`,
			`^-- SG Keystone is down$`,
			`^traffic, home Keystone down: +\d+ calls, 0 failed; token in use issued at SG$`,
			`^token refreshed 4 times; issued at JP, JP, JP, JP$`,
			`^traffic across a token refresh: +\d+ calls, 0 failed; token in use issued at JP$`,
			`^second user gncu00000002 logged in; token issued at JP$`,
			`^  auth_url of SG: circuit open, 4 attempts, 3 failures, 1 skipped$`,
			`^client: 5 tokens fetched, 3 failovers, 0 failed calls$`,
		})
	})
}

// runExample runs a built example and checks its output.
func runExample(t *testing.T, exe string, args, want []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, exe, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("%s ran in %v", filepath.Base(exe), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s exited with %v\n%s\nstderr:\n%s", filepath.Base(exe), err, out, stderr.String())
	}
	for _, w := range want {
		if !regexp.MustCompile("(?m)" + w).Match(out) {
			t.Errorf("no line matches %q; output:\n%s", w, out)
		}
	}
}

// writeClouds writes the clouds.yaml of env, with some locations'
// auth_urls replaced.
func writeClouds(t *testing.T, env *keystonetest.Env, path string, authURLs map[string]string) string {
	t.Helper()
	y, err := standin.CloudsYAML(env, authURLs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noServersLeft checks, as the examples' user, that no region holds a
// server.
func noServersLeft(t *testing.T, env *keystonetest.Env) {
	t.Helper()
	gnc := env.MustUser(t, "gncu00000001")
	pc, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: env.AuthURL("SG"), UserID: gnc.ID, Password: gnc.Password,
		Scope: &gophercloud.AuthScope{ProjectID: gnc.ProjectID},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, regions := range env.Regions {
		for _, r := range regions {
			sc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{Region: r})
			if err != nil {
				t.Fatal(err)
			}
			pages, err := servers.List(sc, nil).AllPages(t.Context())
			if err != nil {
				t.Errorf("list servers in %s: %v", r, err)
				continue
			}
			left, err := servers.ExtractServers(pages)
			if err != nil || len(left) > 0 {
				t.Errorf("servers left in %s: %d (%v)", r, len(left), err)
			}
		}
	}
}

// shellQuote joins words into a sh command line.
func shellQuote(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
