// Package examples_test builds and runs every example program on the
// embedded fake cloud and checks its key output lines, so that an example
// can never rot silently.
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
)

func TestExamples(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the examples: %v", err)
	}
	tests := []struct {
		name string
		args []string
		want []string // regular expressions, each matching a line of the output
	}{
		{
			name: "quickstart",
			want: []string{
				`^authenticated gncu00000001 \(domain gnc, project gnct00000001\) at home location SG$`,
				`^regions in the catalog: OSA1, SIN1, SJC1, TYO1$`,
				`^  images: +centos-stream-9, debian-12, gnc_centos, gnc_ubuntu, gnct00000001-backup, ubuntu-24.04$`,
				`^  flavors: +gnc_g-1gb, gnc_g-2gb, gnc_g-4gb, m1.large, m1.medium, m1.small$`,
				`^  volume types: +__DEFAULT__, gnc_hdd, gnc_ssd$`,
				`^  server: +quickstart-tyo1 ACTIVE`,
				`^  server: +quickstart-sin1 ACTIVE`,
				`^deleted 4 servers \(OSA1, SIN1, SJC1, TYO1\); none left$`,
				`^tokens issued by Keystone: 1 \(JP 0, US 0, SG 1\)$`,
			},
		},
		{
			name: "vmcreate",
			args: []string{"-flows", "60", "-workers", "10"},
			want: []string{
				`^naive +60 +300 +\S+ +60$`,
				`^geostack +60 +1 +\S+ +60$`,
			},
		},
		{
			name: "failover",
			want: []string{
				`^traffic, every location up: +\d+ calls, 0 failed; tokens issued so far: JP 0, US 0, SG 1$`,
				`^traffic across a token refresh: +\d+ calls, 0 failed; tokens issued so far: JP [1-9]\d*, US 0, SG 1$`,
				`^second user gncu00000002 logged in; token issued at JP$`,
				`^  auth_url of SG: circuit open`,
				`^client: \d+ tokens fetched, [1-9]\d* failovers, 0 failed calls$`,
			},
		},
		{
			name: "proxy",
			want: []string{
				`^catalog of a token issued at the identity proxy: image http://127\.0\.0\.1:\d+/gnc/TYO1/image$`,
				`^  images: +centos-stream-9, debian-12, gnc_centos, gnc_ubuntu, gnct00000001-backup, ubuntu-24.04$`,
				`^  flavors: +gnc_g-1gb, gnc_g-2gb, gnc_g-4gb, m1.large, m1.medium, m1.small$`,
				`^  volume types: +__DEFAULT__, gnc_hdd, gnc_ssd$`,
				`^zjp_centos by id: +404 Not Found$`,
				`^gnc_centos_planted by id: +404 Not Found$`,
				`^create image "centos": +400 Bad Request$`,
				`^create image "gnc_tools": 201, domain_id is gnc's: true$`,
				`^upload and download 1 MiB: same bytes: true$`,
				`^zjpu00000001 logs in: +401 Unauthorized$`,
				`^create user gncu90000001: 201, in domain gnc: true$`,
				`^create user zjpu90000001: 400 Bad Request$`,
			},
		},
		{
			name: "saas",
			want: []string{
				`^gnc user's token +200 inbox of gncu00000001`,
				`^gnc token \+ spoofed headers +200 .*spoofable X-User-Id: ""`,
				`^zjp user's token \(valid\) +401 \(WWW-Authenticate: Keystone\)$`,
				`^revoked token +401 `,
				`^garbage token +401 `,
				`^no token +401 `,
				`^gnc token after it expired +401 `,
				// gnc's, zjp's, and the revoked one twice: unknown at SG, a
				// replica, it is asked at the primary too.
				`^Keystone validations: 4 for 8 requests$`,
			},
		},
		{
			name: "imagecopy",
			want: []string{
				`^source: gnc_app in TYO1, 33554432 bytes, sha512 [0-9a-f]{12}…$`,
				`^interrupted at 1[67] MiB of 32 MiB: context canceled; copies left in SJC1: 0$`,
				`^  copied  32 MiB of 32 MiB$`,
				`^copy: [0-9a-f-]{36} in SJC1, active, 33554432 bytes, sha512 matches the source \(by stream\)$`,
				`^  kept: name gnc_app, raw/bare, min_disk 1, min_ram 256, tags imagecopy-example, domain_id=[0-9a-f]{32}, geostack_copied_from=TYO1/[0-9a-f-]{36}, hw_disk_bus=virtio, os_distro=geostack$`,
				`^  owner [0-9a-f]{32} \(the client's project\), private$`,
				`^second try: the same copy, found complete, nothing copied$`,
				`^copy into SIN1 by web-download: active, sha512 matches the source$`,
				`^corrupted stream into OSA1: refused, the data did not hash to the source's; copies left in OSA1: 0$`,
			},
		},
	}
	bin := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			exe := filepath.Join(bin, tt.name)
			build := exec.CommandContext(t.Context(), goTool, "build", "-o", exe, "./"+tt.name)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build ./%s: %v\n%s", tt.name, err, out)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, exe, tt.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s exited with %v\n%s", tt.name, err, out)
			}
			for _, w := range tt.want {
				if !regexp.MustCompile("(?m)" + w).Match(out) {
					t.Errorf("%s: no line matches %q; output:\n%s", tt.name, w, out)
				}
			}
		})
	}
}

// TestVMCreateAsksFirst: on a real cloud, vmcreate refuses to create more
// than a handful of servers without -create-many, before it connects to
// anything (the clouds.yaml points at a closed port).
func TestVMCreateAsksFirst(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	dir := t.TempDir()
	cloudsYAML := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(cloudsYAML, []byte(`clouds:
  c:
    auth: {auth_url: "http://127.0.0.1:9/v3", username: u, password: p, user_domain_name: d, project_name: p, project_domain_name: d}
    region_name: R1
    regions: [{name: R1, values: {auth: {auth_url: "http://127.0.0.1:9/v3"}}}]
    geostack: {primary: L, locations: [{name: L, regions: [R1]}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-flows", "11"}, "-flows 11 would create 22 servers on a real cloud: add -create-many to mean it"},
		{[]string{"-flows", "-1"}, "-flows must be positive"},
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the examples: %v", err)
	}
	exe := filepath.Join(dir, "vmcreate")
	if out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", exe, "./vmcreate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range tests {
		args := append([]string{"-cloud", "c", "-config", cloudsYAML}, tc.args...)
		out, err := exec.CommandContext(t.Context(), exe, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("vmcreate %v: %v\n%s\nwant a failure saying %q", args, err, out, tc.want)
		}
	}
}
